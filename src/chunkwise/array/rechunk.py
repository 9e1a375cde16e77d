"""``rechunk``: change the block structure of an array.

Each output block is assembled from the input blocks it overlaps: each of
those is sliced to the overlap and the pieces are concatenated. A rechunk to
the same chunks is dropped when the plan is simplified.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(10), chunks=3)
>>> y = x.rechunk(5)
>>> y.chunks
((5, 5),)
>>> y.compute().tolist() == list(range(10))
True
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.chunks import chunk_boundaries, has_unknown, normalize_chunks
from chunkwise.array.expr import ArrayExpr, concatenate_blocks
from chunkwise.core.graph import Ref, Task

__all__ = ["Rechunk", "rechunk"]


class Rechunk(ArrayExpr):
    """The input array with ``new_chunks`` (normalized)."""

    _parameters = ("array", "new_chunks")

    def _chunks(self) -> tuple:
        return self.new_chunks

    def _dtype(self) -> Any:
        return self.array.dtype

    def _simplify_down(self):
        if self.array.chunks == self.new_chunks:
            return self.array
        if isinstance(self.array, Rechunk):
            return Rechunk(self.array.array, self.new_chunks)
        return None

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        source = self.array
        pieces_per_axis = []
        for axis, i in enumerate(index):
            new_bounds = chunk_boundaries(self.new_chunks[axis])
            old_bounds = chunk_boundaries(source.chunks[axis])
            pieces_per_axis.append(_overlaps(old_bounds, new_bounds[i], new_bounds[i + 1]))
        if all(len(p) == 1 for p in pieces_per_axis):
            block = tuple(p[0][0] for p in pieces_per_axis)
            slices = tuple(p[0][1] for p in pieces_per_axis)
            return Task(key, _getitem, Ref((source.name, *block)), slices)
        nested = _nest(pieces_per_axis, source.name)
        return Task(key, concatenate_blocks, nested, self.ndim)


def _overlaps(old_bounds: tuple, start: int, stop: int) -> list:
    """``(old block, slice within it)`` for each old block overlapping ``[start, stop)``."""
    if start == stop:  # an empty block: an empty slice of any block will do
        j = min(max(bisect.bisect_right(old_bounds, start) - 1, 0), len(old_bounds) - 2)
        lo = old_bounds[j]
        return [(j, slice(start - lo, start - lo))]
    pieces = []
    j = max(bisect.bisect_right(old_bounds, start) - 1, 0)
    while j < len(old_bounds) - 1 and old_bounds[j] < stop:
        lo, hi = old_bounds[j], old_bounds[j + 1]
        if hi > start:
            pieces.append((j, slice(max(lo, start) - lo, min(hi, stop) - lo)))
        j += 1
    return pieces


def _nest(pieces_per_axis: list, name: str, prefix: tuple = ()) -> Any:
    axis = len(prefix)
    if axis == len(pieces_per_axis):
        block = tuple(p[0] for p in prefix)
        slices = tuple(p[1] for p in prefix)
        return Task(None, _getitem, Ref((name, *block)), slices)
    return [_nest(pieces_per_axis, name, (*prefix, piece)) for piece in pieces_per_axis[axis]]


def _getitem(block: np.ndarray, slices: tuple) -> np.ndarray:
    return block[slices]


def rechunk(x: Any, chunks: Any = "auto", threshold: Any = None, block_size_limit: Any = None) -> Any:
    """The array ``x`` with new chunks (any spec ``normalize_chunks`` reads); as ``dask.array.rechunk``."""
    from chunkwise.array.core import Array

    expr = x.expr
    if has_unknown(expr.chunks):
        raise ValueError(
            "rechunk: the array has unknown chunk sizes (nan), e.g. after boolean indexing; "
            "call x.compute_chunk_sizes() first"
        )
    new = normalize_chunks(
        chunks, expr.shape, dtype=expr.dtype, limit=block_size_limit, previous_chunks=expr.chunks
    )
    if new == expr.chunks:
        return x
    return Array(Rechunk(expr, new))
