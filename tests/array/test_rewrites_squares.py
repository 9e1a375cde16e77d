"""Rule 6 of ``chunkwise.array.rewrites``: a sum of squares reads the unsquared array (per-block einsum)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.rewrites import sum_of_squares_chunk
from chunkwise.array.testing import assert_eq
from chunkwise.core.expr import Tuple

CHUNKS = ((3, 0, 4, 1), (2, 3))  # uneven, with an empty block


def _data(dtype):
    rng = np.random.default_rng(7)
    v = rng.standard_normal((8, 5))
    if np.dtype(dtype).kind == "c":
        v = v + 1j * rng.standard_normal((8, 5))
    return v.astype(dtype)


def _plan(*arrays) -> str:
    return Tuple(*(a.expr for a in arrays)).optimize().explain(show=False)


FORMS = {
    "power": lambda x: x ** 2,
    "multiply": lambda x: x * x,
    "square": np.square,
    "abs_power": lambda x: abs(x) ** 2,
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 1), True), (-1, False)])
def test_sum_of_squares_reads_x_and_matches_numpy(dtype, form, axis, keepdims):
    v = _data(dtype)
    x = da.from_array(v, chunks=CHUNKS)
    y = FORMS[form](x).sum(axis=axis, keepdims=keepdims)
    expected = FORMS[form](v).sum(axis=axis, keepdims=keepdims)
    plan = _plan(y)
    assert "sum_of_squares" in plan
    # abs(x) ** 2 reads x itself for real x; for complex z, abs(z) (a float array) is squared
    assert ("absolute" in plan) == (form == "abs_power" and v.dtype.kind == "c")
    tol = 1e-5 if v.dtype.itemsize * (2 if v.dtype.kind == "f" else 1) == 8 else 1e-12
    assert_eq(y, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int64", "uint8", "bool"])
def test_integer_squares_keep_numpys_wrapping_exactly(dtype):
    v = (np.arange(40) * 37 % 200).astype(dtype).reshape(8, 5)
    x = da.from_array(v, chunks=CHUNKS)
    for y, expected in (((x ** 2).sum(axis=0), (v ** 2).sum(axis=0)), ((x * x).sum(), (v * v).sum())):
        assert "sum_of_squares" not in _plan(y)
        assert_eq(y, expected)  # int8: 100 ** 2 wraps to 16 before the sum widens


def test_float32_accumulates_in_double():
    v = np.random.default_rng(1).random(3_000_000).astype("float32")
    x = da.from_array(v, chunks=1_500_000)
    y = (x ** 2).sum()
    exact = np.square(v.astype(np.float64)).sum()
    value = y.compute()
    assert value.dtype == np.float32
    assert abs(float(value) - exact) / exact < 1e-6


def test_unknown_chunks_and_empty_arrays():
    v = _data("float64")
    x = da.from_array(v, chunks=CHUNKS)
    selected = x[x > 0]  # unknown chunk sizes
    y = (selected ** 2).sum()
    assert "sum_of_squares" in _plan(y)
    np.testing.assert_allclose(y.compute(), (v[v > 0] ** 2).sum())
    empty = da.from_array(np.zeros((0, 3)), chunks=(2, 3))
    assert_eq((empty * empty).sum(axis=0), np.zeros(3))
    assert_eq((empty ** 2).sum(), 0.0)


def test_left_alone_when_the_square_has_another_reader_or_sum_has_a_dtype():
    v = _data("float64")
    x = da.from_array(v, chunks=CHUNKS)
    q = x ** 2
    assert "sum_of_squares" not in _plan(q.sum(axis=0), q)  # the square is computed anyway
    total, squares = chunkwise.compute(q.sum(axis=0), q)
    np.testing.assert_allclose(total, (v ** 2).sum(axis=0))
    np.testing.assert_allclose(squares, v ** 2)
    widened = (x ** 2).sum(dtype="float32")
    assert "sum_of_squares" not in _plan(widened)
    assert_eq(widened, (v ** 2).sum(dtype="float32"), rtol=1e-6)
    other = (x * (x + 1)).sum()
    assert "sum_of_squares" not in _plan(other)
    assert_eq(other, (v * (v + 1)).sum())


def test_shares_one_pass_with_other_reductions_of_x():
    v = _data("float64")
    x = da.from_array(v, chunks=CHUNKS)
    a, b = x.sum(axis=0), (x ** 2).sum(axis=0)
    plan = _plan(a, b)
    assert "SharedReduction: [" in plan and "sum_of_squares" in plan
    va, vb = chunkwise.compute(a, b)
    np.testing.assert_allclose(va, v.sum(axis=0))
    np.testing.assert_allclose(vb, (v ** 2).sum(axis=0))


def test_norm_and_tsqr_column_norms_use_it():
    v = _data("float64")
    x = da.from_array(v, chunks=CHUNKS)
    assert "sum_of_squares" in _plan(da.linalg.norm(x, axis=0))
    assert_eq(da.linalg.norm(x, axis=0), np.linalg.norm(v, axis=0))
    assert_eq(da.linalg.norm(x), np.linalg.norm(v))
    tall = da.random.default_rng(0).random((400, 3), chunks=(100, 3))
    q, r = da.linalg.qr(tall)
    plan = _plan(r, (q ** 2).sum(axis=0))
    assert "sum_of_squares" in plan
    _, squares = chunkwise.compute(r, (q ** 2).sum(axis=0))
    np.testing.assert_allclose(squares, np.ones(3))  # Q's columns are unit vectors


def test_chunk_makes_no_block_sized_temporary():
    block = np.random.default_rng(0).random((200_000, 10))
    tracemalloc.start()
    try:
        out = sum_of_squares_chunk(block, (0,))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(out, np.square(block).sum(axis=0, keepdims=True))
    assert peak < block.nbytes // 8


def test_chunk_falls_back_for_other_blocks():
    assert sum_of_squares_chunk(np.float64(3.0), ()) == 9.0
    ints = np.array([[100, 3]], dtype="int8")
    np.testing.assert_array_equal(sum_of_squares_chunk(ints, (0,)), np.square(ints).sum(axis=0, keepdims=True))
