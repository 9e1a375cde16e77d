"""Splitting chunked data: ``train_test_split``, ``KFold``, ``ShuffleSplit``; hyper-parameter search.

Design of :func:`train_test_split` on chunked input: the first chunked
argument's row chunks are the reference; every other argument is checked to
have as many rows (from metadata, before anything is computed) and rechunked
to those row chunks, so row ``r`` of ``X`` and row ``r`` of ``y`` are always
in the same block at the same place. Then

- ``shuffle=False``: plain slices, rows ``[0, n_train)`` for training and
  ``[n_train, n_train + n_test)`` for testing, as scikit-learn;
- ``shuffle=True`` (``blockwise=True``, the default): the test rows are
  apportioned to the blocks in proportion to their lengths (largest
  remainders), and each block draws a permutation of its rows from its own
  seeded stream, ``SeedSequence(seed, spawn_key=(block,))``, taking the first
  ``n_test_i`` for testing and the next ``n_train_i`` for training. Every
  argument's block ``i`` uses the same permutation, so rows stay paired; the
  output chunks are known (``n_train_i``/``n_test_i``) and no data move
  between blocks. Rows are shuffled within blocks; the result depends on the
  seed and the chunking, and is the same on every scheduler;
- ``shuffle=True, blockwise=False``: one global permutation of the ``n``
  row numbers is drawn when the plan is built (``8 n`` bytes on the client)
  and every argument is gathered with it: rows move across blocks.

Dataframes are split the same way per partition (their partition lengths are
computed when the plan does not know them) and come back as dataframes.
In-memory arguments only: scikit-learn's ``train_test_split``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(4, 2))
>>> y = da.from_array(np.arange(10), chunks=3)
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
>>> X_train.shape, X_test.shape, X_test.chunks[0]
((7, 2), (3, 2), (1, 1, 1))
>>> bool((X_test.compute()[:, 0] == 2 * y_test.compute()).all())
True
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split as sklearn_train_test_split

from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, from_array
from chunkwise.dataframe.core import FrameBase, partition_lengths
from chunkwise.dataframe.io.pandas import from_delayed as frame_from_delayed
from chunkwise.delayed import delayed
from chunkwise.ml.validation import check_random_state_seed, is_chunked, num_rows

__all__ = ["apportion", "split_sizes", "train_test_split"]


def split_sizes(n_samples: int, test_size: Any, train_size: Any, default_test_size: float = 0.25,
                name: str = "train_test_split") -> tuple:
    """``(n_train, n_test)`` for ``n_samples`` rows, with scikit-learn's rules and errors."""
    if test_size is None and train_size is None:
        test_size = default_test_size

    def check(value: Any, what: str) -> None:
        if value is None:
            return
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if not 0 < value < n_samples:
                raise ValueError(f"{name}: {what}={value} should be either positive and smaller than the number "
                                 f"of samples {n_samples} or a float in the (0, 1) range")
        elif isinstance(value, numbers.Real):
            if not 0 < value < 1:
                raise ValueError(f"{name}: {what}={value} should be either positive and smaller than the number "
                                 f"of samples {n_samples} or a float in the (0, 1) range")
        else:
            raise ValueError(f"{name}: invalid value for {what}: {value!r}")

    check(test_size, "test_size")
    check(train_size, "train_size")
    if isinstance(test_size, float) and isinstance(train_size, float) and test_size + train_size > 1:
        raise ValueError(f"{name}: the sum of test_size and train_size = {test_size + train_size}, should be in "
                         "the (0, 1) range. Reduce test_size and/or train_size.")
    n_test = None
    if isinstance(test_size, float):
        n_test = math.ceil(test_size * n_samples)
    elif test_size is not None:
        n_test = int(test_size)
    n_train = None
    if isinstance(train_size, float):
        n_train = math.floor(train_size * n_samples)
    elif train_size is not None:
        n_train = int(train_size)
    if n_train is None:
        n_train = n_samples - n_test
    elif n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        raise ValueError(f"{name}: the sum of train_size and test_size = {n_train + n_test}, should be smaller than "
                         f"the number of samples {n_samples}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"{name}: with n_samples={n_samples}, test_size={test_size} and train_size={train_size}, "
                         "the resulting train set will be empty. Adjust any of the aforementioned parameters.")
    return n_train, n_test


def apportion(total: int, capacities: Any) -> list:
    """``total`` split over bins in proportion to ``capacities`` (largest remainders), never above a capacity.

    >>> apportion(3, [4, 4, 2])
    [1, 1, 1]
    >>> apportion(5, [10, 0, 10])
    [3, 0, 2]
    """
    capacities = np.asarray(capacities, dtype=np.int64)
    whole = int(capacities.sum())
    if total > whole:
        raise ValueError(f"apportion: {total} does not fit in {whole}")
    if whole == 0:
        return [0] * len(capacities)
    exact = capacities * (total / whole)
    counts = np.minimum(np.floor(exact).astype(np.int64), capacities)
    remainder = exact - counts
    order = np.argsort(-remainder, kind="stable")
    missing = total - int(counts.sum())
    for i in order:
        if missing == 0:
            break
        if counts[i] < capacities[i]:
            counts[i] += 1
            missing -= 1
    return [int(c) for c in counts]


# --- train_test_split ---------------------------------------------------------------------------


def _block_permutation(seed: int, block: int, length: int) -> np.ndarray:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block,))).permutation(length)


def _pick_rows(block: Any, seed: int, block_index: int, start: int, stop: int) -> Any:
    order = _block_permutation(seed, block_index, len(block))[start:stop]
    if isinstance(block, (pd.DataFrame, pd.Series)):
        return block.iloc[order]
    return block[order]


def _pick_array_rows(block: np.ndarray, seed: int, starts: tuple, stops: tuple, block_id: Any = None) -> np.ndarray:
    i = block_id[0]
    return _pick_rows(block, seed, i, starts[i], stops[i])


def _frame_lengths(frame: FrameBase) -> tuple:
    lengths = frame.expr.lengths
    return tuple(lengths) if lengths is not None else tuple(partition_lengths(frame))


def _align_arrays(arrays: list) -> tuple:
    """The arguments as chunked pieces sharing one row chunking, and that chunking."""
    name = "train_test_split"
    lengths = {num_rows(a) for a in arrays}
    known = {n for n in lengths if not math.isnan(n)}
    if len(known) > 1:
        found = [num_rows(a) for a in arrays]
        raise ValueError(f"{name}: found input variables with inconsistent numbers of samples: {found}; "
                         "pass arrays with the same number of rows")
    reference = None
    for a in arrays:
        if isinstance(a, FrameBase):
            reference = _frame_lengths(a)
            break
    if reference is None:
        for a in arrays:
            if isinstance(a, Array):
                check_known_chunks(name, a, axes=(0,), what="an input")
                reference = tuple(int(c) for c in a.chunks[0])
                break
    aligned = []
    for a in arrays:
        if isinstance(a, FrameBase):
            if _frame_lengths(a) != reference:
                raise ValueError(f"{name}: the dataframes' partitions hold different numbers of rows "
                                 f"({_frame_lengths(a)} and {reference}); repartition them alike first")
            aligned.append(a)
        elif isinstance(a, Array):
            check_known_chunks(name, a, axes=(0,), what="an input")
            aligned.append(a if a.chunks[0] == reference else a.rechunk({0: reference}))
        else:
            values = np.asarray(a)
            aligned.append(from_array(values, chunks=(reference,) + tuple((n,) for n in values.shape[1:])))
    if sum(reference) != next(iter(known), sum(reference)):
        raise ValueError(f"{name}: inconsistent numbers of samples: {sum(reference)} and {known}")
    return aligned, reference


def _split_frame(frame: FrameBase, seed: int, starts: tuple, stops: tuple) -> Any:
    parts = [delayed(_pick_rows, pure=True)(part, seed, i, starts[i], stops[i])
             for i, part in enumerate(frame.to_delayed())]
    return frame_from_delayed(parts, meta=frame.expr.meta)


def _slice_frame(frame: FrameBase, lengths: tuple, start: int, stop: int) -> Any:
    bounds = np.cumsum((0,) + lengths)
    parts = []
    for i, part in enumerate(frame.to_delayed()):
        lo, hi = max(start, bounds[i]) - bounds[i], min(stop, bounds[i + 1]) - bounds[i]
        if hi > lo or not parts and i == len(lengths) - 1:
            parts.append(delayed(_iloc, pure=True)(part, int(max(lo, 0)), int(max(hi, 0))))
    return frame_from_delayed(parts, meta=frame.expr.meta)


def _iloc(part: Any, lo: int, hi: int) -> Any:
    return part.iloc[lo:hi]


def _gather(a: Any, index: np.ndarray) -> Any:
    if isinstance(a, FrameBase):
        raise NotImplementedError("train_test_split: blockwise=False (rows moving across partitions) is not "
                                  "supported for dataframes; use blockwise=True")
    return a[index]


def train_test_split(*arrays: Any, test_size: Any = None, train_size: Any = None, random_state: Any = None,
                     shuffle: bool = True, stratify: Any = None, blockwise: bool = True) -> list:
    """Split arrays or dataframes into random train and test subsets, as ``sklearn.model_selection.train_test_split``.

    Returns ``[a_train, a_test, b_train, b_test, ...]``: chunkwise arrays for
    array (and in-memory) arguments mixed with chunked ones, dataframes for
    dataframes; all in memory: scikit-learn's result. ``blockwise`` (as
    dask-ml): shuffle rows within blocks (``True``) or across them. Mismatched
    lengths raise before anything is computed. ``stratify`` is supported for
    in-memory input only. See the module docstring for how rows are chosen.
    """
    name = "train_test_split"
    if not arrays:
        raise ValueError(f"{name}: at least one array required as input")
    if not any(is_chunked(a) for a in arrays):
        return sklearn_train_test_split(*arrays, test_size=test_size, train_size=train_size,
                                        random_state=random_state, shuffle=shuffle, stratify=stratify)
    if stratify is not None:
        raise NotImplementedError(f"{name}: stratify= is supported for in-memory input only; split chunked data "
                                  "with stratify=None (the random within-block split keeps class proportions "
                                  "close on large data)")
    aligned, lengths = _align_arrays(list(arrays))
    n_samples = sum(lengths)
    n_train, n_test = split_sizes(n_samples, test_size, train_size)
    out: list = []
    if not shuffle:
        for a in aligned:
            if isinstance(a, FrameBase):
                out += [_slice_frame(a, lengths, 0, n_train), _slice_frame(a, lengths, n_train, n_train + n_test)]
            else:
                out += [a[:n_train], a[n_train:n_train + n_test]]
        return out
    seed = check_random_state_seed(random_state)
    if not blockwise:
        order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n_samples)
        train_index, test_index = order[n_test:n_test + n_train], order[:n_test]
        for a in aligned:
            out += [_gather(a, train_index), _gather(a, test_index)]
        return out
    test_counts = apportion(n_test, lengths)
    train_counts = apportion(n_train, [n - t for n, t in zip(lengths, test_counts)])
    test_stops = tuple(test_counts)
    train_stops = tuple(t + r for t, r in zip(test_counts, train_counts))
    zeros = (0,) * len(lengths)
    for a in aligned:
        if isinstance(a, FrameBase):
            out += [_split_frame(a, seed, test_stops, train_stops), _split_frame(a, seed, zeros, test_stops)]
            continue
        rest = a.chunks[1:]
        train = a.map_blocks(_pick_array_rows, seed, test_stops, train_stops, dtype=a.dtype,
                             chunks=(tuple(train_counts),) + rest)
        test = a.map_blocks(_pick_array_rows, seed, zeros, test_stops, dtype=a.dtype,
                            chunks=(tuple(test_counts),) + rest)
        out += [train, test]
    return out
