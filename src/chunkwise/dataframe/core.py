"""The ``DataFrame``, ``Series``, ``Index`` and ``Scalar`` collections.

Each is a thin, immutable wrapper around a
:class:`~chunkwise.dataframe.expr.FrameExpr`: pandas objects split into row
partitions, computed lazily. Its metadata (``columns``, ``dtypes``,
``divisions``, ``npartitions``) is known without computing; every operation
computes the ``meta`` of its result when it is written, so a mistake fails at
once with pandas' own error type and the operation's name; ``.compute()``
returns a pandas object.

:func:`new_collection` picks the class from the expression's ``meta``.
Methods are defined in the class bodies; those implemented in other modules
(``methods``, ``indexing``, ``accessors``, ``repr``, ``io.pandas``) are
forwarded through :func:`_module`, which imports them lazily (no import
cycle: those modules import this one).

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> pdf = pd.DataFrame({"x": [1, 2, 3, 4], "y": [0.5, 1.5, 2.5, 3.5]})
>>> df = dd.from_pandas(pdf, npartitions=2)
>>> df.npartitions, df.divisions
(2, (0, 2, 3))
>>> (df.x + df.y)[df.x > 1].compute().tolist()
[3.5, 5.5, 7.5]
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.base import Collection
from chunkwise.dataframe.expr import (
    Filter,
    Finalize,
    FrameExpr,
    PersistedFrame,
    Projection,
    emulate,
    is_scalar_meta,
    map_partitions_expr,
    partition_length,
    total_rows,
)

__all__ = [
    "DataFrame",
    "ElementwiseOperators",
    "Reflected",
    "FrameBase",
    "NDFrame",
    "Index",
    "Scalar",
    "Series",
    "check_aligned",
    "elemwise",
    "index_result",
    "new_collection",
    "partition_lengths",
]


def _module(name: str) -> Any:
    return importlib.import_module(f"chunkwise.dataframe.{name}")


def new_collection(expr: FrameExpr) -> Any:
    """The collection matching ``expr.meta``: DataFrame, Series, Index or Scalar."""
    meta = expr.meta
    if isinstance(meta, pd.DataFrame):
        return DataFrame(expr)
    if isinstance(meta, pd.Series):
        return Series(expr)
    if isinstance(meta, pd.Index):
        return Index(expr)
    return Scalar(expr)


def _expr_of(arg: Any) -> Any:
    return arg.expr if isinstance(arg, Collection) and isinstance(arg.expr, FrameExpr) else arg


def check_aligned(frames: list, operation: str) -> None:
    """Refuse frames that are not partitioned alike (a ``ValueError`` naming ``operation``).

    Frames line up when their divisions are known and equal, or when they have
    the same number of partitions and some divisions are unknown.
    """
    frames = [f for f in frames if isinstance(f, FrameExpr) and not is_scalar_meta(f.meta)]
    if len(frames) < 2:
        return
    first = frames[0]
    for other in frames[1:]:
        if other.npartitions != first.npartitions:
            raise ValueError(
                f"{operation}: the operands have {first.npartitions} and {other.npartitions} "
                "partitions, so their rows cannot be matched partition by partition; "
                "repartition one like the other first (b.repartition(divisions=a.divisions))"
            )
        if first.known_divisions and other.known_divisions and first.divisions != other.divisions:
            raise ValueError(
                f"{operation}: the operands' divisions differ ({_short(first.divisions)} and "
                f"{_short(other.divisions)}); repartition one like the other first "
                "(b.repartition(divisions=a.divisions))"
            )


def _short(divisions: tuple) -> str:
    text = repr(divisions)
    return text if len(text) <= 60 else text[:57] + "..."


def elemwise(
    op: Callable, /, *args: Any, label: str | None = None, keeps_rows: bool = True, **kwargs: Any
) -> Any:
    """``op`` applied partition by partition to aligned frames, scalars and literals.

    ``keeps_rows=False`` when ``op`` may drop or add rows (known partition
    lengths then become unknown). The result's meta comes from running ``op``
    on samples of the inputs, and
    each partition's result is cast to it where pandas' dtype depends on the
    data (``s.where(cond)`` of integers is ``float64`` only where a value was
    replaced), so partitions agree.
    """
    label = label or getattr(op, "__name__", "elemwise")
    exprs = [_expr_of(a) for a in args]
    for arg in exprs:
        if isinstance(arg, (pd.DataFrame, pd.Series, pd.Index)):
            raise TypeError(
                f"{label}: an in-memory pandas {type(arg).__name__} cannot be aligned with "
                "partitioned data; convert it first with dd.from_pandas(...) or use a scalar"
            )
    check_aligned(exprs, label)
    meta = emulate(op, *exprs, operation=label, **kwargs)
    if isinstance(meta, np.ndarray):  # an operation on an Index: keep it an Index
        meta = pd.Index(meta)
        return new_collection(
            map_partitions_expr(
                index_result, op, *exprs, meta=meta, label=label, keeps_rows=keeps_rows, **kwargs
            )
        )
    return new_collection(
        map_partitions_expr(
            op, *exprs, meta=meta, label=label, enforce=True, keeps_rows=keeps_rows, **kwargs
        )
    )


def index_result(op: Callable, *args: Any, **kwargs: Any) -> pd.Index:
    """``op``'s result as an Index (pandas gives NumPy arrays for operations on an Index)."""
    return pd.Index(op(*args, **kwargs))


def partition_lengths(frame: FrameBase) -> list[int]:
    """The number of rows of each partition (computes them)."""
    expr = map_partitions_expr(
        partition_length, frame.expr, meta=pd.Series(dtype="int64"), label="len-partitions",
        clear_divisions=True,
    )
    return Series(expr).compute().tolist()


def _binary(op: Callable, name: str) -> Callable:
    def method(self: Any, other: Any) -> Any:
        return elemwise(op, self, other, label=name)

    def reflected(self: Any, other: Any) -> Any:
        return elemwise(_reflect(op), self, other, label="r" + name)

    method.__name__ = f"__{name}__"
    reflected.__name__ = f"__r{name}__"
    return method, reflected


class Reflected:
    """``Reflected(op)(a, b)`` is ``op(b, a)``: the reflected operator (``2 - s``), picklable."""

    __slots__ = ("op",)

    def __init__(self, op: Callable):
        self.op = op

    def __call__(self, a: Any, b: Any) -> Any:
        return self.op(b, a)

    def __reduce__(self):
        return (Reflected, (self.op,))

    def __chunkwise_tokenize__(self) -> tuple:
        return ("Reflected", self.op.__name__)

    @property
    def __name__(self) -> str:
        return "r" + self.op.__name__.strip("_")


def _reflect(op: Callable) -> Callable:
    return Reflected(op)


def _named_binary(name: str) -> Callable:
    """``s.add(other, fill_value=...)`` and the like: pandas' flexible binary method, per partition."""

    def method(self: Any, other: Any, **kwargs: Any) -> Any:
        return elemwise(_module("methods").method_caller(name), self, other, label=name, **kwargs)

    method.__name__ = name
    method.__doc__ = f"pandas' ``{name}`` partition by partition (the other operand aligned)."
    return method


class ElementwiseOperators:
    """Python's arithmetic, bitwise, comparison and unary operators, each an elementwise node.

    Shared by frames, series and scalars (``s + 1``, ``df.x > total``,
    ``-total``): ``elemwise`` aligns the operands and names the node. The
    collections stay hashable (an ``__eq__`` alone would make them not).
    """

    __add__, __radd__ = _binary(operator.add, "add")
    __sub__, __rsub__ = _binary(operator.sub, "sub")
    __mul__, __rmul__ = _binary(operator.mul, "mul")
    __truediv__, __rtruediv__ = _binary(operator.truediv, "truediv")
    __floordiv__, __rfloordiv__ = _binary(operator.floordiv, "floordiv")
    __mod__, __rmod__ = _binary(operator.mod, "mod")
    __pow__, __rpow__ = _binary(operator.pow, "pow")
    __and__, __rand__ = _binary(operator.and_, "and")
    __or__, __ror__ = _binary(operator.or_, "or")
    __xor__, __rxor__ = _binary(operator.xor, "xor")

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return elemwise(operator.eq, self, other, label="eq")

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return elemwise(operator.ne, self, other, label="ne")

    def __lt__(self, other: Any) -> Any:
        return elemwise(operator.lt, self, other, label="lt")

    def __le__(self, other: Any) -> Any:
        return elemwise(operator.le, self, other, label="le")

    def __gt__(self, other: Any) -> Any:
        return elemwise(operator.gt, self, other, label="gt")

    def __ge__(self, other: Any) -> Any:
        return elemwise(operator.ge, self, other, label="ge")

    def __neg__(self) -> Any:
        return elemwise(operator.neg, self, label="neg")

    def __pos__(self) -> Any:
        return elemwise(operator.pos, self, label="pos")

    def __invert__(self) -> Any:
        return elemwise(operator.invert, self, label="invert")

    def __abs__(self) -> Any:
        return elemwise(operator.abs, self, label="abs")

    __hash__ = object.__hash__


class FrameBase(ElementwiseOperators, Collection):
    """What DataFrame, Series and Index share: partitions, divisions, meta, operators."""

    __slots__ = ()
    __array_priority__ = 12  # beat NumPy arrays and pandas objects in mixed operations

    def __init__(self, expr: FrameExpr):
        if not isinstance(expr, FrameExpr):
            raise TypeError(f"{type(self).__name__} wraps a FrameExpr, got {type(expr).__name__}")
        super().__init__(expr)

    # --- collection protocol --------------------------------------------------------

    def _finalize(self) -> Finalize:
        return Finalize(self._expr)

    def _rebuild(self, expr: Any) -> Any:
        return new_collection(expr)

    def _persisted(self, expr: FrameExpr, data: dict) -> FrameExpr:
        return PersistedFrame(expr, data)

    def __reduce__(self):
        return (new_collection, (self._expr,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"chunkwise collections are immutable: cannot set {name!r} "
            "(use df.assign(...) or df[name] = ... for a column)"
        )

    # --- metadata ---------------------------------------------------------------------

    @property
    def _meta(self) -> Any:
        """An empty pandas object with the result's dtypes and names (dask's ``_meta``)."""
        return self._expr.meta

    @property
    def _meta_nonempty(self) -> Any:
        return _module("expr").meta_nonempty(self._expr.meta)

    @property
    def divisions(self) -> tuple:
        return self._expr.divisions

    @property
    def npartitions(self) -> int:
        return self._expr.npartitions

    @property
    def known_divisions(self) -> bool:
        return self._expr.known_divisions

    @property
    def _name(self) -> str:
        """The key name of the partitions (dask's ``_name``)."""
        return self._expr.name

    @property
    def ndim(self) -> int:
        return self._meta.ndim

    @property
    def shape(self) -> tuple:
        """``(rows,)`` or ``(rows, columns)``; rows is a lazy Scalar (computed on demand)."""
        rows = Scalar(total_rows(self._expr))
        return (rows,) if self.ndim == 1 else (rows, len(self._meta.columns))

    def __len__(self) -> int:
        return int(Scalar(total_rows(self._expr)).compute())

    def __iter__(self):
        """The values, computed one partition at a time."""
        for i in range(self.npartitions):
            yield from self.partitions[i].compute()

    @property
    def index(self) -> Index:
        """The index, partitioned like the frame."""
        return Index(map_partitions_expr(_get_index, self._expr, meta=self._meta.index,
                                         label="index"))

    @property
    def partitions(self) -> Any:
        """Select partitions: ``df.partitions[0]``, ``df.partitions[::2]``."""
        return _module("indexing").PartitionSelector(self)

    def __repr__(self) -> str:
        return _module("repr").frame_repr(self)

    def _repr_html_(self) -> str:
        return _module("repr").frame_repr_html(self)

    def __bool__(self) -> bool:
        raise ValueError(
            f"The truth value of a chunkwise {type(self).__name__} is ambiguous; "
            "use a.any() or a.all(), or compute first"
        )

    # --- NumPy protocols: ufuncs stay lazy, np.asarray computes ---------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs.get("out") is not None:
            return NotImplemented
        kwargs.pop("out", None)
        return elemwise(ufunc, *inputs, label=ufunc.__name__, **kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        result = np.asarray(self.compute())
        return result.astype(dtype) if dtype is not None and result.dtype != dtype else result

    # --- conversions -------------------------------------------------------------------

    def to_delayed(self, optimize_graph: bool = True) -> list:
        """One ``Delayed`` per partition; see :func:`chunkwise.dataframe.to_delayed`."""
        return _module("io.pandas").to_delayed(self, optimize_graph=optimize_graph)

    def to_dask_array(self, lengths: Any = None) -> Any:
        """A chunkwise Array of the values; see :func:`chunkwise.dataframe.io.pandas.to_dask_array`."""
        return _module("io.pandas").to_dask_array(self, lengths=lengths)

    @property
    def values(self) -> Any:
        """The values as a chunkwise Array (row chunk lengths unknown unless divisions say)."""
        return _module("io.pandas").to_dask_array(self)

    # --- per-partition work --------------------------------------------------------------

    def map_partitions(self, func: Callable, *args: Any, meta: Any = None, **kwargs: Any) -> Any:
        """``func(partition, *args, **kwargs)`` on every partition; see :func:`methods.map_partitions`."""
        return _module("methods").map_partitions(func, self, *args, meta=meta, **kwargs)

    def head(self, n: int = 5, npartitions: int = 1, compute: bool = True) -> Any:
        """The first ``n`` rows, reading only the partitions needed."""
        return _module("indexing").head(self, n, npartitions=npartitions, compute=compute)

    def tail(self, n: int = 5, compute: bool = True) -> Any:
        """The last ``n`` rows, from the last partition(s)."""
        return _module("indexing").tail(self, n, compute=compute)

    def repartition(self, divisions: Any = None, npartitions: int | None = None,
                    partition_size: Any = None) -> Any:
        """Other partitions for the same rows; see :func:`chunkwise.dataframe.indexing.repartition`."""
        return _module("indexing").repartition(self, divisions=divisions, npartitions=npartitions,
                                               partition_size=partition_size)

    def shuffle(self, on: Any = None, npartitions: int | None = None) -> Any:
        """Rows with equal ``on`` keys in one partition (a hash shuffle); see ``dataframe.shuffle``."""
        return _module("shuffle").shuffle(self, on, npartitions)

    @property
    def loc(self) -> Any:
        """Label-based selection; see :mod:`chunkwise.dataframe.indexing`."""
        return _module("indexing").LocIndexer(self)

    def astype(self, dtype: Any) -> Any:
        return _module("methods").astype(self, dtype)

    def fillna(self, value: Any = None, **kwargs: Any) -> Any:
        return _module("methods").fillna(self, value, **kwargs)

    def dropna(self, **kwargs: Any) -> Any:
        return _module("methods").dropna(self, **kwargs)

    def isna(self) -> Any:
        return _module("methods").call_method(self, "isna")

    def isnull(self) -> Any:
        return _module("methods").call_method(self, "isnull")

    def notna(self) -> Any:
        return _module("methods").call_method(self, "notna")

    def notnull(self) -> Any:
        return _module("methods").call_method(self, "notnull")

    def where(self, cond: Any, other: Any = np.nan) -> Any:
        return _module("methods").where(self, cond, other)

    def mask(self, cond: Any, other: Any = np.nan) -> Any:
        return _module("methods").mask(self, cond, other)

    def clip(self, lower: Any = None, upper: Any = None, **kwargs: Any) -> Any:
        return _module("methods").call_method(self, "clip", lower=lower, upper=upper, **kwargs)

    def replace(self, to_replace: Any = None, value: Any = None, **kwargs: Any) -> Any:
        return _module("methods").replace(self, to_replace, value, **kwargs)

    def abs(self) -> Any:
        return _module("methods").call_method(self, "abs")

    def round(self, decimals: int = 0) -> Any:
        return _module("methods").call_method(self, "round", decimals)

    def isin(self, values: Any) -> Any:
        return _module("methods").isin(self, values)

    def reset_index(self, drop: bool = False) -> Any:
        return _module("methods").reset_index(self, drop=drop)

    def copy(self, deep: bool = False) -> Any:
        """The same collection (collections are immutable; nothing is copied)."""
        return new_collection(self._expr)

    # --- operators ------------------------------------------------------------------------


    add = _named_binary("add")
    sub = _named_binary("sub")
    mul = _named_binary("mul")
    div = _named_binary("div")
    truediv = _named_binary("truediv")
    floordiv = _named_binary("floordiv")
    mod = _named_binary("mod")
    pow = _named_binary("pow")
    radd = _named_binary("radd")
    rsub = _named_binary("rsub")
    rmul = _named_binary("rmul")
    rdiv = _named_binary("rdiv")
    rtruediv = _named_binary("rtruediv")
    rfloordiv = _named_binary("rfloordiv")
    rmod = _named_binary("rmod")
    rpow = _named_binary("rpow")
    eq = _named_binary("eq")
    ne = _named_binary("ne")
    lt = _named_binary("lt")
    le = _named_binary("le")
    gt = _named_binary("gt")
    ge = _named_binary("ge")


def _mask_frame(frame: pd.DataFrame, mask: pd.DataFrame) -> pd.DataFrame:
    return frame[mask]


def _get_index(partition: Any) -> pd.Index:
    return partition.index


def _get_column(frame: FrameBase, key: Hashable) -> Series:
    columns = frame._meta.columns
    if key not in columns:
        raise KeyError(
            f"column {key!r} not found; the available columns are {list(columns)}"
        )
    return Series(Projection(frame.expr, key))


class NDFrame(FrameBase):
    """What DataFrame and Series share beyond FrameBase: the reductions both forward alike."""

    # --- sorting and deduplication: chunkwise.dataframe.sorting ---

    def sort_values(self, by: Any = None, ascending: Any = True, na_position: str = "last",
                    npartitions: int | None = None) -> Any:
        """Sorted rows (a range shuffle on sampled splitters); see ``dataframe.sorting``."""
        return _module("sorting").sort_values(self, by, ascending, na_position, npartitions)

    def nlargest(self, n: int = 5, columns: Any = None, keep: str = "first",
                 split_every: Any = None) -> Any:
        """The ``n`` largest rows (as pandas), by a tree reduction."""
        return _module("row_selection").nlargest(self, n, columns, keep, split_every)

    def nsmallest(self, n: int = 5, columns: Any = None, keep: str = "first",
                  split_every: Any = None) -> Any:
        """The ``n`` smallest rows (as pandas), by a tree reduction."""
        return _module("row_selection").nsmallest(self, n, columns, keep, split_every)

    def drop_duplicates(self, subset: Any = None, keep: Any = "first", split_out: Any = None,
                        ignore_index: bool = False, split_every: Any = None) -> Any:
        """Rows without duplicates, as pandas; a tree or a shuffle (see ``dataframe.sorting``)."""
        return _module("row_selection").drop_duplicates(self, subset, keep, split_out, ignore_index,
                                                  split_every)

    # --- reductions: chunkwise.dataframe.reductions ---

    def sum(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
            min_count: int = 0, split_every: Any = None) -> Any:
        """Sum, as pandas' (a tree reduction; ``axis=1`` per row)."""
        return _module("reductions").sum(self, axis, skipna, numeric_only, min_count, split_every)

    def prod(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
             min_count: int = 0, split_every: Any = None) -> Any:
        return _module("reductions").prod(self, axis, skipna, numeric_only, min_count, split_every)

    product = prod

    def min(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
            split_every: Any = None) -> Any:
        return _module("reductions").min(self, axis, skipna, numeric_only, split_every)

    def max(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
            split_every: Any = None) -> Any:
        return _module("reductions").max(self, axis, skipna, numeric_only, split_every)

    def count(self, axis: Any = None, numeric_only: bool = False, split_every: Any = None) -> Any:
        return _module("reductions").count(self, axis, numeric_only, split_every)

    def any(self, axis: Any = None, skipna: bool = True, split_every: Any = None) -> Any:
        return _module("reductions").any(self, axis, skipna, split_every)

    def all(self, axis: Any = None, skipna: bool = True, split_every: Any = None) -> Any:
        return _module("reductions").all(self, axis, skipna, split_every)

    def mean(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
             split_every: Any = None) -> Any:
        return _module("reductions").mean(self, axis, skipna, numeric_only, split_every)

    def var(self, axis: Any = None, skipna: bool = True, ddof: int = 1,
            numeric_only: bool = False, split_every: Any = None) -> Any:
        return _module("reductions").var(self, axis, skipna, ddof, numeric_only, split_every)

    def std(self, axis: Any = None, skipna: bool = True, ddof: int = 1,
            numeric_only: bool = False, split_every: Any = None) -> Any:
        return _module("reductions").std(self, axis, skipna, ddof, numeric_only, split_every)

    @property
    def size(self) -> Any:
        """Number of elements (a lazy Scalar), as pandas' ``size``."""
        return _module("reductions").size(self)

    def nunique(self, axis: Any = None, dropna: bool = True, split_every: Any = None,
                split_out: Any = None) -> Any:
        """Distinct values, as pandas' ``nunique``; ``split_out=k``: through a hash shuffle."""
        return _module("reductions").nunique(self, axis, dropna, split_every, split_out)

    def nunique_approx(self, split_every: Any = None) -> Any:
        """Approximate distinct count by HyperLogLog (about 1% relative error)."""
        return _module("reductions").nunique_approx(self, split_every)

    def idxmin(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
               split_every: Any = None) -> Any:
        return _module("reductions").idxmin(self, axis, skipna, numeric_only, split_every)

    def idxmax(self, axis: Any = None, skipna: bool = True, numeric_only: bool = False,
               split_every: Any = None) -> Any:
        return _module("reductions").idxmax(self, axis, skipna, numeric_only, split_every)

    def mode(self, dropna: bool = True, split_every: Any = None) -> Any:
        return _module("reductions").mode(self, dropna, split_every)

    def memory_usage(self, index: bool = True, deep: bool = False,
                     split_every: Any = None) -> Any:
        return _module("reductions").memory_usage(self, index, deep, split_every)

    def describe(self, percentiles: Any = None, include: Any = None, exclude: Any = None,
                 split_every: Any = None) -> Any:
        """Summary statistics, as pandas' ``describe`` (percentiles approximate)."""
        return _module("reductions").describe(self, percentiles, split_every, include=include,
                                              exclude=exclude)

    def quantile(self, q: Any = 0.5, numeric_only: bool = False, split_every: Any = None) -> Any:
        """Approximate quantiles (exact for small partitions); see ``reductions``."""
        return _module("reductions").quantile(self, q, numeric_only, split_every)

    # --- time series: chunkwise.dataframe.timeseries ---

    def rolling(self, window: Any, min_periods: int | None = None, center: bool = False) -> Any:
        """A lazy ``Rolling`` across partition boundaries; see ``chunkwise.dataframe.timeseries``."""
        return _module("timeseries").Rolling(self, window, min_periods=min_periods, center=center)

    def resample(self, rule: Any, closed: str | None = None, label: str | None = None) -> Any:
        """A lazy ``Resampler`` on a sorted datetime index; see ``chunkwise.dataframe.resample``."""
        return _module("resample").Resampler(self, rule, closed=closed, label=label)

    def shift(self, periods: int = 1, freq: Any = None) -> Any:
        """pandas' ``shift``: rows move across partition boundaries (or the index moves by ``freq``)."""
        return _module("timeseries").shift(self, periods, freq=freq)

    def diff(self, periods: int = 1) -> Any:
        """pandas' ``diff`` across partition boundaries."""
        return _module("timeseries").diff(self, periods)

    def pct_change(self, periods: int = 1) -> Any:
        """pandas' ``pct_change`` across partition boundaries."""
        return _module("timeseries").pct_change(self, periods)

    def cumsum(self, skipna: bool = True) -> Any:
        """pandas' ``cumsum``: each partition's sums plus a carry from the partitions before it."""
        return _module("timeseries").cumulative(self, "sum", skipna=skipna)

    def cumprod(self, skipna: bool = True) -> Any:
        """pandas' ``cumprod`` with a carry across partitions."""
        return _module("timeseries").cumulative(self, "prod", skipna=skipna)

    def cummax(self, skipna: bool = True) -> Any:
        """pandas' ``cummax`` with a carry across partitions."""
        return _module("timeseries").cumulative(self, "max", skipna=skipna)

    def cummin(self, skipna: bool = True) -> Any:
        """pandas' ``cummin`` with a carry across partitions."""
        return _module("timeseries").cumulative(self, "min", skipna=skipna)


class DataFrame(NDFrame):
    """A lazy pandas DataFrame split into row partitions; see the module docstring."""

    __slots__ = ()

    @property
    def columns(self) -> pd.Index:
        return self._meta.columns

    @property
    def dtypes(self) -> pd.Series:
        return self._meta.dtypes

    def __getitem__(self, key: Any) -> Any:
        """A column (a Series), a list of columns (a DataFrame), or the rows where a boolean Series is true."""
        if isinstance(key, (Series, Index)):
            if key._meta.dtype != bool and str(key._meta.dtype) != "boolean":
                raise KeyError(
                    f"df[series]: the series must be boolean to filter rows, got dtype "
                    f"{key._meta.dtype}; compare it first (df[df.x > 0])"
                )
            check_aligned([self.expr, key.expr], "df[boolean series]")
            return new_collection(Filter(self.expr, key.expr))
        if callable(key) and not isinstance(key, FrameBase):
            return self[key(self)]
        if isinstance(key, DataFrame):  # df[df > 0]: a boolean frame masks values, as pandas
            return elemwise(_mask_frame, self, key, label="getitem-mask")
        if isinstance(key, FrameBase):
            raise TypeError(
                f"df[...]: cannot index a DataFrame with a {type(key).__name__}; "
                "use a boolean Series or a list of columns"
            )
        if isinstance(key, slice):
            return _module("indexing").LocIndexer(self)[key]
        if isinstance(key, (list, pd.Index, np.ndarray, tuple)) and not (
            isinstance(key, tuple) and key in self._meta.columns
        ):
            key = list(key)
            missing = [k for k in key if k not in self._meta.columns]
            if missing:
                raise KeyError(
                    f"columns {missing} not found; the available columns are "
                    f"{list(self._meta.columns)}"
                )
            return DataFrame(Projection(self.expr, key))
        return _get_column(self, key)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "columns":  # df.columns = [...], as pandas
            object.__setattr__(self, "_expr", _module("methods").set_columns(self, value).expr)
            return
        super().__setattr__(name, value)

    def select_dtypes(self, include: Any = None, exclude: Any = None) -> DataFrame:
        """The columns of the given dtypes (from meta; nothing is computed)."""
        selected = self._meta.select_dtypes(include=include, exclude=exclude)
        return self[list(selected.columns)]

    def pipe(self, func: Callable, *args: Any, **kwargs: Any) -> Any:
        """``func(self, *args, **kwargs)``."""
        return func(self, *args, **kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``df[key] = value``: the plan is swapped for one with the column assigned (as Dask)."""
        if isinstance(key, list):
            if isinstance(value, DataFrame):
                if len(value.columns) != len(key):
                    raise ValueError(
                        f"df[{key!r}] = frame: {len(key)} columns to set from a frame with "
                        f"{len(value.columns)} columns"
                    )
                values = [value[c] for c in value.columns]
            else:
                values = [value] * len(key)
            columns = dict(zip(key, values))
        else:
            columns = {key: value}
        new = _module("methods").assign(self, columns)
        object.__setattr__(self, "_expr", new.expr)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        try:
            columns = self._meta.columns
        except AttributeError:
            raise AttributeError(attr) from None
        if attr in columns:
            return _get_column(self, attr)
        raise AttributeError(f"'DataFrame' object has no attribute {attr!r}")

    def __dir__(self) -> list:
        names = set(dir(type(self)))
        names.update(c for c in self._meta.columns if isinstance(c, str) and c.isidentifier())
        return sorted(names)

    def __iter__(self):
        return iter(self._meta.columns)

    def __contains__(self, key: Any) -> bool:
        return key in self._meta.columns

    def keys(self) -> pd.Index:
        return self._meta.columns

    def items(self):
        """``(column, Series)`` pairs (lazy Series; nothing is computed)."""
        for column in self._meta.columns:
            yield column, self[column]

    @property
    def iloc(self) -> Any:
        """``df.iloc[:, columns]`` (column positions only, as in dask)."""
        return _module("indexing").ILocIndexer(self)

    def assign(self, **columns: Any) -> DataFrame:
        """New columns from scalars, aligned Series or callables of the frame (pandas' ``assign``)."""
        return _module("methods").assign(self, columns)

    def query(self, expr: str, **kwargs: Any) -> DataFrame:
        return _module("methods").query(self, expr, **kwargs)

    def eval(self, expr: str, **kwargs: Any) -> Any:
        return _module("methods").eval_frame(self, expr, **kwargs)

    def rename(self, index: Any = None, columns: Any = None, errors: str = "ignore") -> DataFrame:
        return _module("methods").rename(self, index=index, columns=columns, errors=errors)

    def drop(self, labels: Any = None, axis: int = 0, columns: Any = None, errors: str = "raise") -> DataFrame:
        return _module("methods").drop(self, labels=labels, axis=axis, columns=columns, errors=errors)

    def apply(self, func: Callable, axis: int = 0, args: tuple = (), meta: Any = None, **kwargs: Any) -> Any:
        return _module("methods").apply(self, func, axis=axis, args=args, meta=meta, **kwargs)

    def map(self, func: Callable, na_action: Any = None, meta: Any = None) -> DataFrame:
        return _module("methods").map_elements(self, func, na_action=na_action, meta=meta)

    def categorize(self, columns: Any = None, **kwargs: Any) -> DataFrame:
        return _module("methods").categorize(self, columns=columns, **kwargs)

    # --- reductions: chunkwise.dataframe.reductions ---


    def cov(self, min_periods: Any = None, ddof: int = 1, numeric_only: bool = False,
            split_every: Any = None) -> Any:
        return _module("reductions").cov(self, None, min_periods, ddof, numeric_only,
                                         split_every)

    def corr(self, method: str = "pearson", min_periods: Any = None, numeric_only: bool = False,
             split_every: Any = None) -> Any:
        return _module("reductions").corr(self, None, method, min_periods, numeric_only,
                                          split_every)

    def value_counts(self, subset: Any = None, normalize: bool = False, sort: bool = True,
                     ascending: bool = False, dropna: bool = True,
                     split_every: Any = None, split_out: Any = None) -> Any:
        """Count of each distinct row, as pandas' ``DataFrame.value_counts``;
        ``split_out=k``: ``k`` partitions through a hash shuffle."""
        frame = self if subset is None else self[list(subset)]
        return _module("reductions").value_counts(frame, sort, ascending, normalize, dropna,
                                                  split_every, split_out)

    def set_index(self, other: Any, drop: bool = True, sorted: bool = False,
                  divisions: Any = None, npartitions: int | None = None) -> Any:
        """The column as the index, with known divisions; see ``dataframe.sorting.set_index``."""
        return _module("sorting").set_index(self, other, drop, sorted, divisions, npartitions)

    def groupby(self, by: Any = None, level: Any = None, sort: bool = True, dropna: bool = True,
                observed: bool = True, split_every: Any = None, split_out: Any = None,
                as_index: bool = True) -> Any:
        """A lazy ``DataFrameGroupBy`` (tree reductions, or a shuffle for many groups;
        see ``chunkwise.dataframe.groupby`` and ``groupby_shuffle``)."""
        return _module("groupby").groupby(self, by, level, sort, dropna, observed, split_every,
                                          split_out, as_index=as_index)

    # --- joins: chunkwise.dataframe.joins ---

    def merge(self, right: Any, how: str = "inner", on: Any = None, left_on: Any = None,
              right_on: Any = None, left_index: bool = False, right_index: bool = False,
              suffixes: tuple = ("_x", "_y"), indicator: bool = False,
              npartitions: int | None = None, broadcast: bool | None = None) -> DataFrame:
        """pandas' ``merge``, with a strategy chosen from metadata; see ``chunkwise.dataframe.joins``."""
        return _module("joins").merge(self, right, how=how, on=on, left_on=left_on, right_on=right_on,
                                      left_index=left_index, right_index=right_index,
                                      suffixes=suffixes, indicator=indicator,
                                      npartitions=npartitions, broadcast=broadcast)

    def join(self, other: Any, on: Any = None, how: str = "left", lsuffix: str | None = None,
             rsuffix: str | None = None, suffixes: tuple | None = None, npartitions: int | None = None,
             broadcast: bool | None = None) -> DataFrame:
        """pandas' ``join`` on the index (or ``on`` columns); see ``chunkwise.dataframe.joins``."""
        return _module("joins").join(self, other, on=on, how=how, lsuffix=lsuffix, rsuffix=rsuffix,
                                     suffixes=suffixes, npartitions=npartitions, broadcast=broadcast)

    # --- io: chunkwise.dataframe.io ---

    def to_parquet(self, path: Any, **kwargs: Any) -> Any:
        """Write a Parquet dataset, one file per partition; see ``chunkwise.dataframe.to_parquet``."""
        return _module("io.parquet").to_parquet(self, path, **kwargs)

    def to_csv(self, path: Any, **kwargs: Any) -> Any:
        """Write CSV files, one per partition (or ``single_file=True``); see ``dd.to_csv``."""
        return _module("io.csv").to_csv(self, path, **kwargs)

    def to_json(self, path: Any, **kwargs: Any) -> Any:
        """Write JSON-lines files, one per partition; see ``dd.to_json``."""
        return _module("io.json").to_json(self, path, **kwargs)


class Series(NDFrame):
    """A lazy pandas Series split into row partitions."""

    __slots__ = ()

    @property
    def name(self) -> Hashable:  # type: ignore[override]
        return self._meta.name

    @property
    def dtype(self) -> Any:
        return self._meta.dtype

    @property
    def dtypes(self) -> Any:
        return self._meta.dtype

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, (Series, Index)):
            check_aligned([self.expr, key.expr], "series[boolean series]")
            return new_collection(Filter(self.expr, key.expr))
        return _module("indexing").LocIndexer(self)[key]

    def map(self, arg: Any, na_action: Any = None, meta: Any = None) -> Series:
        return _module("methods").map_values(self, arg, na_action=na_action, meta=meta)

    def apply(self, func: Callable, args: tuple = (), meta: Any = None, **kwargs: Any) -> Series:
        return _module("methods").series_apply(self, func, args=args, meta=meta, **kwargs)

    def rename(self, index: Any = None) -> Series:
        return _module("methods").rename(self, index=index)

    def to_frame(self, name: Any = None) -> DataFrame:
        return _module("methods").call_method(self, "to_frame", **({} if name is None else {"name": name}))

    def between(self, left: Any, right: Any, inclusive: str = "both") -> Series:
        return _module("methods").call_method(self, "between", left, right, inclusive=inclusive)

    def categorize(self, **kwargs: Any) -> Series:
        """This Series as a categorical with known categories (computes them)."""
        return _module("methods").categorize(self, **kwargs)

    @property
    def str(self) -> Any:
        return _module("accessors").StringAccessor(self)

    @property
    def dt(self) -> Any:
        return _module("accessors").DatetimeAccessor(self)

    @property
    def cat(self) -> Any:
        return _module("accessors").CategoricalAccessor(self)

    # --- reductions: chunkwise.dataframe.reductions ---


    def cov(self, other: Any, min_periods: Any = None, ddof: int = 1,
            split_every: Any = None) -> Any:
        return _module("reductions").cov(self, other, min_periods, ddof, False, split_every)

    def corr(self, other: Any, method: str = "pearson", min_periods: Any = None,
             split_every: Any = None) -> Any:
        return _module("reductions").corr(self, other, method, min_periods, False, split_every)

    def value_counts(self, normalize: bool = False, sort: bool = True, ascending: bool = False,
                     dropna: bool = True, split_every: Any = None, split_out: Any = None) -> Any:
        """Count of each value, as pandas' ``Series.value_counts``; ``split_out=k``:
        ``k`` partitions through a hash shuffle."""
        return _module("reductions").value_counts(self, sort, ascending, normalize, dropna,
                                                  split_every, split_out)

    def groupby(self, by: Any = None, level: Any = None, sort: bool = True, dropna: bool = True,
                observed: bool = True, split_every: Any = None, split_out: Any = None) -> Any:
        """A lazy ``SeriesGroupBy`` of this (named) Series."""
        if self.name is None:
            raise ValueError("Series.groupby: the Series needs a name; use .rename('name') first")
        frame = self.to_frame()
        return _module("groupby").groupby(frame, by, level, sort, dropna, observed,
                                          split_every, split_out)[self.name]


class Index(FrameBase):
    """A lazy pandas Index split like the frame it came from."""

    __slots__ = ()

    @property
    def name(self) -> Hashable:  # type: ignore[override]
        return self._meta.name

    @property
    def dtype(self) -> Any:
        return self._meta.dtype

    @property
    def index(self) -> Index:
        raise AttributeError("'Index' object has no attribute 'index'")

    def to_series(self, index: Any = None, name: Any = None) -> Series:
        """The index values as a Series indexed by themselves (per partition)."""
        return _module("methods").call_method(self, "to_series", index=index, name=name)

    def to_frame(self, index: bool = True, name: Any = None) -> DataFrame:
        kwargs = {} if name is None else {"name": name}
        return _module("methods").call_method(self, "to_frame", index=index, **kwargs)

    # --- reductions: chunkwise.dataframe.reductions ---

    def min(self, skipna: bool = True, split_every: Any = None) -> Any:
        """Smallest label (a lazy Scalar), as pandas' ``Index.min``."""
        return _module("reductions").min(self, None, skipna, False, split_every)

    def max(self, skipna: bool = True, split_every: Any = None) -> Any:
        """Largest label (a lazy Scalar), as pandas' ``Index.max``."""
        return _module("reductions").max(self, None, skipna, False, split_every)


class Scalar(ElementwiseOperators, Collection):
    """A lazy scalar (``df.x.sum()``): one partition whose meta is a NumPy or pandas scalar."""

    __slots__ = ()

    def __init__(self, expr: FrameExpr):
        if not isinstance(expr, FrameExpr):
            raise TypeError(f"Scalar wraps a FrameExpr, got {type(expr).__name__}")
        super().__init__(expr)

    def _finalize(self) -> Finalize:
        return Finalize(self._expr)

    def _rebuild(self, expr: Any) -> Any:
        return new_collection(expr)

    def _persisted(self, expr: FrameExpr, data: dict) -> FrameExpr:
        return PersistedFrame(expr, data)

    def __reduce__(self):
        return (new_collection, (self._expr,))

    @property
    def _meta(self) -> Any:
        return self._expr.meta

    @property
    def dtype(self) -> Any:
        return getattr(self._meta, "dtype", np.dtype(type(self._meta)))

    def __repr__(self) -> str:
        return f"chunkwise.dataframe.Scalar<{self._expr._funcname}, dtype={self.dtype}>"

    def __bool__(self) -> bool:
        return bool(self.compute())

    def __int__(self) -> int:
        return int(self.compute())

    def __float__(self) -> float:
        return float(self.compute())
