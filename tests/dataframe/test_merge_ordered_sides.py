"""Joins of two tables written in key order (fact x fact on an ordered id): answers equal pandas'.

A broadcast side whose partitions' keys increase strictly within and across
them is *chained* (kept apart, never concatenated, no hash table); a big
partition whose keys are exactly a stretch of one part is joined by slicing.
Every other shape (repeated keys, null keys, unordered parts, probes spanning
parts or missing keys) must give pandas' answer too.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe.testing import computed_partitions

#: The join kernels' module (private: its functions are patched to prove which ones run).
kernels = importlib.import_module("chunkwise.dataframe.join_kernels")
LookupPlan, prepare_small_side = kernels.LookupPlan, kernels.prepare_small_side

HOWS = ["inner", "left", "right", "outer"]


def _as_key(values: np.ndarray, kind: str) -> np.ndarray:
    if kind == "int":
        return values.astype("int64")
    if kind == "float":
        return values.astype("float64")
    return pd.to_datetime(values, unit="s").to_numpy()


def _halves(kind: str, n: int = 120) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = np.arange(n)
    left = pd.DataFrame({"id": _as_key(ids, kind), "x": np.linspace(-1.0, 1.0, n)})
    right = pd.DataFrame({"id": _as_key(ids, kind), "y": np.arange(n) * 0.5,
                          "s": pd.Series([f"v{i}" for i in range(n)], dtype="str")})
    return left, right


def _piece(i: int, pieces: list) -> pd.DataFrame:
    return pieces[i]


def _parts(frame: pd.DataFrame, cuts: list) -> dd.DataFrame:
    """``frame`` cut at row numbers ``cuts`` (a repeated cut: an empty partition)."""
    edges = [0, *cuts, len(frame)]
    pieces = [frame.iloc[a:b] for a, b in zip(edges[:-1], edges[1:])]
    return dd.from_map(_piece, range(len(pieces)), args=(pieces,), meta=frame.iloc[:0])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    return out.sort_values(list(out.columns), kind="stable").reset_index(drop=True)


def _check(result, expected: pd.DataFrame, scheduler, in_order: bool) -> None:
    parts = computed_partitions(result, scheduler=scheduler)
    for part in parts:
        assert list(part.columns) == list(result._meta.columns)
        assert list(part.dtypes) == list(result._meta.dtypes), (part.dtypes, result._meta.dtypes)
    got = pd.concat(parts)
    assert len(got) == len(expected)
    if in_order:  # the lookup keeps the left rows' order, as pandas does
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False)
    pd.testing.assert_frame_equal(_sorted(got), _sorted(expected), check_dtype=False)


#: How the right side (120 rows) is cut, and the left side's cuts: aligned one to one, shifted
#: (left partitions span two right parts), uneven with empty partitions.
LAYOUTS = {
    "aligned": ([40, 80], [40, 80]),
    "shifted": ([40, 80], [25, 70, 100]),
    "uneven_empty": ([0, 10, 10, 90], [5, 5, 60, 119]),
}


@pytest.mark.parametrize("kind", ["int", "float", "datetime"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("how", HOWS)
def test_ordered_halves_merge_as_pandas(kind, layout, how, scheduler):
    """Both tables in key order, the right one shorter at both ends (unmatched keys on the
    left): every ``how``, every layout, both schedulers."""
    left, right = _halves(kind)
    right = right.iloc[7:111]
    right_cuts, left_cuts = LAYOUTS[layout]
    right_cuts = [min(max(c - 7, 0), len(right)) for c in right_cuts]
    result = _parts(left, left_cuts).merge(_parts(right, right_cuts), on="id", how=how,
                                           broadcast=True if how in ("inner", "left") else None)
    expected = left.merge(right, on="id", how=how)
    if how in ("inner", "left"):
        assert "broadcast the right side, lookup on the key" in result.explain(show=False)
    _check(result, expected, scheduler, in_order=how in ("inner", "left"))


@pytest.mark.parametrize("how", ["inner", "left"])
def test_a_side_in_key_order_is_never_concatenated(how, monkeypatch, scheduler):
    """Fails before: the small side was concatenated (and hashed) in one task."""
    def refuse(parts):
        raise AssertionError("the small side was concatenated")

    monkeypatch.setattr(kernels, "concat_whole", refuse)
    left, right = _halves("int")
    result = _parts(left, [30, 60, 90]).merge(_parts(right, [50, 50, 100]), on="id", how=how,
                                              broadcast=True)
    _check(result, left.merge(right, on="id", how=how), scheduler, in_order=True)


def test_aligned_partitions_are_sliced_not_searched(monkeypatch, scheduler):
    """Fails before: every probe key was looked up and every right column taken."""
    def refuse(*args):
        raise AssertionError("a lookup ran on aligned partitions")

    monkeypatch.setattr(kernels, "_take", refuse)
    monkeypatch.setattr(kernels, "_positions", refuse)
    left, right = _halves("float")
    result = _parts(left, [40, 80]).merge(_parts(right, [40, 80]), on="id", broadcast=True)
    _check(result, left.merge(right, on="id"), scheduler, in_order=True)


def test_the_chain_is_checked():
    """Chained only when the keys increase strictly within and across the non-empty parts."""
    plan = LookupPlan("id", "id", "inner", ("id", "x"), ("y",), ("y",))
    frame = pd.DataFrame({"id": np.arange(10), "y": np.arange(10.0)})

    def prepared(*slices):
        return prepare_small_side([frame.iloc[s] for s in slices], plan)

    chained = prepared(slice(0, 4), slice(4, 4), slice(4, 10))
    assert chained.parts is not None and len(chained.parts) == 2  # the empty part dropped
    assert list(chained.offsets) == [0, 4, 10]
    assert prepared(slice(0, 5), slice(4, 10)).parts is None  # a key repeated across parts
    assert prepared(slice(5, 10), slice(0, 5)).parts is None  # parts out of order
    assert prepared(slice(0, 10)).parts is None  # one part: nothing to chain
    shuffled = frame.iloc[[0, 2, 1, 3, 4, 5, 6, 7, 8, 9]]
    assert prepare_small_side([shuffled.iloc[:5], shuffled.iloc[5:]], plan).parts is None
    nulls = frame.assign(id=frame.id.astype(float)).copy()
    nulls.loc[9, "id"] = np.nan
    assert prepare_small_side([nulls.iloc[:5], nulls.iloc[5:]], plan).parts is None


@pytest.mark.parametrize("how", HOWS)
def test_repeated_null_and_unordered_keys_as_pandas(how, scheduler):
    """Shapes that are not chained (repeated keys across parts, null keys on both sides,
    unordered probes) give pandas' answers through the other kernels."""
    rng = np.random.default_rng(3)
    left = pd.DataFrame({"id": rng.permutation(np.r_[np.arange(60.0), [np.nan] * 4]), "x": np.arange(64.0)})
    right = pd.DataFrame({"id": np.r_[np.arange(0.0, 30.0), np.arange(29.0, 50.0), [np.nan]],
                          "y": np.arange(52.0)})
    result = _parts(left, [20, 20, 50]).merge(_parts(right, [30, 51]), on="id", how=how)
    _check(result, left.merge(right, on="id", how=how), scheduler, in_order=False)


@pytest.mark.parametrize("how", ["inner", "left"])
def test_unordered_probes_into_a_chained_side(how, scheduler):
    """Probe keys in random order, with NaN and keys below, between and above the parts."""
    rng = np.random.default_rng(5)
    keys = rng.permutation(np.r_[np.arange(-5.0, 130.0, 0.5), [np.nan] * 3])
    left = pd.DataFrame({"id": keys, "x": np.arange(len(keys), dtype=float)})
    _, right = _halves("float")
    right = right[right.id % 7 != 3]  # gaps inside the parts
    result = _parts(left, [60, 100, 200]).merge(_parts(right, [10, 60, 61]), on="id", how=how,
                                                broadcast=True)
    assert "broadcast the right side, lookup on the key" in result.explain(show=False)
    _check(result, left.merge(right, on="id", how=how), scheduler, in_order=True)


def test_explain_says_why_the_strategy_was_chosen():
    left, right = _halves("int")
    small = _parts(left, [40]).merge(dd.from_pandas(right, npartitions=3), on="id")
    assert "(the right side is small: 120 rows" in small.explain(show=False).splitlines()[0]
    unknown = _parts(left, [40]).merge(_parts(right, [60]), on="id")
    line = unknown.explain(show=False).splitlines()[0]
    assert line.startswith("PartitionMerge: how='inner', hash (the right side is of unknown length")
    assert "hash (broadcast=False)" in _parts(left, [40]).merge(
        dd.from_pandas(right, npartitions=3), on="id", broadcast=False).explain(show=False)
    outer = _parts(left, [40]).merge(_parts(right, [60]), on="id", how="outer")
    assert "(how='outer' needs every row of both sides)" in outer.explain(show=False)
