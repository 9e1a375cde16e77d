"""Vector and matrix norms: ``norm`` (NumPy's), ``vector_norm`` and ``matrix_norm`` (the Array API's).

Every norm that is a sum or a maximum of absolute values (vector ``ord`` of
any number, matrix ``"fro"``, ``1``, ``-1``, ``inf``, ``-inf``) is a tree
reduction over the chunks, whatever they are. The matrix norms of singular
values (``"nuc"``, ``2``, ``-2``) take the SVD of each matrix: NumPy's per
one-chunk matrix, TSQR for a chunked 2-d tall-and-skinny matrix.
Integer input is computed in float64, as NumPy does.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([[3.0, -4.0], [0.0, 0.0]]), chunks=1)
>>> float(norm(x)), float(norm(x, 1)), float(vector_norm(x, ord=np.inf))
(5.0, 4.0, 4.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.linalg.decompositions import svd
from chunkwise.array.linalg.plan import linalg_dtype
from chunkwise.array.reshaping import moveaxis

__all__ = ["matrix_norm", "norm", "vector_norm"]


def _as_array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


def _floating(x: Array, opname: str) -> Array:
    """``x`` in the dtype its norm is computed in (integers and booleans: float64)."""
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    linalg_dtype(opname, x.dtype)  # refuses object, strings, float16 with the fix
    return x


def _keep(result: Array, shape: tuple, axes: tuple, keepdims: bool) -> Array:
    """``result`` (``axes`` reduced away) with those axes back as length 1 when ``keepdims``."""
    if not keepdims:
        return result
    return result.reshape(tuple(1 if d in axes else n for d, n in enumerate(shape)))


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Array:
    """The vector norm over ``axis`` (``None``: all elements), as the Array API's ``linalg.vector_norm``.

    ``ord``: any number, ``inf``, ``-inf`` or ``0`` (the count of non-zeros).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> vector_norm(da.from_array(np.array([[1.0, 2], [2, 4]]), chunks=1), axis=1).compute()
    array([2.23606798, 4.47213595])
    """
    x = _floating(_as_array(x), "vector_norm")
    shape = x.shape
    axes = tuple(range(x.ndim)) if axis is None else normalize_axes(axis, x.ndim, "vector_norm")
    real = np.empty(0, x.dtype).real.dtype
    magnitude = abs(x)
    if ord is None or ord == 2:
        result = ((x.real ** 2 + x.imag ** 2) if x.dtype.kind == "c" else x * x).sum(axis=axes) ** 0.5
    elif ord == np.inf:
        result = magnitude.max(axis=axes) if x.size else magnitude.sum(axis=axes)
    elif ord == -np.inf:
        result = magnitude.min(axis=axes)
    elif ord == 0:
        result = (x != 0).astype(real).sum(axis=axes)
    elif ord == 1:
        result = magnitude.sum(axis=axes)
    elif isinstance(ord, (int, float, np.integer, np.floating)) and not isinstance(ord, bool):
        result = (magnitude ** ord).sum(axis=axes) ** (1.0 / ord)
    else:
        raise ValueError(f"vector_norm: invalid ord {ord!r}; use a number, inf or -inf")
    return _keep(result.astype(real, copy=False), shape, axes, keepdims)


def _singular_values(x: Array, axes: tuple) -> Array:
    """The singular values of the matrices on ``axes`` (moved to the end)."""
    moved = moveaxis(x, axes, (-2, -1))
    return svd(moved, compute_uv=False)


def _matrix_norm(x: Array, ord: Any, axes: tuple, keepdims: bool, opname: str) -> Array:
    row, col = axes
    if row == col:
        raise ValueError(f"{opname}: duplicate axes given: {axes}")
    real = np.empty(0, x.dtype).real.dtype
    shape = x.shape
    if ord in ("fro", None):
        return vector_norm(x, axis=axes, keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        s = _singular_values(x, axes)
        result = s.sum(axis=-1) if ord == "nuc" else (s.max(axis=-1) if ord == 2 else s.min(axis=-1))
        return _keep(result.astype(real, copy=False), shape, axes, keepdims)
    magnitude = abs(x)
    if ord in (1, -1):
        sums, over = magnitude.sum(axis=row, keepdims=True), col
    elif ord in (np.inf, -np.inf):
        sums, over = magnitude.sum(axis=col, keepdims=True), row
    else:
        raise ValueError(f"{opname}: invalid norm order {ord!r} for matrices; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")
    result = sums.max(axis=over, keepdims=True) if ord in (1, np.inf) else sums.min(axis=over, keepdims=True)
    result = result.astype(real, copy=False)
    if keepdims:
        return result
    return result.reshape(tuple(n for d, n in enumerate(shape) if d not in axes))


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Array:
    """The norm of each matrix on the last two axes, as the Array API's ``linalg.matrix_norm``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> float(matrix_norm(da.from_array(np.eye(3), chunks=2), ord="nuc"))
    3.0
    """
    x = _floating(_as_array(x), "matrix_norm")
    if x.ndim < 2:
        raise ValueError(f"matrix_norm: the array must be at least 2-d, got shape {x.shape}")
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims, "matrix_norm")


@implements(np.linalg.norm)
def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Array:
    """Matrix or vector norm, as ``numpy.linalg.norm``.

    ``axis``: an int (vector norms), a pair (matrix norms) or ``None`` (the
    whole array: its 2-norm when ``ord`` is ``None``; otherwise ``x`` must be
    1-d or 2-d).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> norm(da.from_array(np.arange(4.0).reshape(2, 2), chunks=1), axis=0).compute()
    array([2.        , 3.16227766])
    """
    x = _floating(_as_array(x), "norm")
    if axis is None:
        if ord is None:
            return vector_norm(x, axis=None, keepdims=keepdims)
        if x.ndim == 1:
            return vector_norm(x, axis=0, keepdims=keepdims, ord=ord)
        if x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims, "norm")
        raise ValueError(f"norm: improper number of dimensions to norm (shape {x.shape}); pass axis=")
    axes = normalize_axes(axis, x.ndim, "norm")
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
        return vector_norm(x, axis=axes, keepdims=keepdims, ord=2 if ord is None else ord)
    if len(axes) == 2:
        axes = tuple(a % x.ndim for a in (axis if not isinstance(axis, int) else (axis,)))
        return _matrix_norm(x, ord, axes, keepdims, "norm")
    raise ValueError(f"norm: improper number of dimensions to norm: axis={axis!r}")

