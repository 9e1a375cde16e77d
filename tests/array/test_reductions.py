"""Reductions against NumPy (cumulative sums and diff: test_cumulative.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkwise
import chunkwise.array as da
from chunkwise.array import reductions
from chunkwise.array.testing import assert_eq, with_unknown_chunks
from chunkwise.core.expr import lower

A = np.arange(60, dtype="f8").reshape(4, 15) - 20.5
CHUNKS = ((1, 3), (4, 0, 5, 6))  # uneven, with an empty block


def _x(a=A, chunks=CHUNKS):
    return da.from_array(a, chunks=chunks)





def _unknown(a, chunks, axes):
    return with_unknown_chunks(da.from_array(a, chunks=chunks), axes)


SIMPLE = ["sum", "prod", "mean", "var", "std", "min", "max", "any", "all", "ptp",
          "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax"]


@pytest.mark.parametrize("name", SIMPLE)
@pytest.mark.parametrize("axis", [None, 0, -1, (1, 0), ()])
def test_reductions_match_numpy(name, axis):
    a = A / 10 if "prod" in name else A
    x = _x(a)
    if axis == () and name == "ptp":
        return
    for keepdims in (False, True):
        expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
        assert_eq(getattr(da, name)(x, axis=axis, keepdims=keepdims), expected)


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "min", "max", "any", "all", "ptp",
                                  "argmin", "argmax", "cumsum", "cumprod"])
def test_methods_and_numpy_dispatch(name):
    a = A / 10 if "prod" in name else A
    x = _x(a)
    assert_eq(getattr(x, name)(axis=1), getattr(np, name)(a, axis=1))
    assert_eq(getattr(np, name)(x, axis=0), getattr(np, name)(a, axis=0))


@pytest.mark.parametrize("dtype", ["i4", "u1", "bool", "f4", "c16", "i8"])
@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "min", "max", "any", "all",
                                  "nansum", "nanmean", "nanvar", "nanmin", "argmin", "argmax",
                                  "cumsum", "cumprod", "count_nonzero"])
def test_input_dtypes(dtype, name):
    rng = np.random.default_rng(0)
    a = (rng.random((6, 7)) * 5).astype(dtype) if dtype != "c16" else rng.random((6, 7)) + 1j * rng.random((6, 7))
    if name == "cumprod":
        a = a[:, :3]
    x = da.from_array(a, chunks=(4, 3))
    for axis in (None, 0, 1):
        expected = getattr(np, name)(a, axis=axis)
        assert_eq(getattr(da, name)(x, axis=axis), expected, rtol=1e-5 if dtype == "f4" else 1e-7)


def test_output_dtypes_follow_numpy():
    x = da.from_array(np.arange(10, dtype="i4"), chunks=3)
    assert x.sum().dtype == np.sum(np.arange(3, dtype="i4")).dtype == np.dtype("i8")
    assert x.mean().dtype == np.dtype("f8")
    assert da.from_array(np.ones(3, "f4")).mean().dtype == np.dtype("f4")
    assert da.from_array(np.ones(3, "c8")).var().dtype == np.dtype("f4")
    assert x.argmax().dtype == np.dtype(np.intp)
    assert x.any().dtype == np.dtype(bool)


@pytest.mark.parametrize("dtype", ["f4", "i2", "f8", "c8"])
def test_dtype_argument(dtype):
    a = np.arange(1, 13, dtype="i4").reshape(3, 4)
    x = da.from_array(a, chunks=2)
    for name in ["sum", "prod", "mean", "nansum", "cumsum", "cumprod"]:
        if name in ("mean",) and dtype == "i2":
            continue
        assert_eq(getattr(da, name)(x, axis=0, dtype=dtype), getattr(np, name)(a, axis=0, dtype=dtype))
    for name in ["var", "std"]:
        if dtype in ("f4", "f8"):
            assert_eq(getattr(da, name)(x, dtype=dtype), getattr(np, name)(a, dtype=dtype), rtol=1e-5)


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_ddof(ddof):
    x = _x()
    for name in ["var", "std", "nanvar", "nanstd"]:
        for axis in [None, 0, 1]:
            assert_eq(getattr(da, name)(x, axis=axis, ddof=ddof), getattr(np, name)(A, axis=axis, ddof=ddof))


def test_var_is_numerically_stable():
    a = 1e9 + np.random.default_rng(1).random(10_000)
    x = da.from_array(a, chunks=100)
    assert_eq(x.var(), np.var(a), rtol=1e-6)
    assert_eq(x.std(split_every=2), np.std(a), rtol=1e-6)


def test_complex_variance_and_mean():
    a = np.arange(12).reshape(3, 4) * (1 + 2j)
    x = da.from_array(a, chunks=2)
    assert_eq(x.var(axis=0), a.var(axis=0))
    assert_eq(x.mean(axis=1), a.mean(axis=1))
    assert_eq(x.std(), a.std())


def test_nan_reductions():
    a = A.copy()
    a[0, :5] = np.nan
    a[2, 3] = np.nan
    x = _x(a)
    for name in ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax",
                 "nanargmin", "nanargmax", "nancumsum", "nancumprod"]:
        b = a / 10 if "prod" in name else a
        for axis in [None, 0, 1]:
            assert_eq(getattr(da, name)(_x(b), axis=axis), getattr(np, name)(b, axis=axis))
    for name in ["sum", "mean", "max", "min", "argmin", "argmax"]:  # NaN propagates / wins
        for axis in [None, 0, 1]:
            assert_eq(getattr(da, name)(x, axis=axis), getattr(np, name)(a, axis=axis))


def test_all_nan_slices_behave_like_numpy():
    a = np.ones((3, 4))
    a[:, 1] = np.nan
    x = da.from_array(a, chunks=2)
    for name, message in [("nanmin", "All-NaN"), ("nanmax", "All-NaN"), ("nanmean", "Mean of empty"),
                          ("nanvar", "Degrees of freedom")]:
        with pytest.warns(RuntimeWarning, match=message):
            result = getattr(da, name)(x, axis=0).compute(scheduler="sync")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_array_equal(result, getattr(np, name)(a, axis=0))
    with pytest.raises(ValueError, match="All-NaN slice"):
        da.nanargmin(x, axis=0).compute()
    with pytest.raises(ValueError, match="All-NaN slice"):
        da.nanargmax(da.from_array(np.full(5, np.nan), chunks=2)).compute()


def test_mean_of_empty_warns():
    x = da.from_array(np.ones((0, 3)), chunks=2)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        result = x.mean(axis=0).compute(scheduler="sync")
    assert result.shape == (3,) and np.isnan(result).all()


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmin_argmax(axis, keepdims):
    rng = np.random.default_rng(2)
    a = rng.integers(0, 5, size=(7, 9))  # many ties: the first index wins
    x = da.from_array(a, chunks=((3, 0, 4), (2, 2, 5)))
    for name in ["argmin", "argmax", "nanargmin", "nanargmax"]:
        expected = getattr(np, name)(a, axis=axis, keepdims=keepdims)
        assert_eq(getattr(da, name)(x, axis=axis, keepdims=keepdims, split_every=2), expected)
        assert_eq(getattr(da, name)(x.astype("f8"), axis=axis, keepdims=keepdims), expected)


def test_argmin_with_nan_and_inf():
    a = np.array([np.inf, 3, np.nan, -np.inf, np.nan, -np.inf, 1])
    x = da.from_array(a, chunks=2)
    for name in ["argmin", "argmax", "nanargmin", "nanargmax"]:
        assert_eq(getattr(da, name)(x), getattr(np, name)(a))
    b = np.array([np.nan, np.inf, 0, np.inf])
    assert_eq(da.nanargmax(da.from_array(b, chunks=3)), np.nanargmax(b))


def test_argmin_errors():
    x = _x()
    with pytest.raises(TypeError, match="axis must be an int"):
        da.argmin(x, axis=(0, 1))
    with pytest.raises(ValueError, match="empty sequence"):
        da.argmax(da.from_array(np.ones((0, 3))), axis=0)
    assert_eq(da.argmax(da.from_array(np.ones((0, 3))), axis=1), np.ones((0, 3)).argmax(axis=1))


def test_axis_errors():
    x = _x()
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds for array of dimension 2"):
        x.sum(axis=2)
    with pytest.raises(IndexError):  # AxisError is an IndexError and a ValueError
        x.mean(axis=-3)
    with pytest.raises(ValueError, match="duplicate"):
        x.max(axis=(0, -2))
    with pytest.raises(TypeError, match="axis must be"):
        x.sum(axis=1.5)
    with pytest.raises(TypeError, match="out="):
        np.sum(x, out=np.empty(()))
    with pytest.raises(ValueError, match="split_every must be at least 2"):
        x.sum(split_every=1)
    with pytest.raises(TypeError, match="cannot reduce an array of dtype"):
        da.from_array(np.array(["a", "b"])).mean()


def test_empty_arrays():
    e = np.ones((0, 4))
    x = da.from_array(e, chunks=2)
    assert_eq(x.sum(), e.sum())
    assert_eq(x.sum(axis=0), e.sum(axis=0))
    assert_eq(x.prod(axis=1), e.prod(axis=1))
    assert_eq(x.max(axis=1), e.max(axis=1))
    assert_eq(x.any(), e.any())
    assert_eq(x.all(axis=0), e.all(axis=0))
    with pytest.raises(ValueError, match="zero-size array to reduction operation maximum which has no identity"):
        x.max()
    with pytest.raises(ValueError, match="zero-size array to reduction operation minimum"):
        x.min(axis=0)
    with pytest.raises(ValueError, match="zero-size array"):
        x.ptp(axis=0)


def test_empty_blocks_between_data():
    a = np.arange(10.0)
    x = da.from_array(a, chunks=((0, 3, 0, 0, 7, 0),))
    for name in ["sum", "min", "max", "mean", "var", "argmin", "argmax", "ptp", "nanmin"]:
        assert_eq(getattr(da, name)(x, split_every=2), getattr(np, name)(a))
    assert_eq(da.cumsum(x), np.cumsum(a))
    assert_eq(da.diff(x), np.diff(a))


def test_zero_d_and_one_element():
    z = np.array(4.5)
    x = da.from_array(z)
    for name in ["sum", "prod", "mean", "var", "min", "max", "any", "all", "argmin", "argmax", "ptp"]:
        assert_eq(getattr(da, name)(x), getattr(np, name)(z))
    one = np.array([[7]])
    y = da.from_array(one)
    for name in ["sum", "mean", "std", "min", "argmax"]:
        assert_eq(getattr(da, name)(y, axis=0), getattr(np, name)(one, axis=0))
        assert_eq(getattr(da, name)(y), getattr(np, name)(one))


def test_result_is_numpy_scalar_for_full_reduction():
    value = _x().sum().compute()
    assert isinstance(value, np.float64)
    assert float(value) == A.sum()


def test_count_nonzero():
    a = np.array([[0, 1, 2], [0, 0, 3], [4, 0, 0]])
    x = da.from_array(a, chunks=2)
    assert_eq(da.count_nonzero(x, axis=0), np.count_nonzero(a, axis=0))
    assert_eq(da.count_nonzero(x, axis=1, keepdims=True), np.count_nonzero(a, axis=1, keepdims=True))
    assert int(da.count_nonzero(x)) == 4
    assert int(np.count_nonzero(x)) == 4


def test_average():
    a = np.arange(12.0).reshape(3, 4)
    x = da.from_array(a, chunks=2)
    w = np.array([1.0, 2.0, 3.0, 4.0])
    assert_eq(da.average(x), np.average(a))
    assert_eq(da.average(x, axis=1, weights=w), np.average(a, axis=1, weights=w))
    assert_eq(np.average(x, axis=1, weights=w), np.average(a, axis=1, weights=w))
    w2 = np.arange(12).reshape(3, 4) % 3
    assert_eq(da.average(x, axis=0, weights=w2), np.average(a, axis=0, weights=w2))
    assert_eq(da.average(x, weights=da.from_array(w2, chunks=3)), np.average(a, weights=w2))
    avg, scale = da.average(x, axis=1, weights=w, returned=True)
    expected_avg, expected_scale = np.average(a, axis=1, weights=w, returned=True)
    assert_eq(avg, expected_avg)
    assert_eq(scale, expected_scale)
    avg, scale = da.average(x, axis=0, returned=True)
    expected_avg, expected_scale = np.average(a, axis=0, returned=True)
    assert_eq(avg, expected_avg)
    assert_eq(scale, expected_scale)
    ai = np.arange(6).reshape(2, 3)
    assert_eq(da.average(da.from_array(ai), axis=1, weights=[1, 2, 3]), np.average(ai, axis=1, weights=[1, 2, 3]))
    with pytest.raises(TypeError, match="axis must be specified"):
        da.average(x, weights=w)
    with pytest.raises(ValueError, match="not compatible"):
        da.average(x, axis=0, weights=w)


# --- the tree, the plan, memory ---------------------------------------------------------------


def _count_names(graph, prefix):
    return sum(1 for k in graph if isinstance(k, tuple) and k[0].startswith(prefix))


def test_split_every_shapes_the_tree():
    x = da.from_array(np.arange(64.0), chunks=8)  # 8 blocks
    s = x.sum(split_every=2)
    graph = lower([s.expr], s.expr._output_keys())
    name = s.name
    assert _count_names(graph, f"{name}-partial-0") == 8
    assert _count_names(graph, f"{name}-partial-1") == 4
    assert _count_names(graph, f"{name}-partial-2") == 2
    assert _count_names(graph, f"{name}-partial-3") == 0
    assert sum(1 for k in graph if k == (name,)) == 1
    # the final task combines at most split_every partials
    assert len(graph[(name,)].dependencies) == 2
    assert_eq(s, np.arange(64.0).sum())
    # default: one level (8 <= 16), and more levels make more tasks
    default = x.sum()
    assert len(default.__chunkwise_graph__(optimize_graph=False)) < len(
        s.__chunkwise_graph__(optimize_graph=False)
    )
    assert len(x.sum(split_every=8).__chunkwise_graph__(optimize_graph=False)) == 8 + 8 + 1 + 1


def test_split_every_dict_and_2d():
    a = np.arange(400.0).reshape(20, 20)
    x = da.from_array(a, chunks=2)  # 10 x 10 blocks
    s = x.sum(split_every={0: 2, 1: 5})
    graph = lower([s.expr], s.expr._output_keys())
    assert _count_names(graph, f"{s.name}-partial-1") == 5 * 2
    assert max(len(t.dependencies) for t in graph.values()) <= 10
    assert_eq(s, a.sum())
    assert_eq(x.mean(axis=0, split_every={0: 3}), a.mean(axis=0))
    assert_eq(x.argmin(axis=1, split_every=3), a.argmin(axis=1))
    assert_eq(x.var(axis=(0, 1), split_every=4), a.var())


def test_single_block_along_axes_is_one_task_per_output():
    x = da.from_array(np.ones((4, 6)), chunks=(4, 2))
    s = x.sum(axis=0)
    graph = lower([s.expr], s.expr._output_keys())
    assert not any(k[0].startswith(f"{s.name}-partial") for k in graph if isinstance(k, tuple))
    assert_eq(s, np.ones((4, 6)).sum(axis=0))


class _CountingSource:
    def __init__(self, a):
        self.a = a
        self.shape = a.shape
        self.dtype = a.dtype
        self.calls = 0

    def __getitem__(self, index):
        self.calls += 1
        return self.a[index]


def test_several_reductions_read_each_block_once(scheduler):
    a = np.random.default_rng(3).random((40, 30))
    source = _CountingSource(a)
    x = da.from_array(source, chunks=(10, 10), name="counted")
    mx, amx, mn = chunkwise.compute(x.max(), x.argmax(), x.mean(), scheduler=scheduler)
    assert source.calls == x.npartitions == 12
    assert mx == a.max() and amx == a.argmax() and np.isclose(mn, a.mean())


def test_building_does_not_lower(monkeypatch):
    calls = []
    original = reductions.Reduction._task
    monkeypatch.setattr(reductions.Reduction, "_task", lambda self, key: calls.append(key) or original(self, key))
    x = da.from_array(np.ones((200, 200)), chunks=1)  # 40,000 blocks
    y = x.sum(axis=0)
    z = x.mean()
    w = x.argmax(axis=1)
    assert y.shape == (200,) and y.chunks == ((1,) * 200,) and z.shape == () and w.numblocks == (200,)
    assert calls == []
    # naming is cheap too (no lowering), deterministic, and tells different reductions apart
    assert z.expr.name == x.mean().expr.name != x.mean(axis=0).expr.name
    assert y.expr.name != x.sum(axis=1).expr.name and w.expr.name.startswith("argmax")
    assert calls == []


def test_unknown_chunks():
    a = np.arange(12.0).reshape(3, 4)
    x = _unknown(a, 2, (0,))
    s = x.sum(axis=0)
    assert s.chunks == ((2, 2),)
    np.testing.assert_array_equal(s.compute(), a.sum(axis=0))
    np.testing.assert_array_equal(x.max(axis=1).compute(), a.max(axis=1))
    assert np.isnan(x.max(axis=1).shape[0])
    assert x.mean().compute() == a.mean()
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        x.argmax()
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        x.argmin(axis=0)
    np.testing.assert_array_equal(x.argmin(axis=1).compute(), a.argmin(axis=1))


def test_explain_and_names_are_deterministic():
    x = _x()
    assert x.sum(axis=0).name == x.sum(axis=0).name
    assert x.sum(axis=0).name != x.sum(axis=1).name
    assert "Reduction: sum" in x.sum().explain(show=False)


# --- hypothesis -----------------------------------------------------------------------------


@st.composite
def _arrays_with_chunks(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(0 if ndim > 1 else 1, 6)) for _ in range(ndim))
    chunks = []
    for n in shape:
        parts = []
        left = n
        while left > 0:
            step = draw(st.integers(0, left))
            parts.append(step)
            left -= step
        chunks.append(tuple(parts) or (0,))
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple)))
    keepdims = draw(st.booleans())
    split_every = draw(st.sampled_from([None, 2, 3]))
    return shape, tuple(chunks), axis, keepdims, split_every


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.large_base_example, HealthCheck.too_slow])
@given(_arrays_with_chunks())
def test_hypothesis_sum_mean_max(case):
    shape, chunks, axis, keepdims, split_every = case
    a = np.random.default_rng(0).standard_normal(shape)
    x = da.from_array(a, chunks=chunks)
    kwargs = {"axis": axis, "keepdims": keepdims}
    assert_eq(x.sum(split_every=split_every, **kwargs), a.sum(**kwargs), schedulers=("sync",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert_eq(x.mean(split_every=split_every, **kwargs), a.mean(**kwargs), schedulers=("sync",))
    axes = range(a.ndim) if axis is None else np.atleast_1d(axis)
    if all(shape[d] > 0 for d in axes):
        assert_eq(x.max(split_every=split_every, **kwargs), a.max(**kwargs), schedulers=("sync",))
    else:
        with pytest.raises(ValueError, match="zero-size"):
            x.max(**kwargs)


# --- the first stage built with a fused elementwise input --------------------------------------


def test_reduction_first_stage_runs_fused_input_in_one_task():
    from chunkwise.array.treereduce import chunk_program_call
    from chunkwise.core.graph import Task

    x = da.ones((40, 30), chunks=(10, 10))
    z = ((x + 1) * 2).sum(axis=0, split_every=2)
    graph = z.__chunkwise_graph__()
    first = [node for key, node in graph.items() if "partial-0" in str(key[0])]
    assert len(first) == 12
    for node in first:
        assert node.func is chunk_program_call and not node.dependencies
        assert not any(type(a) is Task for a in node.args)  # nothing nested: one task object
    assert_eq(z, ((np.ones((40, 30)) + 1) * 2).sum(axis=0))


def test_reduction_first_stage_with_fused_input_from_data():
    v = np.arange(35.0).reshape(5, 7)
    x = da.from_array(v, chunks=(2, 3))
    y = da.sin(x) ** 2 + da.cos(x)
    assert_eq(y.sum(), (np.sin(v) ** 2 + np.cos(v)).sum())
    assert_eq(y.mean(axis=1), (np.sin(v) ** 2 + np.cos(v)).mean(axis=1))
    assert_eq(y.argmax(axis=0), (np.sin(v) ** 2 + np.cos(v)).argmax(axis=0))  # with offsets
    assert_eq(y.max(axis=0, keepdims=True), (np.sin(v) ** 2 + np.cos(v)).max(axis=0, keepdims=True))
    # the fused input also read elsewhere: not built into the reduction's tasks
    assert_eq(y.sum() + y, (np.sin(v) ** 2 + np.cos(v)).sum() + (np.sin(v) ** 2 + np.cos(v)))


# --- object dtype: NumPy's result dtype and Python values (issue 15, item 2) -------------------


def _object_data():
    from decimal import Decimal
    from fractions import Fraction

    def obj(values):
        return np.array(values, dtype=object).reshape(3, 4)

    return {
        "floats-and-ints": obj([1, 2.5, 3, 4.25, 5, 0.5, 7, 8.75, 9, 10, 0.125, 12]),
        "big-ints": obj([2**70, 3, 2**65, 7, 1, 2**80, 5, 11, 2**64, 13, 17, 19]),
        "decimal": obj([Decimal(v) for v in ["1.1", "2.2", "3.3", "0.5", "2", "7.25", "0.1", "4",
                                             "9.9", "1.5", "3", "6.75"]]),
        "fraction": obj([Fraction(i + 1, 3 * i + 2) for i in range(12)]),
        "str": obj(list("bdacfehgjilk")),
    }


OBJECT_DATA = _object_data()
OBJECT_REDUCTIONS = SIMPLE + ["argmin", "argmax", "nanargmin", "nanargmax", "count_nonzero"]


def _assert_same_objects(got, expected):
    """Same dtype/shape and, element by element, the same Python type and (close) value."""
    def same(g, e):
        if isinstance(e, float):
            assert isinstance(g, float) and np.isclose(g, e, rtol=1e-12), (g, e)
        elif type(e).__name__ == "Decimal":  # 28 digits: the merge of partials rounds differently
            assert type(g) is type(e) and abs(g - e) <= abs(e) * type(e)("1e-20"), (g, e)
        else:
            assert type(g) is type(e) and g == e, (g, e)
    if isinstance(expected, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == expected.dtype, (got, expected)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        for g, e in zip(got.ravel().tolist() if got.dtype != object else got.ravel(),
                        expected.ravel().tolist() if expected.dtype != object else expected.ravel()):
            same(g, e)
    else:
        same(got, expected)


def _check_object_case(func_name, data, chunks, axis, scheduler, numpy_func=None):
    numpy_func = numpy_func or getattr(np, func_name)
    kwargs = {} if axis == "none" else {"axis": axis}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            try:
                expected = numpy_func(data, **kwargs)
            except TypeError as exc:
                if "sqrt" not in str(exc) or "std" not in func_name or axis == "none":
                    raise
                # NumPy's std of Python floats fails over an axis (float has no .sqrt());
                # chunkwise gives the square roots of the variances, as NumPy does over all axes
                variance = getattr(np, func_name.replace("std", "var"))(data, **kwargs)
                expected = np.frompyfunc(np.sqrt, 1, 1)(variance)
        except (TypeError, ValueError, OverflowError) as exc:
            with pytest.raises(TypeError if isinstance(exc, TypeError) else type(exc)):
                getattr(da, func_name)(da.from_array(data, chunks=chunks), **kwargs).compute(scheduler=scheduler)
            return
        x = getattr(da, func_name)(da.from_array(data, chunks=chunks), **kwargs)
        got = x.compute(scheduler=scheduler)
    if isinstance(expected, np.ndarray):
        assert x.dtype == expected.dtype and x.shape == expected.shape, (x.dtype, expected.dtype)
    elif func_name.startswith(("arg", "nanarg", "count", "any", "all")):
        assert x.dtype == np.asarray(expected).dtype
    else:  # a Python scalar: the metadata keeps object, as NumPy does over an axis
        assert x.dtype == object
    _assert_same_objects(got, expected)


@pytest.mark.parametrize("data_name", list(OBJECT_DATA))
@pytest.mark.parametrize("func_name", OBJECT_REDUCTIONS)
def test_object_dtype_reductions_match_numpy(func_name, data_name, scheduler):
    data = OBJECT_DATA[data_name]
    if func_name == "ptp" and data_name in ("floats-and-ints", "big-ints"):
        pytest.skip("NumPy's ptp of objects casts through int64 (np.int64 result, OverflowError)")
    for chunks in [((2, 1), (3, 1)), -1]:  # uneven blocks, one block
        for axis in ["none", 0, 1]:
            _check_object_case(func_name, data, chunks, axis, scheduler)


def test_object_dtype_reductions_keep_object_metadata():
    x = da.from_array(OBJECT_DATA["decimal"], chunks=2)
    for name in ["sum", "prod", "mean", "var", "std", "min", "max", "nansum", "nanmean", "ptp"]:
        assert getattr(da, name)(x).dtype == object, name
        assert getattr(da, name)(x, axis=0).dtype == np.asarray(getattr(np, name)(x.compute(), axis=0)).dtype
    assert da.any(x).dtype == bool and da.argmax(x).dtype == np.intp


def test_object_dtype_examples_from_the_issue(scheduler):
    x = da.from_array(np.array([1, 2.5, 3], dtype=object), chunks=2)
    assert x.sum().compute(scheduler=scheduler) == 6.5
    half = da.from_array(np.array([0.5, 0.5], dtype=object), chunks=1)
    assert half.prod().compute(scheduler=scheduler) == 0.25
    big = da.from_array(np.array([2**70, 2**70], dtype=object), chunks=1)
    assert big.sum().compute(scheduler=scheduler) == 2**71
    words = da.from_array(np.array(["ab", "cd", "ef"], dtype=object), chunks=2)
    assert words.sum().compute(scheduler=scheduler) == "abcdef"
    assert words.max().compute(scheduler=scheduler) == "ef"


def test_object_dtype_nan_reductions_skip_nan_objects(scheduler):
    data = np.array([1.5, np.nan, 2, 4.0, np.nan], dtype=object)
    x = da.from_array(data, chunks=2)
    for name in ["nansum", "nanmean", "nanvar", "nanmax", "nanmin"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(np, name)(data)
        got = getattr(da, name)(x).compute(scheduler=scheduler)
        assert np.isclose(float(got), float(expected)), (name, got, expected)
