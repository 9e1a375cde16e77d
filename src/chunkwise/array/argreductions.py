"""Index reductions: ``argmin``, ``argmax``, ``nanargmin``, ``nanargmax``.

Design. Each is one tree :func:`~chunkwise.array.treereduce.reduction` whose
partials are ``(value, global index)`` pairs: a block's chunk function finds
its local extreme and turns the local position into an index of the whole
array (the reduction passes each block's offsets); ``combine`` keeps, element
by element, the better value, ties going to the smaller index, so the merge
order does not matter and the result is NumPy's first occurrence. NaN wins
(the first one) for ``argmin``/``argmax`` and loses to any number for the nan
versions, whose all-NaN slices raise ``ValueError`` when computed, as NumPy's
do. The input's chunk sizes must be known along the reduced axes. A masked
array is reduced as ``numpy.ma`` does: its data with the masked values filled
with the dtype's far end.

Split from :mod:`chunkwise.array.reductions`, which re-exports these names and
tells plan rewrites (``reduction_kind``) that :func:`arg_chunk` reductions
are chunk-insensitive.

>>> import numpy as np
>>> from chunkwise.array.core import asarray
>>> x = asarray(np.array([[3, 9, 1], [9, 0, 9]])).rechunk(1)
>>> int(argmax(x)), argmin(x, axis=1).compute().tolist()
(1, [2, 1])
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from chunkwise.array.axes import normalize_axes
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import asarray, elemwise, implements
from chunkwise.array.masks import filled_block, is_masked
from chunkwise.array.treereduce import check_not_empty, reduction, refuse_extra

__all__ = ["arg_chunk", "argmax", "argmin", "nanargmax", "nanargmin"]


def arg_chunk(block, axis, argfunc, skipna, offsets, shape):
    if skipna and block.dtype.kind in "fc":
        nan_slices = np.isnan(block).all(axis=axis, keepdims=True)
        searched = np.where(nan_slices, 0, block) if nan_slices.any() else block
    else:
        searched = block
    if axis is None:
        local = int(argfunc(searched)) if block.ndim else 0
        value = block.reshape(-1)[local] if block.ndim else block[()]
        if block.ndim:
            coords = np.unravel_index(local, block.shape)
            index = np.ravel_multi_index(tuple(c + o for c, o in zip(coords, offsets)), shape)
        else:
            index = 0
        keep = (1,) * block.ndim
        return np.asarray(value).reshape(keep), np.asarray(index, dtype=np.intp).reshape(keep)
    local = argfunc(searched, axis=axis, keepdims=True)
    value = np.take_along_axis(block, local, axis=axis)
    return value, local + offsets[axis]


def _arg_combine(parts, greater, skipna):
    best_v, best_i = parts[0]
    for v, i in parts[1:]:
        with np.errstate(invalid="ignore"):
            better = (v > best_v) if greater else (v < best_v)
            equal = v == best_v
        if v.dtype.kind in "fc":
            new_nan, old_nan = np.isnan(v), np.isnan(best_v)
            equal = equal | (new_nan & old_nan)
            if skipna:  # NaN loses to any number
                better = (better & ~new_nan) | (~new_nan & old_nan)
            else:  # NaN wins, the first one
                better = (better & ~old_nan) | (new_nan & ~old_nan)
        take = better | (equal & (i < best_i))
        best_v = np.where(take, v, best_v)
        best_i = np.where(take, i, best_i)
    return best_v, best_i


def _arg_aggregate(partial, skipna):
    value, index = partial
    if skipna and value.dtype.kind in "fc" and np.isnan(value).any():
        raise ValueError("All-NaN slice encountered")
    return index


def _arg_reduction(a, opname, argfunc, greater, skipna, axis, keepdims, split_every):
    x = asarray(a)
    if is_masked(x):
        # numpy.ma: the index in the data with masked values filled with the dtype's far end
        # (the largest for argmin), so a masked value is never picked unless all are masked
        sample = np.empty(0, x.dtype)
        fill = np.ma.maximum_fill_value(sample) if greater else np.ma.minimum_fill_value(sample)
        x = elemwise(filled_block, x, fill, dtype=x.dtype)
    if axis is not None and not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{opname}: axis must be an int or None, got {axis!r}")
    axes = tuple(sorted(normalize_axes(axis, x.ndim, opname)))
    needed = range(x.ndim) if axis is None else axes
    check_known_chunks(
        opname, x, axes=tuple(needed), detail=" along the reduced axes, so global indices cannot be computed"
    )
    check_not_empty(x, axes, opname, f"attempt to get {opname.removeprefix('nan')} of an empty sequence")
    chunk = functools.partial(
        arg_chunk, axis=None if axis is None else axes[0], argfunc=argfunc, skipna=skipna
    )
    combine = functools.partial(_arg_combine, greater=greater, skipna=skipna)
    aggregate = functools.partial(_arg_aggregate, skipna=skipna)
    return reduction(
        x, chunk, combine, aggregate, axis=axes, keepdims=keepdims, dtype=np.intp,
        split_every=split_every, name=opname, skip_empty=True, with_offsets=True,
    )


@implements(np.argmin)
def argmin(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Index of the minimum over ``axis`` (flat index for ``axis=None``), as ``numpy.argmin``.

    >>> import numpy as np
    >>> int(argmin(asarray(np.array([3, 1, 2, 1]), chunks=2)))
    1
    """
    refuse_extra("argmin", out)
    return _arg_reduction(a, "argmin", np.argmin, False, False, axis, keepdims, split_every)


@implements(np.argmax)
def argmax(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Index of the maximum over ``axis`` (flat index for ``axis=None``), as ``numpy.argmax``.

    >>> import numpy as np
    >>> int(argmax(asarray(np.array([3, 5, 2, 5]), chunks=2)))
    1
    """
    refuse_extra("argmax", out)
    return _arg_reduction(a, "argmax", np.argmax, True, False, axis, keepdims, split_every)


@implements(np.nanargmin)
def nanargmin(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Index of the minimum ignoring NaN, as ``numpy.nanargmin`` (all-NaN slices raise on compute).

    >>> import numpy as np
    >>> int(nanargmin(asarray(np.array([np.nan, 3.0, 1.0]))))
    2
    """
    refuse_extra("nanargmin", out)
    return _arg_reduction(a, "nanargmin", np.nanargmin, False, True, axis, keepdims, split_every)


@implements(np.nanargmax)
def nanargmax(a, axis=None, out=None, *, keepdims=False, split_every=None):
    """Index of the maximum ignoring NaN, as ``numpy.nanargmax`` (all-NaN slices raise on compute).

    >>> import numpy as np
    >>> int(nanargmax(asarray(np.array([np.nan, 3.0, 1.0]))))
    1
    """
    refuse_extra("nanargmax", out)
    return _arg_reduction(a, "nanargmax", np.nanargmax, True, True, axis, keepdims, split_every)
