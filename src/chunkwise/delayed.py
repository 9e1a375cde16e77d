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

Design: a delayed call is one :class:`DelayedCall` node that holds the task's
arguments with each dependency already replaced by a :class:`Ref` to its key.
Lowering a call is therefore building one ``Task``; the node has no rewrite
rules, and :mod:`chunkwise.base` neither simplifies nor re-walks delayed nodes
(``_keeps_dependency_keys``): only the other collections they depend on are
optimized. An impure call's key is a per-process random prefix plus a counter,
so building a call costs no hashing at all.

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
        return f"{self.prefix}{next(self.counter):016x}"


_unique = _UniqueNames()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unique.reset)


# --- arguments ----------------------------------------------------------------

_ATOMS = frozenset({int, float, str, bool, bytes, type(None), complex, range})


def _to_arg(obj: Any, deps: dict[str, Expr]) -> Any:
    """``obj`` with each nested collection replaced by a reference to its result.

    The collections found are added to ``deps`` (by expression name). Containers
    without collections come back as they are (the same object).
    """
    tp = type(obj)
    if tp is Delayed:
        expr = obj._expr
        deps[expr.name] = expr
        return Ref(expr.key)
    if tp in _ATOMS:
        return obj
    if isinstance(obj, Collection):
        expr = obj._finalize()
        deps[expr.name] = expr
        return Ref(expr.key)
    if tp is list or tp is tuple:
        items = []
        append = items.append
        changed = False
        for item in obj:  # a list of a million Delayed values: no call per item
            if type(item) is Delayed:
                expr = item._expr
                deps[expr.name] = expr
                append(Ref(expr.key))
                changed = True
            else:
                arg = _to_arg(item, deps)
                append(arg)
                changed = changed or arg is not item
        if not changed:
            return obj
        return items if tp is list else tuple(items)
    if tp is dict:
        values = {k: _to_arg(v, deps) for k, v in obj.items()}
        if all(values[k] is v for k, v in obj.items()):
            return obj
        return values
    if tp is set or tp is frozenset:
        items = [_to_arg(item, deps) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return Task(None, tp, items)
    if tp is slice:
        parts = [_to_arg(p, deps) for p in (obj.start, obj.stop, obj.step)]
        if parts[0] is obj.start and parts[1] is obj.stop and parts[2] is obj.step:
            return obj
        return Task(None, slice, *parts)
    if isinstance(obj, tuple) and hasattr(tp, "_fields"):  # a namedtuple
        items = [_to_arg(item, deps) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return Task(None, tp, *items)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [f for f in dataclasses.fields(obj) if f.init and hasattr(obj, f.name)]
        values = {f.name: getattr(obj, f.name) for f in fields}
        parsed = {k: _to_arg(v, deps) for k, v in values.items()}
        if all(parsed[k] is v for k, v in values.items()):
            return obj
        return Task(None, tp, **parsed)
    return obj


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
    """A call ``func(*args, **kwargs)``; ``args`` hold references to its ``deps``.

    ``func`` is a callable, or an expression whose value is the callable;
    ``deps`` lists every expression referenced (``func`` included).
    """

    _parameters = ("func", "args", "kwargs", "deps")
    _keeps_dependency_keys = True
    _stages = ()  # delayed values run as they are built: no optimization stages

    def __init__(self, func: Any, args: tuple, kwargs: dict, deps: tuple, name: str):
        # A million calls make a million nodes, each alive until computed: the
        # operands and the name are plain attributes of one small object, with no
        # operands tuple (72 bytes, and one more object for the cyclic garbage
        # collector to walk) and no ``__dict__`` of its own.
        self._func = func
        self._args = args
        self._kwargs = kwargs
        self._deps = deps
        self.name = name

    @property
    def operands(self) -> tuple:  # type: ignore[override]
        return (self._func, self._args, self._kwargs, self._deps)

    def dependencies(self) -> list[Expr]:
        return list(self._deps)

    def with_operands(self, operands: list) -> Expr:
        # Rewrites of the dependencies keep their keys, so the references stay valid.
        return self

    def _task(self, key: Hashable) -> Task:
        func = self._func
        if isinstance(func, Expr):
            return Task(key, _call, func.ref(), self._args, self._kwargs)
        return Task.from_call(key, func, self._args, self._kwargs)

    def _explain_line(self) -> str:
        func = self._func
        text = func.name if isinstance(func, Expr) else _funcname(func)
        return f"Call: {text}"


def _call(func: Callable, args: tuple, kwargs: dict) -> Any:
    return func(*args, **kwargs)


def _call_method(obj: Any, attr: str, /, *args: Any, **kwargs: Any) -> Any:
    return getattr(obj, attr)(*args, **kwargs)


def _identity(x: Any) -> Any:
    return x


# --- the collection -------------------------------------------------------------

_set_expr = Collection._expr.__set__  # type: ignore[attr-defined]


class Delayed(Collection):
    """A lazy value: the result of delayed calls, attribute lookups and operators.

    ``nout`` (when known) is the length of the value, so it can be unpacked.
    Matches Dask's ``Delayed``: ``key``, ``compute``, ``persist``,
    ``visualize``; truth testing and iteration of unknown length raise
    ``TypeError``; attributes cannot be set.
    """

    __slots__ = ("_nout", "_pure")

    # NumPy operators defer to ours: ``array + delayed`` is a Delayed, not an
    # object array of Delayeds.
    __array_ufunc__ = None

    def __init__(self, expr: Expr, nout: int | None = None, pure: bool | None = None):
        _set_expr(self, expr)
        _set_nout(self, nout)
        _set_pure(self, pure)

    @property
    def key(self) -> Hashable:
        """The key of this value in the task graph."""
        return self._expr.key

    def _rebuild(self, expr: Expr) -> Delayed:
        return Delayed(expr, self._nout, self._pure)

    def __reduce__(self):
        return (Delayed, (self._expr, self._nout, self._pure))

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
        self, *args: Any, pure: bool | None = None, dask_key_name: Hashable | None = None, **kwargs: Any
    ) -> Delayed:
        expr = self._expr
        if type(expr) is DelayedLeaf and callable(expr.operands[0]):
            # a wrapped function: the call embeds the function itself
            return _delayed_call(
                expr.operands[0], args, kwargs, self._pure if pure is None else pure, dask_key_name, self._nout
            )
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


def _new_delayed(expr: Expr, nout: int | None = None, pure: bool | None = None) -> Delayed:
    out = object.__new__(Delayed)
    _set_expr(out, expr)
    _set_nout(out, nout)
    _set_pure(out, pure)
    return out


class _DelayedAttr(Delayed):
    """``obj.attr``: a Delayed that, when called, makes one ``obj.attr(*args)`` task."""

    __slots__ = ("_obj", "_attr")

    def __init__(self, obj: Delayed, attr: str):
        expr = _delayed_call(getattr, (obj, attr), {}, True, None, None, "getattr")._expr
        super().__init__(expr)
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_attr", attr)

    def __reduce__(self):
        return (Delayed, (self._expr, self._nout, self._pure))

    def __call__(
        self, *args: Any, pure: bool | None = None, dask_key_name: Hashable | None = None, **kwargs: Any
    ) -> Delayed:
        return _delayed_call(
            _call_method, (self._obj, self._attr, *args), kwargs, pure, dask_key_name, None, self._attr
        )


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
    deps: dict[str, Expr] = {}
    atoms = _ATOMS
    for a in args:
        if type(a) not in atoms:
            task_args = tuple([_to_arg(a, deps) for a in args])
            break
    else:  # only literals (the common leaf call): the tuple is the task's arguments
        task_args = args
    task_kwargs = {k: _to_arg(v, deps) for k, v in kwargs.items()} if kwargs else _NO_KWARGS
    func_operand: Any = func
    if isinstance(func, Delayed):
        func_operand = func._expr
        deps[func_operand.name] = func_operand
    if name is None:
        label = funcname or ("call" if isinstance(func, Delayed) else _funcname(func))
        if pure is None:
            pure = config.get("delayed_pure", False)
        if pure:
            name = f"{label}-{tokenize(func, args, kwargs)}"
        else:
            name = f"{label}-{_unique()}"
    expr = DelayedCall(func_operand, task_args, task_kwargs, tuple(deps.values()) if deps else (), name)
    return _new_delayed(expr, nout)


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
        deps: dict[str, Expr] = {}
        arg = _to_arg(obj, deps)
        if deps:
            if name is None:
                name = f"{type(obj).__name__}-{tokenize(obj)}"
            expr = DelayedCall(_identity, (arg,), {}, tuple(deps.values()), name)
            return _new_delayed(expr, nout)
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
