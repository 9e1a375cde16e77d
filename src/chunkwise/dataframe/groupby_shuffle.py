"""GroupBy on the shuffle path: every group's rows in one partition, then pandas per partition.

A hash shuffle on the group keys
(:class:`~chunkwise.dataframe.shuffle.HashShuffle`) puts all rows of a group
in one partition, keeping their order, so pandas' own groupby on each
partition gives exact answers for everything: aggregations (``median``,
``nunique`` included), ``transform``, ``apply``, ``cumsum``, ``cumcount``,
``shift``. No task ever holds all the groups, which is what the tree
reduction of :mod:`chunkwise.dataframe.groupby` does in its last task.

Choosing the path (:func:`choose_path`, called by every tree aggregation):

- ``split_out=k`` (or ``True``: as many partitions as the frame): the shuffle,
  ``k`` output partitions grouped by key hash (each sorted by key when
  ``sort=True``, the whole not: as Dask);
- ``split_out=None`` (the default): a :class:`TreeOrShuffle` node (the tree
  reduction, knowing its alternative), which ``_lower`` keeps as the tree unless
  ``sorting.prefers_shuffle``: the first partition's keys (read once per
  source and keys, shared by every groupby on them) repeat little (over
  ``sorting.SHUFFLE_MIN_FRACTION`` of its rows are distinct) and more than
  ``sorting.TREE_MAX_ROWS`` distinct keys are estimated; then it turns into the shuffle with its
  partitions joined (sorted by key when ``sort=True``): one result partition
  either way, so the choice can wait for ``_lower``. Keys that can hold few
  groups only (categorical, boolean) are not observed: the tree;
- ``split_out=1``/``False``: the tree.

Row-wise results (``transform``, ``cumsum``, ``cumcount``, ``shift``) come
back in the frame's partitions when its divisions are known (a range shuffle
on the index after the hash shuffle), so they align with the frame; with
unknown divisions they stay grouped by key hash (compare by index).
Keys must be columns, or one level of a flat index; a by-Series that is not a
column, a custom ``Aggregation`` and categorical keys with ``observed=False``
stay on the tree (``split_out`` then raises ``NotImplementedError``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import (
    FrameExpr,
    Partitionwise,
    emulate,
    map_partitions_expr,
    normalize_meta,
)
from chunkwise.dataframe.groupby import Aggregation, pandas_by, run_pandas
from chunkwise.dataframe.reductions import TreeReduction
from chunkwise.dataframe.shuffle import HashShuffle, RangeShuffle
from chunkwise.dataframe.sorting import JoinPartitions, choose_by_cardinality, with_choice_note

__all__ = [
    "IndexOrdered",
    "TreeOrShuffle",
    "aggregate",
    "apply",
    "choose_path",
    "group_call",
    "per_row",
    "shuffle_on",
    "sort_by_index",
    "unsupported",
]


# --- kernels -------------------------------------------------------------------------------


def group_call(part: Any, by: list, sort: bool, dropna: bool, observed: bool, selection: Any,
               method: str, args: tuple, kwargs: dict) -> Any:
    """``part.groupby(keys)[selection].<method>(*args, **kwargs)`` (pandas on one partition)."""
    g = part.groupby(pandas_by(part, None, by), sort=sort, dropna=dropna, observed=observed)
    if selection is not None:
        g = g[selection]
    return getattr(g, method)(*args, **kwargs)


def sort_by_index(part: Any) -> Any:
    """``part`` sorted by its index (stable: equal labels keep their order)."""
    return part.sort_index(kind="stable") if len(part) > 1 else part


class IndexOrdered(Partitionwise):
    """Each partition sorted by its index, with the given divisions (after a range shuffle on it)."""

    _parameters = ("frame", "new_divisions")
    _kernel = staticmethod(sort_by_index)

    def _kernel_args(self) -> list:
        return [self.frame]

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return tuple(self.new_divisions)

    def _explain_line(self) -> str:
        return f"IndexOrdered: divisions of the input  [{self.npartitions} partitions]"


# --- which rows move -----------------------------------------------------------------------------


def shuffle_on(gb: Any) -> Any:
    """What the shuffle hashes: the key columns, ``"index"`` for one level of a flat index,
    or ``None`` when the keys cannot be hashed per row here."""
    meta = gb.obj.expr.meta
    if all(kind == "column" for kind, _ in gb.by):
        return [value for _, value in gb.by]
    if len(gb.by) == 1 and gb.by[0][0] == "level" and not isinstance(meta.index, pd.MultiIndex):
        return "index"
    return None


def unsupported(gb: Any, specs: list | None = None) -> str | None:
    """Why the shuffle path cannot run this groupby (``None``: it can)."""
    if gb.aligned is not None or shuffle_on(gb) is None:
        return ("the keys must be columns or one level of a flat index; assign a by-Series "
                "as a column first")
    if specs and any(isinstance(how, Aggregation) for _, how in specs):
        return "a custom Aggregation runs as a tree reduction only"
    meta = gb.obj.expr.meta
    if not gb.observed:
        for kind, value in gb.by:
            if kind == "column" and isinstance(meta[value].dtype, pd.CategoricalDtype):
                return "categorical keys with observed=False (every partition would list every category)"
    return None


def _count(gb: Any, split_out: Any) -> int:
    if split_out is True or split_out is None:
        return gb.obj.npartitions
    if not isinstance(split_out, (int, np.integer)) or split_out < 1:
        raise ValueError(f"groupby(split_out=...): a positive integer or True, got {split_out!r}")
    return int(split_out)


def _frame(gb: Any) -> FrameExpr:
    """The frame the groupby reads: keys and selected columns (as the tree reads)."""
    values = gb.value_columns()
    return gb.projected(values).expr


def _shuffled(gb: Any, split_out: Any) -> FrameExpr:
    return HashShuffle(_frame(gb), shuffle_on(gb), _count(gb, split_out))


def _aggregated(gb: Any, method: str, pandas_arg: Any, meta: Any, split_out: Any) -> FrameExpr:
    return map_partitions_expr(
        run_pandas, _shuffled(gb, split_out), None, gb.by, gb.sort, gb.dropna, gb.observed,
        gb.selection, method, pandas_arg, meta=meta, enforce=True,
        label=f"groupby-{method}-per-partition",
    )


def _joined(expr: FrameExpr, sort: bool) -> FrameExpr:
    joined = JoinPartitions(expr)
    if not sort:
        return joined
    return map_partitions_expr(sort_by_index, joined, meta=expr.meta, label="sort-groups")


# --- the paths -----------------------------------------------------------------------------------


class TreeOrShuffle(TreeReduction):
    """A groupby's tree reduction that ``_lower`` replaces by ``large`` (the shuffle path,
    one partition) when the observed number of groups is large (module docstring)."""

    _parameters = (*TreeReduction._parameters, "large", "keys")

    def _tree(self) -> TreeReduction:
        return TreeReduction(*self.operands[: len(TreeReduction._parameters)])

    def _lower(self) -> FrameExpr:
        shuffle, why = choose_by_cardinality(self.frame, list(self.keys))
        return with_choice_note(self.large if shuffle else self._tree(), why)

    def dependencies(self) -> list:
        # before lowering, only the tree's inputs: the alternative is not run unless chosen
        return [op for op in self.operands[: len(TreeReduction._parameters)] if isinstance(op, FrameExpr)]


def choose_path(gb: Any, tree: Any, specs: list, method: str, pandas_arg: Any, meta: Any) -> Any:
    """The tree (``tree``), the shuffle, or the choice between them in ``_lower`` (module docstring)."""
    split_out = gb.split_out
    if split_out is False or split_out == 1:
        return tree
    reason = unsupported(gb, specs)
    if split_out is None:
        on = shuffle_on(gb)
        if reason or gb.obj.npartitions == 1 or not isinstance(on, list) or _bounded(gb, on):
            return tree
        large = _joined(_aggregated(gb, method, pandas_arg, meta, None), gb.sort)
        return new_collection(TreeOrShuffle(*tree.expr.operands, large, tuple(on)))
    if reason:
        raise NotImplementedError(f"groupby(split_out={split_out!r}): {reason}")
    return new_collection(_aggregated(gb, method, pandas_arg, meta, split_out))


def _bounded(gb: Any, on: list) -> bool:
    """Whether the keys can hold few groups only (all categorical or boolean)."""
    meta = gb.obj.expr.meta
    return all(
        isinstance(meta[c].dtype, pd.CategoricalDtype) or meta[c].dtype == bool for c in on
    )


def _meta_of(gb: Any, method: str, args: tuple, kwargs: dict, meta: Any) -> Any:
    if meta is not None:
        return normalize_meta(meta)
    return emulate(group_call, gb.obj.expr, gb.by, gb.sort, gb.dropna, gb.observed,
                   gb.selection, method, args, kwargs, operation=f"groupby(...).{method}")


def _check(gb: Any, operation: str) -> None:
    reason = unsupported(gb)
    if reason:
        raise NotImplementedError(f"groupby(...).{operation}: {reason}")


def aggregate(gb: Any, method: str, kwargs: dict, split_out: Any = None) -> Any:
    """An aggregation pandas computes per partition once groups are whole (``median``):
    one partition sorted by key (``split_out=None``), or ``split_out`` by key hash."""
    _check(gb, method)
    split_out = gb.split_out if split_out is None else split_out
    meta = _meta_of(gb, method, (), kwargs, None)
    per_part = _aggregated(gb, method, kwargs, meta, split_out)
    if split_out is None:
        return new_collection(_joined(per_part, gb.sort))
    return new_collection(per_part)


def per_row(gb: Any, method: str, func: Any, args: tuple, kwargs: dict, meta: Any) -> Any:
    """``transform``/``cumsum``/``cumcount``/``shift``: one result row per input row, back in
    the frame's partitions when its divisions are known (module docstring)."""
    _check(gb, method)
    call_args = (func, *args) if func is not None else tuple(args)
    meta = _meta_of(gb, method, call_args, kwargs, meta)
    source = gb.obj.expr
    shuffled = _shuffled(gb, None)
    out = map_partitions_expr(
        group_call, shuffled, gb.by, gb.sort, gb.dropna, gb.observed, gb.selection, method,
        call_args, kwargs, meta=meta, enforce=True, label=f"groupby-{method}",
    )
    if not source.known_divisions:
        return new_collection(out)
    back = RangeShuffle(out, ("index",), tuple(source.divisions[1:-1]), (True,), "last")
    return new_collection(IndexOrdered(back, tuple(source.divisions)))


def apply(gb: Any, func: Any, args: tuple, kwargs: dict, meta: Any, split_out: Any) -> Any:
    """``apply`` per group: ``split_out`` (default: as many as the frame) partitions by key hash."""
    _check(gb, "apply")
    meta = _meta_of(gb, "apply", (func, *args), kwargs, meta)
    split_out = gb.split_out if split_out is None else split_out
    return new_collection(map_partitions_expr(
        group_call, _shuffled(gb, split_out), gb.by, gb.sort, gb.dropna, gb.observed,
        gb.selection, "apply", (func, *args), kwargs, meta=meta, enforce=True,
        label=f"groupby-apply-{getattr(func, '__name__', 'func')}",
    ))

