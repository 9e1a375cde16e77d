"""The adapter to ``distributed``: run chunkwise graphs on a ``distributed.Client``.

This is the only chunkwise module that imports ``dask`` or ``distributed``
(an import-linter contract enforces it); nothing else imports this module
unless ``distributed`` has already been imported by the user.

A chunkwise graph is converted once, node by node, to ``dask._task_spec``
nodes: ``Task`` -> ``Task``, ``Ref`` -> ``TaskRef``, ``DataNode`` ->
``DataNode``, and containers holding references -> ``List``/``Tuple``/``Dict``
(``distributed`` does not resolve references in plain lists). Tasks nested in
arguments (as fusion leaves them) become nested ``Task`` objects.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

from dask._task_spec import DataNode as _DaskDataNode
from dask._task_spec import Dict as _DaskDict
from dask._task_spec import List as _DaskList
from dask._task_spec import Task as _DaskTask
from dask._task_spec import TaskRef as _DaskTaskRef
from dask._task_spec import Tuple as _DaskTuple
from distributed import Client, default_client

from chunkwise.core.graph import DataNode, Ref, Task, _DictArg, _ListArg

__all__ = ["active_client", "get_distributed", "is_client", "to_dask_graph"]


_TOKENIZE_EVERY = 8


def _convert_arg(arg: Any) -> tuple[Any, int]:
    """One parsed argument (a position recorded as holding references) as a dask node.

    Returns the node and its height: how many nested dask nodes deep it goes.
    """
    tp = type(arg)
    if tp is Ref:
        return _DaskTaskRef(arg.key), 0
    if tp is Task:
        node, height = _convert_task(arg)
    elif tp is _ListArg:
        items = []
        height = 0
        for item in arg.items:
            value, h = _convert_arg(item)
            items.append(value)
            height = max(height, h)
        node = _DaskList(*items) if arg.kind is list else _DaskTuple(*items)
    elif tp is _DictArg:
        items_dict = {}
        height = 0
        for k, item in arg.items.items():
            items_dict[k], h = _convert_arg(item)
            height = max(height, h)
        node = _DaskDict(items_dict)
    else:
        return arg, 0  # a literal inside a container that also holds references
    height += 1
    if height % _TOKENIZE_EVERY == 0:
        # ``Client.get`` tokenizes the whole graph, recursing ~16 frames per
        # nesting level: a fused chain of 100 tasks would overflow the stack.
        # Tokenizing every 8th level here, innermost first, caches its token,
        # so the tokenization of the levels above stops there. It is work dask
        # does anyway; shallow nodes are left to dask.
        node.__dask_tokenize__()
    return node, height


def _convert_task(task: Task) -> tuple[_DaskTask, int]:
    args = task.args
    height = 0
    dyn = task._dyn_args
    if dyn is not None:
        args = list(args)
        for i in dyn:
            args[i], h = _convert_arg(args[i])
            if h > height:
                height = h
    kwargs = task.kwargs
    if task._dyn_kwargs is not None:
        kwargs = dict(kwargs)
        for name in task._dyn_kwargs:
            kwargs[name], h = _convert_arg(kwargs[name])
            if h > height:
                height = h
    if kwargs:
        return _DaskTask(task.key, task.func, *args, **kwargs), height
    return _DaskTask(task.key, task.func, *args), height


def to_dask_graph(graph: Mapping) -> dict:
    """``graph`` (chunkwise nodes) as a dict of ``dask._task_spec`` nodes, for ``Client.get``.

    Keys are kept as they are (chunkwise keys are already of the types
    ``distributed`` accepts). Only argument positions recorded as holding
    references are visited, so literal arguments cost nothing.
    """
    out = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # building ~10^5 objects would otherwise trigger full collections
    try:
        for key, node in graph.items():
            tp = type(node)
            if tp is Task:
                out[key] = _convert_task(node)[0]
            elif tp is DataNode:
                out[key] = _DaskDataNode(key, node.value)
            else:
                raise TypeError(
                    f"graph node for {key!r} is a {tp.__name__}, not a chunkwise Task or DataNode"
                )
    finally:
        if gc_was_enabled:
            gc.enable()
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
    return client.get(to_dask_graph(graph), keys, **kwargs)
