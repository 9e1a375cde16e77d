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
