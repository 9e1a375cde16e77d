"""Changing the shape (transpose, reshape, squeeze, broadcast_to ...): against NumPy on the same data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkwise.array as da
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.reshaping import Reshape
from chunkwise.array.testing import assert_eq, with_unknown_chunks


def unknown(x, axes=(0,)):
    return with_unknown_chunks(x, axes)


def _expr_types(x):
    from chunkwise.core.expr import walk

    return [type(e).__name__ for e in walk([x.expr.optimize()])]


A = np.arange(60).reshape(3, 4, 5)


@pytest.fixture
def x():
    return da.from_array(A, chunks=((1, 2), (3, 1), (2, 2, 1)))


# --- transpose ----------------------------------------------------------------------------


def test_transpose_forms(x):
    assert_eq(x.T, A.T)
    assert_eq(x.transpose(), A.transpose())
    assert_eq(x.transpose(1, 0, 2), A.transpose(1, 0, 2))
    assert_eq(x.transpose((2, 0, 1)), A.transpose((2, 0, 1)))
    assert_eq(np.transpose(x, (1, 2, 0)), np.transpose(A, (1, 2, 0)))
    assert_eq(da.transpose(x, axes=(-1, 0, 1)), np.transpose(A, (-1, 0, 1)))
    assert x.transpose(0, 1, 2) is x
    assert x.transpose(2, 0, 1).chunks == (x.chunks[2], x.chunks[0], x.chunks[1])


def test_transpose_errors(x):
    with pytest.raises(ValueError, match="don't match"):
        x.transpose(0, 1)
    with pytest.raises(ValueError, match="repeated axis"):
        x.transpose(0, 0, 1)
    with pytest.raises(np.exceptions.AxisError):
        x.transpose(0, 1, 3)


def test_transpose_of_transpose_simplifies(x):
    y = x.transpose(1, 2, 0).transpose(2, 0, 1)
    assert_eq(y, A)
    assert y.expr.simplify().name == x.expr.name
    z = x.transpose(1, 2, 0).transpose(1, 0, 2)
    assert_eq(z, A.transpose(1, 2, 0).transpose(1, 0, 2))
    assert _expr_types(z).count("Transpose") == 1


def test_swapaxes_moveaxis(x):
    assert_eq(x.swapaxes(0, 2), A.swapaxes(0, 2))
    assert_eq(np.swapaxes(x, -1, 1), np.swapaxes(A, -1, 1))
    assert_eq(da.moveaxis(x, 0, -1), np.moveaxis(A, 0, -1))
    assert_eq(np.moveaxis(x, (0, 1), (2, 0)), np.moveaxis(A, (0, 1), (2, 0)))
    with pytest.raises(ValueError, match="same number"):
        da.moveaxis(x, (0, 1), 0)


def test_transpose_0d_1d_empty_unknown():
    z = da.from_array(np.float64(3.0))
    assert_eq(z.T, np.float64(3.0).T)
    v = da.from_array(np.arange(5), chunks=2)
    assert v.T is v
    e = da.from_array(np.ones((0, 3)), chunks=2)
    assert_eq(e.T, np.ones((0, 3)).T)
    u = unknown(da.from_array(np.arange(12).reshape(4, 3), chunks=2))
    assert_eq(u.T, np.arange(12).reshape(4, 3).T)


@settings(max_examples=15, deadline=None)
@given(st.permutations(range(4)), st.lists(st.integers(1, 3), min_size=4, max_size=4))
def test_transpose_hypothesis(axes, chunks):
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    x = da.from_array(a, chunks=tuple(chunks))
    assert_eq(x.transpose(axes), a.transpose(axes), schedulers=("sync",))
    assert_eq(x.transpose(axes).T, a.transpose(axes).T, schedulers=("sync",))


# --- reshape -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, chunks, new",
    [
        ((3, 4, 5), ((1, 2), (3, 1), (2, 2, 1)), (12, 5)),
        ((3, 4, 5), ((1, 2), (3, 1), (2, 2, 1)), (3, 20)),
        ((3, 4, 5), ((1, 2), (3, 1), (2, 2, 1)), (60,)),
        ((3, 4, 5), ((1, 2), (3, 1), (2, 2, 1)), (5, 4, 3)),
        ((3, 4, 5), ((1, 2), (3, 1), (2, 2, 1)), (2, 30)),
        ((3, 4, 5), ((1, 2), (3, 1), (2, 2, 1)), (1, 3, 1, 20, 1)),
        ((24,), ((5, 7, 12),), (2, 3, 4)),
        ((24,), ((6, 6, 12),), (4, 6)),
        ((6, 4), ((3, 3), (2, 2)), (4, 6)),
        ((1, 3, 1), ((1,), (2, 1), (1,)), (3,)),
        ((4, 1), ((2, 2), (1,)), (2, 2, 1)),
        ((1000,), ((10,) * 100,), (10, 100)),
    ],
)
def test_reshape(shape, chunks, new):
    a = np.arange(math.prod(shape)).reshape(shape)
    x = da.from_array(a, chunks=chunks)
    assert_eq(x.reshape(new), a.reshape(new))
    assert_eq(np.reshape(x, new), a.reshape(new))


def test_reshape_forms_and_minus_one(x):
    assert_eq(x.reshape(4, 15), A.reshape(4, 15))
    assert_eq(x.reshape((4, 15)), A.reshape(4, 15))
    assert_eq(x.reshape(-1, 5), A.reshape(-1, 5))
    assert_eq(x.reshape((2, -1)), A.reshape((2, -1)))
    assert_eq(da.reshape(x, newshape=(60,)), A.reshape(60))
    assert x.reshape(3, 4, 5) is x
    assert x.reshape(-1, 4, 5) is x


def test_reshape_rechunks_only_the_merged_or_split_axes():
    a = np.arange(4 * 6 * 8).reshape(4, 6, 8)
    x = da.from_array(a, chunks=(2, 3, 4))
    # merge (6, 8) -> 48: axis 2 becomes one block, axis 1 smaller blocks; axis 0 untouched
    y = x.reshape(4, 48)
    assert_eq(y, a.reshape(4, 48))
    (rechunk,) = [e for e in _walk(y) if isinstance(e, Rechunk)]
    assert rechunk.chunks[0] == (2, 2) and rechunk.chunks[2] == (8,)
    # splitting with boundaries at multiples of the inner size: no rechunk at all
    z = da.from_array(np.arange(48), chunks=16).reshape(6, 8)
    assert not any(isinstance(e, Rechunk) for e in _walk(z))
    assert z.chunks == ((2, 2, 2), (8,))
    assert_eq(z, np.arange(48).reshape(6, 8))
    # merging where the trailing axis is already whole: no rechunk
    w = da.from_array(a, chunks=(2, 1, 8)).reshape(4, 48)
    assert not any(isinstance(e, Rechunk) for e in _walk(w))
    assert_eq(w, a.reshape(4, 48))
    # split where inner blocks can be chunked (contiguous C-order slabs): no rechunk
    v = da.from_array(np.arange(1000), chunks=10).reshape(10, 100)
    assert not any(isinstance(e, Rechunk) for e in _walk(v))
    assert v.chunks == ((1,) * 10, (10,) * 10)


def _walk(x):
    from chunkwise.core.expr import walk

    return list(walk([x.expr]))


def test_reshape_to_same_shape_simplifies(x):
    r = Reshape(x.expr, A.shape, x.chunks, ())
    assert r.simplify().name == x.expr.name


def test_reshape_errors(x):
    with pytest.raises(ValueError, match=r"cannot reshape array of size 60 .*\(3, 4, 5\).*\(7, 9\)"):
        x.reshape(7, 9)
    with pytest.raises(ValueError, match="one unknown dimension"):
        x.reshape(-1, -1)
    with pytest.raises(ValueError, match="cannot reshape"):
        x.reshape(-1, 7)
    with pytest.raises(NotImplementedError, match="order"):
        x.reshape(60, order="F")
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        unknown(x).reshape(60)


def test_reshape_empty_and_0d():
    e = np.ones((0, 4))
    x = da.from_array(e, chunks=2)
    assert_eq(x.reshape(4, 0), e.reshape(4, 0))
    assert_eq(x.reshape(-1), e.reshape(-1))
    assert_eq(x.reshape(0, 2, 2), e.reshape(0, 2, 2))
    z = da.from_array(np.int64(7))
    assert_eq(z.reshape(1, 1), np.int64(7).reshape(1, 1))
    assert_eq(z.ravel(), np.ravel(np.int64(7)))
    one = da.from_array(np.ones((1, 1)))
    assert_eq(one.reshape(()), np.ones((1, 1)).reshape(()))


def test_reshape_with_zero_length_blocks():
    a = np.arange(12).reshape(4, 3)
    x = da.from_array(a, chunks=((2, 0, 2), (3,)))
    assert_eq(x.reshape(12), a.reshape(12))
    assert_eq(x.reshape(2, 6), a.reshape(2, 6))


def test_ravel_flatten(x):
    assert_eq(x.ravel(), A.ravel())
    assert_eq(np.ravel(x), np.ravel(A))
    assert_eq(x.flatten(), A.flatten())


@st.composite
def _factorization(draw):
    factors = draw(st.lists(st.sampled_from([1, 2, 2, 3, 4, 5]), min_size=1, max_size=5))
    size = math.prod(factors)

    def shape_of(fs):
        order = draw(st.permutations(fs))
        cuts = sorted(draw(st.lists(st.integers(0, len(order)), max_size=3)))
        parts, start = [], 0
        for c in cuts + [len(order)]:
            parts.append(math.prod(order[start:c]))
            start = c
        return tuple(parts)

    old = shape_of(factors)
    new = shape_of(factors)
    chunks = tuple(
        tuple(_split(draw, n)) for n in old
    )
    assert math.prod(old) == math.prod(new) == size
    return old, chunks, new


def _split(draw, n):
    out = []
    while n > 0:
        c = draw(st.integers(1, n))
        out.append(c)
        n -= c
    return out or [0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_factorization())
def test_reshape_hypothesis(case):
    old, chunks, new = case
    a = np.arange(math.prod(old)).reshape(old)
    x = da.from_array(a, chunks=chunks)
    y = x.reshape(new)
    assert_eq(y, a.reshape(new), schedulers=("sync",))
    # no block grows beyond the input's largest block by more than the group's need
    assert all(len(c) >= 1 for c in y.chunks)


# --- squeeze / expand_dims / atleast ------------------------------------------------------------


def test_squeeze_expand_dims():
    a = np.arange(6).reshape(1, 3, 1, 2)
    x = da.from_array(a, chunks=(1, 2, 1, 1))
    assert_eq(x.squeeze(), a.squeeze())
    assert_eq(np.squeeze(x, axis=2), np.squeeze(a, axis=2))
    assert_eq(da.squeeze(x, axis=(0, -2)), np.squeeze(a, axis=(0, -2)))
    with pytest.raises(ValueError, match="size not equal to one"):
        x.squeeze(1)
    v = da.from_array(np.arange(5), chunks=2)
    assert_eq(da.expand_dims(v, 0), np.expand_dims(np.arange(5), 0))
    assert_eq(np.expand_dims(v, (0, 2)), np.expand_dims(np.arange(5), (0, 2)))
    assert_eq(da.expand_dims(v, -1), np.expand_dims(np.arange(5), -1))
    with pytest.raises(np.exceptions.AxisError):
        da.expand_dims(v, 3)
    u = unknown(da.from_array(a, chunks=(1, 2, 1, 1)), axes=(1,))
    assert_eq(u.squeeze(), a.squeeze())
    assert_eq(da.expand_dims(unknown(v), 1), np.arange(5)[:, None])
    z = da.from_array(np.float64(1.5))
    assert_eq(da.expand_dims(z, 0), np.expand_dims(np.float64(1.5), 0))
    assert_eq(da.from_array(np.ones((1, 1))).squeeze(), np.ones((1, 1)).squeeze())


def test_atleast():
    for f, g in [(da.atleast_1d, np.atleast_1d), (da.atleast_2d, np.atleast_2d), (da.atleast_3d, np.atleast_3d)]:
        for a in [np.float64(2.0), np.arange(3), np.arange(6).reshape(2, 3), np.ones((2, 3, 4))]:
            assert_eq(f(da.from_array(a, chunks=2)), g(a))
            assert_eq(g(da.from_array(a, chunks=2)), g(a))
        r1, r2 = f(da.from_array(np.arange(3)), np.ones((2, 2)))
        e1, e2 = g(np.arange(3), np.ones((2, 2)))
        assert_eq(r1, e1)
        assert_eq(r2, e2)


# --- broadcasting -------------------------------------------------------------------------------


def test_broadcast_to():
    a = np.arange(3)
    x = da.from_array(a, chunks=2)
    assert_eq(da.broadcast_to(x, (4, 3)), np.broadcast_to(a, (4, 3)))
    assert_eq(np.broadcast_to(x, (2, 4, 3)), np.broadcast_to(a, (2, 4, 3)))
    y = da.broadcast_to(x, (5, 3), chunks=(2, 1))
    assert y.chunks == ((2, 2, 1), (1, 1, 1))
    assert_eq(y, np.broadcast_to(a, (5, 3)))
    col = np.arange(4.0).reshape(4, 1)
    assert_eq(da.broadcast_to(da.from_array(col, chunks=3), (4, 5)), np.broadcast_to(col, (4, 5)))
    assert_eq(da.broadcast_to(da.from_array(np.float64(2)), (2, 2)), np.broadcast_to(np.float64(2), (2, 2)))
    assert_eq(da.broadcast_to(x, (0, 3)), np.broadcast_to(a, (0, 3)))
    with pytest.raises(ValueError, match=r"cannot broadcast shape \(3,\) to \(4, 2\)"):
        da.broadcast_to(x, (4, 2))
    with pytest.raises(ValueError, match="fewer axes"):
        da.broadcast_to(da.from_array(np.ones((2, 3))), (3,))


def test_broadcast_to_unknown_chunks():
    v = unknown(da.from_array(np.arange(3), chunks=2))
    col = da.expand_dims(v, 1)
    assert_eq(da.broadcast_to(col, (col.shape[0], 4)), np.broadcast_to(np.arange(3)[:, None], (3, 4)))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.broadcast_to(v, (2, 3))


def test_broadcast_arrays():
    a = np.arange(3.0).reshape(3, 1)
    b = np.arange(4)
    x, y = da.broadcast_arrays(da.from_array(a, chunks=2), da.from_array(b, chunks=3))
    ex, ey = np.broadcast_arrays(a, b)
    assert_eq(x, ex)
    assert_eq(y, ey)
    assert x.chunks == y.chunks
    r = np.broadcast_arrays(da.from_array(a, chunks=1), b)
    assert_eq(r[0], ex)
    assert_eq(r[1], ey)
    with pytest.raises(ValueError, match="broadcast"):
        da.broadcast_arrays(da.from_array(np.ones(3)), np.ones(4))
