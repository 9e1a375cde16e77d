"""The generic reductions of a masked array (``x.sum()``, ``da.mean(x)``, ``np.max(x)``, ...) against
``numpy.ma`` on the same data, and masked-ness in the plan (``chunkwise.array.masks``).

On main these reductions raised a ``TypeError`` pointing to ``da.ma.*``; NumPy and Dask give the
mask-respecting answer (``masked_invalid([1, -1, 3, nan]).sum() == 3.0``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.masks import is_masked

SCHEDULERS = ("sync", "threads")
rng = np.random.default_rng(7)

# 9 x 8 floats: NaNs and values below -1 masked, row 4 and column 2 masked whole, block (rows 5-7,
# columns 5-7) masked whole; uneven chunks with an empty block on each axis.
F = rng.normal(size=(9, 8))
F[rng.random(F.shape) < 0.15] = np.nan
F[4, :] = np.nan
F[:, 2] = -7.0
F[5:8, 5:8] = -3.0
CHUNKS = ((3, 0, 2, 3, 1), (2, 3, 0, 3))


def float_pair():
    x = da.from_array(F, chunks=CHUNKS)
    return (da.ma.masked_less(da.ma.masked_invalid(x), -1.0),
            np.ma.masked_less(np.ma.masked_invalid(F), -1.0))


def int_pair():
    data = rng.integers(-3, 6, size=(9, 8))
    data[:, 6] = 0  # a column that masked_equal(0) masks whole
    x = da.from_array(data, chunks=CHUNKS)
    return da.ma.masked_equal(x, 0), np.ma.masked_equal(data, 0)


def bool_pair():
    data = rng.random((9, 8)) < 0.5
    mask = rng.random((9, 8)) < 0.3
    mask[2, :] = True
    x = da.from_array(data, chunks=CHUNKS)
    return da.ma.masked_array(x, mask=mask), np.ma.masked_array(data, mask=mask)


def unmasked_pair():
    # a masked array with nothing masked: the fast path of the mask-aware kernels
    x = da.from_array(np.nan_to_num(F), chunks=CHUNKS)
    return da.ma.masked_array(x), np.ma.masked_array(np.nan_to_num(F))


PAIRS = {"float": float_pair, "int": int_pair, "bool": bool_pair, "unmasked": unmasked_pair}


def check(got, expected, dtype=True):
    """``got`` (a chunkwise array) computes to ``expected`` (numpy.ma's answer) on every scheduler."""
    assert is_masked(got) or np.ndim(expected) == 0 or not np.ma.is_masked(expected)
    for scheduler in SCHEDULERS:
        value = got.compute(scheduler=scheduler)
        assert np.shape(value) == np.shape(expected) == tuple(got.shape)
        mask = np.ma.getmaskarray(expected)
        np.testing.assert_array_equal(np.ma.getmaskarray(value), mask)
        if dtype:
            assert np.asarray(np.ma.getdata(value)).dtype == got.dtype
            assert got.dtype == np.asarray(np.ma.getdata(expected)).dtype
        keep = ~mask
        np.testing.assert_allclose(
            np.asarray(np.ma.getdata(value))[keep], np.asarray(np.ma.getdata(expected))[keep],
            rtol=1e-10, atol=1e-12,
        )


AXES = [None, 0, 1, -1, (0, 1)]
NUMERIC = ["sum", "prod", "mean", "min", "max", "var", "std", "ptp"]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("kind", ["float", "int", "unmasked"])
@pytest.mark.parametrize("name", NUMERIC)
def test_methods_match_numpy_ma(name, kind, axis):
    m, e = PAIRS[kind]()
    if name == "prod":  # keep the products small
        m, e = m / 4 if kind != "int" else m % 3, e / 4 if kind != "int" else e % 3
    expected = getattr(e, name)(axis=axis)
    check(getattr(m, name)(axis=axis), expected)


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("name", ["sum", "min", "max", "any", "all", "mean", "argmin", "argmax"])
def test_bool_data(name, axis):
    m, e = bool_pair()
    check(getattr(m, name)(axis=axis), getattr(e, name)(axis=axis))


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("name", ["sum", "mean", "min", "max", "var", "std", "any", "all", "prod"])
def test_da_and_numpy_functions_match_numpy_ma(name, axis):
    m, e = float_pair()
    expected = getattr(np.ma, name)(e, axis=axis)
    check(getattr(da, name)(m, axis=axis), expected)
    check(getattr(np, name)(m, axis=axis), expected)  # through __array_function__


@pytest.mark.parametrize("axis", [None, 1])
@pytest.mark.parametrize("name", ["sum", "mean", "min", "max", "var", "argmax"])
def test_keepdims(name, axis):
    m, e = float_pair()
    check(getattr(m, name)(axis=axis, keepdims=True), getattr(e, name)(axis=axis, keepdims=True))


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_ddof_masks_where_count_is_at_most_ddof(ddof, axis):
    m, e = float_pair()
    check(m.var(axis=axis, ddof=ddof), e.var(axis=axis, ddof=ddof))
    check(da.std(m, axis=axis, ddof=ddof), np.ma.std(e, axis=axis, ddof=ddof))


def test_all_masked_results_are_masked():
    m, e = float_pair()
    total = m.sum(axis=1).compute()
    assert np.ma.getmaskarray(total)[4] and not np.ma.getmaskarray(total)[0]  # row 4 is masked whole
    assert np.ma.getmaskarray(m.max(axis=0).compute())[2]  # column 2 too
    nothing = da.ma.masked_all((5, 3), chunks=2)
    for name in ["sum", "mean", "min", "max", "std"]:
        assert getattr(nothing, name)().compute() is np.ma.masked
        assert getattr(np.ma.masked_all((5, 3)), name)() is np.ma.masked


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("name", ["argmin", "argmax"])
def test_arg_reductions_skip_masked_values(name, axis):
    for pair in (float_pair, int_pair):
        m, e = pair()
        got = getattr(m, name)(axis=axis)
        expected = getattr(e, name)(axis=axis)
        for scheduler in SCHEDULERS:
            np.testing.assert_array_equal(got.compute(scheduler=scheduler), expected)
        np.testing.assert_array_equal(getattr(np, name)(m, axis=axis).compute(), expected)


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_keeps_the_mask(name, axis):
    m, e = float_pair()
    m, e = m / 2, e / 2
    check(getattr(m, name)(axis=axis), getattr(e, name)(axis=axis))
    check(getattr(np, name)(m, axis=axis), getattr(np.ma, name)(e, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize(
    "name", ["nansum", "nanmean", "nanmin", "nanmax", "nanvar", "nanstd", "nanprod", "nancumsum"]
)
def test_nan_versions_skip_masked_and_nan(name, axis):
    # NaNs left unmasked beside masked values (no lane is all NaN)
    data = np.round(rng.normal(size=(9, 8)), 1) / 2
    data[rng.random(data.shape) < 0.2] = np.nan
    data[:, 0] = 0.25
    data[3, :] = 5.0  # masked whole by masked_greater(1.5)
    m = da.ma.masked_greater(da.from_array(data, chunks=CHUNKS), 1.5)
    e = np.ma.masked_greater(data, 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check(getattr(np, name)(m, axis=axis), getattr(np, name)(e, axis=axis))
        check(getattr(da, name)(m, axis=axis), getattr(np, name)(e, axis=axis))


@pytest.mark.parametrize("axis", [0, 1])
def test_count_nonzero_counts_unmasked_values(axis):
    m, e = int_pair()
    check(da.count_nonzero(m, axis=axis), np.count_nonzero(e, axis=axis))
    # axis=None: the unmasked non-zero values too (NumPy's own reads the data there)
    assert int(da.count_nonzero(m).compute()) == int(np.count_nonzero(e, axis=(0, 1)))


def test_three_dimensions_and_axis_tuples():
    data = rng.normal(size=(4, 5, 6))
    data[rng.random(data.shape) < 0.3] = np.nan
    data[:, 1, :] = np.nan
    m = da.ma.masked_invalid(da.from_array(data, chunks=(3, (2, 0, 3), 4)))
    e = np.ma.masked_invalid(data)
    for axis in [(0, 2), (1, 2), (0, 1), -2]:
        for name in ["sum", "mean", "max", "std"]:
            check(getattr(m, name)(axis=axis), getattr(e, name)(axis=axis))
        check(m.mean(axis=axis, keepdims=True), e.mean(axis=axis, keepdims=True))


def test_the_issue_example():
    x = da.from_array(np.array([1.0, -1.0, 3.0, np.nan]), chunks=2)
    assert float(da.ma.masked_invalid(x).sum()) == 3.0 == float(np.ma.masked_invalid([1, -1, 3, np.nan]).sum())
    assert float(np.mean(da.ma.masked_invalid(x))) == 1.0


def test_average():
    m, e = float_pair()
    weights = rng.random(8)
    for axis in [None, 0, 1]:
        check(da.ma.average(m, axis=axis), np.ma.average(e, axis=axis))
    check(da.average(m, axis=1, weights=weights), np.ma.average(e, axis=1, weights=weights))
    full = rng.random(F.shape)
    check(da.ma.average(m, axis=0, weights=full), np.ma.average(e, axis=0, weights=full))
    avg, total = da.ma.average(m, axis=1, returned=True)
    expected_avg, expected_total = np.ma.average(e, axis=1, returned=True)
    check(avg, expected_avg)
    np.testing.assert_array_equal(total.compute(), np.ma.getdata(expected_total))


# --- plan rewrites keep masks -----------------------------------------------------------------


@pytest.mark.parametrize("rewrites", [True, False])
def test_shared_pass_and_rewrites_keep_masks(rewrites):
    m, e = float_pair()
    with chunkwise.config.set({"optimization.array_rewrites": rewrites}):
        results = da.compute(m.sum(axis=0), m.mean(axis=0), m.std(axis=0), m.min(axis=0), m.max(axis=0))
        for got, name in zip(results, ["sum", "mean", "std", "min", "max"]):
            expected = getattr(e, name)(axis=0)
            np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
            np.testing.assert_allclose(got.compressed(), expected.compressed(), rtol=1e-12)
        # a dropped rechunk, a transpose and a reshape below the reduction
        check(m.rechunk((2, 5)).sum(axis=0), e.sum(axis=0))
        check(m.T.sum(axis=0), e.T.sum(axis=0))
        check(m.reshape(8, 9).mean(), e.reshape(8, 9).mean())
        check((m ** 2).sum(axis=0), (e ** 2).sum(axis=0))
        rows = np.nan_to_num(F[:, 0], nan=1.0) > 0
        check(m[rows].sum(), e[rows].sum())  # a reduction of a boolean selection


@pytest.mark.parametrize("kind", ["float", "int", "unmasked"])
@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_shared_pass_over_every_axis(kind, scheduler):
    # one selection of the unmasked values per block feeds every member (reductions.masked_partials)
    m, e = PAIRS[kind]()
    names = ["sum", "mean", "std", "min", "max", "var", "prod", "any"]
    got = da.compute(*(getattr(m, name)() for name in names), np.nanmean(m), scheduler=scheduler)
    expected = [getattr(e, name)() for name in names] + [np.nanmean(e)]
    for value, want in zip(got, expected):
        assert np.isclose(float(value), float(want), rtol=1e-10)
    nothing = da.ma.masked_all((5, 3), chunks=2)
    assert all(v is np.ma.masked for v in da.compute(nothing.sum(), nothing.std(), nothing.max()))
    rows = F[:, 0] > 0
    s, sd = da.compute(m[rows].sum(), m[rows].std(), scheduler=scheduler)
    assert np.isclose(s, e[rows].sum()) and np.isclose(sd, e[rows].std())


# --- masked-ness in the plan ---------------------------------------------------------------------


def test_masked_is_known_at_build_time():
    x = da.from_array(F, chunks=CHUNKS)
    m = da.ma.masked_invalid(x)
    assert not is_masked(x) and is_masked(m)
    kept = [m + 1, np.sin(m), m[1:5, ::2], m[[0, 3]], m.T, m.reshape(72), m.rechunk(4), m.astype("f4"),
            da.concatenate([x, m]), da.stack([m, m]), m.map_blocks(lambda b: b * 2), m.persist(),
            m.rechunk(3).map_overlap(lambda b: b, depth=1, boundary="none")]
    assert all(is_masked(a) for a in kept)
    dropped = [da.ma.filled(m, 0), da.ma.getdata(m), da.ma.getmaskarray(m), m.argmax(axis=0)]
    assert not any(is_masked(a) for a in dropped)
    assert is_masked(da.from_array(np.ma.masked_invalid(F), chunks=4))
    assert "chunktype=numpy.MaskedArray" in repr(m) and "chunktype=numpy.ndarray" in repr(x)


def test_map_blocks_declares_masked_output_with_meta():
    x = da.from_array(F, chunks=CHUNKS)
    undeclared = x.map_blocks(np.ma.masked_invalid)
    assert not is_masked(undeclared)
    with pytest.raises(TypeError, match=r"meta=np\.ma\.masked_array"):
        undeclared.sum().compute()  # blocks the plan did not know were masked
    declared = x.map_blocks(np.ma.masked_invalid, meta=np.ma.masked_array(np.empty((0, 0))))
    assert is_masked(declared)
    check(declared.sum(axis=0), np.ma.masked_invalid(F).sum(axis=0))
    check(da.ma.masked_array(undeclared).mean(axis=1), np.ma.masked_invalid(F).mean(axis=1))


def test_operations_that_cannot_respect_a_mask_refuse_at_build_time():
    m, _ = float_pair()
    for build in [lambda: np.median(m, axis=0), lambda: da.percentile(m.ravel(), 50),
                  lambda: m.topk(2, axis=0), lambda: da.nanquantile(m, 0.5, axis=0)]:
        with pytest.raises(TypeError, match=r"masked array.*da\.ma\.filled"):
            build()
    assert float(np.median(da.ma.filled(m, 0.0))) == float(np.median(np.ma.filled(float_pair()[1], 0.0)))


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_indexing_broadcasting_and_padding_keep_masks(scheduler):
    m, e = float_pair()
    rows = F[:, 0] > 0

    def same(got, expected):
        value = got.compute(scheduler=scheduler)
        assert isinstance(value, np.ma.MaskedArray)
        np.testing.assert_array_equal(np.ma.getmaskarray(value), np.ma.getmaskarray(expected))
        np.testing.assert_array_equal(value.filled(0), expected.filled(0))

    same(m[[0, 4, 2, 8]], e[[0, 4, 2, 8]])
    same(m[:, [7, 2, 2]], e[:, [7, 2, 2]])
    same(m[rows], e[rows])
    same(da.broadcast_to(m[4:6, :1], (2, 5)), np.ma.masked_array(
        np.broadcast_to(e[4:6, :1].data, (2, 5)), mask=np.broadcast_to(np.ma.getmaskarray(e[4:6, :1]), (2, 5))))
    same(da.pad(m, 1), np.ma.masked_array(np.pad(e.filled(0), 1), mask=np.pad(np.ma.getmaskarray(e), 1)))
    plain = da.from_array(np.ones((2, 8)), chunks=2)
    same(da.concatenate([plain, m]), np.ma.concatenate([np.ma.masked_array(np.ones((2, 8))), e]))


# --- the rest of the ma API ------------------------------------------------------------------------


def test_ma_api_beside_numpy_ma():
    m, e = float_pair()
    check(da.ma.where(m > 0, m, -m), np.ma.where(e > 0, e, -e))
    check(da.ma.ones_like(m), np.ma.ones_like(e))
    check(da.ma.zeros_like(m), np.ma.zeros_like(e))
    assert da.ma.empty_like(m).shape == e.shape and is_masked(da.ma.empty_like(m))
    check(da.ma.masked_all_like(m), np.ma.masked_all_like(e))
    check(da.ma.masked_all((3, 4), dtype="i4", chunks=2), np.ma.masked_all((3, 4), dtype="i4"))
    np.testing.assert_array_equal(da.ma.getmask(m).compute(), np.ma.getmaskarray(e))
    np.testing.assert_array_equal(da.ma.compressed(m).compute(), e.compressed())
    for got, expected in zip(da.ma.nonzero(m > 0.5), np.ma.nonzero(e > 0.5)):
        np.testing.assert_array_equal(got.compute(), expected)
    assert int(da.ma.count_masked(m)) == int(np.ma.count_masked(e))
    np.testing.assert_array_equal(da.ma.count_masked(m, axis=0).compute(), np.ma.count_masked(e, axis=0))
    check(da.ma.count(m, axis=1), np.ma.count(e, axis=1))
    check(da.ma.ptp(m, axis=0), np.ma.ptp(e, axis=0))
    check(da.ma.argmax(m, axis=1), np.ma.argmax(e, axis=1))
    check(da.ma.cumsum(m, axis=0), np.ma.cumsum(e, axis=0))


def test_set_fill_value():
    m, e = float_pair()
    da.ma.set_fill_value(m, -99.0)
    np.ma.set_fill_value(e, -99.0)
    assert m.compute().fill_value == -99.0
    np.testing.assert_array_equal(da.ma.filled(m).compute(), np.ma.filled(e))
    with pytest.raises(ValueError, match="scalar"):
        da.ma.set_fill_value(m, np.zeros(2))
    with pytest.raises(TypeError):
        da.ma.set_fill_value(m, "text")


def test_masked_array_keeps_and_adds_masks():
    m, e = float_pair()
    extra = np.zeros(F.shape, dtype=bool)
    extra[0, :] = True
    check(da.ma.masked_array(m, mask=extra), np.ma.masked_array(e, mask=extra))
    check(da.ma.masked_array(m, fill_value=0.0, dtype="f4"), np.ma.masked_array(e, fill_value=0.0, dtype="f4"))


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("name", ["nanargmin", "nanargmax"])
def test_nan_arg_reductions_skip_masked_and_nan(name, axis):
    data = np.array([[1.0, np.nan, 3.0, 5.0], [np.nan, 2.0, -1.0, 0.0], [4.0, 4.0, 9.0, np.nan]])
    m = da.ma.masked_greater(da.from_array(data, chunks=2), 4.5)
    e = np.ma.masked_greater(data, 4.5)
    for scheduler in SCHEDULERS:
        np.testing.assert_array_equal(getattr(np, name)(m, axis=axis).compute(scheduler=scheduler),
                                      getattr(np, name)(e, axis=axis))


def test_searchsorted_of_a_masked_array_is_refused_at_build_time():
    # numpy.ma has no masked searchsorted (sort/argsort/partition are in test_ma_sorting.py)
    with pytest.raises(TypeError, match="masked array.*da.ma.filled"):
        da.searchsorted(da.ma.masked_less(da.arange(6, chunks=4), 2), np.array([3]))


@pytest.mark.parametrize("dtype", ["i1", "u1", "i2", "u2", "f2", "bool"])
@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_small_dtypes_with_numpys_default_fill_value_compute(dtype, scheduler):
    # numpy's default fill value (999999 for ints) does not fit int8: assembling the blocks set it and failed
    data = (np.arange(10) % 7).astype(dtype)
    m = da.ma.masked_equal(da.from_array(data, chunks=((3, 0, 4, 3),)), data[1])
    expected = np.ma.masked_equal(data, data[1])
    got = m.compute(scheduler=scheduler)
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    np.testing.assert_array_equal(got.filled(0), expected.filled(0))
    assert got.dtype == expected.dtype
    custom = da.ma.masked_array(da.from_array(data, chunks=4), mask=data == data[1], fill_value=data[2])
    assert custom.compute(scheduler=scheduler).fill_value == data[2]
