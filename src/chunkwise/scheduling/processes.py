"""The ``processes`` scheduler: the local loop, with tasks run in worker processes.

For pure-Python functions that hold the GIL. The loop of ``local.py`` runs in
``num_workers`` driver threads; each ships a task and the inputs it needs to a
process pool (serialized with cloudpickle, so lambdas and closures travel) and
waits for the result. Processes start with ``forkserver`` where available
(``spawn`` elsewhere), never ``fork`` from a threaded parent, and the pool is
kept between computations. Ctrl-C or an error terminates the pool's processes,
so nothing keeps running in the background; the next computation starts a new
pool.

An exception raised in a worker process is re-raised in the caller with its
original type, and the worker's traceback added as a note.

>>> from operator import add
>>> from chunkwise.core.graph import DataNode, Task, Ref
>>> graph = {"a": DataNode("a", 1), "b": Task("b", add, Ref("a"), 1)}
>>> get_processes(graph, "b", num_workers=1)
2
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import cloudpickle

from chunkwise.core.graph import DataNode
from chunkwise.scheduling.local import run_graph

__all__ = ["get_processes", "shutdown_pool"]

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_workers = 0


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _get_pool(num_workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_workers
    with _lock:
        if _pool is None or _pool_workers != num_workers:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(max_workers=num_workers, mp_context=_context())
            _pool_workers = num_workers
        return _pool


def shutdown_pool(kill: bool = False) -> None:
    """Stop the worker processes (terminating them at once with ``kill=True``)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    if kill:
        for process in processes:
            if process.is_alive():
                process.terminate()
    pool.shutdown(wait=not kill, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


class RemoteError(Exception):
    """Stands for a worker's exception that could not be sent back as itself."""


def _run_in_worker(payload: bytes) -> tuple[bool, Any, str]:
    task, inputs = cloudpickle.loads(payload)
    try:
        return True, cloudpickle.dumps(task(inputs)), ""
    except BaseException as exc:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            blob = cloudpickle.dumps(exc)
        except Exception:
            blob = cloudpickle.dumps(RemoteError(f"{type(exc).__name__}: {exc}"))
        return False, blob, text


def _execute_remote(node: Any, results: Mapping) -> Any:
    if type(node) is DataNode:
        return node.value
    inputs = {dep: results[dep] for dep in node.dependencies}
    payload = cloudpickle.dumps((node, inputs))
    pool = _get_pool(_pool_workers or (os.cpu_count() or 1))
    try:
        ok, blob, text = pool.submit(_run_in_worker, payload).result()
    except BrokenProcessPool as exc:
        raise RuntimeError(
            "processes scheduler: a worker process died (killed, or out of memory) "
            "while running a task"
        ) from exc
    value = cloudpickle.loads(blob)
    if ok:
        return value
    if hasattr(value, "add_note"):
        value.add_note("[chunkwise] traceback in the worker process:\n" + text.rstrip())
    raise value


def get_processes(
    graph: Mapping, keys: Any, num_workers: int | None = None, callbacks: Any = None, **kwargs: Any
) -> Any:
    """Run ``graph`` on a pool of ``num_workers`` processes (default: the number of cores)."""
    if num_workers is None:
        num_workers = os.cpu_count() or 1
    if num_workers < 1:
        raise ValueError(f"processes scheduler: num_workers must be >= 1, got {num_workers}")
    _get_pool(num_workers)
    try:
        return run_graph(
            graph,
            keys,
            num_workers=num_workers,
            execute=_execute_remote,
            callbacks=callbacks,
            on_interrupt=lambda: shutdown_pool(kill=True),
            **kwargs,
        )
    except BrokenProcessPool:
        shutdown_pool(kill=True)
        raise
