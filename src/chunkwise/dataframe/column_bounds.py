"""Each partition's min and max of a column, known without reading the data.

``set_index(column, sorted=True)`` needs the divisions: each partition's
least and greatest value of the column. Reading the column to find them costs
a pass over the data before the real one (and, for a derived column, its
conversion twice). Often the plan already knows them:

- a **source** that keeps statistics answers ``column_bounds(column)``: a
  Parquet scan from its footers' row-group min/max
  (``ReadParquet.column_bounds``, no data read; ``None`` where the statistics
  cannot say: a filter, a missing statistic, strings);
- a **column selection** or an **assign** passes the question to the frame or
  to the Series assigned under that name (partition for partition);
- an elementwise map that is **monotone non-decreasing** maps each
  partition's bounds to the bounds of its result: ``to_datetime`` of numbers
  or datetimes (``unit=``, ``origin=``, ``utc=``), ``+``/``-`` of a number or
  a timedelta, ``*``/``/``/``//`` by a positive number, and ``astype`` between
  integers, floats and datetimes. The map's own kernel is run on the bounds
  (so units, zones and dtype casts are those of the data), and a result that
  wrapped around (an integer overflow: ``id * 2**62``) or became null is
  refused. A map that reverses the order (``-s``, ``10 - s``, ``s * -1``) or
  that no rule knows gives ``None``.

Anything else (a filter, a join, a shuffle, an unknown function) gives
``None``, and the caller reads the column as before. The bounds are exact for
the rows of each partition, so a caller may refuse partitions whose bounds
overlap; the order *within* a partition is not known from them, and
``set_index`` checks it as each partition runs.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> from chunkwise.dataframe.column_bounds import known_bounds
>>> df = dd.from_pandas(pd.DataFrame({"id": [1, 2, 3, 4]}), npartitions=2)
>>> known_bounds(df.expr, "id") is None  # an in-memory frame keeps no statistics
True
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Hashable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from chunkwise.dataframe.core import Reflected
from chunkwise.dataframe.expr import FrameExpr, MapPartitions, Projection, apply_and_enforce
from chunkwise.dataframe.methods import MethodCaller, assign_columns, to_datetime_partition

__all__ = ["KnownBounds", "known_bounds"]


class KnownBounds(NamedTuple):
    """Each partition's ``(min, max)`` (``None``: a partition of no values) and where they
    came from, as ``explain()`` says it (``"Parquet statistics of 'id', then to_datetime"``)."""

    bounds: list
    how: str


def known_bounds(expr: FrameExpr, column: Hashable) -> KnownBounds | None:
    """The bounds of ``expr[column]`` in each partition without reading data, or ``None``
    when the plan cannot say (see the module docstring)."""
    found = _frame_bounds(expr, column)
    if found is None or len(found.bounds) != expr.npartitions:
        return None
    return found


def _frame_bounds(expr: FrameExpr, column: Hashable) -> KnownBounds | None:
    source = getattr(expr, "column_bounds", None)
    if source is not None:
        bounds = source(column)
        return None if bounds is None else KnownBounds(
            bounds, f"Parquet statistics of {column!r} (row-group min/max)")
    if isinstance(expr, Projection):
        columns = expr.operand("columns")
        if isinstance(columns, list) and column in columns:
            return _frame_bounds(expr.frame, column)
        return None
    if isinstance(expr, MapPartitions) and expr.func is assign_columns and expr.keeps_rows:
        frame, names, *values = expr._kernel_args()
        if column in names:
            value = values[len(names) - 1 - list(names)[::-1].index(column)]  # the last wins
            if isinstance(value, FrameExpr) and value.npartitions == expr.npartitions:
                return _series_bounds(value)
            return None
        if isinstance(frame, FrameExpr) and frame.npartitions == expr.npartitions:
            return _frame_bounds(frame, column)
    return None


def _series_bounds(expr: FrameExpr) -> KnownBounds | None:
    """The bounds of a Series expression's values in each partition."""
    if not isinstance(expr.meta, pd.Series):
        return None
    if isinstance(expr, Projection):
        column = expr.operand("columns")
        return None if isinstance(column, list) else _frame_bounds(expr.frame, column)
    if not isinstance(expr, MapPartitions) or not expr.keeps_rows:
        return None
    frames = expr._frames()
    if len(frames) != 1 or not isinstance(frames[0].meta, pd.Series):
        return None
    source = frames[0]
    if source.npartitions != expr.npartitions or not _monotone(expr, source):
        return None
    inner = _series_bounds(source)
    if inner is None:
        return None
    mapped = _map_bounds(expr, source, inner.bounds)
    return None if mapped is None else KnownBounds(mapped, f"{inner.how}, then {expr.label}")


# --- the maps that keep the order -------------------------------------------------------------


_SHIFTS = (operator.add, operator.sub)
_SCALES = (operator.mul, operator.truediv, operator.floordiv)
_TO_DATETIME_OPTIONS = {"unit", "origin", "utc", "errors"}


def _is_plain(dtype: Any, kinds: str) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in kinds


def _monotone(node: MapPartitions, source: FrameExpr) -> bool:
    """Whether ``node`` maps its one Series operand ``source`` to a non-decreasing function
    of it, element by element (the rules of the module docstring)."""
    func, args, kwargs = node.func, node._kernel_args(), node.operand("kwargs")
    if args[0] is not source:
        return False
    dtype = source.meta.dtype
    if func is to_datetime_partition:
        options = args[2] if len(args) == 3 and isinstance(args[2], dict) else None
        return (options is not None and not kwargs and set(options) <= _TO_DATETIME_OPTIONS
                and _is_plain(dtype, "iufM"))
    if kwargs or len(args) != 2 or not _is_plain(dtype, "iufmM"):
        return False
    other = args[1]
    if isinstance(func, MethodCaller):
        return func.method == "astype" and _is_plain(dtype, "iufM") and _is_plain(
            node.meta.dtype, "iufM") and not (dtype.kind == "f" and node.meta.dtype.kind in "iu")
    op = func.op if isinstance(func, Reflected) else func
    if isinstance(func, Reflected) and op not in (operator.add, operator.mul):
        return False  # c - s, c / s, c // s reverse the order (or break it at zero)
    if op in _SHIFTS:
        return _is_number(other) or (isinstance(other, (pd.Timedelta, np.timedelta64))
                                     and not pd.isna(other))
    if op in _SCALES:
        return _is_number(other) and other > 0 and dtype.kind in "iuf"
    return False


def _is_number(value: Any) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
            and bool(np.isfinite(value)))


def _map_bounds(node: MapPartitions, source: FrameExpr, bounds: list) -> list | None:
    """``bounds`` through ``node``'s own kernel (one call on all of them); ``None`` when a
    bound becomes null, the result's dtype has no order we know, or the result wrapped."""
    present = [b for b in bounds if b is not None]
    if not present:
        return list(bounds)
    values = [v for b in present for v in b]
    try:
        sample = pd.Series(values, dtype=source.meta.dtype, name=source.meta.name)
        args = [sample, *node._kernel_args()[1:]]
        if node.enforce:
            result = apply_and_enforce(node.func, node.meta, *args, **node.operand("kwargs"))
        else:
            result = node.func(*args, **node.operand("kwargs"))
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None  # out of bounds for the result's dtype, say: the read will tell
    if not isinstance(result, pd.Series) or len(result) != len(values) or result.isna().any():
        return None
    dtype = result.dtype
    if not (_is_plain(dtype, "iufmM") or isinstance(dtype, pd.DatetimeTZDtype)):
        return None
    if dtype.kind in "iu" and not _exact(node, sample, result):
        return None
    mapped = iter(result.tolist())
    out = [None if b is None else (next(mapped), next(mapped)) for b in bounds]
    if any(b is not None and not b[0] <= b[1] for b in out):
        return None
    return out


def _exact(node: MapPartitions, sample: pd.Series, result: pd.Series) -> bool:
    """Whether an integer result holds the exact values (nothing wrapped around): the map
    on Python integers, or a round trip of a cast."""
    if isinstance(node.func, MethodCaller):  # astype: the values come back unchanged
        try:
            return bool((result.astype(sample.dtype) == sample).all())
        except (ValueError, TypeError, OverflowError):
            return False
    func = node.func
    op, reflected = (func.op, True) if isinstance(func, Reflected) else (func, False)
    other = node._kernel_args()[1]
    if not isinstance(other, numbers.Integral) or sample.dtype.kind not in "iu":
        return False
    for value, got in zip(sample.tolist(), result.tolist()):
        want = op(int(other), int(value)) if reflected else op(int(value), int(other))
        if want != got:
            return False
    return True
