"""Time series across partitions: ``rolling``, ``shift``/``diff``/``pct_change``, cumulative sums.

Three patterns, none of them a shuffle:

- **Overlap** (:class:`Overlap`): an operation that looks back (or ahead) a
  bounded distance runs on its partition with the rows it needs from the
  neighbours prepended (appended), then the borrowed rows are cut off again.
  The rows borrowed from before partition ``i`` are a small *tail* carried
  along the partitions by a chain of tasks (``tail[i] = last rows of
  tail[i-1] + partition[i]``), so a window longer than a partition still
  sees every row it needs:

  ================================  ======================================
  operation                         rows borrowed
  ================================  ======================================
  ``rolling(n)``                    ``n - 1`` before (and after, centered)
  ``rolling("1h")``                 those less than 1h before
  ``shift(k)``/``diff``/``pct``     ``k`` before (``-k`` after when k < 0)
  ================================  ======================================

  A trailing ``rolling`` window does not copy its partition to prepend the
  tail: it runs on the partition as it is, and again on the tail with the
  partition's first rows (those whose windows reach back before it), whose
  results replace the first ones (:func:`apply_overlap`).

  Integer windows and ``shift`` are positional: they work in partition order
  even when divisions are unknown. Time-offset windows need a sorted
  datetime index with known divisions; otherwise they are refused with an
  error saying to ``set_index(..., sorted=True)`` (or ``set_index``).

- **Carry** (:func:`cumulative`): ``cumsum``/``cumprod``/``cummax``/``cummin``
  of each partition, combined with the aggregate of every partition before
  it (a chain of one-row tasks).

- **Bins** (``resample``, in :mod:`.resample`): see there.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> s = pd.Series(range(6), index=pd.date_range("2024-01-01", periods=6, freq="30min"), dtype=float)
>>> ds = dd.from_pandas(s, npartitions=3)
>>> ds.rolling("1h").sum().compute().tolist()
[0.0, 1.0, 3.0, 5.0, 7.0, 9.0]
>>> ds.cumsum().compute().tolist()
[0.0, 1.0, 3.0, 6.0, 10.0, 15.0]
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import FrameBase, new_collection
from chunkwise.dataframe.expr import FrameExpr, Partitionwise, emulate, map_partitions_expr
from chunkwise.dataframe.meta_casts import cast_to_meta

__all__ = [
    "Cumulative",
    "Overlap",
    "ROLLING_METHODS",
    "RowsKept",
    "ShiftIndex",
    "Rolling",
    "apply_overlap",
    "carry_and_enforce",
    "carry_head",
    "carry_tail",
    "cumulative",
    "diff",
    "pct_change",
    "require_time_index",
    "shift",
]

#: The rolling aggregations offered (each is pandas' method of the same name).
ROLLING_METHODS = ("mean", "sum", "count", "min", "max", "std", "var", "median")


# --- functions run in tasks -------------------------------------------------------------


def carry_tail(previous: Any, part: Any, before: Any) -> Any:
    """The rows of ``previous`` + ``part`` that the next partition may need (``before`` rows or a time span)."""
    if isinstance(before, numbers.Integral):
        if not before:
            return part.iloc[:0]
        if len(part) >= before:  # the partition alone holds the tail: nothing to concatenate
            return part.iloc[len(part) - before:]
    elif len(part) and part.index.is_monotonic_increasing:
        start = part.index.searchsorted(part.index[-1] - before, side="right")
        if start > 0:  # the span starts inside the partition: only its own rows
            return part.iloc[start:]
    combined = part if previous is None or len(previous) == 0 else pd.concat([previous, part])
    if isinstance(before, numbers.Integral):
        return combined.iloc[max(len(combined) - before, 0):]
    if len(combined) == 0:
        return combined
    return combined[combined.index > combined.index.max() - before]


def carry_head(part: Any, following: Any, after: int) -> Any:
    """The first ``after`` rows of ``part`` + ``following`` (what the partition before needs)."""
    combined = part if following is None or len(following) == 0 else pd.concat([part, following])
    return combined.iloc[:after]


def apply_overlap(func: Callable, kwargs: dict, before: Any, part: Any, after: Any) -> Any:
    """``func`` on ``part`` with its borrowed rows around it, the borrowed rows then cut off.

    A trailing window (``func`` with a ``head_rows`` rule, borrowing nothing after) runs on
    the partition as it is, and once more on the borrowed rows with the first rows of the
    partition, the only ones whose windows reach back before it: their results replace
    the first ones. No copy of the partition is made (and its index, whose order pandas
    checks and keeps, is the partition's own)."""
    head_rows = getattr(func, "head_rows", None)
    if head_rows is not None and before is not None and len(before) and (after is None or not len(after)):
        count = head_rows(part, **kwargs)
        if count is not None and count < len(part):
            out = func(part, **kwargs)
            if count:
                head = func(pd.concat([before, part.iloc[:count]]), **kwargs)
                out.iloc[:count] = head.iloc[len(before):].to_numpy()
            return out
    pieces = [p for p in (before, part, after) if p is not None and len(p)]
    combined = pd.concat(pieces) if len(pieces) > 1 else part
    out = func(combined, **kwargs)
    start = 0 if before is None else len(before)
    return out.iloc[start:start + len(part)]


def call_method(obj: Any, method: str, args: tuple, kwargs: dict) -> Any:
    return getattr(obj, method)(*args, **kwargs)


def rolling_apply(part: Any, window: Any, options: dict, how: str, kwargs: dict) -> Any:
    return getattr(part.rolling(window, **options), how)(**kwargs)


def rolling_head_rows(part: Any, window: Any, options: dict, how: str, kwargs: dict) -> int | None:
    """How many first rows of ``part`` have windows reaching before it: ``window - 1`` rows
    for a row count, those within the span of the first time for a time span (windows
    ``(t - span, t]``); ``None`` when the window is not a trailing one on a sorted index."""
    if options.get("center") or not len(part):
        return None
    if isinstance(window, numbers.Integral):
        return min(int(window) - 1, len(part))
    index = part.index
    if not isinstance(index, pd.DatetimeIndex) or not index.is_monotonic_increasing:
        return None
    span = pd.Timedelta(pd.tseries.frequencies.to_offset(window))
    return int(index.searchsorted(index[0] + span, side="right"))


rolling_apply.head_rows = rolling_head_rows  # type: ignore[attr-defined]  # see apply_overlap


# --- the overlap node -------------------------------------------------------------------


class RowsKept(FrameExpr):
    """Base of a node whose partitions keep its input's rows and index (so its divisions and
    lengths), with ``meta`` given as an operand and helper task chains named
    ``name + suffix`` for each suffix in ``_chains`` (tails, carries)."""

    _operand_only = ("meta",)
    _chains: tuple = ()

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return self.frame.divisions

    def _lengths(self) -> tuple | None:
        return self.frame.lengths

    def _owned_names(self) -> Iterable[Any]:
        return (self.name, *(self.name + suffix for suffix in self._chains))


class Overlap(RowsKept):
    """``func`` per partition with ``before`` rows (a count or a span) and ``after`` rows borrowed."""

    _parameters = ("frame", "func", "kwargs", "before", "after", "meta", "label")
    _chains = ("-tail", "-head")

    @property
    def _funcname(self) -> str:
        return self.label

    def _task(self, key: Hashable) -> Task:
        name, i = key
        frame = self.frame.name
        last = self.npartitions - 1
        if name == self.name + "-tail":
            previous = Ref((name, i - 1)) if i > 0 else None
            return Task(key, carry_tail, previous, Ref((frame, i)), self.before)
        if name == self.name + "-head":
            following = Ref((name, i + 1)) if i < last else None
            return Task(key, carry_head, Ref((frame, i)), following, self.after)
        before = Ref((self.name + "-tail", i - 1)) if i > 0 and self._borrows_before() else None
        after = Ref((self.name + "-head", i + 1)) if i < last and self.after else None
        return Task(key, apply_overlap, self.func, self.kwargs, before, Ref((frame, i)), after)

    def _borrows_before(self) -> bool:
        before = self.before
        return not isinstance(before, numbers.Integral) or before > 0

    def _explain_line(self) -> str:
        return (f"Overlap: {self.label}, rows borrowed before={self.before!r}, after={self.after!r}"
                f"  [{self.npartitions} partitions]")


def _overlap(frame: FrameBase, func: Callable, kwargs: dict, before: Any, after: int,
             label: str) -> Any:
    meta = emulate(func, frame.expr, operation=label, **kwargs)
    if frame.npartitions == 1:
        return new_collection(map_partitions_expr(func, frame.expr, meta=meta, label=label,
                                                  keeps_rows=True, **kwargs))
    return new_collection(Overlap(frame.expr, func, kwargs, before, after, meta, label))


def require_time_index(frame: FrameBase, operation: str) -> None:
    """Refuse a frame without a datetime index of known divisions, saying how to get one."""
    index = frame.expr.meta.index
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"{operation}: needs a datetime index, the frame's index is {index.dtype}; "
                        "set one with set_index('a_datetime_column')")
    if not frame.known_divisions:
        raise ValueError(
            f"{operation}: the frame's divisions are unknown, so the rows are not known to be sorted "
            "by time; use set_index('time', sorted=True) if they are sorted, else set_index('time') "
            "(an integer window works positionally without divisions)")


# --- rolling --------------------------------------------------------------------------------


class Rolling:
    """A lazy ``rolling`` window (pandas' ``Rolling``), computed across partition boundaries.

    ``window``: a row count, or a time span (``"1h"``, a ``Timedelta``) on a
    sorted datetime index with known divisions. ``center`` is for row counts.
    """

    def __init__(self, frame: FrameBase, window: Any, min_periods: int | None = None,
                 center: bool = False):
        operation = f"rolling({window!r})"
        if isinstance(window, numbers.Integral) and not isinstance(window, bool):
            if window < 1:
                raise ValueError(f"{operation}: window must be a positive integer")
            before: Any = int(window) - 1
            after = int(window) - 1 if center else 0
        else:
            try:
                span = pd.Timedelta(pd.tseries.frequencies.to_offset(window))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{operation}: window must be an integer or a time span such as '1h'") from exc
            if center:
                raise NotImplementedError(f"{operation}: center=True is supported for integer windows only")
            try:
                require_time_index(frame, operation)
            except TypeError as exc:  # pandas' type for a time window over another index
                raise ValueError(str(exc)) from None
            before, after = span, 0
        self.frame, self.window, self.before, self.after = frame, window, before, after
        self.options = {"min_periods": min_periods, "center": center}
        emulate(lambda p: p.rolling(window, **self.options), frame.expr, operation=operation)

    def _compute(self, how: str, **kwargs: Any) -> Any:
        label = f"rolling-{how}"
        frame = self.frame
        return _overlap(frame, rolling_apply, {"window": self.window, "options": self.options,
                                               "how": how, "kwargs": kwargs},
                        self.before, self.after, label)

    def mean(self) -> Any:
        return self._compute("mean")

    def sum(self) -> Any:
        return self._compute("sum")

    def count(self) -> Any:
        return self._compute("count")

    def min(self) -> Any:
        return self._compute("min")

    def max(self) -> Any:
        return self._compute("max")

    def median(self) -> Any:
        return self._compute("median")

    def std(self, ddof: int = 1) -> Any:
        return self._compute("std", ddof=ddof)

    def var(self, ddof: int = 1) -> Any:
        return self._compute("var", ddof=ddof)

    def __repr__(self) -> str:
        return f"Rolling [window={self.window!r}, {self.options}] over {type(self.frame).__name__}"


# --- shift, diff, pct_change ---------------------------------------------------------------


def _periods(periods: Any, operation: str) -> int:
    if not isinstance(periods, numbers.Integral) or isinstance(periods, bool):
        raise TypeError(f"{operation}: periods must be an integer, got {periods!r}")
    return int(periods)


def _positional(frame: FrameBase, method: str, periods: int, **kwargs: Any) -> Any:
    before, after = (periods, 0) if periods >= 0 else (0, -periods)
    return _overlap(frame, call_method, {"method": method, "args": (periods,), "kwargs": kwargs},
                    before, after, method)


def shift(frame: FrameBase, periods: int = 1, freq: Any = None) -> Any:
    """pandas' ``shift``: values move ``periods`` rows (across partitions), or the index by ``freq``."""
    periods = _periods(periods, "shift")
    if freq is None:
        return _positional(frame, "shift", periods)
    meta = emulate(lambda p: p.shift(periods, freq=freq), frame.expr, operation=f"shift(freq={freq!r})")
    divisions = frame.divisions
    if frame.known_divisions:
        divisions = tuple(pd.Index(list(divisions)).shift(periods, freq=freq))
    return new_collection(ShiftIndex(frame.expr, periods, freq, meta, divisions))


class ShiftIndex(Partitionwise):
    """``shift(periods, freq=freq)`` per partition: the index moves, and the divisions with it."""

    _parameters = ("frame", "periods", "freq", "meta", "given_divisions")
    _operand_only = ("meta",)

    def _kernel_args(self) -> list:
        return [self.frame]

    def _kernel_kwargs(self) -> dict:
        return {"method": "shift", "args": (self.periods,), "kwargs": {"freq": self.freq}}

    _kernel = staticmethod(call_method)

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return self.given_divisions

    def _lengths(self) -> tuple | None:
        return self.frame.lengths


def diff(frame: FrameBase, periods: int = 1) -> Any:
    """pandas' ``diff`` across partition boundaries."""
    return _positional(frame, "diff", _periods(periods, "diff"))


def pct_change(frame: FrameBase, periods: int = 1) -> Any:
    """pandas' ``pct_change`` across partition boundaries."""
    return _positional(frame, "pct_change", _periods(periods, "pct_change"))


# --- cumulative ------------------------------------------------------------------------------

_AGGREGATE = {"sum": "sum", "prod": "prod", "max": "max", "min": "min"}


def partition_total(part: Any, op: str, skipna: bool) -> Any:
    """The partition's aggregate (one value, or one per column)."""
    return getattr(part, op)(skipna=skipna, numeric_only=False) if isinstance(part, pd.DataFrame) \
        else getattr(part, op)(skipna=skipna)


def combine_totals(previous: Any, total: Any, op: str, skipna: bool) -> Any:
    """The aggregate of everything so far: ``previous`` combined with one partition's ``total``."""
    if previous is None:
        return total
    return _combine(previous, total, op, skipna)


def _combine(a: Any, b: Any, op: str, skipna: bool) -> Any:
    if op == "sum":
        return a + b
    if op == "prod":
        return a * b
    func = {("max", True): np.fmax, ("max", False): np.maximum,
            ("min", True): np.fmin, ("min", False): np.minimum}[(op, skipna)]
    return func(a, b)


def apply_carry(part: Any, previous: Any, op: str, skipna: bool) -> Any:
    """``part``'s cumulative ``op`` continued from ``previous`` (the aggregate of the partitions before)."""
    out = getattr(part, "cum" + op)(skipna=skipna)
    if previous is None or len(part) == 0:
        return out
    if op in ("sum", "prod"):
        return _combine(out, previous, op, skipna)
    axis = 1 if isinstance(out, pd.DataFrame) else None
    bound = {"lower": previous} if op == "max" else {"upper": previous}
    result = out.clip(axis=axis, **bound)  # a null bound bounds nothing; null values stay null
    if not skipna:  # a null before makes everything after it null
        missing = pd.isna(previous)
        if axis is None and missing:
            result = result.where(np.zeros(len(result), dtype=bool))
        elif axis is not None and missing.any():
            result.loc[:, missing.to_numpy()] = np.nan
    return result


class Cumulative(RowsKept):
    """``cum<op>`` of each partition plus a carry: a chain of ``-total`` tasks, one per partition."""

    _parameters = ("frame", "op", "skipna", "meta")
    _chains = ("-total", "-carry")

    @property
    def _funcname(self) -> str:
        return "cum" + self.op

    def _task(self, key: Hashable) -> Task:
        name, i = key
        part = Ref((self.frame.name, i))
        if name == self.name + "-total":
            return Task(key, partition_total, part, self.op, self.skipna)
        if name == self.name + "-carry":
            previous = Ref((name, i - 1)) if i > 0 else None
            return Task(key, combine_totals, previous, Ref((self.name + "-total", i)), self.op, self.skipna)
        previous = Ref((self.name + "-carry", i - 1)) if i > 0 else None
        return Task(key, carry_and_enforce, part, previous, self.op, self.skipna, self.operand("meta"))

    def _explain_line(self) -> str:
        return f"Cumulative: cum{self.op} with a carry  [{self.npartitions} partitions]"


def carry_and_enforce(part: Any, previous: Any, op: str, skipna: bool, meta: Any) -> Any:
    """:func:`apply_carry`, cast to ``meta``'s dtypes (a carry may turn ints into floats)."""
    return cast_to_meta(apply_carry(part, previous, op, skipna), meta)


def cumulative(frame: FrameBase, op: str, skipna: bool = True) -> Any:
    """pandas' ``cum<op>`` (sum, prod, max, min) across partitions, by a carry."""
    if op not in _AGGREGATE:
        raise ValueError(f"cumulative: op must be one of {sorted(_AGGREGATE)}, got {op!r}")
    meta = emulate(lambda p: getattr(p, "cum" + op)(skipna=skipna), frame.expr, operation=f"cum{op}")
    return new_collection(Cumulative(frame.expr, op, skipna, meta))

