"""QR and SVD of chunked matrices: TSQR for tall-and-skinny, randomized SVD, batches of small matrices.

Which algorithm runs depends on the chunks of the last two axes:

- **one chunk** (any number of leading batch axes, each chunked as you
  like): NumPy's own ``qr``/``svd`` once per matrix block, as the Array API
  ``linalg`` extension describes;
- **row-chunked, one column chunk** (tall-and-skinny, 2-d): TSQR (see
  :mod:`chunkwise.array.linalg.plan`): a tree of QRs of R factors gives R;
  Q is rebuilt block by block, one product of each input block with a
  ``K x K`` matrix. ``svd`` is the SVD of R: ``A = Q R = (Q U_R) S Vh``,
  ``U_R`` folded into that product;
- **column-chunked, one row chunk** (short-and-fat): the transpose's TSQR;
- **other chunkings**: rechunked to one column chunk when a ``K x K`` matrix
  (``K`` columns) fits in ``array.chunk_size``; refused otherwise, with the fix
  (``svd_compressed`` for a low-rank approximation of a big square matrix);
- **row chunks of unknown length** (``x[mask]``): TSQR, which needs no row
  count (as Dask's), after joining column chunks (which Dask refuses): Q and
  U keep the unknown row chunks, R is ``N x N``, and computing fails with
  the fix if the rows turn out fewer than the columns. ``svd``
  (``full_matrices=False``) of column chunks of unknown length
  (``x[mask].T``) is the transpose's; ``qr`` refuses them (R would have an
  unknown width).

``qr(mode="complete")`` and ``svd(full_matrices=True)`` of a chunked
non-square matrix would need an ``M x M`` factor: refused with the fix
(``mode="reduced"``, ``full_matrices=False``).

>>> import numpy as np
>>> import chunkwise.array as da
>>> a = np.arange(40.0).reshape(10, 4) % 7
>>> q, r = da.linalg.qr(da.from_array(a, chunks=(3, 4)))
>>> q.chunks, r.chunks
(((3, 3, 3, 1), (4,)), ((4,), (4,)))
>>> bool(np.allclose(q.compute() @ r.compute(), a))
True
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks, has_unknown
from chunkwise.array.core import Array, asarray, from_array
from chunkwise.array.linalg.plan import (
    DEFAULT_SPLIT_EVERY,
    TSQRQ,
    RTree,
    chunk_limit,
    conj_transpose,
    core_call,
    linalg_dtype,
    one_core_chunk,
)
from chunkwise.base import compute as compute_all
from chunkwise.sizes import format_bytes

__all__ = [
    "QRResult",
    "SVDResult",
    "qr",
    "svd",
    "svd_compressed",
    "svdvals",
    "tall_skinny",
    "tsqr",
    "unknown_rows",
]

QRResult = namedtuple("QRResult", ["Q", "R"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])


def _as_array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


def _check_matrix(x: Array, opname: str) -> None:
    if x.ndim < 2:
        raise ValueError(
            f"{opname}: {x.ndim}-dimensional array given (shape {x.shape}); the array must be at least "
            "two-dimensional (a matrix, or a stack of matrices on the last two axes)"
        )


def _single_chunk_matrix(x: Array) -> bool:
    return x.ndim > 2 or (x.numblocks[-1] == x.numblocks[-2] == 1 and not has_unknown(x.chunks))


def unknown_rows(x: Array) -> bool:
    """Whether ``x`` is a 2-d matrix whose row chunk sizes are unknown (``nan``, e.g. after ``x[mask]``)."""
    return x.ndim == 2 and has_unknown(x.chunks[:1])


def tall_skinny(x: Array, opname: str) -> Array:
    """``x`` (2-d) with one column chunk, rechunking rows and columns where needed.

    A ``K x K`` block (``K`` columns) must fit in ``array.chunk_size``;
    otherwise a ``ValueError`` names the shape, the chunks and the fix. Row
    blocks of unknown length (``x[mask]``) are kept as they are, columns
    joined.
    """
    check_known_chunks(opname, x, axes=(1,), what="the array's columns")
    if x.numblocks[1] == 1:
        return x
    m, k = x.shape
    itemsize = linalg_dtype(opname, x.dtype).itemsize
    limit = chunk_limit()
    if k * k * itemsize > limit:
        raise ValueError(
            f"{opname}: the array of shape {x.shape} with chunks {x.chunksize} is not tall-and-skinny: "
            f"TSQR needs all {k} columns in one chunk, and a {k} x {k} block is "
            f"{format_bytes(k * k * itemsize)}, more than array.chunk_size ({format_bytes(limit)}). "
            "Use linalg.svd_compressed(x, k) for a low-rank approximation, or raise array.chunk_size "
            "if the columns fit in memory"
        )
    if unknown_rows(x):
        return x.rechunk({1: -1})
    rows = max(k, limit // max(k * itemsize, 1))
    spec = {1: -1} if max(x.chunks[0], default=0) <= rows else {0: rows, 1: -1}
    return x.rechunk(spec)


def tsqr(x: Any, split_every: int | None = None, compute_q: bool = True, compute_svd: bool = False) -> Any:
    """``(Q, R)`` of a 2-d array in row blocks with one column chunk, by TSQR, as ``dask.array.linalg.tsqr``.

    ``compute_q=False`` returns ``R`` only (one pass, nothing per row block
    kept); ``compute_svd=True`` returns ``(U, S, Vh)`` instead. ``split_every``:
    R factors stacked per task of the tree (default 16). ``linalg.qr`` and
    ``linalg.svd`` call this after rechunking other chunkings. Row chunks
    may be unknown (``x[mask]``): Q (or U) keeps them, R is ``N x N``
    (computing fails with the fix if the rows turn out fewer than ``N``).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> q, r = tsqr(da.from_array(np.eye(4)[:, :2], chunks=(1, 2)))
    >>> np.abs(r.compute())
    array([[1., 0.],
           [0., 1.]])
    """
    x = _as_array(x)
    if x.ndim != 2:
        raise ValueError(f"tsqr: the array must be 2-d (a matrix), got shape {x.shape}")
    check_known_chunks("tsqr", x, axes=(1,), what="the array's columns")
    if x.numblocks[1] != 1:
        raise ValueError(
            f"tsqr: the array (shape {x.shape}, chunks of {x.chunksize}) must have one column chunk; "
            "rechunk with x.rechunk({1: -1}), or call linalg.qr, which rechunks when the columns fit"
        )
    return _tsqr(x, split_every, compute_q, compute_svd, "tsqr")


def _tsqr(x: Array, split_every: int | None, compute_q: bool, compute_svd: bool, opname: str) -> Any:
    linalg_dtype(opname, x.dtype)
    tree = RTree(split_every or DEFAULT_SPLIT_EVERY, opname, x.expr)
    r = Array(tree)
    if compute_svd:
        u_r, s, vh = svd(r, full_matrices=False)
        return SVDResult(Array(TSQRQ(tree, x.expr, u_r.rechunk(-1).expr)), s, vh)
    if not compute_q:
        return r
    return Array(TSQRQ(tree, x.expr)), r


def qr(x: Any, mode: str = "reduced", *, split_every: int | None = None) -> Any:
    """QR decomposition, as ``numpy.linalg.qr`` (and the Array API's ``linalg.qr``).

    Stacks of matrices in one chunk each are factored one by one; a 2-d
    tall-and-skinny matrix (row-chunked) by TSQR, rechunked to one column chunk
    when needed. ``mode``: ``"reduced"`` (``Q``: ``M x min(M, N)``),
    ``"complete"`` (``Q``: ``M x M``; one chunk or square only) or ``"r"``
    (only ``R``). Returns ``QRResult(Q, R)``, or ``R`` for ``mode="r"``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.array([[3.0, 0], [4, 5], [0, 0]]), chunks=(2, 2))
    >>> np.abs(qr(x).R.compute())
    array([[5., 4.],
           [0., 3.]])
    """
    x = _as_array(x)
    _check_matrix(x, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: unrecognized mode {mode!r}; use 'reduced', 'complete' or 'r'")
    dtype = linalg_dtype("qr", x.dtype)
    m, n = x.shape[-2:]
    if _single_chunk_matrix(x):
        x = one_core_chunk(x, 2, "qr")
        kq = m if mode == "complete" else min(m, n)
        kr = m if mode == "complete" else min(m, n)
        if mode == "r":
            (r,) = core_call(_qr_r, [x], 2, [((kr, n), dtype)], "qr")
            return r
        q, r = core_call(_qr, [x], 2, [((m, kq), dtype), ((kr, n), dtype)], "qr", {"mode": mode})
        return QRResult(q, r)
    if unknown_rows(x) and mode == "complete":
        raise ValueError(
            f"qr: mode='complete' of the {x.shape} matrix with unknown row chunk sizes would make an "
            "M x M Q of unknown M; use mode='reduced', or call x.compute_chunk_sizes() first"
        )
    if not unknown_rows(x):  # else TSQR, Q keeping the unknown row chunks
        check_known_chunks("qr", x)
        if mode == "complete" and m > n:
            raise ValueError(
                f"qr: mode='complete' of the chunked {m} x {n} matrix would make a {m} x {m} Q; "
                "use mode='reduced' (Q of the same shape as the matrix), or rechunk to one chunk if it fits"
            )
        if x.numblocks[0] == 1 and m < n:
            x = one_core_chunk(x, 2, "qr")
            return qr(x, mode, split_every=split_every)
    x = tall_skinny(x, "qr")
    if mode == "r":
        return _tsqr(x, split_every, False, False, "qr")
    return QRResult(*_tsqr(x, split_every, True, False, "qr"))


def _qr(block: np.ndarray, mode: str) -> tuple:
    q, r = np.linalg.qr(block, mode=mode)
    return q, r


def _qr_r(block: np.ndarray) -> np.ndarray:
    return np.linalg.qr(block, mode="r")


def _svd(block: np.ndarray, full_matrices: bool) -> tuple:
    u, s, vh = np.linalg.svd(block, full_matrices=full_matrices)
    return u, s, vh


def _svdvals(block: np.ndarray) -> np.ndarray:
    return np.linalg.svd(block, compute_uv=False)


def svd(
    x: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False, *,
    split_every: int | None = None,
) -> Any:
    """Singular value decomposition, as ``numpy.linalg.svd`` (and the Array API's ``linalg.svd``).

    Returns ``SVDResult(U, S, Vh)`` with ``x = U @ diag(S) @ Vh`` (``S``
    alone for ``compute_uv=False``). Stacks of one-chunk matrices are
    decomposed one by one; a 2-d chunked matrix through TSQR (tall-and-skinny,
    or the transpose of short-and-fat): there ``full_matrices=True`` of a
    rectangle decomposes the matrix whole when its full ``max(m, n)``-square
    factor fits in ``array.chunk_size``, and is refused otherwise: pass
    ``full_matrices=False`` (what ``dask.array.linalg.svd`` computes). ``hermitian`` is accepted for NumPy's
    signature; the general algorithm runs either way (the same result).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.diag([3.0, 4.0, 0.0])[:, :2], chunks=(1, 2))
    >>> svd(x, full_matrices=False).S.compute()
    array([4., 3.])
    """
    x = _as_array(x)
    _check_matrix(x, "svd")
    dtype = linalg_dtype("svd", x.dtype)
    real = np.empty(0, dtype).real.dtype
    m, n = x.shape[-2:]
    k = min(m, n)
    if _single_chunk_matrix(x):
        x = one_core_chunk(x, 2, "svd")
        if not compute_uv:
            (s,) = core_call(_svdvals, [x], 2, [((k,), real)], "svd")
            return s
        ku, kv = (m, n) if full_matrices else (k, k)
        u, s, vh = core_call(
            _svd, [x], 2, [((m, ku), dtype), ((k,), real), ((kv, n), dtype)], "svd",
            {"full_matrices": full_matrices},
        )
        return SVDResult(u, s, vh)
    if unknown_rows(x):  # TSQR, U keeping the unknown row chunks
        if compute_uv and full_matrices:
            raise ValueError(
                f"svd: full_matrices=True of the {x.shape} matrix with unknown row chunk sizes would make an "
                "M x M factor of unknown M; pass full_matrices=False (the reduced SVD by TSQR, what "
                "dask.array.linalg.svd computes), or call x.compute_chunk_sizes() first"
            )
        x = tall_skinny(x, "svd")
        if not compute_uv:
            return svdvals(_tsqr(x, split_every, False, False, "svd"))
        return _tsqr(x, split_every, False, True, "svd")
    if x.ndim == 2 and has_unknown(x.chunks[1:]) and not has_unknown(x.chunks[:1]):  # X[keep].T
        if compute_uv and full_matrices:
            raise ValueError(
                f"svd: full_matrices=True of the {x.shape} matrix with unknown column chunk sizes would make an "
                "N x N factor of unknown N; pass full_matrices=False (the reduced SVD by TSQR of the "
                "transpose), or call x.compute_chunk_sizes() first"
            )
        result = svd(x.mT, full_matrices=False, compute_uv=compute_uv, split_every=split_every)
        if not compute_uv:
            return result
        return SVDResult(conj_transpose(result.Vh), result.S, conj_transpose(result.U))
    check_known_chunks("svd", x)
    if compute_uv and full_matrices and m != n:
        full = max(m, n) ** 2 * dtype.itemsize
        if full <= chunk_limit():  # the full factor fits one chunk, so does the matrix: decompose it whole
            return svd(one_core_chunk(x, 2, "svd"), full_matrices=True, hermitian=hermitian)
        raise ValueError(
            f"svd: full_matrices=True of the chunked {m} x {n} matrix would make a {max(m, n)} x "
            f"{max(m, n)} factor ({format_bytes(full)}, more than array.chunk_size); pass "
            "full_matrices=False (the reduced SVD, computed by TSQR)"
        )
    if m < n or (x.numblocks[0] == 1 and x.numblocks[1] > 1 and m <= n):
        result = svd(x.mT, full_matrices=False, compute_uv=compute_uv, split_every=split_every)
        if not compute_uv:
            return result
        return SVDResult(conj_transpose(result.Vh), result.S, conj_transpose(result.U))
    x = tall_skinny(x, "svd")
    if not compute_uv:
        return svdvals(_tsqr(x, split_every, False, False, "svd"))
    return _tsqr(x, split_every, False, True, "svd")


def svdvals(x: Any) -> Array:
    """The singular values, as the Array API's ``linalg.svdvals`` (``svd(x, compute_uv=False)``).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> svdvals(da.from_array(np.diag([1.0, 2.0]))).compute()
    array([2., 1.])
    """
    return svd(x, compute_uv=False)


def _random_matrix(seed: Any, shape: tuple, dtype: np.dtype) -> np.ndarray:
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(dtype, copy=False)


def _sign_flips(u_small: np.ndarray) -> np.ndarray:
    """One sign per column: the sign making the column's largest entry (by magnitude) positive."""
    rows = np.argmax(np.abs(u_small), axis=0)
    signs = np.sign(u_small[rows, np.arange(u_small.shape[1])])
    signs[signs == 0] = 1
    return signs.astype(u_small.dtype)


def svd_compressed(
    a: Any,
    k: int,
    iterator: str = "power",
    n_power_iter: int = 0,
    seed: Any = None,
    compute: bool = False,
    coerce_signs: bool = True,
    n_oversamples: int = 10,
) -> tuple:
    """Randomized truncated SVD: the ``k`` largest singular triplets, as ``dask.array.linalg.svd_compressed``.

    Halko, Martinsson and Tropp's algorithm: ``Y = A @ Omega`` for a
    Gaussian ``Omega`` of ``k + n_oversamples`` columns (drawn from
    ``seed``: an int or a ``numpy.random.Generator``; the same seed gives the
    same result), ``n_power_iter`` power iterations (re-orthonormalized by
    TSQR: more accurate for slowly decaying spectra), ``Q = qr(Y).Q``, then
    the SVD of the small ``B = Q.T @ A``. ``A`` may be chunked on both axes.
    Returns ``(u, s, v)`` (``v`` is ``Vh``, ``k x N``); with
    ``coerce_signs`` each singular vector's sign is fixed (the largest entry
    of each column of ``B``'s left factor is positive), so results are
    deterministic. ``compute=True`` computes the three together.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> a = np.outer(np.arange(1.0, 9), np.arange(1.0, 7))  # rank one
    >>> u, s, v = svd_compressed(da.from_array(a, chunks=3), k=1, seed=0)
    >>> bool(np.allclose(s.compute(), np.linalg.svd(a, compute_uv=False)[:1]))
    True
    """
    a = _as_array(a)
    if a.ndim != 2:
        raise ValueError(f"svd_compressed: the array must be 2-d (a matrix), got shape {a.shape}")
    if iterator != "power":
        raise ValueError(f"svd_compressed: iterator must be 'power', got {iterator!r}")
    check_known_chunks("svd_compressed", a)
    m, n = a.shape
    if not isinstance(k, (int, np.integer)) or k < 1 or k > min(m, n):
        raise ValueError(f"svd_compressed: k must be an int in [1, {min(m, n)}] for shape {a.shape}, got {k!r}")
    if n_power_iter < 0 or n_oversamples < 0:
        raise ValueError("svd_compressed: n_power_iter and n_oversamples must be >= 0")
    dtype = linalg_dtype("svd_compressed", a.dtype)
    width = min(int(k) + int(n_oversamples), m, n)
    omega = from_array(_random_matrix(seed, (n, width), dtype), chunks=(a.chunks[1], (width,)))
    y = a @ omega
    for _ in range(int(n_power_iter)):
        q = qr(y).Q
        z = qr(a.mT @ q).Q
        y = a @ z
    q = qr(y).Q
    b = q.mT @ a
    u_b, s, vh = svd(b, full_matrices=False)
    if coerce_signs:
        (signs,) = core_call(_sign_flips, [u_b], 2, [((u_b.shape[1],), u_b.dtype)], "svd_compressed")
        u_b = u_b * signs
        vh = vh * signs[:, None]
    u = (q @ u_b)[:, :k]
    result = (u, s[:k], vh[:k])
    if compute:
        return compute_all(*result)
    return result

