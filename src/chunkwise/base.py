"""What every collection shares: ``compute``, ``persist``, ``visualize``, ``explain``.

A collection is a thin wrapper around an :class:`~chunkwise.core.expr.Expr`.
It says two things about itself:

- ``_finalize()``: an expression with one output key whose value is the
  collection's computed result (a delayed value is its own; an array adds a
  task that concatenates its chunks);
- ``_rebuild(expr)``: the same kind of collection around another expression
  (``persist`` uses it).

:func:`compute` optimizes all the expressions it is given together, so work
they share is done once, lowers them to one graph, fuses it, and runs it on the
chosen scheduler.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from chunkwise import config
from chunkwise.core import passes
from chunkwise.core.expr import Expr, lower
from chunkwise.core.graph import DataNode
from chunkwise.scheduling import get

__all__ = ["Collection", "Persisted", "compute", "is_collection", "persist", "unpack_collections"]


class Collection:
    """Base of ``Delayed``, ``Array`` and ``DataFrame``: a wrapper around an expression."""

    __slots__ = ("_expr",)

    def __init__(self, expr: Expr):
        object.__setattr__(self, "_expr", expr)

    @property
    def expr(self) -> Expr:
        """The expression this collection wraps."""
        return self._expr

    def _finalize(self) -> Expr:
        """An expression with one output key holding the computed result."""
        return self._expr

    def _rebuild(self, expr: Expr) -> Collection:
        return type(self)(expr)

    def __chunkwise_tokenize__(self) -> str:
        return self._expr.name

    def compute(self, scheduler: Any = None, optimize_graph: bool = True, **kwargs: Any) -> Any:
        """Compute this collection and return the result (NumPy array, pandas object, value).

        ``scheduler``: ``"sync"``, ``"threads"`` (default) or ``"processes"``;
        other keywords (``num_workers``, ``callbacks``) go to the scheduler.
        """
        (result,) = compute(self, scheduler=scheduler, optimize_graph=optimize_graph, **kwargs)
        return result

    def persist(self, scheduler: Any = None, **kwargs: Any) -> Collection:
        """Compute the chunks now and return the same collection backed by them."""
        (result,) = persist(self, scheduler=scheduler, **kwargs)
        return result

    def optimize(self) -> Collection:
        """The same collection around its optimized expression."""
        return self._rebuild(self._expr.optimize())

    def explain(self, show: bool = True) -> str | None:
        """Print the optimized plan as a tree (or return it with ``show=False``)."""
        return self._expr.optimize().explain(show=show)

    def __chunkwise_graph__(self, optimize_graph: bool = True) -> dict:
        """The task graph that computing this collection would run."""
        graph, _ = _graph_of([self], optimize_graph)
        return graph

    def visualize(self, filename: str = "mydask", format: str | None = None, **kwargs: Any):
        """Draw the task graph with graphviz; see :func:`chunkwise.diagnostics.visualize`."""
        from chunkwise.diagnostics import visualize

        return visualize(self, filename=filename, format=format, **kwargs)


def is_collection(obj: Any) -> bool:
    """Whether ``obj`` is a chunkwise collection."""
    return isinstance(obj, Collection)


def unpack_collections(obj: Any, found: dict[str, Collection]) -> Any:
    """Replace the collections nested in lists/tuples/dicts/sets by placeholders.

    Returns a structure where each collection stands as ``_Slot(expr_name)``;
    ``found`` collects the collections by name.
    """
    if isinstance(obj, Collection):
        name = obj._finalize().name
        found.setdefault(name, obj)
        return _Slot(name)
    tp = type(obj)
    if tp in (list, tuple, set, frozenset):
        return tp(unpack_collections(item, found) for item in obj)
    if tp is dict:
        return {k: unpack_collections(v, found) for k, v in obj.items()}
    return obj


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


def _repack(obj: Any, values: Mapping[str, Any]) -> Any:
    tp = type(obj)
    if tp is _Slot:
        return values[obj.name]
    if tp in (list, tuple, set, frozenset):
        return tp(_repack(item, values) for item in obj)
    if tp is dict:
        return {k: _repack(v, values) for k, v in obj.items()}
    return obj


def _graph_of(collections: list[Collection], optimize_graph: bool) -> tuple[dict, list]:
    finals = [c._finalize() for c in collections]
    if optimize_graph:
        memo: dict[str, Expr] = {}
        finals = [_optimize(expr, memo) for expr in finals]
    keys = [expr.key for expr in finals]
    graph = lower(finals, keys)
    if optimize_graph and config.get("optimization.fuse", True):
        graph = passes.fuse_linear(graph, keys)
    return graph, keys


def _optimize(expr: Expr, memo: dict[str, Expr]) -> Expr:
    if expr.name not in memo:
        memo[expr.name] = expr.optimize()
    return memo[expr.name]


def compute(
    *args: Any, scheduler: Any = None, optimize_graph: bool = True, traverse: bool = True, **kwargs: Any
) -> tuple:
    """Compute several collections at once, sharing the work they have in common.

    Collections nested in lists, tuples and dicts are computed too (unless
    ``traverse=False``); other arguments come back as they are.

    >>> import chunkwise
    >>> a = chunkwise.delayed(sum)([1, 2, 3])
    >>> chunkwise.compute(a, {"b": a}, 7)
    (6, {'b': 6}, 7)
    """
    found: dict[str, Collection] = {}
    if traverse:
        packed = [unpack_collections(arg, found) for arg in args]
    else:
        packed = [unpack_collections(arg, found) if is_collection(arg) else arg for arg in args]
    if not found:
        return tuple(args)
    collections = list(found.values())
    graph, keys = _graph_of(collections, optimize_graph)
    results = get(graph, keys, scheduler=scheduler, **kwargs)
    values = {name: result for name, result in zip(found, results)}
    return tuple(_repack(p, values) for p in packed)


class Persisted(Expr):
    """Computed chunks standing in for the expression that produced them.

    Keeps the original expression's metadata (``source``) but not its work: its
    tasks are the stored results, under the same keys.
    """

    _parameters = ("source", "data")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.operands[0].name

    def dependencies(self) -> list[Expr]:
        return []

    def _output_keys(self) -> list:
        return self.operands[0]._output_keys()

    def _owned_names(self):
        return self.operands[0]._owned_names()

    @property
    def key(self) -> Hashable:
        return self.operands[0].key

    def _task(self, key: Hashable) -> DataNode:
        return DataNode(key, self.operands[1][key])

    def chunk_nbytes(self, key: Hashable) -> int | None:
        return self.operands[0].chunk_nbytes(key)

    def _explain_line(self) -> str:
        return f"Persisted: {len(self.operands[1])} chunks of {type(self.operands[0]).__name__}"

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        operands = self.__dict__.get("operands")
        if operands is None:
            raise AttributeError(attr)
        return getattr(operands[0], attr)


def persist(*args: Any, scheduler: Any = None, optimize_graph: bool = True, **kwargs: Any) -> tuple:
    """Compute collections' chunks now; return the same collections backed by them.

    Later computations on the results start from the stored chunks.

    >>> import chunkwise
    >>> a = chunkwise.delayed(sum)([1, 2, 3])
    >>> (b,) = chunkwise.persist(a)
    >>> (b + 1).compute()
    7
    """
    collections = [arg for arg in args if is_collection(arg)]
    if not collections:
        return tuple(args)
    exprs = [c.expr.optimize() if optimize_graph else c.expr for c in collections]
    key_lists = [expr._output_keys() for expr in exprs]
    all_keys = [k for keys in key_lists for k in keys]
    graph = lower(exprs, all_keys)
    if optimize_graph and config.get("optimization.fuse", True):
        graph = passes.fuse_linear(graph, all_keys)
    results = get(graph, all_keys, scheduler=scheduler, **kwargs)
    data = dict(zip(all_keys, results))
    out = []
    it = iter(zip(collections, exprs, key_lists))
    for arg in args:
        if is_collection(arg):
            coll, expr, keys = next(it)
            out.append(coll._rebuild(Persisted(expr, {k: data[k] for k in keys})))
        else:
            out.append(arg)
    return tuple(out)
