"""``chunkwise.delayed``: lazy calls of ordinary Python functions.

Wrap a function, call it, and nothing runs: you get a :class:`Delayed`
standing for the result. Calls on delayed values, their attributes, items and
operators are delayed too. Delayed values (and other collections) nested in
lists, tuples, dicts, sets, slices, namedtuples and dataclasses given as
arguments become dependencies. ``.compute()`` runs the graph;
``chunkwise.compute(a, b)`` computes several at once, sharing the work they
have in common.

As in Dask, a call's key is unique unless the call is ``pure`` (then it is a
token of the function and its arguments, so the same call made twice is
computed once); ``delayed(value)`` always names the value by its token.

Design: a delayed call is one object, the :class:`Delayed` itself. Its slots
hold the function, the arguments as given (containers that hold collections
are copied, so later changes to them do not leak in; the collections stay in
place), the keyword arguments and the key. Nothing else is made per call: no
expression node, no ``Ref`` per dependency. A million calls built in a user's
loop are a million objects for the cyclic garbage collector to walk, not two
or three million. The expression of a call (``Delayed.expr``) is a light
:class:`DelayedCall` view made on demand; lowering a call builds its one
``Task``, replacing each collection by a ``Ref`` to its key, and lists the
call's dependencies in the same walk. :mod:`chunkwise.base` neither simplifies
nor re-walks delayed nodes (``_keeps_dependency_keys``): only the other
collections they depend on are optimized. An impure call's key is a
per-process random prefix plus a counter, so building a call costs no hashing
at all; it is drawn when something first asks for it (lowering, ``.key``,
pickling), so the user's loop makes no key string per call. A call of one
literal argument (``delayed(inc)(i)``) keeps that argument itself, without the
tuple Python packs it in. So while the user's loop runs, a leaf call is one
object the garbage collector tracks, holding no other object of its own: the
collector's full passes over it (about ten at 10**6 calls) each read one
object, not three.

>>> from operator import add
>>> import chunkwise
>>> from chunkwise import delayed
>>> delayed(add)(4, 4).compute()
8
>>> @delayed(pure=True)
... def inc(x):
...     return x + 1
>>> total = delayed(sum)([inc(i) for i in range(10)])
>>> total.compute()
55
>>> (inc(1) * 10 + 1).compute()
21
>>> d = delayed({"a": [1, 2, 3]})
>>> d["a"][1].compute()
2
>>> q, r = delayed(divmod, nout=2)(17, 5)
>>> chunkwise.compute(q, r)
(3, 2)
>>> delayed("a-b").split("-").compute()
['a', 'b']
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
import os
import threading
import uuid
from collections.abc import Callable, Hashable
from types import FunctionType
from typing import Any

from chunkwise import config
from chunkwise.base import Collection
from chunkwise.core.expr import Expr
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.core.tokenize import tokenize

__all__ = ["Delayed", "delayed"]


# --- names --------------------------------------------------------------------


def _funcname(func: Any) -> str:
    """The label of a call's key, as Dask spells it (``lambda`` for lambdas)."""
    while isinstance(func, functools.partial):
        func = func.func
    name = getattr(func, "__name__", None)
    if not isinstance(name, str):
        name = type(func).__name__
    if name == "<lambda>":
        return "lambda"
    return name[:50]


class _UniqueNames:
    """Unique key suffixes without hashing: a random per-process prefix and a counter.

    The prefix is drawn again in a forked child, so processes never share names.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = uuid.uuid4().hex[:16]
        self.counter = itertools.count()

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"  # next() is atomic: no lock


_unique = _UniqueNames()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unique.reset)

_UNNAMED: Any = object()  # the ``_name`` of an impure call whose key is not drawn yet
_ONE_ARG: Any = object()  # the ``_linked`` of a call whose ``_args`` is its one literal argument
_naming = threading.RLock()  # a key is drawn once, even when threads ask at once


def _reset_naming() -> None:
    """In a forked child: a fresh lock (a thread of the parent may have held it at the fork)."""
    global _naming
    _naming = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_naming)


def _draw_name(value: Delayed) -> str:
    """The key of the call ``value``, drawn now if it has none yet (an impure call's first use).

    An impure call's key only has to be unique and stable, so it is drawn from
    :data:`_unique` when first asked for, not when the call is made.
    """
    with _naming:
        name = value._name
        if name is _UNNAMED:
            name = f"{_label(value._func)}-{_unique()}"
            _set_name(value, name)
        return name


def _label(func: Any) -> str:
    """The label of an impure call's key: the function's name (``call`` for a delayed function)."""
    return "call" if isinstance(func, Delayed) else _funcname(func)


def _name_of(value: Delayed) -> Any:
    """The ``_name`` of ``value``: its key (drawn if need be), or None when it wraps an expression."""
    name = value._name
    return _draw_name(value) if name is _UNNAMED else name


def _args_of(value: Delayed) -> tuple:
    """The positional arguments of the call ``value``, as a tuple."""
    args = value._args
    return (args,) if value._linked is _ONE_ARG else args


# --- arguments ----------------------------------------------------------------

_ATOMS = frozenset({int, float, str, bool, bytes, type(None), complex, range})


class _Rebuild:
    """A container that held collections when the call was made: a copy of it.

    ``kind`` is ``list``, ``tuple`` or ``dict`` (``items``: a list or a dict,
    the collections in place), or a type rebuilt by a task when the call runs:
    ``set``, ``frozenset``, ``slice``, a namedtuple (``items``: a list of parts)
    or a dataclass (``items``: a dict of fields).
    """

    __slots__ = ("items", "kind")

    def __init__(self, kind: type, items: Any):
        self.kind = kind
        self.items = items

    def __reduce__(self):
        return (_Rebuild, (self.kind, self.items))


def _is_linked(captured: Any) -> bool:
    """Whether a captured argument holds a collection (the call depends on it)."""
    tp = type(captured)
    return tp is Delayed or tp is _Rebuild or isinstance(captured, Collection)


def _capture(obj: Any) -> Any:
    """``obj`` as a call keeps it until it is lowered.

    A container holding collections becomes a :class:`_Rebuild` copy of it (so
    later changes to the user's list do not leak in), with the collections in
    place; anything else comes back as it is (the same object).
    """
    tp = type(obj)
    if tp in _ATOMS or tp is Delayed:
        return obj
    if tp is list or tp is tuple:
        items = []
        append = items.append
        atoms = _ATOMS
        linked = False
        for item in obj:  # a list of a million Delayed values: no call per item
            itp = type(item)
            if itp is Delayed:
                linked = True
            elif itp not in atoms:
                item = _capture(item)
                linked = linked or _is_linked(item)
            append(item)
        return _Rebuild(tp, items) if linked else obj
    if isinstance(obj, Collection):
        return obj
    if tp is dict:
        values = {k: _capture(v) for k, v in obj.items()}
        if any(_is_linked(v) for v in values.values()):
            return _Rebuild(dict, values)
        return obj
    if tp is set or tp is frozenset:
        parts = [_capture(item) for item in obj]
    elif tp is slice:
        parts = [_capture(p) for p in (obj.start, obj.stop, obj.step)]
    elif isinstance(obj, tuple) and hasattr(tp, "_fields"):  # a namedtuple
        parts = [_capture(item) for item in obj]
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [f for f in dataclasses.fields(obj) if f.init and hasattr(obj, f.name)]
        values = {f.name: _capture(getattr(obj, f.name)) for f in fields}
        if any(_is_linked(v) for v in values.values()):
            return _Rebuild(tp, values)
        return obj
    else:
        return obj
    if any(_is_linked(p) for p in parts):
        return _Rebuild(tp, parts)
    return obj


def _dependency_ref(value: Delayed, deps: list) -> Ref:
    """A reference to ``value``'s key; ``value`` (a call) or its expression is added to ``deps``."""
    name = value._name
    if name is not None:
        if name is _UNNAMED:
            name = _draw_name(value)
        deps.append(value)
        return Ref(name)
    expr = _get_expr(value)
    deps.append(expr)
    return Ref(expr.key)


def _lower_arg(obj: Any, deps: list) -> Any:
    """A captured argument as a task holds it: each collection a ``Ref`` to its
    result; a rebuilt type a ``Task`` building it. What it references is added
    to ``deps``: a delayed call as itself (no expression view), anything else
    as its expression."""
    tp = type(obj)
    if tp is Delayed:
        return _dependency_ref(obj, deps)
    if tp is _Rebuild:
        kind = obj.kind
        items = obj.items
        if kind is list or kind is tuple:
            out = _lower_items(items, deps)
            return out if kind is list else tuple(out)
        if kind is dict:
            return {k: _lower_arg(v, deps) for k, v in items.items()}
        if type(items) is dict:  # a dataclass
            return Task(None, kind, **{k: _lower_arg(v, deps) for k, v in items.items()})
        parts = [_lower_arg(p, deps) for p in items]
        if kind is set or kind is frozenset:
            return Task(None, kind, parts)
        return Task(None, kind, *parts)  # a slice or a namedtuple
    if isinstance(obj, Delayed):
        return _dependency_ref(obj, deps)
    if isinstance(obj, Collection):
        expr = obj._finalize()
        deps.append(expr)
        return Ref(expr.key)
    return obj


def _lower_items(items: list, deps: list) -> list:
    """The items of a captured list as a task holds them (see :func:`_lower_arg`).

    A call on a list of 10**6 leaves: the common item, a delayed call, is
    handled inline, and the keys not drawn yet are drawn here, in the same
    pass over the calls, under one hold of the naming lock (each label looked
    up once per run of calls of the same function).
    """
    out: list = []
    append = out.append
    push = deps.append
    with _naming:
        counter = _unique.counter
        tail = f"-{_unique.prefix}%016x"
        last: Any = _UNNAMED
        pattern = ""
        for item in items:
            if type(item) is Delayed:
                name = item._name
                if name is not None:
                    if name is _UNNAMED:
                        func = item._func
                        if func is not last:
                            last = func
                            pattern = _label(func).replace("%", "%%") + tail
                        name = pattern % next(counter)
                        _set_name(item, name)
                    push(item)
                    append(Ref(name))
                    continue
            append(_lower_arg(item, deps))
    return out


# --- expressions ----------------------------------------------------------------


class DelayedLeaf(Expr):
    """A value (or function) held in the graph as it is.

    Its name is the token of the value, computed only when first needed (a
    wrapped function that is only called never needs it).
    """

    _parameters = ("value", "nout")
    _keeps_dependency_keys = True
    _stages = ()  # delayed values run as they are built: no optimization stages

    def __init__(self, value: Any, nout: int | None = None, name: str | None = None):
        self.operands = [value, nout]
        if name is not None:
            self.name = name

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        value = self.operands[0]
        label = _funcname(value) if callable(value) else type(value).__name__
        return f"{label}-{tokenize(value, self.operands[1])}"

    def with_operands(self, operands: list) -> Expr:
        return self

    def dependencies(self) -> list[Expr]:
        return []

    def _task(self, key: Hashable) -> DataNode:
        return DataNode(key, self.operands[0])

    def _explain_line(self) -> str:
        return f"Value: {type(self.operands[0]).__name__}"


class DelayedCall(Expr):
    """The expression of a delayed call: a view of the :class:`Delayed` that holds it.

    The call's data lives in the ``Delayed`` (one object per call); this view
    is made when an expression is asked for and holds nothing else. Lowering
    it builds the call's task and lists its dependencies in one walk
    (:meth:`_task_and_dependencies`).
    """

    __slots__ = ("_delayed",)

    _parameters = ("func", "args", "kwargs", "deps")
    _keeps_dependency_keys = True
    _stages = ()  # delayed values run as they are built: no optimization stages

    def __init__(self, value: Delayed):
        self._delayed = value

    @property
    def name(self) -> str:  # type: ignore[override]
        return _name_of(self._delayed)

    @property
    def operands(self) -> tuple:  # type: ignore[override]
        value = self._delayed
        func = value._func
        deps = self.dependencies()
        if isinstance(func, Delayed):
            func = func._expr
        return (func, _args_of(value), value._kwargs, tuple(deps))

    def dependencies(self) -> list[Expr]:
        deps = self._task_and_dependencies(self.name)[1]
        return list({expr.name: expr for expr in deps}.values())  # each once, in order

    def with_operands(self, operands: list) -> Expr:
        # Rewrites of the dependencies keep their keys, so the references stay valid.
        return self

    def _task(self, key: Hashable) -> Task:
        return self._task_and_dependencies(key)[0]

    def _task_and_dependencies(self, key: Hashable) -> tuple[Task, list[Expr]]:
        """The call's task under ``key`` and the expressions it references (repeats allowed)."""
        task, deps = _call_task(self._delayed, key)
        return task, [_call_expr(d) if isinstance(d, Delayed) else d for d in deps]

    def _explain_line(self) -> str:
        func = self._delayed._func
        text = func.key if isinstance(func, Delayed) else _funcname(func)
        return f"Call: {text}"

    def __reduce__(self):
        return (_call_expr, (self._delayed,))


_new_view = object.__new__
_set_view = DelayedCall._delayed.__set__  # type: ignore[attr-defined]


def _call_expr(value: Delayed) -> DelayedCall:
    """The expression of the delayed call ``value`` (a new view each time)."""
    expr = _new_view(DelayedCall)
    _set_view(expr, value)
    return expr


def _call_task(value: Delayed, key: Hashable) -> tuple[Task, list]:
    """The task of the delayed call ``value`` under ``key``, and what it references:
    delayed calls as themselves, other collections as expressions (repeats allowed)."""
    func = value._func
    args = value._args
    kwargs = value._kwargs
    linked = value._linked
    if linked is _ONE_ARG:  # one literal argument: the common leaf call
        return Task.from_call(key, func, (args,), kwargs), []
    if not linked:  # only literals
        return Task.from_call(key, func, args, kwargs), []
    deps: list = []
    args = tuple([_lower_arg(a, deps) for a in args])
    if kwargs:
        kwargs = {k: _lower_arg(v, deps) for k, v in kwargs.items()}
    if isinstance(func, Delayed):
        return Task(key, _call, _dependency_ref(func, deps), args, kwargs), deps
    return Task.from_call(key, func, args, kwargs), deps


def _lower_calls(exprs: list, graph: dict) -> list[Expr]:
    """Put in ``graph`` the tasks of the delayed values ``exprs`` and of every delayed
    value they reach; return the other expressions they reference (repeats allowed).

    The walk holds the :class:`Delayed` calls themselves: no expression view
    and no name lookup through a property per call (10**6 calls lower in one
    tight loop). This is the ``_lower_region`` of the delayed node types, which
    :func:`chunkwise.base._lower_plan` calls.
    """
    others: list[Expr] = []
    stack: list = list(exprs)
    pop = stack.pop
    push = stack.append
    extend = stack.extend
    from_call = Task.from_call
    while stack:
        item = pop()
        tp = type(item)
        if tp is Delayed or tp is _DelayedAttr:
            name = item._name
            if name is None:  # a Delayed wrapping an expression
                push(_get_expr(item))
                continue
            if name is _UNNAMED:
                name = _draw_name(item)
            if name not in graph:
                linked = item._linked
                if linked is _ONE_ARG:  # one literal argument: the common leaf call
                    graph[name] = from_call(name, item._func, (item._args,), item._kwargs)
                elif linked:
                    graph[name], deps = _call_task(item, name)
                    extend(deps)
                else:  # only literals
                    graph[name] = from_call(name, item._func, item._args, item._kwargs)
        elif tp is DelayedCall:
            push(item._delayed)
        elif tp is DelayedLeaf:
            name = item.name
            if name not in graph:
                graph[name] = item._task(name)
        else:
            others.append(item)
    return others


def _call(func: Callable, args: tuple, kwargs: dict) -> Any:
    return func(*args, **kwargs)


def _call_method(obj: Any, attr: str, /, *args: Any, **kwargs: Any) -> Any:
    return getattr(obj, attr)(*args, **kwargs)


def _identity(x: Any) -> Any:
    return x


# --- the collection -------------------------------------------------------------

_set_expr = Collection._expr.__set__  # type: ignore[attr-defined]
_get_expr = Collection._expr.__get__  # type: ignore[attr-defined]
_NO_ARG: Any = object()  # a call made with no positional argument


class Delayed(Collection):
    """A lazy value: the result of delayed calls, attribute lookups and operators.

    ``nout`` (when known) is the length of the value, so it can be unpacked.
    Matches Dask's ``Delayed``: ``key``, ``compute``, ``persist``,
    ``visualize``; truth testing and iteration of unknown length raise
    ``TypeError``; attributes cannot be set.
    """

    # A delayed call keeps its data here (``_name`` is its key, or _UNNAMED until an
    # impure call's key is first asked for; ``_args`` the argument tuple, or the one
    # literal argument itself when ``_linked`` is _ONE_ARG; the expression slot is
    # unused); any other Delayed wraps an expression (``_name`` is None).
    __slots__ = ("_args", "_func", "_kwargs", "_linked", "_name", "_nout", "_pure")

    # NumPy operators defer to ours: ``array + delayed`` is a Delayed, not an
    # object array of Delayeds.
    __array_ufunc__ = None

    def __init__(self, expr: Expr, nout: int | None = None, pure: bool | None = None):
        _set_expr(self, expr)
        _set_name(self, None)
        _set_nout(self, nout)
        _set_pure(self, pure)

    @property
    def _expr(self) -> Expr:  # type: ignore[override]
        if self._name is not None:
            return _call_expr(self)
        return _get_expr(self)

    @property
    def key(self) -> Hashable:
        """The key of this value in the task graph."""
        name = _name_of(self)
        return name if name is not None else _get_expr(self).key

    def __chunkwise_tokenize__(self) -> str:
        name = _name_of(self)
        return name if name is not None else _get_expr(self).name

    def _rebuild(self, expr: Expr) -> Delayed:
        return Delayed(expr, self._nout, self._pure)

    def __reduce__(self):
        name = _name_of(self)
        if name is not None:
            linked = bool(self._linked) and self._linked is not _ONE_ARG
            return (
                _rebuild_call,
                (self._func, _args_of(self), self._kwargs, name, linked, self._nout, self._pure),
            )
        return (Delayed, (_get_expr(self), self._nout, self._pure))

    def __repr__(self) -> str:
        return f"Delayed({self.key!r})"

    def __hash__(self) -> int:
        return hash(self.key)

    def __dir__(self):
        return sorted(set(dir(type(self))) | {"key", "compute", "persist", "visualize"})

    def __getattr__(self, attr: str) -> Delayed:
        if attr.startswith("_") or attr == "dask":
            # ``dask`` looks for a ``.dask`` graph before calling ``__dask_graph__``
            raise AttributeError(f"Delayed has no attribute {attr!r}")
        if attr == "dtype" and self._nout is None:
            # so NumPy and pandas do not take a Delayed for an array-like
            raise AttributeError("Delayed has no attribute 'dtype'")
        return _DelayedAttr(self, attr)

    def __setattr__(self, attr: str, value: Any) -> None:
        raise TypeError(
            f"Delayed objects are immutable: cannot set attribute {attr!r}; "
            "delay a function that returns a modified copy instead"
        )

    def __delattr__(self, attr: str) -> None:
        raise TypeError(f"Delayed objects are immutable: cannot delete attribute {attr!r}")

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(
            "Delayed objects are immutable: item assignment is not supported; "
            "delay a function that returns a modified copy instead"
        )

    def __call__(
        self,
        arg: Any = _NO_ARG,
        /,
        *args: Any,
        pure: bool | None = None,
        dask_key_name: Hashable | None = None,
        **kwargs: Any,
    ) -> Delayed:
        # ``arg`` is apart from ``args`` so that a call of one argument, the common
        # leaf ``f(i)``, packs no tuple: ``args`` is then Python's shared empty one.
        if self._name is None:
            expr = _get_expr(self)
            if type(expr) is DelayedLeaf and callable(expr.operands[0]):
                # a wrapped function: the call embeds the function itself
                func = expr.operands[0]
                if pure is None:
                    pure = self._pure
                if (
                    type(arg) in _ATOMS
                    and not args
                    and not kwargs
                    and dask_key_name is None
                    and not (config.get("delayed_pure", False) if pure is None else pure)
                ):  # an impure call of one literal: no tuple, no key until asked
                    return _fill_call(
                        _new_object(Delayed), func, arg, _NO_KWARGS, _UNNAMED, _ONE_ARG, self._nout, None
                    )
                if arg is not _NO_ARG:
                    args = (arg, *args)
                return _delayed_call(func, args, kwargs, pure, dask_key_name, self._nout)
        if arg is not _NO_ARG:
            args = (arg, *args)
        return _delayed_call(self, args, kwargs, pure, dask_key_name)

    def __getitem__(self, index: Any) -> Delayed:
        return _delayed_call(operator.getitem, (self, index), {}, True, None, None, "getitem")

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a Delayed is not known until it is computed; "
            "use .compute() first, or delay the if-statement inside a function"
        )

    def __iter__(self):
        if self._nout is None:
            raise TypeError(
                "Delayed objects of unknown length cannot be iterated or unpacked; "
                "pass nout= to delayed(), e.g. delayed(divmod, nout=2), or compute first"
            )
        return iter([self[i] for i in range(self._nout)])

    def __len__(self) -> int:
        if self._nout is None:
            raise TypeError(
                "Delayed objects of unknown length have no len(); pass nout= to delayed(), "
                "e.g. delayed(divmod, nout=2)"
            )
        return self._nout


_set_nout = Delayed._nout.__set__  # type: ignore[attr-defined]
_set_pure = Delayed._pure.__set__  # type: ignore[attr-defined]
_set_name = Delayed._name.__set__  # type: ignore[attr-defined]
_set_func = Delayed._func.__set__  # type: ignore[attr-defined]
_set_args = Delayed._args.__set__  # type: ignore[attr-defined]
_set_kwargs = Delayed._kwargs.__set__  # type: ignore[attr-defined]
_set_linked = Delayed._linked.__set__  # type: ignore[attr-defined]
_new_object = object.__new__


def _new_delayed(expr: Expr, nout: int | None = None, pure: bool | None = None) -> Delayed:
    """A Delayed wrapping ``expr`` (not a call)."""
    out = _new_object(Delayed)
    _set_expr(out, expr)
    _set_name(out, None)
    _set_nout(out, nout)
    _set_pure(out, pure)
    return out


def _fill_call(
    out: Delayed, func: Any, args: tuple, kwargs: dict, name: str, linked: bool, nout: Any, pure: Any
) -> Delayed:
    """Make ``out`` the delayed call ``func(*args, **kwargs)`` under the key ``name``."""
    _set_func(out, func)
    _set_args(out, args)
    _set_kwargs(out, kwargs)
    _set_name(out, name)
    _set_linked(out, linked)
    _set_nout(out, nout)
    _set_pure(out, pure)
    return out


def _rebuild_call(
    func: Any, args: tuple, kwargs: dict, name: str, linked: bool, nout: Any, pure: Any
) -> Delayed:
    """Unpickle a delayed call."""
    return _fill_call(_new_object(Delayed), func, args, kwargs, name, linked, nout, pure)


class _DelayedAttr(Delayed):
    """``obj.attr``: a Delayed that, when called, makes one ``obj.attr(*args)`` task."""

    __slots__ = ("_attr", "_obj")

    def __init__(self, obj: Delayed, attr: str):
        call = _delayed_call(getattr, (obj, attr), {}, True, None, None, "getattr")
        _fill_call(self, call._func, call._args, call._kwargs, call._name, call._linked, None, None)
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_attr", attr)

    def __call__(
        self, *args: Any, pure: bool | None = None, dask_key_name: Hashable | None = None, **kwargs: Any
    ) -> Delayed:
        return _delayed_call(
            _call_method, (self._obj, self._attr, *args), kwargs, pure, dask_key_name, None, self._attr
        )


DelayedLeaf._lower_region = staticmethod(_lower_calls)  # type: ignore[attr-defined]
DelayedCall._lower_region = staticmethod(_lower_calls)  # type: ignore[attr-defined]

_NO_KWARGS: dict = {}  # shared by every call without keywords; never mutated


def _delayed_call(
    func: Any,
    args: tuple,
    kwargs: dict,
    pure: bool | None = None,
    name: Hashable | None = None,
    nout: int | None = None,
    funcname: str | None = None,
) -> Delayed:
    """The Delayed of ``func(*args, **kwargs)``; ``func`` may be a Delayed itself."""
    if name is not None:
        _check_name(name, "dask_key_name")
    linked = False
    atoms = _ATOMS
    for a in args:
        if type(a) not in atoms:
            captured = tuple([_capture(a) for a in args])
            for c in captured:
                if _is_linked(c):
                    linked = True
                    break
            break
    else:  # only literals (the common leaf call): the tuple is the task's arguments
        captured = args
    if kwargs:
        task_kwargs = {k: _capture(v) for k, v in kwargs.items()}
        linked = linked or any(_is_linked(v) for v in task_kwargs.values())
    else:
        task_kwargs = _NO_KWARGS
    func_is_delayed = isinstance(func, Delayed)
    if name is None:
        label = funcname or ("call" if func_is_delayed else _funcname(func))
        if pure is None:
            pure = config.get("delayed_pure", False)
        if pure:
            name = f"{label}-{tokenize(func, args, kwargs)}"
        elif funcname is None:
            name = _UNNAMED  # drawn when first asked for (see _draw_name)
        else:
            name = f"{label}-{_unique()}"
    return _fill_call(
        _new_object(Delayed), func, captured, task_kwargs, name, linked or func_is_delayed, nout, None
    )


_NO_OBJECT: Any = object()

_last_wrapped: tuple = (None, None)  # (function, its Delayed) of the last plain delayed(function)


def _remember_wrapped(func: Callable, wrapped: Delayed) -> None:
    global _last_wrapped
    _last_wrapped = (func, wrapped)  # one assignment: threads see the old pair or the new


def delayed(
    obj: Any = _NO_OBJECT,
    name: Hashable | None = None,
    pure: bool | None = None,
    nout: int | None = None,
    traverse: bool = True,
) -> Any:
    """Wrap a function or a value so that using it builds a lazy graph.

    ``delayed(func)`` returns a delayed function: calling it records the call.
    ``delayed(value)`` returns a :class:`Delayed` holding the value; collections
    inside it (lists, dicts...) become dependencies unless ``traverse=False``.
    ``pure=True`` names calls by a token of their inputs, so equal calls are
    computed once (default: ``chunkwise.config.get("delayed_pure", False)``);
    ``nout`` makes the result unpackable; ``name`` sets the key. Use as
    ``@delayed`` or ``@delayed(pure=True)``. Matches Dask's ``dask.delayed``;
    calls accept ``dask_key_name=`` and ``pure=``.

    >>> from chunkwise import delayed
    >>> delayed(len)([1, 2]).compute()
    2
    >>> delayed(1, name="one").key
    'one'
    """
    if type(obj) is FunctionType and name is None and pure is None and nout is None:
        # ``[delayed(f)(i) for i in ...]`` wraps the same function a million times:
        # the wrapper is immutable, so the last one made is handed out again.
        last = _last_wrapped
        if last[0] is obj:
            return last[1]
        wrapped = _new_delayed(DelayedLeaf(obj))
        _remember_wrapped(obj, wrapped)
        return wrapped
    if nout is not None:
        _check_nout(nout)
    if name is not None:
        _check_name(name, "name")
    if obj is _NO_OBJECT:  # @delayed(pure=True)
        return functools.partial(delayed, name=name, pure=pure, nout=nout, traverse=traverse)
    if isinstance(obj, Delayed):
        return obj
    if isinstance(obj, Collection):
        return _delayed_call(_identity, (obj,), {}, True, name, nout, "finalize")
    if traverse and type(obj) in _TRAVERSED:
        captured = _capture(obj)
        if _is_linked(captured):
            if name is None:
                name = f"{type(obj).__name__}-{tokenize(obj)}"
            return _fill_call(_new_object(Delayed), _identity, (captured,), _NO_KWARGS, name, True, nout, None)
    return _new_delayed(DelayedLeaf(obj, nout, name), nout, pure)


_TRAVERSED = frozenset({list, tuple, dict, set, frozenset, slice})


def _check_name(name: Any, argument: str) -> None:
    if type(name) is not str:
        raise TypeError(
            f"delayed: {argument} must be a str (the key of the result), got {name!r} "
            f"of type {type(name).__name__}"
        )


def _check_nout(nout: Any) -> None:
    if type(nout) is not int or nout < 0:
        raise ValueError(
            f"delayed: nout must be a non-negative int (the number of outputs to unpack), "
            f"got {nout!r} of type {type(nout).__name__}"
        )


# --- operators ----------------------------------------------------------------


def _binary(op: Callable, label: str, reflected: bool = False) -> Callable:
    if reflected:
        def method(self: Delayed, other: Any) -> Delayed:
            return _delayed_call(op, (other, self), {}, True, None, None, label)
    else:
        def method(self: Delayed, other: Any) -> Delayed:
            return _delayed_call(op, (self, other), {}, True, None, None, label)
    return method


def _unary(op: Callable, label: str) -> Callable:
    def method(self: Delayed) -> Delayed:
        return _delayed_call(op, (self,), {}, True, None, None, label)
    return method


for _name in (
    "add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow",
    "lshift", "rshift", "and", "xor", "or",
):
    _op = getattr(operator, _name if _name not in ("and", "or") else _name + "_")
    setattr(Delayed, f"__{_name}__", _binary(_op, _name))
    setattr(Delayed, f"__r{_name}__", _binary(_op, _name, reflected=True))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(Delayed, f"__{_name}__", _binary(getattr(operator, _name), _name))
for _name in ("neg", "pos", "invert", "abs"):
    setattr(Delayed, f"__{_name}__", _unary(getattr(operator, _name), _name))
Delayed.__divmod__ = _binary(divmod, "divmod")  # type: ignore[attr-defined]
Delayed.__rdivmod__ = _binary(divmod, "divmod", reflected=True)  # type: ignore[attr-defined]
del _name, _op
