"""Tests of ``chunkwise.array.linalg``'s QR and SVD (TSQR, randomized SVD, stacks) against NumPy."""

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.linalg.plan import TSQRQ, RTree
from chunkwise.array.testing import assert_eq, with_unknown_chunks

rng = np.random.default_rng(7)


def normalize_signs(u, vh=None):
    """Flip each column of ``u`` (and row of ``vh``) so that its largest entry is positive."""
    u = np.asarray(u)
    rows = np.argmax(np.abs(u), axis=-2)
    signs = np.sign(np.take_along_axis(u, rows[..., None, :], axis=-2))
    signs[signs == 0] = 1
    if vh is None:
        return u * signs
    return u * signs, np.asarray(vh) * np.swapaxes(signs, -1, -2)


def normalize_r(r):
    """R with rows flipped so that its diagonal is non-negative (QR is unique up to these signs)."""
    r = np.asarray(r)
    d = np.sign(np.diagonal(r, axis1=-2, axis2=-1)).copy()
    d[d == 0] = 1
    return r * d[..., :, None]


TALL_CHUNKS = [
    (100, 7),  # row-chunked, one column chunk
    (1000, 7),  # one block
    ((1, 0, 3, 996), 7),  # uneven, an empty block, blocks shorter than the width
    ((5,) * 200, 7),  # many blocks: a tree of three levels with split_every=4
    (37, 3),  # chunked columns: rechunked
]


@pytest.mark.parametrize("chunks", TALL_CHUNKS)
@pytest.mark.parametrize("split_every", [2, 4, None])
def test_tsqr_matches_numpy(chunks, split_every):
    a = rng.standard_normal((1000, 7))
    x = da.from_array(a, chunks=chunks)
    q, r = da.linalg.qr(x, split_every=split_every)
    assert q.shape == (1000, 7) and r.shape == (7, 7)
    assert q.numblocks[1] == 1 and r.numblocks == (1, 1)
    expected_r = np.linalg.qr(a).R
    assert_eq(r, r.compute(), check_chunks=True)  # metadata matches on both schedulers
    qc, rc = chunkwise.compute(q, r)
    np.testing.assert_allclose(normalize_r(rc), normalize_r(expected_r), atol=1e-10)
    np.testing.assert_allclose(qc @ rc, a, atol=1e-10)
    np.testing.assert_allclose(qc.T @ qc, np.eye(7), atol=1e-10)
    assert np.allclose(np.tril(rc, -1), 0)


def test_tsqr_q_rows_come_from_their_blocks_on_threads():
    a = rng.standard_normal((300, 5))
    x = da.from_array(a, chunks=((50, 1, 149, 100), 5))
    q, r = da.linalg.qr(x, split_every=2)
    qs = q.compute(scheduler="threads")
    np.testing.assert_allclose(qs, q.compute(scheduler="sync"), atol=1e-12)
    assert_eq(q, qs, atol=1e-12)


def test_tsqr_tree_shape_and_explain():
    x = da.from_array(rng.standard_normal((64, 3)), chunks=(2, 3))
    q, r = da.linalg.qr(x, split_every=4)
    tree = r.expr
    assert isinstance(tree, RTree) and isinstance(q.expr, TSQRQ)
    assert tree.levels == [32, 8, 2, 1]
    assert tree.rows[0] == [2] * 32 and tree.rows[1] == [3] * 8
    assert "RTree: TSQR of 32 row blocks x 3 columns  [3 levels, fan-in 4" in q.expr.explain(show=False)


def test_tsqr_q_and_r_share_one_tree():
    x = da.from_array(rng.standard_normal((40, 3)), chunks=(10, 3))
    q, r = da.linalg.qr(x)
    assert q.expr.tree.name == r.expr.name
    calls = []

    class Count(chunkwise.Callback):
        def _start(self, graph):
            calls.append(sum(1 for k in graph if isinstance(k, tuple) and "-up0" in str(k[0])))

    with Count():
        chunkwise.compute(q, r)
    assert calls == [4]  # one leaf R per row block, not one per output


@pytest.mark.parametrize("dtype", ["float32", "int64", "complex128"])
def test_qr_dtypes(dtype):
    a = (rng.standard_normal((60, 4)) * 10).astype(dtype)
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal((60, 4))
    x = da.from_array(a, chunks=(13, 4))
    q, r = da.linalg.qr(x)
    expected = np.linalg.qr(a)
    assert q.dtype == expected.Q.dtype and r.dtype == expected.R.dtype
    qc, rc = q.compute(), r.compute()
    tol = 1e-3 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(qc @ rc, a, atol=tol * np.abs(a).max())
    np.testing.assert_allclose(np.abs(rc), np.abs(expected.R), atol=tol * np.abs(a).max())


def test_qr_mode_r_and_wide_single_row_chunk():
    a = rng.standard_normal((50, 4))
    r = da.linalg.qr(da.from_array(a, chunks=(10, 4)), mode="r")
    np.testing.assert_allclose(normalize_r(r.compute()), normalize_r(np.linalg.qr(a, mode="r")), atol=1e-10)
    wide = rng.standard_normal((3, 8))
    q, r = da.linalg.qr(da.from_array(wide, chunks=(3, 3)))
    assert q.shape == (3, 3) and r.shape == (3, 8)
    np.testing.assert_allclose(q.compute() @ r.compute(), wide, atol=1e-12)


@pytest.mark.parametrize("mode", ["reduced", "complete"])
def test_qr_stack_of_single_chunk_matrices(mode):
    a = rng.standard_normal((5, 3, 6, 4))
    x = da.from_array(a, chunks=(2, 2, 6, 4))
    q, r = da.linalg.qr(x, mode=mode)
    expected = np.linalg.qr(a, mode=mode)
    assert q.chunks[:2] == ((2, 2, 1), (2, 1)) and q.shape == expected.Q.shape and r.shape == expected.R.shape
    assert_eq(q, expected.Q, atol=1e-12)
    assert_eq(r, expected.R, atol=1e-12)


def test_qr_errors_name_the_fix():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        da.linalg.qr(da.ones(5, chunks=2))
    with pytest.raises(ValueError, match="unrecognized mode"):
        da.linalg.qr(da.ones((5, 2), chunks=2), mode="full")
    with pytest.raises(ValueError, match="mode='reduced'"):
        da.linalg.qr(da.ones((50, 2), chunks=(10, 2)), mode="complete")
    with pytest.raises(TypeError, match="astype"):
        da.linalg.qr(da.ones((5, 2), chunks=2, dtype="float16"))
    with chunkwise.config.set({"array.chunk_size": "1 KiB"}), pytest.raises(
        ValueError, match=r"not tall-and-skinny.*svd_compressed.*chunk_size"
    ):
        da.linalg.qr(da.ones((400, 40), chunks=(100, 10)))


def drop_nan_rows(a, chunks):
    """``(x[keep], a[keep])``: a chunkwise matrix with unknown row chunks, as after dropping NaN rows."""
    x = da.from_array(a, chunks=chunks)
    keep = ~da.isnan(x).any(axis=1)
    return x[keep], a[~np.isnan(a).any(axis=1)]


def assert_blocks(x, width):
    """Every block of ``x`` (2-d, unknown row chunks) has ``width`` columns; returns the blocks' rows."""
    rows = []
    for i in range(x.numblocks[0]):
        block = x.blocks[i].compute()
        assert block.ndim == 2 and block.shape[1] == width, (i, block.shape)
        rows.append(block.shape[0])
    return rows


UNKNOWN_CHUNKS = [
    (6, 4),  # uneven row chunks (the mask drops different numbers of rows per block)
    ((1, 0, 20, 19), 4),  # an empty row chunk, blocks shorter than the width
    ((5,) * 8, 4),  # several levels of the tree with split_every=2
    (40, 4),  # one block
    (6, 3),  # chunked columns: joined (Dask refuses them)
]


def nan_rows(seed=3, shape=(40, 4)):
    a = np.random.default_rng(seed).standard_normal(shape)
    a[[1, 5, 12, 21, 22, 23, 30], [0, 1, 0, 3, 2, 1, 0]] = np.nan
    return a


@pytest.mark.parametrize("chunks", UNKNOWN_CHUNKS)
@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_qr_of_unknown_row_chunks(chunks, scheduler):
    x, a = drop_nan_rows(nan_rows(), chunks)
    assert np.isnan(x.shape[0])
    q, r = da.linalg.qr(x, split_every=2)
    assert np.isnan(q.shape[0]) and q.chunks[0] == x.chunks[0] and q.chunks[1] == (4,)  # Dask's chunks
    assert r.shape == (4, 4) and r.chunks == ((4,), (4,))
    qc, rc = chunkwise.compute(q, r, scheduler=scheduler)
    eq, er = np.linalg.qr(a)
    np.testing.assert_allclose(normalize_r(rc), normalize_r(er), atol=1e-12)
    np.testing.assert_allclose(qc @ rc, a, atol=1e-12)
    np.testing.assert_allclose(qc.T @ qc, np.eye(4), atol=1e-12)
    assert sum(assert_blocks(q, 4)) == len(a)
    assert da.linalg.qr(x, mode="r", split_every=2).shape == (4, 4)
    np.testing.assert_allclose(normalize_r(da.linalg.qr(x, mode="r").compute(scheduler=scheduler)),
                               normalize_r(er), atol=1e-12)


@pytest.mark.parametrize("chunks", UNKNOWN_CHUNKS)
@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_svd_of_unknown_row_chunks(chunks, scheduler):
    x, a = drop_nan_rows(nan_rows(), chunks)
    u, s, vh = da.linalg.svd(x, full_matrices=False, split_every=2)
    assert np.isnan(u.shape[0]) and u.chunks[0] == x.chunks[0] and s.chunks == ((4,),) and vh.chunks == ((4,), (4,))
    uc, sc, vhc = chunkwise.compute(u, s, vh, scheduler=scheduler)
    eu, es, evh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(sc, es, rtol=1e-10)
    np.testing.assert_allclose((uc * sc) @ vhc, a, atol=1e-12)
    np.testing.assert_allclose(normalize_signs(uc, vhc)[1], normalize_signs(eu, evh)[1], atol=1e-10)
    assert sum(assert_blocks(u, 4)) == len(a)
    assert_eq(da.linalg.svd(x, compute_uv=False), es, rtol=1e-10)
    assert_eq(da.linalg.svdvals(x), es, rtol=1e-10)
    ut, st, vht = da.linalg.tsqr(x.rechunk({1: -1}), compute_svd=True)
    np.testing.assert_allclose(st.compute(scheduler=scheduler), es, rtol=1e-10)


@pytest.mark.parametrize("chunks", UNKNOWN_CHUNKS)
def test_svd_of_unknown_column_chunks(chunks, scheduler):
    """``x[keep].T``: the reduced SVD of its transpose, transposed back (U, S, Vh of NumPy's, up to signs)."""
    x, a = drop_nan_rows(nan_rows(), chunks)
    u, s, vh = da.linalg.svd(x.T, full_matrices=False, split_every=2)
    assert u.shape == (4, 4) and s.shape == (4,) and np.isnan(vh.shape[1]) and vh.chunks[1] == x.chunks[0]
    uc, sc, vhc = chunkwise.compute(u, s, vh, scheduler=scheduler)
    eu, es, evh = np.linalg.svd(a.T, full_matrices=False)
    np.testing.assert_allclose(sc, es, rtol=1e-10)
    np.testing.assert_allclose((uc * sc) @ vhc, a.T, atol=1e-12)
    np.testing.assert_allclose(normalize_signs(uc, vhc)[1], normalize_signs(eu, evh)[1], atol=1e-10)
    assert_eq(da.linalg.svdvals(x.T), es, rtol=1e-10, schedulers=(scheduler,))


def test_tsqr_of_unknown_row_chunks():
    x, a = drop_nan_rows(nan_rows(), (6, 4))
    q, r = da.linalg.tsqr(x)
    np.testing.assert_allclose(q.compute() @ r.compute(), a, atol=1e-12)
    with_unknown = with_unknown_chunks(da.from_array(a, chunks=(7, 4)))
    np.testing.assert_allclose(np.abs(da.linalg.tsqr(with_unknown, compute_q=False).compute()),
                               np.abs(np.linalg.qr(a, mode="r")), atol=1e-12)


def test_unknown_row_chunks_with_fewer_rows_than_columns_fail_at_compute_with_the_fix():
    a = np.full((8, 4), np.nan)
    a[[0, 5]] = 1.0 + np.arange(8).reshape(2, 4)
    x, kept = drop_nan_rows(a, (3, 4))
    q, r = da.linalg.qr(x)  # builds: the row count is unknown until computed
    for result in (r, q, da.linalg.svd(x, full_matrices=False).S):
        with pytest.raises(ValueError, match=r"qr: .*2 rows, fewer than its 4 columns.*compute_chunk_sizes|svd: .*2 rows"):
            result.compute()
    q, r = da.linalg.qr(x.compute_chunk_sizes())  # the fix
    np.testing.assert_allclose(q.compute() @ r.compute(), kept, atol=1e-12)


def test_unknown_row_chunks_refused_where_they_cannot_work():
    a = nan_rows()
    x = da.from_array(a.T, chunks=(4, 6))
    columns = x[:, ~da.isnan(x).any(axis=0)]  # unknown column chunks: the width of R is unknown
    for op in (da.linalg.qr, da.linalg.tsqr):
        with pytest.raises(ValueError, match=r"(qr|tsqr): .*unknown chunk sizes.*compute_chunk_sizes"):
            op(columns)
    with pytest.raises(ValueError, match=r"svd: full_matrices=True.*unknown column chunk sizes.*full_matrices=False"):
        da.linalg.svd(columns)  # the reduced SVD goes through the transpose (test_svd_of_unknown_column_chunks)
    both = drop_nan_rows(a, (6, 4))[0][:, da.from_array(np.array([True, False, True, True]), chunks=4)]
    with pytest.raises(ValueError, match=r"svd: .*unknown chunk sizes.*compute_chunk_sizes"):
        da.linalg.svd(both, full_matrices=False)
    with pytest.raises(ValueError, match=r"tsqr: .*must have one column chunk.*rechunk"):
        da.linalg.tsqr(drop_nan_rows(a, (6, 2))[0])  # Dask's tsqr: one column chunk (qr joins them)
    with chunkwise.config.set({"array.chunk_size": "100 B"}), pytest.raises(
        ValueError, match=r"qr: .*not tall-and-skinny.*svd_compressed"
    ):
        da.linalg.qr(drop_nan_rows(a, (6, 2))[0])
    y, _ = drop_nan_rows(a, (6, 4))
    with pytest.raises(ValueError, match=r"qr: mode='complete'.*unknown row chunk sizes.*mode='reduced'"):
        da.linalg.qr(y, mode="complete")
    with pytest.raises(ValueError, match=r"svd: full_matrices=True.*unknown row chunk sizes.*full_matrices=False"):
        da.linalg.svd(y)
    with pytest.raises(ValueError, match=r"svd_compressed: .*unknown chunk sizes.*compute_chunk_sizes"):
        da.linalg.svd_compressed(y, 2)
    stack = with_unknown_chunks(da.ones((3, 4, 4), chunks=(1, 4, 4)), axes=(1,))
    with pytest.raises(ValueError, match=r"qr: the matrix axes has unknown chunk sizes.*compute_chunk_sizes"):
        da.linalg.qr(stack)


@pytest.mark.parametrize("shape, chunks", [((500, 6), (70, 6)), ((500, 6), (70, 2)), ((6, 500), (6, 70)), ((40, 40), 10)])
def test_svd_tsqr_matches_numpy(shape, chunks):
    a = rng.standard_normal(shape)
    x = da.from_array(a, chunks=chunks)
    u, s, vh = da.linalg.svd(x, full_matrices=False)
    eu, es, evh = np.linalg.svd(a, full_matrices=False)
    assert u.shape == eu.shape and s.shape == es.shape and vh.shape == evh.shape
    uc, sc, vhc = chunkwise.compute(u, s, vh)
    np.testing.assert_allclose(sc, es, rtol=1e-10)
    got_u, got_vh = normalize_signs(uc, vhc)
    exp_u, exp_vh = normalize_signs(eu, evh)
    np.testing.assert_allclose(got_u, exp_u, atol=1e-9)
    np.testing.assert_allclose(got_vh, exp_vh, atol=1e-9)
    assert_eq(da.linalg.svdvals(x), es)


@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_stack_of_matrices(full_matrices):
    a = rng.standard_normal((4, 5, 3))
    x = da.from_array(a, chunks=(3, 5, 3))
    u, s, vh = da.linalg.svd(x, full_matrices=full_matrices)
    eu, es, evh = np.linalg.svd(a, full_matrices=full_matrices)
    assert u.chunks == ((3, 1), (5,), (eu.shape[-1],))
    assert_eq(s, es)
    got = normalize_signs(u.compute()[..., :3], vh.compute())  # the full U's extra columns: any basis
    exp = normalize_signs(eu[..., :3], evh)
    np.testing.assert_allclose(got[0], exp[0], atol=1e-10)
    np.testing.assert_allclose(got[1], exp[1], atol=1e-10)


def test_svd_full_matrices_refused_for_chunked_rectangle_whose_full_factor_exceeds_a_chunk():
    with chunkwise.config.set({"array.chunk_size": "64 KiB"}), pytest.raises(
        ValueError, match=r"svd: full_matrices=True .* 100 x 100 factor .*full_matrices=False"
    ):
        da.linalg.svd(da.ones((100, 4), chunks=(10, 4)))


@pytest.mark.parametrize("shape, chunks", [((1, 2), ((1,), (1, 1))), ((100, 4), (10, 4)), ((3, 7), (2, 3))])
def test_svd_full_matrices_of_a_small_chunked_rectangle_as_numpy(shape, chunks):
    # found by the Array API harness: a 1 x 2 matrix in two chunks was refused
    a = np.zeros(shape) if shape == (1, 2) else rng.standard_normal(shape)
    x = da.from_array(a, chunks=chunks)
    u, s, vh = da.linalg.svd(x)
    eu, es, evh = np.linalg.svd(a)
    assert (u.shape, s.shape, vh.shape) == (eu.shape, es.shape, evh.shape)
    uc, sc, vhc = chunkwise.compute(u, s, vh)
    np.testing.assert_allclose(sc, es, atol=1e-12)
    np.testing.assert_allclose(uc.T @ uc, np.eye(shape[0]), atol=1e-12)
    np.testing.assert_allclose(vhc @ vhc.T, np.eye(shape[1]), atol=1e-12)
    k = min(shape)
    np.testing.assert_allclose((uc[:, :k] * sc) @ vhc[:k], a, atol=1e-12)


def low_rank(m, n, rank, seed=3):
    g = np.random.default_rng(seed)
    return (g.standard_normal((m, rank)) * np.geomspace(100, 1, rank)) @ g.standard_normal((rank, n))


@pytest.mark.parametrize("chunks", [(50, 30), (200, 150), ((13, 87, 100), (150,))])
@pytest.mark.parametrize("n_power_iter", [0, 2])
def test_svd_compressed_matches_numpy(chunks, n_power_iter):
    a = low_rank(200, 150, 8)
    x = da.from_array(a, chunks=chunks)
    u, s, v = da.linalg.svd_compressed(x, k=5, n_power_iter=n_power_iter, seed=11)
    assert u.shape == (200, 5) and s.shape == (5,) and v.shape == (5, 150)
    eu, es, evh = np.linalg.svd(a, full_matrices=False)
    uc, sc, vc = chunkwise.compute(u, s, v)
    np.testing.assert_allclose(sc, es[:5], rtol=1e-8)
    got = normalize_signs(uc, vc)
    exp = normalize_signs(eu[:, :5], evh[:5])
    np.testing.assert_allclose(got[0], exp[0], atol=1e-7)
    np.testing.assert_allclose(got[1], exp[1], atol=1e-7)


def test_svd_compressed_is_seeded_and_coerces_signs():
    a = rng.standard_normal((120, 40))
    x = da.from_array(a, chunks=(30, 20))
    one = da.linalg.svd_compressed(x, k=4, seed=5, compute=True)
    two = da.linalg.svd_compressed(x, k=4, seed=5, compute=True)
    for left, right in zip(one, two):
        np.testing.assert_array_equal(left, right)
    other = da.linalg.svd_compressed(x, k=4, seed=6, n_oversamples=0, compute=True)
    assert not np.allclose(other[1], one[1])  # a random range of 4 columns for a full-rank matrix
    uc = one[0]
    # each column's largest entry ends up positive in the small factor: signs are deterministic
    assert np.allclose(one[0] @ np.diag(one[1]) @ one[2], two[0] @ np.diag(two[1]) @ two[2])
    assert uc.shape == (120, 4)


def test_svd_compressed_errors():
    x = da.ones((10, 4), chunks=5)
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 4\]"):
        da.linalg.svd_compressed(x, k=5)
    with pytest.raises(ValueError, match="must be 2-d"):
        da.linalg.svd_compressed(da.ones(4, chunks=2), k=1)


def test_vecdot_matches_numpy():
    a = rng.standard_normal((3, 4, 5)) + 1j * rng.standard_normal((3, 4, 5))
    b = rng.standard_normal((4, 5))
    x = da.from_array(a, chunks=(2, 3, 2))
    assert_eq(da.vecdot(x, b), np.vecdot(a, b))
    assert_eq(da.linalg.vecdot(x, a, axis=1), np.vecdot(a, a, axis=1))
    assert_eq(np.vecdot(b, x), np.vecdot(b, a))  # the gufunc dispatches to the contraction
    with pytest.raises(ValueError, match="vecdot: the contracted axis"):
        da.vecdot(x, np.ones(4))


def test_only_small_factors_travel_up_the_tree():
    from chunkwise.core.expr import lower
    from chunkwise.scheduling import get

    x = da.from_array(rng.standard_normal((400, 3)), chunks=(50, 3))
    q, r = da.linalg.qr(x, split_every=2)
    expr = q.expr.optimize()
    graph = lower([expr])
    ups = [k for k in graph if isinstance(k, tuple) and "-up" in str(k[0])]
    downs = [k for k in graph if isinstance(k, tuple) and "-down" in str(k[0])]
    assert len(ups) == 8 + 4 + 2 + 1 and len(downs) == 4 + 2 + 1
    values = get(graph, ups + downs, scheduler="sync")
    for key, value in zip(ups + downs, values):
        parts = [p for p in (value if isinstance(value, tuple) else (value,)) if isinstance(p, np.ndarray)]
        assert parts and all(p.shape[1] <= 3 and p.shape[0] <= 6 for p in parts), (key, [p.shape for p in parts])
    # each block of Q reads its own input block and one 3-column factor, not the other blocks
    for i in range(8):
        deps = graph[(expr.name, i, 0)].dependencies
        assert len([d for d in deps if "-down" in str(d[0])]) == 1


def test_tsqr_directly():
    a = rng.standard_normal((90, 4))
    x = da.from_array(a, chunks=(20, 4))
    q, r = da.linalg.tsqr(x)
    np.testing.assert_allclose(q.compute() @ r.compute(), a, atol=1e-12)
    r_only = da.linalg.tsqr(x, compute_q=False)
    np.testing.assert_allclose(r_only.compute(), r.compute())
    u, s, vh = da.linalg.tsqr(x, compute_svd=True)
    np.testing.assert_allclose(s.compute(), np.linalg.svd(a, compute_uv=False), rtol=1e-10)
    np.testing.assert_allclose((u.compute() * s.compute()) @ vh.compute(), a, atol=1e-12)
    with pytest.raises(ValueError, match=r"tsqr: .* one column chunk.*rechunk\(\{1: -1\}\)"):
        da.linalg.tsqr(da.from_array(a, chunks=(20, 2)))


def test_q_tasks_recompute_cheap_input_blocks_instead_of_keeping_them():
    from chunkwise.core.expr import lower

    a = da.random.default_rng(3).random((400, 3), chunks=(50, 3)) * 2 + 1  # generated, elementwise
    q, r = da.linalg.qr(a, split_every=4)
    expr = q.expr.optimize()
    graph = lower([expr])
    input_name = expr.array.name
    for i in range(8):
        deps = graph[(expr.name, i, 0)].dependencies
        assert not [d for d in deps if d[0] == input_name]  # built inside the Q task, not kept
    qc, rc = chunkwise.compute(q, r)
    np.testing.assert_allclose(qc @ rc, a.compute(), atol=1e-12)  # the recomputed blocks are the same
    # an input block made by wider work (a contraction over many blocks) is shared, not recomputed
    wide = da.from_array(rng.standard_normal((400, 40)), chunks=(50, 5)) @ np.ones((40, 3))
    q2 = da.linalg.qr(wide).Q
    expr2 = q2.expr.optimize()
    deps = lower([expr2])[(expr2.name, 0, 0)].dependencies
    assert [d for d in deps if d[0] == expr2.array.name]
