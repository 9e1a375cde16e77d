"""File systems for the dataframe readers and writers: local paths and fsspec URLs.

Every reader and writer resolves its path once, at build time, into a
:class:`FileSystem`: the fsspec file system (listing, globbing, opening,
renaming), the path inside it, and a pyarrow file system for pyarrow's Parquet
datasets (pyarrow's native local file system for local paths, fsspec wrapped
in ``PyFileSystem`` for URLs such as ``s3://``). All three pickle, so tasks
carry them to threads, processes and ``distributed`` workers.

>>> fs = resolve("/tmp")
>>> fs.protocol, fs.path
('file', '/tmp')
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow.fs as pafs

__all__ = ["FileSystem", "expand_paths", "resolve"]


@dataclass(frozen=True)
class FileSystem:
    """Where a dataset lives: ``fs`` (fsspec), ``path`` in it, ``arrow`` (pyarrow)."""

    fs: Any
    path: str
    protocol: str

    @property
    def arrow(self) -> pafs.FileSystem:
        """The pyarrow file system (native for local paths)."""
        if self.protocol == "file":
            return pafs.LocalFileSystem()
        return pafs.PyFileSystem(pafs.FSSpecHandler(self.fs))

    def join(self, *parts: str) -> str:
        """``path/part/...`` with the file system's separator."""
        return "/".join([self.path.rstrip("/"), *parts])

    def unstrip(self, path: str) -> str:
        """A path of this file system as a user would write it (``s3://bucket/key``)."""
        return path if self.protocol == "file" else f"{self.protocol}://{path}"

    def __chunkwise_tokenize__(self) -> str:
        from chunkwise.core.tokenize import tokenize

        return f"{self.protocol}://{self.path}|{tokenize(getattr(self.fs, 'storage_options', {}))}"


def resolve(path: str | os.PathLike, storage_options: dict | None = None) -> FileSystem:
    """The :class:`FileSystem` of ``path`` (a local path or an fsspec URL)."""
    path = os.fspath(path)
    fs, inner = fsspec.core.url_to_fs(path, **(storage_options or {}))
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol == "local":
        protocol = "file"
    if protocol == "file":
        inner = os.path.abspath(inner)
    else:
        fs.invalidate_cache()  # fsspec instances are shared: never plan from a stale listing
    return FileSystem(fs, inner, protocol)


def expand_paths(
    operation: str, paths: str | os.PathLike | list, storage_options: dict | None = None
) -> tuple[FileSystem, list[str]]:
    """The files named by a path, a glob or a list of them, sorted naturally; at least one.

    Raises ``FileNotFoundError`` naming ``operation`` when nothing matches.
    """
    items = [os.fspath(p) for p in paths] if isinstance(paths, (list, tuple)) else [os.fspath(paths)]
    if not items:
        raise ValueError(f"{operation}: no paths given; pass a path, a glob or a list of paths")
    target = resolve(items[0], storage_options)
    files: list[str] = []
    for item in items:
        inner = resolve(item, storage_options).path
        if any(ch in inner for ch in "*?["):
            files.extend(sorted(target.fs.glob(inner), key=natural_key))
        elif target.fs.isdir(inner):
            found = [f for f in target.fs.find(inner) if not _hidden(f, inner)]
            files.extend(sorted(found, key=natural_key))
        else:
            files.append(inner)
    missing = [f for f in files if not target.fs.exists(f)] if len(files) < 64 else []
    if not files or missing:
        raise FileNotFoundError(
            f"{operation}: no file matches {missing[0] if missing else paths!r}; "
            "check the path (globs such as 'data/*.csv' and lists of paths are accepted)"
        )
    return target, files


def natural_key(path: str) -> list:
    """Sort key ordering ``part.2`` before ``part.10``."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def _hidden(path: str, root: str) -> bool:
    rel = path[len(root.rstrip("/")) + 1:]
    return any(part.startswith(("_", ".")) for part in rel.split("/"))
