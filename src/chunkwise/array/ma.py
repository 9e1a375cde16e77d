"""``chunkwise.array.ma``: masked arrays, as ``numpy.ma`` and ``dask.array.ma``, block by block.

Design. A masked chunkwise array is an ordinary ``Array`` whose blocks are
``numpy.ma.MaskedArray`` objects (its ``dtype`` is the data's), and whose plan
knows it (``is_masked``, :mod:`chunkwise.array.masks`): the constructors
below (``masked_where``, ``masked_invalid``, ...) are elementwise nodes whose
block functions declare masked output, ``from_array`` of a ``MaskedArray``
is masked, and everything computed from a masked array is masked until
``filled``, ``getdata`` or ``getmaskarray`` drops the mask. NumPy's ufuncs
keep the masks block by block; computing assembles masked blocks with
``numpy.ma.concatenate``, so the result is a ``MaskedArray``.

Reductions respect masks wherever they are called: ``x.sum()``,
``da.mean(x)``, ``np.max(x)``, ``x.std(ddof=1)``, ``x.argmax()``, ``np.ptp``,
``x.cumsum()``, the nan versions and ``da.average`` of a masked array reduce
its unmasked values (the plan chose the mask-aware chunk functions when it
was built), and a result with no unmasked value is masked, as in
``numpy.ma``. The functions of the same names here (``da.ma.sum``, ...) are
those reductions. ``sort``/``argsort`` (and ``np.sort``, ``x.argsort()``,
``partition``/``argpartition``) order a masked array as ``numpy.ma.sort``:
by its data filled with an extreme value (masked values last; ``da.ma.sort``
and ``da.ma.argsort`` take ``endwith=`` and ``fill_value=``), the mask
travelling with the data. An operation that cannot respect a mask
(``median``, ``percentile``, ``topk``, ``histogram``, ``unique``,
``searchsorted``) refuses a masked array when it is built, naming ``filled``. Not yet mask-aware: the matrix products and ``linalg``
(``numpy.ma`` has ``ma.dot`` only).

Not lazy, so not here: ``is_masked`` (a bool that needs the data), and
``getmask``'s ``nomask``: :func:`getmask` always gives the full boolean array.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([1.0, -1.0, 3.0, np.nan]), chunks=2)
>>> m = da.ma.masked_invalid(da.ma.masked_less(x, 0))
>>> da.ma.getmaskarray(m).compute().tolist()
[False, True, False, True]
>>> float(m.mean()), int(da.ma.count(m)), float(da.ma.masked_invalid(x).sum())
(2.0, 2, 3.0)
>>> da.ma.filled(m, 0.0).compute().tolist()
[1.0, 0.0, 3.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chunkwise.array import reductions
from chunkwise.array.core import Array, asarray, elemwise
from chunkwise.array.creation import empty
from chunkwise.array.cumulative import cumprod, cumsum
from chunkwise.array.elementwise import nonzero as nonzero_
from chunkwise.array.masks import (
    data_block,
    declare_masked,
    filled_block,
    is_masked,
    mask_block,
)
from chunkwise.array.reductions import argmax, argmin, average
from chunkwise.array.sorting import sorted_along

__all__ = [
    "all",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "average",
    "compressed",
    "count",
    "count_masked",
    "cumprod",
    "cumsum",
    "empty_like",
    "filled",
    "fix_invalid",
    "getdata",
    "getmask",
    "getmaskarray",
    "masked_all",
    "masked_all_like",
    "masked_array",
    "masked_equal",
    "masked_greater",
    "masked_greater_equal",
    "masked_inside",
    "masked_invalid",
    "masked_less",
    "masked_less_equal",
    "masked_not_equal",
    "masked_outside",
    "masked_values",
    "masked_where",
    "max",
    "mean",
    "min",
    "nonzero",
    "ones_like",
    "prod",
    "ptp",
    "set_fill_value",
    "sort",
    "std",
    "sum",
    "var",
    "where",
    "zeros_like",
]


# --- making masks ------------------------------------------------------------------------------


def _masked_op(name: str, *args: Any, dtype: Any, kwargs: dict | None = None, func: Any) -> Array:
    return elemwise(func, *args, dtype=dtype, funcname=name, kwargs=kwargs)


@declare_masked(True, elementwise=True)
def _masked_array_block(data: np.ndarray, mask: Any = False, fill_value: Any = None) -> np.ma.MaskedArray:
    mask = np.ma.getmaskarray(data) | np.broadcast_to(np.asarray(mask, dtype=bool), np.shape(data))
    return np.ma.masked_array(np.ma.getdata(data), mask=mask, fill_value=fill_value)


def masked_array(data: Any, mask: Any = False, fill_value: Any = None, dtype: Any = None,
                 **kwargs: Any) -> Array:
    """A masked array of ``data`` with ``mask`` (a bool array or scalar), as ``numpy.ma.masked_array``.

    A masked ``data`` keeps its own mask too (``mask`` adds to it). ``copy``,
    ``keep_mask`` and NumPy's other layout keywords do not apply to lazy arrays.

    >>> import numpy as np
    >>> m = masked_array(asarray(np.arange(3)), mask=np.array([0, 1, 0], dtype=bool))
    >>> int(m.sum())
    2
    """
    unsupported = sorted(set(kwargs) - {"copy", "keep_mask", "hard_mask", "subok", "ndmin", "shrink"})
    if unsupported:
        raise TypeError(f"ma.masked_array: unsupported keywords {unsupported}")
    x = asarray(data)
    if dtype is not None:
        x = x.astype(dtype)
    if isinstance(mask, (bool, np.bool_)) or mask is np.ma.nomask:
        return _masked_op("masked_array", x, dtype=x.dtype, func=_masked_array_block,
                          kwargs={"mask": bool(mask), "fill_value": fill_value})
    return _masked_op("masked_array", x, asarray(mask), dtype=x.dtype, func=_masked_array_block,
                      kwargs={"fill_value": fill_value})


@declare_masked(True, elementwise=True)
def _where_block(condition: np.ndarray, block: np.ndarray) -> np.ma.MaskedArray:
    condition, data = np.broadcast_arrays(condition, block)
    return np.ma.masked_where(condition, data)


def masked_where(condition: Any, a: Any, copy: bool = True) -> Array:
    """``a`` masked where ``condition`` is true, as ``numpy.ma.masked_where``."""
    x = asarray(a)
    return _masked_op("masked_where", asarray(condition), x, dtype=x.dtype, func=_where_block)


@declare_masked(True, elementwise=True)
def _invalid_block(block: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_invalid(block)


def masked_invalid(a: Any, copy: bool = True) -> Array:
    """``a`` masked where it is NaN or infinite, as ``numpy.ma.masked_invalid``."""
    x = asarray(a)
    return _masked_op("masked_invalid", x, dtype=x.dtype, func=_invalid_block)


def _compare(name: str, numpy_func: Any, doc: str) -> Any:
    @declare_masked(True, elementwise=True)
    def block(data: np.ndarray, value: Any) -> np.ma.MaskedArray:
        return numpy_func(data, value)

    block.__name__ = block.__qualname__ = f"_{name}_block"

    def masked(x: Any, value: Any, copy: bool = True) -> Array:
        x = asarray(x)
        return _masked_op(name, x, value, dtype=x.dtype, func=block)

    masked.__name__ = masked.__qualname__ = name
    masked.__doc__ = f"``x`` masked where {doc}, as ``numpy.ma.{name}``."
    return masked


masked_equal = _compare("masked_equal", np.ma.masked_equal, "it equals ``value``")
masked_not_equal = _compare("masked_not_equal", np.ma.masked_not_equal, "it differs from ``value``")
masked_greater = _compare("masked_greater", np.ma.masked_greater, "it is greater than ``value``")
masked_greater_equal = _compare("masked_greater_equal", np.ma.masked_greater_equal, "it is at least ``value``")
masked_less = _compare("masked_less", np.ma.masked_less, "it is less than ``value``")
masked_less_equal = _compare("masked_less_equal", np.ma.masked_less_equal, "it is at most ``value``")


@declare_masked(True, elementwise=True)
def _inside_block(block: np.ndarray, v1: Any, v2: Any) -> np.ma.MaskedArray:
    return np.ma.masked_inside(block, v1, v2)


@declare_masked(True, elementwise=True)
def _outside_block(block: np.ndarray, v1: Any, v2: Any) -> np.ma.MaskedArray:
    return np.ma.masked_outside(block, v1, v2)


def masked_inside(x: Any, v1: Any, v2: Any, copy: bool = True) -> Array:
    """``x`` masked inside ``[v1, v2]``, as ``numpy.ma.masked_inside``."""
    x = asarray(x)
    return _masked_op("masked_inside", x, dtype=x.dtype, func=_inside_block, kwargs={"v1": v1, "v2": v2})


def masked_outside(x: Any, v1: Any, v2: Any, copy: bool = True) -> Array:
    """``x`` masked outside ``[v1, v2]``, as ``numpy.ma.masked_outside``."""
    x = asarray(x)
    return _masked_op("masked_outside", x, dtype=x.dtype, func=_outside_block, kwargs={"v1": v1, "v2": v2})


@declare_masked(True, elementwise=True)
def _values_block(block: np.ndarray, value: Any, rtol: float, atol: float) -> np.ma.MaskedArray:
    return np.ma.masked_values(block, value, rtol=rtol, atol=atol, shrink=False)


def masked_values(x: Any, value: Any, rtol: float = 1e-05, atol: float = 1e-08, copy: bool = True,
                  shrink: bool = True) -> Array:
    """``x`` masked where it is close to ``value``, as ``numpy.ma.masked_values``."""
    x = asarray(x)
    return _masked_op("masked_values", x, dtype=x.dtype, func=_values_block,
                      kwargs={"value": value, "rtol": rtol, "atol": atol})


@declare_masked(True, elementwise=True)
def _fix_block(block: np.ndarray, fill_value: Any) -> np.ma.MaskedArray:
    return np.ma.fix_invalid(block, fill_value=fill_value)


def fix_invalid(a: Any, fill_value: Any = None) -> Array:
    """``a`` masked where invalid, invalid data replaced by ``fill_value``, as ``numpy.ma.fix_invalid``."""
    x = asarray(a)
    return _masked_op("fix_invalid", x, dtype=x.dtype, func=_fix_block, kwargs={"fill_value": fill_value})


@declare_masked(True, elementwise=True)
def _all_masked_block(block: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_all_like(np.ma.getdata(block))


def masked_all(shape: Any, dtype: Any = float, chunks: Any = "auto") -> Array:
    """An array with every element masked, as ``numpy.ma.masked_all`` (``chunks`` as ``da.empty``)."""
    return masked_all_like(empty(shape, dtype=dtype, chunks=chunks))


def masked_all_like(a: Any) -> Array:
    """An array shaped like ``a`` with every element masked, as ``numpy.ma.masked_all_like``."""
    x = asarray(a)
    return _masked_op("masked_all_like", x, dtype=x.dtype, func=_all_masked_block)


def _like(name: str, numpy_func: Any) -> Any:
    @declare_masked(True, elementwise=True)
    def block(data: np.ndarray) -> np.ma.MaskedArray:
        return np.ma.masked_array(numpy_func(data))

    block.__name__ = block.__qualname__ = f"_{name}_block"

    def like(a: Any, dtype: Any = None) -> Array:
        x = asarray(a) if dtype is None else asarray(a).astype(dtype)
        return _masked_op(name, x, dtype=x.dtype, func=block)

    like.__name__ = like.__qualname__ = name
    like.__doc__ = f"``numpy.ma.{name}`` of ``a`` block by block (the mask of ``a`` is kept)."
    return like


ones_like = _like("ones_like", np.ma.ones_like)
zeros_like = _like("zeros_like", np.ma.zeros_like)
empty_like = _like("empty_like", np.ma.empty_like)


@declare_masked(True, elementwise=True)
def _where_either(condition: Any, x: Any, y: Any) -> np.ma.MaskedArray:
    return np.ma.masked_array(np.ma.where(condition, x, y))


def where(condition: Any, x: Any, y: Any) -> Array:
    """``x`` where ``condition`` is true, else ``y``, masked where the chosen value is, as ``numpy.ma.where``."""
    operands = [asarray(v) if isinstance(v, (Array, np.ndarray)) else v for v in (condition, x, y)]
    dtype = np.result_type(*(getattr(v, "dtype", v) for v in operands[1:]))
    return _masked_op("where", *operands, dtype=dtype, func=_where_either)


@declare_masked(True, elementwise=True)
def _with_fill_value(block: Any, fill_value: Any) -> np.ma.MaskedArray:
    out = np.ma.masked_array(block, copy=False)
    out = out.view()  # a new object: the input block is never changed
    out.fill_value = fill_value
    return out


def set_fill_value(a: Array, fill_value: Any) -> None:
    """Set the fill value of the masked array ``a`` in place, as ``numpy.ma.set_fill_value`` and Dask.

    The plan of ``a`` is swapped for one whose blocks carry ``fill_value`` (as
    item assignment does); a scalar only.
    """
    if not isinstance(a, Array):
        raise TypeError(f"ma.set_fill_value: needs a chunkwise array, got {type(a).__name__}")
    if np.ndim(fill_value):
        raise ValueError("ma.set_fill_value: fill_value must be a scalar")
    np.ma.masked_array(np.empty(0, a.dtype), fill_value=fill_value)  # refuses a value the dtype cannot hold
    new = _masked_op("set_fill_value", a, dtype=a.dtype, func=_with_fill_value, kwargs={"fill_value": fill_value})
    object.__setattr__(a, "_expr", new.expr)  # arrays are immutable plans: swap in the new one


# --- dropping masks ----------------------------------------------------------------------------


def filled(a: Any, fill_value: Any = None) -> Array:
    """The data with masked places replaced by ``fill_value``, as ``numpy.ma.filled`` (plain blocks)."""
    x = asarray(a)
    return elemwise(filled_block, x, dtype=x.dtype, funcname="filled", kwargs={"fill_value": fill_value})


def getdata(a: Any) -> Array:
    """The data under the mask, as ``numpy.ma.getdata`` (plain blocks)."""
    x = asarray(a)
    return elemwise(data_block, x, dtype=x.dtype, funcname="getdata")


def getmaskarray(a: Any) -> Array:
    """The mask as a full boolean array, as ``numpy.ma.getmaskarray``."""
    return elemwise(mask_block, asarray(a), dtype=bool, funcname="getmaskarray")


def getmask(a: Any) -> Array:
    """The mask, as ``numpy.ma.getmask``, always as the full boolean array.

    Differs from NumPy: NumPy gives ``nomask`` (``False``) for an array with no
    masked value, which is not known before computing; this is
    :func:`getmaskarray`.
    """
    return getmaskarray(a)


def compressed(a: Any) -> Array:
    """The unmasked values as a 1-d array (in C order), as ``numpy.ma.compressed``.

    Its chunk lengths are unknown (``nan``) until computed, as after any boolean mask.
    """
    x = asarray(a)
    if x.ndim == 0:
        x = x.reshape((1,))
    return getdata(x)[~getmaskarray(x)]


def nonzero(a: Any) -> tuple:
    """The indices of the unmasked non-zero elements, one 1-d array per axis, as ``numpy.ma.nonzero``."""
    x = asarray(a)
    return nonzero_(filled(x.astype(bool), False) if is_masked(x) else x)


# --- reductions (the generic ones respect masks; these are those, under numpy.ma's names) --------


@declare_masked(False, elementwise=True)
def _unmasked_block(block: Any) -> np.ndarray:
    return ~np.ma.getmaskarray(block)


def count(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The number of unmasked elements along ``axis``, as ``numpy.ma.count``."""
    unmasked = elemwise(_unmasked_block, asarray(a), dtype=bool, funcname="count")
    return reductions.sum(unmasked, axis=axis, keepdims=keepdims, dtype=np.intp, split_every=split_every)


def count_masked(a: Any, axis: Any = None, split_every: Any = None) -> Array:
    """The number of masked elements along ``axis``, as ``numpy.ma.count_masked``."""
    masks = getmaskarray(a)
    return reductions.sum(masks, axis=axis, dtype=np.intp, split_every=split_every)


def sum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The sum of unmasked elements, as ``numpy.ma.sum`` (masked where none is unmasked)."""
    return reductions.sum(a, axis=axis, dtype=dtype, keepdims=keepdims, split_every=split_every)


def prod(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The product of unmasked elements, as ``numpy.ma.prod``."""
    return reductions.prod(a, axis=axis, dtype=dtype, keepdims=keepdims, split_every=split_every)


def mean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The mean of unmasked elements, as ``numpy.ma.mean``."""
    return reductions.mean(a, axis=axis, dtype=dtype, keepdims=keepdims, split_every=split_every)


def min(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The smallest unmasked element, as ``numpy.ma.min``."""
    return reductions.min(a, axis=axis, keepdims=keepdims, split_every=split_every)


def max(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The largest unmasked element, as ``numpy.ma.max``."""
    return reductions.max(a, axis=axis, keepdims=keepdims, split_every=split_every)


def ptp(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """The range (max - min) of unmasked elements, as ``numpy.ma.ptp``."""
    return reductions.ptp(a, axis=axis, keepdims=keepdims, split_every=split_every)


def any(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """Whether any unmasked element is true, as ``numpy.ma.any``."""
    return reductions.any(a, axis=axis, keepdims=keepdims, split_every=split_every)


def all(a: Any, axis: Any = None, keepdims: bool = False, split_every: Any = None) -> Array:
    """Whether all unmasked elements are true, as ``numpy.ma.all``."""
    return reductions.all(a, axis=axis, keepdims=keepdims, split_every=split_every)


def var(a: Any, axis: Any = None, dtype: Any = None, ddof: int = 0, keepdims: bool = False,
        split_every: Any = None) -> Array:
    """The variance of unmasked elements, as ``numpy.ma.var`` (masked where ``count <= ddof``)."""
    return reductions.var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, split_every=split_every)


def std(a: Any, axis: Any = None, dtype: Any = None, ddof: int = 0, keepdims: bool = False,
        split_every: Any = None) -> Array:
    """The standard deviation of unmasked elements, as ``numpy.ma.std``."""
    return reductions.std(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, split_every=split_every)


# --- sorting (masked values last, as numpy.ma; the generic sort/argsort do the same) -----------


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, endwith: bool = True,
         fill_value: Any = None, *, stable: Any = None) -> Array:
    """A sorted copy, masked values last (``endwith=False``: first), as ``numpy.ma.sort``.

    The order is that of the data filled with ``fill_value`` (when given, it
    overrides ``endwith``), else with NaN (floats) or the dtype's largest value
    for ``endwith``, the dtype's smallest (``-inf``) otherwise: a masked value
    ties with a real value equal to the fill and is ordered by position, as
    NumPy's stable sort: a masked sort is always stable (``kind`` is accepted
    and has no effect). The mask travels with the data.

    >>> import numpy as np
    >>> m = masked_greater(asarray(np.array([3, 9, 1, 7, 2])).rechunk(2), 5)
    >>> sort(m).compute()
    masked_array(data=[1, 2, 3, --, --],
                 mask=[False, False, False,  True,  True],
           fill_value=999999)
    >>> sort(m, endwith=False).compute().tolist()
    [None, None, 1, 2, 3]
    """
    return sorted_along(a, axis, "stable" if stable else kind, order, "values", "ma.sort", endwith, fill_value)


def argsort(a: Any, axis: Any = None, kind: Any = None, order: Any = None, endwith: bool = True,
            fill_value: Any = None, *, stable: Any = None) -> Array:
    """The indices that sort ``a`` with masked places last (``endwith=False``: first), as ``numpy.ma.argsort``.

    The argsort of the data filled as :func:`sort` fills it (stable on a
    chunked axis, NumPy's ``kind`` on a one-block axis). ``axis`` defaults
    to ``None`` (flattened) as ``numpy.ma.argsort`` does for arrays of two or
    more dimensions (where NumPy warns that it will become ``-1``; pass it).

    >>> import numpy as np
    >>> m = masked_greater(asarray(np.array([3, 9, 1, 7, 2])).rechunk(2), 5)
    >>> argsort(m).compute().tolist(), argsort(m, endwith=False).compute().tolist()
    ([2, 4, 0, 1, 3], [1, 3, 2, 4, 0])
    """
    return sorted_along(a, axis, "stable" if stable else kind, order, "positions", "ma.argsort", endwith,
                        fill_value)


def __dir__() -> list:
    """The public names only (not the helper imports): what tab completion shows."""
    return sorted(__all__)
