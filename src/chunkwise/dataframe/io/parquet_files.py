"""Parquet files: planning a read, reading one piece, writing a dataset safely (no collections).

The dataframe nodes and user functions built on these are in ``parquet.py``.

Reading is planned in two steps, and only the first runs at build time:

1. **Discover** (:func:`discover`): list the files (a single file, a list, or
   a directory with hive ``key=value`` partitions) through a pyarrow dataset,
   which reads the footer of ONE file for the schema. ``meta`` comes from that
   schema plus the partition columns (pandas categoricals whose categories are
   every value found, as ``pd.read_parquet`` gives them); a categorical file
   column takes its categories from one row group of the first file holding
   rows (pandas stores every category in each file). Thousands of files cost
   one listing, not thousands of footers.
2. **Plan pieces** (:func:`plan_pieces`): one piece per file, per row group or
   per group of row groups. Hive partitions are pruned by ``filters`` from the
   paths alone. Footers are read only when something needs them — row-group
   splitting, row-group statistics for a filter, the row count for ``len`` —
   and then in parallel on a thread pool; footers of local files are kept
   across plans (``footers.FOOTER_CACHE``, keyed by path, modification time and
   size), so running a query again reads none.

Each task then reads one piece (:func:`read_piece`): only the needed columns,
with the piece's filter (the user's filter with the partition's values bound)
passed to pyarrow, which skips row groups by statistics and filters rows
exactly. :func:`record_reads` lets tests (and users) see what each task read.

Threads: a read task runs on one of the scheduler's worker threads, which
already keep every core busy with one task each. pyarrow's own reader and
``to_pandas`` threads on top of them oversubscribe the cores (measured on 2
cores, 20 files read by 2 workers: 0.62 -> 0.48 s wall for two numeric
columns, 4.1 -> 2.7 s for a text column with ``use_threads=False``), so
every read here passes ``use_threads=False``. (The ``sync`` scheduler, meant
for debugging, thereby reads on one thread too.)

Row labels: a file whose pandas metadata stores a ``RangeIndex`` labels its
rows by position. Filters the optimizer pushes into a read keep those labels
(the rows are read with their positions, so ``df[df.x > 5]`` gives the labels
pandas gives); the user's own ``filters=`` number the rows afresh, as
``pd.read_parquet(filters=)`` does.

Writing (:func:`write_partition`, :func:`finish_dataset`) puts each partition
in ``part.<i>.parquet``, written under a hidden temporary name and renamed.
A dataset chunkwise writes carries a marker file: ``_chunkwise_incomplete``
while it is being written, replaced by ``_chunkwise`` (JSON: the part count)
when every partition is written. :func:`discover` refuses a directory that
holds ``_chunkwise_incomplete``, so a failed write never looks complete, and
``overwrite=True`` deletes only directories holding one of the two markers.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from chunkwise.dataframe.io.filesystems import FileSystem, natural_key, resolve
from chunkwise.dataframe.io.footers import read_footers
from chunkwise.dataframe.io.row_filters import all_match, bind_partition, filter_columns, may_match
from chunkwise.sizes import parse_bytes

__all__ = [
    "COMPLETE_MARKER",
    "INCOMPLETE_MARKER",
    "ParquetDataset",
    "Piece",
    "ReadRecord",
    "discover",
    "finish_dataset",
    "piece_filter",
    "piece_counts",
    "plan_pieces",
    "note_read",
    "read_piece",
    "record_reads",
    "row_group_stats",
    "check_target",
    "prepare_target",
    "write_partition",
    "written_parts",
]

COMPLETE_MARKER = "_chunkwise"
INCOMPLETE_MARKER = "_chunkwise_incomplete"
DEFAULT_BLOCKSIZE = 256 * 2**20


# --- discovery ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ParquetDataset:
    """What is known about a Parquet dataset at build time (no data, one footer)."""

    fs: FileSystem
    files: tuple[str, ...]
    schema: pa.Schema
    #: hive partition columns and every value found for each, in sorted order
    partitions: dict[str, list]
    #: per file, its partition values (``{column: value}``)
    file_partitions: tuple[dict, ...]
    #: columns pandas metadata restores as the index
    pandas_index: tuple[str, ...]
    meta: pd.DataFrame = field(repr=False)
    #: footers read so far, by path (plans that differ only in columns share them)
    footers: dict = field(default_factory=dict, repr=False)

    def read_footers(self, paths: list[str]) -> list[pq.FileMetaData]:
        """The footers of ``paths``: cached, the others read on a thread pool."""
        missing = [p for p in paths if p not in self.footers]
        for path, footer in zip(missing, read_footers(self.fs, missing)):
            self.footers[path] = footer
        return [self.footers[p] for p in paths]

    def __chunkwise_tokenize__(self) -> str:
        from chunkwise.core.tokenize import tokenize

        return tokenize(self.fs, self.files, str(self.schema))


def discover(path: Any, storage_options: dict | None = None, dataset: dict | None = None) -> ParquetDataset:
    """List a Parquet dataset's files and read its schema from one footer."""
    paths = path if isinstance(path, (list, tuple)) else [path]
    if not paths:
        raise ValueError("read_parquet: no paths given")
    fs = resolve(paths[0], storage_options)
    root = fs.path
    if not isinstance(path, (list, tuple)) and fs.fs.isdir(root):
        _refuse_incomplete(fs)
        source: Any = root
    elif isinstance(path, (list, tuple)):
        source = [resolve(p, storage_options).path for p in paths]
    else:
        if not fs.fs.exists(root):
            raise FileNotFoundError(f"read_parquet: no file or directory {fs.unstrip(root)!r}")
        source = root
    options = {"partitioning": ds.HivePartitioning.discover(infer_dictionary=True)}
    options.update(dataset or {})
    try:
        dset = ds.dataset(
            source, filesystem=fs.arrow, format="parquet", ignore_prefixes=[".", "_"], **options
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"read_parquet: cannot open {path!r} as a Parquet dataset: {exc}") from exc
    files = tuple(sorted(dset.files, key=natural_key))
    if not files:
        raise FileNotFoundError(f"read_parquet: no Parquet files under {path!r}")
    schema = dset.schema
    partitions: dict[str, Any] = {}
    by_path = {f.path: ds.get_partition_keys(f.partition_expression) for f in dset.get_fragments()}
    file_partitions = [by_path.get(f, {}) for f in files]
    for keys in file_partitions:
        for name, value in keys.items():
            partitions.setdefault(name, set()).add(value)
    partitions = {name: sorted(values) for name, values in partitions.items()}
    pandas_index = tuple(
        col for col in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(col, str)
    )
    meta = _schema_meta(schema, partitions)
    _categories_from_first_file(meta, schema, fs, files, partitions)
    return ParquetDataset(fs, files, schema, partitions, tuple(file_partitions), pandas_index, meta)


def _refuse_incomplete(fs: FileSystem) -> None:
    if fs.fs.exists(fs.join(INCOMPLETE_MARKER)):
        raise ValueError(
            f"read_parquet: {fs.unstrip(fs.path)!r} is a chunkwise dataset whose write did not "
            f"finish (it holds {INCOMPLETE_MARKER}); rewrite it with to_parquet(..., overwrite=True)"
        )


def _schema_meta(schema: pa.Schema, partitions: dict[str, list]) -> pd.DataFrame:
    meta = schema.empty_table().to_pandas()
    for name, values in partitions.items():
        meta[name] = pd.Categorical([], categories=_categories(schema.field(name).type, values))
    return meta


def _categories_from_first_file(
    meta: pd.DataFrame, schema: pa.Schema, fs: FileSystem, paths: tuple, partitions: dict
) -> None:
    """Give ``meta``'s categorical file columns the categories of the first file (in place).

    pandas stores every category in each file it writes, so one row group of
    one file names them; a piece holding other categories fails loudly (see
    :func:`conform`).
    """
    names = [
        f.name for f in schema
        if pa.types.is_dictionary(f.type) and f.name not in partitions and f.name in meta.columns
    ]
    if not names:
        return
    for path in paths[:8]:  # the first file holding rows (an empty one names no categories)
        pfile = pq.ParquetFile(path, filesystem=fs.arrow)
        if pfile.metadata.num_rows:
            break
    else:
        return
    group = next(i for i in range(pfile.num_row_groups) if pfile.metadata.row_group(i).num_rows)
    sample = pfile.read_row_group(group, columns=names).to_pandas()
    for name in names:
        if isinstance(sample[name].dtype, pd.CategoricalDtype):
            meta[name] = meta[name].astype(sample[name].dtype)


def _categories(arrow_type: pa.DataType, values: list) -> pd.Index:
    value_type = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    return pd.Index(pa.array(values, type=value_type).to_pandas())


# --- planning -------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One partition of a read: a file, or some of its row groups.

    ``skipped``: row groups of ``row_groups`` that a filter the optimizer
    pushed rules out by their statistics (see ``statistics.skip_row_groups``): not
    read, but their rows passing the user's ``filters=`` still count in the
    numbering of the rows after them.
    """

    path: str
    row_groups: tuple[int, ...] | None
    partition: tuple[tuple[str, Any], ...]
    num_rows: int | None = None
    skipped: tuple[int, ...] = ()

    def read_groups(self) -> tuple[int, ...] | None:
        """The row groups read (``None``: the whole file)."""
        if not self.skipped or self.row_groups is None:
            return self.row_groups
        return tuple(g for g in self.row_groups if g not in self.skipped)


def plan_pieces(
    dataset: ParquetDataset,
    filters: list[list[tuple]] | None = None,
    split_row_groups: Any = "infer",
    blocksize: int | str = DEFAULT_BLOCKSIZE,
    need_counts: bool = False,
    statistics_in_task: bool = False,
) -> list[Piece]:
    """The pieces to read: hive partitions and row groups that ``filters`` rule out are gone.

    With ``statistics_in_task``, whole-file pieces (no row-group splitting)
    are planned from the paths alone: the row groups that ``filters`` rule out
    by statistics are left for the task to skip (it opens the footer anyway),
    so planning reads no footer beyond the first (``split_row_groups="infer"``).
    """
    candidates = []
    for path, values in zip(dataset.files, dataset.file_partitions):
        if bind_partition(filters, values) is False:
            continue
        candidates.append((path, tuple(sorted(values.items()))))
    file_filter_cols = [
        c for c in filter_columns(filters) if c not in dataset.partitions
    ]
    block = parse_bytes(blocksize)
    if split_row_groups == "infer":
        if not candidates:
            split_row_groups = False
        else:
            first = dataset.read_footers([candidates[0][0]])[0]
            total = sum(first.row_group(i).total_byte_size for i in range(first.num_row_groups))
            split_row_groups = "blocksize" if total > block and first.num_row_groups > 1 else False
    if split_row_groups is False and (not file_filter_cols or statistics_in_task) \
            and not need_counts:
        return [Piece(path, None, part) for path, part in candidates]
    footers = dataset.read_footers([path for path, _ in candidates])
    pieces = []
    for (path, part), footer in zip(candidates, footers):
        bound = bind_partition(filters, dict(part))
        keep = [
            i for i in range(footer.num_row_groups)
            if bound is None or may_match(bound, row_group_stats(footer, i, file_filter_cols))
        ]
        if split_row_groups is False:
            if keep or not file_filter_cols:
                rows = sum(footer.row_group(i).num_rows for i in keep)
                whole = len(keep) == footer.num_row_groups
                pieces.append(Piece(path, None if whole else tuple(keep), part, rows))
            continue
        for group in _group_row_groups(footer, keep, split_row_groups, block):
            rows = sum(footer.row_group(i).num_rows for i in group)
            pieces.append(Piece(path, tuple(group), part, rows))
    return pieces


def _group_row_groups(footer: pq.FileMetaData, keep: list[int], split: Any, block: int) -> list[list[int]]:
    if split is True:
        return [[i] for i in keep]
    if isinstance(split, int) and not isinstance(split, bool):
        if split < 1:
            raise ValueError(f"read_parquet: split_row_groups must be >= 1, got {split}")
        return [keep[i: i + split] for i in range(0, len(keep), split)]
    groups: list[list[int]] = []
    size = 0
    for i in keep:
        nbytes = footer.row_group(i).total_byte_size
        if groups and size + nbytes <= block:
            groups[-1].append(i)
            size += nbytes
        else:
            groups.append([i])
            size = nbytes
    return groups


def row_group_stats(footer: pq.FileMetaData, index: int, columns: list[str],
                     nulls: bool = False) -> dict[str, tuple]:
    """``{column: (min, max)}`` of a row group; with ``nulls``, ``(min, max, null count)``
    for the columns whose statistics bound every value (not floats: NaN is outside them)."""
    if not columns:
        return {}
    rg = footer.row_group(index)
    out = {}
    for j in range(rg.num_columns):
        col = rg.column(j)
        name = col.path_in_schema
        if name in columns:
            stats = col.statistics
            if stats is None or not stats.has_min_max:
                continue
            if not nulls:
                out[name] = (stats.min, stats.max)
            elif stats.has_null_count and col.physical_type not in ("FLOAT", "DOUBLE"):
                out[name] = (stats.min, stats.max, stats.null_count)
    return out


def piece_filter(filters: list[list[tuple]] | None, piece: Piece) -> list[list[tuple]] | None:
    """The filter a piece's read applies: ``filters`` with its partition values bound."""
    bound = bind_partition(filters, dict(piece.partition))
    if bound is False:  # pruned at plan time; kept for safety if a piece was built by hand
        return [[(filters[0][0][0], "in", ())]]
    return bound


# --- reading one piece -----------------------------------------------------------




@dataclass(frozen=True)
class ReadRecord:
    """What one read task read: the file, its row groups and columns (``None``: all),
    and the columns read dictionary-encoded."""

    path: str
    row_groups: tuple[int, ...] | None
    columns: tuple[str, ...] | None
    filters: Any
    dictionary: tuple[str, ...] = ()


_RECORDERS: list[list] = []
_RECORDERS_LOCK = threading.Lock()


@contextlib.contextmanager
def record_reads() -> Iterator[list[ReadRecord]]:
    """Collect a :class:`ReadRecord` for every piece read in this process meanwhile.

    >>> with record_reads() as reads:
    ...     pass
    >>> reads
    []
    """
    log: list[ReadRecord] = []
    with _RECORDERS_LOCK:
        _RECORDERS.append(log)
    try:
        yield log
    finally:
        with _RECORDERS_LOCK:
            _RECORDERS.remove(log)


def read_piece(
    fs: FileSystem,
    piece: Piece,
    columns: list[str] | None,
    filters: list[list[tuple]] | None,
    index: Any,
    meta: pd.DataFrame,
    partitions: dict[str, list],
    pandas_index: tuple[str, ...] = (),
    pushed: list[list[tuple]] | None = None,
    positional: bool = False,
    dictionary: tuple = (),
) -> pd.DataFrame:
    """Read one piece as a pandas DataFrame shaped like ``meta``.

    ``columns`` are file columns (``None``: all); partition columns in ``meta``
    are added from the piece's partition values. ``filters`` are the user's
    (rows are then numbered afresh, as ``pd.read_parquet(filters=)`` does);
    ``pushed`` are filters the optimizer moved into the read, which must not
    change the result: with ``positional`` (the index is the file's stored
    ``RangeIndex``), rows keep the labels of their positions in the file.
    ``dictionary``: string columns read dictionary-encoded (pandas
    categoricals whose categories are the piece's own values).

    ``pushed`` filters act through the piece's row groups (those their
    statistics rule out were left out at plan time, or marked ``skipped``);
    the rows of the groups read are not filtered by them here: the Filter
    above the read does it (exactly, once), so a filter that keeps most rows
    costs no second pass.
    """
    read_cols = None if columns is None else list(dict.fromkeys([*columns, *pandas_index]))
    note_read(piece.path, piece.read_groups(), read_cols, _both(filters, pushed), dictionary)
    arrow = fs.arrow
    if positional and not filters and piece.row_groups is not None:
        frame = _read_by_position(arrow, piece, read_cols, dictionary)
    elif filters and piece.skipped:
        frame = _read_renumbered(arrow, piece, read_cols, filters)
    elif filters:
        fragment = ds.ParquetFileFormat().make_fragment(
            piece.path, filesystem=arrow, row_groups=piece.row_groups
        )
        expr = pq.filters_to_expression(filters)
        table = fragment.to_table(columns=read_cols, filter=expr, use_threads=False)
        schema_meta = fragment.physical_schema.metadata
        if schema_meta and table.num_columns:  # (a column-less table would lose its rows)
            table = table.replace_schema_metadata(schema_meta)
        frame = _to_pandas(table)
    else:
        pfile = pq.ParquetFile(piece.path, filesystem=arrow, read_dictionary=list(dictionary) or None)
        if piece.row_groups is None:
            table = pfile.read(columns=read_cols, use_pandas_metadata=True, use_threads=False)
        else:
            table = pfile.read_row_groups(list(piece.row_groups), columns=read_cols,
                                          use_pandas_metadata=True, use_threads=False)
        frame = _to_pandas(table)
    values = dict(piece.partition)
    for name in partitions:
        if name in meta.columns:
            dtype = meta[name].dtype
            codes = [dtype.categories.get_loc(values[name])] * len(frame) if name in values else [-1] * len(frame)
            frame[name] = pd.Categorical.from_codes(codes, dtype=dtype)
    return conform(frame, meta, index)


def note_read(path: str, row_groups: tuple | None, columns: list | None, filters: Any,
              dictionary: tuple = ()) -> None:
    """Tell every :func:`record_reads` block active in this process what a task read."""
    if _RECORDERS:
        record = ReadRecord(path, row_groups, None if columns is None else tuple(columns), filters,
                            tuple(dictionary))
        for log in list(_RECORDERS):
            log.append(record)


def _both(filters: list | None, pushed: list | None) -> list | None:
    if not filters:
        return pushed
    if not pushed:
        return filters
    return [[*a, *b] for a in filters for b in pushed]


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(use_threads=False)
    if len(frame) != table.num_rows:  # no file column read (only partition columns wanted)
        frame = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    return frame


_POSITION = "__chunkwise_position__"


def _read_by_position(arrow: Any, piece: Piece, read_cols: list | None,
                      dictionary: tuple = ()) -> pd.DataFrame:
    """Read some row groups, labelling rows by their place in the file's stored RangeIndex."""
    pfile = pq.ParquetFile(piece.path, filesystem=arrow, read_dictionary=list(dictionary) or None)
    footer = pfile.metadata
    starts = np.cumsum([0] + [footer.row_group(g).num_rows for g in range(footer.num_row_groups)])
    groups = list(piece.read_groups())
    table = pfile.read_row_groups(groups, columns=read_cols, use_threads=False)
    start, step = 0, 1
    for entry in (pfile.schema_arrow.pandas_metadata or {}).get("index_columns", []):
        if isinstance(entry, dict) and entry.get("kind") == "range":
            start, step = entry.get("start", 0), entry.get("step", 1)
    frame = _to_pandas(table.replace_schema_metadata(None) if table.num_columns else table)
    frame.index = _labels([(start + step * starts[g], start + step * starts[g + 1]) for g in groups], step)
    return frame


def _labels(runs: list[tuple[int, int]], step: int = 1) -> pd.Index:
    """The labels ``range(a, b, step)`` of each run, one after another: a RangeIndex when
    the runs follow each other, else an int64 Index."""
    runs = [(a, b) for a, b in runs if b != a]
    if not runs:
        return pd.RangeIndex(0)
    if all(b == a2 for (_, b), (a2, _) in zip(runs, runs[1:])):
        return pd.RangeIndex(runs[0][0], runs[-1][1], step)
    return pd.Index(np.concatenate([np.arange(a, b, step) for a, b in runs]), dtype="int64")


def _read_renumbered(arrow: Any, piece: Piece, read_cols: list | None, filters: list) -> pd.DataFrame:
    """Read a piece filtered by the user's ``filters`` except its ``skipped`` row groups,
    labelling rows as the whole piece numbers them (0, 1, ... over every row that the
    user's filter keeps, as ``pd.read_parquet(filters=)`` does): a skipped group's rows
    that pass the user's filter are counted, from its statistics when they decide it,
    else by reading the filter's columns alone."""
    pfile = pq.ParquetFile(piece.path, filesystem=arrow)
    expr = pq.filters_to_expression(filters)
    skipped = set(piece.skipped)
    tables, runs, offset = [], [], 0
    for is_skipped, run in _runs(piece.row_groups, skipped):
        if is_skipped:
            offset += sum(_passing(pfile, piece.path, g, filters, expr) for g in run)
            continue
        fragment = ds.ParquetFileFormat().make_fragment(piece.path, filesystem=arrow, row_groups=run)
        table = fragment.to_table(columns=read_cols, filter=expr, use_threads=False)
        tables.append(table)
        runs.append((offset, offset + table.num_rows))
        offset += table.num_rows
    table = pa.concat_tables(tables)
    frame = _to_pandas(table.replace_schema_metadata(None) if table.num_columns else table)
    frame.index = _labels(runs)
    return frame


def _runs(groups: tuple[int, ...], skipped: set) -> list[tuple[bool, list[int]]]:
    """``groups`` cut into runs of skipped and of read row groups, in order."""
    out: list[tuple[bool, list[int]]] = []
    for g in groups:
        flag = g in skipped
        if out and out[-1][0] == flag:
            out[-1][1].append(g)
        else:
            out.append((flag, [g]))
    return out


def _passing(pfile: pq.ParquetFile, path: str, group: int, filters: list, expr: Any) -> int:
    """Rows of a row group that the user's ``filters`` keep: all of them when its statistics
    say so, else counted on a read of the filter's columns alone."""
    footer = pfile.metadata
    columns = filter_columns(filters)
    if all_match(filters, row_group_stats(footer, group, columns, nulls=True)):
        return footer.row_group(group).num_rows
    note_read(path, (group,), columns, filters)
    return pfile.read_row_group(group, columns=columns, use_threads=False).filter(expr).num_rows


def conform(frame: pd.DataFrame, meta: pd.DataFrame, index: Any) -> pd.DataFrame:
    """``frame`` with ``meta``'s index, columns (order) and dtypes."""
    if index is False:
        frame = frame.reset_index(drop=True)
    elif index is not None:
        frame = frame.set_index(index)
    if list(frame.columns) != list(meta.columns):
        frame = frame[list(meta.columns)]
    for (name, dtype), have in zip(meta.dtypes.items(), frame.dtypes):
        if have == dtype:
            continue
        if isinstance(dtype, pd.CategoricalDtype) and isinstance(have, pd.CategoricalDtype):
            extra = set(frame[name].cat.categories) - set(dtype.categories)
            if extra and len(dtype.categories):
                raise ValueError(
                    f"read_parquet: column {name!r} holds categories {sorted(map(str, extra))[:5]} "
                    "that the dataset's first file does not list; categories must be the same in "
                    f"every file (or cast the column to strings when writing)"
                )
            if not len(dtype.categories):
                continue  # no categories known (an empty first file): keep the piece's own
        frame[name] = frame[name].astype(dtype)
    return frame


def piece_counts(dataset: ParquetDataset, pieces: list[Piece]) -> list[int]:
    """Rows in each piece, from the footers (read once each, in parallel; no data read)."""
    unknown = list(dict.fromkeys(p.path for p in pieces if p.num_rows is None))
    footers = dict(zip(unknown, dataset.read_footers(unknown)))
    counts = []
    for piece in pieces:
        if piece.num_rows is not None:
            counts.append(piece.num_rows)
        elif piece.row_groups is None:
            counts.append(footers[piece.path].num_rows)
        else:
            counts.append(sum(footers[piece.path].row_group(i).num_rows for i in piece.row_groups))
    return counts


# --- writing ------------------------------------------------------------------------


def check_target(
    fs: FileSystem, overwrite: bool, append: bool, meta: pd.DataFrame
) -> tuple[int, bool]:
    """Refuse, at build time, a write that could lose data; ``(first part number, delete first)``.

    A non-empty directory is written to only with ``overwrite`` (and only when
    it is a dataset chunkwise wrote) or ``append`` (the schema must match).
    Nothing is changed here: :func:`prepare_target` does that when the plan runs.
    """
    target = fs.unstrip(fs.path)
    exists = fs.fs.exists(fs.path)
    if exists and not fs.fs.isdir(fs.path):
        raise FileExistsError(f"to_parquet: {target!r} is a file, not a directory")
    entries = fs.fs.ls(fs.path, detail=False) if exists else []
    names = {e.rstrip("/").rsplit("/", 1)[-1] for e in entries}
    if not entries:
        return 0, False
    if append:
        if COMPLETE_MARKER not in names:
            raise ValueError(
                f"to_parquet(append=True): {target!r} is not a complete dataset chunkwise wrote "
                f"(no {COMPLETE_MARKER} marker); write a new dataset or use overwrite=True"
            )
        existing = discover(target, storage_options=_storage_options(fs))
        old = existing.meta.drop(columns=list(existing.partitions))
        new = meta.drop(columns=[c for c in existing.partitions if c in meta.columns])
        if list(old.columns) != list(new.columns) or not old.dtypes.equals(new.dtypes):
            raise ValueError(
                f"to_parquet(append=True): the schema of {target!r} differs from the data appended:\n"
                f"dataset: {dict(old.dtypes.astype(str))}\nappended: {dict(new.dtypes.astype(str))}"
            )
        return json.loads(fs.fs.cat_file(fs.join(COMPLETE_MARKER)))["next_part"], False
    if overwrite:
        if not names & {COMPLETE_MARKER, INCOMPLETE_MARKER}:
            raise ValueError(
                f"to_parquet(overwrite=True): {target!r} is not a dataset chunkwise wrote (no "
                f"{COMPLETE_MARKER} marker), so it is not deleted; remove it yourself or choose "
                "another path"
            )
        return 0, True
    raise FileExistsError(
        f"to_parquet: {target!r} is not empty; pass overwrite=True to replace a dataset "
        "chunkwise wrote, or append=True to add to it"
    )


def prepare_target(fs: FileSystem, delete: bool) -> None:
    """Run first when the plan runs: clear an overwritten dataset, mark the write incomplete."""
    if delete and fs.fs.exists(fs.path):
        fs.fs.rm(fs.path, recursive=True)
    fs.fs.makedirs(fs.path, exist_ok=True)
    fs.fs.pipe_file(fs.join(INCOMPLETE_MARKER), b"{}")
    if fs.fs.exists(fs.join(COMPLETE_MARKER)):
        fs.fs.rm(fs.join(COMPLETE_MARKER))


def _storage_options(fs: FileSystem) -> dict:
    return getattr(fs.fs, "storage_options", {}) or {}


def write_partition(
    frame: pd.DataFrame,
    fs: FileSystem,
    number: int,
    partition_on: list[str] | None,
    write_index: bool,
    collect_metadata: bool,
    ready: Any = None,
) -> list:
    """Write one partition under temporary names, then rename; the footers if asked for.

    ``ready`` is the result of :func:`prepare_target` (a dependency only).
    """
    if not write_index:
        frame = frame.reset_index(drop=True)
    filename = f"part.{number}.parquet"
    groups: list[tuple[str, pd.DataFrame]]
    if partition_on:
        groups = []
        if len(frame):
            for keys, group in frame.groupby(partition_on, observed=True, dropna=False, sort=True):
                keys = keys if isinstance(keys, tuple) else (keys,)
                sub = "/".join(f"{c}={_hive_value(v)}" for c, v in zip(partition_on, keys))
                groups.append((sub, group.drop(columns=partition_on)))
    else:
        groups = [("", frame)]
    footers = []
    for sub, group in groups:
        directory = fs.join(sub) if sub else fs.path
        if sub:
            fs.fs.makedirs(directory, exist_ok=True)
        final = f"{directory}/{filename}"
        temporary = f"{directory}/.{filename}.{uuid.uuid4().hex}.tmp"
        table = pa.Table.from_pandas(group, preserve_index=None if write_index else False)
        collector: list = []
        with fs.fs.open(temporary, "wb") as handle:
            pq.write_table(table, handle, metadata_collector=collector)
        fs.fs.mv(temporary, final)
        if collect_metadata and collector:
            collector[0].set_file_path(f"{sub}/{filename}" if sub else filename)
            footers.append(collector[0])
    return footers


def _hive_value(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "__HIVE_DEFAULT_PARTITION__"
    return str(value)


def finish_dataset(
    parts: list[list], fs: FileSystem, first: int, write_metadata_file: bool, schema_of: pd.DataFrame
) -> int:
    """Mark the dataset complete once every part is written; the number of parts."""
    if write_metadata_file:
        footers = [f for part in parts for f in part]
        if footers:
            merged = footers[0]
            for footer in footers[1:]:
                merged.append_row_groups(footer)
            with fs.fs.open(fs.join("_metadata"), "wb") as handle:
                merged.write_metadata_file(handle)
    marker = {"next_part": first + len(parts), "parts": len(parts)}
    fs.fs.pipe_file(fs.join(COMPLETE_MARKER), json.dumps(marker).encode())
    if fs.fs.exists(fs.join(INCOMPLETE_MARKER)):
        fs.fs.rm(fs.join(INCOMPLETE_MARKER))
    return len(parts)


def written_parts(fs: FileSystem) -> list[str]:
    """The ``part.<i>.parquet`` files in a dataset directory (any depth), naturally sorted."""
    found = [p for p in fs.fs.find(fs.path) if p.rsplit("/", 1)[-1].startswith("part.")]
    return sorted((p[len(fs.path.rstrip("/")) + 1:] for p in found), key=natural_key)
