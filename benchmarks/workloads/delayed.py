"""Delayed graphs at scale: a million ``delayed`` calls, built and computed.

Target, from issue 15 (item 12): a million-task delayed graph costs per task
(build + compute) within 1.2x of its cost at 10**5, at most half of what it
cost before the issue, and at most 1 KB of peak memory per task. The same
shapes run against ``dask.delayed`` here, in the same run:

- ``delayed_flat_1m``: ``delayed(sum)([delayed(inc)(i) for i in range(n)])``;
- ``delayed_tree_1m``: the same leaves summed 100 at a time, then those sums
  100 at a time, up to one (a fan-in-100 tree).

Building the Delayed objects is timed with the compute (threaded scheduler):
the extra figures give each part (``build_s``, ``compute_s``) and
``bytes_per_task``, the peak RSS of the run minus the RSS before it, per task.
``python -m benchmarks.delayed_scale`` runs the same shapes at several sizes
and against other checkouts (the before/after figures).
"""

from __future__ import annotations

import resource
import sys
import time

from benchmarks.registry import Prepared, workload

N_TASKS = 1_000_000
N_TASKS_QUICK = 2_000


def _rss_bytes() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _prepared(delayed, shape: str, n: int) -> Prepared:
    from benchmarks.delayed_scale import build

    extra: dict = {}
    expected = n * (n + 1) // 2

    def run():
        before = _rss_bytes()
        t0 = time.perf_counter()
        root, tasks = build(delayed, shape, n)
        t1 = time.perf_counter()
        value = root.compute(scheduler="threads")
        t2 = time.perf_counter()
        extra["build_s"] = round(t1 - t0, 3)
        extra["compute_s"] = round(t2 - t1, 3)
        extra["bytes_per_task"] = round((_peak_rss_bytes() - before) / tasks)
        return value

    def check(value):
        if value != expected:
            raise AssertionError(f"wrong answer {value!r}, expected {expected!r}")
        return value

    return Prepared(
        run=run,
        warmup=lambda: build(delayed, shape, 16)[0].compute(scheduler="threads"),
        tasks=_count_tasks(shape, n),
        digest=check,
        extra=extra,
    )


def _count_tasks(shape: str, n: int) -> int:
    if shape == "flat":
        return n + 1
    tasks, width = n, n
    while width > 1:
        width = -(-width // 100)
        tasks += width
    return tasks


for _shape in ("flat", "tree"):
    _w = workload(
        f"delayed_{_shape}_1m",
        (
            "delayed(sum) over n delayed inc calls"
            if _shape == "flat"
            else "a fan-in-100 tree of delayed sums over n delayed inc calls"
        )
        + "; build + compute on threads timed",
        params={"n": N_TASKS},
        quick={"n": N_TASKS_QUICK},
        target=None,
        target_note="issue 15: per task within 1.2x of 10**5, <= 1 KB peak per task",
        group="delayed",
    )

    def _chunkwise(n, shape=_shape):
        from chunkwise import delayed

        return _prepared(delayed, shape, n)

    def _dask(n, shape=_shape):
        from dask import delayed

        return _prepared(delayed, shape, n)

    _w.impl("chunkwise")(_chunkwise)
    _w.impl("dask")(_dask)
