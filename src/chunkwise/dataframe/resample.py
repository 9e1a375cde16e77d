"""``resample``: time bins on a sorted datetime index, with bins that span partitions combined.

Every input partition is resampled alone into *partials* (per bin: sum,
count, min, max, first, last -- only those the aggregation needs). A bin
cut by a partition boundary then has a partial on each side. Output
partition ``p`` holds the bins whose labels lie between the bin labels of
two input divisions; it reads the partials of the input partitions whose
rows can fall into those bins (known from the divisions, at build time),
keeps their rows for its labels, groups them by label and combines them
(sums add, minima take the minimum, the first value is the first non-null
one). Bins with no rows at all (also those between two partitions) are
filled in as pandas does (sum and count 0, the others null).

Bins start at midnight of the first division's day (pandas' default
``origin="start_day"``, fixed once so every partition bins alike; a rule of
several days is binned as the same number of hours).
Needs a datetime index with known divisions (``set_index(..., sorted=True)``
or ``set_index``). Where pandas' dtype depends on the data (``min`` of an
integer column is ``float64`` only when some bin is empty), ``meta`` takes
the dtype that holds nulls.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> s = pd.Series(range(8), index=pd.date_range("2024-01-01", periods=8, freq="20min"))
>>> ds = dd.from_pandas(s, npartitions=3)
>>> ds.resample("1h").sum().compute().tolist()
[3, 12, 13]
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import FrameBase, new_collection
from chunkwise.dataframe.expr import FrameExpr, emulate, meta_nonempty
from chunkwise.dataframe.meta_casts import cast_to_meta
from chunkwise.dataframe.timeseries import require_time_index

__all__ = ["RESAMPLE_METHODS", "Resample", "Resampler", "combine_bins", "resample_partials"]

#: The partial statistics each aggregation needs, and how partials of one bin combine.
NEEDS = {
    "sum": ("sum",), "count": ("count",), "mean": ("sum", "count"), "min": ("min",),
    "max": ("max",), "first": ("first",), "last": ("last",),
    "ohlc": ("first", "max", "min", "last"),
}
COMBINE = {"sum": "sum", "count": "sum", "min": "min", "max": "max", "first": "first", "last": "last"}
FILL = {"sum": 0, "count": 0}
RESAMPLE_METHODS = tuple(NEEDS)


# --- functions run in tasks -------------------------------------------------------------


def resample_partials(part: Any, rule: Any, options: dict, stats: tuple) -> dict:
    """One partition resampled alone: ``{stat: Series/DataFrame indexed by bin label}``."""
    resampler = part.resample(rule, **options)
    return {stat: getattr(resampler, stat)() for stat in stats}


def combine_bins(partials: list, how: str, stats: tuple, rule: Any, options: dict, low: Any,
                 high: Any, last: bool, first: bool, meta: Any) -> Any:
    """The output bins with labels in ``[low, high)`` (``[low, high]`` when ``last``) from ``partials``."""
    combined = {}
    present = []
    for stat in stats:
        pieces = []
        for partial in partials:
            piece = partial[stat]
            labels = piece.index
            keep = (labels >= low) & ((labels <= high) if last else (labels < high))
            pieces.append(piece[keep])
        joined = pd.concat(pieces)
        grouped = getattr(joined.groupby(level=0, sort=True), COMBINE[stat])()
        combined[stat] = grouped
        present.append(grouped.index)
    labels = present[0]
    for other in present[1:]:
        labels = labels.union(other)
    start = labels.min() if first and len(labels) else low
    stop = labels.max() if last and len(labels) else high
    if len(labels) == 0 and (first or last):
        full = labels
    else:
        full = _label_range(start, stop, rule, options, labels.dtype if len(labels) else meta.index.dtype)
        if not last:
            full = full[full < high]
    out = _finish(how, {stat: combined[stat].reindex(full, fill_value=FILL.get(stat, np.nan))
                        if stat in FILL else combined[stat].reindex(full) for stat in stats})
    return _conform(out, meta)


def _label_range(start: Any, stop: Any, rule: Any, options: dict, dtype: Any) -> pd.DatetimeIndex:
    """Every bin label from ``start`` to ``stop`` (both labels, so both on the rule's grid)."""
    labels = pd.date_range(start, stop, freq=rule)
    return labels.astype(dtype) if labels.dtype != dtype else labels


def _finish(how: str, stats: dict) -> Any:
    if how == "mean":
        return stats["sum"] / stats["count"].where(stats["count"] > 0)
    if how == "ohlc":
        first = stats["first"]
        names = {"open": first, "high": stats["max"], "low": stats["min"], "close": stats["last"]}
        if isinstance(first, pd.Series):
            return pd.DataFrame(names)
        return pd.concat({c: pd.DataFrame({k: v[c] for k, v in names.items()}) for c in first.columns}, axis=1)
    return stats[how]


def _conform(out: Any, meta: Any) -> Any:
    if isinstance(meta, pd.Series):
        out = out.rename(meta.name)
    elif isinstance(meta, pd.DataFrame):
        out.columns = meta.columns
    out = cast_to_meta(out, meta)
    out.index.name = meta.index.name
    if out.index.dtype != meta.index.dtype:
        out.index = out.index.astype(meta.index.dtype)
    if isinstance(out.index, pd.DatetimeIndex):
        out.index.freq = None
    return out


# --- the node -----------------------------------------------------------------------------


class Resample(FrameExpr):
    """Output bins from the partials of the input partitions that reach them (see the module docstring)."""

    _parameters = ("frame", "rule", "options", "how", "meta", "bounds", "sources")
    _operand_only = ("meta",)

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return tuple(self.bounds)

    def _owned_names(self) -> tuple:
        return (self.name, self.name + "-partials")

    @property
    def stats(self) -> tuple:
        return NEEDS[self.how]

    def _task(self, key: Hashable) -> Task:
        name, i = key
        if name == self.name + "-partials":
            return Task(key, resample_partials, Ref((self.frame.name, i)), self.rule, self.options, self.stats)
        bounds, last = self.bounds, i == self.npartitions - 1
        partials = [Ref((self.name + "-partials", j)) for j in self.sources[i]]
        return Task(key, combine_bins, partials, self.how, self.stats, self.rule, self.options,
                    bounds[i], bounds[i + 1], last, i == 0, self.operand("meta"))

    def _explain_line(self) -> str:
        return f"Resample: {self.rule!r} {self.how}, bins across partitions combined  [{self.npartitions} partitions]"


# --- the user's object ----------------------------------------------------------------------


def _label_of(value: Any, rule: Any, options: dict, dtype: Any) -> Any:
    probe = pd.Series([0], index=pd.DatetimeIndex([value]).astype(dtype))
    return probe.resample(rule, **options).sum().index[0]


def _gapped_sample(frame: FrameBase) -> Any:
    """A sample with two rows ten years apart: bins between them are empty, as in real data."""
    sample = meta_nonempty(frame.expr.meta)
    dtype = frame.expr.meta.index.dtype
    index = pd.DatetimeIndex(["1970-01-01", "1980-01-01"])
    if getattr(dtype, "tz", None) is not None:  # astype cannot add a time zone
        index = index.tz_localize(dtype.tz).as_unit(dtype.unit)
    sample.index = index.astype(dtype).rename(sample.index.name)
    return sample


class Resampler:
    """A lazy pandas ``Resampler`` (``sum``, ``mean``, ``count``, ``min``, ``max``, ``first``,
    ``last``, ``ohlc``) on a sorted datetime index with known divisions."""

    def __init__(self, frame: FrameBase, rule: Any, closed: str | None = None, label: str | None = None):
        operation = f"resample({rule!r})"
        require_time_index(frame, operation)
        self.frame, self.rule = frame, rule
        self.options = {k: v for k, v in (("closed", closed), ("label", label)) if v is not None}
        emulate(lambda p: p.resample(rule, **self.options), frame.expr, operation=operation)
        # pandas' default origin is the first day of the data; each partition resampled alone
        # would take its own first day, so that origin is fixed from the first division
        offset = pd.tseries.frequencies.to_offset(rule)
        if isinstance(offset, pd.offsets.Day) and offset.n > 1 and frame.expr.meta.index.tz is None:
            offset = pd.tseries.frequencies.to_offset(f"{24 * offset.n}h")  # the same bins, as a Tick
        elif isinstance(offset, pd.offsets.Day) and offset.n > 1 and frame.npartitions > 1:
            # pandas ignores origin= for calendar days on a tz-aware index: each partition
            # would start its own n-day bins at its own first day, a silently wrong answer
            raise NotImplementedError(
                f"{operation}: bins of several calendar days on a tz-aware index cannot be aligned "
                f"across partitions; resample the wall-clock times (tz_localize(None) on the index), "
                f"use {24 * offset.n}h bins, or repartition(npartitions=1)")
        if isinstance(offset, pd.offsets.Tick):
            self.rule = offset
            self.options["origin"] = pd.Timestamp(frame.divisions[0]).normalize()

    def _aggregate(self, how: str) -> Any:
        frame = self.frame
        expr = frame.expr
        sample = _gapped_sample(frame)
        meta = emulate(lambda p: getattr(p.resample(self.rule, **self.options), how)(), sample,
                       operation=f"resample({self.rule!r}).{how}()")
        dtype = expr.meta.index.dtype
        labels = [_label_of(d, self.rule, self.options, dtype) for d in expr.divisions]
        bounds = [labels[0]]
        for value in labels[1:-1]:
            if value > bounds[-1]:
                bounds.append(value)
        if labels[-1] > bounds[-1] or len(bounds) == 1:
            bounds.append(labels[-1])
        sources = []
        n_out = len(bounds) - 1
        for p in range(n_out):
            low, high, last = bounds[p], bounds[p + 1], p == n_out - 1
            sources.append(tuple(
                j for j in range(expr.npartitions)
                if labels[j] <= high and (labels[j] < high or last) and labels[j + 1] >= low
            ))
        return new_collection(Resample(expr, self.rule, self.options, how, meta, tuple(bounds), tuple(sources)))

    def sum(self) -> Any:
        return self._aggregate("sum")

    def mean(self) -> Any:
        return self._aggregate("mean")

    def count(self) -> Any:
        return self._aggregate("count")

    def min(self) -> Any:
        return self._aggregate("min")

    def max(self) -> Any:
        return self._aggregate("max")

    def first(self) -> Any:
        return self._aggregate("first")

    def last(self) -> Any:
        return self._aggregate("last")

    def ohlc(self) -> Any:
        return self._aggregate("ohlc")

    def __repr__(self) -> str:
        return f"Resampler [rule={self.rule!r}] over {type(self.frame).__name__}"
