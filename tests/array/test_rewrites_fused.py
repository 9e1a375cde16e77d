"""Rule 4's shared pass, fused: what the reductions of one block share is computed once.

``sum``, ``mean``, ``var``/``std``, ``min`` and ``max`` of one array share a
pass (rule 4); the pass's kernel (``reductions.fused_partials``) takes one
``np.sum`` per accumulator dtype for all of them, writes the deviations of a
variance into one reused buffer, and reads each slab of a block four times
(sum, deviations, min, max) instead of six. Values are checked against NumPy
on uneven chunks, the structure by counting the ufunc calls that read the block.
"""

from __future__ import annotations

import functools
import tracemalloc

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array import reductions, treereduce
from chunkwise.array.treereduce import SharedReduction
from chunkwise.core.expr import Tuple, walk

RNG = np.random.default_rng(7)
A = RNG.standard_normal((23, 17)) * 3 + 100  # a mean far from 0: deviations matter
CHUNKS = ((5, 7, 4, 7), (6, 3, 8))

FIVE = (
    lambda x, **kw: x.sum(**kw),
    lambda x, **kw: x.mean(**kw),
    lambda x, **kw: x.std(**kw),
    lambda x, **kw: x.min(**kw),
    lambda x, **kw: x.max(**kw),
)
NUMPY_FIVE = (np.sum, np.mean, np.std, np.min, np.max)


def _shared_node(*arrays) -> SharedReduction:
    plan = Tuple(*(a.expr for a in arrays)).optimize()
    nodes = [n for n in walk([plan]) if isinstance(n, SharedReduction)]
    assert len(nodes) == 1, plan.explain(show=False)
    return nodes[0]


class Counting(np.ndarray):
    """A block that records every ufunc call reading it (a pass over its memory)."""

    calls: list

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(i, Counting) for i in inputs):
            Counting.calls.append(f"{ufunc.__name__}.{method}")
        plain = tuple(i.view(np.ndarray) if isinstance(i, Counting) else i for i in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Counting) else o for o in kwargs["out"])
        return getattr(ufunc, method)(*plain, **kwargs)


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_five_reductions_match_numpy(scheduler, axis, dtype):
    a = A.astype(dtype)
    x = da.from_array(a, chunks=CHUNKS)
    results = chunkwise.compute(*(f(x, axis=axis) for f in FIVE), scheduler=scheduler)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for got, func in zip(results, NUMPY_FIVE):
        expected = func(a, axis=axis)
        np.testing.assert_allclose(got, expected, rtol=rtol)
        assert np.asarray(got).dtype == np.asarray(expected).dtype, func.__name__


def test_mixed_members_keepdims_ddof_and_dtypes(scheduler):
    x = da.from_array(A, chunks=CHUNKS)
    asked = [x.var(axis=0, ddof=1, keepdims=True), x.sum(axis=0, dtype="float32"), np.nanmean(x, axis=0),
             x.prod(axis=0), x.std(axis=0), x.mean(axis=0, dtype="float32")]
    got = chunkwise.compute(*asked, scheduler=scheduler)
    expected = [A.var(axis=0, ddof=1, keepdims=True), A.sum(axis=0, dtype="float32"), np.nanmean(A, axis=0),
                A.prod(axis=0), A.std(axis=0), A.mean(axis=0, dtype="float32")]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6)
        assert g.dtype == e.dtype and g.shape == e.shape
    node = _shared_node(*asked)
    specs = node.chunk.keywords["kernel"].keywords["specs"]
    assert [None if s is None else s[0] for s in specs].count(None) == 2  # nanmean and prod call their own


def test_empty_blocks_and_nan_blocks_keep_numpys_answers():
    a = A.copy()
    a[3, 4] = np.nan
    x = da.from_array(a, chunks=((0, 12, 11), CHUNKS[1]))  # an empty block
    got = chunkwise.compute(*(f(x) for f in FIVE), scheduler="sync")
    for g, func in zip(got, NUMPY_FIVE):
        assert np.isnan(g), func.__name__
    empty = da.from_array(np.zeros((0, 3)), chunks=2)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):  # as NumPy warns
        total, mean = chunkwise.compute(empty.sum(axis=0), empty.mean(axis=0, keepdims=True), scheduler="sync")
    np.testing.assert_array_equal(total, np.zeros(3))
    assert mean.shape == (1, 3) and np.isnan(mean).all()


def test_ints_and_complex_are_not_fused_and_stay_exact():
    ints = (A * 1000).astype("int64")
    x = da.from_array(ints, chunks=CHUNKS)
    got = chunkwise.compute(*(f(x) for f in FIVE), scheduler="sync")
    assert got[0] == ints.sum() and got[3] == ints.min() and got[4] == ints.max()
    z = A + 1j * A[::-1]
    y = da.from_array(z, chunks=CHUNKS)
    np.testing.assert_allclose(chunkwise.compute(y.sum(), y.std())[1], z.std(), rtol=1e-12)


@pytest.mark.parametrize("slab_bytes", [1 << 40, 8 * 17 * 4])
def test_each_block_is_read_four_times_not_six(monkeypatch, slab_bytes):
    monkeypatch.setattr(treereduce, "SHARED_SLAB_BYTES", slab_bytes)
    x = da.from_array(A, chunks=(23, 17))
    node = _shared_node(*(f(x) for f in FIVE))
    block = A.copy().view(Counting)
    Counting.calls = []
    parts = node.chunk(block)
    slabs = 1 if slab_bytes > A.nbytes else -(-23 // 4)
    # per slab: one sum for sum, mean and std's mean; the deviations; min; max
    assert len(Counting.calls) == 4 * slabs, Counting.calls
    assert sorted(Counting.calls[:4]) == ["add.reduce", "maximum.reduce", "minimum.reduce", "subtract.__call__"]
    part = {funcname: p for (_, funcname, _), p in zip(node.aggregate, parts)}
    (n, s), (n2, mean, m2) = part["mean"], part["std"]
    assert n == n2 == A.size
    got = [part["sum"].item(), s.item(), mean.item(), m2.item() / A.size, part["minimum"].item(), part["maximum"].item()]
    np.testing.assert_allclose(got, [A.sum(), A.sum(), A.mean(), A.var(), A.min(), A.max()], rtol=1e-12)


def test_the_deviations_buffer_is_reused_not_a_temporary_per_slab():
    block = np.random.default_rng(1).random((4000, 250))  # 8 MB: 8 slabs of 1 MiB
    x = da.from_array(block, chunks=block.shape)
    node = _shared_node(*(f(x) for f in FIVE))
    node.chunk(block)  # warm up NumPy's own caches
    tracemalloc.start()
    try:
        node.chunk(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # one slab-sized buffer for the deviations (before: the deviations and their squares, per slab)
    assert peak < 1.5 * treereduce.SHARED_SLAB_BYTES, peak


def test_fusion_spec_names_only_what_the_kernel_computes():
    x = da.from_array(A, chunks=CHUNKS)
    kinds = [reductions.fusion_spec(f(x).expr.chunk) for f in FIVE]
    assert [k[0] for k in kinds] == ["sum", "mean", "moments", "min", "max"]
    for other in (x.prod(), np.nanmean(x), np.nanstd(x), x.any(), np.nansum(x)):
        assert reductions.fusion_spec(other.expr.chunk) is None
    assert reductions.fusion_spec(functools.partial(np.sum, 1)) is None
