"""A groupby by the broadcast side's columns after a ``merge``: partials taken per join key
before the join (:mod:`chunkwise.dataframe.join_partials`), checked against pandas.

Each case also checks which plan ran: ``JoinedPartials`` where the rule applies, the plain
``BroadcastMerge`` where it must not (row-order aggregations, a group key of the big side).
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe.join_partials import joined_partial

prepare_small_side = importlib.import_module("chunkwise.dataframe.join_kernels").prepare_small_side


@pytest.fixture
def facts():
    rng = np.random.default_rng(7)
    n = 300
    keys = rng.integers(0, 25, n).astype(float)  # 20..24 have no dimension row
    keys[::17] = np.nan  # null keys: pandas matches them to the dimension's null key
    return pd.DataFrame({
        "k": keys,
        "i": pd.array(rng.integers(0, 9, n), dtype="Int64"),
        "x": rng.normal(size=n).round(4),
        "b": rng.integers(0, 2, n).astype(bool),
        "s": pd.Series(rng.choice(["p", "q"], n), dtype="str"),
    })


@pytest.fixture
def dims():
    keys = np.append(np.arange(20.0), [3.0, 7.0, np.nan])  # 3 and 7 twice, one null key
    regions = [f"r{int(k) % 4}" if k == k else "rn" for k in keys]
    regions[5] = None  # a null region
    return pd.DataFrame({
        "key": keys,
        "region": pd.Series(regions, dtype="str"),
        "zone": pd.Categorical([f"z{j % 3}" for j in range(len(keys))], categories=["z0", "z1", "z2", "z9"]),
        "w": np.arange(len(keys), dtype="int64"),
    })


def uneven(frame: pd.DataFrame) -> dd.DataFrame:
    """Uneven partitions, two of them empty (a filter on ``x`` drops all their rows)."""
    out = frame.copy()
    out.loc[40:99, "x"] = 100.0  # rows of partitions 1 and 2 (of 5)
    return dd.from_pandas(out, npartitions=5)[lambda d: d.x < 50]


def pandas_uneven(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.loc[40:99, "x"] = 100.0
    return out[out.x < 50]


def plan_of(result) -> str:
    return result.explain(show=False)


CASES = [
    ("region", "sum", {}),
    ("region", "count", {}),
    ("region", "size", {}),
    ("region", "mean", {}),
    ("region", "min", {}),
    ("region", "max", {}),
    ("region", "var", {}),
    ("region", "std", {}),
    ("region", "prod", {}),
    ("region", "sum", {"sort": False}),
    ("region", "sum", {"dropna": False}),
    ("zone", "sum", {}),
    ("zone", "count", {"observed": True}),
    ("zone", "sum", {"observed": False}),  # z9 has no row: pandas gives it 0 and NaN
    (["region", "zone"], "max", {"observed": False}),
    (["region", "zone"], "sum", {}),
    (["zone", "region"], "mean", {"dropna": False}),
]


@pytest.mark.parametrize("how", ["inner", "left"])
@pytest.mark.parametrize("by,agg,kwargs", CASES)
def test_groupby_by_the_broadcast_side_matches_pandas(facts, dims, how, by, agg, kwargs, scheduler):
    left = uneven(facts)
    right = dd.from_pandas(dims, npartitions=1)
    joined = left.merge(right, left_on="k", right_on="key", how=how)
    grouped = joined.groupby(by, **kwargs)
    result = getattr(grouped[["x", "i"]] if agg != "size" else grouped, agg)()
    assert "JoinedPartials" in plan_of(result)
    expected_joined = pandas_uneven(facts).merge(dims, left_on="k", right_on="key", how=how)
    expected_grouped = expected_joined.groupby(by, **kwargs)
    expected = getattr(expected_grouped[["x", "i"]] if agg != "size" else expected_grouped, agg)()
    got = result.compute(scheduler=scheduler)
    if not kwargs.get("sort", True):
        got, expected = got.sort_index(), expected.sort_index()
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    else:
        pd.testing.assert_series_equal(got, expected, check_exact=False, rtol=1e-9)


def test_agg_of_several_columns_and_named_aggregations(facts, dims, scheduler):
    left = dd.from_pandas(facts, npartitions=3)
    right = dd.from_pandas(dims, npartitions=1)
    joined = left.merge(right, left_on="k", right_on="key")
    expected_joined = facts.merge(dims, left_on="k", right_on="key")
    result = joined.groupby("region").agg({"x": ["sum", "mean"], "b": "sum", "s": "max"})
    expected = expected_joined.groupby("region").agg({"x": ["sum", "mean"], "b": "sum", "s": "max"})
    assert "JoinedPartials" in plan_of(result)
    pd.testing.assert_frame_equal(result.compute(scheduler=scheduler), expected, check_exact=False,
                                  rtol=1e-9)
    named = joined.groupby("zone", observed=True).agg(total=("x", "sum"), rows=("i", "count"))
    pd.testing.assert_frame_equal(
        named.compute(scheduler=scheduler),
        expected_joined.groupby("zone", observed=True).agg(total=("x", "sum"), rows=("i", "count")),
        check_exact=False, rtol=1e-9)


def test_two_keys_and_integer_keys(scheduler):
    rng = np.random.default_rng(3)
    facts = pd.DataFrame({"a": rng.integers(0, 4, 200), "b": rng.integers(0, 3, 200),
                          "x": rng.normal(size=200)})
    dims = pd.DataFrame({"a": [0, 0, 1, 2, 3, 3], "b": [0, 1, 2, 0, 1, 1],
                         "region": pd.Series(list("uvuvwu"), dtype="str")})
    joined = dd.from_pandas(facts, npartitions=4).merge(dd.from_pandas(dims, npartitions=1),
                                                         on=["a", "b"], how="left")
    result = joined.groupby("region", dropna=False).x.sum()
    assert "JoinedPartials" in plan_of(result)
    expected = facts.merge(dims, on=["a", "b"], how="left").groupby("region", dropna=False).x.sum()
    pd.testing.assert_series_equal(result.compute(scheduler=scheduler), expected, check_exact=False,
                                   rtol=1e-12)


def test_no_match_at_all_gives_pandas_empty_answer(facts, dims, scheduler):
    left = dd.from_pandas(facts.assign(k=facts.k + 1000), npartitions=3)
    joined = left.merge(dd.from_pandas(dims, npartitions=1), left_on="k", right_on="key")
    result = joined.groupby("region").x.sum()
    assert "JoinedPartials" in plan_of(result)
    expected = facts.assign(k=facts.k + 1000).merge(dims, left_on="k", right_on="key").groupby(
        "region").x.sum()
    pd.testing.assert_series_equal(result.compute(scheduler=scheduler), expected)


@pytest.mark.parametrize("by,column,agg", [("region", "x", "first"), ("region", "x", "nunique"),
                                           ("s", "x", "sum"), ("key", "x", "sum"),
                                           ("region", "s", "sum")])
def test_other_groupbys_keep_the_plain_plan(facts, dims, by, column, agg, scheduler):
    """Row order (first, a sum of strings), distinct values (nunique), a key of the big side,
    the join key: not taken before the join, and still pandas' answer."""
    left = dd.from_pandas(facts, npartitions=3)
    joined = left.merge(dd.from_pandas(dims, npartitions=1), left_on="k", right_on="key")
    result = getattr(joined.groupby(by)[column], agg)()
    assert "JoinedPartials" not in plan_of(result)
    expected = getattr(facts.merge(dims, left_on="k", right_on="key").groupby(by)[column], agg)()
    pd.testing.assert_series_equal(result.compute(scheduler=scheduler), expected, check_exact=False,
                                   rtol=1e-12)


def test_kernel_counts_a_duplicated_dimension_key_twice(dims):
    """Key 3 has two dimension rows: its facts' partial is counted once per row, as the join
    repeats the facts; null keys match the null key, as in pandas."""
    big = pd.DataFrame({"k": [3.0, 3.0, np.nan, 1.0, 24.0], "x": [1.0, 2.0, 4.0, 8.0, 16.0]})
    side = prepare_small_side([dims], None)
    for how in ("inner", "left"):
        [(frame, pairs)] = joined_partial(big, side, big_keys=("k",), small_keys=("key",), how=how,
                                          by=("region",), prims=[("x", "sum"), (None, "size")],
                                          dropna=False, observed=False)
        expected = big.merge(dims, left_on="k", right_on="key", how=how).groupby(
            "region", dropna=False, sort=False).agg(x=("x", "sum"), n=("x", "size"))
        got = frame.sort_index()
        expected = expected.sort_index()
        np.testing.assert_array_equal(got[(0, 0)].to_numpy(), expected.x.to_numpy())
        np.testing.assert_array_equal(got[(1, 0)].to_numpy(), expected.n.to_numpy())
        assert not pairs
    assert joined_partial(big.iloc[:0], side, big_keys=("k",), small_keys=("key",), how="inner",
                          by=("region",), prims=[("x", "sum")], dropna=True, observed=False) == []


def test_a_larger_or_unknown_small_side_keeps_the_plain_plan(facts, dims, monkeypatch, scheduler):
    """Above ``MAX_SMALL_ROWS`` rows, or of unknown length, the small side is joined as before."""
    joins = importlib.import_module("chunkwise.dataframe.joins")
    left = dd.from_pandas(facts, npartitions=3)
    expected = facts.merge(dims, left_on="k", right_on="key").groupby("region").x.sum()
    right = dd.from_pandas(dims, npartitions=1)
    monkeypatch.setattr(joins, "MAX_SMALL_ROWS", len(dims) - 1)
    result = left.merge(right, left_on="k", right_on="key").groupby("region").x.sum()
    assert "JoinedPartials" not in plan_of(result)
    pd.testing.assert_series_equal(result.compute(scheduler=scheduler), expected, check_exact=False,
                                   rtol=1e-12)
    monkeypatch.setattr(joins, "MAX_SMALL_ROWS", len(dims))
    assert "JoinedPartials" in plan_of(left.merge(right, left_on="k", right_on="key")
                                       .groupby("region").x.sum())
    unknown = dd.from_pandas(dims, npartitions=2)[lambda d: d.w >= 0]  # length unknown
    result = left.merge(unknown, left_on="k", right_on="key", broadcast=True).groupby("region").x.sum()
    assert "JoinedPartials" not in plan_of(result)
    pd.testing.assert_series_equal(result.compute(scheduler=scheduler), expected, check_exact=False,
                                   rtol=1e-12)


@pytest.mark.parametrize("form", ["as_index", "min_count", "size", "std_count"])
def test_result_forms_of_the_groupby(form, scheduler):
    """``as_index=False``, ``min_count`` (a count partial beside the sum), ``size`` with null
    groups kept, several aggregations: pandas' layout and values."""
    rng = np.random.default_rng(1)
    facts = pd.DataFrame({"k": rng.integers(0, 12, 200), "x": rng.normal(size=200)})
    facts.loc[::7, "x"] = np.nan
    dims = pd.DataFrame({"k": range(10), "r": pd.Series(list("aabbccddee"), dtype="str")})
    joined = dd.from_pandas(facts, npartitions=4).merge(dd.from_pandas(dims, npartitions=1), on="k",
                                                        how="left")
    expected_joined = facts.merge(dims, on="k", how="left")

    def run(frame):
        if form == "as_index":
            return frame.groupby("r", as_index=False).x.sum()
        if form == "min_count":
            return frame.groupby("r").x.sum(min_count=20)
        if form == "size":
            return frame.groupby("r", dropna=False).size()
        return frame.groupby("r").agg({"x": ["std", "count"]})

    result, expected = run(joined), run(expected_joined)
    assert "JoinedPartials" in plan_of(result)
    got = result.compute(scheduler=scheduler)
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    else:
        pd.testing.assert_series_equal(got, expected, check_exact=False, rtol=1e-9)
