"""Expressions: the immutable plans that every collection wraps.

An :class:`Expr` is a node with *operands* (other expressions or plain
values), a deterministic :attr:`~Expr.name`, and metadata that it knows without
computing anything. Arrays, dataframes and delayed values are all trees of
expressions; they differ only in their metadata and in how a node turns one of
its output keys into a task.

Four mechanisms act on a tree (``docs/expressions.md`` teaches them with a
worked example):

- **Rewriting.** :meth:`Expr.simplify` applies rewrite rules until nothing
  changes. A node rewrites itself in ``_simplify_down()``, or rewrites its
  parent in ``_simplify_up(parent, dependents)`` (how a slice or a column
  projection is pushed below the operation that produced its input;
  ``dependents`` lists every consumer of each node, so a shared node narrows
  itself only to the union of what they all need). Rules return a new
  expression or ``None``. See :mod:`chunkwise.core.optimize`.
- **Optimizing in stages.** :meth:`Expr.optimize` runs the stages that the
  collection's base class declares in ``_stages`` (default: simplify, lower
  with each node's ``_lower()``, simplify, fuse -- see
  :mod:`chunkwise.core.fuse`); nothing registered by imports takes part.
- **Lowering.** :func:`lower` materializes tasks only for the requested keys.
  Starting from those keys, it asks the node that owns each key (by the key's
  name, the first element of a tuple key) for its task, then follows that
  task's dependencies. A plan over 100,000 chunks therefore costs nothing per
  chunk until it is lowered, and a slice of it lowers only the chunks it needs.
- **Explaining.** :meth:`Expr.explain` prints the tree with each node's
  parameters and, where known, the projected bytes of its output chunks.

A node declares its operands by name in ``_parameters`` (with ``_defaults``)
and implements ``_task(key)``; ``_output_keys()`` lists its outputs. Operands
are attributes (``expr.left``); a parameter named like metadata the class
defines (``chunks``, ``meta``) must be listed in ``_operand_only`` and is read
with ``expr.operand("chunks")``: otherwise defining the class raises.

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
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any

from chunkwise.core.graph import Ref, Task, is_valid_key, validate_key
from chunkwise.core.tokenize import tokenize

__all__ = ["Expr", "Tuple", "key_name", "lower", "optimize_together", "walk"]


class _OperandProperty(property):
    """``expr.<parameter>``: the operand at a fixed position."""

    def __init__(self, index: int):
        super().__init__(lambda self: self.operands[index])


def key_name(key: Hashable) -> Any:
    """The name part of a key: the key itself for a str, the first element of a tuple."""
    return key[0] if type(key) is tuple else key


def _run_simplify(root: Expr) -> Expr:
    from chunkwise.core.optimize import simplify

    return simplify(root)


def _run_lower(root: Expr) -> Expr:
    from chunkwise.core.optimize import lower_stage

    return lower_stage(root)


def _run_fuse(root: Expr) -> Expr:
    from chunkwise.core.fuse import fuse

    return fuse(root)


class Expr:
    """An immutable plan node; see the module docstring."""

    _parameters: tuple[str, ...] = ()
    _defaults: dict[str, Any] = {}
    #: When true, operands beyond ``_parameters`` are accepted (``self.operands[n:]``).
    _variadic: bool = False
    #: Parameters named like metadata of the class (``chunks``, ``dtype``, ``name``,
    #: ``meta``, ``columns``): not attributes; read them with :meth:`operand`.
    _operand_only: tuple[str, ...] = ()
    #: The optimization stages of this collection, in order: each name ``s`` is run
    #: by the static method ``_s_stage(root) -> Expr`` (see :mod:`chunkwise.core.optimize`).
    _stages: tuple[str, ...] = ("simplify", "lower", "simplify", "fuse")
    _simplify_stage = staticmethod(_run_simplify)
    _lower_stage = staticmethod(_run_lower)
    _fuse_stage = staticmethod(_run_fuse)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Operands are reachable by their parameter names (``expr.left``) through fast
        # generated properties. A parameter may not silently hide (or be hidden by) an
        # attribute the class defines, such as metadata: it must opt out of being an
        # attribute with ``_operand_only`` and be read with ``operand(name)``.
        own = "_parameters" in cls.__dict__
        for index, param in enumerate(cls._parameters):
            existing = getattr(cls, param, None)
            if param in cls._operand_only:
                continue
            if existing is None or isinstance(existing, _OperandProperty):
                if own or existing is None:
                    setattr(cls, param, _OperandProperty(index))
                continue
            owner = next(k for k in cls.__mro__ if param in k.__dict__)
            raise TypeError(
                f"{cls.__name__}: the parameter {param!r} has the name of the attribute "
                f"{owner.__name__}.{param} (metadata or a method); rename the parameter, or "
                f"list it in {cls.__name__}._operand_only and read it with operand({param!r})"
            )

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

    def _simplify_up(self, parent: Expr, dependents: Mapping[str, list]) -> Expr | None:
        """Rewrite ``parent`` (which has this node as an operand); ``None`` to leave it.

        ``dependents[name]`` lists every node consuming ``name`` in the whole
        plan: narrow this node only to the union of what all of its consumers
        (``dependents[self.name]``) need.
        """
        return None

    def _source_key(self) -> Hashable | None:
        """Equal for nodes that read one source narrowed differently (the same file,
        other columns); ``dependents.of_source(node)`` lists all their consumers."""
        return None

    def simplify(self) -> Expr:
        """Apply the rewrite rules until nothing changes (see :mod:`chunkwise.core.optimize`)."""
        return _run_simplify(self)

    def _lower(self) -> Expr | None:
        """This node as other expressions (a strategy chosen from metadata); ``None`` to leave it.

        Run by the ``lower`` stage, bottom-up, until no node lowers further.
        """
        return None

    def optimize(self) -> Expr:
        """The expression that will run: this plan through its collection's ``_stages``."""
        from chunkwise.core.optimize import optimize

        return optimize(self)

    # --- fusing -------------------------------------------------------------

    def _fusion_group_key(self) -> Hashable | None:
        """Not ``None`` when this node's per-chunk work may be fused with its consumers':
        nodes fuse with consumers of an equal key (same kind, same chunks), whose
        chunk ``i`` reads this node's chunk ``i`` only. See :mod:`chunkwise.core.fuse`."""
        return None

    def _fuse_alone(self) -> bool:
        """Whether a group of this node alone is still worth a fused node."""
        return False

    def _fused(self, members: list[Expr]) -> Expr:
        """The node running the group ``members`` (inputs first, this node last)."""
        from chunkwise.core.fuse import Fused, fused_inputs

        return Fused(tuple(members), *fused_inputs(members))

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


class Tuple(Expr):
    """Several expressions optimized as one plan (it builds no task itself)."""

    _variadic = True

    def _task(self, key: Hashable) -> Any:
        raise TypeError("a Tuple of expressions has no task of its own")


def optimize_together(exprs: list[Expr]) -> list[Expr]:
    """Optimize ``exprs`` as one plan: work they share is optimized (and named) alike.

    Each expression goes through its own collection's stages (a Tuple of an
    array and a delayed value is optimized part by part).

    >>> a = Tuple()
    >>> optimize_together([a])[0] is a
    True
    """
    from chunkwise.core.optimize import optimize_together as run

    return run(exprs)


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
