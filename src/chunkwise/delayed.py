"""``chunkwise.delayed``: lazy calls of ordinary Python functions.

Wrap a function, call it, and nothing runs: you get a :class:`Delayed`
standing for the result. Calls on delayed values, their attributes, items and
operators are delayed too. Delayed values (and other collections) nested in
lists, tuples, dicts and sets given as arguments become dependencies.
``.compute()`` runs the graph; ``chunkwise.compute(a, b)`` computes several at
once, sharing the work they have in common.

As in Dask, a call's key is random unless the call is ``pure`` (then it is a
token of the function and its arguments, so the same call made twice is
computed once); ``delayed(value)`` always names the value by its token.

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
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from chunkwise import config
from chunkwise.base import Collection, is_collection
from chunkwise.core.expr import Expr
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.core.tokenize import tokenize

__all__ = ["Delayed", "delayed"]


def _funcname(func: Any) -> str:
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "<lambda>":
        return "lambda"
    return str(name).lower()


def _to_arg(obj: Any, deps: dict[str, Expr]) -> Any:
    """``obj`` with each nested collection replaced by a reference to its result."""
    if isinstance(obj, Collection):
        expr = obj._finalize()
        deps.setdefault(expr.name, expr)
        return Ref(expr.key)
    tp = type(obj)
    if tp is list or tp is tuple:
        return tp(_to_arg(item, deps) for item in obj)
    if tp is dict:
        return {k: _to_arg(v, deps) for k, v in obj.items()}
    if tp is set or tp is frozenset:
        items = [_to_arg(item, deps) for item in obj]
        if any(type(i) is Ref for i in items):
            return Task(None, tp, items)
        return obj
    return obj


def _token_or_random(pure: bool, *parts: Any) -> str:
    return tokenize(*parts) if pure else uuid.uuid4().hex


class DelayedLeaf(Expr):
    """A value (or function) held in the graph as it is."""

    _parameters = ("value", "_name")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.operands[1]

    def _task(self, key: Hashable) -> DataNode:
        return DataNode(key, self.operands[0])

    def _explain_line(self) -> str:
        return f"Value: {type(self.operands[0]).__name__}"


class DelayedCall(Expr):
    """A call ``func(*args, **kwargs)``; ``args`` hold references to its ``deps``."""

    _parameters = ("func", "args", "kwargs", "deps", "_name")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.operands[4]

    def dependencies(self) -> list[Expr]:
        deps = list(self.operands[3])
        func = self.operands[0]
        if isinstance(func, Expr):
            deps.append(func)
        return deps

    def with_operands(self, operands: list) -> Expr:
        # Rewrites of the dependencies keep their names, so the references stay valid.
        return self

    def _task(self, key: Hashable) -> Task:
        func, args, kwargs = self.operands[0], self.operands[1], self.operands[2]
        if isinstance(func, Expr):
            return Task(key, _call, func.ref(), args, kwargs)
        return Task(key, func, *args, **kwargs)

    def _explain_line(self) -> str:
        func = self.operands[0]
        text = func.name if isinstance(func, Expr) else _funcname(func)
        return f"Call: {text}"


def _call(func: Callable, args: tuple, kwargs: dict) -> Any:
    return func(*args, **kwargs)


class Delayed(Collection):
    """A lazy value: the result of delayed calls, attribute lookups and operators.

    ``nout`` (when known) is the length of the value, so it can be unpacked.
    """

    __slots__ = ("_nout", "_pure")

    def __init__(self, expr: Expr, nout: int | None = None, pure: bool | None = None):
        super().__init__(expr)
        object.__setattr__(self, "_nout", nout)
        object.__setattr__(self, "_pure", pure)

    @property
    def key(self) -> Hashable:
        """The key of this value in the task graph."""
        return self._expr.key

    def _rebuild(self, expr: Expr) -> Delayed:
        return Delayed(expr, self._nout, self._pure)

    def __repr__(self) -> str:
        return f"Delayed({self.key!r})"

    def __hash__(self) -> int:
        return hash(self.key)

    def __dir__(self):
        return sorted(set(dir(type(self))) | {"key", "compute", "persist", "visualize"})

    def __getattr__(self, attr: str) -> Delayed:
        if attr.startswith("_"):
            raise AttributeError(f"Delayed has no attribute {attr!r}")
        return _delayed_call(getattr, (self, attr), {}, pure=True, funcname=f"getattr-{attr}")

    def __setattr__(self, attr: str, value: Any) -> None:
        raise TypeError(
            f"Delayed objects are immutable: cannot set attribute {attr!r}; "
            "delay a function that returns a modified copy instead"
        )

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError("Delayed objects are immutable: item assignment is not supported")

    def __call__(self, *args: Any, pure: bool | None = None, dask_key_name: str | None = None, **kwargs: Any) -> Delayed:
        expr = self._expr
        if isinstance(expr, DelayedLeaf) and callable(expr.operands[0]):
            func = expr.operands[0]
            pure = self._pure if pure is None else pure
            return _delayed_call(func, args, kwargs, pure=pure, name=dask_key_name, nout=self._nout)
        return _delayed_call(self, args, kwargs, pure=pure, name=dask_key_name)

    def __getitem__(self, index: Any) -> Delayed:
        return _delayed_call(operator.getitem, (self, index), {}, pure=True)

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a Delayed is not known until it is computed; "
            "use .compute() first, or delay the if-statement inside a function"
        )

    def __iter__(self):
        if self._nout is None:
            raise TypeError(
                "Delayed objects of unknown length cannot be iterated; "
                "pass nout= to delayed(), e.g. delayed(divmod, nout=2)"
            )
        return iter(self[i] for i in range(self._nout))

    def __len__(self) -> int:
        if self._nout is None:
            raise TypeError("Delayed objects of unknown length have no len(); pass nout= to delayed()")
        return self._nout


def _delayed_call(
    func: Any,
    args: tuple,
    kwargs: dict,
    pure: bool | None = None,
    name: str | None = None,
    nout: int | None = None,
    funcname: str | None = None,
) -> Delayed:
    if pure is None:
        pure = config.get("delayed_pure", False)
    deps: dict[str, Expr] = {}
    task_args = tuple(_to_arg(a, deps) for a in args)
    task_kwargs = {k: _to_arg(v, deps) for k, v in kwargs.items()}
    func_operand: Any = func
    if isinstance(func, Delayed):
        func_operand = func._expr
    if name is None:
        label = funcname or (
            "call" if isinstance(func, Delayed) else _funcname(func)
        )
        token = _token_or_random(
            pure, func_operand.name if isinstance(func_operand, Expr) else func, task_args, task_kwargs
        )
        name = f"{label}-{token}"
    expr = DelayedCall(func_operand, task_args, task_kwargs, tuple(deps.values()), name)
    return Delayed(expr, nout=nout)


def delayed(
    obj: Any = None,
    name: str | None = None,
    pure: bool | None = None,
    nout: int | None = None,
    traverse: bool = True,
) -> Any:
    """Wrap a function or a value so that using it builds a lazy graph.

    ``delayed(func)`` returns a delayed function: calling it records the call.
    ``delayed(value)`` returns a :class:`Delayed` holding the value; collections
    inside it (lists, dicts...) become dependencies. ``pure=True`` names calls by
    a token of their inputs; ``nout`` makes the result unpackable; ``name`` sets
    the key. Use as ``@delayed`` or ``@delayed(pure=True)``. Matches Dask's
    ``dask.delayed`` (``dask_key_name=`` is accepted by calls).

    >>> from chunkwise import delayed
    >>> delayed(len)([1, 2]).compute()
    2
    """
    if obj is None:
        return lambda func: delayed(func, name=name, pure=pure, nout=nout, traverse=traverse)
    if isinstance(obj, Delayed):
        return obj
    if nout is not None and (type(nout) is not int or nout < 0):
        raise ValueError(f"delayed: nout must be a non-negative int, got {nout!r}")
    if is_collection(obj):
        return _delayed_call(_identity, (obj,), {}, pure=True, name=name, funcname="finalize")
    if traverse and type(obj) in (list, tuple, dict, set, frozenset):
        deps: dict[str, Expr] = {}
        arg = _to_arg(obj, deps)
        if deps:
            return _delayed_call(_identity, (obj,), {}, pure=True, name=name, funcname=type(obj).__name__)
        del arg
    if name is None:
        label = _funcname(obj) if callable(obj) else type(obj).__name__.lower()
        name = f"{label}-{tokenize(obj, nout)}"
    return Delayed(DelayedLeaf(obj, name), nout=nout, pure=pure)


def _identity(x: Any) -> Any:
    return x


# --- operators ----------------------------------------------------------------

def _binary(op: Callable, reflected: bool = False) -> Callable:
    if reflected:
        def method(self: Delayed, other: Any) -> Delayed:
            return _delayed_call(op, (other, self), {}, pure=True)
    else:
        def method(self: Delayed, other: Any) -> Delayed:
            return _delayed_call(op, (self, other), {}, pure=True)
    return method


def _unary(op: Callable) -> Callable:
    def method(self: Delayed) -> Delayed:
        return _delayed_call(op, (self,), {}, pure=True)
    return method


for _name in (
    "add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow",
    "lshift", "rshift", "and", "xor", "or",
):
    _op = getattr(operator, _name if _name not in ("and", "or") else _name + "_")
    setattr(Delayed, f"__{_name}__", _binary(_op))
    setattr(Delayed, f"__r{_name}__", _binary(_op, reflected=True))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(Delayed, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "invert", "abs"):
    setattr(Delayed, f"__{_name}__", _unary(getattr(operator, _name)))
Delayed.__divmod__ = _binary(divmod)  # type: ignore[attr-defined]
Delayed.__rdivmod__ = _binary(divmod, reflected=True)  # type: ignore[attr-defined]
Delayed.__hash__ = lambda self: hash(self.key)  # type: ignore[method-assign]
del _name, _op
