"""drop_duplicates' tree hashes string and multi-column keys once per partition and carries
the hashes through its merges (``row_selection.dedupe_hashed``/``merge_hashed``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe import row_selection, sorting


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 3000
    words = np.array(["a", "b", "c", "dd", "e", None], dtype=object)
    f = np.round(rng.normal(size=n), 0)
    f[::7] = np.nan
    f[1::11] = -0.0  # equal to 0.0 for pandas
    return pd.DataFrame({
        "s": pd.array(words[rng.integers(0, 6, n)], dtype="str"),
        "f": f,
        "i": rng.integers(0, 4, n),
        "t": pd.to_datetime(rng.integers(0, 3, n), unit="D"),
        "b": rng.random(n) < 0.5,
        "v": np.arange(n),
    })


def _uneven(pdf: pd.DataFrame):
    """Uneven partitions, one empty, one of a single row."""
    cuts = [0, 700, 700, 701, 1900, len(pdf)]
    parts = [pdf.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    return dd.from_map(lambda i: parts[i], range(len(parts)), meta=pdf.iloc[:0])


_SUBSETS = [["s"], ["s", "f"], ["f"], ["s", "t", "b"], ["f", "i"]]


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("keep", ["first", "last"])
@pytest.mark.parametrize("subset", _SUBSETS, ids=lambda s: "+".join(s))
def test_hashed_keys_deduplicate_as_pandas(subset, keep, scheduler):
    pdf = _frame()
    df = _uneven(pdf)
    want = pdf.drop_duplicates(subset, keep=keep)
    with chunkwise.config.set({"scheduler": scheduler}):
        got = df.drop_duplicates(subset, keep=keep, split_every=2).compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_a_string_series_deduplicates_as_pandas(scheduler):
    pdf = _frame()
    got = _uneven(pdf).s.drop_duplicates(keep="last", split_every=3).compute(scheduler=scheduler)
    pd.testing.assert_series_equal(got, pdf.s.drop_duplicates(keep="last"))


def test_keys_are_hashed_once_and_pandas_never_deduplicates_them(monkeypatch):
    """Each partition's rows hashed once (no merge hashes a key again), and neither
    pandas' ``duplicated`` nor its ``drop_duplicates`` runs on the keys."""
    pdf = _frame()
    df = _uneven(pdf)
    hashed = []
    hash_rows = pd.util.hash_pandas_object

    def counting(obj, *args, **kwargs):
        hashed.append(len(obj))
        return hash_rows(obj, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("pandas deduplicated the keys: they should be hashed once")

    monkeypatch.setattr(sorting, "_OBSERVED", {})  # the choice reads partition 0 afresh
    monkeypatch.setattr(pd.util, "hash_pandas_object", counting)
    monkeypatch.setattr(pd.DataFrame, "duplicated", refuse)
    monkeypatch.setattr(pd.Series, "duplicated", refuse)
    monkeypatch.setattr(pd.DataFrame, "drop_duplicates", refuse)
    expr = df.drop_duplicates(["s", "f"], split_every=2)
    got = expr.compute(scheduler="sync")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates(["s", "f"]))
    # rows of real partitions (meta emulation hashes 0 or 6): each partition once, and
    # partition 0 once more by the tree-or-shuffle choice's estimate of distinct keys
    assert sorted(h for h in hashed if h > 6) == [700, 700, 1100, 1199]
    assert hashed.count(1) == 1


def test_a_hash_collision_falls_back_to_pandas(monkeypatch):
    """Every row given one hash: the check of the rows dropped finds different keys and
    pandas deduplicates instead; the answer is still pandas'."""
    pdf = _frame()
    df = _uneven(pdf)
    monkeypatch.setattr(pd.util, "hash_pandas_object",
                        lambda obj, index=False: pd.Series(np.zeros(len(obj), dtype=np.uint64)))
    got = df.drop_duplicates(["s", "i"], keep="last", split_every=2).compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates(["s", "i"], keep="last"))


def test_repeated_by_hash_refuses_a_collision_and_finds_repeats():
    keys = pd.DataFrame({0: ["x", "y", "x", "z"]})
    hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    np.testing.assert_array_equal(row_selection.repeated_by_hash(hashes, lambda: keys, "first"),
                                  [False, False, True, False])
    np.testing.assert_array_equal(row_selection.repeated_by_hash(hashes, lambda: keys, "last"),
                                  [True, False, False, False])
    same = np.zeros(4, dtype=np.uint64)
    assert row_selection.repeated_by_hash(same, lambda: keys, "first") is None


def test_object_keys_are_not_hashed_here():
    """``1 == 1.0 == True`` in an object column: left to pandas."""
    part = pd.DataFrame({"o": pd.Series([1, 1.0, True, "a"], dtype=object)})
    assert row_selection.row_hashes(part, ["o"]) is None
    got = row_selection.dedupe_hashed(part, ["o"], "first")
    assert got.hashes is None
    pd.testing.assert_frame_equal(got.frame, part.drop_duplicates(["o"]))
