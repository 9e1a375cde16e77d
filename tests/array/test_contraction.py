"""Tests of matrix products (``matmul``/``@``, ``dot``, ``tensordot``, ``outer``, ``vdot``, ``inner``)."""

import math

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array import contraction
from chunkwise.array.expr import FromArray
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(42)


@pytest.mark.parametrize(
    "ashape, achunks, bshape, bchunks",
    [
        ((7, 9), (3, 2), (9, 5), (2, 2)),  # same chunks on the contracted axis
        ((7, 9), (3, 4), (9, 5), (2, 3)),  # mismatched contracted chunks
        ((7, 9), ((1, 6), (4, 0, 5)), (9, 5), ((4, 0, 5), (5,))),  # uneven and empty blocks
        ((9,), 2, (9, 5), 3),  # vector @ matrix
        ((7, 9), 3, (9,), 4),  # matrix @ vector
        ((9,), 2, (9,), 4),  # vector @ vector -> 0-d
        ((3, 1, 7, 9), (1, 1, 3, 2), (4, 9, 5), (2, 3, 2)),  # batched, broadcasting
        ((2, 7, 9), 2, (9, 5), 3),  # batch on one side only
        ((1, 1), 1, (1, 1), 1),  # one element
        ((3, 0), 2, (0, 4), 2),  # empty contraction -> zeros
        ((0, 3), 2, (3, 4), 2),  # empty output
    ],
)
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_matmul_vs_numpy(ashape, achunks, bshape, bchunks, dtype):
    a = (rng.random(ashape) * 10).astype(dtype)
    b = (rng.random(bshape) * 10).astype(dtype)
    x = da.from_array(a, chunks=achunks)
    y = da.from_array(b, chunks=bchunks)
    expected = a @ b
    result = x @ y
    assert result.dtype == expected.dtype
    assert_eq(result, expected)
    assert_eq(contraction.matmul(x, b), expected)
    assert_eq(y.__rmatmul__(a), expected)


def test_numpy_matmul_ufunc_dispatches():
    a, b = rng.random((4, 3)), rng.random((3, 2))
    x = da.from_array(a, chunks=2)
    assert_eq(np.matmul(x, b), a @ b)
    assert_eq(a @ da.from_array(b, chunks=2), a @ b)


def test_mixed_dtypes_and_bool():
    a = np.arange(12, dtype="int32").reshape(3, 4)
    b = np.ones((4, 2), dtype="float32")
    assert_eq(da.from_array(a, chunks=2) @ da.from_array(b, chunks=3), a @ b)
    c = rng.random((3, 3)) > 0.5
    assert_eq(da.from_array(c, chunks=2) @ da.from_array(c, chunks=1), c @ c)


def test_many_contracted_blocks_use_a_tree():
    a = rng.random((4, 40))
    b = rng.random((40, 3))
    x = da.from_array(a, chunks=(2, 1))
    y = da.from_array(b, chunks=(1, 3))
    z = x @ y
    assert z.expr._levels == 2  # 40 products -> 10 group sums -> 3 -> 1
    assert "Contraction: matmul" in z.explain(show=False)
    assert_eq(z, a @ b)


def test_contracted_axis_unified_on_cheaper_side():
    x = da.from_array(rng.random((50, 6)), chunks=(10, 2))  # bigger: keeps its chunks
    y = da.from_array(rng.random((6, 2)), chunks=(3, 2))
    z = (x @ y).expr
    assert not isinstance(z.a, Rechunk)
    assert isinstance(z.b, Rechunk) and z.b.chunks[0] == (2, 2, 2)
    z2 = (da.from_array(rng.random((2, 6)), chunks=3) @ da.from_array(rng.random((6, 50)), chunks=2)).expr
    assert isinstance(z2.a, Rechunk) and not isinstance(z2.b, Rechunk)


def test_matmul_errors():
    x = da.from_array(np.ones((3, 4)), chunks=2)
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(3, 4\)"):
        x @ x
    with pytest.raises(ValueError, match="not have enough dimensions"):
        x @ da.from_array(np.array(2.0))
    with pytest.raises(ValueError, match="broadcast"):
        da.from_array(np.ones((2, 3, 4))) @ da.from_array(np.ones((3, 4, 5)))
    with pytest.raises(TypeError):
        da.from_array(np.array(["a"])) @ da.from_array(np.array(["b"]))


def test_unknown_chunks():
    a = np.ones((4, 3))
    unknown_rows = FromArray(a, ((math.nan, math.nan), (3,)), None, "unknown-rows")
    y = da.from_array(np.ones((3, 2)))
    z = da.Array(unknown_rows) @ y  # unknown rows are fine: the contraction is known
    assert math.isnan(z.shape[0]) and z.shape[1] == 2
    unknown_cols = FromArray(a, ((4,), (math.nan,)), None, "unknown-cols")
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.Array(unknown_cols) @ y


def test_dot():
    a, b = rng.random((5, 4)), rng.random((4, 3))
    x, y = da.from_array(a, chunks=2), da.from_array(b, chunks=3)
    assert_eq(da.dot(x, y), np.dot(a, b))
    assert_eq(x.dot(y), a.dot(b))
    assert_eq(np.dot(x, y), np.dot(a, b))
    assert_eq(da.dot(x, da.from_array(np.array(2.0))), a * 2)
    c = rng.random((2, 3, 4))
    d = rng.random((5, 4, 6))
    assert_eq(da.dot(da.from_array(c, chunks=2), da.from_array(d, chunks=3)), np.dot(c, d))
    assert_eq(da.dot(da.from_array(c, chunks=2), b[:, 0].copy()), np.dot(c, b[:, 0]))
    with pytest.raises(ValueError, match="not aligned"):
        da.dot(x, x)


def test_tensordot():
    a, b = rng.random((3, 4, 5)), rng.random((4, 5, 2))
    x, y = da.from_array(a, chunks=2), da.from_array(b, chunks=(3, 2, 1))
    assert_eq(da.tensordot(x, y), np.tensordot(a, b))
    assert_eq(da.tensordot(x, y, axes=([1], [0])), np.tensordot(a, b, axes=([1], [0])))
    assert_eq(np.tensordot(x, y, axes=([2, 1], [1, 0])), np.tensordot(a, b, axes=([2, 1], [1, 0])))
    assert_eq(da.tensordot(x, y, axes=0), np.tensordot(a, b, axes=0))
    with pytest.raises(ValueError, match="shape-mismatch"):
        da.tensordot(x, y, axes=([0], [0]))
    with pytest.raises(ValueError, match="out of bounds"):
        da.tensordot(x, y, axes=([5], [0]))


def test_outer_vdot_inner():
    v, w = rng.random(7), rng.random(4)
    x = da.from_array(v, chunks=3)
    assert_eq(da.outer(x, w), np.outer(v, w))
    assert_eq(np.outer(x, da.from_array(w, chunks=((1, 3),))), np.outer(v, w))
    c = v + 1j * v[::-1]
    assert_eq(da.vdot(da.from_array(c, chunks=2), v), np.vdot(c, v))
    assert_eq(np.vdot(x, x), np.vdot(v, v))
    a = rng.random((3, 7))
    assert_eq(da.inner(da.from_array(a, chunks=2), x), np.inner(a, v))
    assert_eq(np.inner(x, x), np.inner(v, v))
    with pytest.raises(ValueError, match="vdot"):
        da.vdot(x, da.from_array(w))


def test_integer_overflow_and_dtype_kept():
    a = np.full((2, 3), 2**40, dtype="int64")
    b = np.full((3, 2), 2**20, dtype="int64")
    assert_eq(da.from_array(a, chunks=1) @ da.from_array(b, chunks=1), a @ b)
    f = np.ones((2, 2), dtype="float32")
    z = da.from_array(f, chunks=1) @ da.from_array(f, chunks=1)
    assert z.dtype == np.float32
    assert_eq(z, f @ f)


@pytest.mark.parametrize("chunks", [(3, 2), (7, 5), (2, 5), ((1, 4, 2), (2, 2, 1))])
def test_symmetric_products_mirror_blocks_below_the_diagonal(chunks):
    v = np.random.default_rng(3).random((7, 5))
    x = da.from_array(v, chunks=chunks)
    for y, expected in ((x @ x.T, v @ v.T), (x.T @ x, v.T @ v)):
        assert y.expr._symmetric
        assert_eq(y, expected)
        assert_eq(y.sum(), expected.sum())
        assert_eq(y.sum(axis=0) + y[0], expected.sum(axis=0) + expected[0])
        n = y.numblocks[0]
        graph = y.__chunkwise_graph__()
        products = [node for node in graph.values() if getattr(node, "func", None) is contraction._contract_sum]
        assert len(products) <= n * (n + 1) // 2 * max(1, -(-y.expr._contracted_numblocks[0] // contraction.SPLIT_EVERY))


def test_symmetric_detection_is_exact():
    v = np.arange(12.0).reshape(3, 4)
    x = da.from_array(v, chunks=2)
    z = da.from_array(v + 1, chunks=2)
    assert not (x @ z.T).expr._symmetric
    assert_eq(x @ z.T, v @ (v + 1).T)
    c = da.from_array(v + 1j, chunks=2)
    assert_eq(c @ c.T, (v + 1j) @ (v + 1j).T)  # not conjugated: still symmetric
    i = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    assert_eq(i @ i.T, np.arange(12).reshape(3, 4) @ np.arange(12).reshape(3, 4).T)
