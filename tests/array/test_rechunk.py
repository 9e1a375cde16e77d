"""Tests of ``rechunk`` and its multistage, bounded-memory plan."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chunkwise
import chunkwise.array as da
from chunkwise.array.chunks import chunk_boundaries
from chunkwise.array.rechunk import (
    Rechunk,
    max_span,
    plan_rechunk,
    rechunk,
    rechunk_task_nbytes,
)
from chunkwise.array.testing import assert_eq
from chunkwise.core.expr import lower
from chunkwise.scheduling.callbacks import Callback


def stages_of(x):
    """The planned Rechunk stages of ``x`` (top first)."""
    out = []
    expr = x.expr.optimize() if isinstance(x, da.Array) else x
    while isinstance(expr, Rechunk):
        out.append(expr)
        expr = expr.array
    return out


def test_basic(scheduler):
    a = np.arange(60).reshape(6, 10)
    x = da.from_array(a, chunks=(4, 3))
    y = x.rechunk((3, 5))
    assert y.chunks == ((3, 3), (5, 5))
    assert_eq(y, a)


def test_specs():
    a = np.arange(60.0).reshape(6, 10)
    x = da.from_array(a, chunks=(4, 3))
    assert x.rechunk({0: -1}).chunks == ((6,), (3, 3, 3, 1))
    assert x.rechunk({1: None}).chunks == ((4, 2), (3, 3, 3, 1))  # None keeps an axis, as in Dask
    assert x.rechunk({-1: None, 0: -1}).chunks == ((6,), (3, 3, 3, 1))
    assert x.rechunk((None, 5)).chunks == ((4, 2), (5, 5))
    assert x.rechunk((None, None)) is x
    assert x.rechunk(-1).chunks == ((6,), (10,))
    assert x.rechunk(((1, 5), (10,))).chunks == ((1, 5), (10,))
    assert x.rechunk("auto").chunks == ((6,), (10,))
    assert rechunk(x, "16 B").chunks[1] == (2,) * 5
    assert_eq(x.rechunk({0: -1}), a)
    with pytest.raises(ValueError, match="rechunk.*axis 1"):
        x.rechunk(((6,), (5, 4)))
    with pytest.raises(ValueError, match="rechunk"):
        x.rechunk((2, 2, 2))


def test_noop_vanishes():
    x = da.from_array(np.arange(10), chunks=3)
    assert x.rechunk(3) is x
    y = Rechunk(x.expr, x.chunks)
    assert y.simplify().name == x.expr.name
    # back and forth: the two rechunks collapse into none
    z = x.rechunk(5).rechunk(3)
    assert z.expr.optimize().name == x.expr.name
    assert_eq(z, np.arange(10))


def test_consecutive_rechunks_collapse():
    a = np.arange(100.0).reshape(10, 10)
    x = da.from_array(a, chunks=2)
    y = x.rechunk(5).rechunk((10, 1))
    stages = stages_of(y)
    assert stages and stages[-1].array.name == x.expr.name
    assert all(s.array.chunks != (5, 5) for s in stages)
    assert_eq(y, a)


def test_uneven_and_empty_chunks(scheduler):
    a = np.arange(36).reshape(6, 6)
    x = da.from_array(a, chunks=((1, 0, 5), (3, 0, 0, 3)))
    y = x.rechunk(((2, 0, 2, 2), (0, 6)))
    assert y.chunks == ((2, 0, 2, 2), (0, 6))
    assert_eq(y, a)
    empty = da.from_array(np.zeros((0, 4)), chunks=2)
    assert_eq(empty.rechunk((1, 4)), np.zeros((0, 4)))


def test_zero_d_and_one_element():
    assert_eq(da.from_array(np.array(5.0)).rechunk(()), np.array(5.0))
    assert_eq(da.from_array(np.array([7])).rechunk(1), np.array([7]))


def test_unknown_chunks_error():
    x = da.from_array(np.arange(10), chunks=3)
    unknown = Rechunk(x.expr, ((math.nan,) * 2,), True)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        rechunk(da.Array(unknown), 5)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        plan_rechunk(((math.nan, 3),), ((3, 3),), 8, 100)


def test_row_to_column_is_multistage_and_bounded():
    old = ((1000,) * 20, (20000,))
    new = ((20000,), (1000,) * 20)
    block = 1000 * 20000 * 8
    limit = 3 * block
    assert rechunk_task_nbytes(old, new, 8) > 10 * block  # one stage would gather a whole row
    plan = plan_rechunk(old, new, 8, limit)
    assert len(plan) > 1 and plan[-1] == new
    previous = old
    for stage in plan:
        assert rechunk_task_nbytes(previous, stage, 8) <= limit
        previous = stage


def test_many_blocks_plan_is_fast():
    import time

    old = ((10,) * 100_000,)
    new = ((7,) * 142_857 + (1,),)
    start = time.thread_time()  # CPU time of this thread: holds on a loaded machine
    plan = plan_rechunk(old, new, 8, 1000)
    assert time.thread_time() - start < 2
    assert plan[-1] == new


def test_explain_shows_stages():
    a = np.zeros((200, 200))
    x = da.from_array(a, chunks=(10, 200))
    with chunkwise.config.set({"array.chunk_size": "1 kiB"}):
        y = x.rechunk((200, 10))
        text = y.explain(show=False)
        assert len(stages_of(y)) > 1
        assert_eq(y, a)
    assert text.count("Rechunk:") > 1
    assert "per task" in text and "tasks," in text


def test_task_nbytes_matches_brute_force():
    old = ((3, 0, 4, 1), (5, 5))
    new = ((2, 2, 2, 2), (1, 9))
    # brute force: the worst output block's touched input blocks, per axis
    spans = []
    for o, n in zip(old, new):
        ob, nb = chunk_boundaries(o), chunk_boundaries(n)
        worst = 0
        for i in range(len(n)):
            s, e = nb[i], nb[i + 1]
            touched = [j for j in range(len(o)) if ob[j] < e and ob[j + 1] > s]
            worst = max(worst, sum(o[j] for j in touched))
        spans.append(worst)
    assert rechunk_task_nbytes(old, new, 1) == math.prod(spans) + 2 * 9


chunk_lists = st.lists(st.integers(0, 6), min_size=1, max_size=8)


@st.composite
def rechunk_cases(draw):
    ndim = draw(st.integers(1, 3))
    olds, news = [], []
    for _ in range(ndim):
        old = tuple(draw(chunk_lists))
        size = sum(old)
        new = []
        while sum(new) < size:
            new.append(draw(st.integers(1, size - sum(new))))
        new = tuple(new) or (0,)
        if sum(old) == 0:
            old, new = (0,), (0,)
        olds.append(old)
        news.append(new)
    return tuple(olds), tuple(news)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rechunk_cases(), st.sampled_from([1, 2, 3, 6]))
def test_hypothesis_plans_bounded_and_equal(case, factor):
    old, new = case
    shape = tuple(sum(c) for c in old)
    itemsize = 8
    largest = max(
        math.prod(max(c) for c in old), math.prod(max(c) for c in new), 1
    ) * itemsize
    limit = max(factor, 2) * largest
    plan = plan_rechunk(old, new, itemsize, limit)
    assert plan[-1] == new
    previous = old
    for stage in plan:
        assert rechunk_task_nbytes(previous, stage, itemsize) <= limit
        previous = stage
    a = np.arange(math.prod(shape), dtype=float).reshape(shape)
    x = da.from_array(a, chunks=old)
    with chunkwise.config.set({"array.chunk_size": 1}):
        y = x.rechunk(new)
        assert y.chunks == new
        assert_eq(y, a, schedulers=("sync",))


def test_max_span_zero_lengths():
    assert max_span((0, 3, 0, 3), (6,)) == 6
    assert max_span((3, 3), (0, 6, 0)) == 6
    assert max_span((0,), (0,)) == 0


def test_measured_task_memory_within_projection():
    """Run a multistage plan and measure, per task, the bytes of its inputs and output."""
    a = np.arange(60.0 * 60).reshape(60, 60)
    x = da.from_array(a, chunks=(3, 60))
    with chunkwise.config.set({"array.chunk_size": 1}):
        y = x.rechunk((60, 3))
        final = y.expr.optimize()
    stages = stages_of(final)
    assert len(stages) > 1
    limit = 3 * 3 * 60 * 8
    projected = {s.name: s.task_nbytes for s in stages}
    assert max(projected.values()) <= limit
    graph = lower([final])
    measured: dict = {}

    def posttask(key, result, graph, state, worker_id):
        name = key[0] if type(key) is tuple else key
        if name not in projected:
            return
        deps = graph[key].dependencies
        nbytes = sum(state.results[d].nbytes for d in deps) + result.nbytes
        measured[name] = max(measured.get(name, 0), nbytes)

    keys = final._output_keys()
    results = chunkwise.get(graph, keys, scheduler="sync", callbacks=[Callback(posttask=posttask)])
    assert set(measured) == set(projected)
    for name, nbytes in measured.items():
        assert nbytes <= projected[name] <= limit
    blocks = dict(zip(keys, results))
    out = np.block([[blocks[(final.name, 0, j)] for j in range(20)]])
    np.testing.assert_array_equal(out, a)


# --- axes of unknown block lengths ------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("spec", [{1: -1}, {-1: 1}, (None, 3), {0: None, 1: (1, 3)}])
def test_rechunk_the_known_axes_of_an_array_with_unknown_lengths(scheduler, spec):
    # As in Dask: the unknown axis keeps its blocks, the others are rechunked.
    v = np.arange(60.0).reshape(15, 4)
    x = da.from_array(v, chunks=((4, 0, 6, 5), (2, 2)))
    y = x[x[:, 0] % 3 != 0]
    z = y.rechunk(spec)
    assert np.isnan(z.chunks[0]).all() and len(z.chunks[0]) == 4
    expected = v[v[:, 0] % 3 != 0]
    np.testing.assert_array_equal(z.compute(scheduler=scheduler), expected)
    assert z.sum(axis=1).compute(scheduler=scheduler).tolist() == expected.sum(axis=1).tolist()


@pytest.mark.parametrize("spec", [{0: 5}, 5, (3, 4), "auto"])
def test_rechunk_refuses_to_change_an_axis_of_unknown_lengths_and_says_how_to_keep_it(spec):
    x = da.from_array(np.arange(60.0).reshape(15, 4), chunks=(4, 2))
    y = x[x[:, 0] > 10]
    with pytest.raises(ValueError, match=r"rechunk: .*unknown chunk sizes.*change axis 0.*\{1: -1\}.*compute_chunk_sizes"):
        y.rechunk(spec)
