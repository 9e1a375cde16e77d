"""Counting and set operations: ``unique``, ``bincount``, histograms, ``digitize``,
``searchsorted`` and ``isin``.

Design:

- **Merged partials** (``unique``, ``bincount``, the histograms): each block
  gives a small partial (its sorted unique values with first index and
  counts; its counts per bin), boxed in an object block; a tree
  (:class:`MergedPartials`, a ``Reduction`` with declared output chunks)
  merges them. ``unique`` merges sorted runs with a stable sort (a timsort).
  ``unique`` and a ``bincount`` without ``minlength`` have one block of
  unknown length (``nan``).
- **Outer blockwise** (``searchsorted`` into a chunked sorted array, ``isin``
  against a chunked set): every block of ``v`` meets every block of the
  other array; the answers add up (``searchsorted``: how many of each
  block's values lie below) or are ``any``-ed (``isin``).
- Histogram edges must be known without reading the data: ``bins`` as edges,
  or an int with ``range``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([3, 1, 4, 1, 5, 9, 2, 6]), chunks=3)
>>> values, counts = da.unique(x, return_counts=True)
>>> values.compute().tolist(), counts.compute().tolist()
([1, 2, 3, 4, 5, 6, 9], [2, 1, 1, 1, 1, 1, 1])
>>> da.histogram(x, bins=3, range=(0, 9))[0].compute().tolist()
[3, 3, 2]
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axis
from chunkwise.array.blockwise import blockwise, map_blocks
from chunkwise.array.chunks import check_known_chunks, has_unknown
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.cumulative import cumsum, diff
from chunkwise.array.elementwise import where
from chunkwise.array.expr import unknown_chunks_origin
from chunkwise.array.manipulation import stack
from chunkwise.array.masks import refuse_masked_input
from chunkwise.array.reductions import any as any_
from chunkwise.array.reductions import sum as sum_
from chunkwise.array.reshaping import moveaxis, ravel, reshape
from chunkwise.array.treereduce import Reduction, normalize_split_every

# The names joining the ``chunkwise.array`` namespace (NumPy names); ``MergedPartials`` is
# public to sibling modules and tests, not to ``da``.
__all__ = [
    "bincount",
    "digitize",
    "histogram",
    "histogram2d",
    "histogramdd",
    "isin",
    "searchsorted",
    "unique",
]


# --- merged partials -------------------------------------------------------------------------


class MergedPartials(Reduction):
    """A tree merge of one object per block (a 1-d object array) into declared ``out_chunks``."""

    _parameters = (*Reduction._parameters, "out_chunks")

    def _chunks(self) -> tuple:
        return self.out_chunks


def _merge_block(block: np.ndarray, merge: Any) -> Any:
    return merge(list(block))


def _merged(partials: Array, merge: Any, finish: Any, out_chunks: tuple, dtype: Any, opname: str) -> Array:
    """The objects of ``partials`` (any shape, one per block) merged by ``merge``, finished by ``finish``."""
    flat = ravel(partials) if partials.ndim != 1 else partials
    fan_in = normalize_split_every(None, (0,), 1, opname)
    return Array(MergedPartials(
        flat.expr, functools.partial(_merge_block, merge=merge), merge, finish, (0,), True, fan_in,
        np.dtype(dtype), opname, True, False, out_chunks,
    ))


def _one_per_block(func: Any, arrays: list, opname: str, **kwargs: Any) -> Array:
    """``func(*blocks)`` once per block of the (aligned) ``arrays``, held in an object array."""
    ndim = arrays[0].ndim
    ind = tuple(range(ndim))
    pairs: list = []
    for a in arrays:
        pairs += [a, ind]
    return blockwise(_boxed, ind, func, None, *pairs, dtype=object,
                     adjust_chunks=dict.fromkeys(ind, 1), **kwargs)


def _boxed(func: Any, *blocks: Any, **kwargs: Any) -> np.ndarray:
    out = np.empty((1,) * blocks[0].ndim, dtype=object)
    out[(0,) * blocks[0].ndim] = func(*blocks, **kwargs)
    return out


def _add(parts: list) -> Any:
    return functools.reduce(np.add, parts)


# --- unique ----------------------------------------------------------------------------------


def _unique_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype([("value", dtype), ("index", np.intp), ("count", np.intp)])


def _unique_block(block: np.ndarray, start: int, want_index: bool, equal_nan: bool = True) -> tuple:
    """One block's partial: its sorted unique values, first (flat) index (or None) and counts."""
    flat = block.reshape(-1)
    if not equal_nan:  # each NaN its own value, last, in index order
        values, index, counts = np.unique(flat, return_index=True, return_counts=True, equal_nan=False)
        return values, index + start, counts
    if want_index:
        values, index, counts = np.unique(flat, return_index=True, return_counts=True)
        return values, index + start, counts
    values, counts = np.unique(flat, return_counts=True)  # (NumPy's fastest unique path)
    return values, None, counts


def _unique_merge(parts: list, equal_nan: bool = True) -> tuple:
    """Merge partials given in block order: sorted runs, so a stable sort is a cheap merge.

    A value's first index is in the earliest partial holding it, which the stable
    sort puts first among the equal values.
    """
    values = np.concatenate([p[0] for p in parts])
    order = np.argsort(values, kind="stable")
    values = values[order]
    if len(values) == 0:
        return parts[0]
    first = np.empty(len(values), dtype=bool)
    first[0] = True
    same = values[1:] == values[:-1]
    if values.dtype.kind in "fc" and equal_nan:
        same |= np.isnan(values[1:]) & np.isnan(values[:-1])
    np.logical_not(same, out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.add.reduceat(np.concatenate([p[2] for p in parts])[order], starts)
    index = None
    if parts[0][1] is not None:
        index = np.concatenate([p[1] for p in parts])[order][starts]
    return values[starts], index, counts


def _unique_records(partial: tuple, dtype: np.dtype) -> np.ndarray:
    values, index, counts = partial
    out = np.empty(len(values), dtype=_unique_dtype(dtype))
    out["value"], out["count"] = values, counts
    out["index"] = 0 if index is None else index
    return out


def _unique_blocks(block: np.ndarray, want_index: bool, equal_nan: bool = True, block_info: Any = None) -> np.ndarray:
    out = np.empty(1, dtype=object)
    start = block_info[0]["array-location"][0][0] if block_info else 0
    out[0] = _unique_block(block, start, want_index, equal_nan)
    return out


def _field(records: np.ndarray, field: str) -> np.ndarray:
    return np.ascontiguousarray(records[field])


def _inverse(block: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.searchsorted(values, block).astype(np.intp)


@implements(np.unique)
def unique(ar: Any, return_index: bool = False, return_inverse: bool = False, return_counts: bool = False,
           axis: Any = None, *, equal_nan: bool = True, sorted: bool = True) -> Any:
    """The sorted unique values of the flattened ``ar``, as ``numpy.unique``.

    One block of unknown length (``nan``): each block's uniques (with first
    index and counts) are merged by a tree. ``return_index`` gives the first
    index in the flattened array, ``return_inverse`` has ``ar``'s shape and
    blocks, ``return_counts`` the counts. NaNs are one value (``equal_nan=True``)
    or each its own (``equal_nan=False``, real floats). With ``axis``, the unique slices
    along it (each slice gathered into one block; see :func:`_unique_axis`).

    >>> import numpy as np
    >>> u, inv = unique(asarray(np.array([2, 1, 2, 3])).rechunk(3), return_inverse=True)
    >>> u.compute().tolist(), inv.compute().tolist()
    ([1, 2, 3], [1, 0, 1, 2])
    """
    x = asarray(ar)
    if axis is not None:
        return _unique_axis(x, axis, return_index, return_inverse, return_counts)
    if not equal_nan and x.dtype.kind == "c":
        raise NotImplementedError("unique: equal_nan=False is supported for real floating arrays only")
    equal_nan = bool(equal_nan) or x.dtype.kind != "f"  # NaNs matter for real floats only
    if x.ndim != 1 or return_index or (return_inverse and not equal_nan):
        check_known_chunks("unique", x)  # flattening, and first indices, need the block offsets
    flat = x if x.ndim == 1 else ravel(x)  # 1-d: unknown chunk sizes (after boolean indexing) are fine
    partials = map_blocks(_unique_blocks, flat, bool(return_index), equal_nan, dtype=object,
                          chunks=((1,) * flat.numblocks[0],))
    records = _merged(partials, functools.partial(_unique_merge, equal_nan=equal_nan),
                      functools.partial(_unique_records, dtype=x.dtype),
                      ((math.nan,),), _unique_dtype(x.dtype), "unique")
    values = map_blocks(_field, records, "value", dtype=x.dtype)
    out = [values]
    if return_index:
        out.append(map_blocks(_field, records, "index", dtype=np.intp))
    if return_inverse:
        ind = tuple(range(x.ndim))
        inverse = blockwise(_inverse, ind, x, ind, values, ("u",), dtype=np.intp, concatenate=True)
        out.append(inverse if equal_nan else _distinct_nan_inverse(x, inverse))
    if return_counts:
        out.append(map_blocks(_field, records, "count", dtype=np.intp))
    return out[0] if len(out) == 1 else tuple(out)


def _distinct_nan_inverse(x: Array, inverse: Array) -> Array:
    """With each NaN a value of its own: a NaN's index is the first NaN's plus its rank among the NaNs.

    The NaN values come last, in the (C) order of their elements, so the rank is a
    cumulative count of NaNs over the flattened array.
    """
    nans = map_blocks(np.isnan, x, dtype=bool)
    rank = reshape(cumsum(ravel(nans), dtype=np.intp), x.shape) - 1
    return where(nans, inverse + rank, inverse)


# --- unique(axis=): unique slices --------------------------------------------------------------


def _unique_slices_block(block: np.ndarray, block_info: Any = None) -> np.ndarray:
    """One block's partial (slices along axis 0, flattened to rows): unique rows, first index, counts."""
    start = block_info[0]["array-location"][0][0] if block_info else 0
    rows = block.reshape(block.shape[0], -1)
    values, index, counts = np.unique(rows, axis=0, return_index=True, return_counts=True)
    out = np.empty(1, dtype=object)
    out[0] = (values, index + start, counts)
    return out


def _unique_slices_merge(parts: list) -> tuple:
    values = np.concatenate([p[0] for p in parts])
    values, inverse = np.unique(values, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    counts = np.zeros(len(values), dtype=np.intp)
    np.add.at(counts, inverse, np.concatenate([p[2] for p in parts]))
    index = np.full(len(values), np.iinfo(np.intp).max, dtype=np.intp)
    np.minimum.at(index, inverse, np.concatenate([p[1] for p in parts]))
    return values, index, counts


def _box(partial: tuple) -> np.ndarray:
    out = np.empty(1, dtype=object)
    out[0] = partial
    return out


def _slices_part(merged: np.ndarray, item: int, shape: tuple, dtype: np.dtype) -> np.ndarray:
    part = merged[0][item]
    return part.reshape((len(part), *shape)).astype(dtype, copy=False)


def _slices_inverse(block: np.ndarray, merged: np.ndarray) -> np.ndarray:
    values = merged[0][0]
    rows = block.reshape(block.shape[0], -1)
    both = np.unique(np.concatenate([values, rows]), axis=0, return_inverse=True)[1].reshape(-1)
    return both[len(values):].astype(np.intp)  # every row is one of the values, which are sorted and unique


def _unique_axis(x: Array, axis: Any, return_index: bool, return_inverse: bool, return_counts: bool) -> Any:
    """``unique(x, axis=axis)``: the sorted unique slices along ``axis``, as ``numpy.unique``.

    Each slice must sit in one block, so the other axes are gathered into one
    chunk; each block's unique slices (with first index and counts) are merged by
    a tree, and the result has an unknown length (``nan``) along ``axis``.
    """
    axis = normalize_axis(axis, x.ndim, "unique")
    check_known_chunks("unique", x)
    moved = moveaxis(x.rechunk({d: -1 for d in range(x.ndim) if d != axis}), axis, 0)
    rest = tuple(int(n) for n in moved.shape[1:])
    others = tuple(range(1, moved.ndim))
    partials = map_blocks(_unique_slices_block, moved, dtype=object, chunks=((1,) * moved.numblocks[0],),
                          drop_axis=others)
    merged = _merged(partials, _unique_slices_merge, _box, ((1,),), object, "unique")
    values = map_blocks(_slices_part, merged, 0, rest, x.dtype, dtype=x.dtype,
                        chunks=((math.nan,), *((n,) for n in rest)), new_axis=others)
    out = [moveaxis(values, 0, axis)]
    if return_index:
        out.append(map_blocks(_slices_part, merged, 1, (), np.dtype(np.intp), dtype=np.intp, chunks=((math.nan,),)))
    if return_inverse:
        out.append(blockwise(_slices_inverse, (0,), moved, tuple(range(moved.ndim)), merged, ("m",),
                             dtype=np.intp, concatenate=True))
    if return_counts:
        out.append(map_blocks(_slices_part, merged, 2, (), np.dtype(np.intp), dtype=np.intp, chunks=((math.nan,),)))
    return out[0] if len(out) == 1 else tuple(out)


# --- bincount, histograms ----------------------------------------------------------------------


def _pad_add(parts: list) -> np.ndarray:
    length = max(len(p) for p in parts)
    out = np.zeros(length, dtype=np.result_type(*parts))
    for p in parts:
        out[:len(p)] += p
    return out


def _bincount_finish(counts: np.ndarray, minlength: int) -> np.ndarray:
    if minlength and len(counts) > minlength:
        raise ValueError(
            f"bincount: the values reach {len(counts) - 1}, beyond minlength={minlength}, which "
            "fixes the output length; pass a larger minlength, or minlength=0 for an unknown length"
        )
    if len(counts) < minlength:
        counts = np.concatenate([counts, np.zeros(minlength - len(counts), dtype=counts.dtype)])
    return counts


def _negative_values(smallest: Any) -> ValueError:
    return ValueError(
        f"bincount: x holds negative values (such as {smallest}); bincount counts non-negative "
        "integers: shift them first (x - x.min()), or keep only x[x >= 0]"
    )


def _bincount_block(block: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    try:
        return np.bincount(block, weights=weights)
    except ValueError:
        if block.size and block.min() < 0:
            raise _negative_values(block.min()) from None
        raise


@implements(np.bincount)
def bincount(x: Any, weights: Any = None, minlength: int = 0, split_every: Any = None) -> Array:
    """Counts of each non-negative integer in the 1-d ``x``, as ``numpy.bincount``.

    With ``minlength`` the output has exactly that length (a value beyond it
    raises when computed); without it, one block of unknown length. Negative
    values raise a ``ValueError`` naming ``bincount`` and the fix: at once
    for values in memory (a list, a NumPy array), when computed for a
    chunkwise array. ``x`` and ``weights`` may have unknown lengths when one
    boolean array masked both (``x[m]``, ``weights[m]``).

    >>> import numpy as np
    >>> bincount(asarray(np.array([0, 1, 1, 3])).rechunk(3), minlength=5).compute().tolist()
    [1, 2, 0, 1, 0]
    """
    given = x
    x = asarray(x)
    if x.ndim != 1:
        raise ValueError(f"bincount: x must be 1-d, got shape {x.shape}")
    if x.dtype.kind not in "iub":
        raise TypeError(f"bincount: x must hold integers, got {x.dtype}")
    if not isinstance(given, Array) and x.dtype.kind == "i" and x.size and np.min(given) < 0:
        raise _negative_values(np.min(given))  # values in memory: checked now (lazy ones when computed)
    if minlength < 0:
        raise ValueError("bincount: minlength must be non-negative")
    arrays = [x] if weights is None else [x, asarray(weights)]
    if weights is not None:
        _check_weights(x, arrays[1])
    partials = _one_per_block(_bincount_block, arrays, "bincount")
    dtype = np.intp if weights is None else np.float64
    out_chunks = ((minlength,),) if minlength else ((math.nan,),)
    return _merged(partials, _pad_add, functools.partial(_bincount_finish, minlength=minlength),
                   out_chunks, dtype, "bincount")


def _check_weights(x: Array, weights: Array) -> None:
    """``weights`` match ``x`` in shape, or pair their unknown-length blocks provably (one mask)."""
    unknown = has_unknown(x.chunks) or has_unknown(weights.chunks)
    if not unknown:
        if weights.shape != x.shape:
            raise ValueError(f"bincount: weights shape {weights.shape} differs from x {x.shape}")
        return
    if weights.ndim != 1 or not (
        has_unknown(x.chunks) and has_unknown(weights.chunks) and x.numblocks == weights.numblocks
        and unknown_chunks_origin(x.expr, 0) == unknown_chunks_origin(weights.expr, 0)
    ):
        raise ValueError(
            f"bincount: x of shape {x.shape} and weights of shape {weights.shape} have unknown lengths (nan) "
            "that may not line up; mask both with the same boolean array (x[m], weights[m]), or call "
            "compute_chunk_sizes() on each of them first"
        )


def _hist_block(block: np.ndarray, weights: np.ndarray | None = None, bins: Any = None,
                range: Any = None) -> np.ndarray:
    layout = None if weights is not None else integer_bins(block.dtype, bins, range)
    if layout is not None:
        return integer_histogram(block, *layout)
    return np.histogram(block, bins=bins, range=range, weights=weights)[0]


_EXACT = 2**53  # integers up to here compare with float64 edges exactly


def integer_bins(dtype: np.dtype, bins: Any, range: Any) -> tuple | None:
    """``(low, width, nbins)`` when a histogram of integers can skip NumPy's float arithmetic.

    That is: integer values (not bool, not uint64), ``bins`` an int, ``range``
    integral, and every edge NumPy would compute (``linspace(low, high,
    bins + 1)``) exactly ``low + k * width`` for an integer ``width``. Then bin
    ``k`` holds the integers in ``[low + k * width, low + (k + 1) * width)``
    (the last one also ``high``), as NumPy's does.

    >>> integer_bins(np.dtype("i8"), 100, (0, 1_000_000))
    (0, 10000, 100)
    >>> integer_bins(np.dtype("i8"), 3, (0, 10)) is None, integer_bins(np.dtype("f8"), 2, (0, 2)) is None
    (True, True)
    """
    if dtype.kind not in "iu" or (dtype.kind == "u" and dtype.itemsize >= 8):
        return None
    if not isinstance(bins, numbers.Integral) or isinstance(bins, bool) or bins < 1 or range is None:
        return None
    low, high = range
    if not all(float(v).is_integer() and abs(v) < _EXACT for v in (low, high)):
        return None
    low, high, bins = int(low), int(high), int(bins)
    if high <= low or (high - low) % bins:
        return None
    width = (high - low) // bins
    edges = np.linspace(low, high, bins + 1)
    if not np.array_equal(edges, low + width * np.arange(bins + 1, dtype=np.float64)):
        return None
    return low, width, bins


HISTOGRAM_SLAB = 1 << 17
"""Elements per slab of :func:`integer_histogram`: 1 MiB of int64, so each slab stays in cache."""


def integer_histogram(block: np.ndarray, low: int, width: int, nbins: int,
                       slab: int = HISTOGRAM_SLAB) -> np.ndarray:
    """``np.histogram(block, nbins, (low, low + nbins * width))[0]`` in integer arithmetic.

    Slab by slab (:data:`HISTOGRAM_SLAB` elements, reusing one buffer): drop
    values outside the range (only when the slab's min or max says there are
    any, as NumPy drops them), floor-divide by the bin width into the buffer
    (after subtracting ``low`` when it is not 0), clip the top edge into the
    last bin (only when the slab reaches it), and ``bincount``. That is about
    4x ``np.histogram`` on int64 in CPU time, and it allocates nothing of the
    block's size: one pass over the block's bytes, the rest in cache.

    >>> integer_histogram(np.array([0, 4, 5, 9, 10, 11, -1]), 0, 5, 2).tolist()
    [2, 3]
    >>> integer_histogram(np.arange(-3, 12, dtype=np.int8), 1, 5, 2, slab=4).tolist()
    [5, 6]
    """
    high = low + nbins * width
    values = block.ravel()
    counts = np.zeros(nbins, dtype=np.intp)
    if not values.size:
        return counts
    buffer = np.empty(min(slab, values.size), dtype=np.int64)
    for start in range(0, values.size, slab):
        part = values[start:start + slab]
        top = part.max()
        if part.min() < low or top > high:
            part = part[(part >= low) & (part <= high)]
            top = high
        index = buffer[:part.size]
        if low:
            np.subtract(part, low, out=index, dtype=np.int64, casting="unsafe")
            np.floor_divide(index, width, out=index)
        else:
            np.floor_divide(part, width, out=index, dtype=np.int64, casting="unsafe")
        if top >= high:
            np.minimum(index, nbins - 1, out=index)
        counts += np.bincount(index, minlength=nbins)
    return counts


def _check_lazy_bins(bins: Any, opname: str) -> None:
    if isinstance(bins, Array) or (isinstance(bins, (list, tuple)) and any(isinstance(b, Array) for b in bins)):
        raise TypeError(f"{opname}: bins must be in memory (an int or a NumPy array); pass np.asarray(bins)")


@implements(np.histogram)
def histogram(a: Any, bins: Any = 10, range: Any = None, density: Any = None, weights: Any = None) -> tuple:
    """The histogram of ``a`` (flattened), as ``numpy.histogram``: ``(counts, bin_edges)``.

    ``bins`` is an int (``range`` is then required: the edges must be known
    without reading the data) or the edges as an array. ``bin_edges`` is a
    NumPy array; the counts are lazy (per-block histograms, summed by a tree).
    Edges given as a chunkwise array (``range=None``, as in Dask) reach every
    block's task whole, and come back as ``bin_edges``, lazy.

    >>> import numpy as np
    >>> counts, edges = histogram(asarray(np.arange(10)).rechunk(4), bins=[0, 5, 10])
    >>> counts.compute().tolist(), edges.tolist()
    ([5, 5], [0, 5, 10])
    """
    x = asarray(a)
    if isinstance(bins, Array):
        return _histogram_lazy_edges(x, bins, range, density, weights)
    _check_lazy_bins(bins, "histogram")
    if isinstance(bins, str):
        raise NotImplementedError(f"histogram: bins={bins!r} (an estimator) needs the data; give an int and range")
    if isinstance(bins, numbers.Integral) and range is None:
        raise ValueError(
            "histogram: with bins as an int, range=(low, high) is required on chunkwise arrays "
            "(the edges must be known without reading the data); pass range=, or the edges as bins="
        )
    edges = np.histogram_bin_edges(np.empty(0, dtype=x.dtype if x.dtype.kind in "iuf" else float),
                                   bins=bins, range=range)
    arrays = [x] if weights is None else [x, asarray(weights)]
    if weights is not None and arrays[1].shape != x.shape:
        raise ValueError(f"histogram: weights shape {arrays[1].shape} differs from a {x.shape}")
    partials = _one_per_block(_hist_block, arrays, "histogram", bins=bins, range=range)
    dtype = np.intp if weights is None else np.histogram([], bins=1, weights=np.empty(0, arrays[1].dtype))[0].dtype
    counts = _merged(partials, _add, _identity, ((len(edges) - 1,),), dtype, "histogram")
    if density:
        counts = counts / (sum_(counts) * np.diff(edges))
    return counts, edges


def _identity(x: Any) -> Any:
    return x


def _histogram_lazy_edges(x: Array, bins: Array, range: Any, density: Any, weights: Any) -> tuple:
    """``histogram`` with the edges a chunkwise array (as Dask): every block's task takes them
    whole; the edges come back as given, lazy."""
    check_known_chunks("histogram", bins, what=f"bins (shape {bins.shape})")
    if bins.ndim != 1 or not bins.shape[0] >= 1:
        raise ValueError(f"histogram: bins as an array must be 1-d with at least one edge, got shape {bins.shape}")
    if range is not None:
        raise ValueError("histogram: range= must be None when bins is an array of edges (as in Dask)")
    edges = bins.rechunk(-1)
    ind = tuple(builtins.range(x.ndim))
    pairs: list = [x, ind]
    if weights is not None:
        w = asarray(weights)
        if w.shape != x.shape:
            raise ValueError(f"histogram: weights shape {w.shape} differs from a {x.shape}")
        pairs += [w, ind]
    partials = blockwise(_hist_block_edges, ind, *pairs, edges, (x.ndim,), dtype=object,
                         adjust_chunks=dict.fromkeys(ind, 1), concatenate=True, weighted=weights is not None)
    dtype = np.intp if weights is None else np.histogram([], bins=1, weights=np.empty(0, pairs[2].dtype))[0].dtype
    counts = _merged(partials, _add, _identity, ((int(bins.shape[0]) - 1,),), dtype, "histogram")
    if density:
        counts = counts / (sum_(counts) * diff(edges))
    return counts, bins


def _hist_block_edges(block: np.ndarray, *rest: np.ndarray, weighted: bool) -> np.ndarray:
    weights, edges = (rest[0], rest[1]) if weighted else (None, rest[0])
    out = np.empty((1,) * block.ndim, dtype=object)
    out[(0,) * block.ndim] = np.histogram(block, bins=edges, weights=weights)[0]
    return out


def _histdd_block(block: np.ndarray, weights: np.ndarray | None = None, bins: Any = None,
                  range: Any = None) -> np.ndarray:
    return np.histogramdd(block, bins=bins, range=range, weights=weights)[0]


def _as_sample(sample: Any, opname: str) -> Array:
    if isinstance(sample, (list, tuple)):
        columns = [asarray(s) for s in sample]
        return stack([ravel(c) for c in columns], axis=1)
    x = asarray(sample)
    if x.ndim == 1:
        x = reshape(x, (-1, 1))
    if x.ndim != 2:
        raise ValueError(f"{opname}: sample must be (N, D) or a sequence of D arrays, got shape {x.shape}")
    return x


@implements(np.histogramdd)
def histogramdd(sample: Any, bins: Any = 10, range: Any = None, density: Any = None,
                weights: Any = None) -> tuple:
    """The multidimensional histogram of ``sample`` ((N, D), or D arrays), as ``numpy.histogramdd``.

    Integer bins need ``range`` (one ``(low, high)`` per dimension); edges as
    arrays need none. Returns ``(counts, edges)``, the edges in memory.

    >>> import numpy as np
    >>> s = asarray(np.array([[0.1, 0.2], [0.6, 0.9], [0.7, 0.1]])).rechunk((2, 2))
    >>> histogramdd(s, bins=2, range=[(0, 1), (0, 1)])[0].compute().tolist()
    [[1.0, 0.0], [1.0, 1.0]]
    """
    x = _as_sample(sample, "histogramdd")
    _check_lazy_bins(bins, "histogramdd")
    ndim = int(x.shape[1])
    per_dim = bins if isinstance(bins, (list, tuple)) else [bins] * ndim
    if any(isinstance(b, numbers.Integral) for b in per_dim) and range is None:
        raise ValueError(
            "histogramdd: with bins as ints, range= (one (low, high) per dimension) is required on "
            "chunkwise arrays; pass range=, or the edges as bins="
        )
    edges = np.histogramdd(np.empty((0, ndim)), bins=bins, range=range)[1]
    x = x.rechunk({1: -1})
    arrays = [x]
    if weights is not None:
        w = asarray(weights)
        if w.shape != (x.shape[0],):
            raise ValueError(f"histogramdd: weights shape {w.shape} must be ({x.shape[0]},)")
        arrays.append(reshape(w.rechunk({0: x.chunks[0]}), (-1, 1)))
        arrays[1] = arrays[1].rechunk(x.chunks[0:1] + ((1,),))
    partials = _histdd_partials(arrays, bins, range)
    shape = tuple(len(e) - 1 for e in edges)
    counts = _merged(partials, _add, _identity, tuple((s,) for s in shape), np.float64, "histogramdd")
    if density:
        volume = functools.reduce(np.multiply.outer, [np.diff(e) for e in edges])
        counts = counts / (sum_(counts) * volume)
    return counts, list(edges)


def _histdd_partials(arrays: list, bins: Any, range: Any) -> Array:
    x = arrays[0]
    pairs = [x, "ij"]
    if len(arrays) > 1:
        pairs += [arrays[1], "ik"]
    return blockwise(_histdd_boxed, "i", *pairs, dtype=object, adjust_chunks={"i": 1},
                     bins=bins, range=range, concatenate=True)


def _histdd_boxed(block: np.ndarray, weights: np.ndarray | None = None, bins: Any = None,
                  range: Any = None) -> np.ndarray:
    out = np.empty(1, dtype=object)
    out[0] = _histdd_block(block, weights=None if weights is None else weights[:, 0], bins=bins, range=range)
    return out


@implements(np.histogram2d)
def histogram2d(x: Any, y: Any, bins: Any = 10, range: Any = None, density: Any = None,
                weights: Any = None) -> tuple:
    """The 2-d histogram of points ``(x, y)``, as ``numpy.histogram2d``: ``(counts, xedges, yedges)``.

    >>> import numpy as np
    >>> h, xe, ye = histogram2d(asarray(np.array([0.1, 0.9])), asarray(np.array([0.2, 0.8])), bins=2,
    ...                         range=[(0, 1), (0, 1)])
    >>> h.compute().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if not (isinstance(bins, numbers.Integral) or (isinstance(bins, (list, tuple)) and len(bins) == 2)):
        bins = [bins, bins]
    counts, edges = histogramdd([x, y], bins=bins, range=range, density=density, weights=weights)
    return counts, edges[0], edges[1]


# --- digitize, searchsorted, isin --------------------------------------------------------------


@implements(np.digitize)
def digitize(x: Any, bins: Any, right: bool = False) -> Array:
    """The index of the bin each value falls in, as ``numpy.digitize`` (``bins`` in memory).

    >>> import numpy as np
    >>> digitize(asarray(np.array([0.5, 2.5, 9.0])), [0, 1, 2, 3]).compute().tolist()
    [1, 3, 4]
    """
    _check_lazy_bins(bins, "digitize")
    return map_blocks(np.digitize, asarray(x), bins=np.asarray(bins), right=right, dtype=np.intp)


def _searchsorted_block(sorted_block: np.ndarray, v: np.ndarray, side: str) -> np.ndarray:
    return np.searchsorted(sorted_block, v, side=side)[None]


@implements(np.searchsorted)
def searchsorted(a: Any, v: Any, side: str = "left", sorter: Any = None) -> Array:
    """Where ``v`` would be inserted into the sorted 1-d ``a``, as ``numpy.searchsorted``.

    ``a`` may be chunked: the answer is the sum over ``a``'s blocks of each
    block's own ``searchsorted`` (``a`` is sorted), a tree of additions. With
    ``sorter`` (indices that sort ``a``), ``a`` is gathered in that order first,
    which is what NumPy's answer means: positions in the sorted order.

    >>> import numpy as np
    >>> a = asarray(np.array([1, 2, 2, 5, 7])).rechunk(2)
    >>> searchsorted(a, np.array([2, 6]), side="right").compute().tolist()
    [3, 4]
    """
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    sorted_a = asarray(a)
    refuse_masked_input(sorted_a, "searchsorted")
    if sorted_a.ndim != 1:
        raise ValueError(f"searchsorted: a must be 1-d, got shape {sorted_a.shape}")
    if sorter is not None:
        order = asarray(sorter)
        if order.ndim != 1 or order.shape != sorted_a.shape or order.dtype.kind not in "iu":
            raise ValueError(
                f"searchsorted: sorter must be 1-d integer indices as long as a (shape {sorted_a.shape}), "
                f"got shape {order.shape} of {order.dtype}"
            )
        sorted_a = sorted_a[order]
    values = asarray(v)
    ind = tuple(range(1, values.ndim + 1))
    per_block = blockwise(_searchsorted_block, (0, *ind), sorted_a, (0,), values, ind, side, None,
                          dtype=np.intp, adjust_chunks={0: 1})
    return sum_(per_block, axis=0, dtype=np.intp)


def _isin_block(test_block: np.ndarray, element: np.ndarray, assume_unique: bool, kind: Any) -> np.ndarray:
    return np.isin(element, test_block, assume_unique=assume_unique, kind=kind)[None]


@implements(np.isin)
def isin(element: Any, test_elements: Any, assume_unique: bool = False, invert: bool = False, *,
         kind: Any = None) -> Array:
    """Whether each element is in ``test_elements``, as ``numpy.isin``.

    A chunked ``test_elements`` is met block by block (every block of
    ``element`` against every block of the set), the answers ``any``-ed.

    >>> import numpy as np
    >>> isin(asarray(np.arange(5)).rechunk(2), asarray(np.array([1, 3, 8])).rechunk(2)).compute().tolist()
    [False, True, False, True, False]
    """
    x = asarray(element)
    if not isinstance(test_elements, Array):
        test = np.asarray(test_elements).ravel()
        result = map_blocks(np.isin, x, test, assume_unique=assume_unique, kind=kind, dtype=bool)
    else:
        # a 1-d set stays as it is: its lengths may be unknown (a set picked by a boolean mask)
        test = test_elements if test_elements.ndim == 1 else ravel(test_elements)
        ind = tuple(range(1, x.ndim + 1))
        per_block = blockwise(_isin_block, (0, *ind), test, (0,), x, ind, assume_unique, None, kind, None,
                              dtype=bool, adjust_chunks={0: 1})
        result = any_(per_block, axis=0)
    return ~result if invert else result


