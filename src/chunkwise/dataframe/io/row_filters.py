"""Row filters in pyarrow's DNF form (``[("x", ">", 5)]`` or ``[[...], [...]]``).

Shared by the Parquet reader (plan-time pruning of hive partitions and row
groups, the filter passed into each read) and by the pushdown rule that turns
``df[df.x > 5]`` into a filter entry. Pure functions over Python values:

- :func:`normalize` gives the list-of-conjunctions form;
- :func:`bind_partition` substitutes a hive partition's values (a conjunction
  made false by them is dropped; a predicate made true by them is removed);
- :func:`may_match` says whether a row group with given ``(min, max)``
  statistics can hold a matching row (conservative: unknown means yes);
- :func:`all_match` says whether every row of a row group with given
  ``(min, max, null count)`` statistics matches (conservative: unknown means no);
- :func:`filter_columns` lists the columns a filter reads;
- :func:`and_filters` and :func:`absorb` combine filters (a DNF kept free of
  conjunctions that imply a kept one), and :func:`is_filter_scalar` /
  :func:`comparable` say which comparisons the pushdown rule may turn into a
  filter (those pyarrow evaluates as pandas does).

>>> normalize([("x", ">", 5)])
[[('x', '>', 5)]]
>>> bind_partition([[("age", "=", 1), ("x", ">", 5)], [("age", "=", 2)]], {"age": 1})
[[('x', '>', 5)]]
>>> may_match([[("x", ">", 5)]], {"x": (0, 4)})
False
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "OPERATORS",
    "absorb",
    "all_match",
    "and_filters",
    "bind_partition",
    "comparable",
    "filter_columns",
    "is_filter_scalar",
    "may_match",
    "normalize",
    "plain",
]

OPERATORS = ("==", "=", "!=", "<", "<=", ">", ">=", "in", "not in")


def normalize(filters: Any) -> list[list[tuple]] | None:
    """``filters`` as a list of conjunctions of ``(column, op, value)``; ``None`` for no filter."""
    if filters is None:
        return None
    if not isinstance(filters, (list, tuple)) or not filters:
        raise ValueError(
            f"read_parquet: filters must be a non-empty list in pyarrow's DNF form, such as "
            f"[('x', '>', 5)] or [[('x', '>', 5)], [('y', '==', 'a')]], got {filters!r}"
        )
    groups = [filters] if isinstance(filters[0], tuple) else filters
    out = []
    for group in groups:
        conj = []
        for pred in group:
            if not (isinstance(pred, (tuple, list)) and len(pred) == 3 and pred[1] in OPERATORS):
                raise ValueError(
                    f"read_parquet: each filter (pyarrow's DNF form) is (column, op, value) with op one of "
                    f"{', '.join(OPERATORS)}; got {pred!r}"
                )
            col, op, value = pred
            if op in ("in", "not in"):
                value = tuple(value)
            conj.append((col, "==" if op == "=" else op, value))
        out.append(conj)
    return out


def filter_columns(filters: list[list[tuple]] | None) -> list[str]:
    """The columns a normalized filter reads, in first-seen order."""
    seen: dict[str, None] = {}
    for conj in filters or ():
        for col, _, _ in conj:
            seen.setdefault(col, None)
    return list(seen)


def _holds(value: Any, op: str, target: Any) -> bool:
    if op in ("==", "="):
        return value == target
    if op == "!=":
        return value != target
    if op == "<":
        return value < target
    if op == "<=":
        return value <= target
    if op == ">":
        return value > target
    if op == ">=":
        return value >= target
    if op == "in":
        return value in target
    if op == "not in":
        return value not in target
    raise ValueError(f"unknown filter operator {op!r}; use one of {', '.join(OPERATORS)}")


def bind_partition(
    filters: list[list[tuple]] | None, values: dict[str, Any]
) -> list[list[tuple]] | None | bool:
    """The filter left for one hive partition's files.

    Returns ``False`` when no row of the partition can match, ``None`` when every
    row matches (nothing left to filter), else the filter on file columns.
    """
    if filters is None:
        return None
    out = []
    for conj in filters:
        rest = []
        alive = True
        for col, op, target in conj:
            if col not in values:
                rest.append((col, op, target))
                continue
            try:
                ok = _holds(values[col], op, target)
            except TypeError:
                ok = _holds(str(values[col]), op, target)
            if not ok:
                alive = False
                break
        if not alive:
            continue
        if not rest:
            return None  # a conjunction holds for every row of this partition
        out.append(rest)
    return out if out else False


def _may_hold(lo: Any, hi: Any, op: str, target: Any) -> bool:
    try:
        if op in ("==", "="):
            return lo <= target <= hi
        if op == "!=":
            return not (lo == hi == target)
        if op == "<":
            return lo < target
        if op == "<=":
            return lo <= target
        if op == ">":
            return hi > target
        if op == ">=":
            return hi >= target
        if op == "in":
            return any(lo <= t <= hi for t in target)
        return not (lo == hi and lo in target)
    except TypeError:
        return True  # incomparable statistics: cannot rule the group out


def may_match(filters: list[list[tuple]] | None, stats: dict[str, tuple]) -> bool:
    """Whether rows whose columns lie in ``stats`` (``{column: (min, max)}``) may match."""
    if not filters:
        return True
    for conj in filters:
        if all(
            col not in stats or _may_hold(*stats[col], op, target) for col, op, target in conj
        ):
            return True
    return False


def _always_holds(lo: Any, hi: Any, op: str, target: Any) -> bool:
    try:
        if op in ("==", "="):
            return lo == hi == target
        if op == "!=":
            return target < lo or target > hi
        if op == "<":
            return hi < target
        if op == "<=":
            return hi <= target
        if op == ">":
            return lo > target
        if op == ">=":
            return lo >= target
        if op == "in":
            return lo == hi and lo in target
        return all(t < lo or t > hi for t in target)
    except TypeError:
        return False  # incomparable statistics: cannot tell


def all_match(filters: list[list[tuple]] | None, stats: dict[str, tuple]) -> bool:
    """Whether every row matches, given ``stats`` (``{column: (min, max, null count)}``).

    A null never matches a comparison, so a column with nulls (or without
    statistics) decides nothing.

    >>> all_match([[("x", ">", 5)]], {"x": (6, 9, 0)}), all_match([[("x", ">", 5)]], {"x": (6, 9, 1)})
    (True, False)
    """
    if not filters:
        return True
    for conj in filters:
        if all(
            col in stats and stats[col][2] == 0 and _always_holds(*stats[col][:2], op, target)
            for col, op, target in conj
        ):
            return True
    return False


# --- combining filters, and what a pushed comparison may hold ------------------------


def is_filter_scalar(value: Any) -> bool:
    """Whether ``value`` is a scalar a filter entry may hold (not a bool, None or NaN).

    >>> is_filter_scalar(1.5), is_filter_scalar(float("nan")), is_filter_scalar(True)
    (True, False, False)
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        return False
    if isinstance(value, (int, float, str, np.integer, np.floating, pd.Timestamp)):
        return not (isinstance(value, (float, np.floating)) and np.isnan(value))
    return False


def comparable(dtype: Any, value: Any) -> bool:
    """Whether pyarrow compares a column of ``dtype`` with ``value`` as pandas does.

    pandas also parses strings against datetimes (``df.t > "2024-01-01"``);
    pyarrow does not, so such a comparison stays out of the read.
    """
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    if pd.api.types.is_numeric_dtype(dtype):
        return isinstance(value, (int, float, np.integer, np.floating))
    if pd.api.types.is_string_dtype(dtype):
        return isinstance(value, str)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return isinstance(value, pd.Timestamp) and value.tz is not None
    if pd.api.types.is_datetime64_dtype(dtype):
        return isinstance(value, pd.Timestamp) and value.tz is None
    return False


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python scalar pyarrow's filters take."""
    return value.item() if isinstance(value, np.generic) else value


def and_filters(left: list | None, right: list) -> list:
    """The DNF of ``left AND right``, absorbed (no conjunction implying another's)."""
    if left is None:
        return absorb(right)
    return absorb([[*a, *b] for a in left for b in right])


def absorb(dnf: list) -> list:
    """``dnf`` without repeated predicates or conjunctions that imply a kept one (A or (A and B) = A).

    >>> absorb([[("x", ">", 1)], [("x", ">", 1), ("y", "<", 2)], [("x", ">", 1)]])
    [[('x', '>', 1)]]
    """
    conjs = [list(dict.fromkeys(conj)) for conj in dnf]
    out: list = []
    for conj in sorted(conjs, key=len):
        if not any(set(kept) <= set(conj) for kept in out):
            out.append(conj)
    return out
