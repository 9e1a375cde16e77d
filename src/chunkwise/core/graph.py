"""The task graph: keys, references, tasks and data nodes.

A *graph* is a plain ``dict`` mapping keys to nodes. A *key* is a ``str``, an
``int``, a ``float`` or a tuple of those (``("x", 0, 1)`` names chunk ``(0, 1)``
of ``x``); nothing else, since that is all ``distributed`` accepts. A *node* is
one of:

- :class:`Task` -- a callable with arguments. An argument is a literal, a
  :class:`Ref` to another key, another :class:`Task` (computed inline, in the
  same task), or a ``list``/``tuple``/``dict`` nesting any of these.
- :class:`DataNode` -- a literal value held in the graph.

Arguments are parsed once, when the task is built: the task records its
dependencies and a flat plan of which argument positions need resolving, so
running a task never walks its arguments again.

>>> from operator import add
>>> graph = {
...     "a": DataNode("a", 1),
...     "b": Task("b", add, Ref("a"), 10),
...     "c": Task("c", sum, [Ref("a"), Ref("b"), 100]),
... }
>>> sorted(graph["c"].dependencies)
['a', 'b']
>>> results = {"a": 1, "b": 11}
>>> graph["c"](results)
112
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from itertools import islice
from typing import Any

__all__ = [
    "DataNode",
    "DictArg",
    "ListArg",
    "Node",
    "Ref",
    "Task",
    "is_valid_key",
    "validate_key",
]

_ATOM_TYPES = (str, int, float)


def is_valid_key(key: object) -> bool:
    """Whether ``key`` is a str, int, float, or a (nested) tuple of those.

    NumPy integers and booleans are refused: ``distributed`` rejects them.

    >>> is_valid_key(("x", 0, 1)), is_valid_key("x"), is_valid_key(["x", 0])
    (True, True, False)
    """
    tp = type(key)
    if tp is str or tp is int or tp is float:
        return True
    if tp is tuple:
        for part in key:  # type: ignore[attr-defined]
            tp = type(part)
            if not (tp is str or tp is int or tp is float or (tp is tuple and is_valid_key(part))):
                return False
        return True
    return False


def validate_key(key: object) -> None:
    """Raise ``TypeError`` naming the bad part when ``key`` is not a valid key."""
    if is_valid_key(key):
        return
    if isinstance(key, tuple):
        bad = [p for p in key if not is_valid_key(p)]
        raise TypeError(
            f"invalid graph key {key!r}: its part {bad[0]!r} has type {type(bad[0]).__name__}; "
            "keys hold only str, int, float and tuples of them (cast NumPy integers with int())"
        )
    raise TypeError(
        f"invalid graph key {key!r} of type {type(key).__name__}: keys are str, int, float "
        "or tuples of them, such as ('x', 0, 1)"
    )


class Ref:
    """A reference to the result of another key, used inside task arguments.

    >>> Ref(("x", 0))
    Ref(('x', 0))
    """

    __slots__ = ("key",)

    def __init__(self, key: Hashable):
        self.key = key

    def __repr__(self) -> str:
        return f"Ref({self.key!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Ref and other.key == self.key

    def __hash__(self) -> int:
        return hash(("chunkwise.Ref", self.key))

    def __reduce__(self):
        return (Ref, (self.key,))

    def __chunkwise_tokenize__(self) -> tuple:
        return ("chunkwise.Ref", self.key)


# --- argument parsing -------------------------------------------------------
#
# ``_parse`` turns one argument into either a literal (returned as it is) or a
# resolver: an object with a ``resolve(results)`` method and its dependencies.
# It runs once per task at construction.


class ListArg:
    """A list/tuple/set argument holding references: resolved item by item when the task runs."""

    __slots__ = ("items", "kind", "refs_only")

    def __init__(self, items: list, kind: type, refs_only: bool | None = None):
        self.items = items
        self.kind = kind
        # every item a Ref (a sum over 10**6 results): resolved by position in one C-level map
        self.refs_only = all(type(item) is Ref for item in items) if refs_only is None else refs_only

    def resolve(self, results: Mapping) -> Any:
        # references, the common item (a sum over 10**6 results), without a call each
        out = [results[item.key] if type(item) is Ref else _resolve(item, results) for item in self.items]
        return out if self.kind is list else self.kind(out)

    def resolve_at(self, values: list, positions: Iterator[int]) -> Any:
        """Resolved by position: each reference, in order, reads ``values[next(positions)]``."""
        if self.refs_only:
            out = list(map(values.__getitem__, islice(positions, len(self.items))))
        else:
            out = [
                values[next(positions)] if type(item) is Ref else _resolve_at(item, values, positions)
                for item in self.items
            ]
        return out if self.kind is list else self.kind(out)


class DictArg:
    """A dict argument whose values hold references: resolved value by value when the task runs."""

    __slots__ = ("items",)

    def __init__(self, items: dict):
        self.items = items

    def resolve(self, results: Mapping) -> dict:
        return {k: _resolve(v, results) for k, v in self.items.items()}

    def resolve_at(self, values: list, positions: Iterator[int]) -> dict:
        return {k: _resolve_at(v, values, positions) for k, v in self.items.items()}


def _resolve(arg: Any, results: Mapping) -> Any:
    tp = type(arg)
    if tp is Ref:
        return results[arg.key]
    if tp is ListArg or tp is DictArg:
        return arg.resolve(results)
    if tp is Task:
        return arg(results)
    return arg


def _resolve_at(arg: Any, values: list, positions: Iterator[int]) -> Any:
    """``_resolve`` by position: references are read in the order of :meth:`Task.reference_keys`."""
    tp = type(arg)
    if tp is Ref:
        return values[next(positions)]
    if tp is ListArg or tp is DictArg:
        return arg.resolve_at(values, positions)
    if tp is Task:
        return arg._call_at(values, positions)
    return arg


def _reference_keys(arg: Any, out: list) -> None:
    """Append the keys ``arg`` references, in the order ``_resolve_at`` reads them."""
    tp = type(arg)
    if tp is Ref:
        out.append(arg.key)
    elif tp is ListArg:
        if arg.refs_only:
            out.extend([item.key for item in arg.items])
        else:
            for item in arg.items:
                if type(item) is Ref:
                    out.append(item.key)
                else:
                    _reference_keys(item, out)
    elif tp is DictArg:
        for item in arg.items.values():
            _reference_keys(item, out)
    elif tp is Task:
        arg._reference_keys_into(out)


def _parse(arg: Any, deps: set) -> tuple[Any, bool]:
    """Return (parsed argument, needs resolving), adding keys it references to ``deps``."""
    tp = type(arg)
    if tp is Ref:
        deps.add(arg.key)
        return arg, True
    if tp is Task:
        deps.update(arg.dependencies)
        return arg, True
    if tp is list or tp is tuple:
        parsed: list = []
        append = parsed.append
        add = deps.add
        dynamic = changed = False
        refs_only = True
        for item in arg:
            itp = type(item)
            if itp is Ref:  # a list of 10**6 references: no call per item
                add(item.key)
                append(item)
                dynamic = True
                continue
            refs_only = False
            if itp is int or itp is float or itp is str:
                append(item)
                continue
            value, is_dynamic = _parse(item, deps)
            append(value)
            dynamic = dynamic or is_dynamic
            changed = changed or value is not item
        if not dynamic:
            return (tp(parsed) if changed else arg), False
        return ListArg(parsed, tp, refs_only), True
    if tp is dict:
        parsed_dict = {}
        dynamic = changed = False
        for k, item in arg.items():
            value, is_dynamic = _parse(item, deps)
            parsed_dict[k] = value
            dynamic = dynamic or is_dynamic
            changed = changed or value is not item
        if not dynamic:
            return (parsed_dict if changed else arg), False
        return DictArg(parsed_dict), True
    if tp is DataNode:
        return arg.value, False
    return arg, False


_NESTING: frozenset[type] = frozenset({list, tuple, dict})  # also Task and DataNode, added below

# Shared by every task without keyword arguments or dependencies (most of a
# large graph): an empty dict and an empty frozenset cost 64 and 216 bytes each.
# Neither is ever mutated: a task's ``kwargs`` and ``dependencies`` are read-only.
_NO_KWARGS: dict = {}
_NO_DEPENDENCIES: frozenset = frozenset()


class Task:
    """A call of ``func(*args, **kwargs)`` whose arguments may reference other keys.

    A task nested inside another task's arguments names no result: its ``key``
    is ``None`` or, after fusion, the key of the task it was.
    Dependencies are found once, here; calling the task with a mapping of
    results resolves only the argument positions that hold references.

    >>> from operator import mul
    >>> t = Task("y", mul, Ref("x"), 3)
    >>> t.dependencies
    frozenset({'x'})
    >>> t({"x": 2})
    6
    """

    __slots__ = ("args", "dependencies", "func", "key", "kwargs", "_dyn_args", "_dyn_kwargs")

    key: Hashable
    func: Callable
    args: tuple
    kwargs: dict
    dependencies: frozenset
    _dyn_args: list[int] | None  # positions of ``args`` that hold references
    _dyn_kwargs: list[str] | None  # names of ``kwargs`` that hold references

    def __init__(self, key: Hashable, func: Callable, /, *args: Any, **kwargs: Any):
        if not callable(func):
            raise TypeError(f"Task {key!r}: func must be callable, got {type(func).__name__}")
        self.key = key
        self.func = func
        deps: set = set()
        parsed_args = None
        dyn_args = None
        for i, arg in enumerate(args):
            tp = type(arg)
            if tp is Ref:
                deps.add(arg.key)
                value, dynamic = arg, True
            elif tp in _NESTING:
                value, dynamic = _parse(arg, deps)
            else:
                continue  # a literal: the common case, nothing to record
            if parsed_args is None:
                parsed_args = list(args)
            parsed_args[i] = value
            if dynamic:
                if dyn_args is None:
                    dyn_args = []
                dyn_args.append(i)
        dyn_kwargs = None
        parsed_kwargs = kwargs if kwargs else _NO_KWARGS
        if kwargs:
            parsed_kwargs = dict(kwargs)
            for name, arg in kwargs.items():
                value, dynamic = _parse(arg, deps)
                if dynamic:
                    parsed_kwargs[name] = value
                    if dyn_kwargs is None:
                        dyn_kwargs = []
                    dyn_kwargs.append(name)
                elif value is not arg:
                    parsed_kwargs[name] = value
        self.args = args if parsed_args is None else tuple(parsed_args)
        self.kwargs = parsed_kwargs
        self._dyn_args = dyn_args
        self._dyn_kwargs = dyn_kwargs
        self.dependencies = frozenset(deps) if deps else _NO_DEPENDENCIES

    @classmethod
    def from_call(cls, key: Hashable, func: Callable, args: tuple, kwargs: dict) -> Task:
        """``Task(key, func, *args, **kwargs)``, keeping the tuple ``args`` when it holds only literals.

        For builders that already hold a call's arguments as a tuple (a delayed
        call): the common task of literal arguments shares that tuple instead of
        copying it.

        >>> t = Task.from_call("y", divmod, (7, 2), {})
        >>> t({}), t.dependencies
        ((3, 1), frozenset())
        """
        if kwargs or type(args) is not tuple:
            return cls(key, func, *args, **kwargs)
        nesting = _NESTING
        for arg in args:
            tp = type(arg)
            if tp is Ref or tp in nesting:
                return cls(key, func, *args)
        if not callable(func):
            raise TypeError(f"Task {key!r}: func must be callable, got {type(func).__name__}")
        new = cls.__new__(cls)
        new.key = key
        new.func = func
        new.args = args
        new.kwargs = _NO_KWARGS
        new._dyn_args = None
        new._dyn_kwargs = None
        new.dependencies = _NO_DEPENDENCIES
        return new

    def __call__(self, results: Mapping) -> Any:
        dyn = self._dyn_args
        args: tuple | list
        if dyn is None:
            args = self.args
        else:
            args = list(self.args)
            for i in dyn:
                args[i] = _resolve(args[i], results)
        if self.kwargs:
            kwargs = self.kwargs
            if self._dyn_kwargs is not None:
                kwargs = dict(kwargs)
                for name in self._dyn_kwargs:
                    kwargs[name] = _resolve(kwargs[name], results)
            return self.func(*args, **kwargs)
        return self.func(*args)

    def reference_keys(self) -> list:
        """The keys this task's references name, in the order :meth:`call_at` reads them.

        A key referenced twice appears twice; nested tasks' references are
        included where they sit.

        >>> from operator import add
        >>> Task("z", add, Ref("x"), [Ref("y"), Ref("x"), 3]).reference_keys()
        ['x', 'y', 'x']
        """
        out: list = []
        self._reference_keys_into(out)
        return out

    def _reference_keys_into(self, out: list) -> None:
        if self._dyn_args is not None:
            args = self.args
            for i in self._dyn_args:
                _reference_keys(args[i], out)
        if self._dyn_kwargs is not None:
            kwargs = self.kwargs
            for name in self._dyn_kwargs:
                _reference_keys(kwargs[name], out)

    def call_at(self, values: list, positions: Any) -> Any:
        """Run the task reading its inputs by position instead of by key.

        ``positions`` gives, for each key of :meth:`reference_keys` in order,
        where its result is in ``values`` (``None`` when the task references
        nothing, one ``int`` for one reference). The scheduler numbers the tasks
        once and runs them this way: no lookup in a map of every result.

        >>> t = Task("z", dict, a=Ref("x"), b=[Ref("y"), Ref("x"), 3])
        >>> t.reference_keys()
        ['x', 'y', 'x']
        >>> t.call_at([5, 7], [1, 0, 1])
        {'a': 7, 'b': [5, 7, 3]}
        >>> t.call_at([5, 7], [1, 0, 1]) == t({"x": 7, "y": 5})
        True
        """
        if positions is None:  # nothing to read (nested tasks of literals at most)
            return self(_NO_KWARGS)
        if type(positions) is int:
            positions = (positions,)
        return self._call_at(values, iter(positions))

    def _call_at(self, values: list, positions: Iterator[int]) -> Any:
        dyn = self._dyn_args
        args: tuple | list
        if dyn is None:
            args = self.args
        else:
            args = list(self.args)
            for i in dyn:
                args[i] = _resolve_at(args[i], values, positions)
        if self.kwargs:
            kwargs = self.kwargs
            if self._dyn_kwargs is not None:
                kwargs = dict(kwargs)
                for name in self._dyn_kwargs:
                    kwargs[name] = _resolve_at(kwargs[name], values, positions)
            return self.func(*args, **kwargs)
        return self.func(*args)

    def substitute(self, key: Hashable | None = None, inline: Mapping | None = None) -> Task:
        """A copy of this task, renamed to ``key`` and with ``Ref(k)`` replaced by ``inline[k]``.

        Used by fusion: a dependency's task is put in place of the reference to it.
        """
        new_key = self.key if key is None else key
        if not inline:
            return Task(new_key, self.func, *_unparse(self.args), **_unparse_kwargs(self.kwargs))
        args = [_substitute(a, inline) for a in _unparse(self.args)]
        kwargs = {k: _substitute(v, inline) for k, v in _unparse_kwargs(self.kwargs).items()}
        return Task(new_key, self.func, *args, **kwargs)

    def inline(self, replacements: Mapping, in_place: bool = False) -> Task:
        """A copy with each ``Ref(k)`` for ``k`` in ``replacements`` replaced by that node.

        Unlike :meth:`substitute` it does not re-parse the arguments: only the
        positions recorded as holding references are visited. ``in_place=True``
        completes this task itself instead of copying it: only for a task nobody
        else holds yet (lowering does this with the tasks it has just built).

        >>> from operator import add
        >>> t = Task("y", add, Ref("x"), 1).inline({"x": Task("x", add, 1, 1)})
        >>> t.dependencies, t({})
        (frozenset(), 3)
        """
        new = self if in_place else Task.__new__(Task)
        new.key = self.key
        new.func = self.func
        args = self.args
        if self._dyn_args is not None:
            new_args = list(args)
            for i in self._dyn_args:
                new_args[i] = _inline_arg(new_args[i], replacements)
            args = tuple(new_args)
        kwargs = self.kwargs
        if self._dyn_kwargs is not None:
            kwargs = dict(kwargs)
            for name in self._dyn_kwargs:
                kwargs[name] = _inline_arg(kwargs[name], replacements)
        new.args = args
        new.kwargs = kwargs
        new._dyn_args = self._dyn_args
        new._dyn_kwargs = self._dyn_kwargs
        deps = set(self.dependencies)
        for key, node in replacements.items():
            if key in deps:
                deps.discard(key)
                deps.update(node.dependencies)
        new.dependencies = frozenset(deps)
        return new

    def __repr__(self) -> str:
        name = getattr(self.func, "__name__", type(self.func).__name__)
        args = ", ".join(repr(a) for a in _unparse(self.args))
        if self.kwargs:
            kw = ", ".join(f"{k}={v!r}" for k, v in _unparse_kwargs(self.kwargs).items())
            args = f"{args}, {kw}" if args else kw
        return f"Task({self.key!r}, {name}({args}))"

    def __reduce__(self):
        return (_rebuild_task, (self.key, self.func, _unparse(self.args), _unparse_kwargs(self.kwargs)))


def _rebuild_task(key, func, args, kwargs):
    return Task(key, func, *args, **kwargs)


def _inline_arg(arg: Any, replacements: Mapping) -> Any:
    tp = type(arg)
    if tp is Ref:
        node = replacements.get(arg.key)
        if node is None:
            return arg
        return node.value if type(node) is DataNode else node
    if tp is ListArg:
        return ListArg([_inline_arg(item, replacements) for item in arg.items], arg.kind)
    if tp is DictArg:
        return DictArg({k: _inline_arg(v, replacements) for k, v in arg.items.items()})
    if tp is Task:
        if arg.dependencies.isdisjoint(replacements):
            return arg
        return arg.inline(replacements)
    return arg


def _unparse(arg: Any) -> Any:
    """The argument as the user wrote it: resolvers turned back into containers of Refs."""
    tp = type(arg)
    if tp is tuple:
        return tuple(_unparse(a) for a in arg)
    if tp is ListArg:
        items = [_unparse(a) for a in arg.items]
        return items if arg.kind is list else arg.kind(items)
    if tp is DictArg:
        return {k: _unparse(v) for k, v in arg.items.items()}
    return arg


def _unparse_kwargs(kwargs: dict) -> dict:
    return {k: _unparse(v) for k, v in kwargs.items()} if kwargs else {}


def _substitute(arg: Any, inline: Mapping) -> Any:
    tp = type(arg)
    if tp is Ref:
        return inline.get(arg.key, arg)
    if tp is list or tp is tuple:
        return tp(_substitute(a, inline) for a in arg)
    if tp is dict:
        return {k: _substitute(v, inline) for k, v in arg.items()}
    if tp is Task:
        if arg.dependencies.isdisjoint(inline):
            return arg
        return arg.substitute(None, inline)
    return arg


class DataNode:
    """A literal value stored in the graph under ``key``.

    >>> DataNode("x", 42)({})
    42
    """

    __slots__ = ("key", "value")

    dependencies: frozenset = frozenset()

    def __init__(self, key: Hashable, value: Any):
        self.key = key
        self.value = value

    def __call__(self, results: Mapping | None = None) -> Any:
        return self.value

    def reference_keys(self) -> list:
        return []

    def call_at(self, values: list, positions: Any = None) -> Any:
        return self.value

    def substitute(self, key: Hashable | None = None, inline: Mapping | None = None) -> DataNode:
        return DataNode(self.key if key is None else key, self.value)

    def __repr__(self) -> str:
        text = repr(self.value)
        if len(text) > 60:
            text = text[:57] + "..."
        return f"DataNode({self.key!r}, {text})"

    def __reduce__(self):
        return (DataNode, (self.key, self.value))


_NESTING = _NESTING | {Task, DataNode}

Node = Task | DataNode
