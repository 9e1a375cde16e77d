"""Array API conformance: the constants (``e``, ``inf``, ``nan``, ``pi``, ``newaxis``)."""

import math

import pytest
from array_api_harness import strict


@pytest.mark.parametrize("name", ["e", "inf", "nan", "pi"])
def test_float_constants(target, name):
    value = getattr(target.ns, name)
    assert type(value) is float
    expected = getattr(strict, name)
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


def test_newaxis(target):
    assert target.ns.newaxis is None
    x = target.ns.ones((2, 3))
    assert target.to_numpy(x[target.ns.newaxis, :, target.ns.newaxis]).shape == (1, 2, 1, 3)
