"""The local scheduler: one loop shared by ``sync``, ``threads`` and ``processes``.

Policy
------
- **Static priorities.** Before running, every task gets a priority from
  :func:`chunkwise.core.passes.order` (lower runs first). It finishes one
  reduction branch before it opens the next, so the results alive at once stay
  near ``workers x tree depth``.
- **Workers pull.** Each worker (the calling thread is one of them) takes the
  ready task of lowest priority, runs it, and under the same lock records its
  result, releases the inputs nothing else pending needs, and takes its next
  task. There is no central dispatcher and no queue between threads: one lock
  acquisition per task.
- **Sources are throttled.** A *source* is a task with no dependencies (a read,
  a random chunk, a slice of an in-memory array). While other work is running
  or ready, a source may start only if fewer than ``max_live_sources`` source
  results are alive; otherwise the worker runs other work or waits for it.
  When nothing but sources can make progress they run freely, so the throttle
  can never deadlock.
- **Released early.** A result is dropped as soon as every task that needs it
  has run, unless it was asked for.
- **Errors stop everything.** The first exception stops all workers from
  taking new tasks and is re-raised in the caller with its original type, its
  traceback starting at the user's function, and a note naming the task's key.
  ``KeyboardInterrupt`` in the caller does the same.

How work is executed is the only difference between the schedulers: ``sync``
runs the loop in the caller alone; ``threads`` adds ``num_workers - 1`` pool
threads running the same loop; ``processes`` runs the loop in driver threads
that ship each task and its inputs to a process pool (see ``processes.py``).

State
-----
:class:`State` holds, for one computation: the graph, each task's priority,
the count of unfinished dependencies of each waiting task (``waiting``), the
count of pending dependents of each result that several tasks read (``pending``;
a result read by one task is dropped when that task finishes), the ready
priorities (a heap of other work; sources in a list sorted once, for those
ready at the start, and a heap for the rest), the live ``results`` and
counters. Callbacks see it as ``state``.

Worked example: ``a`` and ``b`` are sources, ``c = a + b``, output ``c``.
Priorities are ``a: 0, b: 1, c: 2``. ``waiting = {c: 2}``, ready sources
``[0, 1]``. A worker runs ``a``; ``waiting[c]`` becomes 1. Then ``b``;
``waiting[c]`` reaches 0 and ``c`` is pushed. The worker runs ``c``; ``c``
was the only task reading ``a`` and ``b`` (so they have no ``pending`` count),
and both results are dropped; ``c`` is kept because it was asked for.

>>> from operator import add
>>> from chunkwise.core.graph import DataNode, Task, Ref
>>> graph = {"a": DataNode("a", 1), "b": DataNode("b", 2), "c": Task("c", add, Ref("a"), Ref("b"))}
>>> get_sync(graph, "c")
3
>>> get_threads(graph, ["c", ["a"]], num_workers=2)
[3, [1]]
"""

from __future__ import annotations

import gc
import os
import threading
import types
from collections.abc import Callable, Hashable, Mapping
from heapq import heappop, heappush
from typing import Any

from chunkwise.core import passes
from chunkwise.core.graph import DataNode, Task
from chunkwise.scheduling.callbacks import active_callbacks
from chunkwise.scheduling.pool import default_pool

__all__ = ["State", "get_sync", "get_threads", "run_graph"]

_INTERNAL_FILES = (
    os.path.join("chunkwise", "core", "graph.py"),
    os.path.join("chunkwise", "scheduling", ""),
)


class State:
    """The scheduler's state for one computation; see the module docstring."""

    __slots__ = (
        "cond",
        "dependents",
        "error",
        "graph",
        "idle",
        "initial_sources",
        "keep",
        "keys_by_priority",
        "live_sources",
        "max_live_sources",
        "num_done",
        "num_tasks",
        "num_workers",
        "pending",
        "priority",
        "ready_other",
        "ready_sources",
        "results",
        "running_other",
        "fed_sources",
        "stop",
        "waiting",
    )

    def __init__(
        self,
        graph: Mapping,
        keep: set,
        max_live_sources: int,
        num_workers: int = 1,
        dependencies: Mapping | None = None,
    ):
        if dependencies is None:
            dependencies = {k: node.dependencies for k, node in graph.items()}
        # A task's dependents are ``None`` (none), the one dependent's key (the common
        # case: no container per task; keys are never None or lists), or a list of
        # several. Memory per task matters at 10**6 tasks: pending counts are kept
        # only for results that several tasks read (one read by a single task is
        # released when that task finishes), and a set holds only the sources that
        # have (DataNode) dependencies: a task without dependencies that is not a
        # DataNode is a source too.
        dependents: dict[Hashable, Any] = dict.fromkeys(graph)
        pending: dict = {}
        for key, deps in dependencies.items():
            for dep in deps:
                try:
                    users = dependents[dep]
                except KeyError:
                    raise ValueError(
                        f"task {key!r} depends on {dep!r}, which is not in the graph"
                    ) from None
                if users is None:
                    dependents[dep] = key
                elif type(users) is list:
                    users.append(key)
                    pending[dep] += 1
                else:
                    dependents[dep] = [users, key]
                    pending[dep] = 2
        priority = passes.order_compact(dependencies, dependents)
        keys_by_priority: list = [None] * len(priority)
        for key, p in priority.items():
            keys_by_priority[p] = key

        self.graph = graph
        self.dependents = dependents
        self.priority = priority
        self.keys_by_priority = keys_by_priority
        self.keep = keep
        self.results: dict = {}
        self.pending = pending
        self.waiting: dict = {}
        # Sources: tasks that read or generate data -- no dependencies, or only literal
        # DataNodes. DataNodes themselves hold data already and are never throttled.
        fed_sources = set()
        ready_sources: list[int] = []
        ready_other: list[int] = []
        for key, deps in dependencies.items():
            node = graph[key]
            if type(node) is DataNode:
                ready_other.append(priority[key])
            elif not deps:
                ready_sources.append(priority[key])
            else:
                self.waiting[key] = len(deps)
                if all(type(graph[d]) is DataNode for d in deps):
                    fed_sources.add(key)
        # The sources ready at the start (all the leaves of a wide graph) are taken
        # in priority order from the end of a list sorted once, not from a heap:
        # a heap's pop costs log n (20 levels at 10**6, each a cache miss). The
        # heap holds only the sources that become ready later.
        ready_sources.sort(reverse=True)
        ready_other.sort()  # a sorted list is a heap
        self.initial_sources = ready_sources
        self.fed_sources = fed_sources
        self.ready_sources: list[int] = []
        self.ready_other = ready_other
        self.live_sources = 0
        self.max_live_sources = max_live_sources
        self.running_other = 0
        self.num_tasks = len(graph)
        self.num_done = 0
        self.idle = 0
        self.num_workers = num_workers
        self.stop = False
        self.error: tuple | None = None  # (exception, key)
        self.cond = threading.Condition(threading.Lock())

    def _next_key(self) -> Hashable | None:
        """Pop the ready task to run next, or ``None`` when the worker must wait. Lock held."""
        other = self.ready_other
        sources = self.ready_sources
        initial = self.initial_sources
        if initial:  # the next source: the lower of the two lists' fronts
            first = initial[-1]
            if sources and sources[0] < first:
                first = sources[0]
        elif sources:
            first = sources[0]
        else:
            first = None
        if other and (first is None or other[0] < first):
            return self._pop_other()
        if first is not None:
            if self.live_sources >= self.max_live_sources and (other or self.running_other):
                if other:
                    return self._pop_other()
                return None
            self.live_sources += 1
            if initial and initial[-1] == first:  # priorities are distinct
                initial.pop()
            else:
                heappop(sources)
            return self.keys_by_priority[first]
        return None

    def _pop_other(self) -> Hashable:
        key = self.keys_by_priority[heappop(self.ready_other)]
        if type(self.graph[key]) is not DataNode:
            self.running_other += 1
        return key

    def _finish(self, key: Hashable, result: Any) -> int:
        """Record ``key``'s result and release what is no longer needed. Lock held.

        Returns how many tasks became ready.
        """
        results = self.results
        users = self.dependents[key]
        pending = self.pending
        keep = self.keep
        graph = self.graph
        node = graph[key]
        if users is not None or key in keep:
            results[key] = result
        if type(node) is DataNode:
            pass
        elif not node.dependencies or key in self.fed_sources:  # a source
            if users is None:  # a source nobody consumes no longer holds the throttle
                self.live_sources -= 1
        else:
            self.running_other -= 1
        for dep in node.dependencies:
            left = pending.get(dep, 1) - 1
            if left:
                pending[dep] = left
                continue
            pending.pop(dep, None)
            if dep not in keep:
                del results[dep]
            dep_node = graph[dep]
            if type(dep_node) is not DataNode and (
                not dep_node.dependencies or dep in self.fed_sources
            ):
                self.live_sources -= 1
        newly_ready = 0
        if users is not None:
            waiting = self.waiting
            priority = self.priority
            fed_sources = self.fed_sources
            for dependent in users if type(users) is list else (users,):
                left = waiting[dependent] - 1
                if left:
                    waiting[dependent] = left
                else:
                    del waiting[dependent]
                    # a dependent has dependencies: it is a source only if they are data
                    if dependent in fed_sources:
                        heappush(self.ready_sources, priority[dependent])
                    else:
                        heappush(self.ready_other, priority[dependent])
                    newly_ready += 1
        self.num_done += 1
        return newly_ready


def _stuck_error(state: State) -> ValueError:
    stuck = list(state.waiting)[:5]
    return ValueError(
        f"the graph cannot finish: {len(state.waiting)} tasks wait on each other "
        f"(a cycle), e.g. {stuck!r}"
    )


def _execute_in_thread(task: Task | DataNode, results: Mapping) -> Any:
    return task(results)


def _worker_loop(
    state: State,
    worker_id: int,
    execute: Callable[[Any, Mapping], Any],
    callbacks: list,
) -> None:
    """Take ready tasks and run them until the computation is done or stopped."""
    cond = state.cond
    graph = state.graph
    results = state.results
    pretasks = [cb._pretask for cb in callbacks if hasattr(cb, "_pretask")]
    posttasks = [cb._posttask for cb in callbacks if hasattr(cb, "_posttask")]
    key = None
    result = None
    with cond:
        while True:
            # Record the previous task's result (if any), then take the next one.
            if key is not None:
                woken = state._finish(key, result)
                result = None
                if state.num_done == state.num_tasks:
                    cond.notify_all()
                    return
                if state.idle and woken > 1:
                    cond.notify(woken - 1)
            key = None
            while True:
                if state.stop:
                    return
                key = state._next_key()
                if key is not None:
                    break
                if state.num_done == state.num_tasks:
                    return
                if state.idle + 1 >= state.num_workers and not state.running_other:
                    # Nothing runs, nothing is ready, work remains: the graph has a cycle.
                    state.error = (_stuck_error(state), None)
                    state.stop = True
                    cond.notify_all()
                    return
                state.idle += 1
                cond.wait()
                state.idle -= 1
            if state.idle and (state.ready_other or state.ready_sources or state.initial_sources):
                cond.notify()
            cond.release()
            try:
                for hook in pretasks:
                    hook(key, graph, state)
                result = execute(graph[key], results)
                for hook in posttasks:
                    hook(key, result, graph, state, worker_id)
            except BaseException as exc:
                cond.acquire()
                if state.error is None:
                    state.error = (exc, key)
                state.stop = True
                cond.notify_all()
                return
            cond.acquire()


def _trim_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Drop the scheduler's and the graph machinery's frames from the top of ``tb``."""
    while tb is not None and _is_internal(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _is_internal(filename: str) -> bool:
    return any(part in filename for part in _INTERNAL_FILES)


def _failed_key(tb: types.TracebackType | None, key: Hashable) -> Hashable:
    """The key of the innermost task in ``tb``: after fusion, the task that really failed."""
    call_code = Task.__call__.__code__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code is call_code:
            inner_key = getattr(frame.f_locals.get("self"), "key", None)
            if inner_key is not None:
                key = inner_key
        tb = tb.tb_next
    return key


def _raise_task_error(exc: BaseException, key: Hashable) -> None:
    if key is None:
        raise exc
    if isinstance(exc, Exception) and hasattr(exc, "add_note"):
        failed = _failed_key(exc.__traceback__, key)
        note = f"[chunkwise] raised while computing task {failed!r}"
        if failed != key:
            note += f" (fused into task {key!r})"
        if note not in getattr(exc, "__notes__", ()):
            exc.add_note(note)
    trimmed = _trim_traceback(exc.__traceback__)
    raise exc.with_traceback(trimmed if trimmed is not None else exc.__traceback__)


def _flatten_keys(keys: Any, out: list) -> None:
    if type(keys) is list:
        for k in keys:
            _flatten_keys(k, out)
    else:
        out.append(keys)


def _pack(keys: Any, results: Mapping) -> Any:
    if type(keys) is list:
        return [_pack(k, results) for k in keys]
    return results[keys]


def run_graph(
    graph: Mapping,
    keys: Any,
    num_workers: int = 1,
    execute: Callable[[Any, Mapping], Any] = _execute_in_thread,
    callbacks: Any = None,
    max_live_sources: int | None = None,
    cull: bool = True,
    on_interrupt: Callable[[], None] | None = None,
) -> Any:
    """Run ``graph`` and return the results of ``keys`` (a key or nested lists of keys).

    ``num_workers`` loops run ``execute(node, results)``; the caller's thread is
    one of them. Only the ancestors of ``keys`` run (unless ``cull=False``).
    """
    flat: list = []
    _flatten_keys(keys, flat)
    missing = [k for k in flat if k not in graph]
    if missing:
        raise KeyError(f"requested keys are not in the graph: {missing[:5]!r}")
    dependencies = None
    if cull:
        graph, dependencies = passes.cull(graph, flat)
    cbs = active_callbacks(callbacks)
    for cb in cbs:
        if hasattr(cb, "_start"):
            cb._start(graph)
    if max_live_sources is None:
        max_live_sources = 4 * num_workers
    # The state is a few containers per task and holds no cycles: with the cyclic
    # collector on, building it for 10**6 tasks would walk the whole heap repeatedly.
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        state = State(graph, set(flat), max_live_sources, num_workers, dependencies)
    finally:
        if gc_enabled:
            gc.enable()
    for cb in cbs:
        if hasattr(cb, "_start_state"):
            cb._start_state(graph, state)
    errored = True
    try:
        if state.num_tasks:
            pool = default_pool() if num_workers > 1 else None
            for worker_id in range(1, num_workers):
                pool.submit(_bind(_worker_loop, state, worker_id, execute, cbs))  # type: ignore[union-attr]
            try:
                _worker_loop(state, 0, execute, cbs)
                with state.cond:
                    while not state.stop and state.num_done < state.num_tasks:
                        state.cond.wait(0.1)
            except BaseException:  # KeyboardInterrupt (or similar) in the caller's thread
                with state.cond:
                    state.stop = True
                    state.cond.notify_all()
                if on_interrupt is not None:
                    on_interrupt()
                raise
            if state.error is not None:
                exc, key = state.error
                if isinstance(exc, KeyboardInterrupt) and on_interrupt is not None:
                    on_interrupt()
                _raise_task_error(exc, key)
        errored = False
        return _pack(keys, state.results)
    finally:
        for cb in cbs:
            if hasattr(cb, "_finish"):
                cb._finish(graph, state, errored)


def _bind(func: Callable, *args: Any) -> Callable[[], None]:
    def job() -> None:
        func(*args)

    return job


def get_sync(graph: Mapping, keys: Any, callbacks: Any = None, **kwargs: Any) -> Any:
    """Run ``graph`` in the calling thread alone (for debugging: plain tracebacks, pdb works).

    >>> from chunkwise.core.graph import DataNode
    >>> get_sync({"x": DataNode("x", 41)}, "x")
    41
    """
    kwargs.pop("num_workers", None)
    return run_graph(graph, keys, num_workers=1, callbacks=callbacks, **kwargs)


def get_threads(
    graph: Mapping, keys: Any, num_workers: int | None = None, callbacks: Any = None, **kwargs: Any
) -> Any:
    """Run ``graph`` on ``num_workers`` threads (default: the number of cores).

    >>> from chunkwise.core.graph import DataNode
    >>> get_threads({"x": DataNode("x", 41)}, ["x"], num_workers=2)
    [41]
    """
    if num_workers is None:
        num_workers = os.cpu_count() or 1
    if num_workers < 1:
        raise ValueError(f"threads scheduler: num_workers must be >= 1, got {num_workers}")
    return run_graph(graph, keys, num_workers=num_workers, callbacks=callbacks, **kwargs)
