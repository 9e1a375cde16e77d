"""map_blocks, blockwise (index notation) and the fusion of elementwise groups."""

import threading

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.core import Array, elemwise
from chunkwise.array.fusion import FusedBlockwise, fuse_blockwise
from chunkwise.array.testing import assert_eq

A = np.arange(42.0).reshape(6, 7)
AU = da.from_array(A, chunks=((2, 4), (3, 0, 4)))


# --- map_blocks -------------------------------------------------------------------------------


def test_map_blocks_elementwise_and_method():
    assert_eq(da.map_blocks(lambda b: b * 2, AU), A * 2)
    assert_eq(AU.map_blocks(np.sin), np.sin(A))
    assert_eq(AU.map_blocks(lambda b, k: b + k, k=3), A + 3)


def test_map_blocks_dtype_inferred_from_zero_size_sample():
    y = AU.map_blocks(lambda b: (b > 3).astype(np.int16))
    assert y.dtype == np.int16
    assert_eq(y, (A > 3).astype(np.int16))


def test_map_blocks_dtype_falls_back_to_one_element_sample():
    def needs_element(b):
        if b.size == 0:
            raise ValueError("empty")
        return b.astype(np.float32)

    with pytest.raises(ValueError, match="empty"):  # the zero-size sample cannot be used
        needs_element(np.empty((0, 0)))
    y = AU.map_blocks(needs_element)
    assert y.dtype == np.float32


def test_map_blocks_dtype_uninferrable_asks_for_dtype():
    def always_fails(b):
        raise RuntimeError("nope")

    with pytest.raises(ValueError, match="pass dtype="):
        AU.map_blocks(always_fails)
    y = AU.map_blocks(always_fails, dtype=float)
    assert y.dtype == float


def test_map_blocks_meta():
    y = AU.map_blocks(lambda b: b.astype(np.int32), meta=np.empty((0, 0), dtype=np.int32))
    assert y.dtype == np.int32


def test_map_blocks_chunks_per_block_shape():
    x = da.from_array(np.arange(10), chunks=3)
    y = x.map_blocks(lambda b: np.array([b.sum()]), chunks=(1,))
    assert y.chunks == ((1, 1, 1, 1),)
    assert_eq(y, np.array([3, 12, 21, 9]))


def test_map_blocks_chunks_tuple_of_tuples():
    x = da.from_array(np.arange(10), chunks=5)
    y = x.map_blocks(lambda b: b[:2], chunks=((2, 2),))
    assert_eq(y, np.array([0, 1, 5, 6]))


def test_map_blocks_wrong_shape_is_a_clear_error():
    x = da.from_array(np.arange(10), chunks=5)
    y = x.map_blocks(lambda b: b[:2])  # chunks not declared
    with pytest.raises(ValueError, match=r"block \(0,\) came back with shape \(2,\).*chunks say \(5,\)"):
        y.compute(scheduler="sync")


@pytest.mark.parametrize(
    "func, dtype, error, message",
    [
        (lambda b: 1.0, "f8", TypeError, r"lambda: block \(\d, \d\) came back as a float, not an array of 2 dimensions.*np.full"),
        (lambda b: [1.0, 2.0], "f8", TypeError, r"lambda: block \(\d, \d\) came back as a list, not an array of 2 dimensions"),
        (lambda b: np.float64(b.sum()), "f8", TypeError, r"block \(\d, \d\) came back as a float64, not an array"),
        (lambda b: b.ravel(), "f8", ValueError, r"block \(\d, \d\) came back with 1 dimensions \(shape \(4,\)\), but the output has 2; pass drop_axis=/new_axis="),
        (lambda b: b[None], "f8", ValueError, r"block \(\d, \d\) came back with 3 dimensions"),
        (lambda b: b.astype("i4"), "f8", TypeError, r"block \(\d, \d\) came back with dtype int32, but the output was declared float64; pass dtype='int32'"),
        (lambda b: b.astype("f4"), None, None, None),  # inferred float32: matches
    ],
)
def test_map_blocks_checks_each_block_is_an_array_of_the_declared_ndim_and_dtype(func, dtype, error, message, scheduler):
    x = da.ones((4, 4), chunks=2)
    y = x.map_blocks(func, dtype=dtype)
    if error is None:
        assert_eq(y, np.ones((4, 4), dtype="f4"), schedulers=(scheduler,))
        return
    with pytest.raises(error, match=message):
        y.compute(scheduler=scheduler)


def test_map_blocks_check_names_the_failing_block():
    x = da.from_array(np.arange(8.0).reshape(2, 4), chunks=(1, 2))
    y = x.map_blocks(lambda b, block_id=None: b if block_id != (1, 1) else b.astype("i8"), dtype="f8")
    with pytest.raises(TypeError, match=r"block \(1, 1\) came back with dtype int64"):
        y.compute(scheduler="sync")
    assert_eq(y[:1], np.arange(4.0)[None])  # the other blocks are fine
    z = x.map_blocks(lambda b, block_id=None: b if block_id != (0, 1) else 7.0, dtype="f8")
    with pytest.raises(TypeError, match=r"block \(0, 1\) came back as a float"):
        z.compute(scheduler="sync")


def test_blockwise_checks_block_dtype_too():
    x = da.from_array(np.arange(6).reshape(2, 3), chunks=(1, 2))
    y = da.blockwise(lambda b: b.T.astype("f4"), "ji", x, "ij", dtype="f8")
    with pytest.raises(TypeError, match=r"came back with dtype float32, but the output was declared float64"):
        y.compute(scheduler="sync")
    assert_eq(da.blockwise(lambda b: b.T, "ji", x, "ij", dtype="i8"), np.arange(6).reshape(2, 3).T)


def test_map_blocks_enforce_ndim():
    x = da.from_array(np.arange(10), chunks=5)
    y = x.map_blocks(lambda b: b.reshape(1, -1), enforce_ndim=True, dtype=x.dtype,
                     chunks=((1, 1),))
    with pytest.raises(ValueError, match="dimensions"):
        y.compute(scheduler="sync")


def test_map_blocks_drop_axis():
    y = AU.map_blocks(lambda b: b.sum(axis=1), drop_axis=1)
    assert y.chunks == ((2, 4),)
    assert_eq(y, A.sum(axis=1))
    z = AU.map_blocks(lambda b: b.sum(axis=0), drop_axis=0)
    assert z.chunks == ((3, 0, 4),)
    assert_eq(z, A.sum(axis=0))
    w = AU.map_blocks(lambda b: b.sum(), drop_axis=[0, 1])
    assert w.shape == ()
    assert_eq(w, A.sum())


def test_map_blocks_new_axis():
    x = da.from_array(np.arange(10.0), chunks=4)
    y = x.map_blocks(lambda b: b[None, :], new_axis=0)
    assert y.chunks == ((1,), (4, 4, 2))
    assert_eq(y, np.arange(10.0)[None, :])
    z = x.map_blocks(lambda b: np.stack([b, -b], axis=1), new_axis=[1], chunks=((4, 4, 2), (2,)))
    assert z.chunks == ((4, 4, 2), (2,))
    assert_eq(z, np.stack([np.arange(10.0), -np.arange(10.0)], axis=1))
    w = x.map_blocks(lambda b: b[:, None] * np.ones(3), new_axis=-1, chunks=(4, 3))
    assert w.chunks == ((4, 4, 4), (3,))  # int chunks: one block shape (Dask's meaning)


def test_map_blocks_drop_and_new_axis():
    y = AU.map_blocks(lambda b: b.sum(axis=1)[:, None, None], drop_axis=1, new_axis=[1, 2])
    assert y.chunks == ((2, 4), (1,), (1,))
    assert_eq(y, A.sum(axis=1)[:, None, None])


def test_map_blocks_bad_axes():
    with pytest.raises(ValueError, match="drop_axis"):
        AU.map_blocks(np.sum, drop_axis=2)
    with pytest.raises(ValueError, match="chunks"):
        AU.map_blocks(lambda b: b, chunks=(1,))
    with pytest.raises(TypeError, match="chunkwise array"):
        da.map_blocks(np.sin, np.ones(3))


def test_map_blocks_block_info_and_block_id():
    seen = []
    lock = threading.Lock()

    def f(b, block_info=None, block_id=None):
        with lock:
            seen.append((block_id, block_info))
        return b + block_info[0]["array-location"][0][0]

    y = AU.map_blocks(f)
    expected = A + np.repeat([0, 2], [2, 4])[:, None]
    assert_eq(y, expected, schedulers=("sync",))
    info = {bid: bi for bid, bi in seen if bid is not None and bi[None]["num-chunks"] == (2, 3)}
    bi = info[(1, 2)]
    assert bi[0]["shape"] == (6, 7) and bi[0]["num-chunks"] == (2, 3)
    assert bi[0]["chunk-location"] == (1, 2)
    assert bi[0]["array-location"] == [(2, 6), (3, 7)]
    assert bi[None]["chunk-shape"] == (4, 4) and bi[None]["dtype"] == np.float64


def test_map_blocks_several_arrays_broadcast_and_align():
    row = np.arange(7.0)
    y = da.map_blocks(np.add, AU, da.from_array(row, chunks=7))
    assert y.chunks == AU.chunks
    assert_eq(y, A + row)
    other = da.from_array(A * 2, chunks=3)
    assert_eq(da.map_blocks(lambda a, b: a - b, AU, other), A - A * 2)
    assert_eq(da.map_blocks(lambda a, c: a * c, AU, 3), A * 3)


def test_map_blocks_empty_and_zero_d():
    e = da.from_array(np.empty((0, 4)), chunks=2)
    assert_eq(e.map_blocks(lambda b: b + 1), np.empty((0, 4)))
    z = da.from_array(np.array(5.0))
    assert_eq(z.map_blocks(lambda b: b * 2), np.array(10.0))


def test_map_blocks_unknown_chunks_skip_the_check():
    x = da.from_array(np.arange(10.0), chunks=3)
    (pos,) = da.nonzero(x > 4)
    y = pos.map_blocks(lambda b: b * 2)
    np.testing.assert_array_equal(y.compute(), np.nonzero(np.arange(10.0) > 4)[0] * 2)


def test_map_blocks_name_is_deterministic():
    f = np.sin
    assert AU.map_blocks(f).name == AU.map_blocks(f).name
    assert AU.map_blocks(f, name="mine").name == "mine"


# --- blockwise ---------------------------------------------------------------------------------


def test_blockwise_transpose_and_elementwise():
    assert_eq(da.blockwise(lambda b: b.T, "ji", AU, "ij"), A.T)
    v = np.arange(7.0)
    assert_eq(da.blockwise(np.add, "ij", AU, "ij", v, "j"), A + v)
    assert_eq(da.blockwise(np.multiply, "ij", AU, "ij", 2, None), A * 2)


def test_blockwise_outer_product():
    a = np.arange(5.0)
    b = np.arange(3.0)
    out = da.blockwise(np.multiply.outer, "ij", da.from_array(a, chunks=2), "i",
                       da.from_array(b, chunks=2), "j")
    assert out.chunks == ((2, 2, 1), (2, 1))
    assert_eq(out, np.multiply.outer(a, b))


def test_blockwise_contraction_lists_and_concatenate():
    b = np.arange(28.0).reshape(7, 4)
    x = da.from_array(A, chunks=(3, 2))
    y = da.from_array(b, chunks=(2, 2))

    def dot_lists(xs, ys):
        return sum(np.dot(p, q) for p, q in zip(xs, ys))

    out = da.blockwise(dot_lists, "ik", x, "ij", y, "jk", dtype=float)
    assert_eq(out, A @ b)
    out2 = da.blockwise(np.dot, "ik", x, "ij", y, "jk", concatenate=True)
    assert out2.dtype == float
    assert_eq(out2, A @ b)


def test_blockwise_new_axes_and_adjust_chunks():
    x = da.from_array(np.arange(6.0), chunks=4)
    y = da.blockwise(lambda b: b[:, None] * np.ones(3), "ij", x, "i", new_axes={"j": 3})
    assert y.chunks == ((4, 2), (3,))
    assert_eq(y, np.arange(6.0)[:, None] * np.ones(3))
    z = da.blockwise(lambda b: b[:1], "i", x, "i", adjust_chunks={"i": 1})
    assert_eq(z, np.array([0.0, 4.0]))
    w = da.blockwise(lambda b: np.concatenate([b, b]), "i", x, "i", adjust_chunks={"i": lambda c: 2 * c})
    assert w.chunks == ((8, 4),)


def test_blockwise_aligns_chunks_and_checks_lengths():
    p = da.from_array(A, chunks=(2, 7))
    q = da.from_array(A, chunks=(3, 3))
    assert_eq(da.blockwise(np.add, "ij", p, "ij", q, "ij"), A + A)
    with pytest.raises(ValueError, match="align_arrays"):
        da.blockwise(np.add, "ij", p, "ij", q, "ij", align_arrays=False)
    with pytest.raises(ValueError, match="different lengths"):
        da.blockwise(np.add, "ij", p, "ij", da.from_array(np.ones((6, 5))), "ij")
    with pytest.raises(ValueError, match="2 dimensions"):
        da.blockwise(np.add, "ij", p, "i")
    with pytest.raises(ValueError, match="new_axes"):
        da.blockwise(np.add, "ijk", p, "ij")


def test_blockwise_to_scalar():
    total = da.blockwise(lambda blocks: sum(b.sum() for row in blocks for b in row), "", AU, "ij",
                         dtype=float)
    assert total.shape == ()
    assert_eq(total, np.array(A.sum()))


# --- fusion ------------------------------------------------------------------------------------


def _chain(x):
    return (da.sin(x) ** 2 + da.cos(x) ** 2) * 2 - 1


def test_fusion_diamond_one_task_per_block():
    v = np.linspace(0, 3, 1000)
    x = da.from_array(v, chunks=10)  # 100 blocks
    y = _chain(x)
    fused = fuse_blockwise(y.expr)
    assert isinstance(fused, FusedBlockwise)
    assert fused.name != y.name  # its own identity: equal names mean equal nodes
    assert fused.chunks == y.chunks and fused.dtype == y.dtype
    graph = Array(fused).__chunkwise_graph__()
    assert len(graph) == 100 + 1  # reads fused in by linear fusion, plus the finalize task
    assert_eq(Array(fused), (np.sin(v) ** 2 + np.cos(v) ** 2) * 2 - 1)
    text = Array(fused).explain(show=False)
    assert "FusedBlockwise: 7 ops" in text and "sin" in text


def test_fusion_many_blocks_lowering_is_linear():
    x = da.from_array(np.zeros((100, 100)), chunks=1)  # 10,000 blocks
    fused = fuse_blockwise(_chain(x).expr)
    graph = Array(fused).__chunkwise_graph__()
    assert len(graph) <= 10_001


def test_fusion_shared_node_with_outside_consumer_is_not_recomputed():
    calls = []
    lock = threading.Lock()

    def counted(b):
        with lock:
            calls.append(1)
        return b + 1

    v = np.arange(20.0)
    x = da.from_array(v, chunks=5)  # 4 blocks
    s = elemwise(counted, x, dtype=float)  # shared: used by t (group) and by u (map_blocks, outside)
    t = s * 2
    u = s.map_blocks(lambda b: b - 1)
    y = t + u
    fused = fuse_blockwise(y.expr)
    calls.clear()
    result = Array(fused).compute(scheduler="sync")
    np.testing.assert_array_equal(result, (v + 1) * 2 + v)
    assert len(calls) == 4  # once per block, not twice


def test_fusion_respects_broadcast_block_counts():
    calls = []

    def counted(b):
        calls.append(1)
        return b * 3

    small = da.from_array(np.arange(4.0), chunks=4)  # one block, broadcast over 5 row blocks
    big = da.from_array(np.ones((10, 4)), chunks=(2, 4))
    y = elemwise(counted, small, dtype=float) + big
    fused = fuse_blockwise(y.expr)
    calls.clear()
    np.testing.assert_array_equal(Array(fused).compute(scheduler="sync"), np.arange(4.0) * 3 + np.ones((10, 4)))
    assert len(calls) == 1


def test_fusion_keeps_non_elementwise_boundaries():
    x = da.from_array(np.arange(12.0), chunks=4)
    y = x.map_blocks(np.cumsum)
    z = da.sin(y) + da.cos(y)
    fused = fuse_blockwise(z.expr)
    assert isinstance(fused, FusedBlockwise)
    assert fused.inputs[0].name == y.name
    assert_eq(Array(fused), np.sin(np.concatenate([np.cumsum(b) for b in np.split(np.arange(12.0), 3)]))
              + np.cos(np.concatenate([np.cumsum(b) for b in np.split(np.arange(12.0), 3)])))


def test_fusion_nothing_to_fuse_returns_same_expr():
    x = da.from_array(np.arange(4.0), chunks=2)
    y = da.sin(x)
    assert fuse_blockwise(y.expr) is y.expr


def test_fusion_two_outputs_and_scalars_and_kwargs():
    v = np.linspace(-3, 3, 13)
    x = da.from_array(v, chunks=4)
    q, r = da.divmod(x, 0.7)
    y = da.round(q * r + 1.5, 2)
    fused = fuse_blockwise(y.expr)
    assert isinstance(fused, FusedBlockwise)
    eq, er = np.divmod(v, 0.7)
    assert_eq(Array(fused), np.round(eq * er + 1.5, 2))


def test_fused_error_names_step():
    x = da.from_array(np.arange(4.0), chunks=2)

    def boom(b):
        if b.size:
            raise ZeroDivisionError("boom")
        return b

    y = da.sin(elemwise(boom, da.cos(x) + 1, dtype=float))
    fused = fuse_blockwise(y.expr)
    with pytest.raises(ZeroDivisionError) as info:
        Array(fused).compute(scheduler="sync")
    assert any("boom" in note for note in getattr(info.value, "__notes__", []))


def test_fusion_deep_chain_does_not_recurse():
    x = da.from_array(np.zeros(4), chunks=2)
    y = x
    for _ in range(3000):
        y = y + 1
    fused = fuse_blockwise(y.expr)
    assert isinstance(fused, FusedBlockwise)
    np.testing.assert_array_equal(Array(fused).compute(scheduler="sync"), np.full(4, 3000.0))


def test_fused_steps_reuse_dying_intermediates_without_touching_inputs():
    import chunkwise

    a = np.linspace(0, 3, 40).reshape(8, 5)
    x = da.from_array(a, chunks=(3, 2))
    (p,) = chunkwise.persist(x * 1.0)  # blocks that own their data
    before = np.asarray(p.compute()).copy()
    z = (da.sin(p) ** 2 + da.cos(p) ** 2) * 2 - 1
    s = da.sin(p)
    w = s * s + s  # an intermediate used twice in one step
    assert_eq(z, (np.sin(a) ** 2 + np.cos(a) ** 2) * 2 - 1)
    assert_eq(w, np.sin(a) * np.sin(a) + np.sin(a))
    assert_eq(p, before)  # the inputs were never written into
    ints = da.from_array(np.arange(10, dtype="i4"), chunks=3)
    assert_eq((ints + 1) / 2, (np.arange(10, dtype="i4") + 1) / 2)  # dtype changes: no reuse


# --- constant sources absorbed by fused groups ----------------------------------------------


def _tasks_named(graph, prefix):
    return [k for k in graph if isinstance(k, tuple) and str(k[0]).startswith(prefix)]


def test_fusion_absorbs_ones_source():
    x = da.ones((5, 7), chunks=(2, 3))
    y = (x + 1) * 2
    fused = fuse_blockwise(y.expr)
    assert isinstance(fused, FusedBlockwise)
    assert fused.inputs == ()  # the ones blocks are made inside the fused task
    graph = Array(fused).__chunkwise_graph__()
    assert not _tasks_named(graph, "ones") and len(graph) == 3 * 3 + 1
    assert_eq(y, (np.ones((5, 7)) + 1) * 2)


def test_fusion_absorbs_a_lone_node_and_keeps_dtype():
    y = da.full((4, 6), 3, dtype="int16", chunks=(3, 4)) + np.int16(2)
    assert isinstance(fuse_blockwise(y.expr), FusedBlockwise)
    assert_eq(y, np.full((4, 6), 3, dtype="int16") + np.int16(2))
    assert_eq(da.zeros(5, dtype=int, chunks=2) * 1.5, np.zeros(5, dtype=int) * 1.5)


def test_fusion_absorbs_constants_in_0d_empty_and_mixed_plans():
    assert_eq(da.ones(()) + 1, np.ones(()) + 1)
    assert_eq(da.ones((0, 3), chunks=2) * 2, np.ones((0, 3)) * 2)
    v = np.arange(12.0).reshape(3, 4)
    x = da.from_array(v, chunks=(2, 3))
    assert_eq(da.sin(x) + da.ones((3, 4), chunks=(2, 3)), np.sin(v) + 1)


def test_fusion_does_not_absorb_broadcast_or_misaligned_constants():
    v = np.arange(12.0).reshape(3, 4)
    x = da.from_array(v, chunks=(2, 2))
    row = da.ones((1, 4), chunks=(1, 2))  # broadcast over the row blocks: other chunks
    y = (x + row) * 2
    fused = fuse_blockwise(y.expr)
    assert [i.name for i in fused.inputs] == [x.name, row.name]
    assert_eq(y, (v + 1) * 2)


def test_fusion_shared_constant_source_is_made_by_each_consumer():
    o = da.ones((6, 6), chunks=(2, 3))
    y = (o + 1) + o.T * 3
    assert_eq(y, np.ones((6, 6)) * 5)
    assert_eq((o * 2).sum(axis=0) + o.mean(axis=0), np.full(6, 13.0))


# --- large blocks run in cache-sized slabs --------------------------------------------------


def test_fused_program_runs_large_blocks_in_slabs(monkeypatch):
    import sys

    module = sys.modules["chunkwise.array.fusion"]
    monkeypatch.setattr(module, "slab_scale", lambda: 1.0)  # as on two threads, whatever the machine
    v = np.random.default_rng(0).random((700, 500))  # one 350,000-element block, slabs of 65 rows
    x = da.from_array(v, chunks=(700, 500))
    y = (da.sin(x) ** 2 + da.cos(x) ** 2) * 2 - 1
    fused = fuse_blockwise(y.expr)
    assert module._slab_rows(fused.program, (v,), None) == 65
    assert_eq(y, (np.sin(v) ** 2 + np.cos(v) ** 2) * 2 - 1)
    assert_eq(y.sum(), ((np.sin(v) ** 2 + np.cos(v) ** 2) * 2 - 1).sum())
    i = da.from_array((v * 100).astype(int), chunks=(700, 500))
    assert_eq((i * 3 + 1) // 2 > 7, ((v * 100).astype(int) * 3 + 1) // 2 > 7)  # int, then bool
    o = da.ones((700, 500), chunks=(700, 500))
    assert_eq((o + 1) * 2 - o, np.full((700, 500), 3.0))  # constants made per slab


@pytest.mark.parametrize(("scheduler", "workers", "rows"), [("sync", 1, 65), ("threads", 2, 65),
                                                           ("threads", 4, 262), ("threads", 8, 0)])
def test_slabs_grow_with_the_threads_that_contend_for_the_gil(scheduler, workers, rows):
    # On 16 cores, 32,768-element slabs made the elementwise chain 4x slower than whole blocks:
    # each slab's NumPy calls queue for the GIL behind 15 other threads. Slabs grow as
    # (threads / 2) ** 2; from 8 threads on, this 350,000-element block runs whole.
    import sys

    import chunkwise

    module = sys.modules["chunkwise.array.fusion"]
    v = np.random.default_rng(0).random((700, 500))
    x = da.from_array(v, chunks=(700, 500))
    fused = fuse_blockwise(((da.sin(x) ** 2 + da.cos(x) ** 2) * 2 - 1).expr)
    seen = chunkwise.delayed(lambda: module._slab_rows(fused.program, (v,), None))()
    assert seen.compute(scheduler=scheduler, num_workers=workers) == rows


def test_fused_program_not_slabbed_when_not_plainly_elementwise():
    import sys

    module = sys.modules["chunkwise.array.fusion"]
    v = np.random.default_rng(1).random((600, 500))
    row = np.random.default_rng(2).random(500)
    x = da.from_array(v, chunks=(600, 500))
    r = da.from_array(row, chunks=500)
    y = (x + r) * 2 - 1  # broadcast input: run whole
    fused = fuse_blockwise(y.expr)
    assert module._slab_rows(fused.program, (v, row), None) == 0
    assert_eq(y, (v + row) * 2 - 1)
    z = da.round(x * 10 + 1.5, 2) - 1  # a step with keywords: run whole
    assert_eq(z, np.round(v * 10 + 1.5, 2) - 1)
