"""NumPy kernels that order rows: the stable argsort of one key and range ids by splitters.

Design
------
Every sort and range shuffle spends most of its CPU in two kernels, both of
which must give exactly NumPy's answers:

- :func:`stable_order`, ``np.argsort(keys, kind="stable")`` with NaN and NaT
  last. NumPy's stable argsort is a radix sort for 8/16-bit keys and a timsort
  (about 140 ms for 1M float64 here) otherwise, while its plain ``np.sort`` of
  64-bit integers is a SIMD sort (about 55 ms). So:

  * integer/datetime keys spanning fewer than 2**32 values: NumPy's 16-bit
    radix sort, one or two digits (LSD);
  * other numbers (floats, wide integers, datetimes with NaT): each key becomes
    an unsigned integer of the same order (:func:`ordered_bits`: IEEE floats
    with the sign bit flipped, or all bits flipped for negatives; -0.0 as 0.0;
    every NaN/NaT the greatest), less the least; its top bits and the row's
    position are packed into one ``uint64`` and that is sorted with ``np.sort``.
    Packed values are distinct and the position is their low bits, so equal
    keys keep their order: the sort is stable by construction. Keys whose
    kept top bits tie although they differ (rare: a span wider than
    ``64 - log2(rows)`` bits) are put right by a stable ``lexsort`` of the
    tied rows alone; if they are many, NumPy's own stable argsort is used.
- :func:`sort_order`, pandas' stable ``sort_values(by, ascending, na_position)``
  order of several NumPy key columns: :func:`stable_order` per key, last key
  first (each pass stable, so earlier keys decide and ties keep their rows'
  order); a descending key is ordered reversed and the order reversed back
  (pandas' own trick, so ties still keep their order); nulls are set aside and
  put first or last.
- :func:`range_ids`, each value's range among a few sorted splitters
  (``np.searchsorted(splitters, values, side="right")``): with up to
  :data:`COMPARE_MAX` splitters, a sum of vectorized comparisons (1M floats
  into 19 ranges: 6 ms against 29 ms for a binary search of every value).

>>> import numpy as np
>>> stable_order(np.array([2.0, np.nan, -0.0, 0.0, 1.0])).tolist()
[2, 3, 4, 0, 1]
>>> range_ids(np.array([0.5, 3.0, np.nan]), np.array([1.0, 3.0])).tolist()
[0, 2, 2]
"""

from __future__ import annotations

import numpy as np

__all__ = ["COMPARE_MAX", "ordered_bits", "range_ids", "sort_order", "stable_order"]

#: Up to this many splitters, range ids are counted by comparisons, not binary searches.
COMPARE_MAX = 64
_SIGN = np.uint64(1 << 63)


def ordered_bits(keys: np.ndarray) -> np.ndarray:
    """``keys`` (float, integer or datetime) as ``uint64`` of the same order as NumPy's sort:
    equal keys equal (-0.0 and 0.0 too), NaN and NaT the greatest."""
    kind = keys.dtype.kind
    if kind == "f":
        values = keys.astype(np.float64, copy=False) + 0.0  # -0.0 + 0.0 is 0.0: one zero
        bits = values.view(np.uint64)
        out = np.where(bits & _SIGN, ~bits, bits | _SIGN)
        nan = np.isnan(values)
        if nan.any():
            out[nan] = np.iinfo(np.uint64).max
        return out
    if kind == "u":
        return keys.astype(np.uint64, copy=False)
    ints = keys.view("i8") if kind in "mM" else keys.astype(np.int64, copy=False)
    out = ints.view(np.uint64) ^ _SIGN
    if kind in "mM":
        nat = ints == np.iinfo(np.int64).min
        if nat.any():
            out[nat] = np.iinfo(np.uint64).max
    return out


def _radix_order(ints: np.ndarray, low: int, high: int) -> np.ndarray:
    """Stable order of integers spanning ``high - low < 2**32``: one or two 16-bit digits."""
    offsets = (ints - ints.dtype.type(low)).astype(np.uint32)
    order = np.argsort(offsets.astype(np.uint16), kind="stable")  # the low digit
    if high - low < 2**16:
        return order
    high_digit = (offsets >> 16).astype(np.uint16)[order]
    return order[np.argsort(high_digit, kind="stable")]  # LSD: stable on the high digit


def _packed_order(bits: np.ndarray) -> np.ndarray | None:
    """Stable order of ``uint64`` keys by one ``np.sort`` of (top key bits, position);
    ``None`` when too many rows tie on the kept bits to put right cheaply."""
    n = len(bits)
    position_bits = max(int(n - 1).bit_length(), 1)
    if position_bits > 40:
        return None
    least = bits.min()
    offsets = bits - least
    span = int(offsets.max()).bit_length()
    dropped = max(span - (64 - position_bits), 0)
    coarse = offsets >> np.uint64(dropped) if dropped else offsets
    packed = np.sort((coarse << np.uint64(position_bits)) | np.arange(n, dtype=np.uint64))
    order = (packed & np.uint64((1 << position_bits) - 1)).astype(np.intp)
    if not dropped:
        return order
    kept = packed >> np.uint64(position_bits)
    tie = kept[1:] == kept[:-1]
    if not tie.any():
        return order
    tied = np.zeros(n, dtype=bool)
    tied[1:] |= tie
    tied[:-1] |= tie
    where = np.flatnonzero(tied)
    if len(where) > n // 8:
        return None
    starts = np.ones(len(where), dtype=bool)
    starts[1:] = ~tie[where[1:] - 1]
    rows = order[where]  # in position order within each run already
    order[where] = rows[np.lexsort((offsets[rows], np.cumsum(starts)))]  # lexsort is stable
    return order


def stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` (NaN and NaT last), faster for numbers (see the
    module docstring): 1M float64 in 60-65 ms against 140 ms; 1M timestamps over 50k
    seconds in 23-29 ms against 120 ms."""
    kind = keys.dtype.kind
    if kind not in "iufmM" or len(keys) <= 256:
        return np.argsort(keys, kind="stable")
    if kind in "fmM":
        null = np.isnan(keys)
        if null.any():  # the rest ordered, then the nulls in their order (as NumPy puts them)
            rest = np.flatnonzero(~null)
            return np.concatenate([rest[stable_order(keys[rest])], np.flatnonzero(null)])
    if kind in "iumM":
        ints = keys.view("i8") if kind in "mM" else keys
        low, high = int(ints.min()), int(ints.max())  # NaT is the least int64: a wide span
        if high - low < 2**32:
            return _radix_order(ints, low, high)
    order = _packed_order(ordered_bits(keys))
    return np.argsort(keys, kind="stable") if order is None else order


def _nulls(keys: np.ndarray) -> np.ndarray | None:
    """Where ``keys`` are NaN or NaT; ``None`` for a dtype without nulls."""
    kind = keys.dtype.kind
    return np.isnan(keys) if kind == "f" else np.isnat(keys) if kind in "mM" else None


def _order_one(keys: np.ndarray, ascending: bool, na_position: str) -> np.ndarray:
    """pandas' stable order of one key (``ascending``, nulls ``na_position``)."""
    nulls = _nulls(keys)
    if ascending and na_position == "last":
        return stable_order(keys)  # NaN and NaT last already
    if nulls is not None and nulls.any():
        rest = np.flatnonzero(~nulls)
        body = rest[_order_one(keys[rest], ascending, na_position)]
        null = np.flatnonzero(nulls)
        return np.concatenate([body, null] if na_position == "last" else [null, body])
    if ascending:
        return stable_order(keys)
    # descending: order the keys reversed, then reverse the order (equal keys keep theirs)
    return (len(keys) - 1 - stable_order(keys[::-1]))[::-1]


def sort_order(keys: list, ascending: list, na_position: str = "last") -> np.ndarray:
    """The rows' order under pandas' ``sort_values(by, ascending=, na_position=,
    kind="stable")`` of the NumPy arrays ``keys`` (one per key column, equal lengths).

    >>> sort_order([np.array([1, 2, 1, 2]), np.array([0.5, np.nan, 0.1, 0.7])], [False, True], "first")
    array([1, 3, 2, 0])
    """
    order = None
    for values, up in zip(reversed(keys), reversed(ascending)):
        current = values if order is None else values[order]
        step = _order_one(current, bool(up), na_position)
        order = step if order is None else order[step]
    return order.astype(np.intp, copy=False)


def range_ids(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``np.searchsorted(inner, values, side="right")`` as ``int64`` (NaN and NaT after every
    splitter): the range of each value among the sorted splitters ``inner``."""
    if len(inner) > COMPARE_MAX or values.dtype.kind not in "iufmM" or (
            values.dtype != inner.dtype):
        return np.searchsorted(inner, values, side="right").astype(np.int64, copy=False)
    ids = np.zeros(len(values), dtype=np.uint8)
    above = np.empty(len(values), dtype=bool)
    for splitter in inner:
        np.greater_equal(values, splitter, out=above)
        ids += above
    if values.dtype.kind in "fmM":  # a comparison with NaN or NaT is False: they go last
        null = np.isnan(values)
        if null.any():
            ids[null] = len(inner)
    return ids.astype(np.int64)
