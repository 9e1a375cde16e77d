"""``chunkwise.array.ma``: masked arrays against ``numpy.ma`` on the same data."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da

rng = np.random.default_rng(3)
A = rng.normal(size=(13, 10))
A[rng.random(A.shape) < 0.1] = np.nan
A[2, 4] = np.inf
A[:, 7] = -5.0  # a column that masked_less(-1) masks whole
UNEVEN = ((4, 1, 8), (3, 7))


def assert_ma_equal(got, expected, schedulers=("sync", "threads")):
    for scheduler in schedulers:
        value = got.compute(scheduler=scheduler)
        expected_mask = np.ma.getmaskarray(expected)
        np.testing.assert_array_equal(np.ma.getmaskarray(value), expected_mask)
        np.testing.assert_allclose(np.ma.getdata(value)[~expected_mask],
                                   np.ma.getdata(expected)[~expected_mask], rtol=1e-12)
        assert np.asarray(value).dtype == got.dtype


def masked_pair():
    x = da.from_array(A, chunks=UNEVEN)
    m = da.ma.masked_less(da.ma.masked_invalid(x), -1.0)
    e = np.ma.masked_less(np.ma.masked_invalid(A), -1.0)
    return m, e


def test_constructors():
    x = da.from_array(A, chunks=UNEVEN)
    assert_ma_equal(da.ma.masked_invalid(x), np.ma.masked_invalid(A))
    assert_ma_equal(da.ma.masked_where(x > 0.5, x), np.ma.masked_where(A > 0.5, A))
    ints = rng.integers(0, 5, (9, 6))
    xi = da.from_array(ints, chunks=4)
    for name in ["masked_equal", "masked_not_equal", "masked_greater", "masked_greater_equal",
                 "masked_less", "masked_less_equal"]:
        assert_ma_equal(getattr(da.ma, name)(xi, 2), getattr(np.ma, name)(ints, 2))
    assert_ma_equal(da.ma.masked_inside(xi, 1, 3), np.ma.masked_inside(ints, 1, 3))
    assert_ma_equal(da.ma.masked_outside(xi, 1, 3), np.ma.masked_outside(ints, 1, 3))
    assert_ma_equal(da.ma.masked_values(x, -5.0), np.ma.masked_values(A, -5.0))
    mask = rng.random(A.shape) < 0.3
    assert_ma_equal(da.ma.masked_array(x, mask=da.from_array(mask, chunks=5)), np.ma.masked_array(A, mask=mask))
    assert_ma_equal(da.ma.masked_array(x, mask=mask), np.ma.masked_array(A, mask=mask))


def test_unmaking_masks():
    m, e = masked_pair()
    np.testing.assert_array_equal(da.ma.getmaskarray(m).compute(), np.ma.getmaskarray(e))
    np.testing.assert_array_equal(da.ma.filled(m, 9.0).compute(), np.ma.filled(e, 9.0))
    np.testing.assert_array_equal(da.ma.getdata(m).compute(), np.ma.getdata(e))
    assert type(da.ma.filled(m, 0.0).compute()) is np.ndarray
    fixed = da.ma.fix_invalid(da.from_array(A, chunks=UNEVEN), fill_value=-1.0)
    expected = np.ma.fix_invalid(A, fill_value=-1.0)
    assert_ma_equal(fixed, expected)
    np.testing.assert_array_equal(np.ma.getdata(fixed.compute()), np.ma.getdata(expected))


def test_arithmetic_keeps_masks():
    m, e = masked_pair()
    assert_ma_equal(m * 2 + 1, e * 2 + 1)
    assert_ma_equal(np.sqrt(abs(m)), np.sqrt(abs(e)))


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("name", ["sum", "mean", "min", "max", "count", "var", "std"])
def test_reductions_respect_masks(name, axis):
    m, e = masked_pair()
    got = getattr(da.ma, name)(m, axis=axis)
    expected = getattr(np.ma, name)(e, axis=axis)
    if axis is None:
        value = got.compute()
        np.testing.assert_allclose(np.ma.getdata(value), np.ma.getdata(expected), rtol=1e-12)
    else:
        assert_ma_equal(got, np.ma.asarray(expected))
        if name != "count":  # column 7 is masked whole: its result is masked
            assert bool(np.ma.getmaskarray(got.compute())[7]) == (axis == 0)


def test_ddof_and_keepdims():
    m, e = masked_pair()
    assert_ma_equal(da.ma.var(m, axis=0, ddof=1), np.ma.var(e, axis=0, ddof=1))
    assert_ma_equal(da.ma.sum(m, axis=1, keepdims=True), np.ma.sum(e, axis=1, keepdims=True))
    ints = np.ma.masked_equal(rng.integers(0, 4, (8, 5)), 0)
    xi = da.ma.masked_equal(da.from_array(ints.data, chunks=3), 0)
    assert_ma_equal(da.ma.mean(xi, axis=0), np.ma.mean(ints, axis=0))
    assert da.ma.mean(xi).dtype == np.float64


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_from_array_of_a_numpy_masked_array_keeps_its_mask(scheduler):
    # The mask was dropped silently (each block went through np.asarray): da.ma.sum counted the
    # masked values. Dask keeps masked blocks.
    data = np.ma.masked_array(np.arange(12.0).reshape(6, 2), mask=np.arange(12).reshape(6, 2) % 5 == 1)
    x = da.from_array(data, chunks=((2, 0, 3, 1), (1, 1)))
    out = x.compute(scheduler=scheduler)
    assert isinstance(out, np.ma.MaskedArray)
    np.testing.assert_array_equal(np.ma.getmaskarray(out), np.ma.getmaskarray(data))
    np.testing.assert_array_equal(out.filled(-1), data.filled(-1))
    assert float(da.ma.sum(x).compute(scheduler=scheduler)) == float(data.sum())
    np.testing.assert_array_equal(da.ma.getmaskarray(x).compute(scheduler=scheduler), np.ma.getmaskarray(data))
    assert float(x.sum().compute(scheduler=scheduler)) == float(data.sum())  # the generic one too
