"""Array API conformance: the utility functions (all, any, diff), against array_api_strict."""

import pytest
from array_api_harness import arrays, axis_for, check, xps
from hypothesis import strategies as st


@st.composite
def truth_calls(draw):
    x = draw(arrays(xps.scalar_dtypes()))
    return (x,), draw(st.fixed_dictionaries({}, optional={
        "axis": axis_for(x.ndim, tuples=True), "keepdims": st.booleans()}))


@pytest.mark.parametrize("name", ["all", "any"])
def test_truth(target, budget, name):
    check(target, name, truth_calls(), budget)


@st.composite
def diff_calls(draw):
    dtype = draw(xps.real_dtypes())
    x = draw(arrays(dtype, min_dims=1))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    kwargs = {"axis": axis, "n": draw(st.integers(1, 3))}
    if draw(st.booleans()):
        shape = list(x.shape)
        shape[axis] = draw(st.integers(0, 2))
        kwargs[draw(st.sampled_from(["prepend", "append"]))] = draw(arrays(dtype, tuple(shape)))
    return (x,), kwargs


def test_diff(target, budget):
    check(target, "diff", diff_calls(), budget)
