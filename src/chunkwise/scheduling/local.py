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
  a random chunk, a slice of an in-memory array). While other work is ready, a
  source may start only if fewer than ``max_live_sources`` source results are
  alive and still waited for by a reader that cannot run yet; otherwise the
  worker runs the other work, if that reads such a source (it helps the
  sources' readers catch up). A source whose readers can all run no longer
  counts: it is not running ahead of them, and the order decides when they run.
  (Counting it made a join of two shuffled sides run every combine of the first
  side, holding that whole side in memory, before splitting the second: a
  split's pieces are read by every combine, and the combines were ready.) A
  worker never idles for the throttle: with no other work ready it runs the
  next source, since the tasks still waiting may need it (a ``map_overlap``
  block needs its neighbours: two
  rows of blocks alive at once, more than the limit; waiting there left one of
  two workers idle and doubled the wall time). So the throttle can never
  deadlock, and sources run ahead only as far as the consumers' needs and the
  order allow.
- **Released early.** A result is dropped as soon as every task that needs it
  has run, unless it was asked for.
- **Errors stop everything.** The first exception stops all workers from
  taking new tasks and is re-raised in the caller with its original type, its
  traceback starting at the user's function, and a note naming the task's key,
  once the tasks other workers are running have finished: nothing the compute
  started still runs (writes a file, holds the BLAS limit) after it returns.
  ``KeyboardInterrupt`` in the caller stops the workers too, without waiting.

How work is executed is the only difference between the schedulers: ``sync``
runs the loop in the caller alone; ``threads`` adds ``num_workers - 1`` pool
threads running the same loop; ``processes`` runs the loop in driver threads
that ship each task and its inputs to a process pool (see ``processes.py``).

State
-----
:class:`State` numbers the tasks with integers once
(:func:`chunkwise.scheduling.numbering.index_references`: where each task reads
each input, found mostly by comparing its references with the keys next to it,
without hashing), orders them on those numbers
(:func:`chunkwise.core.passes.order_indexed`), and then holds, for one
computation, everything in lists indexed by the tasks' priorities
(``0 .. n-1``): the nodes, keys, where each task reads its inputs (``refs``,
in its reading order), its dependencies (``deps``) and dependents (``users``;
each none, one priority, or a list), the count of its unfinished dependencies
(``waiting``) and of the tasks still to read its result (``remaining``), its
kind (data, source, other), and the live results (``values``). A task runs
with :meth:`chunkwise.core.graph.Task.call_at`, reading ``values`` by
position: no map by key is touched while tasks run (``priority``, by key, is
made only if a callback asks for it; ``results`` is a view by key for
callbacks). A result is dropped from ``values`` when its last reader has run;
when the last task finishes, the results not asked for are dropped together.
The ready priorities: a heap of other work; sources in a list sorted once,
for those ready at the start, and a heap for the rest. A worker takes up to
``_BATCH`` of the sources ready at the start in one round of the lock (when
no dependent of theirs could become ready by that batch) and records their
results together. Callbacks see it as ``state``; an executor that ships tasks
elsewhere (``processes``) gets each task's inputs by key.

Worked example: ``a`` and ``b`` hold data, ``c = a + b``, output ``c``.
Priorities are ``a: 0, b: 1, c: 2``; ``waiting`` is ``[0, 0, 2]`` and
``remaining`` ``[1, 1, 0]``; ``a`` and ``b`` are ready at once. A
worker runs ``a``; ``waiting[2]`` becomes 1. Then ``b``; ``waiting[2]``
reaches 0 and ``c`` is pushed. The worker runs ``c``; ``remaining`` of ``a``
and ``b`` reach 0, so both results are dropped; ``c`` is kept because it was
asked for.

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
from chunkwise.scheduling.numbering import index_references
from chunkwise.scheduling.pool import default_pool
from chunkwise.system import cpu_count

__all__ = ["LiveResults", "State", "busy_workers", "get_sync", "get_threads", "run_graph", "slab_scale"]

_busy_lock = threading.Lock()
_busy = [0]  # worker loops of the local computes running in this process


def busy_workers() -> int:
    """The worker loops of the local computes running in this process now; 0 when none runs
    (e.g. in a ``distributed`` worker's thread or a ``processes`` pool worker).

    Kernels that cut a block into cache-sized pieces read it: every piece is a
    call that takes the GIL, and the more threads take it, the larger a piece
    must be for the threads not to queue for it.
    """
    return _busy[0]


def slab_scale() -> float:
    """How many times larger than on two threads a kernel's slab of a block should be now.

    A kernel that runs a large block in cache-sized slabs (the array
    package's fused elementwise groups and shared reductions) makes a few
    NumPy calls per slab, each taking the GIL for a moment. With ``t`` threads doing the same, each call waits for the
    others more often (``t`` of them) and longer (their queue), so a slab's
    work must grow with ``t ** 2`` for the waiting to stay a small share:
    ``(t / 2) ** 2``, ``t`` being the worker loops of the local computes
    running now, else (a ``distributed`` worker's thread) this process's cores,
    and never below 2. Measured on 16 cores: a 32,768-element slab made the
    elementwise chain 4x slower than whole blocks; on 2 and 4 threads the
    cache-sized slabs win (docs/benchmarks.md, scaling).

    >>> slab_scale() >= 1.0
    True
    """
    threads = busy_workers() or cpu_count()
    return (max(threads, 2) / 2) ** 2


def _add_busy(n: int) -> None:
    with _busy_lock:
        _busy[0] += n

_INTERNAL_FILES = (
    os.path.join("chunkwise", "core", "graph.py"),
    os.path.join("chunkwise", "scheduling", ""),
)


_DATA = 0  # kinds of task, by priority: a DataNode (holds its value already)
_SOURCE = 1  # no dependencies, or only DataNodes: reads or generates data (throttled)
_OTHER = 2  # everything else
_SOURCE_CONSUMABLE = 3  # a source whose readers are all ready: no longer held back by the throttle
_BATCH = 16  # at most this many sources ready at the start taken in one lock round



class State:
    """The scheduler's state for one computation; see the module docstring."""

    __slots__ = (
        "_priority",
        "cond",
        "deps",
        "error",
        "in_flight",
        "graph",
        "idle",
        "initial_sources",
        "final",
        "keep",
        "kept",
        "keys_by_priority",
        "kinds",
        "live_sources",
        "unready_readers",
        "max_live_sources",
        "nodes",
        "num_done",
        "num_live",
        "num_tasks",
        "num_workers",
        "ready_other",
        "ready_sources",
        "refs",
        "remaining",
        "running_other",
        "stop",
        "users",
        "values",
        "waiting",
    )

    def __init__(self, graph: Mapping, keep: set, max_live_sources: int, num_workers: int = 1):
        # Number the tasks once, in the graph's order: where each task reads each
        # input is found here (numbering.py) and nowhere else. Ordering and running
        # then read lists.
        keys = list(graph)
        nodes = list(graph.values())
        refs_of, deps_of, users_of = index_references(keys, nodes)
        by_priority = passes.order_indexed(keys, deps_of, users_of)
        n = len(keys)
        # Renumber by priority. Tasks run roughly in priority order, so the lists
        # below are read almost in sequence: at 10**6 tasks a dict lookup by key
        # is a cache miss, a list read in order is not.
        priority = [0] * n
        for p, i in enumerate(by_priority):
            priority[i] = p
        keys_by_priority = [keys[i] for i in by_priority]
        nodes = [nodes[i] for i in by_priority]
        kept = bytearray(n)  # 1 for the results asked for
        for i in _positions_of(keys, keep):
            kept[priority[i]] = 1
        del keys
        users: list = [None] * n  # None, the one dependent's priority, or a list of several
        deps: list = [None] * n  # the same for the dependencies
        refs: list = [None] * n  # where each task reads its inputs, in its reading order
        readers = [0] * n  # how many tasks read each result (counted down as they finish)
        waiting = [0] * n  # unfinished dependencies of each task not yet ready
        get = priority.__getitem__
        for p, i in enumerate(by_priority):
            u = users_of[i]
            if u is not None:
                if type(u) is list:
                    users[p] = list(map(get, u))
                    readers[p] = len(u)
                else:
                    users[p] = priority[u]
                    readers[p] = 1
            d = deps_of[i]
            if d is None:
                continue
            r = refs_of[i]
            if type(d) is list:
                # distinct references (the common case, a range): one list serves as both
                ref_list = list(map(get, r))
                refs[p] = ref_list
                deps[p] = ref_list if type(r) is range else list(map(get, d))
                waiting[p] = len(d)
            else:
                deps[p] = priority[d]
                refs[p] = priority[r] if type(r) is int else list(map(get, r))
                waiting[p] = 1
        del users_of, deps_of, refs_of, by_priority
        kinds = bytearray(n)
        ready_sources: list[int] = []
        ready_other: list[int] = []
        for p, node in enumerate(nodes):
            if type(node) is DataNode:
                ready_other.append(p)  # kinds[p] is _DATA already
                continue
            d = deps[p]
            if d is None:
                kinds[p] = _SOURCE
                ready_sources.append(p)
                continue
            # a source too when every input is a DataNode (most tasks stop at the first);
            # inputs come first in priority order, so their kinds are known already
            fed = True
            for j in d if type(d) is list else (d,):
                if kinds[j] != _DATA:
                    fed = False
                    break
            kinds[p] = _SOURCE if fed else _OTHER
        # Sources ready at the start (all the leaves of a wide graph) are taken in
        # priority order from the end of a list, not from a heap: a heap's pop costs
        # log n (20 levels at 10**6, each a cache miss). The heap holds only the
        # sources that become ready later. ``ready_other`` is sorted: a heap.
        ready_sources.reverse()

        self.graph = graph
        self.nodes = nodes
        self._priority: dict | None = None
        self.keys_by_priority = keys_by_priority
        self.keep = keep
        self.kept = kept
        self.values: list = [_MISSING] * n  # the live results, by priority
        self.num_live = 0
        self.final: dict | None = None  # the results asked for, once the last task is done
        self.refs = refs
        self.users = users
        self.deps = deps
        self.remaining = readers
        self.waiting = waiting
        self.kinds = kinds
        self.initial_sources = ready_sources
        self.ready_sources: list[int] = []
        self.ready_other = ready_other
        self.live_sources = 0
        self.max_live_sources = max_live_sources
        self.unready_readers: dict[int, int] = {}  # per source: readers not ready yet (_reader_ready)
        self.running_other = 0
        self.num_tasks = n
        self.num_done = 0
        self.idle = 0
        self.num_workers = num_workers
        self.stop = False
        self.error: tuple | None = None  # (exception, key)
        self.in_flight = 0  # workers running a batch of tasks (outside the lock)
        self.cond = threading.Condition(threading.Lock())

    @property
    def results(self) -> Mapping:
        """The live results by key (for callbacks): a view of ``values``, or, once the
        last task is done, the results asked for."""
        if self.final is not None:
            return self.final
        return LiveResults(self)

    def inputs(self, p: int) -> dict:
        """The inputs of the task of priority ``p`` by key (for executors that ship them)."""
        d = self.deps[p]
        if d is None:
            return {}
        keys = self.keys_by_priority
        values = self.values
        return {keys[j]: values[j] for j in (d if type(d) is list else (d,))}

    @property
    def priority(self) -> dict:
        """Each key's priority (made on first use: the scheduler itself works by priority)."""
        if self._priority is None:
            self._priority = {k: p for p, k in enumerate(self.keys_by_priority)}
        return self._priority

    def _next(self) -> int | None:
        """Pop the priority of the ready task to run next, or ``None`` when the worker
        must wait. Lock held."""
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
            if self.live_sources >= self.max_live_sources and other and self._reads_held_source(other[0]):
                return self._pop_other()
            # Over the limit with no other work ready, this worker would idle until a
            # running task finishes; the consumers waiting for sources (a map_overlap's
            # neighbours, a rechunk's pieces) would wait with it. Run the source.
            self.live_sources += 1
            if initial and initial[-1] == first:  # priorities are distinct
                initial.pop()
            else:
                heappop(sources)
            return first
        return None

    def _take_sources(self, batch: list) -> None:
        """Add to ``batch`` (one source taken) the next sources ready at the start, while
        no other work is ready: up to ``_BATCH`` tasks and this worker's share of them.
        Lock held. One lock round per batch instead of one per task; the results are
        recorded together when the batch is done.

        A source joins only if none of its dependents can become ready by this batch
        (each waits on more than ``_BATCH`` tasks: a wide sum, a tree's first
        levels): otherwise that dependent would wait behind the rest of the batch,
        and sources would run ahead of their consumers, past the throttle.
        """
        initial = self.initial_sources
        limit = min(_BATCH, len(initial) // self.num_workers)
        sources = self.ready_sources
        users = self.users
        waiting = self.waiting
        if _feeds_soon(users[batch[0]], waiting):
            return
        while len(batch) < limit and initial:
            q = initial[-1]
            if sources and sources[0] < q:
                break  # a source that became ready runs first: the batch stops here
            if _feeds_soon(users[q], waiting):
                break
            initial.pop()
            self.live_sources += 1
            batch.append(q)

    def _reads_held_source(self, p: int) -> bool:
        """Whether task ``p`` reads a source result that still counts towards the throttle:
        running ``p`` first then helps the sources' readers catch up. Lock held."""
        deps = self.deps[p]
        if deps is None:
            return False
        kinds = self.kinds
        if type(deps) is not list:
            return kinds[deps] == _SOURCE
        return any(kinds[d] == _SOURCE for d in deps)

    def _reader_ready(self, u: int) -> None:
        """``u`` became ready: a source it reads whose readers are now all ready stops
        counting towards the throttle. Lock held."""
        kinds = self.kinds
        deps = self.deps[u]
        for d in deps if type(deps) is list else (deps,):
            if kinds[d] == _SOURCE:
                left = self.unready_readers.get(d)
                if left is None:
                    readers = self.users[d]
                    left = len(readers) if type(readers) is list else 1
                left -= 1
                if left:
                    self.unready_readers[d] = left
                else:
                    self.unready_readers.pop(d, None)
                    self.live_sources -= 1
                    kinds[d] = _SOURCE_CONSUMABLE

    def _pop_other(self) -> int:
        p = heappop(self.ready_other)
        if self.kinds[p] != _DATA:
            self.running_other += 1
        return p

    def _finish(self, p: int, result: Any) -> int:
        """Record the result of the task of priority ``p`` and release what is no
        longer needed. Lock held. Returns how many tasks became ready."""
        users = self.users[p]
        kept = self.kept
        values = self.values
        if users is not None or kept[p]:
            values[p] = result
            self.num_live += 1
        kinds = self.kinds
        kind = kinds[p]
        if kind == _SOURCE:
            if users is None:  # a source nobody consumes no longer holds the throttle
                self.live_sources -= 1
                kinds[p] = _SOURCE_CONSUMABLE
        elif kind == _OTHER:
            self.running_other -= 1
        if self.num_done + 1 == self.num_tasks:
            # The last task: nothing else will read a result, so none is released one
            # by one (for a sum over 10**6 tasks, 10**6 releases); the results asked
            # for are kept by key and the list is dropped whole.
            keys = self.keys_by_priority
            self.final = {keys[q]: values[q] for q in _kept_positions(kept)}
            self.values = []
            self.num_live = len(self.final)
            self.num_done += 1
            return 0
        deps = self.deps[p]
        if deps is not None:
            remaining = self.remaining
            for d in deps if type(deps) is list else (deps,):
                left = remaining[d] - 1
                remaining[d] = left
                if left:
                    continue
                if not kept[d]:
                    values[d] = _MISSING
                    self.num_live -= 1
                if kinds[d] == _SOURCE:
                    self.live_sources -= 1
                    kinds[d] = _SOURCE_CONSUMABLE
        newly_ready = 0
        if users is not None:
            waiting = self.waiting
            for u in users if type(users) is list else (users,):
                left = waiting[u] - 1
                waiting[u] = left
                if not left:
                    # a dependent has dependencies: it is a source only if they are data
                    if kinds[u] == _SOURCE:
                        heappush(self.ready_sources, u)
                    else:
                        heappush(self.ready_other, u)
                        self._reader_ready(u)
                    newly_ready += 1
        self.num_done += 1
        return newly_ready


def _feeds_soon(users: Any, waiting: list) -> bool:
    """Whether a dependent in ``users`` (None, one priority or a list) could become
    ready within one batch."""
    if users is None:
        return False
    if type(users) is int:
        return waiting[users] <= _BATCH
    return min(map(waiting.__getitem__, users)) <= _BATCH


_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "<no result>"})()


def _positions_of(keys: list, wanted: set) -> list:
    """The positions of the ``wanted`` keys in ``keys``: a scan comparing objects for a
    few (most often one output), no hashing of every key; a map for many."""
    if len(wanted) <= 16:
        return [keys.index(k) for k in wanted]
    return [i for i, k in enumerate(keys) if k in wanted]


def _kept_positions(kept: bytearray) -> list:
    out = []
    p = kept.find(1)
    while p >= 0:
        out.append(p)
        p = kept.find(1, p + 1)
    return out


class LiveResults(Mapping):
    """The live results of a computation by key: a read-only view of ``State.values``.

    ``len`` is counted as results come and go; iterating walks every position
    (for callbacks and tests, not for the scheduler itself).
    """

    __slots__ = ("state",)

    def __init__(self, state: State):
        self.state = state

    def __len__(self) -> int:
        return self.state.num_live

    def __iter__(self):
        keys = self.state.keys_by_priority
        values = self.state.values
        return (keys[p] for p, v in enumerate(values) if v is not _MISSING)

    def __getitem__(self, key: Hashable) -> Any:
        p = self.state.priority.get(key)
        values = self.state.values
        if p is None or p >= len(values) or values[p] is _MISSING:
            raise KeyError(key)
        return values[p]

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True


def _stuck_error(state: State) -> ValueError:
    stuck = [state.keys_by_priority[p] for p, w in enumerate(state.waiting) if w]
    return ValueError(
        f"the graph cannot finish: {len(stuck)} tasks wait on each other "
        f"(a cycle), e.g. {stuck[:5]!r}"
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
    values = state.values
    nodes = state.nodes
    refs = state.refs
    keys = state.keys_by_priority
    by_position = execute is _execute_in_thread
    pretasks = [cb._pretask for cb in callbacks if hasattr(cb, "_pretask")]
    posttasks = [cb._posttask for cb in callbacks if hasattr(cb, "_posttask")]
    batch: list[int] = []  # the priorities of the tasks this worker runs (they index the state)
    done: list = []  # their results, recorded together
    key = None
    with cond:
        while True:
            # Record the previous batch's results (if any), then take the next batch.
            if batch:
                woken = 0
                for p, result in zip(batch, done):
                    woken += state._finish(p, result)
                batch.clear()
                done.clear()
                if state.num_done == state.num_tasks:
                    cond.notify_all()
                    return
                if state.idle and woken > 1:
                    cond.notify(woken - 1)
            while True:
                if state.stop:
                    return
                taken = state._next()
                if taken is not None:
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
            batch.append(taken)
            if state.kinds[taken] == _SOURCE and not state.ready_other:
                state._take_sources(batch)
            if state.idle and (state.ready_other or state.ready_sources or state.initial_sources):
                cond.notify()
            state.in_flight += 1
            cond.release()
            try:
                for p in batch:
                    if done and state.stop:  # stopped (an error, Ctrl-C): the rest of the batch never runs
                        break
                    key = keys[p]
                    for hook in pretasks:
                        hook(key, graph, state)
                    node = nodes[p]
                    if by_position and type(node) is Task:
                        result = node.call_at(values, refs[p])
                    elif by_position and type(node) is DataNode:
                        result = node.value
                    else:
                        result = execute(node, state.inputs(p))
                    for hook in posttasks:
                        hook(key, result, graph, state, worker_id)
                    done.append(result)
                    result = None
            except BaseException as exc:
                cond.acquire()
                state.in_flight -= 1
                if state.error is None:
                    state.error = (exc, key)
                state.stop = True
                cond.notify_all()
                return
            cond.acquire()
            state.in_flight -= 1
            if state.stop and not state.in_flight:
                cond.notify_all()  # the caller waits for the last running task before raising


def _trim_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """Drop the scheduler's and the graph machinery's frames from the top of ``tb``."""
    while tb is not None and _is_internal(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def _is_internal(filename: str) -> bool:
    return any(part in filename for part in _INTERNAL_FILES)


def _failed_key(tb: types.TracebackType | None, key: Hashable) -> Hashable:
    """The key of the innermost task in ``tb``: after fusion, the task that really failed."""
    call_codes = (Task.__call__.__code__, Task._call_at.__code__)
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code in call_codes:
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
    if cull:
        graph, _ = passes.cull(graph, flat)
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
        state = State(graph, set(flat), max_live_sources, num_workers)
    finally:
        if gc_enabled:
            gc.enable()
    for cb in cbs:
        if hasattr(cb, "_start_state"):
            cb._start_state(graph, state)
    errored = True
    try:
        if state.num_tasks:
            _add_busy(num_workers)
            try:
                _run_workers(state, num_workers, execute, cbs, on_interrupt)
            finally:
                _add_busy(-num_workers)
        errored = False
        return _pack(keys, state.results)
    finally:
        for cb in cbs:
            if hasattr(cb, "_finish"):
                cb._finish(graph, state, errored)


def _run_workers(
    state: State, num_workers: int, execute: Callable, cbs: Any, on_interrupt: Callable[[], None] | None
) -> None:
    """The caller's thread and ``num_workers - 1`` pool threads run the loop until every task
    ran; the first task error, or an interrupt in the caller, is raised here."""
    pool = default_pool() if num_workers > 1 else None
    for worker_id in range(1, num_workers):
        pool.submit(_bind(_worker_loop, state, worker_id, execute, cbs))  # type: ignore[union-attr]
    try:
        _worker_loop(state, 0, execute, cbs)
        with state.cond:
            while not state.stop and state.num_done < state.num_tasks:
                state.cond.wait(0.1)
            # stopped by a task's error: the tasks still running finish first (not after Ctrl-C)
            while state.in_flight and not isinstance(state.error and state.error[0], KeyboardInterrupt):
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
        num_workers = cpu_count()
    if num_workers < 1:
        raise ValueError(f"threads scheduler: num_workers must be >= 1, got {num_workers}")
    return run_graph(graph, keys, num_workers=num_workers, callbacks=callbacks, **kwargs)
