"""Integer-array indexing, take, vindex, boolean masks and compute_chunk_sizes."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq, with_unknown_chunks
from chunkwise.core.expr import lower

A3 = np.arange(7 * 6 * 5).reshape(7, 6, 5)


def x3():
    return da.from_array(A3, chunks=((2, 0, 3, 2), (1, 5), (2, 3)))


def test_numpy_mask_gives_known_chunks():
    x = x3()
    y = x[A3 > 100]
    assert not np.isnan(y.shape[0])
    assert_eq(y, A3[A3 > 100])


# --- chunkwise boolean masks (unknown chunks) ------------------------------------------------


def test_chunkwise_mask_gives_unknown_chunks_and_matches_numpy():
    a = np.arange(20) - 5
    x = da.from_array(a, chunks=6)
    y = x[x > 0]
    assert len(y.chunks[0]) == 4 and np.isnan(y.chunks[0]).all() and np.isnan(y.shape[0])
    assert_eq(y, a[a > 0])
    assert_eq(y * 2, a[a > 0] * 2)
    assert_eq(y[y % 2 == 0], a[a > 0][a[a > 0] % 2 == 0])


def test_full_shape_chunkwise_mask_is_flattened_in_numpy_order():
    x = x3()
    assert_eq(x[x % 3 == 0], A3[A3 % 3 == 0])
    a = np.arange(16.0).reshape(4, 4)
    y = da.from_array(a, chunks=2)
    assert_eq(y[y > 5], a[a > 5])
    assert_eq(y[y > 100], a[a > 100])  # nothing selected


def test_chunkwise_mask_along_one_axis():
    x = x3()
    rows = da.from_array(A3[:, 0, 0] > 40, chunks=3)  # chunks differ from x's: rechunked
    assert_eq(x[rows], A3[A3[:, 0, 0] > 40])
    assert_eq(x[:, x[0, :, 0] > 10], A3[:, A3[0, :, 0] > 10])
    assert_eq(x[2, :, x[0, 0] > 1], A3[2, :, A3[0, 0] > 1])


def test_operations_needing_known_chunks_say_so():
    x = da.from_array(np.arange(10), chunks=3)
    y = x[x > 4]
    for index in [np.s_[3], np.s_[:4], np.s_[[1]], np.s_[::-1]]:
        with pytest.raises(ValueError, match="compute_chunk_sizes"):
            y[index]
    assert_eq(y[:], np.arange(5, 10))


def test_compute_chunk_sizes_then_more_operations():
    a = np.arange(30) % 7
    x = da.from_array(a, chunks=4)
    y = x[x > 2]
    assert y.compute_chunk_sizes() is y
    expected = a[a > 2]
    assert y.chunks == (tuple(int(c) for c in [(a[i:i + 4] > 2).sum() for i in range(0, 30, 4)]),)
    assert_eq(y + 1, expected + 1)
    assert_eq(y[2:5], expected[2:5])
    assert_eq(y[[0, -1]], expected[[0, -1]])
    assert_eq(y.rechunk(5), expected)


def test_compute_chunk_sizes_2d():
    x = x3()
    y = x[:, x[0, :, 0] > 10]
    y.compute_chunk_sizes()
    expected = A3[:, A3[0, :, 0] > 10]
    assert y.shape == expected.shape
    assert_eq(y[1:, ::-1], expected[1:, ::-1])


# --- take and vindex -------------------------------------------------------------------------


def test_take_matches_numpy():
    x = x3()
    assert_eq(np.take(x, [4, 0, 4], axis=2), np.take(A3, [4, 0, 4], axis=2))
    assert_eq(da.take(x, [[1, 0], [6, 6]], axis=0), np.take(A3, [[1, 0], [6, 6]], axis=0))
    assert_eq(da.take(x, -1, axis=1), np.take(A3, -1, axis=1))
    assert_eq(da.take(x, [9, -9], axis=1, mode="wrap"), np.take(A3, [9, -9], axis=1, mode="wrap"))
    assert_eq(da.take(x, [9, -9], axis=1, mode="clip"), np.take(A3, [9, -9], axis=1, mode="clip"))
    v = da.from_array(np.arange(10), chunks=3)
    assert_eq(da.take(v, [9, 0, 5]), np.take(np.arange(10), [9, 0, 5]))
    with pytest.raises(IndexError, match="out of bounds"):
        da.take(x, [7], axis=0)


def test_vindex_matches_numpy_pointwise():
    x = x3()
    assert_eq(x.vindex[[0, 2], [1, 3]], A3[[0, 2], [1, 3]])
    assert_eq(x.vindex[[6, 0, 6], :, [4, 0, 4]], A3[[6, 0, 6], :, [4, 0, 4]])
    # the broadcast axes come first, as in dask
    assert_eq(x.vindex[:, [5, 1], [0, 2]], np.moveaxis(A3[:, [5, 1], [0, 2]], 1, 0))
    assert_eq(x.vindex[[[0], [3]], 2, [1, 2, 4]], A3[[[0], [3]], 2, [1, 2, 4]])
    assert_eq(x.vindex[1:, 2], A3[1:, 2])
    with pytest.raises(IndexError, match="boolean"):
        x.vindex[A3[:, 0, 0] > 3]
    with pytest.raises(IndexError, match="out of bounds"):
        x.vindex[[0, 7], [0, 0]]


# --- the engine ------------------------------------------------------------------------------


def test_gather_tasks_hold_one_input_block_each():
    a = np.arange(100)
    x = da.from_array(a, chunks=10)
    rng = np.random.default_rng(0)
    index = rng.integers(0, 100, 50)
    y = x[index]
    graph = lower([y.expr])
    for task in graph.values():
        inputs = [k for k in task.dependencies if k[0] == x.name]
        assert len(inputs) <= 1
    assert_eq(y, a[index])
    assert y.chunks == ((10,) * 5,)


# --- chunkwise integer indices ---------------------------------------------------------------


I6 = np.array([3, -1, 0, 6, 2, 2])


def test_chunkwise_integer_index_matches_numpy():
    x = x3()
    ic = da.from_array(I6, chunks=4)
    assert_eq(x[ic], A3[I6])
    assert_eq(x[:, ic[:5] % 6], A3[:, I6[:5] % 6])
    assert_eq(x[1, :, ic[:3] % 5], A3[1, :, I6[:3] % 5])  # not adjacent: moves first, as NumPy
    assert_eq(x[1:, 2, ic[:3] % 5], A3[1:, 2, I6[:3] % 5])
    assert_eq(x[ic, 1:3, 0], A3[I6, 1:3, 0])
    i2 = I6.reshape(2, 3) % 5
    assert_eq(x[:, ic.reshape(2, 3) % 5], A3[:, i2])
    assert_eq(x[0, :, ic.reshape(2, 3) % 5], A3[0, :, i2])
    assert_eq(x[ic[2]], A3[I6[2]])  # 0-d chunkwise index
    y = x[ic]
    assert y.chunks[0] == (4, 2) and y.chunks[1:] == x.chunks[1:]
    v = da.from_array(np.arange(10.0), chunks=3)
    assert_eq(v[v.astype(int)[::-1]], np.arange(10.0)[::-1])


def test_chunkwise_integer_index_with_unknown_chunks_and_empty():
    x = x3()
    u = with_unknown_chunks(da.from_array(I6, chunks=4))
    y = x[u]
    assert np.isnan(y.shape[0])
    assert_eq(y, A3[I6])
    e = da.from_array(np.zeros(0, int), chunks=3)
    assert_eq(x[e], A3[np.zeros(0, int)])
    z = da.from_array(np.zeros((0, 3)), chunks=2)
    assert_eq(z[e], np.zeros((0, 3)))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        y[u]  # the indexed axis has unknown chunks


def test_take_with_chunkwise_indices():
    x = x3()
    ic = da.from_array(I6, chunks=4)
    assert_eq(da.take(x, ic, axis=0), np.take(A3, I6, axis=0))
    assert_eq(np.take(x, ic % 5, axis=2), np.take(A3, I6 % 5, axis=2))
    assert_eq(da.take(x, ic + 10, axis=1, mode="wrap"), np.take(A3, I6 + 10, axis=1, mode="wrap"))
    assert_eq(
        da.take(x, ic.reshape(2, 3), axis=1, mode="clip"), np.take(A3, I6.reshape(2, 3), axis=1, mode="clip")
    )
    assert_eq(da.take(x, ic + 100), np.take(A3, I6 + 100))


def test_chunkwise_index_out_of_bounds_raises_at_compute_time():
    x = x3()
    ic = da.from_array(I6, chunks=4)
    y = x[ic + 7]  # building is fine: the values are unknown
    with pytest.raises(IndexError, match="getitem: index 10 is out of bounds for axis 0 with size 7"):
        y.compute()
    with pytest.raises(IndexError, match="take: index -8 is out of bounds"):
        da.take(x, ic - 7, axis=0).compute()
    with pytest.raises(IndexError, match="float64"):
        x[ic * 1.0]
    with pytest.raises(NotImplementedError, match="combined"):
        x[ic, [0, 1]]


def test_chunkwise_index_tasks_hold_one_input_block_each():
    a = np.arange(100)
    x = da.from_array(a, chunks=10)
    index = np.random.default_rng(0).integers(-100, 100, 50)
    y = x[da.from_array(index, chunks=20)]
    for task in lower([y.expr]).values():
        assert len([k for k in task.dependencies if k[0] == x.name]) <= 1
    assert_eq(y, a[index])


def test_vindex_of_a_1d_array_by_a_chunkwise_index():
    # xarray's idxmin/idxmax index the 1-d coordinate pointwise with the lazy argmin
    values = np.arange(10.0) * 10
    index = np.array([[1, 2, 3], [9, 0, 4]])
    x = da.from_array(values, chunks=10)
    assert_eq(x.vindex[da.from_array(index, chunks=(1, 2))], values[index])
    with pytest.raises(NotImplementedError, match="vindex: indices given as chunkwise arrays"):
        x3().vindex[da.from_array(np.array([0, 1]), chunks=1), 0]
