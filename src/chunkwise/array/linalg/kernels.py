"""The NumPy work of one TSQR row block: its R in cache-sized pieces, its Q in one product.

Two facts about LAPACK on a tall-and-skinny block decide how a row block is
factored (a 500,000 x 20 float64 block, one BLAS thread, CPU time):

- **R in pieces.** ``np.linalg.qr(block, mode="r")`` costs ~300 ms: it copies
  the C-ordered block to Fortran order, and Householder's panel (20
  columns are one panel) sweeps the whole 80 MB block once per column, from
  memory. :func:`block_r` factors the block in pieces of about
  ``PIECE_BYTES`` (each copied and swept in cache), then the stacked R's
  of the pieces, in turn in pieces, down to one: the same R up to the signs
  of its rows (any R with ``R^T R = A^T A``), in ~55 ms. The columns of
  several inputs (``lstsq``'s ``[a | b]``) are joined piece by piece, never
  as a whole block.
- **Q in one product.** Forming Q by LAPACK (``np.linalg.qr``'s reduced
  mode, ``orgqr``) costs ~1.9 s, six times the factorization. A TSQR needs
  each block's Q only multiplied by a small ``K x K`` factor ``F`` from the
  tree: with the block's own ``R_b``, ``Q_b F = A_b (R_b^{-1} F)``, one
  ``M x K`` by ``K x K`` product (~25 ms) on the input block.
  :func:`q_by_solve` does that when ``R_b`` is square and well conditioned.
  Its loss of orthogonality is about ``eps * cond(R_b)``, so it runs only
  when ``cond(R_b) <= eps ** -0.25`` (:func:`cond_limit`: about 8,000 for
  float64, 54 for float32; a loss of at most ``eps ** 0.75``). Otherwise
  (a rank-deficient or badly scaled block, a block with fewer rows than
  columns) :func:`block_qr` builds the block's Householder Q piece by piece,
  with exactly the R of :func:`block_r` (the same LAPACK calls on the same
  pieces), so either way ``Q_b R_b`` reproduces the block.

Every function here runs inside a task that holds one BLAS thread
(:func:`chunkwise.array.blas.one_blas_thread`; on the threads scheduler the
limit is held from the first such task to the end of the compute). With
OpenBLAS's own threads running next to the scheduler's on a loaded 2-core
machine, the 10,000,000 x 20 QR benchmark once took 340 s (the hand-written
twin, holding the limit throughout: 22 s).

>>> import numpy as np
>>> a = np.random.default_rng(0).standard_normal((10_000, 3))
>>> r = block_r((a,), a.dtype, piece=1_000)
>>> bool(np.allclose(r.T @ r, a.T @ a))
True
>>> q = q_by_solve(a, r, None)
>>> bool(np.allclose(q.T @ q, np.eye(3))), bool(np.allclose(q @ r, a))
(True, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "PIECE_BYTES",
    "PIECE_MIN_ROWS_PER_COLUMN",
    "block_qr",
    "block_r",
    "cond_limit",
    "piece_rows",
    "q_by_solve",
    "well_conditioned",
]

#: Bytes of one piece factored at a time (copied and swept in the CPU's cache).
PIECE_BYTES = 512 * 1024

#: A piece holds at least this many rows per column, so the stacked R's stay few.
PIECE_MIN_ROWS_PER_COLUMN = 8


def piece_rows(width: int, itemsize: int) -> int:
    """Rows per piece of a block of ``width`` columns of ``itemsize`` bytes.

    >>> piece_rows(20, 8), piece_rows(1000, 8)
    (3276, 8000)
    """
    return max(PIECE_MIN_ROWS_PER_COLUMN * width, PIECE_BYTES // max(width * itemsize, 1), 1)


def _as_matrix(block: np.ndarray) -> np.ndarray:
    return block[:, None] if block.ndim == 1 else block


def _columns(parts: Sequence[np.ndarray], start: int, stop: int, dtype: np.dtype) -> np.ndarray:
    """Rows ``start:stop`` of ``[part1 | part2 | ...]`` in ``dtype`` (a view for one part of that dtype)."""
    if len(parts) == 1:
        return _as_matrix(parts[0])[start:stop].astype(dtype, copy=False)
    return np.hstack([_as_matrix(p)[start:stop] for p in parts]).astype(dtype, copy=False)


def _qr(a: np.ndarray, mode: str) -> np.ndarray | tuple:
    return np.linalg.qr(a, mode=mode)


def _bounds(rows: int, piece: int) -> list:
    """``(start, stop)`` of near-equal pieces of at most ``piece`` rows."""
    count = -(-rows // piece)
    edges = [rows * i // count for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _shape(parts: Sequence[np.ndarray]) -> tuple:
    return len(parts[0]), sum(1 if p.ndim == 1 else p.shape[1] for p in parts)


def block_r(parts: Sequence[np.ndarray], dtype: np.dtype, piece: int | None = None) -> np.ndarray:
    """R of ``[part1 | part2 | ...]`` (row-aligned blocks), ``min(rows, K) x K``, factored in pieces.

    ``piece``: rows per piece (default :func:`piece_rows`). A block of at
    most two pieces is one ``np.linalg.qr``.
    """
    dtype = np.dtype(dtype)
    rows, width = _shape(parts)
    piece = piece or piece_rows(width, dtype.itemsize)
    if rows <= 2 * piece:
        return _qr(_columns(parts, 0, rows, dtype), "r")
    stacked = np.vstack([_qr(_columns(parts, start, stop, dtype), "r") for start, stop in _bounds(rows, piece)])
    return block_r((stacked,), dtype, piece)


def block_qr(parts: Sequence[np.ndarray], dtype: np.dtype, piece: int | None = None) -> tuple:
    """``(Q, R)`` of ``[part1 | ...]`` by Householder, ``R`` equal (bit for bit) to :func:`block_r`'s."""
    dtype = np.dtype(dtype)
    rows, width = _shape(parts)
    piece = piece or piece_rows(width, dtype.itemsize)
    if rows <= 2 * piece:
        q, r = _qr(_columns(parts, 0, rows, dtype), "reduced")
        return q, r
    bounds = _bounds(rows, piece)
    factors = [_qr(_columns(parts, start, stop, dtype), "reduced") for start, stop in bounds]
    q_top, r = block_qr((np.vstack([f.R for f in factors]),), dtype, piece)
    q = np.empty((rows, r.shape[0]), dtype=dtype)
    offset = 0
    for (start, stop), (q_piece, r_piece) in zip(bounds, factors):
        np.matmul(q_piece, q_top[offset:offset + r_piece.shape[0]], out=q[start:stop])
        offset += r_piece.shape[0]
    return q, r


def cond_limit(dtype: np.dtype) -> float:
    """The largest ``cond(R_b)`` for which :func:`q_by_solve` forms Q: ``eps ** -0.25``.

    >>> round(cond_limit(np.float64)), round(cond_limit(np.float32))
    (8192, 54)
    """
    return float(np.finfo(dtype).eps) ** -0.25


def well_conditioned(r: np.ndarray) -> bool:
    """Whether the square ``r`` is finite, non-singular and ``cond(r) <= cond_limit``.

    >>> well_conditioned(np.diag([1.0, 1e-3])), well_conditioned(np.diag([1.0, 1e-6]))
    (True, False)
    """
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] == 0 or not np.isfinite(r).all():
        return False
    s = np.linalg.svd(r, compute_uv=False)
    return bool(s[-1] > 0 and s[0] <= s[-1] * cond_limit(r.dtype))


def q_by_solve(a: np.ndarray, r: np.ndarray, small: np.ndarray | None) -> np.ndarray | None:
    """``Q_a @ small`` as ``a @ solve(r, small)`` (``small``: ``None`` for the identity), or ``None``.

    ``r`` is ``a``'s R (``a = Q_a r``). ``None`` when ``r`` is not square or
    not :func:`well_conditioned`: the caller then forms ``Q_a`` by
    :func:`block_qr`.
    """
    if not well_conditioned(r):
        return None
    rhs = np.eye(r.shape[0], dtype=r.dtype) if small is None else small
    return a @ np.linalg.solve(r, rhs).astype(a.dtype, copy=False)
