"""Answers computed on the Arrow table a Parquet read gives, without building pandas objects.

A read task normally converts its Arrow table to a pandas frame, and the plan
above it works on pandas. When all the plan needs of a piece is a number that
Arrow computes directly, that conversion (and the pandas work after it) is
the larger part of the cost. This module holds those per-piece kernels; the
plan nodes that use them are in ``parquet.py`` (:class:`ParquetFilteredLength`).

- :func:`count_passing`: the rows of a piece that a filter in DNF keeps
  (``len(df[df.x > 1.0])``), reading only the filter's columns. The mask is
  built with ``pyarrow.compute`` comparisons combined by Kleene logic, so a
  null compares as false, as pandas' comparisons of a missing value do; a
  comparison those kernels cannot make (say, a timestamp scalar of another
  unit) falls back to pyarrow's own filter expression.

Only filters that ``parquet.predicate_to_filters`` builds reach here: the
comparisons pyarrow evaluates as pandas does (``==, <, <=, >, >=`` of a
column with a scalar of a comparable type; ``!=`` is never pushed).
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chunkwise.dataframe.io._filters import filter_columns
from chunkwise.dataframe.io._fs import FileSystem
from chunkwise.dataframe.io._parquet import Piece, note_read

__all__ = ["count_passing", "matching_rows"]

_KERNELS = {"==": pc.equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
            ">=": pc.greater_equal}


def count_passing(fs: FileSystem, piece: Piece, filters: list | None | bool) -> pd.Series:
    """Rows of ``piece`` (its read row groups) that ``filters`` keep, as a one-value Series.

    ``filters`` is bound to the piece's hive partition (``_parquet.piece_filter``):
    ``None`` keeps every row (only the footer is read), ``False`` none.
    """
    groups = piece.read_groups()
    if filters is False:
        return pd.Series([0], dtype="int64")
    pfile = pq.ParquetFile(piece.path, filesystem=fs.arrow)
    if filters is None:
        footer = pfile.metadata
        rows = footer.num_rows if groups is None else sum(
            footer.row_group(g).num_rows for g in groups)
        return pd.Series([rows], dtype="int64")
    columns = filter_columns(filters)
    note_read(piece.path, groups, columns, filters)
    if groups is None:
        table = pfile.read(columns=columns, use_threads=False)
    else:
        table = pfile.read_row_groups(list(groups), columns=columns, use_threads=False)
    return pd.Series([matching_rows(table, filters)], dtype="int64")


def matching_rows(table: pa.Table, filters: list) -> int:
    """How many rows of ``table`` the DNF ``filters`` keep (a null comparison is false).

    >>> table = pa.table({"x": [0.5, 2.0, None, 3.0], "s": ["a", "b", "c", None]})
    >>> matching_rows(table, [[("x", ">", 1.0)], [("s", "==", "a")]])
    3
    """
    try:
        mask = reduce(pc.or_kleene, [
            reduce(pc.and_kleene, [_compare(table.column(col), op, value)
                                   for col, op, value in conj])
            for conj in filters
        ])
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return table.filter(pq.filters_to_expression(filters)).num_rows
    return int(pc.sum(mask).as_py() or 0)


def _compare(column: pa.ChunkedArray, op: str, value: Any) -> pa.ChunkedArray:
    if isinstance(value, pd.Timestamp):
        raise TypeError("timestamps are compared by pyarrow's filter expression")
    kernel = _KERNELS.get(op)
    if kernel is None:
        raise TypeError(f"no kernel for {op!r}")
    return kernel(column, value)
