"""Parquet footers: read in parallel, and kept across plans for local files.

Planning a read needs footers only for row-group splitting, statistics and
row counts (``parquet_files.plan_pieces``), and then reads them on a thread pool
(:func:`read_footers`). A query that calls ``read_parquet`` again (each run
of a benchmark, each notebook cell) would read them all again, so footers of
local files are kept in :data:`FOOTER_CACHE` by ``(path, mtime_ns, size)``:
a file rewritten since has another key, and its old footer is never used.

>>> cache = FooterCache(capacity=1)
>>> cache.put(("a.parquet", 1, 10), "footer a")
>>> cache.put(("b.parquet", 1, 10), "footer b")
>>> cache.get_many([("a.parquet", 1, 10), ("b.parquet", 1, 10)])
[None, 'footer b']
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pyarrow.parquet as pq

from chunkwise.dataframe.io.filesystems import FileSystem

__all__ = ["FOOTER_CACHE", "FooterCache", "read_footers"]


def read_footers(fs: FileSystem, paths: list[str]) -> list[pq.FileMetaData]:
    """The footers of ``paths``: local files from :data:`FOOTER_CACHE` when they have not
    changed since, the others read on a thread pool."""
    keys = [_footer_key(fs, p) for p in paths]
    found = FOOTER_CACHE.get_many(keys)
    missing = [p for p, footer in zip(paths, found) if footer is None]
    arrow = fs.arrow

    def one(path: str) -> pq.FileMetaData:
        return pq.read_metadata(path, filesystem=arrow)

    if len(missing) <= 1:
        read = [one(p) for p in missing]
    else:
        with ThreadPoolExecutor(max_workers=min(32, len(missing))) as pool:
            read = list(pool.map(one, missing))
    fresh = iter(read)
    out = []
    for key, footer in zip(keys, found):
        if footer is None:
            footer = next(fresh)
            FOOTER_CACHE.put(key, footer)
        out.append(footer)
    return out


class FooterCache:
    """Footers of local files by ``(path, mtime_ns, size)``, shared by every plan in the
    process (least recently used beyond ``capacity``).

    A query that calls ``read_parquet`` again (each benchmark run, each notebook
    cell) would otherwise read every footer again at planning time. A file
    rewritten since has another modification time or size, so its old footer
    is never used (only a rewrite of the same size within the file system's
    timestamp resolution would go unseen). Remote files are not cached here: checking that they did not
    change costs a request per file, as much as reading the footer (their
    footers are still shared within one dataset, by ``ParquetDataset.footers``).
    """

    def __init__(self, capacity: int = 4096):
        self.capacity = capacity
        self._footers: dict = {}
        self._lock = threading.Lock()

    def get_many(self, keys: list) -> list[pq.FileMetaData | None]:
        """The cached footer of each key (``None``: not cached, or a key of ``None``)."""
        with self._lock:
            out = []
            for key in keys:
                footer = None if key is None else self._footers.pop(key, None)
                if footer is not None:
                    self._footers[key] = footer  # most recently used last
                out.append(footer)
            return out

    def put(self, key: tuple | None, footer: pq.FileMetaData) -> None:
        """Remember ``footer`` under ``key`` (nothing for ``None``)."""
        if key is None:
            return
        with self._lock:
            self._footers.pop(key, None)
            self._footers[key] = footer
            while len(self._footers) > self.capacity:
                del self._footers[next(iter(self._footers))]

    def clear(self) -> None:
        """Forget every footer."""
        with self._lock:
            self._footers.clear()


#: the process's footers of local Parquet files (see :class:`FooterCache`)
FOOTER_CACHE = FooterCache()


def _footer_key(fs: FileSystem, path: str) -> tuple | None:
    if fs.protocol != "file":
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None  # let the read report it
    return (path, info.st_mtime_ns, info.st_size)
