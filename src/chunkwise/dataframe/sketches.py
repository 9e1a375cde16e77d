"""Approximate reductions: quantile digests and HyperLogLog (plain NumPy/pandas kernels).

Like the exact kernels in :mod:`chunkwise.dataframe.partials`, each is a
``chunk`` / ``combine`` / ``aggregate`` triple of top-level functions that
:class:`chunkwise.dataframe.reductions.TreeReduction` runs over partitions.

- **Quantiles** (:func:`quantile_chunk`): a partition is summarised by a digest
  ``(values, weights)``: every value when there are few, else
  :data:`QUANTILE_POINTS` evenly ranked ones (an integer column of a small
  range is counted, not sorted; a long float column is digested off a
  histogram). Digests merge by weighted re-ranking (:func:`quantile_combine`),
  and :func:`quantile_aggregate` interpolates by rank as pandas' default
  method does, so the answer is exact while a column has at most
  ``QUANTILE_POINTS`` values, and approximate (documented so) beyond.
- **Distinct counts** (:func:`hll_chunk`): HyperLogLog registers of the rows'
  hashes, merged by maximum, estimated with linear counting for small counts.

>>> import numpy as np
>>> values, weights = quantile_chunk(pd.Series([3.0, 1.0, None, 2.0]))
>>> float(quantile_aggregate((values, weights), 0.5))
2.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "HLL_PRECISION",
    "QUANTILE_POINTS",
    "compress_digest",
    "digest_of",
    "digest_positions",
    "hll_aggregate",
    "hll_chunk",
    "hll_combine",
    "is_integer_column",
    "present_values",
    "quantile_aggregate",
    "quantile_chunk",
    "quantile_combine",
    "quantile_values",
]

#: Values kept per partition (and per merged digest) by the approximate quantile.
QUANTILE_POINTS = 4096

#: HyperLogLog registers: 2**HLL_PRECISION (relative error ~ 1.04 / 2**(p/2)).
HLL_PRECISION = 14


# --- approximate quantiles --------------------------------------------------------------


def quantile_values(s: pd.Series) -> np.ndarray:
    """Non-null values of ``s`` as sorted float64."""
    return np.sort(present_values(s))


def present_values(s: pd.Series) -> np.ndarray:
    """Non-null values of ``s`` as float64, in their order (one conversion, one mask)."""
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    present = ~np.isnan(values)
    return values if present.all() else values[present]


# an integer column whose range spans at most this many values is counted, not sorted
_COUNTED_RANGE = 1 << 22
# float columns of more rows than this are digested off a histogram of this many bins
_HISTOGRAM_BINS = 1 << 17


def quantile_chunk(s: pd.Series, points: int = QUANTILE_POINTS) -> tuple:
    """A digest ``(values, weights)``: all values when few, else ``points`` evenly ranked."""
    return digest_of(present_values(s), points, integer=is_integer_column(s.dtype))


def is_integer_column(dtype: Any) -> bool:
    """Whether ``dtype`` holds integers (not booleans): such columns are digested exactly."""
    return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def digest_of(values: np.ndarray, points: int, integer: bool = False) -> tuple:
    """The digest of unsorted non-null float64 ``values``.

    Integers spanning a modest range are counted (``np.bincount``, one pass, no
    sort): each distinct value becomes at most three points (its first, middle
    and last rank), so the digest is exact before it is compressed. Many floats
    are read off a fine histogram when no bin holds much (:func:`_histogram_digest`:
    O(n), where sorting a million values costs ~20x more). Otherwise the values
    are sorted and, when more than ``points``, the points are read at evenly
    spaced ranks directly (the ranks of unit weights are ``0..n-1``).
    """
    n = len(values)
    if integer and n > points:
        low, high = values.min(), values.max()
        if high - low < _COUNTED_RANGE:
            counts = np.bincount((values - low).astype(np.int64))
            present = np.flatnonzero(counts)
            return compress_digest(*_runs_as_points(present + low, counts[present]), points)
    if n > _HISTOGRAM_BINS:
        digest = _histogram_digest(values, points)
        if digest is not None:
            return digest
    ordered = np.sort(values)
    if n <= points:
        return ordered, np.ones(n)
    ranks = np.linspace(0.0, n - 1.0, points)
    below = np.floor(ranks).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    frac = ranks - below
    picked = ordered[below] + frac * (ordered[above] - ordered[below])
    return picked, np.full(points, n / points)


def _histogram_digest(values: np.ndarray, points: int) -> tuple | None:
    """The digest read off a fine histogram (four passes, no sort); ``None`` when the data
    crowd into some bin.

    ``_HISTOGRAM_BINS`` equal bins span ``[min, max]``; the point at rank ``r``
    lies in the bin whose cumulative count passes ``r``, placed by linear
    interpolation inside it. Its rank is then off by less than the bin's
    count, which is kept under one point's share of the rows (``n / points``;
    else the caller sorts): measured, its quantiles are off by no more ranks
    than those of the digest read off the sorted values. The first and last points are the exact min and max.
    """
    n = len(values)
    low, high = float(values.min()), float(values.max())
    if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
        return None
    bins = _HISTOGRAM_BINS
    scale = bins / (high - low)
    index = ((values - low) * scale).astype(np.int64)
    np.minimum(index, bins - 1, out=index)
    counts = np.bincount(index, minlength=bins)
    if counts.max() * points > n:
        return None
    edges = np.concatenate([[0], np.cumsum(counts)])
    ranks = np.linspace(0.0, n - 1.0, points)
    where = np.minimum(np.searchsorted(edges, ranks, side="right") - 1, bins - 1)
    inside = (ranks - edges[where] + 0.5) / counts[where]
    picked = np.clip(low + (where + inside) / scale, low, high)
    picked[0], picked[-1] = low, high
    return picked, np.full(points, n / points)


def _runs_as_points(values: np.ndarray, counts: np.ndarray) -> tuple:
    """Each value repeated ``count`` times as weighted points at its first, middle and
    last rank (weights 1, count - 2, 1; fewer for counts under 3)."""
    head = np.ones(len(counts))
    middle = np.maximum(counts - 2, 0).astype("float64")
    tail = (counts >= 2).astype("float64")
    weights = np.stack([head, middle, tail], axis=1).ravel()
    keep = weights > 0
    return np.repeat(values.astype("float64"), 3)[keep], weights[keep]


def compress_digest(values: np.ndarray, weights: np.ndarray, points: int) -> tuple:
    """At most ``points`` values standing for the weighted sorted ``values``."""
    if len(values) <= points:
        return values, weights
    positions = digest_positions(weights)
    total = weights.sum()
    targets = np.linspace(0.0, total - 1.0, points)
    return np.interp(targets, positions, values), np.full(points, total / points)


def digest_positions(weights: np.ndarray) -> np.ndarray:
    """The rank each point stands at: ``0, 1, ...`` when all weights are one."""
    return np.cumsum(weights) - (weights + 1.0) / 2.0


def quantile_combine(parts: list, points: int = QUANTILE_POINTS) -> tuple:
    values = np.concatenate([p[0] for p in parts])
    weights = np.concatenate([p[1] for p in parts])
    order = np.argsort(values, kind="stable")
    return compress_digest(values[order], weights[order], points)


def quantile_aggregate(digest: tuple, q: Any, name: Any = None) -> Any:
    """The ``q`` quantile(s) by linear interpolation of rank (pandas' default method)."""
    values, weights = digest
    qs = np.atleast_1d(np.asarray(q, dtype="float64"))
    if len(values) == 0:
        out = np.full(len(qs), np.nan)
    else:
        positions = digest_positions(weights)
        out = np.interp(qs * (weights.sum() - 1.0), positions, values)
    if np.ndim(q) == 0:
        return np.float64(out[0])
    return pd.Series(out, index=pd.Index(qs, dtype="float64"), name=name)


# --- HyperLogLog --------------------------------------------------------------------------


def hll_chunk(part: Any, precision: int = HLL_PRECISION) -> np.ndarray:
    """HyperLogLog registers of the hashed values (rows of a frame), nulls dropped."""
    part = part.dropna()
    hashes = pd.util.hash_pandas_object(part, index=False).to_numpy(dtype="uint64")
    registers = np.zeros(1 << precision, dtype="uint8")
    if len(hashes) == 0:
        return registers
    bucket = (hashes >> np.uint64(64 - precision)).astype("intp")
    rest = hashes & np.uint64((1 << (64 - precision)) - 1)
    bit_length = np.frexp(rest.astype("float64"))[1]  # exact: rest < 2**53
    rank = (64 - precision - bit_length + 1).astype("uint8")
    np.maximum.at(registers, bucket, rank)
    return registers


def hll_combine(parts: list) -> np.ndarray:
    return np.maximum.reduce(parts)


def hll_aggregate(registers: np.ndarray) -> int:
    """The HyperLogLog estimate, with linear counting for small cardinalities."""
    m = float(len(registers))
    alpha = 0.7213 / (1.0 + 1.079 / m)
    estimate = alpha * m * m / np.sum(np.ldexp(1.0, -registers.astype("int64")))
    zeros = int(np.count_nonzero(registers == 0))
    if estimate <= 2.5 * m and zeros:
        estimate = m * np.log(m / zeros)
    return int(round(estimate))
