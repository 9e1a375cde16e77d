"""The Array collection: construction, metadata, NumPy protocols, elementwise operators."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.testing import assert_eq


@pytest.mark.parametrize("chunks", [2, (3, 1), ((1, 2, 1), (2, 2)), -1, {0: 1}, "auto", "16 B"])
def test_from_array_chunk_specs(chunks):
    a = np.arange(16.0).reshape(4, 4)
    x = da.from_array(a, chunks=chunks)
    assert_eq(x, a)


def test_metadata():
    a = np.arange(24, dtype="i4").reshape(4, 6)
    x = da.from_array(a, chunks=(3, 4))
    assert x.shape == (4, 6) and x.ndim == 2 and x.size == 24
    assert x.chunks == ((3, 1), (4, 2)) and x.numblocks == (2, 2) and x.npartitions == 4
    assert x.chunksize == (3, 4) and x.nbytes == 96 and x.dtype == np.dtype("i4")
    assert len(x) == 4
    assert "shape=(4, 6)" in repr(x)


def test_chunk_errors_name_the_axis():
    with pytest.raises(ValueError, match="axis 1"):
        da.from_array(np.ones((4, 4)), chunks=((2, 2), (3, 3)))
    with pytest.raises(ValueError, match="2 entries but the array has 3 axes"):
        da.from_array(np.ones((2, 2, 2)), chunks=(1, 1))
    with pytest.raises(ValueError, match="positive"):
        da.from_array(np.ones(4), chunks=0)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow"])
def test_binary_operators_with_scalars_arrays_and_reflected(op):
    a = np.arange(1, 13, dtype=float).reshape(3, 4)
    b = np.arange(12, 0, -1, dtype=float).reshape(3, 4)
    x = da.from_array(a, chunks=2)
    y = da.from_array(b, chunks=(1, 3))  # different chunks: unified
    f = getattr(__import__("operator"), op)
    assert_eq(f(x, y), f(a, b))
    assert_eq(f(x, 2), f(a, 2))
    assert_eq(f(3, x), f(3, a))
    assert_eq(f(x, b), f(a, b))


def test_broadcasting_and_uneven_chunks():
    a = np.arange(20.0).reshape(4, 5)
    row = np.arange(5.0)
    col = np.arange(4.0).reshape(4, 1)
    x = da.from_array(a, chunks=((1, 3), (2, 2, 1)))
    assert_eq(x + da.from_array(row, chunks=3), a + row)
    assert_eq(x * da.from_array(col, chunks=1), a * col)
    with pytest.raises(ValueError, match="could not be broadcast"):
        x + da.from_array(np.ones(3), chunks=1)


def test_ufuncs_are_lazy_and_out_is_refused():
    a = np.linspace(0, 1, 10)
    x = da.from_array(a, chunks=3)
    y = np.sin(x)
    assert isinstance(y, da.Array)
    assert_eq(y, np.sin(a))
    q, r = np.divmod(x * 10, 3)
    assert_eq(q, np.divmod(a * 10, 3)[0])
    assert_eq(r, np.divmod(a * 10, 3)[1])
    with pytest.raises(TypeError, match="out= is not supported"):
        np.sin(x, out=np.empty(10))


def test_unimplemented_array_function_names_the_function():
    x = da.from_array(np.ones(4), chunks=2)
    with pytest.raises(TypeError, match="numpy.*is not implemented lazily"):
        np.linalg.tensorinv(x.reshape(2, 2), ind=1)


def test_empty_and_zero_d_arrays():
    e = np.ones((0, 3))
    assert_eq(da.from_array(e, chunks=2) + 1, e + 1)
    z = np.array(5.0)
    x = da.from_array(z)
    assert x.shape == () and x.chunks == ()
    assert_eq(x * 2, z * 2)
    assert float(x) == 5.0


def test_astype_and_scalar_conversion():
    a = np.arange(6).reshape(2, 3)
    x = da.from_array(a, chunks=2)
    assert_eq(x.astype("f4"), a.astype("f4"))
    with pytest.raises(TypeError, match="cannot cast"):
        x.astype("i1", casting="safe")
    with pytest.raises(TypeError, match="size 1"):
        float(x)


def test_persist_and_compute_share_work():
    calls = []

    def count(block):
        calls.append(1)
        return block + 1

    x = da.from_array(np.arange(8), chunks=2)
    y = da.core.elemwise(count, x, dtype=x.dtype)  # dtype given: no trial call
    (p,) = chunkwise.persist(y)
    assert len(calls) == 4
    assert_eq(p * 2, (np.arange(8) + 1) * 2)
    assert len(calls) == 4  # the persisted blocks are reused
    a, b = chunkwise.compute(y, y * 2)
    assert len(calls) == 8  # computed once for both


def test_elementwise_chain_fuses_into_one_task_per_block():
    x = da.from_array(np.ones((100, 100)), chunks=10)
    y = ((x + 1) * 2 - 3) / 4
    graph = y.__chunkwise_graph__()
    # 100 blocks; the reads and four elementwise steps fuse, plus the final assembly.
    assert len(graph) == 101


def test_array_namespace():
    x = da.from_array(np.ones(3), chunks=2)
    assert x.__array_namespace__() is da


# --- foreign lazy arrays and array-likes as operands (issue 15, item 1) -------------------------


class _ArrayLike:
    """Anything with shape, dtype and __getitem__ (not a NumPy array); counts its reads."""

    def __init__(self, a):
        self.a, self.shape, self.dtype, self.reads = a, a.shape, a.dtype, []

    def __getitem__(self, index):
        self.reads.append(index)
        return self.a[index]


def test_dask_array_operand_shape_mismatch_fails_at_build_time():
    dask_array = pytest.importorskip("dask.array")
    c = da.from_array(np.arange(4.0), chunks=2)
    d = dask_array.from_array(np.array([10.0, 20.0]), chunks=2)
    with pytest.raises(ValueError, match=r"add: operands could not be broadcast together with shapes \(4,\) \(2,\)"):
        c + d
    with pytest.raises(ValueError, match=r"add: operands could not be broadcast"):
        np.add(c, d)
    with pytest.raises(ValueError, match=r"multiply: operands could not be broadcast"):
        da.multiply(c, d)


def test_dask_array_operands_compute_to_numpy(scheduler):
    dask_array = pytest.importorskip("dask.array")
    a, b = np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(3, 4) * 10
    c = da.from_array(a, chunks=(2, 3))
    d = dask_array.from_array(b, chunks=(1, 4))
    for result, expected in [
        (c + d, a + b), (np.add(c, d), a + b), (d + c, b + a), (np.multiply(d, c), b * a),
        (c - d[0], a - b[0]), (da.where(c > 5, d, c), np.where(a > 5, b, a)),
        (da.concatenate([c, d]), np.concatenate([a, b])), (np.concatenate([c, d], axis=1), np.concatenate([a, b], axis=1)),
    ]:
        assert isinstance(result, da.Array), type(result)
        computed = result.compute(scheduler=scheduler)
        assert type(computed) is np.ndarray
        np.testing.assert_array_equal(computed, expected)
    assert (c + d).chunks == c.chunks  # the dask operand is read in c's blocks: no rechunk of c


def test_array_like_operand_is_read_block_by_block(scheduler):
    a = np.arange(12.0).reshape(3, 4)
    c = da.from_array(a, chunks=(2, 2))
    like = _ArrayLike(a * 100)
    y = c + like
    assert y.chunks == c.chunks
    assert_eq(y, a + a * 100, schedulers=(scheduler,))
    assert like.reads and all(isinstance(i, tuple) and all(isinstance(s, slice) for s in i) for i in like.reads)
    assert len(like.reads) == c.npartitions * 2  # one read per block, per computation of assert_eq
    assert_eq(np.maximum(like, c), np.maximum(a * 100, a), schedulers=(scheduler,))
    assert_eq(da.where(c > 3, like, 0), np.where(a > 3, a * 100, 0), schedulers=(scheduler,))
    with pytest.raises(ValueError, match=r"add: operands could not be broadcast together with shapes \(3, 4\) \(3,\)"):
        c + _ArrayLike(np.arange(3.0))


def test_dask_array_with_unknown_shape_is_refused_with_the_fix():
    dask_array = pytest.importorskip("dask.array")
    d = dask_array.from_array(np.arange(6.0), chunks=3)
    d = d[d > 1]
    with pytest.raises(ValueError, match=r"unknown lengths.*compute_chunk_sizes"):
        da.from_array(np.arange(4.0), chunks=2) + d


# --- results never alias the user's input (issue 15, item 5) --------------------------------------


def test_single_chunk_results_do_not_share_memory_with_the_input(scheduler):
    src = np.arange(12.0).reshape(3, 4)
    cases = [
        da.from_array(src),  # one chunk: the block is a view src[:, :]
        da.asarray(src),
        da.from_array(src)[1:3],
        da.from_array(src, chunks=2)[0:2, 0:2],  # one block of several
        da.from_array(src[1:]),  # from_array of a slice
        da.from_array(src).T,
        da.from_array(np.float64(5.0) * np.ones(())),  # 0-d
    ]
    for x in cases:
        result = x.compute(scheduler=scheduler)
        assert not np.shares_memory(result, src), x
        assert result.flags.writeable
        np.testing.assert_array_equal(np.asarray(x), result)
        assert not np.shares_memory(np.asarray(x), src)
    result = da.from_array(src).compute(scheduler=scheduler)
    result[0, 0] = -1  # writing to a result leaves the input alone
    assert src[0, 0] == 0


def test_persist_does_not_show_later_mutations_of_the_input(scheduler):
    src = np.arange(6.0)
    for chunks in [-1, 2]:
        persisted = da.from_array(src, chunks=chunks).persist(scheduler=scheduler)
        src[0] = 99.0
        assert persisted.compute(scheduler=scheduler)[0] == 0.0
        assert float(persisted.sum().compute(scheduler=scheduler)) == 15.0
        src[0] = 0.0


def test_computed_blocks_are_not_copied_when_they_own_their_memory():
    from chunkwise.array import expr

    _writeable = expr._writeable  # the finalize step's copy-if-view (a white-box check)
    fresh = np.arange(4.0) + 1
    assert _writeable(fresh) is fresh  # no copy added to results computed by NumPy
    view = fresh[1:]
    assert _writeable(view) is not view and np.array_equal(_writeable(view), view)


# --- NumPy-like errors (issue 15, item 9) ---------------------------------------------------------


def test_bool_of_many_elements_is_numpys_value_error():
    x = da.from_array(np.arange(6).reshape(2, 3), chunks=2)
    with pytest.raises(ValueError, match=r"^The truth value of an array with more than one element is ambiguous\. Use a\.any\(\) or a\.all\(\)$"):
        bool(x)
    with pytest.raises(ValueError, match="truth value of an empty array is ambiguous"):
        bool(x[:0])
    with pytest.raises(ValueError, match="more than one element"):
        if x > 2:
            pass
    assert bool(x[1:2, 2:3]) is True and bool(x[0, 0]) is False  # one element: its truth
    assert bool((x > 4).any()) and not bool((x > 4).all())


@pytest.mark.parametrize("exponent", [-1, np.int64(-2), np.array([1, -1, 2]), np.array(-1)])
def test_integer_to_negative_integer_power_is_refused_at_build_time(exponent):
    x = da.from_array(np.arange(1, 4), chunks=2)
    with pytest.raises(ValueError, match=r"^Integers to negative integer powers are not allowed\.$"):
        x ** exponent
    with pytest.raises(ValueError, match=r"^Integers to negative integer powers are not allowed\.$"):
        np.power(x, exponent)
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        np.arange(1, 4) ** exponent  # what NumPy does


def test_an_empty_integer_array_to_a_negative_power_is_empty_as_in_numpy(scheduler):
    base = np.empty((0,), dtype="i1")
    want = base ** np.int8(-1)  # NumPy's loop never runs: no error, an empty result
    got = (da.from_array(base, chunks=1) ** np.int8(-1)).compute()
    assert got.shape == want.shape == (0,) and got.dtype == want.dtype


def test_integer_power_with_lazy_negative_exponent_fails_at_compute(scheduler):
    x = da.from_array(np.arange(1, 4), chunks=2)
    y = 2 ** (x - 2)  # the exponent's values are known only when computed
    with pytest.raises(ValueError, match="Integers to negative integer powers are not allowed"):
        y.compute(scheduler=scheduler)
    assert_eq(x ** 2, np.arange(1, 4) ** 2, schedulers=(scheduler,))
    assert_eq(x ** -1.0, np.arange(1, 4) ** -1.0, schedulers=(scheduler,))
    assert_eq(x.astype("f8") ** -1, np.arange(1, 4).astype("f8") ** -1, schedulers=(scheduler,))
    assert_eq(x ** np.array([1, 0, 2]), np.arange(1, 4) ** np.array([1, 0, 2]), schedulers=(scheduler,))


@pytest.mark.parametrize("chunks", [True, False, (True, 2), (2, False), ((2, True), (4,)), {0: True}, np.True_])
def test_bool_chunks_are_refused(chunks):
    with pytest.raises(TypeError, match=r"is not a chunk length \(a bool would be read as [01]\); give an int"):
        da.from_array(np.ones((4, 4)), chunks=chunks)
    with pytest.raises(TypeError, match=r"ones: chunks=.*is not a chunk length"):
        da.ones((4, 4), chunks=chunks)
    with pytest.raises(TypeError, match="is not a chunk length"):
        da.ones((4, 4), chunks=2).rechunk(chunks)
