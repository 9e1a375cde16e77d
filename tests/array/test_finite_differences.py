"""``gradient`` against ``numpy.gradient``: spacings, coordinates, edge orders, uneven and empty blocks."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq

RNG = np.random.default_rng(11)
A = RNG.random((13, 7))
COORDS = np.cumsum(RNG.random(13) + 0.1)  # uneven spacing along axis 0

CHUNKINGS = [
    (3, 2),
    (4, 2),  # a last block of one point on each axis
    ((1, 4, 1, 1, 6), (2, 1, 4)),  # blocks of one point: merged with a neighbour
    ((5, 0, 8), (7,)),  # an empty block
    (13, 7),  # one block
]


def _close(got, expected):
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_eq(g, e, rtol=1e-12, atol=1e-12)
    else:
        assert_eq(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("axis", [None, 0, -1, (1, 0)])
def test_gradient_matches_numpy(chunks, edge_order, axis):
    x = da.from_array(A, chunks=chunks)
    _close(da.gradient(x, axis=axis, edge_order=edge_order), np.gradient(A, axis=axis, edge_order=edge_order))
    _close(da.gradient(x, 0.5, axis=axis, edge_order=edge_order),
           np.gradient(A, 0.5, axis=axis, edge_order=edge_order))


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_with_coordinates_matches_numpy(chunks, edge_order):
    x = da.from_array(A, chunks=chunks)
    _close(da.gradient(x, COORDS, axis=0, edge_order=edge_order),
           np.gradient(A, COORDS, axis=0, edge_order=edge_order))
    _close(da.gradient(x, COORDS, 2.0, edge_order=edge_order), np.gradient(A, COORDS, 2.0, edge_order=edge_order))
    lazy_coords = da.from_array(COORDS, chunks=4)
    _close(da.gradient(x, lazy_coords, axis=0), np.gradient(A, COORDS, axis=0))


def test_gradient_dispatch_dtypes_and_one_dimension():
    ints = np.arange(10) ** 2
    x = da.from_array(ints, chunks=3)
    assert_eq(np.gradient(x), np.gradient(ints))  # __array_function__
    f32 = da.from_array(A.astype(np.float32), chunks=(4, 3))
    assert da.gradient(f32, axis=0).dtype == np.float32
    assert_eq(da.gradient(f32, axis=0), np.gradient(A.astype(np.float32), axis=0), rtol=1e-6)


def test_gradient_refuses_bad_input_at_build_time():
    x = da.from_array(A, chunks=3)
    with pytest.raises(ValueError, match="gradient: edge_order"):
        da.gradient(x, edge_order=3)
    with pytest.raises(ValueError, match="gradient: the coordinates of axis 0 have length 5"):
        da.gradient(x, np.arange(5.0), axis=0)
    with pytest.raises(TypeError, match="gradient: give one spacing"):
        da.gradient(x, 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="gradient: axis 0 has 2 points"):
        da.gradient(da.ones((2, 3), chunks=1), edge_order=2)
    with pytest.raises(ValueError, match="repeated axis"):
        da.gradient(x, axis=(0, 0))
    v = da.from_array(np.arange(10.0), chunks=3)
    with pytest.raises(ValueError, match="gradient: .*unknown chunk sizes"):
        da.gradient(v[v > 2])
