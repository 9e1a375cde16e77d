"""The kernels of the dataframe reductions: plain pandas/NumPy functions.

Each reduction is three top-level functions (picklable by reference) that
:class:`chunkwise.dataframe.reductions.TreeReduction` runs over partitions:
``chunk(partition)`` -> a small partial, ``combine(partials)`` -> one partial,
``aggregate(partial)`` -> the result. They know nothing of expressions, so
they are tested directly against pandas (:func:`apply_tree` runs them over a
list of pandas objects as the tasks would). See the design notes in
:mod:`chunkwise.dataframe.reductions`. The approximate ones (quantile digests,
HyperLogLog) are in :mod:`chunkwise.dataframe.sketches`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.dataframe.expr import unify_categorical_index
from chunkwise.dataframe.sketches import (
    QUANTILE_POINTS,
    digest_of,
    is_integer_column,
    present_values,
    quantile_aggregate,
    quantile_combine,
)

__all__ = [
    "COMBINE_OP",
    "COUNT_COLUMN",
    "apply_tree",
    "arg_aggregate",
    "arg_chunk",
    "arg_combine",
    "as_float_matrix",
    "cast_like",
    "chunk_call",
    "combine_call",
    "comoments_aggregate",
    "comoments_chunk",
    "comoments_combine",
    "counted_aggregate",
    "counted_chunk",
    "counted_combine",
    "counts_chunk",
    "counts_combine",
    "counts_frame",
    "distinct_count",
    "add_counts",
    "as_count",
    "total_count",
    "divide_counts",
    "key_column",
    "stack_counts",
    "value_counts_partition",
    "DICTIONARY_CHUNKS",
    "dictionary_counts_chunk",
    "dictionary_unique_chunk",
    "describe_aggregate",
    "describe_chunk",
    "describe_combine",
    "finish",
    "memory_usage_chunk",
    "memory_usage_combine",
    "mode_aggregate",
    "moments_aggregate",
    "moments_chunk",
    "moments_combine",
    "numeric_part",
    "nunique_aggregate",
    "per_column_aggregate",
    "per_column_chunk",
    "per_column_combine",
    "reduce_aggregate",
    "reduce_chunk",
    "reduce_combine",
    "stack",
    "unique_chunk",
    "unique_combine",
    "value_counts_aggregate",
]

#: What combines the partials of each simple reduction.
COMBINE_OP = {
    "sum": "sum", "prod": "prod", "min": "min", "max": "max", "count": "sum",
    "any": "any", "all": "all", "size": "sum",
}


def apply_tree(parts: list, chunk, combine, aggregate, split_every: int = 8, empty: Any = None,
               chunk_kwargs: dict | None = None, combine_kwargs: dict | None = None,
               aggregate_kwargs: dict | None = None) -> Any:
    """Run a tree reduction over in-memory ``parts`` (what the node's tasks do; for tests).

    >>> parts = [pd.Series([1, 2]), pd.Series([], dtype="int64"), pd.Series([3])]
    >>> int(apply_tree(parts, reduce_chunk, reduce_combine, reduce_aggregate,
    ...                chunk_kwargs={"how": "sum"}, combine_kwargs={"how": "sum"},
    ...                ))
    6
    """
    ck, cb, ag = chunk_kwargs or {}, combine_kwargs or {}, aggregate_kwargs or {}
    partials = [chunk_call(p, None, chunk, ck) for p in parts]
    while len(partials) > split_every:
        partials = [combine_call(partials[i:i + split_every], combine, cb)
                    for i in range(0, len(partials), split_every)]
    return finish(partials, empty if empty is not None else parts[0].iloc[:0], None,
                  chunk, ck, combine, cb, aggregate, ag)


# --- running the three stages (the tasks' functions) ----------------------------------


def chunk_call(part: Any, aligned: Any, chunk, kwargs: dict) -> Any:
    """The partial of one partition; ``None`` for a partition without rows."""
    if len(part) == 0:
        return None
    if aligned is not None:
        return chunk(part, aligned, **kwargs)
    return chunk(part, **kwargs)


def combine_call(parts: list, combine, kwargs: dict) -> Any:
    """One partial from several; ``None`` ones (empty partitions) are dropped."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return combine(parts, **kwargs)


def finish(parts: list, empty: Any, empty_aligned: Any, chunk, chunk_kwargs: dict, combine,
           combine_kwargs: dict, aggregate, aggregate_kwargs: dict) -> Any:
    """The result from the last level's partials (pandas' answer on ``empty`` if none)."""
    partial = combine_call(parts, combine, combine_kwargs)
    if partial is None:
        if empty_aligned is not None:
            partial = chunk(empty, empty_aligned, **chunk_kwargs)
        else:
            partial = chunk(empty, **chunk_kwargs)
    return aggregate(partial, **aggregate_kwargs)


# --- helpers ---------------------------------------------------------------------------


def stack(parts: list) -> Any:
    """Per-partition results as one pandas object: a Series of scalars, a frame of Series."""
    if isinstance(parts[0], pd.Series):
        return pd.DataFrame(list(parts)).reset_index(drop=True).infer_objects()
    return pd.Series(list(parts)).infer_objects()


def cast_like(result: Any, meta: Any) -> Any:
    """``result`` with the dtype of ``meta`` (pandas' dtypes); a cast that fails is skipped."""
    if meta is None:
        return result
    if isinstance(meta, pd.Series) and isinstance(result, pd.Series):
        if result.dtype != meta.dtype:
            with contextlib.suppress(TypeError, ValueError):
                result = result.astype(meta.dtype)
        return result
    if isinstance(meta, pd.DataFrame) and isinstance(result, pd.DataFrame):
        for col, dtype in meta.dtypes.items():
            if col in result.columns and result[col].dtype != dtype:
                with contextlib.suppress(TypeError, ValueError):
                    result[col] = result[col].astype(dtype)
        return result
    if isinstance(meta, np.generic) and not isinstance(result, (pd.Series, pd.DataFrame)):
        try:
            return meta.dtype.type(result)
        except (TypeError, ValueError):
            return result
    return result


def numeric_part(part: Any, numeric_only: bool) -> Any:
    """The numeric (and bool) columns of a frame when ``numeric_only``."""
    if numeric_only and isinstance(part, pd.DataFrame):
        return part.select_dtypes(include=["number", "bool"])
    return part


# --- sum, prod, min, max, count, any, all, size -----------------------------------------


def reduce_chunk(part: Any, how: str, skipna: bool = True, numeric_only: bool = False,
                 min_count: int = 0) -> Any:
    """pandas' ``how`` reduction of one partition."""
    if how == "size":
        return part.size
    if how == "count":
        return numeric_part(part, numeric_only).count()
    if how in ("any", "all"):
        return getattr(numeric_part(part, numeric_only), how)(skipna=skipna)
    kwargs: dict[str, Any] = {"skipna": skipna}
    if isinstance(part, pd.DataFrame):
        kwargs["numeric_only"] = numeric_only
    return getattr(part, how)(**kwargs)


def reduce_combine(parts: list, how: str, skipna: bool = True) -> Any:
    """One partial from several, by the combining operation of ``how``."""
    op = COMBINE_OP[how]
    if how == "size":
        return sum(parts)
    stacked = stack(parts)
    kwargs = {} if op == "sum" and how == "count" else {"skipna": skipna}
    return getattr(stacked, op)(**kwargs)


def reduce_aggregate(partial: Any, meta: Any = None) -> Any:
    """The result from the last partial (a scalar or one value per column)."""
    return cast_like(partial, meta)


def counted_chunk(part: Any, how: str, skipna: bool = True, numeric_only: bool = False) -> tuple:
    """``(reduction, count)`` for ``sum``/``prod`` with ``min_count``."""
    value = reduce_chunk(part, how, skipna, numeric_only)
    return value, numeric_part(part, numeric_only).count() if isinstance(part, pd.DataFrame) \
        else part.count()


def counted_combine(parts: list, how: str, skipna: bool = True) -> tuple:
    return (reduce_combine([p[0] for p in parts], how, skipna),
            reduce_combine([p[1] for p in parts], "count"))


def counted_aggregate(partial: tuple, min_count: int = 0, meta: Any = None) -> Any:
    """The sum/prod, missing where fewer than ``min_count`` values were seen."""
    value, count = partial
    if isinstance(value, pd.Series):
        value = value.astype("float64").where(count >= min_count) if (count < min_count).any() \
            else value
        return cast_like(value, meta)
    if count < min_count:
        return np.float64("nan")
    return cast_like(value, meta)


# --- mean, var, std (Chan's parallel algorithm) ----------------------------------------


def as_float_matrix(part: Any) -> np.ndarray:
    """The values of a Series or frame as a 2-d float64 array (NaN for nulls)."""
    frame = part.to_frame() if isinstance(part, pd.Series) else part
    if frame.shape[1] == 0:
        return np.empty((len(frame), 0))
    return frame.to_numpy(dtype="float64", na_value=np.nan)


def moments_chunk(part: Any, skipna: bool = True, numeric_only: bool = False) -> tuple:
    """``(count, mean, M2, has_null)`` per column, as float arrays."""
    x = as_float_matrix(numeric_part(part, numeric_only))
    present = ~np.isnan(x)
    n = present.sum(axis=0).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, x, 0.0).sum(axis=0) / n
        m2 = np.where(present, (x - mean) ** 2, 0.0).sum(axis=0)
    return n, mean, m2, ~present.all(axis=0)


def moments_combine(parts: list, skipna: bool = True) -> tuple:
    """Merge ``(count, mean, M2)`` partials: exact pairwise update, no cancellation."""
    n = np.stack([p[0] for p in parts])
    mean = np.stack([p[1] for p in parts])
    m2 = np.stack([p[2] for p in parts])
    total = n.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = np.where(n > 0, mean * n, 0.0).sum(axis=0) / total
        spread = np.where(n > 0, n * (mean - weighted) ** 2, 0.0).sum(axis=0)
    merged_m2 = np.where(n > 0, m2, 0.0).sum(axis=0) + spread
    return total, weighted, merged_m2, np.logical_or.reduce([p[3] for p in parts])


def moments_aggregate(partial: tuple, how: str, ddof: int = 1, skipna: bool = True,
                      index: Any = None, name: Any = None, meta: Any = None) -> Any:
    """``mean``/``var``/``std`` from merged moments; a scalar when ``index`` is None."""
    n, mean, m2, has_null = partial
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "mean":
            out = np.where(n > 0, mean, np.nan)
        else:
            out = np.where(n - ddof > 0, m2 / (n - ddof), np.nan)
            if how == "std":
                out = np.sqrt(out)
    if not skipna:
        out = np.where(has_null, np.nan, out)
    if index is None:
        return np.float64(out[0])
    return cast_like(pd.Series(out, index=index, dtype="float64", name=name), meta)


# --- nunique, idxmin/idxmax, mode, value_counts (per column) ---------------------------


def per_column_chunk(part: Any, func, **kwargs: Any) -> Any:
    """``func`` on each column of a frame (a dict of partials), or on a Series."""
    if isinstance(part, pd.DataFrame):
        return {i: func(part.iloc[:, i], **kwargs) for i in range(part.shape[1])}
    return func(part, **kwargs)


def per_column_combine(parts: list, func, **kwargs: Any) -> Any:
    if isinstance(parts[0], dict):
        return {i: func([p[i] for p in parts], **kwargs) for i in parts[0]}
    return func(parts, **kwargs)


def per_column_aggregate(partial: Any, func, columns: Any = None, frame: bool = False,
                         series_name: Any = None, meta: Any = None, **kwargs: Any) -> Any:
    """A Series (one value per column) or, with ``frame=True``, a frame of the results."""
    if not isinstance(partial, dict):
        return cast_like(func(partial, **kwargs), meta)
    values = [func(partial[i], **kwargs) for i in range(len(columns))]
    if frame:
        out = pd.concat(values, axis=1) if values else pd.DataFrame(index=pd.RangeIndex(0))
        out.columns = columns
        return cast_like(out, meta)
    return cast_like(pd.Series(values, index=columns, name=series_name), meta)


def unique_chunk(s: pd.Series) -> pd.Series:
    return s.drop_duplicates()


def dictionary_unique_chunk(s: pd.Series, dtype: Any = None) -> pd.Series:
    """:func:`unique_chunk` of a string column read dictionary-encoded (a categorical of
    the values one piece holds): the values whose codes occur, NaN last if any is
    missing, as a Series of ``dtype`` (the column's own); no string is hashed."""
    categories = s.cat.categories
    codes = s.cat.codes.to_numpy()
    seen = np.bincount(codes.astype(np.intp) + 1, minlength=len(categories) + 1)
    values = categories[np.flatnonzero(seen[1:])]
    if seen[0]:
        values = values.append(pd.Index([np.nan], dtype=values.dtype))
    return pd.Series(values, dtype=dtype if dtype is not None else categories.dtype, name=s.name)


def unique_combine(parts: list) -> pd.Series:
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def nunique_aggregate(s: pd.Series, dropna: bool = True) -> int:
    return int(s.nunique(dropna=dropna))


def arg_chunk(s: pd.Series, how: str, skipna: bool = True) -> pd.Series | None:
    """``how`` is ``idxmin``/``idxmax``: the best value of a partition with its label."""
    if skipna:
        s = s.dropna()
    if len(s) == 0:
        return s.iloc[:0]
    label = getattr(s, how)(skipna=skipna)
    return s.loc[[label]].iloc[:1]


def arg_combine(parts: list, how: str, skipna: bool = True) -> pd.Series:
    return arg_chunk(pd.concat(parts), how, skipna)


def arg_aggregate(s: pd.Series, how: str, skipna: bool = True) -> Any:
    if len(s) == 0:
        raise ValueError(f"{how}: encountered all NA values (no value to take the label of)")
    return s.index[0]


def counts_chunk(s: pd.Series, dropna: bool = True) -> pd.Series:
    """The count of each value (all categories of a categorical, like pandas).

    For a frame: the count of each distinct row (``DataFrame.value_counts``).
    """
    return s.value_counts(dropna=dropna, sort=False)


def dictionary_counts_chunk(s: pd.Series, dropna: bool = True, dtype: Any = None) -> pd.Series:
    """:func:`counts_chunk` of a string column read dictionary-encoded: ``s`` is a
    categorical of the values one piece holds; the codes are counted (no string is
    hashed) and the values held give the index, of ``dtype`` (the column's own).
    Values with no rows are left out, as in :func:`counts_chunk` of the strings."""
    categories = s.cat.categories
    codes = s.cat.codes.to_numpy()
    counts = np.bincount(codes.astype(np.intp) + 1, minlength=len(categories) + 1)
    held = np.flatnonzero(counts[1:])
    values = categories[held]
    out = counts[1:][held].astype("int64")
    if not dropna and counts[0]:
        values = values.append(pd.Index([np.nan], dtype=values.dtype))
        out = np.append(out, np.int64(counts[0]))
    index = pd.Index(values, dtype=dtype if dtype is not None else categories.dtype, name=s.name)
    return pd.Series(out, index=index, name="count")


def counts_combine(parts: list, dropna: bool = True) -> pd.Series:
    parts = unify_categorical_index(parts)
    merged = pd.concat(parts)
    dtypes = {part.index.dtype for part in parts}
    if len(dtypes) == 1 and merged.index.dtype not in dtypes:
        # pandas 3 concatenates object indexes of strings into a ``str`` index
        merged.index = merged.index.astype(dtypes.pop())
    levels = list(range(merged.index.nlevels))
    return merged.groupby(level=levels, sort=False, dropna=False, observed=False).sum()


def mode_aggregate(counts: pd.Series, dropna: bool = True, name: Any = None,
                   dtype: Any = None) -> pd.Series:
    """The most frequent values, sorted, as pandas' ``mode``."""
    if len(counts) == 0:
        values = counts.index[:0]
    else:
        values = counts.index[counts.to_numpy() == counts.max()]
    out = pd.Series(values, name=name).sort_values(ignore_index=True)
    if dtype is not None and out.dtype != dtype:
        out = out.astype(dtype)
    return out


def value_counts_aggregate(counts: pd.Series, normalize: bool = False, sort: bool = True,
                           ascending: bool = False, name: Any = None) -> pd.Series:
    """pandas' ``value_counts`` result from the merged counts."""
    out = counts.astype("int64")
    if isinstance(name, list):  # a frame's rows: a MultiIndex, even of one level
        if not isinstance(out.index, pd.MultiIndex):
            out.index = pd.MultiIndex.from_arrays([out.index])
        out.index.names = name
    else:
        out.index.name = name
    if normalize:
        total = out.sum()
        out = out / total if total else out.astype("float64")
        out.name = "proportion"
    else:
        out.name = "count"
    if sort:
        out = out.sort_values(ascending=ascending, kind="stable")
    return out


#: chunk functions with a counterpart on a dictionary-encoded string column
#: (``TreeReduction.with_dictionary_column``)
DICTIONARY_CHUNKS = {counts_chunk: dictionary_counts_chunk, unique_chunk: dictionary_unique_chunk}


# --- split_out: value_counts and nunique on the shuffle ------------------------------------
#
# ``value_counts(split_out=k)``: each partition's counts become a frame of key
# columns and a count column (:func:`counts_frame`), hash-partitioned on the
# keys, so every value's partial counts land in one output partition, where
# :func:`value_counts_partition` adds them up. ``nunique(split_out=k)``: each
# partition's distinct values, hash-partitioned on themselves; the distinct
# counts of the output partitions add up (:func:`distinct_count`,
# :func:`add_counts`).

#: The count column of :func:`counts_frame`.
COUNT_COLUMN = "__chunkwise_count__"


def key_column(level: int) -> str:
    """The name of key column ``level`` in :func:`counts_frame`'s result."""
    return f"__chunkwise_key_{level}__"


def counts_frame(part: Any, dropna: bool = True) -> pd.DataFrame:
    """A partition's value counts as a frame: one key column per level, then the count.

    >>> counts_frame(pd.Series(["a", "b", "a"])).to_numpy().tolist()
    [['a', 2], ['b', 1]]
    """
    counts = part.value_counts(dropna=dropna, sort=False)
    index = counts.index
    data = {key_column(i): index.get_level_values(i) for i in range(index.nlevels)}
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(counts)))
    frame[COUNT_COLUMN] = counts.to_numpy(dtype="int64")
    return frame


def value_counts_partition(frame: pd.DataFrame, levels: int, sort: bool = True,
                           ascending: bool = False, name: Any = None) -> pd.Series:
    """pandas' ``value_counts`` of the values whose partial counts are in ``frame``.

    Every row of one value is in this frame (the shuffle put them here), so
    the sums are final. ``observed=True``: a categorical value absent from
    this partition belongs to another one.
    """
    keys = [key_column(i) for i in range(levels)]
    counts = frame.set_index(keys if levels > 1 else keys[0])[COUNT_COLUMN]
    merged = counts.groupby(level=list(range(levels)), sort=False, dropna=False,
                            observed=True).sum()
    return value_counts_aggregate(merged, False, sort, ascending, name)


def divide_counts(counts: pd.Series, total: Any) -> pd.Series:
    """``value_counts(normalize=True)``'s proportions from counts and the total count."""
    out = counts / total if total else counts.astype("float64")
    out.name = "proportion"
    return out


def distinct_count(s: pd.Series, dropna: bool = True) -> int:
    """Distinct values of a partition holding every row of its values (after the shuffle)."""
    return int(s.nunique(dropna=dropna))


def add_counts(parts: list) -> int:
    return int(sum(parts))


def total_count(counts: pd.Series) -> int:
    return int(counts.sum())


def as_count(partial: Any) -> int:
    return int(partial)


def stack_counts(*counts_and_labels: Any) -> pd.Series:
    """One count per column (the last argument: the column labels) as an int64 Series."""
    *counts, labels = counts_and_labels
    return pd.Series([int(c) for c in counts], index=pd.Index(labels), dtype="int64")


# --- cov and corr (pairwise complete, merged like the variance) ---------------------------


def comoments_chunk(part: Any, aligned: Any = None) -> tuple:
    """``(n, mean, C, M2)`` matrices over the rows where both columns are present.

    ``mean[i, j]`` is column i's mean over the rows it shares with column j,
    ``C`` the co-moment, ``M2[i, j]`` column i's squared deviations there. The
    partition is centred on its column means first, so the sums do not cancel.
    """
    if aligned is not None:
        part = pd.concat([part.reset_index(drop=True), aligned.reset_index(drop=True)], axis=1)
    x = as_float_matrix(part)
    present = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        shift = np.where(present.any(axis=0), np.nanmean(np.where(present, x, np.nan), axis=0), 0.0)
        y = np.where(present, x - shift, 0.0)
        p = present.astype("float64")
        n = p.T @ p
        mean = (y.T @ p) / n  # mean[i, j]: of column i over rows shared with j (shifted)
        raw = y.T @ y
        squares = (y * y).T @ p
        c = raw - n * mean * mean.T
        m2 = squares - n * mean * mean
        mean = mean + shift[:, None]
    return n, np.nan_to_num(mean), np.where(n > 0, c, 0.0), np.where(n > 0, m2, 0.0)


def comoments_combine(parts: list) -> tuple:
    """Chan's pairwise update on every pair of columns at once."""
    n, mean, c, m2 = parts[0]
    for nb, mb, cb, m2b in parts[1:]:
        total = n + nb
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, n * nb / total, 0.0)
            delta = mb - mean
            mean = np.where(total > 0, mean + delta * np.where(total > 0, nb / total, 0.0), 0.0)
        c = c + cb + delta * delta.T * share
        m2 = m2 + m2b + delta * delta * share
        n = total
    return n, mean, c, m2


def comoments_aggregate(partial: tuple, how: str, columns: Any = None, ddof: int = 1,
                        min_periods: int | None = None) -> Any:
    """The covariance or correlation matrix (a scalar for two aligned Series)."""
    n, _, c, m2 = partial
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "cov":
            out = np.where(n - ddof > 0, c / (n - ddof), np.nan)
        else:
            out = c / np.sqrt(m2 * m2.T)
            out = np.clip(out, -1.0, 1.0)
            np.fill_diagonal(out, np.where(np.diag(m2) > 0, 1.0, np.nan))
            out = np.where(n > 1, out, np.nan)
    if min_periods is not None:
        out = np.where(n >= min_periods, out, np.nan)
    if columns is None:
        return np.float64(out[0, 1])
    return pd.DataFrame(out, index=columns, columns=columns)


# --- memory_usage and describe ------------------------------------------------------------


def memory_usage_chunk(part: Any, index: bool = True, deep: bool = False) -> Any:
    return part.memory_usage(index=index, deep=deep)


def memory_usage_combine(parts: list) -> Any:
    return stack(parts).sum()


def describe_chunk(s: pd.Series, numeric: bool = True, points: int = QUANTILE_POINTS) -> tuple:
    """Numeric: moments and a quantile digest, from one conversion of the column to
    float64; otherwise the value counts."""
    if not numeric:
        return (counts_chunk(s, dropna=True),)
    values = present_values(s)
    n = len(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum() / n if n else np.nan
        centred = values - mean
        m2 = float(np.dot(centred, centred)) if n else 0.0
    moments = (np.array([float(n)]), np.array([mean]), np.array([m2]),
               np.array([n < len(s)]))
    return moments, digest_of(values, points, integer=is_integer_column(s.dtype))


def describe_combine(parts: list, numeric: bool = True, points: int = QUANTILE_POINTS) -> tuple:
    if numeric:
        return (moments_combine([p[0] for p in parts]),
                quantile_combine([p[1] for p in parts], points))
    return (counts_combine([p[0] for p in parts]),)


def describe_aggregate(partial: tuple, numeric: bool = True, percentiles: tuple = (),
                       index: Any = None, name: Any = None) -> pd.Series:
    """pandas' ``describe`` of one column: count, mean, std, min, percentiles, max; or
    count, unique, top, freq."""
    if numeric:
        moments, digest = partial
        count = float(moments[0][0])
        mean = moments_aggregate(moments, "mean")
        std = moments_aggregate(moments, "std")
        qs = quantile_aggregate(digest, [0.0, *percentiles, 1.0])
        values = [count, mean, std, *qs.to_numpy()]
        return pd.Series(values, index=index, name=name, dtype="float64")
    counts = partial[0]
    counts = counts[counts > 0]
    if len(counts):
        ordered = counts.sort_values(ascending=False, kind="stable")
        top, freq = ordered.index[0], int(ordered.iloc[0])
    else:
        top, freq = np.nan, np.nan
    values = [int(counts.sum()), len(counts), top, freq]
    return pd.Series(values, index=index, name=name, dtype="object")
