"""Array API conformance: the set functions, against array_api_strict.

The standard leaves the order of unique values unspecified; array_api_strict
and chunkwise both sort them, so they are compared as they come. NaNs are
distinct values (each has a count of one).
"""

import numpy as np
import pytest
from array_api_harness import arrays, check, promotable_pairs, strict, xps
from hypothesis import strategies as st

UNIQUE = ["unique_all", "unique_counts", "unique_inverse", "unique_values"]


def _same_values_any_order(got, want, inputs):
    """``unique_values``: the standard leaves the order open (NumPy 2.3+ does not sort)."""
    np.testing.assert_array_equal(np.sort(got), np.sort(want))


@pytest.mark.parametrize("name", UNIQUE)
def test_unique(target, budget, name):
    check(target, name, st.tuples(st.tuples(arrays(xps.real_dtypes(), max_side=6)), st.just({})), budget,
          signed_zeros=False,  # 0.0 and -0.0 are one value: which one is reported is not specified
          compare=_same_values_any_order if name == "unique_values" else None)


def _small(dtype):
    """Few distinct values, so that many elements of one array are in the other."""
    low = 0 if strict.isdtype(dtype, "unsigned integer") else -5
    if strict.isdtype(dtype, "real floating"):
        return st.integers(low, 5).map(float)
    return {"min_value": low, "max_value": 5}


def test_isin(target, budget):
    @st.composite
    def calls(draw):
        d1, d2 = draw(st.sampled_from(promotable_pairs(("real floating", "integral"))))
        x1 = draw(arrays(d1, elements=_small(d1)))
        x2 = draw(arrays(d2, elements=_small(d2)))
        return (x1, x2), draw(st.fixed_dictionaries({}, optional={"invert": st.booleans()}))

    check(target, _isin, calls(), budget)


def _isin(ns, x1, x2, invert=False):
    """``isin``; for array_api_strict 2.6.1, whose ``isin`` drops ``invert``, its negation by hand."""
    if ns is strict:
        found = strict.isin(x1, x2)
        return strict.logical_not(found) if invert else found
    return ns.isin(x1, x2, invert=invert)
