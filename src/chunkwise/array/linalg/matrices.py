"""Matrix helpers that need no factorization: ``diagonal``, ``trace``, ``kron``, ``cross``, ``matrix_transpose``.

``diagonal`` reads each piece of the diagonal from the one block that holds
it: the diagonal is cut where it crosses a row or column chunk boundary, so
the output has one chunk per block the diagonal passes through (a
:class:`Diagonal` node, no rechunk). ``trace`` sums it. ``kron`` multiplies
each block of ``a`` by the whole of ``b`` (``b`` in one chunk; a block of the
output is ``np.kron(a_block, b)``). ``cross`` needs the 3-vectors in one chunk.

The NumPy-named functions (``diagonal``, ``trace``, ``kron``) take NumPy's
arguments (``axis1=0, axis2=1``); the Array API ``linalg`` versions in
``chunkwise.array.linalg`` act on the last two axes (``linalg.diagonal(x,
offset=0)``), as ``numpy.linalg``'s do.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(16).reshape(4, 4), chunks=3)
>>> d = diagonal(x, offset=1)
>>> d.chunks, d.compute()
(((2, 1),), array([ 1,  6, 11]))
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axis
from chunkwise.array.chunks import check_known_chunks, chunk_boundaries
from chunkwise.array.core import Array, asarray, elemwise, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.linalg.plan import chunk_limit
from chunkwise.array.reshaping import moveaxis
from chunkwise.core.graph import Ref, Task

__all__ = [
    "Diagonal",
    "Kron",
    "cross",
    "diagonal",
    "kron",
    "linalg_diagonal",
    "linalg_trace",
    "matrix_transpose",
    "numpy_cross",
    "trace",
]


def _as_array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


# --- diagonal -------------------------------------------------------------------------------------


def _diagonal_piece(block: np.ndarray, row: int, col: int, length: int) -> np.ndarray:
    window = block[..., row:row + length, col:col + length]
    return np.diagonal(window, axis1=-2, axis2=-1).copy()


class Diagonal(ArrayExpr):
    """The diagonal at ``offset`` of the last two axes of ``array`` (a new last axis)."""

    _parameters = ("array", "offset")

    def _dtype(self) -> Any:
        return self.array.dtype

    @functools.cached_property
    def pieces(self) -> list:
        """``(row_block, col_block, local_row, local_col, length)`` of each output chunk."""
        rows, cols = self.array.chunks[-2], self.array.chunks[-1]
        offset = self.offset
        n_rows, n_cols = sum(rows), sum(cols)
        r, c = max(-offset, 0), max(offset, 0)
        length = max(0, min(n_rows - r, n_cols - c))
        row_bounds, col_bounds = chunk_boundaries(rows), chunk_boundaries(cols)
        pieces = []
        i = j = 0
        end_r = r + length
        while r < end_r:
            while row_bounds[i + 1] <= r:
                i += 1
            while col_bounds[j + 1] <= c:
                j += 1
            step = min(row_bounds[i + 1] - r, col_bounds[j + 1] - c, end_r - r)
            pieces.append((i, j, r - row_bounds[i], c - col_bounds[j], step))
            r, c = r + step, c + step
        if not pieces:
            pieces.append((0, 0, 0, 0, 0))
        return pieces

    def _chunks(self) -> tuple:
        return self.array.chunks[:-2] + (tuple(p[4] for p in self.pieces),)

    def _task(self, key: Hashable) -> Task:
        i, j, row, col, length = self.pieces[key[-1]]
        return Task(key, _diagonal_piece, Ref((self.array.name, *key[1:-1], i, j)), row, col, length)


def linalg_diagonal(x: Any, /, *, offset: int = 0) -> Array:
    """The diagonals of the matrices on the last two axes, as the Array API's ``linalg.diagonal``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> linalg_diagonal(da.from_array(np.arange(8).reshape(2, 2, 2))).compute()
    array([[0, 3],
           [4, 7]])
    """
    x = _as_array(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: the array must be at least 2-d, got shape {x.shape}")
    check_known_chunks("diagonal", x, axes=(x.ndim - 2, x.ndim - 1))
    if not isinstance(offset, (int, np.integer)):
        raise TypeError(f"diagonal: offset must be an integer, got {offset!r}")
    if x.shape[-2] == 0 or x.shape[-1] == 0:
        x = x.rechunk({-2: -1, -1: -1})
    return Array(Diagonal(x.expr, int(offset)))


@implements(np.diagonal)
def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Array:
    """The diagonal at ``offset`` of the axes ``axis1`` and ``axis2``, as ``numpy.diagonal``.

    The diagonal becomes the last axis; each chunk of it is read from one block.
    """
    a = _as_array(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: the array must be at least 2-d, got shape {a.shape}")
    axis1 = normalize_axis(axis1, a.ndim, "diagonal", "axis1")
    axis2 = normalize_axis(axis2, a.ndim, "diagonal", "axis2")
    if axis1 == axis2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    return linalg_diagonal(moveaxis(a, (axis1, axis2), (-2, -1)), offset=offset)


@implements(np.trace)
def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Array:
    """Sum along the diagonal, as ``numpy.trace``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> trace(da.from_array(np.arange(9).reshape(3, 3), chunks=2)).compute()
    np.int64(12)
    """
    if out is not None:
        raise TypeError("trace: out= is not supported on chunkwise arrays (they are immutable)")
    return diagonal(a, offset, axis1, axis2).sum(axis=-1, dtype=dtype)


def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """The trace of each matrix on the last two axes, as the Array API's ``linalg.trace``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> linalg_trace(da.from_array(np.ones((2, 3, 3)))).compute()
    array([3., 3.])
    """
    return linalg_diagonal(x, offset=offset).sum(axis=-1, dtype=dtype)


def matrix_transpose(x: Any, /) -> Array:
    """Swap the last two axes, as the Array API's ``matrix_transpose`` (``x.mT``).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> matrix_transpose(da.ones((2, 3, 4))).shape
    (2, 4, 3)
    """
    x = _as_array(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: the array must be at least 2-d, got shape {x.shape}")
    return x.mT


# --- kron -----------------------------------------------------------------------------------------------


def _kron(a_block: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.kron(a_block, b)


class Kron(ArrayExpr):
    """``np.kron(a, b)`` block by block: output block ``i`` is ``np.kron(a[i], b)`` (``b`` in one block)."""

    _parameters = ("a", "b", "dtype_")

    def _dtype(self) -> Any:
        return self.dtype_

    def _chunks(self) -> tuple:
        return tuple(tuple(c * n for c in ac) for ac, n in zip(self.a.chunks, self.b.shape))

    def _task(self, key: Hashable) -> Task:
        return Task(key, _kron, Ref((self.a.name, *key[1:])), Ref((self.b.name, *(0,) * self.b.ndim)))


@implements(np.kron)
def kron(a: Any, b: Any) -> Array:
    """Kronecker product, as ``numpy.kron``: ``a``'s chunks scaled by ``b``'s shape.

    ``b`` is put in one chunk (refused when larger than ``array.chunk_size``:
    swap the operands' roles with a permutation, or rechunk).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> kron(da.from_array(np.eye(2), chunks=1), np.ones((1, 2))).compute()
    array([[1., 1., 0., 0.],
           [0., 0., 1., 1.]])
    """
    a, b = _as_array(a), _as_array(b)
    ndim = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (ndim - a.ndim) + a.shape) if a.ndim < ndim else a
    b = b.reshape((1,) * (ndim - b.ndim) + b.shape) if b.ndim < ndim else b
    check_known_chunks("kron", a, b, what="an operand")
    if b.npartitions > 1:
        if b.nbytes > chunk_limit():
            raise ValueError(
                f"kron: the second operand (shape {b.shape}) must fit in one chunk "
                f"(array.chunk_size); it is {b.nbytes} bytes. Raise array.chunk_size or split the product"
            )
        b = b.rechunk(-1)
    dtype = np.result_type(a.dtype, b.dtype)
    return Array(Kron(a.expr, b.expr, dtype))


# --- cross ------------------------------------------------------------------------------------------------


def _cross(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
    return np.cross(a, b, axis=axis)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Array:
    """Cross product of 3-element vectors along ``axis``, as the Array API's ``linalg.cross``.

    The other axes broadcast; ``axis`` (length 3 in both) is put in one chunk.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> cross(da.from_array(np.array([1, 0, 0])), np.array([0, 1, 0])).compute()
    array([0, 0, 1])
    """
    a, b = _as_array(x1), _as_array(x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"cross: both operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    ndim = max(a.ndim, b.ndim)
    if not -ndim <= axis < ndim:
        raise ValueError(f"cross: axis {axis} is out of bounds for shapes {a.shape} and {b.shape}")
    axis = axis - ndim if axis >= 0 else axis
    for x in (a, b):
        if -axis > x.ndim or x.shape[axis] != 3:
            raise ValueError(
                f"cross: axis {axis} must have length 3 in both operands, got shapes {a.shape} and {b.shape}"
            )
    a = a.rechunk({a.ndim + axis: -1}) if a.numblocks[axis] > 1 else a
    b = b.rechunk({b.ndim + axis: -1}) if b.numblocks[axis] > 1 else b
    dtype = np.result_type(a.dtype, b.dtype)
    return elemwise(_cross, a, b, dtype=dtype, funcname="cross", kwargs={"axis": axis})


@implements(np.cross)
def numpy_cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None) -> Array:
    """``numpy.cross`` for 3-vectors; ``axisa``/``axisb``/``axisc`` other than ``-1`` need ``axis``."""
    if axis is None:
        if (axisa, axisb, axisc) != (-1, -1, -1):
            raise TypeError("numpy.cross: only axis= is supported on chunkwise arrays (not axisa/axisb/axisc)")
        axis = -1
    return cross(a, b, axis=axis)

