"""Array API conformance: the creation functions, against array_api_strict."""

import numpy as np
import pytest
from array_api_harness import StrictArray, arrays, check, check_property, strict, xps
from hypothesis import strategies as st

SHAPES = xps.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
DTYPES = st.none() | xps.scalar_dtypes()


def _shape_call(*, fill=False):
    @st.composite
    def draw_call(draw):
        dtype = draw(xps.scalar_dtypes()) if fill else draw(DTYPES)
        kwargs = {} if dtype is None else {"dtype": dtype}
        args = (draw(SHAPES),)
        if fill:
            value = draw(xps.from_dtype(dtype))
            args += (value.item() if hasattr(value, "item") else value,)
        return args, kwargs

    return draw_call()


def _like_call(*, fill=False):
    @st.composite
    def draw_call(draw):
        x = draw(arrays(xps.scalar_dtypes()))
        dtype = draw(st.none() | xps.scalar_dtypes())
        kwargs = {} if dtype is None else {"dtype": dtype}
        args = (x,)
        if fill:
            value = draw(xps.from_dtype(dtype or x.dtype))
            args += (value,)
        return args, kwargs

    return draw_call()


@pytest.mark.parametrize("name", ["ones", "zeros"])
def test_filled_by_shape(target, budget, name):
    check(target, name, _shape_call(), budget)


def test_full(target, budget):
    check(target, "full", _shape_call(fill=True), budget)


@pytest.mark.parametrize("name", ["ones_like", "zeros_like"])
def test_filled_like(target, budget, name):
    check(target, name, _like_call(), budget)


def test_full_like(target, budget):
    check(target, "full_like", _like_call(fill=True), budget)


def _same_shape_and_dtype(got, want, inputs):
    """``empty``'s values are undefined: shape and dtype are compared already."""


@pytest.mark.parametrize("name", ["empty"])
def test_empty(target, budget, name):
    check(target, name, _shape_call(), budget, compare=_same_shape_and_dtype)


def test_empty_like(target, budget):
    check(target, "empty_like", _like_call(), budget, compare=_same_shape_and_dtype)


@st.composite
def arange_calls(draw):
    integer = draw(st.booleans())
    number = st.integers(-20, 20) if integer else st.floats(-20, 20, allow_nan=False, width=32)
    start, stop = draw(number), draw(st.none() | number)
    step = draw(st.none() | number.filter(lambda s: s != 0))
    if step is not None and stop is None:
        stop = start + 5
    args = (start,) + (() if stop is None else (stop,)) + (() if step is None else (step,))
    dtype = draw(st.none() | (xps.integer_dtypes(sizes=64) if integer else xps.floating_dtypes()))
    return args, ({} if dtype is None else {"dtype": dtype})


def test_arange(target, budget):
    check(target, "arange", arange_calls(), budget, exact=False, rtol=1e-6)


@st.composite
def linspace_calls(draw):
    start = draw(st.floats(-100, 100, width=32))
    stop = draw(st.floats(-100, 100, width=32))
    num = draw(st.integers(0, 12))
    kwargs = {"endpoint": draw(st.booleans())}
    dtype = draw(st.none() | xps.floating_dtypes())
    if dtype is not None:
        kwargs["dtype"] = dtype
    return (start, stop, num), kwargs


def test_linspace(target, budget):
    check(target, "linspace", linspace_calls(), budget, exact=False, rtol=1e-5, atol=1e-5)


@st.composite
def eye_calls(draw):
    args = (draw(st.integers(0, 6)),) + draw(st.sampled_from([(), (None,)]) | st.tuples(st.integers(0, 6)))
    kwargs = {"k": draw(st.integers(-6, 6))}
    dtype = draw(DTYPES)
    if dtype is not None:
        kwargs["dtype"] = dtype
    return args, kwargs


def test_eye(target, budget):
    check(target, "eye", eye_calls(), budget)


@st.composite
def asarray_calls(draw):
    x = draw(arrays(xps.scalar_dtypes()))
    kind = draw(st.sampled_from(["array", "list", "scalar"]))
    if kind == "list" and x.ndim:
        obj = np.asarray(x).tolist()
    elif kind == "scalar":
        obj = draw(st.booleans() | st.integers(-1000, 1000) | st.floats(allow_nan=False))
    else:
        obj = x
    dtype = draw(st.none() | xps.scalar_dtypes()) if kind == "array" else None
    return (obj,), ({} if dtype is None else {"dtype": dtype})


def test_asarray(target, budget):
    check(target, "asarray", asarray_calls(), budget)


@st.composite
def meshgrid_calls(draw):
    dtype = draw(xps.numeric_dtypes())
    n = draw(st.integers(1, 3))
    xs = [draw(arrays(dtype, shape=(draw(st.integers(0, 4)),))) for _ in range(n)]
    return tuple(xs), {"indexing": draw(st.sampled_from(["xy", "ij"]))}


def test_meshgrid(target, budget):
    check(target, "meshgrid", meshgrid_calls(), budget)


def test_from_dlpack(target, budget):
    def prop(x):
        ns = target.ns
        source = np.asarray(x)  # NumPy arrays export DLPack
        got = ns.from_dlpack(source)
        np.testing.assert_array_equal(target.to_numpy(got), source)
        assert target.to_numpy(got).dtype == source.dtype

    check_property(budget, arrays(xps.scalar_dtypes()), prop)


def test_created_arrays_are_arrays_of_the_namespace(target):
    for created in (target.ns.ones((2, 3)), target.ns.arange(4), target.ns.asarray([1, 2])):
        target.to_numpy(created)
    assert isinstance(strict.ones(2), StrictArray)
