"""Numbering a graph's references: where each task reads each input, by position.

The local scheduler works on positions, not keys (see ``local.py``): each task's
inputs are read from a list of results indexed by position, so running a task
touches no map of every result. :func:`index_references` makes that numbering
in one pass over the nodes. For each node it gives

- ``refs``: the positions of the results it reads, in the order
  :meth:`chunkwise.core.graph.Task.call_at` reads them (a key referenced twice
  appears twice);
- ``deps``: its distinct dependencies, in ascending order;
- ``users``: its distinct dependents, in ascending order;

each entry ``None`` (none), one ``int`` (the common single input: no container
per task) or a sequence (a ``list``; ``refs`` may also be a ``range``).

Finding positions without a table of every key. A task's inputs are most
often listed next to it, in order or in reverse: delayed's lowering puts a
``sum`` over 10**6 calls right before its inputs, which follow in reverse; a
graph written inputs first has them right before the task. So each task's
references are first compared, as one list, with the slices of keys right
after and right before the task, forwards and backwards: a comparison of
objects, most often the very same key objects, and no hashing. The keys of the other tasks' inputs (a
tree's subtree roots) are found afterwards, in one scan of the keys probing
the small set of those wanted; a map of every key is made only when most are
wanted. At 10**6 keys an insert into or a lookup in such a map is a cache
miss, and the positions of a wide task would then need sorting; the slice
comparison costs neither.

>>> from operator import add
>>> from chunkwise.core.graph import DataNode, Ref, Task
>>> keys = ["s", "b", "a", "c"]
>>> nodes = [Task("s", sum, [Ref("a"), Ref("b")]), DataNode("b", 2), DataNode("a", 1),
...          Task("c", add, Ref("s"), Ref("s"))]
>>> refs, deps, users = index_references(keys, nodes)
>>> [list(r) if isinstance(r, range) else r for r in refs]
[[2, 1], None, None, [0, 0]]
>>> deps, users
([[1, 2], None, None, 0], [3, 0, 0, None])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chunkwise.core.graph import DataNode, Task

__all__ = ["index_references", "reference_names"]


def reference_names(node: Any) -> list:
    """The keys ``node`` reads, in the order it reads them (its dependencies for a foreign node)."""
    tp = type(node)
    if tp is Task:
        if node._dyn_args is None and node._dyn_kwargs is None:
            return []
        return node.reference_keys()
    if tp is DataNode:
        return []
    own = getattr(node, "reference_keys", None)  # another copy of the graph module's classes
    if own is not None:
        return own()
    return sorted(node.dependencies, key=str)


def _run_at(keys: list, first: int, names: list) -> range | None:
    """The positions of ``names`` when they are the keys from ``first`` on, forwards or
    backwards (``first`` is where ``names[0]`` may be); ``None`` when they are not."""
    m = len(names)
    if first < 0 or first >= len(keys) or keys[first] is not names[0] and keys[first] != names[0]:
        return None
    if first + m <= len(keys) and keys[first : first + m] == names:
        return range(first, first + m)
    if first - m + 1 >= 0 and keys[first - m + 1 : first + 1][::-1] == names:
        return range(first, first - m, -1)
    return None


def _adjacent(keys: list, i: int, names: list) -> range | None:
    """The positions of ``names`` when they are the keys right after or right before
    position ``i``, in order or reversed."""
    m = len(names)
    for first in (i + 1, i + m, i - m, i - 1):
        found = _run_at(keys, first, names)
        if found is not None and i not in found:
            return found
    return None


def _where(keys: list, wanted: set) -> dict:
    """The position of each ``wanted`` key: a scan probing a small set when they are few
    (no table of every key, whose inserts are cache misses at 10**6), else a full map."""
    if len(wanted) * 4 > len(keys):
        return dict(zip(keys, range(len(keys))))
    return {k: i for i, k in enumerate(keys) if k in wanted}


def _distinct(refs: Any) -> Any:
    """The distinct positions of ``refs`` in ascending order: ``None``, an int or a list."""
    if type(refs) is int:
        return refs
    ids: Sequence[int]
    if type(refs) is range:  # distinct already
        ids = refs if refs.step > 0 else refs[::-1]
    else:
        ids = sorted(set(refs))
    return ids[0] if len(ids) == 1 else list(ids)


def index_references(keys: list, nodes: list) -> tuple[list, list, list]:
    """``refs``, ``deps`` and ``users`` of each node (see the module docstring).

    ``keys`` and ``nodes`` are the graph's, in the same order. A key referenced
    but not in the graph raises ``ValueError`` naming the task and the key.
    """
    n = len(keys)
    refs_of: list = [None] * n
    pending = []  # (position, names) of the tasks whose inputs are not next to them
    wanted: set = set()
    for i, node in enumerate(nodes):
        names = reference_names(node)
        if not names:
            continue
        if len(names) == 1:
            name = names[0]
            if i + 1 < n and keys[i + 1] is name:
                refs_of[i] = i + 1
            elif i and keys[i - 1] is name:
                refs_of[i] = i - 1
            else:
                pending.append((i, names))
                wanted.add(name)
            continue
        found = _adjacent(keys, i, names)
        if found is None:
            pending.append((i, names))
            wanted.update(names)
        else:
            refs_of[i] = found
    if pending:
        where = _where(keys, wanted)
        for i, names in pending:
            try:
                if len(names) == 1:
                    refs_of[i] = where[names[0]]
                    continue
                # side by side elsewhere (a tree's subtree roots are not): one lookup
                found = _run_at(keys, where[names[0]], names)
                refs_of[i] = found if found is not None else [where[k] for k in names]
            except KeyError as exc:
                missing = exc.args[0]
                raise ValueError(
                    f"task {keys[i]!r} depends on {missing!r}, which is not in the graph; "
                    f"add a task for {missing!r} or pass it to cull/compute with its dependencies"
                ) from None
    deps_of: list = [None] * n
    users_of: list = [None] * n
    for i, refs in enumerate(refs_of):
        if refs is None:
            continue
        deps = deps_of[i] = _distinct(refs)
        for j in deps if type(deps) is list else (deps,):
            u = users_of[j]
            if u is None:
                users_of[j] = i
            elif type(u) is list:
                u.append(i)
            else:
                users_of[j] = [u, i]
    return refs_of, deps_of, users_of
