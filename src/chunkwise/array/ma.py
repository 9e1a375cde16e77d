"""``chunkwise.array.ma``: masked arrays, as ``numpy.ma``, block by block.

Design. A masked chunkwise array is an ordinary ``Array`` whose blocks are
``numpy.ma.MaskedArray`` objects (its ``dtype`` is the data's); the
constructors below (``masked_where``, ``masked_invalid``, ...) are
``map_blocks`` calls of their NumPy namesakes, and elementwise arithmetic on
such arrays keeps the masks because NumPy's ufuncs do. Computing assembles
masked blocks with ``numpy.ma.concatenate``, so the result is a
``MaskedArray``.

Reductions that respect masks are built from the ordinary tree reductions
on plain blocks (the generic reductions see plain data): the data with
masked places replaced by the operation's identity (``0`` for sums,
``+-inf``/the dtype's extremes for ``min``/``max``), and the count of unmasked
values; results with no unmasked value are masked, as in ``numpy.ma``.
``var``/``std`` take two passes (mean, then centred squares) for accuracy.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([1.0, -1.0, 3.0, np.nan]), chunks=2)
>>> m = da.ma.masked_invalid(da.ma.masked_less(x, 0))
>>> da.ma.getmaskarray(m).compute().tolist()
[False, True, False, True]
>>> float(da.ma.mean(m)), int(da.ma.count(m))
(2.0, 2)
>>> da.ma.filled(m, 0.0).compute().tolist()
[1.0, 0.0, 3.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chunkwise.array.blockwise import map_blocks
from chunkwise.array.core import Array, asarray
from chunkwise.array.reductions import max as max_
from chunkwise.array.reductions import min as min_
from chunkwise.array.reductions import sum as sum_

__all__ = [
    "count",
    "filled",
    "fix_invalid",
    "getdata",
    "getmaskarray",
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
    "std",
    "sum",
    "var",
]


# --- making and unmaking masks ---------------------------------------------------------------


def _masked_array_block(data: np.ndarray, mask: Any = False, fill_value: Any = None) -> np.ma.MaskedArray:
    return np.ma.masked_array(data, mask=mask, fill_value=fill_value)


def masked_array(data: Any, mask: Any = False, fill_value: Any = None, **kwargs: Any) -> Array:
    """A masked array of ``data`` with ``mask`` (a bool array or scalar), as ``numpy.ma.masked_array``.

    >>> import numpy as np
    >>> m = masked_array(asarray(np.arange(3)), mask=np.array([0, 1, 0], dtype=bool))
    >>> int(sum(m))
    2
    """
    if kwargs:
        raise TypeError(f"ma.masked_array: unsupported keywords {sorted(kwargs)}")
    x = asarray(data)
    if isinstance(mask, (bool, np.bool_)):
        return map_blocks(_masked_array_block, x, mask=bool(mask), fill_value=fill_value, dtype=x.dtype)
    return map_blocks(_masked_array_block, x, asarray(mask), fill_value=fill_value, dtype=x.dtype)


def masked_where(condition: Any, a: Any, copy: bool = True) -> Array:
    """``a`` masked where ``condition`` is true, as ``numpy.ma.masked_where``."""
    x = asarray(a)
    return map_blocks(_where_block, asarray(condition), x, dtype=x.dtype)


def _where_block(condition: np.ndarray, block: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_where(condition, block)


def masked_invalid(a: Any, copy: bool = True) -> Array:
    """``a`` masked where it is NaN or infinite, as ``numpy.ma.masked_invalid``."""
    x = asarray(a)
    return map_blocks(np.ma.masked_invalid, x, dtype=x.dtype)


def _compare(name: str, numpy_func: Any, doc: str) -> Any:
    def masked(x: Any, value: Any, copy: bool = True) -> Array:
        x = asarray(x)
        return map_blocks(numpy_func, x, value, dtype=x.dtype)

    masked.__name__ = masked.__qualname__ = name
    masked.__doc__ = f"``x`` masked where {doc}, as ``numpy.ma.{name}``."
    return masked


masked_equal = _compare("masked_equal", np.ma.masked_equal, "it equals ``value``")
masked_not_equal = _compare("masked_not_equal", np.ma.masked_not_equal, "it differs from ``value``")
masked_greater = _compare("masked_greater", np.ma.masked_greater, "it is greater than ``value``")
masked_greater_equal = _compare("masked_greater_equal", np.ma.masked_greater_equal, "it is at least ``value``")
masked_less = _compare("masked_less", np.ma.masked_less, "it is less than ``value``")
masked_less_equal = _compare("masked_less_equal", np.ma.masked_less_equal, "it is at most ``value``")


def masked_inside(x: Any, v1: Any, v2: Any, copy: bool = True) -> Array:
    """``x`` masked inside ``[v1, v2]``, as ``numpy.ma.masked_inside``."""
    x = asarray(x)
    return map_blocks(np.ma.masked_inside, x, v1, v2, dtype=x.dtype)


def masked_outside(x: Any, v1: Any, v2: Any, copy: bool = True) -> Array:
    """``x`` masked outside ``[v1, v2]``, as ``numpy.ma.masked_outside``."""
    x = asarray(x)
    return map_blocks(np.ma.masked_outside, x, v1, v2, dtype=x.dtype)


def masked_values(x: Any, value: Any, rtol: float = 1e-05, atol: float = 1e-08, copy: bool = True,
                  shrink: bool = True) -> Array:
    """``x`` masked where it is close to ``value``, as ``numpy.ma.masked_values``."""
    x = asarray(x)
    return map_blocks(_values_block, x, value=value, rtol=rtol, atol=atol, dtype=x.dtype)


def _values_block(block: np.ndarray, value: Any, rtol: float, atol: float) -> np.ma.MaskedArray:
    return np.ma.masked_values(block, value, rtol=rtol, atol=atol, shrink=False)


def filled(a: Any, fill_value: Any = None) -> Array:
    """The data with masked places replaced by ``fill_value``, as ``numpy.ma.filled`` (plain blocks)."""
    x = asarray(a)
    return map_blocks(np.ma.filled, x, fill_value=fill_value, dtype=x.dtype)


def getdata(a: Any) -> Array:
    """The data under the mask, as ``numpy.ma.getdata`` (plain blocks)."""
    x = asarray(a)
    return map_blocks(np.ma.getdata, x, dtype=x.dtype)


def getmaskarray(a: Any) -> Array:
    """The mask as a full boolean array, as ``numpy.ma.getmaskarray``."""
    return map_blocks(np.ma.getmaskarray, asarray(a), dtype=bool)


def fix_invalid(a: Any, fill_value: Any = None) -> Array:
    """``a`` masked where invalid, invalid data replaced by ``fill_value``, as ``numpy.ma.fix_invalid``."""
    x = asarray(a)
    return map_blocks(_fix_block, x, fill_value=fill_value, dtype=x.dtype)


def _fix_block(block: np.ndarray, fill_value: Any) -> np.ma.MaskedArray:
    return np.ma.fix_invalid(block, fill_value=fill_value)


# --- reductions that respect masks -----------------------------------------------------------


def _filled_with(block: np.ndarray, value: Any) -> np.ndarray:
    return np.ma.filled(block, value)


def _unmasked(block: np.ndarray) -> np.ndarray:
    return ~np.ma.getmaskarray(block)


def _mask_empty(value: np.ndarray, count: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_where(count == 0, value)


def _ratio(total: np.ndarray, count: np.ndarray, ddof: int, out_dtype: np.dtype) -> np.ma.MaskedArray:
    """``total / (count - ddof)``, masked where ``count <= ddof`` (no warning for those places)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.divide(total, count - ddof).astype(out_dtype, copy=False)
    return np.ma.masked_where(count <= ddof, value)


def count(a: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """The number of unmasked elements along ``axis``, as ``numpy.ma.count``."""
    return sum_(map_blocks(_unmasked, asarray(a), dtype=bool), axis=axis, keepdims=keepdims, dtype=np.intp)


def _data(x: Array, fill: Any) -> Array:
    return map_blocks(_filled_with, x, value=fill, dtype=x.dtype)


def _masked_result(value: Array, counts: Array) -> Array:
    return map_blocks(_mask_empty, value, counts, dtype=value.dtype)


def _masked_ratio(total: Array, counts: Array, ddof: int, dtype: np.dtype) -> Array:
    return map_blocks(_ratio, total, counts, ddof=ddof, out_dtype=dtype, dtype=dtype)


def sum(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Array:
    """The sum of unmasked elements, as ``numpy.ma.sum`` (masked where none is unmasked)."""
    x = asarray(a)
    total = sum_(_data(x, 0), axis=axis, dtype=dtype, keepdims=keepdims)
    return _masked_result(total, count(x, axis=axis, keepdims=keepdims))


def mean(a: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Array:
    """The mean of unmasked elements, as ``numpy.ma.mean``."""
    x = asarray(a)
    acc = dtype or (np.float64 if x.dtype.kind in "biu" else x.dtype)
    total = sum_(_data(x, 0), axis=axis, dtype=acc, keepdims=keepdims)
    return _masked_ratio(total, count(x, axis=axis, keepdims=keepdims), 0, np.dtype(acc))


def _extreme_fill(dtype: np.dtype, largest: bool) -> Any:
    sample = np.ones(1, dtype=dtype)
    return np.ma.minimum_fill_value(sample) if largest else np.ma.maximum_fill_value(sample)


def min(a: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """The smallest unmasked element, as ``numpy.ma.min``."""
    x = asarray(a)
    value = min_(_data(x, _extreme_fill(x.dtype, True)), axis=axis, keepdims=keepdims)
    return _masked_result(value, count(x, axis=axis, keepdims=keepdims))


def max(a: Any, axis: Any = None, keepdims: bool = False) -> Array:
    """The largest unmasked element, as ``numpy.ma.max``."""
    x = asarray(a)
    value = max_(_data(x, _extreme_fill(x.dtype, False)), axis=axis, keepdims=keepdims)
    return _masked_result(value, count(x, axis=axis, keepdims=keepdims))


def _centred_squares(block: np.ndarray, centre: np.ndarray) -> np.ndarray:
    diff = np.ma.getdata(block) - np.ma.getdata(centre)
    squares = (diff * np.conj(diff)).real if np.iscomplexobj(diff) else diff * diff
    return np.where(np.ma.getmaskarray(block), 0, squares)


def var(a: Any, axis: Any = None, dtype: Any = None, ddof: int = 0, keepdims: bool = False) -> Array:
    """The variance of unmasked elements, as ``numpy.ma.var`` (masked where ``count <= ddof``)."""
    x = asarray(a)
    acc = np.dtype(dtype or (np.float64 if x.dtype.kind in "biu" else x.dtype))
    centre = mean(x, axis=axis, dtype=acc, keepdims=True)
    squares = map_blocks(_centred_squares, x, centre, dtype=np.empty(0, acc).real.dtype)
    total = sum_(squares, axis=axis, keepdims=keepdims)
    return _masked_ratio(total, count(x, axis=axis, keepdims=keepdims), ddof, squares.dtype)


def std(a: Any, axis: Any = None, dtype: Any = None, ddof: int = 0, keepdims: bool = False) -> Array:
    """The standard deviation of unmasked elements, as ``numpy.ma.std``."""
    variance = var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    return map_blocks(np.ma.sqrt, variance, dtype=variance.dtype)


def __dir__() -> list:
    """The public names only (not the helper imports): what tab completion shows."""
    return sorted(__all__)
