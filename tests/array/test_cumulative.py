"""Cumulative sums and products and diff against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq, with_unknown_chunks

A = np.arange(60, dtype="f8").reshape(4, 15) - 20.5
CHUNKS = ((1, 3), (4, 0, 5, 6))  # uneven, with an empty block


def _x(a=A, chunks=CHUNKS):
    return da.from_array(a, chunks=chunks)





def _unknown(a, chunks, axes):
    return with_unknown_chunks(da.from_array(a, chunks=chunks), axes)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumulative(name, axis):
    a = (A / 20)[:, :9]
    a[1, 2] = np.nan
    x = da.from_array(a, chunks=((1, 0, 3), (2, 3, 0, 4)))
    assert_eq(getattr(da, name)(x, axis=axis), getattr(np, name)(a, axis=axis))


def test_cumulative_1d_and_ints():
    a = np.arange(1, 20, dtype="i4")
    x = da.from_array(a, chunks=4)
    assert_eq(da.cumsum(x), np.cumsum(a))
    assert_eq(x.cumprod(dtype="f8"), np.cumprod(a, dtype="f8"))
    assert_eq(np.cumsum(x > 5), np.cumsum(a > 5))
    assert_eq(np.add.accumulate(x), np.add.accumulate(a))
    assert_eq(da.cumsum(da.from_array(np.ones(0), chunks=2)), np.cumsum(np.ones(0)))


def test_cumsum_axis_none_flattens():
    x = _x()
    assert_eq(da.cumsum(x), np.cumsum(A))


def test_cumulative_unknown_chunks():
    a = np.arange(10.0)
    unknown = _unknown(a, 3, (0,))
    assert np.isnan(unknown.cumsum(axis=0).shape[0])
    np.testing.assert_array_equal(unknown.cumsum(axis=0).compute(), np.cumsum(a))


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_diff(n, axis):
    a = (np.arange(40) ** 2).reshape(4, 10)
    x = da.from_array(a, chunks=((1, 0, 3), (1, 3, 0, 1, 5)))
    assert_eq(da.diff(x, n=n, axis=axis), np.diff(a, n=n, axis=axis))
    assert_eq(np.diff(x, n=n, axis=axis), np.diff(a, n=n, axis=axis))


def test_diff_bool_and_errors():
    a = np.array([True, False, False, True])
    assert_eq(da.diff(da.from_array(a, chunks=1)), np.diff(a))
    assert_eq(da.diff(da.from_array(np.ones(0), chunks=1)), np.diff(np.ones(0)))
    with pytest.raises(ValueError, match="non-negative"):
        da.diff(da.from_array(a), n=-1)
    with pytest.raises(ValueError, match="at least one dimensional"):
        da.diff(da.from_array(np.array(1.0)))


def test_diff_prepend_append():
    a = np.arange(12).reshape(3, 4) ** 2
    x = da.from_array(a, chunks=2)
    assert_eq(da.diff(x, prepend=0), np.diff(a, prepend=0))
    assert_eq(da.diff(x, axis=0, append=np.ones((1, 4), int)), np.diff(a, axis=0, append=np.ones((1, 4), int)))


# --- object dtype (issue 15, item 2) -------------------------------------------------------------


def test_object_dtype_cumulative_match_numpy(scheduler):
    from decimal import Decimal
    from fractions import Fraction

    datas = [
        np.array([1, 2.5, 3, 4.25, 5, 0.5], dtype=object),
        np.array([2**70, 3, 2**65, 7, 1, 2**64], dtype=object),
        np.array([Decimal("1.1"), Decimal("2.2"), Decimal("0.5"), Decimal(3), Decimal("0.25"), Decimal(7)], dtype=object),
        np.array([Fraction(1, 3), Fraction(2, 7), Fraction(5), Fraction(1, 9), Fraction(3, 4), Fraction(2)], dtype=object),
    ]
    for data in datas:
        for a in (data, data.reshape(2, 3)):
            for chunks in [((1, 1), (2, 1)) if a.ndim == 2 else ((1, 3, 2),), -1]:
                for name in ["cumsum", "cumprod", "nancumsum", "nancumprod", "diff"]:
                    for axis in ([None, 0, 1] if a.ndim == 2 else [None, 0]):
                        if name == "diff" and axis is None:
                            continue
                        expected = getattr(np, name)(a, axis=-1 if axis is None and name == "diff" else axis)
                        x = getattr(da, name)(da.from_array(a, chunks=chunks), axis=axis)
                        got = x.compute(scheduler=scheduler)
                        assert x.dtype == expected.dtype == got.dtype == object
                        assert got.shape == expected.shape
                        assert [type(v) for v in got.ravel()] == [type(v) for v in expected.ravel()]
                        assert list(got.ravel()) == list(expected.ravel()), (name, axis, got, expected)


def test_cumsum_of_str_objects_concatenates_in_order(scheduler):
    data = np.array(list("badce"), dtype=object)
    got = da.cumsum(da.from_array(data, chunks=2)).compute(scheduler=scheduler)
    assert list(got) == ["b", "ba", "bad", "badc", "badce"] == list(np.cumsum(data))


@pytest.mark.parametrize("method", ["sequential", "blelloch"])
def test_cumsum_and_cumprod_take_dasks_method(method):
    # Dask's scan algorithms give the same values; xarray's ffill(limit=) passes method=
    x = _x()
    assert_eq(x.cumsum(axis=1, method=method), np.cumsum(A, axis=1))
    assert_eq(x.cumprod(axis=0, method=method), np.cumprod(A, axis=0))
    with pytest.raises(ValueError, match="cumsum: method must be 'sequential' or 'blelloch'"):
        x.cumsum(axis=0, method="parallel")
