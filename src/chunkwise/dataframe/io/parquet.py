"""``read_parquet`` and ``to_parquet``: the plan nodes and the user functions.

:class:`ReadParquet` is the scan. Its operands are the discovered dataset
(files and schema, see ``parquet_files.discover``), the columns, the filters and the
split options; its pieces (one per partition) are planned from those when the
partition count is first needed. The optimizer narrows it from above, in its
``_simplify_up`` rules (the child rewrites its parent):

- ``Projection(read, cols)`` -> a read of ``cols`` only (``df[["a", "b"]]``,
  ``df.a``, and so an aggregate over one column);
- ``Filter(read, read.x > 5)`` (comparisons of a column with a scalar,
  combined with ``&`` and ``|``) -> the same Filter over a read whose
  ``pushed`` filters hold the predicate: hive partitions and row groups are
  skipped by it, and the Filter above filters the rows read, exactly (so
  ``!=``, whose null semantics differ, is not pushed). Under the user's own
  ``filters=`` too: rows the user's filter keeps are numbered from 0 in each
  piece, so a row group skipped there still counts its rows passing the
  user's filter (from statistics, or a read of the filter's columns);
- reads of one source that differ only in their columns (results computed
  together, or a filter whose frame and predicate were narrowed apart) ->
  one read of the union of their columns (``_source_key`` groups them), so
  each file is read once;
- ``len`` of an unfiltered read -> :class:`ParquetLength`, the row counts
  from the footers (no data read).

``explain()`` shows the columns, the filters and the files and row groups
read. :func:`chunkwise.dataframe.io.parquet_files.record_reads` shows what each
task read.

``to_parquet`` writes one file per partition through :class:`WriteParquet`,
after a task that prepares the directory and before one that marks it
complete; see ``parquet_files`` for the markers that keep a failed write from
looking complete.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import chunkwise.dataframe.io.arrow_kernels as arrow_kernels  # per-piece answers on Arrow tables
import chunkwise.dataframe.io.parquet_files as files  # file planning, reading one piece, safe writes
import chunkwise.dataframe.io.statistics as statistics  # what footers' statistics tell a plan
from chunkwise.core.expr import walk
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.dataframe.expr import (
    Filter,
    FrameExpr,
    MapPartitions,
    Projection,
    partition_length,
)
from chunkwise.dataframe.io.filesystems import resolve
from chunkwise.dataframe.io.row_filters import (
    absorb,
    and_filters,
    comparable,
    filter_columns,
    is_filter_scalar,
    normalize,
    plain,
)

__all__ = [
    "ParquetFilteredLength",
    "ParquetLength",
    "ReadParquet",
    "WriteParquet",
    "consumers_of",
    "predicate_to_filters",
    "read_parquet",
    "record_reads",
    "same_source",
    "to_parquet",
]

record_reads = files.record_reads

_COMPARISONS = {"eq": "==", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_REFLECTED = {"==": "==", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class ReadParquet(FrameExpr):
    """A Parquet scan; see the module docstring."""

    _parameters = ("dataset", "columns", "filters", "pushed", "index", "split_row_groups",
                   "blocksize", "calculate_divisions", "dictionary")
    _operand_only = ('columns',)  # metadata of the same name: read with operand()
    _defaults = {"columns": None, "filters": None, "pushed": None, "index": None,
                 "split_row_groups": "infer", "blocksize": files.DEFAULT_BLOCKSIZE,
                 "calculate_divisions": False, "dictionary": ()}

    @property
    def _funcname(self) -> str:
        return "read-parquet"

    # --- metadata ---------------------------------------------------------------------

    def _full_meta(self) -> pd.DataFrame:
        meta = self.dataset.meta
        if self.dictionary:  # read dictionary-encoded: categoricals, categories per piece
            meta = meta.astype({c: pd.CategoricalDtype(pd.Index([], dtype=meta[c].dtype))
                                for c in self.dictionary})
        index = self.index
        if index is False:
            meta = meta.reset_index(drop=True)
        elif index is not None:
            meta = meta.set_index(index)
        return meta

    def _meta(self) -> Any:
        meta = self._full_meta()
        columns = self.operand("columns")
        return meta if columns is None else meta[columns]

    @functools.cached_property
    def pieces(self) -> list:
        """What each partition reads: planned on first use (the partition count needs it).

        A filter pushed under the user's own ``filters=`` on a file labelled by
        position keeps the user's pieces (rows are numbered per piece) and
        marks the row groups it rules out as skipped (``statistics.skip_row_groups``).
        """
        if self.pushed and self.filters and self._positional():
            pieces = files.plan_pieces(self.dataset, self.filters, self.split_row_groups,
                                       self.blocksize)
            return statistics.skip_row_groups(self.dataset, pieces, self.pushed)
        return files.plan_pieces(
            self.dataset, and_filters(self.filters, self.pushed) if self.pushed else self.filters,
            self.split_row_groups, self.blocksize,
        )

    def _divisions(self) -> tuple:
        unknown = (None,) * (max(len(self.pieces), 1) + 1)
        if not self.calculate_divisions or not self.pieces:
            return unknown
        index = self.index if self.index is not None else list(self.dataset.pandas_index)
        if isinstance(index, list):
            index = index[0] if len(index) == 1 else None
        if not isinstance(index, str) or index in self.dataset.partitions:
            return unknown
        divisions = statistics.divisions_from_statistics(self.dataset, self.pieces, index)
        return unknown if divisions is None else divisions

    def column_bounds(self, column: Any) -> list | None:
        """Each partition's ``(min, max)`` of ``column`` (``None`` for a partition of no rows)
        from the footers' statistics (``statistics.piece_bounds``), exact for the rows
        read: ``None`` under a filter (the statistics bound row groups, not the rows it
        keeps), for a hive partition column, and for a column that is not a stored number
        or datetime (strings' statistics may be truncated). ``set_index(sorted=True)``
        asks this (through ``chunkwise.dataframe.column_bounds``) before reading."""
        meta = self.meta
        if (
            self.filters or self.pushed or not self.pieces or not isinstance(meta, pd.DataFrame)
            or column not in meta.columns or column in self.dataset.partitions
            or meta.columns.has_duplicates or len(self.pieces) != self.npartitions
        ):
            return None
        dtype = meta[column].dtype
        if not isinstance(dtype, np.dtype) or dtype.kind not in "iufM":
            return None
        bounds = statistics.piece_bounds(self.dataset, self.pieces, column)
        if bounds is not None and any(b is not None and pd.isna(list(b)).any() for b in bounds):
            return None  # a writer that put NaN in the statistics: they bound nothing
        if bounds is None or dtype.kind != "M":
            return bounds
        return [None if b is None else (pd.Timestamp(b[0]), pd.Timestamp(b[1])) for b in bounds]

    def distinct_bound(self, columns: list | None) -> int | None:
        """At most how many distinct rows ``self[columns]`` holds, from the footers'
        statistics (``statistics.distinct_bound``: integer columns); ``None``: unknown.
        A groupby's choice of tree or shuffle asks this before sampling the data."""
        if columns is None or self.dictionary:
            return None
        return statistics.distinct_bound(self.dataset, self.pieces, list(columns))

    @functools.cached_property
    def _file_columns(self) -> list[str] | None:
        columns = self.operand("columns")
        if columns is None:
            return None
        wanted = [columns] if not isinstance(columns, list) else list(columns)
        if self.index not in (None, False):
            wanted += [self.index] if isinstance(self.index, str) else list(self.index)
        return [c for c in dict.fromkeys(wanted) if c not in self.dataset.partitions]

    def _positional(self) -> bool:
        """Whether rows are labelled by their position in the file (a stored RangeIndex)."""
        return self.index is None and not self.dataset.pandas_index

    @functools.cached_property
    def _read_meta(self) -> pd.DataFrame:
        columns = self.operand("columns")
        meta = self._full_meta()
        if columns is None:
            return meta
        return meta[[columns] if not isinstance(columns, list) else columns]

    # --- tasks --------------------------------------------------------------------------

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        columns = self.operand("columns")
        if not self.pieces:  # every row filtered out at plan time: one empty partition
            return Task(key, _empty_like, self._meta())
        piece = self.pieces[i]
        dataset = self.dataset
        task = Task(
            key, files.read_piece, dataset.fs, piece, self._file_columns,
            files.piece_filter(self.filters, piece), self.index, self._read_meta,
            dataset.partitions, () if self.index is not None else dataset.pandas_index,
            files.piece_filter(self.pushed, piece), self._positional(), self.dictionary,
        )
        if columns is not None and not isinstance(columns, list):
            return Task(key, _column, task, columns)
        return task

    # --- rewrites -------------------------------------------------------------------------

    def _replace(self, **changes: Any) -> ReadParquet:
        values = dict(zip(self._parameters, self.operands))
        values.update(changes)
        return ReadParquet(*(values[p] for p in self._parameters))

    def _source_key(self) -> Hashable:
        """Reads of one source that differ only in their columns share a key (see
        :func:`same_source`): the optimizer lists the consumers of all of them."""
        return ("read-parquet", id(self.dataset), repr(self.filters), repr(self.pushed),
                repr(self.index), repr(self.split_row_groups), self.blocksize,
                self.calculate_divisions, self.dictionary)

    def _simplify_up(self, parent: Any, dependents: Any = None) -> Any:
        if isinstance(parent, Projection) and parent.frame.name == self.name:
            out = self._push_projection(parent, dependents)
            if out is not None:
                return out
        elif isinstance(parent, Filter) and parent.frame.name == self.name:
            out = self._push_filter(parent, dependents)
            if out is not None:
                return out
        elif _is_length(parent, self) and self.filters is None and self.pushed is None:
            return ParquetLength(self.dataset, self.split_row_groups, self.blocksize)
        return self._widen_to_siblings(parent, dependents)

    def rewrite_column_consumer(self, projection: Projection, consumer: Any, dependents: Any) -> Any:
        """``consumer`` of ``projection`` (one string column of this read) over a
        dictionary-encoded read of the column, when the consumer can take one
        (``consumer.with_dictionary_column``: ``value_counts``, ``nunique``, ``mode``) and
        nothing else in the plan reads this source: a read shared with another
        consumer stays one plain read (see the module docstring)."""
        column = projection.operand("columns")
        rewrite = getattr(consumer, "with_dictionary_column", None)
        if (
            rewrite is None or dependents is None or self.dictionary or self.filters
            or self.pushed or isinstance(column, list)
            or self.operand("columns") not in (column, [column])
            or not self._dictionary_readable(column)
        ):
            return None
        if [c.name for c in consumers_of(self, dependents)] != [projection.name]:
            return None
        if hasattr(dependents, "of_source") and {
            c.name for c in dependents.of_source(self)
        } != {projection.name}:
            return None
        if [c.name for c in consumers_of(projection, dependents)] != [consumer.name]:
            return None
        return rewrite(Projection(self._replace(dictionary=(column,)), column))

    def rewrite_filtered_consumer(self, filtered: Filter, consumer: Any, dependents: Any) -> Any:
        """``len(df[pred])`` over this read -> :class:`ParquetFilteredLength`: the rows
        ``pred`` keeps counted on Arrow data, reading only its columns, no pandas frame.

        Only once ``pred`` is pushed into this read (so its row groups are skipped),
        without the user's ``filters=`` (which renumber rows), and when nothing outside
        the filter uses this source: a read shared with another result stays one read.
        """
        if dependents is None or self.filters or self.pushed is None or self.index is False:
            return None
        if not _is_length(consumer, filtered):
            return None
        dnf = predicate_to_filters(filtered.predicate, self)
        if dnf is None or and_filters(self.pushed, dnf) != self.pushed:
            return None
        if not _used_only_inside(filtered, dependents):
            return None
        inside = {e.name for e in walk([filtered])}
        if hasattr(dependents, "of_source") and not all(
            c.name in inside for c in dependents.of_source(self)
        ):
            return None
        return ParquetFilteredLength(self.dataset, self.pushed, self.split_row_groups,
                                     self.blocksize, dnf)

    def _dictionary_readable(self, column: Hashable) -> bool:
        """A file column (not a hive partition, not the index) of strings."""
        dataset = self.dataset
        if column in dataset.partitions or column in dataset.pandas_index or column == self.index:
            return False
        if column not in dataset.schema.names:
            return False
        kind = dataset.schema.field(column).type
        return (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and \
            pd.api.types.is_string_dtype(self.dataset.meta[column].dtype)

    def _widen_to_siblings(self, parent: Any, dependents: Any) -> Any:
        """``parent`` reading a read of the union of the columns that every read of this
        source needs, projected to this read's columns: reads of one source computed
        together (``compute(df.a.sum(), df.b.mean())``, a filter whose frame and
        predicate were narrowed apart) become one read of each file."""
        columns = self.operand("columns")
        if not isinstance(columns, list) or not hasattr(dependents, "of_source"):
            return None
        union = _family_columns(self, dependents)
        if union is None or union <= set(columns):
            return None
        full = list(self._full_meta().columns)
        if not union <= set(full):
            return None
        widened = self._replace(columns=[c for c in full if c in union])
        narrowed = Projection(widened, columns)
        return parent.with_operands(
            [narrowed if isinstance(op, FrameExpr) and op.name == self.name else op
             for op in parent.operands]
        )

    def _push_projection(self, parent: Projection, dependents: Any) -> Any:
        current = self.operand("columns")
        if current is not None and not isinstance(current, list):
            return None
        wanted = parent.operand("columns")
        needed = [wanted] if not isinstance(wanted, list) else list(wanted)
        have = list(self.meta.columns)
        if dependents is not None:
            union = _columns_needed(self, dependents)
            if union is None:
                return None
            if hasattr(dependents, "of_source"):
                family = _family_columns(self, dependents)
                if family is not None and isinstance(current, list):
                    union |= family
                    have = [c for c in self._full_meta().columns if c in union | set(have)]
            needed = [c for c in have if c in union]
        if not set(needed) <= set(have):
            return None
        if needed == have:
            return self if wanted == have else None  # nothing to narrow
        narrowed = self._replace(columns=needed)
        if wanted == needed:
            return narrowed
        return Projection(narrowed, wanted)

    def _push_filter(self, parent: Filter, dependents: Any) -> Any:
        if self.index is False:
            return None  # row labels are numbered afresh: skipping row groups would change them
        dnf = predicate_to_filters(parent.predicate, self)
        if dnf is None:
            return None
        if dependents is not None and not _only_filtered_by(self, parent, dependents):
            return None
        combined = and_filters(self.pushed, dnf)
        if self.pushed is not None and combined == self.pushed:
            return None
        narrowed = self._replace(pushed=combined)
        predicate = parent.predicate
        for node in list(walk([predicate])):
            if isinstance(node, ReadParquet) and same_source(node, self):
                predicate = predicate.substitute(node, node._replace(pushed=combined))
        return Filter(narrowed, predicate)

    # --- explaining --------------------------------------------------------------------------

    def _explain_line(self) -> str:
        dataset = self.dataset
        columns = self.operand("columns")
        pieces = self.pieces
        paths = {p.path for p in pieces}
        parts = [
            f"ReadParquet: {dataset.fs.unstrip(dataset.fs.path) if len(dataset.files) > 1 else dataset.files[0]}",
            f"columns={'all' if columns is None else columns!r}",
        ]
        if self.filters is not None or self.pushed is not None:
            parts.append(f"filters={and_filters(self.filters, self.pushed) if self.pushed else self.filters!r}")
        if self.index is not None:
            parts.append(f"index={self.index!r}")
        if self.dictionary:
            parts.append(f"dictionary={list(self.dictionary)!r}")
        read = f"files={len(paths)}/{len(dataset.files)}"
        if any(p.row_groups is not None for p in pieces):
            counts = [
                len(p.read_groups()) if p.row_groups is not None
                else getattr(dataset.footers.get(p.path), "num_row_groups", None)
                for p in pieces
            ]
            if None not in counts:
                read += f", row groups={sum(counts)}"
        parts.append(read)
        return ", ".join(parts) + f"  [{self.npartitions} partitions]"


class ParquetLength(FrameExpr):
    """Rows per partition of an unfiltered Parquet read, from the footers alone."""

    _parameters = ("dataset", "split_row_groups", "blocksize")

    def _meta(self) -> Any:
        return pd.Series(dtype="int64")

    @functools.cached_property
    def pieces(self) -> list:
        """The pieces of the unfiltered read whose rows are counted."""
        return files.plan_pieces(self.dataset, None, self.split_row_groups, self.blocksize)

    def _divisions(self) -> tuple:
        return (None,) * (len(self.pieces) + 1)

    @functools.cached_property
    def counts(self) -> list[int]:
        """Rows of each piece: the footers are read here, once, on a thread pool."""
        return files.piece_counts(self.dataset, self.pieces)

    def _task(self, key: Hashable) -> DataNode:
        return DataNode(key, pd.Series([self.counts[key[1]]], dtype="int64"))

    def _explain_line(self) -> str:
        return f"ParquetLength: rows from {len(self.pieces)} footers  [{self.npartitions} partitions]"


class ParquetFilteredLength(FrameExpr):
    """Rows per partition of a Parquet read that a filter keeps (``len(df[pred])``),
    counted on the Arrow table of the filter's columns (``arrow_kernels.count_passing``).

    Operands: the read's dataset, its ``pushed`` filters and split options (so the
    pieces, row groups skipped included, are the read's own) and ``counted``, the
    filter whose passing rows are counted (pandas' ``pred``, in DNF).
    """

    _parameters = ("dataset", "pushed", "split_row_groups", "blocksize", "counted")

    def _meta(self) -> Any:
        return pd.Series(dtype="int64")

    @functools.cached_property
    def pieces(self) -> list:
        """The pieces of the read this counts (planned as :attr:`ReadParquet.pieces`)."""
        return files.plan_pieces(self.dataset, self.pushed, self.split_row_groups, self.blocksize,
                                 statistics_in_task=True)

    def _divisions(self) -> tuple:
        return (None,) * (max(len(self.pieces), 1) + 1)

    def _task(self, key: Hashable) -> Any:
        if not self.pieces:
            return DataNode(key, pd.Series([0], dtype="int64"))
        piece = self.pieces[key[1]]
        return Task(key, arrow_kernels.count_passing, self.dataset.fs, piece,
                    files.piece_filter(self.counted, piece), files.piece_filter(self.pushed, piece))

    def _explain_line(self) -> str:
        pieces = self.pieces
        return (f"ParquetFilteredLength: rows passing {self.counted!r}, counted on Arrow "
                f"(files={len({p.path for p in pieces})}/{len(self.dataset.files)}, each task reads its "
                "footer: row groups whose statistics prove all or none pass are not decoded)  "
                f"[{self.npartitions} partitions]")


def _used_only_inside(filtered: Filter, dependents: Any) -> bool:
    """Whether every node under ``filtered`` (its frame, its predicate, what they read)
    is consumed by ``filtered`` or by other nodes under it, and nothing else."""
    inside = {e.name for e in walk([filtered])}
    return all(
        c.name in inside
        for node in walk([filtered]) if node.name != filtered.name
        for c in consumers_of(node, dependents)
    )


def _empty_like(meta: Any) -> Any:
    return meta.copy()


def _column(frame: pd.DataFrame, column: Hashable) -> pd.Series:
    return frame[column]


def _is_length(parent: Any, child: FrameExpr) -> bool:
    return (
        isinstance(parent, MapPartitions)
        and parent.func is partition_length
        and list(parent.operands[len(MapPartitions._parameters):]) == [child]
    )


def consumers_of(expr: FrameExpr, dependents: Any) -> list:
    """The nodes consuming ``expr``: ``dependents`` is a mapping name -> nodes (or weak
    references to them, as dask-expr keeps them) or the list of nodes itself."""
    found = dependents.get(expr.name, []) if isinstance(dependents, Mapping) else dependents
    nodes = [node if isinstance(node, FrameExpr) or not callable(node) else node() for node in found]
    return [node for node in nodes if node is not None]


def _columns_needed(read: ReadParquet, dependents: Any) -> set | None:
    """The union of columns every consumer of ``read`` needs; ``None`` when one needs all."""
    consumers = consumers_of(read, dependents)
    needed: set = set()
    for consumer in consumers:
        if not (isinstance(consumer, Projection) and consumer.frame.name == read.name):
            return None
        cols = consumer.operand("columns")
        needed.update([cols] if not isinstance(cols, list) else cols)
    return needed


def _family_columns(read: ReadParquet, dependents: Any) -> set | None:
    """The union of the columns needed by the consumers of every read of ``read``'s source
    (``dependents.of_source``); ``None`` when one of them needs a read of all columns.
    A consumer other than a projection needs all the columns of the read it consumes."""
    needed: set = set()
    for consumer in dependents.of_source(read):
        for frame in consumer.dependencies():
            if not (isinstance(frame, ReadParquet) and same_source(frame, read)):
                continue
            if isinstance(consumer, Projection) and consumer.frame.name == frame.name:
                cols = consumer.operand("columns")
            else:
                cols = frame.operand("columns")
                if cols is None:
                    return None
            needed.update([cols] if not isinstance(cols, list) else cols)
    return needed


def _only_filtered_by(read: ReadParquet, parent: Filter, dependents: Any) -> bool:
    """Whether every consumer of ``read`` is ``parent`` or inside its predicate."""
    consumers = consumers_of(read, dependents)
    inside = {e.name for e in walk([parent.predicate])}
    return all(c.name == parent.name or c.name in inside for c in consumers)


# --- predicates -> DNF ------------------------------------------------------------------------


def predicate_to_filters(predicate: Any, read: FrameExpr) -> list | None:
    """The DNF filter equivalent to ``predicate`` over ``read``'s columns; ``None`` if none is.

    Understood: ``read.col <op> scalar`` (and reflected) for ``== < <= > >=``,
    combined with ``&`` and ``|``.
    """
    if not isinstance(predicate, MapPartitions):
        return None
    func = predicate.func
    args = list(predicate.operands[len(MapPartitions._parameters):])
    opname = getattr(func, "__name__", "")
    if opname in ("and_", "or_") and len(args) == 2 and not predicate.operand("kwargs"):
        left = predicate_to_filters(args[0], read)
        right = predicate_to_filters(args[1], read)
        if left is None or right is None:
            return None
        combined = and_filters(left, right) if opname == "and_" else absorb(left + right)
        return combined if len(combined) <= 64 else None
    if opname in _COMPARISONS and len(args) == 2 and not predicate.operand("kwargs"):
        op = _COMPARISONS[opname]
        column, value = args
        if _is_column_of(value, read) and is_filter_scalar(column):
            column, value, op = value, column, _REFLECTED[op]
        if _is_column_of(column, read) and is_filter_scalar(value) and comparable(column.meta.dtype, value):
            return [[(column.operand("columns"), op, plain(value))]]
    return None


def same_source(a: ReadParquet, b: ReadParquet) -> bool:
    """Whether two reads differ at most in their columns (so their partitions align)."""
    return a.name == b.name or (
        a.dataset is b.dataset
        and a.filters == b.filters
        and a.pushed == b.pushed
        and a.index == b.index
        and a.split_row_groups == b.split_row_groups
        and a.blocksize == b.blocksize
        and a.dictionary == b.dictionary
    )


def _is_column_of(expr: Any, read: FrameExpr) -> bool:
    """``expr`` is one column of a read of the same source as ``read``."""
    return (
        isinstance(expr, Projection)
        and isinstance(expr.frame, ReadParquet)
        and same_source(expr.frame, read)
        and not isinstance(expr.operand("columns"), list)
    )


# --- user functions ------------------------------------------------------------------------------


def read_parquet(
    path: Any,
    columns: Any = None,
    filters: Any = None,
    index: Any = None,
    split_row_groups: Any = "infer",
    blocksize: int | str = files.DEFAULT_BLOCKSIZE,
    storage_options: dict | None = None,
    dataset: dict | None = None,
    calculate_divisions: bool = False,
) -> Any:
    """Read a Parquet file, a list of files or a directory (hive partitions) lazily.

    Like ``dask.dataframe.read_parquet`` and ``pandas.read_parquet``:

    - ``columns``: a list (a DataFrame) or a label (a Series); default all.
    - ``filters``: pyarrow's DNF form (``[("x", ">", 5)]``, or a list of such
      lists OR-ed). Hive partitions and row groups that cannot match are not
      read (row-group statistics are read only for this), and rows are
      filtered exactly, as ``pd.read_parquet(filters=)`` does.
    - ``index``: a column (or list) to use as the index; ``False`` for none;
      default: the index pandas stored in the file's metadata.
    - ``split_row_groups``: ``False`` one partition per file; ``True`` one per
      row group; an int, that many row groups per partition; ``"infer"``
      (default) splits files whose row groups exceed ``blocksize`` in total.
    - ``storage_options``: for fsspec URLs (``s3://...``).
    - ``dataset``: options for ``pyarrow.dataset.dataset`` (``partitioning``).
    - ``calculate_divisions``: read the footers' statistics of the index column
      (in parallel) and give known divisions when the partitions are sorted
      and do not overlap; otherwise (and by default) divisions are unknown.

    Hive partition columns are pandas categoricals of every value found, as in
    ``pd.read_parquet``.
    """
    from chunkwise.dataframe.core import new_collection

    found = files.discover(path, storage_options, dataset)
    dnf = normalize(filters)
    if dnf is not None:
        missing = [c for c in filter_columns(dnf) if c not in found.meta.columns
                   and c not in found.meta.index.names]
        if missing:
            raise KeyError(
                f"read_parquet: filters name columns {missing} not in the dataset; "
                f"its columns: {list(found.meta.columns)}"
            )
    if isinstance(columns, tuple):
        columns = list(columns)
    expr = ReadParquet(found, None, dnf, None, index, split_row_groups, blocksize,
                       calculate_divisions)
    if columns is not None:
        available = list(expr.meta.columns)
        wanted = columns if isinstance(columns, list) else [columns]
        missing = [c for c in wanted if c not in available]
        if missing:
            raise KeyError(
                f"read_parquet: columns {missing} not found; available columns: {available}"
            )
        expr = expr._replace(columns=columns)
    return new_collection(expr)


class WriteParquet(FrameExpr):
    """Partition ``i`` of ``frame`` written to ``part.<first+i>.parquet``; then marked complete.

    Outputs: ``(name, i)`` per partition (its footers) and ``name`` itself,
    the task that marks the dataset complete (the number of parts written).
    """

    _parameters = ("frame", "fs", "first", "delete", "partition_on", "write_index",
                   "write_metadata_file")

    def _meta(self) -> Any:
        return np.int64(0)

    def _divisions(self) -> tuple:
        return (None, None)

    @property
    def _prepare_key(self) -> str:
        return "prepare-" + self.name

    def _owned_names(self) -> tuple:
        return (self.name, self._prepare_key, "write-" + self.name)

    def _output_keys(self) -> list:
        return [(self.name, 0)]

    def _task(self, key: Hashable) -> Task:
        if key == self._prepare_key:
            return Task(key, files.prepare_target, self.fs, self.delete)
        if type(key) is tuple and key[0] == "write-" + self.name:
            i = key[1]
            return Task(
                key, files.write_partition, Ref((self.frame.name, i)), self.fs, self.first + i,
                self.partition_on, self.write_index, bool(self.write_metadata_file),
                Ref(self._prepare_key),
            )
        parts = [Ref(("write-" + self.name, i)) for i in range(self.frame.npartitions)]
        return Task(key, files.finish_dataset, parts, self.fs, self.first,
                    bool(self.write_metadata_file), None)

    def _explain_line(self) -> str:
        return (f"WriteParquet: {self.fs.unstrip(self.fs.path)}, parts from {self.first}, "
                f"partition_on={self.partition_on!r}  [{self.frame.npartitions} files]")


def to_parquet(
    df: Any,
    path: Any,
    partition_on: Any = None,
    append: bool = False,
    overwrite: bool = False,
    write_index: bool = True,
    write_metadata_file: bool | None = None,
    storage_options: dict | None = None,
    compute: bool = True,
    compute_kwargs: dict | None = None,
) -> Any:
    """Write ``df`` as a Parquet dataset: one ``part.<i>.parquet`` per partition.

    Like ``dask.dataframe.to_parquet``. Each file is written under a hidden
    temporary name and renamed. The directory holds ``_chunkwise_incomplete``
    until every partition is written, then ``_chunkwise``; ``read_parquet``
    refuses a dataset still marked incomplete. ``overwrite=True`` replaces only
    a dataset chunkwise wrote, and never one this plan reads from;
    ``append=True`` checks the schema and continues the part numbers.
    ``write_metadata_file=True`` also writes ``_metadata`` (all footers).

    Returns the number of files written (``compute=False``: a lazy Scalar).
    A failed write names, in its error, the parts that were written.
    """
    from chunkwise.dataframe.core import new_collection

    if overwrite and append:
        raise ValueError("to_parquet: overwrite=True and append=True cannot be combined; choose one")
    frame = df.expr
    if not isinstance(frame.meta, pd.DataFrame):
        raise TypeError(
            f"to_parquet: writes a DataFrame, got a {type(frame.meta).__name__}; "
            "use series.to_frame() first"
        )
    fs = resolve(path, storage_options)
    partition_on = [partition_on] if isinstance(partition_on, str) else partition_on
    if partition_on:
        missing = [c for c in partition_on if c not in frame.meta.columns]
        if missing:
            raise KeyError(f"to_parquet: partition_on columns {missing} not in {list(frame.meta.columns)}")
    if overwrite:
        _refuse_reading_target(frame, fs)
    first, delete = files.check_target(fs, overwrite, append, frame.meta)
    write = WriteParquet(frame, fs, first, delete, partition_on, write_index, write_metadata_file)
    result = new_collection(write)
    if not compute:
        return result
    try:
        return int(result.compute(**(compute_kwargs or {})))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        target = fs.unstrip(fs.path)
        if fs.fs.exists(fs.join(files.INCOMPLETE_MARKER)):
            written = files.written_parts(fs)
            _add_note(
                exc,
                f"to_parquet({target!r}) failed; parts written: {', '.join(written) or 'none'}. "
                f"The dataset stays marked incomplete ({files.INCOMPLETE_MARKER}) and "
                "read_parquet refuses it; rerun with overwrite=True."
            )
        else:
            _add_note(exc, f"to_parquet({target!r}) failed before writing anything.")
        raise


def _add_note(exc: BaseException, text: str) -> None:
    """``exc.add_note(text)`` (Python 3.11+), or the same ``__notes__`` list before it."""
    if hasattr(exc, "add_note"):
        exc.add_note(text)
    else:
        exc.__notes__ = [*getattr(exc, "__notes__", []), text]


def _refuse_reading_target(frame: FrameExpr, fs: Any) -> None:
    target = fs.path.rstrip("/") + "/"
    for node in walk([frame]):
        if isinstance(node, (ReadParquet, ParquetLength)):
            source = node.dataset
            if source.fs.protocol != fs.protocol:
                continue
            if any((f + "/").startswith(target) or f == fs.path for f in source.files):
                raise ValueError(
                    f"to_parquet(overwrite=True): {fs.unstrip(fs.path)!r} is read by this same plan; "
                    "overwriting it would delete data still being read. Write to another path "
                    "(then rename), or persist() the data first"
                )
