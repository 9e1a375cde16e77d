"""Graph passes: dependencies, validation, cull, toposort, order and linear fusion.

Every pass takes a graph (``dict`` key -> :class:`~chunkwise.core.graph.Task` or
:class:`~chunkwise.core.graph.DataNode`) and works on the ``dependencies`` each
node recorded when it was built, so no pass walks task arguments again. All
passes are iterative (no recursion: graphs reach 10**6 tasks and chains of
10**5) and cost O(n) or O(n log n).

- :func:`cull` keeps exactly the ancestors of the requested keys.
- :func:`toposort` lists keys so that dependencies come first.
- :func:`order` gives each key a static priority (lower runs first). The
  scheduler runs, among the ready tasks, the one of lowest priority.
- :func:`fuse_linear` inlines a task into its only dependent, so a chain of
  ``load -> f -> g`` becomes one task under the key of ``g``.
- :func:`optimize_graph` is :func:`cull` then :func:`fuse_linear`.
- :func:`simulate_memory` runs a graph on paper, one task at a time in priority
  order, and returns the peak number of results held: a check on :func:`order`.

The ordering policy
-------------------
``order`` walks depth first from the outputs (the keys nothing depends on),
outputs in key order, and gives a task its number once all its dependencies
have one (a post-order). Among the dependencies of a task it opens them in key
order (``("x", 2)`` before ``("x", 10)``), except that those which can run at
once (leaves, or tasks whose inputs are all done) come last, right before the
task, so their results are not held while the others are computed. So a reduction tree is finished
branch by branch, and chunk ``i`` of an elementwise map finishes before chunk
``i + 1`` starts: a sequential run holds about *tree depth* results, not
*number of chunks*. One rule is added to the plain post-order: when a task is
numbered and then every task that depends on it can run (all their inputs are
numbered), those dependents are numbered next, which frees the task's result at
once. This is what keeps ``x + x.T`` and two reductions of one input
(``x.sum(), x.mean()``) from holding every chunk of ``x``.

A worked example: two leaves per partial sum, two partials in a total.

>>> from operator import add
>>> from chunkwise.core.graph import DataNode, Ref, Task
>>> graph = {("x", i): DataNode(("x", i), i) for i in range(4)}
>>> graph["s0"] = Task("s0", add, Ref(("x", 0)), Ref(("x", 1)))
>>> graph["s1"] = Task("s1", add, Ref(("x", 2)), Ref(("x", 3)))
>>> graph["total"] = Task("total", add, Ref("s0"), Ref("s1"))
>>> priority = order(graph)
>>> sorted(graph, key=priority.__getitem__)
[('x', 0), ('x', 1), 's0', ('x', 2), ('x', 3), 's1', 'total']
>>> simulate_memory(graph, priority)  # s0, x2, x3 and s1 while s1 runs
4
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from chunkwise.core.graph import DataNode, DictArg, ListArg, Ref, Task, validate_key

__all__ = [
    "cull",
    "fuse_linear",
    "get_dependencies",
    "get_dependents",
    "optimize_graph",
    "order",
    "order_compact",
    "simulate_memory",
    "toposort",
    "validate_graph",
]

Graph = Mapping[Hashable, "Task | DataNode"]


def _gc_paused(func):
    """Run ``func`` with the cyclic garbage collector paused.

    The passes allocate many small objects and create no reference cycles;
    left on, the collector walks the whole graph again and again (most of the
    time of a pass on 10**5 tasks).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if not gc.isenabled():
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return wrapper


# --- keys ---------------------------------------------------------------------


def _key_list(graph: Mapping, keys: object) -> list:
    """Requested keys as a list: a list/set of keys, or one key (a tuple is one key)."""
    tp = type(keys)
    if tp is list:
        return keys  # type: ignore[return-value]
    if tp is set or tp is frozenset:
        return list(keys)  # type: ignore[call-overload]
    if tp is str or tp is int or tp is float:
        return [keys]
    if tp is tuple:
        # ("x", 0) is one key; a tuple of keys is accepted when it is not itself a key
        if keys in graph or not keys:
            return [keys]
        try:
            if all(k in graph for k in keys):  # type: ignore[attr-defined]
                return list(keys)  # type: ignore[call-overload]
        except TypeError:
            pass
        return [keys]
    try:
        if keys in graph:
            return [keys]
    except TypeError:
        pass
    if isinstance(keys, Iterable):
        return list(keys)
    return [keys]


def _sort_key(key: object) -> tuple:
    """A natural ordering of keys: by name, then ``("x", 2)`` before ``("x", 10)``."""
    tp = type(key)
    if tp is tuple:
        return (str(key[0]), 1, key[1:]) if key else ("", 1, ())  # type: ignore[index]
    if tp is str:
        return (key, 0, ())
    return ("", 2, (key,))


def _fallback_sort_key(key: object) -> tuple:
    return (type(key).__name__, repr(key))


def _ranks(keys: Iterable) -> dict:
    """Each key's position in the natural key ordering (a total, deterministic order)."""
    try:  # all keys alike (all str, or all tuples named by str): compare them as they are
        ordered = sorted(keys)
    except TypeError:
        try:
            ordered = sorted(keys, key=_sort_key)
        except TypeError:
            # keys of one name whose parts do not compare, such as ("x", 0) and ("x", "a")
            ordered = sorted(keys, key=_fallback_sort_key)
    return {k: i for i, k in enumerate(ordered)}


# --- dependencies and validation ---------------------------------------------


def get_dependencies(graph: Graph) -> dict:
    """Map each key to the frozenset of keys its node depends on.

    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> get_dependencies({"a": DataNode("a", 1), "b": Task("b", abs, Ref("a"))})
    {'a': frozenset(), 'b': frozenset({'a'})}
    """
    return {k: v.dependencies for k, v in graph.items()}


@_gc_paused
def get_dependents(graph: Graph, dependencies: Mapping | None = None) -> dict:
    """Map each key to the set of keys that depend on it (empty for outputs).

    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> get_dependents({"a": DataNode("a", 1), "b": Task("b", abs, Ref("a"))})
    {'a': {'b'}, 'b': set()}
    """
    if dependencies is None:
        dependencies = get_dependencies(graph)
    dependents: dict = {k: set() for k in dependencies}
    try:
        for k, deps in dependencies.items():
            for d in deps:
                dependents[d].add(k)
    except KeyError:
        _raise_missing(dependencies)
        raise
    return dependents


def _raise_missing(dependencies: Mapping) -> None:
    """Raise ``ValueError`` naming the first task that depends on a key not in the graph."""
    for k, deps in dependencies.items():
        for d in deps:
            if d not in dependencies:
                raise ValueError(
                    f"task {k!r} depends on {d!r}, which is not in the graph; "
                    f"add a task for {d!r} or pass it to cull/compute with its dependencies"
                )


def _find_cycle(dependencies: Mapping) -> list | None:
    """A list of keys on a cycle, each depending on the next, the first repeated at the end."""
    done: set = set()
    for root in dependencies:
        if root in done:
            continue
        path = [root]
        on_path = {root}
        iters = [iter(dependencies[root])]
        while iters:
            for d in iters[-1]:
                if d in on_path:
                    return path[path.index(d) :] + [d]
                if d not in done and d in dependencies:
                    path.append(d)
                    on_path.add(d)
                    iters.append(iter(dependencies[d]))
                    break
            else:
                iters.pop()
                node = path.pop()
                on_path.discard(node)
                done.add(node)
    return None


def _raise_cycle(dependencies: Mapping) -> None:
    cycle = _find_cycle(dependencies)
    if cycle is not None:
        chain = " -> ".join(repr(k) for k in cycle)
        raise ValueError(f"the graph has a cycle: {chain} (each key depends on the next)")


@_gc_paused
def validate_graph(graph: Graph) -> None:
    """Raise if a key is invalid, a node is not a Task/DataNode, a dependency is missing, or there is a cycle.

    Errors name the task and the missing key, or the keys on the cycle.

    >>> from chunkwise.core.graph import Ref, Task
    >>> validate_graph({"a": Task("a", abs, Ref("b"))})
    Traceback (most recent call last):
    ...
    ValueError: task 'a' depends on 'b', which is not in the graph; add a task for 'b' or pass it to cull/compute with its dependencies
    >>> validate_graph({"a": Task("a", abs, Ref("b")), "b": Task("b", abs, Ref("a"))})
    Traceback (most recent call last):
    ...
    ValueError: the graph has a cycle: 'a' -> 'b' -> 'a' (each key depends on the next)
    """
    for key, node in graph.items():
        validate_key(key)
        tp = type(node)
        if tp is not Task and tp is not DataNode:
            raise TypeError(
                f"graph node {key!r} is a {tp.__name__}; nodes are Task or DataNode "
                "(wrap a literal value as DataNode(key, value))"
            )
    dependencies = get_dependencies(graph)
    _raise_missing(dependencies)
    _raise_cycle(dependencies)


# --- cull and toposort --------------------------------------------------------


@_gc_paused
def cull(graph: Graph, keys: object) -> tuple[dict, dict]:
    """Keep only the requested keys and their ancestors; return ``(graph, dependencies)``.

    ``keys`` is one key or a list/set of keys.

    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> graph = {"a": DataNode("a", 1), "b": Task("b", abs, Ref("a")), "c": DataNode("c", 2)}
    >>> culled, dependencies = cull(graph, "b")
    >>> sorted(culled), dependencies["b"]
    (['a', 'b'], frozenset({'a'}))
    """
    requested = _key_list(graph, keys)
    out: dict = {}
    dependencies: dict = {}
    stack = list(requested)
    pop = stack.pop
    extend = stack.extend
    try:
        while stack:
            k = pop()
            if k in out:
                continue
            node = graph[k]
            out[k] = node
            deps = dependencies[k] = node.dependencies
            if deps:
                extend(deps)
    except KeyError:
        for k in requested:
            if k not in graph:
                raise KeyError(f"requested key {k!r} is not in the graph") from None
        for k, deps in dependencies.items():
            for d in deps:
                if d not in graph:
                    raise ValueError(
                        f"task {k!r} depends on {d!r}, which is not in the graph"
                    ) from None
        raise
    return out, dependencies


@_gc_paused
def toposort(graph: Graph, dependencies: Mapping | None = None) -> list:
    """List the keys of ``graph`` so that every key comes after its dependencies.

    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> toposort({"b": Task("b", abs, Ref("a")), "a": DataNode("a", -1)})
    ['a', 'b']
    """
    if dependencies is None:
        dependencies = get_dependencies(graph)
    done: set = set()
    expanded: set = set()
    result: list = []
    append = result.append
    add = done.add
    try:
        for root in dependencies:
            if root in done:
                continue
            stack = [root]
            pop = stack.pop
            while stack:
                node = stack[-1]
                if node in done:
                    pop()
                    continue
                pending = [d for d in dependencies[node] if d not in done]
                if pending:
                    if node in expanded:
                        _raise_cycle(dependencies)
                    expanded.add(node)
                    stack.extend(pending)
                else:
                    pop()
                    add(node)
                    append(node)
    except KeyError:
        _raise_missing(dependencies)
        raise
    return result


# --- order --------------------------------------------------------------------


@_gc_paused
def order(
    graph: Graph, dependencies: Mapping | None = None, dependents: Mapping | None = None
) -> dict:
    """A static priority for each key (lower runs first) that keeps live results few.

    A topological order: depth first from the outputs in key order, dependencies
    opened in key order (those ready at once last), and a task's dependents run
    right after it when all of them are then ready (see the module docstring).
    ``dependencies`` and ``dependents`` may be passed when already computed.

    >>> from operator import add
    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> graph = {i: DataNode(i, i) for i in range(3)}
    >>> graph["a"] = Task("a", add, Ref(0), Ref(1))
    >>> graph["b"] = Task("b", add, Ref("a"), Ref(2))
    >>> order(graph)
    {0: 0, 1: 1, 'a': 2, 2: 3, 'b': 4}
    """
    if dependencies is None:
        dependencies = get_dependencies(graph)
    if dependents is None:
        dependents = get_dependents(graph, dependencies)
    return order_compact(dependencies, {k: _compact_users(v) for k, v in dependents.items()})


def _compact_users(users: Any) -> Any:
    if not users:
        return None
    if len(users) == 1:
        return next(iter(users))
    return list(users)


def order_compact(
    dependencies: Mapping, dependents: Mapping, keys: list | None = None, users: list | None = None
) -> dict:
    """:func:`order` with each key's dependents in the scheduler's compact form.

    A key's dependents are ``None`` (none), the one dependent's key (the common
    case: no container per task) or a list of several keys. Keys are never
    ``None`` or lists, so the forms cannot be confused. When given, the lists
    ``keys`` and ``users`` receive, in priority order, each key and its
    dependents (read here anyway: the scheduler need not look them up again).

    >>> keys, users = [], []
    >>> order_compact({"a": frozenset(), "b": frozenset({"a"})}, {"a": "b", "b": None}, keys, users)
    {'a': 0, 'b': 1}
    >>> keys, users
    (['a', 'b'], ['b', None])
    """
    if keys is None or users is None:
        keys, users = [], []
    keys_append = keys.append
    users_append = users.append
    # Keys are opened in their natural order. When every key is a str (delayed
    # graphs) that order is plain string comparison, so no table of ranks is
    # built (it is a sort and a dict the size of the graph: much of the cost of
    # ordering 10**6 tasks); otherwise each key's rank in the global ordering.
    rank_get: Any = None if all(type(k) is str for k in dependencies) else _ranks(dependencies).__getitem__
    # unnumbered dependencies per key; keys without any (most of a wide graph) are left out
    waiting = {k: len(v) for k, v in dependencies.items() if v}
    waiting_get = waiting.get
    priority: dict = {}
    expanded: set = set()
    roots = [k for k, v in dependents.items() if v is None]
    roots.sort(key=rank_get)
    i = 0
    try:
        for root in roots:
            if root in priority:
                continue
            stack = [root]
            pop = stack.pop
            extend = stack.extend
            push = stack.append
            while stack:
                node = stack[-1]
                if node in priority:
                    pop()
                    continue
                if waiting_get(node, 0):
                    if node in expanded:
                        _raise_cycle(dependencies)
                    expanded.add(node)
                    deps = dependencies[node]
                    if len(deps) * 4 >= len(dependencies) and len(deps) > 1000:
                        # Wide (a sum over most of the graph): take them in the graph's
                        # order, which is usually near key order, so that the sort below
                        # is a linear merge of runs instead of n log n comparisons of
                        # keys read in hash order (1 s for 10**6 str keys). The sort
                        # decides the order; this only makes its work small. Each such
                        # node costs one pass over the graph, at most 4x its own edges.
                        if not deps <= dependencies.keys():
                            _raise_missing(dependencies)
                        pending = [d for d in dependencies if d in deps and d not in priority]
                    else:
                        pending = [d for d in deps if d not in priority]
                    if len(pending) > 1:
                        # The last pushed is opened first. Open in key order, but
                        # dependencies that are ready (leaves) last, right before
                        # ``node``, so their results are not held while the others run.
                        pending.sort(key=rank_get, reverse=True)
                        ready = [d for d in pending if not waiting_get(d, 0)]
                        if ready and len(ready) != len(pending):
                            ready.extend([d for d in pending if waiting_get(d, 0)])
                            pending = ready
                    extend(pending)
                    continue
                pop()
                priority[node] = i
                i += 1
                node_users = dependents[node]
                keys_append(node)
                users_append(node_users)
                if node_users is None:
                    continue
                if type(node_users) is not list:  # the one dependent
                    w = waiting[node_users] - 1
                    waiting[node_users] = w
                    if not w:  # it can run now: run it next, which frees ``node``
                        push(node_users)
                    continue
                all_ready = True
                for d in node_users:
                    w = waiting[d] - 1
                    waiting[d] = w
                    if w:
                        all_ready = False
                if all_ready:
                    # every user can run now: run them next, which frees ``node``
                    extend(sorted(node_users, key=rank_get, reverse=True))
    except KeyError:
        _raise_missing(dependencies)
        raise
    if len(priority) != len(dependencies):
        _raise_cycle(dependencies)
    return priority


@_gc_paused
def simulate_memory(graph: Graph, priorities: Mapping, keys: object = None) -> int:
    """Peak number of results held when running ``graph`` one task at a time in priority order.

    A result is held from when its task runs until every task depending on it
    has run; the outputs (``keys``, by default the keys nothing depends on) are
    held to the end. A task's inputs and its result count together while it
    runs. Raises ``ValueError`` when the priorities are not a topological order.

    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> graph = {"a": DataNode("a", 1), "b": Task("b", abs, Ref("a")), "c": Task("c", abs, Ref("b"))}
    >>> simulate_memory(graph, {"a": 0, "b": 1, "c": 2})
    2
    """
    dependencies = get_dependencies(graph)
    remaining = dict.fromkeys(dependencies, 0)
    for deps in dependencies.values():
        for d in deps:
            remaining[d] += 1
    if keys is None:
        keep = {k for k, n in remaining.items() if not n}
    else:
        keep = set(_key_list(graph, keys))
    done: set = set()
    live = peak = 0
    for k in sorted(dependencies, key=priorities.__getitem__):
        deps = dependencies[k]
        live += 1
        if live > peak:
            peak = live
        for d in deps:
            if d not in done:
                raise ValueError(f"{k!r} runs before its dependency {d!r} in these priorities")
            n = remaining[d] - 1
            remaining[d] = n
            if not n and d not in keep:
                live -= 1
        if not remaining[k] and k not in keep:
            live -= 1
        done.add(k)
    return peak


# --- fusion -------------------------------------------------------------------

def _nested(task: Task) -> Task:
    """``task`` as it sits inside another task.

    It keeps its key: the key no longer names a result in the graph, but an
    error raised inside the fused task is reported under it.
    """
    return task


_UNSAFE_LITERALS = (list, tuple, dict, Ref, Task, DataNode)


def _literal(node: DataNode) -> object:
    """What replaces ``Ref(key)`` when a DataNode is inlined: its value.

    The value, not the DataNode: ``Task`` keeps a DataNode passed as a plain
    argument as it is (it swaps in the value only inside containers that hold
    references). Values that ``Task`` would parse as arguments (containers,
    Ref, Task, DataNode; see ``_UNSAFE_LITERALS``) are never inlined.
    """
    return node.value


def _count_refs(task: Task, key: Hashable, limit: int = 2) -> int:
    """How many times ``Ref(key)`` occurs in the arguments of ``task`` (counting stops at ``limit``)."""
    stack: list = [task]
    count = 0
    while stack:
        arg = stack.pop()
        tp = type(arg)
        if tp is Ref:
            if arg.key == key:
                count += 1
                if count >= limit:
                    return count
        elif tp is Task:
            if arg._dyn_args is not None:
                stack.extend([arg.args[i] for i in arg._dyn_args])
            if arg._dyn_kwargs is not None:
                stack.extend([arg.kwargs[n] for n in arg._dyn_kwargs])
        elif tp is ListArg:
            stack.extend(arg.items)
        elif tp is DictArg:
            stack.extend(arg.items.values())
    return count


@_gc_paused
def fuse_linear(
    graph: Graph,
    keys: object,
    dependencies: Mapping | None = None,
    dependents: Mapping | None = None,
    max_chain: int = 100,
) -> dict:
    """Inline tasks into their only dependent along linear chains; return the new graph.

    A node ``k`` is inlined into the one task ``d`` that depends on it when ``k``
    is not requested (``keys`` keep their keys) and either ``k`` is a
    ``DataNode`` (its value becomes a literal of ``d``) or ``k`` is the only
    non-``DataNode`` dependency of ``d`` and is referenced once in ``d``. The
    fused task keeps the downstream key. Tasks with two private inputs (a
    reduction tree) are not fused, which keeps their parallelism. At most
    ``max_chain`` tasks are nested in one fused task, which bounds the
    recursion of running it; a longer chain is cut into several tasks.

    >>> from operator import add, neg
    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> graph = {"x": DataNode("x", 1), "y": Task("y", add, Ref("x"), 10), "z": Task("z", neg, Ref("y"))}
    >>> fused = fuse_linear(graph, ["z"])
    >>> fused
    {'z': Task('z', neg(Task('y', add(1, 10))))}
    >>> fused["z"]({})
    -11
    """
    if max_chain < 1:
        raise ValueError(f"fuse_linear: max_chain must be at least 1, got {max_chain}")
    keep = set(_key_list(graph, keys))
    # Without ``dependencies`` each node's own are read: no dict the size of the graph.
    only_user = _only_users(graph, dependencies, dependents)
    DataNode_ = DataNode
    absorbs_task: dict = {}  # d -> the one Task key inlined into d
    absorbs_data: dict = {}  # d -> DataNode keys inlined into d
    blocked: set = set()  # tasks with two or more Task inputs: nothing fuses into them
    for k, d in only_user.items():
        if d is _MANY or k in keep:
            continue
        node = graph[k]
        if type(node) is DataNode_:
            if type(node.value) in _UNSAFE_LITERALS:
                continue
            lst = absorbs_data.get(d)
            if lst is None:
                absorbs_data[d] = [k]
            else:
                lst.append(k)
            continue
        if d in blocked:  # a reduction: every Task input of ``d`` has a sibling
            continue
        target = graph[d]
        if type(target) is not Task:
            continue
        ddeps = target.dependencies if dependencies is None else dependencies[d]
        if len(ddeps) != 1:
            # Count the Task inputs of ``d`` once (up to two): with two, none of them
            # is fused into it, so the other inputs skip this walk (a sum of 10**6).
            others = 0
            for x in ddeps:
                if type(graph.get(x)) is not DataNode_:
                    others += 1
                    if others == 2:
                        break
            if others == 2:
                blocked.add(d)
                continue
        dyn = target._dyn_args
        if (
            not (
                target._dyn_kwargs is None
                and dyn is not None
                and len(dyn) == 1
                and type(target.args[dyn[0]]) is Ref
            )
            and _count_refs(target, k) != 1
        ):
            continue
        absorbs_task[d] = k
    if not absorbs_task and not absorbs_data:
        return dict(graph)

    inlined_tasks = set(absorbs_task.values())
    get_task = absorbs_task.get
    get_data = absorbs_data.get
    out: dict = {}
    for k, node in graph.items():
        if k in inlined_tasks:
            continue  # built with the chain it belongs to
        if k in absorbs_task or k in absorbs_data:
            _build_chain(graph, k, get_task, get_data, max_chain, out, len(absorbs_task))
            continue
        if (
            type(node) is DataNode_
            and k not in keep
            and only_user.get(k, _MANY) is not _MANY
            and type(node.value) not in _UNSAFE_LITERALS
        ):
            continue  # inlined into its dependent
        out[k] = node
    return out


_MANY = object()  # in ``_only_users``: a key with several dependents


def _only_users(
    graph: Graph, dependencies: Mapping | None = None, dependents: Mapping | None = None
) -> dict:
    """Map each key that has dependents to its only dependent, or to ``_MANY``.

    What fusion needs of the dependents, without a set per key (a set costs 216
    bytes: a million of them is most of the memory of fusing a large graph).
    """
    if dependents is not None:
        return {k: next(iter(users)) if len(users) == 1 else _MANY for k, users in dependents.items() if users}
    only: dict = {}
    if dependencies is None:
        for k, node in graph.items():
            for d in node.dependencies:
                only[d] = _MANY if d in only else k
    else:
        for k, deps in dependencies.items():
            for d in deps:
                only[d] = _MANY if d in only else k
    if not only.keys() <= graph.keys():
        _raise_missing(get_dependencies(graph) if dependencies is None else dependencies)
    return only


def _build_chain(graph, bottom, get_task, get_data, max_chain, out, limit) -> None:
    """Fuse the chain ending at ``bottom`` into ``out``, cut every ``max_chain`` tasks."""
    chain = [bottom]
    k = get_task(bottom)
    while k is not None:
        chain.append(k)
        k = get_task(k)
        if len(chain) > limit + 1:
            _raise_cycle(get_dependencies(graph))
    prev_key = prev = None  # the previous link, a Task to inline into the next
    depth = 0
    for pos in range(len(chain) - 1, -1, -1):
        c = chain[pos]
        node = graph[c]
        depth += 1
        keep_key = pos == 0 or depth >= max_chain  # ``c`` stays a task of its own
        data = get_data(c)
        dyn = node._dyn_args
        if (
            data is None
            and prev is not None
            and node._dyn_kwargs is None
            and dyn is not None
            and len(dyn) == 1
            and type(node.args[dyn[0]]) is Ref
            and node.args[dyn[0]].key == prev_key
        ):
            # The common case, ``f(Ref(prev), literals...)``: put the task in place, no re-parsing.
            task = _replace_arg(node, dyn[0], prev, c)
        else:
            inline = {}
            if data is not None:
                for dk in data:
                    inline[dk] = _literal(graph[dk])
            if prev is not None:
                inline[prev_key] = prev
            task = node.substitute(None, inline) if inline else node
            if not keep_key:
                task = _nested(task)
        if keep_key:
            out[c] = task
            prev_key = prev = None
            depth = 0
        else:
            prev_key = c
            prev = task


def _replace_arg(task: Task, index: int, value: Task, key: Hashable | None) -> Task:
    """A copy of ``task`` under ``key`` whose only reference, ``args[index]``, is ``value``."""
    new = Task.__new__(Task)
    new.func = task.func
    args = list(task.args)
    args[index] = value
    new.args = tuple(args)
    new.kwargs = task.kwargs
    new._dyn_args = task._dyn_args
    new._dyn_kwargs = None
    new.dependencies = value.dependencies
    new.key = key
    return new


@_gc_paused
def optimize_graph(graph: Graph, keys: object, fuse: bool = True) -> dict:
    """Cull ``graph`` to what ``keys`` need, then fuse linear chains.

    >>> from chunkwise.core.graph import DataNode, Ref, Task
    >>> graph = {"a": DataNode("a", -3), "b": Task("b", abs, Ref("a")), "c": DataNode("c", 0)}
    >>> optimize_graph(graph, "b")
    {'b': Task('b', abs(-3))}
    """
    culled, dependencies = cull(graph, keys)
    if not fuse:
        return culled
    return fuse_linear(culled, keys, dependencies)
