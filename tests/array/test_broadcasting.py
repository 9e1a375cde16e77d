"""Broadcasting with chunk unification, checked against NumPy on random shapes and chunks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import chunkwise.array as da
from chunkwise.array.testing import assert_eq


@st.composite
def broadcastable_pair(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(0, 6)) for _ in range(ndim))
    other_ndim = draw(st.integers(0, ndim))
    other = tuple(
        draw(st.sampled_from([1, size])) for size in shape[ndim - other_ndim:]
    )
    return shape, other


def random_chunks(draw, shape):
    return tuple(draw(st.integers(1, max(size, 1))) for size in shape)


@settings(max_examples=60, deadline=None)
@given(broadcastable_pair(), st.data())
def test_binary_broadcasting_matches_numpy(pair, data):
    shape_a, shape_b = pair
    a = np.arange(np.prod(shape_a), dtype="f8").reshape(shape_a)
    b = np.arange(np.prod(shape_b), dtype="f8").reshape(shape_b) + 0.5
    x = da.from_array(a, chunks=random_chunks(data.draw, shape_a))
    y = da.from_array(b, chunks=random_chunks(data.draw, shape_b))
    assert_eq(x + y, a + b, schedulers=("sync",))
    assert_eq(y * x, b * a, schedulers=("sync",))
    assert_eq(x - b, a - b, schedulers=("sync",))


def test_unify_keeps_the_larger_operands_chunks():
    big = da.from_array(np.ones((8, 8)), chunks=(4, 4))
    small = da.from_array(np.ones(8), chunks=2)
    z = big + small
    assert z.chunks == big.chunks
