"""Item assignment: ``x[index] = value`` as a new plan.

:class:`SetItem` copies and assigns only the blocks the region touches; the
other blocks pass through. A boolean mask becomes an elementwise ``where``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(6), chunks=4)
>>> x[:2] = 7
>>> x.compute()
array([7, 7, 2, 3, 4, 5])
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks, chunk_boundaries, same_chunks
from chunkwise.array.core import Array, as_operand, asarray, elemwise, from_array
from chunkwise.array.cumulative import cumsum
from chunkwise.array.elementwise import where
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.gather import TakeByArray, take
from chunkwise.array.index_spec import (
    FULL,
    check_known_length,
    check_mask_shape,
    expand_index,
    index_int,
    normalize_slice,
)
from chunkwise.array.rechunk import Rechunk, rechunk
from chunkwise.array.reshaping import broadcast_to
from chunkwise.array.slicing import Slice, getitem, slice_plan
from chunkwise.array.utils import identity, is_nan
from chunkwise.core.graph import Ref, Task

__all__ = ["setitem"]


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
                blocks, locals_, _ = slice_plan(chunks, entry)
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
                local.append(FULL)
                region.append(i)
                continue
            hit = m.get(i)
            if hit is None:
                return Task(key, identity, ref)
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

    ``index``: ints, slices (any step) and ``None``; or a boolean mask (NumPy
    or chunkwise) over the leading axes; or one integer list/array or NumPy
    boolean mask on one axis with ``:`` on the others (``x[:, [0, 2]] = v``;
    repeated indices: the last value wins, as in NumPy). ``value``: a scalar,
    an array broadcastable to the selected region, or for a mask one value
    per selected element in C order, as NumPy (a chunkwise mask's count is
    checked at compute time, raising ``ValueError`` like NumPy). Also
    accepted, as Dask does: a value of ``x``'s full shape with a full mask
    (the elements where the mask is true are taken from it). Values are cast
    to ``x.dtype``. Slices rewrite only the blocks they touch; a mask with
    per-element values gathers them lazily (each output block may read every
    value block, see ``gather.TakeByArray``). Not supported (clear errors):
    chunkwise integer indices, several array indices, arrays mixed with ints,
    slices other than ``:`` or ``None``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6), chunks=4)
    >>> x[1:5:2] = -1
    >>> x.compute()
    array([ 0, -1,  2, -1,  4,  5])
    >>> x[x < 0] = 9
    >>> x.compute()
    array([0, 9, 2, 9, 4, 5])
    >>> x[x == 9] = [10, 20]
    >>> x[[0, 5]] = 1
    >>> x.compute()
    array([ 1, 10,  2, 20,  4,  1])
    """
    op = "setitem"
    if isinstance(index, tuple) and len(index) == 1:
        index = index[0]
    if _is_scalar_mask(index):
        return _setitem_scalar_mask(x, index, value)
    if isinstance(index, Array):
        is_mask = index.dtype == bool
    else:
        is_mask = isinstance(index, (np.ndarray, list)) and np.asarray(index).dtype == bool
    if is_mask:
        return _setitem_mask(x, index, value)
    if isinstance(index, Array):
        raise NotImplementedError(
            f"{op}: a chunkwise integer index is not supported in item assignment; compute it "
            "first (np.asarray(index)), or assign through a boolean mask"
        )
    items = expand_index(index, x.ndim, op)
    if any(item is None for item in items):
        items, value = _drop_new_axes(x, index, items, value)
    arrays = [i for i, item in enumerate(items) if isinstance(item, (np.ndarray, Array))]
    if arrays:
        if len(arrays) > 1 or any(
            not (isinstance(item, slice) and item == FULL) for i, item in enumerate(items) if i != arrays[0]
        ):
            raise NotImplementedError(
                f"{op}: an array index is supported with ':' on every other axis only "
                f"(x[idx] = v, x[:, idx] = v), got {index!r}; assign in two steps"
            )
        return _setitem_array(x, arrays[0], items[arrays[0]], value)
    shape = x.shape
    basic = []
    for axis, item in enumerate(items):
        if type(item) is tuple:
            raise NotImplementedError(f"{op}: a scalar boolean index is not supported, got {item[1]!r}")
        if isinstance(item, slice):
            basic.append(normalize_slice(item, shape[axis], axis, op))
        else:
            basic.append(index_int(item, shape[axis], axis, op))
    basic = tuple(basic)
    region = Slice(x.expr, basic) if any(e != FULL for e in basic) else x.expr
    if any(s == 0 for s in region.shape):
        return x
    operand = as_operand(value)
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
    if same_chunks(value.chunks, target):
        return value
    check_known_chunks(op, target, value.chunks, what="the array or the assigned value")
    return Rechunk(value, target)


def _is_scalar_mask(index: Any) -> bool:
    if isinstance(index, (bool, np.bool_)):
        return True
    return isinstance(index, (Array, np.ndarray)) and index.dtype == bool and index.ndim == 0


def _setitem_scalar_mask(x: Array, mask: Any, value: Any) -> Array:
    """``x[mask] = value`` for a 0-d mask: all of ``x`` where it is true, nothing where false.

    ``x[mask]`` has a leading axis of length 1 (or 0), so ``value`` may have it too.
    """
    if not _is_scalar(value):
        value = value if isinstance(value, Array) else np.asarray(value)
        if value.ndim == x.ndim + 1 and value.shape[0] == 1:
            value = value[0]
        value = broadcast_to(value, x.shape)
    if not isinstance(mask, Array):
        return setitem(x, Ellipsis, value) if bool(mask) else x
    return elemwise(_masked_assign, x, mask, value, dtype=x.dtype, funcname="setitem")


def _is_scalar(value: Any) -> bool:
    if isinstance(value, Array):
        return value.ndim == 0
    return isinstance(value, (numbers.Number, np.generic)) or np.ndim(value) == 0


def _drop_new_axes(x: Array, index: Any, items: list, value: Any) -> tuple:
    """The index without ``None`` items, and ``value`` with the length-1 axes they add removed."""
    target = getitem(x, index).shape
    if isinstance(value, (numbers.Number, np.generic, str, bytes)):
        return [item for item in items if item is not None], value
    if not isinstance(value, Array):
        value = np.asarray(value)
    try:
        ok = np.broadcast_shapes(tuple(value.shape), tuple(target)) == tuple(target)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"setitem: could not broadcast input array from shape {value.shape} into shape {target}"
        )
    if any(isinstance(item, (np.ndarray, Array)) for item in items):
        raise NotImplementedError("setitem: None (np.newaxis) mixed with array indices is not supported")
    value = value[(None,) * (len(target) - value.ndim)]
    # Each output axis comes from a slice (kept) or a None (its length-1 axis is dropped).
    take = [0 if item is None else FULL for item in items if not isinstance(item, numbers.Integral)]
    return [item for item in items if item is not None], value[tuple(take)]


def _count_error(count: int, length: int) -> ValueError:
    return ValueError(
        f"setitem: NumPy boolean array indexing assignment cannot assign {length} input values "
        f"to the {count} output values where the mask is true"
    )


def _checked_ranks(ranks: np.ndarray, count: Any, length: int) -> np.ndarray:
    count = int(count)
    if count != length:
        raise _count_error(count, length)
    return ranks


def _keep_if_none_selected(block: np.ndarray, count: Any) -> np.ndarray:
    if int(count):
        raise _count_error(int(count), 0)
    return block


def _exclusive_flat_cumsum(t: Array) -> Array:
    """The C-order exclusive cumulative sum of ``t`` (lazily, with ``t``'s chunks)."""
    if t.ndim == 1:
        return cumsum(t) - t
    c = cumsum(t, axis=-1)
    starts = _exclusive_flat_cumsum(c[..., -1])
    return starts[..., None] + (c - t)


def _scatter(x: Array, mask: Array, axis: int, value: Any, count: Any) -> Array:
    """``x`` with the positions where ``mask`` (on axes ``axis, ...``) is true set from ``value``.

    ``value`` holds one entry per true position (in C order) along its axis
    ``axis``, as NumPy's ``x[mask] = value``; ``count`` is the number of true
    positions when known (``None``: checked at compute time). The rank of each
    true position comes from a lazy cumulative sum of the mask; each output
    block then gathers its values (see ``gather.TakeByArray`` for the cost).
    """
    op = "setitem"
    k = mask.ndim
    value = asarray(value)
    ndim = x.ndim - k + 1
    if value.ndim > ndim:
        raise ValueError(
            f"{op}: could not broadcast input array from shape {value.shape} into the "
            f"{ndim}-d selection of a boolean index"
        )
    value = value[(None,) * (ndim - value.ndim)]
    rest = x.shape[:axis] + x.shape[axis + k:]
    other = value.shape[:axis] + value.shape[axis + 1:]
    try:
        ok = np.broadcast_shapes(other, rest) == rest
    except ValueError:
        ok = False
    length = value.shape[axis]
    if not ok:
        raise ValueError(
            f"{op}: could not broadcast input array from shape {value.shape} into shape "
            f"{x.shape[:axis] + ('count',) + x.shape[axis + k:]}"
        )
    shaped_mask = mask[(slice(None),) * k + (None,) * (x.ndim - axis - k)]
    if length == 1:  # one value for every selected position: a where
        one = value[(slice(None),) * axis + (0,)]
        one = one[(slice(None),) * axis + (None,) * k]
        return elemwise(_masked_assign, x, shaped_mask, one, dtype=x.dtype, funcname=op)
    if count is not None and not is_nan(length) and count != length:
        raise _count_error(count, length)
    if length == 0:  # nothing to assign: valid only when nothing is selected
        if count is not None:
            return x
        return elemwise(_keep_if_none_selected, x, mask.sum(), dtype=x.dtype, funcname=op)
    x_chunks = x.chunks[:axis] + x.chunks[axis + k:]
    target = []
    for have, want, n in zip(value.chunks[:axis] + value.chunks[axis + 1:], x_chunks, other):
        target.append(have if n == 1 else want)
    target.insert(axis, value.chunks[axis])
    if tuple(target) != value.chunks:
        value = rechunk(value, tuple(target))
    ranks = _exclusive_flat_cumsum(mask.astype(np.int64))
    ranks = where(mask, ranks, 0)
    if count is None:
        total = mask.sum()
        ranks = elemwise(_checked_ranks, ranks, total, int(length), dtype=np.int64, funcname=op)
    gathered = Array(TakeByArray(value.expr, ranks.expr, axis, op))
    return elemwise(_masked_assign, x, shaped_mask, gathered, dtype=x.dtype, funcname=op)


def _as_mask_array(mask: Any, x: Array, axis: int) -> Array:
    """``mask`` as a chunkwise array with ``x``'s chunks on the axes it covers."""
    want = x.chunks[axis:axis + mask.ndim]
    if not isinstance(mask, Array):
        return from_array(np.asarray(mask), chunks=want)
    if same_chunks(mask.chunks, want):
        return mask
    check_known_chunks(
        "setitem", want, mask.chunks, what="the array or its boolean mask",
        detail=f", so the mask's chunks {mask.chunks} may not line up with the array's {want}",
    )
    return mask.rechunk(want)


def _setitem_array(x: Array, axis: int, index: Any, value: Any) -> Array:
    """``x[:, ..., index, ...] = value`` for one NumPy integer or boolean array on ``axis``."""
    op = "setitem"
    if isinstance(index, Array):
        raise NotImplementedError(
            f"{op}: a chunkwise index is supported on its own only (x[mask] = v); compute it first"
        )
    if index.dtype == bool:
        check_mask_shape(index.shape, x.shape, axis)
        scalar = _is_scalar(value)
        if scalar:
            mask = index[(slice(None),) * index.ndim + (None,) * (x.ndim - axis - index.ndim)]
            return elemwise(_masked_assign, x, mask, value, dtype=x.dtype, funcname=op)
        if not isinstance(value, Array):
            value = np.asarray(value)
        return _scatter(x, _as_mask_array(index, x, axis), axis, value, int(index.sum()))
    length = x.shape[axis]
    check_known_length(length, axis, op, "integer-array assignment")
    flat = index.reshape(-1).astype(np.int64)
    bad = (flat >= length) | (flat < -length)
    if bad.any():
        raise IndexError(f"index {int(flat[bad][0])} is out of bounds for axis {axis} with size {length}")
    flat = np.where(flat < 0, flat + length, flat)
    region = x.shape[:axis] + index.shape + x.shape[axis + 1:]
    mask = np.zeros(length, dtype=bool)
    mask[flat] = True
    if _is_scalar(value):
        shaped = mask[(slice(None),) + (None,) * (x.ndim - axis - 1)]
        return elemwise(_masked_assign, x, shaped, value, dtype=x.dtype, funcname=op)
    if not isinstance(value, Array):
        value = np.asarray(value)
    try:
        ok = np.broadcast_shapes(tuple(value.shape), region) == region
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{op}: could not broadcast input array from shape {value.shape} into shape {region}")
    value = asarray(value)
    if value.ndim < len(region) or any(
        v == 1 and r != 1 for v, r in zip(value.shape[-index.ndim - (x.ndim - axis - 1):], region[axis:])
    ):
        value = broadcast_to(value, region)
    if index.ndim != 1:
        value = value.reshape(x.shape[:axis] + (flat.size,) + x.shape[axis + 1:])
    # Repeated indices: the last assignment wins, as in NumPy.
    targets, first_in_reversed = np.unique(flat[::-1], return_index=True)
    sources = flat.size - 1 - first_in_reversed
    value = take(value, sources, axis=axis)
    return _scatter(x, _as_mask_array(mask, x, axis), axis, value, len(targets))


def _setitem_mask(x: Array, mask: Any, value: Any) -> Array:
    op = "setitem"
    if not isinstance(mask, Array):
        mask = np.asarray(mask)
    if mask.ndim > x.ndim:
        raise IndexError(f"too many indices for array: array is {x.ndim}-dimensional, but {mask.ndim} were indexed")
    check_mask_shape(mask.shape, x.shape, 0)
    if _is_scalar(value):
        expanded = mask[(FULL,) * mask.ndim + (None,) * (x.ndim - mask.ndim)]
        return elemwise(_masked_assign, x, expanded, value, dtype=x.dtype, funcname=op)
    if not isinstance(value, Array):
        value = np.asarray(value)
    if tuple(value.shape) == tuple(x.shape) and mask.ndim == x.ndim:
        # One value per element of x (Dask's rule): where NumPy also accepts this
        # (every element selected) the two agree.
        return elemwise(_masked_assign, x, mask, value, dtype=x.dtype, funcname=op)
    count = None if isinstance(mask, Array) else int(mask.sum())
    return _scatter(x, _as_mask_array(mask, x, 0), 0, value, count)
