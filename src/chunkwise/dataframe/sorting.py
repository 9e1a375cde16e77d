"""Sorting, indexes and deduplication on the shuffle engine.

- ``sort_values(by, ascending, na_position)``: a :class:`SortValues` node. Its
  ``_lower`` samples the key columns once (a random sample of at most
  :data:`SAMPLE_ROWS` rows a partition, read with only the key columns),
  takes weighted quantiles of the sample as splitters, then becomes a
  :class:`~chunkwise.dataframe.shuffle.RangeShuffle` followed by a stable sort
  of each partition: partition ``i`` holds the ``i``-th range of keys, so the
  partitions in order are the sorted frame. ``sort_values(...).head(n)`` never
  gets there: the head is rewritten (``_simplify_up``) into a top-n, each
  partition's first ``n`` sorted rows merged by a tree reduction, with no
  sample and no shuffle.
- ``set_index(column)``: divisions from sampled quantiles (the sample is taken
  when ``set_index`` is called, because divisions are metadata: one read of
  the column alone), given as ``divisions=``, or, with ``sorted=True``, from
  each partition's min and max (no shuffle). The data are then read once more
  to partition them; ``explain()`` names where the divisions came from. With
  ``sorted=True`` the min and max are not read where the plan knows them
  (:mod:`chunkwise.dataframe.column_bounds`: Parquet statistics, through
  column selections, ``assign`` and maps that keep the order, such as
  ``to_datetime(id, unit="s")``); each partition's order is then checked as
  it is indexed, and partitions whose bounds overlap are refused at once. A
  value that ends one partition and starts the next is moved into the later
  one (:class:`UntiedPartitions`), since divisions are half-open.
- Choosing a tree or a shuffle from the observed number of distinct keys
  (:class:`ByCardinality`, :func:`choose_by_cardinality`), for groupby and
  ``drop_duplicates`` (:mod:`chunkwise.dataframe.row_selection`); ``explain()``
  says what was read to choose.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": [3, 1, 2, 5, 4]}), npartitions=2)
>>> df.sort_values("x").x.compute().tolist()
[1, 2, 3, 4, 5]
>>> df.set_index("x").divisions
(1, 3, 5)
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.column_bounds import known_bounds
from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import (
    FrameExpr,
    Partitions,
    Partitionwise,
    Projection,
    concat_partitions,
    emulate,
    kept_index_dtype,
    map_partitions_expr,
)
from chunkwise.dataframe.partition_count import choose_npartitions, describe_source
from chunkwise.dataframe.reductions import TreeReduction, tree_reduce
from chunkwise.dataframe.shuffle import RangeShuffle, can_order, stable_order
from chunkwise.dataframe.value_keys import unknown_categorical_keys, value_keyed

__all__ = [
    "INDEX_KEY",
    "SAMPLE_ROWS",
    "TREE_MAX_ROWS",
    "SHUFFLE_MIN_FRACTION",
    "ByCardinality",
    "Cardinality",
    "ChosenTree",
    "JoinPartitions",
    "SetIndexPartitions",
    "SortValues",
    "UntiedPartitions",
    "choose_by_cardinality",
    "index_as_column",
    "observed_cardinality",
    "observed_distinct",
    "prefers_shuffle",
    "rows_in_range",
    "sample_keys",
    "set_index",
    "sort_partition",
    "sort_values",
    "splitters_from_sample",
    "top_n",
    "with_choice_note",
]

#: Rows sampled from each partition to choose splitters.
SAMPLE_ROWS = 1000
#: Above this many distinct rows (estimated from the first partition), a deduplication
#: or a groupby takes the shuffle path instead of the tree reduction.
TREE_MAX_ROWS = 1_000_000


# --- kernels ------------------------------------------------------------------------------


def sort_partition(part: Any, by: list, ascending: list, na_position: str) -> Any:
    """A stable sort of one partition (ties keep their order, as in a stable sort of the whole)."""
    if len(part) < 2:
        return part
    if len(by) == 1 and ascending[0] and na_position == "last":
        keys = part if isinstance(part, pd.Series) else part[by[0]]
        if isinstance(keys, pd.Series) and isinstance(keys.dtype, np.dtype) and keys.dtype.kind in "iufM":
            # NumPy's stable argsort puts NaN and NaT last, as pandas does: no null handling needed
            return part.take(stable_order(keys.to_numpy()))
    if isinstance(part, pd.Series):
        return part.sort_values(ascending=ascending[0], na_position=na_position, kind="stable")
    return part.sort_values(by, ascending=ascending, na_position=na_position, kind="stable")


def _keys_frame(part: Any, by: list) -> pd.DataFrame:
    if isinstance(part, pd.Series):
        return part.to_frame()
    return part[by]


def sample_keys(part: Any, by: list, size: int) -> pd.DataFrame:
    """At most ``size`` random rows of the key columns (columns ``0, 1, ...``), each
    with a ``__weight__``: the number of rows it stands for."""
    keys = _keys_frame(part, by)
    n = len(keys)
    extremes = None
    if n > size:  # positions drawn with replacement: O(size), not a permutation of n
        first = keys.iloc[:, 0]
        if len(by) == 1 and _is_plain_number(first):
            # the partition's min and max ride along with no weight: exact outer divisions
            found = _min_max_positions(first.to_numpy())
            if found is not None:
                extremes = keys.iloc[list(found)]
        keys = keys.iloc[np.sort(np.random.default_rng(n).integers(0, n, size))]
    weight = n / max(len(keys), 1)
    if extremes is not None:
        keys = pd.concat([keys, extremes])
    keys = keys.reset_index(drop=True)
    keys.columns = range(keys.shape[1])
    keys["__weight__"] = weight
    if extremes is not None:
        keys.iloc[-2:, -1] = 0.0
    return keys


def _min_max_positions(values: np.ndarray) -> tuple[int, int] | None:
    """Positions of the least and greatest non-null value (NaN and NaT left out) in two
    passes of NumPy (``Series.idxmin`` is several times slower); ``None`` if all are null."""
    if values.dtype.kind in "mM":
        ints = values.view("i8")
        null = np.iinfo(np.int64).min  # NaT
        if not (ints == null).any():
            return int(ints.argmin()), int(ints.argmax())
        if (ints == null).all():
            return None
        top = np.iinfo(np.int64).max
        return int(np.where(ints == null, top, ints).argmin()), int(ints.argmax())
    if values.dtype.kind == "f":
        if np.isnan(values).all():
            return None
        return int(np.nanargmin(values)), int(np.nanargmax(values))
    return int(values.argmin()), int(values.argmax())


def _is_plain_number(values: pd.Series) -> bool:
    return isinstance(values.dtype, np.dtype) and values.dtype.kind in "iufM"


def splitters_from_sample(sample: pd.DataFrame, count: int, ascending: list,
                          na_position: str) -> list:
    """``count - 1`` splitters at the weighted quantiles ``1/count, 2/count, ...`` of ``sample``
    (one value for one key column, tuples for several); null first keys are left out
    (they go to the first or last partition)."""
    columns = [c for c in sample.columns if c != "__weight__"]
    sample = sample[sample[columns[0]].notna()]
    if count < 2 or sample.empty:
        return []
    ordered = sample.sort_values(columns, ascending=ascending, na_position=na_position,
                                 kind="stable")
    weights = ordered["__weight__"].to_numpy(dtype=float).cumsum()
    total = weights[-1]
    positions = np.searchsorted(weights, total * np.arange(1, count) / count, side="left")
    positions = np.minimum(positions, len(ordered) - 1)
    rows = ordered[columns].iloc[positions]
    if len(columns) == 1:
        return [_plain(v) for v in rows.iloc[:, 0].tolist()]
    return [tuple(_plain(v) for v in row) for row in rows.itertuples(index=False)]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _sample(frame: FrameExpr, by: list) -> pd.DataFrame:
    """One pass over the key columns: the random sample of every partition, joined
    (:data:`SAMPLE_ROWS` rows a partition at most, plus its min and max)."""
    keys = frame if isinstance(frame.meta, pd.Series) else Projection(frame, list(by))
    meta = pd.DataFrame({i: pd.Series(dtype=d) for i, d in enumerate(
        [keys.meta.dtype] if isinstance(keys.meta, pd.Series) else keys.meta.dtypes)})
    meta["__weight__"] = pd.Series(dtype="float64")
    sampled = map_partitions_expr(sample_keys, keys, by, SAMPLE_ROWS, meta=meta,
                                  label="sample-keys", clear_divisions=True)
    return new_collection(sampled).compute()


class JoinPartitions(FrameExpr):
    """One partition: every partition of the operand frames, joined in order; a last
    operand that is a string is a note ``explain()`` shows (:func:`with_choice_note`)."""

    _variadic = True

    def _frames(self) -> list:
        return [op for op in self.operands if isinstance(op, FrameExpr)]

    def _meta(self) -> Any:
        return self.operands[0].meta

    def _divisions(self) -> tuple:
        return (None, None)

    def _explain_line(self) -> str:
        note = self.operands[-1]
        return "JoinPartitions  [1 partition]" + (f"  ({note})" if isinstance(note, str) else "")

    def _task(self, key: Hashable) -> Task:
        refs = [Ref((f.name, i)) for f in self._frames() for i in range(f.npartitions)]
        return Task(key, concat_partitions, refs, kept_index_dtype(self.meta))


# --- sort_values ------------------------------------------------------------------------------


_SPLITTERS: dict = {}  # SortValues name -> splitters (sampled once per plan, kept for reuse)


def _check_by(frame: Any, by: Any, operation: str) -> list:
    by = list(by) if isinstance(by, (list, tuple)) else [by]
    meta = frame._meta
    if isinstance(meta, pd.Series):
        if by not in ([None], [meta.name]):
            raise KeyError(f"{operation}: a Series sorts by its values; got by={by!r}")
        return [meta.name]
    index_names = [n for n in meta.index.names if n is not None]
    missing = [b for b in by if b not in meta.columns and b not in index_names]
    if missing:
        raise KeyError(f"{operation}: no column or index level {missing!r}; the columns are "
                       f"{list(meta.columns)}, the index {index_names or 'unnamed'}")
    if isinstance(meta.index, pd.MultiIndex) and any(b not in meta.columns for b in by):
        raise NotImplementedError(
            f"{operation}: sorting by a level of a MultiIndex is not supported; "
            "reset_index() first and sort by the column")
    return by


#: The column an index sorted on by name travels in (``sort_values`` by the index's name).
INDEX_KEY = "__chunkwise_index_key__"


def index_as_column(part: Any, column: str) -> Any:
    """``part`` with its index also in ``column`` (the last column)."""
    return part.assign(**{column: part.index.to_numpy()})


def _sort_by_index_name(frame: Any, by: list, ascending: list, na_position: str,
                        npartitions: int | None) -> Any:
    """``sort_values`` whose ``by`` names the index (as pandas allows): the index rides in a
    column while the rows are sorted, then the column is dropped."""
    meta = frame._meta
    if INDEX_KEY in meta.columns:
        raise ValueError(f"sort_values: the column name {INDEX_KEY!r} is reserved")
    keyed = map_partitions_expr(index_as_column, frame.expr, INDEX_KEY,
                                meta=index_as_column(meta, INDEX_KEY), label="index-as-column",
                                keeps_rows=True)
    named = [b if b in meta.columns else INDEX_KEY for b in by]
    ordered = sort_values(new_collection(keyed), named, ascending, na_position, npartitions)
    return new_collection(Projection(ordered.expr, list(meta.columns)))


def _check_ascending(ascending: Any, by: list, operation: str) -> list:
    values = list(ascending) if isinstance(ascending, (list, tuple)) else [ascending] * len(by)
    if len(values) != len(by) or not all(isinstance(a, (bool, np.bool_, int)) for a in values):
        raise ValueError(
            f"{operation}: ascending must be a bool or one bool per column ({len(by)}), "
            f"got {ascending!r}"
        )
    return [bool(a) for a in values]


class SortValues(FrameExpr):
    """``frame.sort_values(by, ascending, na_position)`` into ``count`` partitions.

    Lowered to a sample, a :class:`RangeShuffle` and a sort of each partition;
    under a ``head`` it becomes a top-n instead (see the module docstring).
    """

    _parameters = ("frame", "by", "ascending", "na_position", "count", "note")
    _defaults = {"note": None}
    #: ``head(n)`` of it is a top-n over every partition (``indexing.head`` reads no more).
    head_reads_all = True

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return (None,) * (self.count + 1)

    def _explain_line(self) -> str:
        note = f"  (npartitions: {self.note})" if self.note else ""
        return (f"SortValues(by={list(self.by)!r}, ascending={list(self.ascending)!r})  "
                f"[{self.count} partitions]{note}")

    def sampled_splitters(self) -> tuple[list, str, Any, Any]:
        """The splitters (sampled once per plan, kept for reuse), what was sampled, and the
        sample's least and greatest first key (``None`` when it has none)."""
        found = _SPLITTERS.get(self.name)
        if found is None:
            by = list(self.by)
            sample = _sample(self.frame, by)
            splitters = splitters_from_sample(sample, self.count, list(self.ascending),
                                              self.na_position)
            values = sample[0].dropna()
            low, high = (None, None) if values.empty or not _is_plain_number(values) else (
                _plain(values.min()), _plain(values.max()))
            found = (splitters, f"splitters sampled: {len(sample):,} rows of {by!r} from "
                                f"{describe_source(self.frame)}", low, high)
            if len(_SPLITTERS) > 64:
                _SPLITTERS.clear()
            _SPLITTERS[self.name] = found
        return found

    def _lower(self) -> FrameExpr | None:
        by, ascending, na = list(self.by), list(self.ascending), self.na_position
        frame = self.frame
        if frame.npartitions == 1 and self.count == 1:
            return _sorted_partitions(frame, by, ascending, na)
        splitters, sampled, _, _ = self.sampled_splitters()
        if len(splitters) < self.count - 1:  # nothing to sample (no values): empty ranges
            splitters = list(splitters) + [splitters[-1] if splitters else None] * (
                self.count - 1 - len(splitters))
        note = f"npartitions: {self.note}; {sampled}" if self.note else sampled
        if can_order(frame.meta, by, ascending, na):  # the combines sort: no pass after
            return RangeShuffle(frame, tuple(by), tuple(splitters), tuple(ascending), na, note,
                                True, True)
        shuffled = RangeShuffle(frame, tuple(by), tuple(splitters), tuple(ascending), na, note)
        return _sorted_partitions(shuffled, by, ascending, na)

    def _simplify_up(self, parent: Any, dependents: Any) -> FrameExpr | None:
        from chunkwise.dataframe.indexing import HeadTail

        if (
            isinstance(parent, HeadTail) and not parent.from_end
            and len(dependents.get(self.name, [])) <= 1
        ):
            top = top_n(self.frame, list(self.by), list(self.ascending), self.na_position,
                        parent.n)
            return top
        narrowed = _narrowed(self.frame, parent, self, dependents, list(self.by))
        if narrowed is None:
            return None
        return Projection(SortValues(narrowed, self.by, self.ascending, self.na_position,
                                     self.count, self.note), parent.operand("columns"))


def _narrowed(frame: FrameExpr, parent: Any, node: FrameExpr, dependents: Any,
              keys: list) -> FrameExpr | None:
    """``frame`` narrowed to ``keys`` and the columns every consumer of ``node`` selects
    (``sort_values(...)[cols]``, ``set_index(c).amount``), so that a read under it reads
    only those; ``None`` when nothing narrows (a consumer needs every column)."""
    from chunkwise.dataframe.joins import columns_needed

    if not (isinstance(parent, Projection) and parent.frame.name == node.name):
        return None
    meta = frame.meta
    if not isinstance(meta, pd.DataFrame) or meta.columns.has_duplicates:
        return None
    needed = columns_needed(node, dependents)
    if needed is None:
        return None
    keep = set(needed) | set(keys)
    columns = [c for c in meta.columns if c in keep]
    if len(columns) == len(meta.columns):
        return None
    return Projection(frame, columns)


def _sorted_partitions(frame: FrameExpr, by: list, ascending: list, na: str) -> FrameExpr:
    return map_partitions_expr(sort_partition, frame, by, ascending, na, meta=frame.meta,
                               label="sort-partition", keeps_rows=True)


def head_sorted(part: Any, by: list, ascending: list, na_position: str, n: int) -> Any:
    """The first ``n`` rows of ``part`` once sorted (stable)."""
    return sort_partition(part, by, ascending, na_position).iloc[:n]


def head_sorted_parts(parts: list, by: list, ascending: list, na_position: str, n: int) -> Any:
    """The first ``n`` rows of the partials joined in order, sorted (stable)."""
    joined = concat_partitions(parts, kept_index_dtype(parts[0]))
    return head_sorted(joined, by, ascending, na_position, n)


def top_n(frame: FrameExpr, by: list, ascending: list, na_position: str, n: int) -> FrameExpr:
    """The first ``n`` rows of ``frame`` sorted by ``by``: per partition, then a tree, no shuffle."""
    kwargs = {"by": by, "ascending": ascending, "na_position": na_position, "n": n}
    return tree_reduce(
        new_collection(frame), head_sorted, head_sorted_parts, _identity, frame.meta,
        label=f"top-n(sort_values by={by!r} head {n})", chunk_kwargs=kwargs,
        combine_kwargs=kwargs,
    ).expr


def _identity(value: Any) -> Any:
    return value


def sort_values(frame: Any, by: Any = None, ascending: Any = True, na_position: str = "last",
                npartitions: int | None = None) -> Any:
    """``DataFrame.sort_values``/``Series.sort_values``: a range shuffle on sampled splitters.

    As pandas (a stable sort: ties keep their order), in ``npartitions``
    partitions, each holding one range of keys. ``npartitions`` defaults to
    as many as now, or with ``dataframe.shuffle.memory_limit`` set, to a count
    chosen from the frame's estimated size (``explain()`` says why).
    ``sort_values(...).head(n)`` runs as a top-n without a shuffle.
    """
    operation = "sort_values"
    by = _check_by(frame, by, operation)
    ascending = _check_ascending(ascending, by, operation)
    if na_position not in ("first", "last"):
        raise ValueError(f"{operation}: na_position must be 'first' or 'last', got {na_position!r}")
    if isinstance(frame._meta, pd.DataFrame):
        emulate(lambda s: s.sort_values(by, ascending=ascending), frame.expr, operation=operation)
    if npartitions is not None and int(npartitions) < 1:
        raise ValueError(f"{operation}: npartitions must be positive, got {npartitions!r}")
    if isinstance(frame._meta, pd.Series) and unknown_categorical_keys(
            frame._meta.to_frame(), by, operation):
        return _sort_series_by_values(frame, ascending, na_position, npartitions)
    if isinstance(frame._meta, pd.DataFrame) and any(b not in frame._meta.columns for b in by):
        return _sort_by_index_name(frame, by, ascending, na_position, npartitions)
    if isinstance(frame._meta, pd.DataFrame) and unknown_categorical_keys(frame._meta, by, operation):
        return _sort_by_values(frame, by, ascending, na_position, npartitions)
    choice = choose_npartitions(frame.expr, npartitions)
    note = None if npartitions is not None else choice.reason
    return new_collection(SortValues(frame.expr, tuple(by), tuple(ascending), na_position,
                                     choice.npartitions, note))


def _sort_by_values(frame: Any, by: list, ascending: list, na_position: str,
                    npartitions: int | None) -> Any:
    """``sort_values`` by categoricals of unknown categories: by their values, which hidden
    columns carry while the rows are sorted (see :mod:`chunkwise.dataframe.value_keys`)."""
    meta = frame._meta
    keyed, keys = value_keyed(frame.expr, unknown_categorical_keys(meta, by, "sort_values"),
                              "sort_values")
    named = [keys.get(b, b) for b in by]
    ordered = sort_values(new_collection(keyed), named, ascending, na_position, npartitions)
    return new_collection(Projection(ordered.expr, list(meta.columns)))


def _sort_series_by_values(series: Any, ascending: list, na_position: str,
                           npartitions: int | None) -> Any:
    """``Series.sort_values`` of a categorical of unknown categories, through a frame."""
    name = series._meta.name
    if name is None:
        series = series.rename("__chunkwise_series__")
    frame = series.to_frame()
    column = frame._meta.columns[0]
    ordered = _sort_by_values(frame, [column], ascending, na_position, npartitions)[column]
    return ordered.rename(None) if name is None else ordered


# --- set_index ------------------------------------------------------------------------------------


def set_index_partition(part: pd.DataFrame, column: Hashable, drop: bool, sort: bool,
                        check: bool = False) -> Any:
    """``part.set_index(column)``, sorted by the new index when ``sort`` (stable; NumPy's
    stable argsort of the column for numbers and datetimes, which puts NaN/NaT last);
    ``check``: refuse values out of order (``sorted=True`` with divisions not from a read)."""
    if sort and len(part) > 1:
        keys = part[column]
        if isinstance(keys.dtype, np.dtype) and keys.dtype.kind in "iufM":
            if not keys.is_monotonic_increasing:
                part = part.take(stable_order(keys.to_numpy()))
            return part.set_index(column, drop=drop)
        return part.set_index(column, drop=drop).sort_index(kind="stable", na_position="last")
    if check and len(part) > 1:
        indexed = part.set_index(column, drop=drop)
        if indexed.index.is_monotonic_increasing:  # kept on the index: rolling's own check reuses it
            return indexed
        keys = part[column]
        present = keys.dropna() if keys.hasnans else keys
        if not present.is_monotonic_increasing:
            first = int(np.flatnonzero(np.diff(present.to_numpy()) < 0)[0])
            raise ValueError(
                f"set_index({column!r}, sorted=True): the column is not in order within a "
                f"partition ({_plain(present.iloc[first])!r} then {_plain(present.iloc[first + 1])!r}); drop "
                "sorted=True to sort it")
        return indexed
    return part.set_index(column, drop=drop)


class SetIndexPartitions(Partitionwise):
    """Each partition indexed by ``column`` (and sorted), with the given divisions.

    ``source`` says where the divisions came from (shown by ``explain()``); ``check``:
    each partition's order is checked as it runs (divisions taken without a read).
    """

    _parameters = ("frame", "column", "drop", "sort", "new_divisions", "source", "check")
    _defaults = {"check": False}
    _kernel = staticmethod(set_index_partition)

    def _kernel_args(self) -> list:
        return [self.frame, self.column, self.drop, self.sort, self.check]

    def _meta(self) -> Any:
        return set_index_partition(self.frame.meta, self.column, self.drop, False)

    def _divisions(self) -> tuple:
        return tuple(self.new_divisions)

    def _lengths(self) -> tuple | None:
        return self.frame.lengths if not self.sort else None

    def _explain_line(self) -> str:
        return f"SetIndex({self.column!r}, divisions from {self.source})  [{self.npartitions} partitions]"

    def explain_note(self) -> str:
        """What ``explain()`` says of this node when it is fused with others."""
        return f"set_index({self.column!r}): divisions from {self.source}"

    def _simplify_up(self, parent: Any, dependents: Any) -> FrameExpr | None:
        """``set_index(c)[cols]``: the frame under it (under its shuffle) keeps ``c`` and ``cols``."""
        frame = self.frame
        shuffle = frame if isinstance(frame, RangeShuffle) else None
        source = shuffle.frame if shuffle is not None else frame
        narrowed = _narrowed(source, parent, self, dependents, [self.column])
        if narrowed is None:
            return None
        if shuffle is not None:
            narrowed = RangeShuffle(narrowed, shuffle.by, shuffle.splitters, shuffle.ascending,
                                    shuffle.na_position, shuffle.note, shuffle.keep_index,
                                    shuffle.ordered)
        indexed = SetIndexPartitions(narrowed, self.column, self.drop, self.sort,
                                     self.new_divisions, self.source, self.check)
        return Projection(indexed, parent.operand("columns"))


def min_max(part: Any, column: Hashable) -> pd.DataFrame:
    """The column's min, max and non-null count in one partition, and whether its
    non-null values are in order."""
    values = part[column]
    count = int(values.notna().sum())
    present = values.dropna() if count < len(values) else values
    return pd.DataFrame({"min": [values.min() if count else None],
                         "max": [values.max() if count else None], "count": [count],
                         "ordered": [bool(present.is_monotonic_increasing)]})


def _partition_bounds(frame: Any, column: Hashable) -> pd.DataFrame:
    keys = Projection(frame.expr, [column])
    meta = pd.DataFrame({"min": pd.Series(dtype=object), "max": pd.Series(dtype=object),
                         "count": pd.Series(dtype="int64"), "ordered": pd.Series(dtype=bool)})
    bounds = map_partitions_expr(min_max, keys, column, meta=meta, label="min-max",
                                 clear_divisions=True)
    return new_collection(bounds).compute().reset_index(drop=True)


def _sorted_divisions(frame: Any, column: Hashable) -> tuple:
    """Divisions of a column already in order: each partition starts at its min (an
    empty one at the next one's), the last ends at its max."""
    return _divisions_from_bounds(_sorted_bounds(frame, column), column)


def _sorted_bounds(frame: Any, column: Hashable) -> list:
    """Each partition's ``(min, max)`` of a column in order (``None``: no values), read
    in one pass; a partition out of order is refused."""
    bounds = _partition_bounds(frame, column)
    unordered = np.flatnonzero(~bounds["ordered"].to_numpy(dtype=bool))
    if len(unordered):
        raise ValueError(
            f"set_index({column!r}, sorted=True): the column is not in order within partition "
            f"{int(unordered[0])} (of {len(bounds)}); drop sorted=True to sort it"
        )
    return [(low, high) if count > 0 else None for low, high, count in
            zip(bounds["min"].tolist(), bounds["max"].tolist(), bounds["count"].tolist())]


def _divisions_from_bounds(bounds: list, column: Hashable) -> tuple:
    """Divisions from each partition's ``(min, max)`` (``None``: no values), refusing
    partitions out of order."""
    filled = [b for b in bounds if b is not None]
    if not filled:
        raise ValueError(f"set_index({column!r}, sorted=True): the column has no values")
    for (_, high), (low, _) in zip(filled, filled[1:]):
        if low < high:
            raise ValueError(
                f"set_index({column!r}, sorted=True): the partitions are not in order (values "
                f"{high!r} then {low!r}); drop sorted=True to sort them"
            )
    starts: list = []
    following = filled[-1][1]
    for bound in bounds[::-1]:
        following = bound[0] if bound is not None else following
        starts.append(following)
    return tuple(_plain(v) for v in [*starts[::-1], filled[-1][1]])


def rows_in_range(parts: list, low: Any, high: Any, closed: bool, own: int) -> Any:
    """The rows of ``parts`` (indexed partitions, joined in order) whose index is in
    ``[low, high)`` (``[low, high]`` if ``closed``), and the rows of ``parts[own]`` with a
    null index, which stay where they were."""
    pieces = []
    for i, part in enumerate(parts):
        index = part.index
        keep = (index >= low) & ((index <= high) if closed else (index < high))
        if i == own:
            keep |= index.isna()
        pieces.append(part if keep.all() else part[keep])
    return concat_partitions(pieces, kept_index_dtype(parts[0])) if len(pieces) > 1 else pieces[0]


class UntiedPartitions(FrameExpr):
    """Sorted partitions whose neighbours share a value (a partition ending at the value the
    next one starts with), made to fit their divisions: partition ``i`` holds the index
    values in ``[divisions[i], divisions[i + 1])`` (the last one its upper bound too), the
    rows of a shared value moved forward from the partitions in ``groups[i]`` before it, so
    that ``loc`` and joins that trust the divisions find every row (as Dask's
    ``fix_overlap``). Rows with a null index stay in their partition."""

    _parameters = ("frame", "groups", "new_divisions")

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return tuple(self.new_divisions)

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        group = self.groups[i]
        divisions = self.new_divisions
        refs = [Ref((self.frame.name, j)) for j in group]
        last = i == len(divisions) - 2
        return Task(key, rows_in_range, refs, divisions[i], divisions[i + 1], last, group.index(i))

    def _simplify_up(self, parent: Any, dependents: Any) -> FrameExpr | None:
        """``untied[cols]`` -> ``untied-of(frame[cols])[cols]``: rows move by their index
        alone, so the columns every consumer selects are selected below (down to the read)."""
        from chunkwise.dataframe.joins import columns_needed

        if not (isinstance(parent, Projection) and parent.frame.name == self.name):
            return None
        meta = self.frame.meta
        needed = columns_needed(self, dependents)
        if needed is None or not isinstance(meta, pd.DataFrame) or meta.columns.has_duplicates:
            return None
        columns = [c for c in meta.columns if c in needed]
        if len(columns) == len(meta.columns):
            return None
        narrowed = UntiedPartitions(Projection(self.frame, columns), self.groups, self.new_divisions)
        return Projection(narrowed, parent.operand("columns"))

    def _explain_line(self) -> str:
        moved = sum(len(g) > 1 for g in self.groups)
        return (f"UntiedPartitions: rows of a value shared by neighbours moved forward into "
                f"{moved} partition(s)  [{self.npartitions} partitions]")


def _untied(indexed: FrameExpr, bounds: list) -> FrameExpr:
    """``indexed`` (sorted partitions of these ``(min, max)`` bounds, ``None`` when empty),
    with the rows of a value shared by neighbours moved into the partition its divisions
    give it (:class:`UntiedPartitions`); ``indexed`` itself when no neighbours share one."""
    divisions = indexed.divisions
    count = len(bounds)
    if not any(b is not None and i < count - 1 and b[1] >= divisions[i + 1]
               for i, b in enumerate(bounds)):
        return indexed
    groups = tuple(
        tuple(j for j in range(i) if bounds[j] is not None and bounds[j][1] >= divisions[i]) + (i,)
        for i in range(count)
    )
    return UntiedPartitions(indexed, groups, divisions)


def set_index(frame: Any, other: Any, drop: bool = True, sorted: bool = False,
              divisions: Any = None, npartitions: int | None = None) -> Any:
    """``DataFrame.set_index(column)`` with known divisions (as Dask's).

    ``sorted=True``: the column is already in order across partitions; no
    shuffle, divisions from each partition's min and max: from the plan where
    it knows them (Parquet statistics, maps that keep the order; each
    partition's order is then checked as it runs), else from one read of the
    column. Unlike Dask, which trusts ``sorted=True``, values out of order are
    an error (at build time when partitions overlap). ``divisions=``: those bounds, then a range shuffle. Otherwise
    the divisions are sampled quantiles of the column (one read of the column
    alone), then a range shuffle. Rows with a null key go to the last partition.
    """
    operation = f"set_index({other!r})"
    meta = frame._meta
    if not isinstance(other, Hashable) or other not in meta.columns:
        raise KeyError(f"{operation}: no column {other!r}; the columns are {list(meta.columns)}")
    if unknown_categorical_keys(meta, [other], operation):
        return _set_index_by_values(frame, other, drop, sorted, divisions, npartitions)
    if sorted:
        reused = _divisions_of_sort(frame.expr, other)
        if reused is not None:
            return new_collection(SetIndexPartitions(
                frame.expr, other, drop, False, reused,
                "the splitters of the sort_values under it (partitions in range order), no read"))
        known = known_bounds(frame.expr, other)
        if known is not None:  # no read: the order within partitions is checked as they run
            return new_collection(_untied(SetIndexPartitions(
                frame.expr, other, drop, False, _divisions_from_bounds(known.bounds, other),
                f"{known.how}, no read, no shuffle", True), known.bounds))
        bounds = _sorted_bounds(frame, other)
        divs = _divisions_from_bounds(bounds, other)
        if len(divs) != frame.npartitions + 1:
            raise ValueError(f"{operation}: could not place {frame.npartitions} partitions")
        return new_collection(_untied(SetIndexPartitions(
            frame.expr, other, drop, False, divs, "per-partition min/max, no shuffle"), bounds))
    if divisions is not None:
        divs = _given_divisions(divisions, operation)
        source = "divisions="
    else:
        choice = choose_npartitions(frame.expr, npartitions)
        sample = _sample(frame.expr, [other])
        divs = _divisions_from_sample(sample, choice.npartitions, operation)
        source = (f"sampled quantiles: {len(sample):,} rows of {other!r} from "
                  f"{describe_source(frame.expr)} (one read of the column)")
        if npartitions is None:
            source += f"; npartitions: {choice.reason}"
    # the old index is replaced: the pieces are written without it
    shuffled = RangeShuffle(frame.expr, (other,), tuple(divs[1:-1]), (True,), "last", None, False,
                            can_order(meta, [other], [True], "last"))
    return new_collection(SetIndexPartitions(shuffled, other, drop, True, divs, source))


def _set_index_by_values(frame: Any, column: Hashable, drop: bool, sorted: bool,
                         divisions: Any, npartitions: int | None) -> Any:
    """``set_index`` of a categorical of unknown categories: ordered (and divided) by its
    values, which a hidden column carries through the shuffle and the sort of each
    partition (see :mod:`chunkwise.dataframe.value_keys`); the divisions are values."""
    operation = f"set_index({column!r})"
    meta = frame._meta
    keyed, keys = value_keyed(frame.expr, [column], operation)
    key = keys[column]
    if sorted:
        divs = _sorted_divisions(new_collection(keyed), key)
        return new_collection(SetIndexPartitions(frame.expr, column, drop, False, divs,
                                                 "per-partition min/max of the values, no shuffle"))
    if divisions is not None:
        divs = _given_divisions(divisions, operation)
        source = "divisions="
    else:
        choice = choose_npartitions(frame.expr, npartitions)
        sample = _sample(keyed, [key])
        divs = _divisions_from_sample(sample, choice.npartitions, operation)
        source = (f"sampled quantiles of the values: {len(sample):,} rows of {column!r} from "
                  f"{describe_source(frame.expr)} (one read of the column)")
    shuffled = RangeShuffle(keyed, (key,), tuple(divs[1:-1]), (True,), "last", None, False, False)
    ordered = Projection(_sorted_partitions(shuffled, [key], [True], "last"), list(meta.columns))
    return new_collection(SetIndexPartitions(ordered, column, drop, False, divs, source))


def _given_divisions(divisions: Any, operation: str) -> tuple:
    """``set_index(divisions=)`` checked: sorted, at least two values."""
    divs = tuple(divisions)
    if len(divs) < 2 or list(divs) != _sorted_list(divs):
        raise ValueError(f"{operation}: divisions must be sorted, at least 2 values; got {divs!r}")
    return divs


def _divisions_from_sample(sample: pd.DataFrame, npartitions: int, operation: str) -> tuple:
    """Divisions for ``npartitions`` from a sample of the new index (its only column):
    the sample's min, its quantiles and its max, repeats dropped."""
    values = sample[0].dropna()
    if values.empty:
        raise ValueError(f"{operation}: the column has no values to set as the index")
    quantiles = splitters_from_sample(sample, npartitions, [True], "last")
    divs = tuple(_unique_sorted([_plain(values.min()), *quantiles, _plain(values.max())]))
    return divs if len(divs) > 1 else (divs[0], divs[0])


def _divisions_of_sort(expr: FrameExpr, column: Hashable) -> tuple | None:
    """Divisions of ``column`` when ``expr`` is ``sort_values(column)`` (ascending, nulls
    last): its partitions hold consecutive ranges between its splitters, and the sample's
    min and max bound them. ``None`` when they cannot say (ties at a splitter, strings)."""
    if not isinstance(expr, SortValues) or list(expr.by) != [column]:
        return None
    if not expr.ascending[0] or expr.na_position != "last" or expr.count < 1:
        return None
    keys = expr.frame.meta[column] if isinstance(expr.frame.meta, pd.DataFrame) else None
    if keys is None or not _is_plain_number(keys):
        return None  # the sample's min/max are exact for numbers and datetimes only
    if expr.frame.npartitions == 1 and expr.count == 1:
        return None  # lowered without a sample: the min/max read is as cheap
    splitters, _, low, high = expr.sampled_splitters()
    if low is None or len(splitters) != expr.count - 1:
        return None
    divisions = [low, *splitters, high]
    if any(b <= a for a, b in zip(divisions[1:-1], divisions[2:-1])) or (
            len(divisions) > 2 and not divisions[0] <= divisions[1] <= divisions[-1]):
        return None
    return tuple(divisions)


def _sorted_list(values: tuple) -> list:
    return sorted(values)


def _unique_sorted(values: list) -> list:
    out: list = []
    for value in values:
        if not out or value > out[-1]:
            out.append(value)
    return out


# --- choosing by cardinality ------------------------------------------------------------------------


class Cardinality(NamedTuple):
    """What one partition says about the keys: ``rows`` read, ``distinct`` keys among them,
    of a frame of ``npartitions`` partitions; ``partition``: the one read."""

    rows: int
    distinct: int
    npartitions: int
    partition: int = 0

    @property
    def fraction(self) -> float:
        """Distinct keys per row in the partition read (1.0: no key repeats in it)."""
        return self.distinct / self.rows if self.rows else 0.0

    def total(self) -> float:
        """Estimated distinct keys of the whole frame: the key space ``D`` that explains the
        partition's repeats if keys were drawn uniformly (``d = D (1 - exp(-n / D))``),
        then the distinct keys of all rows drawn from it; at most ``distinct * npartitions``."""
        n, d, parts = self.rows, self.distinct, self.npartitions
        if not n:
            return 0.0
        bound = float(d * parts)
        if d >= n:
            return bound
        low, high = float(d), float(d) * 1e6
        for _ in range(80):  # bisection on D: D (1 - exp(-n / D)) grows with D
            mid = (low + high) / 2
            if mid * -np.expm1(-n / mid) < d:
                low = mid
            else:
                high = mid
        space = (low + high) / 2
        return min(bound, space * -np.expm1(-n * parts / space))


#: A deduplication or a groupby takes the shuffle path only when each partition keeps more
#: than this fraction of its rows (so a tree would carry nearly every row to its root):
#: measured CPU time, 8 x 400k rows, tree vs shuffle: 0.17 vs 0.37 s at 0.63 distinct per
#: row, 0.33 vs 0.36 s at 0.88, 0.48 vs 0.32 s at 1.0.
SHUFFLE_MIN_FRACTION = 0.9

_OBSERVED: dict = {}  # name of the key columns' expression -> Cardinality


def _distinct(part: Any) -> int:
    if isinstance(part, pd.Series):
        return int(part.nunique(dropna=False))
    if part.shape[1] == 1:
        return int(part.iloc[:, 0].nunique(dropna=False))
    # one 64-bit hash a row: an estimate, so a collision (about n^2 / 2^64) does not matter
    return int(pd.unique(pd.util.hash_pandas_object(part, index=False).to_numpy()).size)


def observed_cardinality(frame: FrameExpr, columns: list | None) -> Cardinality:
    """The distinct keys of ``frame[columns]``'s first non-empty partition (of the first 4),
    read once per process for each key expression (every groupby and ``drop_duplicates``
    on the same source and keys shares the read); never read by ``expr.explain()``."""
    frame, columns = frame.cardinality_source(columns)  # a join: the side the keys come from
    keys = frame if columns is None else Projection(frame, list(columns))
    found = _OBSERVED.get(keys.name)
    if found is not None:
        return found
    found = Cardinality(0, 0, frame.npartitions, 0)
    for i in range(min(frame.npartitions, 4)):
        part = new_collection(Partitions(keys, (i,))).compute()
        if len(part):
            found = Cardinality(len(part), _distinct(part), frame.npartitions, i)
            break
    if len(_OBSERVED) > 256:
        _OBSERVED.clear()
    _OBSERVED[keys.name] = found
    return found


def observed_distinct(frame: FrameExpr, columns: list | None) -> float:
    """Estimated distinct rows of ``frame[columns]`` (:meth:`Cardinality.total`)."""
    return observed_cardinality(frame, columns).total()


def prefers_shuffle(frame: FrameExpr, columns: list | None) -> bool:
    """Whether a deduplication/groupby on ``columns`` should shuffle rather than run a tree:
    more than :data:`TREE_MAX_ROWS` distinct keys estimated and more than
    :data:`SHUFFLE_MIN_FRACTION` of each partition's rows kept by a partial. A frame of
    known length at most :data:`TREE_MAX_ROWS` rows cannot hold more keys, nor a source whose
    metadata bound its distinct keys by that (``distinct_bound``, a Parquet read's
    statistics): nothing is read."""
    return choose_by_cardinality(frame, columns)[0]


def choose_by_cardinality(frame: FrameExpr, columns: list | None) -> tuple[bool, str]:
    """:func:`prefers_shuffle`'s answer and why, as ``explain()`` shows it: what was read
    (which partition of which source, its rows and distinct keys) or that nothing was."""
    lengths = frame.lengths
    if lengths is not None and sum(lengths) <= TREE_MAX_ROWS:
        return False, (f"tree: {sum(lengths):,} rows known, at most {TREE_MAX_ROWS:,} keys; "
                       "nothing read to choose")
    bound = getattr(frame, "distinct_bound", None)  # a Parquet read: from its statistics
    if bound is not None and (bound := bound(columns)) is not None and bound <= TREE_MAX_ROWS:
        return False, (f"tree: at most {bound:,} keys by the Parquet statistics; "
                       "nothing read to choose")
    seen = observed_cardinality(frame, columns)
    shuffle = seen.fraction > SHUFFLE_MIN_FRACTION and seen.total() > TREE_MAX_ROWS
    if not seen.rows:
        read = "read the first partitions to choose: no rows"
    else:
        read = (f"read partition {seen.partition} of the keys' source to choose: {seen.rows:,} rows, "
                f"{seen.distinct:,} distinct keys ({seen.fraction:.0%}), "
                f"~{seen.total():,.0f} keys estimated in all")
    return shuffle, f"{'shuffle' if shuffle else 'tree'}: {read}"


def with_choice_note(chosen: FrameExpr, note: str) -> FrameExpr:
    """``chosen`` (the tree or the shuffle path of a :class:`ByCardinality`-like choice)
    with ``note`` on the line ``explain()`` prints for it: the tree's, or that of the
    :class:`JoinPartitions` ending the shuffle path (under its per-partition steps). The
    note is an operand, never part of a task's key."""
    if isinstance(chosen, TreeReduction):
        return ChosenTree(*chosen.operands[:len(TreeReduction._parameters)], note)
    node = chosen
    while not isinstance(node, JoinPartitions):
        inputs = node.dependencies()
        if len(inputs) != 1:
            return chosen
        node = inputs[0]
    return chosen.substitute(node, JoinPartitions(*node._frames(), note))


class ChosenTree(TreeReduction):
    """A :class:`~chunkwise.dataframe.reductions.TreeReduction` chosen by cardinality;
    ``explain()`` adds why (what was read to choose) to its line."""

    _parameters = (*TreeReduction._parameters, "note")
    _defaults = {**TreeReduction._defaults, "note": ""}

    def _explain_line(self) -> str:
        return f"{super()._explain_line()}  ({self.note})"


class ByCardinality(FrameExpr):
    """``small`` (a tree reduction) or ``large`` (a shuffle path, one partition), chosen in
    ``_lower`` from the observed number of distinct keys of ``frame[keys]``."""

    _parameters = ("small", "large", "frame", "keys")

    def _meta(self) -> Any:
        return self.small.meta

    def _divisions(self) -> tuple:
        return self.small.divisions

    def _lower(self) -> FrameExpr:
        shuffle, why = choose_by_cardinality(self.frame, self.keys)
        return with_choice_note(self.large if shuffle else self.small, why)

    def _explain_line(self) -> str:
        return (f"ByCardinality(shuffle when the first partition keeps over {SHUFFLE_MIN_FRACTION:.0%} "
                f"of its rows and over {TREE_MAX_ROWS} distinct keys are estimated, else tree)")
