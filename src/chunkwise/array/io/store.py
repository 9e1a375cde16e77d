"""``store``: write arrays block by block into anything with ``__setitem__``.

:func:`store` writes each block into a target (a NumPy array, a memmap, a
zarr array, an h5py dataset): one task per block (:class:`StoreBlocks`),
``target[region of the block] = block``, under a lock unless told otherwise
(:mod:`~chunkwise.array.io.locks`); the region of each block comes from
:mod:`~chunkwise.array.io.regions`. :class:`StoreDone` is the one task that
waits for every write (``store(compute=False)``), :class:`LoadStored` reads
the blocks back from the target (``return_stored=True``).

A write that fails re-raises its own error with a note naming the block and
the region it was writing, and how many (and which) blocks of that target had
been written before: a partial write is never silent. The write log that
knows this is shared by the write tasks of one call in one process.

:data:`COMPUTE_KEYWORDS` are the keywords that the writers built on
:func:`store` (``to_zarr``, ``to_hdf5``) pass on to ``compute``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(10), chunks=4)
>>> target = np.zeros(12, dtype=int)
>>> store(x, target, regions=(slice(2, 12),))
>>> target.tolist()
[0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections.abc import Hashable
from typing import Any

from chunkwise.array.chunks import check_known_chunks, chunk_boundaries
from chunkwise.array.core import Array, asarray
from chunkwise.array.expr import ArrayExpr, getter
from chunkwise.array.io.locks import normalize_lock
from chunkwise.array.io.regions import block_slices, describe_slices, normalize_region
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task
from chunkwise.core.tokenize import tokenize
from chunkwise.delayed import Delayed

__all__ = ["COMPUTE_KEYWORDS", "LoadStored", "ReadBack", "StoreBlocks", "StoreDone", "store"]


COMPUTE_KEYWORDS = ("scheduler", "num_workers", "callbacks", "optimize_graph")
"""The keywords of ``compute`` that writers on top of :func:`store` take and pass on."""


class _WriteLog:
    """Which blocks of one (source, target) pair have been written, for error messages.

    Shared by the write tasks of one :func:`store` call in one process (a copy
    sent to another process starts empty).
    """

    def __init__(self, description: str, total: int):
        self.description = description
        self.total = total
        self.written: set = set()
        self.lock = threading.Lock()
        self.siblings: list[_WriteLog] = []  # the logs of the other targets of the same store call

    def __reduce__(self):
        return (_WriteLog, (self.description, self.total))

    def __repr__(self) -> str:
        return f"<write log: {self.description}>"

    def done(self, index: tuple) -> None:
        with self.lock:
            self.written.add(index)

    def failure_note(self, index: tuple, slices: tuple) -> str:
        with self.lock:
            written = sorted(self.written)
        shown = ", ".join(str(w) for w in written[:10]) + (", ..." if len(written) > 10 else "")
        note = (
            f"[chunkwise.store] writing block {index} into {self.description}"
            f"{describe_slices(slices)} failed. "
        )
        if written:
            note += f"{len(written)} of {self.total} blocks had been written before it: {shown}; "
        else:
            note += f"none of the {self.total} blocks had been written before it; "
        note += "the others were not written (or were being written concurrently): the target is incomplete"
        others = []
        for sibling in self.siblings:
            with sibling.lock:
                count = len(sibling.written)
            state = "fully written" if count == sibling.total else "NOT fully written (incomplete)"
            others.append(f"{sibling.description}: {state}, {count} of {sibling.total} blocks")
        if others:
            note += ". The other targets of this store: " + "; ".join(others)
        return note


def _write_block(
    block: Any, target: Any, slices: tuple, lock: Any, log: _WriteLog, index: tuple, return_block: bool
) -> Any:
    try:
        if lock is not None:
            with lock:
                target[slices] = block
        else:
            target[slices] = block
    except Exception as exc:
        if hasattr(exc, "add_note"):
            exc.add_note(log.failure_note(index, slices))
        raise
    log.done(index)
    return block if return_block else None


class StoreBlocks(ArrayExpr):
    """Each block of ``array`` written into ``target`` at its place in ``region``.

    Its output blocks are the written blocks (``return_blocks``) or ``None``.
    ``prefix`` is unique per :func:`store` call: writing is a side effect, so two
    stores of the same data are two stores.
    """

    _parameters = ("array", "target", "region", "lock", "log", "return_blocks", "prefix")

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.prefix}-{tokenize(self.array.name)}"

    def _chunks(self) -> tuple:
        return self.array.chunks

    def _dtype(self) -> Any:
        return self.array.dtype

    @functools.cached_property
    def _boundaries(self) -> tuple:
        return tuple(chunk_boundaries(c) for c in self.array.chunks)

    @functools.cached_property
    def _parts(self) -> tuple:
        return (self.array.name, self.target, self.region, self._boundaries, self.lock, self.log,
                self.return_blocks)

    def _task(self, key: Hashable) -> Task:
        name, target, region, boundaries, lock, log, return_blocks = self._parts
        index = key[1:]
        slices = block_slices(region, boundaries, index)
        return Task(key, _write_block, Ref((name, *index)), target, slices, lock, log, index, return_blocks)

    def _explain_line(self) -> str:
        return f"Store: into {type(self.target).__name__}  [{self.npartitions} blocks, {self.dtype}]"


class StoreDone(Expr):
    """One task that waits for every write of ``stores`` (the result of ``store(compute=False)``)."""

    _parameters = ("prefix",)
    _variadic = True

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.operands[0]}-{tokenize(*[s.name for s in self.operands[1:]])}"

    def _task(self, key: Hashable) -> Task:
        refs = [Ref(k) for s in self.operands[1:] for k in s._output_keys()]
        return Task(key, _stored, refs)

    def _explain_line(self) -> str:
        return f"StoreDone: {len(self.operands) - 1} target(s)"


def _stored(results: list) -> None:
    return None


class ReadBack(ArrayExpr):
    """Blocks read back from where a write put them, one ``getter`` task a block.

    Subclasses declare ``region``, ``chunks_`` and ``dtype_`` among their parameters and
    say what to read from (:meth:`_source`: the target, or a reference to the task that
    finished the write) and under which lock (:meth:`_read_lock`).
    """

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    @functools.cached_property
    def _boundaries(self) -> tuple:
        return tuple(chunk_boundaries(c) for c in self.chunks_)

    def _source(self) -> Any:
        raise NotImplementedError

    def _read_lock(self) -> Any:
        return None

    def _task(self, key: Hashable) -> Task:
        slices = block_slices(self.region, self._boundaries, key[1:])
        return Task(key, getter, self._source(), slices, self._read_lock())


class LoadStored(ReadBack):
    """Blocks read back from the ``target`` that ``store`` wrote them into."""

    _parameters = ("target", "region", "chunks_", "dtype_", "lock", "prefix")

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        return f"load-{self.prefix}"

    def _source(self) -> Any:
        return self.target

    def _read_lock(self) -> Any:
        return self.lock


def _as_list(obj: Any) -> tuple[list, bool]:
    if isinstance(obj, (list, tuple)) and not isinstance(obj, Array):
        return list(obj), True
    return [obj], False


def _target_shape(target: Any) -> tuple | None:
    shape = getattr(target, "shape", None)
    if shape is None:
        return None
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        return None


def store(
    sources: Any,
    targets: Any,
    lock: Any = True,
    regions: Any = None,
    compute: bool = True,
    return_stored: bool = False,
    **kwargs: Any,
) -> Any:
    """Write arrays into targets that support ``target[slices] = block``, one task per block.

    ``sources``: an array or a list of arrays; ``targets``: one target or a list
    of the same length (NumPy arrays, memmaps, zarr arrays, h5py datasets...).
    ``regions``: a tuple of slices (or one per target) placing each source in
    its target. ``lock``: ``True`` (a new lock shared by all writes),
    ``False``, or a lock object. ``compute=False`` returns a ``Delayed`` that
    writes when computed; ``return_stored=True`` returns the arrays instead
    (read back from the targets when ``compute=True``, or the written blocks
    themselves when ``compute=False``). Other keywords go to ``compute``.
    Matches ``dask.array.store``; in addition a failed write names the block,
    its region and the blocks already written.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6).reshape(2, 3), chunks=(1, 2))
    >>> out = np.zeros((2, 3))
    >>> writes = store(x, out, compute=False)
    >>> float(out.sum())
    0.0
    >>> writes.compute()
    >>> out.tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    source_list, _ = _as_list(sources)
    source_list = [asarray(s) for s in source_list]
    target_list, targets_listed = _as_list(targets)
    if len(source_list) != len(target_list):
        raise ValueError(
            f"store: got {len(source_list)} source(s) but {len(target_list)} target(s); "
            "give one target per source"
        )
    if regions is None or isinstance(regions, (tuple, slice)):
        region_list = [regions] * len(source_list)
    else:
        region_list = list(regions)
        if len(region_list) != len(source_list):
            raise ValueError(
                f"store: got {len(region_list)} regions for {len(source_list)} source(s)"
            )
    lock = normalize_lock(lock)
    prefix = f"store-{uuid.uuid4().hex[:16]}"
    stores = []
    logs: list[_WriteLog] = []
    for n, (source, target, region) in enumerate(zip(source_list, target_list, region_list)):
        if not hasattr(target, "__setitem__"):
            raise TypeError(
                f"store: target {n} ({type(target).__name__}) does not support item assignment "
                "(target[slices] = block)"
            )
        check_known_chunks("store", source, what=f"source {n}", detail=", so where its blocks go is unknown")
        tshape = _target_shape(target)
        norm_region, region_shape = normalize_region(region, tshape, source.ndim, "store")
        if region_shape is not None and tuple(source.shape) != tuple(region_shape):
            where = f"region {region!r} of the target (shape {tshape})" if region is not None else "target"
            raise ValueError(
                f"store: source {n} has shape {tuple(source.shape)} but the {where} has shape "
                f"{tuple(region_shape)}; they must match"
            )
        kind = getattr(target, "store_description", None) or type(target).__name__
        what = f"target {n} ({kind})" if len(target_list) > 1 else kind
        log = _WriteLog(what, source.npartitions)
        logs.append(log)
        stores.append(
            StoreBlocks(source.expr, target, norm_region, lock, log, bool(return_stored and not compute),
                        f"{prefix}-{n}")
        )

    for log in logs:
        log.siblings = [other for other in logs if other is not log]
    if return_stored and not compute:
        out = [Array(s) for s in stores]
    elif return_stored:
        Delayed(StoreDone(prefix, *stores)).compute(**kwargs)
        out = [
            Array(LoadStored(s.target, s.region, s.array.chunks, s.array.dtype, lock, s.prefix))
            for s in stores
        ]
    else:
        done = Delayed(StoreDone(prefix, *stores))
        if compute:
            done.compute(**kwargs)
            return None
        return done
    return out if targets_listed or isinstance(sources, (list, tuple)) else out[0]
