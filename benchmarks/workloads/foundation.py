"""Foundation workloads: per-task scheduling overhead and graph optimization.

Targets, from the foundation issue:

- per-task overhead at most 1/3 of Dask's on the same graph, on the ``sync``
  and ``threads`` schedulers (``tasks_*``);
- cull + order + fuse of a 100,000-task graph in at most 1/2 of Dask's time
  (``optimize_100k``).

The task graphs are built once as a neutral spec -- a list of
``(key, func, args)`` where :class:`K` marks a reference to another key -- and
converted, untimed, to a chunkwise graph (``Task``/``Ref``) and to a Dask
legacy graph (``{key: (func, *args)}``), so both sides run the same graph. No
fusion on either side: these measure what the scheduler spends per task.
"""

from __future__ import annotations

import time
from operator import add

from benchmarks.registry import Prepared, workload

N_TASKS = 20_000
N_TASKS_QUICK = 2_000
N_WARMUP = 16


# --- task functions (module level: importable by name) ----------------------


def inc(x):
    return x + 1


def double(x):
    return 2 * x


def load(i):
    return i


def sum_list(values):
    return sum(values)


# --- a neutral graph spec and its two conversions ---------------------------


class K:
    """A reference to another key in a neutral graph spec."""

    __slots__ = ("key",)

    def __init__(self, key):
        self.key = key


def _to_chunkwise_arg(arg, Ref):
    if type(arg) is K:
        return Ref(arg.key)
    if type(arg) is list:
        return [_to_chunkwise_arg(a, Ref) for a in arg]
    return arg


def to_chunkwise(spec):
    """The spec as a chunkwise graph: ``{key: Task(key, func, *args)}``."""
    from chunkwise.core.graph import Ref, Task

    return {
        key: Task(key, func, *[_to_chunkwise_arg(a, Ref) for a in args]) for key, func, args in spec
    }


def _to_dask_arg(arg):
    if type(arg) is K:
        return arg.key
    if type(arg) is list:
        return [_to_dask_arg(a) for a in arg]
    return arg


def to_dask(spec):
    """The spec as a Dask legacy graph: ``{key: (func, *args)}``."""
    return {key: (func, *[_to_dask_arg(a) for a in args]) for key, func, args in spec}


# --- graph shapes -----------------------------------------------------------


def independent_spec(n):
    """n independent ``inc`` tasks and one task summing all of them; answer n(n+1)/2."""
    spec = [(("inc", i), inc, (i,)) for i in range(n)]
    spec.append(("total", sum_list, ([K(("inc", i)) for i in range(n)],)))
    return spec, "total", n * (n + 1) // 2


def chain_spec(n):
    """A linear chain of n ``inc`` tasks starting from 0; answer n."""
    spec = [(("chain", 0), inc, (0,))]
    spec.extend((("chain", i), inc, (K(("chain", i - 1)),)) for i in range(1, n))
    return spec, ("chain", n - 1), n


def tree_reduce_spec(leaf_keys, name="tree"):
    """Binary ``add`` tree over ``leaf_keys``: (spec, root key). n leaves give n - 1 tasks."""
    spec = []
    layer = list(leaf_keys)
    level = 0
    while len(layer) > 1:
        level += 1
        nxt = []
        for j in range(0, len(layer) - 1, 2):
            key = (name, level, j // 2)
            spec.append((key, add, (K(layer[j]), K(layer[j + 1]))))
            nxt.append(key)
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer = nxt
    return spec, layer[0]


def tree_spec(n):
    """n ``inc`` leaves reduced by a binary ``add`` tree (2n - 1 tasks); answer n(n+1)/2."""
    spec = [(("leaf", i), inc, (i,)) for i in range(n)]
    tree, root = tree_reduce_spec([("leaf", i) for i in range(n)])
    return spec + tree, root, n * (n + 1) // 2


SHAPES = {"independent": independent_spec, "chain": chain_spec, "tree": tree_spec}
SHAPE_TEXT = {
    "independent": "{n} independent inc tasks + one task summing all {n}",
    "chain": "a linear chain of {n} inc tasks",
    "tree": "binary add-tree reduction over {n} inc leaves",
}


# --- tasks_{shape}_{scheduler} ----------------------------------------------


def _chunkwise_get():
    """``chunkwise.get`` (the public entry point), else ``chunkwise.scheduling.get``."""
    import chunkwise

    get = getattr(chunkwise, "get", None)
    if get is None:
        from chunkwise.scheduling import get
    return get


def _check(expected):
    def check(result):
        value = list(result)[0]
        if value != expected:
            raise AssertionError(f"wrong answer {value!r}, expected {expected!r}")
        return value

    return check


def _chunkwise_tasks(shape, scheduler, n):
    get = _chunkwise_get()
    spec, out, expected = SHAPES[shape](n)
    graph = to_chunkwise(spec)
    wspec, wout, _ = SHAPES[shape](N_WARMUP)
    wgraph = to_chunkwise(wspec)
    return Prepared(
        run=lambda: get(graph, [out], scheduler=scheduler),
        warmup=lambda: get(wgraph, [wout], scheduler=scheduler),
        tasks=len(graph),
        digest=_check(expected),
    )


def _dask_tasks(shape, scheduler, n):
    import dask
    import dask.threaded

    get = dask.get if scheduler == "sync" else dask.threaded.get
    spec, out, expected = SHAPES[shape](n)
    dsk = to_dask(spec)
    wspec, wout, _ = SHAPES[shape](N_WARMUP)
    wdsk = to_dask(wspec)
    return Prepared(
        run=lambda: get(dsk, [out]),
        warmup=lambda: get(wdsk, [wout]),
        tasks=len(dsk),
        digest=_check(expected),
    )


def _register_tasks(shape, scheduler):
    w = workload(
        f"tasks_{shape}_{scheduler}",
        f"{SHAPE_TEXT[shape].format(n='n')}; execute the built graph, {scheduler} scheduler, no fusion",
        params={"n": N_TASKS},
        quick={"n": N_TASKS_QUICK},
        target=1 / 3,
        target_note="per-task overhead <= 1/3 of Dask's",
        group="foundation",
    )
    w.impl("chunkwise")(lambda n: _chunkwise_tasks(shape, scheduler, n))
    w.impl("dask")(lambda n: _dask_tasks(shape, scheduler, n))


for _shape in SHAPES:
    for _scheduler in ("sync", "threads"):
        _register_tasks(_shape, _scheduler)


# --- delayed_tree_threads ---------------------------------------------------


def delayed_tree(delayed, n):
    """Build, with ``delayed``, a binary add-tree over n delayed ``inc`` leaves."""
    layer = [delayed(inc)(i) for i in range(n)]
    dadd = delayed(add)
    while len(layer) > 1:
        nxt = [dadd(layer[j], layer[j + 1]) for j in range(0, len(layer) - 1, 2)]
        if len(layer) % 2:
            nxt.append(layer[-1])
        layer = nxt
    return layer[0]


delayed_tree_threads = workload(
    "delayed_tree_threads",
    "user-level delayed: build an add-tree over n delayed inc leaves and .compute() "
    "on threads (build + compute timed)",
    params={"n": N_TASKS},
    quick={"n": N_TASKS_QUICK},
    target=None,
    target_note="no target yet; tracks user-level overhead per task",
    group="foundation",
)


def _delayed_prepared(delayed, n):
    expected = n * (n + 1) // 2

    def check(value):
        if value != expected:
            raise AssertionError(f"wrong answer {value!r}, expected {expected!r}")
        return value

    return Prepared(
        run=lambda: delayed_tree(delayed, n).compute(scheduler="threads"),
        warmup=lambda: delayed_tree(delayed, N_WARMUP).compute(scheduler="threads"),
        tasks=2 * n - 1,
        digest=check,
    )


@delayed_tree_threads.impl("chunkwise")
def _(n):
    from chunkwise import delayed

    return _delayed_prepared(delayed, n)


@delayed_tree_threads.impl("dask")
def _(n):
    from dask import delayed

    return _delayed_prepared(delayed, n)


# --- optimize_100k ----------------------------------------------------------


def optimize_spec(n_leaves):
    """load -> inc -> double per leaf, then a binary add-tree: 4 n - 1 tasks.

    Mixed shapes: wide independent sources, linear chains (fusible), a reduction
    tree (not linearly fusible). Answer: sum of 2 (i + 1) = n (n + 1).
    """
    spec = []
    for i in range(n_leaves):
        spec.append((("load", i), load, (i,)))
        spec.append((("inc", i), inc, (K(("load", i)),)))
        spec.append((("double", i), double, (K(("inc", i)),)))
    tree, root = tree_reduce_spec([("double", i) for i in range(n_leaves)], name="sum")
    return spec + tree, root, n_leaves * (n_leaves + 1)


optimize_100k = workload(
    "optimize_100k",
    "cull + fuse (linear chains) + order of a built 100,000-task graph "
    "(25,000 load->inc->double chains + add-tree); construction reported separately",
    params={"n_leaves": 25_000},
    quick={"n_leaves": 2_500},
    target=1 / 2,
    target_note="optimize <= 1/2 of Dask's time",
    group="foundation",
)


def _optimize_digest(extra):
    return lambda result: {"tasks_after_cull": extra["tasks_after_cull"]}


@optimize_100k.impl("chunkwise")
def _(n_leaves):
    from chunkwise.core import passes

    spec, root, expected = optimize_spec(n_leaves)
    t0 = time.perf_counter()
    graph = to_chunkwise(spec)
    build_s = time.perf_counter() - t0
    keys = [root]
    extra = {"build_s": build_s}

    def run():
        t0 = time.perf_counter()
        culled, deps = passes.cull(graph, keys)
        t1 = time.perf_counter()
        fused = passes.fuse_linear(culled, keys, dependencies=deps)
        t2 = time.perf_counter()
        priorities = passes.order(fused)
        t3 = time.perf_counter()
        extra.update(
            cull_s=t1 - t0,
            fuse_s=t2 - t1,
            order_s=t3 - t2,
            tasks_after_cull=len(culled),
            tasks_after_fuse=len(fused),
        )
        return fused, priorities

    def verify(result):
        fused, priorities = result
        if set(priorities) != set(fused):
            raise AssertionError("order() did not give every task of the fused graph a priority")
        value = list(_chunkwise_get()(fused, keys, scheduler="sync"))[0]
        if value != expected:
            raise AssertionError(f"fused graph computes {value!r}, expected {expected!r}")
        return {"tasks_after_cull": extra["tasks_after_cull"], "value": value}

    return Prepared(
        run=run, tasks=len(graph), digest=_optimize_digest(extra), verify=verify, extra=extra
    )


@optimize_100k.impl("dask")
def _(n_leaves):
    import dask
    from dask.optimization import cull, fuse
    from dask.order import order

    spec, root, expected = optimize_spec(n_leaves)
    t0 = time.perf_counter()
    dsk = to_dask(spec)
    build_s = time.perf_counter() - t0
    keys = [root]
    extra = {"build_s": build_s}

    def run():
        t0 = time.perf_counter()
        culled, deps = cull(dsk, keys)
        t1 = time.perf_counter()
        fused, fused_deps = fuse(culled, keys, dependencies=deps)
        t2 = time.perf_counter()
        priorities = order(fused, fused_deps)
        t3 = time.perf_counter()
        extra.update(
            cull_s=t1 - t0,
            fuse_s=t2 - t1,
            order_s=t3 - t2,
            tasks_after_cull=len(culled),
            tasks_after_fuse=len(fused),
        )
        return fused, priorities

    def verify(result):
        fused, priorities = result
        if set(priorities) != set(fused):
            raise AssertionError("order() did not give every task of the fused graph a priority")
        value = list(dask.get(fused, keys))[0]
        if value != expected:
            raise AssertionError(f"fused graph computes {value!r}, expected {expected!r}")
        return {"tasks_after_cull": extra["tasks_after_cull"], "value": value}

    return Prepared(
        run=run, tasks=len(dsk), digest=_optimize_digest(extra), verify=verify, extra=extra
    )
