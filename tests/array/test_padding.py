"""``pad`` in every mode of ``numpy.pad``: against NumPy on the same data."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq, with_unknown_chunks


def unknown(x, axes=(0,)):
    return with_unknown_chunks(x, axes)


# --- pad -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("width", [1, (2, 3), ((0, 1), (3, 0)), ((4, 9), (1, 7))])
def test_pad(mode, width):
    a = np.arange(20.0).reshape(4, 5)
    x = da.from_array(a, chunks=(3, 2))
    assert_eq(da.pad(x, width, mode=mode), np.pad(a, width, mode=mode))
    assert_eq(np.pad(x, width, mode=mode), np.pad(a, width, mode=mode))


def test_pad_constant_values_and_large_widths():
    a = np.arange(6).reshape(2, 3)
    x = da.from_array(a, chunks=1)
    for cv in [7, (1, 2), ((1, 2), (3, 4))]:
        assert_eq(da.pad(x, ((1, 2), (2, 1)), constant_values=cv), np.pad(a, ((1, 2), (2, 1)), constant_values=cv))
    assert_eq(da.pad(x, 1, constant_values=2.7), np.pad(a, 1, constant_values=2.7))
    v = da.from_array(np.arange(3), chunks=2)
    for mode in ["reflect", "symmetric", "wrap", "edge"]:
        assert_eq(da.pad(v, (8, 11), mode=mode), np.pad(np.arange(3), (8, 11), mode=mode))
    one = da.from_array(np.array([5]))
    for mode in ["reflect", "symmetric", "wrap", "edge"]:
        assert_eq(da.pad(one, 3, mode=mode), np.pad(np.array([5]), 3, mode=mode))


def test_pad_pieces_are_bounded():
    x = da.from_array(np.arange(100), chunks=10)
    y = da.pad(x, 35, mode="wrap")
    assert max(y.chunks[0]) <= 10
    assert_eq(y, np.pad(np.arange(100), 35, mode="wrap"))


def test_pad_edge_cases():
    e = np.ones((0, 3))
    assert_eq(da.pad(da.from_array(e), 1), np.pad(e, 1))
    assert_eq(da.pad(da.from_array(e), ((0, 0), (1, 1)), mode="edge"), np.pad(e, ((0, 0), (1, 1)), mode="edge"))
    with pytest.raises(ValueError, match="empty axis 0"):
        da.pad(da.from_array(e), 1, mode="edge")
    z = da.from_array(np.float64(1.0))
    assert_eq(da.pad(z, 1), np.pad(np.float64(1.0), 1))
    x = da.from_array(np.arange(4), chunks=2)
    assert da.pad(x, 0) is x
    with pytest.raises(ValueError, match="negative"):
        da.pad(x, -1)
    with pytest.raises(NotImplementedError, match="empty"):
        da.pad(x, 1, mode="empty")
    with pytest.raises(ValueError, match="mode"):
        da.pad(x, 1, mode="bogus")
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.pad(unknown(x), 1)
    # axes that are not padded may have unknown chunks
    u = unknown(da.from_array(np.arange(6).reshape(2, 3), chunks=1))
    assert_eq(da.pad(u, ((0, 0), (1, 1))), np.pad(np.arange(6).reshape(2, 3), ((0, 0), (1, 1))))


P = (np.arange(7 * 5).reshape(7, 5) * 37) % 11  # ints: NumPy rounds the statistics


@pytest.mark.parametrize("mode", ["mean", "median", "minimum", "maximum"])
@pytest.mark.parametrize("dtype", [np.int8, np.float64])
def test_pad_statistics(mode, dtype):
    a = (P ** 1.5).astype(dtype)
    x = da.from_array(a, chunks=((3, 0, 4), (2, 3)))
    for stat_length in [None, ((1, 3), (2, 10))]:
        for width in [((2, 3), (1, 0)), ((0, 1), (4, 2))]:
            expected = np.pad(a, width, mode=mode, stat_length=stat_length)
            assert_eq(da.pad(x, width, mode=mode, stat_length=stat_length), expected, schedulers=("sync",))
    assert_eq(np.pad(x, 3, mode=mode), np.pad(a, 3, mode=mode))


@pytest.mark.parametrize("dtype", [np.int64, np.float32])
def test_pad_linear_ramp(dtype):
    a = (P * 1.5).astype(dtype)
    x = da.from_array(a, chunks=((3, 0, 4), (2, 3)))
    for end_values in [0, ((1, -3), (2.5, 10))]:
        for width in [((2, 3), (1, 0)), 3]:
            expected = np.pad(a, width, mode="linear_ramp", end_values=end_values)
            assert_eq(da.pad(x, width, mode="linear_ramp", end_values=end_values), expected)


def test_pad_statistics_edge_cases():
    a3 = np.arange(24.0).reshape(2, 3, 4) ** 2
    x3 = da.from_array(a3, chunks=(1, 2, 3))
    assert_eq(da.pad(x3, 2, mode="median", stat_length=2), np.pad(a3, 2, mode="median", stat_length=2))
    assert_eq(da.pad(x3, ((0, 0), (0, 0), (1, 2)), mode="linear_ramp"),
              np.pad(a3, ((0, 0), (0, 0), (1, 2)), mode="linear_ramp"))
    one = da.from_array(np.array([5]))
    for mode in ["mean", "maximum", "linear_ramp"]:
        assert_eq(da.pad(one, 3, mode=mode), np.pad(np.array([5]), 3, mode=mode))
    u = unknown(da.from_array(a3[0], chunks=2))
    assert_eq(da.pad(u, ((0, 0), (1, 1)), mode="mean"), np.pad(a3[0], ((0, 0), (1, 1)), mode="mean"))
    x = da.from_array(np.arange(4), chunks=2)
    with pytest.raises(ValueError, match="stat_length of 0"):
        da.pad(x, 1, mode="mean", stat_length=0)
    with pytest.raises(ValueError, match="negative"):
        da.pad(x, 1, mode="minimum", stat_length=-1)
    with pytest.raises(ValueError, match="empty axis 0"):
        da.pad(da.from_array(np.ones((0, 3))), 1, mode="mean")
    with pytest.raises(ValueError, match="unsupported keyword"):
        da.pad(x, 1, mode="mean", end_values=1)
    big = da.pad(da.from_array(np.arange(100), chunks=10), 35, mode="maximum")
    assert max(big.chunks[0]) <= 10
