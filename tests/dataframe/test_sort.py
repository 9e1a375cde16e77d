"""sort_values, set_index, nlargest/nsmallest and drop_duplicates, against pandas on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe import row_selection, sorting
from chunkwise.dataframe.io.parquet import record_reads
from chunkwise.scheduling.callbacks import Callback


def frame(n: int = 600, seed: int = 1) -> pd.DataFrame:
    """Skewed int keys (one holds half the rows), floats with nulls, str keys with nulls,
    a categorical, timestamps; unique values in ``u`` (for order checks without ties)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 40, n)
    k[rng.random(n) < 0.5] = 3
    f = rng.normal(size=n)
    f[::13] = np.nan
    s = pd.Series(rng.choice(["ant", "bee", "cat", "dog", "eel"], n), dtype="str")
    s[::17] = None
    return pd.DataFrame({
        "k": k, "f": f, "s": s, "c": pd.Categorical(rng.choice(["x", "y", "z"], n)),
        "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(n), unit="min"),
        "u": rng.permutation(n).astype("float64"),
    })


@pytest.fixture
def pdf():
    return frame()


@pytest.mark.parametrize("by,ascending", [
    ("u", True), ("u", False), ("f", True), ("f", False), ("k", True), ("s", False),
    (["k", "f"], [True, False]), (["s", "k"], True), ("c", True), ("t", False),
])
@pytest.mark.parametrize("na_position", ["last", "first"])
def test_sort_values_matches_pandas(pdf, by, ascending, na_position, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    out = df.sort_values(by, ascending=ascending, na_position=na_position)
    assert out.npartitions == 5
    got = out.compute(scheduler=scheduler)
    expected = pdf.sort_values(by, ascending=ascending, na_position=na_position, kind="stable")
    pd.testing.assert_frame_equal(got, expected)


def test_sort_values_partitions_hold_ranges(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    out = df.sort_values("u", npartitions=3)
    parts = [out.partitions[i].compute() for i in range(3)]
    assert all(len(p) for p in parts)  # sampled splitters balance the ranges
    for a, b in zip(parts, parts[1:]):
        assert a.u.max() < b.u.min()


def test_sort_values_series_and_empty_partitions(pdf):
    df = dd.from_pandas(pdf, npartitions=6)
    filtered = df[df.k > 30]  # some partitions empty, skewed key removed
    pd.testing.assert_frame_equal(
        filtered.sort_values("f").compute(),
        pdf[pdf.k > 30].sort_values("f", kind="stable"))
    pd.testing.assert_series_equal(
        df.u.sort_values(ascending=False).compute(), pdf.u.sort_values(ascending=False))


def test_sort_values_head_is_a_top_n_without_shuffle(pdf):
    df = dd.from_pandas(pdf, npartitions=5)
    lazy = df.sort_values("u", ascending=False).head(10, compute=False)
    plan = lazy.explain(show=False)
    assert "top-n" in plan and "RangeShuffle" not in plan and "sample" not in plan
    seen = []
    with Callback(posttask=lambda key, *a: seen.append(key)):
        got = df.sort_values("u", ascending=False).head(10)
    assert not any("shuffle" in str(k) or "sample" in str(k) for k in seen)
    pd.testing.assert_frame_equal(got, pdf.sort_values("u", ascending=False).head(10))
    got = df.sort_values(["k", "u"], ascending=[True, False]).head(7)
    pd.testing.assert_frame_equal(got, pdf.sort_values(["k", "u"], ascending=[True, False]).head(7))


def test_sort_values_explain_shows_the_range_shuffle(pdf):
    plan = dd.from_pandas(pdf, npartitions=3).sort_values("u").explain(show=False)
    assert "RangeShuffle(by=['u'], npartitions=3" in plan


def test_sort_values_errors(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(KeyError, match="sort_values: no column"):
        df.sort_values("nope")
    with pytest.raises(ValueError, match="ascending"):
        df.sort_values(["k", "f"], ascending=[True])
    with pytest.raises(ValueError, match="na_position"):
        df.sort_values("k", na_position="middle")


def test_sort_values_of_a_larger_frame_goes_through_disk(tmp_path):
    big = frame(20_000, seed=3)
    df = dd.from_pandas(big, npartitions=8)
    before = dd.shuffle.shuffle_bytes_written() if hasattr(dd, "shuffle") else None
    from chunkwise.dataframe.shuffle import shuffle_bytes_written

    before = shuffle_bytes_written()
    with chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path)}):
        got = df.sort_values("u").compute(scheduler="threads")
    assert shuffle_bytes_written() > before
    pd.testing.assert_frame_equal(got, big.sort_values("u"))
    assert list(tmp_path.iterdir()) == []


# --- set_index ---------------------------------------------------------------------------------


def test_set_index_from_sampled_quantiles(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    out = df.set_index("u")
    assert out.known_divisions
    assert out.divisions[0] == pdf.u.min() and out.divisions[-1] == pdf.u.max()
    got = out.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got, pdf.set_index("u").sort_index())
    for i in range(out.npartitions):
        part = out.partitions[i].compute()
        low, high = out.divisions[i], out.divisions[i + 1]
        assert ((part.index >= low) & (part.index <= high)).all()
    plan = out.explain(show=False)
    assert "SetIndex('u', divisions from sampled quantiles" in plan and "RangeShuffle" in plan


def test_set_index_skewed_key_and_timestamps(pdf):
    df = dd.from_pandas(pdf, npartitions=6)
    out = df.set_index("k")  # half the rows share one key: fewer, wider partitions
    assert list(out.divisions) == sorted(set(out.divisions))
    pd.testing.assert_frame_equal(out.compute(), pdf.set_index("k").sort_index(kind="stable"))
    times = df.set_index("t")
    pd.testing.assert_frame_equal(times.compute(), pdf.set_index("t").sort_index())
    assert isinstance(times.divisions[0], pd.Timestamp)
    # loc on the known divisions reads only the partitions it needs
    start = pdf.t.sort_values().iloc[100]
    assert times.loc[start:].npartitions <= times.npartitions
    pd.testing.assert_frame_equal(times.loc[start:].compute(), pdf.set_index("t").sort_index().loc[start:])


def test_set_index_given_divisions_and_sorted(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    given = df.set_index("u", divisions=[0, 100, 300, 599])
    assert given.divisions == (0, 100, 300, 599)
    assert "divisions from divisions=" in given.explain(show=False)
    pd.testing.assert_frame_equal(given.compute(), pdf.set_index("u").sort_index())
    ordered = pdf.assign(n=np.arange(len(pdf)))
    sdf = dd.from_pandas(ordered, npartitions=4, sort=False)
    out = sdf.set_index("n", sorted=True)
    assert out.divisions == (0, 150, 300, 450, 599)
    assert "no shuffle" in out.explain(show=False) and "Shuffle" not in out.explain(show=False)
    pd.testing.assert_frame_equal(out.compute(), ordered.set_index("n"))
    with pytest.raises(ValueError, match="not in order"):
        df.set_index("u", sorted=True)
    with pytest.raises(KeyError, match="no column"):
        df.set_index("nope")


def test_set_index_then_reset_index(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    got = df.set_index("u").reset_index().compute()
    expected = pdf.set_index("u").sort_index().reset_index()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_set_index_reads_the_data_once_to_sample_once_to_partition(tmp_path):
    pdf = frame(3000)
    pdf.to_parquet(tmp_path / "data", partition_cols=None, row_group_size=500)
    df = dd.read_parquet(str(tmp_path / "data"))
    with record_reads() as reads:
        out = df.set_index("t")
    assert reads and all(r.columns == ("t",) for r in reads)  # the sample read one column
    sampled = len(reads)
    with record_reads() as reads:
        got = out.compute()
    assert len(reads) == sampled  # each piece once more, to partition
    pd.testing.assert_frame_equal(got, pdf.set_index("t").sort_index(), check_index_type=False)


def test_set_index_then_a_column_reads_only_the_index_and_that_column(tmp_path):
    pdf = frame(3000)
    pdf.to_parquet(tmp_path / "data", row_group_size=500)
    df = dd.read_parquet(str(tmp_path / "data"))
    indexed = df.set_index("t")
    with record_reads() as reads:
        got = indexed.u.compute()
    assert reads and {r.columns for r in reads} == {("t", "u")}
    expected = pdf.set_index("t").sort_index(kind="stable").u
    pd.testing.assert_series_equal(got, expected, check_index_type=False)
    with record_reads() as reads:  # several consumers: the union of their columns
        both = indexed[["k", "u"]].compute()
    assert {r.columns for r in reads} == {("k", "t", "u")}
    pd.testing.assert_frame_equal(both, pdf.set_index("t").sort_index(kind="stable")[["k", "u"]],
                                  check_index_type=False)
    in_order = pdf.sort_values("t").reset_index(drop=True)
    sorted_index = dd.from_pandas(in_order, npartitions=3).set_index("t", sorted=True)
    pd.testing.assert_series_equal(sorted_index.f.compute(), in_order.set_index("t").f)


def test_sort_values_then_columns_reads_only_the_keys_and_those_columns(tmp_path):
    pdf = frame(3000)
    pdf.to_parquet(tmp_path / "data", row_group_size=500)
    df = dd.read_parquet(str(tmp_path / "data"))
    with record_reads() as reads:
        got = df.sort_values(["k", "u"])[["f"]].compute()
    partition_reads = [r.columns for r in reads if r.columns != ("k", "u")]
    assert partition_reads and set(partition_reads) == {("k", "f", "u")}
    expected = pdf.sort_values(["k", "u"], kind="stable")[["f"]]
    pd.testing.assert_frame_equal(got, expected)
    whole = df.sort_values("u")  # every column consumed: nothing narrows
    pd.testing.assert_frame_equal(whole.compute(), pdf.sort_values("u", kind="stable"))


# --- nlargest / nsmallest -------------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["first", "last", "all"])
def test_nlargest_nsmallest(pdf, keep, scheduler):
    df = dd.from_pandas(pdf, npartitions=7)
    pd.testing.assert_frame_equal(
        df.nlargest(9, "k", keep=keep).compute(scheduler=scheduler), pdf.nlargest(9, "k", keep=keep))
    pd.testing.assert_frame_equal(
        df.nsmallest(5, ["k", "u"], keep=keep).compute(scheduler=scheduler),
        pdf.nsmallest(5, ["k", "u"], keep=keep))
    pd.testing.assert_series_equal(df.f.nlargest(4, keep=keep).compute(), pdf.f.nlargest(4, keep=keep))
    pd.testing.assert_series_equal(df.k.nsmallest(6, keep=keep).compute(), pdf.k.nsmallest(6, keep=keep))


def test_nlargest_errors(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(KeyError):
        df.nlargest(3, "nope")
    with pytest.raises(ValueError, match="keep"):
        df.nlargest(3, "k", keep="middle")


# --- drop_duplicates -------------------------------------------------------------------------------


@pytest.mark.parametrize("subset", [None, "s", ["k", "s"], "c", "f"])
@pytest.mark.parametrize("keep", ["first", "last"])
def test_drop_duplicates_tree_path_keeps_pandas_rows_in_order(pdf, subset, keep, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    out = df.drop_duplicates(subset=subset, keep=keep)
    assert "ByCardinality" in out.expr.explain(show=False)
    got = out.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates(subset=subset, keep=keep))
    assert "TreeReduction" in out.explain(show=False)


@pytest.mark.parametrize("keep", ["first", "last", False])
def test_drop_duplicates_shuffle_path(pdf, keep, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    out = df.drop_duplicates(subset=["k", "c"], keep=keep, split_out=3)
    assert out.npartitions == 3 and "HashShuffle" in out.explain(show=False)
    got = out.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got.sort_index(), pdf.drop_duplicates(["k", "c"], keep=keep))
    pd.testing.assert_series_equal(
        df.s.drop_duplicates(split_out=True).compute().sort_index(), pdf.s.drop_duplicates())


def test_drop_duplicates_chooses_the_shuffle_from_observed_cardinality(pdf, monkeypatch):
    df = dd.from_pandas(pdf, npartitions=5)
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 50)  # the first partition alone has > 50 / 5
    out = df.drop_duplicates(subset="u")
    plan = out.explain(show=False)
    assert "HashShuffle" in plan and "TreeReduction" not in plan
    pd.testing.assert_frame_equal(out.compute().sort_index(), pdf.drop_duplicates("u"))
    few = df.drop_duplicates(subset="c")  # 3 distinct values: the tree
    assert "TreeReduction" in few.explain(show=False)
    pd.testing.assert_frame_equal(few.compute(), pdf.drop_duplicates("c"))


def test_drop_duplicates_keys_that_repeat_in_a_partition_stay_on_the_tree(monkeypatch):
    rng = np.random.default_rng(3)
    pdf = pd.DataFrame({"k": rng.integers(0, 400, 2000), "v": rng.random(2000)})
    df = dd.from_pandas(pdf, npartitions=5)  # 400 rows a partition: ~63% distinct
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 50)  # far more distinct keys than that
    out = df.drop_duplicates("k", keep="last")
    assert "TreeReduction" in out.explain(show=False)
    pd.testing.assert_frame_equal(out.compute(), pdf.drop_duplicates("k", keep="last"))
    monkeypatch.setattr(sorting, "SHUFFLE_MIN_FRACTION", 0.5)
    shuffled = df.drop_duplicates("k", keep="last")
    assert "HashShuffle" in shuffled.explain(show=False)
    pd.testing.assert_frame_equal(shuffled.compute().sort_index(), pdf.drop_duplicates("k", keep="last"))


# --- issue 17's example, exactly as written ---------------------------------------------------------


@pytest.fixture
def orders_data(tmp_path, monkeypatch):
    """``orders/``: a Parquet directory of 4 files; the cwd set beside it."""
    rng = np.random.default_rng(17)
    n = 4000
    pdf = pd.DataFrame({
        "order_id": np.arange(n),
        "user_id": rng.integers(0, 300, n),
        "amount": rng.permutation(n) / 4 + 0.5,  # distinct: the top 10 has no ties
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    })
    (tmp_path / "orders").mkdir()
    for i in range(4):
        pdf.iloc[i * 1000:(i + 1) * 1000].to_parquet(tmp_path / "orders" / f"part.{i}.parquet")
    monkeypatch.chdir(tmp_path)
    return pdf


def test_issue_17_example_sort_values_head(orders_data, scheduler):
    import chunkwise.dataframe as dd
    orders = dd.read_parquet("orders/")
    with chunkwise.config.set(scheduler=scheduler), record_reads() as reads:
        result = orders.sort_values("amount", ascending=False).head(10)

    expected = orders_data.sort_values("amount", ascending=False).head(10)
    pd.testing.assert_frame_equal(result, expected)
    pd.testing.assert_frame_equal(
        result, pd.read_parquet("orders/").sort_values("amount", ascending=False).head(10),
        check_index_type=False)
    # a top-n: each file read once, no sample, no shuffle
    assert sorted(r.path.rsplit("/", 1)[-1] for r in reads) == [f"part.{i}.parquet" for i in range(4)]
    plan = orders.sort_values("amount", ascending=False).head(10, compute=False).explain(show=False)
    assert "top-n" in plan and "Shuffle" not in plan


def test_sort_values_fast_path_puts_nat_last_as_pandas():
    times = pd.Series(pd.to_datetime(["2024-01-03", None, "2024-01-01", "2024-01-02", None, "2024-01-01"]))
    pdf = pd.DataFrame({"t": times, "v": range(6)})
    got = dd.from_pandas(pdf, npartitions=2).sort_values("t").compute()
    pd.testing.assert_frame_equal(got, pdf.sort_values("t", kind="stable"))
    got = sorting.sort_partition(pdf, ["t"], [True], "last")
    pd.testing.assert_frame_equal(got, pdf.sort_values("t", kind="stable"))


def test_sort_values_head_of_more_rows_than_the_frame_has(pdf):
    df = dd.from_pandas(pdf.iloc[:30], npartitions=4)
    got = df.sort_values("u").head(100)
    pd.testing.assert_frame_equal(got, pdf.iloc[:30].sort_values("u"))


# --- round 5: sort_values by the index's name; explain() says what the cardinality choice read -----


def indexed_frame(pdf: pd.DataFrame) -> pd.DataFrame:
    """``pdf`` with a named index of repeated, unordered labels (ties test stability)."""
    labels = np.random.default_rng(5).permutation(len(pdf)) % 37
    return pdf.set_index(pd.Index(labels, name="ix"))


@pytest.mark.parametrize("by,ascending", [
    ("ix", True), ("ix", False), (["k", "ix"], [True, False]), (["ix", "u"], True),
])
def test_sort_values_by_the_index_name_as_pandas(pdf, by, ascending, scheduler):
    pdf = indexed_frame(pdf)
    for parts in (1, 4):
        df = dd.from_pandas(pdf, npartitions=parts, sort=False)
        got = df.sort_values(by, ascending=ascending).compute(scheduler=scheduler)
        pd.testing.assert_frame_equal(got, pdf.sort_values(by, ascending=ascending, kind="stable"))
    with_empty = dd.from_pandas(pdf, npartitions=4, sort=False).partitions[[0, 1, 1, 2, 3]]
    empty = with_empty[with_empty.u < -1]  # every partition empty
    pd.testing.assert_frame_equal(empty.sort_values(by, ascending=ascending).compute(scheduler=scheduler),
                                  pdf[pdf.u < -1].sort_values(by, ascending=ascending))
    top = dd.from_pandas(pdf, npartitions=4, sort=False).sort_values(by, ascending=ascending).head(7)
    pd.testing.assert_frame_equal(top, pdf.sort_values(by, ascending=ascending, kind="stable").head(7))


def test_sort_values_by_an_unknown_name_or_a_multiindex_level_says_what_to_do(pdf):
    df = dd.from_pandas(indexed_frame(pdf), npartitions=2, sort=False)
    with pytest.raises(KeyError, match=r"no column or index level \['nope'\].*the index \['ix'\]"):
        df.sort_values("nope")
    multi = dd.from_pandas(pdf.set_index(["k", "u"]), npartitions=2, sort=False)
    with pytest.raises(NotImplementedError, match="reset_index"):
        multi.sort_values("k")


def test_explain_says_what_the_cardinality_choice_read(pdf, monkeypatch):
    df = dd.from_pandas(pdf, npartitions=5)
    small = df.drop_duplicates("c").explain(show=False)  # 600 rows known: nothing read
    assert "TreeReduction" in small and "nothing read to choose" in small
    monkeypatch.setattr(sorting, "TREE_MAX_ROWS", 50)
    sorting._OBSERVED.clear()
    wide = df.drop_duplicates("u").explain(show=False)
    assert "HashShuffle" in wide
    assert "(shuffle: read partition 0 of the keys' source to choose: 120 rows, 120 distinct keys" in wide
    narrow = df.drop_duplicates("c").explain(show=False)
    assert "TreeReduction" in narrow and "tree: read partition 0 of the keys' source" in narrow
    grouped = df.groupby("u").f.sum().explain(show=False)
    assert "(shuffle: read partition 0 of the keys' source" in grouped
    pd.testing.assert_series_equal(df.groupby("u").f.sum().compute(), pdf.groupby("u").f.sum())
    pd.testing.assert_frame_equal(df.drop_duplicates("u").compute().sort_index(), pdf.drop_duplicates("u"))


@pytest.mark.parametrize("subset", [None, "k", ["s", "k"], "f", "c"])
@pytest.mark.parametrize("keep", ["first", "last"])
def test_drop_duplicates_tree_merges_partials_on_their_keys(pdf, subset, keep, scheduler):
    # uneven partitions, empty ones between them, and a deep tree (split_every=2)
    df = dd.from_pandas(pdf, npartitions=6).partitions[[0, 1, 1, 2, 3, 4, 5]]
    df = df[(df.u < 100) | (df.u > 300)]  # empties part of the partitions
    expected = pd.concat([pdf.iloc[:100], pdf.iloc[100:200], pdf.iloc[100:]])
    expected = expected[(expected.u < 100) | (expected.u > 300)]
    got = df.drop_duplicates(subset=subset, keep=keep, split_every=2).compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got, expected.drop_duplicates(subset=subset, keep=keep))
    series = df.s.drop_duplicates(keep=keep, split_every=3).compute(scheduler=scheduler)
    pd.testing.assert_series_equal(series, expected.s.drop_duplicates(keep=keep))
    assert row_selection.merge_partials([pdf.iloc[:0], pdf.iloc[:3]], subset, keep) is not None


def test_ordered_range_shuffle_sorts_in_the_combine_on_every_path(pdf, scheduler):
    pdf = pdf.assign(o=pd.Series([(i % 3, "x") for i in range(len(pdf))], dtype=object))
    df = dd.from_pandas(pdf, npartitions=5)
    for by in ["f", "t", "k"]:  # NaN, timestamps (tz-free), ties
        expected = pdf.sort_values(by, kind="stable")
        out = df.sort_values(by, npartitions=4)
        plan = out.explain(show=False)
        assert "each partition sorted as it is joined" in plan and "sort-partition" not in plan
        pd.testing.assert_frame_equal(out.compute(scheduler=scheduler), expected)  # pickled pieces (o)
        with chunkwise.config.set({"dataframe.shuffle.method": "tasks"}):  # pieces in memory
            pd.testing.assert_frame_equal(out.compute(scheduler=scheduler), expected)
        plain = df.drop(columns="o").sort_values(by, npartitions=3)  # Arrow pieces
        pd.testing.assert_frame_equal(plain.compute(scheduler=scheduler), expected.drop(columns="o"))
    empty = df[df.u < 0].sort_values("f")
    pd.testing.assert_frame_equal(empty.compute(scheduler=scheduler), pdf[pdf.u < 0])
    strings = df.sort_values(["s", "k"])  # string keys: not ordered by the combine, a sort after
    assert "sort-partition" in strings.explain(show=False)
    pd.testing.assert_frame_equal(strings.compute(scheduler=scheduler),
                                  pdf.sort_values(["s", "k"], kind="stable"))


@pytest.mark.parametrize("by,ascending", [
    ("f", False), ("t", False), ("k", False), (["k", "f"], [True, False]), (["k", "f"], [False, True]),
    (["b", "t", "u"], [False, True, False]), (["f", "k"], True),
])
@pytest.mark.parametrize("na_position", ["last", "first"])
def test_the_combine_orders_descending_nulls_first_and_several_keys(pdf, by, ascending, na_position,
                                                                    scheduler):
    """Fails before: only one ascending key with nulls last was ordered as the pieces were
    joined; descending keys, ``na_position="first"`` and several keys took a sort after.
    Pieces through Arrow, pickled (an object column) and in memory (``tasks``); uneven and
    empty partitions; ties (``k``), NaN (``f``), timestamps, booleans."""
    pdf = pdf.assign(b=pdf.k % 2 == 0)
    pdf.loc[pdf.index[::11], "t"] = pd.NaT
    kept = pdf[(pdf.u < 150) | (pdf.u > 420)]
    expected = kept.sort_values(by, ascending=ascending, na_position=na_position, kind="stable")
    df = dd.from_pandas(pdf, npartitions=6)
    df = df[(df.u < 150) | (df.u > 420)]  # some partitions short, others empty
    out = df.drop(columns=["s", "c"]).sort_values(by, ascending=ascending, na_position=na_position,
                                                  npartitions=4)
    plan = out.explain(show=False)
    assert "each partition sorted as it is joined" in plan and "sort-partition" not in plan
    pd.testing.assert_frame_equal(out.compute(scheduler=scheduler), expected.drop(columns=["s", "c"]))
    pickled = df.assign(o=df.k.map(lambda v: (v, "x"), meta=("o", object)))
    pickled = pickled.sort_values(by, ascending=ascending, na_position=na_position, npartitions=3)
    pd.testing.assert_frame_equal(pickled.compute(scheduler=scheduler),
                                  expected.assign(o=expected.k.map(lambda v: (v, "x"))))
    with chunkwise.config.set({"dataframe.shuffle.method": "tasks"}):
        pd.testing.assert_frame_equal(out.compute(scheduler=scheduler),
                                      expected.drop(columns=["s", "c"]))


def _integer_key_cases() -> list:
    rng = np.random.default_rng(12)
    times = rng.integers(0, 300, 2000).astype("datetime64[s]")
    with_nat = times.copy()
    with_nat[::7] = np.datetime64("NaT")
    return [
        rng.integers(-50, 50, 2000),  # negative values
        rng.integers(0, 10**12, 2000),  # too wide a span: pandas' hash table
        rng.integers(0, 200, 2000).astype(np.uint64) + np.uint64(2**64 - 300),
        rng.integers(0, 100, 2000).astype(np.int8),
        np.array([0, 27, 120, 58, 33, 11, 15, 111, -57, 80, 43, 111], dtype=np.int8),  # 120 - -57 must not wrap
        rng.integers(-2**15, 2**15, 40).astype(np.int16),
        times,
        with_nat,  # NaT: pandas' hash table
        np.array([5], dtype=np.int64),
        np.array([], dtype=np.int64),
    ]


@pytest.mark.parametrize("keys", _integer_key_cases(), ids=lambda k: f"{k.dtype}-{len(k)}")
@pytest.mark.parametrize("keep", ["first", "last"])
def test_integer_keys_deduplicate_as_pandas(keys, keep, scheduler):
    from chunkwise.dataframe.row_selection import repeated_integer_keys

    expected = pd.Series(keys).duplicated(keep=keep).to_numpy()
    found = repeated_integer_keys(keys, keep)
    wide = len(keys) > 1 and (keys.dtype.kind == "M" and np.isnat(keys).any() or keys.dtype == np.int64
                              and keys.max() - keys.min() > 10**9)
    assert (found is None) == wide  # a table indexed by value only for narrow spans
    assert found is None or (found == expected).all()
    pdf = pd.DataFrame({"k": keys, "v": np.arange(len(keys))})
    df = dd.from_pandas(pdf, npartitions=min(4, max(len(keys), 1)))
    got = df.drop_duplicates("k", keep=keep, split_every=2).compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates("k", keep=keep))
    pd.testing.assert_series_equal(df.k.drop_duplicates(keep=keep).compute(scheduler=scheduler),
                                   pdf.k.drop_duplicates(keep=keep))
