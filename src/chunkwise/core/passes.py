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
(``x.sum(), x.mean()``) from holding every chunk of ``x``. The rule gives way
when more than :data:`MAX_WAITING_USERS` of those dependents would themselves
be left waiting (their own dependents need other work first): numbering them
early would hold many results to free one. That is a shuffle's split whose
combines feed a join with another shuffled side: pulling every combine of the
left side in right after its last split held the whole left side in memory
until the right side was split (a 36 GB merge ran out of memory); those
dependents are left to the walk, which reaches each with its partner.

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

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from chunkwise.core.collector import gc_paused
from chunkwise.core.graph import DataNode, DictArg, ListArg, Ref, Task, validate_key

__all__ = [
    "cull",
    "fuse_linear",
    "get_dependencies",
    "get_dependents",
    "optimize_graph",
    "index_dependencies",
    "order",
    "order_indexed",
    "simulate_memory",
    "toposort",
    "validate_graph",
]

Graph = Mapping[Hashable, "Task | DataNode"]


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


@gc_paused
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


@gc_paused
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


@gc_paused
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


@gc_paused
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


@gc_paused
def order(
    graph: Graph, dependencies: Mapping | None = None, dependents: Mapping | None = None
) -> dict:
    """A static priority for each key (lower runs first) that keeps live results few.

    A topological order: depth first from the outputs in key order, dependencies
    opened in key order (those ready at once last), and a task's dependents run
    right after it when all of them are then ready (see the module docstring).
    ``dependencies`` may be passed when already computed (``dependents`` is
    accepted for compatibility; the pass derives what it needs itself).
    It numbers the keys and runs :func:`order_indexed`.

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
    keys = list(dependencies)
    deps, users = index_dependencies(keys, dependencies.values())
    return {keys[i]: p for p, i in enumerate(order_indexed(keys, deps, users))}


def index_dependencies(keys: list, dependencies: Iterable) -> tuple[list, list]:
    """The graph in integers: each key's dependencies and dependents by position in ``keys``.

    ``dependencies`` gives each key's dependencies (keys), in the order of
    ``keys``. Returns two lists indexed like ``keys``; an entry is ``None``
    (none), one ``int`` (the common case: no container per task) or a list of
    ``int`` in ascending order. Each dependency is looked up once here; every
    later pass (order, the scheduler) reads lists, not maps keyed by name.

    >>> index_dependencies(["a", "b", "c"], [(), {"a"}, {"a", "b"}])
    ([None, 0, [0, 1]], [[1, 2], 2, None])
    """
    n = len(keys)
    index: dict | None = None  # key -> position, made when a task needs it
    deps_of: list = [None] * n
    users_of: list = [None] * n
    try:
        for i, deps in enumerate(dependencies):
            if not deps:
                continue
            size = len(deps)
            if size == 1:
                if index is None:
                    index = dict(zip(keys, range(n)))
                (d,) = deps
                ids: Any = (index[d],)
                deps_of[i] = ids[0]
            elif size > 1000 and size * 4 >= n:
                # Wide (a sum over most of the graph): scan the keys in order and
                # probe the task's set, instead of looking each dependency up in
                # hash order and sorting the positions (a random read per key and
                # an n log n sort: most of the cost of numbering 10**6 tasks).
                ids = [j for j, k in enumerate(keys) if k in deps]
                if len(ids) != size:
                    raise KeyError("a dependency is not in the graph")
                deps_of[i] = ids
            else:
                if index is None:
                    index = dict(zip(keys, range(n)))
                ids = [index[d] for d in deps]
                ids.sort()  # the graph's order, which is usually near key order
                deps_of[i] = ids
            for j in ids:
                u = users_of[j]
                if u is None:
                    users_of[j] = i
                elif type(u) is list:
                    u.append(i)
                else:
                    users_of[j] = [u, i]
    except KeyError:
        _raise_missing(_keyed(keys, dependencies))
        raise
    return deps_of, users_of


def _keyed(keys: list, dependencies: Iterable) -> dict:
    """``dependencies`` (one entry per key of ``keys``, in order) as a map by key, for error messages."""
    return dict(zip(keys, dependencies))


def _as_keys(keys: list, entry: Any) -> frozenset:
    if entry is None:
        return frozenset()
    return frozenset(keys[j] for j in (entry if type(entry) is list else (entry,)))


#: Most dependents of a task numbered right after it whose own results would then wait.
MAX_WAITING_USERS = 2


def order_indexed(keys: list, dependencies: list, dependents: list) -> list:
    """:func:`order` on numbered keys: the positions in ``keys``, in priority order.

    ``dependencies`` and ``dependents`` are as :func:`index_dependencies`
    returns them. All the state is lists indexed by position; keys are read
    only to break ties (their natural order). The scheduler calls this
    directly, so ordering 10**6 tasks makes no map keyed by name.

    >>> keys = ["s", "x0", "x1"]
    >>> deps, users = index_dependencies(keys, [{"x0", "x1"}, (), ()])
    >>> [keys[i] for i in order_indexed(keys, deps, users)]
    ['x0', 'x1', 's']
    """
    n = len(keys)
    # Keys are opened in their natural order. When every key is a str (delayed
    # graphs) that order is plain string comparison, so no table of ranks is built
    # (a sort of every key: much of the cost of ordering 10**6 tasks).
    if all(type(k) is str for k in keys):
        rank: Any = keys.__getitem__
    else:
        ranks = _ranks(keys)
        rank = [ranks[k] for k in keys].__getitem__
    waiting = [0] * n  # unnumbered dependencies of each task
    for i, deps in enumerate(dependencies):
        if deps is not None:
            waiting[i] = len(deps) if type(deps) is list else 1
    numbered = bytearray(n)
    expanded = bytearray(n)
    out: list = []
    out_append = out.append
    roots = [i for i, users in enumerate(dependents) if users is None]
    roots.sort(key=rank)
    for root in roots:
        if numbered[root]:
            continue
        stack = [root]
        pop = stack.pop
        extend = stack.extend
        push = stack.append
        while stack:
            node = stack[-1]
            if numbered[node]:
                pop()
                continue
            if waiting[node]:
                if expanded[node]:
                    _raise_cycle(_keyed(keys, (_as_keys(keys, d) for d in dependencies)))
                expanded[node] = 1
                deps = dependencies[node]
                if type(deps) is not list:
                    push(deps)  # the one dependency, not numbered yet
                    continue
                pending = [d for d in deps if not numbered[d]]
                if len(pending) > 1:
                    # The last pushed is opened first. Open in key order, but
                    # dependencies that are ready (leaves) last, right before
                    # ``node``, so their results are not held while the others run.
                    # ``deps`` is in the graph's order, usually near key order: the
                    # sort is then mostly a merge of runs.
                    pending.sort(key=rank, reverse=True)
                    ready = [d for d in pending if not waiting[d]]
                    if ready and len(ready) != len(pending):
                        ready.extend([d for d in pending if waiting[d]])
                        pending = ready
                extend(pending)
                continue
            pop()
            numbered[node] = 1
            out_append(node)
            users = dependents[node]
            if users is None:
                continue
            if type(users) is not list:  # the one dependent
                w = waiting[users] - 1
                waiting[users] = w
                if not w:  # it can run now: run it next, which frees ``node``
                    push(users)
                continue
            all_ready = True
            for d in users:
                w = waiting[d] - 1
                waiting[d] = w
                if w:
                    all_ready = False
            if all_ready:
                # every user can run now: run them next, which frees ``node``, unless
                # many of them would then wait themselves (see the module docstring)
                left_waiting = [u for u in users if not _completes(u, dependents, waiting)]
                if len(left_waiting) > MAX_WAITING_USERS:
                    users = [u for u in users if _completes(u, dependents, waiting)]
                extend(sorted(users, key=rank, reverse=True))
    if len(out) != n:
        _raise_cycle(_keyed(keys, (_as_keys(keys, d) for d in dependencies)))
    return out


def _completes(task: int, dependents: list, waiting: list) -> bool:
    """Whether numbering ``task`` (all its dependencies numbered) lets every one of its
    dependents run: then its result is freed soon after it is made."""
    users = dependents[task]
    if users is None:
        return True
    if type(users) is not list:
        return waiting[users] == 1
    return all(waiting[u] == 1 for u in users)


@gc_paused
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


@gc_paused
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

    The pass looks up the dependents only of the few keys that could be
    inlined (see :func:`_fusion_candidates`): a graph where nothing fuses,
    such as a sum over 10**6 delayed calls, costs one walk over its nodes and
    no table the size of the graph.

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
    absorbs_task, absorbs_data = _fusion_candidates(graph, keep, dependencies)
    if absorbs_task or absorbs_data:
        _drop_shared_candidates(graph, absorbs_task, absorbs_data, dependencies, dependents)
    if not absorbs_task and not absorbs_data:
        return dict(graph)

    inlined_tasks = set(absorbs_task.values())
    inlined_data = {k for data in absorbs_data.values() for k in data}
    get_task = absorbs_task.get
    get_data = absorbs_data.get
    out: dict = {}
    for k, node in graph.items():
        if k in inlined_tasks or k in inlined_data:
            continue  # built with the chain it belongs to, or inlined into its dependent
        if k in absorbs_task or k in absorbs_data:
            _build_chain(graph, k, get_task, get_data, max_chain, out, len(absorbs_task))
            continue
        out[k] = node
    return out


def _fusion_candidates(graph: Graph, keep: set, dependencies: Mapping | None) -> tuple[dict, dict]:
    """What each task would absorb if its inputs had no other dependent.

    Returns ``absorbs_task`` (``d`` -> the one Task input of ``d``, when ``d``
    has exactly one and references it once) and ``absorbs_data`` (``d`` -> its
    DataNode inputs whose values can be inlined), leaving out requested keys.
    One walk over the nodes; a task's inputs are looked up only when it has
    fewer Task inputs than two, or DataNode inputs (found by intersecting its
    dependencies with the DataNode keys, which costs nothing when there are none).
    """
    DataNode_ = DataNode
    data_keys = set()  # every DataNode: they never count as Task inputs
    inlinable = set()  # DataNodes whose value may replace a reference
    for k, node in graph.items():
        if type(node) is DataNode_:
            data_keys.add(k)
            if k not in keep and type(node.value) not in _UNSAFE_LITERALS:
                inlinable.add(k)
    absorbs_task: dict = {}
    absorbs_data: dict = {}
    for d, target in graph.items():
        if type(target) is not Task:
            continue
        deps = target.dependencies if dependencies is None else dependencies[d]
        if not deps:
            continue
        if len(deps) == 1:
            (k,) = deps
            if k in data_keys:
                if k in inlinable:
                    absorbs_data[d] = [k]
                continue
            task_input = k
        else:
            data_deps = deps & data_keys if data_keys else ()
            if data_deps:
                inline = [k for k in data_deps if k in inlinable]
                if inline:
                    absorbs_data[d] = inline
            if len(deps) - len(data_deps) != 1:
                continue  # no Task input, or a reduction: nothing fuses into it
            (task_input,) = deps.difference(data_deps)
        if task_input in keep:
            continue
        dyn = target._dyn_args
        if (
            target._dyn_kwargs is None
            and dyn is not None
            and len(dyn) == 1
            and type(target.args[dyn[0]]) is Ref
        ) or _count_refs(target, task_input) == 1:
            absorbs_task[d] = task_input
    return absorbs_task, absorbs_data


def _drop_shared_candidates(
    graph: Graph,
    absorbs_task: dict,
    absorbs_data: dict,
    dependencies: Mapping | None,
    dependents: Mapping | None,
) -> None:
    """Remove from the candidates every input that another task depends on too.

    Only the candidate inputs are counted: a task's dependencies are
    intersected with them (which walks the smaller of the two), so the wide
    tasks of a graph cost little, and no map of every key's dependents is made.
    """
    wanted: dict = {k: d for d, k in absorbs_task.items()}  # input -> the task absorbing it
    for d, data in absorbs_data.items():
        for k in data:
            wanted[k] = d
    missing = wanted.keys() - graph.keys()
    if missing:
        _raise_missing(get_dependencies(graph) if dependencies is None else dependencies)
    shared: set = set()
    if dependents is not None:
        for k in wanted:
            if len(dependents[k]) != 1:
                shared.add(k)
    else:
        candidates = set(wanted)  # a set: ``deps & candidates`` walks the smaller side
        pairs = (
            ((d, node.dependencies) for d, node in graph.items())
            if dependencies is None
            else dependencies.items()
        )
        for d, deps in pairs:
            if not deps:
                continue
            if len(deps) < 8:
                for k in deps:
                    if k in candidates and wanted[k] != d:
                        shared.add(k)
            else:
                for k in deps & candidates:
                    if wanted[k] != d:
                        shared.add(k)
    if not shared:
        return
    for d in [d for d, k in absorbs_task.items() if k in shared]:
        del absorbs_task[d]
    for d in list(absorbs_data):
        kept = [k for k in absorbs_data[d] if k not in shared]
        if kept:
            absorbs_data[d] = kept
        else:
            del absorbs_data[d]


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


@gc_paused
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
