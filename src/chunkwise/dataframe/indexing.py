"""Row and partition selection: ``head``, ``tail``, ``loc``, ``iloc[:, cols]``, ``partitions``, ``repartition``.

Selection reads only the partitions it needs:

- ``head(n)`` lowers only the first partition (``npartitions=k``: the first
  ``k``); when they hold fewer than ``n`` rows, it reads the next ones,
  doubling the number each time, until it has ``n`` rows or none are left;
  ``tail(n)`` does the same from the end;
- ``loc`` with labels or label slices on known divisions keeps only the
  partitions whose divisions can hold those labels (on unknown divisions it
  looks in every partition);
- ``partitions[...]`` picks partitions by position.

Row positions (``iloc[rows]``) would need every partition's length, so only
``iloc[:, columns]`` is supported, as in Dask.

``repartition`` changes the partitioning without a shuffle: ``npartitions=``
fewer joins neighbouring partitions, more cuts them (at interpolated bounds on
numeric or datetime divisions, else into equal shares of their rows);
``divisions=`` (on known divisions) cuts the rows at new index bounds, each
output partition reading only the input partitions it overlaps;
``partition_size=`` measures the partitions, then cuts and joins them to about
that many bytes.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": range(10)}), npartitions=5)
>>> df.loc[3:5].npartitions, df.loc[3:5].compute().x.tolist()
(2, [3, 4, 5])
>>> df.partitions[-1].compute().x.tolist()
[8, 9]
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import (
    DataFrame,
    FrameBase,
    Index,
    Series,
    check_aligned,
    new_collection,
)
from chunkwise.dataframe.expr import (
    Filter,
    FrameExpr,
    Partitions,
    Projection,
    concat_partitions,
    kept_index_dtype,
    map_partitions_expr,
    meta_nonempty,
    named_error,
)
from chunkwise.sizes import parse_bytes

__all__ = [
    "HeadTail",
    "Repartition",
    "SplitPartitions",
    "fraction_of",
    "join_fractions",
    "repartition",
    "rows_between",
    "head_of_parts",
    "datetime_bound",
    "loc_labels",
    "loc_slice",
    "tail_of_parts",
    "ILocIndexer",
    "LocIndexer",
    "PartitionSelector",
    "head",
    "tail",
]


# --- head and tail ---------------------------------------------------------------------


def head_of_parts(parts: list, n: int) -> Any:
    """The first ``n`` rows of the partitions joined (joining no more than needed)."""
    taken, count = [], 0
    for part in parts:
        taken.append(part.iloc[: n - count])
        count += len(taken[-1])
        if count >= n:
            break
    return concat_partitions(taken, _object_index(parts[0]))


def _object_index(part: Any) -> Any:
    index = part if isinstance(part, pd.Index) else part.index
    return index.dtype if kept_index_dtype(index) is not None else None


def tail_of_parts(parts: list, n: int) -> Any:
    """The last ``n`` rows of the partitions joined."""
    taken, count = [], 0
    for part in reversed(parts):
        taken.append(part.iloc[max(len(part) - (n - count), 0) :] if n > count else part.iloc[:0])
        count += len(taken[-1])
        if count >= n:
            break
    return concat_partitions(taken[::-1], _object_index(parts[0]))


class HeadTail(FrameExpr):
    """One partition: the first (``from_end=False``) or last ``n`` rows of ``frame``'s first/last ``k`` partitions."""

    _parameters = ("frame", "n", "k", "from_end")

    def _meta(self) -> Any:
        return self.frame.meta

    def _parts(self) -> range:
        total = self.frame.npartitions
        k = min(self.k, total)
        return range(total - k, total) if self.from_end else range(k)

    def _divisions(self) -> tuple:
        divisions = self.frame.divisions
        parts = self._parts()
        return (divisions[parts[0]], divisions[parts[-1] + 1])

    def _task(self, key: Hashable) -> Task:
        refs = [Ref((self.frame.name, i)) for i in self._parts()]
        return Task(key, tail_of_parts if self.from_end else head_of_parts, refs, self.n)

    def _explain_line(self) -> str:
        which = "Tail" if self.from_end else "Head"
        return f"{which}: n={self.n}, partitions={self.k}"


def _check_n(n: Any, operation: str) -> int:
    if not isinstance(n, numbers.Integral):
        raise TypeError(f"{operation}: n must be an integer, got {n!r}")  # pandas' type
    if n < 0:
        raise ValueError(f"{operation}: n must be a non-negative integer, got {n!r} (pandas' "
                         "all-but-the-last-n rows needs every partition's length)")
    return int(n)


def _grow(frame: FrameBase, n: int, k: int, from_end: bool) -> Any:
    """Compute the first/last ``n`` rows, reading ``k`` partitions, then more while short."""
    total = frame.npartitions
    expr = frame.expr
    result = new_collection(HeadTail(expr, n, k, from_end)).compute()
    if not from_end and getattr(expr, "head_reads_all", False):
        return result  # a head computed over every partition (a sort's top-n): nothing more to read
    done = min(k, total)
    pieces = [result]
    while sum(len(p) for p in pieces) < n and done < total:
        more = min(done, total - done)  # double the partitions read so far
        indices = range(total - done - more, total - done) if from_end else range(done, done + more)
        needed = n - sum(len(p) for p in pieces)
        part = new_collection(HeadTail(Partitions(expr, tuple(indices)), needed, more, from_end))
        pieces.append(part.compute())
        done += more
    if from_end:
        pieces = pieces[::-1]
    return concat_partitions(pieces, kept_index_dtype(frame._meta)) if len(pieces) > 1 else pieces[0]


def head(frame: FrameBase, n: int = 5, npartitions: int = 1, compute: bool = True) -> Any:
    """The first ``n`` rows (as ``dask``'s ``head``): computed unless ``compute=False``.

    Only the first ``npartitions`` partitions are read (``-1``: all); when they
    are short, the next ones are read, doubling each time, until ``n`` rows are
    found. ``compute=False`` gives a one-partition collection over exactly the
    first ``npartitions``.
    """
    n = _check_n(n, "head")
    total = frame.npartitions
    if npartitions == -1:
        npartitions = total
    if not isinstance(npartitions, numbers.Integral) or not npartitions >= 1:
        raise ValueError(f"head: npartitions must be -1 or a positive integer, got {npartitions!r}")
    if npartitions > total:
        raise ValueError(
            f"head: npartitions={npartitions} but the frame has only {total} partitions; "
            "use npartitions=-1 for all"
        )
    if not compute:
        return new_collection(HeadTail(frame.expr, n, npartitions, False))
    return _grow(frame, n, npartitions, from_end=False)


def tail(frame: FrameBase, n: int = 5, compute: bool = True) -> Any:
    """The last ``n`` rows, read from the last partition (then earlier ones while short)."""
    n = _check_n(n, "tail")
    if not compute:
        return new_collection(HeadTail(frame.expr, n, 1, True))
    return _grow(frame, n, 1, from_end=True)


# --- partitions ------------------------------------------------------------------------


class PartitionSelector:
    """``df.partitions[i]``, ``[i:j]``, ``[[i, j]]``: those partitions as a collection."""

    __slots__ = ("frame",)

    def __init__(self, frame: FrameBase):
        self.frame = frame

    def __getitem__(self, key: Any) -> Any:
        total = self.frame.npartitions
        positions = range(total)
        if isinstance(key, slice):
            indices = list(positions[key])
        elif isinstance(key, numbers.Integral):
            indices = [positions[int(key)]] if -total <= key < total else None
        else:
            key = np.asarray(key)
            if key.dtype == bool:
                if len(key) != total:
                    raise IndexError(
                        f"partitions[mask]: the mask has {len(key)} entries for {total} partitions"
                    )
                indices = list(np.flatnonzero(key))
            else:
                indices = [int(positions[int(i)]) for i in key.ravel()]
        if indices is None:
            raise IndexError(f"partitions[{key!r}]: the frame has {total} partitions")
        if not indices:
            raise IndexError(f"partitions[{key!r}] selects no partition; a frame needs at least one")
        return new_collection(Partitions(self.frame.expr, tuple(int(i) for i in indices)))


# --- loc ---------------------------------------------------------------------------------


def loc_slice(partition: Any, start: Any, stop: Any) -> Any:
    return partition.loc[start:stop]


def loc_labels(partition: Any, labels: list) -> Any:
    return partition.loc[partition.index.isin(labels)]


def _partitions_between(divisions: tuple, start: Any, stop: Any) -> list[int]:
    """Partitions whose division range meets ``[start, stop]`` (``None``: unbounded)."""
    last = len(divisions) - 2
    chosen = []
    for i in range(last + 1):
        low, high = divisions[i], divisions[i + 1]
        if stop is not None and low > stop:
            continue
        if start is not None and (high < start or (high == start and i < last)):
            continue
        chosen.append(i)
    return chosen


def _partition_of(divisions: tuple, label: Any) -> int | None:
    last = len(divisions) - 2
    for i in range(last + 1):
        if divisions[i] <= label and (label < divisions[i + 1] or (i == last and label == divisions[i + 1])):
            return i
    return None


def _check_label_type(frame: FrameBase, sample: Any, operation: str) -> None:
    """Refuse labels that cannot be compared with the index (pandas' error, at build time)."""
    index = meta_nonempty(frame._meta).index
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            index.sort_values().slice_indexer(sample, sample)
    except Exception as exc:
        raise named_error(exc, operation) from exc


def datetime_bound(index: Any, bound: Any, side: str) -> Any:
    """A string bound on a DatetimeIndex as pandas reads it: the start or the end of the period it names.

    ``"2024-04"`` as a stop means the end of April (pandas' partial string
    indexing); local wall time on a tz-aware index. Other bounds are returned as they are.
    """
    if not isinstance(bound, str) or not isinstance(index, pd.DatetimeIndex):
        return bound
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            period = pd.Period(bound)
        value = period.start_time if side == "start" else period.end_time
    except (ValueError, TypeError):
        value = pd.Timestamp(bound)  # e.g. a string with an offset: one instant
    if index.tz is None:
        return value.tz_localize(None) if value.tz is not None else value
    return value.tz_convert(index.tz) if value.tz is not None else value.tz_localize(index.tz)


class LocIndexer:
    """``df.loc[label]``, ``[start:stop]``, ``[[labels]]``, ``[boolean series]``, ``[rows, columns]``.

    A single label gives a frame with the matching rows (as Dask; pandas gives
    a row or a scalar). A list of labels gives the matching rows in index
    order, not in the list's order, and labels that are absent are skipped
    (pandas raises ``KeyError``).
    """

    __slots__ = ("frame",)

    def __init__(self, frame: FrameBase):
        self.frame = frame

    def __getitem__(self, key: Any) -> Any:
        frame = self.frame
        if isinstance(key, tuple) and isinstance(frame, DataFrame) and len(key) == 2:
            rows, columns = key
            selected = self[rows] if not _is_full_slice(rows) else frame
            if isinstance(columns, slice):
                columns = list(frame._meta.loc[:, columns].columns)
            return selected[columns]
        if isinstance(key, (Series, Index)):
            check_aligned([frame.expr, key.expr], "loc[boolean series]")
            return new_collection(Filter(frame.expr, key.expr))
        if isinstance(key, FrameBase):
            raise TypeError(f"loc[...]: cannot select rows with a {type(key).__name__}")
        if isinstance(key, slice):
            if key.step is not None:
                raise ValueError("loc[start:stop:step]: a step is not supported on partitioned data")
            return self._slice(key.start, key.stop)
        if isinstance(key, (list, np.ndarray, pd.Index)):
            return self._labels(list(key))
        if isinstance(key, str) and isinstance(frame._meta.index, pd.DatetimeIndex):
            return self._slice(key, key)  # pandas' partial string: every row of that period
        return self._labels([key])

    def _select(self, indices: list, divisions: tuple | None) -> FrameExpr:
        frame = self.frame
        if not indices:
            indices = [0]  # an empty result still has one (empty) partition
        if indices == list(range(frame.npartitions)):
            return frame.expr
        return Partitions(frame.expr, tuple(indices))

    def _slice(self, start: Any, stop: Any) -> Any:
        frame = self.frame
        for bound in (start, stop):
            if bound is not None:
                _check_label_type(frame, bound, "loc[start:stop]")
        start = datetime_bound(frame._meta.index, start, "start")
        stop = datetime_bound(frame._meta.index, stop, "stop")
        expr = frame.expr
        if frame.known_divisions:
            indices = _partitions_between(frame.divisions, start, stop)
            empty = not indices
            expr = self._select(indices, None)
            if empty:
                start, stop = _empty_slice(frame)
        meta = frame._meta
        sliced = map_partitions_expr(loc_slice, expr, start, stop, meta=meta, label="loc")
        if not expr.known_divisions:
            return new_collection(sliced)
        divisions = list(expr.divisions)
        if start is not None and start > divisions[0]:
            divisions[0] = start
        if stop is not None and stop < divisions[-1]:
            divisions[-1] = stop
        return new_collection(_WithDivisions(sliced, tuple(divisions)))

    def _labels(self, labels: list) -> Any:
        frame = self.frame
        for label in labels[:1]:
            _check_label_type(frame, label, "loc[label]")
        expr = frame.expr
        if frame.known_divisions:
            indices = sorted({i for i in (_partition_of(frame.divisions, lab) for lab in labels) if i is not None})
            expr = self._select(indices, None)
            if not indices:
                labels = []
        return new_collection(
            map_partitions_expr(loc_labels, expr, labels, meta=frame._meta, label="loc")
        )


def _empty_slice(frame: FrameBase) -> tuple:
    """Bounds selecting nothing from the first partition."""
    first = frame.divisions[0]
    return first, _before(first)


def _before(value: Any) -> Any:
    if isinstance(value, numbers.Number):
        return value - 1
    if isinstance(value, pd.Timestamp):
        return value - pd.Timedelta(1)
    return None if value is None else ""


def _is_full_slice(key: Any) -> bool:
    return isinstance(key, slice) and key == slice(None)


class _WithDivisions(FrameExpr):
    """``frame`` with tighter known divisions (a slice that cut rows off its ends)."""

    _parameters = ("frame", "divisions")
    _operand_only = ('divisions',)  # metadata of the same name: read with operand()

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return self.operand("divisions")

    def _task(self, key: Hashable) -> Task:
        return Task(key, _identity, Ref((self.frame.name, key[1])))

    def _one_to_one_inputs(self) -> tuple:
        return (self.frame.name,)


def _identity(value: Any) -> Any:
    return value


# --- iloc ----------------------------------------------------------------------------------


class ILocIndexer:
    """``df.iloc[:, columns]``: columns by position (rows by position are not supported)."""

    __slots__ = ("frame",)

    def __init__(self, frame: DataFrame):
        self.frame = frame

    def __getitem__(self, key: Any) -> Any:
        if not (isinstance(key, tuple) and len(key) == 2 and _is_full_slice(key[0])):
            raise NotImplementedError(
                "iloc: only column positions are supported (df.iloc[:, cols]); rows by "
                "position would need every partition's length. Use head(), "
                "partitions[...] or loc[...] for rows"
            )
        meta = self.frame._meta
        cols = key[1]
        try:
            selected = meta.iloc[:, cols]
        except IndexError as exc:
            raise IndexError(f"iloc[:, {cols!r}]: {exc} (the frame has {len(meta.columns)} columns)") from exc
        if isinstance(selected, pd.Series):
            return new_collection(Projection(self.frame.expr, selected.name))
        if selected.columns.has_duplicates or meta.columns.has_duplicates:
            return new_collection(
                map_partitions_expr(_iloc_columns, self.frame.expr, cols, meta=selected, label="iloc")
            )
        return new_collection(Projection(self.frame.expr, list(selected.columns)))


def _iloc_columns(partition: Any, cols: Any) -> Any:
    return partition.iloc[:, cols]





# --- repartition ---------------------------------------------------------------------------


def rows_between(parts: list, low: Any, high: Any, closed: bool) -> Any:
    """The rows of ``parts`` joined whose index is in ``[low, high)`` (``[low, high]`` if ``closed``)."""
    pieces = []
    for part in parts:
        index = part.index if not isinstance(part, pd.Index) else part
        keep = (index >= low) & ((index <= high) if closed else (index < high))
        pieces.append(part[keep])
    return concat_partitions(pieces, _object_index(parts[0]))


def join_parts(parts: list) -> Any:
    return concat_partitions(parts, _object_index(parts[0]))


class Repartition(FrameExpr):
    """``frame`` with other partitions: ``groups`` of input partitions joined, or cut at ``divisions``.

    ``groups[i]`` lists the input partitions output ``i`` reads. With
    ``new_divisions`` given, each output keeps only its rows within its bounds.
    """

    _parameters = ("frame", "groups", "new_divisions")

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        if self.new_divisions is not None:
            return tuple(self.new_divisions)
        divisions = self.frame.divisions
        groups = self.groups
        return tuple(divisions[g[0]] for g in groups) + (divisions[groups[-1][-1] + 1],)

    def _lengths(self) -> tuple | None:
        lengths = self.frame.lengths
        if lengths is None or self.new_divisions is not None:
            return None
        return tuple(sum(lengths[j] for j in g) for g in self.groups)

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        refs = [Ref((self.frame.name, j)) for j in self.groups[i]]
        if self.new_divisions is None:
            return Task(key, join_parts, refs)
        d = self.new_divisions
        return Task(key, rows_between, refs, d[i], d[i + 1], i == len(d) - 2)

    def _explain_line(self) -> str:
        return f"Repartition: {self.frame.npartitions} -> {self.npartitions} partitions"


def fraction_of(part: Any, start: int, stop: int, count: int) -> Any:
    """Rows ``[len * start // count, len * stop // count)`` of ``part``: a share of it by position."""
    n = len(part)
    return part.iloc[n * start // count : n * stop // count]


def join_fractions(parts: list, shares: tuple) -> Any:
    """The shares ``(start, stop, count)`` of ``parts`` (one each) joined."""
    pieces = [fraction_of(p, a, b, c) for p, (a, b, c) in zip(parts, shares)]
    return concat_partitions(pieces, _object_index(parts[0])) if len(pieces) > 1 else pieces[0]


class SplitPartitions(FrameExpr):
    """Partitions made of shares of input partitions, by row position: output ``i``
    joins, for each ``(j, start, stop, count)`` in ``pieces[i]``, rows
    ``[len * start // count, len * stop // count)`` of input ``j``. No lengths
    are needed to build it; divisions become unknown unless every output is whole
    input partitions."""

    _parameters = ("frame", "pieces")

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return (None,) * (len(self.pieces) + 1)

    def _task(self, key: Hashable) -> Task:
        shares = self.pieces[key[1]]
        refs = [Ref((self.frame.name, j)) for j, _, _, _ in shares]
        return Task(key, join_fractions, refs, tuple((a, b, c) for _, a, b, c in shares))

    def _explain_line(self) -> str:
        return f"SplitPartitions: {self.frame.npartitions} -> {self.npartitions} partitions"


def _split_counts(total: int, npartitions: int) -> list[int]:
    """How many outputs each of ``total`` inputs is cut into (``npartitions`` in all, as even as can be)."""
    base, extra = divmod(npartitions, total)
    return [base + (1 if i < extra else 0) for i in range(total)]


def _interpolated(low: Any, high: Any, count: int) -> list | None:
    """``count + 1`` bounds from ``low`` to ``high`` (numbers or timestamps), else ``None``."""
    if isinstance(low, bool) or isinstance(high, bool):
        return None
    if isinstance(low, numbers.Integral) and isinstance(high, numbers.Integral):
        values = np.linspace(int(low), int(high), count + 1).round().astype(np.int64)
        values = [int(v) for v in values]
        return values if len(set(values)) == len(values) else None
    if isinstance(low, numbers.Real) and isinstance(high, numbers.Real):
        values = [float(v) for v in np.linspace(float(low), float(high), count + 1)]
        return values if len(set(values)) == len(values) else None
    if isinstance(low, pd.Timestamp) and isinstance(high, pd.Timestamp):
        values = list(pd.date_range(low, high, periods=count + 1))
        return values if len(set(values)) == len(values) else None
    return None


def _split_up(frame: FrameBase, npartitions: int) -> Any:
    """More partitions than now: on numeric or datetime divisions, new bounds between the old;
    otherwise each partition is cut into equal shares of its rows (divisions unknown)."""
    total = frame.npartitions
    counts = _split_counts(total, npartitions)
    if frame.known_divisions:
        old = frame.divisions
        bounds: list = [old[0]]
        for i, count in enumerate(counts):
            inner = _interpolated(old[i], old[i + 1], count) if count > 1 else [old[i], old[i + 1]]
            if inner is None:
                bounds = []
                break
            bounds.extend(inner[1:])
        if bounds:
            return repartition(frame, divisions=bounds)
    pieces = tuple(
        ((i, a, a + 1, count),) for i, count in enumerate(counts) for a in range(count)
    )
    return new_collection(SplitPartitions(frame.expr, pieces))


def _by_size(frame: FrameBase, partition_size: Any) -> Any:
    """Partitions of about ``partition_size`` bytes (measured: one pass over the data, as Dask)."""

    target = parse_bytes(partition_size)
    if target <= 0:
        raise ValueError(f"repartition: partition_size must be positive, got {partition_size!r}")
    sizes = new_collection(map_partitions_expr(
        _partition_nbytes, frame.expr, meta=pd.Series(dtype="int64"), label="partition-nbytes",
        clear_divisions=True,
    )).compute().tolist()
    outputs: list = []
    current: list = []
    current_size = 0.0
    for i, size in enumerate(sizes):
        count = max(1, int(np.ceil(size / target)))
        share = size / count
        for a in range(count):
            if current and current_size + share > target:
                outputs.append(tuple(current))
                current, current_size = [], 0.0
            current.append((i, a, a + 1, count))
            current_size += share
    if current:
        outputs.append(tuple(current))
    if all(len(o) == 1 and o[0][3] == 1 for o in outputs):
        return frame
    return new_collection(SplitPartitions(frame.expr, tuple(outputs)))


def _partition_nbytes(partition: Any) -> pd.Series:
    nbytes = partition.memory_usage(deep=True)
    return pd.Series([int(np.sum(nbytes))], dtype="int64")


def repartition(frame: FrameBase, divisions: Any = None, npartitions: int | None = None,
                partition_size: Any = None) -> Any:
    """The same rows in other partitions, without a shuffle (as dask's ``repartition``).

    ``npartitions=`` fewer: neighbouring partitions are joined (as evenly as the
    count allows); more: on numeric or datetime divisions, new bounds are placed
    between the old ones, otherwise each partition is cut into equal shares of
    its rows (divisions become unknown). ``divisions=`` (known divisions only):
    the rows are cut at the new bounds, which must cover the old ones.
    ``partition_size=`` (bytes, or a string such as ``"100MiB"``): partitions of
    about that size; their sizes are measured first (one pass over the data).

    >>> import pandas as pd
    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_pandas(pd.DataFrame({"x": range(10)}), npartitions=5)
    >>> df.repartition(npartitions=2).divisions
    (0, 4, 9)
    >>> df.repartition(divisions=[0, 3, 9]).partitions[0].compute().x.tolist()
    [0, 1, 2]
    >>> df.repartition(npartitions=10).npartitions
    10
    """
    if sum(x is not None for x in (divisions, npartitions, partition_size)) != 1:
        raise ValueError("repartition: give one of divisions=, npartitions= or partition_size=")
    total = frame.npartitions
    if partition_size is not None:
        return _by_size(frame, partition_size)
    if npartitions is not None:
        if not isinstance(npartitions, numbers.Integral) or npartitions < 1:
            raise ValueError(f"repartition: npartitions must be a positive integer, got {npartitions!r}")
        if npartitions > total:
            return _split_up(frame, int(npartitions))
        if npartitions == total:
            return frame
        bounds = np.linspace(0, total, npartitions + 1).round().astype(int)
        groups = tuple(tuple(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:]))
        return new_collection(Repartition(frame.expr, groups, None))
    divisions = tuple(divisions)
    if not frame.known_divisions:
        raise ValueError(
            "repartition(divisions=...): the frame's divisions are unknown, so its rows cannot "
            "be placed without reading them; set an index with known divisions first, or use "
            "npartitions="
        )
    if len(divisions) < 2 or list(divisions) != sorted(divisions):
        raise ValueError(f"repartition: divisions must be sorted, with at least 2 values; got {divisions!r}")
    old = frame.divisions
    if divisions[0] > old[0] or divisions[-1] < old[-1]:
        raise ValueError(
            f"repartition: the new divisions {_short(divisions)} do not cover the frame's "
            f"index range [{old[0]!r}, {old[-1]!r}]; rows would be lost"
        )
    if divisions == old:
        return frame
    groups = tuple(
        tuple(_partitions_between(old, divisions[i], divisions[i + 1])) or (0,)
        for i in range(len(divisions) - 1)
    )
    return new_collection(Repartition(frame.expr, groups, divisions))


def _short(values: tuple) -> str:
    text = repr(values)
    return text if len(text) <= 60 else text[:57] + "..."
