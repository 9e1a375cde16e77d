"""Integer-array indexing, ``take``, ``vindex``, boolean masks and ``compute_chunk_sizes``.

:func:`chunkwise.array.slicing.getitem` normalizes the index and applies its
basic part; what is left becomes one of these plan nodes:

- :class:`Gather` -- integer arrays (and NumPy boolean masks, through their
  ``nonzero()``): each output block collects its points from the input blocks
  that hold them, one small task per input block it needs (sort, take, then
  un-permute), so nothing holds a whole axis.
- :class:`TakeByArray` -- a chunkwise integer index (``x[idx]``,
  ``take(x, idx, axis)``): its values are only known at compute time, so the
  output blocks follow the index's blocks and each gathers, through one small
  task per input block along the axis, the elements it needs (bounds are
  checked then, raising ``IndexError``).
- :class:`BooleanMask` -- a chunkwise boolean mask: one output block per input
  block, of unknown (``nan``) length until ``compute_chunk_sizes()``
  (:func:`with_computed_chunks`).

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(10), chunks=4)
>>> x[[5, 1, 1]].compute()
array([5, 1, 1])
>>> y = x[x % 2 == 0]
>>> y.chunks
((nan, nan, nan),)
>>> y.compute_chunk_sizes().chunks
((2, 2, 1),)
>>> x[da.from_array(np.array([9, -1, 0]), chunks=2)].compute()
array([9, 9, 0])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array.chunks import (
    blockdims_from_blockshape,
    check_known_chunks,
    chunk_boundaries,
    has_unknown,
    same_chunks,
)
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.index_spec import (
    FULL,
    check_known_length,
    check_mask_shape,
    expand_index,
    index_int,
    normalize_slice,
)
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.utils import identity
from chunkwise.base import graph_of_exprs
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task
from chunkwise.scheduling import get

__all__ = ["VIndex", "take", "with_computed_chunks"]


# --- integer arrays: gather ----------------------------------------------------------------


class Gather(ArrayExpr):
    """Pointwise selection along ``axes`` with the integer arrays ``indices`` (flat, non-negative).

    The points form an array of shape ``shape_``, whose axes are placed at
    ``position`` among the axes that are not indexed. Output blocks split the
    first point axis; each gathers its points from the input blocks holding
    them: one task per such input block extracts them, then one task
    concatenates and restores the requested order.
    """

    _parameters = ("array", "axes", "indices", "shape_", "position")

    @property
    def _funcname(self) -> str:
        return "gather"

    def _dtype(self) -> Any:
        return self.array.dtype

    @functools.cached_property
    def _rest(self) -> list:
        return [d for d in range(self.array.ndim) if d not in self.axes]

    @functools.cached_property
    def _inner(self) -> int:
        return math.prod(self.shape_[1:])

    @functools.cached_property
    def _row_chunks(self) -> tuple:
        shape = self.shape_
        if not shape:
            return ()
        target = math.prod(max(max(self.array.chunks[a]), 1) for a in self.axes)
        rows = max(1, target // max(self._inner, 1))
        return blockdims_from_blockshape((shape[0],), (rows,))[0]

    def _chunks(self) -> tuple:
        chunks = self.array.chunks
        rest = [chunks[d] for d in self._rest]
        points = [self._row_chunks] + [(s,) for s in self.shape_[1:]] if self.shape_ else []
        pos = self.position
        return tuple(rest[:pos] + points + rest[pos:])

    @functools.cached_property
    def _bounds(self) -> list:
        return [np.asarray(chunk_boundaries(self.array.chunks[a]), dtype=np.int64) for a in self.axes]

    @functools.cached_property
    def _block_ids(self) -> np.ndarray:
        """The linear id (over the indexed axes' block grid) of the block holding each point."""
        ids = [np.searchsorted(b, idx, "right") - 1 for b, idx in zip(self._bounds, self.indices)]
        grid = tuple(self.array.numblocks[a] for a in self.axes)
        return np.ravel_multi_index(tuple(ids), grid)

    @functools.cached_property
    def _stage_name(self) -> str:
        return self.name + "-part"

    def _owned_names(self) -> tuple:
        return (self.name, self._stage_name)

    def _point_range(self, row_block: int) -> tuple:
        if not self.shape_:
            return 0, 1
        bounds = chunk_boundaries(self._row_chunks)
        return bounds[row_block] * self._inner, bounds[row_block + 1] * self._inner

    @functools.cached_property
    def _group_cache(self) -> dict:
        return {}

    def _groups(self, row_block: int) -> tuple:
        """(input block per group, local coordinates per group, inverse permutation or None)."""
        cached = self._group_cache.get(row_block)
        if cached is not None:
            return cached
        lo, hi = self._point_range(row_block)
        grid = tuple(self.array.numblocks[a] for a in self.axes)
        if hi == lo:
            result = ([(0,) * len(self.axes)], [tuple(np.empty(0, np.intp) for _ in self.axes)], None)
        else:
            ids = self._block_ids[lo:hi]
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            uniq, starts = np.unique(sorted_ids, return_index=True)
            ends = list(starts[1:]) + [len(ids)]
            blocks, coords = [], []
            points = [idx[lo:hi] for idx in self.indices]
            for u, s, e in zip(uniq.tolist(), starts.tolist(), ends):
                block = np.unravel_index(u, grid)
                sel = order[s:e]
                blocks.append(tuple(int(b) for b in block))
                coords.append(
                    tuple(p[sel] - bd[b] for p, bd, b in zip(points, self._bounds, block))
                )
            inverse = None if np.all(order[1:] > order[:-1]) else np.argsort(order)
            result = (blocks, coords, inverse)
        self._group_cache[row_block] = result
        return result

    def _split_key(self, out: tuple) -> tuple:
        pos, k = self.position, len(self.shape_)
        row_block = out[pos] if k else 0
        rest_blocks = out[:pos] + out[pos + k:]
        return row_block, rest_blocks

    def _input_block(self, block: tuple, rest_blocks: tuple) -> tuple:
        full = [0] * self.array.ndim
        for a, b in zip(self.axes, block):
            full[a] = b
        for d, b in zip(self._rest, rest_blocks):
            full[d] = b
        return tuple(full)

    def _task(self, key: Hashable) -> Task:
        if key[0] == self._stage_name:
            out, group = key[1:-1], key[-1]
            row_block, rest_blocks = self._split_key(out)
            blocks, coords, _ = self._groups(row_block)
            ref = Ref((self.array.name, *self._input_block(blocks[group], rest_blocks)))
            return Task(key, _gather_extract, ref, coords[group], self.axes)
        out = key[1:]
        row_block, rest_blocks = self._split_key(out)
        blocks, coords, inverse = self._groups(row_block)
        lo, hi = self._point_range(row_block)
        local_shape = ((hi - lo) // max(self._inner, 1),) + tuple(self.shape_[1:]) if self.shape_ else ()
        if len(blocks) == 1:
            ref = Ref((self.array.name, *self._input_block(blocks[0], rest_blocks)))
            piece = Task(None, _gather_extract, ref, coords[0], self.axes)
            return Task(key, _gather_combine, [piece], inverse, local_shape, self.position)
        pieces = [Ref((self._stage_name, *out, g)) for g in range(len(blocks))]
        return Task(key, _gather_combine, pieces, inverse, local_shape, self.position)


def _gather_extract(block: np.ndarray, coords: tuple, axes: tuple) -> np.ndarray:
    """The points at ``coords`` (on ``axes``) of ``block``, as axis 0, then the other axes."""
    block = np.asanyarray(block)  # a masked block keeps its mask
    moved = np.moveaxis(block, axes, tuple(range(len(axes))))
    return moved[coords]


def _concatenate(pieces: list, axis: int) -> np.ndarray:
    if any(isinstance(p, np.ma.MaskedArray) for p in pieces):
        return np.ma.concatenate(pieces, axis=axis)  # np.concatenate would drop the masks
    return np.concatenate(pieces, axis=axis)


def _gather_combine(pieces: list, inverse: Any, local_shape: tuple, position: int) -> np.ndarray:
    out = pieces[0] if len(pieces) == 1 else _concatenate(pieces, axis=0)
    if inverse is not None:
        out = out.take(inverse, axis=0)
    out = out.reshape(local_shape + out.shape[1:])
    k = len(local_shape)
    if k and position:
        out = np.moveaxis(out, tuple(range(k)), tuple(range(position, position + k)))
    return out


def gather(x: Array, axes: tuple, arrays: list, position: int, op: str) -> Array:
    """``x`` indexed pointwise by integer ``arrays`` on ``axes`` (broadcast together)."""
    arrays = np.broadcast_arrays(*arrays)
    shape = arrays[0].shape
    x_shape = x.shape
    flat = []
    for a, arr in zip(axes, arrays):
        length = x_shape[a]
        check_known_length(length, a, op, "integer-array indexing")
        arr = arr.reshape(-1).astype(np.int64, copy=False)
        bad = (arr >= length) | (arr < -length)
        if bad.any():
            i = int(arr[bad][0])
            raise IndexError(f"index {i} is out of bounds for axis {a} with size {length}")
        flat.append(np.where(arr < 0, arr + length, arr))
    return Array(Gather(x.expr, tuple(axes), tuple(flat), tuple(int(s) for s in shape), position))


# --- integer indices given as chunkwise arrays ----------------------------------------------------


class TakeByArray(ArrayExpr):
    """``array`` indexed along ``axis`` by the chunkwise integer array ``index`` (any ndim).

    The output has ``array``'s chunks with ``axis`` replaced by ``index``'s
    chunks. The index values are only known at compute time, so an output
    block may need every input block along ``axis``. Three stages keep each
    task small:

    - ``-index`` (one per index block): the indices checked against the axis
      length (``IndexError`` at compute time) and negatives wrapped;
    - ``-part`` (one per output block and input block along ``axis``): the
      elements that input block holds, with their positions in the output;
    - the output block: an empty block filled with its parts.

    Cost: ``(output blocks) x (input blocks along axis)`` part tasks: every
    input block is read once per index block. Memory per task stays near one
    input block plus one output block.
    """

    _parameters = ("array", "index", "axis", "op")
    _defaults = {"op": "take"}

    @property
    def _funcname(self) -> str:
        return self.op

    def _dtype(self) -> Any:
        return self.array.dtype

    def _chunks(self) -> tuple:
        chunks = self.array.chunks
        axis = self.axis
        return chunks[:axis] + self.index.chunks + chunks[axis + 1:]

    @functools.cached_property
    def _index_name(self) -> str:
        return self.name + "-index"

    @functools.cached_property
    def _part_name(self) -> str:
        return self.name + "-part"

    def _owned_names(self) -> tuple:
        return (self.name, self._index_name, self._part_name)

    @functools.cached_property
    def _bounds(self) -> tuple:
        return chunk_boundaries(self.array.chunks[self.axis])

    def chunk_nbytes(self, key: Hashable) -> int | None:
        if type(key) is tuple and key[0] == self.name:
            return super().chunk_nbytes(key)
        return None

    def _task(self, key: Hashable) -> Task:
        axis, k = self.axis, self.index.ndim
        if key[0] == self._index_name:
            length = int(self._bounds[-1])
            return Task(key, _check_index, Ref((self.index.name, *key[1:])), length, axis, self.op)
        if key[0] == self._part_name:
            out, b = key[1:-1], key[-1]
            block = out[:axis] + (b,) + out[axis + k:]
            lo, hi = int(self._bounds[b]), int(self._bounds[b + 1])
            return Task(
                key, _take_part, Ref((self.array.name, *block)),
                Ref((self._index_name, *out[axis:axis + k])), lo, hi, axis,
            )
        out = key[1:]
        nb = self.array.numblocks[axis]
        parts = [Ref((self._part_name, *out, b)) for b in range(nb)]
        index = Ref((self._index_name, *out[axis:axis + k]))
        return Task(key, _take_combine, parts, index, axis, self.array.dtype)


def _check_index(index: Any, length: int, axis: int, op: str) -> np.ndarray:
    index = np.asarray(index).astype(np.int64, copy=False)
    bad = (index >= length) | (index < -length)
    if bad.any():
        raise IndexError(
            f"{op}: index {int(index[bad][0])} is out of bounds for axis {axis} with size {length}"
        )
    return np.where(index < 0, index + length, index)


def _take_part(block: np.ndarray, index: np.ndarray, lo: int, hi: int, axis: int) -> tuple:
    flat = index.reshape(-1)
    (positions,) = np.nonzero((flat >= lo) & (flat < hi))
    return positions, np.take(np.asanyarray(block), flat[positions] - lo, axis=axis)


def _take_combine(parts: list, index: np.ndarray, axis: int, dtype: np.dtype) -> np.ndarray:
    shape = list(parts[0][1].shape)
    shape[axis] = index.size
    out = np.empty(tuple(shape), dtype=dtype)
    if any(isinstance(values, np.ma.MaskedArray) for _, values in parts):
        out = np.ma.masked_array(out, mask=np.zeros(out.shape, dtype=bool))  # keep the masks
    where = [slice(None)] * len(shape)
    for positions, values in parts:
        if len(positions):
            where[axis] = positions
            out[tuple(where)] = values
    return out.reshape(tuple(shape[:axis]) + index.shape + tuple(shape[axis + 1:]))


def _take_chunkwise(a: Array, indices: Array, axis: int, mode: str) -> Array:
    """``take`` with a chunkwise index of any dimension (n-d indices are flattened, then reshaped)."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got dtype {indices.dtype}")
    length = a.shape[axis]
    check_known_length(length, axis, "take", "take with a chunkwise index")
    if mode == "wrap":
        indices = indices % length if length else indices
    elif mode == "clip":
        indices = np.clip(indices, 0, max(length - 1, 0))
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    return take_by_array(a, indices, axis, "take")


def take_by_array(x: Array, index: Array, axis: int, op: str) -> Array:
    """``x`` indexed along ``axis`` by the chunkwise integer array ``index`` (lazily)."""
    if index.dtype.kind not in "iu":
        raise IndexError(f"{op}: a chunkwise index must hold integers or booleans, got dtype {index.dtype}")
    check_known_chunks(
        op, x, axes=(axis,), what=f"axis {axis}", detail="; indexing with a chunkwise integer array needs them"
    )
    if not x.chunks[axis]:
        raise NotImplementedError(f"{op}: axis {axis} has no blocks; rechunk it to (0,) first")
    return Array(TakeByArray(x.expr, index.expr, axis, op))


# --- boolean masks given as chunkwise arrays -------------------------------------------------


class BooleanMask(ArrayExpr):
    """``array`` masked by the chunkwise boolean ``mask`` covering the axes from ``axis`` on.

    The mask's chunks equal the array's on those axes, and only the first of
    them has more than one block: output block ``j`` is input block ``j``
    masked, of unknown length.
    """

    _parameters = ("array", "mask", "axis", "position")
    _defaults = {"position": None}

    @property
    def _funcname(self) -> str:
        return "getitem-mask"

    @property
    def _position(self) -> int:
        return self.axis if self.position is None else self.position

    def _dtype(self) -> Any:
        return self.array.dtype

    def unknown_lengths_origin(self, axis: int) -> str:
        """Block ``j``'s length is the count of block ``j`` of the mask: the same for every array it masks."""
        if axis == self._position:
            return f"{self.mask.name}:mask"
        return super().unknown_lengths_origin(axis)

    def _chunks(self) -> tuple:
        chunks = self.array.chunks
        p, k = self.axis, self.mask.ndim
        rest = chunks[:p] + chunks[p + k:]
        q = self._position
        return rest[:q] + ((math.nan,) * len(chunks[p]),) + rest[q:]

    def _task(self, key: Hashable) -> Task:
        out = key[1:]
        p, k, q = self.axis, self.mask.ndim, self._position
        j = out[q]
        rest = out[:q] + out[q + 1:]
        block = rest[:p] + (j,) + (0,) * (k - 1) + rest[p:]
        mask_block = (j,) + (0,) * (k - 1)
        return Task(
            key, _apply_mask, Ref((self.array.name, *block)), Ref((self.mask.name, *mask_block)), p, q
        )


def _apply_mask(block: np.ndarray, mask: np.ndarray, axis: int, position: int) -> np.ndarray:
    out = np.asanyarray(block)[(FULL,) * axis + (np.asarray(mask, dtype=bool),)]
    return out if position == axis else np.moveaxis(out, axis, position)


def boolean_mask(x: Array, mask: Array, axis: int, op: str, position: int | None = None) -> Array:
    k = mask.ndim
    shape = x.shape
    check_mask_shape(mask.shape, shape, axis)
    xe, me = x.expr, mask.expr
    axes = range(axis, axis + k)
    if k > 1 and any(xe.numblocks[a] > 1 or me.numblocks[a - axis] > 1 for a in axes[1:]):
        # A flattening mask keeps NumPy's C order only when every mask axis but the
        # first is whole in each block: rechunk to rows of about the same size.
        for a in axes:
            check_known_length(shape[a], a, op, "a boolean mask over several axes")
        elements = math.prod(max(max(xe.chunks[a]), 1) for a in axes)
        row = math.prod(shape[a] for a in axes[1:])
        rows = blockdims_from_blockshape((shape[axis],), (max(1, elements // max(row, 1)),))[0]
        new = list(xe.chunks)
        new[axis] = rows
        for a in axes[1:]:
            new[a] = (shape[a],) if shape[a] else (0,)
        xe = Rechunk(xe, tuple(new))
    want = tuple(xe.chunks[a] for a in axes)
    if not same_chunks(me.chunks, want):
        check_known_chunks(
            op, want, me.chunks, what="the array or its boolean mask",
            detail=f", so the mask's chunks {me.chunks} may not line up with the array's {want}",
        )
        me = Rechunk(me, want)
    return Array(BooleanMask(xe, me, axis, position))



# --- take and vindex ---------------------------------------------------------------------------


@implements(np.take)
def take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> Array:
    """Elements of ``a`` at ``indices`` along ``axis``, as ``numpy.take`` (lazily).

    ``indices`` may be unsorted and repeated; ``axis=None`` takes from the
    flattened array. ``out=`` is not supported (arrays are immutable).
    ``indices`` may be a chunkwise integer array (any ndim, unknown chunk
    sizes allowed): the result's chunks on ``axis`` follow its chunks, and
    out-of-bounds values raise ``IndexError`` at compute time (see
    :class:`TakeByArray` for the cost).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> take(x, [3, 0, 3], axis=1).compute()
    array([[ 3,  0,  3],
           [ 7,  4,  7],
           [11,  8, 11]])
    """
    if out is not None:
        raise TypeError("take: out= is not supported on chunkwise arrays; use the returned array")
    a = asarray(a)
    if axis is None:
        if a.ndim != 1:
            a = a.ravel()
        axis = 0
    if not -a.ndim <= axis < a.ndim:
        raise np.exceptions.AxisError(f"take: axis {axis} is out of bounds for an array of dimension {a.ndim}")
    axis %= a.ndim
    if isinstance(indices, Array):
        return _take_chunkwise(a, indices, axis, mode)
    idx = np.asarray(indices)
    if idx.size == 0 and idx.dtype.kind not in "iu":
        idx = idx.astype(np.intp)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take: indices must be integers, got dtype {idx.dtype}")
    length = a.shape[axis]
    if mode == "wrap":
        idx = idx % length
    elif mode == "clip":
        idx = np.clip(idx, 0, length - 1)
    elif mode != "raise":
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if idx.ndim == 0:
        return a[(FULL,) * axis + (int(idx),)]
    return a[(FULL,) * axis + (idx,)]


def _vindex(x: Array, index: Any) -> Array:
    op = "vindex"
    if not isinstance(index, tuple):
        index = (index,)
    if any(item is None for item in index):
        raise IndexError("vindex does not support indexing with None (np.newaxis)")
    items = expand_index(index, x.ndim, op)
    if x.ndim == 1 and isinstance(items[0], Array):
        return x[items[0]]  # one axis: pointwise is plain integer indexing (xarray's idxmin/idxmax)
    shape = x.shape
    basic = []
    arrays = []
    axes = []
    out_axis = 0
    for axis, item in enumerate(items):
        if isinstance(item, Array):
            raise NotImplementedError("vindex: indices given as chunkwise arrays; compute them first")
        if isinstance(item, np.ndarray):
            if item.dtype == bool:
                raise IndexError("vindex does not support indexing with boolean arrays")
            basic.append(FULL)
            arrays.append(item)
            axes.append(out_axis)
            out_axis += 1
        elif isinstance(item, slice):
            basic.append(normalize_slice(item, shape[axis], axis, op))
            out_axis += 1
        elif type(item) is tuple:
            raise IndexError("vindex does not support indexing with boolean scalars")
        else:
            basic.append(index_int(item, shape[axis], axis, op))
    result = x[tuple(basic)]
    if not arrays:
        return result
    return gather(result, tuple(axes), arrays, 0, op)


class VIndex:
    """Pointwise indexing, as ``dask.array``'s ``x.vindex[...]``.

    Integer arrays on several axes are broadcast together and pick single
    elements (the broadcast axes come first in the result); ints and slices
    apply as in basic indexing.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> x.vindex[[0, 2], [1, 3]].compute()
    array([ 1, 11])
    """

    __slots__ = ("_array",)

    def __init__(self, array: Array):
        self._array = array

    def __getitem__(self, index: Any) -> Array:
        return _vindex(self._array, index)

    def __repr__(self) -> str:
        return f"VIndex({self._array!r})"


# --- computing unknown chunk sizes ---------------------------------------------------------------


class KnownChunks(ArrayExpr):
    """``array`` with its (computed) chunk sizes filled in; its blocks are the original blocks."""

    _parameters = ("array", "chunks_")

    @property
    def _funcname(self) -> str:
        return "known-chunks"

    def _dtype(self) -> Any:
        return self.array.dtype

    def _chunks(self) -> tuple:
        return self.chunks_

    def _task(self, key: Hashable) -> Task:
        return Task(key, identity, Ref((self.array.name, *key[1:])))


class _BlockShapes(Expr):
    """The shape of every block of ``array`` (one small task per block), as a list in C order."""

    _parameters = ("array",)

    @functools.cached_property
    def _stage_name(self) -> str:
        return self.name + "-shape"

    def _owned_names(self) -> tuple:
        return (self.name, self._stage_name)

    def _task(self, key: Hashable) -> Task:
        if type(key) is tuple:
            return Task(key, np.shape, Ref((self.array.name, *key[1:])))
        refs = [Ref((self._stage_name, *idx)) for idx in product(*(range(n) for n in self.array.numblocks))]
        return Task(key, list, refs)


def with_computed_chunks(x: Array) -> Array:
    """``x`` with unknown (``nan``) chunk sizes computed; used by ``Array.compute_chunk_sizes()``.

    The blocks are computed once to learn their shapes (only the shapes are
    kept); the returned array's blocks are ``x``'s own blocks.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6), chunks=4)
    >>> with_computed_chunks(x[x > 2]).chunks
    ((1, 2),)
    """
    expr = x.expr
    if not has_unknown(expr.chunks):
        return x
    graph, keys = graph_of_exprs([_BlockShapes(expr)], True)
    (shapes,) = get(graph, keys)
    numblocks = expr.numblocks
    grid = np.asarray(shapes, dtype=np.int64).reshape(numblocks + (expr.ndim,))
    chunks = []
    for axis in range(expr.ndim):
        where = tuple(slice(None) if d == axis else 0 for d in range(expr.ndim)) + (axis,)
        chunks.append(tuple(int(c) for c in grid[where]))
    return Array(KnownChunks(expr, tuple(chunks)))
