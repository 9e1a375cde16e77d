"""drop_duplicates' tree on one integer or datetime key: each partition's repeats found
through a table indexed by value and marked (not copied out), and the merges find the
keys an earlier (``keep="first"``) or later (``"last"``) partial holds from a table of
keys seen (``row_selection.repeated_across``), taking each partial's rows once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe import row_selection


def _frame(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "k": rng.integers(-300, 300, n),  # negative values, most keys repeated
        "t": pd.to_datetime(rng.integers(0, 500, n), unit="s"),
        "w": rng.integers(0, 10**12, n),  # too wide a span for a table
        "f": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 50, n).astype(float)),
        "v": np.arange(n),
    })


def _uneven(pdf: pd.DataFrame, cuts: list | None = None):
    """Uneven partitions: an empty one first and between others, one of a single row."""
    cuts = cuts or [0, 0, 900, 900, 901, 2500, 2500, len(pdf)]
    parts = [pdf.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    return dd.from_map(lambda i: parts[i], range(len(parts)), meta=pdf.iloc[:0])


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("keep", ["first", "last", False])
@pytest.mark.parametrize("subset", ["k", "t", "w", "f", ["k", "t"], None])
@pytest.mark.parametrize("split_every", [2, 3, 8])
def test_integer_keys_deduplicate_as_pandas(subset, keep, split_every, scheduler):
    pdf = _frame()
    with chunkwise.config.set({"scheduler": scheduler}):
        got = _uneven(pdf).drop_duplicates(subset, keep=keep, split_every=split_every).compute()
    want = pdf.drop_duplicates(subset, keep=keep)
    if keep is False:  # the shuffle path: pandas' rows, not its order
        got = got.sort_values("v")
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("keep", ["first", "last"])
def test_a_series_of_integer_keys_and_null_keys(keep, scheduler):
    """Nullable integers (``<NA>``) and NaT keys go through pandas; plain ones through
    the tables; all as pandas."""
    pdf = _frame()
    nullable = pdf.k.astype("Int64")
    nullable[::9] = pd.NA
    with_nat = pdf.t.copy()
    with_nat[::7] = pd.NaT
    for series in [pdf.k, nullable, with_nat, pdf.t]:
        df = _uneven(series.to_frame())
        got = df[series.name].drop_duplicates(keep=keep, split_every=2).compute(scheduler=scheduler)
        pd.testing.assert_series_equal(got, series.drop_duplicates(keep=keep))


def test_a_partition_of_wide_keys_among_narrow_ones_falls_back(scheduler):
    """One partition whose keys span too wide for a table (deduplicated by pandas) merged
    with partitions whose repeats are only marked: the answer is still pandas'."""
    pdf = _frame()
    pdf.loc[pdf.index[1000:1200], "k"] = 10**13 + np.arange(200) % 50
    df = _uneven(pdf)
    for keep in ["first", "last"]:
        got = df.drop_duplicates("k", keep=keep, split_every=2).compute(scheduler=scheduler)
        pd.testing.assert_frame_equal(got, pdf.drop_duplicates("k", keep=keep))


def test_merges_of_integer_keys_look_up_keys_seen(monkeypatch):
    """Fails before: each partition's repeats were copied out, and each merge joined its
    partials' keys and found repeats with ``minimum.at`` over them all. Now each
    partition's keys are indexed once (``key_positions``, on its own rows: never on
    merged ones), no ``duplicated`` runs (neither pandas' nor ``repeated_integer_keys``)
    and a merge takes each partial's rows once."""
    pdf = _frame()
    df = _uneven(pdf)
    sizes = []
    indexing = row_selection.key_positions

    def count(values, keep):
        sizes.append(len(values))
        return indexing(values, keep)

    def refuse(*args, **kwargs):
        raise AssertionError("the keys were deduplicated, not indexed once")

    monkeypatch.setattr(row_selection, "key_positions", count)
    monkeypatch.setattr(row_selection, "repeated_integer_keys", refuse)
    monkeypatch.setattr(pd.DataFrame, "drop_duplicates", refuse)
    monkeypatch.setattr(pd.Series, "duplicated", refuse)
    got = df.drop_duplicates("k", split_every=2).compute(scheduler="sync")
    monkeypatch.undo()
    pd.testing.assert_frame_equal(got, pdf.drop_duplicates("k"))
    assert sorted(s for s in sizes if s > 1) == [900, 1500, 1599]  # meta emulation: 0 or 1 row


@pytest.mark.parametrize("keep", ["first", "last"])
def test_kept_across_matches_pandas(keep):
    """Partitions not yet deduplicated (their :class:`KeyPositions`) and deduplicated
    partials, empty ones among them, joined in order: the rows kept are pandas'."""
    rng = np.random.default_rng(5)
    values = [rng.integers(-40, 40, n) for n in [30, 0, 1, 55, 80]]
    want = ~pd.Series(np.concatenate(values)).duplicated(keep=keep).to_numpy()
    positions = [row_selection.key_positions(v, keep) for v in values]
    assert positions[1] is None  # empty: nothing to index
    masks = row_selection.kept_across(values, keep, positions)
    np.testing.assert_array_equal(np.concatenate(masks), want)
    for v, p in zip(values, positions):  # a partition's own kept rows
        if p is not None:
            np.testing.assert_array_equal(p.kept(), ~pd.Series(v).duplicated(keep=keep).to_numpy())
    deduped = [v[~pd.Series(v).duplicated(keep=keep).to_numpy()] for v in values]
    mixed = [None if i % 2 else p for i, p in enumerate(positions)]  # some partials deduplicated
    keys = [d if i % 2 else v for i, (v, d) in enumerate(zip(values, deduped))]
    found = np.concatenate(row_selection.kept_across(keys, keep, mixed))
    np.testing.assert_array_equal(found, ~pd.Series(np.concatenate(keys)).duplicated(keep=keep))
    top = np.array([2**64 - 3, 2**64 - 1], dtype=np.uint64)  # unsigned near the top: no wrap
    np.testing.assert_array_equal(np.concatenate(row_selection.kept_across([top, top[::-1]], keep)),
                                  [True, True, False, False] if keep == "first" else [False, False, True, True])
    times = [np.array(["2024-01-01", "2024-01-02"], "M8[D]"), np.array(["2024-01-02"], "M8[D]")]
    np.testing.assert_array_equal(np.concatenate(row_selection.kept_across(times, keep)),
                                  [True, True, False] if keep == "first" else [True, False, True])
    assert row_selection.kept_across([np.array([0, 10**12])], keep) is None  # too wide
    assert row_selection.key_positions(np.array([0, 10**12]), keep) is None
    nat = np.array(["2024-01-01", "NaT"], "M8[s]")
    assert row_selection.kept_across([nat], keep) is None
    assert [len(m) for m in row_selection.kept_across([np.array([], np.int64)] * 2, keep)] == [0, 0]
