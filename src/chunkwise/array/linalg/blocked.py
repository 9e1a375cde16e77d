"""Blocked Cholesky factorization: a matrix larger than one chunk, factored block by block.

For a symmetric (Hermitian) positive-definite ``A`` split into an ``N x N``
grid of blocks (the same chunks on both axes), the lower factor ``L`` is
built column of blocks by column of blocks (the right-looking algorithm
written as one task per output block)::

    L[k, k] = cholesky(A[k, k] - sum_{j<k} L[k, j] @ L[k, j]^H)
    L[i, k] = (A[i, k] - sum_{j<k} L[i, j] @ L[k, j]^H) @ L[k, k]^-H    (i > k)
    L[i, k] = 0                                                          (i < k)

Each task reads its block of ``A`` and the blocks of ``L`` to its left, so
no task holds more than ``2k + 2`` blocks; tasks of one block column run in
parallel. ``cholesky`` uses this when one matrix does not fit
``array.chunk_size`` (a matrix that fits is rechunked to one block and
factored by one LAPACK call, which is faster).

>>> import numpy as np
>>> import chunkwise.array as da
>>> a = np.array([[4.0, 2, 0], [2, 5, 2], [0, 2, 5]])
>>> l = block_cholesky(da.from_array(a, chunks=2))
>>> l.chunks
((2, 1), (2, 1))
>>> bool(np.allclose(l.compute(), np.linalg.cholesky(a)))
True
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.blas import one_blas_thread
from chunkwise.array.core import Array
from chunkwise.array.expr import ArrayExpr
from chunkwise.core.graph import Ref, Task

__all__ = ["BlockCholesky", "block_cholesky"]


def _update(a: np.ndarray, left: list, right: list) -> np.ndarray:
    """``a - sum(l @ r^H for l, r in zip(left, right))`` in a fresh array."""
    out = np.array(a, dtype=np.result_type(a.dtype, *(b.dtype for b in left)) if left else a.dtype)
    for lb, rb in zip(left, right):
        out -= lb @ rb.conj().T
    return out


def _diagonal_block(a: np.ndarray, left: list, dtype: np.dtype) -> np.ndarray:
    with one_blas_thread():
        try:
            return np.linalg.cholesky(_update(a.astype(dtype, copy=False), left, left))
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                "cholesky: the matrix is not positive definite (a diagonal block failed to factor)"
            ) from None


def _below_block(a: np.ndarray, left: list, right: list, diagonal: np.ndarray, dtype: np.dtype) -> np.ndarray:
    with one_blas_thread():
        b = _update(a.astype(dtype, copy=False), left, right)
        # X @ L^H = B  <=>  L @ X^H = B^H
        return np.linalg.solve(diagonal, b.conj().T).conj().T


def _zeros(shape: tuple, dtype: np.dtype) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)


class BlockCholesky(ArrayExpr):
    """The lower Cholesky factor of a square 2-d ``array`` with equal row and column chunks."""

    _parameters = ("array", "dtype_")

    def _dtype(self) -> Any:
        return self.dtype_

    def _chunks(self) -> tuple:
        return self.array.chunks

    def _inlinable(self) -> bool:
        return False  # blocks read other blocks of the factor

    def _task(self, key: Hashable) -> Task:
        _, i, k = key
        if k > i:
            return Task(key, _zeros, (self.chunks[0][i], self.chunks[1][k]), self.dtype)
        a = Ref((self.array.name, i, k))
        left = [Ref((self.name, i, j)) for j in range(k)]
        if i == k:
            return Task(key, _diagonal_block, a, left, self.dtype)
        right = [Ref((self.name, k, j)) for j in range(k)]
        return Task(key, _below_block, a, left, right, Ref((self.name, k, k)), self.dtype)

    def _explain_line(self) -> str:
        n = self.numblocks[0]
        return f"BlockCholesky: {n} x {n} blocks, {n * (n + 1) // 2} factored  [{self.dtype}]"


def block_cholesky(a: Array) -> Array:
    """The lower Cholesky factor of the 2-d square ``a`` by blocks; see the module docstring.

    The columns are rechunked to the rows' chunks when they differ.
    """
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"cholesky: a square 2-d matrix is needed for the blocked factorization, got {a.shape}")
    if a.chunks[1] != a.chunks[0]:
        a = a.rechunk({1: a.chunks[0]})
    dtype = np.result_type(a.dtype, np.float64) if a.dtype.kind in "biu" else a.dtype
    return Array(BlockCholesky(a.expr, np.dtype(dtype)))
