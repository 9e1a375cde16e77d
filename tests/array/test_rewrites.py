"""Plan rewrites that do less work than asked (chunkwise.array.rewrites).

Each rule is checked on the optimized plan (the node is gone or replaced, the
task count) and on the value against NumPy, with uneven chunks, on the sync
and threads schedulers.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.testing import assert_eq
from chunkwise.base import graph_of
from chunkwise.core.expr import walk
from chunkwise.scheduling import get_sync

RNG = np.random.default_rng(19)
A = RNG.standard_normal((23, 17))
CHUNKS = ((5, 7, 4, 7), (6, 3, 8))  # uneven on both axes


def _x(a=A, chunks=CHUNKS):
    return da.from_array(a, chunks=chunks)


def _nodes(array, *types):
    """The optimized plan's nodes of the given type names."""
    names = set(types)
    return [n for n in walk([array.expr.optimize()]) if type(n).__name__ in names]


def _tasks(*arrays):
    graph, _ = graph_of(list(arrays), True)
    return len(graph)


def _unoptimized_tasks(*arrays):
    graph, _ = graph_of(list(arrays), False)
    return len(graph)


class _Counter:
    """A map_blocks function counting the blocks it is called on (thread-safe)."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, block):
        with self.lock:
            self.calls += 1
        return block * 1.0


# --- 1. a rechunk nobody observes is dropped -------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "mean", "std", "var", "min", "max", "prod", "any", "all", "argmax", "nanmean"])
def test_rechunk_feeding_a_full_reduction_is_dropped(name, scheduler):
    x = _x()
    y = getattr(da, name)(x.rechunk((6, 9)))
    assert not _nodes(y, "Rechunk")
    assert _tasks(y) == _tasks(getattr(da, name)(x))
    expected = getattr(np, name)(A)
    value = y.compute(scheduler=scheduler)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    assert np.asarray(value).dtype == np.asarray(expected).dtype


def test_rechunk_through_elementwise_ops_is_dropped(scheduler):
    x = _x()
    y = (np.sin(x.rechunk(4)) * 2 + 1).sum()
    assert not _nodes(y, "Rechunk")
    np.testing.assert_allclose(y.compute(scheduler=scheduler), (np.sin(A) * 2 + 1).sum())
    # the same rechunk read twice by one elementwise op, and a broadcast scalar array
    r = x.rechunk(5)
    z = (r * r + da.from_array(np.array([[0.5]]))).mean()
    assert not _nodes(z, "Rechunk")
    np.testing.assert_allclose(z.compute(scheduler=scheduler), (A * A + 0.5).mean())
    # read through two paths by one elementwise op: both are rewritten at once
    w = da.where(r > 0, r, 0.0).sum()
    assert not _nodes(w, "Rechunk")
    np.testing.assert_allclose(w.compute(scheduler=scheduler), np.where(A > 0, A, 0.0).sum())
    v = (da.where(r > 0, r, 0.0) * np.cos(r)).max(axis=0)
    np.testing.assert_allclose(v.compute(scheduler=scheduler), (np.where(A > 0, A, 0.0) * np.cos(A)).max(axis=0))


def test_rechunk_feeding_a_partial_reduction_keeps_only_the_observed_axes(scheduler):
    x = _x()
    y = x.rechunk((6, 9)).sum(axis=0)
    rechunks = _nodes(y, "Rechunk")
    # only axis 1 (kept by the reduction) is rechunked: the output's chunks are unchanged
    assert rechunks and all(n.chunks[0] == x.chunks[0] for n in rechunks)
    assert y.chunks == ((9, 8),)
    assert_eq(y, A.sum(axis=0), schedulers=(scheduler,))
    # a rechunk of the reduced axis alone is dropped entirely
    z = x.rechunk({0: 2}).max(axis=0)
    assert not _nodes(z, "Rechunk")
    assert z.chunks == x.chunks[1:]
    assert_eq(z, A.max(axis=0), schedulers=(scheduler,))


def test_rechunk_that_a_consumer_observes_is_kept(scheduler):
    x = _x()
    r = x.rechunk(6)
    total, whole = r.sum(), r + 1
    plan = chunkwise.core.expr.Tuple(total.expr, whole.expr).optimize()
    assert any(type(n).__name__ == "Rechunk" for n in walk([plan.operands[0]]))
    t, w = chunkwise.compute(total, whole, scheduler=scheduler)
    np.testing.assert_allclose(t, A.sum())
    np.testing.assert_allclose(w, A + 1)
    # a map_blocks consumer sees blocks: the rechunk stays
    m = r.map_blocks(lambda b: b * 0 + b.shape[0], dtype=float).sum()
    assert _nodes(m, "Rechunk")
    expected = sum(float(rows) * rows * 17 for rows in (6, 6, 6, 5))
    assert float(m.compute(scheduler=scheduler)) == expected
    # a rechunk whose result is the output keeps its chunks
    assert r.expr.optimize().chunks == ((6, 6, 6, 5), (6, 6, 5))


def test_rechunk_with_a_differently_chunked_operand_is_kept():
    x = _x()
    other = da.from_array(A, chunks=6)
    y = (x.rechunk(6) + other).sum()
    assert _nodes(y, "Rechunk")
    np.testing.assert_allclose(float(y), (A + A).sum())


# --- 2. a reduction of a boolean-masked array --------------------------------------------------


MASKED = ["sum", "prod", "mean", "std", "var", "min", "max", "any", "all", "count_nonzero",
          "nansum", "nanmean", "nanstd", "nanmin", "nanmax"]


@pytest.mark.parametrize("name", MASKED)
def test_masked_reduction_becomes_a_where_reduction(name, scheduler):
    a = A.copy()
    a[3, 4] = np.nan
    x = _x(a)
    selected = getattr(da, name)(x[x > 0.3] if "nan" in name else x[x > 0.3])
    plan = selected.expr.optimize()
    kinds = {type(n).__name__ for n in walk([plan])}
    assert "BooleanMask" not in kinds and "MaskedReduction" in plan.explain(show=False)
    assert not any(np.isnan(c) for cs in selected.chunks for c in cs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = getattr(np, name)(a[a > 0.3])
        value = selected.compute(scheduler=scheduler)
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    assert np.asarray(value).dtype == np.asarray(expected).dtype


@pytest.mark.parametrize("dtype", ["int16", "uint8", "bool", "float32"])
@pytest.mark.parametrize("name", ["sum", "mean", "min", "max", "var"])
def test_masked_reduction_dtypes(dtype, name, scheduler):
    a = (RNG.integers(0, 100, size=(23, 17)) % (2 if dtype == "bool" else 100)).astype(dtype)
    x = _x(a)
    y = getattr(da, name)(x[x != a.flat[0]])
    assert _nodes(y, "MaskedReduction")
    expected = getattr(np, name)(a[a != a.flat[0]])
    value = y.compute(scheduler=scheduler)
    assert np.asarray(value).dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_masked_min_of_nothing_raises_numpys_error(scheduler):
    x = _x()
    for name in ("min", "max"):
        with pytest.raises(ValueError, match="zero-size array to reduction operation"):
            getattr(da, name)(x[x > 100]).compute(scheduler=scheduler)
    # sum and count of nothing are 0; mean warns and is nan, as NumPy
    assert float(x[x > 100].sum().compute(scheduler=scheduler)) == 0.0
    assert int(da.count_nonzero(x[x > 100]).compute(scheduler=scheduler)) == 0
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert np.isnan(x[x > 100].mean().compute(scheduler=scheduler))


def test_masked_nanmin_of_all_nan_selection_is_nan_with_a_warning():
    a = np.full((6, 4), np.nan)
    a[0, 0] = 5.0
    x = da.from_array(a, chunks=(2, 3))
    y = da.nanmin(x[x != 5.0])
    assert _nodes(y, "MaskedReduction")
    with pytest.warns(RuntimeWarning, match="All-NaN"):
        assert np.isnan(y.compute())


def test_masked_std_is_numerically_stable(scheduler):
    a = 1e9 + np.random.default_rng(1).standard_normal(10_000)
    x = da.from_array(a, chunks=(997,))
    y = x[x > 1e9].std()
    assert _nodes(y, "MaskedReduction")
    exact = (a - 1e9)[a > 1e9].std()  # the shift is exact for these values
    np.testing.assert_allclose(y.compute(scheduler=scheduler), exact, rtol=5e-9)  # as x.std()


def test_masked_reduction_with_a_row_mask_and_a_mask_array(scheduler):
    x = _x()
    rows = x[:, 0] > 0  # a 1-d mask selecting rows of a 2-d array
    y = x[rows].sum()
    assert _nodes(y, "MaskedReduction")
    np.testing.assert_allclose(y.compute(scheduler=scheduler), A[A[:, 0] > 0].sum())
    z = x[rows].mean(axis=0)  # a partial reduction keeps the selection
    assert not _nodes(z, "MaskedReduction")
    np.testing.assert_allclose(z.compute(scheduler=scheduler), A[A[:, 0] > 0].mean(axis=0))


def test_masked_reduction_reads_no_rechunked_copy():
    x = _x()
    y = x[x > 0].sum()
    # the 2-d mask made boolean_mask line up rows in C order; a where-reduction needs no order
    assert not _nodes(y, "Rechunk")
    assert _tasks(y) <= _tasks(x.sum()) + x.npartitions


def test_masked_argmax_is_not_rewritten():
    x = _x()
    # an index into the selection needs the selection's lengths: refused as before
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        x[x > 0].argmax()


# --- 3. an index into a cumulative result ----------------------------------------------------


@pytest.mark.parametrize("name,total", [("cumsum", "sum"), ("cumprod", "prod"), ("nancumsum", "nansum"), ("nancumprod", "nanprod")])
@pytest.mark.parametrize("k", [-1, 0, 6, 12])
def test_index_into_cumulative_is_a_reduction(name, total, k, scheduler):
    a = 1 + A / 10
    a[2, 3] = np.nan
    x = _x(a)
    y = getattr(da, name)(x, axis=0)[k]
    assert not _nodes(y, "Cumulative")
    assert _nodes(y, "Reduction")
    np.testing.assert_allclose(y.compute(scheduler=scheduler), getattr(np, name)(a, axis=0)[k])
    z = getattr(da, name)(x, axis=1)[3:9, k]
    assert not _nodes(z, "Cumulative")
    np.testing.assert_allclose(z.compute(scheduler=scheduler), getattr(np, name)(a, axis=1)[3:9, k])


def test_index_into_cumulative_keeps_integer_dtype(scheduler):
    a = RNG.integers(-5, 5, size=40).astype("int8")
    x = da.from_array(a, chunks=((7, 13, 20),))
    y = da.cumsum(x)[-1]
    assert y.dtype == np.cumsum(a).dtype
    assert_eq(y, np.cumsum(a)[-1], schedulers=(scheduler,))
    assert not _nodes(y, "Cumulative")


def test_slice_to_the_end_of_cumulative_reduces_the_prefix(scheduler):
    x = _x()
    y = x.cumsum(axis=0)[9:]
    cums = _nodes(y, "Cumulative")
    assert len(cums) == 1 and cums[0].array.shape == (14, 17)  # only rows 9: are scanned
    assert_eq(y, A.cumsum(axis=0)[9:], schedulers=(scheduler,))
    z = x.cumprod(axis=1)[2:5, 4:12]
    assert_eq(z, A.cumprod(axis=1)[2:5, 4:12], schedulers=(scheduler,))


def test_cumulative_needed_whole_is_only_sliced_from():
    x = _x()
    c = x.cumsum(axis=0)
    last, whole = c[-1], c * 2
    plan = chunkwise.core.expr.Tuple(last.expr, whole.expr).optimize()
    assert any(type(n).__name__ == "Cumulative" for n in walk([plan]))
    lv, wv = chunkwise.compute(last, whole)
    np.testing.assert_allclose(lv, A.cumsum(axis=0)[-1])
    np.testing.assert_allclose(wv, A.cumsum(axis=0) * 2)


# --- 4. several reductions share one pass ----------------------------------------------------


def test_several_reductions_read_their_input_once(scheduler):
    counter = _Counter()
    x = _x().map_blocks(counter, dtype=float)
    results = [x.sum(), x.mean(), x.std(), x.min(), x.max()]
    separate = sum(_tasks(r) for r in results)
    together = _tasks(*results)
    blocks = x.npartitions
    # one chunk task per block (the map_blocks inlined into it), one combine, one part per result
    assert together == blocks + 1 + len(results)
    assert together < separate - 3 * blocks
    values = chunkwise.compute(*results, scheduler=scheduler)
    assert counter.calls == blocks
    expected = (A.sum(), A.mean(), A.std(), A.min(), A.max())
    np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_mean_and_std_inside_one_expression_share_a_pass(scheduler):
    counter = _Counter()
    x = _x().map_blocks(counter, dtype=float)
    z = (x - x.mean()) / x.std()
    plan = z.expr.optimize()
    assert "SharedReduction: [" in plan.explain(show=False)
    value = z.compute(scheduler=scheduler)
    np.testing.assert_allclose(value, (A - A.mean()) / A.std())
    # each block is computed once, for the shared pass and the elementwise output both
    assert counter.calls == x.npartitions


def test_shared_reductions_over_an_axis_and_keepdims(scheduler):
    x = _x()
    a, b, c = x.sum(axis=0), x.max(axis=0, keepdims=True), x.var(axis=0, ddof=1)
    assert_eq(a, A.sum(axis=0), schedulers=(scheduler,))
    va, vb, vc = chunkwise.compute(a, b, c, scheduler=scheduler)
    np.testing.assert_allclose(va, A.sum(axis=0))
    np.testing.assert_allclose(vb, A.max(axis=0, keepdims=True))
    np.testing.assert_allclose(vc, A.var(axis=0, ddof=1))
    assert _tasks(a, b, c) < _tasks(a) + _tasks(b) + _tasks(c) - x.npartitions


def test_one_failing_member_does_not_fail_the_others():
    x = _x()
    empty = x[x > 100]
    total, smallest = empty.sum(), empty.min()
    plan = chunkwise.core.expr.Tuple(total.expr, smallest.expr).optimize()
    assert "SharedReduction" in plan.explain(show=False)
    graph = chunkwise.core.expr.lower(list(plan.operands))
    total_key, smallest_key = (e.key for e in plan.operands)
    # the shared task ran min too; its error is kept for min's part, not raised for sum's
    assert float(get_sync(graph, total_key)) == 0.0
    with pytest.raises(ValueError, match="zero-size array"):
        get_sync(graph, smallest_key)
    with pytest.raises(ValueError, match="zero-size array"):
        chunkwise.compute(total, smallest)


def test_masked_reductions_share_the_mask_pass(scheduler):
    x = _x()
    sel = x[x > 0]
    s, m, n = chunkwise.compute(sel.sum(), sel.mean(), da.count_nonzero(sel), scheduler=scheduler)
    np.testing.assert_allclose((s, m, n), (A[A > 0].sum(), A[A > 0].mean(), np.count_nonzero(A[A > 0])))
    plan = chunkwise.core.expr.Tuple(sel.sum().expr, sel.mean().expr).optimize()
    assert "SharedReduction: [" in plan.explain(show=False)


# --- 5. reductions through layout -------------------------------------------------------------


def test_reduction_of_a_transpose_reduces_the_input(scheduler):
    x = _x()
    y = x.T.sum(axis=0)
    assert not _nodes(y, "Transpose")
    assert_eq(y, A.T.sum(axis=0), schedulers=(scheduler,))
    b = RNG.standard_normal((4, 5, 6))
    z = da.from_array(b, chunks=(3, 2, 4)).transpose(2, 0, 1)
    for axis in (0, 1, 2, (0, 2), None):
        assert_eq(z.mean(axis=axis), b.transpose(2, 0, 1).mean(axis=axis), schedulers=(scheduler,))
        assert_eq(z.max(axis=axis, keepdims=True), b.transpose(2, 0, 1).max(axis=axis, keepdims=True),
                  schedulers=(scheduler,))
    assert _nodes(z.sum(axis=1), "Transpose")  # the result's axes come out swapped: transposed back


def test_full_reduction_of_a_reshape_reduces_the_input(scheduler):
    x = _x()
    y = x.reshape(-1).std()
    assert not _nodes(y, "Reshape", "Rechunk")
    np.testing.assert_allclose(y.compute(scheduler=scheduler), A.reshape(-1).std())
    i = x.reshape(-1).argmin()
    assert int(i.compute(scheduler=scheduler)) == int(A.reshape(-1).argmin())


def test_rewrites_compose_rechunk_mask_and_share(scheduler):
    x = _x().rechunk(8)
    sel = (x + 1)[x > 0]
    s, mx = chunkwise.compute(sel.sum(), sel.max(), scheduler=scheduler)
    np.testing.assert_allclose((s, mx), ((A + 1)[A > 0].sum(), (A + 1)[A > 0].max()))


def test_rewrites_can_be_turned_off():
    x = _x()
    with chunkwise.config.set({"optimization.array_rewrites": False}):
        assert _nodes(x.rechunk(6).sum(), "Rechunk")
        assert _nodes(x[x > 0].sum(), "BooleanMask")
        assert _nodes(x.cumsum(axis=0)[-1], "Cumulative")
        plan = chunkwise.core.expr.Tuple(x.sum().expr, x.max().expr).optimize()
        assert "SharedReduction" not in plan.explain(show=False)
        np.testing.assert_allclose(float(x[x > 0].sum()), A[A > 0].sum())
    assert not _nodes(x.rechunk(6).sum(), "Rechunk")


@pytest.mark.parametrize("first,second", [("int64", "int8"), ("float64", "float32"), ("float64", "int32"), ("int32", "uint8")])
def test_exact_cast_chains_cast_once(first, second, scheduler):
    a = RNG.integers(-300, 300, size=(23, 17)).astype("int16")
    x = _x(a)
    y = x.astype(first).astype(second)
    casts = [n for n in walk([y.expr.simplify()]) if getattr(n, "funcname", None) == "astype"]
    assert len(casts) <= 1
    assert_eq(y, a.astype(first).astype(second), schedulers=(scheduler,))
    # back to the input's own dtype: no cast at all
    assert x.astype(first).astype("int16").expr.simplify().name == x.expr.name


def test_inexact_cast_chains_are_kept(scheduler):
    a = np.array([2**60 + 2**36 + 1, 3, -(2**59) - 1], dtype="int64")
    x = da.from_array(a, chunks=((2, 1),))
    y = x.astype("float64").astype("float32")  # rounded twice, as NumPy does
    casts = [n for n in walk([y.expr.simplify()]) if getattr(n, "funcname", None) == "astype"]
    assert len(casts) == 2
    assert_eq(y, a.astype("float64").astype("float32"), schedulers=(scheduler,))
    f = da.from_array(np.array([1.5, -2.7, 3e10]), chunks=2)
    z = f.astype("int64").astype("float64")  # truncation is not exact: kept
    assert_eq(z, np.array([1.5, -2.7, 3e10]).astype("int64").astype("float64"), schedulers=(scheduler,))
    assert len([n for n in walk([z.expr.simplify()]) if getattr(n, "funcname", None) == "astype"]) == 2


def test_masked_reduction_with_a_column_mask(scheduler):
    x = _x()
    cols = A[0] > 0
    y = x[:, da.from_array(cols, chunks=(x.chunks[1],))].sum()
    assert _nodes(y, "MaskedReduction")
    np.testing.assert_allclose(y.compute(scheduler=scheduler), A[:, cols].sum())
    z = x[:, da.from_array(cols, chunks=(x.chunks[1],))].max()
    np.testing.assert_allclose(z.compute(scheduler=scheduler), A[:, cols].max())


def test_da_compute_shares_the_pass(scheduler):
    counter = _Counter()
    x = _x().map_blocks(counter, dtype=float)
    total, largest, spread = da.compute(x.sum(), x.max(), x.var(), scheduler=scheduler)
    assert counter.calls == x.npartitions
    np.testing.assert_allclose((total, largest, spread), (A.sum(), A.max(), A.var()))


def test_shared_pass_in_slabs_of_rows_matches_numpy(monkeypatch, scheduler):
    from chunkwise.array import treereduce

    monkeypatch.setattr(treereduce, "SHARED_SLAB_BYTES", 1)  # one row per slab
    a = A.copy()
    a[7:9] = -5.0  # rows selected by nothing below
    x = _x(a)
    results = chunkwise.compute(
        x.sum(), x.mean(), x.std(), x.min(), x.max(), da.nanmax(x), x.sum(axis=0), x.var(axis=0),
        scheduler=scheduler,
    )
    expected = (a.sum(), a.mean(), a.std(), a.min(), a.max(), np.nanmax(a), a.sum(axis=0), a.var(axis=0))
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    sel = x[x > 0]
    masked = chunkwise.compute(sel.sum(), sel.std(), sel.min(), scheduler=scheduler)
    np.testing.assert_allclose(masked, (a[a > 0].sum(), a[a > 0].std(), a[a > 0].min()), rtol=1e-12)


@pytest.mark.parametrize("name", ["sum", "prod", "min", "max", "any", "all", "mean", "var", "nansum", "nanmax"])
def test_chunk_functions_take_where_over_some_axes(name):
    # what a MaskedReduction's chunk does with a block: as NumPy's where= (over one axis here)
    from chunkwise.array.treereduce import MaskedReduction

    a = A[:6, :5].copy()
    a[1, 1] = np.nan
    mask = a > -0.5
    mask[:, 0] = True  # every column selects something (min/max have no identity)
    x = da.from_array(a, chunks=a.shape)
    reduction = getattr(da, name)(x, axis=0, keepdims=True).expr
    partial = reduction.chunk(a, where=mask)
    whole = MaskedReduction(*reduction.operands, x.expr, 0).aggregate(partial)
    kwargs = {"initial": np.inf if "min" in name else -np.inf} if name.endswith(("min", "max")) else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = getattr(np, name)(a, axis=0, keepdims=True, where=mask, **kwargs)
    np.testing.assert_allclose(np.asarray(whole, dtype=float), expected.astype(float), rtol=1e-12)
