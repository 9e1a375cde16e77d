"""``merge_asof``: each left row matched to the nearest right key, on data sorted by the key.

Two strategies, chosen from what is known (``explain()`` shows which):

- **broadcast**: the right side has one partition; every left partition is
  matched against all of it.
- **by divisions**: both sides are sorted by their index (``left_index=True,
  right_index=True``) with known divisions. Left partition ``i`` is matched
  against the right partitions whose divisions overlap its own, plus the
  rows a match may need from outside them: the *last* right row before them
  (for ``direction="backward"``/``"nearest"``) and the *first* row after
  them (``"forward"``/``"nearest"``), per ``by`` group. Those come from two
  chains of small tasks carried along the right partitions (``last[j]`` =
  last row per group of ``last[j-1]`` + partition ``j``), so a match may lie
  any number of partitions away, as in pandas, without reading them all.

Joins on columns (``on=``) with several right partitions route by the key:
each side is indexed by a copy of its key column with
``set_index(key, sorted=True)`` (one read of the column for its divisions;
the data must already be sorted by the key), and that index is dropped
again in each task.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> trades = pd.DataFrame({"price": [10.0, 11.0, 12.0]}, index=pd.to_datetime(["2024-01-01 10:00:01",
...                       "2024-01-01 10:00:03", "2024-01-01 10:00:07"]))
>>> quotes = pd.DataFrame({"bid": [9.5, 10.5, 11.5, 11.8]}, index=pd.to_datetime(["2024-01-01 10:00:00",
...                       "2024-01-01 10:00:02", "2024-01-01 10:00:05", "2024-01-01 10:00:06"]))
>>> out = dd.merge_asof(dd.from_pandas(trades, npartitions=2), dd.from_pandas(quotes, npartitions=2),
...                     left_index=True, right_index=True)
>>> out.compute().bid.tolist()
[9.5, 10.5, 11.8]
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable
from typing import Any

import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import DataFrame, new_collection
from chunkwise.dataframe.expr import FrameExpr, apply_and_enforce, emulate, make_meta
from chunkwise.dataframe.joins import as_frame_expr

__all__ = ["MergeAsof", "asof_parts", "edge_rows", "merge_asof"]

DIRECTIONS = ("backward", "forward", "nearest")


# --- functions run in tasks -------------------------------------------------------------


def edge_rows(previous: Any, part: Any, by: Any, last: bool) -> Any:
    """The last (``last=True``) or first row per ``by`` group of ``previous`` and ``part``."""
    pieces = [p for p in ((previous, part) if last else (part, previous)) if p is not None and len(p)]
    if not pieces:
        return part.iloc[:0]
    combined = pd.concat(pieces) if len(pieces) > 1 else pieces[0]
    if by is None:
        return combined.iloc[-1:] if last else combined.iloc[:1]
    grouped = combined.groupby(by, sort=False, dropna=False)
    return grouped.tail(1) if last else grouped.head(1)


def asof_parts(left: Any, right_pieces: list, right_meta: Any, options: dict, routed: bool) -> Any:
    """pandas' ``merge_asof`` of a left partition with the sorted right rows it may match.

    ``routed``: both sides were indexed by a copy of their key column only to route
    partitions; that index is dropped first (pandas numbers the rows of a join on columns).
    """
    pieces = [p for p in right_pieces if p is not None and len(p)]
    right = pd.concat(pieces) if len(pieces) > 1 else (pieces[0] if pieces else right_meta)
    if routed:
        left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    return pd.merge_asof(left, right, **options)


# --- the node -----------------------------------------------------------------------------


class MergeAsof(FrameExpr):
    """Left partitions matched against their right candidates (see the module docstring).

    ``plan[i]``: ``(before, parts, after)``: the right partition whose
    ``last``-chain ends just before partition ``i``'s candidates (or ``None``),
    the candidate right partitions, and the partition whose ``first``-chain
    starts just after them (or ``None``).
    """

    _parameters = ("left", "right", "options", "by", "plan", "meta", "routed")
    _operand_only = ("meta",)

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        if self.options.get("left_index") and not self.routed:
            return self.left.divisions
        return (None,) * (self.left.npartitions + 1)

    def _lengths(self) -> tuple | None:
        return self.left.lengths

    def _owned_names(self) -> Iterable[Any]:
        return (self.name, self.name + "-last", self.name + "-first")

    def _task(self, key: Hashable) -> Task:
        name, i = key
        right = self.right.name
        if name == self.name + "-last":
            previous = Ref((name, i - 1)) if i > 0 else None
            return Task(key, edge_rows, previous, Ref((right, i)), self.by, True)
        if name == self.name + "-first":
            following = Ref((name, i + 1)) if i < self.right.npartitions - 1 else None
            return Task(key, edge_rows, following, Ref((right, i)), self.by, False)
        before, parts, after = self.plan[i]
        pieces = [Ref((self.name + "-last", before))] if before is not None else []
        pieces += [Ref((right, j)) for j in parts]
        if after is not None:
            pieces.append(Ref((self.name + "-first", after)))
        return Task(key, apply_and_enforce, asof_parts, self.operand("meta"), Ref((self.left.name, i)),
                    pieces, self.right.meta, self.options, self.routed)

    def _explain_line(self) -> str:
        how = "broadcast" if self.right.npartitions == 1 else "by divisions"
        direction = self.options.get("direction", "backward")
        return f"MergeAsof: {how}, direction={direction!r}  [{self.npartitions} partitions]"


def _plan(left: FrameExpr, right: FrameExpr, direction: str) -> tuple:
    if right.npartitions == 1:
        return tuple((None, (0,), None) for _ in range(left.npartitions))
    ldiv, rdiv, nr = left.divisions, right.divisions, right.npartitions
    plan = []
    for i in range(left.npartitions):
        low, high = ldiv[i], ldiv[i + 1]
        parts = [j for j in range(nr) if rdiv[j] <= high and rdiv[j + 1] >= low]
        if parts:
            first, last = parts[0], parts[-1]
        else:
            first = next((j for j in range(nr) if rdiv[j] > high), nr)
            last = first - 1
        before = first - 1 if first >= 1 and direction in ("backward", "nearest") else None
        after = last + 1 if last + 1 < nr and direction in ("forward", "nearest") else None
        plan.append((before, tuple(parts), after))
    return tuple(plan)


def _asof(left: Any, right: Any, options: dict) -> Any:
    return pd.merge_asof(left, right, **options)


def _meta(lexpr: FrameExpr, rexpr: FrameExpr, options: dict, operation: str) -> pd.DataFrame:
    plain = emulate(_asof, lexpr, rexpr, options, operation=operation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            unmatched = pd.merge_asof(lexpr.meta_sample, rexpr.meta, **options)
        except Exception:
            return plain
    if list(unmatched.columns) != list(plain.columns) or plain.columns.has_duplicates:
        return plain
    return make_meta(plain).astype(dict(zip(plain.columns, unmatched.dtypes)))


def merge_asof(left: Any, right: Any, on: Any = None, left_on: Any = None, right_on: Any = None,
               left_index: bool = False, right_index: bool = False, by: Any = None,
               left_by: Any = None, right_by: Any = None, suffixes: tuple = ("_x", "_y"),
               tolerance: Any = None, allow_exact_matches: bool = True,
               direction: str = "backward") -> DataFrame:
    """pandas' ``merge_asof`` on sorted data (as ``dask.dataframe.merge_asof``); see the module docstring."""
    operation = f"merge_asof(direction={direction!r})"
    if direction not in DIRECTIONS:
        raise pd.errors.MergeError(f"{operation}: direction must be one of {list(DIRECTIONS)}")
    lexpr, rexpr = as_frame_expr(left, "merge_asof"), as_frame_expr(right, "merge_asof")
    options = {"on": on, "left_on": left_on, "right_on": right_on, "left_index": left_index,
               "right_index": right_index, "by": by, "left_by": left_by, "right_by": right_by,
               "suffixes": tuple(suffixes), "tolerance": tolerance,
               "allow_exact_matches": allow_exact_matches, "direction": direction}
    meta = _meta(lexpr, rexpr, options, operation)
    routed = False
    if rexpr.npartitions > 1 and not (left_index and right_index):
        lexpr, rexpr = _indexed_by_key(lexpr, left_on if left_on is not None else on, operation), \
            _indexed_by_key(rexpr, right_on if right_on is not None else on, operation)
        routed = True
    if rexpr.npartitions > 1:
        for side, expr in (("left", lexpr), ("right", rexpr)):
            if not expr.known_divisions:
                raise ValueError(
                    f"{operation}: the {side} side's divisions are unknown, so its rows are not "
                    "known to be sorted; use set_index(..., sorted=True) (or set_index) first")
    right_by_columns = right_by if right_by is not None else by
    plan = _plan(lexpr, rexpr, direction)
    return new_collection(MergeAsof(lexpr, rexpr, options, right_by_columns, plan, meta, routed))


def _indexed_by_key(expr: FrameExpr, key: Any, operation: str) -> FrameExpr:
    """``expr`` indexed by (a copy of) its sorted key column, with known divisions: the route."""
    if key is None or isinstance(key, (list, tuple)):
        raise ValueError(f"{operation}: with several right partitions, give one key column (on=, or "
                         "left_on=/right_on=), or left_index=True, right_index=True")
    from chunkwise.dataframe.sorting import set_index

    try:
        return set_index(new_collection(expr), key, drop=False, sorted=True).expr
    except ValueError as exc:
        raise ValueError(
            f"{operation}: the key {key!r} is not sorted across partitions ({exc}); sort first "
            f"(set_index({key!r}) or sort_values({key!r}))") from exc
