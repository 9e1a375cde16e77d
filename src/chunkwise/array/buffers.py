"""Reusable scratch blocks: large task outputs recycled instead of freshly mapped.

A block of tens of megabytes comes from ``mmap``; when it is freed its pages
go back to the kernel, and the next such block's pages are zeroed again on
first touch. A neighbourhood task (``map_overlap``) makes a fresh extended
block every time, and on a 2-core machine about a third of that workload's
CPU time was the kernel zeroing pages (sys time), not NumPy.

:func:`empty` is ``np.empty`` with a small per-thread pool: each thread keeps
up to :data:`POOL_SIZE` blocks of at least :data:`MIN_BYTES` that it handed
out. A kept block is handed out again only when nothing else refers to it
any more (its reference count is the pool's own): the task that used it has
finished and the scheduler released its result, and no view of it survives
(a view holds its base). So reuse can never overwrite a value someone can
still read. The pools are emptied when a compute on the local schedulers
finishes (a :class:`~chunkwise.scheduling.callbacks.Callback` registered at
import), so no memory stays held between computes.

>>> a = empty((2, 3), np.float64)
>>> a.shape, a.dtype
((2, 3), dtype('float64'))
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from chunkwise.scheduling.callbacks import Callback

__all__ = ["MIN_BYTES", "POOL_SIZE", "clear", "empty", "pooled"]

MIN_BYTES = 4 * 2**20  # smaller blocks come from malloc's own free lists, already reused
POOL_SIZE = 2  # blocks kept per thread

_local = threading.local()
_pools: list[list] = []  # every thread's pool, to empty them all at a compute's end
_pools_lock = threading.Lock()


def _refcount(pool: list, i: int) -> int:
    return sys.getrefcount(pool[i])


def _baseline() -> int:
    """The reference count of a pooled block no one else holds (the pool's, and the call's)."""
    probe = [np.empty(1)]
    return _refcount(probe, 0)


_FREE = _baseline()


def _pool() -> list:
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = []
        with _pools_lock:
            _pools.append(pool)
    return pool


def empty(shape: tuple, dtype: Any) -> np.ndarray:
    """An uninitialized C-ordered array, as ``np.empty``, from this thread's pool when one is free.

    A pooled array is a view of a flat byte buffer kept by the pool; the buffer
    is free again once that view and everything derived from it are gone.
    """
    dtype = np.dtype(dtype)
    shape = tuple(int(n) for n in shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes < MIN_BYTES or dtype.hasobject:
        return np.empty(shape, dtype=dtype)
    pool = _pool()
    spare = None
    for i in range(len(pool)):
        if _refcount(pool, i) == _FREE:
            if pool[i].nbytes == nbytes:
                return pool[i].view(dtype).reshape(shape)
            spare = i
    buffer = np.empty(nbytes, dtype=np.uint8)
    if len(pool) < POOL_SIZE:
        pool.append(buffer)
    elif spare is not None:
        pool[spare] = buffer  # a free buffer of another size makes room
    return buffer.view(dtype).reshape(shape)


def pooled() -> int:
    """Bytes held by every thread's pool now (in use or free)."""
    with _pools_lock:
        return sum(b.nbytes for pool in _pools for b in pool)


def clear(*_: Any) -> None:
    """Empty every thread's pool (blocks still in use live on with their users)."""
    with _pools_lock:
        for pool in _pools:
            pool.clear()


_hooks = Callback(finish=clear)
_hooks.register()
