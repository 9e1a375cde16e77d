"""General (non-Hermitian) eigenvalue problems: ``eig`` and ``eigvals``, per matrix.

Each square matrix is held in one chunk on the last two axes (rechunked to
one when it fits ``array.chunk_size``, refused otherwise, as the other
per-matrix solvers) and handed to ``numpy.linalg.eig``/``eigvals``,
batch-wise over chunked leading axes (:func:`~.plan.core_call`).

One difference from NumPy: NumPy returns a *real* array when every
eigenvalue of the input turns out real, and a complex one otherwise. That
dtype depends on the data, and a lazy array's dtype must be known before
computing, so chunkwise always returns the complex dtype (``complex128``
for ``float64`` and integer input, ``complex64`` for ``float32``), as
``torch.linalg.eig`` does. ``x.real`` recovers NumPy's real answer when the
eigenvalues are known to be real.

>>> import numpy as np
>>> import chunkwise.array as da
>>> eigvals(da.from_array(np.array([[2.0, 0], [0, 3]]))).compute()
array([2.+0.j, 3.+0.j])
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chunkwise.array.core import Array, asarray
from chunkwise.array.linalg.plan import core_call, linalg_dtype, one_core_chunk

__all__ = ["EigResult", "eig", "eigvals"]

EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


def _complex(dtype: np.dtype) -> np.dtype:
    return np.result_type(dtype, np.complex64)


def _square_stack(a: Any, opname: str) -> Array:
    x = a if isinstance(a, Array) else asarray(a)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"{opname}: the array must be a square matrix or a stack of them on the last two axes, "
            f"got shape {x.shape}"
        )
    return one_core_chunk(x, 2, opname)


def _eig(block: np.ndarray, dtype: np.dtype) -> tuple:
    w, v = np.linalg.eig(block)
    return w.astype(dtype, copy=False), v.astype(dtype, copy=False)


def _eigvals(block: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.linalg.eigvals(block).astype(dtype, copy=False)


def eig(a: Any) -> EigResult:
    """Eigenvalues and right eigenvectors of each square matrix, as ``numpy.linalg.eig``.

    Always complex (see the module's note); ``eigenvectors[..., :, i]`` belongs to
    ``eigenvalues[..., i]``, each normalized to unit length as NumPy does.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> w, v = eig(da.from_array(np.array([[0.0, -1], [1, 0]])))
    >>> w.compute()
    array([0.+1.j, 0.-1.j])
    """
    x = _square_stack(a, "eig")
    dtype = _complex(linalg_dtype("eig", x.dtype))
    n = x.shape[-1]
    w, v = core_call(_eig, [x], 2, [((n,), dtype), ((n, n), dtype)], "eig", {"dtype": dtype})
    return EigResult(w, v)


def eigvals(a: Any) -> Array:
    """Eigenvalues of each square matrix, as ``numpy.linalg.eigvals`` (always complex; see the module).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> eigvals(da.from_array(np.array([[1.0, 2], [0, 3]]))).compute()
    array([1.+0.j, 3.+0.j])
    """
    x = _square_stack(a, "eigvals")
    dtype = _complex(linalg_dtype("eigvals", x.dtype))
    return core_call(_eigvals, [x], 2, [((x.shape[-1],), dtype)], "eigvals", {"dtype": dtype})[0]
