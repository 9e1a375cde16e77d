"""``dd.merge_asof`` against pandas: directions, ``by``, tolerance, matches partitions away."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq


def stamps(rng, n: int, span: int = 10_000) -> pd.DatetimeIndex:
    seconds = np.sort(rng.integers(0, span, n))
    return pd.DatetimeIndex(pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s"), name="t")


@pytest.fixture
def sides():
    rng = np.random.default_rng(21)
    left = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 300), "v": rng.normal(size=300)},
                        index=stamps(rng, 300))
    right = pd.DataFrame({"g": rng.choice(["a", "b", "c", "d"], 90), "w": rng.integers(0, 100, 90)},
                         index=stamps(rng, 90))
    return left, right


@pytest.mark.parametrize("direction", ["backward", "forward", "nearest"])
@pytest.mark.parametrize("by", [None, "g"])
@pytest.mark.parametrize("parts", [(5, 1), (4, 9), (7, 3)])
def test_by_index_against_pandas(sides, direction, by, parts, scheduler):
    left, right = sides
    dl, dr = dd.from_pandas(left, npartitions=parts[0]), dd.from_pandas(right, npartitions=parts[1])
    for tolerance in (None, pd.Timedelta("5min")):
        for exact in (True, False):
            result = dd.merge_asof(dl, dr, left_index=True, right_index=True, by=by, direction=direction,
                                   tolerance=tolerance, allow_exact_matches=exact)
            expected = pd.merge_asof(left, right, left_index=True, right_index=True, by=by,
                                     direction=direction, tolerance=tolerance, allow_exact_matches=exact)
            assert result.divisions == dl.divisions
            # w is float64 in every partition (a row may find no match); pandas' depends on the data
            assert result.dtypes["w"] == np.dtype("float64")
            assert_eq(result, expected.astype({"w": "float64"}), scheduler=scheduler)
    line = result.explain(show=False).splitlines()[0]
    assert ("broadcast" if parts[1] == 1 else "by divisions") in line


def test_a_match_many_partitions_away(scheduler):
    # the right side has rows only at the start and the end: a left row in the middle finds its
    # backward match four partitions back and its forward match four partitions ahead
    idx = pd.date_range("2024-01-01", periods=100, freq="1min", name="t")
    right = pd.DataFrame({"w": np.arange(100)}, index=idx)
    right = right[(right.w < 5) | (right.w > 95)]
    left = pd.DataFrame({"v": np.arange(10)}, index=idx[45:55])
    dr = dd.from_pandas(pd.DataFrame({"w": np.arange(100)}, index=idx), npartitions=10)
    dr = dr[(dr.w < 5) | (dr.w > 95)]  # middle partitions empty, divisions still known
    dl = dd.from_pandas(left, npartitions=2)
    for direction in ("backward", "forward", "nearest"):
        expected = pd.merge_asof(left, right, left_index=True, right_index=True, direction=direction)
        assert_eq(dd.merge_asof(dl, dr, left_index=True, right_index=True, direction=direction),
                  expected.astype({"w": "float64"}), scheduler=scheduler)


def test_duplicate_right_keys_take_the_last(scheduler):
    idx = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 00:01", "2024-01-01 00:01", "2024-01-01 00:03",
                            "2024-01-01 00:05", "2024-01-01 00:05"], name="t")
    right = pd.DataFrame({"w": [1, 2, 3, 4, 5, 6]}, index=idx)
    left = pd.DataFrame({"v": [1.0, 2.0, 3.0]},
                        index=pd.DatetimeIndex(["2024-01-01 00:01", "2024-01-01 00:04", "2024-01-01 00:06"], name="t"))
    result = dd.merge_asof(dd.from_pandas(left, npartitions=2), dd.from_pandas(right, npartitions=3),
                           left_index=True, right_index=True)
    expected = pd.merge_asof(left, right, left_index=True, right_index=True)
    assert_eq(result, expected.astype({"w": "float64"}), scheduler=scheduler)


def test_on_columns_with_a_broadcast_right_side(sides, scheduler):
    left, right = (s.reset_index() for s in sides)
    dl, dr = dd.from_pandas(left, npartitions=4), dd.from_pandas(right, npartitions=1)
    result = dd.merge_asof(dl, dr, on="t", by="g", direction="nearest")
    expected = pd.merge_asof(left, right, on="t", by="g", direction="nearest")
    got = result.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


@pytest.mark.parametrize("direction", ["backward", "forward", "nearest"])
def test_on_columns_routed_by_sorted_keys(sides, direction, scheduler):
    left, right = (s.reset_index() for s in sides)
    dl, dr = dd.from_pandas(left, npartitions=4), dd.from_pandas(right, npartitions=3)
    result = dd.merge_asof(dl, dr, on="t", by="g", direction=direction)
    plan = result.explain(show=False)
    assert "by divisions" in plan and "sorted" not in plan.splitlines()[0]
    assert plan.count("SetIndex('t'") == 2 and "Shuffle" not in plan  # no shuffle: sorted=True
    expected = pd.merge_asof(left, right, on="t", by="g", direction=direction)
    got = result.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    renamed = right.rename(columns={"t": "when"})
    result = dd.merge_asof(dl, dd.from_pandas(renamed, npartitions=3), left_on="t", right_on="when")
    pd.testing.assert_frame_equal(result.compute(scheduler=scheduler).reset_index(drop=True),
                                  pd.merge_asof(left, renamed, left_on="t", right_on="when"),
                                  check_dtype=False)


def test_refusals_say_what_to_do(sides):
    left, right = (s.reset_index() for s in sides)
    dl, dr = dd.from_pandas(left, npartitions=4), dd.from_pandas(right, npartitions=2)
    with pytest.raises(ValueError, match="one key column"):
        dd.merge_asof(dl, dr, left_on=["t"], right_on=["t"])
    with pytest.raises(pd.errors.MergeError, match="direction"):
        dd.merge_asof(dl, dr, on="t", direction="sideways")
    with pytest.raises(KeyError):
        dd.merge_asof(dl, dd.from_pandas(right, npartitions=1), on="nope")
