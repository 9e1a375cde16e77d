"""Array API conformance: the array object's operators (dunder methods) and attributes.

Binary operators run on every dtype pair the standard promotes, both
reflected (``__radd__`` through ``scalar + x``) and in place (``x += y``,
which must keep ``x``'s dtype); the attributes (``dtype``, ``shape``,
``ndim``, ``size``, ``T``, ``mT``, ``device``, ``to_device``) and the
conversions of 0-d arrays (``bool``, ``int``, ``float``, ``complex``,
``operator.index``).
"""

import math
import operator

import numpy as np
import pytest
from array_api_harness import arrays, check, check_property, promotable_pairs, strict, xps
from hypothesis import strategies as st

BINARY = {
    "add": ("numeric",), "sub": ("numeric",), "mul": ("numeric",), "truediv": ("real floating", "complex floating"),
    "floordiv": ("real floating", "integral"), "mod": ("real floating", "integral"), "pow": ("numeric",),
    "and_": ("integral", "bool"), "or_": ("integral", "bool"), "xor": ("integral", "bool"),
    "lshift": ("integral",), "rshift": ("integral",),
    "lt": ("real floating", "integral"), "le": ("real floating", "integral"), "gt": ("real floating", "integral"),
    "ge": ("real floating", "integral"), "eq": ("numeric", "bool"), "ne": ("numeric", "bool"),
}
UNARY = {"neg": xps.numeric_dtypes(), "pos": xps.numeric_dtypes(), "abs": xps.numeric_dtypes(),
         "invert": st.one_of(xps.integer_dtypes(), xps.boolean_dtypes())}


@st.composite
def operands(draw, kinds):
    d1, d2 = draw(st.sampled_from(promotable_pairs(kinds)))
    shapes = draw(xps.mutually_broadcastable_shapes(2, max_dims=3, max_side=4)).input_shapes
    x1, x2 = draw(arrays(d1, shapes[0])), draw(arrays(d2, shapes[1]))
    if "shift" in str(kinds) or kinds == ("integral",):
        x2 = strict.clip(x2, 0, 6)
    return (x1, x2), {}


def _binary(name):
    function = getattr(operator, name)
    return lambda ns, x1, x2: function(x1, x2)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_operator(target, budget, name):
    check(target, _binary(name), operands(BINARY[name]), budget)


def test_matmul_operator(target, budget):
    @st.composite
    def calls(draw):
        dtype = draw(xps.floating_dtypes())
        n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
        elements = {"min_value": -4, "max_value": 4, "allow_nan": False}
        return (draw(arrays(dtype, (n, k), elements=elements)), draw(arrays(dtype, (k, m), elements=elements))), {}

    check(target, lambda ns, a, b: a @ b, calls(), budget, exact=False, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_operator(target, budget, name):
    function = getattr(operator, name)
    check(target, lambda ns, x: function(x), st.tuples(st.tuples(arrays(UNARY[name])), st.just({})), budget)


@st.composite
def with_scalar(draw, kinds):
    dtype = draw(st.sampled_from([d for d, _ in promotable_pairs(kinds)]))
    x = draw(arrays(dtype))
    if strict.isdtype(dtype, "bool"):
        scalar = draw(st.booleans())
    elif strict.isdtype(dtype, "integral"):
        info = strict.iinfo(dtype)
        scalar = draw(st.integers(max(info.min, -100), min(info.max, 100)))
    else:
        scalar = draw(st.integers(-100, 100) | st.floats(-100, 100))
    return (x, scalar), {}


@pytest.mark.parametrize("name", ["add", "mul", "sub", "truediv", "lt", "eq"])
def test_reflected_operator_with_python_scalar(target, budget, name):
    function = getattr(operator, name)
    check(target, lambda ns, x, s: function(s, x), with_scalar(BINARY[name]), budget)


@pytest.mark.parametrize("name", ["iadd", "isub", "imul", "itruediv", "iand", "ior"])
def test_inplace_operator_keeps_dtype(target, budget, name):
    function = getattr(operator, name)
    kinds = BINARY[name[1:] if name[1:] in BINARY else name[1:] + "_"]

    @st.composite
    def calls(draw):
        (x1, x2), _ = draw(operands(kinds))
        if strict.result_type(x1, x2) != x1.dtype or strict.broadcast_shapes(x1.shape, x2.shape) != x1.shape:
            x2 = draw(arrays(x1.dtype, ()))
        return (x1, x2), {}

    def inplace(ns, x1, x2):
        y = x1
        y = function(y, x2)
        return y

    check(target, inplace, calls(), budget)


@st.composite
def any_array(draw):
    return draw(arrays(xps.scalar_dtypes()))


def test_attributes(target, budget):
    def prop(x):
        a = target.convert(x)
        assert a.ndim == x.ndim and tuple(a.shape) == x.shape and a.size == x.size
        assert np.dtype(a.dtype).name == np.asarray(x).dtype.name
        np.testing.assert_array_equal(target.to_numpy(a.T), np.asarray(x).T) if x.ndim <= 2 else None
        if x.ndim >= 2:
            np.testing.assert_array_equal(target.to_numpy(a.mT), np.swapaxes(np.asarray(x), -1, -2))
        assert str(a.device) == "cpu"
        np.testing.assert_array_equal(target.to_numpy(a.to_device(a.device)), np.asarray(x))
        assert a.__array_namespace__() is target.ns

    check_property(budget, any_array(), prop)


@pytest.mark.parametrize("convert", [bool, int, float, complex, operator.index])
def test_zero_d_conversions(target, budget, convert):
    kinds = {bool: xps.scalar_dtypes(), int: st.one_of(xps.integer_dtypes(), xps.boolean_dtypes()),
             float: st.one_of(xps.real_dtypes(), xps.boolean_dtypes()), complex: xps.scalar_dtypes(),
             operator.index: xps.integer_dtypes()}[convert]

    def prop(x):
        value = convert(target.convert(x))
        expected = convert(x)
        assert type(value) is type(expected)
        assert value == expected or (isinstance(value, (float, complex)) and math.isnan(abs(value)))

    check_property(budget, arrays(kinds, shape=(), elements=None), prop)
