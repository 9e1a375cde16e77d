"""Rows selected across partitions: ``drop_duplicates``, ``nlargest``/``nsmallest``.

``drop_duplicates`` runs as a tree reduction or a hash shuffle, chosen from the
keys seen:

- **Tree** (few distinct rows): each partition deduplicated by pandas, then
  the partials merged in order, so ``keep="first"``/``"last"`` keep pandas'
  rows in pandas' order. A merge (:func:`merge_partials`) finds the repeats on
  the partials' key columns alone, joined once, and takes only the rows kept
  from each partial: the other columns are copied once, not joined and then
  filtered. One integer or datetime key of a narrow span needs no hash
  table: each partition's keys are indexed once by value
  (:func:`key_positions`: each key's first or last row) and the partition
  passed on uncopied; a merge walks its partials in order (backwards for
  ``keep="last"``) with a table of the keys seen so far (:func:`kept_across`),
  so it joins nothing, sorts or reduces no positions, and copies each
  partial's kept rows once. Other keys of strings, numbers, booleans and
  datetimes (several columns too) are hashed once per partition
  (:func:`row_hashes`, one ``uint64`` a row): the partials carry their rows' hashes
  (:class:`HashedPartial`) through the tree's merges, which factorize the
  hashes (no string is hashed again) and check the rows they drop against the
  row they keep, so a hash collision cannot drop a row (it falls back to
  pandas).
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
from collections.abc import Callable
from typing import Any, NamedTuple

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
    "HashedPartial", "dedupe", "dedupe_hashed", "drop_duplicates", "merge_hashed", "merge_partials",
    "KeyPositions", "kept_across", "key_positions", "nlargest", "nsmallest", "repeated_by_hash",
    "repeated_integer_keys", "repeated_keys", "row_hashes",
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
    value (:func:`key_positions`): a row repeats unless it is its key's first (last) row.
    ``None`` when the values span more than 4 a row (the table would outgrow the data) or
    hold NaT."""
    n = len(values)
    if n < 2:
        return np.zeros(n, dtype=bool)
    found = _position_table(values, keep)
    if found is None:
        return None
    _, table, offsets, positions = found
    return table[offsets] != positions


class KeyPositions(NamedTuple):
    """Each key's first (last) row in a partition of ``rows`` rows: ``table[key - low]``,
    ``absent`` where the partition lacks the key."""

    low: int
    table: np.ndarray
    rows: int
    absent: int

    def present(self) -> np.ndarray:
        """Whether the partition holds each key of the table's span."""
        return self.table != self.absent

    def kept(self) -> np.ndarray:
        """The partition's rows kept (each key's first or last), as a mask in row order."""
        mask = np.zeros(self.rows, dtype=bool)
        mask[self.table[self.present()]] = True
        return mask


def key_positions(values: np.ndarray, keep: str) -> KeyPositions | None:
    """:class:`KeyPositions` of integer or datetime ``values`` (``np.minimum.at`` of their
    positions, ``maximum.at`` for ``keep="last"``); ``None`` when they span more than 4 a
    row, hold NaT or are empty."""
    found = _position_table(values, keep) if len(values) else None
    if found is None:
        return None
    low, table, _, _ = found
    return KeyPositions(low, table, len(values), len(values) if keep == "first" else -1)


def _position_table(values: np.ndarray, keep: str) -> tuple | None:
    """The least value, the table of each key's first (last) position from it, and the
    rows' offsets into the table and positions. Positions and offsets are ``int32`` where
    they fit (half the fresh memory); values whose least is 0 index the table as they are
    (no offsets made)."""
    n = len(values)
    ints = _as_ints(values)
    low, high = int(ints.min()), int(ints.max())  # NaT is the least int64: a wide span
    if high - low >= 4 * n + 65_536:
        return None
    dtype = _index_dtype(n, high - low + 1)
    offsets = _offsets(ints, low, dtype)
    positions: np.ndarray = np.arange(n, dtype=dtype)
    table: np.ndarray = np.full(high - low + 1, n if keep == "first" else -1, dtype=dtype)
    (np.minimum if keep == "first" else np.maximum).at(table, offsets, positions)
    return low, table, offsets, positions


def kept_across(keys: list, keep: str, positions: list | None = None) -> list | None:
    """The rows kept of partials joined in order (``keep="first"``: those whose key no
    earlier row holds; ``"last"``: no later one): one mask a partial, from a table of the
    keys seen so far indexed by value, filled partial by partial (backwards for
    ``"last"``). No per-row positions reduced, nothing joined:

    - a deduplicated partial (no key twice in it; ``positions[i]`` is ``None``): its keys
      looked up in the table, then marked there all at once;
    - a partition not yet deduplicated: its :class:`KeyPositions` (``positions[i]``), whose
      keys present and not yet seen give the rows it keeps; the table's span is walked,
      not the rows.

    ``keys``: each partial's integer or datetime key values. ``None`` when they span more
    than 4 a row or hold NaT."""
    positions = positions or [None] * len(keys)
    ints = [_as_ints(k) for k in keys]
    spans = [(p.low, p.low + len(p.table) - 1) if p is not None else
             (int(k.min()), int(k.max())) for k, p in zip(ints, positions) if len(k)]
    if not spans:
        return [np.ones(0, dtype=bool) for _ in ints]
    total = sum(len(k) for k in ints)
    low, high = min(a for a, _ in spans), max(b for _, b in spans)
    if high - low >= 4 * total + 65_536:
        return None
    dtype = _index_dtype(max(len(k) for k in ints), high - low + 1)
    seen = np.zeros(high - low + 1, dtype=bool)
    kept: list = [None] * len(ints)
    for i in range(len(ints)) if keep == "first" else range(len(ints) - 1, -1, -1):
        found = positions[i]
        if not len(ints[i]):
            kept[i] = np.ones(0, dtype=bool)
        elif found is None:
            offsets = _offsets(ints[i], low, dtype)
            kept[i] = ~seen[offsets]
            seen[offsets] = True
        else:
            window = seen[found.low - low:found.low - low + len(found.table)]
            present = found.present()
            rows = found.table[np.greater(present, window)]  # present and not seen
            window |= present
            mask = np.zeros(found.rows, dtype=bool)
            mask[rows] = True
            kept[i] = mask
    return kept


def _as_ints(values: np.ndarray) -> np.ndarray:
    """Integer or datetime ``values`` as integers that subtract without wrapping (int64 for
    narrower signed ones: int8 ``120 - -57`` would wrap)."""
    ints = values.view("i8") if values.dtype.kind in "mM" else values
    if ints.dtype.kind == "i" and ints.dtype.itemsize < 8:
        ints = ints.astype(np.int64)
    return ints


def _index_dtype(rows: int, span: int) -> type:
    """``int32`` when positions and table offsets fit in it, else ``intp``."""
    return np.int32 if max(rows, span) < 2**31 - 1 else np.intp


def _offsets(ints: np.ndarray, low: int, dtype: type) -> np.ndarray:
    """``ints - low`` as table offsets: ``ints`` themselves when ``low`` is 0 and they are
    signed (a NumPy index as they are), else made once in ``dtype``."""
    if low == 0 and ints.dtype.kind == "i":
        return ints
    return np.subtract(ints, ints.dtype.type(low), out=np.empty(len(ints), dtype=dtype),
                       casting="unsafe")


def merge_partials(parts: list, subset: Any, keep: Any) -> Any:
    """Deduplicated partials merged, in order: the duplicates are found on their key columns
    alone (one integer key: :func:`kept_across`, nothing joined; else joined once), then
    only the rows kept are taken from each partial and joined (not every column of every
    partial joined, then filtered)."""
    filled = [p for p in parts if len(p)]
    if len(filled) <= 1:  # each partial is deduplicated already
        return filled[0] if filled else parts[0]
    kept = [_rows(part, mask) for part, mask in zip(filled, _kept_masks(filled, subset, keep))]
    return concat_partitions(kept, kept_index_dtype(parts[0]))


def _kept_masks(parts: list, subset: Any, keep: Any) -> list:
    """The rows kept of non-empty deduplicated partials joined, one mask a partial."""
    keys = _integer_keys(parts, subset)
    if keys is not None and keep in ("first", "last"):
        masks = kept_across(keys, keep)
        if masks is not None:
            return masks
    kept = ~repeated_keys(parts, subset, keep)
    bounds = np.cumsum([0] + [len(p) for p in parts])
    return [kept[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _integer_keys(parts: list, subset: Any) -> list | None:
    """Each partial's one integer or datetime key column (:func:`_single_key`), when all
    have one of the same dtype, else ``None``."""
    keys = [_single_key(p, subset) for p in parts]
    found = [k for k in keys if k is not None]
    if len(found) < len(keys) or any(k.dtype != found[0].dtype for k in found):
        return None
    return found


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


# --- keys hashed once -----------------------------------------------------------------------------


class HashedPartial(NamedTuple):
    """A partial of the tree: its rows, their key hashes (``None``: not hashed here) and,
    for a partition of one integer key not yet deduplicated, its keys' first (last) rows
    (:class:`KeyPositions`; ``None``: the frame is deduplicated). Such a partition's
    repeats are dropped by the next merge's one copy (:func:`merge_hashed`), not copied
    out first."""

    frame: Any
    hashes: np.ndarray | None
    positions: KeyPositions | None = None


def _key_columns(part: Any, subset: Any) -> list:
    return [part.name] if isinstance(part, pd.Series) else (
        list(part.columns) if subset is None else list(subset))


def _hashable(dtype: Any) -> bool:
    """Whether equal values of ``dtype`` hash equal in :func:`row_hashes` (NumPy numbers,
    booleans, datetimes, pandas strings): not objects (``1 == 1.0 == True``)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "iufbmM"
    return isinstance(dtype, pd.StringDtype)


def _key_frame(part: Any, subset: Any) -> pd.DataFrame | None:
    """``part``'s key columns as a frame with plain column positions, each float with one
    zero and one NaN (pandas' ``duplicated`` holds -0.0 == 0.0 and NaN == NaN); ``None`` when
    a key column cannot be hashed here or its label repeats."""
    if isinstance(part, pd.Series):
        columns = [part]
    else:
        labels = _key_columns(part, subset)
        if any(list(part.columns).count(c) != 1 for c in labels):
            return None
        columns = [part[c] for c in labels]
    if not columns or not all(_hashable(c.dtype) for c in columns):
        return None
    plain = {}
    for i, column in enumerate(columns):
        values = column.to_numpy() if isinstance(column.dtype, np.dtype) else column.array
        if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
            values = np.where(np.isnan(values), np.nan, values + 0.0)
        plain[i] = values
    return pd.DataFrame(plain, copy=False)


def row_hashes(part: Any, subset: Any) -> np.ndarray | None:
    """One ``uint64`` a row of ``part``'s key columns (pandas' ``hash_pandas_object``): equal
    keys hash equal; ``None`` when a key column is not hashable here (see :func:`_hashable`)."""
    keys = _key_frame(part, subset)
    if keys is None:
        return None
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


def _same_keys(keys: pd.DataFrame, rows: np.ndarray, others: np.ndarray) -> bool:
    """Whether each of ``rows`` holds the same key as the row at the same place in ``others``
    (nulls equal to nulls)."""
    for i in keys.columns:
        column = keys[i]
        if not isinstance(column.dtype, np.dtype):  # strings: compared in Arrow, no Python str
            if not _same_arrow(column.array, rows, others):
                return False
            continue
        values = column.to_numpy()
        a, b = values[rows], values[others]
        same = a == b
        if not same.all():
            same |= pd.isna(a) & pd.isna(b)
            if not same.all():
                return False
    return True


def _same_arrow(array: Any, rows: np.ndarray, others: np.ndarray) -> bool:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.chunked_array(pa.array(array)) if not isinstance(array, pa.ChunkedArray) else array
    a, b = values.take(pa.array(rows)), values.take(pa.array(others))
    same = pc.fill_null(pc.equal(a, b), False)
    if not pc.all(same).as_py():
        same = pc.or_(same, pc.and_(pc.is_null(a), pc.is_null(b)))
        return bool(pc.all(same).as_py())
    return True


def repeated_by_hash(hashes: np.ndarray, keys: Callable[[], pd.DataFrame],
                     keep: str) -> np.ndarray | None:
    """``duplicated(keep=keep)`` of rows through their hashes: the hashes factorized (a
    ``uint64`` table), each hash's first (last) row found, and every row found repeated
    checked against that row's key (``keys()``: the rows' key frame, made only then);
    ``None`` if a check fails (two keys of one hash)."""
    n = len(hashes)
    if n < 2:
        return np.zeros(n, dtype=bool)
    codes, uniques = pd.factorize(hashes)
    positions = np.arange(n, dtype=np.intp)
    if keep == "first":
        table = np.full(len(uniques), n, dtype=np.intp)
        np.minimum.at(table, codes, positions)
    else:
        table = np.full(len(uniques), -1, dtype=np.intp)
        np.maximum.at(table, codes, positions)
    kept = table[codes]
    repeated = kept != positions
    rows = np.flatnonzero(repeated)
    if len(rows) and not _same_keys(keys(), rows, kept[rows]):
        return None
    return repeated


def dedupe_hashed(part: Any, subset: Any, keep: Any) -> HashedPartial:
    """A tree's first step: :func:`dedupe` of one partition, with the kept rows' key hashes
    when its keys hash here (computed once: the merges reuse them). One integer key of a
    narrow span: the partition as it is, with its keys' first (last) rows
    (:func:`key_positions`); the merge copies only the rows kept."""
    single = _single_key(part, subset)
    if single is not None and keep in ("first", "last"):
        found = key_positions(single, keep)
        if found is not None:
            return HashedPartial(part, None, found)
    if keep in ("first", "last") and single is None:
        keys = _key_frame(part, subset)
        if keys is not None:
            hashes = pd.util.hash_pandas_object(keys, index=False).to_numpy()
            repeated = repeated_by_hash(hashes, lambda: keys, keep)
            if repeated is not None:
                if not repeated.any():
                    return HashedPartial(part, hashes)
                return HashedPartial(part[~repeated], hashes[~repeated])
    return HashedPartial(dedupe(part, subset, keep), None)


def merge_hashed(parts: list, subset: Any, keep: Any) -> HashedPartial:
    """:func:`merge_partials` of hashed partials: the repeats found from the hashes they
    carry (no key hashed again), else (a partial without hashes, a collision) by pandas."""
    filled = [p for p in parts if len(p.frame)]
    if len(filled) <= 1:
        return filled[0] if filled else parts[0]
    merged = _merge_integer_keys(filled, subset, keep)
    if merged is not None:
        return merged
    frames = [_frame_of(p) for p in filled]
    repeated = None
    if all(p.hashes is not None for p in filled):
        hashes = np.concatenate([p.hashes for p in filled])
        repeated = repeated_by_hash(hashes, lambda: pd.concat(
            [_key_frame(f, subset) for f in frames], ignore_index=True), keep)
    if repeated is None:
        return HashedPartial(merge_partials(frames, subset, keep), None)
    kept, start = [], 0
    for frame in frames:
        mask = repeated[start:start + len(frame)]
        start += len(frame)
        kept.append(frame[~mask] if mask.any() else frame)
    return HashedPartial(concat_partitions(kept, kept_index_dtype(frames[0])), hashes[~repeated])


def _merge_integer_keys(parts: list, subset: Any, keep: Any) -> HashedPartial | None:
    """:func:`merge_hashed` of partials of one integer key by :func:`kept_across`: each
    partial's rows taken once, less those repeated within it or seen in another partial;
    ``None`` when the keys are not such (or span too wide)."""
    if keep not in ("first", "last") or any(p.hashes is not None for p in parts):
        return None
    keys = _integer_keys([p.frame for p in parts], subset)
    if keys is None:
        return None
    masks = kept_across(keys, keep, [p.positions for p in parts])
    if masks is None:
        return None
    kept = [_rows(p.frame, mask) for p, mask in zip(parts, masks)]
    return HashedPartial(concat_partitions(kept, kept_index_dtype(parts[0].frame)), None)


def _rows(frame: Any, mask: np.ndarray) -> Any:
    return frame if mask.all() else frame[mask]


def _frame_of(partial: HashedPartial) -> Any:
    """The partial's rows, less the repeats of a partition not yet deduplicated."""
    if partial.positions is None:
        return partial.frame
    return _rows(partial.frame, partial.positions.kept())


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
            small = tree_reduce(frame, dedupe_hashed, merge_hashed, _frame_of, meta, label=operation,
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
