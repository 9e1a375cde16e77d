"""Array API conformance: the standard's type promotion, on every dtype pair it defines.

For each pair (and each pair with a Python scalar, 2024.12's rule: the
scalar takes the array's dtype) the result dtype of ``result_type``, of an
arithmetic function and of a comparison equals array_api_strict's; values
are compared too.
"""

import pytest
from array_api_harness import DTYPE_NAMES, arrays, check, dtype_name, promotable_pairs, strict, xps
from hypothesis import strategies as st

PAIRS = promotable_pairs()


def _pair_id(pair):
    return f"{dtype_name(pair[0])}-{dtype_name(pair[1])}"


@pytest.mark.parametrize("pair", PAIRS, ids=[_pair_id(p) for p in PAIRS])
def test_result_type_of_dtypes(target, pair):
    expected = dtype_name(strict.result_type(*pair))
    got = target.ns.result_type(*(getattr(target.ns, dtype_name(d)) for d in pair))
    assert dtype_name(got) == expected


def test_result_type_of_arrays_and_scalars(target, budget):
    @st.composite
    def calls(draw):
        d1, d2 = draw(st.sampled_from(PAIRS))
        scalar = {"bool": True}.get(dtype_name(d1), 1 if strict.isdtype(d1, "integral") else 1.5)
        items = [draw(arrays(d1, ())), d2] + ([scalar] if draw(st.booleans()) else [])
        return tuple(items), {}

    def as_dtype_name(ns, *items):
        return dtype_name(ns.result_type(*items))

    check(target, as_dtype_name, calls(), budget)


@pytest.mark.parametrize("name", ["add", "multiply", "equal", "maximum"])
def test_function_promotes_each_pair(target, budget, name):
    kinds = ("numeric", "bool") if name == "equal" else ("numeric",) if name != "maximum" else ("real floating", "integral")

    @st.composite
    def calls(draw):
        d1, d2 = draw(st.sampled_from(promotable_pairs(kinds)))
        return (draw(arrays(d1, (3,))), draw(arrays(d2, (3,)))), {}

    check(target, name, calls(), budget * 5)


@pytest.mark.parametrize("kind", ["bool", "integral", "real floating", "complex floating"])
def test_function_with_python_scalar(target, budget, kind):
    dtypes = [getattr(strict, n) for n in DTYPE_NAMES if strict.isdtype(getattr(strict, n), kind)]

    @st.composite
    def calls(draw):
        dtype = draw(st.sampled_from(dtypes))
        x = draw(arrays(dtype))
        scalar = {"bool": st.booleans(), "integral": st.integers(0, 100), "real floating": st.floats(-10, 10),
                  "complex floating": st.complex_numbers(max_magnitude=10)}[kind]
        value = draw(scalar)
        return ((x, value) if draw(st.booleans()) else (value, x)), {}

    name = "logical_and" if kind == "bool" else "add"
    check(target, name, calls(), budget)


def test_scalar_dtypes_cover_the_standard(target):
    assert {dtype_name(getattr(target.ns, n)) for n in DTYPE_NAMES} == set(DTYPE_NAMES)
    assert xps.scalar_dtypes() is not None
