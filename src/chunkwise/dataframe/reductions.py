"""Reductions of dataframes and series by tree reduction.

Every reduction here is one :class:`TreeReduction` node, described by three
top-level functions (picklable by reference):

- ``chunk(partition, **chunk_kwargs)`` -> a small *partial* per partition;
- ``combine(partials, **combine_kwargs)`` -> one partial from a list of at
  most ``split_every`` partials (default 8);
- ``aggregate(partial, **aggregate_kwargs)`` -> the result.

Partitions with no rows give no partial (``None``); when every partition is
empty, the chunk function runs once on the empty ``meta`` of the input, so
the result is pandas' answer on an empty frame. A task never holds more than
``split_every`` partials, and the partials are small: one row per column for
``sum``, ``(count, mean, M2)`` arrays for the variance (merged with Chan's
parallel algorithm, numerically stable), a fixed-size digest for quantiles,
a HyperLogLog register array for :func:`nunique_approx`. The exceptions,
bounded by the number of *distinct values* rather than the number of rows,
are ``nunique``, ``mode`` and ``value_counts``.

What differs from pandas:

- ``quantile`` (and the percentiles of ``describe``) is approximate: each
  partition keeps at most ``QUANTILE_POINTS`` (4096) values of its sorted
  data (all of them when it is smaller), weighted by the rows they stand for,
  and the digests are merged by weight. Below that size per partition the
  answer is pandas' (linear interpolation); above it, the measured error is
  under 0.1% of the rows in rank on uniform and on log-normal data (see
  ``tests/dataframe/test_reductions.py::test_quantile_error_bound``).
- ``nunique_approx`` is HyperLogLog with 2**14 registers on
  ``pd.util.hash_pandas_object`` hashes: a relative error of about 1%.
- ``memory_usage(index=True)`` sums each partition's index memory.

The kernels (in :mod:`chunkwise.dataframe.partials`) work on plain pandas
objects and are tested directly against pandas; :class:`TreeReduction` runs
them over partitions, and the functions here build it with the result's
``meta`` found by running pandas on a small sample, so mistakes fail when
written, with pandas' error type and the operation's name.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": [1, 2, 3, 4], "y": [1.0, 2.0, 3.0, 5.0]}),
...                     npartitions=2)
>>> int(df.x.sum().compute()), float(df.y.var().compute())
(10, 2.9166666666666665)
>>> df.max().compute().tolist()
[4.0, 5.0]
"""
from __future__ import annotations

import builtins
import functools
import numbers
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe import partials as k
from chunkwise.dataframe import sketches
from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import (
    FrameExpr,
    Projection,
    emulate,
    map_partitions_expr,
    meta_nonempty,
)

__all__ = [
    "DEFAULT_SPLIT_EVERY",
    "TreeReduction",
    "all",
    "any",
    "corr",
    "count",
    "cov",
    "describe",
    "idxmax",
    "idxmin",
    "max",
    "mean",
    "memory_usage",
    "min",
    "mode",
    "nunique",
    "nunique_approx",
    "prod",
    "quantile",
    "reduce_rows",
    "size",
    "std",
    "sum",
    "tree_reduce",
    "value_counts",
    "var",
]

#: Partials merged by one task.
DEFAULT_SPLIT_EVERY = 8


# --- the tree-reduction node ------------------------------------------------------------


class TreeReduction(FrameExpr):
    """``chunk`` per partition -> ``combine`` ``split_every`` at a time -> ``aggregate``.

    Operands: ``frame`` (and ``aligned``, a frame read partition by partition
    alongside it, or ``None``), the three functions with their keyword
    arguments, the result's ``meta`` (computed by the caller at build time),
    ``split_every`` and a ``label`` naming the operation. The node owns its
    partial stages, keys ``(f"{name}-partial-{level}", i)``, and outputs one
    partition ``(name, 0)``.
    """

    _parameters = (
        "frame", "aligned", "chunk", "chunk_kwargs", "combine", "combine_kwargs",
        "aggregate", "aggregate_kwargs", "meta", "split_every", "label",
    )
    _operand_only = ('meta',)  # metadata of the same name: read with operand()
    _defaults = {"aligned": None, "split_every": DEFAULT_SPLIT_EVERY, "label": "reduction"}

    @property
    def _funcname(self) -> str:
        return self.operand("label")

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return (None, None)

    @functools.cached_property
    def levels(self) -> list:
        """Number of partials at each level (level 0: one per input partition)."""
        counts = [self.frame.npartitions]
        every = self.split_every
        while counts[-1] > every:
            counts.append(-(-counts[-1] // every))
        return counts

    def _owned_names(self):
        name = self.name
        return (name, *(f"{name}-partial-{level}" for level in range(len(self.levels))))

    def _one_to_one_inputs(self) -> tuple:
        names = [self.frame.name]
        if self.aligned is not None:
            names.append(self.aligned.name)
        return tuple(names)

    def _task(self, key: Hashable) -> Task:
        name = self.name
        levels = self.levels
        if key[0] == name:
            last = len(levels) - 1
            parts = [Ref((f"{name}-partial-{last}", j)) for j in range(levels[last])]
            aligned = self.aligned
            return Task(
                key, k.finish, parts, self.frame.meta,
                None if aligned is None else aligned.meta,
                self.chunk, self.chunk_kwargs, self.combine, self.combine_kwargs,
                self.aggregate, self.aggregate_kwargs,
            )
        level = int(key[0].rsplit("-", 1)[1])
        i = key[1]
        if level == 0:
            aligned = None if self.aligned is None else Ref((self.aligned.name, i))
            return Task(key, k.chunk_call, Ref((self.frame.name, i)), aligned, self.chunk,
                        self.chunk_kwargs)
        every = self.split_every
        prefix = f"{name}-partial-{level - 1}"
        stop = builtins.min((i + 1) * every, levels[level - 1])
        parts = [Ref((prefix, j)) for j in range(i * every, stop)]
        return Task(key, k.combine_call, parts, self.combine, self.combine_kwargs)

    def _simplify_down(self) -> FrameExpr | None:
        """Offer this reduction to the node under its frame's column selection, which may
        compute the partials in a cheaper way (``partials_of``: a broadcast join under a
        groupby, see :mod:`chunkwise.dataframe.join_partials`)."""
        frame = self.frame
        under = frame.frame if isinstance(frame, Projection) else frame
        offer = getattr(under, "partials_of", None)
        return None if offer is None else offer(self)

    def with_dictionary_column(self, frame: FrameExpr) -> TreeReduction | None:
        """This reduction over ``frame``, the same string column read dictionary-encoded
        (a categorical of the values each piece holds), when its chunk function (or, for
        a per-column reduction of a Series, its ``func``) has a counterpart on the codes
        (``partials.DICTIONARY_CHUNKS``: value_counts, nunique, mode); ``None`` otherwise.
        Called by the read when the optimizer offers such a read (``ReadParquet``)."""
        if self.aligned is not None:
            return None
        kwargs = {**self.chunk_kwargs, "dtype": self.frame.meta.dtype}
        chunk = k.DICTIONARY_CHUNKS.get(self.chunk)
        if chunk is None and self.chunk is k.per_column_chunk:  # nunique, mode of a Series
            func = k.DICTIONARY_CHUNKS.get(kwargs.get("func"))
            if func is None:
                return None
            chunk, kwargs["func"] = self.chunk, func
        if chunk is None:
            return None
        return TreeReduction(frame, None, chunk, kwargs, self.combine, self.combine_kwargs,
                             self.aggregate, self.aggregate_kwargs, self.operand("meta"),
                             self.split_every, self.operand("label"))

    def _explain_line(self) -> str:
        return (f"TreeReduction: {self.operand('label')} split_every={self.split_every} "
                f"levels={len(self.levels)}  [1 partition]")


def check_split_every(split_every: Any, operation: str) -> int:
    """``split_every`` as an int >= 2 (default :data:`DEFAULT_SPLIT_EVERY`)."""
    if split_every is None or split_every is False:
        return DEFAULT_SPLIT_EVERY
    if not isinstance(split_every, numbers.Integral) or isinstance(split_every, bool) \
            or split_every < 2:
        raise ValueError(f"{operation}: split_every must be an int >= 2, got {split_every!r}")
    return int(split_every)


def tree_reduce(obj: Any, chunk: Callable, combine: Callable, aggregate: Callable, meta: Any, *,
                label: str, split_every: Any = None, chunk_kwargs: dict | None = None,
                combine_kwargs: dict | None = None, aggregate_kwargs: dict | None = None,
                aligned: Any = None) -> Any:
    """The collection of a :class:`TreeReduction` of ``obj`` (a Scalar for a scalar ``meta``)."""
    expr = TreeReduction(
        obj.expr, None if aligned is None else aligned.expr,
        chunk, chunk_kwargs or {}, combine, combine_kwargs or {}, aggregate,
        aggregate_kwargs or {}, meta, check_split_every(split_every, label), label,
    )
    return new_collection(expr)


# --- meta at build time --------------------------------------------------------------------


def call_method(sample: Any, method: str, kwargs: dict) -> Any:
    """``sample.<method>(**kwargs)`` (for emulating pandas at build time)."""
    return getattr(sample, method)(**kwargs)


def pandas_meta(obj: Any, method: str, operation: str, **kwargs: Any) -> Any:
    """The meta of pandas' ``method`` on ``obj``: pandas' own errors raise here, at build time."""
    return emulate(call_method, obj.expr, method, kwargs, operation=operation)


def result_labels(obj: Any, method: str, **kwargs: Any) -> pd.Index:
    """The index of pandas' result on a sample: the columns a frame reduction keeps."""
    return getattr(meta_nonempty(obj.expr.meta), method)(**kwargs).index


def is_frame(obj: Any) -> bool:
    return isinstance(obj.expr.meta, pd.DataFrame)


def operation_name(obj: Any, method: str) -> str:
    """``DataFrame.<method>``, ``Series.<method>`` or ``Index.<method>``: the user's call."""
    meta = obj.expr.meta
    kind = "DataFrame" if isinstance(meta, pd.DataFrame) else (
        "Index" if isinstance(meta, pd.Index) else "Series")
    return f"{kind}.{method}"


def check_axis(obj: Any, axis: Any, method: str) -> int:
    """0 or 1 (``"index"``/``"columns"`` accepted); ``None`` means 0."""
    if axis in (None, 0, "index", "rows"):
        return 0
    if axis in (1, "columns") and is_frame(obj):
        return 1
    raise ValueError(f"{operation_name(obj, method)}: No axis named {axis!r} for this object")


def reduce_rows(obj: Any, method: str, **kwargs: Any) -> Any:
    """``method(axis=1, ...)``: pandas' per-row reduction, one task per partition."""
    meta = pandas_meta(obj, method, operation_name(obj, method), axis=1, **kwargs)
    expr = map_partitions_expr(call_method, obj.expr, method, {"axis": 1, **kwargs}, meta=meta,
                               label=f"{method}-rows")
    return new_collection(expr)


# --- sum, prod, min, max, count, any, all, size --------------------------------------------


def simple(obj: Any, how: str, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
           min_count: int = 0, split_every: Any = None) -> Any:
    """pandas' ``how`` over the rows by tree reduction (per row with ``axis=1``)."""
    kwargs: dict[str, Any] = {}
    if how not in ("count",):
        kwargs["skipna"] = skipna
    if how in ("sum", "prod", "min", "max", "count") and is_frame(obj):
        kwargs["numeric_only"] = numeric_only
    if how in ("sum", "prod") and min_count:
        kwargs["min_count"] = min_count
    if check_axis(obj, axis, how) == 1:
        return reduce_rows(obj, how, **kwargs)
    meta = pandas_meta(obj, how, operation_name(obj, how), **kwargs)
    chunk_kwargs = {"how": how, "skipna": skipna, "numeric_only": numeric_only}
    if how in ("sum", "prod") and min_count:
        return tree_reduce(
            obj, k.counted_chunk, k.counted_combine, k.counted_aggregate, meta, label=how,
            split_every=split_every, chunk_kwargs=chunk_kwargs,
            combine_kwargs={"how": how, "skipna": skipna},
            aggregate_kwargs={"min_count": min_count, "meta": meta},
        )
    return tree_reduce(
        obj, k.reduce_chunk, k.reduce_combine, k.reduce_aggregate, meta, label=how,
        split_every=split_every, chunk_kwargs=chunk_kwargs,
        combine_kwargs={"how": how, "skipna": skipna}, aggregate_kwargs={"meta": meta},
    )


def sum(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
        min_count: int = 0, split_every: Any = None) -> Any:
    """Sum of the values, as pandas' ``sum``."""
    return simple(obj, "sum", axis, skipna, numeric_only, min_count, split_every)


def prod(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
         min_count: int = 0, split_every: Any = None) -> Any:
    """Product of the values, as pandas' ``prod``."""
    return simple(obj, "prod", axis, skipna, numeric_only, min_count, split_every)


def min(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
        split_every: Any = None) -> Any:
    """Minimum, as pandas' ``min``."""
    return simple(obj, "min", axis, skipna, numeric_only, 0, split_every)


def max(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
        split_every: Any = None) -> Any:
    """Maximum, as pandas' ``max``."""
    return simple(obj, "max", axis, skipna, numeric_only, 0, split_every)


def count(obj: Any, axis: Any = None, numeric_only: bool = False, split_every: Any = None) -> Any:
    """Non-null values per column (per row with ``axis=1``), as pandas' ``count``."""
    return simple(obj, "count", axis, True, numeric_only, 0, split_every)


def any(obj: Any, axis: Any = None, skipna: bool = True, split_every: Any = None) -> Any:
    """Whether any value is true, as pandas' ``any``."""
    return simple(obj, "any", axis, skipna, False, 0, split_every)


def all(obj: Any, axis: Any = None, skipna: bool = True, split_every: Any = None) -> Any:
    """Whether all values are true, as pandas' ``all``."""
    return simple(obj, "all", axis, skipna, False, 0, split_every)


def size(obj: Any, split_every: Any = None) -> Any:
    """Number of elements (rows times columns), as pandas' ``size``: a Scalar."""
    meta = np.int64(0)
    return tree_reduce(obj, k.reduce_chunk, k.reduce_combine, k.reduce_aggregate, meta,
                       label="size", split_every=split_every, chunk_kwargs={"how": "size"},
                       combine_kwargs={"how": "size"}, aggregate_kwargs={"meta": meta})


# --- mean, var, std -----------------------------------------------------------------------


def check_moment_dtypes(obj: Any, how: str, numeric_only: bool) -> None:
    """Datetime-like columns: pandas can, this tree reduction cannot (yet) -- say how to."""
    meta = obj.expr.meta
    dtypes = meta.dtypes if isinstance(meta, pd.DataFrame) else pd.Series([meta.dtype])
    if numeric_only:
        return
    for dtype in dtypes:
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            raise NotImplementedError(
                f"{operation_name(obj, how)}: datetime-like columns are not supported by the "
                f"tree reduction; select the numeric columns, or pass numeric_only=True"
            )


def moments(obj: Any, how: str, axis: Any, skipna: bool, ddof: int, numeric_only: bool,
            split_every: Any) -> Any:
    kwargs: dict[str, Any] = {"skipna": skipna}
    if how != "mean":
        kwargs["ddof"] = ddof
    if is_frame(obj):
        kwargs["numeric_only"] = numeric_only
    if check_axis(obj, axis, how) == 1:
        return reduce_rows(obj, how, **kwargs)
    meta = pandas_meta(obj, how, operation_name(obj, how), **kwargs)
    dtype = obj.expr.meta.dtype if not is_frame(obj) else None
    if how == "mean" and dtype is not None and dtype.kind == "M":
        return tree_reduce(obj, k.datetime_mean_chunk, k.datetime_mean_combine,
                           k.datetime_mean_aggregate, meta, label="mean", split_every=split_every,
                           aggregate_kwargs={"skipna": skipna, "dtype": dtype})
    check_moment_dtypes(obj, how, numeric_only)
    index = result_labels(obj, how, **kwargs) if isinstance(meta, pd.Series) else None
    return tree_reduce(
        obj, k.moments_chunk, k.moments_combine, k.moments_aggregate, meta, label=how,
        split_every=split_every, chunk_kwargs={"skipna": skipna, "numeric_only": numeric_only},
        aggregate_kwargs={"how": how, "ddof": ddof, "skipna": skipna, "index": index,
                          "meta": meta if index is not None else None},
    )


def mean(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
         split_every: Any = None) -> Any:
    """Mean, as pandas' ``mean`` (merged as count, mean and M2); of a datetime Series, the
    exact mean instant (merged as count and an exact integer sum)."""
    return moments(obj, "mean", axis, skipna, 1, numeric_only, split_every)


def var(obj: Any, axis: Any = None, skipna: bool = True, ddof: int = 1,
        numeric_only: bool = False, split_every: Any = None) -> Any:
    """Variance, as pandas' ``var``; numerically stable (Chan's parallel algorithm)."""
    return moments(obj, "var", axis, skipna, ddof, numeric_only, split_every)


def std(obj: Any, axis: Any = None, skipna: bool = True, ddof: int = 1,
        numeric_only: bool = False, split_every: Any = None) -> Any:
    """Standard deviation, as pandas' ``std``; numerically stable."""
    return moments(obj, "std", axis, skipna, ddof, numeric_only, split_every)


# --- per-column reductions: nunique, idxmin/idxmax, mode ---------------------------------


def per_column(obj: Any, meta: Any, label: str, split_every: Any, chunk: Callable,
               combine: Callable, aggregate: Callable, frame: bool = False,
               chunk_kwargs: dict | None = None, combine_kwargs: dict | None = None,
               aggregate_kwargs: dict | None = None) -> Any:
    """A reduction run column by column (one partial per column)."""
    columns = obj.expr.meta.columns if is_frame(obj) else None
    return tree_reduce(
        obj, k.per_column_chunk, k.per_column_combine, k.per_column_aggregate, meta,
        label=label, split_every=split_every,
        chunk_kwargs={"func": chunk, **(chunk_kwargs or {})},
        combine_kwargs={"func": combine, **(combine_kwargs or {})},
        aggregate_kwargs={"func": aggregate, "columns": columns, "frame": frame,
                          "meta": None if frame else meta, **(aggregate_kwargs or {})},
    )


def nunique(obj: Any, axis: Any = None, dropna: bool = True, split_every: Any = None,
            split_out: Any = None) -> Any:
    """Number of distinct values, as pandas' ``nunique`` (partials: the distinct values).

    ``split_out=k`` (or ``True``: as many as the input's partitions) moves the
    distinct values through a hash shuffle into ``k`` partitions instead of
    merging them all in one task (module docstring, "split_out").
    """
    operation = operation_name(obj, "nunique")
    if check_axis(obj, axis, "nunique") == 1:
        return reduce_rows(obj, "nunique", dropna=dropna)
    meta = pandas_meta(obj, "nunique", operation, dropna=dropna)
    count = split_out_count(obj, split_out, operation)
    if count is not None:
        return shuffled_nunique(obj, meta, dropna, count, split_every, operation)
    return per_column(obj, meta, "nunique", split_every, k.unique_chunk, k.unique_combine,
                      k.nunique_aggregate, aggregate_kwargs={"dropna": dropna})


def split_out_count(obj: Any, split_out: Any, operation: str) -> int | None:
    """The output partitions of the shuffle path for ``split_out``; ``None``: the tree."""
    if split_out is None or split_out is False:
        return None
    if split_out is True:
        count = obj.npartitions
    elif isinstance(split_out, numbers.Integral) and split_out >= 1:
        count = int(split_out)
    else:
        raise ValueError(f"{operation}(split_out=...): a positive integer or True, got {split_out!r}")
    return None if count == 1 else count


def shuffled_nunique(obj: Any, meta: Any, dropna: bool, count: int, split_every: Any,
                     operation: str) -> Any:
    """``nunique`` on the shuffle: each column's distinct values hash-partitioned on themselves."""
    if not is_frame(obj):
        return new_collection(_distinct_count(obj.expr, dropna, count, split_every))
    columns = obj.expr.meta.columns
    if columns.has_duplicates:
        raise NotImplementedError(
            f"{operation}(split_out=...): the frame has duplicate column names; rename them "
            "first, or leave split_out unset"
        )
    counts = [_distinct_count(Projection(obj.expr, c), dropna, count, split_every) for c in columns]
    return new_collection(map_partitions_expr(k.stack_counts, *counts, list(columns), meta=meta,
                                              label="nunique-columns"))


def _distinct_count(series: FrameExpr, dropna: bool, count: int, split_every: Any) -> FrameExpr:
    from chunkwise.dataframe.shuffle import hash_partition

    distinct = new_collection(map_partitions_expr(k.unique_chunk, series, meta=series.meta,
                                                  label="distinct-values"))
    shuffled = hash_partition(distinct, None, count)
    return TreeReduction(
        shuffled.expr, None, k.distinct_count, {"dropna": dropna}, k.add_counts, {},
        k.as_count, {}, np.int64(0), check_split_every(split_every, "nunique"),
        "nunique",
    )


def arg_reduction(obj: Any, how: str, axis: Any, skipna: bool, numeric_only: bool,
                  split_every: Any) -> Any:
    kwargs: dict[str, Any] = {"skipna": skipna}
    if is_frame(obj):
        kwargs["numeric_only"] = numeric_only
    if check_axis(obj, axis, how) == 1:
        return reduce_rows(obj, how, **kwargs)
    meta = pandas_meta(obj, how, operation_name(obj, how), **kwargs)
    if numeric_only and is_frame(obj):
        obj = new_collection(Projection(obj.expr, list(result_labels(obj, how, **kwargs))))
    return per_column(obj, meta, how, split_every, k.arg_chunk, k.arg_combine, k.arg_aggregate,
                      chunk_kwargs={"how": how, "skipna": skipna},
                      combine_kwargs={"how": how, "skipna": skipna},
                      aggregate_kwargs={"how": how, "skipna": skipna})


def idxmin(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
           split_every: Any = None) -> Any:
    """Label of the first minimum, as pandas' ``idxmin``."""
    return arg_reduction(obj, "idxmin", axis, skipna, numeric_only, split_every)


def idxmax(obj: Any, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
           split_every: Any = None) -> Any:
    """Label of the first maximum, as pandas' ``idxmax``."""
    return arg_reduction(obj, "idxmax", axis, skipna, numeric_only, split_every)


def mode(obj: Any, dropna: bool = True, split_every: Any = None) -> Any:
    """The most frequent values, as pandas' ``mode`` (partials: the value counts)."""
    meta = pandas_meta(obj, "mode", operation_name(obj, "mode"), dropna=dropna)
    if is_frame(obj):
        # per column; the frame pads shorter columns with missing values, as pandas
        return per_column(obj, meta, "mode", split_every, k.counts_chunk, k.counts_combine,
                          k.mode_aggregate, frame=True, chunk_kwargs={"dropna": dropna},
                          combine_kwargs={"dropna": dropna},
                          aggregate_kwargs={"dropna": dropna})
    return per_column(obj, meta, "mode", split_every, k.counts_chunk, k.counts_combine,
                      k.mode_aggregate, chunk_kwargs={"dropna": dropna},
                      combine_kwargs={"dropna": dropna},
                      aggregate_kwargs={"dropna": dropna, "name": meta.name,
                                        "dtype": meta.dtype})


def value_counts(obj: Any, sort: bool = True, ascending: bool = False, normalize: bool = False,
                 dropna: bool = True, split_every: Any = None, split_out: Any = None) -> Any:
    """Count of each distinct value (row of a frame), as pandas' ``value_counts``.

    Ties in the counts keep the order values were first seen in, partition by
    partition (pandas' order among ties is not specified either).

    ``split_out=k`` (or ``True``: as many as the input's partitions): the
    counts in ``k`` partitions by hash of the value, each sorted by count when
    ``sort=True``, the whole not (as ``groupby(split_out=)``); see the module
    docstring, "split_out".
    """
    operation = operation_name(obj, "value_counts")
    meta = pandas_meta(obj, "value_counts", operation, sort=sort,
                       ascending=ascending, normalize=normalize, dropna=dropna)
    name = list(meta.index.names) if isinstance(meta.index, pd.MultiIndex) else meta.index.name
    count = split_out_count(obj, split_out, operation)
    if count is not None:
        return shuffled_value_counts(obj, meta, name, count, sort, ascending, normalize, dropna,
                                     split_every, operation)
    return tree_reduce(
        obj, k.counts_chunk, k.counts_combine, k.value_counts_aggregate, meta,
        label="value_counts", split_every=split_every, chunk_kwargs={"dropna": dropna},
        combine_kwargs={"dropna": dropna},
        aggregate_kwargs={"normalize": normalize, "sort": sort, "ascending": ascending,
                          "name": name},
    )


def shuffled_value_counts(obj: Any, meta: Any, name: Any, count: int, sort: bool,
                          ascending: bool, normalize: bool, dropna: bool, split_every: Any,
                          operation: str) -> Any:
    """``value_counts`` on the shuffle: per-partition counts hash-partitioned on the values."""
    from chunkwise.dataframe.shuffle import hash_partition

    partial_meta = emulate(k.counts_frame, obj.expr, dropna, operation=operation)
    partial = map_partitions_expr(k.counts_frame, obj.expr, dropna, meta=partial_meta,
                                  enforce=True, clear_divisions=True, label="value-counts-partial")
    levels = len(partial_meta.columns) - 1
    shuffled = hash_partition(new_collection(partial), [k.key_column(i) for i in range(levels)],
                              count)
    counts_meta = meta.astype("int64").rename("count") if normalize else meta
    counts = map_partitions_expr(k.value_counts_partition, shuffled.expr, levels, sort, ascending,
                                 name, meta=counts_meta, clear_divisions=True,
                                 label="value-counts")
    if not normalize:
        return new_collection(counts)
    total = tree_reduce(new_collection(counts), k.total_count, k.add_counts, k.as_count,
                        np.int64(0), label="value-counts-total", split_every=split_every)
    return new_collection(map_partitions_expr(k.divide_counts, counts, total.expr, meta=meta,
                                              label="value-counts-normalize"))


# --- cov, corr, memory_usage ---------------------------------------------------------------


def comoments(obj: Any, how: str, other: Any, min_periods: Any, ddof: int, numeric_only: bool,
              split_every: Any) -> Any:
    if other is not None:  # Series.cov(other) / Series.corr(other)
        kwargs: dict[str, Any] = {"min_periods": min_periods}
        if how == "cov":
            kwargs["ddof"] = ddof
        meta = emulate(call_method_with, obj.expr, how, other.expr, kwargs,
                       operation=f"Series.{how}")
        return tree_reduce(
            obj, k.comoments_chunk, k.comoments_combine, k.comoments_aggregate, meta,
            label=how, split_every=split_every, aligned=other,
            aggregate_kwargs={"how": how, "ddof": ddof, "min_periods": min_periods},
        )
    kwargs = {"min_periods": min_periods, "numeric_only": numeric_only}
    if how == "cov":
        kwargs["ddof"] = ddof
    meta = pandas_meta(obj, how, f"DataFrame.{how}", **kwargs)
    if numeric_only:
        obj = new_collection(Projection(obj.expr, list(meta.columns)))
    return tree_reduce(
        obj, k.comoments_chunk, k.comoments_combine, k.comoments_aggregate, meta, label=how,
        split_every=split_every,
        aggregate_kwargs={"how": how, "columns": meta.columns, "ddof": ddof,
                          "min_periods": min_periods},
    )


def call_method_with(sample: Any, method: str, other: Any, kwargs: dict) -> Any:
    return getattr(sample, method)(other, **kwargs)


def cov(obj: Any, other: Any = None, min_periods: Any = None, ddof: int = 1,
        numeric_only: bool = False, split_every: Any = None) -> Any:
    """Pairwise covariance (pairwise-complete rows), as pandas' ``cov``."""
    return comoments(obj, "cov", other, min_periods, ddof, numeric_only, split_every)


def corr(obj: Any, other: Any = None, method: str = "pearson", min_periods: Any = None,
         numeric_only: bool = False, split_every: Any = None) -> Any:
    """Pearson correlation (pairwise-complete rows), as pandas' ``corr``."""
    if method != "pearson":
        raise NotImplementedError(
            f"corr: method={method!r} needs ranks over all rows; only 'pearson' is supported"
        )
    return comoments(obj, "corr", other, min_periods, 1, numeric_only, split_every)


def memory_usage(obj: Any, index: bool = True, deep: bool = False, split_every: Any = None) -> Any:
    """Bytes used, as pandas' ``memory_usage``; the index's bytes are summed over partitions."""
    meta = pandas_meta(obj, "memory_usage", operation_name(obj, "memory_usage"), index=index,
                       deep=deep)
    return tree_reduce(obj, k.memory_usage_chunk, k.memory_usage_combine, k.reduce_aggregate,
                       meta, label="memory_usage", split_every=split_every,
                       chunk_kwargs={"index": index, "deep": deep},
                       aggregate_kwargs={"meta": meta})


# --- approximate: quantile, describe, nunique_approx ------------------------------------


def quantile(obj: Any, q: Any = 0.5, numeric_only: bool = False, split_every: Any = None) -> Any:
    """Approximate quantiles: per-partition digests merged by weight (see the module notes).

    Exact (pandas' linear interpolation) while each partition has at most
    :data:`~chunkwise.dataframe.sketches.QUANTILE_POINTS` non-null values.
    """
    kwargs: dict[str, Any] = {"q": q}
    if is_frame(obj):
        kwargs["numeric_only"] = numeric_only
    meta = pandas_meta(obj, "quantile", operation_name(obj, "quantile"), **kwargs)
    for dtype in (obj.expr.meta.dtypes if is_frame(obj) else [obj.expr.meta.dtype]):
        if not (pd.api.types.is_numeric_dtype(dtype) or numeric_only):
            raise NotImplementedError(
                f"{operation_name(obj, 'quantile')}: the approximate quantile supports numeric "
                f"columns only, got {dtype}; select the numeric columns"
            )
    if not is_frame(obj):
        return tree_reduce(obj, sketches.quantile_chunk, sketches.quantile_combine, sketches.quantile_aggregate,
                           meta, label="quantile", split_every=split_every,
                           aggregate_kwargs={"q": q, "name": meta.name if np.ndim(q) else None})
    columns = list(meta.columns if np.ndim(q) else result_labels(obj, "quantile", **kwargs))
    obj = new_collection(Projection(obj.expr, columns))
    return tree_reduce(
        obj, k.per_column_chunk, k.per_column_combine, quantile_frame_aggregate, meta,
        label="quantile", split_every=split_every, chunk_kwargs={"func": sketches.quantile_chunk},
        combine_kwargs={"func": sketches.quantile_combine},
        aggregate_kwargs={"q": q, "columns": pd.Index(columns), "meta": meta},
    )


def quantile_frame_aggregate(partial: dict, q: Any, columns: pd.Index, meta: Any) -> Any:
    """A frame's quantiles: a Series per column (scalar ``q``) or a frame indexed by ``q``."""
    values = [sketches.quantile_aggregate(partial[i], q) for i in range(len(columns))]
    if np.ndim(q) == 0:
        return k.cast_like(pd.Series(values, index=columns, name=meta.name, dtype="float64"),
                           meta)
    out = pd.concat(values, axis=1)
    out.columns = columns
    return k.cast_like(out, meta)


def describe(obj: Any, percentiles: Any = None, split_every: Any = None, include: Any = None,
             exclude: Any = None) -> Any:
    """Summary statistics, as pandas' ``describe``; the percentiles are approximate.

    Numeric columns give count, mean, std, min, percentiles, max; a frame
    without numeric columns (or a non-numeric Series) gives count, unique,
    top, freq (``top`` among ties: the first value seen). ``include``/``exclude``
    select columns by dtype as in pandas; ``include="all"`` describes numeric and
    other columns apart and joins them as pandas does (datetime columns: refused).
    """
    percentiles = tuple(sorted(percentiles)) if percentiles is not None else (0.25, 0.5, 0.75)
    operation = operation_name(obj, "describe")
    if (include is not None or exclude is not None) and is_frame(obj):
        if include == "all":
            if exclude is not None:
                raise ValueError(f"{operation}: exclude must be None when include is 'all'")
            kinds = {is_numeric_for_describe(d) for d in obj.expr.meta.dtypes}
            if builtins.any(pd.api.types.is_datetime64_any_dtype(d) or pd.api.types.is_timedelta64_dtype(d)
                            for d in obj.expr.meta.dtypes):
                raise NotImplementedError(
                    f"{operation}: include='all' with datetime-like columns is not supported; "
                    "describe(include='number') and describe(exclude='number') apart")
            if len(kinds) > 1:
                return _describe_all(obj, percentiles, split_every, operation)
        else:
            try:
                chosen = obj.expr.meta.select_dtypes(include=include, exclude=exclude).columns
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"{operation}: {exc}") from exc
            if not len(chosen):
                raise ValueError(f"{operation}: no columns of the dtypes include={include!r}, "
                                 f"exclude={exclude!r}")
            obj = new_collection(Projection(obj.expr, list(chosen)))
    meta = pandas_meta(obj, "describe", operation, percentiles=list(percentiles))
    source = obj.expr.meta
    labels = meta_nonempty(source).describe(percentiles=list(percentiles)).index
    if is_frame(obj):
        columns = list(meta.columns)
        dtypes = [source[c].dtype for c in columns] if len(set(source.columns)) == len(
            source.columns) else list(source.dtypes)
        obj = new_collection(Projection(obj.expr, columns))
    else:
        columns, dtypes = None, [source.dtype]
    numeric = [is_numeric_for_describe(d) for d in dtypes]
    if len(set(numeric)) > 1 or builtins.any(
            pd.api.types.is_datetime64_any_dtype(d) or pd.api.types.is_timedelta64_dtype(d)
            for d in dtypes):
        raise NotImplementedError(
            f"{operation}: describing datetime-like columns, or numeric and other columns "
            f"together, is not supported; select the numeric columns (or the non-numeric ones), "
            f"e.g. describe(include='number')"
        )
    kwargs = {"numeric": numeric[0] if numeric else True}
    return tree_reduce(
        obj, k.per_column_chunk, k.per_column_combine, k.per_column_aggregate, meta,
        label="describe", split_every=split_every,
        chunk_kwargs={"func": k.describe_chunk, **kwargs},
        combine_kwargs={"func": k.describe_combine, **kwargs},
        aggregate_kwargs={"func": k.describe_aggregate, "columns": columns,
                          "frame": columns is not None, "percentiles": percentiles,
                          "index": labels, "name": getattr(meta, "name", None), "meta": meta,
                          **kwargs},
    )


def _describe_all(obj: Any, percentiles: tuple, split_every: Any, operation: str) -> Any:
    """``describe(include="all")`` of numeric and other columns: each kind described apart
    (two tree reductions), then joined as pandas joins them (:func:`join_describes`)."""
    meta = pandas_meta(obj, "describe", operation, percentiles=list(percentiles), include="all")
    source = obj.expr.meta
    numeric = [c for c, d in source.dtypes.items() if is_numeric_for_describe(d)]
    other = [c for c in source.columns if c not in numeric]
    parts = [describe(new_collection(Projection(obj.expr, columns)), percentiles, split_every).expr
             for columns in (numeric, other)]
    joined = map_partitions_expr(join_describes, *parts, list(source.columns), meta=meta,
                                 label="describe-all")
    return new_collection(joined)


def join_describes(numeric: pd.DataFrame, other: pd.DataFrame, columns: list) -> pd.DataFrame:
    """Column-wise describes joined as pandas' ``describe(include="all")``: the row labels in
    the order the columns show them, shorter label lists first (as pandas orders them), the
    columns in their order, missing stats NaN."""
    described = [numeric[c] if c in numeric.columns else other[c] for c in columns]
    names: list = []
    for labels in sorted((series.index for series in described), key=len):
        names.extend(label for label in labels if label not in names)
    return pd.concat([series.reindex(names) for series in described], axis=1, sort=False)


def is_numeric_for_describe(dtype: Any) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def nunique_approx(obj: Any, split_every: Any = None) -> Any:
    """Approximate number of distinct values (rows of a frame), by HyperLogLog.

    2**14 registers of ``pd.util.hash_pandas_object`` hashes: a relative error
    of about 1%; nulls are not counted. Returns a Scalar (an int).
    """
    meta = np.int64(0)
    return tree_reduce(obj, sketches.hll_chunk, sketches.hll_combine, sketches.hll_aggregate, meta,
                       label="nunique_approx", split_every=split_every)
