"""Indexing: slicing, integer and boolean indexing, ``take``, ``vindex``, ``blocks``, item assignment.

Every index is normalized once, at build time, against the array's shape
(out-of-bounds integers raise ``IndexError`` as in NumPy), then becomes one of
a few plan nodes:

- :class:`Slice` -- basic indexing (ints, slices with any step, ``None``).
  Block boundaries stay where they are: output block ``i`` is a slice of one
  input block, so ``x[:10, :10]`` lowers only the blocks it overlaps. When the
  plan is simplified a slice is pushed below elementwise work
  (``(x + 1)[:10]`` becomes ``x[:10] + 1``), two slices merge into one, and a
  slice of ``from_array`` becomes a ``from_array`` of just that region.
- :class:`Gather` -- integer arrays (and NumPy boolean masks, through their
  ``nonzero()``): each output block collects its points from the input blocks
  that hold them, one small task per input block it needs (sort, take, then
  un-permute), so nothing holds a whole axis.
- :class:`BooleanMask` -- a chunkwise boolean mask: one output block per input
  block, of unknown (``nan``) length until ``compute_chunk_sizes()``.
- :class:`SetItem` -- ``x[index] = value`` as a new plan: only the blocks the
  region touches are copied and assigned.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(10), chunks=4)
>>> x[::-3].compute()
array([9, 6, 3, 0])
>>> x[[5, 1, 1]].compute()
array([5, 1, 1])
>>> y = x[x % 2 == 0]
>>> y.chunks
((nan, nan, nan),)
>>> y.compute_chunk_sizes().chunks
((2, 2, 1),)
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
from collections.abc import Hashable
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array.chunks import blockdims_from_blockshape, chunk_boundaries, has_unknown
from chunkwise.array.core import Array, _as_operand, elemwise, implements
from chunkwise.array.expr import ArrayExpr, Blockwise, FromArray
from chunkwise.array.rechunk import Rechunk
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task
from chunkwise.core.tokenize import tokenize

__all__ = ["BlockView", "VIndex", "getitem", "setitem", "take", "with_computed_chunks"]

_FULL = slice(None)


def _identity(x: Any) -> Any:
    return x


def _getitem(block: Any, index: tuple) -> Any:
    return block[index]


def _isnan(n: Any) -> bool:
    return isinstance(n, float) and math.isnan(n)


def _unknown_error(op: str, axis: int, what: str) -> ValueError:
    return ValueError(
        f"{op}: axis {axis} has unknown chunk sizes (nan), e.g. after boolean indexing; "
        f"{what} needs them: call x.compute_chunk_sizes() first"
    )


# --- normalizing an index ----------------------------------------------------------------


def _index_int(value: Any, length: Any, axis: int, op: str) -> int:
    """``value`` as a non-negative int inside ``[0, length)``; IndexError like NumPy's."""
    if _isnan(length):
        raise _unknown_error(op, axis, f"indexing it with the integer {value}")
    i = operator.index(value)
    if not -length <= i < length:
        raise IndexError(f"index {i} is out of bounds for axis {axis} with size {length}")
    return i + length if i < 0 else i


def _normalize_slice(s: slice, length: Any, axis: int, op: str) -> slice:
    """A slice with concrete ``start``/``step`` (``slice(None)`` for the whole axis)."""
    for part in (s.start, s.stop, s.step):
        if part is not None and not isinstance(part, (numbers.Integral, np.integer)):
            try:
                operator.index(part)
            except TypeError:
                raise TypeError(
                    f"{op}: slice indices must be integers or None, got {part!r} (axis {axis})"
                ) from None
    if s.step is not None and operator.index(s.step) == 0:
        raise ValueError("slice step cannot be zero")
    if _isnan(length):
        if s.start in (None, 0) and s.stop is None and s.step in (None, 1):
            return _FULL
        raise _unknown_error(op, axis, f"slicing it with {s}")
    start, stop, step = slice(
        None if s.start is None else operator.index(s.start),
        None if s.stop is None else operator.index(s.stop),
        None if s.step is None else operator.index(s.step),
    ).indices(length)
    n = len(range(start, stop, step))
    if n == length and step == 1:
        return _FULL
    if n == 0:
        return slice(0, 0, 1)
    stop = start + n * step
    return slice(start, None if stop < 0 else stop, step)


def _slice_length(s: slice, length: Any) -> Any:
    if s == _FULL:
        return length
    return len(range(*s.indices(length)))


def _as_int_array(value: Any) -> np.ndarray | None:
    """``value`` as an integer or boolean NumPy array, or ``None`` when it is not array-like."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.size == 0 and arr.dtype.kind not in "biu":
            arr = arr.astype(np.intp)
        if arr.dtype.kind not in "biu":
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                f"integer or boolean arrays are valid indices; got an array of dtype {arr.dtype}"
            )
        return arr
    return None


def _expand(index: Any, ndim: int, op: str) -> list:
    """The index as a list of items, ``Ellipsis`` expanded and trailing ``:`` added.

    Items are ints, slices, ``None``, ``("bool", value)`` (a Python/NumPy bool), NumPy
    integer or boolean arrays, and chunkwise arrays.
    """
    if not isinstance(index, tuple):
        index = (index,)
    items: list = []
    consumed = 0
    ellipsis_at = None
    for item in index:
        if item is Ellipsis:
            if ellipsis_at is not None:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ellipsis_at = len(items)
            continue
        if item is None or isinstance(item, slice):
            items.append(item)
            consumed += item is not None
        elif isinstance(item, (bool, np.bool_)):
            items.append(("bool", bool(item)))
        elif isinstance(item, Array):
            if item.dtype == bool and item.ndim == 0:
                raise NotImplementedError(f"{op}: a 0-d chunkwise boolean index is not supported")
            if item.dtype == bool:
                items.append(item)
                consumed += item.ndim
            else:
                raise NotImplementedError(
                    f"{op}: indexing with a chunkwise integer array is not supported; compute the "
                    "index first (np.asarray(index)) or use a boolean mask"
                )
        else:
            arr = _as_int_array(item)
            if arr is not None:
                if arr.dtype == bool and arr.ndim == 0:
                    items.append(("bool", bool(arr)))
                    continue
                items.append(arr)
                consumed += arr.ndim if arr.dtype == bool else 1
                continue
            try:
                items.append(operator.index(item))
            except TypeError:
                raise IndexError(
                    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                    f"integer or boolean arrays are valid indices; got {type(item).__name__}"
                ) from None
            consumed += 1
    if consumed > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed"
        )
    fill = [_FULL] * (ndim - consumed)
    if ellipsis_at is None:
        return items + fill
    return items[:ellipsis_at] + fill + items[ellipsis_at:]


def _item_axes(item: Any) -> int:
    """How many input axes an expanded index item consumes."""
    if item is None or type(item) is tuple:
        return 0
    if isinstance(item, (np.ndarray, Array)):
        return item.ndim if item.dtype == bool else 1
    return 1


def _check_mask_shape(mask_shape: tuple, shape: tuple, axis: int) -> None:
    for j, m in enumerate(mask_shape):
        n = shape[axis + j]
        if not (_isnan(n) or _isnan(m)) and n != m:
            raise IndexError(
                f"boolean index did not match indexed array along axis {axis + j}; size of axis "
                f"is {n} but size of corresponding boolean axis is {m}"
            )


# --- basic slicing ---------------------------------------------------------------------------


def _slice_plan(axis_chunks: tuple, entry: slice) -> tuple:
    """For a normalized slice of one axis: (input blocks, local slices, output chunks)."""
    if entry == _FULL:
        return None, None, axis_chunks
    bounds = np.asarray(chunk_boundaries(axis_chunks), dtype=np.int64)
    length = int(bounds[-1])
    start, stop, step = entry.indices(length)
    n = len(range(start, stop, step))
    if n == 0:
        return [0], [slice(0, 0, 1)], (0,)
    last = start + (n - 1) * step
    first_block = int(np.searchsorted(bounds, start, "right") - 1)
    last_block = int(np.searchsorted(bounds, last, "right") - 1)
    if step > 0:
        blocks = np.arange(first_block, last_block + 1)
        lo, hi = bounds[blocks], bounds[blocks + 1]
        first = start + -(-np.maximum(lo - start, 0) // step) * step
        end = np.minimum(hi, last + 1)
        counts = np.where(first < end, (end - first + step - 1) // step, 0)
    else:
        size = -step
        blocks = np.arange(first_block, last_block - 1, -1)
        lo, hi = bounds[blocks], bounds[blocks + 1]
        first = start - (-(-np.maximum(start - (hi - 1), 0) // size)) * size
        bottom = np.maximum(lo, last)
        counts = np.where(first >= bottom, (first - bottom) // size + 1, 0)
    keep = counts > 0
    blocks, lo, first, counts = blocks[keep], lo[keep], first[keep], counts[keep]
    return blocks, _LocalSlices(first - lo, counts, step), tuple(counts.tolist())


class _LocalSlices:
    """The slice within each touched block, built on demand (no per-block objects up front)."""

    __slots__ = ("counts", "starts", "step")

    def __init__(self, starts: np.ndarray, counts: np.ndarray, step: int):
        self.starts, self.counts, self.step = starts, counts, step

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> slice:
        start = int(self.starts[i])
        stop = start + int(self.counts[i]) * self.step
        return slice(start, None if stop < 0 else stop, self.step)


class Slice(ArrayExpr):
    """Basic indexing: ``index`` holds one int or normalized slice per input axis, plus ``None``s."""

    _parameters = ("array", "index")

    @property
    def _funcname(self) -> str:
        return "getitem"

    def _dtype(self) -> Any:
        return self.array.dtype

    @functools.cached_property
    def _plans(self) -> list:
        """Per index entry: ``("new",)``, ``("int", block, local)`` or ``("slice", blocks, locals, chunks)``."""
        plans = []
        axis = 0
        chunks = self.array.chunks
        for entry in self.index:
            if entry is None:
                plans.append(("new",))
                continue
            if isinstance(entry, slice):
                plans.append(("slice", *_slice_plan(chunks[axis], entry)))
            else:
                bounds = chunk_boundaries(chunks[axis])
                block = int(np.searchsorted(bounds, entry, "right") - 1)
                plans.append(("int", block, entry - bounds[block]))
            axis += 1
        return plans

    def _chunks(self) -> tuple:
        out = []
        for plan in self._plans:
            if plan[0] == "new":
                out.append((1,))
            elif plan[0] == "slice":
                out.append(plan[3])
        return tuple(out)

    def _task(self, key: Hashable) -> Task:
        out = iter(key[1:])
        block = []
        local = []
        for plan in self._plans:
            if plan[0] == "new":
                next(out)
                local.append(None)
            elif plan[0] == "int":
                block.append(plan[1])
                local.append(plan[2])
            else:
                i = next(out)
                if plan[1] is None:
                    block.append(i)
                    local.append(_FULL)
                else:
                    block.append(int(plan[1][i]))
                    local.append(plan[2][i])
        ref = Ref((self.array.name, *block))
        if all(s == _FULL for s in local):
            return Task(key, _identity, ref)
        return Task(key, _getitem, ref, tuple(local))

    def _simplify_down(self) -> Expr | None:
        index = self.index
        array = self.array
        if all(entry == _FULL for entry in index):
            return array
        if isinstance(array, Slice):
            merged = _compose(array.index, index, array.array.shape)
            if merged is not None:
                return Slice(array.array, merged)
            return None
        if type(array) is FromArray and None not in index:
            return _sliced_from_array(array, index, self.chunks)
        if type(array) is Blockwise and _is_elementwise(array):
            return _push_through_blockwise(array, index)
        return None


def _compose(inner: tuple, outer: tuple, shape: tuple) -> tuple | None:
    """The one index equal to applying ``inner`` then ``outer`` (``None`` if there is none)."""
    result: list = []
    pending = list(outer)
    pos = 0

    def next_consuming() -> Any:
        nonlocal pos
        while pending[pos] is None:
            result.append(None)
            pos += 1
        entry = pending[pos]
        pos += 1
        return entry

    axis = 0
    for entry in inner:
        if entry is None:
            o = next_consuming()
            if isinstance(o, slice):
                if o != _FULL and _slice_length(o, 1) == 0:
                    return None
                result.append(None)
            continue  # an int (0) drops the new axis
        if not isinstance(entry, slice):
            result.append(entry)
            axis += 1
            continue
        o = next_consuming()
        length = shape[axis]
        axis += 1
        if entry == _FULL:
            result.append(o)
            continue
        start, _, step = entry.indices(length)
        if not isinstance(o, slice):
            result.append(start + o * step)
            continue
        if o == _FULL:
            result.append(entry)
            continue
        inner_length = _slice_length(entry, length)
        o_start, _, o_step = o.indices(inner_length)
        n = _slice_length(o, inner_length)
        new_start, new_step = start + o_start * step, step * o_step
        result.append(_normalize_slice(_range_slice(new_start, new_step, n), length, axis - 1, "getitem"))
    result.extend(pending[pos:])
    return tuple(result)


def _range_slice(start: int, step: int, n: int) -> slice:
    if n == 0:
        return slice(0, 0, 1)
    stop = start + n * step
    return slice(start, None if stop < 0 else stop, step)


class _Region:
    """A lazily sliced view of an array-like source: reads only what is asked of it."""

    def __init__(self, source: Any, index: tuple, shape: tuple):
        self.source = source
        self.index = index
        self.shape = shape
        self.dtype = source.dtype
        self.ndim = len(shape)

    def __chunkwise_tokenize__(self) -> Any:
        return ("chunkwise.slicing.Region", tokenize(self.source), self.index)

    def __getitem__(self, key: tuple) -> Any:
        key = iter(key if isinstance(key, tuple) else (key,))
        full = []
        for entry in self.index:
            if not isinstance(entry, slice):
                full.append(entry)
                continue
            k = next(key, _FULL)
            if entry == _FULL:
                full.append(k)
                continue
            start, _, step = entry.indices(2**62)
            k_start = k.start or 0
            n = len(range(*k.indices(2**62 if k.stop is None else k.stop)))
            full.append(_range_slice(start + k_start * step, step, n))
        return self.source[tuple(full)]


def _sliced_from_array(array: FromArray, index: tuple, chunks: tuple) -> Expr | None:
    source = array.source
    if isinstance(source, _Region):  # a region of a region: compose the two
        index = _compose(source.index, index, source.source.shape)
        source = source.source
    if not isinstance(source, np.ndarray) and any(
        isinstance(e, slice) and e != _FULL and e.step != 1 for e in index
    ):
        return None  # some stores (h5py) read only positive steps
    region = _Region(source, index, tuple(sum(c) for c in chunks))
    name = "array-" + tokenize(array.name, index)
    return FromArray(region, chunks, array._lock, name)


def _is_elementwise(expr: Blockwise) -> bool:
    """Whether ``expr`` applies its function element by element (so slicing commutes with it)."""
    func = expr.func
    if isinstance(func, np.ufunc):
        return func.nout == 1
    if getattr(func, "_chunkwise_elementwise", False):
        return True
    from chunkwise.array import core

    return func is core._astype or any(func is f for f in _ELEMENTWISE_FUNCTIONS)


#: NumPy functions (not ufuncs) that work element by element; other functions can
#: opt in to slice pushdown with ``func._chunkwise_elementwise = True``.
_ELEMENTWISE_FUNCTIONS = (np.where, np.clip, np.round, np.around, np.nan_to_num, np.real, np.imag)


def _push_through_blockwise(array: Blockwise, index: tuple) -> Expr:
    """``Slice(Blockwise(f, a, b))`` as ``Blockwise(f, Slice(a), Slice(b))`` (broadcasting kept)."""
    ndim = array.ndim
    out_shape = array.shape
    new_args = []
    for arg in array.args:
        if not isinstance(arg, ArrayExpr):
            new_args.append(arg)
            continue
        offset = ndim - arg.ndim  # the arg's axes are the trailing ones
        entries = []
        axis = 0
        for entry in index:
            if entry is None:
                if axis >= offset:  # among the arg's axes: the arg gets it too
                    entries.append(None)
                continue
            if axis >= offset:
                if arg.shape[axis - offset] == 1 and out_shape[axis] != 1:  # broadcast axis
                    if isinstance(entry, slice):
                        length = _slice_length(entry, out_shape[axis])
                        entries.append(_FULL if length else slice(0, 0, 1))
                    else:
                        entries.append(0)
                else:
                    entries.append(entry)
            axis += 1
        entries = tuple(entries)
        new_args.append(arg if all(e == _FULL for e in entries) else Slice(arg, entries))
    ops = array.operands
    return Blockwise(ops[0], ops[1], array.dtype, ops[3], *new_args)


def _basic(x: Array, index: tuple) -> Array:
    """``x`` indexed by a normalized basic index (ints, normalized slices, ``None``)."""
    if all(entry == _FULL for entry in index):
        return x
    return Array(Slice(x.expr, tuple(index)))


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
    block = np.asarray(block)
    moved = np.moveaxis(block, axes, tuple(range(len(axes))))
    return moved[coords]


def _gather_combine(pieces: list, inverse: Any, local_shape: tuple, position: int) -> np.ndarray:
    out = pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=0)
    if inverse is not None:
        out = out.take(inverse, axis=0)
    out = out.reshape(local_shape + out.shape[1:])
    k = len(local_shape)
    if k and position:
        out = np.moveaxis(out, tuple(range(k)), tuple(range(position, position + k)))
    return out


def _gather(x: Array, axes: tuple, arrays: list, position: int, op: str) -> Array:
    """``x`` indexed pointwise by integer ``arrays`` on ``axes`` (broadcast together)."""
    arrays = np.broadcast_arrays(*arrays)
    shape = arrays[0].shape
    x_shape = x.shape
    flat = []
    for a, arr in zip(axes, arrays):
        length = x_shape[a]
        if _isnan(length):
            raise _unknown_error(op, a, "integer-array indexing")
        arr = arr.reshape(-1).astype(np.int64, copy=False)
        bad = (arr >= length) | (arr < -length)
        if bad.any():
            i = int(arr[bad][0])
            raise IndexError(f"index {i} is out of bounds for axis {a} with size {length}")
        flat.append(np.where(arr < 0, arr + length, arr))
    return Array(Gather(x.expr, tuple(axes), tuple(flat), tuple(int(s) for s in shape), position))


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
    out = np.asarray(block)[(_FULL,) * axis + (np.asarray(mask, dtype=bool),)]
    return out if position == axis else np.moveaxis(out, axis, position)


def _boolean_mask(x: Array, mask: Array, axis: int, op: str, position: int | None = None) -> Array:
    k = mask.ndim
    shape = x.shape
    _check_mask_shape(mask.shape, shape, axis)
    xe, me = x.expr, mask.expr
    axes = range(axis, axis + k)
    if k > 1 and any(xe.numblocks[a] > 1 or me.numblocks[a - axis] > 1 for a in axes[1:]):
        # A flattening mask keeps NumPy's C order only when every mask axis but the
        # first is whole in each block: rechunk to rows of about the same size.
        for a in axes:
            if _isnan(shape[a]):
                raise _unknown_error(op, a, "a boolean mask over several axes")
        elements = math.prod(max(max(xe.chunks[a]), 1) for a in axes)
        row = math.prod(shape[a] for a in axes[1:])
        rows = blockdims_from_blockshape((shape[axis],), (max(1, elements // max(row, 1)),))[0]
        new = list(xe.chunks)
        new[axis] = rows
        for a in axes[1:]:
            new[a] = (shape[a],) if shape[a] else (0,)
        xe = Rechunk(xe, tuple(new))
    want = tuple(xe.chunks[a] for a in axes)
    if not _same_chunks(me.chunks, want):
        if has_unknown(want) or has_unknown(me.chunks):
            raise ValueError(
                f"{op}: the boolean mask's chunks {me.chunks} do not line up with the array's "
                f"{want} and some are unknown (nan); call compute_chunk_sizes() on both first"
            )
        me = Rechunk(me, want)
    return Array(BooleanMask(xe, me, axis, position))


def _same_chunks(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(
        len(x) == len(y) and all(p == q or (_isnan(p) and _isnan(q)) for p, q in zip(x, y))
        for x, y in zip(a, b)
    )


# --- getitem -----------------------------------------------------------------------------------


def getitem(x: Any, index: Any) -> Array:
    """``x[index]`` with NumPy's indexing rules, lazily; ``Array.__getitem__`` calls it.

    Supports ints, slices (any step), ``Ellipsis``, ``None``, integer arrays
    (lists or NumPy arrays, several broadcast together as in NumPy) and
    boolean masks. A NumPy mask gives known chunk sizes; a chunkwise boolean
    array gives unknown (``nan``) ones, one block per input block (rows of
    blocks are first made whole when the mask spans several axes, so the
    order is NumPy's). Indexing with a chunkwise integer array is not supported.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> x[1:, ::-2].compute()
    array([[ 7,  5],
           [11,  9]])
    >>> x[[2, 0], None, 1].compute()
    array([[9],
           [1]])
    """
    from chunkwise.array.core import asarray

    x = asarray(x)
    op = "getitem"
    shape = x.shape
    items = _expand(index, x.ndim, op)
    # Booleans given as scalars: True adds an axis, False an empty one (NumPy's rule).
    empty_axes = []
    if any(type(item) is tuple for item in items):
        out_axis = 0
        new_items = []
        for item in items:
            if type(item) is tuple:
                if not item[1]:
                    empty_axes.append(out_axis)
                new_items.append(None)
            else:
                new_items.append(item)
            out_axis += _item_out_axes(item)
        if any(isinstance(i, (np.ndarray, Array)) for i in new_items):
            raise NotImplementedError(f"{op}: a scalar boolean index mixed with arrays is not supported")
        items = new_items
    # NumPy boolean masks become their nonzero() integer arrays.
    expanded = []
    axis = 0
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype == bool:
            _check_mask_shape(item.shape, shape, axis)
            for a in range(axis, axis + item.ndim):
                if _isnan(shape[a]):
                    raise _unknown_error(op, a, "a NumPy boolean mask")
            expanded.extend(np.nonzero(item))
        else:
            expanded.append(item)
        axis += _item_axes(item)
    items = expanded
    # Normalize ints and slices against the shape.
    basic = []
    axis = 0
    for item in items:
        if item is None:
            basic.append(None)
            continue
        if isinstance(item, slice):
            basic.append(_normalize_slice(item, shape[axis], axis, op))
        elif isinstance(item, (np.ndarray, Array)):
            basic.extend([_FULL] * _item_axes(item))
        else:
            basic.append(_index_int(item, shape[axis], axis, op))
        axis += _item_axes(item)
    arrays = [i for i, item in enumerate(items) if isinstance(item, np.ndarray)]
    masks = [i for i, item in enumerate(items) if isinstance(item, Array)]
    result = _basic(x, tuple(basic))
    if arrays or masks:
        if arrays and masks or len(masks) > 1:
            raise NotImplementedError(
                f"{op}: a chunkwise boolean mask combined with other array indices is not supported; "
                "apply them one after the other"
            )
        advanced = [
            i for i, item in enumerate(items)
            if isinstance(item, (np.ndarray, Array)) or (item is not None and not isinstance(item, slice))
        ]
        adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
        # Position of each array among the axes left by the basic step.
        positions = {}
        out_axis = 0
        for i, item in enumerate(items):
            if isinstance(item, (np.ndarray, Array)):
                positions[i] = out_axis
                out_axis += _item_axes(item)
            elif item is None or isinstance(item, slice):
                out_axis += 1
        first = positions[arrays[0] if arrays else masks[0]]
        if masks:
            result = _boolean_mask(result, items[masks[0]], first, op, None if adjacent else 0)
        else:
            axes = tuple(positions[i] for i in arrays)
            position = first if adjacent else 0
            position -= sum(1 for a in axes if a < first)
            result = _gather(result, axes, [items[i] for i in arrays], position, op)
    if empty_axes:
        result = _basic(result, tuple(slice(0, 0, 1) if a in empty_axes else _FULL for a in range(result.ndim)))
    return result


def _item_out_axes(item: Any) -> int:
    if item is None or type(item) is tuple or isinstance(item, slice):
        return 1
    return 0


# --- take and vindex ---------------------------------------------------------------------------


@implements(np.take)
def take(a: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> Array:
    """Elements of ``a`` at ``indices`` along ``axis``, as ``numpy.take`` (lazily).

    ``indices`` may be unsorted and repeated; ``axis=None`` takes from the
    flattened array. ``out=`` is not supported (arrays are immutable).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> take(x, [3, 0, 3], axis=1).compute()
    array([[ 3,  0,  3],
           [ 7,  4,  7],
           [11,  8, 11]])
    """
    from chunkwise.array.core import asarray

    if out is not None:
        raise TypeError("take: out= is not supported on chunkwise arrays; use the returned array")
    a = asarray(a)
    if isinstance(indices, Array):
        raise NotImplementedError("take: indices given as a chunkwise array; compute them first")
    if axis is None:
        if a.ndim != 1:
            a = a.ravel()
        axis = 0
    if not -a.ndim <= axis < a.ndim:
        raise np.exceptions.AxisError(f"take: axis {axis} is out of bounds for an array of dimension {a.ndim}")
    axis %= a.ndim
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
        return getitem(a, (_FULL,) * axis + (int(idx),))
    return getitem(a, (_FULL,) * axis + (idx,))


def _vindex(x: Array, index: Any) -> Array:
    op = "vindex"
    if not isinstance(index, tuple):
        index = (index,)
    if any(item is None for item in index):
        raise IndexError("vindex does not support indexing with None (np.newaxis)")
    items = _expand(index, x.ndim, op)
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
            basic.append(_FULL)
            arrays.append(item)
            axes.append(out_axis)
            out_axis += 1
        elif isinstance(item, slice):
            basic.append(_normalize_slice(item, shape[axis], axis, op))
            out_axis += 1
        elif type(item) is tuple:
            raise IndexError("vindex does not support indexing with boolean scalars")
        else:
            basic.append(_index_int(item, shape[axis], axis, op))
    result = _basic(x, tuple(basic))
    if not arrays:
        return result
    return _gather(result, tuple(axes), arrays, 0, op)


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


# --- blocks --------------------------------------------------------------------------------


class Blocks(ArrayExpr):
    """Some blocks of ``array``: ``selection`` holds the block indices kept on each axis."""

    _parameters = ("array", "selection")

    @property
    def _funcname(self) -> str:
        return "blocks"

    def _dtype(self) -> Any:
        return self.array.dtype

    def _chunks(self) -> tuple:
        return tuple(tuple(c[i] for i in sel) for c, sel in zip(self.array.chunks, self.selection))

    def _task(self, key: Hashable) -> Task:
        block = tuple(sel[i] for sel, i in zip(self.selection, key[1:]))
        return Task(key, _identity, Ref((self.array.name, *block)))


class BlockView:
    """Index blocks instead of elements: ``x.blocks[i, j]``, ``x.blocks[:, 1:]``, ``x.blocks[[2, 0]]``.

    The result is an array made of those blocks; an integer keeps its axis
    (as in ``dask.array``). ``shape`` is the grid of blocks.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(10), chunks=3)
    >>> x.blocks[-1].compute(), x.blocks[::2].compute()
    (array([9]), array([0, 1, 2, 6, 7, 8]))
    """

    __slots__ = ("_array",)

    def __init__(self, array: Array):
        self._array = array

    @property
    def shape(self) -> tuple:
        return self._array.numblocks

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> Array:
        x = self._array
        if not isinstance(index, tuple):
            index = (index,)
        if any(item is None for item in index):
            raise IndexError("blocks: None (np.newaxis) is not supported when indexing blocks")
        items = _expand(index, x.ndim, "blocks")
        selection = []
        for axis, (item, n) in enumerate(zip(items, x.numblocks)):
            if isinstance(item, slice):
                selection.append(tuple(range(n))[item])
            elif isinstance(item, np.ndarray):
                if item.dtype == bool or item.ndim != 1:
                    raise IndexError("blocks: only ints, slices and 1-d integer lists index blocks")
                selection.append(tuple(_block_int(int(i), n, axis) for i in item))
            elif isinstance(item, int):
                selection.append((_block_int(item, n, axis),))
            else:
                raise IndexError(f"blocks: cannot index blocks with {item!r}")
            if not selection[-1]:
                raise IndexError(f"blocks: the index selects no blocks on axis {axis}")
        selection = tuple(selection)
        if all(sel == tuple(range(n)) for sel, n in zip(selection, x.numblocks)):
            return x
        return Array(Blocks(x.expr, selection))

    def ravel(self) -> list:
        """Every block as a one-block array, in C order."""
        return [self[idx] for idx in product(*(range(n) for n in self.shape))]

    def __repr__(self) -> str:
        return f"BlockView(shape={self.shape})"


def _block_int(i: int, n: int, axis: int) -> int:
    if not -n <= i < n:
        raise IndexError(f"block index {i} is out of bounds for axis {axis} with {n} blocks")
    return i % n


# --- item assignment ------------------------------------------------------------------------


class SetItem(ArrayExpr):
    """``array`` with ``array[index] = value``: blocks outside the region pass through.

    ``index`` is a normalized basic index (ints and slices); ``value`` is a
    scalar or an array whose blocks line up with the region's blocks.
    """

    _parameters = ("array", "index", "value")

    @property
    def _funcname(self) -> str:
        return "setitem"

    def _dtype(self) -> Any:
        return self.array.dtype

    def _chunks(self) -> tuple:
        return self.array.chunks

    @functools.cached_property
    def _maps(self) -> list:
        """Per axis: {input block: (region block or None for an int, local index)}; None for ``:``."""
        maps = []
        for entry, chunks in zip(self.index, self.array.chunks):
            if isinstance(entry, slice):
                blocks, locals_, _ = _slice_plan(chunks, entry)
                if blocks is None:
                    maps.append(None)
                else:
                    maps.append({int(b): (r, locals_[r]) for r, b in enumerate(blocks)})
            else:
                bounds = chunk_boundaries(chunks)
                block = int(np.searchsorted(bounds, entry, "right") - 1)
                maps.append({block: (None, entry - bounds[block])})
        return maps

    def _task(self, key: Hashable) -> Task:
        out = key[1:]
        ref = Ref((self.array.name, *out))
        local = []
        region = []
        for i, m in zip(out, self._maps):
            if m is None:
                local.append(_FULL)
                region.append(i)
                continue
            hit = m.get(i)
            if hit is None:
                return Task(key, _identity, ref)
            if hit[0] is not None:
                region.append(hit[0])
            local.append(hit[1])
        value = self.value
        if isinstance(value, ArrayExpr):
            offset = len(region) - value.ndim
            block = tuple(
                0 if value.numblocks[e] == 1 else region[e + offset] for e in range(value.ndim)
            )
            value = Ref((value.name, *block))
        return Task(key, _assign, ref, tuple(local), value)


def _assign(block: np.ndarray, index: tuple, value: Any) -> np.ndarray:
    out = np.array(block, copy=True)
    out[index] = value
    return out


def _masked_assign(block: np.ndarray, mask: np.ndarray, value: Any) -> np.ndarray:
    out = np.array(block, copy=True)
    np.copyto(out, value, casting="unsafe", where=np.asarray(mask, dtype=bool))
    return out


def setitem(x: Array, index: Any, value: Any) -> Array:
    """A new array equal to ``x`` with ``x[index] = value``; ``Array.__setitem__`` swaps it in.

    ``index``: ints and slices (any step), or a boolean mask (NumPy or
    chunkwise) of ``x``'s shape, or a 1-d mask along the first axis (scalar
    values only). ``value``: a scalar or an array broadcastable to the
    selected region (for a full mask: to ``x``'s shape, where NumPy would want
    one value per selected element). Only the blocks the region touches are
    rewritten; values are cast to ``x.dtype`` as NumPy does.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6), chunks=4)
    >>> x[1:5:2] = -1
    >>> x.compute()
    array([ 0, -1,  2, -1,  4,  5])
    >>> x[x < 0] = 9
    >>> x.compute()
    array([0, 9, 2, 9, 4, 5])
    """
    op = "setitem"
    if isinstance(index, Array):
        is_mask = index.dtype == bool
    else:
        is_mask = isinstance(index, (np.ndarray, list)) and np.asarray(index).dtype == bool
    if is_mask:
        return _setitem_mask(x, index, value)
    items = _expand(index, x.ndim, op)
    shape = x.shape
    basic = []
    for axis, item in enumerate(items):
        if item is None or type(item) is tuple or isinstance(item, (np.ndarray, Array)):
            raise NotImplementedError(
                f"{op}: only ints, slices and boolean masks of the array's shape are supported "
                f"as indices, got {item!r}"
            )
        if isinstance(item, slice):
            basic.append(_normalize_slice(item, shape[axis], axis, op))
        else:
            basic.append(_index_int(item, shape[axis], axis, op))
    basic = tuple(basic)
    region = Slice(x.expr, basic) if any(e != _FULL for e in basic) else x.expr
    if any(s == 0 for s in region.shape):
        return x
    operand = _as_operand(value)
    if isinstance(operand, ArrayExpr):
        operand = _align_value(operand, region, op)
    elif not isinstance(operand, (numbers.Number, np.generic, str, bytes)):
        raise TypeError(f"{op}: cannot assign a {type(value).__name__}")
    return Array(SetItem(x.expr, basic, operand))


def _align_value(value: ArrayExpr, region: ArrayExpr, op: str) -> ArrayExpr:
    """``value`` rechunked so its blocks line up with the region's (size-1 axes broadcast)."""
    try:
        shape = np.broadcast_shapes(tuple(value.shape), tuple(region.shape))
    except ValueError:
        shape = None
    if shape != tuple(region.shape) or value.ndim > region.ndim:
        raise ValueError(
            f"{op}: could not broadcast input array from shape {value.shape} into shape {region.shape}"
        )
    offset = region.ndim - value.ndim
    target = []
    for e in range(value.ndim):
        if value.shape[e] == 1 and region.shape[e + offset] != 1:
            target.append((1,))
        else:
            target.append(region.chunks[e + offset])
    target = tuple(target)
    if _same_chunks(value.chunks, target):
        return value
    if has_unknown(target) or has_unknown(value.chunks):
        raise ValueError(f"{op}: chunk sizes are unknown (nan); call x.compute_chunk_sizes() first")
    return Rechunk(value, target)


def _setitem_mask(x: Array, mask: Any, value: Any) -> Array:
    op = "setitem"
    if not isinstance(mask, Array):
        mask = np.asarray(mask)
    if mask.ndim < x.ndim:
        _check_mask_shape(mask.shape, x.shape, 0)
        if not isinstance(value, (numbers.Number, np.generic)):
            raise NotImplementedError(
                f"{op}: with a mask over fewer axes than the array, only scalar values are supported"
            )
        mask = mask[(_FULL,) * mask.ndim + (None,) * (x.ndim - mask.ndim)]
    elif mask.ndim > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but {mask.ndim} were indexed")
    else:
        _check_mask_shape(mask.shape, x.shape, 0)
    if isinstance(value, Array) and value.ndim > x.ndim:
        raise ValueError(f"{op}: could not broadcast input array from shape {value.shape} into shape {x.shape}")
    return elemwise(_masked_assign, x, mask, value, dtype=x.dtype, funcname=op)


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
        return Task(key, _identity, Ref((self.array.name, *key[1:])))


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
    from chunkwise.base import _graph_of_exprs
    from chunkwise.scheduling import get

    expr = x.expr
    if not has_unknown(expr.chunks):
        return x
    graph, keys = _graph_of_exprs([_BlockShapes(expr)], True)
    (shapes,) = get(graph, keys)
    numblocks = expr.numblocks
    grid = np.asarray(shapes, dtype=np.int64).reshape(numblocks + (expr.ndim,))
    chunks = []
    for axis in range(expr.ndim):
        where = tuple(slice(None) if d == axis else 0 for d in range(expr.ndim)) + (axis,)
        chunks.append(tuple(int(c) for c in grid[where]))
    return Array(KnownChunks(expr, tuple(chunks)))
