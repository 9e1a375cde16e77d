"""The ``processes`` scheduler: the local loop, with tasks run in worker processes.

For pure-Python functions that hold the GIL. The loop of ``local.py`` runs in
``num_workers`` driver threads; each ships a task and the inputs it needs to a
process pool (serialized with cloudpickle, so lambdas and closures travel) and
waits for the result. Processes start with ``forkserver`` where available
(``spawn`` elsewhere), never ``fork`` from a threaded parent, and the pool is
kept between computations. Ctrl-C terminates the pool's processes, so nothing
keeps running in the background; the next computation starts a new pool.

An exception raised in a worker process is re-raised in the caller with its
original type, and the worker's traceback added as a note.

A worker process that dies (``os._exit``, a crash, SIGKILL, the out-of-memory
killer) breaks its pool. The broken pool is dropped at once and the next task
gets a fresh one, so one death never spoils later computations. Each worker
writes the number of the task it runs into a shared slot, so the computation
whose task killed its worker fails with a :class:`WorkerDiedError` naming that
task, its process id and exit code; tasks that were merely pending or running
beside it in the broken pool are run again on the fresh one (at most twice).
A pool found dead between computations (a worker killed while idle) is
replaced before the next computation starts.

>>> from operator import add
>>> from chunkwise.core.graph import DataNode, Task, Ref
>>> graph = {"a": DataNode("a", 1), "b": Task("b", add, Ref("a"), 1)}
>>> get_processes(graph, "b", num_workers=1)
2
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import traceback
from collections.abc import Hashable, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import cloudpickle

from chunkwise.core.graph import DataNode
from chunkwise.scheduling.local import run_graph
from chunkwise.system import cpu_count

__all__ = ["WorkerDiedError", "get_processes", "shutdown_pool"]

_MAX_RETRIES = 2  # runs of one task after its pool broke under another task


class WorkerDiedError(BrokenProcessPool):
    """A worker process died while running a task (a ``RuntimeError``, and a ``BrokenProcessPool``)."""


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


# --- in the worker processes --------------------------------------------------------

_slot: tuple | None = None  # (shared array of running task numbers, this worker's index)


def _init_worker(running: Any, pids: Any, counter: Any) -> None:
    global _slot
    with counter.get_lock():
        index = counter.value % len(running)
        counter.value += 1
    pids[index] = os.getpid()
    _slot = (running, index)


def _run_in_worker(payload: bytes, number: int = 0) -> tuple[bool, Any, str]:
    slot = _slot
    if slot is not None:
        slot[0][slot[1]] = number
    try:
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
    finally:
        if slot is not None:
            slot[0][slot[1]] = 0


# --- in the caller ----------------------------------------------------------------


class _Pool:
    """A process pool, the tasks handed to it, and which one each worker runs now."""

    def __init__(self, num_workers: int):
        ctx = _context()
        self.num_workers = num_workers
        self.running = ctx.RawArray("q", num_workers)  # task number per worker, 0 when idle
        self.pids = ctx.RawArray("q", num_workers)
        self.executor = ProcessPoolExecutor(
            max_workers=num_workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(self.running, self.pids, ctx.Value("i", 0)),
        )
        # the executor's own dict of worker processes; it keeps them after a breakage
        self.processes: Any = self.executor._processes
        self.keys: dict[int, Hashable] = {}  # task number -> key, for tasks submitted here
        self.closing = False  # shut down on purpose (Ctrl-C): never retried
        self.dropped = False  # no longer the current pool: tasks go to another one
        self.manager: threading.Thread | None = None  # the executor's; it forgets it on shutdown

    def shutdown(self, wait: bool) -> None:
        """Shut the executor down, keeping its manager thread for :meth:`deaths` to wait on."""
        self.manager = getattr(self.executor, "_executor_manager_thread", None) or self.manager
        self.executor.shutdown(wait=wait, cancel_futures=True)

    def is_broken(self, check_processes: bool = False) -> bool:
        if self.dropped or getattr(self.executor, "_broken", False):
            return True
        if check_processes:
            return any(p.exitcode is not None for p in list((self.processes or {}).values()))
        return False

    def deaths(self, settle_s: float = 10.0) -> list[tuple[int, int | None, int]]:
        """``(pid, exit code, task number or 0)`` of each worker that died on its own.

        Waits (up to ``settle_s``) for the executor's manager thread to finish reaping the
        broken pool first. With the forkserver, a worker's exit status is read once from a
        pipe: a read racing the manager thread's gets end-of-file, and ``multiprocessing``
        then records exit code 255 instead of the real one.
        """
        manager = getattr(self.executor, "_executor_manager_thread", None) or self.manager
        if manager is not None and manager is not threading.current_thread():
            manager.join(settle_s)
        out = []
        by_pid = {p.pid: p for p in list((self.processes or {}).values())}
        for index in range(self.num_workers):
            process = by_pid.get(self.pids[index])
            if process is None:
                continue
            code = process.exitcode
            # the executor terminates (SIGTERM) the survivors of a breakage
            if code is not None and code != -signal.SIGTERM:
                out.append((process.pid, code, self.running[index]))
        return out


_lock = threading.Lock()
_pool: _Pool | None = None
_numbers = itertools.count(1)


def _get_pool(num_workers: int, check_processes: bool = False) -> _Pool:
    """The current pool, a new one if there is none, it has the wrong size or is broken."""
    global _pool
    with _lock:
        pool = _pool
        if pool is None or pool.num_workers != num_workers or pool.is_broken(check_processes):
            if pool is not None:
                pool.dropped = True
                pool.shutdown(wait=False)
            pool = _pool = _Pool(num_workers)
        return pool


def _drop_pool(pool: _Pool) -> None:
    """Forget ``pool`` (broken) so that the next task gets a fresh one."""
    global _pool
    with _lock:
        pool.dropped = True
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False)


def shutdown_pool(kill: bool = False, pool: _Pool | None = None) -> None:
    """Stop the worker processes (terminating them at once with ``kill=True``).

    ``pool``: that pool (also when it is no longer the current one); by default the current one.
    """
    global _pool
    with _lock:
        if pool is None or _pool is pool:
            pool, _pool = _pool, None
    if pool is None:
        return
    pool.closing = True
    processes = list((pool.processes or {}).values())
    if kill:
        for process in processes:
            if process.is_alive():
                process.terminate()
    pool.shutdown(wait=not kill)
    for process in processes:
        process.join(timeout=5)


class RemoteError(Exception):
    """Stands for a worker's exception that could not be sent back as itself."""


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        text = f"killed by {name}"
        if -code == signal.SIGKILL:
            text += " (by the out-of-memory killer, or by hand)"
        return text
    return f"exit code {code}"


def _died_error(pool: _Pool, deaths: list, number: int, key: Hashable) -> WorkerDiedError:
    mine = [d for d in deaths if d[2] == number]
    if mine:
        pid, code, _ = mine[0]
        return WorkerDiedError(
            f"processes scheduler: the worker process running task {key!r} died "
            f"(pid {pid}, {_describe_exit(code)}). A task that uses too much memory needs smaller "
            "chunks or fewer workers; one that calls os._exit() or crashes the interpreter cannot "
            "run in a worker. The pool was replaced: later computations get fresh processes."
        )
    if deaths:
        pid, code, other = deaths[0]
        what = f"task {pool.keys[other]!r}" if other in pool.keys else "no task of this scheduler"
        return WorkerDiedError(
            f"processes scheduler: a worker process died (pid {pid}, {_describe_exit(code)}) while "
            f"running {what}; task {key!r} was running or waiting in the same pool and was run "
            f"{_MAX_RETRIES + 1} times without finishing. The pool was replaced."
        )
    return WorkerDiedError(
        f"processes scheduler: the process pool broke (a worker process died) while task {key!r} "
        "was running or waiting in it. The pool was replaced: later computations get fresh processes."
    )


class _Run:
    """One computation on the pool: which pool its tasks go to, and whether it was interrupted."""

    def __init__(self, pool: _Pool):
        self.pool = pool
        self.interrupted = False
        self.lock = threading.Lock()

    def current_pool(self) -> _Pool:
        """The pool for the next task: this run's, or a fresh one if that broke (never after Ctrl-C)."""
        with self.lock:
            if self.interrupted:
                raise KeyboardInterrupt("processes scheduler: the computation was interrupted")
            if self.pool.is_broken():
                self.pool = _get_pool(self.pool.num_workers)
            return self.pool

    def interrupt(self) -> None:
        """Ctrl-C: no task of this run starts a pool again; terminate the pool's processes."""
        with self.lock:
            self.interrupted = True
            pool = self.pool
        pool.closing = True
        shutdown_pool(kill=True, pool=pool)

    def execute(self, node: Any, results: Mapping) -> Any:
        if type(node) is DataNode:
            return node.value
        inputs = {dep: results[dep] for dep in node.dependencies}
        payload = cloudpickle.dumps((node, inputs))
        key = node.key
        pool = None
        number = 0
        for attempt in range(_MAX_RETRIES + 1):
            pool = self.current_pool()
            number = next(_numbers)
            pool.keys[number] = key
            try:
                future = pool.executor.submit(_run_in_worker, payload, number)
            except BrokenProcessPool:  # broke before this task was handed over: it never ran
                _drop_pool(pool)
                continue
            except RuntimeError:  # shut down (Ctrl-C, or resized by another computation)
                if pool.closing or self.interrupted:
                    raise
                _drop_pool(pool)
                continue
            try:
                ok, blob, text = future.result()
            except BrokenProcessPool as exc:
                _drop_pool(pool)
                deaths = pool.deaths()
                if pool.closing or any(d[2] == number for d in deaths) or attempt == _MAX_RETRIES:
                    raise _died_error(pool, deaths, number, key) from exc
                continue  # another worker died: this task was collateral; run it on a fresh pool
            pool.keys.pop(number, None)
            value = cloudpickle.loads(blob)
            if ok:
                return value
            if hasattr(value, "add_note"):
                value.add_note("[chunkwise] traceback in the worker process:\n" + text.rstrip())
            raise value
        raise _died_error(pool, [], number, key)  # type: ignore[arg-type]


def get_processes(
    graph: Mapping, keys: Any, num_workers: int | None = None, callbacks: Any = None, **kwargs: Any
) -> Any:
    """Run ``graph`` on a pool of ``num_workers`` processes (default: the number of cores)."""
    if num_workers is None:
        num_workers = cpu_count()
    if num_workers < 1:
        raise ValueError(f"processes scheduler: num_workers must be >= 1, got {num_workers}")
    run = _Run(_get_pool(num_workers, check_processes=True))
    return run_graph(
        graph,
        keys,
        num_workers=num_workers,
        execute=run.execute,
        callbacks=callbacks,
        on_interrupt=run.interrupt,
        **kwargs,
    )
