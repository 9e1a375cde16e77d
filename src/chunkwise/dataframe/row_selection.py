"""Rows selected across partitions: ``drop_duplicates``, ``nlargest``/``nsmallest``.

``drop_duplicates`` runs as a tree reduction or a hash shuffle, chosen from the
keys seen:

- **Tree** (few distinct rows): each partition deduplicated by pandas, then
  the partials merged in order, so ``keep="first"``/``"last"`` keep pandas'
  rows in pandas' order. A merge (:func:`merge_partials`) finds the repeats on
  the partials' key columns alone, joined once, and takes only the rows kept
  from each partial: the other columns are copied once, not joined and then
  filtered. One integer or datetime key of a narrow span is deduplicated
  through a table indexed by value (:func:`repeated_integer_keys`), not a
  hash table.
- **Shuffle** (many distinct rows, ``keep=False``, or ``split_out=``): a hash
  shuffle on the subset, each partition then deduplicated on its own (rows
  keep their input order in a partition).

The choice is :class:`~chunkwise.dataframe.sorting.ByCardinality`'s: the first
partition's keys are read once at lowering (``explain()`` says so).

``nlargest``/``nsmallest``: pandas' own per partition, then merged by a tree
reduction.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"k": [1, 2, 1, 3, 2], "v": range(5)}), npartitions=2)
>>> df.drop_duplicates("k").v.compute().tolist()
[0, 1, 3]
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import (
    concat_partitions,
    emulate,
    kept_index_dtype,
    map_partitions_expr,
)
from chunkwise.dataframe.reductions import tree_reduce
from chunkwise.dataframe.shuffle import HashShuffle
from chunkwise.dataframe.sorting import ByCardinality, JoinPartitions

__all__ = [
    "dedupe", "drop_duplicates", "merge_partials", "nlargest", "nsmallest",
    "repeated_integer_keys", "repeated_keys",
]


def dedupe(part: Any, subset: Any, keep: Any) -> Any:
    """``part.drop_duplicates(subset, keep=keep)``; one integer or datetime key of a narrow
    span is deduplicated by :func:`repeated_integer_keys` (no hash table)."""
    keys = _single_key(part, subset)
    if keys is not None and keep in ("first", "last"):
        repeated = repeated_integer_keys(keys, keep)
        if repeated is not None:
            return part[~repeated] if repeated.any() else part
    if isinstance(part, pd.Series):
        return part.drop_duplicates(keep=keep)
    return part.drop_duplicates(subset=subset, keep=keep)


def _single_key(part: Any, subset: Any) -> np.ndarray | None:
    """The values of ``part``'s one key column (a Series: its values) when they are NumPy
    integers or datetimes, else ``None``."""
    if isinstance(part, pd.Series):
        keys = part
    else:
        columns = list(part.columns) if subset is None else list(subset)
        if len(columns) != 1 or list(part.columns).count(columns[0]) != 1:
            return None
        keys = part[columns[0]]
    dtype = keys.dtype
    if not isinstance(dtype, np.dtype) or dtype.kind not in "iumM":
        return None
    return keys.to_numpy()


def repeated_integer_keys(values: np.ndarray, keep: str) -> np.ndarray | None:
    """``duplicated(keep=keep)`` of integer or datetime ``values`` through a table indexed by
    value: each value's first (last) position by ``np.minimum.at`` (``maximum.at``), then a
    row repeats unless it is at that position. ``None`` when the values span more than
    4 a row (the table would outgrow the data) or hold NaT. 1M keys over 1M values:
    28 ms against 64 ms for pandas' hash table."""
    n = len(values)
    if n < 2:
        return np.zeros(n, dtype=bool)
    ints = values.view("i8") if values.dtype.kind in "mM" else values
    if ints.dtype.kind == "i" and ints.dtype.itemsize < 8:  # int8 values 100 - -100 would wrap
        ints = ints.astype(np.int64)
    low, high = int(ints.min()), int(ints.max())  # NaT is the least int64: a wide span
    if high - low >= 4 * n + 65_536:
        return None
    offsets = (ints - ints.dtype.type(low)).astype(np.intp)
    positions = np.arange(n, dtype=np.intp)
    if keep == "first":
        table = np.full(high - low + 1, n, dtype=np.intp)
        np.minimum.at(table, offsets, positions)
    else:
        table = np.full(high - low + 1, -1, dtype=np.intp)
        np.maximum.at(table, offsets, positions)
    return table[offsets] != positions


def merge_partials(parts: list, subset: Any, keep: Any) -> Any:
    """Deduplicated partials merged, in order: the duplicates are found on their key columns
    alone (joined once), then only the rows kept are taken from each partial and joined
    (not every column of every partial joined, then filtered)."""
    filled = [p for p in parts if len(p)]
    if len(filled) <= 1:  # each partial is deduplicated already
        return filled[0] if filled else parts[0]
    repeated = repeated_keys(filled, subset, keep)
    kept, start = [], 0
    for part in filled:
        mask = repeated[start:start + len(part)]
        start += len(part)
        kept.append(part[~mask] if mask.any() else part)
    return concat_partitions(kept, kept_index_dtype(parts[0]))


def repeated_keys(parts: list, subset: Any, keep: Any) -> np.ndarray:
    """Whether each row of the partials joined in order repeats a key kept elsewhere
    (``duplicated(keep=keep)`` of their key columns only)."""
    if isinstance(parts[0], pd.Series):
        keys = list(parts)
    else:
        columns = list(parts[0].columns) if subset is None else list(subset)
        keys = [p[columns[0]] if len(columns) == 1 else p[columns] for p in parts]
    first = keys[0]
    if isinstance(first, pd.Series) and isinstance(first.dtype, np.dtype) and first.dtype.kind in "iufmMb" and (
            all(k.dtype == first.dtype for k in keys)):
        values = np.concatenate([k.to_numpy() for k in keys])
        if first.dtype.kind in "iumM" and keep in ("first", "last"):
            repeated = repeated_integer_keys(values, keep)
            if repeated is not None:
                return repeated
        joined = pd.Series(values)
    else:
        joined = pd.concat(keys, ignore_index=True)
    return joined.duplicated(keep=keep).to_numpy()


def drop_duplicates(frame: Any, subset: Any = None, keep: Any = "first", split_out: Any = None,
                    ignore_index: bool = False, split_every: Any = None) -> Any:
    """``drop_duplicates`` as pandas: the same rows kept (``keep="first"``/``"last"``/``False``).

    ``split_out=None``: one output partition; a tree reduction when the number
    of distinct rows observed in the first partition (scaled to all) is at most
    :data:`~chunkwise.dataframe.sorting.TREE_MAX_ROWS`, else a hash shuffle on the subset. ``split_out=k``
    (or ``True``: as many partitions as now): the shuffle path, ``k`` partitions
    grouped by key hash (rows within one keep their input order; the whole
    is not in pandas' order). ``keep=False`` always shuffles (a row's copies
    must meet in one partition).
    """
    operation = "drop_duplicates"
    if keep not in ("first", "last", False):
        raise ValueError(f"{operation}: keep must be 'first', 'last' or False, got {keep!r}")
    meta = frame._meta
    if subset is not None:
        subset = list(subset) if isinstance(subset, (list, tuple)) else [subset]
        missing = [c for c in subset if c not in meta.columns]
        if missing:
            raise KeyError(f"{operation}: no column {missing!r}; the columns are {list(meta.columns)}")
    on = subset if subset is not None else (
        None if isinstance(meta, pd.Series) else list(meta.columns))
    expr = frame.expr
    count = frame.npartitions if split_out is True else (split_out or 1)
    shuffled = HashShuffle(expr, on, max(int(count), 1) if split_out else frame.npartitions)
    large = map_partitions_expr(dedupe, shuffled, subset, keep, meta=meta, label=operation)
    if split_out:
        out = new_collection(large)
    else:
        joined = JoinPartitions(large)
        if keep is False or frame.npartitions == 1:
            out = new_collection(joined if keep is False else map_partitions_expr(
                dedupe, expr, subset, keep, meta=meta, label=operation))
        else:
            small = tree_reduce(frame, dedupe, merge_partials, _identity, meta, label=operation,
                                split_every=split_every,
                                chunk_kwargs={"subset": subset, "keep": keep},
                                combine_kwargs={"subset": subset, "keep": keep}).expr
            out = new_collection(ByCardinality(small, joined, expr, on))
    if ignore_index:
        out = out.reset_index(drop=True)
    return out


def _identity(value: Any) -> Any:
    return value


# --- nlargest / nsmallest ------------------------------------------------------------------------


def _call_n(part: Any, how: str, n: int, columns: Any, keep: str) -> Any:
    """pandas' ``nlargest``/``nsmallest``; ``keep="last"`` as pandas does it: ``keep="first"``
    on the rows reversed (so partials merge in reverse order, see :func:`_call_n_parts`)."""
    if keep == "last":
        part, keep = part.iloc[::-1], "first"
    if isinstance(part, pd.Series):
        return getattr(part, how)(n, keep=keep)
    return getattr(part, how)(n, columns, keep=keep)


def _call_n_parts(parts: list, how: str, n: int, columns: Any, keep: str) -> Any:
    if keep == "last":  # the partials hold reversed rows: later partitions come first
        joined = concat_partitions(parts[::-1], kept_index_dtype(parts[0]))
        return _call_n(joined, how, n, columns, "first")
    return _call_n(concat_partitions(parts, kept_index_dtype(parts[0])), how, n, columns, keep)


def _n_extreme(frame: Any, how: str, n: int, columns: Any, keep: str, split_every: Any) -> Any:
    operation = how
    if not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"{operation}: n must be a non-negative integer, got {n!r}")
    if keep not in ("first", "last", "all"):
        raise ValueError(f"{operation}: keep must be 'first', 'last' or 'all', got {keep!r}")
    meta = emulate(_call_n, frame.expr, how, int(n), columns, keep, operation=operation)
    kwargs = {"how": how, "n": int(n), "columns": columns, "keep": keep}
    return tree_reduce(frame, _call_n, _call_n_parts, _identity, meta, label=operation,
                       split_every=split_every, chunk_kwargs=kwargs, combine_kwargs=kwargs)


def nlargest(frame: Any, n: int = 5, columns: Any = None, keep: str = "first",
             split_every: Any = None) -> Any:
    """The ``n`` rows with the largest values (as pandas): per partition, merged by a tree."""
    return _n_extreme(frame, "nlargest", n, columns, keep, split_every)


def nsmallest(frame: Any, n: int = 5, columns: Any = None, keep: str = "first",
              split_every: Any = None) -> Any:
    """The ``n`` rows with the smallest values (as pandas): per partition, merged by a tree."""
    return _n_extreme(frame, "nsmallest", n, columns, keep, split_every)
