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

import sys
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

from chunkwise import config
from chunkwise.core import passes
from chunkwise.core.collector import gc_paused
from chunkwise.core.expr import Expr, lower, optimize_together
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.scheduling import get, get_distributed, get_scheduler, get_sync, get_threads

__all__ = ["Collection", "Persisted", "compute", "is_collection", "persist", "unpack_collections"]


_DASK_ROOTS: OrderedDict[str, Expr] = OrderedDict()  # name -> optimized expression
_DASK_ROOTS_SIZE = 8


def _remember_root(name: str, root: Expr) -> None:
    """Keep the optimized expression of ``name`` for the next protocol call (a few, LRU)."""
    _DASK_ROOTS[name] = root
    _DASK_ROOTS.move_to_end(name)
    while len(_DASK_ROOTS) > _DASK_ROOTS_SIZE:
        _DASK_ROOTS.popitem(last=False)


def _identity_optimize(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    """``__dask_optimize__``: the graph is optimized already."""
    return dsk


def _dask_scheduler(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    """``__dask_scheduler__``: run a converted graph with ``dask``'s threaded scheduler."""
    from chunkwise.distributed import dask_get

    return dask_get(dsk, keys, **kwargs)


def _first(parts: list) -> Any:
    return parts[0]


def _finalize_parts(parts: list, keys: list, node: Any) -> Any:
    """Run the finalize ``node`` on the block values ``parts`` (those of ``keys``)."""
    if type(node) is DataNode:
        return node.value
    return node(dict(zip(keys, parts)))


def _rebuild_persisted(data: Mapping, collection: Collection, root: Expr, rename: Any = None) -> Collection:
    """``collection`` backed by ``data``: computed blocks, or ``distributed`` futures, by key."""
    if rename:
        raise NotImplementedError("chunkwise collections cannot be rebuilt under new keys (rename=)")
    return collection._rebuild(collection._persisted(root, dict(data)))


def is_future(value: Any) -> bool:
    """Whether ``value`` is a ``distributed.Future`` (without importing ``distributed``)."""
    module = sys.modules.get("distributed")
    return module is not None and isinstance(value, module.Future)


def stored_node(key: Hashable, value: Any) -> DataNode | Task:
    """The graph node of a stored block: its value, or a fetch of it when it is a future."""
    if is_future(value):
        from chunkwise.distributed import future_task

        return future_task(key, value)
    return DataNode(key, value)


class Collection:
    """Base of ``Delayed``, ``Array`` and ``DataFrame``: a wrapper around an expression."""

    __slots__ = ("_expr",)

    _expr: Expr

    def __init__(self, expr: Expr):
        object.__setattr__(self, "_expr", expr)

    @property
    def expr(self) -> Expr:
        """The expression this collection wraps."""
        return self._expr

    def _finalize(self) -> Expr:
        """An expression with one output key holding the computed result."""
        return self._expr

    def _persisted(self, expr: Expr, data: dict) -> Expr:
        """An expression standing for ``expr`` whose outputs are the computed ``data``."""
        return Persisted(expr, data)

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
        """Compute the chunks now and return the same collection backed by them.

        On a ``distributed`` cluster (an active client, or ``scheduler=client``)
        the chunks stay on the workers: the result is backed by futures.
        """
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
        graph, _ = graph_of([self], optimize_graph)
        return graph

    def visualize(self, filename: str = "mydask", format: str | None = None, **kwargs: Any):
        """Draw the task graph with graphviz; see :func:`chunkwise.diagnostics.visualize`."""
        from chunkwise.diagnostics import visualize

        return visualize(self, filename=filename, format=format, **kwargs)

    # --- the dask collection protocol (see chunkwise.distributed) -------------
    #
    # The keys are the output blocks of the optimized expression, so
    # ``client.persist`` keeps every block on the cluster and the persisted
    # collection refers to them; ``__dask_postcompute__`` joins them.

    def _dask_root(self) -> Expr:
        """The expression as it will run: optimized (a delayed value as it is)."""
        name = self._expr.name
        root = _DASK_ROOTS.get(name)
        if root is None:
            expr = self._expr
            root = expr if _keeps_dependency_keys(expr) else optimize_together([expr])[0]
            _remember_root(name, root)
        return root

    def __dask_graph__(self) -> dict:
        """The graph of every output block, converted to ``dask`` nodes (imports ``distributed``)."""
        from chunkwise.distributed import to_dask_graph

        (root,), graph, _ = _graph_of_outputs([self._expr], True)
        _remember_root(self._expr.name, root)
        return to_dask_graph(graph)

    def __dask_keys__(self) -> list:
        """The keys of the output blocks, flat (one key for a delayed value)."""
        return list(self._dask_root()._output_keys())

    def __dask_postcompute__(self) -> tuple:
        """``(func, args)``: ``func(block_values, *args)`` is the computed result."""
        root = self._dask_root()
        final = self._rebuild(root)._finalize()
        if final.name == root.name:  # its own result (a delayed value)
            return _first, ()
        return _finalize_parts, (root._output_keys(), final._task(final.key))

    def __dask_postpersist__(self) -> tuple:
        """``(func, args)``: ``func({key: block}, *args)`` is this collection backed by the blocks."""
        return _rebuild_persisted, (self, self._dask_root())

    def __dask_tokenize__(self) -> tuple:
        return (type(self).__name__, self._expr.name)

    __dask_optimize__ = staticmethod(_identity_optimize)
    __dask_scheduler__ = staticmethod(_dask_scheduler)


def is_collection(obj: Any) -> bool:
    """Whether ``obj`` is a chunkwise collection."""
    return isinstance(obj, Collection)


def unpack_collections(obj: Any, found: dict[str, Expr]) -> Any:
    """Replace the collections nested in lists/tuples/dicts/sets by placeholders.

    Returns a structure where each collection stands as ``_Slot(name)``;
    ``found`` collects the finalized expressions (``_finalize()``) by name.
    Structures without collections come back as they are.
    """
    if isinstance(obj, Collection):
        expr = obj._finalize()
        found.setdefault(expr.name, expr)
        return _Slot(expr.name)
    tp = type(obj)
    if tp is list or tp is tuple or tp is set or tp is frozenset:
        items = [unpack_collections(item, found) for item in obj]
        if all(a is b for a, b in zip(items, obj)):
            return obj
        return items if tp is list else tp(items)
    if tp is dict:
        values = {k: unpack_collections(v, found) for k, v in obj.items()}
        if all(values[k] is v for k, v in obj.items()):
            return obj
        return values
    return obj


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name: Hashable):
        self.name = name


def _repack(obj: Any, values: Mapping) -> Any:
    tp = type(obj)
    if tp is _Slot:
        return values[obj.name]
    if tp is list or tp is tuple or tp is set or tp is frozenset:
        return tp(_repack(item, values) for item in obj)
    if tp is dict:
        return {k: _repack(v, values) for k, v in obj.items()}
    return obj


def _keeps_dependency_keys(expr: Expr) -> bool:
    """Whether ``expr``'s tasks reference its dependencies by their keys (delayed calls).

    Such a node has one output key, its name, and no rewrite rules, so they are neither simplified nor walked
    by the optimizer: only the other expressions they depend on are optimized,
    and one whose key changes gets an alias under its old key. Such a node type
    may define ``_lower_region`` or ``_task_and_dependencies`` (see :func:`_lowering_mode`).
    """
    return getattr(type(expr), "_keeps_dependency_keys", False)


_REGION = "region"
_PAIR = "pair"
_SINGLE = "single"
_PLAIN = "plain"


def _lowering_mode(expr: Expr) -> tuple[str, Any]:
    """How :func:`_lower_plan` lowers nodes of ``expr``'s type.

    A node that keeps its dependencies' keys (:func:`_keeps_dependency_keys`)
    is lowered where it stands: its type may define ``_lower_region(exprs,
    graph)``, which puts the tasks of ``exprs`` and of every node of that kind
    they reach into ``graph`` and returns the other expressions they reference
    (delayed values: 10**6 calls lowered in one loop), or
    ``_task_and_dependencies(key)``; else its ``_task`` and ``dependencies()``
    are used. Any other node is optimized and lowered with the plain expressions.
    """
    tp = type(expr)
    if not _keeps_dependency_keys(expr):
        return _PLAIN, None
    region = getattr(tp, "_lower_region", None)
    if region is not None:
        return _REGION, region
    pair = getattr(tp, "_task_and_dependencies", None)
    if pair is not None:
        return _PAIR, pair
    return _SINGLE, None


@gc_paused(promote=True)
def _lower_plan(roots: list[Expr], optimize_graph: bool, all_outputs: bool = False) -> tuple[list, dict]:
    """The roots as they will run (optimized unless delayed) and their task graph.

    The graph computes each root's ``key`` (every output key with ``all_outputs``).
    Delayed nodes are lowered here directly, in one pass over them; the other
    expressions they depend on and the other roots are optimized (each once:
    work they share keeps one name) and lowered by :func:`~chunkwise.core.expr.lower`.
    """
    graph: dict = {}
    stack: list[Expr] = []
    plain: dict[str, Expr] = {}  # expressions to optimize together, by name
    for root in roots:
        if _keeps_dependency_keys(root):
            stack.append(root)
        else:
            plain.setdefault(root.name, root)
    referenced: set = set()  # plain expressions that delayed tasks reference by key
    # per type, how its nodes are lowered: (_REGION, its ``_lower_region``),
    # (_PAIR, its ``_task_and_dependencies``), (_SINGLE, None) or (_PLAIN, None)
    modes: dict[type, tuple] = {}
    pop = stack.pop
    extend = stack.extend
    while stack:
        expr = pop()
        tp = type(expr)
        mode = modes.get(tp)
        if mode is None:
            mode = modes[tp] = _lowering_mode(expr)
        how, lower_with = mode
        if how is _REGION:
            extend(lower_with([expr], graph))
            continue
        name = expr.name
        if how is _PLAIN:  # another collection, referenced by its key
            plain.setdefault(name, expr)
            referenced.add(name)
        elif name in graph:
            continue
        elif how is _PAIR:
            graph[name], deps = lower_with(expr, name)
            extend(deps)
        else:  # one output key, its name: the graph itself says what was seen
            graph[name] = expr._task(name)
            extend(expr.dependencies())
    # One optimization over all of them: passes that look at every consumer of a
    # node (blockwise fusion) see the whole plan, so shared work stays shared.
    originals = list(plain.values())
    if optimize_graph and originals:
        optimized = dict(zip(plain, optimize_together(originals)))
    else:
        optimized = dict(plain)
    out_roots = [root if _keeps_dependency_keys(root) else optimized[root.name] for root in roots]
    lower_roots = list(optimized.values())
    lower_keys: list = []
    aliases: dict = {}
    root_names = {root.name for root in roots}
    for name, opt in optimized.items():
        if name in root_names and all_outputs:
            lower_keys.extend(opt._output_keys())
        else:
            lower_keys.append(opt.key)
        original = plain[name]
        if name in referenced and opt.key != original.key:  # delayed tasks use the old key
            aliases[original.key] = opt.key
    if lower_roots:
        for key, node in lower(lower_roots, lower_keys, inline=optimize_graph).items():
            graph.setdefault(key, node)
    for old, new in aliases.items():
        graph[old] = Task(old, _alias, Ref(new))
    return out_roots, graph


def _alias(value: Any) -> Any:
    return value


def graph_of(collections: list[Collection], optimize_graph: bool) -> tuple[dict, list]:
    """The task graph computing ``collections`` and the key of each one's result."""
    return graph_of_exprs([c._finalize() for c in collections], optimize_graph)


@gc_paused(promote=True)
def _graph_of_outputs(exprs: list[Expr], optimize_graph: bool) -> tuple[list, dict, list]:
    """The graph of every output block of ``exprs`` (what ``persist`` keeps), fused.

    Returns the optimized expressions, the graph and each one's output keys.
    """
    roots, graph = _lower_plan(exprs, optimize_graph, all_outputs=True)
    key_lists = [root._output_keys() for root in roots]
    if optimize_graph and config.get("optimization.fuse", True):
        graph = passes.fuse_linear(graph, [k for keys in key_lists for k in keys])
    return roots, graph, key_lists


@gc_paused(promote=True)  # lowering and fusing allocate many acyclic objects
def graph_of_exprs(finals: list[Expr], optimize_graph: bool) -> tuple[dict, list]:
    roots, graph = _lower_plan(finals, optimize_graph)
    keys = [expr.key for expr in roots]
    if optimize_graph and config.get("optimization.fuse", True):
        graph = passes.fuse_linear(graph, keys)
    return graph, keys


_LOCAL_GETTERS = (get_sync, get_threads)


def compute(
    *args: Any, scheduler: Any = None, optimize_graph: bool = True, traverse: bool = True, **kwargs: Any
) -> tuple:
    """Compute several collections at once, sharing the work they have in common.

    Collections nested in lists, tuples, sets and dicts are computed too (unless
    ``traverse=False``); other arguments come back as they are. Matches
    ``dask.compute``; ``scheduler`` and the other keywords are as for
    :meth:`Collection.compute`.

    >>> import chunkwise
    >>> a = chunkwise.delayed(sum)([1, 2, 3])
    >>> chunkwise.compute(a, {"b": a}, 7)
    (6, {'b': 6}, 7)
    """
    found: dict[str, Expr] = {}
    if traverse:
        packed = [unpack_collections(arg, found) for arg in args]
    else:
        packed = [unpack_collections(arg, found) if is_collection(arg) else arg for arg in args]
    if not found:
        return tuple(args)
    graph, keys = graph_of_exprs(list(found.values()), optimize_graph)
    if get_scheduler(scheduler) in _LOCAL_GETTERS:
        # lowering built exactly what the keys need: the scheduler need not cull again
        kwargs.setdefault("cull", False)
    results = get(graph, keys, scheduler=scheduler, **kwargs)
    values = dict(zip(found, results))
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

    def _task(self, key: Hashable) -> DataNode | Task:
        return stored_node(key, self.operands[1][key])

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


def persist(
    *args: Any, scheduler: Any = None, optimize_graph: bool = True, traverse: bool = True, **kwargs: Any
) -> tuple:
    """Compute collections' chunks now; return the same collections backed by them.

    Later computations on the results start from the stored chunks. Collections
    nested in lists, tuples, sets and dicts are persisted too (unless
    ``traverse=False``). Matches ``dask.persist``: on a ``distributed``
    cluster the chunks stay on the workers and the results hold futures (as
    ``client.persist`` gives); computing them later on the cluster uses that
    data in place, and a local scheduler fetches it.

    >>> import chunkwise
    >>> a = chunkwise.delayed(sum)([1, 2, 3])
    >>> (b,) = chunkwise.persist(a)
    >>> (b + 1).compute()
    7
    """
    found: dict[int, Collection] = {}

    def collect(obj: Any) -> Any:
        if isinstance(obj, Collection):
            found.setdefault(id(obj), obj)
            return _Slot(id(obj))
        tp = type(obj)
        if traverse and (tp is list or tp is tuple or tp is set or tp is frozenset):
            items = [collect(item) for item in obj]
            if all(a is b for a, b in zip(items, obj)):
                return obj
            return items if tp is list else tp(items)
        if traverse and tp is dict:
            values = {k: collect(v) for k, v in obj.items()}
            if all(values[k] is v for k, v in obj.items()):
                return obj
            return values
        return obj

    packed = [collect(arg) for arg in args]
    if not found:
        return tuple(args)
    collections = list(found.values())
    exprs, graph, key_lists = _graph_of_outputs([c.expr for c in collections], optimize_graph)
    all_keys = [k for keys in key_lists for k in keys]
    getter = get_scheduler(scheduler)
    if getter is get_distributed or getattr(getter, "func", None) is get_distributed:
        # on a cluster the blocks stay there: keep futures, as client.persist does
        results = getter(graph, all_keys, sync=False, **kwargs)
    else:
        results = get(graph, all_keys, scheduler=scheduler, **kwargs)
    data = dict(zip(all_keys, results))
    values = {
        id(coll): coll._rebuild(coll._persisted(expr, {k: data[k] for k in keys}))
        for coll, expr, keys in zip(collections, exprs, key_lists)
    }
    return tuple(_repack(p, values) for p in packed)
