"""Cluster workloads: chunkwise and Dask collections on one ``distributed`` cluster.

Targets, from the distributed issue: no more tasks sent to the scheduler than
Dask for the same result, wall time at most 1.0x Dask's, and the conversion of
chunkwise's graph to ``distributed``'s format under 5 µs per task.

The cluster: when the runner selects any of these workloads it starts one
``LocalCluster(n_workers=2, threads_per_worker=1)`` (worker processes, on
127.0.0.1) for the whole run and passes its address in
``CHUNKWISE_BENCH_SCHEDULER``; every implementation connects to that same
cluster. Run on its own (``python -m benchmarks.worker NAME IMPL``), a
workload starts a cluster of the same shape for itself.

The workers are not restarted between measurements (``Client.restart``
proved flaky here: after a few restarts the workers did not come back);
instead each run starts by collecting garbage and trimming the heap on the
workers, and ``worker_peak_rss_mib`` is the sum of the workers' peak RSS,
sampled every 20 ms during the run (the table's peak RSS column is the
client process's). ``tasks`` is the number of tasks in the graph sent to
the scheduler (chunkwise: its optimized graph; Dask: ``dask.optimize``'s).
"""

from __future__ import annotations

import os
import time

from benchmarks.registry import Prepared, workload

GROUP = "cluster"
TARGET = 1.0
TARGET_NOTE = "wall time <= 1.0x Dask's on the same cluster, no more tasks"
SCHEDULER_ENV = "CHUNKWISE_BENCH_SCHEDULER"
N_WORKERS = 2


def start_cluster():
    """The benchmark cluster: 2 single-threaded worker processes on 127.0.0.1, no dashboard."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=N_WORKERS,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback only; None would still open :8787
    )


_OWN_CLUSTER = []  # a cluster this process started (kept alive for its lifetime)


def _client():
    """A client of the shared cluster (or of a cluster started here), its workers tidied up."""
    from distributed import Client

    address = os.environ.get(SCHEDULER_ENV)
    if address is None:
        if not _OWN_CLUSTER:
            _OWN_CLUSTER.append(start_cluster())
        address = _OWN_CLUSTER[0]
    client = Client(address)
    client.wait_for_workers(N_WORKERS, timeout=120)
    client.run(_tidy_worker)
    return client


def _tidy_worker() -> None:
    """Collect garbage and hand freed heap back to the OS, so earlier runs weigh less on RSS."""
    import contextlib
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_SAMPLER: dict = {}


def _start_rss_sampler(interval: float = 0.02) -> None:
    """On a worker: sample this process's RSS in a thread until ``_stop_rss_sampler``."""
    import threading

    import psutil

    process = psutil.Process()
    stop = threading.Event()
    state = {"peak": process.memory_info().rss}

    def sample():
        while not stop.wait(interval):
            state["peak"] = max(state["peak"], process.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _SAMPLER.update(stop=stop, state=state, thread=thread)


def _stop_rss_sampler() -> float:
    """On a worker: stop sampling and return the peak RSS seen, in MiB."""
    import psutil

    _SAMPLER["stop"].set()
    _SAMPLER["thread"].join()
    peak = max(_SAMPLER["state"]["peak"], psutil.Process().memory_info().rss)
    return peak / 2**20


def _with_worker_memory(client, extra: dict, run):
    """``run`` with the workers' RSS sampled every 20 ms; the sum of their peaks goes to ``extra``.

    The workers are shared by every measurement of the run (the same cluster
    for both sides, as the issue asks), so memory an earlier run left behind
    counts too: compare the figure across implementations of one workload.
    """

    def measured():
        client.run(_start_rss_sampler)
        try:
            return run()
        finally:
            extra["worker_peak_rss_mib"] = sum(client.run(_stop_rss_sampler).values())

    return measured


def _chunked(impl: str):
    if impl == "chunkwise":
        import chunkwise.array as da
    else:
        import dask.array as da
    return da


def _tasks_and_conversion(impl: str, collection, extra: dict, persist: bool = False) -> int:
    """Tasks sent to the scheduler; for chunkwise also the conversion's cost per task (untimed).

    ``persist``: count the graph ``client.persist`` sends (every block, no task
    joining them), as on the Dask side.
    """
    if impl == "chunkwise":
        from chunkwise.distributed import to_dask_graph

        if persist:
            start = time.perf_counter()
            sent = collection.__dask_graph__()  # optimized, lowered, fused and converted
            extra["persist_graph_us_per_task"] = (time.perf_counter() - start) / len(sent) * 1e6
            extra["tasks_sent"] = len(sent)
            return len(sent)
        graph = collection.__chunkwise_graph__()
        start = time.perf_counter()
        to_dask_graph(graph)
        extra["convert_us_per_task"] = (time.perf_counter() - start) / len(graph) * 1e6
        extra["tasks_sent"] = len(graph)
        return len(graph)
    import dask

    (opt,) = dask.optimize(collection)
    extra["tasks_sent"] = len(opt.__dask_graph__())
    return extra["tasks_sent"]


def _rounded(value, digits=4):
    return round(float(value), digits)


def _array_workload(name, description, build, params, quick, digest=None):
    """Register a workload computing ``build(da, **params)`` on the cluster, for both sides."""
    wl = workload(
        name,
        description,
        params=params,
        quick=quick,
        target=TARGET,
        target_note=TARGET_NOTE,
        group=GROUP,
    )

    def make(impl):
        def prepare(**p):
            da = _chunked(impl)
            client = _client()
            extra: dict = {}
            result = build(da, **p)
            tasks = _tasks_and_conversion(impl, result, extra)

            def run():
                return result.compute(scheduler=client)

            small = {k: (v if k not in ("n", "chunk") else max(1, v // 100)) for k, v in p.items()}
            return Prepared(
                run=_with_worker_memory(client, extra, run),
                tasks=tasks,
                digest=digest,
                warmup=lambda: build(da, **small).compute(scheduler=client),
                extra=extra,
            )

        return prepare

    wl.impl("chunkwise")(make("chunkwise"))
    wl.impl("dask")(make("dask"))
    return wl


def _random_mean(da, n, chunk):
    return da.random.default_rng(0).random((n, n), chunks=(chunk, chunk)).mean()


_array_workload(
    "cluster_random_mean",
    "random((n, n), chunks=c).mean() on a 2-worker LocalCluster",
    _random_mean,
    params={"n": 20_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 500},
    digest=lambda r: _rounded(r, 3),
)


def _transpose_mean(da, n, chunk):
    x = da.ones((n, n), chunks=(chunk, chunk))
    return (x + x.T).mean(axis=0)


_array_workload(
    "cluster_ones_transpose_mean",
    "(x + x.T).mean(axis=0) over ones((n, n), chunks=c) on a 2-worker LocalCluster",
    _transpose_mean,
    params={"n": 20_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 500},
)


def _elementwise_chain(da, n, chunk):
    import numpy as np

    x = da.random.default_rng(1).random((n, n), chunks=(chunk, chunk))
    return ((np.sin(x) ** 2 + np.cos(x) ** 2) * 2 - 1).sum()


_array_workload(
    "cluster_elementwise_chain",
    "((sin(x)**2 + cos(x)**2) * 2 - 1).sum() over a random (n, n) array on a 2-worker LocalCluster",
    _elementwise_chain,
    params={"n": 20_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 500},
    digest=lambda r: _rounded(r / 1e6, 3),
)


# --- persist on the workers, then reduce --------------------------------------------


persist_reduce = workload(
    "cluster_persist_reduce",
    "y = client.persist(x + x.T); wait(y); then y.sum() and y.mean(axis=0) from the persisted "
    "blocks, x = random((n, n), chunks=c), on a 2-worker LocalCluster",
    params={"n": 16_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 500},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _persist_reduce(impl, n, chunk):
    from distributed import wait

    da = _chunked(impl)
    client = _client()
    extra: dict = {}

    def build(n, chunk):
        x = da.random.default_rng(2).random((n, n), chunks=(chunk, chunk))
        return x + x.T

    y_plan = build(n, chunk)
    tasks = _tasks_and_conversion(impl, y_plan, extra, persist=True)

    def run():
        t0 = time.perf_counter()
        y = client.persist(y_plan)
        wait(y)
        t1 = time.perf_counter()
        total, column_means = (y.sum().compute(), y.mean(axis=0).compute())
        extra.update(persist_s=t1 - t0, reduce_s=time.perf_counter() - t1)
        del y
        return total, column_means

    def warm():
        y = client.persist(build(max(2, n // 100), max(1, chunk // 100)))
        wait(y)
        return y.sum().compute()

    return Prepared(
        run=_with_worker_memory(client, extra, run),
        tasks=tasks,
        digest=lambda r: [_rounded(r[0] / n / n, 3), _rounded(r[1].mean(), 3)],
        warmup=warm,
        extra=extra,
    )


persist_reduce.impl("chunkwise")(lambda **p: _persist_reduce("chunkwise", **p))
persist_reduce.impl("dask")(lambda **p: _persist_reduce("dask", **p))


# --- delayed ---------------------------------------------------------------------------


delayed_tree = workload(
    "cluster_delayed_tree",
    "a binary tree reduction over n delayed leaves (each summing squares of 100 ints) "
    "on a 2-worker LocalCluster",
    params={"n": 2_000},
    quick={"n": 100},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _leaf(i):
    return sum(v * v for v in range(i * 100, (i + 1) * 100))


def _add(a, b):
    return a + b


def _delayed_tree(impl, n):
    if impl == "chunkwise":
        from chunkwise import delayed
    else:
        from dask import delayed
    client = _client()
    extra: dict = {}

    def build(n):
        level = [delayed(_leaf, pure=True)(i) for i in range(n)]
        while len(level) > 1:
            level = [
                delayed(_add, pure=True)(level[j], level[j + 1]) if j + 1 < len(level) else level[j]
                for j in range(0, len(level), 2)
            ]
        return level[0]

    def run():
        return build(n).compute(scheduler=client)  # graph building is timed too, on both sides

    return Prepared(
        run=_with_worker_memory(client, extra, run),
        tasks=_tasks_and_conversion(impl, build(n), extra),
        warmup=lambda: build(8).compute(scheduler=client),
        extra=extra,
    )


delayed_tree.impl("chunkwise")(lambda **p: _delayed_tree("chunkwise", **p))
delayed_tree.impl("dask")(lambda **p: _delayed_tree("dask", **p))
