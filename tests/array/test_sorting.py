"""``sort``/``argsort`` (sample sort), ``partition``/``argpartition``, ``topk``/``argtopk``: against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.sorting import SampleSort, balanced_chunks
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(42)

DATA_1D = {
    "floats": rng.random(1000),
    "ints-with-ties": rng.integers(0, 7, 1000),
    "all-equal": np.full(600, 3.0),
    "sorted": np.arange(777.0),
    "reversed": np.arange(777)[::-1].copy(),
    "nans": np.where(rng.random(500) < 0.2, np.nan, rng.normal(size=500)),
    "skewed": np.concatenate([np.zeros(900), rng.random(100)]),
}
CHUNKINGS = [100, 37, "uneven", 999]


@pytest.mark.parametrize("name", sorted(DATA_1D))
@pytest.mark.parametrize("chunks", CHUNKINGS, ids=str)
def test_sort_and_argsort_1d(name, chunks):
    a = DATA_1D[name]
    if chunks == "uneven":
        chunks = ((1, 2, len(a) // 2, 3, len(a) - len(a) // 2 - 6),)
    x = da.from_array(a, chunks=chunks)
    s = da.sort(x)
    if x.numblocks[0] > 1:
        assert isinstance(s.expr, SampleSort)
        assert s.chunks == (balanced_chunks(len(a), x.numblocks[0]),)
        assert max(s.chunks[0]) - min(s.chunks[0]) <= 1
    assert_eq(s, np.sort(a))
    assert_eq(da.argsort(x, kind="stable"), np.argsort(a, kind="stable"))  # ties broken by position


@pytest.mark.parametrize("axis", [0, 1, 2, -1, None])
def test_sort_nd_any_axis(axis):
    a = rng.integers(0, 20, (13, 11, 9)).astype(float)
    a[rng.random(a.shape) < 0.05] = np.nan
    x = da.from_array(a, chunks=(4, (2, 5, 4), 3))
    assert_eq(da.sort(x, axis=axis), np.sort(a, axis=axis))
    assert_eq(da.argsort(x, axis=axis), np.argsort(a, axis=axis, kind="stable"))
    assert_eq(np.sort(x, axis=axis), np.sort(a, axis=axis))


def test_sort_methods_and_single_block_axis():
    a = rng.random((6, 8))
    x = da.from_array(a, chunks=(2, 8))
    assert_eq(da.sort(x), np.sort(a))  # one block on the axis: NumPy per block
    y = da.from_array(a, chunks=(4, 3))
    kept = y + 0
    assert y.sort(axis=0) is None  # in place, as ndarray.sort: the plan is swapped
    assert_eq(y, np.sort(a, axis=0))
    assert_eq(kept, a)  # arrays built before keep their values
    y.partition(2, axis=1)
    assert (np.asarray(y)[:, 2] == np.sort(np.sort(a, axis=0), axis=1)[:, 2]).all()
    assert_eq(x.argsort(axis=0), np.argsort(a, axis=0, kind="stable"))
    assert_eq(da.sort(x, axis=0, stable=True), np.sort(a, axis=0))
    assert_eq(da.sort(da.from_array(np.array([], dtype=float), chunks=1)), np.array([]))


def test_sort_errors_name_operation():
    x = da.from_array(np.arange(5), chunks=2)
    with pytest.raises(ValueError, match="sort: kind must be one of"):
        da.sort(x, kind="bogo")
    with pytest.raises(NotImplementedError, match="argsort: order="):
        da.argsort(x, order="f")
    with pytest.raises(ValueError, match="sort: .*unknown chunk sizes"):
        da.sort(x[x > 1])


@pytest.mark.parametrize("kth", [0, 3, -1, [1, 7]])
def test_partition_and_argpartition(kth):
    a = rng.permutation(20).astype(float)
    for chunks in (20, 6):
        x = da.from_array(a, chunks=chunks)
        p = np.asarray(da.partition(x, kth))
        ip = np.asarray(da.argpartition(x, kth))
        expected = np.sort(a)
        for k in np.atleast_1d(kth):
            assert p[k] == expected[k]
            assert (p[:k % 20] <= p[k]).all() and (p[k % 20:] >= p[k]).all()
            assert a[ip[k]] == expected[k]
        if chunks == 20:
            assert_eq(da.partition(x, kth), np.partition(a, kth))
    with pytest.raises(ValueError, match="partition: kth\\(=20\\) out of bounds"):
        da.partition(da.from_array(a, chunks=6), 20)


@pytest.mark.parametrize("k", [1, 5, -1, -5, 30])
@pytest.mark.parametrize("chunks", [(7, 9), (30, 3), ((1, 29), (2, 1, 24))], ids=str)
def test_topk_and_argtopk(k, chunks):
    a = rng.permutation(30 * 27).reshape(30, 27).astype(float)
    x = da.from_array(a, chunks=chunks)
    for axis in (0, 1):
        if abs(k) > a.shape[axis]:
            continue
        expected = np.sort(a, axis=axis)
        expected = np.flip(expected, axis=axis)[(slice(None),) * axis + (slice(0, k),)] if k > 0 else \
            expected[(slice(None),) * axis + (slice(0, -k),)]
        assert_eq(da.topk(x, k, axis=axis, split_every=2), expected)
        assert_eq(x.topk(k, axis=axis), expected)
        idx = da.argtopk(x, k, axis=axis)
        assert idx.dtype == np.intp
        assert_eq(np.take_along_axis(a, np.asarray(idx), axis=axis), expected)


def test_topk_nans_largest_and_errors():
    a = np.array([1.0, np.nan, 3.0, 2.0, np.nan, 0.5])
    x = da.from_array(a, chunks=2)
    got = np.asarray(da.topk(x, 3))
    assert np.isnan(got[:2]).all() and got[2] == 3.0
    assert_eq(da.topk(x, -2), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="topk: k must be a non-zero integer"):
        da.topk(x, 0)
    with pytest.raises(ValueError, match="argtopk: \\|k\\|=7 is larger than axis 0"):
        da.argtopk(x, 7)


def test_sample_sort_buckets_bound_the_work_on_random_chunkings():
    """Each output block's ranks lie in its two small boundary buckets and the one between them,
    which hold at most 1.25 blocks' worth of keys (the splitters' rank bound); results are exact."""
    from chunkwise.array import sorting

    gen = np.random.default_rng(1)
    for trial in range(60):
        n = int(gen.integers(2, 3000))
        p = int(gen.integers(2, 30))
        cuts = np.sort(gen.choice(np.arange(1, n), size=min(p - 1, n - 1), replace=False))
        chunks = tuple(np.diff(np.concatenate([[0], cuts, [n]])).tolist())
        a = [gen.random(n), gen.integers(0, 3, n), np.sort(gen.random(n)),
             np.where(gen.random(n) < 0.5, np.nan, 1.0), np.sort(gen.random(n))[::-1]][trial % 5]
        x = da.from_array(a, chunks=(chunks,))
        np.testing.assert_array_equal(np.asarray(da.argsort(x)), np.argsort(a, kind="stable"))
        node = da.sort(x).expr
        plan = node._plan
        offsets = plan["offsets"]
        blocks = [sorting.sort_block(a[offsets[i]:offsets[i + 1]], 0, offsets[i], "values") for i in range(len(chunks))]
        splitters = sorting.choose_splitters(blocks, tuple(offsets[:-1]), tuple(plan["ranks"][1:-1]), plan["step"])
        starts = sorting.bucket_starts([sorting.cut_block(b, splitters, offsets[i]) for i, b in enumerate(blocks)])[0]
        ranks = plan["ranks"]
        for k in range(len(ranks) - 1):
            first = 2 * k - 1 if k else 0
            last = 2 * k + 1 if k < len(ranks) - 2 else len(starts) - 2
            assert starts[first] <= ranks[k] and starts[last + 1] >= ranks[k + 1], (trial, k, starts, ranks)
            if plan["step"] > 1:
                assert starts[last + 1] - starts[first] <= 1.25 * (ranks[k + 1] - ranks[k]) + 2, (trial, k)


@pytest.mark.parametrize("k", [5, -5, 40, -1])
def test_topk_on_long_blocks_prefiltered_by_a_sample_matches_numpy(k):
    from chunkwise.array.sorting import topk_candidates

    gen = np.random.default_rng(7)
    ints = gen.integers(0, 50, 30_000)  # many ties at the threshold
    floats = gen.random(30_000)
    floats[gen.integers(0, 30_000, 30)] = np.nan  # NaNs rank largest, as in np.sort
    for data in (ints, floats):
        x = da.from_array(data, chunks=((10_000, 12_000, 8_000),))
        assert topk_candidates(data[:10_000], k) is not None  # the prefilter path is the one taken
        expected = np.sort(data)[::-1][:k] if k > 0 else np.sort(data)[:-k]
        np.testing.assert_array_equal(da.topk(x, k).compute(), expected)
        picked = data[da.argtopk(x, k).compute()]
        np.testing.assert_array_equal(picked, expected)


# --- 0-d arrays: NumPy argsorts them as 1-d; sort needs axis=None ------------------------------


@pytest.mark.parametrize("value", [np.array(3.0), np.array(7, dtype=np.int8), np.array(np.nan), np.array(True)])
@pytest.mark.parametrize("axis", [-1, 0, None])
@pytest.mark.parametrize("op", ["argsort", "argpartition"])
def test_argsort_of_a_0d_array_matches_numpy(value, axis, op):
    args = (0,) if op == "argpartition" else ()
    expected = getattr(np, op)(value, *args, axis=axis)
    assert_eq(getattr(da, op)(da.from_array(value), *args, axis=axis), expected)
    assert_eq(getattr(np, op)(da.from_array(value), *args, axis=axis), expected)  # __array_function__


def test_argsort_of_a_0d_array_other_forms():
    x = da.from_array(np.array(2.5))
    assert_eq(x.argsort(), np.array(2.5).argsort())
    assert_eq(da.argsort(x, stable=True), np.argsort(np.array(2.5), stable=True))
    for op in (da.argsort, da.argpartition):
        args = (0,) if op is da.argpartition else ()
        with pytest.raises(np.exceptions.AxisError, match=rf"{op.__name__}: axis 1 is out of bounds for array of dimension 1"):
            op(x, *args, axis=1)  # NumPy: the same error (the 0-d array taken as 1-d)
        with pytest.raises(np.exceptions.AxisError):
            getattr(np, op.__name__)(np.array(2.5), *args, axis=1)


@pytest.mark.parametrize("op", ["sort", "partition"])
def test_sort_of_a_0d_array_matches_numpy(op):
    value = np.array(4.0)
    args = (0,) if op == "partition" else ()
    assert_eq(getattr(da, op)(da.from_array(value), *args, axis=None), getattr(np, op)(value, *args, axis=None))
    for axis in (-1, 0):
        with pytest.raises(np.exceptions.AxisError):
            getattr(np, op)(value, *args, axis=axis)
        with pytest.raises(np.exceptions.AxisError, match=rf"{op}: axis {axis} is out of bounds for array of dimension 0"):
            getattr(da, op)(da.from_array(value), *args, axis=axis)
