"""xarray's chunk manager for chunkwise: ``chunked_array_type="chunkwise"``.

xarray lets a chunked array library plug in through
``xarray.namedarray.parallelcompat.ChunkManagerEntrypoint``, found under the
``xarray.chunkmanagers`` entry-point group. chunkwise registers
:class:`ChunkwiseManager` there (see ``pyproject.toml``), so that

    ds.chunk({"time": 100}, chunked_array_type="chunkwise")
    xr.open_zarr(path, chunked_array_type="chunkwise")

give Datasets whose variables are :class:`chunkwise.array.Array`; xarray's
arithmetic, reductions, groupby, resample, ``apply_ufunc(dask="parallelized")``
and ``to_zarr`` then run as chunkwise plans.

Design: the manager is a thin translation layer. Each method maps xarray's
(Dask-shaped) call onto the chunkwise operation that does the same thing;
where chunkwise's contract differs from Dask's, a small named adapter here
bridges it:

- :func:`reduction`: Dask's ``combine`` takes the partials *concatenated*;
  chunkwise's takes a *list*. The adapter concatenates along the first reduced
  axis and calls ``combine_func`` with ``keepdims=True``.
- :func:`scan`: chunkwise's cumulative node carries the *last element* of each
  block's scan into the next block, which equals Dask's ``preop`` (``sum`` for
  ``cumsum``, ``nanlast`` for ``ffill``) for every scan xarray builds.
- ``apply_gufunc`` is :func:`chunkwise.array.apply_gufunc`, which takes
  Dask's arguments as they are.
- ``map_blocks``: Dask takes ``dtype=`` and ``chunks=`` as labels and never
  checks them; chunkwise checks every block. xarray's calls rely on Dask's
  leniency (``.dt.month`` declares ``int64`` where pandas gives ``int32``,
  and its NumPy path casts; ``.dt.isocalendar()`` declares one block's shape,
  ``(3,) + values.chunksize``), so :class:`_CastTo` casts each block to the
  declared dtype and :func:`_chunks_of_block_shape` reads a one-block shape as
  "the input's chunks" on the input's axes.
- :func:`unify_chunks`: the common refinement of each index's chunks (length-1
  axes broadcast), then a rechunk of every array that differs.
- ``array_api`` is :data:`namespace`: ``chunkwise.array`` plus the one
  Dask-only name xarray looks up there, ``isnull`` (pandas' null test per
  block; xarray's ``mean`` of timedeltas and ``isnull`` of object arrays call it).

Where xarray's own code is written for Dask only, no manager method is
called and nothing here can help; ``docs/array.md`` lists those places
(``xr.map_blocks``, and ``interp`` unless chunkwise is the default manager).

xarray is imported only when this module is (it is an optional dependency:
``pip install chunkwise[xarray]``); nothing else in chunkwise imports it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Any

import numpy as np
import pandas as pd
from xarray.namedarray.parallelcompat import ChunkManagerEntrypoint

import chunkwise
import chunkwise.array as ca
from chunkwise import config
from chunkwise.array.chunks import normalize_chunks
from chunkwise.array.core import Array, asarray
from chunkwise.array.cumulative import Cumulative
from chunkwise.array.treereduce import reduction as tree_reduction
from chunkwise.sizes import parse_bytes

__all__ = [
    "ChunkwiseManager",
    "isnull",
    "namespace",
    "reduction",
    "scan",
    "unify_chunks",
]


# --- adapters from Dask-shaped calls to chunkwise ---------------------------------------------


class _ConcatenatedCombine:
    """Dask's ``combine(concatenated_partials, axis=..., keepdims=True)`` as a chunkwise combine."""

    def __init__(self, func: Callable, axes: tuple):
        self.func, self.axes = func, axes

    def __call__(self, parts: list) -> Any:
        return self.func(np.concatenate(parts, axis=self.axes[0]), axis=self.axes, keepdims=True)


class _KeywordCall:
    """``func(block, axis=axes, keepdims=keepdims)``: a picklable partial."""

    def __init__(self, func: Callable, axes: tuple, keepdims: bool):
        self.func, self.axes, self.keepdims = func, axes, keepdims

    def __call__(self, block: Any) -> Any:
        return self.func(block, axis=self.axes, keepdims=self.keepdims)


class _CastTo:
    """``func``'s block cast to ``dtype``: the dtype xarray declares is the one its NumPy path casts to.

    A NaN bound for an integer dtype is refused rather than cast to garbage:
    xarray's NumPy path keeps such a result floating, which a chunkwise array,
    with one dtype for every block, cannot do block by block.
    """

    def __init__(self, func: Callable, dtype: np.dtype):
        self.func, self.dtype = func, dtype
        self.__name__ = getattr(func, "__name__", "map_blocks")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = np.asarray(self.func(*args, **kwargs))
        if out.dtype == self.dtype:
            return out
        if self.dtype.kind in "iu" and out.dtype.kind == "f" and np.isnan(out).any():
            raise ValueError(
                f"{self.__name__}: xarray declared dtype {self.dtype} for this block-wise operation, "
                f"but a block holds NaN (a missing value, such as NaT in the input); a chunkwise "
                "array has one dtype for all its blocks. Fill the missing values first (.fillna), "
                "or .compute() before this operation"
            )
        return out.astype(self.dtype, copy=False)


def _chunks_of_block_shape(chunks: Any, args: tuple, new_axis: Any) -> Any:
    """Dask's ``chunks=(3, 70)`` (the shape of a block) as per-axis chunks.

    On an axis of the first array argument, a size equal to that axis' largest
    chunk means "the input's chunks" (xarray passes ``x.chunksize``, which the
    last, shorter block does not have); other sizes repeat for every block, as
    in Dask. Axes listed in ``new_axis`` have one block of the given size.
    """
    if chunks is None or not all(isinstance(c, numbers.Integral) for c in chunks):
        return chunks
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        return chunks
    new = set() if new_axis is None else {a % len(chunks) for a in np.atleast_1d(new_axis).tolist()}
    input_chunks = iter(arrays[0].chunks)
    out: list[tuple] = []
    for axis, size in enumerate(chunks):
        if axis in new:
            out.append((int(size),))
            continue
        axis_chunks = next(input_chunks, None)
        if axis_chunks is None:
            return chunks
        out.append(axis_chunks if axis_chunks and size == max(axis_chunks) else (int(size),) * len(axis_chunks))
    return tuple(out)


def reduction(
    arr: Array,
    func: Callable,
    combine_func: Callable | None = None,
    aggregate_func: Callable | None = None,
    axis: int | Sequence[int] | None = None,
    dtype: Any = None,
    keepdims: bool = False,
) -> Array:
    """A tree reduction with ``dask.array.reduction``'s calling convention.

    ``func`` and ``combine_func`` (``func`` when not given) are called with
    ``axis`` and ``keepdims=True``; ``aggregate_func`` (``combine_func`` when
    not given) with ``keepdims=False`` then the reduced axes are restored, as
    chunkwise's reduction drops them itself when ``keepdims=False``.

    >>> x = ca.from_array(np.arange(10.0), chunks=3)
    >>> float(reduction(x, np.sum, axis=0, dtype=float).compute())
    45.0
    """
    x = asarray(arr)
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(sorted(a % x.ndim for a in ((axis,) if np.ndim(axis) == 0 else axis)))
    combine_func = func if combine_func is None else combine_func
    aggregate_func = combine_func if aggregate_func is None else aggregate_func
    if dtype is None:
        dtype = x.dtype
    return tree_reduction(
        x, _KeywordCall(func, axes, True), _ConcatenatedCombine(combine_func, axes),
        _KeywordCall(aggregate_func, axes, True), axis=axes, keepdims=keepdims, dtype=dtype,
        name=getattr(func, "__name__", "reduction"),
    )


def scan(
    func: Callable, binop: Callable, ident: Any, arr: Array, axis: int | None = None,
    dtype: Any = None, **kwargs: Any,
) -> Array:
    """A cumulative scan with ``dask.array.reductions.cumreduction``'s calling convention.

    ``func(block, axis=, dtype=)`` scans one block; ``binop(carry, block)``
    folds the carry from the blocks before it in. The carry of a block is the
    last element of its scan, which is what Dask's ``preop`` computes for every
    scan xarray builds (``sum`` for ``cumsum``, ``nanlast`` for ``ffill``).
    ``ident`` and Dask's ``method``/``preop`` keywords are accepted and not
    needed.

    >>> x = ca.from_array(np.arange(6), chunks=4)
    >>> scan(np.cumsum, np.add, 0, x, axis=0).compute().tolist()
    [0, 1, 3, 6, 10, 15]
    """
    unknown = set(kwargs) - {"method", "preop"}
    if unknown:
        raise TypeError(f"scan: unexpected keyword(s) {sorted(unknown)}; "
                        "chunkwise's scan accepts func, binop, ident, arr, axis, dtype")
    x = asarray(arr)
    if axis is None:
        x, axis = x.ravel(), 0
    axis = axis % x.ndim
    out_dtype = x.dtype if dtype is None else np.dtype(dtype)
    return Array(Cumulative(x.expr, func, binop, axis, out_dtype, getattr(func, "__name__", "scan")))


def _refine(axis_chunks: list[tuple]) -> tuple:
    """The common refinement of several chunkings of one axis (length-1 axes left out)."""
    real = [c for c in axis_chunks if sum(c) != 1] or axis_chunks
    if all(c == real[0] for c in real):
        return real[0]
    bounds = sorted(set().union(*(accumulate(c) for c in real)))
    return tuple(b - a for a, b in zip([0, *bounds[:-1]], bounds))


def unify_chunks(*args: Any, **kwargs: Any) -> tuple[dict, list]:
    """``dask.array.core.unify_chunks``: rechunk ``array, index`` pairs so shared indices line up.

    Returns ``({index_symbol: chunks}, [arrays])``; axes of length 1 broadcast.

    >>> a = ca.from_array(np.arange(6), chunks=4)
    >>> b = ca.from_array(np.arange(6), chunks=3)
    >>> chunkss, (a2, b2) = unify_chunks(a, "i", b, "i")
    >>> chunkss["i"], a2.chunks, b2.chunks
    ((3, 1, 2), ((3, 1, 2),), ((3, 1, 2),))
    """
    if kwargs:
        raise TypeError(f"unify_chunks: unexpected keyword(s) {sorted(kwargs)}")
    if len(args) % 2:
        raise ValueError("unify_chunks: pass arguments in pairs: array, index (None for a literal)")
    pairs = [(a, None if ind is None else tuple(ind)) for a, ind in zip(args[::2], args[1::2])]
    seen: dict = {}
    for a, ind in pairs:
        if ind is not None:
            for symbol, c in zip(ind, asarray(a).chunks):
                seen.setdefault(symbol, []).append(c)
    chunkss = {symbol: _refine(cs) for symbol, cs in seen.items()}
    arrays = []
    for a, ind in pairs:
        if ind is None:
            arrays.append(a)
            continue
        a = asarray(a)
        wanted = tuple(c if sum(c) == 1 and sum(chunkss[s]) != 1 else chunkss[s]
                       for s, c in zip(ind, a.chunks))
        arrays.append(a if wanted == a.chunks else a.rechunk(wanted))
    return chunkss, arrays


def isnull(x: Any) -> Array:
    """``pandas.isnull`` block by block (``dask.array.isnull``): NaN, NaT and None are null.

    >>> x = ca.from_array(np.array([1.0, None, "a"], dtype=object), chunks=2)
    >>> isnull(x).compute().tolist()
    [False, True, False]
    """
    return asarray(x).map_blocks(pd.isnull, dtype=bool)


class _XarrayNamespace:
    """``chunkwise.array`` plus the Dask-only names xarray looks up on ``chunkmanager.array_api``."""

    isnull = staticmethod(isnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(ca, name)

    def __dir__(self) -> list[str]:
        return sorted({*dir(ca), "isnull"})

    def __repr__(self) -> str:
        return "<chunkwise.array namespace for xarray>"


#: The chunk manager's ``array_api``: ``chunkwise.array`` plus ``isnull``.
namespace = _XarrayNamespace()


def _whole_axes_if_empty(shape: tuple, chunks: Any) -> Any:
    """Chunks for an array with a zero-length axis, as Dask takes them.

    xarray asks for ``(0, "auto")`` or ``{1: "auto"}`` after selecting nothing
    on one axis: a zero-length axis has one empty block (Dask takes ``0`` for
    it; chunkwise spells it ``-1``), and "auto" cannot size blocks of zero
    bytes, so it becomes the whole axis too.
    """
    if 0 not in shape:
        return chunks

    def axis_spec(axis: int, spec: Any) -> Any:
        if shape[axis] == 0 or (isinstance(spec, str) and spec == "auto"):
            return -1
        return spec

    if isinstance(chunks, Mapping):
        return {axis: axis_spec(axis % len(shape), spec) for axis, spec in chunks.items()}
    if isinstance(chunks, (tuple, list)) and len(chunks) == len(shape):
        return tuple(axis_spec(axis, spec) for axis, spec in enumerate(chunks))
    if (isinstance(chunks, str) and chunks == "auto") or chunks == 0:
        return (-1,) * len(shape)
    return chunks


def _narrow_dask_manager() -> None:
    """Stop xarray's ``DaskManager`` from claiming chunkwise arrays as its own.

    A chunkwise array implements Dask's collection protocol (so that
    ``distributed.Client.compute`` takes it), hence ``dask.is_dask_collection``
    is true for it, and xarray's ``DaskManager.is_chunked_array`` says yes too;
    xarray then refuses to pick a manager ("Multiple ChunkManagers recognise
    type ..."). The wrapped check leaves every other array to Dask.
    """
    from xarray.namedarray.daskmanager import DaskManager

    original = DaskManager.is_chunked_array
    if getattr(original, "chunkwise_narrowed", False):
        return

    def is_chunked_array(self: Any, data: Any) -> bool:
        return not isinstance(data, Array) and original(self, data)

    is_chunked_array.chunkwise_narrowed = True  # type: ignore[attr-defined]
    DaskManager.is_chunked_array = is_chunked_array  # type: ignore[method-assign]


# --- the entry point --------------------------------------------------------------------------


class ChunkwiseManager(ChunkManagerEntrypoint[Array]):
    """xarray's chunk manager for :class:`chunkwise.array.Array` (``chunked_array_type="chunkwise"``)."""

    array_cls = Array
    available = True

    def __init__(self) -> None:
        self.array_cls = Array
        _narrow_dask_manager()

    def is_chunked_array(self, data: Any) -> bool:
        return isinstance(data, Array)

    def chunks(self, data: Array) -> tuple:
        return data.chunks

    def normalize_chunks(self, chunks: Any, shape: tuple | None = None, limit: int | None = None,
                         dtype: Any = None, previous_chunks: tuple | None = None) -> tuple:
        if isinstance(chunks, Mapping) and shape is not None:
            chunks = tuple(chunks.get(k, chunks.get(k - len(shape), -1)) for k in range(len(shape)))
        return normalize_chunks(chunks, shape, dtype=dtype, limit=limit, previous_chunks=previous_chunks)

    def from_array(self, data: Any, chunks: Any, **kwargs: Any) -> Array:
        kwargs.pop("meta", None)  # chunkwise blocks are NumPy arrays
        return ca.from_array(data, _whole_axes_if_empty(data.shape, chunks), **kwargs)

    def rechunk(self, data: Array, chunks: Any, **kwargs: Any) -> Array:
        return data.rechunk(_whole_axes_if_empty(data.shape, chunks), **kwargs)

    def compute(self, *data: Any, **kwargs: Any) -> tuple:
        return chunkwise.compute(*data, **kwargs)

    def persist(self, *data: Any, **kwargs: Any) -> tuple:
        return chunkwise.persist(*data, **kwargs)

    @property
    def array_api(self) -> Any:
        return namespace

    def get_auto_chunk_size(self) -> int:
        return parse_bytes(config.get("array.chunk_size"))

    def reduction(self, arr: Array, func: Callable, combine_func: Callable | None = None,
                  aggregate_func: Callable | None = None, axis: Any = None, dtype: Any = None,
                  keepdims: bool = False) -> Array:
        return reduction(arr, func, combine_func, aggregate_func, axis=axis, dtype=dtype,
                         keepdims=keepdims)

    def scan(self, func: Callable, binop: Callable, ident: Any, arr: Array, axis: int | None = None,
             dtype: Any = None, **kwargs: Any) -> Array:
        return scan(func, binop, ident, arr, axis=axis, dtype=dtype, **kwargs)

    def apply_gufunc(self, func: Callable, signature: str, *args: Any, **kwargs: Any) -> Any:
        return ca.apply_gufunc(func, signature, *args, **kwargs)

    def map_blocks(self, func: Callable, *args: Any, dtype: Any = None, chunks: Any = None,
                   drop_axis: Any = None, new_axis: Any = None, **kwargs: Any) -> Array:
        if dtype is not None:
            func = _CastTo(func, np.dtype(dtype))
        if drop_axis is None:
            chunks = _chunks_of_block_shape(chunks, args, new_axis)
        return ca.map_blocks(func, *args, dtype=dtype, chunks=chunks, drop_axis=drop_axis,
                             new_axis=new_axis, **kwargs)

    def blockwise(self, func: Callable, out_ind: Iterable, *args: Any, **kwargs: Any) -> Array:
        return ca.blockwise(func, out_ind, *args, **kwargs)

    def unify_chunks(self, *args: Any, **kwargs: Any) -> tuple[dict, list]:
        return unify_chunks(*args, **kwargs)

    def store(self, sources: Any, targets: Any, **kwargs: Any) -> Any:
        kwargs.pop("flush", None)  # chunkwise writes go straight to the target
        return ca.store(sources, targets, **kwargs)

    def shuffle(self, x: Array, indexer: list[list[int]], axis: int, chunks: Any) -> Array:
        if chunks not in (None, "auto"):
            raise NotImplementedError("shuffle: chunkwise supports only chunks='auto' "
                                      "(one chunk per group)")
        groups = [list(g) for g in indexer]
        order = np.concatenate([np.asarray(g, dtype=np.intp) for g in groups]) if groups else []
        taken = ca.take(x, order, axis=axis)
        sizes = tuple(len(g) for g in groups if len(g)) or (0,)
        return taken.rechunk({axis: sizes})
