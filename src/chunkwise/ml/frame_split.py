"""Dataframe pieces of ``train_test_split``: rows picked within partitions, sliced, or moved across them.

A split's output partitions are :class:`SplitPartitions`: partitions made by
``Delayed`` tasks whose lengths the plan knows, so a frame and a Series (or
an array) split together pair row by row (``fit(train[features],
train[label])``) without another pass.

Three ways to pick rows, one per kind of split:

- :func:`split_within_partitions` (``shuffle=True, blockwise=True``): each
  partition draws a permutation of its rows from its own seeded stream
  (:func:`block_permutation`) and keeps the rows ``[start_i, stop_i)`` of it;
  arrays split the same way use the same permutations, so rows stay paired.
- :func:`slice_rows` (``shuffle=False``): rows ``[start, stop)`` in order.
- :func:`gather_rows` (``shuffle=True, blockwise=False``): rows moved across
  partitions. The caller draws one global permutation ``order`` of the ``n``
  row numbers (as the array path does); row ``order[k]`` becomes the
  ``k``-th row of the output. Each input partition ``i`` gets the slice of the
  inverse permutation that covers its rows (``8 n_i`` bytes in its task),
  keeps the rows whose output position falls in ``[lo, hi)`` and adds their
  output position as a key column; the dataframe shuffle engine
  (:class:`chunkwise.dataframe.shuffle.RangeShuffle`, ``ordered=True``)
  moves each row to the output partition whose position range holds it and
  orders every output partition by the key, which is then dropped. Output
  partitions hold ``rows_per_partition`` rows (the last one fewer), the row
  chunks that an array gathered with the same index gets, so frames and
  arrays split together stay paired. The shuffle is disk-backed locally and
  task-based on ``distributed``; memory is about one input plus one output
  partition per worker. The rows keep their index labels, as pandas'
  ``iloc`` would.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chunkwise.dataframe.core import FrameBase, new_collection, partition_lengths
from chunkwise.dataframe.io.pandas import FromValues
from chunkwise.dataframe.shuffle import RangeShuffle
from chunkwise.delayed import delayed

__all__ = [
    "POSITION",
    "SplitPartitions",
    "block_permutation",
    "frame_lengths",
    "frame_of",
    "gather_rows",
    "pick_rows",
    "slice_rows",
    "split_within_partitions",
]

POSITION = "__train_test_split_position__"  # the key column of rows moved across partitions
VALUES = "__train_test_split_values__"  # a Series' values while it travels as a frame


class SplitPartitions(FromValues):
    """Partitions computed by ``train_test_split`` whose lengths the plan knows (so rows can be paired later)."""

    _parameters = (*FromValues._parameters, "lengths_")

    def _lengths(self) -> tuple:
        return self.lengths_


def frame_of(parts: list, meta: Any, lengths: list) -> Any:
    """A dataframe (or Series) of the ``Delayed`` partitions ``parts`` holding ``lengths`` rows."""
    expr = SplitPartitions(tuple(p._finalize() for p in parts), meta, (None,) * (len(parts) + 1), True,
                           "train_test_split", tuple(int(n) for n in lengths))
    return new_collection(expr)


def frame_lengths(frame: FrameBase) -> tuple:
    """The rows of each partition: from the plan, or computed when it does not know them."""
    lengths = frame.expr.lengths
    return tuple(lengths) if lengths is not None else tuple(partition_lengths(frame))


# --- within partitions, and slices ------------------------------------------------------------


def block_permutation(seed: int, block: int, length: int) -> np.ndarray:
    """The permutation of block ``block``'s rows: its own seeded stream, the same on every scheduler."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,))).permutation(length)


def pick_rows(block: Any, seed: int, block_index: int, start: int, stop: int) -> Any:
    """Rows ``[start, stop)`` of the block's permutation (a NumPy block, a frame or a Series)."""
    order = block_permutation(seed, block_index, len(block))[start:stop]
    if isinstance(block, (pd.DataFrame, pd.Series)):
        return block.iloc[order]
    return block[order]


def split_within_partitions(frame: FrameBase, seed: int, starts: tuple, stops: tuple) -> Any:
    """Per partition ``i``, rows ``[starts[i], stops[i])`` of its permutation."""
    parts = [delayed(pick_rows, pure=True)(part, seed, i, starts[i], stops[i])
             for i, part in enumerate(frame.to_delayed())]
    return frame_of(parts, frame.expr.meta, [b - a for a, b in zip(starts, stops)])


def _iloc(part: Any, lo: int, hi: int) -> Any:
    return part.iloc[lo:hi]


def slice_rows(frame: FrameBase, lengths: tuple, start: int, stop: int) -> Any:
    """Rows ``[start, stop)`` in order, reading only the partitions that hold them."""
    bounds = np.cumsum((0,) + tuple(lengths))
    parts, counts = [], []
    for i, part in enumerate(frame.to_delayed()):
        lo, hi = max(start, bounds[i]) - bounds[i], min(stop, bounds[i + 1]) - bounds[i]
        if hi > lo or not parts and i == len(lengths) - 1:
            parts.append(delayed(_iloc, pure=True)(part, int(max(lo, 0)), int(max(hi, 0))))
            counts.append(max(hi - lo, 0))
    return frame_of(parts, frame.expr.meta, counts)


# --- across partitions --------------------------------------------------------------------------


def _keyed(part: Any, positions: np.ndarray, lo: int, hi: int) -> pd.DataFrame:
    """The rows of ``part`` whose output position is in ``[lo, hi)``, with the position from ``lo`` as a key."""
    if len(part) != len(positions):
        raise ValueError(f"train_test_split: a partition holds {len(part)} rows where its length was "
                         f"{len(positions)} when the split was planned; the input changed between the plan "
                         "and the computation")
    keep = (positions >= lo) & (positions < hi)
    rows = part[keep] if isinstance(part, pd.DataFrame) else part.to_frame(VALUES)[keep]
    return rows.assign(**{POSITION: positions[keep] - lo})


def _unkeyed(part: pd.DataFrame, meta: Any) -> Any:
    """A shuffled partition without its key column, as ``meta``'s kind (a Series keeps its name)."""
    if isinstance(meta, pd.Series):
        return part[VALUES].rename(meta.name)
    return part.drop(columns=POSITION)


def _keyed_meta(meta: Any) -> pd.DataFrame:
    return _keyed(meta, np.zeros(len(meta), dtype=np.int64), 0, 1)


def output_lengths(n: int, rows_per_partition: int) -> list:
    """Partitions of ``rows_per_partition`` rows (the last one fewer) holding ``n`` rows; one empty one for none."""
    rows_per_partition = max(int(rows_per_partition), 1)
    if n == 0:
        return [0]
    full, rest = divmod(n, rows_per_partition)
    return [rows_per_partition] * full + ([rest] if rest else [])


def gather_rows(frame: FrameBase, lengths: tuple, inverse: np.ndarray, lo: int, hi: int,
                rows_per_partition: int) -> Any:
    """The rows whose output position ``inverse[row]`` is in ``[lo, hi)``, in that order, across partitions.

    ``inverse``: each global row's position in the permuted order (the
    inverse of the permutation the split drew). See the module docstring.
    """
    meta = frame.expr.meta
    bounds = np.cumsum((0,) + tuple(lengths))
    keyed_parts = [delayed(_keyed, pure=True)(part, inverse[bounds[i]:bounds[i + 1]], lo, hi)
                   for i, part in enumerate(frame.to_delayed())]
    keyed_meta = _keyed_meta(meta)
    keyed = SplitPartitions(tuple(p._finalize() for p in keyed_parts), keyed_meta,
                            (None,) * (len(keyed_parts) + 1), True, "train_test_split",
                            tuple(int(n) for n in lengths))
    counts = output_lengths(hi - lo, rows_per_partition)
    splitters = tuple(int(s) for s in np.cumsum(counts)[:-1])
    moved = new_collection(RangeShuffle(keyed, (POSITION,), splitters, (True,), "last",
                                        "train_test_split(blockwise=False)", True, True))
    parts = [delayed(_unkeyed, pure=True)(part, meta) for part in moved.to_delayed()]
    return frame_of(parts, meta, counts)
