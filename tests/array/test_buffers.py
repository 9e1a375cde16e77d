"""Tests of ``chunkwise.array.buffers`` (pooled scratch blocks) and of map_overlap's use of it."""

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array import buffers
from chunkwise.array.testing import assert_eq


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(buffers, "MIN_BYTES", 64)  # pool blocks of any test size
    buffers.clear()
    yield
    buffers.clear()


def test_a_block_is_reused_only_when_no_one_holds_it(small_blocks):
    a = buffers.empty((10, 10), "f8")
    a[:] = 1.0
    b = buffers.empty((10, 10), "f8")
    assert not np.shares_memory(a, b)  # a is alive
    address = a.ctypes.data
    del a
    c = buffers.empty((10, 10), "f8")
    assert c.ctypes.data == address  # a's buffer, free again
    view = c[2:4]
    del c
    d = buffers.empty((10, 10), "f8")
    assert not np.shares_memory(d, view)  # a view keeps its base
    assert d.shape == (10, 10) and d.dtype == np.float64 and d.flags.c_contiguous


def test_objects_and_small_blocks_are_not_pooled(monkeypatch):
    buffers.clear()
    o = buffers.empty((100,), object)
    assert o.dtype == object and buffers.pooled() == 0
    s = buffers.empty((3,), "f8")
    assert s.shape == (3,) and buffers.pooled() == 0


def test_pool_is_bounded_and_emptied_when_a_compute_ends(small_blocks):
    held = [buffers.empty((20,), "f8") for _ in range(buffers.POOL_SIZE + 3)]
    assert buffers.pooled() == buffers.POOL_SIZE * 160
    del held
    da.ones(4, chunks=2).sum().compute(scheduler="threads")
    assert buffers.pooled() == 0


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_map_overlap_reuses_the_extended_block_and_keeps_every_value(small_blocks, monkeypatch, scheduler):
    made = []
    original = np.empty

    def counting(shape, dtype=float, *args, **kwargs):
        if dtype == np.uint8:  # a pool buffer being made
            made.append(shape)
        return original(shape, dtype, *args, **kwargs)

    monkeypatch.setattr(buffers.np, "empty", counting)
    v = np.random.default_rng(0).random((60, 48))
    x = da.from_array(v, chunks=(10, 8))  # 36 blocks
    mean = x.map_overlap(lambda b: b.mean(keepdims=True) + 0 * b, depth=1, boundary="reflect")
    from scipy.ndimage import uniform_filter

    smooth = x.map_overlap(uniform_filter, depth=1, boundary="reflect", size=3, mode="constant")
    expected = uniform_filter(np.pad(v, 1, mode="symmetric"), size=3, mode="constant")[1:-1, 1:-1]
    assert_eq(smooth, _blockwise_reference(v, (10, 8), uniform_filter), schedulers=(scheduler,))
    made.clear()
    chunkwise.compute(mean.sum(), smooth.sum(), scheduler=scheduler)
    assert 0 < len(made) <= 4 * 2  # not one fresh extended block per block (72 made before)
    assert expected.shape == v.shape


def _blockwise_reference(v, chunks, filt):
    padded = np.pad(v, 1, mode="symmetric")
    out = np.empty_like(v)
    for i in range(0, v.shape[0], chunks[0]):
        for j in range(0, v.shape[1], chunks[1]):
            ext = padded[i:i + chunks[0] + 2, j:j + chunks[1] + 2]
            out[i:i + chunks[0], j:j + chunks[1]] = filt(ext, size=3, mode="constant")[1:-1, 1:-1]
    return out


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_extended_blocks_returned_as_they_are_are_never_overwritten(small_blocks, scheduler):
    """func returns the extended block itself or a view of it: the pool must not hand it out again."""
    v = np.arange(60 * 48, dtype=float).reshape(60, 48)
    x = da.from_array(v, chunks=(10, 8))
    same = x.map_overlap(lambda b: b, depth=1, boundary="periodic", trim=False)
    padded = np.pad(v, 1, mode="wrap")
    expected = np.block([
        [padded[i:i + 12, j:j + 10] for j in range(0, 48, 8)] for i in range(0, 60, 10)
    ])
    assert_eq(same, expected, schedulers=(scheduler,))
    inner = x.map_overlap(lambda b: b[1:-1, 1:-1], depth=1, boundary="periodic", trim=False,
                          chunks=x.chunks)
    assert_eq(inner, v, schedulers=(scheduler,))
    assert_eq(x.map_overlap(lambda b: b, depth=1, boundary="none"), v, schedulers=(scheduler,))
