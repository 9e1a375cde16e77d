"""Indexing: basic slicing, index normalization, ``getitem`` dispatch, blocks, slice pushdown."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkwise.array as da
from chunkwise.array.expr import Blockwise, FromArray
from chunkwise.array.testing import assert_eq

A3 = np.arange(7 * 6 * 5).reshape(7, 6, 5)


def x3():
    return da.from_array(A3, chunks=((2, 0, 3, 2), (1, 5), (2, 3)))


# --- hypothesis: random basic indices against NumPy ------------------------------------


@st.composite
def chunked_arrays(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(0, 8)) for _ in range(ndim))
    chunks = []
    for n in shape:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        bounds = [0, *cuts, n]
        chunks.append(tuple(b - a for a, b in zip(bounds, bounds[1:])))
    a = np.arange(int(np.prod(shape)), dtype="i8").reshape(shape)
    return a, da.from_array(a, chunks=tuple(chunks))


@st.composite
def basic_indices(draw, shape):
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "skip"]))
        if kind == "int" and n > 0:
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice" or kind == "int":
            bound = st.none() | st.integers(-n - 2, n + 2)
            step = st.none() | st.integers(-4, 4).filter(bool)
            items.append(slice(draw(bound), draw(bound), draw(step)))
        elif kind == "none":
            items.extend([None, slice(None)])
        else:
            items.append(slice(None))
    if items and draw(st.booleans()):  # replace a run of trailing full slices by ...
        cut = draw(st.integers(0, len(items)))
        items = [*items[:cut], Ellipsis]
    return tuple(items)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_basic_indices_match_numpy(data):
    a, x = data.draw(chunked_arrays())
    index = data.draw(basic_indices(a.shape))
    assert_eq(x[index], a[index], schedulers=("sync",))
    assert_eq((x + 1)[index], (a + 1)[index], schedulers=("sync",))  # pushed through add


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_slice_of_slice_matches_numpy(data):
    a, x = data.draw(chunked_arrays())
    first = data.draw(basic_indices(a.shape))
    second = data.draw(basic_indices(a[first].shape))
    assert_eq(x[first][second], a[first][second], schedulers=("sync",))
    assert_eq((x * 2)[first][second], (a * 2)[first][second], schedulers=("sync",))


# --- basic and advanced cases -------------------------------------------------------------

CASES = [
    np.s_[1], np.s_[-1, ::-2], np.s_[..., None, 1:4], np.s_[::-1, None, :, ::3], np.s_[5:2],
    np.s_[...], (), np.s_[:, -1], np.s_[2, 3, 4], np.s_[np.int64(3)],
    # integer arrays: unsorted, repeated, negative, lists and NumPy arrays
    np.s_[[3, 0, 0, -1]], np.s_[:, [4, 1, 4]], np.s_[..., np.array([-1, 0, 2, 2])],
    np.s_[np.array([[1, 2], [3, 0]])], np.s_[[]], np.s_[np.array(2)],
    np.s_[[0, 1], [2, 3]], np.s_[[0, 1], :, [2, 3]], np.s_[:, [0, 1], [2, 3]], np.s_[0, :, [1, 2]],
    np.s_[1:, [5, 0], None], np.s_[None, [1, 1], 2],
    # NumPy boolean masks (known chunk sizes)
    np.s_[A3[:, :, 0] > 10], np.s_[A3[:, 0, 0] > 10, 2], np.s_[:, A3[0] % 3 == 0], np.s_[A3 % 7 == 1],
    np.s_[True], np.s_[False, 1],
]


@pytest.mark.parametrize("index", CASES, ids=[str(i) for i in range(len(CASES))])
def test_index_cases_match_numpy(index):
    x = x3()
    assert_eq(x[index], A3[index])
    assert_eq((x - 3)[index], (A3 - 3)[index])


def test_zero_d_and_empty_arrays():
    s = da.from_array(np.array(5.0))
    assert_eq(s[None], np.array(5.0)[None])
    assert_eq(s[()], np.array(5.0))
    assert_eq(s[...], np.array(5.0))
    e = np.ones((0, 3))
    x = da.from_array(e, chunks=2)
    for index in [np.s_[:, 1], np.s_[[]], np.s_[::-1, ::2], np.s_[:, [2, 0]], np.s_[e > 0]]:
        assert_eq(x[index], e[index])
    one = da.from_array(np.array([7]), chunks=1)
    assert_eq(one[0], np.array([7])[0])
    assert_eq(one[[0, 0, -1]], np.array([7, 7, 7]))


def test_out_of_bounds_and_bad_indices_raise_at_build_time():
    x = x3()
    with pytest.raises(IndexError, match="index 7 is out of bounds for axis 0 with size 7"):
        x[7]
    with pytest.raises(IndexError, match="index -7 is out of bounds for axis 1 with size 6"):
        x[:, [0, -7]]
    with pytest.raises(IndexError, match="too many indices"):
        x[1, 2, 3, 4]
    with pytest.raises(IndexError, match="single ellipsis"):
        x[..., 1, ...]
    with pytest.raises(IndexError, match="boolean index did not match"):
        x[np.ones(3, dtype=bool)]
    with pytest.raises(IndexError, match="valid indices"):
        x[1.5]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]


# --- blocks ---------------------------------------------------------------------------------------


def test_blocks():
    a = np.arange(10)
    x = da.from_array(a, chunks=3)
    assert x.blocks.shape == (4,) and x.blocks.size == 4
    assert_eq(x.blocks[0], a[:3])
    assert_eq(x.blocks[-1], a[9:])
    assert_eq(x.blocks[::2], np.r_[a[:3], a[6:9]])
    assert_eq(x.blocks[[-1, 0]], np.r_[a[9:], a[:3]])
    assert len(x.blocks.ravel()) == 4
    y = x3()
    assert_eq(y.blocks[:, 1:], A3[:, 1:])
    assert_eq(y.blocks[2, 1, 0], A3[2:5, 1:, :2])
    with pytest.raises(IndexError, match="block index 4"):
        x.blocks[4]


# --- the engine: lowering only what is needed, rewriting -----------------------------------------


def test_slice_lowers_only_the_overlapping_blocks():
    x = da.from_array(np.ones((1000, 1000)), chunks=10)  # 100 x 100 blocks
    assert len(x[:10, :10].__chunkwise_graph__()) <= 2
    assert len(x[5:15, 995:].__chunkwise_graph__()) <= 4
    assert len((x + 1)[:10, :10].__chunkwise_graph__()) <= 2
    r = x.rechunk(20)[:10, :10]  # not rewritten: lowered lazily, 1 rechunked block from 4 inputs
    assert len(r.__chunkwise_graph__(optimize_graph=False)) <= 7
    assert_eq(r, np.ones((10, 10)))


def test_slice_is_pushed_through_elementwise_work():
    a = np.arange(100.0).reshape(10, 10)
    b = np.arange(10.0)
    x = da.from_array(a, chunks=3)
    y = da.from_array(b, chunks=3)
    z = (x * 2 + y)[2:5, ::-3]
    optimized = z.expr.simplify()  # (optimize() would then fuse the Blockwise nodes)
    assert isinstance(optimized, Blockwise)
    assert_eq(z, (a * 2 + b)[2:5, ::-3])
    col = da.from_array(b.reshape(10, 1), chunks=3)  # a broadcast (size-1) axis
    assert_eq((x + col)[1:7:2, 4], (a + b.reshape(10, 1))[1:7:2, 4])
    assert_eq((x + col)[None, 3, [1, 2]], (a + b.reshape(10, 1))[None, 3, [1, 2]])


def test_slice_is_pushed_through_reductions_on_kept_axes():
    from chunkwise.array.reductions import Reduction

    a = np.random.default_rng(0).random((40, 60))
    x = da.from_array(a, chunks=(10, 15))
    z = x.sum(axis=1)[3:17:2]
    optimized = z.expr.optimize()
    assert isinstance(optimized, Reduction) and optimized.array.shape == (7, 60)  # reads 7 rows
    assert_eq(z, a.sum(axis=1)[3:17:2])
    assert_eq(x.mean(axis=0)[:5], a.mean(axis=0)[:5])
    assert_eq(x.std(axis=0)[::-3], a.std(axis=0)[::-3])
    assert_eq((x + 1).var(axis=1, ddof=1)[-5:], (a + 1).var(axis=1, ddof=1)[-5:])
    assert_eq(x.max(axis=0, keepdims=True)[:, 10:40], a.max(axis=0, keepdims=True)[:, 10:40])
    # left outside: a reduced (length-1) axis sliced, ints, arg-reductions, unknown chunks
    assert_eq(x.max(axis=0, keepdims=True)[0:0, 10:40], a.max(axis=0, keepdims=True)[0:0, 10:40])
    assert_eq(x.sum(axis=0)[7], a.sum(axis=0)[7])
    assert_eq(x.argmax(axis=0)[5:9], a.argmax(axis=0)[5:9])
    u = x[x[:, 0] > 0.5]
    assert_eq(u.sum(axis=0)[2:8], a[a[:, 0] > 0.5].sum(axis=0)[2:8])


def test_a_slice_is_not_pushed_below_work_another_result_needs_whole():
    import chunkwise
    from chunkwise.core.expr import optimize_together, walk

    a = np.random.default_rng(1).random((40, 30))
    x = da.from_array(a, chunks=10)
    y = da.sin(x) * 2
    whole, part = optimize_together([y.expr, y[:5].expr])
    # y is computed whole anyway: the slice reads its blocks instead of computing sin again
    assert sum(isinstance(e, Blockwise) or type(e).__name__ == "FusedBlockwise"
               for e in walk([whole, part])) == 1
    assert any(e.name == whole.name for e in walk([part]))
    w, p = chunkwise.compute(y, y[:5])
    np.testing.assert_allclose(w, np.sin(a) * 2)
    np.testing.assert_allclose(p, (np.sin(a) * 2)[:5])
    # a slice alone is still pushed down: only the region is computed
    alone = y[:5].expr.optimize()
    assert [e.shape for e in walk([alone]) if isinstance(e, FromArray)] == [(5, 30)]


def test_slice_of_slice_merges_and_from_array_reads_only_the_region():
    a = np.arange(100.0)
    x = da.from_array(a, chunks=7)
    y = x[5:][:30][::-2]
    optimized = y.expr.optimize()
    assert isinstance(optimized, FromArray) and optimized.source.shape == (15,)
    assert_eq(y, a[5:][:30][::-2])

    class Recording:
        shape, dtype, ndim = a.shape, a.dtype, 1

        def __init__(self):
            self.reads = []

        def __getitem__(self, index):
            self.reads.append(index)
            return a[index]

    source = Recording()
    z = da.from_array(source, chunks=10, name="recorded")[12:14]
    np.testing.assert_array_equal(z.compute(scheduler="sync"), a[12:14])
    assert source.reads == [(slice(12, 14, 1),)]


# --- structured dtypes: fields (issue 15, item 9) --------------------------------------------------


def _structured():
    s = np.zeros((5, 3), dtype=[("a", "f8"), ("b", "i4"), ("c", "f4", (2,))])
    s["a"] = np.arange(15.0).reshape(5, 3)
    s["b"] = np.arange(15).reshape(5, 3) * 10
    s["c"] = np.arange(30).reshape(5, 3, 2)
    return s


@pytest.mark.parametrize("fields", ["a", "b", "c", ["a", "b"], ["b", "a"], ["a", "c"]])
def test_structured_field_access_matches_numpy(fields, scheduler):
    s = _structured()
    x = da.from_array(s, chunks=(2, 2))
    y = x[fields]
    expected = s[fields]
    if not isinstance(fields, str):  # several fields come packed (no gaps for the others)
        from numpy.lib.recfunctions import repack_fields

        assert expected.dtype.itemsize == s.dtype.itemsize
        expected = repack_fields(expected)
        assert expected.dtype.names == tuple(fields)
    assert y.dtype == expected.dtype and y.shape == expected.shape
    got = y.compute(scheduler=scheduler)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    for name in expected.dtype.names or [None]:
        np.testing.assert_array_equal(got if name is None else got[name], expected if name is None else expected[name])
    assert y.chunks[:2] == x.chunks  # per block: nothing rechunked


def test_structured_field_is_lazy_and_composes(scheduler):
    s = _structured()
    x = da.from_array(s, chunks=(2, 2))
    assert_eq(x["a"] * 2 + x["b"], s["a"] * 2 + s["b"], schedulers=(scheduler,))
    assert_eq(x["a"][1:4, ::2], s["a"][1:4, ::2], schedulers=(scheduler,))
    assert_eq(x[1:4]["b"].sum(axis=0), s[1:4]["b"].sum(axis=0), schedulers=(scheduler,))
    assert_eq(x["c"][..., 1], s["c"][..., 1], schedulers=(scheduler,))


def test_structured_missing_field_raises_numpys_error_naming_the_fields():
    x = da.from_array(_structured(), chunks=2)
    with pytest.raises(ValueError, match=r"no field of name z; the fields are \['a', 'b', 'c'\]"):
        x["z"]
    with pytest.raises(KeyError, match=r"no field of name z; the fields are \['a', 'b', 'c'\]"):
        x[["a", "z"]]
    with pytest.raises(ValueError, match="duplicate field"):
        x[["a", "a"]]
    with pytest.raises(IndexError, match="has no fields"):
        da.from_array(np.arange(4), chunks=2)["a"]
