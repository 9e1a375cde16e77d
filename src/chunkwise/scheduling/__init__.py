"""Schedulers: run a task graph and return the results of some of its keys.

``get(graph, keys, scheduler=...)`` picks the scheduler: the ``scheduler``
argument, else ``chunkwise.config.get("scheduler")`` (also set by the
``CHUNKWISE_SCHEDULER`` environment variable), else an active
``distributed.Client`` if there is one, else ``"threads"``.

``scheduler`` may also be ``"distributed"`` (the active client) or a
``distributed.Client``. ``distributed`` is never imported here: the adapter
``chunkwise.distributed`` is consulted only once the user has imported
``distributed`` themselves.

>>> from chunkwise.core.graph import DataNode, Task, Ref
>>> graph = {"x": DataNode("x", 2), "y": Task("y", pow, Ref("x"), 10)}
>>> get(graph, "y", scheduler="sync")
1024
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import Any

from chunkwise import config
from chunkwise.scheduling.callbacks import Callback
from chunkwise.scheduling.local import busy_workers, get_sync, get_threads, slab_scale

__all__ = [
    "Callback",
    "busy_workers",
    "get",
    "get_distributed",
    "get_processes",
    "get_scheduler",
    "get_sync",
    "get_threads",
    "slab_scale",
]

_ALIASES = {
    "sync": "sync",
    "synchronous": "sync",
    "single-threaded": "sync",
    "threads": "threads",
    "threading": "threads",
    "processes": "processes",
    "multiprocessing": "processes",
}


def get_processes(graph: Mapping, keys: Any, **kwargs: Any) -> Any:
    """Run ``graph`` on a pool of worker processes; see ``chunkwise.scheduling.processes``."""
    from chunkwise.scheduling.processes import get_processes as run

    return run(graph, keys, **kwargs)


_GETTERS: dict[str, Callable[..., Any]] = {
    "sync": get_sync,
    "threads": get_threads,
    "processes": get_processes,
}


def get_distributed(graph: Mapping, keys: Any, **kwargs: Any) -> Any:
    """Run ``graph`` on the active ``distributed.Client``; see ``chunkwise.distributed``."""
    from chunkwise.distributed import get_distributed as run

    return run(graph, keys, **kwargs)


_DISTRIBUTED_NAMES = frozenset({"distributed", "dask.distributed"})


def _active_client_getter() -> Callable[..., Any] | None:
    """A get function for the active ``distributed.Client``, if ``distributed`` is imported and one exists."""
    if "distributed" not in sys.modules:
        return None
    from chunkwise.distributed import active_client

    client = active_client()
    if client is None:
        return None
    return functools.partial(get_distributed, client=client)


def runs_dask_graphs(getter: Callable[..., Any]) -> bool:
    """Whether ``getter`` is a get function of ``dask`` or ``distributed`` (``dask.get``, ``Client.get``, ...).

    Those run graphs of dask's own nodes: a chunkwise graph is converted for
    them (:func:`chunkwise.distributed.with_dask_getter`), or they would return
    chunkwise's task objects as if they were values.
    """
    inner = getter.func if isinstance(getter, functools.partial) else getter
    return str(getattr(inner, "__module__", None) or "").split(".")[0] in ("dask", "distributed")


def get_scheduler(scheduler: Any = None) -> Callable[..., Any]:
    """The ``get`` function for ``scheduler``.

    ``scheduler`` is a name, a ``distributed.Client``, a get function (one of
    dask's, such as ``dask.get``, runs the graph converted to dask's nodes), or
    ``None`` for the default (the configured scheduler, else an active
    ``distributed.Client``, else threads).
    """
    if scheduler is None:
        scheduler = config.get("scheduler", None)
    if scheduler is None:
        return _active_client_getter() or get_threads
    if isinstance(scheduler, str):
        if scheduler.lower() in _DISTRIBUTED_NAMES:
            return get_distributed
        name = _ALIASES.get(scheduler.lower())
        if name is None:
            raise ValueError(
                f"unknown scheduler {scheduler!r}; choose one of 'sync', 'threads', "
                "'processes', 'distributed' (or pass a get function or a distributed.Client)"
            )
        return _GETTERS[name]
    if "distributed" in sys.modules:
        from chunkwise.distributed import is_client

        if is_client(scheduler):
            return functools.partial(get_distributed, client=scheduler)
    if callable(scheduler):
        if runs_dask_graphs(scheduler):
            try:
                from chunkwise.distributed import with_dask_getter
            except ImportError as error:
                raise ImportError(
                    f"scheduler={getattr(scheduler, '__name__', scheduler)!r} runs dask graphs; converting a "
                    "chunkwise graph for it needs the distributed adapter (pip install 'chunkwise[distributed]'), "
                    "or use scheduler='threads'"
                ) from error
            return with_dask_getter(scheduler)
        return scheduler
    raise TypeError(
        "scheduler must be a name such as 'threads', a get function or a distributed.Client, got "
        f"{type(scheduler).__name__}"
    )


def get(
    graph: Mapping,
    keys: Any,
    scheduler: Any = None,
    num_workers: int | None = None,
    callbacks: Any = None,
    **kwargs: Any,
) -> Any:
    """Run ``graph`` and return the results of ``keys`` (a key, or nested lists of keys).

    Only the tasks the keys need run. ``num_workers`` defaults to
    ``chunkwise.config.get("num_workers")``, else the number of cores.
    """
    getter = get_scheduler(scheduler)
    if num_workers is None:
        num_workers = config.get("num_workers", None)
    if getter is get_sync:
        return getter(graph, keys, callbacks=callbacks, **kwargs)
    return getter(graph, keys, num_workers=num_workers, callbacks=callbacks, **kwargs)
