"""Fusion: groups of nodes whose per-chunk work flows one-to-one, run as one task per chunk.

:func:`fuse` finds the groups with one walk over the whole plan (who consumes
whom), then rebuilds the plan with each group replaced by one node. A node
takes part when its ``_fusion_group_key()`` is not ``None``; it joins the group
of its consumers when *all* its consumers are in one group whose root has the
same key (so no chunk is computed twice, and nothing outside the group needs
its result). A group of one node is left alone unless its root says
``_fuse_alone()``. The group's root builds the fused node
(``root._fused(members)``, members inputs first, the root last); the default is
a generic :class:`Fused`.

A fused node has its own name, derived from its members (never its root's):
equal names mean equal nodes, and the unfused root and the fused group are
different nodes.

>>> from chunkwise.core.expr import Expr, lower
>>> from chunkwise.core.graph import DataNode, Ref, Task
>>> from chunkwise.scheduling import get_sync
>>> class Chunks(Expr):
...     _parameters = ("values",)
...     def _output_keys(self):
...         return [(self.name, i) for i in range(len(self.values))]
...     def _task(self, key):
...         return DataNode(key, self.values[key[1]])
>>> class Double(Expr):
...     _parameters = ("frame",)
...     def _output_keys(self):
...         return [(self.name, i) for i, _ in enumerate(self.frame._output_keys())]
...     def _task(self, key):
...         return Task(key, lambda v: 2 * v, Ref((self.frame.name, key[1])))
...     def _fusion_group_key(self):
...         return "per-chunk"
>>> plan = Double(Double(Chunks((1, 2, 3))))
>>> fused = fuse(plan)
>>> type(fused).__name__, fused.name != plan.name, len(fused.members)
('Fused', True, 2)
>>> get_sync(lower([fused]), (fused.name, 2))
12
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from chunkwise.core.expr import Expr, key_name
from chunkwise.core.graph import Task

__all__ = ["Fused", "consumers_and_order", "fuse", "fused_inputs"]


class Fused(Expr):
    """A fused group: its members' per-chunk work in one task per output chunk.

    Operands: ``members`` (a tuple of the group's nodes, inputs first, the root
    last), then the inputs from outside the group. Output chunk ``i`` of the
    fused node is the root's chunk ``i``; its key carries the fused node's own
    name. Attributes it does not define (metadata such as ``chunks`` or
    ``meta``) are the root's. A collection specialises it (adds its base
    class, or a faster ``_task``) by overriding the root's ``_fused``.
    """

    _parameters = ("members",)
    _variadic = True

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "operands":
            raise AttributeError(attr)
        members = self.__dict__.get("operands", (None,))[0]
        if not members:
            raise AttributeError(attr)
        return getattr(members[-1], attr)

    @property
    def root(self) -> Expr:
        """The member whose output the group computes."""
        return self.operands[0][-1]

    @property
    def inputs(self) -> tuple:
        """The nodes outside the group that its members read."""
        return tuple(self.operands[len(self._parameters):])

    @property
    def _funcname(self) -> str:
        return "fused-" + self.root._funcname

    def _output_keys(self) -> list:
        name = self.name
        return [(name, *key[1:]) if type(key) is tuple else name for key in self.root._output_keys()]

    @property
    def key(self) -> Hashable:
        key = self.root.key
        return (self.name, *key[1:]) if type(key) is tuple else self.name

    def _fused_call(self, key: Hashable) -> tuple | None:
        """``(func, args)`` computing output ``key`` in one call, for a consumer that
        wants to run it inside its own task; ``None`` when there is no such call."""
        return None

    def _task(self, key: Hashable) -> Any:
        root = self.root
        root_key = (root.name, *key[1:]) if type(key) is tuple else root.name
        owners = {m.name: m for m in self.operands[0]}
        return _inline_members(root._task(root_key), owners).substitute(key)

    def _explain_line(self) -> str:
        names = [m._funcname for m in self.operands[0]]
        return f"Fused: {len(names)} ops ({', '.join(names[:8])}{', ...' if len(names) > 8 else ''})"


def _inline_members(task: Any, owners: dict) -> Any:
    """``task`` with each reference to a member's chunk replaced by that member's task."""
    if type(task) is not Task:
        return task
    found = {}
    for dep in task.dependencies:
        owner = owners.get(key_name(dep))
        if owner is not None:
            found[dep] = _inline_members(owner._task(dep), owners)
    return task.inline(found, in_place=True) if found else task


def consumers_and_order(root: Expr) -> tuple[dict, dict, list]:
    """One walk: every node by name, the names of each node's consumers, and the
    names ordered consumers before what they consume."""
    nodes: dict[str, Expr] = {}
    dependents: dict[str, set] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.name in nodes:
            continue
        nodes[node.name] = node
        dependents.setdefault(node.name, set())
        for dep in node.dependencies():
            dependents.setdefault(dep.name, set()).add(node.name)
            if dep.name not in nodes:
                stack.append(dep)
    remaining = {name: len(d) for name, d in dependents.items()}
    ready = [name for name, n in remaining.items() if n == 0]
    parents_first = []
    while ready:
        name = ready.pop()
        parents_first.append(name)
        for dep_name in dict.fromkeys(d.name for d in nodes[name].dependencies()):  # in order: names stay stable across processes
            remaining[dep_name] -= 1
            if remaining[dep_name] == 0:
                ready.append(dep_name)
    return nodes, dependents, parents_first


def fuse(root: Expr) -> Expr:
    """``root`` with each fusable group replaced by its fused node (see the module docstring).

    Call it on the whole plan (what is computed): it counts consumers over the
    tree it is given.
    """
    nodes, dependents, parents_first = consumers_and_order(root)
    keys: dict[str, Any] = {}
    group: dict[str, str] = {}
    for name in parents_first:
        key = nodes[name]._fusion_group_key()
        if key is None:
            continue
        keys[name] = key
        consumers = dependents[name]
        groups = {group.get(c) for c in consumers}
        if consumers and len(groups) == 1 and None not in groups:
            g = next(iter(groups))
            if g is not None and keys[g] == key:
                group[name] = g
                continue
        group[name] = name
    if not group:
        return root
    members: dict[str, list] = {}
    for name in reversed(parents_first):
        g = group.get(name)
        if g is not None:
            members.setdefault(g, []).append(name)
    fused = {g for g, m in members.items() if len(m) > 1 or nodes[g]._fuse_alone()}
    if not fused:
        return root
    # Rebuild, inputs first; members are rebuilt on their rebuilt inputs, then the
    # group's root builds the fused node from them.
    memo: dict[str, Expr] = {}
    for name in reversed(parents_first):
        node = nodes[name]
        rebuilt = node.with_operands(
            [memo.get(op.name, op) if isinstance(op, Expr) else op for op in node.operands]
        )
        memo[name] = rebuilt
        if name in fused:
            memo[name] = rebuilt._fused([memo[m] for m in members[name]])
    return memo[root.name]


def fused_inputs(members: list[Expr]) -> list[Expr]:
    """The nodes outside the group ``members`` that its members read, once each, in order."""
    inside = {m.name for m in members}
    seen: set = set()
    inputs = []
    for member in members:
        for dep in member.dependencies():
            if dep.name not in inside and dep.name not in seen:
                seen.add(dep.name)
                inputs.append(dep)
    return inputs
