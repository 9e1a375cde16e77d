"""Array API conformance: the searching functions, against array_api_strict."""

from array_api_harness import arrays, axis_for, check, promotable_pairs, strict, xps
from hypothesis import strategies as st


def _reduction_calls(dtypes, *, tuples=False):
    @st.composite
    def calls(draw):
        x = draw(arrays(dtypes, min_dims=0))
        kwargs = draw(st.fixed_dictionaries({}, optional={
            "axis": axis_for(x.ndim, tuples=tuples), "keepdims": st.booleans()}))
        return (x,), kwargs

    return calls()


def test_argmax(target, budget):
    check(target, "argmax", _reduction_calls(xps.real_dtypes()), budget)


def test_argmin(target, budget):
    check(target, "argmin", _reduction_calls(xps.real_dtypes()), budget)


def test_count_nonzero(target, budget):
    check(target, "count_nonzero", _reduction_calls(xps.scalar_dtypes(), tuples=True), budget)


def test_nonzero(target, budget):
    check(target, "nonzero", st.tuples(st.tuples(arrays(xps.scalar_dtypes(), min_dims=1)), st.just({})), budget)


def test_searchsorted(target, budget):
    @st.composite
    def calls(draw):
        dtype = draw(xps.real_dtypes())
        x1 = strict.sort(draw(arrays(dtype, min_dims=1, max_dims=1)))
        x2 = draw(arrays(dtype))
        return (x1, x2), draw(st.fixed_dictionaries({}, optional={"side": st.sampled_from(["left", "right"])}))

    check(target, "searchsorted", calls(), budget)


def test_searchsorted_with_sorter_and_scalars(target, budget):
    """``sorter`` (the indices that sort an unsorted ``x1``) and, since 2025.12, a scalar ``x2``."""
    @st.composite
    def calls(draw):
        dtype = draw(xps.real_dtypes())
        x1 = draw(arrays(dtype, min_dims=1, max_dims=1, elements={"allow_nan": False}))
        x2 = draw(arrays(dtype, elements={"allow_nan": False}) | xps.from_dtype(dtype, allow_nan=False))
        kwargs = draw(st.fixed_dictionaries({}, optional={"side": st.sampled_from(["left", "right"])}))
        return (x1, x2), {**kwargs, "sorter": strict.argsort(x1)}

    check(target, "searchsorted", calls(), budget)


def test_where(target, budget):
    @st.composite
    def calls(draw):
        d1, d2 = draw(st.sampled_from(promotable_pairs()))
        shapes = draw(xps.mutually_broadcastable_shapes(3, max_dims=3, max_side=4)).input_shapes
        condition = draw(arrays(strict.bool, shapes[0]))
        return (condition, draw(arrays(d1, shapes[1])), draw(arrays(d2, shapes[2]))), {}

    check(target, "where", calls(), budget)
