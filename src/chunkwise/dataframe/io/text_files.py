"""Line-oriented text files (CSV, JSON lines): blocks, the scan node, the writer node.

Reading plans **blocks** at build time from file sizes alone: a file of ``n``
bytes gives ``ceil(n / blocksize)`` blocks; a compressed file (or
``blocksize=None``) is one block, read whole. Each task reads its byte range
extended to line boundaries: a block starts at the first line that begins at
or after its offset and ends with the line that straddles its end (fsspec's
``read_block`` with ``b"\\n"``), so every line is read by exactly one block.
For CSV the header line, read once at build time, is put in front of every
block but a file's first. (A quoted field holding a newline can be split;
pass ``blocksize=None`` for such files.)

``meta`` comes from the first rows of the first file, read with the user's
pandas arguments. A block whose inferred dtypes differ is cast to ``meta``;
when that fails the error names the column and the ``dtype=`` to pass.

Writing (:class:`WriteText`) puts partition ``i`` in its own file (``*`` in
the path replaced by ``i``), each written under a temporary name and renamed,
or, with ``single_file=True``, appends the partitions in order to one
temporary file that is renamed when the last is written.
"""

from __future__ import annotations

import functools
import io
import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from fsspec.utils import infer_compression, read_block

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.expr import FrameExpr, Projection
from chunkwise.dataframe.io.filesystems import FileSystem, expand_paths, resolve
from chunkwise.dataframe.io.parquet import consumers_of

__all__ = [
    "Block",
    "ReadText",
    "WriteText",
    "plan_blocks",
    "read_text_block",
    "sample_meta",
    "target_paths",
    "write_text_partition",
]

SAMPLE_BYTES = 256 * 2**10


@dataclass(frozen=True)
class Block:
    """Bytes ``[offset, offset + length)`` of ``path`` (extended to lines); ``length=None``: whole."""

    path: str
    offset: int
    length: int | None
    compression: str | None


def _compression(path: str, compression: str | None) -> str | None:
    if compression == "infer":
        return infer_compression(path)
    return compression


def plan_blocks(
    operation: str, paths: Any, blocksize: int | None, compression: str | None,
    storage_options: dict | None,
) -> tuple[FileSystem, list[Block]]:
    """The blocks of every file named by ``paths`` (a path, a glob or a list)."""
    fs, found = expand_paths(operation, paths, storage_options)
    blocks = []
    for path in found:
        comp = _compression(path, compression)
        if comp is not None or blocksize is None:
            blocks.append(Block(path, 0, None, comp))
            continue
        size = fs.fs.size(path)
        if size == 0:
            blocks.append(Block(path, 0, None, None))
            continue
        blocks.extend(Block(path, off, min(blocksize, size - off), None) for off in range(0, size, blocksize))
    return fs, blocks


def _read_start(fs: FileSystem, block: Block, nbytes: int) -> bytes:
    with fs.fs.open(block.path, "rb", compression=block.compression) as handle:
        return handle.read(nbytes)


def read_header(fs: FileSystem, block: Block) -> bytes:
    """The first line of a file, newline included."""
    data = _read_start(fs, block, SAMPLE_BYTES)
    end = data.find(b"\n")
    while end < 0 and len(data) % SAMPLE_BYTES == 0 and data:
        more = _read_start(fs, block, len(data) * 2)
        if len(more) == len(data):
            break
        data = more
        end = data.find(b"\n")
    return data if end < 0 else data[: end + 1]


def _parse(kind: str, data: bytes, kwargs: dict) -> pd.DataFrame:
    if kind == "csv":
        return pd.read_csv(io.BytesIO(data), **kwargs)
    if not data.strip():
        return pd.DataFrame()
    return pd.read_json(io.BytesIO(data), **kwargs)


def sample_meta(fs: FileSystem, first: Block, kind: str, kwargs: dict, sample: int = SAMPLE_BYTES) -> pd.DataFrame:
    """``meta`` from the first rows of the first block's file."""
    data = _read_start(fs, first, sample)
    if 0 < sample == len(data) and b"\n" in data:
        data = data[: data.rfind(b"\n") + 1]
    try:
        frame = _parse(kind, data, kwargs)
    except Exception as exc:
        raise type(exc)(f"read_{kind}: reading the first rows of {fs.unstrip(first.path)!r} failed: {exc}") from exc
    return frame.iloc[:0]


def read_text_block(
    fs: FileSystem,
    block: Block,
    header: bytes,
    kind: str,
    kwargs: dict,
    meta: pd.DataFrame,
    columns: list | None,
    path_column: str | None,
    path_dtype: Any = None,
) -> pd.DataFrame:
    """Read one block as a DataFrame shaped like ``meta``."""
    if block.length is None:
        with fs.fs.open(block.path, "rb", compression=block.compression) as handle:
            data = handle.read()
    else:
        with fs.fs.open(block.path, "rb") as handle:
            data = read_block(handle, block.offset, block.length, b"\n")
        if block.offset > 0:
            data = header + data
    kwargs = dict(kwargs)
    file_columns = None if columns is None else [c for c in columns if c != path_column]
    if file_columns is not None and kind == "csv":
        kwargs["usecols"] = file_columns or [0]  # (only the path column: count the rows)
    frame = _parse(kind, data, kwargs)
    if file_columns == []:
        frame = frame.iloc[:, :0]
    if kind == "json" and frame.empty and not len(frame.columns):
        frame = meta.drop(columns=[path_column] if path_column in meta.columns else []).copy()
    if path_column is not None and path_column in meta.columns:
        frame[path_column] = pd.Categorical([fs.unstrip(block.path)] * len(frame), dtype=path_dtype)
    return _conform(frame, meta, kind, block, fs)


def _conform(frame: pd.DataFrame, meta: pd.DataFrame, kind: str, block: Block, fs: FileSystem) -> pd.DataFrame:
    missing = [c for c in meta.columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"read_{kind}: {fs.unstrip(block.path)!r} (bytes from {block.offset}) lacks columns "
            f"{missing} that the first file has; read files with different columns separately"
        )
    if list(frame.columns) != list(meta.columns):
        frame = frame[list(meta.columns)]
    for (name, dtype), have in zip(meta.dtypes.items(), frame.dtypes):
        if have == dtype:
            continue
        try:
            frame[name] = frame[name].astype(dtype)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"read_{kind}: column {name!r} was inferred as {dtype} from the first rows, but "
                f"{fs.unstrip(block.path)!r} (bytes from {block.offset}) holds {frame[name].dtype} "
                f"values ({exc}); pass dtype={{{name!r}: {str(frame[name].dtype)!r}}} (or 'object')"
            ) from exc
    return frame


class ReadText(FrameExpr):
    """A scan of CSV or JSON-lines blocks; ``columns`` narrows it (``usecols``)."""

    _parameters = ("kind", "fs", "blocks", "header", "kwargs", "full_meta", "columns", "path_column")
    _operand_only = ('columns',)  # metadata of the same name: read with operand()
    _defaults = {"columns": None, "path_column": None}

    @property
    def _funcname(self) -> str:
        return f"read-{self.kind}"

    def _meta(self) -> Any:
        columns = self.operand("columns")
        meta = self.full_meta
        return meta if columns is None else meta[columns]

    def _divisions(self) -> tuple:
        return (None,) * (len(self.blocks) + 1)

    @functools.cached_property
    def _block_arguments(self) -> tuple:
        """What every block's read is given besides its block: computed once, not per task."""
        columns = self.operand("columns")
        wanted = None if columns is None else ([columns] if not isinstance(columns, list) else columns)
        meta = self.full_meta if wanted is None else self.full_meta[wanted]
        path_dtype = None
        if self.path_column is not None:
            path_dtype = self.full_meta[self.path_column].dtype
        return meta, wanted, self.path_column, path_dtype

    def _task(self, key: Hashable) -> Task:
        columns = self.operand("columns")
        task = Task(key, read_text_block, self.fs, self.blocks[key[1]], self.header, self.kind,
                    self.kwargs, *self._block_arguments)
        if columns is not None and not isinstance(columns, list):
            return Task(key, _column, task, columns)
        return task

    def _replace(self, **changes: Any) -> ReadText:
        values = dict(zip(self._parameters, self.operands))
        values.update(changes)
        return type(self)(*(values[p] for p in self._parameters))

    def _simplify_up(self, parent: Any, dependents: Any = None) -> Any:
        if not (isinstance(parent, Projection) and parent.frame.name == self.name):
            return None
        if self.kind != "csv":
            return None  # JSON has no usecols: a narrower read saves nothing
        current = self.operand("columns")
        if current is not None and not isinstance(current, list):
            return None
        wanted = parent.operand("columns")
        needed = [wanted] if not isinstance(wanted, list) else list(wanted)
        if dependents is not None:
            consumers = consumers_of(self, dependents)
            union: set = set()
            for consumer in consumers:
                if not (isinstance(consumer, Projection) and consumer.frame.name == self.name):
                    return None
                cols = consumer.operand("columns")
                union.update([cols] if not isinstance(cols, list) else cols)
            needed = [c for c in self.meta.columns if c in union]
        have = list(self.meta.columns)
        if not set(needed) <= set(have):
            return None
        if needed == have:
            return self if wanted == have else None
        narrowed = self._replace(columns=needed)
        return narrowed if wanted == needed else Projection(narrowed, wanted)

    def _explain_line(self) -> str:
        columns = self.operand("columns")
        paths = {b.path for b in self.blocks}
        return (f"Read{self.kind.upper()}: {len(paths)} files, {len(self.blocks)} blocks, "
                f"columns={'all' if columns is None else columns!r}  [{self.npartitions} partitions]")


def _column(frame: pd.DataFrame, column: Hashable) -> pd.Series:
    return frame[column]


# --- writing ----------------------------------------------------------------------------


def target_paths(operation: str, path: Any, n: int, storage_options: dict | None,
                 single_file: bool, suffix: str) -> tuple[FileSystem, list[str]]:
    """The files partitions go to: ``*`` replaced by the partition number, or ``dir/<i>.part``."""
    fs = resolve(path, storage_options)
    if single_file:
        if "*" in fs.path:
            raise ValueError(f"{operation}(single_file=True): the path {path!r} must name one file, without '*'")
        return fs, [fs.path]
    if "*" not in fs.path:
        fs = FileSystem(fs.fs, fs.path.rstrip("/"), fs.protocol)
        return fs, [f"{fs.path}/{i}.{suffix}" for i in range(n)]
    if fs.path.count("*") > 1:
        raise ValueError(f"{operation}: the path {path!r} may hold one '*' (the partition number)")
    return fs, [fs.path.replace("*", str(i)) for i in range(n)]


def write_text_partition(
    frame: pd.DataFrame, fs: FileSystem, path: str, kind: str, kwargs: dict,
    append_to: str | None = None, first: bool = True, last: bool = True, previous: Any = None,
) -> str:
    """Write one partition to ``path`` (via a temporary name); append to ``append_to`` if given."""
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.fs.makedirs(parent, exist_ok=True)
    kwargs = dict(kwargs)
    if kind == "csv":
        if not first:
            kwargs["header"] = False
        text = frame.to_csv(**kwargs)
    else:
        text = frame.to_json(**kwargs)
        if text and not text.endswith("\n"):
            text += "\n"
    data = text.encode(kwargs.get("encoding") or "utf-8")
    if append_to is not None:
        with fs.fs.open(append_to, "wb" if first else "ab") as handle:
            handle.write(data)
        if last:
            fs.fs.mv(append_to, path)
        return path
    temporary = f"{parent}/.{path.rsplit('/', 1)[-1]}.{uuid.uuid4().hex}.tmp"
    with fs.fs.open(temporary, "wb") as handle:
        handle.write(data)
    fs.fs.mv(temporary, path)
    return path


def _collect(paths: list) -> list:
    return list(dict.fromkeys(paths))


class WriteText(FrameExpr):
    """Partitions written as text files; its one output is the list of files written."""

    _parameters = ("frame", "kind", "fs", "paths", "kwargs", "single_file")

    def _meta(self) -> Any:
        return np.int64(0)

    def _divisions(self) -> tuple:
        return (None, None)

    def _owned_names(self) -> tuple:
        return (self.name, "write-" + self.name)

    def _output_keys(self) -> list:
        return [(self.name, 0)]

    def _task(self, key: Hashable) -> Task:
        n = self.frame.npartitions
        if key[0] == "write-" + self.name:
            i = key[1]
            if self.single_file:
                target = self.paths[0]
                parent = target.rsplit("/", 1)[0]
                temporary = f"{parent}/.{target.rsplit('/', 1)[-1]}.{self.name}.tmp"
                previous = Ref(("write-" + self.name, i - 1)) if i else None
                return Task(key, write_text_partition, Ref((self.frame.name, i)), self.fs, target,
                            self.kind, self.kwargs, temporary, i == 0, i == n - 1, previous)
            return Task(key, write_text_partition, Ref((self.frame.name, i)), self.fs,
                        self.paths[i], self.kind, self.kwargs)
        return Task(key, _collect, [Ref(("write-" + self.name, i)) for i in range(n)])

    def _explain_line(self) -> str:
        return f"Write{self.kind.upper()}: {len(self.paths)} files  [{self.frame.npartitions} partitions]"
