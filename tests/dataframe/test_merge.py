"""``merge``: every ``how`` and key form against pandas, each strategy, and build-time errors.

Row order differs from pandas' (partition by partition), and joins on columns
number each partition's rows from 0: results are compared sorted, without the
index. Each computed partition is also checked against the plan's ``meta``.
"""

from __future__ import annotations

import importlib.util
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe.testing import computed_partitions

HOWS = ["inner", "left", "right", "outer"]


def sorted_values(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    return out.sort_values(list(out.columns), kind="stable", na_position="last").reset_index(drop=True)


def check(result, expected: pd.DataFrame, scheduler=None, check_dtype: bool = True) -> pd.DataFrame:
    """Each partition matches meta; the rows, sorted, equal pandas'."""
    parts = computed_partitions(result, scheduler=scheduler)
    meta = result._meta
    for part in parts:
        assert list(part.columns) == list(meta.columns)
        assert list(part.dtypes) == list(meta.dtypes), (part.dtypes, meta.dtypes)
    got = pd.concat(parts) if parts else meta
    assert len(got) == len(expected)
    pd.testing.assert_frame_equal(sorted_values(got), sorted_values(expected), check_dtype=check_dtype)
    return got


def strategy_of(frame) -> str:
    return frame.explain(show=False).splitlines()[0]


@pytest.fixture
def facts():
    rng = np.random.default_rng(17)
    n = 240
    keys = rng.integers(0, 30, n).astype(float)
    keys[::13] = np.nan  # null keys: pandas matches them to null keys on the other side
    return pd.DataFrame({
        "k": keys,
        "amount": rng.normal(100, 10, n).round(3),
        "s": pd.Series(rng.choice(["a", "b", "c", "d"], n), dtype="str"),
        "n": rng.integers(0, 5, n),
    })


@pytest.fixture
def dims():
    keys = np.r_[np.arange(0, 40, 2), np.nan].astype(float)  # half the fact keys match, one null
    return pd.DataFrame({"k": keys, "label": [f"L{i}" for i in range(len(keys))], "w": np.arange(len(keys))})


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("broadcast", [None, False])
def test_merge_on_a_column_all_hows(facts, dims, how, broadcast, scheduler):
    left = dd.from_pandas(facts, npartitions=5)
    right = dd.from_pandas(dims, npartitions=2)
    result = left.merge(right, on="k", how=how, broadcast=broadcast)
    expected = facts.merge(dims, on="k", how=how)
    check(result, expected, scheduler, check_dtype=False)
    line = strategy_of(result)
    if broadcast is False or how == "outer":  # an outer join cannot broadcast either side
        assert line.startswith("PartitionMerge") and "hash" in line
    elif how == "right":  # both sides are small; a right join may broadcast only the left one
        assert line.startswith("BroadcastMerge") and "broadcast the left side" in line
    else:
        assert line.startswith("BroadcastMerge") and "broadcast the right side" in line


def test_meta_dtypes_hold_nulls_where_pandas_may_give_them(facts, dims):
    left = dd.from_pandas(facts, npartitions=4)
    right = dd.from_pandas(dims, npartitions=2)
    # w is int64; a left join may leave it unmatched: float64 in every partition alike
    assert left.merge(right, on="k", how="left").dtypes["w"] == np.dtype("float64")
    assert left.merge(right, on="k", how="inner").dtypes["w"] == np.dtype("int64")
    assert left.merge(right, on="k", how="right").dtypes["n"] == np.dtype("float64")
    inner = facts.merge(dims, on="k", how="inner")
    check(left.merge(right, on="k", how="inner"), inner)  # dtypes exactly pandas' here


@pytest.mark.parametrize("how", HOWS)
def test_hash_join_both_sides_large(how, scheduler):
    rng = np.random.default_rng(5)
    a = pd.DataFrame({"k": rng.integers(0, 50, 400), "x": rng.normal(size=400)})
    b = pd.DataFrame({"k": rng.integers(25, 75, 300), "y": rng.integers(0, 9, 300)})
    left, right = dd.from_pandas(a, npartitions=6), dd.from_pandas(b, npartitions=4)
    with chunkwise.config.set({"dataframe.broadcast_bytes": 100}):
        result = left.merge(right, on="k", how=how)
        assert "hash" in strategy_of(result)
        check(result, a.merge(b, on="k", how=how), scheduler, check_dtype=False)
    assert result.npartitions == 6
    assert left.merge(right, on="k", how=how, npartitions=3, broadcast=False).npartitions == 3


def test_skewed_key_half_the_rows(scheduler):
    rng = np.random.default_rng(9)
    keys = rng.integers(0, 100, 1000)
    keys[: 500] = 7  # one key holds half the rows
    a = pd.DataFrame({"k": rng.permutation(keys), "x": np.arange(1000)})
    b = pd.DataFrame({"k": np.arange(0, 100), "y": np.arange(100) * 2})
    result = dd.from_pandas(a, npartitions=8).merge(dd.from_pandas(b, npartitions=3), on="k",
                                                    how="outer", broadcast=False)
    check(result, a.merge(b, on="k", how="outer"), scheduler, check_dtype=False)


def test_string_and_categorical_keys(scheduler):
    rng = np.random.default_rng(3)
    names = pd.Series(rng.choice(["ann", "bo", "cy", "di", None], 200), dtype="str")
    a = pd.DataFrame({"name": names, "x": np.arange(200)})
    b = pd.DataFrame({"name": pd.Series(["ann", "cy", "ed", None], dtype="str"), "y": [1, 2, 3, 4]})
    left, right = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=2)
    for how in HOWS:
        check(left.merge(right, on="name", how=how, broadcast=False), a.merge(b, on="name", how=how),
              scheduler, check_dtype=False)
    # categorical keys on both sides (same categories) and a categorical against strings
    cats = pd.CategoricalDtype(["ann", "bo", "cy", "di", "ed"])
    ac, bc = a.astype({"name": cats}), b.astype({"name": cats})
    lc, rc = dd.from_pandas(ac, npartitions=4), dd.from_pandas(bc, npartitions=2)
    for how in HOWS:
        check(lc.merge(rc, on="name", how=how, broadcast=False), ac.merge(bc, on="name", how=how),
              scheduler, check_dtype=False)
    expected = ac.merge(b, on="name", how="inner")
    check(lc.merge(right, on="name", how="inner", broadcast=False), expected, scheduler, check_dtype=False)


def test_keys_of_different_dtypes_hash_alike(scheduler):
    a = pd.DataFrame({"k": np.arange(60, dtype="int32") % 20, "x": np.arange(60)})
    b = pd.DataFrame({"k": np.arange(0, 20, dtype="int64"), "y": np.arange(20)})
    result = dd.from_pandas(a, npartitions=4).merge(dd.from_pandas(b, npartitions=3), on="k",
                                                    broadcast=False)
    plan = result.explain(show=False)
    assert "merge-hash-keys" in plan  # cast to one dtype before hashing
    check(result, a.merge(b, on="k"), scheduler)


def test_empty_partitions(scheduler):
    a = pd.DataFrame({"k": [1, 2, 3, 4, 5, 6], "x": range(6)})
    b = pd.DataFrame({"k": [2, 4, 6, 8], "y": [0.5, 1.5, 2.5, 3.5]})
    left = dd.from_pandas(a, npartitions=3)
    left = left[left.x > 3]  # the first two partitions are now empty
    right = dd.from_pandas(b, npartitions=2)
    for how in HOWS:
        check(left.merge(right, on="k", how=how, broadcast=False), a[a.x > 3].merge(b, on="k", how=how),
              scheduler, check_dtype=False)
        if how in ("inner", "left"):
            check(left.merge(right, on="k", how=how, broadcast=True), a[a.x > 3].merge(b, on="k", how=how),
                  scheduler, check_dtype=False)


def test_left_on_right_on_suffixes_indicator(facts, dims, scheduler):
    d = dims.rename(columns={"k": "key", "w": "n"})
    left, right = dd.from_pandas(facts, npartitions=3), dd.from_pandas(d, npartitions=2)
    for how in HOWS:
        result = left.merge(right, left_on="k", right_on="key", how=how, suffixes=("_f", "_d"),
                            indicator=True)
        expected = facts.merge(d, left_on="k", right_on="key", how=how, suffixes=("_f", "_d"), indicator=True)
        assert list(result.columns) == list(expected.columns)
        got = check(result, expected.astype({"_merge": str}).astype({"_merge": expected["_merge"].dtype}),
                    scheduler, check_dtype=False)
        assert got["_merge"].dtype == expected["_merge"].dtype


def test_merge_on_index_and_column(facts, dims, scheduler):
    d = dims.set_index("k")
    left, right = dd.from_pandas(facts, npartitions=3), dd.from_pandas(d, npartitions=2)
    expected = facts.merge(d, left_on="k", right_index=True, how="inner")
    check(left.merge(right, left_on="k", right_index=True, how="inner"), expected, scheduler, check_dtype=False)
    check(dd.merge(left, right, left_on="k", right_index=True, how="left", broadcast=False),
          facts.merge(d, left_on="k", right_index=True, how="left"), scheduler, check_dtype=False)


@pytest.mark.parametrize("how", HOWS)
def test_merge_on_an_index_level_and_a_column(how, scheduler):
    rng = np.random.default_rng(2)
    a = pd.DataFrame({"k": rng.integers(0, 4, 80), "x": np.arange(80)},
                     index=pd.Index(rng.integers(0, 10, 80), name="day"))
    b = pd.DataFrame({"day": rng.integers(0, 10, 30), "k": rng.integers(0, 4, 30), "y": np.arange(30)})
    left, right = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=3)
    result = left.merge(right, on=["day", "k"], how=how, broadcast=False)
    assert "merge-hash-keys" in result.explain(show=False)  # the index level hashed as a column
    check(result, a.merge(b, on=["day", "k"], how=how), scheduler, check_dtype=False)


def test_merge_on_both_indexes_aligned(scheduler):
    a = pd.DataFrame({"x": np.arange(50)}, index=np.arange(50) * 2)
    b = pd.DataFrame({"y": np.arange(40) * 1.5}, index=np.arange(40) * 3)
    left, right = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=3)
    for how in HOWS:
        result = left.merge(right, left_index=True, right_index=True, how=how)
        assert "aligned" in strategy_of(result)
        assert result.known_divisions
        expected = a.merge(b, left_index=True, right_index=True, how=how)
        got = dd.assert_eq(result, expected.sort_index(), check_dtype=False) or result.compute()
        assert got.index.is_monotonic_increasing


def test_small_side_by_known_length_is_broadcast(facts, dims):
    left = dd.from_pandas(facts, npartitions=4)
    right = dd.from_pandas(dims, npartitions=3)  # several partitions, but a known, small length
    assert "broadcast the right side" in strategy_of(left.merge(right, on="k"))
    # inner: the smaller side is broadcast, whichever it is
    assert "broadcast the left side" in strategy_of(right.merge(left, on="k"))
    # right join: only the left side may be broadcast
    assert "broadcast the left side" in strategy_of(right.merge(left, on="k", how="right"))
    with chunkwise.config.set({"dataframe.broadcast_rows": 5}):
        # pandas' merge per partition re-hashes the small side: rows count
        assert "hash" in strategy_of(left.merge(right, on="k", indicator=True))
        # the lookup kernel hashes it once: only its bytes count
        assert "broadcast the right side, lookup" in strategy_of(left.merge(right, on="k"))
    with chunkwise.config.set({"dataframe.broadcast_bytes": 64}):
        assert "hash" in strategy_of(left.merge(right, on="k"))
    unknown = right[right.w >= 0]  # a filter: the length is no longer known
    assert "hash" in strategy_of(left.merge(unknown, on="k", how="left"))
    with pytest.raises(ValueError, match="broadcast"):
        left.merge(right, on="k", how="outer", broadcast=True)


def test_broadcast_reads_the_small_side_once(facts, dims, scheduler):
    left = dd.from_pandas(facts, npartitions=6)
    right = dd.from_pandas(dims, npartitions=2)
    graph = left.merge(right, on="k").__chunkwise_graph__()
    wholes = [k for k in graph if isinstance(k, str) and k.startswith("preparedside")]
    assert len(wholes) == 1  # the small side is concatenated (and indexed) by one task
    merges = [k for k in graph if isinstance(k, tuple) and k[0].startswith("broadcastmerge")]
    assert len(merges) == 6  # one task per partition of the big side, all reading that one
    whole = wholes[0]
    assert all(whole in str(graph[k]) for k in merges)


def test_column_selection_is_pushed_into_both_sides(facts, dims, scheduler):
    left, right = dd.from_pandas(facts, npartitions=3), dd.from_pandas(dims, npartitions=2)
    joined = left.merge(right, on="k", how="left")
    plan = joined[["amount", "label"]].explain(show=False)
    assert "columns=['k', 'amount']" in plan and "columns=['k', 'label']" in plan
    check(joined[["amount", "label"]], facts.merge(dims, on="k", how="left")[["amount", "label"]],
          scheduler, check_dtype=False)
    # two selections computed together: each side narrowed to the union of what both need
    a, b = chunkwise.compute(joined.amount.sum(), joined.w.max(), scheduler=scheduler)
    expected = facts.merge(dims, on="k", how="left")
    assert a == pytest.approx(expected.amount.sum()) and b == expected.w.max()
    # a column on both sides keeps its suffixes: both copies are kept
    other = dims.assign(amount=1.5)
    suffixed = left.merge(dd.from_pandas(other, npartitions=2), on="k")[["amount_x", "amount_y"]]
    assert "'label'" not in suffixed.explain(show=False)
    check(suffixed, facts.merge(other, on="k")[["amount_x", "amount_y"]], scheduler)


# --- errors at build time -------------------------------------------------------------


def test_missing_key_column_is_a_key_error_listing_columns(facts, dims):
    left, right = dd.from_pandas(facts, npartitions=2), dd.from_pandas(dims, npartitions=1)
    with pytest.raises(KeyError, match=r"\['nope'\].*right.*\['k', 'label', 'w'\]"):
        left.merge(right, left_on="k", right_on="nope")
    with pytest.raises(KeyError, match="left"):
        left.merge(right, on=["k", "zzz"])


def test_wrong_how(facts, dims):
    left, right = dd.from_pandas(facts, npartitions=2), dd.from_pandas(dims, npartitions=1)
    with pytest.raises(ValueError, match="how='sideways'.*inner"):
        left.merge(right, on="k", how="sideways")
    with pytest.raises(pd.errors.MergeError):  # pandas: no keys with a cross join
        left.merge(right, on="k", how="cross")
    with pytest.raises(ValueError, match="cross join.*always broadcasts"):
        left.merge(right, how="cross", broadcast=False)


def test_key_dtype_mismatch_as_pandas(facts, dims):
    left = dd.from_pandas(facts, npartitions=2)
    strings = dims.assign(k=dims.k.astype(str))
    with pytest.raises(ValueError, match="merge.*float64 and str"):
        left.merge(dd.from_pandas(strings, npartitions=1), on="k")
    with pytest.raises(ValueError):  # pandas refuses it too
        facts.merge(strings, on="k")
    ints = pd.DataFrame({"k": [1, 2], "v": [1, 2]})
    with pytest.warns(UserWarning, match="int and float"):
        left.merge(dd.from_pandas(ints, npartitions=1), on="k")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        left.merge(dd.from_pandas(dims, npartitions=1), on="k")  # same dtypes: no warning


def test_suffix_collisions_as_pandas(facts):
    other = facts[["k", "amount"]].copy()
    left, right = dd.from_pandas(facts, npartitions=2), dd.from_pandas(other, npartitions=1)
    with pytest.raises(ValueError, match="columns overlap but no suffix"):
        left.merge(right, on="k", suffixes=(None, None))
    with pytest.raises(ValueError, match="columns overlap but no suffix"):
        facts.merge(other, on="k", suffixes=(None, None))
    dup = facts.assign(amount_x=1.0)
    with pytest.raises(pd.errors.MergeError, match="duplicate"):
        dd.from_pandas(dup, npartitions=2).merge(right, on="k")


def test_no_common_columns(facts):
    left = dd.from_pandas(facts, npartitions=2)
    right = dd.from_pandas(pd.DataFrame({"zz": [1]}), npartitions=1)
    with pytest.raises(pd.errors.MergeError, match="no common columns"):
        left.merge(right)


def test_merge_with_pandas_frame_and_named_series(facts, dims):
    left = dd.from_pandas(facts, npartitions=3)
    check(left.merge(dims, on="k"), facts.merge(dims, on="k"))
    series = dd.from_pandas(dims.set_index("k").label, npartitions=2)
    check(left.merge(series, left_on="k", right_index=True),
          facts.merge(dims.set_index("k").label, left_on="k", right_index=True), check_dtype=False)
    with pytest.raises(ValueError, match="unnamed Series"):
        left.merge(series.rename(None), left_on="k", right_index=True)


# --- distributed -------------------------------------------------------------------------------


def _cluster_fixtures():
    path = pathlib.Path(__file__).parents[1] / "distributed" / "conftest.py"
    spec = importlib.util.spec_from_file_location("distributed_fixtures_merge", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cluster, module.client


if importlib.util.find_spec("distributed") is not None:
    cluster, client = _cluster_fixtures()


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="needs distributed")
def test_hash_join_on_a_local_cluster(client):
    rng = np.random.default_rng(11)
    a = pd.DataFrame({"k": rng.integers(0, 40, 300), "x": rng.normal(size=300)})
    b = pd.DataFrame({"k": rng.integers(0, 60, 200), "y": rng.integers(0, 9, 200)})
    left, right = dd.from_pandas(a, npartitions=5), dd.from_pandas(b, npartitions=4)
    result = left.merge(right, on="k", how="outer", broadcast=False)
    assert "hash" in strategy_of(result)
    got = client.compute(result).result()
    pd.testing.assert_frame_equal(sorted_values(got), sorted_values(a.merge(b, on="k", how="outer")),
                                  check_dtype=False)


# --- the broadcast lookup kernel --------------------------------------------------------------


def _keyed(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 12, n)
    if kind == "int":
        return values
    if kind == "uint":
        return values.astype("uint32")
    if kind == "float":
        out = values.astype(float)
        out[::7] = np.nan  # pandas matches a null key to a null key
        return out
    out = pd.to_datetime(values, unit="D").to_numpy().copy()
    out[::7] = np.datetime64("NaT")
    return out


@pytest.mark.parametrize("key", ["int", "uint", "float", "datetime"])
@pytest.mark.parametrize("how", ["inner", "left"])
@pytest.mark.parametrize("names", ["on", "left_on_right_on"])
def test_lookup_kernel_equals_pandas_row_for_row(key, how, names, scheduler):
    """A many-to-one broadcast merge on one numeric/datetime key runs the lookup kernel and
    gives pandas' rows in pandas' order (partition after partition), with pandas' dtypes."""
    big = pd.DataFrame({"k": _keyed(key, 90, 1), "x": np.arange(90.0), "c": np.arange(90)})
    small_keys = pd.unique(_keyed(key, 40, 2))[:8]  # unique, some fact keys unmatched
    small = pd.DataFrame({"k": small_keys, "c": np.arange(len(small_keys)),
                          "s": pd.Series([f"v{i}" for i in range(len(small_keys))], dtype="str")})
    if names == "on":
        kwargs: dict = {"on": "k"}
    else:
        small = small.rename(columns={"k": "key"})
        kwargs = {"left_on": "k", "right_on": "key"}
    left = dd.from_pandas(big, npartitions=4)
    left = left[left.x >= 30]  # the first partition is empty, the second short
    result = left.merge(dd.from_pandas(small, npartitions=2), how=how, **kwargs)
    assert "lookup on the key" in strategy_of(result)
    expected = big[big.x >= 30].merge(small, how=how, **kwargs)
    got = check(result, expected, scheduler, check_dtype=how == "inner")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=how == "inner")


def test_lookup_kernel_falls_back_to_pandas_on_repeated_small_keys(facts, scheduler):
    """A small side with a repeated key cannot be a lookup: pandas' merge runs instead."""
    small = pd.DataFrame({"n": [0, 1, 1, 3], "tag": ["a", "b", "c", "d"]})
    left = dd.from_pandas(facts, npartitions=3)
    for how in ("inner", "left"):
        result = left.merge(dd.from_pandas(small, npartitions=1), on="n", how=how)
        assert "lookup on the key" in strategy_of(result)
        check(result, facts.merge(small, on="n", how=how), scheduler, check_dtype=False)


def test_lookup_kernel_not_used_where_pandas_semantics_differ(facts, dims):
    left, right = dd.from_pandas(facts, npartitions=3), dd.from_pandas(dims, npartitions=1)
    for kwargs in ({"on": "k", "indicator": True}, {"on": ["k", "w"]}, {"on": "k", "how": "right"}):
        frame = left.assign(w=left.n) if kwargs.get("on") == ["k", "w"] else left
        assert "lookup" not in strategy_of(frame.merge(right, **kwargs))
    strings = dims.assign(k=dims.label)  # string keys: pandas' merge
    assert "lookup" not in strategy_of(left.merge(dd.from_pandas(strings, npartitions=1),
                                                  left_on="s", right_on="k"))


# --- plan-time samples of a join -------------------------------------------------------------


def test_groupby_after_a_merge_samples_a_side_not_the_join(facts, dims, monkeypatch, scheduler):
    """The groupby's tree-or-shuffle choice samples the side its keys come from: the join
    runs once per partition of the big side, in the real compute only."""
    from chunkwise.dataframe import joins, sorting

    calls = []
    real = joins.broadcast_join

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(joins, "broadcast_join", counted)
    monkeypatch.setattr(sorting, "_OBSERVED", {})
    left = dd.from_pandas(facts, npartitions=4)
    left = left[left.amount > 0]  # unknown length: the path is chosen from a sample
    right = dd.from_pandas(dims, npartitions=1)
    for key in ("label", "s"):  # a column of the small side, of the big side
        calls.clear()
        joined = left.merge(right, on="k")
        result = joined.groupby(key).amount.sum().compute(scheduler=scheduler)
        pd.testing.assert_series_equal(result, facts.merge(dims, on="k").groupby(key).amount.sum())
        # sampling the join itself would have run a fifth; grouped by the small side's
        # column, the partials are taken before the join, which then never runs
        assert len(calls) == (0 if key == "label" else 4)
        assert len(sorting._OBSERVED) == 1
        sorting._OBSERVED.clear()
    # a key from each side: the join itself is sampled, as before
    both = left.merge(right, on="k")
    source, columns = both.expr.cardinality_source(["label", "s"])
    assert source is both.expr and columns == ["label", "s"]


def test_cardinality_source_names_the_side_of_a_column(facts, dims):
    """A lowered join (hash or broadcast) names the side a sampled column comes from."""
    left = dd.from_pandas(facts, npartitions=4)
    left = left[left.amount > 0]
    right = dd.from_pandas(dims, npartitions=1)
    cases = (("inner", "label", "right"), ("inner", "s", "left"), ("left", "k", "left"),
             ("left", "label", "right"), ("outer", "s", None), ("left_anti", "label", None),
             ("right_anti", "w", "right"))
    for broadcast in (None, False):
        for how, column, side in cases:
            lowered = left.merge(right, on="k", how=how, broadcast=broadcast).expr._lower()
            source, columns = lowered.cardinality_source([column])
            if side is None:
                assert source is lowered
            else:
                expected = left.expr if side == "left" else right.expr
                assert source.name == expected.name and columns == [column], (how, column)


# --- cross and anti joins --------------------------------------------------------------------


@pytest.mark.parametrize("left_parts,right_parts", [(3, 1), (1, 3), (4, 2)])
def test_cross_join_as_pandas(left_parts, right_parts, scheduler):
    left = pd.DataFrame({"a": np.arange(7), "c": np.arange(7) * 1.5})
    right = pd.DataFrame({"b": list("xyzw"), "c": [1, 2, 3, 4]})
    lframe = dd.from_pandas(left, npartitions=left_parts)
    lframe = lframe[lframe.a != 0]  # uneven partitions, unknown length
    result = lframe.merge(dd.from_pandas(right, npartitions=right_parts), how="cross")
    assert strategy_of(result).startswith("BroadcastMerge")
    expected = left[left.a != 0].merge(right, how="cross")
    got = check(result, expected, scheduler)
    if "right side" in strategy_of(result):  # partitions of the left in order: pandas' order
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_cross_join_with_an_empty_side(scheduler):
    left = pd.DataFrame({"a": np.arange(6)})
    right = pd.DataFrame({"b": [1.0, 2.0]})
    lframe = dd.from_pandas(left, npartitions=3)
    check(lframe[lframe.a > 9].merge(dd.from_pandas(right, npartitions=1), how="cross"),
          left[left.a > 9].merge(right, how="cross"), scheduler)
    rframe = dd.from_pandas(right, npartitions=1)
    check(lframe.merge(rframe[rframe.b > 5], how="cross"),
          left.merge(right[right.b > 5], how="cross"), scheduler)


@pytest.mark.parametrize("how", ["left_anti", "right_anti"])
@pytest.mark.parametrize("broadcast", [None, False])
def test_anti_joins_as_pandas(facts, dims, how, broadcast, scheduler):
    left = dd.from_pandas(facts, npartitions=5)
    left = left[left.n > 0]  # uneven, and null keys stay (pandas matches null to null)
    right = dd.from_pandas(dims, npartitions=2)
    result = left.merge(right, on="k", how=how, broadcast=broadcast)
    expected = facts[facts.n > 0].merge(dims, on="k", how=how)
    assert len(expected)
    check(result, expected, scheduler)
    line = strategy_of(result)
    if broadcast is False:
        assert "hash" in line
    else:
        side = "right" if how == "left_anti" else "left"
        assert f"broadcast the {side} side" in line or "hash" in line


def test_anti_join_on_empty_partitions_and_keys_of_other_names(scheduler):
    rng = np.random.default_rng(3)
    a = pd.DataFrame({"ka": rng.integers(0, 20, 60), "v": np.arange(60)})
    b = pd.DataFrame({"kb": rng.integers(0, 20, 25), "w": np.arange(25.0)})
    left = dd.from_pandas(a, npartitions=4)
    right = dd.from_pandas(b, npartitions=3)
    left, right = left[left.v >= 30], right[right.w < 15]  # empty partitions on both sides
    for how in ("left_anti", "right_anti"):
        check(left.merge(right, left_on="ka", right_on="kb", how=how),
              a[a.v >= 30].merge(b[b.w < 15], left_on="ka", right_on="kb", how=how), scheduler)


def test_anti_join_on_aligned_indexes(scheduler):
    a = pd.DataFrame({"v": np.arange(30)}, index=np.arange(0, 60, 2))
    b = pd.DataFrame({"w": np.arange(20.0)}, index=np.arange(0, 60, 3))
    left, right = dd.from_pandas(a, npartitions=3), dd.from_pandas(b, npartitions=2)
    for how in ("left_anti", "right_anti"):
        result = left.merge(right, left_index=True, right_index=True, how=how)
        assert "aligned" in strategy_of(result)
        expected = a.merge(b, left_index=True, right_index=True, how=how)
        got = computed_partitions(result, scheduler=scheduler)
        pd.testing.assert_frame_equal(pd.concat(got).sort_index(), expected.sort_index(),
                                      check_dtype=False)


def test_parquet_side_of_known_footer_rows_is_broadcast(tmp_path, scheduler):
    """A Parquet side's rows come from its footers (no data read): under the byte threshold
    it is broadcast through the lookup kernel, whatever ``broadcast_rows`` says."""
    from chunkwise.dataframe.joins import estimated_rows

    rng = np.random.default_rng(8)
    facts = pd.DataFrame({"id": np.arange(500), "x": rng.normal(size=500)})
    other = pd.DataFrame({"id": np.arange(250, 900), "y": rng.normal(size=650)})
    for name, frame in (("facts", facts), ("other", other)):
        (tmp_path / name).mkdir()
        for i, start in enumerate(range(0, len(frame), 200)):
            frame.iloc[start:start + 200].to_parquet(tmp_path / name / f"part-{i}.parquet")
    left = dd.read_parquet(tmp_path / "facts")
    right = dd.read_parquet(tmp_path / "other")
    right = right.assign(id=right.id + 1)  # row-keeping steps keep the footer count
    assert right.expr.lengths is None and estimated_rows(right.expr) == 650
    assert estimated_rows(right[right.y > 0].expr) is None  # a filter: unknown
    with chunkwise.config.set({"dataframe.broadcast_rows": 10}):
        result = left.merge(right, on="id")
        assert "lookup" in strategy_of(result)
        check(result, facts.merge(other.assign(id=other.id + 1), on="id"), scheduler)
    with chunkwise.config.set({"dataframe.broadcast_bytes": 1000}):
        assert "hash" in strategy_of(left.merge(right, on="id"))
