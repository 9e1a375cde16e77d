"""``apply_gufunc``, ``gufunc``, ``apply_along_axis``, ``apply_over_axes``, ``sliding_window_view``."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.testing import assert_eq


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((7, 5, 4))


def test_apply_gufunc_reduces_core_dimension(data):
    x = da.from_array(data, chunks=((3, 4), (2, 3), 4))
    got = da.apply_gufunc(lambda a: a.mean(axis=-1), "(i)->()", x)
    assert got.chunks == ((3, 4), (2, 3))
    assert_eq(got, data.mean(axis=-1))


def test_apply_gufunc_matrix_vector_with_broadcast_loops():
    rng = np.random.default_rng(1)
    m = rng.random((6, 3, 4))
    v = rng.random((4,))
    x = da.from_array(m, chunks=(4, 3, 4))
    got = da.apply_gufunc(np.matmul, "(i,j),(j)->(i)", x, v, output_dtypes=float)
    assert_eq(got, m @ v)


def test_apply_gufunc_refuses_chunked_core_dimension(data):
    x = da.from_array(data, chunks=(3, 2, 2))
    with pytest.raises(ValueError, match=r"core dimension 'i' of input 0 \(axis 2\) spans 2 blocks.*allow_rechunk=True"):
        da.apply_gufunc(np.sum, "(i)->()", x, axis=-1)
    got = da.apply_gufunc(lambda a: a.sum(-1), "(i)->()", x, allow_rechunk=True)
    assert_eq(got, data.sum(-1))


def test_apply_gufunc_several_outputs_runs_function_once_per_block(data):
    x = da.from_array(data, chunks=(3, 2, 4))
    calls = []

    def stats(a):
        calls.append(a.shape)
        return a.min(-1), a.max(-1)

    lo, hi = da.apply_gufunc(stats, "(i)->(),()", x, output_dtypes=(float, float))
    assert_eq(lo, data.min(-1), schedulers=("sync",))
    assert_eq(hi, data.max(-1), schedulers=("threads",))
    calls.clear()
    chunkwise.compute(lo, hi, scheduler="sync")
    assert len(calls) == x.numblocks[0] * x.numblocks[1]


def test_apply_gufunc_vectorize_output_sizes_and_axes(data):
    x = da.from_array(data, chunks=(3, 5, 2))

    def outer_first_two(a):
        return np.outer(a[:2], a[:2])

    got = da.apply_gufunc(outer_first_two, "(i)->(j,k)", x, vectorize=True, output_dtypes=float,
                          output_sizes={"j": 2, "k": 2}, axes=[(1,), (-2, -1)])
    expected = np.einsum("abi,abj->abij", data.transpose(0, 2, 1)[..., :2], data.transpose(0, 2, 1)[..., :2])
    assert_eq(got, expected)
    kept = da.apply_gufunc(lambda a: a.sum(-1), "(i)->()", x, axis=1, keepdims=True)
    assert_eq(kept, data.sum(axis=1, keepdims=True))
    with pytest.raises(ValueError, match="output_sizes"):
        da.apply_gufunc(outer_first_two, "(i)->(j,k)", x, vectorize=True, output_dtypes=float, axes=[(1,), (-2, -1)])


def test_gufunc_and_as_gufunc(data):
    x = da.from_array(data, chunks=(4, 5, 4))

    @da.as_gufunc(signature="(i)->(i)", output_dtypes=float)
    def normalized(a):
        return a / a.sum(-1, keepdims=True)

    assert isinstance(normalized, da.gufunc)
    assert normalized.__name__ == "normalized"
    assert_eq(normalized(x), data / data.sum(-1, keepdims=True))
    g = da.gufunc(np.linalg.norm, signature="(i)->()", vectorize=True, output_dtypes=float)
    assert_eq(g(x), np.linalg.norm(data, axis=-1))
    with pytest.raises(ValueError, match="signature"):
        da.gufunc(np.sum, signature="i->")


def test_apply_along_axis(data):
    x = da.from_array(data, chunks=(3, 2, 3))
    for axis in range(3):
        assert_eq(da.apply_along_axis(np.cumsum, axis, x), np.apply_along_axis(np.cumsum, axis, data))
    assert_eq(da.apply_along_axis(np.sum, 1, x), np.apply_along_axis(np.sum, 1, data))
    f = lambda v: np.stack([v.min(), v.max()])  # noqa: E731
    assert_eq(da.apply_along_axis(f, 0, x), np.apply_along_axis(f, 0, data))
    g = lambda v: np.outer(v, v)  # noqa: E731
    assert_eq(da.apply_along_axis(g, 2, x), np.apply_along_axis(g, 2, data))


@pytest.mark.parametrize("shape, chunks, axis", [
    ((0, 3), 2, 1), ((3, 0), 2, 0), ((2, 0, 3), 2, 0), ((2, 0, 3), 2, -1), ((4, 0), ((1, 0, 3), (0,)), 0),
])
def test_apply_along_axis_refuses_an_empty_iteration_axis_as_numpy(shape, chunks, axis):
    with pytest.raises(ValueError, match="Cannot apply_along_axis when any iteration dimensions are 0"):
        np.apply_along_axis(np.sum, axis, np.zeros(shape))
    with pytest.raises(ValueError, match=r"apply_along_axis: cannot apply along axis \d of the array of shape .* when "
                                         r"any iteration dimensions are 0.*x.size == 0"):
        da.apply_along_axis(np.sum, axis, da.zeros(shape, chunks=chunks))


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("shape, chunks, axis", [
    ((0, 3), 2, 0), ((3, 0), 2, 1), ((2, 0, 3), 2, 1), ((0,), 1, 0), ((5, 0), ((2, 0, 3), 1), 1),
])
def test_apply_along_axis_over_an_empty_axis_matches_numpy(shape, chunks, axis, scheduler):
    expected = np.apply_along_axis(np.sum, axis, np.zeros(shape))
    assert_eq(da.apply_along_axis(np.sum, axis, da.zeros(shape, chunks=chunks)), expected, schedulers=(scheduler,))


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_apply_along_axis_with_unknown_lengths(scheduler):
    data = np.arange(24.0).reshape(8, 3)
    x = da.from_array(data, chunks=((3, 0, 5), 2))
    rows = x[x[:, 0] > 5]
    assert_eq(da.apply_along_axis(np.cumsum, 1, rows), np.apply_along_axis(np.cumsum, 1, data[data[:, 0] > 5]),
              schedulers=(scheduler,))
    with pytest.raises(ValueError, match=r"apply_along_axis: axis 0 has unknown chunk sizes.*compute_chunk_sizes"):
        da.apply_along_axis(np.sum, 0, rows)


def test_apply_over_axes(data):
    x = da.from_array(data, chunks=(3, 2, 3))
    assert_eq(da.apply_over_axes(da.sum, x, [0, 2]), np.apply_over_axes(np.sum, data, [0, 2]))
    assert_eq(da.apply_over_axes(da.max, x, 1), np.apply_over_axes(np.max, data, 1))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("window,axis", [(3, 0), ((2, 3), (0, 1)), ((1, 2, 2), None), (4, 2)])
def test_sliding_window_view(data, window, axis):
    x = da.from_array(data, chunks=((3, 4), (3, 2), (2, 2)))
    expected = np.lib.stride_tricks.sliding_window_view(data, window, axis=axis)
    got = da.lib.stride_tricks.sliding_window_view(x, window, axis=axis)
    assert_eq(got, expected)


def test_sliding_window_view_small_blocks_and_errors():
    a = np.arange(20)
    x = da.from_array(a, chunks=3)
    with pytest.warns(UserWarning, match="sliding_window_view: some blocks are smaller"):
        got = da.sliding_window_view(x, 5)
    assert_eq(got, np.lib.stride_tricks.sliding_window_view(a, 5))
    with pytest.raises(ValueError, match="larger than axis 0"):
        da.sliding_window_view(x, 21)
