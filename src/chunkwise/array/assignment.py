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

from chunkwise.array.chunks import chunk_boundaries, has_unknown
from chunkwise.array.core import Array, _as_operand, elemwise
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.slicing import (
    _FULL,
    Slice,
    _check_mask_shape,
    _expand,
    _identity,
    _index_int,
    _normalize_slice,
    _same_chunks,
    _slice_plan,
)
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
