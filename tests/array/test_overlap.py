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


# --- every boundary, per-axis depth, uneven and tiny blocks: against the whole array ----------


def _reference_overlap(a, chunks, depth, boundary):
    """What overlap() must give, from the whole array: padded axis by axis, then each block's range.

    ``depth``: one ``(before, after)`` per axis; ``boundary``: one rule per axis, a constant
    as a number. Axes are padded last-first, so a corner between two constant axes takes
    the first axis' constant, as overlap's does.
    """
    padded = a
    for axis in reversed(range(a.ndim)):
        rule = boundary[axis]
        if rule == "none" or depth[axis] == (0, 0):
            continue
        width = [(0, 0)] * a.ndim
        width[axis] = depth[axis]
        if isinstance(rule, str):
            padded = np.pad(padded, width, mode=NUMPY_PAD[rule])
        else:
            padded = np.pad(padded, width, mode="constant", constant_values=rule)
    ranges = []
    for axis, blocks in enumerate(chunks):
        before, after = depth[axis]
        none = boundary[axis] == "none"
        offset = 0 if none else before
        bounds = np.cumsum((0,) + tuple(blocks))
        index = []
        for i in range(len(blocks)):
            b = 0 if (none and i == 0) else before
            f = 0 if (none and i == len(blocks) - 1) else after
            index.append(np.arange(bounds[i] + offset - b, bounds[i + 1] + offset + f))
        ranges.append(np.concatenate(index))
    return padded[np.ix_(*ranges)]


BOUNDARIES = ["reflect", "periodic", "nearest", "none", -2.5]


@pytest.mark.parametrize("boundary", BOUNDARIES)
@pytest.mark.parametrize(
    "chunks,depth",
    [
        (((4, 3, 5, 2), (6, 1, 6)), ((2, 2), (1, 1))),  # uneven, a block of one column (depth 1)
        (((2, 2, 2, 2, 2, 4), (5, 8)), ((2, 2), (3, 2))),  # blocks exactly as long as the depth
        (((7, 7), (13,)), ((3, 1), (2, 2))),  # two blocks: periodic's neighbour on both sides
        (((14,), (4, 9)), ((0, 0), (4, 3))),  # one block on an axis; no depth on another
        (((6, 0, 8), (4, 9)), ((0, 0), (2, 3))),  # an empty block on the axis without depth
    ],
)
def test_overlap_every_boundary_matches_the_whole_array(boundary, chunks, depth):
    a = np.random.default_rng(2).random((14, 13))
    x = da.from_array(a, chunks=chunks)
    got = da.overlap.overlap(x, {0: depth[0], 1: depth[1]}, boundary=boundary)
    assert_eq(got, _reference_overlap(a, x.chunks, depth, (boundary, boundary)))


@pytest.mark.parametrize("boundary", [("reflect", "periodic", 0), ("nearest", "none", "periodic"),
                                      (1.5, -1.5, "reflect")])
def test_overlap_three_dimensions_mixed_boundaries_and_corners(boundary):
    a = np.arange(7 * 8 * 9, dtype=float).reshape(7, 8, 9)
    x = da.from_array(a, chunks=((3, 4), (2, 3, 3), (4, 5)))
    depth = ((2, 1), (2, 2), (1, 3))
    got = da.overlap.overlap(x, dict(enumerate(depth)), boundary=dict(enumerate(boundary)))
    assert_eq(got, _reference_overlap(a, x.chunks, depth, boundary))


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("mode,ndimage_mode", [("reflect", "reflect"), ("periodic", "wrap"),
                                                ("nearest", "nearest"), (0.25, "constant")])
def test_map_overlap_small_and_uneven_blocks_match_scipy(mode, ndimage_mode, scheduler):
    """Blocks smaller than the depth are merged (with a warning); the result is scipy's on the whole."""
    a = np.random.default_rng(3).random((31, 17))
    x = da.from_array(a, chunks=((2, 9, 1, 3, 10, 6), (5, 2, 10)))
    with pytest.warns(UserWarning, match="smaller than the depth"):
        got = x.map_overlap(ndi.gaussian_filter, depth=4, boundary=mode, sigma=1.0, mode="constant")
    kwargs = {"cval": 0.25} if ndimage_mode == "constant" else {}
    expected = ndi.gaussian_filter(a, 1.0, mode=ndimage_mode, **kwargs)
    np.testing.assert_allclose(got.compute(scheduler=scheduler), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_map_overlap_boundary_none_leaves_the_edges_to_the_function(scheduler):
    """With boundary='none' the end blocks get no margin: scipy's own mode makes the array's edge."""
    a = np.random.default_rng(4).random((25, 22))
    x = da.from_array(a, chunks=((9, 9, 7), (8, 6, 8)))
    got = x.map_overlap(ndi.gaussian_filter, depth={0: 4, 1: 3}, boundary="none", sigma=(1.0, 0.7),
                        mode="mirror")
    expected = ndi.gaussian_filter(a, (1.0, 0.7), mode="mirror")
    np.testing.assert_allclose(got.compute(scheduler=scheduler), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_map_overlap_without_trim_sees_each_extended_block(boundary):
    a = np.random.default_rng(5).integers(0, 50, (12, 10))
    x = da.from_array(a, chunks=((5, 4, 3), (6, 4)))
    depth = ((2, 1), (1, 2))
    got = da.map_overlap(lambda b: b * 2, x, depth=dict(enumerate(depth)), boundary=boundary, trim=False,
                         dtype=a.dtype)
    expected = _reference_overlap(a, x.chunks, depth, (boundary, boundary)) * 2  # -2.5 is -2 in ints
    assert_eq(got, expected)
    assert got.chunks == da.overlap.overlap(x, dict(enumerate(depth)), boundary=boundary).chunks


def test_overlap_masked_blocks_keep_their_mask_across_neighbours():
    data = np.arange(12.0).reshape(3, 4)
    a = np.ma.masked_array(data, mask=data % 5 == 0)
    x = da.ma.masked_array(da.from_array(data, chunks=((2, 1), (2, 2))), mask=a.mask)
    got = da.overlap.overlap(x, 1, boundary="periodic").compute()
    expected = np.ma.masked_array(
        _reference_overlap(data, x.chunks, ((1, 1), (1, 1)), ("periodic", "periodic")),
        mask=_reference_overlap(a.mask, x.chunks, ((1, 1), (1, 1)), ("periodic", "periodic")),
    )
    assert isinstance(got, np.ma.MaskedArray)
    np.testing.assert_array_equal(got.mask, expected.mask)
    np.testing.assert_array_equal(got.data, expected.data)


def test_overlap_reads_each_block_whole_once_and_lends_its_edges():
    """Each source block is read by two tasks: its own extended block and the slabs it lends.

    Its neighbours read only those slabs (copies of a few rows), so the block is not held
    until the last neighbour has run, and a block drawn at random is drawn once.
    """
    x = da.random.RandomState(0).random_sample((12, 12), chunks=(4, 4))
    smooth = x.map_overlap(ndi.uniform_filter, depth=1, boundary="reflect", size=3, mode="constant")
    graph = smooth.mean().__chunkwise_graph__()
    readers: dict = {}
    for key, task in graph.items():
        for dep in getattr(task, "dependencies", ()):
            readers.setdefault(dep, set()).add(key)
    random_keys = [k for k in graph if isinstance(k, tuple) and k[0].startswith("random")]
    assert len(random_keys) == 9
    for key in random_keys:
        assert len(readers[key]) == 2, (key, readers[key])
    whole = x.compute()
    expected = ndi.uniform_filter(whole, 3, mode="reflect").mean()
    np.testing.assert_allclose(smooth.mean().compute(), expected, rtol=1e-12)
    np.testing.assert_allclose(smooth.mean().compute(scheduler="sync"), expected, rtol=1e-12)
