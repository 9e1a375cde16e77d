"""The shuffle: one hash/range partitioning engine for every operation that moves rows.

``hash_partition(frame, on, n)`` puts each row in output partition
``hash(key) % n``; ``range_partition(frame, by, divisions)`` puts it in the
partition whose range of ``by`` values holds it. Sorting, ``set_index``,
``drop_duplicates``, groupby with many groups and joins are built on them.

Design
------
A shuffle node (:class:`HashShuffle`, :class:`RangeShuffle`, both
:class:`Shuffle`) lowers to ``n_in + n_out`` tasks:

- **split** ``(name-split, i)``: computes each row's output partition id,
  orders partition ``i``'s rows by it (a stable sort: rows keep their order),
  and cuts it into ``n_out`` pieces. Locally each non-empty piece is written as
  an Arrow IPC file under the run's temporary directory (config key
  ``dataframe.shuffle.directory``, default the system's temporary directory),
  and the task returns only the paths: the input partition is released at once.
- **combine** ``(name, j)``: reads piece ``j`` of every split, in input order,
  deletes those files, and joins them.

Memory: a worker holds one input partition and its pieces while it splits, and
one output partition while it combines, so peak RSS is about ``workers x
(input partition + output partition)`` whatever the data's size. With
``dataframe.shuffle.memory_limit`` set (bytes or ``"256MiB"``; default
``None``: no limit), the operations that choose their own output count
(``shuffle(on=)``, ``sort_values``, ``set_index``) size it from the frame's
estimated size and the limit (:mod:`chunkwise.dataframe.partition_count`), and
a combine whose pieces add up to more than the limit fails at once with an
error naming the fix (more output partitions), instead of running the process
out of memory: a skewed key cannot fill the machine. With
``dataframe.shuffle.compression`` (``"lz4"``/``"zstd"``) the pieces are
compressed on disk.

**Temporary files.** A process-wide scheduler callback
(:class:`ShuffleFiles`) opens a run directory when a graph holding a shuffle
starts and removes it when the computation ends: on success, on a task's
failure and on Ctrl-C. A split still running in a pool thread after the end
removes what it wrote itself. Without that callback (a ``distributed`` worker,
the ``processes`` scheduler's children) the pieces stay in memory in the
split's result.

**On distributed** (an active client, or ``dataframe.shuffle.method="tasks"``)
each split's pieces are picked out by ``n_in x n_out`` small tasks, so a
combine fetches from each worker only its own piece, as Dask's task shuffle
does; see ``docs/dataframe.md`` ("How the shuffle scales").

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"k": [1, 2, 3, 1, 2, 3], "v": range(6)}), npartitions=3)
>>> parts = hash_partition(df, "k", 2)
>>> parts.npartitions, parts.known_divisions
(2, False)
>>> sorted(len(p) for p in [parts.partitions[i].compute() for i in range(2)])
[2, 4]
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
import threading
import uuid
import weakref
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from chunkwise import config
from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import FrameExpr, concat_partitions, kept_index_dtype
from chunkwise.dataframe.meta_casts import cast_target
from chunkwise.dataframe.order_kernels import range_ids as _ids_by_splitters
from chunkwise.dataframe.order_kernels import sort_order, stable_order
from chunkwise.dataframe.partition_count import choose_npartitions
from chunkwise.scheduling.callbacks import Callback
from chunkwise.sizes import parse_bytes

__all__ = [
    "HashShuffle",
    "RangeShuffle",
    "Shuffle",
    "ShuffleFiles",
    "can_order",
    "combine_pieces",
    "conform",
    "hash_ids",
    "hash_partition",
    "order_of",
    "order_partition",
    "range_ids",
    "range_partition",
    "read_piece",
    "select_piece",
    "shuffle",
    "shuffle_bytes_written",
    "split_by_ids",
    "split_partition",
    "stable_order",
    "as_table",
    "order_by_ids",
    "write_piece",
    "write_table",
]


# --- partition ids ----------------------------------------------------------------------


def _keys_of(partition: Any, on: Any) -> Any:
    """The key values of ``partition`` named by ``on`` (a column, a list, ``"index"``, or ``None``: a Series' values)."""
    if on is None:
        return partition if isinstance(partition, pd.Series) else partition.index.to_series()
    if isinstance(on, str) and on == "index" and (
        not isinstance(partition, pd.DataFrame) or "index" not in partition.columns
    ):
        return partition.index.to_series(index=pd.RangeIndex(len(partition)))
    if isinstance(partition, pd.Series):
        if on == partition.name:
            return partition
        raise KeyError(on)
    return partition[on]


def hash_ids(partition: Any, on: Any, npartitions: int) -> np.ndarray:
    """Each row's output partition: ``hash_pandas_object(keys, index=False) % npartitions``.

    Equal key values (after the caller cast them to one dtype) get the same id
    in every frame; null keys all hash alike, so they share one partition.

    >>> hash_ids(pd.DataFrame({"k": [5, 5, 7]}), "k", 4).tolist() == hash_ids(pd.DataFrame({"k": [5, 5, 7]}), ["k"], 4).tolist()
    True
    """
    keys = _keys_of(partition, on)
    if isinstance(keys, pd.DataFrame) and keys.shape[1] == 1:
        keys = keys.iloc[:, 0]
    hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()
    return (hashes % np.uint64(npartitions)).astype(np.int64)


def _is_plain_sortable(values: pd.Series) -> bool:
    dtype = values.dtype
    return not isinstance(dtype, pd.CategoricalDtype) and (
        dtype.kind in "iufbmM" or pd.api.types.is_string_dtype(dtype)
    )


def range_ids(partition: Any, by: list, splitters: Sequence, ascending: list,
              na_position: str = "last") -> np.ndarray:
    """Each row's output partition by value ranges: ``len(splitters) + 1`` partitions.

    ``splitters`` are the inner boundaries in output order (one value, or a
    tuple of values for several columns); a row equal to splitter ``k`` goes
    to partition ``k + 1``. Null keys go to the first or the last partition
    (``na_position``).

    >>> range_ids(pd.DataFrame({"x": [0, 5, 9, None]}), ["x"], [5], [True]).tolist()
    [0, 1, 1, 1]
    >>> range_ids(pd.DataFrame({"x": [0, 5, 9]}), ["x"], [5], [False]).tolist()
    [1, 1, 0]
    """
    count = len(splitters)
    n = len(partition)
    if count == 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    keys = partition.index.to_series() if by == ["index"] and "index" not in getattr(
        partition, "columns", ()) else (partition if isinstance(partition, pd.Series) else partition[by])
    if isinstance(keys, pd.DataFrame) and keys.shape[1] == 1:
        keys = keys.iloc[:, 0]
    if isinstance(keys, pd.Series) and _is_plain_sortable(keys):
        return _range_ids_one(keys, splitters, ascending[0], na_position)
    return _range_ids_general(keys, splitters, ascending, na_position)


def _range_ids_one(keys: pd.Series, splitters: Sequence, ascending: bool, na_position: str) -> np.ndarray:
    count = len(splitters)
    values = keys.to_numpy()
    inner = np.asarray(list(splitters), dtype=values.dtype if values.dtype.kind != "O" else object)
    if ascending and na_position == "last" and values.dtype.kind in "fmM" and not (
            pd.isna(inner).any()):
        # NumPy orders NaN and NaT after every value: they land in the last partition as is
        return _ids_by_splitters(values, inner)
    nulls = keys.isna().to_numpy()
    if nulls.any():
        values = values.copy()
        values[nulls] = inner[0]  # any value: overwritten below
    if ascending:
        ids = _ids_by_splitters(values, inner)
    else:
        ids = count - np.searchsorted(inner[::-1], values, side="left")
    ids = ids.astype(np.int64)
    if nulls.any():
        ids[nulls] = count if na_position == "last" else 0
    return ids


def _range_ids_general(keys: Any, splitters: Sequence, ascending: list, na_position: str) -> np.ndarray:
    """Rows and splitters sorted together (splitters first among equals): a row's id is
    the number of splitters before it."""
    frame = keys.to_frame() if isinstance(keys, pd.Series) else keys
    columns = list(range(frame.shape[1]))
    rows = pd.DataFrame({i: frame.iloc[:, i].to_numpy() for i in columns})
    split_rows = [s if isinstance(s, tuple) else (s,) for s in splitters]
    marks = pd.DataFrame(
        {i: pd.array([s[i] for s in split_rows], dtype=frame.dtypes.iloc[i]) for i in columns}
    )
    marks["__row__"] = 0
    rows["__row__"] = 1
    both = pd.concat([marks, rows], ignore_index=True)
    order = both.sort_values(
        columns + ["__row__"], ascending=list(ascending) + [True], na_position=na_position,
        kind="mergesort",
    ).index.to_numpy()
    is_mark = order < len(marks)
    before = np.cumsum(is_mark)
    ids = np.empty(len(rows), dtype=np.int64)
    row_positions = order[~is_mark] - len(marks)
    ids[row_positions] = before[~is_mark]
    return ids


def order_by_ids(ids: np.ndarray, npartitions: int) -> tuple[np.ndarray, np.ndarray]:
    """The row positions grouped by id (rows in order within an id) and where each id's run
    starts (``npartitions + 1`` bounds): one stable counting pass, no comparison sort."""
    counts = np.bincount(ids, minlength=npartitions)
    if len(counts) > npartitions:
        raise ValueError(f"shuffle: a partition id is out of range (>= {npartitions})")
    # 16-bit ids sort by radix (linear time) in NumPy's stable argsort
    small = ids.astype(np.uint16) if npartitions <= 2**16 else ids
    order = np.argsort(small, kind="stable")
    return order, np.concatenate([[0], np.cumsum(counts)])


def split_by_ids(partition: Any, ids: np.ndarray, npartitions: int) -> list:
    """``partition`` cut into ``npartitions`` pieces by ``ids`` (``None`` for an empty piece), rows in order."""
    order, bounds = order_by_ids(ids, npartitions)
    ordered = partition.take(order)
    return [
        ordered.iloc[bounds[j]:bounds[j + 1]] if bounds[j + 1] > bounds[j] else None
        for j in range(npartitions)
    ]


# --- the pieces' files ------------------------------------------------------------------


class _Run:
    """One computation's directory of pieces for one shuffle (see :class:`ShuffleFiles`)."""

    __slots__ = ("directory", "open", "users", "written")

    def __init__(self, directory: str):
        self.directory = directory
        self.open = True
        self.users = 1
        self.written = 0


_lock = threading.Lock()
_runs: dict[str, _Run] = {}  # split name -> the run open for it
_lowered: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # split name -> spec
_bytes_written = [0]


def shuffle_bytes_written() -> int:
    """Bytes of pieces written to disk by shuffles in this process so far (a counter)."""
    return _bytes_written[0]


class _Spec:
    """A shuffle's identity inside its split tasks: the split name, the output count, and
    the pieces' compression (``dataframe.shuffle.compression`` when the plan was lowered)."""

    __slots__ = ("__weakref__", "compression", "index", "name", "npartitions")

    def __init__(self, name: str, npartitions: int, compression: str | None = None,
                 index: bool = True):
        self.name = name
        self.npartitions = npartitions
        self.compression = compression
        self.index = index  # False: the pieces' index is not needed (not written)

    def __reduce__(self):
        return (_Spec, (self.name, self.npartitions, self.compression, self.index))

    def __chunkwise_tokenize__(self) -> tuple:
        return ("shuffle-spec", self.name, self.npartitions, self.compression, self.index)


def _base_directory() -> str:
    directory = config.get("dataframe.shuffle.directory", None)
    return os.fspath(directory) if directory else tempfile.gettempdir()


class ShuffleFiles(Callback):
    """Opens a directory for each shuffle of a local computation, removes it at the end.

    Registered once, process-wide, when this module is imported; it acts only on
    graphs holding a split task of a shuffle lowered in this process.
    """

    def _start(self, graph: Any) -> None:
        found = [name for name in list(_lowered.keys()) if (name, 0) in graph]
        if not found:
            return
        with _lock:
            for name in found:
                run = _runs.get(name)
                if run is not None and run.open:
                    run.users += 1
                    continue
                directory = os.path.join(
                    _base_directory(),
                    f"chunkwise-shuffle-{os.getpid()}-{_safe(name)}-{uuid.uuid4().hex[:8]}",
                )
                os.makedirs(directory)
                _runs[name] = _Run(directory)
        graph_runs = self._graphs.setdefault(id(graph), [])
        graph_runs.extend(found)

    def _finish(self, graph: Any, state: Any, errored: bool) -> None:
        names = self._graphs.pop(id(graph), None)
        if not names:
            return
        closing = []
        with _lock:
            for name in names:
                run = _runs.get(name)
                if run is None:
                    continue
                run.users -= 1
                if run.users == 0:
                    run.open = False
                    del _runs[name]
                    closing.append(run)
        for run in closing:
            shutil.rmtree(run.directory, ignore_errors=True)

    def __init__(self) -> None:
        super().__init__()
        self._graphs: dict[int, list] = {}


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[-60:]


_FILES = ShuffleFiles()
_FILES.register()


def write_piece(piece: pd.DataFrame, path: str, compression: str | None = None,
                index: bool = True) -> int:
    """Write ``piece`` (index included) as an Arrow IPC file; its size in bytes.

    ``compression``: ``None``, ``"lz4"`` or ``"zstd"`` (Arrow IPC's own); ``index=False``:
    the index is left out (read back as a ``RangeIndex``). Columns Arrow cannot hold (mixed Python objects) are pickled instead.
    """

    table = as_table(piece, index)
    if table is None:
        pd.to_pickle(piece, path + ".pkl")
        return os.path.getsize(path + ".pkl")
    return write_table(table, path, compression)


def as_table(partition: Any, index: bool = True) -> Any:
    """``partition`` as an Arrow table (numbers without a copy), or ``None`` when Arrow cannot
    hold a column (mixed Python objects)."""
    import pyarrow as pa

    frame = partition.to_frame() if isinstance(partition, pd.Series) else partition
    try:
        return pa.Table.from_pandas(frame, preserve_index=index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None


def write_table(table: Any, path: str, compression: str | None = None) -> int:
    """Write an Arrow table as an Arrow IPC file; its size in bytes."""
    import pyarrow as pa

    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return os.path.getsize(path)


def _compression() -> str | None:
    """``dataframe.shuffle.compression``: ``None``, ``"lz4"`` or ``"zstd"`` (checked)."""
    codec = config.get("dataframe.shuffle.compression", None)
    if codec not in (None, "lz4", "zstd"):
        raise ValueError(
            f"dataframe.shuffle.compression must be None, 'lz4' or 'zstd', got {codec!r}"
        )
    return codec


def read_piece(path: str, meta: Any) -> Any:
    """A piece written by :func:`write_piece`, as ``meta``'s kind (a Series stays a Series)."""
    import pyarrow as pa

    if path.endswith(".pkl"):
        return pd.read_pickle(path)
    with pa.memory_map(path) as source:
        frame = pa.ipc.open_file(source).read_all().to_pandas()
    if isinstance(meta, pd.Series):
        series = frame.iloc[:, 0]
        return series.rename(meta.name)
    return frame


def _read_arrow_joined(paths: list, meta: Any, order_by: Any = None) -> Any:
    """Arrow IPC pieces joined as Arrow tables, converted to pandas once (one copy, not a
    conversion per piece and a pandas concat); ``None`` when their schemas do not join.

    ``order_by``: how to order the rows while they are Arrow (see :func:`order_of`), so
    the ordered rows are the one copy made."""
    import pyarrow as pa

    with contextlib.ExitStack() as stack:
        tables = []
        for path in paths:
            source = stack.enter_context(pa.memory_map(path))
            tables.append(pa.ipc.open_file(source).read_all())
        try:
            table = pa.concat_tables(tables)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None
        if order_by is not None and table.num_rows > 1:
            order = order_of(lambda position: table.column(position).to_numpy(), order_by)
            if not (order[1:] > order[:-1]).all():  # not already in order
                table = table.take(order)
        frame = table.to_pandas(split_blocks=order_by is not None)
    if isinstance(meta, pd.Series):
        return frame.iloc[:, 0].rename(meta.name)
    return frame


def order_of(column: Any, order_by: Any) -> np.ndarray:
    """The rows' stable order under ``order_by``: a column position (ascending, NaN and NaT
    last) or ``(positions, ascending, na_position)`` (pandas' ``sort_values`` order by
    those columns, :func:`~.order_kernels.sort_order`); ``column(position)`` gives a
    column's NumPy values."""
    if isinstance(order_by, int):
        return stable_order(column(order_by))
    positions, ascending, na_position = order_by
    return sort_order([column(p) for p in positions], list(ascending), na_position)


def order_partition(part: Any, order_by: Any) -> Any:
    """``part``'s rows in the stable order ``order_by`` gives (see :func:`order_of`;
    a Series: its values are the one column), as :func:`_read_arrow_joined` orders them."""
    if len(part) < 2:
        return part

    def column(position: int) -> np.ndarray:
        return (part if isinstance(part, pd.Series) else part.iloc[:, position]).to_numpy()

    return part.take(order_of(column, order_by))


def _remove(paths: list) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def split_partition(partition: Any, spec: _Spec, how: str, params: tuple) -> list:
    """Split one input partition; pieces written to the run's directory when one is open.

    ``how`` is ``"hash"`` (``params = (on,)``) or ``"range"`` (``params = (by,
    splitters, ascending, na_position)``). Returns one entry per output
    partition: ``None`` (empty), a path (``str``) or the piece itself.
    """
    n = spec.npartitions
    if how == "hash":
        ids = hash_ids(partition, params[0], n)
    else:
        ids = range_ids(partition, *params)
    run = _runs.get(spec.name)
    if run is None or not run.open:
        return split_by_ids(partition, ids, n)
    written: list = []
    stem = uuid.uuid4().hex[:12]
    try:
        out, total = _write_split(partition, ids, spec, os.path.join(run.directory, stem), written)
    except BaseException:
        _remove(written)
        raise
    with _lock:
        closed = not run.open
        _bytes_written[0] += total
    if closed:  # the computation ended (an error, Ctrl-C) while this task ran
        _remove(written)
        with contextlib.suppress(OSError):
            os.rmdir(run.directory)
    return out


def _write_split(partition: Any, ids: np.ndarray, spec: _Spec, stem: str, written: list) -> tuple:
    """Write piece ``j`` (the rows of id ``j``, in order) to ``{stem}-{j}.arrow`` for each
    non-empty ``j``: the partition becomes one Arrow table (no copy of numbers), its rows
    are taken once in piece order, and each piece is a slice of that (no conversion per
    piece: 1M rows of two numbers split in 20 took 48-60 ms, against 103-133 ms for a
    pandas ``take`` and a conversion of each piece). Paths are appended to ``written`` as
    they are made. Returns the entries (a path or ``None`` per output) and bytes written."""
    n = spec.npartitions
    table = as_table(partition, spec.index)
    if table is None:  # Arrow cannot hold a column: pandas pieces, pickled
        pieces = split_by_ids(partition, ids, n)
    else:
        order, bounds = order_by_ids(ids, n)
        table = table.take(order)
    out: list = []
    total = 0
    for j in range(n):
        if table is None:
            piece = pieces[j]
        else:
            size = int(bounds[j + 1] - bounds[j])
            piece = table.slice(int(bounds[j]), size) if size else None
        if piece is None:
            out.append(None)
            continue
        path = f"{stem}-{j}.arrow"
        if table is None:
            total += write_piece(piece, path, spec.compression, spec.index)
            path = path if os.path.exists(path) else path + ".pkl"
        else:
            total += write_table(piece, path, spec.compression)
        written.append(path)
        out.append(path)
    return out, total


def select_piece(pieces: list, j: int) -> Any:
    """Piece ``j`` of a split's result (the ``tasks`` method: one small task per piece)."""
    return pieces[j]


def conform(frame: Any, meta: Any) -> Any:
    """``frame`` with ``meta``'s dtypes and index dtype (what an Arrow round trip may change)."""
    if isinstance(meta, pd.DataFrame) and isinstance(frame, pd.DataFrame):
        casts = {c: t for c, d, r in zip(meta.columns, meta.dtypes, frame.dtypes)
                 if (t := cast_target(d, r)) is not None}
        if casts and not frame.columns.has_duplicates:
            with contextlib.suppress(TypeError, ValueError):
                frame = frame.astype(casts)
    elif isinstance(meta, pd.Series) and isinstance(frame, pd.Series):
        target = cast_target(meta.dtype, frame.dtype)
        if target is not None:
            with contextlib.suppress(TypeError, ValueError):
                frame = frame.astype(target)
    index = getattr(meta, "index", None)
    if (
        index is not None and not isinstance(index, pd.MultiIndex)
        and frame.index.dtype != index.dtype
    ):
        with contextlib.suppress(TypeError, ValueError):
            frame.index = frame.index.astype(index.dtype)
    if index is not None and list(frame.index.names) != list(index.names):
        frame.index.names = index.names
    return frame


def _check_size(entries: list, j: int, limit: Any) -> None:
    """Refuse an output partition whose pieces on disk add up to more than ``limit`` bytes."""
    if limit is None:
        return

    total = sum(os.path.getsize(p) for p in entries if isinstance(p, str) and os.path.exists(p))
    if total > parse_bytes(limit):
        raise MemoryError(
            f"shuffle: output partition {j} would hold {total / 2**20:.0f} MiB of pieces, above "
            f"dataframe.shuffle.memory_limit={limit!r}; shuffle into more partitions "
            "(npartitions=), or raise the limit (a single key this large cannot be split)"
        )


def combine_pieces(splits: list, j: int, meta: Any, limit: Any = None,
                   order_by: Any = None) -> Any:
    """Output partition ``j``: piece ``j`` of every split, in input order (files read, then deleted).

    ``splits`` holds each split's whole result, or (the ``tasks`` method) its piece ``j`` alone.
    ``limit``: ``dataframe.shuffle.memory_limit`` when the plan was lowered. ``order_by``:
    how the rows are ordered (see :func:`order_of`).
    """
    entries = [entry[j] if isinstance(entry, list) else entry for entry in splits]
    try:
        _check_size(entries, j, limit)
    except MemoryError:
        _remove([p for p in entries if isinstance(p, str)])
        raise
    present = [p for p in entries if p is not None]
    if present and all(isinstance(p, str) and p.endswith(".arrow") for p in present) and (
            len(present) > 1 or order_by is not None):
        joined = _read_arrow_joined(present, meta, order_by)
        if joined is not None:
            _remove(present)
            return conform(joined, meta)
    pieces, paths = [], []
    for piece in present:
        if isinstance(piece, str):
            paths.append(piece)
            piece = read_piece(piece, meta)
        pieces.append(piece)
    _remove(paths)
    if not pieces:
        return meta.copy()
    out = concat_partitions(pieces, kept_index_dtype(meta)) if len(pieces) > 1 else pieces[0]
    if order_by is not None:
        out = order_partition(out, order_by)
    return conform(out, meta)


# --- the nodes -----------------------------------------------------------------------------


def _method() -> str:
    method = config.get("dataframe.shuffle.method", None)
    if method is not None:
        if method not in ("disk", "tasks"):
            raise ValueError(
                f"dataframe.shuffle.method must be 'disk' or 'tasks' (or None: chosen), got {method!r}"
            )
        return method
    if "distributed" in sys.modules:
        from chunkwise.scheduling import get_scheduler

        getter = get_scheduler(None)
        if getattr(getter, "__name__", "") == "get_distributed" or "distributed" in repr(getter):
            return "tasks"
    return "disk"


class Shuffle(FrameExpr):
    """Base of the shuffle nodes: ``n_in`` split tasks, then ``n_out`` combine tasks (module docstring)."""

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return (None,) * (self._count() + 1)

    def _count(self) -> int:
        raise NotImplementedError

    def _how(self) -> tuple:
        raise NotImplementedError

    def _keeps_index(self) -> bool:
        """Whether the output partitions keep the rows' index labels (else, when the consumer
        replaces the index, pieces are written without it)."""
        return True

    def _order_by(self) -> Any:
        """How each output partition is ordered (:func:`order_of`), or ``None``."""
        return None

    @property
    def _split_name(self) -> str:
        return self.name + "-split"

    @property
    def _piece_name(self) -> str:
        return self.name + "-piece"

    def _owned_names(self) -> tuple:
        return (self.name, self._split_name, self._piece_name)

    def _spec(self) -> _Spec:
        spec = self.__dict__.get("_spec_object")
        if spec is None:
            spec = self.__dict__["_spec_object"] = _Spec(self._split_name, self._count(),
                                                         _compression(), self._keeps_index())
            _lowered[self._split_name] = spec
        return spec

    def _task(self, key: Hashable) -> Task:
        name = key[0]
        if name == self._split_name:
            how, params = self._how()
            return Task(key, split_partition, Ref((self.frame.name, key[1])), self._spec(), how, params)
        if name == self._piece_name:
            return Task(key, select_piece, Ref((self._split_name, key[1])), key[2])
        j = key[1]
        n_in = self.frame.npartitions
        if _method() == "tasks":
            refs = [Ref((self._piece_name, i, j)) for i in range(n_in)]
        else:
            refs = [Ref((self._split_name, i)) for i in range(n_in)]
        limit = config.get("dataframe.shuffle.memory_limit", None)
        return Task(key, combine_pieces, refs, j, self.frame.meta, limit, self._order_by())

    def _inlinable(self) -> bool:
        return False  # a combine reads the splits, outputs of this node itself

    def _one_to_one_inputs(self) -> tuple:
        return (self.frame.name,)  # input partition i is read by split i alone


class HashShuffle(Shuffle):
    """Rows moved to partition ``hash(on) % npartitions`` (see :func:`hash_partition`)."""

    _parameters = ("frame", "on", "npartitions", "note")
    _operand_only = ("npartitions",)
    _defaults = {"note": None}

    def _count(self) -> int:
        return self.operand("npartitions")

    def _how(self) -> tuple:
        return "hash", (self.on,)

    def _explain_line(self) -> str:
        return (f"HashShuffle(on={self.on!r}, npartitions={self._count()})  "
                f"[{self.frame.npartitions} -> {self._count()} partitions]{_note(self.note)}")


class RangeShuffle(Shuffle):
    """Rows moved to the partition whose value range of ``by`` holds them (see :func:`range_partition`).

    ``splitters``: the ``npartitions - 1`` inner boundaries in output order.
    """

    _parameters = ("frame", "by", "splitters", "ascending", "na_position", "note", "keep_index",
                   "ordered")
    _defaults = {"note": None, "keep_index": True, "ordered": False}

    def _keeps_index(self) -> bool:
        return bool(self.keep_index)

    def _order_by(self) -> Any:
        """``ordered=True``: each output partition comes out sorted by ``by`` (as pandas'
        stable ``sort_values(by, ascending, na_position)``; see :func:`can_order`), ordered
        while its pieces are Arrow: a column position (one key, ascending, nulls last) or
        ``(positions, ascending, na_position)``."""
        if not self.ordered:
            return None
        meta = self.frame.meta
        positions = tuple(0 if isinstance(meta, pd.Series) else list(meta.columns).index(b)
                          for b in self.by)
        if len(positions) == 1 and self.ascending[0] and self.na_position == "last":
            return positions[0]
        return positions, tuple(bool(a) for a in self.ascending), self.na_position

    def _count(self) -> int:
        return len(self.splitters) + 1

    def _how(self) -> tuple:
        return "range", (list(self.by), list(self.splitters), list(self.ascending), self.na_position)

    def _explain_line(self) -> str:
        ordered = ", each partition sorted as it is joined" if self.ordered else ""
        return (f"RangeShuffle(by={list(self.by)!r}, npartitions={self._count()}, "
                f"ascending={list(self.ascending)!r}{ordered})  "
                f"[{self.frame.npartitions} -> {self._count()} partitions]{_note(self.note)}")


def can_order(meta: Any, by: Sequence, ascending: Sequence, na_position: str) -> bool:
    """Whether a :class:`RangeShuffle` can order its output partitions itself
    (``ordered=True``): key columns of numbers, booleans or datetimes (NumPy dtypes), each
    named once; any ``ascending`` per key and ``na_position``."""
    if not by or len(ascending) != len(by) or na_position not in ("first", "last"):
        return False
    if isinstance(meta, pd.Series):
        keys = [meta if b == meta.name else None for b in by]
    else:
        columns = list(meta.columns)
        keys = [meta[b] if columns.count(b) == 1 else None for b in by]
    return all(k is not None and isinstance(k.dtype, np.dtype) and k.dtype.kind in "biufmM"
               for k in keys)


def _note(note: str | None) -> str:
    """An explain line's note: why this many partitions, what was sampled."""
    return f"  ({note})" if note else ""


# --- the API ---------------------------------------------------------------------------------


def _check_keys(frame: Any, keys: list, operation: str) -> None:
    meta = frame._meta if hasattr(frame, "_meta") else frame.meta
    if isinstance(meta, pd.Series):
        missing = [k for k in keys if k != meta.name and k != "index"]
    else:
        missing = [k for k in keys if k not in meta.columns and k != "index"]
    if missing:
        available = [meta.name] if isinstance(meta, pd.Series) else list(meta.columns)
        raise KeyError(f"{operation}: no column {missing!r}; the frame has {available!r}")


def _check_count(npartitions: Any, operation: str) -> int:
    if not isinstance(npartitions, (int, np.integer)) or isinstance(npartitions, bool) or npartitions < 1:
        raise ValueError(f"{operation}: npartitions must be a positive integer, got {npartitions!r}")
    return int(npartitions)


def hash_partition(frame: Any, on: Any, npartitions: int) -> Any:
    """``frame`` in exactly ``npartitions`` partitions (divisions unknown): partition ``i``
    holds every row whose key hashes to ``i`` (see :func:`hash_ids`).

    ``on``: a column, a list of columns, or ``"index"``; ``None`` for a
    Series' own values. Rows keep their relative order within a partition.
    """
    npartitions = _check_count(npartitions, "hash_partition")
    if on is not None:
        keys = on if isinstance(on, list) else [on]
        _check_keys(frame, keys, "hash_partition")
        on = list(on) if isinstance(on, (list, tuple)) else on
    return new_collection(HashShuffle(frame.expr, on, npartitions))


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def range_partition(frame: Any, by: Any, divisions: Sequence, ascending: Any = True,
                    na_position: str = "last") -> Any:
    """``frame`` partitioned by value ranges of ``by`` (one column or several).

    ``divisions``: ``npartitions + 1`` boundaries in output order (increasing
    for an ascending key; tuples for several columns). Partition ``i`` holds
    the rows from ``divisions[i]`` up to, not including, ``divisions[i + 1]``;
    rows outside the first and last bounds go to the first and last partition,
    null keys to the first or last (``na_position``).

    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_pandas(pd.DataFrame({"x": [5, 1, 9, 3, 7]}), npartitions=2)
    >>> [p.x.tolist() for p in (range_partition(df, "x", [0, 4, 10]).partitions[i].compute() for i in range(2))]
    [[1, 3], [5, 9, 7]]
    """
    by = _as_list(by)
    _check_keys(frame, by, "range_partition")
    ascending = _as_list(ascending)
    if len(ascending) == 1:
        ascending = ascending * len(by)
    if len(ascending) != len(by):
        raise ValueError(
            f"range_partition: ascending has {len(ascending)} values for {len(by)} columns"
        )
    if na_position not in ("first", "last"):
        raise ValueError(f"range_partition: na_position must be 'first' or 'last', got {na_position!r}")
    divisions = list(divisions)
    if len(divisions) < 2:
        raise ValueError(f"range_partition: divisions needs at least 2 values, got {divisions!r}")
    splitters = tuple(divisions[1:-1])
    return new_collection(
        RangeShuffle(frame.expr, tuple(by), splitters, tuple(bool(a) for a in ascending), na_position)
    )


def shuffle(frame: Any, on: Any, npartitions: int | None = None) -> Any:
    """``DataFrame.shuffle(on=, npartitions=)``: rows with equal keys in one partition (hash).

    ``npartitions`` defaults to the frame's count, or with
    ``dataframe.shuffle.memory_limit`` set, to a count chosen from the frame's
    estimated size (:func:`~chunkwise.dataframe.partition_count.choose_npartitions`);
    ``explain()`` shows why.

    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_pandas(pd.DataFrame({"k": [1, 2, 1, 2], "v": range(4)}), npartitions=2)
    >>> df.shuffle(on="k").compute().sort_values("v").v.tolist()
    [0, 1, 2, 3]
    """
    if on is None:
        raise TypeError("shuffle: give on= (a column, a list of columns, or 'index')")
    if npartitions is not None:
        return hash_partition(frame, on, npartitions)
    choice = choose_npartitions(frame.expr)
    out = hash_partition(frame, on, choice.npartitions)
    return new_collection(HashShuffle(out.expr.frame, out.expr.on, choice.npartitions,
                                      f"npartitions: {choice.reason}"))
