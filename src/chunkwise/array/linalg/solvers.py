"""Least squares, solving, inverting and factoring matrices: ``lstsq`` by TSQR, the rest per matrix.

- ``lstsq(a, b)``: one pass over the data. The R factor of ``[a | b]``
  (hstacked block by block) is found by the TSQR tree of
  :mod:`chunkwise.array.linalg.plan`; its top-left ``N x N`` block is R of
  ``a``, its top-right block ``Q^T b`` and its bottom-right block holds what
  of ``b`` lies outside the range of ``a``. The solution comes from the SVD of
  the small R (``x = V S^+ U^T Q^T b``, the minimum-norm solution that
  ``numpy.linalg.lstsq`` returns, with its ``rcond``), and the residuals from
  ``||R x - Q^T b||^2 + ||R22||^2`` per column: neither Q nor a second pass
  over ``a`` is needed, so a 10,000,000 x 20 problem holds one block per
  thread.
- ``solve``, ``inv``, ``cholesky``, ``lu``, ``det``, ``slogdet``, ``eigh``,
  ``eigvalsh``, ``matrix_power``: NumPy (``scipy.linalg.lu`` for ``lu``) per
  matrix held in one chunk, batch-wise over chunked leading axes (the Array
  API's ``linalg`` extension). A matrix in several chunks is rechunked to one
  when it fits ``array.chunk_size``, and refused otherwise -- except by
  ``cholesky``, which factors a bigger 2-d matrix by blocks
  (:mod:`chunkwise.array.linalg.blocked`). ``lu`` is per matrix only: a
  blocked LU would need pivoting across blocks.
- ``pinv`` and ``matrix_rank``: per matrix too, and by TSQR for a chunked
  tall-and-skinny (or short-and-fat) 2-d matrix, whose rows (or columns)
  may have unknown lengths: the tolerances that need the row count read it
  from the tree (:class:`~chunkwise.array.linalg.plan.RowsSeen`) when it runs.

``lstsq``'s ``residuals`` are the ``K`` residual sums of squares (one for a
1-d ``b``) whenever ``a`` is tall (or its row count unknown), and empty
(``(0,)``) when ``M <= N`` is known, so their shape is known when the plan is
built (xarray's ``polyfit(full=True)`` needs it). NumPy also gives an empty
array for a rank-deficient ``a``, which only computing could tell: like
Dask's, chunkwise's hold the sums of squares of the minimum-norm solution then. ``a`` and ``b`` may have row
chunks of unknown length (``a[keep]``, ``b[keep]``): TSQR needs no row count.

>>> import numpy as np
>>> import chunkwise.array as da
>>> a = da.from_array(np.vander(np.arange(8.0), 3), chunks=(3, 3))
>>> b = da.from_array(2 * np.arange(8.0) ** 2 + 1, chunks=3)
>>> x, residuals, rank, s = lstsq(a, b)
>>> bool(np.allclose(x.compute(), [2, 0, 1])), int(rank.compute())
(True, 3)
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks, has_unknown
from chunkwise.array.core import Array, asarray
from chunkwise.array.expr import ArrayExpr, unknown_chunks_origin
from chunkwise.array.linalg.blocked import block_cholesky
from chunkwise.array.linalg.decompositions import svd, tall_skinny, unknown_rows
from chunkwise.array.linalg.plan import (
    DEFAULT_SPLIT_EVERY,
    TSQRQ,
    RowsSeen,
    RTree,
    chunk_limit,
    conj_transpose,
    core_call,
    linalg_dtype,
    one_core_chunk,
)

__all__ = [
    "EighResult",
    "SlogdetResult",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "lu",
    "matrix_power",
    "matrix_rank",
    "pinv",
    "slogdet",
    "solve",
]

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])


def _as_array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


def _real(dtype: np.dtype) -> np.dtype:
    return np.empty(0, dtype).real.dtype


def _square(x: Array, opname: str) -> Array:
    """``x`` as a stack of square matrices, each in one chunk (or a clear error)."""
    if x.ndim < 2:
        raise ValueError(
            f"{opname}: {x.ndim}-dimensional array given (shape {x.shape}); the array must be at least "
            "two-dimensional (a matrix, or a stack of matrices on the last two axes)"
        )
    check_known_chunks(
        opname, x, axes=(x.ndim - 2, x.ndim - 1), what=f"the matrix (shape {x.shape})",
        detail=", and must be square with a known size",
    )
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(
            f"{opname}: last 2 dimensions of the array must be square, got shape {x.shape}"
        )
    return one_core_chunk(x, 2, opname)


# --- least squares ------------------------------------------------------------------------------------


def _lstsq_finish(r_aug: np.ndarray, *rows_seen: Any, n: int, rows: int | None, vector: bool, rcond: Any,
                  sums: bool) -> tuple:
    """``(x, residuals, rank, s)`` from the R factor of ``[a | b]``; see the module docstring.

    ``rows``: ``a``'s row count, or ``None`` when unknown before computing
    (then counted by the tree: ``rows_seen``). ``sums``: whether the plan
    promised the residual sums (``a`` not known to be wide or square).
    """
    if rows is None:
        rows = int(rows_seen[0])
    width = r_aug.shape[1]
    full = np.zeros((width, width), dtype=r_aug.dtype)
    full[:r_aug.shape[0]] = r_aug
    r, qtb, r22 = full[:n, :n], full[:n, n:], full[n:, n:]
    u, s, vh = np.linalg.svd(r)
    if rcond is None:
        rcond = np.finfo(s.dtype).eps * max(rows, n)
    cutoff = rcond * s.max() if s.size else 0.0
    keep = s > cutoff
    inverse = np.where(keep, 1 / np.where(keep, s, 1), 0).astype(s.dtype)
    x = vh.conj().T @ (inverse[:, None] * (u.conj().T @ qtb))
    rank = keep.sum()
    if sums:  # even for a rank-deficient a, where NumPy gives none: the plan's shape is (K,)
        residuals = (np.abs(r @ x - qtb) ** 2).sum(axis=0) + (np.abs(r22) ** 2).sum(axis=0)
    else:
        residuals = np.empty(0, dtype=s.dtype)
    if vector:
        x = x[:, 0]
    return x, residuals.astype(s.dtype), np.int32(rank), s[:min(rows, n)]


def lstsq(a: Any, b: Any, rcond: Any = None, *, split_every: int | None = None) -> tuple:
    """Least-squares solution of ``a @ x = b``, as ``numpy.linalg.lstsq``: ``(x, residuals, rank, s)``.

    ``a`` is 2-d (``M x N``), row-chunked (rechunked to one column chunk
    when needed); ``b`` is 1-d or 2-d with ``M`` rows. One pass of TSQR over
    ``[a | b]``; see the module docstring (and its note on ``residuals``).
    ``rank`` is a 0-d int32 array. ``split_every``: R factors per task of the
    tree.
    """
    a, b = _as_array(a), _as_array(b)
    if a.ndim != 2:
        raise ValueError(f"lstsq: a must be 2-d (a matrix), got shape {a.shape}")
    if b.ndim not in (1, 2):
        raise ValueError(f"lstsq: b must be 1-d or 2-d, got shape {b.shape}")
    if unknown_rows(a) or has_unknown(b.chunks[:1]):
        return _lstsq_unknown_rows(a, b, rcond, split_every)
    check_known_chunks("lstsq", a, b, what="a or b")
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"lstsq: a of shape {a.shape} and b of shape {b.shape} have different numbers of rows "
            f"({a.shape[0]} and {b.shape[0]})"
        )
    m, n = a.shape
    a = tall_skinny(a, "lstsq")
    spec = {0: a.chunks[0]} if b.ndim == 1 else {0: a.chunks[0], 1: -1}
    if b.chunks[0] != a.chunks[0] or (b.ndim == 2 and b.numblocks[1] != 1):
        b = b.rechunk(spec)
    return _lstsq_tree(a, b, rcond, split_every, m)


def _lstsq_unknown_rows(a: Array, b: Array, rcond: Any, split_every: int | None) -> tuple:
    """``lstsq`` when a's or b's row chunks are unknown: both must have the same row blocks (``x[mask]``, ``y[mask]``)."""
    check_known_chunks("lstsq", a, axes=(1,), what="a's columns")
    if b.ndim == 2:
        check_known_chunks("lstsq", b, axes=(1,), what="b's columns")
    if not rows_line_up(a.expr, b.expr):
        raise ValueError(
            f"lstsq: a of shape {a.shape} and b of shape {b.shape} have row chunks {a.chunks[0]} and "
            f"{b.chunks[0]}, unknown and not provably the same rows, so their rows cannot be aligned; index "
            "both with the same mask from arrays of the same row chunks (a[mask], b[mask]), or call "
            "compute_chunk_sizes() on each of them first"
        )
    if b.ndim == 2 and b.numblocks[1] != 1:
        b = b.rechunk({1: -1})  # its row blocks (unknown lengths) kept
    return _lstsq_tree(tall_skinny(a, "lstsq"), b, rcond, split_every, None)


def rows_line_up(a: ArrayExpr, b: ArrayExpr) -> bool:
    """Whether row block ``i`` of ``a`` and of ``b`` (unknown row chunks) provably hold the same rows.

    True when both get their unknown row lengths from one origin (see
    :func:`~chunkwise.array.expr.unknown_chunks_origin`): one node, or one
    boolean mask (``X[keep]`` and ``y[keep]``).
    """
    if not (has_unknown(a.chunks[:1]) and has_unknown(b.chunks[:1])) or a.numblocks[0] != b.numblocks[0]:
        return False
    return unknown_chunks_origin(a, 0) == unknown_chunks_origin(b, 0)


def _lstsq_tree(a: Array, b: Array, rcond: Any, split_every: int | None, m: int | None) -> tuple:
    """``lstsq``'s TSQR of ``[a | b]`` (row-aligned, one column chunk each) and its finish; ``m``: rows if known."""
    dtype = linalg_dtype("lstsq", a.dtype, b.dtype)
    real = _real(dtype)
    n = a.shape[1]
    k = 1 if b.ndim == 1 else b.shape[1]
    tree = RTree(split_every or DEFAULT_SPLIT_EVERY, "lstsq", a.expr, b.expr)
    x_shape = (n,) if b.ndim == 1 else (n, k)
    sums = m is None or m > n  # the residual sums, unless a is known to be wide or square (as NumPy: none)
    residuals = (k,) if sums else (0,)
    outputs = [(x_shape, dtype), (residuals, real), ((), np.int32), ((n if m is None else min(m, n),), real)]
    kwargs = {"n": n, "rows": m, "vector": b.ndim == 1, "rcond": rcond, "sums": sums}
    inputs = [Array(tree)] if m is not None else [Array(tree), Array(RowsSeen(tree))]
    return core_call(_lstsq_finish, inputs, (2, 0)[:len(inputs)], outputs, "lstsq", kwargs)


# --- per-matrix operations ------------------------------------------------------------------------------


def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.solve(a, b)


def solve(a: Any, b: Any) -> Array:
    """Solve ``a @ x = b`` for square ``a``, as ``numpy.linalg.solve`` (batch-wise, broadcasting).

    ``b`` is one vector per matrix when it is 1-d, else a stack of ``M x K``
    matrices. ``b``'s core axes are put in one chunk as ``a``'s.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> solve(da.from_array(np.diag([2.0, 4.0])), np.array([2.0, 2.0])).compute()
    array([1. , 0.5])
    """
    a, b = _as_array(a), _as_array(b)
    a = _square(a, "solve")
    if b.ndim == 0:
        raise ValueError("solve: b must be at least 1-d")
    core = 1 if b.ndim == 1 else 2
    check_known_chunks("solve", b, axes=tuple(range(b.ndim - core, b.ndim)), what=f"b (shape {b.shape})")
    if b.shape[-core] != a.shape[-1]:
        raise ValueError(
            f"solve: a of shape {a.shape} and b of shape {b.shape} do not match: b's "
            f"{'length' if core == 1 else 'rows'} ({b.shape[-core]}) must equal a's size ({a.shape[-1]})"
        )
    b = one_core_chunk(b, core, "solve")
    dtype = linalg_dtype("solve", a.dtype, b.dtype)
    out_core = b.shape[-core:]
    return core_call(_solve, [a, b], (2, core), [(out_core, dtype)], "solve")[0]


def _per_matrix(func: Any, x: Any, opname: str, core_out: tuple, dtype: Any = None, kwargs: dict | None = None) -> Array:
    x = _square(_as_array(x), opname)
    dtype = dtype if dtype is not None else linalg_dtype(opname, x.dtype)
    return core_call(func, [x], 2, [(core_out, dtype)], opname, kwargs)[0]


def _inv(a: np.ndarray) -> np.ndarray:
    return np.linalg.inv(a)


def inv(a: Any) -> Array:
    """The inverse of each square matrix, as ``numpy.linalg.inv``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> inv(da.from_array(np.diag([2.0, 4.0]))).compute()
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    a = _as_array(a)
    return _per_matrix(_inv, a, "inv", a.shape[-2:])


def _cholesky(a: np.ndarray, upper: bool) -> np.ndarray:
    return np.linalg.cholesky(a, upper=upper)


def cholesky(a: Any, upper: bool = False) -> Array:
    """The Cholesky factor of each Hermitian positive-definite matrix, as ``numpy.linalg.cholesky``.

    A 2-d matrix larger than ``array.chunk_size`` is factored by blocks
    (:mod:`chunkwise.array.linalg.blocked`); others in one block each.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> cholesky(da.from_array(np.array([[4.0, 2], [2, 2]]))).compute()
    array([[2., 0.],
           [1., 1.]])
    """
    a = _as_array(a)
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.npartitions > 1:
        check_known_chunks("cholesky", a)
        dtype = linalg_dtype("cholesky", a.dtype)
        if a.size * dtype.itemsize > chunk_limit():  # too big for one block: factor by blocks
            lower = block_cholesky(a)
            return conj_transpose(lower) if upper else lower
    return _per_matrix(_cholesky, a, "cholesky", a.shape[-2:], kwargs={"upper": upper})


def _lu(a: np.ndarray, permute_l: bool) -> tuple:
    import scipy.linalg  # an optional dependency, needed only by lu

    return scipy.linalg.lu(a, permute_l=permute_l)


def lu(a: Any, permute_l: bool = False) -> tuple:
    """LU decomposition with partial pivoting, as ``scipy.linalg.lu``: ``(p, l, u)`` with ``a = p @ l @ u``.

    Each ``M x N`` matrix (square or not) is factored in one chunk
    (rechunked when it fits ``array.chunk_size``, refused otherwise: a
    blocked LU would need pivoting across blocks), batch-wise over leading
    axes. ``p`` is ``M x M``, ``l`` ``M x K`` and ``u`` ``K x N`` with
    ``K = min(M, N)``; ``permute_l=True`` returns ``(p @ l, u)``. Needs SciPy.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> p, l, u = lu(da.from_array(np.array([[1.0, 2], [3, 4]])))
    >>> u.compute()
    array([[3.        , 4.        ],
           [0.        , 0.66666667]])
    """
    try:
        import scipy.linalg  # noqa: F401
    except ImportError:
        raise ImportError("lu: needs SciPy; install it with `pip install scipy`") from None
    a = _as_array(a)
    if a.ndim < 2:
        raise ValueError(f"lu: the array must be at least 2-d, got shape {a.shape}")
    a = one_core_chunk(a, 2, "lu")
    dtype = linalg_dtype("lu", a.dtype)
    m, n = a.shape[-2:]
    k = min(m, n)
    outputs = [((m, k), dtype), ((k, n), dtype)]
    if not permute_l:
        outputs.insert(0, ((m, m), dtype))
    return core_call(_lu, [a], 2, outputs, "lu", {"permute_l": permute_l})


def _det(a: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.det(a))


def det(a: Any) -> Array:
    """The determinant of each square matrix, as ``numpy.linalg.det``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> det(da.from_array(np.array([[1.0, 2], [3, 4]]))).compute()
    np.float64(-2.0000000000000004)
    """
    return _per_matrix(_det, a, "det", ())


def _slogdet(a: np.ndarray) -> tuple:
    sign, logabsdet = np.linalg.slogdet(a)
    return np.asarray(sign), np.asarray(logabsdet)


def slogdet(a: Any) -> tuple:
    """Sign and natural log of the absolute determinant, as ``numpy.linalg.slogdet``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> slogdet(da.from_array(np.diag([-2.0, 3.0]))).sign.compute()
    np.float64(-1.0)
    """
    a = _square(_as_array(a), "slogdet")
    dtype = linalg_dtype("slogdet", a.dtype)
    sign, logabsdet = core_call(_slogdet, [a], 2, [((), dtype), ((), _real(dtype))], "slogdet")
    return SlogdetResult(sign, logabsdet)


def _eigh(a: np.ndarray, UPLO: str) -> tuple:
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return w, v


def _eigvalsh(a: np.ndarray, UPLO: str) -> np.ndarray:
    return np.linalg.eigvalsh(a, UPLO=UPLO)


def eigh(a: Any, UPLO: str = "L") -> tuple:
    """Eigenvalues and eigenvectors of each Hermitian matrix, as ``numpy.linalg.eigh``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> eigh(da.from_array(np.diag([3.0, 1.0]))).eigenvalues.compute()
    array([1., 3.])
    """
    a = _square(_as_array(a), "eigh")
    dtype = linalg_dtype("eigh", a.dtype)
    n = a.shape[-1]
    w, v = core_call(_eigh, [a], 2, [((n,), _real(dtype)), ((n, n), dtype)], "eigh", {"UPLO": UPLO})
    return EighResult(w, v)


def eigvalsh(a: Any, UPLO: str = "L") -> Array:
    """Eigenvalues of each Hermitian matrix, ascending, as ``numpy.linalg.eigvalsh``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> eigvalsh(da.from_array(np.array([[2.0, 1], [1, 2]]))).compute()
    array([1., 3.])
    """
    a = _as_array(a)
    dtype = linalg_dtype("eigvalsh", a.dtype)
    return _per_matrix(_eigvalsh, a, "eigvalsh", a.shape[-1:], _real(dtype), {"UPLO": UPLO})


def _matrix_power(a: np.ndarray, n: int) -> np.ndarray:
    return np.linalg.matrix_power(a, n)


def matrix_power(a: Any, n: int) -> Array:
    """Each square matrix raised to the integer power ``n``, as ``numpy.linalg.matrix_power``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> matrix_power(da.from_array(np.array([[1, 1], [0, 1]])), 3).compute()
    array([[1, 3],
           [0, 1]])
    """
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    a = _square(_as_array(a), "matrix_power")
    dtype = linalg_dtype("matrix_power", a.dtype) if n < 0 else a.dtype
    return core_call(_matrix_power, [a], 2, [(a.shape[-2:], dtype)], "matrix_power", {"n": int(n)})[0]


# --- pseudo-inverse and rank (TSQR for chunked tall matrices) -------------------------------------------


def _cutoff(s: np.ndarray, rtol: Any, shape: tuple) -> np.ndarray:
    if rtol is None:
        rtol = max(shape[-2:]) * np.finfo(s.dtype).eps
    smax = s.max(axis=-1, keepdims=True, initial=0.0)
    return np.asarray(rtol)[..., None] * smax


def _shape_seen(shape: tuple, rows_seen: tuple) -> tuple:
    """``shape`` (of a 2-d matrix) with the row count the tree's ``RowsSeen`` gave, if any (unknown rows: ``nan``)."""
    return shape if not rows_seen else (int(rows_seen[0]), *shape[1:])


def _pinv_right(u: np.ndarray, s: np.ndarray, vh: np.ndarray, *rows_seen: Any, rtol: Any, shape: tuple) -> np.ndarray:
    """``W = U_R S^+ Vh`` from the SVD of R (``rows_seen``: see :func:`_shape_seen`): ``pinv(a)^H = Q W``."""
    keep = s > _cutoff(s, rtol, _shape_seen(shape, rows_seen))
    inverse = np.where(keep, 1 / np.where(keep, s, 1), 0)
    return (u * inverse[..., None, :]) @ vh


def _pinv(a: np.ndarray, rtol: Any, hermitian: bool) -> np.ndarray:
    return np.linalg.pinv(a, rtol=rtol, hermitian=hermitian)


class _NotGiven:
    """The default of ``pinv``'s ``rtol``: NumPy tells "not given" (cutoff ``1e-15``) from ``None``."""

    def __repr__(self) -> str:
        return "<not given>"


NOT_GIVEN = _NotGiven()

#: ``numpy.linalg.pinv``'s cutoff when neither ``rtol`` nor ``rcond`` is given (``rtol=None``: ``eps * max(M, N)``).
NUMPY_PINV_RCOND = 1e-15


def pinv_rtol(rtol: Any, rcond: Any) -> Any:
    """The relative cutoff NumPy's ``pinv`` uses for these arguments; ``None``: ``eps * max(M, N)``."""
    if rcond is not None:
        if rtol is not NOT_GIVEN:
            raise ValueError("pinv: rtol and rcond (its older name) cannot both be given; pass rtol only")
        return rcond
    return NUMPY_PINV_RCOND if rtol is NOT_GIVEN else rtol


def _chunked_matrix(x: Array) -> bool:
    return x.ndim == 2 and (x.numblocks[0] > 1 or x.numblocks[1] > 1 or has_unknown(x.chunks))


def _unknown_columns_only(x: Array) -> bool:
    """Whether ``x`` is a 2-d matrix whose column chunks (only) are unknown: the transpose of ``X[keep]``."""
    return x.ndim == 2 and has_unknown(x.chunks[1:]) and not has_unknown(x.chunks[:1])


def pinv(a: Any, rtol: Any = NOT_GIVEN, hermitian: bool = False, *, rcond: Any = None) -> Array:
    """The Moore-Penrose pseudo-inverse, as ``numpy.linalg.pinv`` (``rtol``; ``rcond`` its older name).

    The cutoff is NumPy's: ``1e-15`` times the largest singular value when
    neither ``rtol`` nor ``rcond`` is given, ``eps * max(M, N)`` times it for
    ``rtol=None`` (the Array API's default). Stacks of one-chunk matrices are
    inverted one by one; a chunked tall-and-skinny matrix through TSQR:
    ``pinv(a) = V S^+ U_R^H Q^H`` is the conjugate transpose of ``Q W`` with
    ``W = U_R S^+ Vh``, one product per input block in the Q pass (which
    recomputes cheap input blocks, as ``qr``'s), chunked along its columns
    like ``a``'s rows. Those rows may have unknown lengths (``X[keep]``): the
    result's columns have them then, and ``rtol=None`` takes the row count
    TSQR counts when it runs. Unknown columns (``X[keep].T``) go through the
    transpose.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> pinv(da.from_array(np.array([[1.0], [1.0]]))).compute()
    array([[0.5, 0.5]])
    """
    a = _as_array(a)
    if a.ndim < 2:
        raise ValueError(f"pinv: the array must be at least 2-d, got shape {a.shape}")
    rtol = pinv_rtol(rtol, rcond)
    dtype = linalg_dtype("pinv", a.dtype)
    m, n = a.shape[-2:]
    if not _chunked_matrix(a):  # each matrix of a stack in one chunk (blocks of a matrix are not matrices)
        a = one_core_chunk(a, 2, "pinv")
        return core_call(_pinv, [a], 2, [((n, m), dtype)], "pinv", {"rtol": rtol, "hermitian": hermitian})[0]
    if _unknown_columns_only(a) or (not unknown_rows(a) and m < n):
        return conj_transpose(pinv(conj_transpose(a), rtol))
    if not unknown_rows(a):
        check_known_chunks("pinv", a)
    x = tall_skinny(a, "pinv")  # unknown rows: kept, R is n x n
    tree = RTree(DEFAULT_SPLIT_EVERY, "pinv", x.expr)
    u, s, vh = svd(Array(tree), full_matrices=False)
    rows = [Array(RowsSeen(tree))] if unknown_rows(a) and rtol is None else []  # rtol=None needs the row count
    w = core_call(
        _pinv_right, [u, s, vh, *rows], (2, 1, 2, 0)[:3 + len(rows)], [((n, n), dtype)], "pinv",
        {"rtol": rtol, "shape": (m, n)},
    )[0]
    return conj_transpose(Array(TSQRQ(tree, x.expr, w.expr)))  # Q W, one product per input block


def _rank(s: np.ndarray, *rows_seen: Any, tol: Any, rtol: Any, shape: tuple) -> np.ndarray:
    if tol is not None:
        cutoff = np.asarray(tol)[..., None]
    else:
        cutoff = _cutoff(s, rtol, _shape_seen(shape, rows_seen))
    return np.asarray((s > cutoff).sum(axis=-1))


def matrix_rank(a: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Array:
    """The rank of each matrix (singular values above the tolerance), as ``numpy.linalg.matrix_rank``.

    A chunked tall-and-skinny matrix's singular values come from TSQR.
    ``tol`` is absolute, ``rtol`` relative to the largest singular value
    (default ``eps * max(M, N)``; for rows of unknown lengths, ``X[keep]``,
    ``M`` is the row count TSQR counts when it runs). Unknown column lengths
    (``X[keep].T``) go through the transpose: it has the same rank.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> matrix_rank(da.from_array(np.ones((6, 3)), chunks=(2, 3))).compute()
    np.int64(1)
    """
    a = _as_array(a)
    if a.ndim < 2:
        return (abs(a) > 0).any().astype(np.int64)  # NumPy's rank of a vector: 1 unless all zero
    if _unknown_columns_only(a):
        a = a.mT
    rows: list = []
    if unknown_rows(a):
        tree = RTree(DEFAULT_SPLIT_EVERY, "matrix_rank", tall_skinny(a, "matrix_rank").expr)
        s = svd(Array(tree), compute_uv=False)
        rows = [Array(RowsSeen(tree))] if tol is None and rtol is None else []  # the default rtol needs it
    else:
        s = svd(a, compute_uv=False)
    shape = a.shape
    kwargs = {"tol": tol, "rtol": rtol, "shape": shape}
    return core_call(_rank, [s, *rows], (1, 0)[:1 + len(rows)], [((), np.int64)], "matrix_rank", kwargs)[0]
