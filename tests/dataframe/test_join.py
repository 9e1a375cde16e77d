"""``DataFrame.join`` against pandas: on the index (aligned or not), on columns, suffixes, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.testing import computed_partitions

HOWS = ["inner", "left", "right", "outer"]


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_index(kind="stable")


@pytest.fixture
def frames():
    rng = np.random.default_rng(4)
    a = pd.DataFrame({"x": rng.normal(size=60), "k": rng.integers(0, 30, 60)}, index=np.arange(60) * 2)
    b = pd.DataFrame({"y": rng.integers(0, 9, 45)}, index=np.arange(45) * 3)
    return a, b


@pytest.mark.parametrize("how", HOWS)
def test_join_on_aligned_indexes(frames, how, scheduler):
    a, b = frames
    left = dd.from_pandas(a, npartitions=4)
    right = dd.from_pandas(b, npartitions=3)
    right = right.repartition(divisions=sorted(set(left.divisions) | set(right.divisions)))
    left_cut = left.repartition(divisions=right.divisions)
    assert left_cut.divisions == right.divisions
    result = left_cut.join(right, how=how)
    plan = result.explain(show=False)
    assert plan.startswith("PartitionMerge") and "aligned" in plan
    assert plan.count("Repartition") == 2  # the user's own two: equal divisions, nothing more to cut
    assert result.divisions == right.divisions
    assert_eq(result, sorted_frame(a.join(b, how=how)), check_dtype=False, scheduler=scheduler)


@pytest.mark.parametrize("how", HOWS)
def test_join_on_indexes_with_other_divisions_cuts_both(frames, how, scheduler):
    a, b = frames
    left, right = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=3)
    assert left.divisions != right.divisions
    result = left.join(right, how=how, broadcast=False)
    plan = result.explain(show=False)
    assert "aligned" in plan and "Repartition" in plan  # partitions cut, no shuffle
    assert "Shuffle" not in plan
    assert result.known_divisions
    assert_eq(result, sorted_frame(a.join(b, how=how)), check_dtype=False, scheduler=scheduler)


@pytest.mark.parametrize("how", HOWS)
def test_join_on_a_column(frames, how, scheduler):
    a, b = frames
    left, right = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=3)
    result = left.join(right, on="k", how=how, broadcast=False)
    expected = a.join(b, on="k", how=how)
    got = result.compute(scheduler=scheduler)
    key = ["k", "x", "y"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True), check_dtype=False)


def test_join_on_a_column_broadcast_keeps_the_callers_index(frames, scheduler):
    a, b = frames
    left, right = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=1)
    result = left.join(right, on="k")
    assert "broadcast the right side" in result.explain(show=False)
    assert result.divisions == left.divisions  # pandas' join keeps the calling frame's index
    assert_eq(result, a.join(b, on="k"), check_dtype=False, scheduler=scheduler)


def test_join_suffixes_and_errors(frames):
    a, b = frames
    b2 = b.rename(columns={"y": "x"})
    left, right = dd.from_pandas(a, npartitions=2), dd.from_pandas(b2, npartitions=2)
    with pytest.raises(ValueError, match="join.*columns overlap but no suffix"):
        left.join(right)
    assert_eq(left.join(right, suffixes=("_l", "_r"), how="outer"),
              a.join(b2, suffixes=("_l", "_r"), how="outer"), check_dtype=False)
    with pytest.raises(KeyError, match="nope"):
        left.join(right, on="nope", suffixes=("", "_r"))
    with pytest.raises(ValueError, match="how='diagonal'"):
        left.join(right, how="diagonal")
    with pytest.raises(ValueError, match="share columns"):
        left.join([right, right])
    with pytest.raises(NotImplementedError, match="list of frames"):
        left.join([right], how="outer")


@pytest.mark.parametrize("how", ["left", "inner"])
def test_join_a_list_of_frames_on_the_index(how, scheduler):
    rng = np.random.default_rng(4)
    a = pd.DataFrame({"x": rng.random(60)}, index=rng.permutation(100)[:60])
    b = pd.DataFrame({"y": rng.random(40)}, index=rng.permutation(100)[:40])
    c = pd.DataFrame({"z": rng.integers(0, 9, 30)}, index=rng.permutation(100)[:30])
    left = dd.from_pandas(a, npartitions=3)
    got = left.join([dd.from_pandas(b, npartitions=2), c], how=how).compute(scheduler=scheduler)
    expected = a.join([b, c], how=how)
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_dtype=False)


def test_join_a_named_series(frames, scheduler):
    a, b = frames
    left = dd.from_pandas(a, npartitions=3)
    series = dd.from_pandas(b.y, npartitions=2)
    assert_eq(left.join(series, how="left"), a.join(b.y, how="left"), check_dtype=False,
              scheduler=scheduler)


@pytest.mark.parametrize("how,broadcast", [("left_anti", None), ("left_anti", False),
                                           ("right_anti", None), ("right_anti", False),
                                           ("cross", None)])
def test_join_anti_and_cross(frames, how, broadcast, scheduler):
    """``join(how=...)`` with pandas 3's anti joins (on the index) and the cross join."""
    a, b = frames
    left = dd.from_pandas(a, npartitions=4)
    left = left[left.k > 3]  # unknown divisions kept, uneven partitions
    right = dd.from_pandas(b.rename(columns={"y": "z"}), npartitions=3)
    result = left.join(right, how=how, broadcast=broadcast)
    expected = a[a.k > 3].join(b.rename(columns={"y": "z"}), how=how)
    got = pd.concat(computed_partitions(result, scheduler=scheduler))
    assert len(got) == len(expected) and len(expected)
    if how == "cross":  # pandas numbers the rows 0..n-1, so compare the values only
        got, expected = got.reset_index(drop=True), expected.reset_index(drop=True)
        columns = list(expected.columns)
        got = got.sort_values(columns).reset_index(drop=True)
        expected = expected.sort_values(columns).reset_index(drop=True)
    pd.testing.assert_frame_equal(got.sort_index(kind="stable"), expected.sort_index(kind="stable"),
                                  check_dtype=False)
