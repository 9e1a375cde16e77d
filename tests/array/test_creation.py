"""Creation functions against NumPy: values, dtypes, chunks; sources have no dependencies."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq
from chunkwise.core.expr import lower


def _exact(x, expected):
    """``x`` computes to exactly ``expected`` (bits and dtype), besides ``assert_eq``'s checks."""
    assert_eq(x, expected)
    got = x.compute()
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected, strict=True)


def _is_source(x):
    """Every block task of ``x`` depends on nothing and holds no big data."""
    graph = lower([x.expr], x.expr._output_keys())
    for node in graph.values():
        assert not node.dependencies
        for arg in getattr(node, "args", ()):
            assert np.asarray(arg).nbytes < 1000 if isinstance(arg, np.ndarray) else True


@pytest.mark.parametrize("func", ["ones", "zeros"])
@pytest.mark.parametrize("shape, chunks", [((5, 7), (2, 3)), (10, 4), ((), ()), ((0, 3), 2), ((4,), ((1, 3),))])
def test_ones_zeros(func, shape, chunks):
    x = getattr(da, func)(shape, chunks=chunks)
    assert_eq(x, getattr(np, func)(shape))
    _is_source(x)
    assert_eq(getattr(da, func)(shape, dtype="i2", chunks=chunks), getattr(np, func)(shape, dtype="i2"))


def test_full_and_empty():
    assert_eq(da.full((3, 4), 2.5, chunks=2), np.full((3, 4), 2.5))
    assert_eq(da.full(5, 7, chunks=2), np.full(5, 7))
    assert_eq(da.full(5, 2.7, dtype=int, chunks=2), np.full(5, 2.7, dtype=int))
    assert_eq(da.full(3, True, chunks=2), np.full(3, True))
    x = da.empty((4, 3), dtype="f4", chunks=2)
    assert x.shape == (4, 3) and x.dtype == np.float32 and x.chunks == ((2, 2), (2, 1))
    assert x.compute().shape == (4, 3)
    with pytest.raises(ValueError, match="fill_value must be a scalar"):
        da.full(3, [1, 2, 3])


def test_default_chunks_auto_and_names():
    x = da.ones((100, 100))
    assert x.chunks == ((100,), (100,))
    assert da.ones(10, chunks=3).name == da.ones(10, chunks=3).name
    assert da.ones(10, chunks=3).name != da.zeros(10, chunks=3).name
    assert da.full(10, 1, chunks=3).name != da.full(10, 2, chunks=3).name


def test_bad_shapes():
    with pytest.raises(ValueError, match="negative dimensions"):
        da.ones((2, -1))
    with pytest.raises(TypeError, match="sequence of integers"):
        da.zeros(2.5)
    with pytest.raises(ValueError, match="ones: .*axis 0"):
        da.ones(10, chunks=((3, 3),))


def test_issue_example_ones_plus_one():
    x = da.ones((1000, 1000), chunks=100)
    y = x + 1
    assert y.numblocks == (10, 10)
    assert_eq(y, np.full((1000, 1000), 2.0))
    res = (x + x).compute()
    assert res.flags.c_contiguous and res.sum() == 2_000_000


@pytest.mark.parametrize("func", ["ones_like", "zeros_like", "empty_like"])
def test_like_functions(func):
    a = np.arange(12.0).reshape(3, 4)
    x = da.from_array(a, chunks=(2, 3))
    y = getattr(da, func)(x)
    assert y.chunks == x.chunks and y.dtype == x.dtype
    via_numpy = getattr(np, func)(x)  # __array_function__ dispatch
    assert isinstance(via_numpy, da.Array) and via_numpy.chunks == x.chunks
    z = getattr(da, func)(a, dtype=int)
    assert z.chunks == ((3,), (4,)) and z.dtype == int
    if func != "empty_like":
        assert_eq(y, getattr(np, func)(a))
        assert_eq(getattr(da, func)(x, shape=(5,), dtype="f4"), getattr(np, func)(a, shape=(5,), dtype="f4"))


def test_full_like():
    a = np.arange(6).reshape(2, 3)
    x = da.from_array(a, chunks=2)
    assert_eq(da.full_like(x, 2.5), np.full_like(a, 2.5))
    assert_eq(np.full_like(x, 2.5, dtype=float), np.full_like(a, 2.5, dtype=float))
    assert da.full_like(x, 1).chunks == x.chunks


def test_like_of_unknown_chunks_raises():
    from chunkwise.array.expr import FromArray

    x = da.Array(FromArray(np.ones(4), ((np.nan, np.nan),), None, "unknown-x"))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.ones_like(x)


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((10,), {}),
        ((0, 10, 3), {}),
        ((1, 10.5, 0.3), {}),
        ((0, 1, 0.1), {}),
        ((-3.2, 7.9, 0.7), {}),
        ((10, 0, -1), {}),
        ((5, 1), {}),
        ((0, 5, 0.5), {"dtype": int}),
        ((0.5, 5), {"dtype": int}),
        ((0, 100, 7), {"dtype": "i1"}),
        ((0, 1, 0.01), {"dtype": "f4"}),
        ((0, 10, 1), {"dtype": "f2"}),
        ((3, 50, 3), {"dtype": "u2"}),
        ((1e16, 1e16 + 100, 3.3), {}),
        ((np.float32(0), 1.0, 0.1), {}),
        ((np.int8(0), 10), {}),
        ((0, 2), {"dtype": bool}),
        ((0, 5j + 5, 1 + 1j), {}),
        ((0,), {}),
    ],
)
def test_arange_matches_numpy_bit_for_bit(args, kwargs):
    expected = np.arange(*args, **kwargs)
    for chunks in (3, 1, "auto", max(len(expected), 1)):
        x = da.arange(*args, **kwargs, chunks=chunks)
        assert x.dtype == expected.dtype
        _exact(x, expected)
    _is_source(x)


def test_arange_errors():
    with pytest.raises(ZeroDivisionError):
        da.arange(0, 10, 0)
    with pytest.raises(TypeError, match="booleans"):
        da.arange(0, 5, dtype=bool)
    with pytest.raises(TypeError, match="scalar"):
        da.arange(np.arange(3))


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((0, 1), {}),
        ((0, 1, 11), {}),
        ((-5.3, 17.1, 1001), {}),
        ((0, 1, 10), {"endpoint": False}),
        ((2, 7, 23), {"dtype": int}),
        ((0, 1e-320, 7), {}),
        ((np.float32(0), np.float32(3), 13), {}),
        ((0, 10, 1), {}),
        ((0, 10, 0), {}),
        ((1, 2, 1), {"endpoint": False}),
        ((0, 1 + 1j, 5), {}),
        ((10, 0, 8), {"dtype": "f4"}),
    ],
)
def test_linspace_matches_numpy_bit_for_bit(args, kwargs):
    expected = np.linspace(*args, **kwargs)
    for chunks in (3, 1, "auto"):
        x = da.linspace(*args, **kwargs, chunks=chunks)
        _exact(x, expected)
    _is_source(x)
    y, step = da.linspace(*args, **kwargs, retstep=True, chunks=4)
    _, expected_step = np.linspace(*args, **kwargs, retstep=True)
    np.testing.assert_array_equal(step, expected_step)
    assert np.asarray(step).dtype == np.asarray(expected_step).dtype


def test_linspace_errors():
    with pytest.raises(ValueError, match="must be non-negative"):
        da.linspace(0, 1, -1)
    with pytest.raises(TypeError, match="scalar"):
        da.linspace(np.zeros(2), 1, 3)


@pytest.mark.parametrize("N, M, k", [(5, None, 0), (5, 7, 2), (7, 4, -3), (6, 6, 10), (4, 4, -4), (0, 3, 0), (1, None, 0)])
@pytest.mark.parametrize("chunks", [2, 3, "auto", 5])
def test_eye_and_tri(N, M, k, chunks):
    _exact(da.eye(N, M, k, chunks=chunks), np.eye(N, M, k))
    _exact(da.eye(N, M, k=k, dtype=int, chunks=chunks), np.eye(N, M, k=k, dtype=int))
    _exact(da.tri(N, M, k, chunks=chunks), np.tri(N, M, k))
    _exact(da.tri(N, M, k, dtype="i1", chunks=chunks), np.tri(N, M, k, dtype="i1"))
    _is_source(da.eye(N, M, k, chunks=chunks))


def test_eye_uneven_chunks():
    _exact(da.eye(6, 5, 1, chunks=((1, 3, 2), (2, 1, 2))), np.eye(6, 5, 1))
    _exact(da.tri(6, 5, -1, chunks=((1, 3, 2), (2, 1, 2))), np.tri(6, 5, -1))


@pytest.mark.parametrize("k", [0, 1, 2, 5, -1, -3, -7])
@pytest.mark.parametrize("chunks", [2, ((1, 3, 1),), 5])
def test_diag_1d(k, chunks):
    v = np.arange(1, 6)
    x = da.diag(da.from_array(v, chunks=chunks), k)
    _exact(x, np.diag(v, k))
    assert_eq(np.diag(da.from_array(v, chunks=chunks), k), np.diag(v, k))


@pytest.mark.parametrize("k", [0, 1, 3, -1, -2, 7, -9])
@pytest.mark.parametrize("chunks", [2, ((1, 3, 2), (4, 1, 2)), 10])
def test_diag_2d(k, chunks):
    a = np.arange(42).reshape(6, 7)
    x = da.from_array(a, chunks=chunks)
    _exact(da.diag(x, k), np.diag(a, k).copy())


def test_diag_numpy_input_and_errors():
    _exact(da.diag(np.arange(3.0)), np.diag(np.arange(3.0)))
    _exact(da.diag(da.from_array(np.zeros(0), chunks=1)), np.diag(np.zeros(0)))
    with pytest.raises(ValueError, match="1-d or 2-d"):
        da.diag(da.ones((2, 2, 2)))


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(indexing, sparse):
    xs = [np.arange(5), np.linspace(0, 1, 3), np.array([7.0, 8.0, 9.0, 10.0])]
    arrays = [da.from_array(xs[0], chunks=2), da.from_array(xs[1], chunks=1), xs[2]]
    for n in (1, 2, 3):
        expected = np.meshgrid(*xs[:n], indexing=indexing, sparse=sparse)
        got = da.meshgrid(*arrays[:n], indexing=indexing, sparse=sparse)
        assert isinstance(got, tuple) and len(got) == n
        for g, e in zip(got, expected):
            assert_eq(g, e)
    got = np.meshgrid(*arrays[:2], indexing=indexing, sparse=sparse)  # __array_function__
    assert all(isinstance(g, da.Array) for g in got)
    assert da.meshgrid() == ()
    with pytest.raises(ValueError, match="indexing"):
        da.meshgrid(arrays[0], indexing="yx")


@pytest.mark.parametrize("dims", [(3, 4), (5,), (2, 3, 2), (), (0, 3)])
def test_indices(dims):
    assert_eq(da.indices(dims, chunks=2), np.indices(dims))
    assert_eq(da.indices(dims, dtype="f4", chunks=1), np.indices(dims, dtype="f4"))
    for g, e in zip(da.indices(dims, sparse=True, chunks=2), np.indices(dims, sparse=True)):
        assert_eq(g, e)
    _is_source(da.indices(dims, chunks=2))


def test_fromfunction():
    def f(i, j, scale=1):
        return (i * 10 + j) * scale

    expected = np.fromfunction(f, (5, 7), scale=2)
    assert_eq(da.fromfunction(f, (5, 7), chunks=(2, 3), scale=2), expected)
    assert_eq(
        da.fromfunction(lambda i, j: i == j, (4, 4), dtype=int, chunks=3),
        np.fromfunction(lambda i, j: i == j, (4, 4), dtype=int),
    )
    x = da.fromfunction(lambda i: np.ones_like(i) * 3, (5,), dtype=int, chunks=2)
    assert_eq(x, np.full(5, 3))
    with pytest.raises(TypeError, match="fromfunction"):
        da.fromfunction(lambda i: undefined_name, (3,))  # noqa: F821
    assert da.fromfunction(f, (3, 3), chunks=2).name == da.fromfunction(f, (3, 3), chunks=2).name


def test_like_dispatch_of_numpy_creation():
    x = da.ones(3, chunks=2)
    y = np.ones((2, 2), like=x)
    assert isinstance(y, da.Array)
    assert_eq(np.arange(5, like=x), np.arange(5))


def test_many_blocks_build_fast():
    import time

    start = time.thread_time()  # CPU time of this thread: holds on a loaded machine
    x = da.ones((100_000, 100_000), chunks=(316, 316))  # ~100,000 blocks
    assert x.npartitions > 99_000
    y = da.random.random((100_000, 100_000), chunks=(316, 316)) if hasattr(da, "random") else x
    assert y.npartitions == x.npartitions
    z = da.arange(10**9, chunks=10_000)
    assert z.npartitions == 100_000
    assert time.thread_time() - start < 1.0
    graph = lower([z.expr], [(z.name, 99_999)])
    assert len(graph) == 1
    np.testing.assert_array_equal(next(iter(graph.values()))({}), np.arange(10**9 - 10_000, 10**9))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), 12])
def test_unravel_index_matches_numpy(order, shape):
    flat = np.array([0, 5, 11, 7, 3, 2, 9])
    x = da.from_array(flat, chunks=((3, 0, 4),))  # uneven, with an empty block
    got = np.unravel_index(x, shape, order=order)  # __array_function__ (xarray's argmax over dims)
    expected = np.unravel_index(flat, shape, order=order)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert_eq(g, e.astype(np.intp))
    with pytest.raises(TypeError, match="unravel_index: indices must be integers"):
        da.unravel_index(da.ones(3, chunks=2), (3,))
