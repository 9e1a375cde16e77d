"""Shape manipulation: every operation against NumPy on the same data."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkwise.array as da
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.manipulation import AxisPieces, Concatenate, Reshape, Transpose
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.testing import assert_eq
from chunkwise.core.graph import Ref, Task


class _Unknown(ArrayExpr):
    """The input with its chunk sizes on ``axes`` forgotten (as after a boolean mask)."""

    _parameters = ("array", "axes")

    def _chunks(self):
        return tuple(
            tuple(math.nan for _ in c) if d in self.axes else c for d, c in enumerate(self.array.chunks)
        )

    def _dtype(self):
        return self.array.dtype

    def _task(self, key):
        return Task(key, lambda b: b, Ref((self.array.name, *key[1:])))


def unknown(x, axes=(0,)):
    return da.Array(_Unknown(x.expr, tuple(axes)))


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


# --- concatenate and friends --------------------------------------------------------------------


def test_concatenate(x):
    b = np.arange(100, 120).reshape(1, 4, 5)
    y = da.from_array(b, chunks=(1, 2, 5))  # different chunks on the other axes: rechunked
    assert_eq(da.concatenate([x, y]), np.concatenate([A, b]))
    assert_eq(np.concatenate([x, b], axis=0), np.concatenate([A, b], axis=0))
    c = np.ones((3, 4, 2))
    assert_eq(da.concatenate([x, c, x], axis=-1), np.concatenate([A, c, A], axis=-1))
    assert_eq(da.concatenate([x, x], axis=None), np.concatenate([A, A], axis=None))
    z = da.concatenate([x, x], axis=1)
    assert z.chunks[1] == x.chunks[1] * 2


def test_concatenate_no_data_movement(x):
    y = da.concatenate([x, x, x], axis=2)
    graph = y.__chunkwise_graph__(optimize_graph=False)
    concat_tasks = [t for k, t in graph.items() if type(k) is tuple and k[0] == y.name]
    assert all(len(t.dependencies) == 1 for t in concat_tasks)


def test_concatenate_dtype_promotion():
    i = da.from_array(np.arange(4, dtype="i4"), chunks=3)
    f = da.from_array(np.linspace(0, 1, 3, dtype="f4"), chunks=2)
    b = np.array([True, False])
    assert_eq(da.concatenate([i, f, b]), np.concatenate([np.arange(4, dtype="i4"), np.linspace(0, 1, 3, dtype="f4"), b]))
    assert_eq(da.concatenate([i, i], dtype="f8"), np.concatenate([np.arange(4, dtype="i4")] * 2, dtype="f8"))
    with pytest.raises(TypeError, match="cannot cast"):
        da.concatenate([f, f], dtype="i4")


def test_concatenate_errors(x):
    with pytest.raises(ValueError, match=r"along dimension 1.*\(3, 4, 5\).*\(3, 3, 5\)"):
        da.concatenate([x, np.ones((3, 3, 5))])
    with pytest.raises(ValueError, match="number of dimensions"):
        da.concatenate([x, np.ones((3, 4))])
    with pytest.raises(ValueError, match="zero-dimensional"):
        da.concatenate([da.from_array(np.float64(1)), da.from_array(np.float64(2))])
    with pytest.raises(ValueError, match="at least one"):
        da.concatenate([])
    with pytest.raises(np.exceptions.AxisError):
        da.concatenate([x, x], axis=3)


def test_concatenate_empty_and_unknown():
    a = np.ones((0, 3))
    b = np.arange(6.0).reshape(2, 3)
    assert_eq(da.concatenate([da.from_array(a), da.from_array(b, chunks=1)]), np.concatenate([a, b]))
    u = unknown(da.from_array(b, chunks=1))
    assert_eq(da.concatenate([u, u]), np.concatenate([b, b]))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.concatenate([u, da.from_array(b, chunks=2)], axis=1)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=4),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 1),
)
def test_concatenate_hypothesis(lengths, chunk0, chunk1, axis):
    arrays = [np.arange(n * 3).reshape(n, 3) + 100 * i for i, n in enumerate(lengths)]
    if axis == 1:
        arrays = [a.T for a in arrays]
    xs = [da.from_array(a, chunks=(chunk0, chunk1) if axis == 0 else (chunk1, chunk0)) for a in arrays]
    assert_eq(da.concatenate(xs, axis=axis), np.concatenate(arrays, axis=axis), schedulers=("sync",))


@settings(max_examples=15, deadline=None)
@given(st.permutations(range(4)), st.lists(st.integers(1, 3), min_size=4, max_size=4))
def test_transpose_hypothesis(axes, chunks):
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    x = da.from_array(a, chunks=tuple(chunks))
    assert_eq(x.transpose(axes), a.transpose(axes), schedulers=("sync",))
    assert_eq(x.transpose(axes).T, a.transpose(axes).T, schedulers=("sync",))


def test_stack():
    a, b = np.arange(6).reshape(2, 3), np.arange(6, 12).reshape(2, 3)
    x, y = da.from_array(a, chunks=1), da.from_array(b, chunks=2)
    for axis in (0, 1, 2, -1):
        assert_eq(da.stack([x, y], axis=axis), np.stack([a, b], axis=axis))
    assert_eq(np.stack([x, b]), np.stack([a, b]))
    with pytest.raises(ValueError, match="same shape"):
        da.stack([x, np.ones((3, 2))])
    z = da.from_array(np.float64(1.0))
    assert_eq(da.stack([z, z]), np.stack([np.float64(1.0)] * 2))


def test_hstack_vstack_dstack():
    v, w = np.arange(3), np.arange(3, 6)
    m = np.arange(6).reshape(2, 3)
    dv, dw, dm = da.from_array(v, chunks=2), da.from_array(w, chunks=1), da.from_array(m, chunks=1)
    assert_eq(da.hstack([dv, dw]), np.hstack([v, w]))
    assert_eq(np.hstack([dm, m]), np.hstack([m, m]))
    assert_eq(da.vstack([dv, dw]), np.vstack([v, w]))
    assert_eq(np.vstack([dm, v]), np.vstack([m, v]))
    assert_eq(da.dstack([dv, dw]), np.dstack([v, w]))
    assert_eq(np.dstack([dm, m]), np.dstack([m, m]))


def test_block():
    a = np.ones((2, 2))
    b = np.zeros((2, 1))
    c = np.arange(3.0).reshape(1, 3)
    da_a = da.from_array(a, chunks=1)
    assert_eq(da.block([[da_a, b], [c]]), np.block([[a, b], [c]]))
    assert_eq(np.block([[da_a, b], [c]]), np.block([[a, b], [c]]))
    v = da.from_array(np.arange(3), chunks=2)
    assert_eq(da.block([v, np.arange(2)]), np.block([np.arange(3), np.arange(2)]))
    assert_eq(da.block([[v], [v]]), np.block([[np.arange(3)], [np.arange(3)]]))
    assert_eq(da.block(v), np.block(np.arange(3)))
    with pytest.raises(ValueError, match="depths are mismatched"):
        da.block([[v], v])
    with pytest.raises(TypeError, match="tuple"):
        da.block((v, v))


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


# --- tile / repeat / roll / flip ---------------------------------------------------------------


def test_tile():
    a = np.arange(6).reshape(2, 3)
    x = da.from_array(a, chunks=(1, 2))
    for reps in [2, (2, 1), (1, 3), (2, 2, 2), 0, (0, 2), (3,)]:
        assert_eq(da.tile(x, reps), np.tile(a, reps))
    assert_eq(np.tile(da.from_array(np.float64(1.0)), 3), np.tile(np.float64(1.0), 3))
    with pytest.raises(ValueError, match="negative"):
        da.tile(x, -1)


def test_repeat():
    a = np.arange(6).reshape(2, 3)
    x = da.from_array(a, chunks=(1, 2))
    assert_eq(x.repeat(3, axis=1), a.repeat(3, axis=1))
    assert_eq(np.repeat(x, 2, axis=0), np.repeat(a, 2, axis=0))
    assert_eq(da.repeat(x, 2), np.repeat(a, 2))
    assert_eq(da.repeat(x, 0, axis=1), np.repeat(a, 0, axis=1))
    assert_eq(da.repeat(x, 1, axis=-1), np.repeat(a, 1, axis=-1))
    with pytest.raises(NotImplementedError, match="integer"):
        da.repeat(x, [1, 2], axis=0)
    with pytest.raises(ValueError, match="negative"):
        da.repeat(x, -1)
    assert_eq(da.repeat(unknown(x), 2, axis=0), np.repeat(a, 2, axis=0))


@pytest.mark.parametrize(
    "shift, axis",
    [(1, None), (-7, None), (3, 0), (2, 1), (-1, -1), ((1, 2), (0, 1)), ((1, 1), (1, 1)), (0, 1), (12, 0), (5, 2)],
)
def test_roll(x, shift, axis):
    assert_eq(da.roll(x, shift, axis), np.roll(A, shift, axis))
    assert_eq(np.roll(x, shift, axis), np.roll(A, shift, axis))


def test_roll_edge_cases():
    e = np.ones((0, 3))
    assert_eq(da.roll(da.from_array(e), 2, 0), np.roll(e, 2, 0))
    assert_eq(da.roll(da.from_array(e), 2), np.roll(e, 2))
    z = da.from_array(np.float64(1.0))
    assert_eq(da.roll(z, 1), np.roll(np.float64(1.0), 1))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.roll(unknown(da.from_array(np.arange(4), chunks=2)), 1, 0)


def test_flip(x):
    assert_eq(da.flip(x), np.flip(A))
    assert_eq(np.flip(x, 1), np.flip(A, 1))
    assert_eq(da.flip(x, (0, 2)), np.flip(A, (0, 2)))
    assert_eq(da.fliplr(x), np.fliplr(A))
    assert_eq(np.flipud(x), np.flipud(A))
    assert da.flip(x, 2).chunks[2] == x.chunks[2][::-1]
    with pytest.raises(ValueError, match=">= 2-d"):
        da.fliplr(da.from_array(np.arange(3)))
    assert_eq(da.flip(unknown(x)), np.flip(A))
    assert_eq(da.flip(da.from_array(np.ones((0, 2)))), np.flip(np.ones((0, 2))))


# --- pad -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
@pytest.mark.parametrize("width", [1, (2, 3), ((0, 1), (3, 0)), ((4, 9), (1, 7))])
def test_pad(mode, width):
    a = np.arange(20.0).reshape(4, 5)
    x = da.from_array(a, chunks=(3, 2))
    assert_eq(da.pad(x, width, mode=mode), np.pad(a, width, mode=mode))
    assert_eq(np.pad(x, width, mode=mode), np.pad(a, width, mode=mode))


def test_pad_constant_values_and_large_widths():
    a = np.arange(6).reshape(2, 3)
    x = da.from_array(a, chunks=1)
    for cv in [7, (1, 2), ((1, 2), (3, 4))]:
        assert_eq(da.pad(x, ((1, 2), (2, 1)), constant_values=cv), np.pad(a, ((1, 2), (2, 1)), constant_values=cv))
    assert_eq(da.pad(x, 1, constant_values=2.7), np.pad(a, 1, constant_values=2.7))
    v = da.from_array(np.arange(3), chunks=2)
    for mode in ["reflect", "symmetric", "wrap", "edge"]:
        assert_eq(da.pad(v, (8, 11), mode=mode), np.pad(np.arange(3), (8, 11), mode=mode))
    one = da.from_array(np.array([5]))
    for mode in ["reflect", "symmetric", "wrap", "edge"]:
        assert_eq(da.pad(one, 3, mode=mode), np.pad(np.array([5]), 3, mode=mode))


def test_pad_pieces_are_bounded():
    x = da.from_array(np.arange(100), chunks=10)
    y = da.pad(x, 35, mode="wrap")
    assert max(y.chunks[0]) <= 10
    assert_eq(y, np.pad(np.arange(100), 35, mode="wrap"))


def test_pad_edge_cases():
    e = np.ones((0, 3))
    assert_eq(da.pad(da.from_array(e), 1), np.pad(e, 1))
    assert_eq(da.pad(da.from_array(e), ((0, 0), (1, 1)), mode="edge"), np.pad(e, ((0, 0), (1, 1)), mode="edge"))
    with pytest.raises(ValueError, match="empty axis 0"):
        da.pad(da.from_array(e), 1, mode="edge")
    z = da.from_array(np.float64(1.0))
    assert_eq(da.pad(z, 1), np.pad(np.float64(1.0), 1))
    x = da.from_array(np.arange(4), chunks=2)
    assert da.pad(x, 0) is x
    with pytest.raises(ValueError, match="negative"):
        da.pad(x, -1)
    with pytest.raises(NotImplementedError, match="mean"):
        da.pad(x, 1, mode="mean")
    with pytest.raises(ValueError, match="mode"):
        da.pad(x, 1, mode="bogus")
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.pad(unknown(x), 1)
    # axes that are not padded may have unknown chunks
    u = unknown(da.from_array(np.arange(6).reshape(2, 3), chunks=1))
    assert_eq(da.pad(u, ((0, 0), (1, 1))), np.pad(np.arange(6).reshape(2, 3), ((0, 0), (1, 1))))


# --- tril / triu --------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [-3, -1, 0, 1, 2, 6])
def test_tril_triu(k):
    a = np.arange(1, 31).reshape(5, 6)
    x = da.from_array(a, chunks=(2, 4))
    assert_eq(da.tril(x, k), np.tril(a, k))
    assert_eq(np.triu(x, k), np.triu(a, k))
    b = np.arange(2 * 4 * 3).reshape(2, 4, 3)
    assert_eq(da.tril(da.from_array(b, chunks=2), k), np.tril(b, k))
    v = np.arange(1, 5)
    assert_eq(da.triu(da.from_array(v, chunks=3), k), np.triu(v, k))


def test_tril_zero_blocks_read_nothing():
    x = da.from_array(np.ones((4, 4)), chunks=2)
    y = da.tril(x)
    graph = y.__chunkwise_graph__(optimize_graph=False)
    assert not graph[(y.name, 0, 1)].dependencies
    assert_eq(y, np.tril(np.ones((4, 4))))
    with pytest.raises(ValueError, match="1-d"):
        da.tril(da.from_array(np.float64(1)))


# --- the engine: 100,000 blocks build instantly -------------------------------------------------


def test_building_over_many_blocks_is_instant():
    x = da.from_array(np.broadcast_to(np.float32(1), (1000, 100)), chunks=(1, 1))  # 100,000 blocks
    assert x.npartitions == 100_000
    start = time.perf_counter()
    ys = [
        x.T,
        x.transpose(1, 0).T,
        x.reshape(100, 1000),
        da.concatenate([x, x]),
        da.stack([x, x]),
        da.flip(x),
        da.roll(x, 3, 0),
        da.pad(x, 1, mode="reflect"),
        da.tile(x, 2),
        da.tril(x),
        x.repeat(2, axis=0),
        da.expand_dims(x, 0).squeeze(0),
        da.broadcast_to(x, (2, 1000, 100)),
    ]
    for y in ys:
        y.chunks
        y.name
    assert time.perf_counter() - start < 2.0
    assert ys[0].npartitions == 100_000


def test_expression_node_types(x):
    assert isinstance(x.T.expr, Transpose)
    assert isinstance(da.concatenate([x, x]).expr, Concatenate)
    assert isinstance(da.flip(x).expr, AxisPieces)
