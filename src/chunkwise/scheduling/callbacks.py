"""Hooks into a computation: progress bars and profilers are built on these.

A :class:`Callback` has up to five hooks, each optional:

- ``start(graph)`` -- before anything runs, with the optimized graph;
- ``start_state(graph, state)`` -- once the scheduler's state is built;
- ``pretask(key, graph, state)`` -- before a task runs, in the thread running it;
- ``posttask(key, result, graph, state, worker_id)`` -- after a task ran, in the
  thread that ran it (``worker_id`` is the worker's index, 0 for ``sync``);
- ``finish(graph, state, errored)`` -- at the end, also after an error.

With the threaded scheduler, ``pretask`` and ``posttask`` run concurrently in
several threads: keep them short and thread safe. ``state`` exposes
``num_tasks`` (tasks in the graph), ``num_done`` (tasks finished so far) and
``results`` (the results held right now, released as soon as nothing pending
needs them).

A callback is active inside a ``with`` block, or from ``register()`` until
``unregister()``; like Dask's, activation is process-wide.

>>> import chunkwise
>>> from chunkwise.core.graph import Task, DataNode, Ref
>>> seen = []
>>> graph = {"a": DataNode("a", 1), "b": Task("b", abs, Ref("a"))}
>>> with Callback(posttask=lambda key, result, graph, state, worker_id: seen.append(key)):
...     chunkwise.get(graph, "b", scheduler="sync")
1
>>> sorted(seen)
['a', 'b']

Subclasses may instead define ``_start``, ``_start_state``, ``_pretask``,
``_posttask`` and ``_finish`` methods with the same signatures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Callback", "active_callbacks"]

_HOOKS = ("start", "start_state", "pretask", "posttask", "finish")

_lock = threading.Lock()
_active: list[Callback] = []


class Callback:
    """Hooks called by the local schedulers; see the module docstring."""

    def __init__(
        self,
        start: Callable | None = None,
        start_state: Callable | None = None,
        pretask: Callable | None = None,
        posttask: Callable | None = None,
        finish: Callable | None = None,
    ):
        if start is not None:
            self._start = start
        if start_state is not None:
            self._start_state = start_state
        if pretask is not None:
            self._pretask = pretask
        if posttask is not None:
            self._posttask = posttask
        if finish is not None:
            self._finish = finish

    @property
    def hooks(self) -> tuple:
        """The five hooks (``None`` where not defined), in the order of the module docstring."""
        return tuple(getattr(self, "_" + name, None) for name in _HOOKS)

    def register(self) -> None:
        """Activate this callback for every computation until :meth:`unregister`."""
        with _lock:
            if self not in _active:
                _active.append(self)

    def unregister(self) -> None:
        """Deactivate this callback."""
        with _lock:
            if self in _active:
                _active.remove(self)

    def __enter__(self):
        self.register()
        return self

    def __exit__(self, *exc):
        self.unregister()


def active_callbacks(extra: Callback | list | tuple | None = None) -> list[Callback]:
    """The callbacks active now, plus ``extra`` (one callback or a list) passed to a compute."""
    with _lock:
        found = list(_active)
    if extra is not None:
        if isinstance(extra, Callback):
            extra = [extra]
        found.extend(cb for cb in extra if cb not in found)
    return found
