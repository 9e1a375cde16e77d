"""The practical limit: array workloads written by hand in NumPy over the same blocks.

A ``handwritten`` implementation is what a careful programmer would write
without any engine: the same block grid as the chunked implementations, a
``concurrent.futures.ThreadPoolExecutor`` of ``THREADS`` threads mapping a
NumPy kernel over the blocks (in-place ufuncs, ``out=`` where it saves a
temporary), then a reduction of the per-block results in the caller. Random
inputs are drawn per block from the streams ``chunkwise.array.random`` uses,
``PCG64(SeedSequence(seed, spawn_key=(stream, block)))``, so a seeded
chunkwise array and its hand-written twin hold the same values.

The report prints chunkwise's time divided by this one (``÷ hand``): the
issue's target is at most 1.5x. Nothing here imports chunkwise or dask.

>>> [s for s in block_slices((5,), (2,))]
[(slice(0, 2, None),), (slice(2, 4, None),), (slice(4, 5, None),)]
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = [
    "THREADS",
    "block_rng",
    "block_slices",
    "grid",
    "map_blocks",
    "one_blas_thread",
    "uniform_block",
]

THREADS = 2
"""Threads of the hand-written pool: the machine's two cores."""


def grid(length: int, chunk: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each block of one axis of ``length`` in blocks of ``chunk``.

    >>> grid(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    return [(start, min(start + chunk, length)) for start in range(0, length, chunk)]


def block_slices(shape: tuple, chunks: tuple) -> Iterator[tuple]:
    """The slices of every block of ``shape`` in blocks of ``chunks``, in C order."""
    axes = [grid(n, c) for n, c in zip(shape, chunks)]
    for bounds in itertools.product(*axes):
        yield tuple(slice(a, b) for a, b in bounds)


def block_rng(seed: int, stream: int, block: int) -> Any:
    """The generator of block ``block`` (C-order index) of the ``stream``-th array drawn from ``seed``.

    The same stream as ``chunkwise.array.random`` draws for that block, for
    ``default_rng(seed)`` and ``RandomState(seed)`` alike.
    """
    import numpy as np

    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, block)))


def uniform_block(seed: int, stream: int, block: int, shape: tuple) -> Any:
    """Uniform float64 values of one block, from :func:`block_rng`."""
    return block_rng(seed, stream, block).random(shape)


def map_blocks(func: Callable[..., Any], items: Iterable[Any], threads: int = THREADS) -> list:
    """``[func(item) for item in items]`` on a pool of ``threads`` threads, results in order."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(func, items))


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS limited to one thread while the pool's threads call it (threadpoolctl, if installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
