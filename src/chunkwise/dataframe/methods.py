"""Per-partition methods: each runs on every partition independently, with meta computed at build time.

Most methods are :func:`call_method`: the pandas method of the same name
called on each partition (aligned collection arguments partition by
partition, scalars broadcast). Its ``meta`` is the method's result on a
small non-empty sample of the input's meta, so a wrong argument fails when
the method is called, with pandas' own error type and the method named.

User functions (``map_partitions``, ``apply(axis=1)``, ``map``) cannot be
trusted to run on made-up data: when their meta must be inferred and that
fails, the error names the user's call and shows how to pass ``meta=``.

Categoricals: a column converted with ``astype("category")`` has *unknown*
categories (each partition has its own); its meta carries the single
category :data:`UNKNOWN_CATEGORIES`, as in Dask. :func:`categorize` (and
``.cat.as_known()``) computes the categories and makes them known.

Where the result of pandas depends on the data rather than the dtypes, the
meta is fixed and each partition is cast to it: ``to_datetime`` of strings
gives ``datetime64[us]`` and ``to_numeric`` of strings gives ``float64``
unless ``meta=`` says otherwise.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": [1, None, 3]}), npartitions=2)
>>> df.fillna(0).astype("int32").x.compute().tolist()
[1, 0, 3]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.base import compute
from chunkwise.dataframe.core import (
    DataFrame,
    FrameBase,
    Scalar,
    Series,
    check_aligned,
    elemwise,
    new_collection,
)
from chunkwise.dataframe.expr import (
    UNKNOWN_CATEGORIES,
    FrameExpr,
    has_known_categories,
    infer_meta,
    is_frame_like,
    is_object_dtype,
    map_partitions_expr,
    normalize_meta,
)

__all__ = [
    "ROW_CHANGING_METHODS",
    "UNKNOWN_CATEGORIES",
    "MethodCaller",
    "apply",
    "assign",
    "astype",
    "call_method",
    "categorize",
    "drop",
    "dropna",
    "eval_frame",
    "fillna",
    "has_known_categories",
    "isin",
    "map_elements",
    "map_partitions",
    "map_values",
    "mask",
    "method_caller",
    "query",
    "rename",
    "replace",
    "reset_index",
    "series_apply",
    "set_columns",
    "to_datetime",
    "to_numeric",
    "where",
    "with_unknown_categories",
]



class MethodCaller:
    """``MethodCaller("fillna")(obj, *args, **kwargs)`` calls ``obj.fillna(*args, **kwargs)``.

    Picklable by value and tokenized by the method name, so plans stay deterministic.
    """

    __slots__ = ("method",)

    def __init__(self, method: str):
        self.method = method

    def __call__(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(obj, self.method)(*args, **kwargs)

    def __reduce__(self):
        return (MethodCaller, (self.method,))

    def __chunkwise_tokenize__(self) -> tuple:
        return ("MethodCaller", self.method)

    def __repr__(self) -> str:
        return f"MethodCaller({self.method!r})"

    @property
    def __name__(self) -> str:
        return self.method


def method_caller(name: str) -> MethodCaller:
    return MethodCaller(name)


#: Methods whose result may have other rows than their input.
ROW_CHANGING_METHODS = frozenset({"dropna", "query", "drop_duplicates", "head", "tail", "explode"})


def call_method(frame: Any, method: str, /, *args: Any, **kwargs: Any) -> Any:
    """``frame.<method>(*args, **kwargs)`` on every partition (collections in args aligned)."""
    return elemwise(MethodCaller(method), frame, *args, label=method,
                    keeps_rows=method not in ROW_CHANGING_METHODS, **kwargs)


# --- categoricals ---------------------------------------------------------------------------


def _unknown_dtype(dtype: pd.CategoricalDtype) -> pd.CategoricalDtype:
    return pd.CategoricalDtype([UNKNOWN_CATEGORIES], ordered=dtype.ordered)


def with_unknown_categories(meta: Any, columns: list | None = None) -> Any:
    """``meta`` with the categoricals among ``columns`` (default: all) marked unknown."""
    if isinstance(meta, pd.Series):
        if isinstance(meta.dtype, pd.CategoricalDtype):
            return meta.astype(_unknown_dtype(meta.dtype))
        return meta
    if isinstance(meta, pd.DataFrame):
        out = meta.copy()
        for col in columns if columns is not None else out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype(_unknown_dtype(out[col].dtype))
        return out
    return meta


def _unspecified_category(dtype: Any) -> bool:
    return (isinstance(dtype, str) and dtype == "category") or (
        isinstance(dtype, pd.CategoricalDtype) and dtype.categories is None
    )


def astype(frame: Any, dtype: Any) -> Any:
    """``astype`` per partition; ``"category"`` without categories gives unknown categories."""
    result = call_method(frame, "astype", dtype)
    if isinstance(dtype, dict):
        unknown = [k for k, v in dtype.items() if _unspecified_category(v)]
    else:
        unknown = None if _unspecified_category(dtype) else []
    if unknown == []:
        return result
    return _replace_meta(result, with_unknown_categories(result._meta, unknown))


def _replace_meta(collection: FrameBase, meta: Any) -> Any:
    expr = collection.expr
    if not isinstance(expr, FrameExpr) or type(expr).__name__ != "MapPartitions":
        return collection
    ops = list(expr.operands)
    ops[1] = meta
    return new_collection(type(expr)(*ops))


def _unique_values(partition: pd.Series) -> pd.Series:
    return pd.Series(partition.dropna().unique()).astype(partition.dtype if not isinstance(
        partition.dtype, pd.CategoricalDtype) else partition.dtype.categories.dtype)


def _categories_of(series: Series) -> list:
    """The sorted distinct non-null values of ``series`` (computes them)."""
    meta = series._meta
    inner = meta.dtype.categories.dtype if isinstance(meta.dtype, pd.CategoricalDtype) else meta.dtype
    expr = map_partitions_expr(_unique_values, series.expr, meta=pd.Series(dtype=inner),
                               label="unique-values", clear_divisions=True)
    return expr


def categorize(frame: Any, columns: Any = None, index: Any = None, **kwargs: Any) -> Any:
    """Make the categories of categorical and string columns known (computes them).

    ``columns``: the columns to convert (default: the string/object columns
    and the categoricals with unknown categories), as ``dask``'s ``categorize``.
    Categories are sorted as pandas' ``astype("category")`` sorts them.
    """
    meta = frame._meta
    if isinstance(frame, Series):
        cols = None
    else:
        if columns is None:
            columns = [
                c for c, dt in meta.dtypes.items()
                if is_object_dtype(dt) or isinstance(dt, pd.StringDtype)
                or (isinstance(dt, pd.CategoricalDtype) and UNKNOWN_CATEGORIES in dt.categories)
            ]
        elif not isinstance(columns, list):
            columns = [columns]
        missing = [c for c in columns if c not in meta.columns]
        if missing:
            raise KeyError(f"categorize: columns {missing} not found; the available columns are "
                           f"{list(meta.columns)}")
        cols = columns
    if cols == []:
        return frame
    targets = [frame] if cols is None else [frame[c] for c in cols]
    exprs = [_categories_of(s) for s in targets]
    uniques = compute(*[new_collection(e) for e in exprs])
    dtypes = []
    for series, values in zip(targets, uniques):
        ordered = isinstance(series.dtype, pd.CategoricalDtype) and series.dtype.ordered
        categories = pd.Categorical(values.unique()).categories
        dtypes.append(pd.CategoricalDtype(categories, ordered=ordered))
    if cols is None:
        return call_method(frame, "astype", dtypes[0])
    return call_method(frame, "astype", dict(zip(cols, dtypes)))


# --- values and missing data -------------------------------------------------------------------


def fillna(frame: Any, value: Any = None, **kwargs: Any) -> Any:
    """``fillna(value)`` per partition; ``method``/``limit`` would need neighbours and are refused."""
    if kwargs.get("method") is not None or kwargs.get("limit") is not None:
        raise NotImplementedError(
            "fillna: method= and limit= need rows of neighbouring partitions; use "
            "ffill()/bfill() on a frame with one partition, or fill with a value"
        )
    kwargs.pop("method", None)
    kwargs.pop("limit", None)
    return call_method(frame, "fillna", value, **kwargs)


def dropna(frame: Any, **kwargs: Any) -> Any:
    if kwargs.get("axis", 0) not in (0, "index"):
        raise NotImplementedError("dropna: only axis=0 (rows) works on partitioned data")
    return call_method(frame, "dropna", **kwargs)


def where(frame: Any, cond: Any, other: Any = np.nan) -> Any:
    return call_method(frame, "where", _callable_arg(frame, cond), _callable_arg(frame, other))


def mask(frame: Any, cond: Any, other: Any = np.nan) -> Any:
    return call_method(frame, "mask", _callable_arg(frame, cond), _callable_arg(frame, other))


def _callable_arg(frame: Any, arg: Any) -> Any:
    return arg(frame) if callable(arg) and not isinstance(arg, (FrameBase, Scalar)) else arg


def replace(frame: Any, to_replace: Any = None, value: Any = None, **kwargs: Any) -> Any:
    if value is None and not kwargs:
        return call_method(frame, "replace", to_replace)
    return call_method(frame, "replace", to_replace, value, **kwargs)


def isin(frame: Any, values: Any) -> Any:
    if isinstance(values, (FrameBase, Scalar)):
        raise NotImplementedError(
            "isin: the values must be in memory (a list, set or array); compute them first"
        )
    if isinstance(values, (set, frozenset, dict)) and not isinstance(frame, DataFrame):
        values = list(values)
    return call_method(frame, "isin", values)


# --- columns ------------------------------------------------------------------------------------


def assign_columns(partition: pd.DataFrame, names: list, *values: Any) -> pd.DataFrame:
    """``partition`` with ``names`` set to ``values`` (labels of any type, unlike ``assign``)."""
    out = partition.copy(deep=False)
    for name, value in zip(names, values):
        out[name] = value
    return out


assign_columns._projects_through = True  # type: ignore[attr-defined]  # see expr._project_assign


def assign(frame: DataFrame, columns: dict) -> DataFrame:
    """New or replaced columns (pandas' ``assign``): scalars, aligned Series, callables of the frame.

    A callable sees the frame with the columns before it assigned, as in pandas.
    """
    names: list = []
    values: list = []
    current = frame
    for name, value in columns.items():
        if callable(value) and not isinstance(value, (FrameBase, Scalar)):
            if names:
                current = elemwise(assign_columns, frame, names, *values, label="assign")
            value = value(current)
        if isinstance(value, DataFrame):
            raise TypeError(f"assign({name}=...): a column must be a Series or a scalar, "
                            "not a DataFrame")
        if isinstance(value, (list, np.ndarray, pd.Series, pd.Index)):
            raise TypeError(
                f"assign({name}=...): an in-memory {type(value).__name__} cannot be aligned "
                "with partitioned rows; use dd.from_pandas/from_array with the same divisions"
            )
        names.append(name)
        values.append(value)
    return elemwise(assign_columns, frame, names, *values, label="assign")


def query_partition(partition: pd.DataFrame, expr: str, **kwargs: Any) -> pd.DataFrame:
    return partition.query(expr, **kwargs)


def eval_partition(partition: pd.DataFrame, expr: str, **kwargs: Any) -> Any:
    return partition.eval(expr, **kwargs)


def query(frame: DataFrame, expr: str, **kwargs: Any) -> DataFrame:
    """Rows where the boolean expression is true (pandas' ``query``, per partition).

    Local variables (``@x``) must be passed as ``local_dict=``.
    """
    return elemwise(query_partition, frame, expr, label="query", keeps_rows=False, **kwargs)


def eval_frame(frame: DataFrame, expr: str, **kwargs: Any) -> Any:
    """pandas' ``eval`` per partition; ``inplace=True`` is refused (collections are immutable)."""
    if kwargs.get("inplace"):
        raise NotImplementedError("eval: inplace=True is not supported; use the returned frame")
    return elemwise(eval_partition, frame, expr, label="eval", **kwargs)


def rename(frame: Any, index: Any = None, columns: Any = None, errors: str = "ignore") -> Any:
    """Rename columns (a mapping or function) or, for a Series, its name.

    Renaming index labels with a mapping or function clears the divisions.
    ``errors="raise"``: a column missing from the mapping's keys is a
    ``KeyError`` at build time, as in pandas (index labels are not checked: they are spread
    over partitions).
    """
    if isinstance(frame, Series) and index is not None and not (
        callable(index) or isinstance(index, (dict, pd.Series))
    ):
        return call_method(frame, "rename", index)
    options = {k: v for k, v in (("index", index), ("columns", columns)) if v is not None}
    if errors != "ignore":
        if errors != "raise":
            raise ValueError(f"rename: errors must be 'ignore' or 'raise', got {errors!r}")
        if isinstance(columns, dict):
            missing = [c for c in columns if c not in frame._meta.columns]
            if missing:
                raise KeyError(f"rename(errors='raise'): {missing} not found in axis; the columns are "
                               f"{list(frame._meta.columns)}")
    result = call_method(frame, "rename", **options)
    if index is not None:
        return _clear_divisions(result)
    return result


def _clear_divisions(collection: Any) -> Any:
    expr = collection.expr
    ops = list(expr.operands)
    ops[3] = True  # MapPartitions' clear_divisions
    return new_collection(type(expr)(*ops))


def relabel_columns(partition: pd.DataFrame, columns: list) -> pd.DataFrame:
    return partition.set_axis(columns, axis=1)


def set_columns(frame: DataFrame, columns: Any) -> DataFrame:
    """The frame with its columns relabelled (``df.columns = [...]``)."""
    columns = list(columns)
    return elemwise(relabel_columns, frame, columns, label="set-columns")


def drop(frame: DataFrame, labels: Any = None, axis: Any = 0, columns: Any = None,
         errors: str = "raise") -> DataFrame:
    """Drop columns (``columns=`` or ``axis=1``); dropping rows by label is not supported."""
    if columns is None:
        if axis not in (1, "columns"):
            raise NotImplementedError(
                "drop: only columns can be dropped (columns=... or axis=1); select rows with "
                "a boolean filter, e.g. df[~df.index.isin(labels)]"
            )
        columns = labels
    return call_method(frame, "drop", columns=columns, errors=errors)


def reset_index(frame: Any, drop: bool = False) -> Any:
    """``reset_index`` per partition: the new index restarts at 0 in every partition (as in Dask)."""
    return _clear_divisions(call_method(frame, "reset_index", drop=drop))


# --- user functions -------------------------------------------------------------------------------


def _call_name(func: Any, template: str) -> str:
    return template.format(getattr(func, "__name__", repr(func)))


def map_partitions(func: Callable, *args: Any, meta: Any = None, enforce_metadata: bool = True,
                   clear_divisions: bool = False, **kwargs: Any) -> Any:
    """``func(partition, *args, **kwargs)`` on every partition (as ``dask``'s ``map_partitions``).

    Collections among ``args`` are aligned partition by partition (a Scalar is
    broadcast). ``meta`` describes the result (an empty pandas object, a dict
    of column dtypes, or a ``(name, dtype)`` tuple); without it, it is
    inferred by running ``func`` on a small sample. The divisions are kept
    unless ``clear_divisions=True`` (say so when ``func`` changes the index).
    """
    exprs = [a.expr if isinstance(a, (FrameBase, Scalar)) else a for a in args]
    kw_exprs = {k: v.expr if isinstance(v, (FrameBase, Scalar)) else v for k, v in kwargs.items()}
    if any(isinstance(v, FrameExpr) for v in kw_exprs.values()):
        raise TypeError("map_partitions: pass collections positionally, not as keywords")
    check_aligned(exprs, _call_name(func, "map_partitions({})"))
    if meta is None:
        meta = infer_meta(func, exprs, kw_exprs, _call_name(func, "map_partitions({})"))
    else:
        meta = normalize_meta(meta)
    if not is_frame_like(meta):
        raise ValueError(
            f"{_call_name(func, 'map_partitions({})')}: the function returns a "
            f"{type(meta).__name__} per partition, not a pandas object; return a Series or "
            "DataFrame (e.g. pd.Series([value])) or pass meta= describing one"
        )
    label = getattr(func, "__name__", "map-partitions")
    return new_collection(map_partitions_expr(
        func, *exprs, meta=meta, label=label, enforce=enforce_metadata,
        clear_divisions=clear_divisions, **kwargs))


def apply_rows(partition: pd.DataFrame, func: Callable, args: tuple, kwargs: dict) -> Any:
    return partition.apply(func, axis=1, args=args, **kwargs)


def apply(frame: DataFrame, func: Callable, axis: Any = 0, args: tuple = (), meta: Any = None,
          **kwargs: Any) -> Any:
    """``apply(func, axis=1)`` per partition; ``axis=0`` (whole columns) is refused."""
    if axis not in (1, "columns"):
        raise NotImplementedError(
            "apply: only axis=1 (a function of each row) works partition by partition; for "
            "whole columns use map_partitions or a reduction"
        )
    call = _call_name(func, "apply({}, axis=1)")
    if meta is None:
        meta = infer_meta(apply_rows, [frame.expr, func, args, kwargs], {}, call)
    else:
        meta = normalize_meta(meta)
    return new_collection(map_partitions_expr(apply_rows, frame.expr, func, args, kwargs,
                                              meta=meta, label="apply", enforce=True,
                                              keeps_rows=True))


def apply_values(partition: pd.Series, func: Callable, args: tuple, kwargs: dict) -> Any:
    return partition.apply(func, args=args, **kwargs)


def series_apply(series: Series, func: Callable, args: tuple = (), meta: Any = None,
                 **kwargs: Any) -> Any:
    """``Series.apply(func)`` per partition (meta inferred on a sample, or given)."""
    call = _call_name(func, "Series.apply({})")
    if meta is None:
        meta = infer_meta(apply_values, [series.expr, func, args, kwargs], {}, call)
    else:
        meta = normalize_meta(meta)
    return new_collection(map_partitions_expr(apply_values, series.expr, func, args, kwargs,
                                              meta=meta, label="apply", enforce=True,
                                              keeps_rows=True))


def map_series(partition: pd.Series, arg: Any, na_action: Any) -> pd.Series:
    return partition.map(arg, na_action=na_action)


def map_values(series: Series, arg: Any, na_action: Any = None, meta: Any = None) -> Series:
    """``Series.map`` per partition; a dict or Series gives its values' dtype, a function is sampled."""
    if isinstance(arg, (FrameBase, Scalar)):
        raise NotImplementedError("map: the mapping must be in memory (a dict, pandas Series or function)")
    if meta is not None:
        meta = normalize_meta(meta)
        if isinstance(meta, pd.Series):
            meta = meta.rename(series.name)
    elif isinstance(arg, (dict, pd.Series)):
        # values missing from the mapping become NaN: the dtype of the values with a NaN
        values = list(arg.values()) if isinstance(arg, dict) else arg.tolist()
        dtype = pd.Series([*values, np.nan]).dtype
        meta = pd.Series([], dtype=dtype, name=series.name, index=series._meta.index)
    else:
        meta = infer_meta(map_series, [series.expr, arg, na_action], {}, _call_name(arg, "map({})"))
    return new_collection(map_partitions_expr(map_series, series.expr, arg, na_action, meta=meta,
                                              label="map", enforce=True,
                                              keeps_rows=True))


def map_frame(partition: pd.DataFrame, func: Callable, na_action: Any) -> pd.DataFrame:
    return partition.map(func, na_action=na_action)


def map_elements(frame: DataFrame, func: Callable, na_action: Any = None, meta: Any = None) -> DataFrame:
    """``DataFrame.map`` (element by element) per partition."""
    if meta is None:
        meta = infer_meta(map_frame, [frame.expr, func, na_action], {}, _call_name(func, "map({})"))
    else:
        meta = normalize_meta(meta)
    return new_collection(map_partitions_expr(map_frame, frame.expr, func, na_action, meta=meta,
                                              label="map", enforce=True,
                                              keeps_rows=True))


# --- conversions ---------------------------------------------------------------------------------


def to_datetime_partition(partition: Any, dtype: Any, kwargs: dict) -> Any:
    fast = _integer_epochs(partition, dtype, kwargs)
    if fast is not None:
        return fast
    result = pd.to_datetime(partition, **kwargs)
    if (isinstance(result, pd.Series) and isinstance(dtype, pd.DatetimeTZDtype)
            and result.dtype.kind == "M" and result.dt.tz is None and result.isna().all()):
        # nothing parsed (an empty partition, all coerced): no zone to read, the meta's holds
        result = result.dt.tz_localize(dtype.tz)
    return result.astype(dtype) if result.dtype != dtype else result


def _integer_epochs(partition: Any, dtype: Any, kwargs: dict) -> pd.Series | None:
    """``pd.to_datetime(partition, unit=unit)`` of integers as one multiplication to
    ``dtype``'s unit (a third of pandas' time), when every value is within its range;
    ``None`` otherwise (other options, a coarser unit, a value pandas must refuse or turn
    into NaT): pandas then converts it, with its own errors."""
    if (not isinstance(partition, pd.Series) or set(kwargs) != {"unit"}
            or not isinstance(partition.dtype, np.dtype) or partition.dtype.kind not in "iu"
            or not isinstance(dtype, np.dtype) or dtype.kind != "M" or not len(partition)):
        return None
    unit = kwargs["unit"]
    if unit not in ("D", "h", "m", "s", "ms", "us", "ns"):
        return None
    target = np.datetime_data(dtype)[0]
    factor = np.timedelta64(1, unit) // np.timedelta64(1, target)
    if factor < 1 or np.timedelta64(factor, target) != np.timedelta64(1, unit):
        return None
    values = partition.to_numpy()
    limit = (2**63 - 1) // int(factor) - 1  # NaT is the least int64: no value may reach it
    if int(values.min()) < -limit or int(values.max()) > limit:
        return None
    ticks = values.astype(np.int64, copy=False) * np.int64(factor) if factor > 1 else values.astype(np.int64)
    return pd.Series(ticks.view(dtype), index=partition.index, name=partition.name, copy=False)


def to_datetime(arg: Any, meta: Any = None, **kwargs: Any) -> Any:
    """``pd.to_datetime`` per partition (as ``dask.dataframe.to_datetime``).

    pandas picks the resolution from the data; here each partition is cast to
    one dtype, by default that of a sample (``datetime64[us]`` for strings).
    Pass ``unit=`` or ``meta=`` to choose.
    """
    if not isinstance(arg, (Series, FrameBase)):
        return pd.to_datetime(arg, **kwargs)
    if meta is None:
        sample = _datetime_sample(arg._meta)
        fmt = kwargs.get("format")
        if isinstance(fmt, str) and ("%z" in fmt or "%Z" in fmt) and not kwargs.get("utc"):
            raise NotImplementedError(
                f"to_datetime: format={fmt!r} reads a time zone from the data, so the result's "
                "dtype is unknown until it runs; pass utc=True (times in UTC), or meta= with the "
                "dtype, e.g. meta=pd.Series(dtype='datetime64[us, UTC+01:00]')")
        try:
            # the dtype comes from format=/utc=, not from whether the built-in sample parses
            converted = pd.to_datetime(sample, **(
                {**kwargs, "errors": "coerce"} if fmt not in (None, "ISO8601", "mixed") else kwargs))
        except Exception as exc:
            raise type(exc)(f"to_datetime: {exc}") from exc
        meta = converted.iloc[:0]
        if isinstance(meta, pd.Series):
            meta.index = arg._meta.index
            if converted.isna().all() and meta.dtype.kind == "M" and meta.dt.unit == "s":
                # the sample did not parse (format=, errors="coerce"): pandas gives seconds for
                # all-NaT, but microseconds for the strings that do parse
                meta = meta.dt.as_unit("us")
    else:
        meta = normalize_meta(meta)
    dtype = meta.dtype
    return new_collection(map_partitions_expr(to_datetime_partition, arg.expr, dtype, kwargs,
                                              meta=meta, label="to_datetime",
                                              keeps_rows=True))


def _datetime_sample(meta: Any) -> Any:
    if isinstance(meta, pd.DataFrame):
        return pd.DataFrame({c: [2000, 1, 1][i % 3 : i % 3 + 1] * 2 for i, c in enumerate(meta.columns)})
    dtype = meta.dtype
    if is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        return pd.Series(["2000-01-01", "2000-01-02"], dtype=dtype, name=meta.name)
    return pd.Series(np.ones(2).astype(dtype) if not isinstance(dtype, pd.CategoricalDtype)
                     else ["2000-01-01"] * 2, name=meta.name)


def to_numeric_partition(partition: Any, dtype: Any, kwargs: dict) -> Any:
    result = pd.to_numeric(partition, **kwargs)
    return result.astype(dtype) if result.dtype != dtype else result


def to_numeric(arg: Any, errors: str = "raise", meta: Any = None, **kwargs: Any) -> Any:
    """``pd.to_numeric`` per partition; strings give ``float64`` unless ``meta=`` says otherwise."""
    if not isinstance(arg, Series):
        return pd.to_numeric(arg, errors=errors, **kwargs)
    kwargs["errors"] = errors
    if meta is not None:
        meta = normalize_meta(meta)
    else:
        dtype = arg.dtype
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            meta = pd.to_numeric(arg._meta, **kwargs)
        else:
            meta = pd.Series([], dtype="float64", name=arg.name, index=arg._meta.index)
    if isinstance(meta, pd.Series) and meta.name != arg.name:
        meta = meta.rename(arg.name)
    return new_collection(map_partitions_expr(to_numeric_partition, arg.expr, meta.dtype, kwargs,
                                              meta=meta, label="to_numeric",
                                              keeps_rows=True))
