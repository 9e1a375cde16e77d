"""Statistics: exact quantiles, ``cov``/``corrcoef`` and ``take_along_axis``.

Design:

- **Quantiles** are exact. On a reduced axis held in one block, NumPy's
  ``quantile`` runs per block (every ``method``). On a chunked axis the array
  is sorted by :func:`chunkwise.array.sorting.sort` (sample sort) and only the
  order statistics each ``q`` needs are read (the two ranks around NumPy's
  virtual index), then interpolated with NumPy's own two-sided formula
  (:func:`interpolate`), for the methods of two order statistics. The
  ``nan*`` versions count the non-NaN values per lane (NaNs sort last) and
  read each lane's ranks from the sorted lane. The cost on a chunked axis is a
  sort, not an approximate sketch: exactness over speed.
- ``cov``/``corrcoef`` are lazy NumPy formulas (means, the centred product).
- ``take_along_axis`` concatenates ``arr``'s blocks along the axis for the
  lanes each output block covers.

Counting and set operations (``unique``, histograms, ``isin`` ...) are in
:mod:`chunkwise.array.counting`.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([3, 1, 4, 1, 5, 9, 2, 6]), chunks=3)
>>> float(da.median(x)), da.quantile(x, [0.25, 0.75]).compute().tolist()
(3.5, [1.75, 5.25])
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes, normalize_axis
from chunkwise.array.blockwise import blockwise, map_blocks
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.creation import diag
from chunkwise.array.elementwise import clip, where
from chunkwise.array.manipulation import concatenate
from chunkwise.array.masks import refuse_masked_input
from chunkwise.array.reductions import any as any_
from chunkwise.array.reductions import mean
from chunkwise.array.reductions import sum as sum_
from chunkwise.array.reshaping import broadcast_to, moveaxis, ravel, reshape
from chunkwise.array.sorting import sort

# The names joining the ``chunkwise.array`` namespace (NumPy names); ``interpolate`` is
# public to sibling modules and tests, not to ``da``.
__all__ = [
    "corrcoef",
    "cov",
    "median",
    "nanmedian",
    "nanpercentile",
    "nanquantile",
    "percentile",
    "quantile",
    "take_along_axis",
]


# --- take_along_axis -------------------------------------------------------------------------


def _take_along(arr: np.ndarray, indices: np.ndarray, axis: int) -> np.ndarray:
    return np.take_along_axis(arr, indices, axis=axis)


@implements(np.take_along_axis)
def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Array:
    """Pick values from ``arr`` by ``indices`` along ``axis``, as ``numpy.take_along_axis``.

    Each output block reads the whole of ``arr`` along ``axis`` (its blocks
    there are concatenated) for the lanes it covers; the other axes broadcast.

    >>> import numpy as np
    >>> a = asarray(np.array([[10, 30, 20], [60, 40, 50]])).rechunk(2)
    >>> take_along_axis(a, np.array([[0], [2]]), axis=1).compute().tolist()
    [[10], [50]]
    """
    x, idx = asarray(arr), asarray(indices)
    if axis is None:
        x, axis = ravel(x), 0
    if idx.dtype.kind not in "iu":
        raise IndexError(f"take_along_axis: indices must be integers, got {idx.dtype}")
    if idx.ndim != x.ndim:
        raise ValueError(
            f"take_along_axis: indices has {idx.ndim} dimensions and arr {x.ndim}; they must match"
        )
    axis = normalize_axis(axis, x.ndim, "take_along_axis")
    arr_ind = tuple("a" if d == axis else d for d in range(x.ndim))
    idx_ind = tuple("b" if d == axis else d for d in range(x.ndim))
    return blockwise(_take_along, idx_ind, x, arr_ind, idx, idx_ind, axis, None, dtype=x.dtype,
                     concatenate=True)


# --- quantiles -------------------------------------------------------------------------------


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf", "averaged_inverted_cdf",
            "closest_observation", "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
            "normal_unbiased")
_PAIR_METHODS = ("linear", "lower", "higher", "midpoint")


def _quantile_block(block: np.ndarray, q: np.ndarray, method: str, nan: bool) -> np.ndarray:
    func = np.nanquantile if nan else np.quantile
    if block.size == 0 and block.shape[-1]:  # no lanes (an empty chunk): NumPy's nanquantile drops q's axis
        return np.asarray(np.quantile(block, q, axis=-1, method=method))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN lanes: NaN, as NumPy warns once
        return np.asarray(func(block, q, axis=-1, method=method))


def _result_dtype(dtype: np.dtype, method: str) -> np.dtype:
    return np.asarray(np.quantile(np.ones(2, dtype=dtype), 0.5, method=method)).dtype


def interpolate(below: np.ndarray, above: np.ndarray, gamma: Any, method: str, dtype: np.dtype) -> np.ndarray:
    """NumPy's quantile between the order statistics ``below`` and ``above`` (``gamma``: the fraction).

    ``linear`` uses NumPy's own two-sided ``lerp`` (so results agree to the last bit).
    """
    gamma = np.asarray(gamma, dtype=np.float64)
    if method == "lower":
        out = below
    elif method == "higher":
        out = np.where(gamma > 0, above, below)
    else:
        if method == "midpoint":
            gamma = np.where(gamma > 0, 0.5, 0.0)
        a = below.astype(dtype, copy=False)
        b = above.astype(dtype, copy=False)
        diff = np.subtract(b, a)
        out = np.where(gamma >= 0.5, np.subtract(b, diff * (1 - gamma)), np.add(a, diff * gamma))
    return np.asarray(out).astype(dtype, copy=False)


def _isnan(x: Array) -> Array:
    if x.dtype.kind in "fc":
        return map_blocks(np.isnan, x, dtype=bool)
    return map_blocks(_false_like, x, dtype=bool)


def _false_like(block: np.ndarray) -> np.ndarray:
    return np.zeros(block.shape, dtype=bool)


def _nan_ranks(count: np.ndarray, q: float) -> tuple:
    """For ``count`` non-NaN values per lane: the ranks below/above quantile ``q`` and the fraction."""
    virtual = (count - 1) * q
    below = np.floor(virtual)
    gamma = virtual - below
    below = np.clip(below, 0, None).astype(np.intp)
    above = np.clip(np.minimum(below + 1, count - 1), 0, None).astype(np.intp)
    return below, above, gamma


def _nan_quantile_lane_block(ordered: np.ndarray, count: np.ndarray, q: np.ndarray, method: str,
                             dtype: np.dtype) -> np.ndarray:
    out = np.empty((len(q), *ordered.shape[:-1]), dtype=dtype)
    for j, qj in enumerate(q):
        below, above, gamma = _nan_ranks(count, qj)
        a = np.take_along_axis(ordered, below[..., None], axis=-1)[..., 0]
        b = np.take_along_axis(ordered, above[..., None], axis=-1)[..., 0]
        out[j] = np.where(count > 0, interpolate(a, b, gamma, method, dtype), np.nan)
    return out


def _lane_quantiles(x: Array, q: np.ndarray, method: str, nan: bool, opname: str,
                    dtype: np.dtype | None = None) -> Array:
    """Quantiles ``q`` (1-d) over the last axis of ``x``: shape ``(len(q), *x.shape[:-1])``."""
    n = int(x.shape[-1])
    if x.numblocks[-1] == 1:
        chunks = ((len(q),),) + x.chunks[:-1]
        dtype = _quantile_block(np.ones((1, 1), dtype=x.dtype), q, method, nan).dtype
        return map_blocks(_quantile_block, x, q=q, method=method, nan=nan, dtype=dtype, chunks=chunks,
                          drop_axis=x.ndim - 1, new_axis=[0])
    if method not in _PAIR_METHODS:
        raise NotImplementedError(
            f"{opname}: method={method!r} is supported on an axis held in one block; rechunk the "
            f"axis into one block (x.rechunk({{axis: -1}})) or use one of {_PAIR_METHODS}"
        )
    # the sort path rechunks whole lanes: every length must be known (one block on the axis needs none)
    check_known_chunks(opname, x, what="the array (its reduced axis is in several blocks)")
    dtype = _result_dtype(x.dtype, method) if dtype is None else dtype
    ordered = sort(x, axis=-1)  # exact order statistics; NaNs last
    if nan:
        count = sum_(~_isnan(x), axis=-1, dtype=np.intp)
        whole = ordered.rechunk({x.ndim - 1: -1})  # each lane's ranks are data-dependent
        lanes = tuple(range(1, x.ndim))
        return blockwise(_nan_quantile_lane_block, (0, *lanes), whole, (*lanes, "n"), count, lanes, q, None,
                         method, None, dtype, None, dtype=dtype, new_axes={0: len(q)}, concatenate=True)
    virtual = q * (n - 1)
    below = np.floor(virtual).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    low_values = ordered[..., below]
    high_values = ordered[..., above]
    result = _interpolated(low_values, high_values, virtual - below, method, dtype)
    result = moveaxis(result, -1, 0)
    if x.dtype.kind in "fc":  # NumPy: a lane holding NaN has NaN quantiles
        result = where(any_(_isnan(x), axis=-1), np.asarray(np.nan, dtype=dtype), result)
    return result


def _numpy_quantile_dtype(dtype: np.dtype, q: Any, method: str, nan: bool, scale: float) -> np.dtype:
    """The dtype NumPy gives: it depends on ``q``'s type too (a float32 array's quantile at a
    Python float is float32, at a list of floats float64), so ask NumPy with the user's ``q``."""
    if scale == 100:
        func = np.nanpercentile if nan else np.percentile
    else:
        func = np.nanquantile if nan else np.quantile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(func(np.ones(2, dtype=dtype), q, method=method)).dtype


def _interpolate_blocks(below: np.ndarray, above: np.ndarray, gamma: np.ndarray, method: str,
                        out_dtype: np.dtype) -> np.ndarray:
    return interpolate(below, above, gamma, method, out_dtype)


def _interpolated(below: Array, above: Array, gamma: np.ndarray, method: str, dtype: np.dtype) -> Array:
    below = below.rechunk({below.ndim - 1: -1})
    above = above.rechunk({above.ndim - 1: -1})
    return map_blocks(_interpolate_blocks, below, above, gamma=gamma, method=method, out_dtype=dtype,
                      dtype=dtype)


def _weighted_quantile_block(block: np.ndarray, weights: np.ndarray, q: np.ndarray, nan: bool,
                             opname: str) -> np.ndarray:
    if np.any(weights < 0):
        raise ValueError(f"{opname}: weights must be non-negative")
    func = np.nanquantile if nan else np.quantile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(func(block, q, axis=-1, method="inverted_cdf", weights=weights))


def _broadcast_weights(x: Array, weights: Any, axes: tuple, opname: str) -> Array:
    """``weights`` as an array of ``x``'s shape: the same shape, or 1-d along the one reduced axis (NumPy's rule)."""
    w = asarray(weights)
    if w.shape == x.shape:
        return w
    if w.ndim == 1 and len(axes) == 1 and w.shape[0] == x.shape[axes[0]]:
        shape = [1] * x.ndim
        shape[axes[0]] = w.shape[0]
        return broadcast_to(reshape(w, tuple(shape)), x.shape)
    raise ValueError(
        f"{opname}: weights of shape {w.shape} must have the array's shape {x.shape}, or be 1-d with the "
        "length of the one axis reduced"
    )


def _weighted_lane_quantiles(x: Array, w: Array, q: np.ndarray, nan: bool, opname: str) -> Array:
    """Weighted ``inverted_cdf`` quantiles over the last axis: each lane gathered into one block."""
    lane = x.ndim - 1
    check_known_chunks(opname, x, axes=(lane,), what="the array on the reduced axis")
    x = x.rechunk({lane: -1})
    w = w.rechunk(x.chunks)
    dtype = _weighted_quantile_block(np.ones((1, 1), x.dtype), np.ones((1, 1)), q, nan, opname).dtype
    kept = tuple(range(1, x.ndim))
    return blockwise(_weighted_quantile_block, (0, *kept), x, (*kept, "n"), w, (*kept, "n"), q, None, nan,
                     None, opname, None, dtype=dtype, new_axes={0: len(q)}, concatenate=True)


def _quantile(a: Any, q: Any, axis: Any, method: str, keepdims: bool, nan: bool, opname: str,
              scale: float = 1.0, weights: Any = None, **unsupported: Any) -> Array:
    if weights is not None and method != "inverted_cdf":
        raise ValueError(f"{opname}: only method='inverted_cdf' supports weights (as NumPy), not {method!r}")
    for key, value in unsupported.items():
        if value is not None and value is not False:
            raise NotImplementedError(f"{opname}: {key}= is not supported on chunkwise arrays")
    x = asarray(a)
    refuse_masked_input(x, opname)  # sorting the blocks would read the masked values
    if x.ndim == 0 and axis is None:  # NumPy: the quantiles of the one value (keepdims keeps no axis)
        x, keepdims = x[None], False
        weights = None if weights is None else asarray(weights)[None]
    if isinstance(q, Array):
        raise TypeError(f"{opname}: q must be in memory (a number or NumPy array); pass np.asarray(q)")
    user_q = q
    q = np.asarray(q, dtype=np.float64) / scale
    if q.ndim > 1:
        raise ValueError(f"{opname}: q must be a scalar or 1-d")
    if np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
        bound = "[0, 100]" if scale == 100 else "[0, 1]"
        raise ValueError(f"{opname}: quantiles must be in the range {bound}")
    if method not in _METHODS:
        raise ValueError(f"{opname}: method {method!r} is not one of {_METHODS}")
    axes = normalize_axes(axis, x.ndim, opname)
    if not axes:
        raise ValueError(f"{opname}: needs at least one axis to reduce")
    check_known_chunks(opname, x, axes=tuple(axes), what="the array on the reduced axes")
    if x.size == 0:
        raise ValueError(f"{opname}: cannot compute quantiles of an empty array (shape {x.shape})")
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = x.transpose(*kept, *axes) if list(axes) != list(range(x.ndim - len(axes), x.ndim)) or kept != \
        list(range(len(kept))) else x
    if len(axes) > 1:
        moved = reshape(moved, moved.shape[:len(kept)] + (-1,))
    qv = q.reshape(-1)
    if weights is not None:
        w = _broadcast_weights(x, weights, axes, opname)
        w = w.transpose(*kept, *axes) if moved is not x else w
        if len(axes) > 1:
            w = reshape(w, moved.shape)
        result = _weighted_lane_quantiles(moved, w, qv, nan, opname)
    else:
        out_dtype = _numpy_quantile_dtype(x.dtype, user_q, method, nan, scale)
        result = _lane_quantiles(moved, qv, method, nan, opname, out_dtype)  # (nq, *kept)
        if result.dtype != out_dtype:
            result = result.astype(out_dtype)
    if keepdims:
        shape = list(x.shape)
        for d in axes:
            shape[d] = 1
        result = reshape(result, (len(qv), *shape))
    if q.ndim == 0:
        result = result[0]
    return result


@implements(np.quantile)
def quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False, *, weights: Any = None,
             interpolation: Any = None) -> Array:
    """The ``q``-th quantiles along ``axis``, exactly as ``numpy.quantile``.

    On an axis held in one block NumPy runs per block (every ``method``); on a
    chunked axis the array is sorted (sample sort) and the two order
    statistics around each quantile are read, for ``method`` in
    ``linear``, ``lower``, ``higher``, ``midpoint``. ``weights`` (the array's
    shape, or 1-d along the one reduced axis) needs ``method="inverted_cdf"``,
    as NumPy; each lane is then gathered into one block.

    >>> import numpy as np
    >>> x = asarray(np.arange(10.0)).rechunk(3)
    >>> quantile(x, [0.25, 0.5]).compute().tolist()
    [2.25, 4.5]
    """
    return _quantile(a, q, axis, method, keepdims, False, "quantile", out=out, weights=weights,
                     interpolation=interpolation)


@implements(np.percentile)
def percentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False, *, weights: Any = None,
               interpolation: Any = None) -> Array:
    """The ``q``-th percentiles (``q`` in ``[0, 100]``) along ``axis``, as ``numpy.percentile``; see :func:`quantile`."""
    return _quantile(a, q, axis, method, keepdims, False, "percentile", 100.0, out=out, weights=weights,
                     interpolation=interpolation)


@implements(np.nanquantile)
def nanquantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                method: str = "linear", keepdims: bool = False, *, weights: Any = None,
                interpolation: Any = None) -> Array:
    """Quantiles ignoring NaNs, as ``numpy.nanquantile``; all-NaN lanes give NaN. See :func:`quantile`.

    >>> import numpy as np
    >>> float(nanquantile(asarray(np.array([1.0, np.nan, 3.0, 2.0])).rechunk(2), 0.5))
    2.0
    """
    return _quantile(a, q, axis, method, keepdims, True, "nanquantile", out=out, weights=weights,
                     interpolation=interpolation)


@implements(np.nanpercentile)
def nanpercentile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
                  method: str = "linear", keepdims: bool = False, *, weights: Any = None,
                  interpolation: Any = None) -> Array:
    """Percentiles ignoring NaNs, as ``numpy.nanpercentile``; see :func:`nanquantile`."""
    return _quantile(a, q, axis, method, keepdims, True, "nanpercentile", 100.0, out=out, weights=weights,
                     interpolation=interpolation)


@implements(np.median)
def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Array:
    """The median along ``axis``, exactly as ``numpy.median``; see :func:`quantile` for the cost.

    >>> import numpy as np
    >>> median(asarray(np.array([[1, 9, 2], [4, 3, 8]])).rechunk(1), axis=1).compute().tolist()
    [2.0, 4.0]
    """
    return _quantile(_bool_as_float(a), 0.5, axis, "linear", keepdims, False, "median", out=out)


@implements(np.nanmedian)
def nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
              keepdims: bool = False) -> Array:
    """The median ignoring NaNs, as ``numpy.nanmedian``; see :func:`nanquantile`."""
    return _quantile(_bool_as_float(a), 0.5, axis, "linear", keepdims, True, "nanmedian", out=out)


def _bool_as_float(a: Any) -> Any:
    """NumPy's median of booleans is the mean of the middle ones (a float); its quantile refuses them."""
    x = asarray(a)
    return x.astype(np.float64) if x.dtype == np.bool_ else x


# --- cov, corrcoef ---------------------------------------------------------------------------


@implements(np.cov)
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Array:
    """The covariance matrix of the variables in ``m`` (and ``y``), as ``numpy.cov``.

    Lazy: the (weighted) means, then the centred product ``X @ X.T``.
    ``fweights`` (integer repeat counts) and ``aweights`` (relative weights) are
    1-d with one entry per observation, as in NumPy; that they are not negative
    is not checked (it would need their values).

    >>> import numpy as np
    >>> cov(asarray(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])).rechunk(2)).compute().tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    if ddof is not None and ddof != int(ddof):
        raise ValueError("cov: ddof must be an integer")
    x = asarray(m)
    if x.ndim > 2:
        raise ValueError(f"cov: m has more than 2 dimensions (shape {x.shape})")
    result_dtype = np.dtype(dtype) if dtype is not None else np.result_type(x.dtype, np.float64)
    if x.ndim < 2:
        x = reshape(x, (1, -1))
    if not rowvar and x.shape[0] != 1:
        x = x.T
    if y is not None:
        other = asarray(y)
        if other.ndim > 2:
            raise ValueError(f"cov: y has more than 2 dimensions (shape {other.shape})")
        if other.ndim < 2:
            other = reshape(other, (1, -1))
        if not rowvar and other.shape[0] != 1:
            other = other.T
        x = concatenate([x, other], axis=0)
    x = x.astype(result_dtype)
    ddof = (0 if bias else 1) if ddof is None else int(ddof)
    if fweights is not None or aweights is not None:
        return _weighted_cov(x, _observation_weights(fweights, "fweights", x),
                             _observation_weights(aweights, "aweights", x), ddof).squeeze()
    n = int(x.shape[1])
    fact = max(n - ddof, 0)
    centred = x - mean(x, axis=1, keepdims=True)
    c = (centred @ centred.T.conj()) / fact if fact else (centred @ centred.T.conj()) * np.inf
    return c.squeeze()


def _observation_weights(weights: Any, name: str, x: Array) -> Array | None:
    """``cov``'s ``fweights``/``aweights``: 1-d, one per observation (``fweights`` integers)."""
    if weights is None:
        return None
    w = asarray(weights)
    if w.ndim != 1:
        raise ValueError(f"cov: {name} must be 1-d, got shape {w.shape}")
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"cov: {name} has {w.shape[0]} entries for {x.shape[1]} observations; give one per observation")
    if name == "fweights" and w.dtype.kind not in "iub":
        raise TypeError(f"cov: fweights must be integers (repeat counts), got {w.dtype}; use aweights for relative weights")
    return w


def _weighted_cov(x: Array, fweights: Array | None, aweights: Array | None, ddof: int) -> Array:
    """NumPy's weighted covariance: weights ``w = fweights * aweights``, the normalization it documents."""
    w = fweights if aweights is None else (aweights if fweights is None else fweights * aweights)
    w = w.astype(np.result_type(w.dtype, np.float64))
    w_sum = sum_(w)
    centred = x - sum_(x * w, axis=1, keepdims=True) / w_sum
    if ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * sum_(w * aweights) / w_sum
    fact = where(fact > 0, fact, 0.0)  # NumPy: a non-positive normalization gives inf/nan, with a warning
    return (centred @ (centred * w).T.conj()) / fact


@implements(np.corrcoef)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Array:
    """Pearson correlation coefficients, as ``numpy.corrcoef`` (real parts clipped to ``[-1, 1]``).

    >>> import numpy as np
    >>> corrcoef(asarray(np.array([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0]]))).compute().round(6).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = diag(c)
    stddev = d.real ** 0.5 if d.dtype.kind == "c" else d ** 0.5
    c = c / stddev[:, None]
    c = c / stddev[None, :]
    if c.dtype.kind == "c":
        return clip(c.real, -1, 1) + 1j * c.imag
    return clip(c, -1, 1)
