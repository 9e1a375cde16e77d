"""Answers computed on the Arrow table a Parquet read gives, without building pandas objects.

A read task normally converts its Arrow table to a pandas frame, and the plan
above it works on pandas. When all the plan needs of a piece is a number that
Arrow computes directly, that conversion (and the pandas work after it) is
the larger part of the cost. This module holds those per-piece kernels; the
plan nodes that use them are in ``parquet.py`` (:class:`ParquetFilteredLength`).

- :func:`count_passing`: the rows of a piece that a filter in DNF keeps
  (``len(df[df.x > 1.0])``), reading only the filter's columns of only the
  row groups whose footer statistics leave the answer open (a row group they
  prove all-pass or none-pass is counted from the footer). The mask is
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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chunkwise.dataframe.io.filesystems import FileSystem
from chunkwise.dataframe.io.parquet_files import Piece, note_read, row_group_stats
from chunkwise.dataframe.io.row_filters import all_match, filter_columns, may_match

__all__ = ["count_passing", "matching_rows"]

_KERNELS = {"==": pc.equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
            ">=": pc.greater_equal}


def count_passing(fs: FileSystem, piece: Piece, filters: list | None | bool,
                  pushed: list | None | bool = None) -> pd.Series:
    """Rows of ``piece`` (its read row groups) that ``filters`` keep, as a one-value Series.

    ``filters`` and ``pushed`` are bound to the piece's hive partition
    (``parquet_files.piece_filter``): ``None`` keeps every row, ``False`` none.
    ``pushed`` is the filter pushed into the read this counts for: the row
    groups its statistics rule out are not the read's (planning may have
    left them to this task, see ``parquet_files.plan_pieces``). Of the others,
    a row group is decided by its footer statistics when they prove that
    every row passes (:func:`~.row_filters.all_match`: no nulls, not a float
    column, which may hold NaN) or that none does; only the rest is decoded,
    and only the filter's columns of it, one row group at a time (the mask
    is then computed on values still in cache: measured on 20 files of 4 row
    groups of 250,000 doubles, 0.097 -> 0.087 s CPU against a read of whole
    files, whose decoding alone took 0.081 s).
    """
    if filters is False or pushed is False:
        return _one(0)
    pfile = pq.ParquetFile(piece.path, filesystem=fs.arrow, pre_buffer=False)
    footer = pfile.metadata
    groups = piece.read_groups()
    if groups is None:
        groups = range(footer.num_row_groups)
    columns = filter_columns(filters)
    pushed_columns = filter_columns(pushed)
    passed = 0
    undecided = []
    for group in groups:
        rows = footer.row_group(group).num_rows
        if not rows or (pushed and not may_match(pushed, row_group_stats(footer, group,
                                                                          pushed_columns))):
            continue
        if not filters or all_match(filters, row_group_stats(footer, group, columns, nulls=True)):
            passed += rows
        elif may_match(filters, row_group_stats(footer, group, columns)):
            undecided.append(group)
    if undecided:
        whole = piece.row_groups is None and len(undecided) == footer.num_row_groups
        note_read(piece.path, None if whole else tuple(undecided), columns, filters)
        for group in undecided:  # counted while the group's values are still in cache
            table = pfile.read_row_group(group, columns=columns, use_threads=False)
            passed += matching_rows(table, filters)
    return _one(passed)


def _one(count: int) -> pd.Series:
    """A one-value int64 Series (built from an array: ``pd.Series([n], dtype=)`` costs 4x)."""
    return pd.Series(np.array([count], dtype=np.int64))


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
