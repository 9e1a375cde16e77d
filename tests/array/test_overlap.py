"""``overlap``, ``trim_internal``, ``map_overlap`` and ``sliding_window_view``: against NumPy/SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi

import chunkwise.array as da
from chunkwise.array.testing import assert_eq

NUMPY_PAD = {"reflect": "symmetric", "periodic": "wrap", "nearest": "edge"}


def _numpy_overlap(a, chunks, depth, mode):
    """The blocks of ``a`` extended as overlap() should, built with np.pad on the whole array."""
    padded = np.pad(a, [(d, d) for d in depth], mode=NUMPY_PAD[mode])
    bounds = [np.cumsum((0,) + c) for c in chunks]
    rows = []
    for i in range(len(chunks[0])):
        row = []
        for j in range(len(chunks[1])):
            r0, r1 = bounds[0][i], bounds[0][i + 1] + 2 * depth[0]
            c0, c1 = bounds[1][j], bounds[1][j + 1] + 2 * depth[1]
            row.append(padded[r0:r1, c0:c1])
        rows.append(row)
    return np.block(rows)


@pytest.mark.parametrize("mode", ["reflect", "periodic", "nearest"])
@pytest.mark.parametrize("depth", [1, (2, 1), {0: 3, 1: 0}])
def test_overlap_matches_numpy_pad(mode, depth):
    a = np.arange(13 * 11, dtype=float).reshape(13, 11)
    x = da.from_array(a, chunks=((3, 5, 5), (4, 4, 3)))
    d = da.overlap.coerce_depth(depth, 2)
    expected = _numpy_overlap(a, x.chunks, [b for b, _ in d], mode)
    assert_eq(da.overlap.overlap(x, depth, boundary=mode), expected)


def test_overlap_constant_and_none_boundaries():
    a = np.arange(10)
    x = da.from_array(a, chunks=((4, 3, 3),))
    got = da.overlap.overlap(x, 2, boundary=-7)
    assert got.chunks == ((8, 7, 7),)
    assert_eq(got, np.concatenate([[-7, -7], a[:6], a[2:9], a[5:], [-7, -7]]))
    none = da.overlap.overlap(x, 2, boundary="none")
    assert none.chunks == ((6, 7, 5),)
    assert_eq(none, np.concatenate([a[:6], a[2:9], a[5:]]))
    assert_eq(da.overlap.trim_internal(none, 2, boundary="none"), a)
    assert_eq(da.overlap.trim_internal(got, 2, boundary=-7), a)


def test_overlap_per_axis_boundaries():
    a = np.arange(30.0).reshape(5, 6)
    x = da.from_array(a, chunks=(2, 3))
    got = da.overlap.overlap(x, {0: 1, 1: 2}, boundary={0: "periodic", 1: "none"})
    assert got.chunks == ((4, 4, 3), (5, 5))
    first = np.asarray(got)[:4, :5]
    np.testing.assert_array_equal(first, np.pad(a, ((1, 1), (0, 0)), mode="wrap")[:4, :5])


@pytest.mark.parametrize("mode,ndimage_mode", [("reflect", "reflect"), ("periodic", "wrap"),
                                                ("nearest", "nearest"), (0.5, "constant")])
@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_map_overlap_gaussian_filter_matches_scipy(mode, ndimage_mode, scheduler):
    rng = np.random.default_rng(0)
    a = rng.random((40, 33))
    x = da.from_array(a, chunks=((15, 15, 10), (11, 9, 13)))
    sigma = 1.5
    depth = int(4 * sigma + 0.5)  # scipy's truncate=4 radius
    got = x.map_overlap(ndi.gaussian_filter, depth=depth, boundary=mode, sigma=sigma, mode="constant")
    kwargs = {"cval": 0.5} if ndimage_mode == "constant" else {}
    expected = ndi.gaussian_filter(a, sigma, mode=ndimage_mode, **kwargs)
    assert got.chunks == x.chunks
    np.testing.assert_allclose(got.compute(scheduler=scheduler), expected, rtol=1e-12, atol=1e-12)


def test_map_overlap_uniform_filter_per_axis_depth():
    a = np.random.default_rng(1).integers(0, 100, (30, 20)).astype(float)
    x = da.from_array(a, chunks=(7, 6))
    got = da.map_overlap(ndi.uniform_filter, x, depth=(2, 1), boundary="reflect", size=(5, 3))
    assert_eq(got, ndi.uniform_filter(a, size=(5, 3), mode="reflect"))


def test_map_overlap_rechunks_small_blocks_with_warning():
    a = np.arange(20.0)
    x = da.from_array(a, chunks=((2, 2, 6, 1, 9),))
    with pytest.warns(UserWarning, match="smaller than the depth 3"):
        got = da.map_overlap(ndi.uniform_filter1d, x, depth=3, boundary="nearest", size=7)
    assert min(got.chunks[0]) >= 3
    assert_eq(got, ndi.uniform_filter1d(a, 7, mode="nearest"), check_chunks=True)
    with pytest.raises(ValueError, match="allow_rechunk=True"):
        da.overlap.overlap(x, 3, "nearest", allow_rechunk=False)


def test_map_overlap_several_arrays_and_no_trim():
    a = np.arange(24.0).reshape(4, 6)
    b = a[::-1] * 2
    x = da.from_array(a, chunks=(2, 3))
    y = da.from_array(b, chunks=(4, 2))  # aligned to x's blocks first
    got = da.map_overlap(lambda p, q: ndi.uniform_filter(p + q, 3, mode="constant"), x, y,
                         depth=1, boundary=0.0)
    assert_eq(got, ndi.uniform_filter(a + b, 3, mode="constant"))
    raw = da.map_overlap(lambda p: p * 1, x, depth=1, boundary="none", trim=False)
    assert raw.chunks == ((3, 3), (4, 4))


def test_map_overlap_errors_name_operation():
    x = da.from_array(np.arange(5), chunks=2)
    with pytest.raises(ValueError, match="overlap: boundary 'mirror'"):
        da.overlap.overlap(x, 1, boundary="mirror")
    with pytest.raises(ValueError, match="depth 9 is larger than axis 0"):
        da.overlap.overlap(x, 9, boundary="reflect")
    with pytest.raises(ValueError, match="map_overlap: depth"):
        da.map_overlap(lambda b: b, x, depth=(1, 1, 1))
    with pytest.raises(TypeError, match="map_overlap: the first argument must be callable"):
        da.map_overlap(3, x, depth=1)
