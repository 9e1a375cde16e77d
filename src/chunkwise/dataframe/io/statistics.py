"""What Parquet footers' row-group statistics tell a plan, without reading data.

Planning a read (``parquet_files.plan_pieces``) reads footers only when something
needs them; these helpers are the other consumers of the footers' min/max and
null-count statistics, each a pure function of a :class:`~.parquet_files.ParquetDataset`
(whose footer cache they share) and the planned pieces:

- :func:`skip_row_groups`: mark the row groups a filter the optimizer pushed
  into the read rules out (``df[df.x > 5]``), keeping the pieces themselves;
- :func:`distinct_bound`: at most how many distinct keys integer columns hold,
  so a groupby picks the tree reduction without sampling data;
- :func:`piece_bounds`: each piece's min and max of a column (``set_index(sorted=True)``
  takes its divisions from them, through maps that keep the order; see
  ``chunkwise.dataframe.column_bounds``);
- :func:`divisions_from_statistics`: divisions of a sorted index column, from the same
  bounds.

The statistics of one row group are read by ``parquet_files.row_group_stats``,
which planning uses too.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pyarrow as pa

from chunkwise.dataframe.io.parquet_files import ParquetDataset, Piece, row_group_stats
from chunkwise.dataframe.io.row_filters import bind_partition, filter_columns, may_match

__all__ = ["distinct_bound", "divisions_from_statistics", "piece_bounds", "skip_row_groups"]


def skip_row_groups(dataset: ParquetDataset, pieces: list[Piece], pushed: list[list[tuple]]) -> list[Piece]:
    """``pieces`` (planned for the user's ``filters=``) with the row groups that ``pushed``
    rules out by statistics marked ``skipped``; a piece whose every row group is ruled out
    is dropped (the filter above would keep none of its rows).

    The pieces themselves stay those of the user's filter: rows a user filter
    keeps are numbered from 0 in each piece, and those numbers must not change
    because a later filter was pushed into the read.
    """
    columns = [c for c in filter_columns(pushed) if c not in dataset.partitions]
    paths = list(dict.fromkeys(p.path for p in pieces))
    footers = dict(zip(paths, dataset.read_footers(paths)))
    out = []
    for piece in pieces:
        bound = bind_partition(pushed, dict(piece.partition))
        if bound is False:
            continue
        if bound is None:
            out.append(piece)
            continue
        footer = footers[piece.path]
        groups = piece.row_groups if piece.row_groups is not None else tuple(range(footer.num_row_groups))
        skipped = tuple(g for g in groups if not may_match(bound, row_group_stats(footer, g, columns)))
        if groups and len(skipped) == len(groups):
            continue
        out.append(replace(piece, row_groups=groups, skipped=skipped) if skipped else piece)
    return out


def distinct_bound(dataset: ParquetDataset, pieces: list[Piece], columns: list[str]) -> int | None:
    """At most how many distinct rows ``columns`` hold over ``pieces``, from the footers'
    statistics alone: the product, over the columns, of ``max - min + 1`` across the row
    groups read (one more when a column holds nulls). Only integer file columns whose
    every row group has statistics bound it; ``None`` otherwise (nothing is read but the
    footers, which planning reads anyway)."""
    if not columns or not pieces:
        return None
    for column in columns:
        if column in dataset.partitions or column not in dataset.schema.names or \
                not pa.types.is_integer(dataset.schema.field(column).type):
            return None
    paths = list(dict.fromkeys(p.path for p in pieces))
    footers = dict(zip(paths, dataset.read_footers(paths)))
    low: dict = {}
    high: dict = {}
    nulls: dict = dict.fromkeys(columns, 0)
    for piece in pieces:
        footer = footers[piece.path]
        groups = piece.read_groups()
        for g in range(footer.num_row_groups) if groups is None else groups:
            if not footer.row_group(g).num_rows:
                continue
            stats = row_group_stats(footer, g, columns, nulls=True)
            if len(stats) != len(columns):
                return None  # a row group without statistics for a column
            for column, (lo, hi, null_count) in stats.items():
                low[column] = lo if column not in low else min(low[column], lo)
                high[column] = hi if column not in high else max(high[column], hi)
                nulls[column] += null_count
    if not low:
        return 0
    bound = 1
    for column in columns:
        bound *= int(high[column]) - int(low[column]) + 1 + (1 if nulls[column] else 0)
    return bound


def piece_bounds(dataset: ParquetDataset, pieces: list[Piece], column: str) -> list | None:
    """Each piece's ``(min, max)`` of ``column`` over the row groups it holds, from the
    footers' statistics (``None`` for a piece of no rows; nulls and NaN are outside the
    statistics, as they are outside a min/max of the values); ``None`` when a row group
    with rows has no min/max for it (not written, every value null, a missing column).

    The bounds are those of the stored values: a caller whose read filters rows (``filters=``,
    a pushed filter) gets bounds of the row groups, not of the rows kept."""
    paths = list(dict.fromkeys(p.path for p in pieces))
    footers = dict(zip(paths, dataset.read_footers(paths)))
    bounds: list = []
    for piece in pieces:
        footer = footers[piece.path]
        groups = piece.row_groups if piece.row_groups is not None else range(footer.num_row_groups)
        found = []
        for g in groups:
            if not footer.row_group(g).num_rows:
                continue  # an empty row group bounds nothing (and has no statistics)
            stats = row_group_stats(footer, g, [column]).get(column)
            if stats is None:
                return None
            found.append(stats)
        if not found:
            bounds.append(None)
            continue
        try:
            bounds.append((min(s[0] for s in found), max(s[1] for s in found)))
        except TypeError:  # values that do not compare
            return None
    return bounds


def divisions_from_statistics(dataset: ParquetDataset, pieces: list[Piece], column: str) -> tuple | None:
    """Divisions from the min/max statistics of ``column`` per piece (:func:`piece_bounds`);
    ``None`` when unsorted, overlapping, unknown or a piece is empty."""
    bounds = piece_bounds(dataset, pieces, column)
    if not bounds or any(b is None for b in bounds):
        return None
    for (_, high), (low, _) in zip(bounds, bounds[1:]):
        try:
            if not high < low:
                return None
        except TypeError:
            return None
    values = [low for low, _ in bounds] + [bounds[-1][1]]
    return tuple(pd.Timestamp(v) if hasattr(v, "tzinfo") and hasattr(v, "year") else v for v in values)
