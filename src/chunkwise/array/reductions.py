"""Reductions (sum, mean, var, min, argmin, ...).

Every reduction is one :class:`~chunkwise.array.treereduce.Reduction` node, a
*tree reduction* of ``chunk``/``combine``/``aggregate`` functions (see
:mod:`chunkwise.array.treereduce`, which also holds :func:`reduction` and the
argument checks).

Partials merge elementwise, so the order of a group does not matter: mean and
variance use the pairwise (Chan/Welford) merge of ``(count, mean, M2)``,
numerically stable; argmin/argmax carry ``(value, global index)`` pairs.

Cumulative sums, products and ``diff`` live in :mod:`chunkwise.array.cumulative`;
argmin, argmax and their nan versions in :mod:`chunkwise.array.argreductions`
(re-exported here).

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> x.sum(axis=0).compute()
array([12, 15, 18, 21])
>>> float(np.mean(x)), int(x.argmax())
(5.5, 11)
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from chunkwise.array.argreductions import arg_chunk, argmax, argmin, nanargmax, nanargmin
from chunkwise.array.axes import normalize_axes
from chunkwise.array.core import Array, asarray, elemwise, implements
from chunkwise.array.masks import declare_masked, is_masked
from chunkwise.array.treereduce import (
    Reduction,
    check_not_empty,
    numpy_dtype,
    reduction,
    refuse_extra,
)

__all__ = [
    "Reduction",
    "all",
    "any",
    "argmax",
    "argmin",
    "average",
    "count_nonzero",
    "fused_partials",
    "fusion_spec",
    "masked_partials",
    "max",
    "mean",
    "min",
    "nanargmax",
    "nanargmin",
    "nanmax",
    "nanmean",
    "nanmin",
    "nanprod",
    "nanstd",
    "nansum",
    "nanvar",
    "prod",
    "ptp",
    "reduction",
    "reduction_kind",
    "std",
    "sum",
    "var",
    "with_reduced_axes",
]

# --- ufunc-style reductions: sum, prod, min, max, any, all and their nan versions -------------


def _on_selection(chunk: Callable, block: np.ndarray, where: np.ndarray, axis: tuple, **kwargs: Any) -> Any:
    """``chunk`` over every axis of the elements ``where`` selects, as a keepdims partial of ``block``.

    A reduction over every axis reduces the selection itself (``block[where]``,
    a 1-d copy, as NumPy's ``x[mask].sum()``): its later passes (the deviations of
    a variance) read only the selected values.
    """
    if len(axis) != block.ndim:
        return None
    out = chunk(block[where], axis=(0,), **kwargs)
    keep = (1,) * block.ndim

    def shaped(part: Any) -> Any:
        return part.reshape(keep) if isinstance(part, np.ndarray) else part

    if out is None:
        return _EMPTY
    return tuple(shaped(p) for p in out) if isinstance(out, tuple) else shaped(out)


_EMPTY = object()  # a selection with no partial (min of nothing)


def _ufunc_chunk(
    block: np.ndarray, func: Callable, axis: tuple, where: Any = None, masked: bool = False, **kwargs: Any
) -> Any:
    if masked:
        return _masked_ufunc_chunk(block, func, axis, where, **kwargs)
    if where is None:
        return func(block, axis=axis, keepdims=True, **kwargs)
    if func in _NO_IDENTITY and not where.any():
        return None  # min/max: no partial when nothing is selected
    selected = _on_selection(_ufunc_chunk, block, where, axis, func=func, **kwargs)
    if selected is not None:
        return None if selected is _EMPTY else selected
    # Reduce what ``where`` selects: the rest filled with the operation's identity (NumPy's
    # own ``where=`` reductions take a slower, masked loop and give up pairwise summation).
    if func in _NO_IDENTITY:  # min/max: no partial when nothing is selected
        if not where.any():
            return None
        fill = _initial(func, block.dtype)
    else:
        fill = _IDENTITIES[func]
    filled = np.where(where, block, block.dtype.type(fill))
    return func(filled, axis=axis, keepdims=True, **kwargs)


def _initial(func: Callable, dtype: np.dtype) -> Any:
    """The ``initial=`` a masked min/max starts from: the dtype's far end (NaN for nanmin/nanmax)."""
    lowest = func in (np.max, _fmax_reduce)
    if dtype.kind == "f":
        if func in (_fmin_reduce, _fmax_reduce):
            return np.nan  # fmin(nan, v) is v: an all-NaN selection stays NaN
        return -np.inf if lowest else np.inf
    if dtype.kind == "b":
        return not lowest
    info = np.iinfo(dtype)
    return info.min if lowest else info.max


def _binop_combine(parts: list, binop: Callable) -> np.ndarray:
    return functools.reduce(binop, parts)


# --- masked blocks (chunkwise.array.masks): the same kernels on the unmasked values only --------


def _unmasked(block: Any, where: Any) -> tuple:
    """The data of ``block`` and what of it to reduce: its unmasked places (and ``where``'s).

    A block with nothing masked (or a plain one) keeps ``where`` as it is: the
    fast, unselected path when that is ``None``.
    """
    mask = np.ma.getmask(block)
    data = np.ma.getdata(block)
    if mask is np.ma.nomask or not mask.any():
        return data, where
    valid = ~mask
    return data, valid if where is None else valid & where


def _masked_fill(func: Callable, dtype: np.dtype) -> Any:
    """What masked places stand in as: the identity, or the far end of the dtype for min/max."""
    if func not in _NO_IDENTITY:
        return _IDENTITIES[func]
    if dtype.kind in "biuf":
        return _initial(func, dtype)
    sample = np.empty(0, dtype)
    return np.ma.minimum_fill_value(sample) if func in (np.min, _fmin_reduce) else np.ma.maximum_fill_value(sample)


def _masked_ufunc_chunk(block: Any, func: Callable, axis: tuple, where: Any, **kwargs: Any) -> tuple:
    """``(count, partial)``: how many values are unmasked, and ``func`` of them (keepdims)."""
    data, valid = _unmasked(block, where)
    if valid is None:
        keep = tuple(1 if a in axis else n for a, n in enumerate(data.shape))
        count = np.full(keep, math.prod(data.shape[a] for a in axis), dtype=np.intp)
        return count, func(data, axis=axis, keepdims=True, **kwargs)
    fill = np.asarray(_masked_fill(func, data.dtype)).astype(data.dtype)
    filled = np.where(valid, data, fill)
    return np.count_nonzero(valid, axis=axis, keepdims=True), func(filled, axis=axis, keepdims=True, **kwargs)


def _masked_combine(parts: list, binop: Callable) -> tuple:
    counts = functools.reduce(operator.add, [p[0] for p in parts])
    return counts, functools.reduce(binop, [p[1] for p in parts])


def _mask_where(value: Any, empty: Any) -> np.ma.MaskedArray:
    value = np.asarray(value)
    return np.ma.masked_array(value, mask=np.broadcast_to(np.asarray(empty, dtype=bool), value.shape))


def _masked_aggregate(partial: tuple, warn_nan: bool) -> np.ma.MaskedArray:
    """The result, masked where no value was unmasked (as ``numpy.ma``)."""
    count, value = partial
    empty = np.broadcast_to(np.asarray(count) == 0, np.shape(value))
    if warn_nan:  # nanmin/nanmax: an unmasked all-NaN slice warns, as NumPy's
        _nan_warning_aggregate(np.asarray(value)[~empty])
    return _mask_where(value, empty)


def _masked_mean_aggregate(partial: tuple) -> np.ma.MaskedArray:
    n, total = partial
    empty = np.asarray(n) == 0
    return _mask_where(_mean_aggregate((np.where(empty, 1, n), total)), empty)


def _masked_var_aggregate(partial: tuple, ddof: Any, sqrt: bool) -> np.ma.MaskedArray:
    n, mean, m2 = partial
    empty = np.asarray(n) - ddof <= 0  # masked where count <= ddof, as numpy.ma.var
    return _mask_where(_var_aggregate((np.where(empty, ddof + 1, n), mean, m2), ddof, sqrt), empty)


def _nan_warning_aggregate(partial: np.ndarray) -> np.ndarray:
    if partial.dtype.kind == "O":  # NaN objects are unequal to themselves
        nan = np.not_equal(partial, partial, dtype=bool).any()
    else:
        nan = partial.dtype.kind in "fc" and np.isnan(partial).any()
    if nan:
        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=2)
    return partial


def _simple(
    a: Any, opname: str, func: Callable, binop: Callable, axis: Any, keepdims: bool,
    split_every: Any, dtype: Any = None, has_identity: bool = True, aggregate: Callable = np.asarray,
    sample: Callable | None = None,
) -> Array:
    x = asarray(a)
    axes = tuple(sorted(normalize_axes(axis, x.ndim, opname)))
    if x.dtype == object and len(axes) > 1 and func in (np.sum, np.prod, np.nansum, np.nanprod):
        # Python objects need not commute ("a" + "b"): NumPy adds them in C order, which is
        # the last axis first, then the ones before it (whose numbers that does not change)
        out = x
        for one in reversed(axes):
            out = _simple(out, opname, func, binop, one, keepdims, split_every, dtype, has_identity,
                          aggregate, sample)
        return out
    if not has_identity:
        check_not_empty(x, axes, opname)
    kwargs = {} if dtype is None else {"dtype": np.dtype(dtype)}
    out_dtype = numpy_dtype(opname, sample or func, x.dtype, **kwargs)
    if is_masked(x):  # the unmasked values only, a result masked where there is none
        chunk = functools.partial(_ufunc_chunk, func=func, axis=axes, masked=True, **kwargs)
        combine = functools.partial(_masked_combine, binop=binop)
        aggregate = functools.partial(_masked_aggregate, warn_nan=aggregate is _nan_warning_aggregate)
    else:
        chunk = functools.partial(_ufunc_chunk, func=func, axis=axes, **kwargs)
        combine = functools.partial(_binop_combine, binop=binop)
    return reduction(
        x, chunk, combine, aggregate, axis=axes, keepdims=keepdims, dtype=out_dtype,
        split_every=split_every, name=opname, skip_empty=not has_identity,
    )


@implements(np.sum)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Sum over ``axis``, as ``numpy.sum`` (``split_every``: blocks combined per task).

    >>> import numpy as np
    >>> x = asarray(np.arange(6, dtype="int32").reshape(2, 3))
    >>> sum(x, axis=1).compute()
    array([ 3, 12])
    """
    refuse_extra("sum", out, initial=initial, where=where)
    return _simple(a, "sum", np.sum, np.add, axis, keepdims, split_every, dtype)


@implements(np.prod)
def prod(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Product over ``axis``, as ``numpy.prod``.

    >>> import numpy as np
    >>> int(prod(asarray(np.arange(1, 6))))
    120
    """
    refuse_extra("prod", out, initial=initial, where=where)
    return _simple(a, "prod", np.prod, np.multiply, axis, keepdims, split_every, dtype)


@implements(np.min, np.amin)
def min(a, axis=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Minimum over ``axis``, as ``numpy.min`` (NaN propagates).

    >>> import numpy as np
    >>> int(min(asarray(np.array([3, 1, 2]))))
    1
    """
    refuse_extra("min", out, initial=initial, where=where)
    return _simple(a, "minimum", np.min, np.minimum, axis, keepdims, split_every, has_identity=False)


@implements(np.max, np.amax)
def max(a, axis=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Maximum over ``axis``, as ``numpy.max`` (NaN propagates).

    >>> import numpy as np
    >>> int(max(asarray(np.array([3, 1, 2]))))
    3
    """
    refuse_extra("max", out, initial=initial, where=where)
    return _simple(a, "maximum", np.max, np.maximum, axis, keepdims, split_every, has_identity=False)


@implements(np.any)
def any(a, axis=None, out=None, keepdims=False, split_every=None, where=None):
    """Whether any element is true over ``axis``, as ``numpy.any``.

    >>> import numpy as np
    >>> bool(any(asarray(np.array([0, 0, 1]))))
    True
    """
    refuse_extra("any", out, where=where)
    return _simple(a, "any", np.any, np.logical_or, axis, keepdims, split_every)


@implements(np.all)
def all(a, axis=None, out=None, keepdims=False, split_every=None, where=None):
    """Whether all elements are true over ``axis``, as ``numpy.all``.

    >>> import numpy as np
    >>> bool(all(asarray(np.array([1, 0, 1]))))
    False
    """
    refuse_extra("all", out, where=where)
    return _simple(a, "all", np.all, np.logical_and, axis, keepdims, split_every)


@implements(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Sum over ``axis`` treating NaN as zero, as ``numpy.nansum``.

    >>> import numpy as np
    >>> float(nansum(asarray(np.array([1.0, np.nan, 2.0]))))
    3.0
    """
    refuse_extra("nansum", out, initial=initial, where=where)
    return _simple(a, "nansum", np.nansum, np.add, axis, keepdims, split_every, dtype)


@implements(np.nanprod)
def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Product over ``axis`` treating NaN as one, as ``numpy.nanprod``.

    >>> import numpy as np
    >>> float(nanprod(asarray(np.array([2.0, np.nan, 3.0]))))
    6.0
    """
    refuse_extra("nanprod", out, initial=initial, where=where)
    return _simple(a, "nanprod", np.nanprod, np.multiply, axis, keepdims, split_every, dtype)


def _fmin_reduce(block, axis, keepdims):
    if block.dtype == object:  # fmin of objects does not skip NaN objects; nanmin does
        return _object_nan_reduce(np.nanmin, block, axis, keepdims)
    return np.fmin.reduce(block, axis=axis, keepdims=keepdims)


def _fmax_reduce(block, axis, keepdims):
    if block.dtype == object:
        return _object_nan_reduce(np.nanmax, block, axis, keepdims)
    return np.fmax.reduce(block, axis=axis, keepdims=keepdims)


#: Identity-less reductions: under ``where=``, the unselected values are the dtype's far end.
_NO_IDENTITY = (np.min, np.max, _fmin_reduce, _fmax_reduce)


def _object_nan_reduce(func, block, axis, keepdims):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices: NaN, warned at the end
        return func(block, axis=axis, keepdims=keepdims)


def _skip_nan_objects(pick: Callable) -> Callable:
    """The object version of ``np.fmin``/``np.fmax``: the other value where one is NaN."""
    def one(a, b):
        if a != a:
            return b
        if b != b:
            return a
        return pick(a, b)

    return np.frompyfunc(one, 2, 1)


_object_fmin = _skip_nan_objects(builtins.min)
_object_fmax = _skip_nan_objects(builtins.max)


@implements(np.nanmin)
def nanmin(a, axis=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Minimum over ``axis`` ignoring NaN, as ``numpy.nanmin`` (all-NaN slices: NaN and a warning).

    >>> import numpy as np
    >>> float(nanmin(asarray(np.array([np.nan, 3.0, 1.0]))))
    1.0
    """
    refuse_extra("nanmin", out, initial=initial, where=where)
    a = asarray(a)
    return _simple(
        a, "fmin", _fmin_reduce, _object_fmin if a.dtype == object else np.fmin, axis, keepdims, split_every, has_identity=False,
        aggregate=_nan_warning_aggregate, sample=np.nanmin,
    )


@implements(np.nanmax)
def nanmax(a, axis=None, out=None, keepdims=False, split_every=None, initial=None, where=None):
    """Maximum over ``axis`` ignoring NaN, as ``numpy.nanmax`` (all-NaN slices: NaN and a warning).

    >>> import numpy as np
    >>> float(nanmax(asarray(np.array([np.nan, 3.0, 1.0]))))
    3.0
    """
    refuse_extra("nanmax", out, initial=initial, where=where)
    a = asarray(a)
    return _simple(
        a, "fmax", _fmax_reduce, _object_fmax if a.dtype == object else np.fmax, axis, keepdims, split_every, has_identity=False,
        aggregate=_nan_warning_aggregate, sample=np.nanmax,
    )


def _count_nonzero_chunk(block, axis, keepdims):
    return np.count_nonzero(block, axis=axis, keepdims=keepdims)


@implements(np.count_nonzero)
def count_nonzero(a, axis=None, *, keepdims=False, split_every=None):
    """Number of non-zero elements over ``axis``, as ``numpy.count_nonzero``.

    Differs from NumPy: with ``axis=None`` the result is a 0-d array, not an int;
    of a masked array it counts the unmasked non-zero values over every axis too
    (NumPy does so along an axis, but counts the masked data for ``axis=None``).

    >>> import numpy as np
    >>> int(count_nonzero(asarray(np.array([0, 2, 0, 3]))))
    2
    """
    return _simple(
        a, "count_nonzero", _count_nonzero_chunk, np.add, axis, keepdims, split_every,
        sample=lambda s: np.count_nonzero(s, axis=0),
    )


# --- what plan rewrites may assume of a reduction (chunkwise.array.rewrites) ---------------


def reduction_kind(expr: Any) -> str | None:
    """How a ``Reduction`` node built here reduces its blocks; ``None`` for others.

    ``"ufunc"`` (sum, prod, min, max, any, all, their nan versions,
    count_nonzero), ``"moments"`` (mean, var, std and nan versions), ``"ptp"``
    or ``"arg"`` (argmin, argmax). All of them give the same result whatever
    the input's chunks (their partials merge elementwise); ``"ufunc"`` and
    ``"moments"`` chunk functions also take ``where=`` (a boolean block).
    """
    chunk = getattr(expr, "chunk", None)
    func = getattr(chunk, "func", None)
    if func is _ufunc_chunk:
        return "ufunc" if chunk.keywords.get("func") in _MASKABLE else None
    return _KINDS.get(func)


def with_reduced_axes(chunk: functools.partial, axes: tuple) -> functools.partial:
    """The chunk function of a ``"ufunc"``, ``"moments"`` or ``"ptp"`` reduction over other ``axes``."""
    return functools.partial(chunk.func, *chunk.args, **{**chunk.keywords, "axis": tuple(axes)})


# --- ptp -----------------------------------------------------------------------------------


def _ptp_chunk(block, axis):
    return np.min(block, axis=axis, keepdims=True), np.max(block, axis=axis, keepdims=True)


def _ptp_combine(parts):
    return (
        functools.reduce(np.minimum, [p[0] for p in parts]),
        functools.reduce(np.maximum, [p[1] for p in parts]),
    )


def _ptp_aggregate(partial):
    return np.subtract(partial[1], partial[0])


@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=False, split_every=None):
    """Range of values (max - min) over ``axis``, as ``numpy.ptp``.

    >>> import numpy as np
    >>> int(ptp(asarray(np.array([4, 9, 1]))))
    8
    """
    refuse_extra("ptp", out)
    x = asarray(a)
    axes = tuple(sorted(normalize_axes(axis, x.ndim, "ptp")))
    check_not_empty(x, axes, "maximum")
    out_dtype = numpy_dtype("ptp", np.ptp, x.dtype)
    if is_masked(x):  # numpy.ma.ptp: max - min of the unmasked values (one shared pass)
        largest = max(x, axis=axes, keepdims=keepdims, split_every=split_every)
        smallest = min(x, axis=axes, keepdims=keepdims, split_every=split_every)
        return elemwise(np.subtract, largest, smallest, dtype=out_dtype)
    return reduction(
        x, functools.partial(_ptp_chunk, axis=axes), _ptp_combine, _ptp_aggregate, axis=axes,
        keepdims=keepdims, dtype=out_dtype, split_every=split_every, name="ptp", skip_empty=True,
    )


# --- mean, var, std --------------------------------------------------------------------------


def _accumulator_dtype(out_dtype: np.dtype) -> np.dtype:
    """At least float64 (complex128 for complex) for the partial sums of mean and variance."""
    if out_dtype.kind in "fc":
        return np.result_type(out_dtype, np.float64)
    if out_dtype.kind == "O":
        return out_dtype  # Python objects (Decimal, Fraction, big ints) keep their own arithmetic
    return np.dtype(np.float64)


def _count(block: np.ndarray, axis: tuple, skipna: bool, where: Any = None) -> Any:
    if skipna and block.dtype.kind in "fc":
        valid = ~np.isnan(block)
        return np.sum(valid if where is None else valid & where, axis=axis, keepdims=True)
    if skipna and block.dtype.kind == "O":  # NaN objects are the ones unequal to themselves
        return np.sum(np.equal(block, block, dtype=bool), axis=axis, keepdims=True)
    if where is not None:
        return np.count_nonzero(where, axis=axis, keepdims=True)
    return math.prod(block.shape[a] for a in axis)


def _mean_chunk(block, axis, acc, skipna, where=None, masked=False):
    if masked:
        block, where = _unmasked(block, where)
    if where is not None and len(axis) == block.ndim:
        return _on_selection(_mean_chunk, block, where, axis, acc=acc, skipna=skipna)
    n = _count(block, axis, skipna, where)
    if where is not None:  # the unselected values count as 0 (see _ufunc_chunk)
        block = np.where(where, block, block.dtype.type(0))
    total = (np.nansum if skipna else np.sum)(block, axis=axis, keepdims=True, dtype=acc)
    return n, total


def _mean_combine(parts):
    return functools.reduce(operator.add, [p[0] for p in parts]), functools.reduce(
        np.add, [p[1] for p in parts]
    )


def _mean_aggregate(partial):
    n, total = partial
    if np.any(np.asarray(n) == 0):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if _is_object(total):
            return _object_divide(total, n)
        return total / n


def _is_object(value: Any) -> bool:
    return getattr(getattr(value, "dtype", None), "kind", None) == "O"


def _object_divide_one(value: Any, count: Any) -> Any:
    return value / np.intp(count)  # NumPy divides by an intp count: a float sum gives float64


_object_divide = np.frompyfunc(_object_divide_one, 2, 1)


def _moments_chunk(block, axis, acc, skipna, where=None, masked=False):
    if masked:
        block, where = _unmasked(block, where)
    if where is not None and len(axis) == block.ndim:
        return _on_selection(_moments_chunk, block, where, axis, acc=acc, skipna=skipna)
    n, total = _mean_chunk(block, axis, acc, skipna, where)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / np.maximum(n, 1)
    if where is not None:
        # unselected values stand in as the mean: their deviations are exactly 0
        block = np.where(where, block, mean)
    delta = block - mean
    squares = delta.real**2 + delta.imag**2 if delta.dtype.kind == "c" else delta**2
    total = np.nansum if skipna else np.sum
    m2 = total(squares, axis=axis, keepdims=True)
    if where is not None and delta.dtype.kind == "f":
        # The block's mean is one division from exact: correct it with the deviations' own
        # mean (the corrected two-pass algorithm), as the merge of blocks weighs the
        # difference of their means.
        shift = total(delta, axis=axis, keepdims=True) / np.maximum(n, 1)
        mean = mean + shift
        m2 = np.maximum(m2 - n * shift**2, 0)
    return n, mean, m2


def _moments_merge(a, b):
    na, ma, m2a = a
    nb, mb, m2b = b
    n = na + nb
    safe = np.maximum(n, 1)
    delta = mb - ma
    sq = delta.real**2 + delta.imag**2 if np.iscomplexobj(delta) else delta**2
    if _is_object(delta):
        # object partials: multiply before dividing so Decimal and Fraction stay exact
        # (an int ratio would be a float, which Decimal refuses and Fraction loses digits to)
        return n, ma + delta * nb / safe, m2a + m2b + sq * (na * nb) / safe
    mean = ma + delta * (nb / safe)
    m2 = m2a + m2b + sq * (na * nb / safe)
    return n, mean, m2


def _moments_combine(parts):
    return functools.reduce(_moments_merge, parts)


def _var_aggregate(partial, ddof, sqrt):
    n, _, m2 = partial
    rcount = np.maximum(np.asarray(n) - ddof, 0)
    if np.any(rcount <= 0):
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = _object_divide(m2, rcount) if _is_object(m2) else m2 / rcount
    if sqrt and _is_object(out):
        # NumPy's std of objects is sqrt of the scalar variance: Decimal.sqrt, float -> float64
        return _object_sqrt(out)
    return np.sqrt(out) if sqrt else out


def _object_sqrt_one(value: Any) -> Any:
    return np.sqrt(value)


_object_sqrt = np.frompyfunc(_object_sqrt_one, 1, 1)


def _moment_reduction(a, opname, axis, dtype, keepdims, split_every, skipna, ddof=None, sqrt=False):
    x = asarray(a)
    axes = tuple(sorted(normalize_axes(axis, x.ndim, opname)))
    sample = getattr(np, opname)
    kwargs = {} if dtype is None else {"dtype": np.dtype(dtype)}
    if x.dtype == object and dtype is None:
        out_dtype = x.dtype  # as NumPy over an axis (its std of floats in objects fails there)
    else:
        out_dtype = numpy_dtype(opname, sample, x.dtype, **kwargs)
    acc = _accumulator_dtype(
        np.result_type(out_dtype, x.dtype) if dtype is None else np.dtype(dtype)
    )
    skipna = skipna and x.dtype.kind in "fcO"
    masked = {"masked": True} if is_masked(x) else {}  # the unmasked values only
    if ddof is None:
        chunk = functools.partial(_mean_chunk, axis=axes, acc=acc, skipna=skipna, **masked)
        combine, aggregate = _mean_combine, (_masked_mean_aggregate if masked else _mean_aggregate)
    else:
        if not isinstance(ddof, (numbers.Real, np.number)):
            raise TypeError(f"{opname}: ddof must be a number, got {ddof!r}")
        chunk = functools.partial(_moments_chunk, axis=axes, acc=acc, skipna=skipna, **masked)
        combine = _moments_combine
        aggregate = functools.partial(
            _masked_var_aggregate if masked else _var_aggregate, ddof=ddof, sqrt=sqrt
        )
    return reduction(
        x, chunk, combine, aggregate, axis=axes, keepdims=keepdims, dtype=out_dtype,
        split_every=split_every, name=opname,
    )


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None, where=None):
    """Mean over ``axis``, as ``numpy.mean`` (sums accumulate in at least float64).

    >>> import numpy as np
    >>> mean(asarray(np.arange(6).reshape(2, 3)), axis=0).compute()
    array([1.5, 2.5, 3.5])
    """
    refuse_extra("mean", out, where=where)
    return _moment_reduction(a, "mean", axis, dtype, keepdims, split_every, skipna=False)


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, split_every=None, where=None):
    """Mean over ``axis`` ignoring NaN, as ``numpy.nanmean``.

    >>> import numpy as np
    >>> float(nanmean(asarray(np.array([1.0, np.nan, 3.0]))))
    2.0
    """
    refuse_extra("nanmean", out, where=where)
    return _moment_reduction(a, "nanmean", axis, dtype, keepdims, split_every, skipna=True)


@implements(np.var)
def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None, where=None, mean=None, correction=None):
    """Variance over ``axis`` (``ddof``), as ``numpy.var``; a one-pass, numerically stable merge.

    >>> import numpy as np
    >>> float(var(asarray(np.array([1.0, 2.0, 3.0, 4.0]), chunks=2), ddof=1))
    1.6666666666666667
    """
    refuse_extra("var", out, where=where, mean=mean)
    ddof = correction if correction is not None else ddof
    return _moment_reduction(a, "var", axis, dtype, keepdims, split_every, False, ddof)


@implements(np.std)
def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None, where=None, mean=None, correction=None):
    """Standard deviation over ``axis`` (``ddof``), as ``numpy.std``.

    >>> import numpy as np
    >>> float(std(asarray(np.array([1.0, 3.0]))))
    1.0
    """
    refuse_extra("std", out, where=where, mean=mean)
    ddof = correction if correction is not None else ddof
    return _moment_reduction(a, "std", axis, dtype, keepdims, split_every, False, ddof, sqrt=True)


@implements(np.nanvar)
def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None, where=None, mean=None, correction=None):
    """Variance over ``axis`` ignoring NaN, as ``numpy.nanvar``.

    >>> import numpy as np
    >>> float(nanvar(asarray(np.array([1.0, np.nan, 3.0]))))
    1.0
    """
    refuse_extra("nanvar", out, where=where, mean=mean)
    ddof = correction if correction is not None else ddof
    return _moment_reduction(a, "nanvar", axis, dtype, keepdims, split_every, True, ddof)


@implements(np.nanstd)
def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None, where=None, mean=None, correction=None):
    """Standard deviation over ``axis`` ignoring NaN, as ``numpy.nanstd``.

    >>> import numpy as np
    >>> float(nanstd(asarray(np.array([1.0, np.nan, 3.0]))))
    1.0
    """
    refuse_extra("nanstd", out, where=where, mean=mean)
    ddof = correction if correction is not None else ddof
    return _moment_reduction(a, "nanstd", axis, dtype, keepdims, split_every, True, ddof, sqrt=True)


#: The identity of each reduction with one, what unselected values are filled with under ``where=``.
_IDENTITIES = {
    np.sum: 0, np.nansum: 0, np.prod: 1, np.nanprod: 1, np.any: 0, np.all: 1, _count_nonzero_chunk: 0,
}
_MASKABLE = (*_IDENTITIES, *_NO_IDENTITY)
_KINDS = {_mean_chunk: "moments", _moments_chunk: "moments", _ptp_chunk: "ptp", arg_chunk: "arg"}



# --- several reductions of one block in few passes (the shared pass of array rewrite 4) --------

_FUSIBLE_UFUNCS = {np.sum: "sum", np.min: "min", np.max: "max"}


def fusion_spec(chunk: Any) -> tuple | None:
    """``(kind, dtype)`` of a chunk function that :func:`fused_partials` computes, else ``None``.

    ``kind`` is ``"sum"``, ``"min"``, ``"max"`` (with the sum's ``dtype=``, or
    ``None``), ``"mean"`` or ``"moments"`` (with the accumulator dtype). Only
    the plain (not nan-skipping) reductions.

    >>> fusion_spec(sum(asarray(np.ones(3))).expr.chunk)
    ('sum', None)
    >>> fusion_spec(var(asarray(np.ones(3))).expr.chunk)
    ('moments', dtype('float64'))
    >>> fusion_spec(nanvar(asarray(np.ones(3))).expr.chunk) is None
    True
    """
    if not isinstance(chunk, functools.partial) or chunk.args:
        return None
    func, keywords = chunk.func, chunk.keywords
    if func is _ufunc_chunk and set(keywords) <= {"func", "axis", "dtype"}:
        kind = _FUSIBLE_UFUNCS.get(keywords.get("func"))
        return None if kind is None else (kind, keywords.get("dtype"))
    if func in (_mean_chunk, _moments_chunk) and set(keywords) == {"axis", "acc", "skipna"}:
        if keywords["skipna"]:
            return None
        return ("mean" if func is _mean_chunk else "moments", keywords["acc"])
    return None


def fused_partials(block: np.ndarray, chunks: tuple, specs: tuple, axis: tuple, scratch: dict | None = None) -> tuple:
    """Every member's partial of one float ``block``, each what ``chunks[i](block)`` returns.

    What members share is computed once: one ``np.sum`` per accumulator dtype
    serves ``sum``, ``mean`` and the means of ``var``/``std``; the deviations of
    a variance are written into a buffer kept in ``scratch`` (reused by the
    next slab of the block) and squared in place. A block of sum, mean, std,
    min and max is read four times (sum, deviations, min, max) instead of six,
    with no temporaries. Members whose spec is ``None`` call their own chunk
    function. ``block`` must be a non-empty real float array.
    """
    totals: dict = {}
    scratch = {} if scratch is None else scratch
    count = math.prod(block.shape[a] for a in axis)

    def total(dtype: Any) -> Any:
        key = block.dtype if dtype is None else np.dtype(dtype)
        if key not in totals:
            totals[key] = np.sum(block, axis=axis, keepdims=True, dtype=None if key == block.dtype else key)
        return totals[key]

    def deviations(mean: Any) -> np.ndarray:
        dtype = np.result_type(block.dtype, mean.dtype)
        buffer = scratch.get(dtype)
        if buffer is None or buffer.size < block.size:
            buffer = scratch[dtype] = np.empty(block.size, dtype)
        delta = buffer[: block.size].reshape(block.shape)
        np.subtract(block, mean, out=delta)
        return np.multiply(delta, delta, out=delta)

    out = []
    for chunk, spec in zip(chunks, specs):
        kind = None if spec is None else spec[0]
        if kind is None:
            out.append(chunk(block))
        elif kind == "sum":
            out.append(total(spec[1]))
        elif kind in ("min", "max"):
            out.append((np.min if kind == "min" else np.max)(block, axis=axis, keepdims=True))
        elif kind == "mean":
            out.append((count, total(spec[1])))
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = total(spec[1]) / np.maximum(count, 1)
            out.append((count, mean, np.sum(deviations(mean), axis=axis, keepdims=True)))
    return tuple(out)


def masked_partials(block: Any, chunks: tuple, axis: tuple, where: Any = None, scratch: dict | None = None) -> tuple | None:
    """Every member's partial of one masked float ``block`` reduced over all its axes, or ``None``.

    The members are mask-aware ``"ufunc"``/``"moments"`` chunk functions (``masked=True``):
    the unmasked values (and ``where``'s) are selected once, and :func:`fused_partials`
    reduces that selection for all members at once, instead of each member filling or
    selecting the block itself. ``None`` (each member then reduces the block itself)
    for a partial reduction, another dtype, or nothing selected.
    """
    if len(axis) != np.ndim(block):
        return None
    data, valid = _unmasked(block, where)
    if data.dtype.kind != "f":
        return None
    selected = data.reshape(-1) if valid is None else data[valid]
    if not selected.size:
        return None
    plain = tuple(_plain_member(chunk) for chunk in chunks)
    parts = fused_partials(selected, plain, tuple(fusion_spec(c) for c in plain), (0,), scratch)
    keep = (1,) * data.ndim
    count = np.full(keep, selected.size, dtype=np.intp)

    def shaped(part: Any) -> Any:
        if isinstance(part, tuple):
            return tuple(shaped(p) for p in part)
        return part.reshape(keep) if isinstance(part, np.ndarray) else part

    return tuple(
        (count, shaped(part)) if chunk.func is _ufunc_chunk else shaped(part)
        for chunk, part in zip(chunks, parts)
    )


def _plain_member(chunk: functools.partial) -> functools.partial:
    """A mask-aware chunk function as the plain one over a 1-d selection (axis 0)."""
    keywords = {k: v for k, v in chunk.keywords.items() if k != "masked"}
    return functools.partial(chunk.func, *chunk.args, **{**keywords, "axis": (0,)})


# --- average -------------------------------------------------------------------------------


def _broadcast_like(value, like):
    return np.broadcast_to(value, np.shape(like)).astype(np.result_type(like), copy=True)


@declare_masked(False)
def _unmasked_weights(block, weights):
    """The weights, zero where ``block`` is masked (masked values weigh nothing, as numpy.ma.average)."""
    return np.where(np.ma.getmaskarray(block), 0, weights).astype(np.result_type(weights), copy=False)


@declare_masked(True)
def _masked_divide(total, scale):
    """``total / scale``, masked where ``scale`` is 0 (no warning), as numpy.ma's division."""
    return np.ma.true_divide(total, scale)


@declare_masked(False)
def _unmasked_places(block):
    return ~np.ma.getmaskarray(block)


@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted average over ``axis``, as ``numpy.average``.

    Differs from NumPy: weights that sum to zero give ``inf``/``nan`` (the sum
    is not known until computed) instead of raising ``ZeroDivisionError``. On a
    masked array it is ``numpy.ma.average``: masked values weigh nothing, and a
    result with no unmasked value is masked.

    >>> import numpy as np
    >>> float(average(asarray(np.array([1.0, 2.0, 4.0])), weights=np.array([1, 1, 2])))
    2.75
    """
    x = asarray(a)
    axes = tuple(sorted(normalize_axes(axis, x.ndim, "average")))
    masked = is_masked(x)
    if weights is None:
        avg = mean(x, axis=axes, keepdims=keepdims)
        if not returned:
            return avg
        if masked:  # the number of unmasked values, in the result's dtype
            unmasked = elemwise(_unmasked_places, x, dtype=bool)
            return avg, sum(unmasked, axis=axes, keepdims=keepdims, dtype=avg.dtype)
        count = math.prod(x.shape[d] for d in axes)
        return avg, elemwise(_broadcast_like, avg.dtype.type(count), avg, dtype=avg.dtype)
    w = weights if isinstance(weights, Array) else np.asarray(weights)
    if tuple(w.shape) != tuple(x.shape):
        if axis is None:
            raise TypeError("average: axis must be specified when shapes of a and weights differ")
        if w.ndim != 1:
            raise TypeError("average: 1D weights expected when shapes of a and weights differ")
        if len(axes) != 1 or w.shape[0] != x.shape[axes[0]]:
            raise ValueError(
                f"average: length of weights {w.shape[0]} not compatible with axis {axis} "
                f"of an array of shape {x.shape}"
            )
        shape = tuple(w.shape[0] if d == axes[0] else 1 for d in range(x.ndim))
        w = w.reshape(shape)
        if not isinstance(w, Array):
            w = asarray(w, chunks=tuple(x.chunks[d] if d == axes[0] else 1 for d in range(x.ndim)))
    w = asarray(w)
    if masked:
        w = elemwise(_unmasked_weights, x, w, dtype=w.dtype)
    if x.dtype.kind in "biu":
        result_dtype = np.result_type(x.dtype, w.dtype, "f8")
    else:
        result_dtype = np.result_type(x.dtype, w.dtype)
    scale = sum(w, axis=axes, dtype=result_dtype, keepdims=keepdims)
    total = sum(elemwise(np.multiply, x, w, dtype=result_dtype), axis=axes, keepdims=keepdims)
    avg = elemwise(_masked_divide, total, scale, dtype=result_dtype) if masked else total / scale
    if not returned:
        return avg
    if scale.shape != avg.shape:
        scale = elemwise(_broadcast_like, scale, avg, dtype=scale.dtype)
    return avg, scale
