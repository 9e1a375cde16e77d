"""GroupBy on the shuffle path, against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import sorting
from chunkwise.dataframe.io.parquet import record_reads


def frame(n: int = 1500, seed: int = 2) -> pd.DataFrame:
    """Many int keys, one holding half the rows; str keys with nulls; a categorical; values."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 400, n)
    k[rng.random(n) < 0.5] = 7
    s = pd.Series(rng.choice(["ant", "bee", "cat", "dog"], n), dtype="str")
    s[::23] = None
    v = rng.normal(size=n)
    v[::31] = np.nan
    return pd.DataFrame({
        "k": k, "s": s, "c": pd.Categorical(rng.choice(["x", "y", "z"], n)),
        "v": v, "w": rng.integers(0, 9, n),
    })


@pytest.fixture
def pdf():
    return frame()


@pytest.mark.parametrize("key", ["k", "s", ["s", "k"], "c"])
@pytest.mark.parametrize("how", ["sum", "mean", "max", "count", "nunique", "var"])
def test_split_out_aggregations_match_pandas(pdf, key, how, scheduler):
    df = dd.from_pandas(pdf, npartitions=6)
    out = getattr(df.groupby(key, split_out=4).v, how)()
    assert out.npartitions == 4 and "HashShuffle" in out.explain(show=False)
    got = out.compute(scheduler=scheduler).sort_index()
    expected = getattr(pdf.groupby(key).v, how)()
    pd.testing.assert_series_equal(got, expected, check_exact=False, rtol=1e-12)
    # each group in exactly one output partition
    parts = [out.partitions[i].compute() for i in range(4)]
    assert sum(len(p) for p in parts) == len(expected)


def test_split_out_agg_dict_and_size(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    spec = {"v": ["sum", "min"], "w": "nunique"}
    got = df.groupby("k", split_out=True).agg(spec).compute(scheduler=scheduler).sort_index()
    pd.testing.assert_frame_equal(got, pdf.groupby("k").agg(spec), check_exact=False, rtol=1e-12)
    size = df.groupby(["s", "w"], split_out=3).size().compute(scheduler=scheduler).sort_index()
    pd.testing.assert_series_equal(size, pdf.groupby(["s", "w"]).size())
    with_nulls = df.groupby("s", dropna=False, split_out=2).v.sum().compute().sort_index()
    pd.testing.assert_series_equal(with_nulls, pdf.groupby("s", dropna=False).v.sum())


@pytest.mark.parametrize("key", ["k", "s", "c"])
def test_median(pdf, key, scheduler):
    df = dd.from_pandas(pdf, npartitions=6)
    out = df.groupby(key).v.median()
    assert out.npartitions == 1
    pd.testing.assert_series_equal(out.compute(scheduler=scheduler), pdf.groupby(key).v.median())
    frame_median = df.groupby(key).median(numeric_only=True).compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(frame_median, pdf.groupby(key).median(numeric_only=True))
    split = df.groupby(key).v.median(split_out=3).compute().sort_index()
    pd.testing.assert_series_equal(split, pdf.groupby(key).v.median())


@pytest.mark.parametrize("npartitions", [1, 4])
def test_row_wise_methods_come_back_aligned(pdf, npartitions, scheduler):
    df = dd.from_pandas(pdf, npartitions=npartitions)
    g, pg = df.groupby("k"), pdf.groupby("k")
    cumsum = g.v.cumsum()
    assert cumsum.divisions == df.divisions  # back in the frame's partitions
    pd.testing.assert_series_equal(cumsum.compute(scheduler=scheduler), pg.v.cumsum())
    pd.testing.assert_series_equal(g.cumcount().compute(scheduler=scheduler), pg.cumcount())
    pd.testing.assert_series_equal(
        g.cumcount(ascending=False).compute(scheduler=scheduler), pg.cumcount(ascending=False))
    pd.testing.assert_frame_equal(g[["v", "w"]].shift(2).compute(scheduler=scheduler),
                                  pg[["v", "w"]].shift(2))
    demeaned = g.v.transform(lambda x: x - x.mean())
    pd.testing.assert_series_equal(demeaned.compute(scheduler=scheduler),
                                   pg.v.transform(lambda x: x - x.mean()))
    pd.testing.assert_series_equal(g.w.transform("sum").compute(), pg.w.transform("sum"))
    # aligned with the frame: assignable as a column
    pd.testing.assert_series_equal(
        df.assign(cs=cumsum).cs.compute(), pdf.assign(cs=pg.v.cumsum()).cs)


def test_row_wise_on_unknown_divisions_and_str_keys(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=4, sort=False)
    assert not df.known_divisions
    got = df.groupby("s").v.cumsum().compute(scheduler=scheduler)
    pd.testing.assert_series_equal(got.sort_index(), pdf.groupby("s").v.cumsum())


def test_apply(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    spread = df.groupby("k").v.apply(lambda x: x.max() - x.min())
    pd.testing.assert_series_equal(spread.compute(scheduler=scheduler).sort_index(),
                                   pdf.groupby("k").v.apply(lambda x: x.max() - x.min()))
    top = df.groupby("s").apply(lambda g: g.nlargest(2, "v"), split_out=2)
    assert top.npartitions == 2
    got = top.compute(scheduler=scheduler).sort_index()
    expected = pdf.groupby("s").apply(lambda g: g.nlargest(2, "v")).sort_index()
    pd.testing.assert_frame_equal(got, expected)


def test_skewed_key_in_one_partition_and_empty_partitions(pdf):
    df = dd.from_pandas(pdf, npartitions=8)
    filtered = df[df.w > 6]  # partitions left with few or no rows
    got = filtered.groupby("k", split_out=5).v.sum().compute().sort_index()
    pd.testing.assert_series_equal(got, pdf[pdf.w > 6].groupby("k").v.sum())
    out = df.groupby("k", split_out=3).size()
    sizes = [out.partitions[i].compute() for i in range(3)]
    assert sum(7 in p.index for p in sizes) == 1


def test_the_plan_chooses_the_shuffle_from_observed_cardinality(pdf, monkeypatch):
    df = dd.from_pandas(pdf, npartitions=6)
    few = df.groupby("k").v.mean()
    assert "TreeReduction" in few.explain(show=False)
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 100)  # k: ~100 groups a partition x 6
    monkeypatch.setattr(sorting, "SHUFFLE_MIN_FRACTION", 0.0)  # k repeats: allow the shuffle
    many = df.groupby("k").v.mean()
    plan = many.explain(show=False)
    assert "HashShuffle(on=['k']" in plan and "TreeReduction" not in plan
    assert many.npartitions == 1
    pd.testing.assert_series_equal(many.compute(), pdf.groupby("k").v.mean())
    # categorical keys hold few groups: never observed, always the tree
    assert "TreeReduction" in df.groupby("c").v.mean().explain(show=False)
    # split_out=1 forces the tree
    assert "TreeReduction" in df.groupby("k", split_out=1).v.mean().explain(show=False)


def test_keys_that_repeat_in_a_partition_stay_on_the_tree(tmp_path, monkeypatch):
    rng = np.random.default_rng(5)
    n = 4000
    pdf = pd.DataFrame({"k": rng.integers(0, 1000, n), "u": rng.permutation(n), "v": rng.random(n)})
    (tmp_path / "d").mkdir()
    for i in range(4):
        pdf.iloc[i * 1000:(i + 1) * 1000].to_parquet(tmp_path / "d" / f"part.{i}.parquet")
    df = dd.read_parquet(str(tmp_path / "d"))
    assert df.npartitions == 4
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 500)
    sorting._OBSERVED.clear()
    with record_reads() as reads:
        repeated = df.groupby("k").v.sum()  # ~630 of 1000 rows distinct a partition: the tree
        assert "TreeReduction" in repeated.explain(show=False)
        pd.testing.assert_series_equal(repeated.compute(), pdf.groupby("k").v.sum(),
                                       check_index_type=False)
        again = df.groupby("k").v.max()  # the same keys: the observation is shared
        assert "TreeReduction" in again.explain(show=False)
        pd.testing.assert_series_equal(again.compute(), pdf.groupby("k").v.max())
    sampled = [r for r in reads if r.columns == ("k",)]
    assert len(sampled) == 1  # one read of the first partition's keys for both
    unique = df.groupby("u").v.sum()  # every row distinct: the shuffle
    assert "HashShuffle(on=['u']" in unique.explain(show=False)
    pd.testing.assert_series_equal(unique.compute(), pdf.groupby("u").v.sum())


def test_a_frame_of_known_small_length_is_not_read_to_choose(monkeypatch):
    pdf = pd.DataFrame({"k": np.arange(3000), "v": np.ones(3000)})
    df = dd.from_pandas(pdf, npartitions=3)
    assert df.expr.lengths == (1000, 1000, 1000)
    calls = []
    observe = sorting.observed_cardinality
    monkeypatch.setattr(sorting, "observed_cardinality", lambda *a: calls.append(a) or observe(*a))
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 3000)  # 3000 rows: at most 3000 keys
    out = df.groupby("k").v.sum()
    assert "TreeReduction" in out.explain(show=False) and calls == []
    pd.testing.assert_series_equal(out.compute(), pdf.groupby("k").v.sum())
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 2999)  # now the keys are read, and shuffle
    many = df.groupby("k").v.sum()
    assert "HashShuffle" in many.explain(show=False) and len(calls) == 1
    pd.testing.assert_series_equal(many.compute(), pdf.groupby("k").v.sum())


def test_cardinality_estimate_of_the_whole_frame():
    # 1000 keys drawn uniformly: a partition of 1000 rows holds ~632 of them
    seen = sorting.Cardinality(1000, 632, 10)
    assert seen.fraction == 0.632
    assert 950 < seen.total() <= 1000
    assert sorting.Cardinality(1000, 1000, 10).total() == 10_000  # no repeats: the bound
    assert sorting.Cardinality(0, 0, 3).total() == 0.0


def test_unsupported_keys_say_what_to_do(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    with pytest.raises(NotImplementedError, match="assign a by-Series as a column"):
        df.groupby(df.w + 1, split_out=2).v.sum()
    with pytest.raises(NotImplementedError, match="assign a by-Series as a column"):
        df.groupby(df.w + 1).v.cumsum()
    with pytest.raises(NotImplementedError, match="observed=False"):
        df.groupby("c", observed=False, split_out=2).v.sum()
    with pytest.raises(ValueError, match="split_out"):
        df.groupby("k", split_out=-1).v.sum()


def test_group_by_index_level(pdf):
    indexed = pdf.set_index("k")
    df = dd.from_pandas(indexed, npartitions=4)
    got = df.groupby(level="k", split_out=3).v.sum().compute().sort_index()
    pd.testing.assert_series_equal(got, indexed.groupby(level="k").v.sum())
    pd.testing.assert_series_equal(df.groupby(level=0).v.median().compute(),
                                   indexed.groupby(level=0).v.median())
