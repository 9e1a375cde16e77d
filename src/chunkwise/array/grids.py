"""Grids of coordinates: ``meshgrid``, ``indices``, ``fromfunction`` and ``unravel_index``.

Like the other creation functions (:mod:`chunkwise.array.creation`) they build
source nodes: a block's task holds only its offsets and shape, and computes its
coordinates when run. ``unravel_index`` turns flat indices into grid
coordinates block by block.

>>> import numpy as np
>>> import chunkwise.array as da
>>> xx, yy = da.meshgrid(da.arange(3, chunks=2), da.arange(2, chunks=1))
>>> xx.compute().tolist(), yy.chunks
([[0, 1, 2], [0, 1, 2]], ((1, 1), (2, 1)))
>>> da.indices((2, 3), chunks=2)[1].compute().tolist()
[[0, 1, 2], [0, 1, 2]]
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from chunkwise.array.blockwise import map_blocks
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.creation import Source, arange, chunks_for, normalize_shape
from chunkwise.array.expr import ArrayExpr
from chunkwise.core.graph import Ref, Task

__all__ = ["fromfunction", "indices", "meshgrid", "unravel_index"]


class AlongAxis(ArrayExpr):
    """The 1-d ``array`` laid along ``axis`` of a ``len(chunks_)``-d array, repeated on the other axes."""

    _parameters = ("array", "axis", "chunks_")

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        block = index[self.axis] if self.array.numblocks[0] > 1 else 0
        return Task(key, _along_axis, Ref((self.array.name, block)), self.axis, self.block_shape(index))


def _along_axis(block: np.ndarray, axis: int, shape: tuple) -> np.ndarray:
    view = [1] * len(shape)
    view[axis] = -1
    return np.broadcast_to(block.reshape(view), shape)


@implements(np.meshgrid)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """Coordinate arrays from 1-d coordinate vectors, as ``numpy.meshgrid``.

    Output axis ``i`` takes the chunks of the ``i``-th input; the blocks are
    read-only broadcast views of the input blocks.

    >>> xx, yy = meshgrid(arange(3, chunks=2), arange(2, chunks=1))
    >>> xx.chunks, yy.compute().tolist()
    (((1, 1), (2, 1)), [[0, 0, 0], [1, 1, 1]])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    arrays = []
    for x in xi:
        x = asarray(x)
        if x.ndim != 1:
            x = x.ravel()
        check_known_chunks("meshgrid", x, what=f"the input (chunks {x.chunks})")
        arrays.append(x)
    ndim = len(arrays)
    axes = list(range(ndim))
    if indexing == "xy" and ndim > 1:
        axes[0], axes[1] = 1, 0
    chunks: list = [None] * ndim
    for x, axis in zip(arrays, axes):
        chunks[axis] = x.chunks[0]
    out = []
    for x, axis in zip(arrays, axes):
        if sparse:
            c = tuple(chunks[a] if a == axis else (1,) for a in range(ndim))
        else:
            c = tuple(chunks)
        out.append(Array(AlongAxis(x._expr, axis, c)))
    return tuple(out)


class Indices(Source):
    """``numpy.indices`` (dense): block ``(i, ...)`` holds the index grid of axis ``i``."""

    _parameters = ("dtype_", "chunks_")

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        offsets = self._offsets(index)
        shape = self.block_shape(index)
        return Task(key, _indices_block, index[0], offsets[1:], shape, self.dtype)


def _indices_block(axis: int, offsets: tuple, shape: tuple, dtype: np.dtype) -> np.ndarray:
    inner = shape[1:]
    if shape[0] == 0:
        return np.empty(shape, dtype=dtype)
    values = np.arange(offsets[axis], offsets[axis] + inner[axis], dtype=dtype)
    view = [1] * len(inner)
    view[axis] = -1
    return np.broadcast_to(values.reshape(view), inner)[None]


def indices(dimensions: Sequence[int], dtype: Any = int, sparse: bool = False, *, chunks: Any = "auto") -> Any:
    """The grid of indices of an array of shape ``dimensions``, as ``numpy.indices``.

    The result has shape ``(len(dimensions), *dimensions)``, one block per grid
    on the first axis; ``chunks`` applies to ``dimensions``.

    >>> indices((2, 3), chunks=2).compute()[1]
    array([[0, 1, 2],
           [0, 1, 2]])
    """
    dims = normalize_shape(tuple(dimensions), "indices")
    dtype = np.dtype(dtype)
    inner = chunks_for("indices", chunks, dims, dtype)
    if sparse:
        out = []
        for axis, c in enumerate(inner):
            line = arange(dims[axis], dtype=dtype, chunks=(c,))
            shape_chunks = tuple(c if a == axis else (1,) for a in range(len(dims)))
            out.append(Array(AlongAxis(line._expr, axis, shape_chunks)))
        return tuple(out)
    first = (1,) * len(dims) if dims else (0,)
    return Array(Indices(dtype, (first, *inner)))


class FromFunction(Source):
    """``function(*index_grids, **kwargs)`` evaluated block by block."""

    _parameters = ("function", "kwargs", "index_dtype", "dtype_", "chunks_")

    @property
    def _funcname(self) -> str:
        return "fromfunction-" + getattr(self.function, "__name__", "function")

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        return Task(
            key, _fromfunction_block, self.function, self.kwargs, self._offsets(index),
            self.block_shape(index), self.index_dtype, self.dtype,
        )


def _fromfunction_block(function, kwargs, offsets, shape, index_dtype, dtype) -> np.ndarray:
    grids = np.indices(shape, dtype=index_dtype)
    for axis, offset in enumerate(offsets):
        if offset:
            grids[axis] += offset
    out = np.asarray(function(*grids, **(kwargs or {})))
    if out.shape != tuple(shape):
        try:
            out = np.broadcast_to(out, shape)
        except ValueError:
            name = getattr(function, "__name__", "function")
            raise ValueError(
                f"fromfunction: {name} returned shape {out.shape} for a block of shape {shape}; "
                "it must work elementwise on its index arrays"
            ) from None
    return out.astype(dtype, copy=False)


@implements(np.fromfunction)  # with like=: NumPy dispatches to it
def fromfunction(
    function: Callable, shape: Any, *, dtype: Any = float, chunks: Any = "auto", like: Any = None, **kwargs: Any
) -> Array:
    """``function`` evaluated on the index grids, block by block, as ``numpy.fromfunction``.

    ``dtype`` is the dtype of the index arrays, as in NumPy; the result's dtype
    is what ``function`` returns (found by calling it on one-element grids).
    ``function`` must work elementwise: each call sees one block's indices.

    >>> fromfunction(lambda i, j: i + j, (2, 3), dtype=int, chunks=2).compute()
    array([[0, 1, 2],
           [1, 2, 3]])
    """
    if not callable(function):
        raise TypeError(f"fromfunction: function must be callable, got {type(function).__name__}")
    shape = normalize_shape(shape, "fromfunction")
    index_dtype = np.dtype(dtype)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sample = function(*np.indices((1,) * len(shape), dtype=index_dtype), **kwargs)
        except Exception as exc:
            name = getattr(function, "__name__", "function")
            raise TypeError(
                f"fromfunction: calling {name} on index arrays of dtype {index_dtype} failed: {exc}"
            ) from exc
    out_dtype = np.asarray(sample).dtype
    normalized = chunks_for("fromfunction", chunks, shape, out_dtype)
    return Array(FromFunction(function, kwargs or None, index_dtype, out_dtype, normalized))


class _UnravelAxis:
    """Coordinate ``k`` of ``numpy.unravel_index(block, shape, order)``."""

    def __init__(self, shape: tuple, k: int, order: str):
        self.shape, self.k, self.order = shape, k, order

    def __call__(self, block: np.ndarray) -> np.ndarray:
        return np.unravel_index(block, self.shape, order=self.order)[self.k]


@implements(np.unravel_index)
def unravel_index(indices: Any, shape: Any, order: str = "C") -> tuple:
    """Flat indices into a ``shape`` grid as a tuple of coordinate arrays, as ``numpy.unravel_index``.

    An index outside the grid raises NumPy's ``ValueError`` when computed.

    >>> import numpy as np
    >>> rows, cols = unravel_index(asarray(np.array([0, 5, 11]), chunks=2), (3, 4))
    >>> rows.compute().tolist(), cols.compute().tolist()
    ([0, 1, 2], [0, 1, 3])
    """
    x = asarray(indices)
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError(f"unravel_index: indices must be integers, got dtype {x.dtype}")
    if order not in ("C", "F"):
        raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}")
    dims = tuple(int(s) for s in np.atleast_1d(shape))
    return tuple(map_blocks(_UnravelAxis(dims, k, order), x, dtype=np.intp) for k in range(len(dims)))
