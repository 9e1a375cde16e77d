"""Quantiles, ``unique``, histograms, ``searchsorted``, ``isin``, ``cov``/``corrcoef``,
``take_along_axis``: against NumPy on the same data, uneven chunks, both schedulers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(7)
A = rng.normal(size=(23, 17))
A_NAN = np.where(rng.random(A.shape) < 0.15, np.nan, A)
A_NAN[3] = np.nan  # an all-NaN lane
UNEVEN = ((5, 1, 10, 7), (8, 2, 7))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("q", [0.5, [0.0, 0.1, 0.25, 0.9, 1.0]])
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint"])
def test_quantile_chunked_axis_is_exact(axis, q, method):
    x = da.from_array(A, chunks=UNEVEN)
    assert_eq(da.quantile(x, q, axis=axis, method=method), np.quantile(A, q, axis=axis, method=method))
    assert_eq(da.percentile(x, np.multiply(q, 100), axis=axis, method=method),
              np.percentile(A, np.multiply(q, 100), axis=axis, method=method))


@pytest.mark.parametrize("method", ["linear", "nearest", "hazen", "inverted_cdf"])
def test_quantile_one_block_axis_any_method(method):
    x = da.from_array(A, chunks=(4, 17))
    assert_eq(da.quantile(x, [0.3, 0.7], axis=1, method=method), np.quantile(A, [0.3, 0.7], axis=1, method=method))
    if method != "linear":  # on a chunked axis only the methods of two order statistics
        with pytest.raises(NotImplementedError, match="rechunk the axis into one block"):
            da.quantile(x, 0.3, axis=0, method=method)


def test_median_and_keepdims_and_ints():
    ints = rng.integers(0, 50, (12, 9))
    x = da.from_array(ints, chunks=(5, 4))
    assert_eq(da.median(x), np.median(ints))
    assert_eq(da.median(x, axis=0, keepdims=True), np.median(ints, axis=0, keepdims=True))
    assert_eq(np.median(x, axis=1), np.median(ints, axis=1))
    y = da.from_array(A_NAN, chunks=UNEVEN)
    with np.errstate(invalid="ignore"):
        assert_eq(da.median(y, axis=1), np.median(A_NAN, axis=1))  # a lane with NaN gives NaN


@pytest.mark.filterwarnings("ignore:All-NaN slice")
@pytest.mark.parametrize("axis", [0, 1, None])
def test_nan_quantiles(axis):
    x = da.from_array(A_NAN, chunks=UNEVEN)
    assert_eq(da.nanmedian(x, axis=axis), np.nanmedian(A_NAN, axis=axis))
    assert_eq(da.nanquantile(x, [0.1, 0.75], axis=axis), np.nanquantile(A_NAN, [0.1, 0.75], axis=axis))
    assert_eq(da.nanpercentile(x, 40, axis=axis, method="lower"),
              np.nanpercentile(A_NAN, 40, axis=axis, method="lower"))
    one_block = da.from_array(A_NAN, chunks=(5, 17))
    assert_eq(da.nanmedian(one_block, axis=1), np.nanmedian(A_NAN, axis=1))


def test_quantile_errors():
    x = da.from_array(A, chunks=5)
    with pytest.raises(ValueError, match="quantile: quantiles must be in the range"):
        da.quantile(x, 1.5)
    with pytest.raises(ValueError, match="percentile: quantiles must be in the range \\[0, 100\\]"):
        da.percentile(x, 150)
    with pytest.raises(ValueError, match="quantile: only method='inverted_cdf' supports weights"):
        da.quantile(x, 0.5, weights=np.ones(A.shape))
    with pytest.raises(ValueError, match="quantile: weights of shape \\(3,\\) must have the array's shape"):
        da.quantile(x, 0.5, axis=0, method="inverted_cdf", weights=np.ones(3))
    with pytest.raises(ValueError, match="quantile: weights must be non-negative"):
        da.quantile(x, 0.5, method="inverted_cdf", weights=-np.ones(A.shape)).compute()


W = rng.random(A.shape)
W[2, :5] = 0  # zero weights: leading zeros of a lane's cdf


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("q", [0.5, [0.0, 0.1, 0.25, 0.9, 1.0]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_weighted_quantile_matches_numpy_inverted_cdf(axis, q, keepdims, scheduler):
    x = da.from_array(A, chunks=UNEVEN)
    w = da.from_array(W, chunks=((10, 13), (3, 14)))  # other chunks than x's
    got = da.quantile(x, q, axis=axis, method="inverted_cdf", weights=w, keepdims=keepdims)
    expected = np.quantile(A, q, axis=axis, method="inverted_cdf", weights=W, keepdims=keepdims)
    assert_eq(got, expected, schedulers=(scheduler,))


@pytest.mark.parametrize("axis", [0, 1])
def test_weighted_percentile_with_1d_weights_along_the_axis(axis, scheduler):
    x = da.from_array(A, chunks=UNEVEN)
    weights = W[:, 0] if axis == 0 else W[0]
    got = da.percentile(x, [5, 50, 95], axis=axis, method="inverted_cdf", weights=weights)
    expected = np.percentile(A, [5, 50, 95], axis=axis, method="inverted_cdf", weights=weights)
    assert_eq(got, expected, schedulers=(scheduler,))
    assert_eq(np.percentile(x, 50, axis=axis, method="inverted_cdf", weights=weights),  # NumPy dispatch
              np.percentile(A, 50, axis=axis, method="inverted_cdf", weights=weights))


def test_weighted_nanquantile_matches_numpy():
    x = da.from_array(A_NAN, chunks=UNEVEN)
    got = da.nanquantile(x, [0.2, 0.8], axis=1, method="inverted_cdf", weights=W)
    assert_eq(got, np.nanquantile(A_NAN, [0.2, 0.8], axis=1, method="inverted_cdf", weights=W))


INTS_3D = np.random.default_rng(3).integers(0, 2, size=(11, 3, 2))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_unique_along_an_axis_matches_numpy(axis, scheduler):
    x = da.from_array(INTS_3D, chunks=((4, 1, 6), (2, 1), (1, 1)))
    got = da.unique(x, axis=axis, return_index=True, return_inverse=True, return_counts=True)
    expected = np.unique(INTS_3D, axis=axis, return_index=True, return_inverse=True, return_counts=True)
    assert math.isnan(got[0].shape[axis % 3])  # data-dependent length
    for g, e in zip(got, expected):
        assert_eq(g, e, schedulers=(scheduler,))
    assert_eq(da.unique(x, axis=axis), np.unique(INTS_3D, axis=axis), schedulers=(scheduler,))


def test_unique_rows_of_floats_matches_numpy():
    rows = np.round(np.random.default_rng(4).normal(size=(30, 2)), 0)
    x = da.from_array(rows, chunks=((7, 3, 20), (1, 1)))
    assert_eq(da.unique(x, axis=0), np.unique(rows, axis=0))
    values, counts = da.unique(x, axis=0, return_counts=True)
    assert int(counts.sum().compute()) == 30


@pytest.mark.parametrize("chunks", [7, (3, 4), ((20, 3), (1, 16))], ids=str)
def test_unique(chunks):
    ints = rng.integers(-5, 12, (23, 17))
    x = da.from_array(ints, chunks=chunks)
    u = da.unique(x)
    assert math.isnan(u.chunks[0][0])
    assert_eq(u, np.unique(ints))
    got = da.unique(x, return_index=True, return_inverse=True, return_counts=True)
    expected = np.unique(ints, return_index=True, return_inverse=True, return_counts=True)
    for g, e in zip(got, expected):
        assert_eq(g, e)
    assert got[2].chunks == x.chunks  # the inverse keeps the input's blocks
    floats = da.from_array(A_NAN, chunks=UNEVEN)
    assert_eq(da.unique(floats), np.unique(A_NAN))  # NaNs collapse, as NumPy's equal_nan=True
    with pytest.raises(np.exceptions.AxisError, match="unique"):
        da.unique(x, axis=2)


def test_bincount():
    v = rng.integers(0, 9, 100)
    w = rng.random(100)
    x = da.from_array(v, chunks=((10, 40, 1, 49),))
    assert_eq(da.bincount(x), np.bincount(v))
    assert_eq(da.bincount(x, minlength=15), np.bincount(v, minlength=15))
    assert da.bincount(x, minlength=15).chunks == ((15,),)
    assert_eq(da.bincount(x, weights=da.from_array(w, chunks=30)), np.bincount(v, weights=w))
    with pytest.raises(ValueError, match="bincount: the values reach 8, beyond minlength=5"):
        da.bincount(x, minlength=5).compute()
    with pytest.raises(TypeError, match="bincount: x must hold integers"):
        da.bincount(da.from_array(w))


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("chunks", [((10, 40, 1, 49),), ((0, 50, 0, 50),), 100])
def test_bincount_negative_values_fail_with_a_clear_error(scheduler, chunks):
    v = rng.integers(0, 9, 100)
    v[60] = -3
    with pytest.raises(ValueError, match="negative"):
        np.bincount(v)
    lazy = da.bincount(da.from_array(v, chunks=chunks))  # builds: the values are not read until computed
    with pytest.raises(ValueError, match=r"bincount: x holds negative values \(such as -3\).*x - x.min\(\).*x\[x >= 0\]"):
        lazy.compute(scheduler=scheduler)
    x = da.from_array(v, chunks=chunks)
    with pytest.raises(ValueError, match=r"bincount: x holds negative values"):
        da.bincount(x[x != 5], weights=da.ones(100, chunks=chunks)[x != 5]).compute(scheduler=scheduler)
    assert_eq(da.bincount(x[x >= 0]), np.bincount(v[v >= 0]), schedulers=(scheduler,))  # the fix
    assert_eq(da.bincount(x - x.min()), np.bincount(v - v.min()), schedulers=(scheduler,))


@pytest.mark.parametrize("given", [[3, -1, 2], np.array([0, -2], dtype=np.int8), np.array([[-1]])[0]])
def test_bincount_negative_values_in_memory_refused_at_build_time(given):
    with pytest.raises(ValueError):
        np.bincount(given)
    with pytest.raises(ValueError, match=r"bincount: x holds negative values \(such as -\d\)"):
        da.bincount(given)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("chunks", [((10, 40, 1, 49),), ((0, 50, 0, 50),), 100])
def test_bincount_of_unknown_lengths_with_minlength_and_weights(scheduler, chunks):
    v = rng.integers(0, 9, 100)
    w = rng.random(100)
    x, weights = da.from_array(v, chunks=chunks), da.from_array(w, chunks=chunks)
    keep = x % 3 != 1
    kv, kw = v[v % 3 != 1], w[v % 3 != 1]
    assert np.isnan(x[keep].shape[0])
    assert_eq(da.bincount(x[keep]), np.bincount(kv), schedulers=(scheduler,))
    assert_eq(da.bincount(x[keep], minlength=12), np.bincount(kv, minlength=12), schedulers=(scheduler,))
    assert da.bincount(x[keep], minlength=12).chunks == ((12,),)
    # weights masked by the same boolean array pair block by block (Dask accepts these too)
    assert_eq(da.bincount(x[keep], weights=weights[keep]), np.bincount(kv, weights=kw), schedulers=(scheduler,))
    assert_eq(da.bincount(x[keep], weights=weights[keep], minlength=10), np.bincount(kv, weights=kw, minlength=10),
              schedulers=(scheduler,))
    assert_eq(x[keep] + weights[keep], kv + kw, schedulers=(scheduler,))  # elementwise pairs them likewise
    with pytest.raises(ValueError, match="bincount: the values reach 8, beyond minlength=4.*larger minlength"):
        da.bincount(x[keep], minlength=4).compute(scheduler=scheduler)
    for other in (weights, kw, weights[weights > 0.5]):  # unknown against known, or another mask
        with pytest.raises(ValueError, match=r"bincount: x of shape \(nan,\) and weights .* may not line up.*x\[m\], weights\[m\]"):
            da.bincount(x[keep], weights=other)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_histogram(scheduler):
    x = da.from_array(A, chunks=UNEVEN)
    w = rng.random(A.shape)
    for kwargs in [{"bins": 10, "range": (-2, 2)}, {"bins": np.array([-3, -1, 0, 0.5, 4])},
                   {"bins": 7, "range": (-1, 3), "density": True}]:
        counts, edges = da.histogram(x, **kwargs)
        expected, expected_edges = np.histogram(A, **kwargs)
        np.testing.assert_array_equal(edges, expected_edges)
        np.testing.assert_allclose(counts.compute(scheduler=scheduler), expected)
        assert counts.dtype == expected.dtype
    counts, _ = da.histogram(x, bins=5, range=(-1, 1), weights=da.from_array(w, chunks=6))
    assert_eq(counts, np.histogram(A, bins=5, range=(-1, 1), weights=w)[0])
    with pytest.raises(ValueError, match="histogram: with bins as an int, range="):
        da.histogram(x, bins=10)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_histogram_with_edges_as_a_chunkwise_array(scheduler):
    # As dask.array.histogram: the edges may be lazy; every block takes them whole, and they
    # come back lazy. Uneven blocks, an empty block, weights and density against NumPy.
    v = rng.normal(size=500)
    w = rng.random(500)
    blocks = ((120, 0, 200, 180),)
    x, wx = da.from_array(v, chunks=blocks), da.from_array(w, chunks=blocks)
    e = np.array([-3.0, -1, 0, 0.5, 2, 4])
    edges = da.from_array(e, chunks=2)
    for kwargs, np_kwargs in [({}, {}), ({"weights": wx}, {"weights": w}),
                              ({"weights": wx, "density": True}, {"weights": w, "density": True}),
                              ({"density": True}, {"density": True})]:
        counts, out_edges = da.histogram(x, bins=edges, **kwargs)
        expected = np.histogram(v, bins=e, **np_kwargs)[0]
        np.testing.assert_allclose(counts.compute(scheduler=scheduler), expected)
        assert counts.dtype == expected.dtype
        assert isinstance(out_edges, da.Array)
        np.testing.assert_array_equal(out_edges.compute(scheduler=scheduler), e)
    counts, _ = np.histogram(x, bins=edges)  # through NumPy's function
    assert_eq(counts, np.histogram(v, bins=e)[0])
    with pytest.raises(ValueError, match=r"histogram: range= must be None when bins is an array"):
        da.histogram(x, bins=edges, range=(0, 1))
    with pytest.raises(ValueError, match=r"histogram: bins as an array must be 1-d"):
        da.histogram(x, bins=da.ones((2, 2), chunks=1))
    with pytest.raises(ValueError, match=r"histogram: bins .* unknown chunk sizes"):
        da.histogram(x, bins=edges[edges > 0])


def test_histogram2d_and_dd():
    pts = rng.random((200, 3))
    s = da.from_array(pts, chunks=((50, 100, 50), (2, 1)))
    counts, edges = da.histogramdd(s, bins=(3, 4, 5), range=[(0, 1)] * 3)
    e_counts, e_edges = np.histogramdd(pts, bins=(3, 4, 5), range=[(0, 1)] * 3)
    assert_eq(counts, e_counts)
    for a, b in zip(edges, e_edges):
        np.testing.assert_array_equal(a, b)
    w = rng.random(200)
    counts, _ = da.histogramdd(s, bins=[np.linspace(0, 1, 4)] * 3, weights=da.from_array(w, chunks=70),
                               density=True)
    assert_eq(counts, np.histogramdd(pts, bins=[np.linspace(0, 1, 4)] * 3, weights=w, density=True)[0])
    xs, ys = da.from_array(pts[:, 0], chunks=33), da.from_array(pts[:, 1], chunks=33)
    h, xe, ye = da.histogram2d(xs, ys, bins=4, range=[(0, 1), (0, 1)])
    eh, exe, eye = np.histogram2d(pts[:, 0], pts[:, 1], bins=4, range=[(0, 1), (0, 1)])
    assert_eq(h, eh)
    np.testing.assert_array_equal(xe, exe)
    np.testing.assert_array_equal(ye, eye)


def test_digitize_searchsorted_isin():
    x = da.from_array(A, chunks=UNEVEN)
    bins = np.array([-1.0, 0.0, 0.3, 2.0])
    assert_eq(da.digitize(x, bins), np.digitize(A, bins))
    assert_eq(da.digitize(x, bins, right=True), np.digitize(A, bins, right=True))
    sorted_a = np.sort(rng.integers(0, 30, 57))
    s = da.from_array(sorted_a, chunks=((10, 0, 20, 27),))
    v = rng.integers(-2, 33, (6, 5))
    for side in ("left", "right"):
        assert_eq(da.searchsorted(s, da.from_array(v, chunks=4), side=side), np.searchsorted(sorted_a, v, side=side))
        assert_eq(da.searchsorted(sorted_a, da.from_array(v, chunks=4), side=side),
                  np.searchsorted(sorted_a, v, side=side))
    test = rng.integers(0, 40, 25)
    ints = rng.integers(0, 50, (9, 8))
    xi = da.from_array(ints, chunks=(4, 3))
    assert_eq(da.isin(xi, test), np.isin(ints, test))
    assert_eq(da.isin(xi, da.from_array(test, chunks=7)), np.isin(ints, test))
    assert_eq(da.isin(xi, da.from_array(test, chunks=7), invert=True), np.isin(ints, test, invert=True))


@pytest.mark.parametrize("rowvar", [True, False])
def test_cov_corrcoef(rowvar):
    m = rng.normal(size=(5, 40))
    y = rng.normal(size=(2, 40))
    if not rowvar:
        m, y = m.T, y.T
    x = da.from_array(m, chunks=(3, 11) if rowvar else (11, 3))
    assert_eq(da.cov(x, rowvar=rowvar), np.cov(m, rowvar=rowvar))
    assert_eq(da.cov(x, y, rowvar=rowvar, ddof=0), np.cov(m, y, rowvar=rowvar, ddof=0))
    assert_eq(da.corrcoef(x, rowvar=rowvar), np.corrcoef(m, rowvar=rowvar))
    assert_eq(np.cov(x, bias=True, rowvar=rowvar), np.cov(m, bias=True, rowvar=rowvar))
    v = da.from_array(m[0] if rowvar else m[:, 0], chunks=7)
    assert_eq(da.cov(v), np.cov(m[0] if rowvar else m[:, 0]))


def test_take_along_axis():
    x = da.from_array(A, chunks=UNEVEN)
    for axis in (0, 1):
        idx = np.argsort(A, axis=axis)
        assert_eq(da.take_along_axis(x, da.from_array(idx, chunks=UNEVEN), axis=axis),
                  np.take_along_axis(A, idx, axis=axis))
    picks = rng.integers(-17, 17, (23, 3))
    assert_eq(da.take_along_axis(x, picks, axis=1), np.take_along_axis(A, picks, axis=1))
    assert_eq(da.take_along_axis(x, np.array([[0], [5]])[:1], axis=0), np.take_along_axis(A, np.array([[0]]), axis=0))
    with pytest.raises(ValueError, match="take_along_axis: indices has 1 dimensions"):
        da.take_along_axis(x, np.array([1]), axis=0)


def test_unique_with_distinct_nans_matches_numpy(scheduler):
    x = da.from_array(A_NAN, chunks=UNEVEN)
    got = da.unique(x, return_index=True, return_inverse=True, return_counts=True, equal_nan=False)
    expected = np.unique(A_NAN, return_index=True, return_inverse=True, return_counts=True, equal_nan=False)
    for g, e in zip(got, expected):
        assert_eq(g, e, schedulers=(scheduler,))
    with pytest.raises(NotImplementedError, match="unique: equal_nan=False is supported for real floating"):
        da.unique(x.astype("complex128"), equal_nan=False)


@pytest.mark.parametrize("dtype", ["i1", "u1", "i2", "u4", "i8", "u8"])
def test_histogram_of_integers_matches_numpy_on_and_off_the_integer_path(dtype):
    from chunkwise.array.counting import integer_bins

    info = np.iinfo(dtype)
    low, high = max(int(info.min), -300), min(int(info.max), 300)
    data = rng.integers(low, high, 1000, endpoint=True).astype(dtype)
    data[:4] = [low, high, max(low, 0), min(high, 100)]  # values on the edges
    x = da.from_array(data, chunks=((300, 0, 450, 250),))
    cases = [(20, (0, 100)), (4, (-40, 40)), (3, (0, 100)), (7, (-7, 0)), (1, (0, 1)), (50, (0, 150))]
    fast = 0
    for bins, range_ in cases:
        if dtype.startswith("u") and range_[0] < 0:
            continue
        fast += integer_bins(np.dtype(dtype), bins, range_) is not None
        expected = np.histogram(data, bins=bins, range=range_)[0]
        counts = da.histogram(x, bins=bins, range=range_)[0]
        np.testing.assert_array_equal(counts.compute(scheduler="sync"), expected)
        assert counts.dtype == expected.dtype
    # the fast path is taken where it applies (uint64 always goes through NumPy)
    assert (fast > 0) == (dtype != "u8")


@pytest.mark.parametrize("dtype", ["i1", "i2", "u2", "i4", "i8"])
def test_integer_histogram_by_slabs_matches_numpy(dtype):
    from chunkwise.array.counting import integer_histogram

    info = np.iinfo(dtype)
    data = rng.integers(max(int(info.min), -200), min(int(info.max), 200), 5000, endpoint=True).astype(dtype)
    data[1000:1400] = rng.integers(0, 99, 400)  # slabs wholly inside the range, below the top edge
    data[2000] = 100  # the top edge in one slab only
    for low, width, nbins in [(0, 10, 10), (-50, 25, 4), (3, 1, 97), (0, 1, 1)]:
        high = low + width * nbins
        expected = np.histogram(data, bins=nbins, range=(low, high))[0]
        for slab in (7, 400, 1 << 17):
            np.testing.assert_array_equal(integer_histogram(data, low, width, nbins, slab=slab), expected)


def test_integer_histogram_allocates_nothing_of_the_blocks_size():
    import tracemalloc

    from chunkwise.array.counting import integer_histogram

    data = rng.integers(0, 1_000_000, 2_000_000)  # 16 MB
    expected = np.histogram(data, bins=100, range=(0, 1_000_000))[0]
    tracemalloc.start()
    try:
        counts = integer_histogram(data, 0, 10_000, 100)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(counts, expected)
    assert peak < data.nbytes / 8  # one cache-sized slab buffer, not an index array per element
