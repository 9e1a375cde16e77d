"""Array API conformance: the elementwise functions (values, dtypes, special cases), against array_api_strict.

Inputs span the whole range of each dtype, NaN, infinities and signed zeros
included, so the standard's special cases are compared value by value
(exactly, with the sign of zeros).
"""

import pytest
from array_api_harness import arrays, check, promotable_pairs, strict, xps
from hypothesis import strategies as st

SHAPES = xps.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)

UNARY_KINDS = {
    "numeric": xps.numeric_dtypes(),
    "real numeric": xps.real_dtypes(),
    "floating": st.one_of(xps.floating_dtypes(), xps.complex_dtypes()),
    "real floating": xps.floating_dtypes(),
    "complex": xps.complex_dtypes(),
    "bool": xps.boolean_dtypes(),
    "integer or bool": st.one_of(xps.integer_dtypes(), xps.boolean_dtypes()),
}

UNARY = {
    "abs": "numeric", "acos": "floating", "acosh": "floating", "asin": "floating", "asinh": "floating",
    "atan": "floating", "atanh": "floating", "bitwise_invert": "integer or bool", "ceil": "real numeric",
    "conj": "numeric", "cos": "floating", "cosh": "floating", "exp": "floating", "expm1": "floating",
    "floor": "real numeric", "imag": "complex", "isfinite": "numeric", "isinf": "numeric",
    "isnan": "numeric", "log": "floating", "log1p": "floating", "log2": "floating", "log10": "floating",
    "logical_not": "bool", "negative": "numeric", "positive": "numeric", "real": "numeric",
    "reciprocal": "floating", "round": "numeric", "sign": "numeric", "signbit": "real floating",
    "sin": "floating", "sinh": "floating", "sqrt": "floating", "square": "numeric", "tan": "floating",
    "tanh": "floating", "trunc": "real numeric",
}

BINARY_KINDS = {
    "numeric": ("numeric",),
    "real numeric": ("real floating", "integral"),
    "real floating": ("real floating",),
    "integer": ("integral",),
    "integer or bool": ("integral", "bool"),
    "bool": ("bool",),
    "any": ("numeric", "bool"),
}

BINARY = {
    "add": "numeric", "atan2": "real floating", "bitwise_and": "integer or bool",
    "bitwise_left_shift": "integer", "bitwise_or": "integer or bool", "bitwise_right_shift": "integer",
    "bitwise_xor": "integer or bool", "copysign": "real floating", "divide": "numeric", "equal": "any",
    "floor_divide": "real numeric", "greater": "real numeric", "greater_equal": "real numeric",
    "hypot": "real floating", "less": "real numeric", "less_equal": "real numeric",
    "logaddexp": "real floating", "logical_and": "bool", "logical_or": "bool", "logical_xor": "bool",
    "maximum": "real numeric", "minimum": "real numeric", "multiply": "numeric", "nextafter": "real floating",
    "not_equal": "any", "pow": "numeric", "remainder": "real numeric", "subtract": "numeric",
}


def unary_calls(kind):
    return st.tuples(st.tuples(arrays(UNARY_KINDS[kind])), st.just({}))


@st.composite
def binary_calls(draw, kind):
    d1, d2 = draw(st.sampled_from(promotable_pairs(BINARY_KINDS[kind])))
    shapes = draw(xps.mutually_broadcastable_shapes(2, min_dims=0, max_dims=3, min_side=0, max_side=4))
    x1 = draw(arrays(d1, shapes.input_shapes[0]))
    x2 = draw(arrays(d2, shapes.input_shapes[1]))
    if kind == "integer":  # shifts by a non-negative amount smaller than the width (the defined range)
        x2 = strict.clip(x2, 0, 7) if x2.dtype not in (strict.int8, strict.uint8) else strict.clip(x2, 0, 6)
    return (x1, x2), {}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(target, budget, name):
    check(target, name, unary_calls(UNARY[name]), budget)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(target, budget, name):
    check(target, name, binary_calls(BINARY[name]), budget)


@st.composite
def clip_calls(draw):
    dtype = draw(xps.real_dtypes())
    x = draw(arrays(dtype))
    low = draw(st.none() | arrays(dtype, shape=()))
    high = draw(st.none() | arrays(dtype, shape=()))
    return (x,), {"min": low, "max": high}


def test_clip(target, budget):
    check(target, "clip", clip_calls(), budget)
