"""Tests of the TSQR block kernels (R in pieces, Q by one product, the Householder fallback) and of what they save."""

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.linalg import kernels
from chunkwise.array.linalg.kernels import (
    block_qr,
    block_r,
    cond_limit,
    piece_rows,
    q_by_solve,
    well_conditioned,
)

rng = np.random.default_rng(11)


def normalize_r(r):
    d = np.sign(np.diagonal(r)).copy()
    d[d == 0] = 1
    return r * d[:, None]


@pytest.fixture
def qr_calls(monkeypatch):
    """Every ``np.linalg.qr`` call as ``(rows, mode)``, from any thread."""
    calls = []
    original = np.linalg.qr

    def counting(a, mode="reduced"):
        calls.append((np.shape(a)[-2], mode))
        return original(a, mode=mode)

    monkeypatch.setattr(np.linalg, "qr", counting)
    return calls


@pytest.mark.parametrize("rows, piece", [(10_000, 1_000), (10_000, 100), (3, 100), (250, 100), (201, 100)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_block_r_in_pieces_is_an_r_of_the_block(rows, piece, dtype):
    a = rng.standard_normal((rows, 6)).astype(dtype)
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal((rows, 6))
    r = block_r((a,), a.dtype, piece=piece)
    assert r.dtype == a.dtype and r.shape == (min(rows, 6), 6)
    expected = np.linalg.qr(a, mode="r")
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(np.abs(r), np.abs(expected), atol=tol * np.abs(expected).max())
    q, r2 = block_qr((a,), a.dtype, piece=piece)
    assert np.array_equal(r2, r)  # bit for bit: the fallback's Q belongs to the R the tree used
    assert q.dtype == a.dtype and q.shape == (rows, min(rows, 6))
    np.testing.assert_allclose(q @ r, a, atol=tol * 10)
    np.testing.assert_allclose(q.conj().T @ q, np.eye(q.shape[1]), atol=tol)


def test_block_r_factors_pieces_only(qr_calls):
    a = rng.standard_normal((10_000, 4))
    block_r((a,), a.dtype, piece=1_000)
    assert max(rows for rows, _ in qr_calls) <= 1_000  # never the whole block at once
    assert len(qr_calls) == 10 + 1  # ten pieces, then their 40 stacked R rows


def test_block_r_joins_columns_piece_by_piece():
    a, b = rng.standard_normal((5_000, 3)), rng.standard_normal(5_000)
    r = block_r((a, b), np.float64, piece=500)
    expected = np.linalg.qr(np.column_stack([a, b]), mode="r")
    np.testing.assert_allclose(normalize_r(r), normalize_r(expected), atol=1e-10)


def test_piece_rows_scale_with_width():
    assert piece_rows(20, 8) * 20 * 8 <= kernels.PIECE_BYTES
    assert piece_rows(2_000, 8) == kernels.PIECE_MIN_ROWS_PER_COLUMN * 2_000


def test_q_by_solve_refuses_ill_conditioned_and_non_square_r():
    a = rng.standard_normal((100, 3))
    a[:, 2] = a[:, 0]  # rank-deficient
    r = np.linalg.qr(a, mode="r")
    assert not well_conditioned(r) and q_by_solve(a, r, None) is None
    assert q_by_solve(a[:2], np.linalg.qr(a[:2], mode="r"), None) is None  # 2 x 3: no square R
    scaled = rng.standard_normal((100, 3)) * [1.0, 1.0, 10 * cond_limit(np.float64)]
    assert not well_conditioned(np.linalg.qr(scaled, mode="r"))
    nan = np.full((3, 3), np.nan)
    assert not well_conditioned(nan)


def test_q_by_solve_float32_stays_float32():
    a = rng.standard_normal((1_000, 4)).astype(np.float32)
    r = block_r((a,), a.dtype)
    q = q_by_solve(a, r, np.eye(4, dtype=np.float32))
    assert q.dtype == np.float32
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


# --- in the TSQR plan ------------------------------------------------------------------------------------


def test_q_pass_forms_no_householder_q_for_well_conditioned_blocks(qr_calls):
    a = rng.standard_normal((4_000, 5))
    q, r = da.linalg.qr(da.from_array(a, chunks=(500, 5)), split_every=4)
    qc, rc = chunkwise.compute(q, r)
    leaf_calls = [c for c in qr_calls if c[0] >= 500]
    assert leaf_calls == [(500, "r")] * 8  # one R per block; before: also one reduced QR per block in the Q pass
    np.testing.assert_allclose(qc @ rc, a, atol=1e-12)
    np.testing.assert_allclose(qc.T @ qc, np.eye(5), atol=1e-12)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("kind", ["rank_deficient", "zero_block", "badly_scaled", "short_block"])
def test_ill_conditioned_block_falls_back_to_householder_q(qr_calls, kind, scheduler):
    a = rng.standard_normal((600, 4))
    chunks = ((100, 200, 3, 297), 4)
    if kind == "rank_deficient":
        a[100:300, 3] = a[100:300, 0] - a[100:300, 1]  # block 1 has rank 3, the whole matrix rank 4
    elif kind == "zero_block":
        a[100:300] = 0
    elif kind == "badly_scaled":
        a[100:300, 2] *= 1e-9  # cond(R_1) ~ 1e9 > cond_limit
    q, r = da.linalg.qr(da.from_array(a, chunks=chunks))
    qc, rc = chunkwise.compute(q, r, scheduler=scheduler)
    reduced = [rows for rows, mode in qr_calls if mode == "reduced" and rows in (3, 200)]
    # the 3-row block always falls back (its R is 3 x 4); block 1 too unless it is only short
    assert sorted(reduced) == ([3] if kind == "short_block" else [3, 200])
    np.testing.assert_allclose(qc @ rc, a, atol=1e-12)
    np.testing.assert_allclose(qc.T @ qc, np.eye(4), atol=1e-12)


def test_svd_u_is_one_product_per_block(qr_calls):
    a = rng.standard_normal((1_000, 6))
    x = da.from_array(a, chunks=((300, 300, 399, 1), 6))
    u, s, vh = da.linalg.svd(x, full_matrices=False)
    assert u.expr.right is not None  # U_R folded into the Q tasks: no matmul node of its own
    graph_tasks = []

    class Count(chunkwise.Callback):
        def _start(self, graph):
            graph_tasks.append(len(graph))

    with Count():
        uc, sc, vhc = chunkwise.compute(u, s, vh, scheduler="threads")
    assert graph_tasks[0] <= 4 + 4 + 1 + 1 + 4 + 6  # leaves, Q blocks, root, down, inputs, the small svd
    np.testing.assert_allclose((uc * sc) @ vhc, a, atol=1e-12)
    np.testing.assert_allclose(uc.T @ uc, np.eye(6), atol=1e-12)
    assert [rows for rows, mode in qr_calls if mode == "reduced" and rows >= 300] == []


def test_lstsq_float32_and_qr_float32_stay_float32():
    a = rng.standard_normal((2_000, 3)).astype(np.float32)
    b = (a @ np.array([1, 2, 3], np.float32)).astype(np.float32)
    x = da.linalg.lstsq(da.from_array(a, chunks=(300, 3)), da.from_array(b, chunks=300))[0]
    assert x.dtype == np.float32 and x.compute().dtype == np.float32
    np.testing.assert_allclose(x.compute(), [1, 2, 3], rtol=1e-4)
    q, r = da.linalg.qr(da.from_array(a, chunks=(300, 3)))
    qc, rc = chunkwise.compute(q, r)
    assert qc.dtype == rc.dtype == np.float32
    np.testing.assert_allclose(qc.T @ qc, np.eye(3), atol=1e-5)


def test_generated_input_is_produced_twice_for_q_and_once_for_lstsq():
    produced = []

    def mark(block, block_info=None):
        produced.append(block_info[0]["chunk-location"][0])
        return block

    a = da.random.default_rng(5).random((1_000, 4), chunks=(250, 4)).map_blocks(mark, dtype=float)
    q, r = da.linalg.qr(a, split_every=2)
    chunkwise.compute(q, r)
    assert sorted(produced) == sorted(list(range(4)) * 2)  # once for R, once inside each Q task
    produced.clear()
    chunkwise.compute(da.linalg.lstsq(a, a[:, 0] + 1)[0])
    assert sorted(produced) == list(range(4))  # one pass over [a | b], no Q
