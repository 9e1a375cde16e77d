"""Expressions: the immutable plans that every collection wraps.

An :class:`Expr` is a node with *operands* (other expressions or plain
values), a deterministic :attr:`~Expr.name`, and metadata that it knows without
computing anything. Arrays, dataframes and delayed values are all trees of
expressions; they differ only in their metadata and in how a node turns one of
its output keys into a task.

Three mechanisms act on a tree:

- **Rewriting.** :meth:`Expr.simplify` applies rewrite rules until nothing
  changes. A node rewrites itself in ``_simplify_down()``, or rewrites its
  parent in ``_simplify_up(parent)`` (how a slice or a column projection is
  pushed below the operation that produced its input). Rules return a new
  expression or ``None``.
- **Lowering.** :func:`lower` materializes tasks only for the requested keys.
  Starting from those keys, it asks the node that owns each key (by the key's
  name, the first element of a tuple key) for its task, then follows that
  task's dependencies. A plan over 100,000 chunks therefore costs nothing per
  chunk until it is lowered, and a slice of it lowers only the chunks it needs.
- **Explaining.** :meth:`Expr.explain` prints the tree with each node's
  parameters and, where known, the projected bytes of its output chunks.

A node declares its operands by name in ``_parameters`` (with ``_defaults``)
and implements ``_task(key)``; ``_output_keys()`` lists its outputs.

>>> from operator import add
>>> from chunkwise.core.graph import Task
>>> class Literal(Expr):
...     _parameters = ("value",)
...     def _task(self, key):
...         return Task(key, lambda v: v, self.value)
>>> class Add(Expr):
...     _parameters = ("left", "right")
...     def _task(self, key):
...         return Task(key, add, self.left.ref(), self.right.ref())
...     def _simplify_down(self):
...         if isinstance(self.right, Literal) and self.right.value == 0:
...             return self.left      # x + 0 -> x
>>> one = Literal(1)
>>> expr = Add(Add(one, Literal(0)), Literal(2))
>>> print(expr.simplify().explain(show=False))
Add
  Literal: value=1
  Literal: value=2
>>> graph = lower([expr.simplify()])
>>> sorted(type(node).__name__ for node in graph.values())
['Task', 'Task', 'Task']
>>> Literal(1).name == one.name
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from chunkwise.core.graph import Ref, Task, is_valid_key, validate_key
from chunkwise.core.tokenize import tokenize

__all__ = ["Expr", "Tuple", "key_name", "lower", "optimize_together", "register_plan_pass", "walk"]


class _OperandProperty(property):
    """``expr.<parameter>``: the operand at a fixed position."""

    def __init__(self, index: int):
        super().__init__(lambda self: self.operands[index])


def key_name(key: Hashable) -> Any:
    """The name part of a key: the key itself for a str, the first element of a tuple."""
    return key[0] if type(key) is tuple else key


class Expr:
    """An immutable plan node; see the module docstring."""

    _parameters: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    #: When true, operands beyond ``_parameters`` are accepted (``self.operands[n:]``).
    _variadic: bool = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Operands are reachable by their parameter names (``expr.left``) through fast
        # generated properties; names the class defines itself are left alone.
        for index, param in enumerate(cls.__dict__.get("_parameters", ())):
            existing = getattr(cls, param, None)
            if existing is None or isinstance(existing, _OperandProperty):
                setattr(cls, param, _OperandProperty(index))

    def __init__(self, *operands: Any, **kwargs: Any):
        params = self._parameters
        if len(operands) > len(params) and self._variadic:
            if kwargs:
                raise TypeError(f"{type(self).__name__}: give every operand by position")
            self.operands = list(operands)
            return
        if len(operands) > len(params):
            raise TypeError(
                f"{type(self).__name__} takes at most {len(params)} operands, got {len(operands)}"
            )
        values = list(operands)
        for name in params[len(operands):]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in self._defaults:
                values.append(self._defaults[name])
            else:
                raise TypeError(f"{type(self).__name__} is missing operand {name!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected operands {sorted(kwargs)}")
        self.operands = values

    # --- identity ---------------------------------------------------------

    @functools.cached_property
    def name(self) -> str:
        """A deterministic name: equal expressions built twice get the same name."""
        _name_operands_first(self)
        return f"{self._funcname}-{tokenize(type(self).__name__, *self.operands)}"

    @property
    def _funcname(self) -> str:
        return type(self).__name__.lower()

    def __chunkwise_tokenize__(self) -> str:
        return self.name

    def __getattr__(self, attr: str) -> Any:
        # Operands are reachable by their parameter names: ``expr.left``.
        params = type(self)._parameters
        operands = self.__dict__.get("operands")
        if operands is not None and attr in params:
            return operands[params.index(attr)]
        raise AttributeError(f"{type(self).__name__!r} expression has no attribute {attr!r}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._describe_operands()})"

    def _describe_operands(self) -> str:
        parts = []
        for param, op in zip(self._parameters, self.operands):
            if isinstance(op, Expr):
                parts.append(f"{param}=<{op.name}>")
            else:
                text = repr(op)
                parts.append(f"{param}={text if len(text) <= 40 else text[:37] + '...'}")
        return ", ".join(parts)

    # --- structure ----------------------------------------------------------

    def operand(self, name: str) -> Any:
        """The operand given for parameter ``name``.

        Parameters are also attributes (``expr.left``), except where the class
        defines that name itself as metadata (``columns``, ``dtype``): there,
        ``operand("columns")`` is the operand and ``expr.columns`` the metadata.
        """
        params = type(self)._parameters
        if name not in params:
            raise ValueError(f"{type(self).__name__} has no parameter {name!r}; its parameters: {params}")
        return self.operands[params.index(name)]

    def dependencies(self) -> list[Expr]:
        """The operands that are expressions."""
        return [op for op in self.operands if isinstance(op, Expr)]

    def with_operands(self, operands: list) -> Expr:
        """A node of the same type with other operands (``self`` if they are the same)."""
        if all(a is b for a, b in zip(operands, self.operands)):
            return self
        return type(self)(*operands)

    def substitute(self, old: Expr, new: Expr) -> Expr:
        """This tree with every node named like ``old`` replaced by ``new``."""
        memo: dict[str, Expr] = {}

        def visit(expr: Expr) -> Expr:
            if expr.name == old.name:
                return new
            if expr.name in memo:
                return memo[expr.name]
            out = expr.with_operands(
                [visit(op) if isinstance(op, Expr) else op for op in expr.operands]
            )
            memo[expr.name] = out
            return out

        return visit(self)

    # --- lowering -----------------------------------------------------------

    @property
    def key(self) -> Hashable:
        """The single output key of a one-output node (its name)."""
        return self.name

    def ref(self) -> Ref:
        """A reference to :attr:`key`, for use in a task's arguments."""
        return Ref(self.key)

    def _output_keys(self) -> list:
        """The keys this node outputs (flat). One-output nodes output their name."""
        return [self.name]

    def _owned_names(self) -> Iterable[Any]:
        """The key names whose tasks this node builds (its name, plus any internal stages)."""
        return (self.name,)

    def _task(self, key: Hashable) -> Any:
        """A new task (or data node) computing output ``key``.

        It must be a new object on each call: :func:`lower` may complete it in place.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define _task")

    def _inlinable(self) -> bool:
        """Whether a consumer reading this node one-to-one may build its tasks inside its own.

        ``False`` for a node whose tasks read other outputs of the node itself.
        """
        return True

    def _task_inline(self, key: Hashable, inlined: set) -> Any:
        """The task of ``key`` when the inputs named in ``inlined`` are built inside it.

        A node may build such an input's work into its own task directly (one
        task object instead of one per node, then inlined); what it leaves as
        references to ``inlined`` inputs :func:`lower` inlines as usual. The
        default is :meth:`_task`.
        """
        return self._task(key)

    def chunk_nbytes(self, key: Hashable) -> int | None:
        """Projected bytes of output ``key``; ``None`` when unknown."""
        return None

    def _one_to_one_inputs(self) -> tuple:
        """Names of inputs each of whose outputs this node's tasks read once, from one task.

        When such an input has no other consumer, :func:`lower` builds its task
        inside the task that reads it (no separate graph node, nothing to fuse later).
        """
        return ()

    # --- rewriting ----------------------------------------------------------

    def _simplify_down(self) -> Expr | None:
        """Rewrite this node; return ``None`` to leave it."""
        return None

    def _simplify_up(self, parent: Expr) -> Expr | None:
        """Rewrite ``parent`` (which has this node as an operand); ``None`` to leave it."""
        return None

    def simplify(self) -> Expr:
        """Apply the rewrite rules until nothing changes."""
        expr = self
        for _ in range(1000):
            new = expr._simplify_pass({})
            if new.name == expr.name:
                return new
            expr = new
        raise RuntimeError(f"simplify did not converge on {type(self).__name__}")

    def _simplify_pass(self, memo: dict[str, Expr]) -> Expr:
        # Iterative post-order so that deep trees (long chains) do not recurse.
        stack: list[tuple[Expr, bool]] = [(self, False)]
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
            rewritten = new._simplify_down()
            if rewritten is None:
                for op in new.dependencies():
                    rewritten = op._simplify_up(new)
                    if rewritten is not None:
                        break
            memo[expr.name] = rewritten if rewritten is not None else new
        return memo[self.name]

    def optimize(self) -> Expr:
        """The expression that will run: simplified, then the whole-plan passes applied.

        Collections register passes that must see every consumer of a node
        (array blockwise fusion) with :func:`register_plan_pass`.
        """
        expr = self.simplify()
        for plan_pass in _PLAN_PASSES:
            expr = plan_pass(expr)
        return expr

    # --- explaining ---------------------------------------------------------

    def _explain_line(self) -> str:
        params = [
            f"{p}={_short(op)}"
            for p, op in zip(self._parameters, self.operands)
            if not isinstance(op, Expr) and not p.startswith("_")
        ]
        head = type(self).__name__
        return f"{head}: {', '.join(params)}" if params else head

    def explain(self, show: bool = True) -> str | None:
        """The tree of this plan, one node a line; printed (or returned with ``show=False``)."""
        lines: list[str] = []
        seen: set[str] = set()
        stack: list[tuple[Expr, int]] = [(self, 0)]
        while stack:
            expr, depth = stack.pop()
            line = "  " * depth + expr._explain_line()
            if expr.name in seen:
                lines.append(line + "  (shared, shown above)")
                continue
            seen.add(expr.name)
            lines.append(line)
            stack.extend((op, depth + 1) for op in reversed(expr.dependencies()))
        text = "\n".join(lines)
        if show:
            print(text)
            return None
        return text


def _unnamed(value: Any) -> bool:
    """Whether ``value`` is an expression whose cached name is not computed yet."""
    return (
        isinstance(value, Expr)
        and "name" not in value.__dict__
        and type(value).name is _CACHED_NAME  # not a class defining its own name
    )


def _name_operands_first(expr: Expr) -> None:
    """Compute the names of ``expr``'s descendants bottom-up, without recursion.

    A name tokenizes the operands' names, so naming the top of a deep tree
    would otherwise recurse once per level. Nodes that define their own
    ``name`` (not the cached token) are left alone.
    """
    stack = [op for op in expr.operands if _unnamed(op)]
    while stack:
        node = stack[-1]
        if not _unnamed(node):
            stack.pop()
            continue
        pending = [op for op in node.operands if _unnamed(op)]
        if pending:
            stack.extend(pending)
        else:
            stack.pop()
            node.name  # noqa: B018 - operands are named, so this does not recurse


def _short(value: Any) -> str:
    text = getattr(value, "__name__", None) if callable(value) else None
    text = text or repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


_CACHED_NAME = Expr.__dict__["name"]

_PLAN_PASSES: list[Callable[[Expr], Expr]] = []


def register_plan_pass(plan_pass: Callable[[Expr], Expr]) -> Callable[[Expr], Expr]:
    """Add a pass run on the whole plan by :meth:`Expr.optimize` (after simplification)."""
    if plan_pass not in _PLAN_PASSES:
        _PLAN_PASSES.append(plan_pass)
    return plan_pass


class Tuple(Expr):
    """Several expressions optimized as one plan (it builds no task itself)."""

    _variadic = True

    def _task(self, key: Hashable) -> Any:
        raise TypeError("a Tuple of expressions has no task of its own")


def optimize_together(exprs: list[Expr]) -> list[Expr]:
    """Optimize ``exprs`` as one plan: work they share is optimized (and named) alike.

    >>> a = Tuple()
    >>> optimize_together([a])[0] is a
    True
    """
    if len(exprs) == 1:
        return [exprs[0].optimize()]
    return list(Tuple(*exprs).optimize().operands)


def walk(roots: Iterable[Expr]) -> Iterator[Expr]:
    """Every node reachable from ``roots``, once each (by name)."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        expr = stack.pop()
        if expr.name in seen:
            continue
        seen.add(expr.name)
        yield expr
        stack.extend(expr.dependencies())


def lower(
    roots: list[Expr], keys: Iterable[Hashable] | None = None, inline: bool = True
) -> dict:
    """The task graph computing ``keys`` (default: every output key of ``roots``).

    Only the tasks those keys need are built. An input that a single node reads
    one-to-one (see :meth:`Expr._one_to_one_inputs`) is built inside the task
    that reads it, as graph-level linear fusion would do afterwards
    (``inline=False`` keeps every task separate).
    """
    owners: dict[Any, Expr] = {}
    consumers: dict[str, set] = {}
    nodes = list(walk(roots))
    for expr in nodes:
        for name in expr._owned_names():
            owners.setdefault(name, expr)
        for dep in expr.dependencies():
            consumers.setdefault(dep.name, set()).add(expr.name)
    root_names = {root.name for root in roots}
    inlined: set = set()
    for expr in nodes if inline else ():
        for name in expr._one_to_one_inputs():
            if (
                name not in root_names
                and consumers.get(name) == {expr.name}
                and (name not in owners or owners[name]._inlinable())
            ):
                inlined.add(name)
    if keys is None:
        keys = [k for root in roots for k in root._output_keys()]
    graph: dict = {}
    stack = list(keys)
    while stack:
        key = stack.pop()
        if key in graph:
            continue
        name = key[0] if type(key) is tuple else key
        owner = owners.get(name)
        if owner is None:
            raise KeyError(f"no expression in the plan produces key {key!r}")
        if inlined:
            node = owner._task_inline(key, inlined)
            if type(node) is Task and node.dependencies:
                node = _inline_inputs(node, inlined, owners, _MAX_INLINE_DEPTH)
        else:
            node = owner._task(key)
        if not is_valid_key(key):
            validate_key(key)  # raises, naming the bad part
        graph[key] = node
        for dep in node.dependencies:
            if dep not in graph:
                stack.append(dep)
    return graph


_MAX_INLINE_DEPTH = 32  # bounds the nesting (and the recursion of running a task)


def _inline_inputs(task: Task, inline: set, owners: dict, depth: int) -> Task:
    """``task`` with references to inlinable inputs replaced by those inputs' tasks."""
    found = {}
    for dep in task.dependencies:
        name = dep[0] if type(dep) is tuple else dep
        if name in inline:
            inner = owners[name]._task(dep)
            if type(inner) is not Task:
                continue  # data nodes are inlined as values by graph fusion
            if depth > 1 and inner.dependencies:
                inner = _inline_inputs(inner, inline, owners, depth - 1)
            found[dep] = inner
    if not found:
        return task
    return task.inline(found, in_place=True)  # ``_task`` returns a new node on each call
