"""Array API conformance: the statistical functions, against array_api_strict.

Elements are bounded (|x| <= 1000, no NaN), so that a chunked reduction,
which adds in a different order, agrees within a tolerance.
"""

import pytest
from array_api_harness import arrays, axis_for, check, strict, xps
from hypothesis import strategies as st

FLOATS = {"min_value": -1000, "max_value": 1000}


def _elements(dtype):
    if strict.isdtype(dtype, "real floating"):
        return {"min_value": -1000, "max_value": 1000, "allow_nan": False}
    if strict.isdtype(dtype, "integral"):
        return {"min_value": 0 if strict.isdtype(dtype, "unsigned integer") else -3, "max_value": 3}
    return None


def _reduction_calls(dtypes, *, dtype_kw=False, correction=False):
    @st.composite
    def calls(draw):
        dtype = draw(dtypes)
        x = draw(arrays(dtype, elements=_elements(dtype)))
        options = {"axis": axis_for(x.ndim, tuples=True), "keepdims": st.booleans()}
        if correction:
            options["correction"] = st.sampled_from([0, 1, 0.5])
        if dtype_kw and strict.isdtype(dtype, "real floating"):
            options["dtype"] = xps.floating_dtypes()
        return (x,), draw(st.fixed_dictionaries({}, optional=options))

    return calls()


REAL = st.one_of(xps.integer_dtypes(), xps.floating_dtypes())


@pytest.mark.parametrize("name", ["max", "min"])
def test_extremes(target, budget, name):
    check(target, name, _reduction_calls(REAL), budget)


def test_mean(target, budget):
    check(target, "mean", _reduction_calls(xps.floating_dtypes()), budget, exact=False, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", ["prod", "sum"])
def test_sum_prod(target, budget, name):
    check(target, name, _reduction_calls(REAL, dtype_kw=True), budget, exact=False, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("name", ["std", "var"])
def test_spread(target, budget, name):
    check(target, name, _reduction_calls(xps.floating_dtypes(), correction=True), budget, exact=False,
          rtol=1e-3, atol=1e-3)


@st.composite
def cumulative_calls(draw):
    dtype = draw(REAL)
    x = draw(arrays(dtype, elements=_elements(dtype), min_dims=1, max_dims=2))
    options = {"include_initial": st.booleans()}
    kwargs = draw(st.fixed_dictionaries({}, optional=options))
    if x.ndim > 1 or draw(st.booleans()):
        kwargs["axis"] = draw(st.integers(-x.ndim, x.ndim - 1))
    return (x,), kwargs


@pytest.mark.parametrize("name", ["cumulative_prod", "cumulative_sum"])
def test_cumulative(target, budget, name):
    check(target, name, cumulative_calls(), budget, exact=False, rtol=1e-4, atol=1e-3)
