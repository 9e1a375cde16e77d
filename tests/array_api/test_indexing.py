"""Array API conformance: indexing (``__getitem__``, ``__setitem__``, ``take``, ``take_along_axis``).

Basic indices (integers, slices with any step, ``...``, ``None``), boolean
masks (a data-dependent shape: chunkwise gives unknown chunk lengths, the
values are compared once computed), integer-array indices, and the indexing
functions.
"""

import numpy as np
from array_api_harness import StrictArray, arrays, check, strict, xps
from hypothesis import strategies as st

ANY_DTYPE = xps.scalar_dtypes()


def _getitem(ns, x, index):
    return x[index]


def test_getitem_basic(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1))
        return (x, draw(xps.indices(x.shape, allow_newaxis=True))), {}

    check(target, _getitem, calls(), budget)


def test_getitem_boolean_mask(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1))
        return (x, draw(arrays(strict.bool, x.shape))), {}

    check(target, _getitem, calls(), budget)


def test_getitem_integer_arrays(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1, min_side=1))
        index = tuple(
            draw(arrays(xps.integer_dtypes(), (draw(st.integers(0, 4)),), elements={"min_value": 0, "max_value": n - 1}))
            for n in x.shape[:1]
        )
        return (x, index + (slice(None),) * (x.ndim - 1)), {}

    check(target, _getitem, calls(), budget)


def test_getitem_integer_per_axis(target, budget):
    """The standard's integer-array indexing: an integer or an integer array on every axis
    (negative ones too), the arrays broadcast together."""
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1, min_side=1))
        shapes = draw(xps.mutually_broadcastable_shapes(x.ndim, max_dims=2, max_side=3)).input_shapes
        index = []
        for n, shape in zip(x.shape, shapes):
            if draw(st.booleans()):
                index.append(draw(st.integers(-n, n - 1)))
            else:
                dtype = draw(xps.integer_dtypes() | xps.unsigned_integer_dtypes())
                low = 0 if strict.isdtype(dtype, "unsigned integer") else -min(n, 128)
                index.append(draw(arrays(dtype, shape, elements={"min_value": low, "max_value": n - 1})))
        return (x, tuple(index)), {}

    check(target, _getitem, calls(), budget)


def _setitem(ns, x, index, value):
    x[index] = value
    return x


def test_setitem_basic(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1))
        index = draw(xps.indices(x.shape))
        shape = np.empty(x.shape, dtype=bool)[index].shape
        value = draw(arrays(x.dtype, shape) | xps.from_dtype(x.dtype).map(lambda v: strict.asarray(v, dtype=x.dtype)))
        return (x, index, value), {}

    check(target, _setitem, calls(), budget)


def test_setitem_boolean_mask(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1))
        return (x, draw(arrays(strict.bool, x.shape)), draw(arrays(x.dtype, ()))), {}

    check(target, _setitem, calls(), budget)


@st.composite
def _mask_calls(draw, with_value):
    """A mask over the leading axes of ``x`` (shape ``x.shape[:k]``, 0-d included), sometimes in a 1-tuple."""
    x = draw(arrays(ANY_DTYPE, min_dims=0))
    mask = draw(arrays(strict.bool, x.shape[:draw(st.integers(0, x.ndim))]))
    key = (mask,) if draw(st.booleans()) else mask
    if with_value:
        return (x, key, draw(arrays(x.dtype, ()))), {}
    return (x, key), {}


def test_getitem_mask_shapes(target, budget):
    check(target, _getitem, _mask_calls(False), budget)


def test_setitem_mask_shapes(target, budget):
    check(target, _setitem, _mask_calls(True), budget)


def test_take(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1, min_side=1))
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
        indices = draw(arrays(xps.integer_dtypes(), (draw(st.integers(0, 5)),),
                              elements={"min_value": 0, "max_value": x.shape[axis] - 1}))
        return (x, indices), ({"axis": axis} if x.ndim > 1 or draw(st.booleans()) else {})

    check(target, "take", calls(), budget)


def test_take_along_axis(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1, min_side=1))
        axis = draw(st.integers(-x.ndim, x.ndim - 1))
        shape = list(x.shape)
        shape[axis] = draw(st.integers(0, 5))
        indices = draw(arrays(xps.integer_dtypes(), tuple(shape),
                              elements={"min_value": 0, "max_value": x.shape[axis] - 1}))
        return (x, indices), {"axis": axis}

    check(target, "take_along_axis", calls(), budget)


def test_strict_arrays_are_what_the_harness_converts():
    assert isinstance(strict.ones(1), StrictArray)
