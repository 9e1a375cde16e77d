"""Tests of ``lstsq`` (TSQR), ``solve``, ``inv``, ``cholesky``, ``lu`` and the per-matrix operations against NumPy/SciPy."""

import numpy as np
import pytest
import scipy.linalg

import chunkwise
import chunkwise.array as da
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(11)


def spd(*shape):
    """A stack of well-conditioned symmetric positive-definite matrices."""
    m = rng.standard_normal(shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


@pytest.mark.parametrize("achunks", [(100, 6), ((1, 0, 299, 200), 6), (37, 2), (500, 6)])
@pytest.mark.parametrize("bshape", [(500,), (500, 3)])
@pytest.mark.parametrize("split_every", [2, None])
def test_lstsq_matches_numpy(achunks, bshape, split_every):
    a = rng.standard_normal((500, 6))
    b = rng.standard_normal(bshape)
    x = da.from_array(a, chunks=achunks)
    y = da.from_array(b, chunks=77)
    result = da.linalg.lstsq(x, y, split_every=split_every)
    expected = np.linalg.lstsq(a, b)
    for got, exp in zip(result, expected):
        assert got.dtype == np.asarray(exp).dtype
        assert got.shape == np.shape(exp)  # residuals too: (K,), known before computing (a is tall)
    assert_eq(result[0], expected[0], rtol=1e-9)
    assert_eq(result[1], expected[1], rtol=1e-9)
    assert_eq(result[2], expected[2])
    assert_eq(result[3], expected[3], rtol=1e-9)


def test_lstsq_rank_deficient_gives_numpys_minimum_norm_solution():
    a = rng.standard_normal((200, 4))
    a[:, 3] = a[:, 0] + a[:, 1]  # rank 3
    b = rng.standard_normal(200)
    x, residuals, rank, s = da.linalg.lstsq(da.from_array(a, chunks=(30, 4)), b)
    ex, eres, erank, es = np.linalg.lstsq(a, b)
    assert int(rank.compute()) == erank == 3
    np.testing.assert_allclose(x.compute(), ex, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(s.compute(), es, rtol=1e-8, atol=1e-10)
    assert eres.shape == (0,)  # NumPy: empty for a rank-deficient a; chunkwise (as Dask) gives the sum
    assert residuals.shape == (1,)
    np.testing.assert_allclose(residuals.compute(), [((a @ ex - b) ** 2).sum()], rtol=1e-9)


@pytest.mark.parametrize("bshape", [(200,), (200, 3)])
@pytest.mark.parametrize("achunks", [(30, 4), ((1, 0, 99, 100), 4), (200, 4)])
def test_lstsq_residuals_of_a_rank_deficient_matrix_are_the_sums_as_in_dask(bshape, achunks):
    # NumPy gives [] then, which only computing could tell: the plan's shape is (K,), as Dask's
    a = rng.standard_normal((200, 4))
    a[:, 2] = 2 * a[:, 0]  # rank 3
    b = rng.standard_normal(bshape)
    result = da.linalg.lstsq(da.from_array(a, chunks=achunks), da.from_array(b, chunks=50))
    expected = np.linalg.lstsq(a, b)
    assert expected[1].shape == (0,) and int(expected[2]) == 3
    sums = np.atleast_1d(((a @ expected[0] - b) ** 2).sum(axis=0))
    assert result[1].shape == sums.shape
    assert_eq(result[1], sums, rtol=1e-9)
    assert_eq(result[2], expected[2])
    full_rank = da.linalg.lstsq(da.from_array(a[:, [0, 1, 3]], chunks=(30, 3)), b)[1]  # the same, of full rank
    assert_eq(full_rank, np.linalg.lstsq(a[:, [0, 1, 3]], b)[1], rtol=1e-9)


def drop_nan_rows(a, b, chunks):
    keep_np = ~np.isnan(a).any(axis=1)
    x = da.from_array(a, chunks=chunks)
    y = da.from_array(b, chunks=chunks[:1] + (1,) * (b.ndim - 1))
    keep = ~da.isnan(x).any(axis=1)
    return x[keep], y[keep], a[keep_np], b[keep_np]


@pytest.mark.parametrize("chunks", [(7, 4), ((1, 0, 30, 29), 4), ((6,) * 10, 4), (60, 4), (7, 3)])
@pytest.mark.parametrize("bshape", [(60,), (60, 2)])
@pytest.mark.parametrize("rank_deficient", [False, True])
def test_lstsq_of_unknown_row_chunks(chunks, bshape, rank_deficient):
    a = rng.standard_normal((60, 4))
    if rank_deficient:
        a[:, 3] = a[:, 0] - a[:, 1]
    a[[2, 3, 17, 40, 41, 59], [0, 1, 2, 3, 0, 1]] = np.nan
    b = rng.standard_normal(bshape)
    x, y, ak, bk = drop_nan_rows(a, b, chunks)
    assert np.isnan(x.shape[0]) and np.isnan(y.shape[0])
    result = da.linalg.lstsq(x, y, split_every=2)
    expected = np.linalg.lstsq(ak, bk)
    sums = np.atleast_1d(((ak @ expected[0] - bk) ** 2).sum(axis=0))  # NumPy's [] when rank-deficient
    assert result[0].shape == expected[0].shape and result[1].shape == sums.shape and result[3].shape == (4,)
    for got, exp in zip(result, (expected[0], sums, *expected[2:])):
        assert_eq(got, exp, rtol=1e-9, atol=1e-12)
    assert_eq(da.linalg.lstsq(x, y, rcond=1e-3)[2], np.linalg.lstsq(ak, bk, rcond=1e-3)[2])


def test_lstsq_of_unknown_row_chunks_errors():
    a = rng.standard_normal((20, 3))
    a[3, 0] = np.nan
    x, y, _, _ = drop_nan_rows(a, np.ones(20), (5, 3))
    with pytest.raises(ValueError, match=r"lstsq: a of shape .* and b .* cannot be aligned.*a\[mask\], b\[mask\].*compute_chunk_sizes"):
        da.linalg.lstsq(x, np.ones(19))  # b's rows known, a's not
    with pytest.raises(ValueError, match="cannot be aligned"):
        da.linalg.lstsq(x, da.ones(20, chunks=10)[da.ones(20, chunks=10) > 0])  # different row blocks
    columns = da.from_array(a, chunks=(5, 3))[:, da.from_array(np.array([True, False, True]), chunks=3)]
    with pytest.raises(ValueError, match=r"lstsq: a or b has unknown chunk sizes.*compute_chunk_sizes"):
        da.linalg.lstsq(columns, np.ones(20))
    few = np.full((10, 3), np.nan)
    few[[1, 7]] = 1.0
    xf, yf, _, _ = drop_nan_rows(few, np.ones(10), (4, 3))
    with pytest.raises(ValueError, match=r"lstsq: .*2 rows, fewer than its 3 columns.*compute_chunk_sizes"):
        da.linalg.lstsq(xf, yf)[0].compute()


@pytest.mark.parametrize("op", ["solve", "inv", "cholesky", "det", "slogdet", "eigh", "matrix_power", "lu"])
def test_square_operations_refuse_unknown_sizes_at_build_time(op):
    from chunkwise.array.testing import with_unknown_chunks

    x = with_unknown_chunks(da.from_array(spd(4, 4), chunks=2))
    args = {"solve": (np.ones(4),), "matrix_power": (2,)}.get(op, ())
    with pytest.raises(ValueError, match=rf"{op}: the matrix.* unknown chunk sizes.*compute_chunk_sizes"):
        getattr(da.linalg, op)(x, *args)
    b = with_unknown_chunks(da.ones(4, chunks=2))
    with pytest.raises(ValueError, match=r"solve: b .* unknown chunk sizes.*compute_chunk_sizes"):
        da.linalg.solve(da.from_array(spd(4, 4)), b)


@pytest.mark.parametrize("shape", [(3, 5), (5, 5)])
def test_lstsq_not_tall(shape):
    a = rng.standard_normal(shape)
    b = rng.standard_normal((shape[0], 2))
    result = da.linalg.lstsq(da.from_array(a, chunks=2), b, rcond=1e-12)
    expected = np.linalg.lstsq(a, b, rcond=1e-12)
    for got, exp in zip(result, expected):
        assert got.shape == np.shape(exp)
        np.testing.assert_allclose(got.compute(), exp, rtol=1e-8, atol=1e-10)


def test_lstsq_is_one_pass_without_q():
    from chunkwise.core.expr import walk

    x = da.from_array(rng.standard_normal((100, 3)), chunks=(10, 3))
    nodes = {type(node).__name__ for node in walk([da.linalg.lstsq(x, np.ones(100))[0].expr])}
    assert "RTree" in nodes and "TSQRQ" not in nodes


def test_lstsq_errors():
    with pytest.raises(ValueError, match="different numbers of rows"):
        da.linalg.lstsq(da.ones((5, 2), chunks=2), np.ones(4))
    with pytest.raises(ValueError, match="a must be 2-d"):
        da.linalg.lstsq(da.ones(5, chunks=2), np.ones(5))


@pytest.mark.parametrize("ashape, achunks, bshape", [
    ((6, 6), 3, (6,)),
    ((6, 6), 6, (6, 2)),
    ((4, 6, 6), (3, 6, 6), (4, 6, 1)),
    ((2, 1, 5, 5), (1, 1, 5, 5), (3, 5, 2)),  # broadcasting batch axes
])
def test_solve_matches_numpy(ashape, achunks, bshape):
    a = spd(*ashape)
    b = rng.standard_normal(bshape)
    assert_eq(da.linalg.solve(da.from_array(a, chunks=achunks), b), np.linalg.solve(a, b), rtol=1e-9)


def test_solve_errors():
    with pytest.raises(ValueError, match="must be square"):
        da.linalg.solve(da.ones((3, 4), chunks=2), np.ones(3))
    with pytest.raises(ValueError, match="do not match"):
        da.linalg.solve(da.ones((3, 3), chunks=2), np.ones(4))
    with pytest.raises(ValueError, match="do not broadcast"):
        da.linalg.solve(da.ones((2, 3, 3), chunks=2), np.ones((4, 3, 1)))


@pytest.mark.parametrize("shape, chunks", [((5, 5), 2), ((3, 4, 4), (2, 4, 4)), ((5, 5), 5)])
def test_inv_cholesky_det_slogdet_eigh(shape, chunks):
    a = spd(*shape)
    x = da.from_array(a, chunks=chunks)
    assert_eq(da.linalg.inv(x), np.linalg.inv(a), rtol=1e-9)
    assert_eq(da.linalg.cholesky(x), np.linalg.cholesky(a), rtol=1e-9)
    assert_eq(da.linalg.cholesky(x, upper=True), np.linalg.cholesky(a, upper=True), rtol=1e-9)
    assert_eq(da.linalg.det(x), np.linalg.det(a), rtol=1e-9)
    sign, logdet = da.linalg.slogdet(x)
    esign, elogdet = np.linalg.slogdet(a)
    assert_eq(sign, esign)
    assert_eq(logdet, elogdet, rtol=1e-10)
    w, v = da.linalg.eigh(x)
    ew, ev = np.linalg.eigh(a)
    assert_eq(w, ew, rtol=1e-9)
    np.testing.assert_allclose(np.abs(v.compute()), np.abs(ev), atol=1e-8)
    assert_eq(da.linalg.eigvalsh(x), np.linalg.eigvalsh(a), rtol=1e-9)
    assert_eq(da.linalg.matrix_power(x, 3), np.linalg.matrix_power(a, 3), rtol=1e-9)
    assert_eq(da.linalg.matrix_power(x, -2), np.linalg.matrix_power(a, -2), rtol=1e-9)
    assert_eq(da.linalg.pinv(x), np.linalg.pinv(a), rtol=1e-8)
    assert_eq(da.linalg.matrix_rank(x), np.linalg.matrix_rank(a))


def test_det_of_integer_and_complex():
    a = np.array([[2, 1], [1, 3]])
    assert_eq(da.linalg.det(da.from_array(a)), np.linalg.det(a))
    c = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    assert_eq(da.linalg.det(da.from_array(c, chunks=2)), np.linalg.det(c), rtol=1e-10)
    assert_eq(da.linalg.inv(da.from_array(c, chunks=2)), np.linalg.inv(c), rtol=1e-10)


@pytest.mark.parametrize("shape, chunks", [((6, 6), 3), ((2, 4, 4), (1, 4, 4)), ((7, 4), 3), ((3, 4, 6), (2, 4, 6))])
def test_lu_matches_scipy(shape, chunks):
    a = rng.standard_normal(shape)
    x = da.from_array(a, chunks=chunks)
    for got, exp in zip(da.linalg.lu(x), scipy.linalg.lu(a)):
        assert_eq(got, exp, rtol=1e-10)
    for got, exp in zip(da.linalg.lu(x, permute_l=True), scipy.linalg.lu(a, permute_l=True)):
        assert_eq(got, exp, rtol=1e-10)


def test_one_matrix_larger_than_a_chunk_is_refused():
    with chunkwise.config.set({"array.chunk_size": "1 KiB"}), pytest.raises(
        ValueError, match=r"inv: each matrix .* must be one chunk.*rechunk"
    ):
        da.linalg.inv(da.ones((40, 40), chunks=10))


@pytest.mark.parametrize("shape, chunks", [((300, 5), (40, 5)), ((5, 300), (5, 40)), ((60, 8), (25, 3))])
def test_pinv_and_matrix_rank_by_tsqr(shape, chunks):
    a = rng.standard_normal(shape)
    a[..., -1] = a[..., 0]  # rank-deficient: the tolerance matters
    x = da.from_array(a, chunks=chunks)
    p = da.linalg.pinv(x)
    assert p.shape == shape[::-1]
    assert_eq(p, np.linalg.pinv(a), rtol=1e-7, atol=1e-10)
    assert_eq(da.linalg.matrix_rank(x), np.linalg.matrix_rank(a))
    assert_eq(da.linalg.matrix_rank(x, rtol=0.5), np.linalg.matrix_rank(a, rtol=0.5))
    assert_eq(da.linalg.matrix_rank(x, tol=1e-3), np.linalg.matrix_rank(a, tol=1e-3))


def block_widths(x, axis):
    """The computed lengths of ``x``'s blocks along ``axis`` (2-d ``x`` with unknown chunks there)."""
    return [x.blocks[(i, 0) if axis == 0 else (0, i)].compute().shape[axis] for i in range(x.numblocks[axis])]


@pytest.mark.parametrize("chunks", [(7, 4), ((1, 0, 30, 29), 4), ((6,) * 10, 4), (60, 4), (7, 3)])
@pytest.mark.parametrize("rank_deficient", [False, True])
def test_pinv_matrix_rank_and_norms_of_unknown_row_chunks(chunks, rank_deficient, scheduler):
    a = rng.standard_normal((60, 4))
    if rank_deficient:
        a[:, 3] = a[:, 0] - a[:, 1]
    a[[2, 3, 17, 40, 41, 59], [0, 1, 2, 3, 0, 1]] = np.nan
    x, _, ak, _ = drop_nan_rows(a, np.ones(60), chunks)
    assert np.isnan(x.shape[0])
    p = da.linalg.pinv(x)
    assert p.shape[0] == 4 and np.isnan(p.shape[1]) and p.chunks[1] == x.chunks[0]  # the transpose's rows
    assert block_widths(p, 1) == block_widths(x, 0)
    close = {"rtol": 1e-8, "atol": 1e-11, "schedulers": (scheduler,)}
    assert_eq(p, np.linalg.pinv(ak), **close)
    assert_eq(da.linalg.pinv(x, rtol=None), np.linalg.pinv(ak, rtol=None), **close)
    assert_eq(da.linalg.pinv(x, rtol=0.3), np.linalg.pinv(ak, rtol=0.3), **close)
    assert_eq(da.linalg.pinv(x, rcond=0.3), np.linalg.pinv(ak, rcond=0.3), **close)
    for kwargs in ({}, {"rtol": 0.5}, {"tol": 1e-3}, {"tol": 10.0}):
        assert_eq(da.linalg.matrix_rank(x, **kwargs), np.linalg.matrix_rank(ak, **kwargs), schedulers=(scheduler,))
        assert_eq(da.linalg.matrix_rank(x.T, **kwargs), np.linalg.matrix_rank(ak.T, **kwargs), schedulers=(scheduler,))
    assert int(da.linalg.matrix_rank(x).compute(scheduler=scheduler)) == (3 if rank_deficient else 4)
    # short-and-fat with unknown column chunks: through the transpose
    pt = da.linalg.pinv(x.T)
    assert np.isnan(pt.shape[0]) and pt.chunks[0] == x.chunks[0] and pt.shape[1] == 4
    assert_eq(pt, np.linalg.pinv(ak.T), **close)
    assert_eq(da.linalg.pinv(x.T, rtol=None), np.linalg.pinv(ak.T, rtol=None), **close)
    for ord in (2, -2, "nuc"):
        assert_eq(da.linalg.norm(x, ord), np.linalg.norm(ak, ord), **close)
        assert_eq(da.linalg.norm(x.T, ord), np.linalg.norm(ak.T, ord), **close)
        assert_eq(da.linalg.matrix_norm(x.T, ord=ord), np.linalg.norm(ak.T, ord), **close)


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("unknown", [True, False])
def test_default_tolerances_take_the_row_count_seen(transpose, unknown, scheduler):
    """``eps * max(M, N)`` with the kept rows' ``M`` (200), not the columns (3): the smallest singular value is between.

    ``matrix_rank``'s default and ``pinv(rtol=None)`` use it; ``pinv()`` with neither ``rtol`` nor ``rcond``
    cuts at ``1e-15`` as NumPy's (the TSQR path cut at ``eps * max(M, N)`` before).
    """
    eps = np.finfo(np.float64).eps
    u, _ = np.linalg.qr(rng.standard_normal((200, 3)))
    v, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    kept = (u * [1.0, 0.5, 1e-14]) @ v.T  # cutoff 200 * eps ~ 4.4e-14 drops 1e-14; 3 * eps ~ 6.7e-16 would not
    assert np.linalg.matrix_rank(kept) == 2 and np.linalg.matrix_rank(kept, rtol=3 * eps) == 3
    a = np.full((260, 3), np.nan)
    a[np.sort(rng.choice(260, 200, replace=False))] = kept
    x = da.from_array(a, chunks=(40, 3))
    x = x[~da.isnan(x).any(axis=1)] if unknown else da.from_array(kept, chunks=(40, 3))
    assert np.isnan(x.shape[0]) == unknown
    a, x = (kept.T, x.T) if transpose else (kept, x)
    assert_eq(da.linalg.matrix_rank(x), 2, schedulers=(scheduler,))
    assert_eq(da.linalg.matrix_rank(x, rtol=3 * eps), 3, schedulers=(scheduler,))
    assert_eq(da.linalg.pinv(x, rtol=None), np.linalg.pinv(a, rtol=None), rtol=1e-7, atol=1e-10, schedulers=(scheduler,))
    assert np.linalg.norm(np.linalg.pinv(a)) > 1e13  # NumPy's default keeps 1e-14: its inverse is huge
    assert np.linalg.norm(da.linalg.pinv(x).compute(scheduler=scheduler)) > 1e13


@pytest.mark.parametrize("dtype, close", [("complex128", 1e-8), ("float32", 1e-3)])
@pytest.mark.parametrize("unknown", [True, False])
def test_pinv_by_tsqr_of_complex_and_float32(dtype, close, unknown, scheduler):
    a = rng.standard_normal((50, 3)) + (1j * rng.standard_normal((50, 3)) if dtype == "complex128" else 0)
    a = a.astype(dtype)
    a[[4, 30]] = np.nan
    x = da.from_array(a, chunks=((10, 0, 25, 15), 3))
    kept = a[~np.isnan(a).any(axis=1)]
    x = x[~da.isnan(x).any(axis=1)] if unknown else da.from_array(kept, chunks=(9, 3))
    for y, k in ((x, kept), (x.T, kept.T), (x.mT.conj(), kept.conj().T)):
        p = da.linalg.pinv(y)
        assert p.dtype == np.linalg.pinv(k).dtype
        assert_eq(p, np.linalg.pinv(k), rtol=close, atol=close, schedulers=(scheduler,))
        assert_eq(da.linalg.matrix_rank(y), np.linalg.matrix_rank(k), schedulers=(scheduler,))


def test_pinv_rtol_and_rcond():
    a = rng.standard_normal((30, 4))
    x = da.from_array(a, chunks=(7, 4))
    assert_eq(da.linalg.pinv(x, rcond=0.5), np.linalg.pinv(a, rcond=0.5), rtol=1e-8)
    assert_eq(da.linalg.pinv(x[:4], rcond=0.5), np.linalg.pinv(a[:4], rcond=0.5), rtol=1e-8)  # per matrix
    with pytest.raises(ValueError, match="pinv: rtol and rcond .* cannot both be given"):
        da.linalg.pinv(x, rtol=0.1, rcond=0.1)


def test_pinv_and_matrix_rank_of_unknown_chunks_errors():
    a = rng.standard_normal((20, 3))
    a[3, 0] = np.nan
    x = da.from_array(a, chunks=(5, 3))
    keep = ~da.isnan(x).any(axis=1)
    both = x[keep][:, da.from_array(np.array([True, False, True]), chunks=3)]  # unknown rows and columns
    for op in (da.linalg.pinv, da.linalg.matrix_rank):
        with pytest.raises(ValueError, match=rf"{op.__name__}: .*unknown chunk sizes.*compute_chunk_sizes"):
            op(both)
    few = np.full((10, 3), np.nan)
    few[[1, 7]] = 1.0 + np.arange(6.0).reshape(2, 3)
    y = da.from_array(few, chunks=(4, 3))
    y = y[~da.isnan(y).any(axis=1)]
    for result in (da.linalg.pinv(y), da.linalg.matrix_rank(y), da.linalg.pinv(y.T)):
        with pytest.raises(ValueError, match=r"(pinv|matrix_rank): .*2 rows, fewer than its 3 columns.*compute_chunk_sizes"):
            result.compute()
    assert_eq(da.linalg.pinv(y.compute_chunk_sizes()), np.linalg.pinv(few[[1, 7]]), rtol=1e-10)  # the fix


def test_pinv_of_a_stack_whose_matrices_span_chunks(scheduler):
    """Found by the Array API harness: blocks of a matrix were inverted as if they were matrices."""
    a = rng.standard_normal((5, 3, 4))
    x = da.from_array(a, chunks=((2, 3), (1, 2), (3, 1)))
    assert_eq(da.linalg.pinv(x), np.linalg.pinv(a), rtol=1e-7, atol=1e-10, schedulers=(scheduler,))


@pytest.mark.parametrize("chunks", [3, ((4, 2, 5, 1), 12), ((5, 7), (2, 10))])
@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_blocked_cholesky_for_a_matrix_larger_than_a_chunk(chunks, dtype):
    m = rng.standard_normal((12, 12)) + (1j * rng.standard_normal((12, 12)) if dtype == "complex128" else 0)
    a = m @ m.conj().T + 12 * np.eye(12)
    x = da.from_array(a, chunks=chunks)
    with chunkwise.config.set({"array.chunk_size": "256 B"}):
        lower = da.linalg.cholesky(x)
        upper = da.linalg.cholesky(x, upper=True)
    assert type(lower.expr).__name__ == "BlockCholesky"
    assert lower.chunks[0] == lower.chunks[1] == x.chunks[0]
    assert_eq(lower, np.linalg.cholesky(a), rtol=1e-10, atol=1e-12)
    assert_eq(upper, np.linalg.cholesky(a, upper=True), rtol=1e-10, atol=1e-12)


def test_blocked_cholesky_names_a_matrix_that_is_not_positive_definite():
    with chunkwise.config.set({"array.chunk_size": "256 B"}):
        lower = da.linalg.cholesky(da.from_array(-np.eye(12), chunks=4))
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        lower.compute()


def test_lstsq_of_unknown_row_chunks_aligns_only_provably_equal_rows():
    a = rng.standard_normal((20, 2))
    b = rng.standard_normal(20)
    x, y = da.from_array(a, chunks=(6, 2)), da.from_array(b, chunks=6)
    keep = x[:, 0] > -0.5
    expected = np.linalg.lstsq(a[a[:, 0] > -0.5], b[a[:, 0] > -0.5])
    assert_eq(da.linalg.lstsq(x[keep], y[keep])[0], expected[0], rtol=1e-10)  # one mask, same row chunks
    with pytest.raises(ValueError, match="cannot be aligned"):
        da.linalg.lstsq(x[keep], y[y > -0.5])  # another mask
    with pytest.raises(ValueError, match="cannot be aligned"):
        da.linalg.lstsq(x[keep], da.from_array(b, chunks=5)[da.from_array(a[:, 0] > -0.5, chunks=5)])
