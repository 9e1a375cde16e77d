"""The adapter to ``distributed``: run chunkwise graphs on a ``distributed.Client``.

This is the only chunkwise module that imports ``dask`` or ``distributed``
(an import-linter contract enforces it); nothing else imports this module
unless ``distributed`` has already been imported by the user (or a dask
function calls one of the ``__dask_*`` methods of a collection).

**Conversion.** A chunkwise graph is converted once, node by node, to
``dask._task_spec`` nodes (:func:`to_dask_graph`): ``DataNode`` ->
``DataNode``; a ``Task`` whose arguments are literals and references (``Ref``) -> a
``Task`` with ``TaskRef`` objects, built directly from the dependencies chunkwise
recorded (``Task.__init__`` would scan every argument again). A task nesting
other tasks or containers of references (as fusion and inlining leave them) is
sent whole: a dask ``Task`` that depends on the same keys and runs the
chunkwise task on their values (:func:`_run_nested`), so the cost does not
grow with the nesting and dask never recurses into it. Measured with
``python -m benchmarks.convert_cost`` on a noisy 2-core machine: ~2.5-2.7 µs
per task (CPU) on an unfused graph, ~3.6-4.4 µs on fused array graphs of
~10^5 tasks (``x + x.T``, its sum, a mean); converting nested tasks node by
node had cost 3.1-11.5 µs.

A block held on the cluster (a chunkwise task ``_future_value(future)``, what
``persist`` on a cluster and :func:`chunkwise.array.from_futures` leave)
becomes the ``distributed.Future`` itself: as a graph value under its own key
the scheduler drops it and uses the data it already holds; as an argument it
is a ``TaskRef`` to that data (tasks holding one are converted node by node,
containers becoming ``List``/``Tuple``/``Dict``), and the future also stands at
the top level under its own key, as in Dask's graphs (so ``futures_of`` finds
the futures a derived collection uses). Nothing is recomputed, and no block
travels back to the client.

**Running.** :func:`get_distributed` submits the converted graph as a
``LLGExpr`` with a random token, as ``Client.submit`` does, so ``distributed``
does not hash the whole graph: ``Client.get`` on a plain dict tokenizes every
node (measured on 100,000 tasks: ~320 µs per task on the client, against
~23 µs with the token given, most of it pickling the graph and one ``Future``
per requested key). ``persist(scheduler=client)`` asks for futures instead of
results (``sync=False``): the persisted collection's blocks stay on the workers.

**The collection protocol** (implemented by :class:`chunkwise.base.Collection`,
which calls this module lazily): ``client.compute``, ``client.persist``,
``distributed.wait``/``progress``/``futures_of``, ``client.submit(f, x)`` and
``dask.compute`` work on arrays and delayed values.

- ``__dask_graph__()``: chunkwise's own optimized, culled and fused graph for
  every output block (keys ``(name, i, j, ...)``), converted by
  :func:`to_dask_graph`. ``dask`` wraps it in a ``HLGExpr``, whose token is
  random: the graph is not hashed.
- ``__dask_keys__()``: the flat list of those block keys (one key for a
  delayed value) — the optimized expression's output keys.
- ``__dask_postcompute__()``: a function joining the blocks into the result
  (the collection's own finalize task, run on the blocks' values).
- ``__dask_postpersist__()``: rebuilds the collection around its blocks (here
  ``Future`` objects, so later graphs refer to the data on the cluster).
- ``__dask_tokenize__()``: the expression's deterministic name.
- ``__dask_optimize__``: the identity (the graph is already optimized).
- ``__dask_scheduler__``: :func:`dask_get`, ``dask``'s threaded scheduler
  (used by ``dask.compute`` when no client is active).

``client.submit(f, x)`` sends the (lazy) collection itself to ``f``, as for
Dask collections; ``x.compute()`` inside ``f`` runs where ``f`` runs.
Computing a collection backed by futures with a local scheduler
(``scheduler="threads"``) gathers the blocks from the cluster.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from dask._task_spec import DataNode as _DaskDataNode
from dask._task_spec import Dict as _DaskDict
from dask._task_spec import List as _DaskList
from dask._task_spec import Task as _DaskTask
from dask._task_spec import TaskRef as _DaskTaskRef
from dask._task_spec import Tuple as _DaskTuple

from chunkwise.core.graph import DataNode, DictArg, ListArg, Ref, Task
from distributed import CancelledError, Client, Future, default_client

__all__ = [
    "active_client",
    "dask_get",
    "future_task",
    "get_distributed",
    "is_client",
    "is_future",
    "to_dask_graph",
]


_TOKENIZE_EVERY = 8


def _future_value(future: Any) -> Any:
    """The value of a block held on a ``distributed`` cluster, fetched (local schedulers).

    On the cluster the adapter replaces this task by the future itself, so the
    data is used where it is; see :mod:`chunkwise.distributed`.
    """
    try:
        return future.result()
    except CancelledError as error:
        raise RuntimeError(
            f"the block {future.key!r} held on the distributed cluster is gone (cancelled, "
            "or its client closed); persist the collection again"
        ) from error


#: Whether this process has made any :func:`future_task`: until it has, no graph
#: can refer to futures, and converting skips looking for them in nested tasks.
_future_tasks_made = False


def future_task(key: Any, future: Any) -> Task:
    """The chunkwise task standing for a block held on the cluster as ``future``.

    Local schedulers run it (fetching the block); :func:`to_dask_graph` turns
    it into the future itself, a reference to the data where it is. Every
    graph node referring to a future is made here.
    """
    global _future_tasks_made
    _future_tasks_made = True
    return Task(key, _future_value, future)


def _convert_arg(arg: Any) -> tuple[Any, int, bool]:
    """One parsed argument (a position recorded as holding references) as a dask node.

    Returns the node, its height (how many nested dask nodes deep it goes) and
    whether it refers to a block held on the cluster (a future).
    """
    tp = type(arg)
    if tp is Ref:
        return _DaskTaskRef(arg.key), 0, False
    if tp is Task:
        if arg.func is _future_value:
            return arg.args[0], 0, True  # a Future is a TaskRef: a reference to data on the cluster
        node, height, fut = _convert_task(arg)
    elif tp is ListArg:
        items = []
        height = 0
        fut = False
        for item in arg.items:
            value, h, f = _convert_arg(item)
            items.append(value)
            height = max(height, h)
            fut = fut or f
        node = _DaskList(*items) if arg.kind is list else _DaskTuple(*items)
    elif tp is DictArg:
        items_dict = {}
        height = 0
        fut = False
        for k, item in arg.items.items():
            items_dict[k], h, f = _convert_arg(item)
            height = max(height, h)
            fut = fut or f
        node = _DaskDict(items_dict)
    else:
        return arg, 0, False  # a literal inside a container that also holds references
    height += 1
    if height % _TOKENIZE_EVERY == 0:
        # ``Client.get`` tokenizes the whole graph, recursing ~16 frames per
        # nesting level: a fused chain of 100 tasks would overflow the stack.
        # Tokenizing every 8th level here, innermost first, caches its token,
        # so the tokenization of the levels above stops there. It is work dask
        # does anyway; shallow nodes are left to dask.
        node.__dask_tokenize__()
    return node, height, fut


# ``dask._task_spec.Task.__init__`` scans every argument for references (~3.5 µs
# a task); chunkwise tasks know their dependencies already, so the converted
# task is built directly when ``Task``'s layout is the one this was written for.
_TASK_FIELDS = frozenset(
    {"key", "_dependencies", "func", "args", "kwargs", "_data_producer", "_token", "_is_coro", "_repr"}
)
_FAST_TASKS = (
    frozenset(s for cls in _DaskTask.__mro__ for s in getattr(cls, "__slots__", ())) == _TASK_FIELDS
    and not hasattr(_DaskTask(None, len, 1), "__dict__")
)
_new = object.__new__


def _dask_task(
    key: Any, func: Any, args: tuple, kwargs: dict, deps: frozenset | None, literals: bool = True
) -> _DaskTask:
    """``dask._task_spec.Task(key, func, *args, **kwargs)``; ``deps``: its dependencies, if known.

    ``literals=False``: the arguments hold no user literal that could be a future.
    """
    if (
        deps is None
        or not _FAST_TASKS
        or (
            literals  # a literal future is a reference too, as in dask
            and (Future in map(type, args) or (kwargs and Future in map(type, kwargs.values())))
        )
    ):
        return _DaskTask(key, func, *args, **kwargs)
    task = _new(_DaskTask)
    task.key = key
    task.func = func
    task.args = args
    task.kwargs = kwargs
    task._dependencies = deps
    task._data_producer = False
    task._token = None
    task._is_coro = None
    task._repr = None
    return task


def _convert_task(task: Task) -> tuple[_DaskTask, int, bool]:
    args = task.args
    height = 0
    fut = False
    dyn = task._dyn_args
    if dyn is not None:
        args = list(args)
        for i in dyn:
            args[i], h, f = _convert_arg(args[i])
            if h > height:
                height = h
            fut = fut or f
        args = tuple(args)
    kwargs = task.kwargs
    if task._dyn_kwargs is not None:
        kwargs = dict(kwargs)
        for name in task._dyn_kwargs:
            kwargs[name], h, f = _convert_arg(kwargs[name])
            if h > height:
                height = h
            fut = fut or f
    # the chunkwise dependencies, unless futures add theirs (then dask finds them)
    deps = None if fut else frozenset(task.dependencies)
    return _dask_task(task.key, task.func, args, kwargs or {}, deps), height, fut


def _collect_futures(arg: Any, held: dict) -> None:
    """Add the futures ``arg`` (a task, or a container argument) refers to, by key, to ``held``."""
    tp = type(arg)
    if tp is ListArg:
        for item in arg.items:
            _collect_futures(item, held)
    elif tp is DictArg:
        for item in arg.items.values():
            _collect_futures(item, held)
    elif tp is Task:
        if arg.func is _future_value:
            held[arg.args[0].key] = arg.args[0]
            return
        if arg._dyn_args is not None:
            for i in arg._dyn_args:
                _collect_futures(arg.args[i], held)
        if arg._dyn_kwargs is not None:
            for name in arg._dyn_kwargs:
                _collect_futures(arg.kwargs[name], held)


def _run_nested(task: Task, keys: tuple, *values: Any) -> Any:
    """Run a chunkwise task on a worker, given the values of its dependencies ``keys``."""
    return task(dict(zip(keys, values)))


def _convert_top(key: Any, task: Task, held: dict) -> Any:
    """A top-level chunkwise task as a dask node.

    A task whose arguments are literals and references converts one to one.
    One that nests tasks or containers (as fusion leaves them) is sent whole,
    as the literal argument of a dask task that depends on the same keys: dask
    never walks it, so converting costs the same at any nesting depth. Tasks
    that refer to futures are converted node by node, so each future is a
    reference to its data on the cluster.
    """
    dyn = task._dyn_args
    args = task.args
    simple = True
    if dyn is not None:
        for i in dyn:
            if type(args[i]) is not Ref:
                simple = False
                break
    if simple and task._dyn_kwargs is not None:
        kwargs = task.kwargs
        for name in task._dyn_kwargs:
            if type(kwargs[name]) is not Ref:
                simple = False
                break
    if simple:
        if dyn is not None:
            args = list(args)
            for i in dyn:
                args[i] = _DaskTaskRef(args[i].key)
            args = tuple(args)
        kwargs = task.kwargs
        if task._dyn_kwargs is not None:
            kwargs = dict(kwargs)
            for name in task._dyn_kwargs:
                kwargs[name] = _DaskTaskRef(kwargs[name].key)
        return _dask_task(key, task.func, args, kwargs or {}, frozenset(task.dependencies))
    if _future_tasks_made:
        found: dict = {}
        _collect_futures(task, found)
        if found:
            held.update(found)
            return _convert_task(task)[0]
    deps = frozenset(task.dependencies)
    keys = tuple(deps)
    return _dask_task(key, _run_nested, (task, keys, *map(_DaskTaskRef, keys)), {}, deps, literals=False)


def to_dask_graph(graph: Mapping) -> dict:
    """``graph`` (chunkwise nodes) as a dict of ``dask._task_spec`` nodes, for ``Client.get``.

    Keys are kept as they are (chunkwise keys are already of the types
    ``distributed`` accepts). Only argument positions recorded as holding
    references are visited, so literal arguments cost nothing; a task nesting
    others is sent whole (see :func:`_convert_top`).
    """
    out = {}
    held: dict = {}  # futures referred to inside tasks, by key
    gc_was_enabled = gc.isenabled()
    gc.disable()  # building ~10^5 objects would otherwise trigger full collections
    try:
        for key, node in graph.items():
            tp = type(node)
            if tp is Task:
                if node.func is _future_value:
                    # the Future itself: dropped by the scheduler when its key is
                    # ``key`` (the data is there already), an alias otherwise
                    out[key] = node.args[0]
                else:
                    out[key] = _convert_top(key, node, held)
            elif tp is DataNode:
                out[key] = _DaskDataNode(key, node.value)
            else:
                raise TypeError(
                    f"graph node for {key!r} is a {tp.__name__}, not a chunkwise Task or DataNode"
                )
    finally:
        if gc_was_enabled:
            gc.enable()
    for key, future in held.items():
        # as in Dask's graphs, each block held on the cluster also stands at the top
        # level under its own key (the scheduler keeps the data it has), so
        # ``distributed.futures_of`` finds the futures a derived collection uses
        out.setdefault(key, future)
    return out


def is_client(obj: Any) -> bool:
    """Whether ``obj`` is a ``distributed.Client``."""
    return isinstance(obj, Client)


def active_client() -> Client | None:
    """The default ``distributed.Client`` of this process or worker, or ``None`` when there is none."""
    try:
        return default_client()
    except ValueError:
        return None


def get_distributed(
    graph: Mapping,
    keys: Any,
    client: Client | None = None,
    num_workers: int | None = None,
    callbacks: Any = None,
    **kwargs: Any,
) -> Any:
    """Run ``graph`` on ``client`` (default: the active client) and return the results of ``keys``.

    ``keys`` is a key or nested lists of keys; the results come back in the
    same structure. ``num_workers`` and ``callbacks`` (local-scheduler options)
    are ignored; other keywords (``workers``, ``resources``, ``retries``,
    ``priority`` ...) go to ``Client.get``. A task's exception is re-raised
    with its original type.
    """
    if client is None:
        client = active_client()
        if client is None:
            raise ValueError(
                "scheduler='distributed' needs a distributed.Client: create one first, "
                "e.g. Client(LocalCluster()), or pass scheduler=client"
            )
    return client.get(_unhashed(to_dask_graph(graph)), keys, **kwargs)


def _unhashed(dsk: dict) -> Any:
    """``dsk`` as the expression ``Client.get`` sends, with a random token.

    A plain dict would become ``LLGExpr(dsk)``, whose name is the hash of the
    whole graph (~250 µs per task); ``Client.submit`` avoids it the same way.
    """
    try:
        from dask._expr import LLGExpr  # private: fall back to the plain dict if it moves
    except ImportError:
        return dsk
    return LLGExpr(dsk, _determ_token=uuid.uuid4().hex)


def is_future(obj: Any) -> bool:
    """Whether ``obj`` is a ``distributed.Future``."""
    return isinstance(obj, Future)


def dask_get(dsk: Mapping, keys: Any, **kwargs: Any) -> Any:
    """Run a graph of ``dask`` nodes (what ``__dask_graph__`` returns) with ``dask``'s threaded scheduler.

    The default scheduler of chunkwise collections for ``dask.compute`` when
    no ``distributed.Client`` is active.
    """
    from dask.threaded import get

    return get(dsk, keys, **kwargs)


def with_dask_getter(getter: Callable[..., Any]) -> Callable[..., Any]:
    """A chunkwise get function that runs its graph with one of dask's (``dask.get``, ``dask.threaded.get``).

    The graph is converted by :func:`to_dask_graph`; ``num_workers`` is
    passed on when given. chunkwise's ``callbacks`` cannot run inside dask's
    schedulers and are refused.
    """
    def run(graph: Mapping, keys: Any, num_workers: int | None = None, callbacks: Any = None,
            **kwargs: Any) -> Any:
        if callbacks:
            raise ValueError(
                f"chunkwise callbacks cannot run inside dask's scheduler {getattr(getter, '__name__', getter)!r}; "
                "use scheduler='threads' or 'sync' with them"
            )
        if num_workers is not None:
            kwargs["num_workers"] = num_workers
        return getter(to_dask_graph(graph), keys, **kwargs)

    run.__name__ = f"dask:{getattr(getter, '__name__', 'get')}"
    return run
