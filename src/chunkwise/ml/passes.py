"""One pass over the row blocks of chunked training data: the building block of every ``fit``.

An estimator in :mod:`chunkwise.ml` reads its data in *passes*. A pass is one
plan: a fused task per row block computes a small partial result from the
block of ``X`` (and the aligned block of ``y``) and the current model
parameters, and a tree reduction combines the partials, so only a vector of a
few kilobytes (a loss and its gradient, a Gram matrix, cluster sums) reaches
the client::

    X block 0, y block 0 ─► partial 0 ─┐
    X block 1, y block 1 ─► partial 1 ─┼─► tree sum (16 per task) ─► client
    ...                                │
    X block n, y block n ─► partial n ─┘

The pieces:

- :func:`row_pass` packs each block's partial into one row of a ``(1, size)``
  block (:func:`chunkwise.array.blockwise` over the row axis), sums them with
  an ordinary tree reduction, or merges them with a ``combine`` of one's own
  (:func:`chunkwise.array.reduction`), and computes;
- :func:`fold_pass` is the same pass for partials that are not float vectors
  (category sets, label sets, quantile summaries, tuples of counts): one
  delayed task per row block (:func:`row_blocks`) and a tree of
  ``combine(a, b)`` calls, 8 wide; it counts as a pass and runs under one
  BLAS thread like :func:`row_pass`;
- :func:`cached` keeps lazily generated training data in memory for the
  duration of a fit when it fits under ``CACHE_LIMIT`` (set it with
  :func:`set_cache_limit`), so an optimizer's twenty passes do not regenerate
  the data twenty times; larger data is re-read on each pass and memory stays
  near ``threads x block size``;
- :func:`passes_counter` counts passes (the benchmarks and tests read it);
- during a pass BLAS runs one thread (:func:`one_blas_thread`): the row blocks
  already run in parallel on the scheduler's threads, and BLAS's own threads on
  top oversubscribe the cores (a 10-class logistic step ran 5-10x slower on
  two cores); one thread also makes every block's products round the same way
  whatever the scheduler.

Scheduler: the passes use the active scheduler (``chunkwise.config``,
``compute(scheduler=...)`` or a ``distributed.Client``); a
:class:`chunkwise.diagnostics.ProgressBar` that is active shows one bar per
pass, that is one per optimizer step.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psutil

import chunkwise.array as da
from chunkwise.array.blas import one_blas_thread as array_one_blas_thread
from chunkwise.array.core import Array
from chunkwise.base import persist
from chunkwise.dataframe.core import FrameBase
from chunkwise.delayed import delayed

__all__ = [
    "CACHE_LIMIT",
    "block_partials",
    "cached",
    "cache_limit",
    "merge_moments",
    "moments_partial",
    "moments_size",
    "one_blas_thread",
    "count_pass",
    "fold_pass",
    "label_counts",
    "pass_count",
    "passes_counter",
    "row_blocks",
    "row_pass",
    "set_cache_limit",
    "weighted_moments_partial",
]

#: Training data whose blocks total fewer bytes than this stay in memory during a fit
#: (``None``: a quarter of the machine's physical memory).
CACHE_LIMIT: int | None = None

_state = threading.local()
_count_lock = threading.Lock()
_counts = itertools.count()
_total = [0]


def cache_limit() -> int:
    """The cache limit in bytes in force (see :data:`CACHE_LIMIT`)."""
    limit = getattr(_state, "limit", CACHE_LIMIT)
    if limit is None:
        return psutil.virtual_memory().total // 4
    return int(limit)


@contextlib.contextmanager
def set_cache_limit(nbytes: int | None) -> Iterator[None]:
    """Within the block, cache training data only below ``nbytes`` (0: never cache).

    >>> with set_cache_limit(0):
    ...     cache_limit()
    0
    """
    old = getattr(_state, "limit", CACHE_LIMIT)
    _state.limit = nbytes
    try:
        yield
    finally:
        _state.limit = old


def cached(*arrays: Any) -> tuple:
    """``arrays`` persisted in memory when lazy and together under the cache limit, else as they are.

    Arrays already held in memory (a ``from_array`` of a NumPy array, or persisted)
    are returned unchanged.
    """
    lazy = [a for a in arrays if isinstance(a, Array) and not _in_memory(a)]
    if not lazy:
        return arrays
    total = sum(float(a.nbytes) for a in lazy)
    if not np.isfinite(total) or total > cache_limit():
        return arrays
    persisted = iter(persist(*lazy))
    return tuple(next(persisted) if (isinstance(a, Array) and not _in_memory(a)) else a for a in arrays)


def _in_memory(x: Array) -> bool:
    name = type(x.expr).__name__
    return name in ("FromArray", "PersistedArray", "Persisted")


def pass_count() -> int:
    """The number of passes over training data run in this process so far."""
    return _total[0]


@contextlib.contextmanager
def passes_counter() -> Iterator[Callable[[], int]]:
    """Count the passes run inside the block: ``with passes_counter() as n: ...; n()``."""
    start = _total[0]
    yield lambda: _total[0] - start


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread in this process for the duration of the block.

    The one process-wide hold of :func:`chunkwise.array.blas.one_blas_thread`,
    so passes and the array tasks they run never restore each other's limit.
    """
    with array_one_blas_thread():
        yield


def count_pass() -> None:
    with _count_lock:
        _total[0] += 1


def _packed(func: Callable, size: int, *blocks: Any, **params: Any) -> np.ndarray:
    # One memory layout (C order) whatever produced the block (a generator writing Fortran
    # order, a persisted copy): BLAS rounds differently per layout, and a seeded fit must give
    # the same model on every scheduler.
    blocks = tuple(np.ascontiguousarray(b) if isinstance(b, np.ndarray) else b for b in blocks)
    out = np.asarray(func(*blocks, **params), dtype=np.float64).reshape(-1)
    if out.shape != (size,):  # an internal error: the partial's layout is the estimator's
        raise ValueError(f"{getattr(func, '__name__', func)}: partial of size {out.size}, expected {size}")
    return out[None, :]


def _identity(x: Any) -> Any:
    return x


def _partials(func: Callable, arrays: list, size: int, params: dict) -> Array:
    args: list = []
    for number, a in enumerate(arrays):  # rows share "i"; each array's columns get their own symbol
        args += [a, ("i" + "jklmnop"[number])[: a.ndim]]
    # no name=: the name is a token of the function, the blocks and the parameters, so passes
    # with other parameters never share keys (a distributed scheduler caches by key)
    return da.blockwise(
        _packed, "ij", func, None, size, None, *args, dtype=np.float64,
        adjust_chunks={"i": 1, "j": size}, **params,
    )


def block_partials(func: Callable, arrays: list, size: int, name: str | None = None, **params: Any) -> np.ndarray:
    """As :func:`row_pass` without the reduction: one row of ``size`` floats per row block; one pass."""
    with one_blas_thread():
        out = _partials(func, arrays, size, params).compute()
    count_pass()
    return np.asarray(out, dtype=np.float64)


def row_pass(
    func: Callable,
    arrays: list,
    size: int,
    combine: Callable | None = None,
    name: str | None = None,
    **params: Any,
) -> np.ndarray:
    """Run ``func(x_block, y_block, ..., **params)`` on every row block and reduce; one pass.

    ``arrays``: chunked arrays sharing their row chunks (2-d ones in one column
    block). ``func`` returns ``size`` floats. The partials are summed, or merged
    with ``combine(list_of_(1, size)_arrays) -> (1, size)`` when given. Returns
    the reduced 1-d NumPy vector.

    >>> x = da.from_array(np.arange(10.0).reshape(5, 2), chunks=2)
    >>> row_pass(lambda b: b.sum(axis=0), [x], 2)
    array([20., 25.])
    """
    label = name or getattr(func, "__name__", "partial")
    partials = _partials(func, arrays, size, params)
    if combine is None:
        total = partials.sum(axis=0)
    else:
        total = da.reduction(
            partials, _identity, combine, _identity, axis=0, keepdims=False,
            dtype=np.float64, name=label,
        )
    with one_blas_thread():
        out = total.compute()
    count_pass()
    return np.asarray(out, dtype=np.float64)


# --- passes with arbitrary partials -------------------------------------------------------------


def _delayed_blocks(a: Any) -> list:
    if isinstance(a, FrameBase):
        return list(a.to_delayed())
    if a.ndim == 2 and a.numblocks[1] != 1:
        a = a.rechunk({1: -1})
    return [row[0] if a.ndim == 2 else row for row in a.to_delayed().tolist()]


def row_blocks(*arrays: Any) -> list:
    """The row blocks of ``arrays`` as ``Delayed`` values, one tuple per block: ``[(a_0, b_0, ...), ...]``.

    ``arrays``: chunkwise Arrays sharing their row chunks (see
    :func:`chunkwise.ml.validation.align_rows`; 2-D ones are rechunked to one
    column block), a chunkwise DataFrame (its partitions), NumPy arrays (one
    block, alone) or ``None`` (``None`` in every tuple).

    >>> x = da.from_array(np.arange(6.0).reshape(3, 2), chunks=2)
    >>> [tuple(b.compute().shape for b in pair) for pair in row_blocks(x, x[:, 0])]
    [((2, 2), (2,)), ((1, 2), (1,))]
    """
    present = [a if isinstance(a, (Array, FrameBase)) else da.from_array(np.asarray(a), chunks=-1)
               for a in arrays if a is not None]
    if not present:
        raise ValueError("row_blocks: no input array; pass at least one array")
    columns = [_delayed_blocks(a) for a in present]
    if len({len(c) for c in columns}) != 1:  # an internal error: callers align their inputs first
        raise ValueError(f"row_blocks: inputs with different numbers of row blocks {[len(c) for c in columns]}; "
                         "align them with chunkwise.ml.validation.align_rows first")
    blocks = iter(zip(*columns))
    out = []
    for group in blocks:
        values = iter(group)
        out.append(tuple(None if a is None else next(values) for a in arrays))
    return out


def _fold(combine: Callable, values: list) -> Any:
    result = values[0]
    for value in values[1:]:
        result = combine(result, value)
    return result


def fold_pass(func: Callable, arrays: list, combine: Callable, split_every: int = 8, **params: Any) -> Any:
    """``func(*blocks, **params)`` on every row block of ``arrays``, folded with ``combine(a, b)``, computed; one pass.

    The partials can be any values (tuples, dicts, arrays of any shape);
    ``combine`` must be associative. The fold is a tree ``split_every`` wide,
    so no task holds more than ``split_every`` partials.

    >>> x = da.from_array(np.array([3, 1, 3, 2, 1]), chunks=2)
    >>> fold_pass(np.unique, [x], lambda a, b: np.union1d(a, b)).tolist()
    [1, 2, 3]
    """
    call = delayed(func, pure=False)
    level = [call(*blocks, **params) for blocks in row_blocks(*arrays)]
    fold = delayed(_fold, pure=False)
    while len(level) > 1:
        level = [fold(combine, level[i:i + split_every]) if len(level[i:i + split_every]) > 1 else level[i]
                 for i in range(0, len(level), split_every)]
    with one_blas_thread():
        result = level[0].compute()
    count_pass()
    return result


# --- weighted moments: count, means and centred scatter, merged pairwise (Chan et al.) ----------


def moments_partial(*blocks: np.ndarray) -> np.ndarray:
    """``[n, mean (d), scatter (d x d)]`` of the columns of the blocks side by side (one pass).

    The scatter is centred on the block's own mean, so merging blocks loses no
    precision to large means (what ``X.T @ X - n * mean**2`` would).
    """
    z = np.column_stack([b.reshape(len(b), -1) for b in blocks]).astype(np.float64, copy=False)
    n = z.shape[0]
    d = z.shape[1]
    if n == 0:
        return np.zeros(1 + d + d * d)
    mean = z.mean(axis=0)
    centred = z - mean
    return np.concatenate([[n], mean, (centred.T @ centred).ravel()])


def weighted_moments_partial(*blocks: np.ndarray) -> np.ndarray:
    """:func:`moments_partial` of all blocks but the last, weighted by the last (a weight per row).

    ``[sum w, weighted mean, weighted centred scatter]``.

    The packed layout is the same, with the weight sum in place of the count,
    so :func:`merge_moments` merges both kinds (Chan's update holds for weights).
    """
    *blocks, weights = blocks
    z = np.column_stack([b.reshape(len(b), -1) for b in blocks]).astype(np.float64, copy=False)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    total = w.sum()
    d = z.shape[1]
    if total == 0:
        return np.zeros(1 + d + d * d)
    mean = (w @ z) / total
    centred = z - mean
    return np.concatenate([[total], mean, ((centred * w[:, None]).T @ centred).ravel()])


def merge_moments(parts: list) -> np.ndarray:
    """Merge ``(1, size)`` rows of :func:`moments_partial` into one."""
    rows = np.concatenate(parts, axis=0)
    size = rows.shape[1]
    d = int((np.sqrt(4 * size - 3) - 1) / 2)
    n_total, mean, scatter = 0.0, np.zeros(d), np.zeros((d, d))
    for row in rows:
        n = row[0]
        if n == 0:
            continue
        m = row[1 : 1 + d]
        s = row[1 + d :].reshape(d, d)
        if n_total == 0:
            n_total, mean, scatter = n, m.copy(), s.copy()
            continue
        delta = m - mean
        both = n_total + n
        scatter = scatter + s + np.outer(delta, delta) * (n_total * n / both)
        mean = mean + delta * (n / both)
        n_total = both
    return np.concatenate([[n_total], mean, scatter.ravel()])[None, :]


def moments_size(d: int) -> int:
    """The length of a packed moments vector over ``d`` columns."""
    return 1 + d + d * d


# --- labels ------------------------------------------------------------------------------------


#: integer labels spanning fewer values than this are counted with ``bincount`` (no sort)
BINCOUNT_SPAN = 1 << 16


def _block_label_counts(block: np.ndarray, weights: Any = None) -> tuple:
    block = np.asarray(block)
    if block.dtype.kind in "iu" and block.size:
        lo, hi = int(block.min()), int(block.max())
        if hi - lo < BINCOUNT_SPAN:  # the labels' positions in [lo, hi]: a count per value, no sort
            offsets = block.reshape(-1).astype(np.int64) - lo
            seen = np.bincount(offsets, minlength=hi - lo + 1)
            present = np.flatnonzero(seen)
            classes = (present + lo).astype(block.dtype)
            if weights is None:
                return classes, seen[present]
            total = np.bincount(offsets, weights=np.asarray(weights, dtype=np.float64).reshape(-1),
                                minlength=hi - lo + 1)
            return classes, total[present]
    if weights is None:
        return np.unique(block, return_counts=True)
    classes, index = np.unique(block, return_inverse=True)
    return classes, np.bincount(index.reshape(-1), weights=np.asarray(weights, dtype=np.float64),
                                minlength=len(classes))


def _merge_label_counts(a: tuple, b: tuple) -> tuple:
    parts = [p for p in (a, b) if len(p[0])]
    if not parts:
        return a
    classes = functools.reduce(np.union1d, [v for v, _ in parts])
    counts = np.zeros(len(classes), dtype=np.result_type(*[c for _, c in parts]))
    for v, c in parts:
        counts[np.searchsorted(classes, v)] += c
    return classes, counts


def label_counts(y: Any, sample_weight: Any = None) -> tuple:
    """``(classes, counts)`` of the labels in ``y`` (sorted, as ``np.unique``); one pass.

    With ``sample_weight`` (aligned with ``y``) the counts are the sums of the
    weights per class (floats).
    """
    if not isinstance(y, Array):
        return _block_label_counts(y, sample_weight)
    if sample_weight is None:
        return fold_pass(_block_label_counts, [y], _merge_label_counts)
    return fold_pass(_block_label_counts, [y, sample_weight], _merge_label_counts)

