"""``sort``/``argsort``/``partition``/``argpartition`` of masked arrays and ``da.ma.sort``/``da.ma.argsort``
against ``numpy.ma`` on the same data (masked values last; main refused masked input at build time).

A chunked axis always sorts stably, so it is compared with ``numpy.ma``'s ``kind="stable"``: a masked place
filled with the dtype's extreme value ties with a real extreme value and they keep their order.
"""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.masks import is_masked

SCHEDULERS = ("sync", "threads")
rng = np.random.default_rng(11)
I64 = np.iinfo(np.int64)

# uneven chunks with an empty block on each axis; block (rows 5-7, columns 5-7) masked whole, row 0
# and block (rows 0-2, columns 0-1) with nothing masked
CHUNKS = ((3, 0, 2, 3, 1), (2, 3, 0, 3))


def _mask(shape):
    mask = rng.random(shape) < 0.3
    mask[5:8, 5:8] = True
    mask[0, :] = False
    mask[0:3, 0:2] = False
    return mask


def _data(kind):
    if kind == "float":
        data = rng.normal(size=(9, 8)).round(1)
        data[rng.random(data.shape) < 0.15] = np.nan  # real NaNs tie with the NaN fill
        data[1, 3], data[6, 0], data[2, 7] = np.inf, -np.inf, np.nan
        return data
    if kind == "int":
        data = rng.integers(-3, 4, size=(9, 8)).astype(np.int64)
        data[rng.random(data.shape) < 0.2] = I64.max  # real extremes tie with the fill
        data[rng.random(data.shape) < 0.1] = I64.min
        return data
    return rng.random((9, 8)) < 0.5


def pair(kind, chunks=CHUNKS):
    data, mask = _data(kind), _mask((9, 8))
    return (da.ma.masked_array(da.from_array(data, chunks=chunks), mask=mask),
            np.ma.masked_array(data, mask=mask))


def check(got, expected):
    """``got`` computes to ``expected`` (a masked or plain NumPy array): data under the mask too."""
    assert is_masked(got) == isinstance(expected, np.ma.MaskedArray)
    for scheduler in SCHEDULERS:
        value = got.compute(scheduler=scheduler)
        assert value.shape == expected.shape == tuple(got.shape)
        assert np.asarray(np.ma.getdata(value)).dtype == got.dtype == expected.dtype
        np.testing.assert_array_equal(np.ma.getmaskarray(value), np.ma.getmaskarray(expected))
        np.testing.assert_array_equal(np.ma.getdata(value), np.ma.getdata(expected))


@pytest.mark.parametrize("endwith", [True, False])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("kind", ["float", "int", "bool"])
def test_sort_and_argsort_match_numpy_ma(kind, axis, endwith):
    m, e = pair(kind)
    check(da.ma.sort(m, axis=axis, endwith=endwith), np.ma.sort(e, axis=axis, endwith=endwith, kind="stable"))
    check(da.ma.argsort(m, axis=axis, endwith=endwith),
          np.ma.argsort(e, axis=axis, endwith=endwith, kind="stable"))
    if endwith:  # the generic functions and methods sort masked values last too
        check(da.sort(m, axis=axis), np.ma.sort(e, axis=axis, kind="stable"))
        check(np.sort(m, axis=axis), np.ma.sort(e, axis=axis, kind="stable"))
        check(m.argsort(axis=axis), np.ma.argsort(e, axis=axis, kind="stable"))


@pytest.mark.parametrize("axis", [None, 0, -1])
@pytest.mark.parametrize("kind", ["float", "int", "bool"])
def test_fill_value_overrides_endwith(kind, axis):
    m, e = pair(kind)
    fill = {"float": 0.0, "int": 1, "bool": False}[kind]
    check(da.ma.sort(m, axis=axis, endwith=False, fill_value=fill),
          np.ma.sort(e, axis=axis, endwith=False, fill_value=fill, kind="stable"))
    check(da.ma.argsort(m, axis=axis, fill_value=fill), np.ma.argsort(e, axis=axis, fill_value=fill, kind="stable"))


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1])
def test_3d(axis):
    data = rng.integers(-2, 3, size=(5, 6, 4)).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    mask = rng.random(data.shape) < 0.3
    mask[:2, :, :] = True  # an all-masked block on axis 0
    m = da.ma.masked_array(da.from_array(data, chunks=((2, 0, 3), (4, 2), (1, 3))), mask=mask)
    e = np.ma.masked_array(data, mask=mask)
    check(da.ma.sort(m, axis=axis), np.ma.sort(e, axis=axis, kind="stable"))
    check(da.ma.argsort(m, axis=axis), np.ma.argsort(e, axis=axis, kind="stable"))


@pytest.mark.parametrize("kind", ["float", "int", "bool"])
def test_one_block_axis_sorts_stably_and_argsorts_with_kind(kind):
    # a masked sort is always stable (its fast way needs no argsort); argsort uses NumPy's ``kind``
    m, e = pair(kind, chunks=((3, 0, 6), 8))
    for sort_kind in (None, "stable", "heapsort"):
        check(da.sort(m, axis=1, kind=sort_kind), np.ma.sort(e, axis=1, kind="stable"))
        check(da.ma.sort(m, axis=1, kind=sort_kind, endwith=False), np.ma.sort(e, axis=1, kind="stable", endwith=False))
    check(da.ma.argsort(m, axis=1, kind="heapsort"), np.ma.argsort(e, axis=1, kind="heapsort"))


def test_complex_takes_the_argsort_way():
    data = np.array([1 + 2j, 3 - 1j, np.inf + np.inf * 1j, 0j, 2 + 0j, -1j, 5 + 5j])
    mask = np.array([0, 1, 0, 0, 1, 0, 1], dtype=bool)
    m = da.ma.masked_array(da.from_array(data, chunks=((3, 0, 4),)), mask=mask)
    e = np.ma.masked_array(data, mask=mask)
    for endwith in (True, False):
        check(da.ma.sort(m, endwith=endwith), np.ma.sort(e, endwith=endwith, kind="stable"))
        check(da.ma.sort(m.rechunk(7), endwith=endwith), np.ma.sort(e, endwith=endwith, kind="stable"))


@pytest.mark.parametrize("mask", [True, False], ids=["all-masked", "nothing-masked"])
def test_all_or_nothing_masked_and_empty(mask):
    data = np.array([4.0, np.nan, -1.0, 4.0, 2.0, 0.0, 7.0])
    m = da.ma.masked_array(da.from_array(data, chunks=((2, 0, 3, 2),)), mask=mask)
    e = np.ma.masked_array(data, mask=mask)
    check(da.sort(m), np.ma.sort(e, kind="stable"))
    check(da.ma.argsort(m, endwith=False), np.ma.argsort(e, endwith=False, kind="stable"))
    empty = da.ma.masked_array(da.from_array(np.zeros((0, 3)), chunks=2), mask=False)
    check(da.sort(empty, axis=0), np.ma.sort(np.ma.masked_array(np.zeros((0, 3)), mask=False), axis=0))


def test_in_place_sort_method():
    m, e = pair("float")
    m.sort(axis=0)
    check(m, np.ma.sort(e, axis=0, kind="stable"))


def _partition_holds(keys, k):
    """``keys`` (1-d, NaN last) is partitioned around ``k``."""
    whole = np.concatenate([np.sort(keys[:k]), keys[k:k + 1], np.sort(keys[k + 1:])])
    np.testing.assert_array_equal(whole, np.sort(keys))


@pytest.mark.parametrize("chunks", [((3, 0, 2, 3, 1), 8), CHUNKS], ids=["one-block-axis", "chunked-axis"])
@pytest.mark.parametrize("kind", ["float", "int"])
def test_partition_and_argpartition_in_numpy_ma_sort_order(kind, chunks):
    m, e = pair(kind, chunks=chunks)
    fill = np.nan if kind == "float" else I64.max
    keys = np.ma.filled(e, fill)
    for k in (0, 3, 7):
        part = da.partition(m, k, axis=1)
        assert is_masked(part)
        for scheduler in SCHEDULERS:
            got = part.compute(scheduler=scheduler)
            indices = da.argpartition(m, k, axis=1).compute(scheduler=scheduler)
            for row in range(e.shape[0]):
                _partition_holds(np.ma.filled(got[row], fill), k)
                _partition_holds(keys[row][indices[row]], k)
                np.testing.assert_array_equal(np.sort(indices[row]), np.arange(e.shape[1]))
                np.testing.assert_array_equal(np.sort(got[row].compressed()), np.sort(e[row].compressed()))


def test_masked_strings_need_a_fill_value_and_searchsorted_stays_refused():
    m = da.ma.masked_equal(da.from_array(np.array(["b", "a", "c", "a"]), chunks=2), "c")
    with pytest.raises(TypeError, match="ma.sort: cannot sort a masked array of dtype <U1.*fill_value="):
        da.ma.sort(m)
    check(da.ma.sort(m, fill_value="z"), np.ma.sort(np.ma.masked_equal(np.array(["b", "a", "c", "a"]), "c"),
                                                    fill_value="z", kind="stable"))
    with pytest.raises(TypeError, match="searchsorted: not supported on a masked array.*da.ma.filled"):
        da.searchsorted(da.ma.masked_less(da.arange(6, chunks=4), 2), np.array([3]))


@pytest.mark.parametrize("chunks", [((3, 0, 2, 3, 1), 8), CHUNKS], ids=["one-block-axis", "chunked-axis"])
def test_the_fill_value_is_kept(chunks):
    m, e = pair("float", chunks=chunks)
    da.ma.set_fill_value(m, -99.0)
    np.ma.set_fill_value(e, -99.0)
    for got in (da.sort(m, axis=1), da.partition(m, 2, axis=1)):
        for scheduler in SCHEDULERS:
            assert got.compute(scheduler=scheduler).fill_value == np.ma.sort(e, axis=1).fill_value == -99.0
