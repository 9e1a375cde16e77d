"""Item assignment: ``x[index] = value``."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq
from chunkwise.core.expr import lower

# The module that defines ``setitem``.
setitem_module = importlib.import_module("chunkwise.array.assignment")

A3 = np.arange(7 * 6 * 5).reshape(7, 6, 5)


@pytest.mark.parametrize(
    "index, value",
    [
        (np.s_[1:6:2, ::-1, 2], -5),
        (np.s_[2:4], np.arange(5)),
        (np.s_[::-1, 1], np.arange(35).reshape(7, 5)),
        (np.s_[3, 2, 1], 99.7),  # cast to the array's dtype
        (np.s_[..., 0], np.arange(7)[:, None]),
        (np.s_[:], 0),
        (np.s_[4:4], 5),
    ],
)
def test_setitem_slices(index, value):
    x = da.from_array(A3.copy(), chunks=3)
    expected = A3.copy()
    x[index] = value
    expected[index] = value
    assert_eq(x, expected)


def test_setitem_with_chunkwise_value_and_masks():
    x = da.from_array(A3.copy(), chunks=3)
    expected = A3.copy()
    x[::-1, 1] = da.from_array(np.arange(35).reshape(7, 5), chunks=2)
    expected[::-1, 1] = np.arange(35).reshape(7, 5)
    assert_eq(x, expected)
    x[x > 100] = 0
    expected[expected > 100] = 0
    assert_eq(x, expected)
    mask = expected % 2 == 1
    x[mask] = -1
    expected[mask] = -1
    assert_eq(x, expected)
    x[expected[:, 0, 0] == 0] = 7  # a 1-d mask along the first axis
    expected[expected[:, 0, 0] == 0] = 7
    assert_eq(x, expected)
    y = da.from_array(np.arange(6.0), chunks=4)
    y[y > 2] = da.from_array(np.full(6, 0.5), chunks=3)
    assert_eq(y, np.where(np.arange(6.0) > 2, 0.5, np.arange(6.0)))


def test_setitem_touches_only_the_blocks_in_the_region():
    x = da.from_array(np.zeros((100, 100)), chunks=10)
    y = da.from_array(np.zeros((100, 100)), chunks=10)
    y[5:15, 95] = 1
    graph = lower([y.expr])
    assigned = [t for t in graph.values() if getattr(t, "func", None) is setitem_module._assign]
    assert len(assigned) == 2
    expected = np.zeros((100, 100))
    expected[5:15, 95] = 1
    assert_eq(y, expected)
    assert_eq(x, np.zeros((100, 100)))  # the original is unchanged by the other's assignment


def test_setitem_errors():
    x = da.from_array(np.arange(10), chunks=3)
    with pytest.raises(ValueError, match="could not broadcast"):
        x[:4] = np.arange(3)
    with pytest.raises(IndexError, match="out of bounds"):
        x[10] = 1
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[np.ones(4, dtype=bool)] = 1


# --- NumPy semantics for masks and integer arrays ------------------------------------------------

CHUNKS = ((2, 0, 3, 2), (1, 5), (2, 3))
M = A3 % 7 == 0
M1 = A3[:, 0, 0] % 3 == 0
M2 = A3[:, :, 0] % 4 == 0
C1, C2 = int(M1.sum()), int(M2.sum())


def _check(index, value, cw_value=False, cw_mask=False):
    x = da.from_array(A3.copy(), chunks=CHUNKS)
    expected = A3.copy()
    expected[index] = value
    v = da.from_array(np.asarray(value), chunks=2) if cw_value else value
    i = da.from_array(index, chunks=3) if cw_mask else index
    x[i] = v
    assert_eq(x, expected)


@pytest.mark.parametrize("cw_value", [False, True])
@pytest.mark.parametrize("cw_mask", [False, True])
@pytest.mark.parametrize(
    "index, value",
    [
        (M, np.arange(int(M.sum()))),
        (M1, np.arange(C1 * 30).reshape(C1, 6, 5)),
        (M1, np.arange(C1 * 5).reshape(C1, 1, 5)),
        (M1, np.arange(5)),  # broadcast: every selected row gets the same values
        (M2, np.arange(C2 * 5).reshape(C2, 5)),
        (np.zeros(7, bool), np.zeros((0, 6, 5), int)),
    ],
)
def test_setitem_mask_with_one_value_per_selected_element(index, value, cw_mask, cw_value):
    _check(index, value, cw_value=cw_value, cw_mask=cw_mask)


@pytest.mark.parametrize(
    "index, value",
    [
        ([0, 2], -1),
        (np.array([3, -1, 3]), np.arange(90).reshape(3, 6, 5)),  # repeated: the last wins
        ((slice(None), [4, 0]), np.arange(70).reshape(7, 2, 5)),
        ((slice(None), slice(None), [4, 0]), np.arange(2)),
        ((slice(None), slice(None), np.array([[4, 0], [1, 1]])), np.arange(7 * 6 * 4).reshape(7, 6, 2, 2)),
        ((slice(None), M2[0]), np.arange(int(M2[0].sum()) * 5).reshape(-1, 5)),
        ((slice(None), M2[0]), 3),
        (np.array([], int), 5),
        (None, np.ones((1, 7, 6, 5))),
        ((slice(None), None, 2), np.arange(5)),
        ((Ellipsis, None), 3),
    ],
)
def test_setitem_integer_arrays_and_new_axes(index, value):
    _check(index, value)


def test_setitem_integer_array_with_chunkwise_value():
    x = da.from_array(A3.copy(), chunks=CHUNKS)
    expected = A3.copy()
    value = np.arange(70).reshape(7, 2, 5)
    x[:, [5, 1]] = da.from_array(value, chunks=3)
    expected[:, [5, 1]] = value
    assert_eq(x, expected)


def test_setitem_mask_on_unknown_chunks_and_empty():
    a = np.arange(20.0) - 5
    y = da.from_array(a, chunks=6)
    y = y[y > -3]  # unknown chunks
    e = a[a > -3].copy()
    y[y % 2 == 0] = np.arange(int((e % 2 == 0).sum())) * 0.5
    e[e % 2 == 0] = np.arange(int((e % 2 == 0).sum())) * 0.5
    assert_eq(y, e)
    z = da.from_array(np.zeros((0, 3)), chunks=2)
    z[z > 0] = np.zeros(0)
    assert_eq(z, np.zeros((0, 3)))


def test_setitem_new_errors():
    x = da.from_array(A3.copy(), chunks=3)
    n = int(M.sum())
    with pytest.raises(ValueError, match=f"cannot assign {n + 1} input values to the {n} output"):
        x[M] = np.arange(n + 1)
    x[da.from_array(M, chunks=3)] = np.arange(n + 1)  # the count is only known at compute time
    with pytest.raises(ValueError, match=f"cannot assign {n + 1} input values to the {n} output"):
        x.compute()
    x = da.from_array(A3.copy(), chunks=3)
    with pytest.raises(IndexError, match="index 9 is out of bounds for axis 0"):
        x[[0, 9]] = 1
    with pytest.raises(ValueError, match="could not broadcast"):
        x[:, [0, 1]] = np.ones((7, 3, 5))
    with pytest.raises(NotImplementedError, match="chunkwise integer index"):
        x[da.from_array(np.array([0, 1]), chunks=1)] = 1
    with pytest.raises(NotImplementedError, match="':' on every other axis"):
        x[1:, [0, 1]] = 1
    with pytest.raises(NotImplementedError, match="':' on every other axis"):
        x[[0, 1], [0, 1]] = 1
