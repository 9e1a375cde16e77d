"""Shape manipulation (joining, flip/roll/tile/pad, repeat, tril/triu): against NumPy on the same data.

The shape-only operations (transpose, reshape, squeeze, broadcast_to ...) are in test_reshaping.py.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chunkwise.array as da
from chunkwise.array.manipulation import AxisPieces, Concatenate
from chunkwise.array.reshaping import Transpose
from chunkwise.array.testing import assert_eq, with_unknown_chunks


def unknown(x, axes=(0,)):
    return with_unknown_chunks(x, axes)


A = np.arange(60).reshape(3, 4, 5)


@pytest.fixture
def x():
    return da.from_array(A, chunks=((1, 2), (3, 1), (2, 2, 1)))


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
    assert_eq(da.repeat(x, [1, 2], axis=0), np.repeat(a, [1, 2], axis=0))  # lengths unknown until computed
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
    start = time.thread_time()  # CPU time of this thread: holds on a loaded machine
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
    assert time.thread_time() - start < 2.0
    assert ys[0].npartitions == 100_000


def test_expression_node_types(x):
    assert isinstance(x.T.expr, Transpose)
    assert isinstance(da.concatenate([x, x]).expr, Concatenate)
    assert isinstance(da.flip(x).expr, AxisPieces)
