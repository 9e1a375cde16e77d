"""Optimization: rewrite rules with every consumer in view, lowering, and named stages.

Each collection's base expression declares its stages (``_stages``): names of
static methods ``_<stage>_stage(root) -> Expr`` that its class resolves, so the
order of the passes is a fact of the class, never of what was imported. The
default is ``("simplify", "lower", "simplify", "fuse")``:

- **simplify** (:func:`simplify`): rewrite rules to a fixed point. One pass
  walks the plan bottom-up: a node's children first, then the node's own rule
  (``_simplify_down()``) and each child's rule for it
  (``child._simplify_up(parent, dependents)``), again and again on the result.
  What the rules built is then visited in the same pass, its new nodes
  bottom-up too: a rule that pushes a parent below its child meets the pushed
  node again one level down, so a pushdown N levels deep is one pass, not N.

  ``dependents`` maps a node's name to every node that consumes it in the
  whole plan (a :class:`Dependents`, from one walk per pass, kept up to date
  as rules replace nodes). A child narrowing itself (a column projection, a
  slice) takes the union of what all of them need, so a shared node is never
  narrowed for one consumer only; its consumers then see the same narrowed
  node (one name), and it stays shared. A consumer replaced during the pass is
  still counted by a child that remains in use, so the union seen by the
  child's later consumers does not shrink under them; a node no longer used at
  all stops counting as anyone's consumer.
- **lower** (:func:`lower_stage`): each node's ``_lower()`` (expression to
  expression: where a strategy is chosen from metadata), bottom-up to a fixed point.
- **fuse** (:func:`chunkwise.core.fuse.fuse`): groups of nodes whose per-chunk
  work flows one-to-one become one node, one task per output chunk.

A :class:`~chunkwise.core.expr.Tuple` of several collections' expressions is
optimized group by group, each by its own collection's stages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chunkwise.core.expr import Expr, Tuple

__all__ = ["Dependents", "lower_stage", "optimize", "optimize_together", "simplify", "simplify_once"]

_MAX_PASSES = 1000
_MAX_REWRITES = 10_000  # rewrites of one node in one pass (a rule cycling between forms)


class Dependents(Mapping):
    """The consumers of each node of a plan: ``dependents[name]`` is a list of nodes.

    Built by one walk over the plan; :func:`simplify_once` keeps it up to date
    as it replaces nodes (see the module docstring for what a replaced
    consumer still counts for).

    >>> from chunkwise.core.expr import Tuple
    >>> shared = Tuple()
    >>> plan = Tuple(Tuple(shared), shared)
    >>> [type(c).__name__ for c in Dependents([plan])[shared.name]]
    ['Tuple', 'Tuple']
    """

    __slots__ = ("_consumers", "_keyed", "_replaced", "_sources")

    def __init__(self, roots: list[Expr]):
        consumers: dict[str, dict[str, Expr]] = {}
        self._consumers = consumers
        self._sources: dict[Any, dict[str, Expr]] = {}
        self._keyed: dict[type, bool] = {}
        self._replaced: set[str] = set()  # nodes a rule replaced in this pass
        stack = list(roots)
        for root in roots:
            consumers.setdefault(root.name, {})
            self._note_source(root)
        while stack:
            expr = stack.pop()
            name = expr.name
            for dep in expr.dependencies():
                entry = consumers.get(dep.name)
                if entry is None:
                    consumers[dep.name] = {name: expr}
                    self._note_source(dep)
                    stack.append(dep)
                else:
                    entry[name] = expr

    def _note_source(self, expr: Expr) -> None:
        tp = type(expr)
        keyed = self._keyed.get(tp)
        if keyed is None:
            keyed = self._keyed[tp] = tp._source_key is not Expr._source_key
        if keyed:
            key = expr._source_key()
            if key is not None:
                self._sources.setdefault(key, {})[expr.name] = expr

    def of_source(self, expr: Expr) -> list[Expr]:
        """The consumers of ``expr`` and of every node reading the same source.

        Nodes with equal ``_source_key()`` read one source narrowed differently
        (a file read with other columns): a node narrowing itself to the union of
        what all these consumers need becomes the same node for all of them.
        """
        key = expr._source_key()
        family = self._sources.get(key) if key is not None else None
        if not family:
            return self[expr.name]
        out: dict[str, Expr] = {}
        for member in family.values():
            out.update(self._consumers.get(member.name, {}))
        return list(out.values())

    def __getitem__(self, name: str) -> list[Expr]:
        return list(self._consumers[name].values())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        entry = self._consumers.get(name)
        return default if entry is None else list(entry.values())

    def __contains__(self, name: object) -> bool:
        return name in self._consumers

    def __iter__(self) -> Iterator[str]:
        return iter(self._consumers)

    def __len__(self) -> int:
        return len(self._consumers)

    def replace(self, old: Expr, new: Expr) -> None:
        """Record that ``new`` takes the place of ``old`` in the plan."""
        consumers = self._consumers
        # An operand narrowed for ``old`` (same kind of node, a new node in the same
        # place) still serves the operand's other consumers: they count as its
        # consumers too, so it is not narrowed again for this consumer alone.
        inherit = []
        if type(old) is type(new) and len(old.operands) == len(new.operands):
            for before, after in zip(old.operands, new.operands):
                if (
                    isinstance(before, Expr) and isinstance(after, Expr)
                    and after.name not in consumers and before.name != after.name
                ):
                    inherit.append((before.name, after.name))
        # ``new`` and the nodes first seen under it become consumers of their operands.
        if new.name not in consumers:
            consumers[new.name] = {}
            self._note_source(new)
        stack = [new]
        while stack:
            expr = stack.pop()
            name = expr.name
            for dep in expr.dependencies():
                entry = consumers.get(dep.name)
                if entry is None:
                    consumers[dep.name] = {name: expr}
                    self._note_source(dep)
                    stack.append(dep)
                else:
                    entry[name] = expr
        for before, after in inherit:
            others = {k: v for k, v in consumers.get(before, {}).items() if k != old.name}
            consumers[after].update(others)
        # ``old`` stays a consumer of an operand that others still use (their union
        # must not shrink); an operand used by nothing else is gone, and so is its
        # use of its own operands, transitively.
        # A node no longer used by anything (and never replaced itself: a replaced node
        # keeps counting for the operands that others still use) stops counting.
        self._replaced.add(old.name)
        dead = []
        for dep in old.dependencies():
            entry = consumers.get(dep.name)
            if entry is not None and old.name in entry and len(entry) == 1 and dep.name != new.name:
                del entry[old.name]
                if dep.name not in self._replaced:
                    dead.append(dep)
        while dead:
            expr = dead.pop()
            name = expr.name
            for dep in expr.dependencies():
                entry = consumers.get(dep.name)
                removed = entry is not None and entry.pop(name, None) is not None
                if removed and not entry and dep.name not in self._replaced:
                    dead.append(dep)


def _rewrite(expr: Expr, dependents: Dependents) -> Expr:
    """``expr`` after its own rules and its children's rules for it, to a fixed point."""
    for _ in range(_MAX_REWRITES):
        out = expr._simplify_down()
        if out is None:
            for child in expr.dependencies():
                out = child._simplify_up(expr, dependents)
                if out is not None:
                    break
        if out is None or out is expr or out.name == expr.name:
            return expr
        dependents.replace(expr, out)
        expr = out
    raise RuntimeError(f"simplify: the rules for {type(expr).__name__} rewrite it without end")


_ENTER, _EXIT = object(), object()  # the states of a node on the stack


def simplify_once(root: Expr, dependents: Dependents | None = None) -> Expr:
    """One pass of the rewrite rules over the plan under ``root`` (see the module docstring)."""
    if dependents is None:
        dependents = Dependents([root])
    memo: dict[str, Expr] = {}
    # Iterative, so that deep trees (long chains) do not recurse. An entry is
    # (node, _ENTER), (node, _EXIT), or (node, result): ``node`` stands for ``result``
    # once that is simplified.
    stack: list[tuple[Expr, Any]] = [(root, _ENTER)]
    while stack:
        expr, state = stack.pop()
        if state is _ENTER:
            if expr.name not in memo:
                stack.append((expr, _EXIT))
                stack.extend((op, _ENTER) for op in expr.dependencies() if op.name not in memo)
            continue
        if state is not _EXIT:  # what a rule built is simplified: stand for it
            memo[expr.name] = memo[state.name]
            continue
        new = expr.with_operands(
            [memo.get(op.name, op) if isinstance(op, Expr) else op for op in expr.operands]
        )
        if new is not expr and new.name != expr.name:
            dependents.replace(expr, new)
        out = _rewrite(new, dependents)
        if out is new:
            memo[expr.name] = new
        else:  # visit what the rules built in this same pass: a pushdown goes all the way
            stack.append((expr, out))
            stack.append((out, _ENTER))
    return memo[root.name]


def simplify(root: Expr) -> Expr:
    """Apply the rewrite rules until nothing changes (a new :class:`Dependents` each pass)."""
    expr = root
    for _ in range(_MAX_PASSES):
        new = simplify_once(expr)
        if new.name == expr.name:
            return new
        expr = new
    raise RuntimeError(f"simplify did not converge on {type(root).__name__}")


def _lowers(cls: type[Expr]) -> bool:
    return cls._lower is not Expr._lower


def lower_stage(root: Expr) -> Expr:
    """Each node's ``_lower()`` applied bottom-up, until no node lowers further."""
    lowering: dict[type[Expr], bool] = {}
    for _ in range(_MAX_PASSES):
        memo: dict[str, Expr] = {}
        changed = False
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            expr, expanded = stack.pop()
            if expr.name in memo:
                continue
            if not expanded:
                stack.append((expr, True))
                stack.extend((op, False) for op in expr.dependencies() if op.name not in memo)
                continue
            new = expr.with_operands(
                [memo.get(op.name, op) if isinstance(op, Expr) else op for op in expr.operands]
            )
            tp = type(new)
            lowers = lowering.get(tp)
            if lowers is None:
                lowers = lowering[tp] = _lowers(tp)
            if lowers:
                out = new._lower()
                if out is not None and out.name != new.name:
                    new = out
                    changed = True
            memo[expr.name] = new
        out = memo[root.name]
        if not changed and out.name == root.name:
            return out
        root = out
    raise RuntimeError("lower: the _lower rules did not reach a fixed point")


def stage_owner(cls: type[Expr]) -> type[Expr]:
    """The class whose ``_stages`` apply to nodes of ``cls``: the nearest that declares them."""
    for klass in cls.__mro__:
        if "_stages" in klass.__dict__:
            return klass
    return Expr


def run_stages(owner: type[Expr], root: Expr) -> Expr:
    """``root`` through the stages ``owner`` declares, in order."""
    simplified = None  # the name of the last simplify stage's result
    for stage in owner._stages:
        if stage == "simplify" and root.name == simplified:
            continue  # nothing changed since the plan was last simplified
        run = getattr(owner, f"_{stage}_stage", None)
        if run is None:
            raise TypeError(
                f"optimize: {owner.__name__} declares the stage {stage!r} but no "
                f"_{stage}_stage(root) static method to run it"
            )
        root = run(root)
        if stage == "simplify":
            simplified = root.name
    return root


def optimize(root: Expr) -> Expr:
    """``root`` through its collection's stages; a :class:`Tuple`, operand group by operand group."""
    if type(root) is not Tuple:
        return run_stages(stage_owner(type(root)), root)
    groups: dict[type[Expr], list[int]] = {}
    for i, op in enumerate(root.operands):
        groups.setdefault(stage_owner(type(op)), []).append(i)
    if len(groups) == 1:
        ((owner, _),) = groups.items()
        return run_stages(owner, root)
    out = list(root.operands)
    for owner, positions in groups.items():
        done = run_stages(owner, Tuple(*(root.operands[i] for i in positions)))
        for i, expr in zip(positions, done.operands):
            out[i] = expr
    return root.with_operands(out)


def optimize_together(exprs: list[Expr]) -> list[Expr]:
    """Optimize ``exprs`` as one plan: work they share is optimized (and named) alike.

    >>> a = Tuple()
    >>> optimize_together([a])[0] is a
    True
    """
    if len(exprs) == 1:
        return [optimize(exprs[0])]
    return list(optimize(Tuple(*exprs)).operands)
