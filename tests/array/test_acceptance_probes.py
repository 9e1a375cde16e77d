"""Acceptance probes for issue 19 (arrays, part two): adversarial cases against NumPy/SciPy.

Each test pins a bug the audit found (it failed before its fix): empty chunks,
unknown chunk sizes, negative axes, 0-d and size-0 arrays, booleans and NaNs.
``assert_eq`` computes on both local schedulers.
"""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(19)

# --- sorting: an empty chunk on the sorted axis -------------------------------------------------


@pytest.mark.parametrize("axis", [0, -1])
def test_sort_argsort_partition_with_an_empty_chunk(axis):
    a = rng.integers(-5, 5, size=(9, 9)).astype(np.int16)
    x = da.from_array(a, chunks=((2, 0, 7), (3, 0, 6)))
    assert_eq(da.sort(x, axis=axis), np.sort(a, axis=axis))
    assert_eq(da.argsort(x, axis=axis, kind="stable"), np.argsort(a, axis=axis, kind="stable"))
    assert_eq(da.take(da.partition(x, 4, axis=axis), [4], axis=axis), np.partition(a, 4, axis=axis).take([4], axis=axis))


def test_sort_1d_with_nans_and_an_empty_chunk():
    a = rng.normal(size=50)
    a[[3, 17, 40]] = np.nan
    x = da.from_array(a, chunks=((7, 0, 13, 1, 29),))
    assert_eq(da.sort(x), np.sort(a))
    assert_eq(da.argsort(x, kind="stable"), np.argsort(a, kind="stable"))


# --- quantiles ------------------------------------------------------------------------------------


def test_nanquantile_with_an_empty_chunk_off_the_axis():
    c = rng.normal(size=(20, 6))
    c[2, 1] = np.nan
    x = da.from_array(c, chunks=((20,), (2, 0, 4)))  # numpy.nanquantile drops q's axis on a block with no lanes
    q = [0.0, 0.1, 0.5, 1.0]
    assert_eq(da.nanquantile(x, q, axis=0), np.nanquantile(c, q, axis=0))
    assert_eq(da.nanmedian(x, axis=0), np.nanmedian(c, axis=0))


@pytest.mark.parametrize("chunks", [(1, 5), (2, 2)])
def test_median_of_booleans_is_a_float_as_in_numpy(chunks):
    b = np.array([[True, False, True, False, True], [True, True, False, False, False]])
    x = da.from_array(b, chunks=chunks)
    assert_eq(da.median(x, axis=1), np.median(b, axis=1))
    assert_eq(da.nanmedian(x, axis=-1), np.nanmedian(b, axis=-1))


# --- unique of a 1-d array of unknown length (after boolean indexing) --------------------------


@pytest.mark.parametrize("kwargs", [{}, {"return_counts": True}, {"return_inverse": True}])
def test_unique_after_boolean_indexing(kwargs):
    a = rng.integers(-3, 6, size=40)
    x = da.from_array(a, chunks=((7, 0, 13, 1, 19),))
    picked = x[x > -2]
    assert np.isnan(picked.shape[0])
    got = da.unique(picked, **kwargs)
    expected = np.unique(a[a > -2], **kwargs)
    got, expected = (got, expected) if kwargs else ((got,), (expected,))
    for g, e in zip(got, expected):
        for scheduler in ("sync", "threads"):
            np.testing.assert_array_equal(g.compute(scheduler=scheduler), e)


def test_unique_with_first_indices_still_needs_known_sizes():
    x = da.from_array(np.arange(6), chunks=4)
    with pytest.raises(ValueError, match="unique: .*unknown chunk sizes"):
        da.unique(x[x > 2], return_index=True)


# --- fft ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2"])
def test_nd_fft_over_one_axis(name):
    a = rng.normal(size=(6, 8))
    x = da.from_array(a, chunks=((2, 0, 4), (8,)))
    assert_eq(getattr(da.fft, name)(x, axes=(-1,)), getattr(np.fft, name)(a, axes=(-1,)))


def test_fft2_errors_name_fft2():
    x = da.from_array(np.ones((6, 8)), chunks=(2, 8))
    with pytest.raises(ValueError, match=r"^fft2: axis 0 .* x.rechunk\(\{0: -1\}\)"):
        da.fft.fft2(x)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_fftfreq_takes_dask_chunks(name):
    f = getattr(da.fft, name)(9, d=0.5, chunks=2)
    assert f.chunks[0][0] == 2
    assert_eq(f, getattr(np.fft, name)(9, d=0.5))


# --- masked arrays: the generic reductions respect the mask, as numpy.ma and Dask ------------------


@pytest.mark.parametrize("reduce, numpy_reduce", [
    (lambda m: m.sum(), lambda e: e.sum()), (lambda m: da.mean(m, axis=0), lambda e: np.ma.mean(e, axis=0)),
    (lambda m: np.max(m), lambda e: np.max(e)), (lambda m: m.std(), lambda e: e.std()),
    (lambda m: m.argmax(), lambda e: e.argmax()),
    (lambda m: chunkwise.compute(m.sum(), m.mean())[0], lambda e: e.sum()),
], ids=["x.sum", "da.mean", "np.max", "x.std", "x.argmax", "shared-pass"])
@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_generic_reduction_of_a_masked_array_respects_the_mask(reduce, numpy_reduce, scheduler):
    # They used to count the masked values (nan), then to refuse; NumPy's m.sum() is 3.0.
    x = da.from_array(np.array([1.0, -1.0, 3.0, np.nan]), chunks=2)
    out = reduce(da.ma.masked_invalid(x))
    got = out.compute(scheduler=scheduler) if hasattr(out, "compute") else out
    expected = numpy_reduce(np.ma.masked_invalid([1.0, -1.0, 3.0, np.nan]))
    assert float(got) == pytest.approx(float(expected))


# --- the Array API namespace: device=, dir() of the submodules ----------------------------------


@pytest.mark.parametrize("make", [
    lambda d: da.asarray(np.ones(2), device=d), lambda d: da.zeros(3, device=d), lambda d: da.ones(3, device=d),
    lambda d: da.empty(3, device=d), lambda d: da.full(3, 1.0, device=d), lambda d: da.arange(3, device=d),
    lambda d: da.linspace(0, 1, 3, device=d), lambda d: da.eye(3, device=d),
    lambda d: da.zeros_like(da.ones(2), device=d), lambda d: da.ones_like(da.ones(2), device=d),
    lambda d: da.empty_like(da.ones(2), device=d), lambda d: da.full_like(da.ones(2), 2, device=d),
], ids=["asarray", "zeros", "ones", "empty", "full", "arange", "linspace", "eye", "zeros_like",
        "ones_like", "empty_like", "full_like"])
def test_creation_refuses_a_device_other_than_cpu(make):
    assert make("cpu").device == "cpu"
    assert make(None).device == "cpu"
    with pytest.raises(ValueError, match=r"^\w+: chunkwise arrays live on the device 'cpu' only, not 'cuda'"):
        make("cuda")


@pytest.mark.parametrize("module", [da.ma, da.random, da.linalg, da.fft])
def test_submodules_show_only_their_public_names(module):
    assert dir(module) == sorted(module.__all__)
    assert not {"np", "math", "Any", "functools"} & set(dir(module))


# --- map_overlap ---------------------------------------------------------------------------------


def test_map_overlap_allow_rechunk_false_refuses_blocks_smaller_than_the_depth():
    # map_overlap merged small blocks (with a warning) before it passed allow_rechunk=False on.
    x = da.from_array(np.arange(13.0), chunks=1)
    with pytest.raises(ValueError, match=r"map_overlap: blocks .* smaller than the depth 2.*allow_rechunk"):
        da.map_overlap(lambda b: b, x, depth=2, boundary="reflect", allow_rechunk=False)
    y = da.from_array(np.arange(13.0), chunks=5)  # blocks as long as the depth or longer: no refusal
    out = da.map_overlap(lambda b: b * 2, y, depth=2, boundary="reflect", allow_rechunk=False)
    np.testing.assert_array_equal(out.compute(), np.arange(13.0) * 2)


# --- xarray: rolling goes through sliding_window_view with Dask's automatic_rechunk= -------------


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("center", [False, True])
def test_xarray_rolling_on_chunkwise(scheduler, center):
    xr = pytest.importorskip("xarray")
    ref = xr.DataArray(rng.normal(size=(40, 3)), dims=("time", "x"))
    lazy = ref.chunk({"time": ((7, 0, 13, 20),)[0]}, chunked_array_type="chunkwise")
    for name in ("mean", "sum", "max", "std"):
        got = getattr(lazy.rolling(time=5, center=center), name)()
        assert isinstance(got.data, da.Array)
        xr.testing.assert_allclose(got.compute(scheduler=scheduler), getattr(ref.rolling(time=5, center=center), name)())
    windows = da.lib.stride_tricks.sliding_window_view(lazy.data, 5, axis=0, automatic_rechunk=False)
    assert_eq(windows, np.lib.stride_tricks.sliding_window_view(ref.values, 5, axis=0))


# --- quantiles of an array of unknown length: a clear error naming the operation -----------------


@pytest.mark.parametrize("call", [
    lambda m: da.median(m), lambda m: da.nanquantile(m, 0.3), lambda m: da.percentile(m, 30),
    lambda m: da.median(m[:, None], axis=0),
], ids=["median", "nanquantile", "percentile", "median-axis0"])
def test_quantile_of_unknown_length_names_the_operation(call):
    x = da.from_array(np.arange(10.0), chunks=3)
    with pytest.raises(ValueError, match=r"^(median|nanquantile|percentile): .*unknown chunk sizes"):
        call(x[x > 2])


def test_median_along_a_chunked_axis_with_unknown_rows_names_the_operation():
    y = da.from_array(np.arange(12.0).reshape(4, 3), chunks=2)
    with pytest.raises(ValueError, match=r"^median: .*unknown chunk sizes"):
        da.median(y[y[:, 0] > 2], axis=1)
    rows = np.arange(12.0).reshape(4, 3)
    picked = da.from_array(rows, chunks=(2, 3))
    assert_eq(da.median(picked[picked[:, 0] > 2], axis=1), np.median(rows[rows[:, 0] > 2], axis=1), check_chunks=False)


# --- sliding_window_view: NumPy's repeated axes and empty windows ---------------------------------


@pytest.mark.parametrize(("window", "axis"), [((2, 2), (1, 1)), ((2, 3, 2), (0, -2, 0)), (0, 0), ((0, 2), (1, 1)), (3, -1)])
def test_sliding_window_view_repeated_axes_and_empty_windows(window, axis):
    a = rng.normal(size=(7, 6, 5))
    x = da.from_array(a, chunks=((3, 0, 4), (2, 4), (5,)))
    expected = np.lib.stride_tricks.sliding_window_view(a, window, axis=axis)
    assert_eq(da.lib.stride_tricks.sliding_window_view(x, window, axis=axis), expected)


# --- quantiles of a 0-d array ---------------------------------------------------------------------


@pytest.mark.parametrize(("name", "q"), [("median", None), ("nanmedian", None), ("quantile", [0.2, 0.7]),
                                         ("percentile", 30), ("nanquantile", 0.5)])
def test_quantiles_of_a_0d_array(name, q):
    z = np.array(2.5)
    args = () if q is None else (q,)
    assert_eq(getattr(da, name)(da.from_array(z), *args), getattr(np, name)(z, *args))


# --- topk of an axis of unknown length (after boolean indexing) -----------------------------------


@pytest.mark.parametrize("k", [4, -3])
def test_topk_after_boolean_indexing(k):
    a = rng.normal(size=50)
    x = da.from_array(a, chunks=((7, 0, 13, 1, 29),))
    expected = np.sort(a[a > 0])[::-1][:k] if k > 0 else np.sort(a[a > 0])[:-k]
    assert_eq(da.topk(x[x > 0], k), expected)
    rows = np.arange(24.0).reshape(4, 6)
    y = da.from_array(rows, chunks=2)
    assert_eq(da.topk(y[y[:, 0] > 5], 2, axis=1), -np.sort(-rows[rows[:, 0] > 5], axis=1)[:, :2], check_chunks=False)


def test_topk_of_too_few_values_after_boolean_indexing_says_so():
    x = da.from_array(np.arange(10.0), chunks=3)
    with pytest.raises(ValueError, match=r"topk: \|k\|=3 is larger than axis 0 \(length 2\)"):
        da.topk(x[x > 7], 3).compute()
    with pytest.raises(ValueError, match="argtopk: .*unknown chunk sizes"):
        da.argtopk(x[x > 7], 3)


# --- cov with fweights/aweights (they were refused) -----------------------------------------------


@pytest.mark.parametrize("kwargs", [
    {"fweights": "f"}, {"aweights": "a"}, {"fweights": "f", "aweights": "a"}, {"fweights": "f", "aweights": "a", "ddof": 0},
    {"aweights": "a", "bias": True}, {"fweights": "f", "ddof": 3}, {"aweights": "a", "ddof": 2},
], ids=str)
@pytest.mark.parametrize("lazy_weights", [False, True])
def test_cov_with_frequency_and_analytic_weights(kwargs, lazy_weights):
    m = rng.normal(size=(4, 30))
    x = da.from_array(m, chunks=((1, 3), (7, 0, 23)))
    weights = {"f": np.arange(30) % 3, "a": np.linspace(0.1, 1, 30)}
    ours = {k: (v if k in ("ddof", "bias") else weights[v]) for k, v in kwargs.items()}
    lazy = {k: (da.from_array(v, chunks=11) if lazy_weights and k.endswith("weights") else v) for k, v in ours.items()}
    assert_eq(da.cov(x, **lazy), np.cov(m, **ours))
    assert_eq(da.cov(x.T, rowvar=False, **lazy), np.cov(m.T, rowvar=False, **ours))


def test_cov_weights_bad_input_fails_when_built():
    x = da.from_array(rng.normal(size=(4, 30)), chunks=7)
    with pytest.raises(TypeError, match="cov: fweights must be integers"):
        da.cov(x, fweights=np.linspace(0.1, 1, 30))
    with pytest.raises(ValueError, match="cov: aweights has 5 entries for 30 observations"):
        da.cov(x, aweights=np.ones(5))
    with pytest.raises(ValueError, match="cov: fweights must be 1-d"):
        da.cov(x, fweights=np.ones((2, 15), int))


# --- the dtype of a float32 quantile follows NumPy's (it depends on q's type) --------------------


@pytest.mark.parametrize("chunks", [40, 7], ids=["one-block", "chunked"])
@pytest.mark.parametrize(("name", "q"), [
    ("quantile", [0.3, 0.9]), ("quantile", 0.3), ("quantile", np.array([0.3])), ("quantile", np.float32(0.3)),
    ("nanquantile", [0.3]), ("nanquantile", 0.3), ("percentile", 30), ("percentile", [30]), ("median", None),
], ids=str)
def test_float32_quantile_dtype_follows_numpy(chunks, name, q):
    f = rng.normal(size=40).astype(np.float32)
    args = () if q is None else (q,)
    got = getattr(da, name)(da.from_array(f, chunks=chunks), *args)
    expected = getattr(np, name)(f, *args)
    assert got.dtype == expected.dtype
    assert_eq(got, expected, rtol=1e-6)


# --- isin against a set of unknown length ---------------------------------------------------------


def test_isin_against_a_set_picked_by_a_boolean_mask():
    a = rng.integers(-5, 5, size=40)
    x = da.from_array(a, chunks=((7, 0, 13, 1, 19),))
    assert_eq(da.isin(x, x[x > 2]), np.isin(a, a[a > 2]))
    for scheduler in ("sync", "threads"):
        np.testing.assert_array_equal(da.isin(x[x < 0], x[x > 2], invert=True).compute(scheduler=scheduler),
                                      np.isin(a[a < 0], a[a > 2], invert=True))
