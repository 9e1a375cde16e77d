"""Tests of ``norm``/``vector_norm``/``matrix_norm`` and of ``diagonal``/``trace``/``kron``/``cross`` against NumPy."""

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(5)

CHUNKS = [2, (3, (1, 0, 4)), 100]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms_match_numpy(chunks, ord, keepdims):
    a = rng.standard_normal((6, 5))
    x = da.from_array(a, chunks=chunks)
    assert_eq(da.linalg.norm(x, ord=ord, keepdims=keepdims), np.linalg.norm(a, ord=ord, keepdims=keepdims), rtol=1e-10)
    assert_eq(np.linalg.norm(x, ord=ord, axis=(1, 0)), np.linalg.norm(a, ord=ord, axis=(1, 0)), rtol=1e-10)


@pytest.mark.parametrize("ord", [None, 0, 1, 2, 3, 0.5, -1, np.inf, -np.inf])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_vector_norms_match_numpy(ord, axis):
    a = rng.standard_normal((7, 5))
    a[0, 0] = 0
    x = da.from_array(a, chunks=(3, 2))
    assert_eq(da.linalg.norm(x, ord=ord, axis=axis), np.linalg.norm(a, ord=ord, axis=axis), rtol=1e-10)
    assert_eq(da.linalg.norm(x, ord=ord, axis=axis, keepdims=True), np.linalg.norm(a, ord=ord, axis=axis, keepdims=True), rtol=1e-10)
    assert_eq(da.linalg.norm(x[:, 0], ord=ord), np.linalg.norm(a[:, 0], ord=ord), rtol=1e-10)


@pytest.mark.parametrize("dtype", ["int64", "float32", "complex128"])
def test_norm_dtypes(dtype):
    a = (rng.standard_normal((4, 6)) * 5).astype(dtype)
    if dtype == "complex128":
        a = a + 1j * rng.standard_normal((4, 6))
    x = da.from_array(a, chunks=3)
    assert_eq(da.linalg.norm(x), np.linalg.norm(a), rtol=1e-6)
    assert_eq(da.linalg.norm(x, axis=1), np.linalg.norm(a, axis=1), rtol=1e-6)
    assert_eq(da.linalg.norm(x, "nuc"), np.linalg.norm(a, "nuc"), rtol=1e-5)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, 2, -np.inf])
@pytest.mark.parametrize("keepdims", [False, True])
def test_array_api_matrix_and_vector_norm(ord, keepdims):
    a = rng.standard_normal((3, 4, 5))
    x = da.from_array(a, chunks=(2, 4, 5))
    assert_eq(da.linalg.matrix_norm(x, ord=ord, keepdims=keepdims), np.linalg.matrix_norm(a, ord=ord, keepdims=keepdims), rtol=1e-10)
    assert_eq(da.linalg.vector_norm(x, keepdims=keepdims), np.linalg.vector_norm(a, keepdims=keepdims), rtol=1e-10)
    assert_eq(da.linalg.vector_norm(x, axis=(0, 2), ord=3, keepdims=keepdims),
              np.linalg.vector_norm(a, axis=(0, 2), ord=3, keepdims=keepdims), rtol=1e-10)


def test_norm_errors():
    x = da.ones((2, 3, 4), chunks=2)
    with pytest.raises(ValueError, match="improper number of dimensions"):
        da.linalg.norm(x, ord=1)
    with pytest.raises(ValueError, match="invalid norm order 'bad'"):
        da.linalg.norm(x[0], ord="bad")
    with pytest.raises(ValueError, match="invalid norm order 'fro' for vectors"):
        da.linalg.norm(x, ord="fro", axis=0)


@pytest.mark.parametrize("chunks", [2, (3, 2, 1), ((0, 7), (1, 4), (3,))])
@pytest.mark.parametrize("offset", [-6, -1, 0, 1, 4])
@pytest.mark.parametrize("axes", [(0, 1), (0, 2), (2, 0), (-1, -2)])
def test_diagonal_and_trace_match_numpy(chunks, offset, axes):
    a = np.arange(7 * 5 * 3).reshape(7, 5, 3)
    x = da.from_array(a, chunks=chunks)
    assert_eq(da.diagonal(x, offset, *axes), np.diagonal(a, offset, *axes))
    assert_eq(np.trace(x, offset, *axes), np.trace(a, offset, *axes))


def test_diagonal_reads_each_piece_from_one_block_without_rechunk():
    x = da.from_array(np.arange(100).reshape(10, 10), chunks=(3, 4))
    d = da.diagonal(x)
    assert d.chunks == ((3, 1, 2, 2, 1, 1),)
    assert "Rechunk" not in d.expr.explain(show=False)


def test_array_api_linalg_diagonal_and_trace():
    a = rng.standard_normal((4, 3, 5))
    x = da.from_array(a, chunks=(3, 2, 2))
    for offset in (-2, 0, 3):
        assert_eq(da.linalg.diagonal(x, offset=offset), np.linalg.diagonal(a, offset=offset))
        assert_eq(da.linalg.trace(x, offset=offset), np.linalg.trace(a, offset=offset), rtol=1e-12)
    assert_eq(da.linalg.trace(x.astype("int32"), dtype="int64"), np.linalg.trace(a.astype("int32"), dtype="int64"))
    assert_eq(da.linalg.matrix_transpose(x), np.linalg.matrix_transpose(a))


@pytest.mark.parametrize("ashape, achunks, bshape, bchunks", [
    ((2, 3), 1, (2, 2), 1),
    ((4,), 3, (2, 3), 2),
    ((3, 2, 2), (2, 1, 2), (2,), 1),
])
def test_kron_matches_numpy(ashape, achunks, bshape, bchunks):
    a = rng.integers(0, 9, ashape)
    b = rng.standard_normal(bshape)
    assert_eq(da.kron(da.from_array(a, chunks=achunks), da.from_array(b, chunks=bchunks)), np.kron(a, b))
    assert_eq(np.kron(da.from_array(a, chunks=achunks), b), np.kron(a, b))


def test_kron_refuses_a_big_second_operand():
    with chunkwise.config.set({"array.chunk_size": "1 KiB"}), pytest.raises(ValueError, match="kron: the second operand"):
        da.kron(da.ones(3), da.ones((40, 40), chunks=10))


def test_cross_matches_numpy():
    a = rng.standard_normal((5, 3))
    b = rng.standard_normal((4, 1, 3))
    x = da.from_array(a, chunks=(2, 2))
    assert_eq(da.linalg.cross(x, b), np.linalg.cross(a, b))
    assert_eq(np.cross(x, b), np.cross(a, b))
    assert_eq(da.linalg.cross(x.T, a.T, axis=0), np.linalg.cross(a.T, a.T, axis=0))
    with pytest.raises(ValueError, match="length 3"):
        da.linalg.cross(x[:, :2], b[..., :2])


def test_outer_and_tensordot_in_linalg():
    v = rng.standard_normal(5)
    assert_eq(da.linalg.outer(da.from_array(v, chunks=2), v), np.linalg.outer(v, v))
    m = rng.standard_normal((3, 4))
    assert_eq(da.linalg.tensordot(da.from_array(m, chunks=2), m.T, axes=1), np.linalg.tensordot(m, m.T, axes=1))


def test_numpy_linalg_functions_dispatch():
    a = rng.standard_normal((20, 3))
    x = da.from_array(a, chunks=(5, 3))
    q, r = np.linalg.qr(x)
    assert isinstance(q, da.Array)
    assert_eq(np.linalg.svd(x, full_matrices=False).S, np.linalg.svd(a, full_matrices=False).S)
    assert_eq(np.linalg.norm(x, axis=0), np.linalg.norm(a, axis=0))
