"""Bridges between chunkwise dataframes and in-memory objects: pandas, arrays, delayed values.

- :func:`from_pandas` splits a pandas object into row partitions. With
  ``sort=True`` (the default) the index is sorted first and the partitions
  are cut so that equal index values never span two partitions: the divisions
  are then known, and label lookups read only the partitions they need.
- :func:`from_array` makes a Series (1-d) or DataFrame (2-d) with one
  partition per row chunk of a chunkwise (or NumPy) array; the index counts
  rows across partitions, so the divisions are known when the chunk lengths are.
- :func:`to_dask_array` (``.values``) goes back: one row chunk per partition;
  the chunk lengths are known when the plan knows the partitions' lengths
  (``FrameExpr.lengths``: ``from_pandas`` and ``from_array``, then any work that
  keeps every row -- arithmetic, methods, accessors -- but not filters), or
  computed with ``lengths=True``.
- :func:`from_delayed`, :func:`from_map` and :func:`from_futures` build a frame from
  values computed elsewhere, one partition each; :func:`to_delayed` hands out
  the partitions as ``Delayed`` values.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.array.core import Array
from chunkwise.array.core import from_array as array_from_array
from chunkwise.array.expr import ArrayExpr
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task
from chunkwise.core.tokenize import tokenize
from chunkwise.dataframe.core import FrameBase, new_collection, partition_lengths
from chunkwise.dataframe.expr import (
    FrameExpr,
    FromPandas,
    is_frame_like,
    normalize_meta,
)

__all__ = [
    "FrameToArray",
    "FromArrayBlocks",
    "FromValues",
    "from_array",
    "from_delayed",
    "from_dict",
    "from_futures",
    "from_map",
    "from_pandas",
    "sorted_division_locations",
    "to_dask_array",
    "to_delayed",
]


def sorted_division_locations(index: pd.Index, chunksize: int) -> tuple[list, list]:
    """Row positions cutting a sorted ``index`` into runs of about ``chunksize``, and the divisions.

    A cut never splits a run of equal values: it moves back to the run's start,
    or past its end when the run started the partition.

    >>> sorted_division_locations(pd.Index([1, 1, 1, 2, 3, 3, 4]), 2)
    ([1, 2, 3, 4, 4], [0, 3, 4, 6, 7])
    """
    n = len(index)
    locations = [0]
    position = chunksize
    while position < n:
        value = index[position]
        left = int(index.searchsorted(value, side="left"))
        cut = left if left > locations[-1] else int(index.searchsorted(value, side="right"))
        if cut >= n:
            break
        locations.append(cut)
        position = cut + chunksize
    locations.append(n)
    divisions = index.take(locations[:-1]).tolist() + [index[n - 1]]
    divisions = [d.item() if hasattr(d, "item") and not isinstance(d, pd.Timestamp) else d
                 for d in divisions]
    return divisions, locations


def _orderable(index: pd.Index) -> bool:
    """Whether the divisions of ``index`` can be known: no nulls, values comparable with ``<``.

    A MultiIndex or an unordered categorical index is split by position and
    its divisions are left unknown.
    """
    if isinstance(index, pd.MultiIndex):
        return False
    if isinstance(index.dtype, pd.CategoricalDtype):
        return False
    return not index.hasnans


def from_pandas(
    data: pd.DataFrame | pd.Series,
    npartitions: int | None = None,
    chunksize: int | None = None,
    sort: bool = True,
) -> Any:
    """A chunkwise DataFrame or Series split from a pandas one (as ``dask.dataframe.from_pandas``).

    ``npartitions`` (default 1 when neither is given) or ``chunksize`` (rows
    per partition) sets the split; with ``sort=True`` the index is sorted and
    the divisions are known (there may be fewer partitions than asked, since
    equal index values stay together); ``sort=False`` keeps the row order and
    leaves the divisions unknown, as do a MultiIndex, a categorical index and
    an index with nulls.

    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_pandas(pd.DataFrame({"x": range(10)}), chunksize=4)
    >>> df.divisions
    (0, 4, 8, 9)
    """
    if isinstance(data, pd.Index):
        data = data.to_series()
    if not isinstance(data, (pd.DataFrame, pd.Series)):
        raise TypeError(
            f"from_pandas: expected a pandas DataFrame or Series, got {type(data).__name__}; "
            "use from_array for arrays and from_dict for dicts"
        )
    if npartitions is not None and chunksize is not None:
        raise ValueError("from_pandas: give npartitions= or chunksize=, not both")
    if npartitions is None and chunksize is None:
        npartitions = 1
    if npartitions is not None and (not isinstance(npartitions, int) or npartitions < 1):
        raise ValueError(f"from_pandas: npartitions must be a positive integer, got {npartitions!r}")
    if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
        raise ValueError(f"from_pandas: chunksize must be a positive integer, got {chunksize!r}")
    nrows = len(data)
    if sort and not data.index.is_monotonic_increasing:
        data = data.sort_index()
    if nrows == 0:
        return new_collection(FromPandas(data, (None, None), (0, 0)))
    if chunksize is None:
        chunksize = math.ceil(nrows / npartitions)
    if sort and _orderable(data.index):
        divisions, locations = sorted_division_locations(data.index, chunksize)
    else:
        locations = [*range(0, nrows, chunksize), nrows]
        divisions = [None] * len(locations)
    return new_collection(FromPandas(data, tuple(divisions), tuple(locations)))


def from_dict(
    data: dict,
    npartitions: int | None = None,
    orient: str = "columns",
    dtype: Any = None,
    columns: Any = None,
    chunksize: int | None = None,
    sort: bool = True,
) -> Any:
    """A DataFrame from a dict of columns (``pd.DataFrame.from_dict``), split as :func:`from_pandas`.

    >>> import chunkwise.dataframe as dd
    >>> dd.from_dict({"a": [1, 2, 3]}, npartitions=2).a.compute().tolist()
    [1, 2, 3]
    """
    frame = pd.DataFrame.from_dict(data, orient=orient, dtype=dtype, columns=columns)
    return from_pandas(frame, npartitions=npartitions, chunksize=chunksize, sort=sort)


# --- arrays ----------------------------------------------------------------------------------


def array_block_to_frame(block: np.ndarray, start: float, columns: Any, name: Any, meta: Any) -> Any:
    """One partition made from one row block (its index counts rows from ``start``)."""
    n = len(block)
    index = pd.RangeIndex(n) if start != start else pd.RangeIndex(int(start), int(start) + n)
    if isinstance(meta, pd.Series):
        return pd.Series(block, index=index, name=name).astype(meta.dtype)
    return pd.DataFrame(block, index=index, columns=columns).astype(dict(meta.dtypes))


class FromArrayBlocks(FrameExpr):
    """A frame with one partition per row chunk of an array expression (one chunk of columns)."""

    _parameters = ("array", "columns", "series_name")
    _operand_only = ('columns',)  # metadata of the same name: read with operand()

    def _meta(self) -> Any:
        dtype = self.array.dtype
        if self.array.ndim == 1:
            return pd.Series(np.empty(0, dtype=dtype), name=self.series_name)
        return pd.DataFrame(np.empty((0, len(self.operand("columns"))), dtype=dtype),
                            columns=self.operand("columns"))

    def _starts(self) -> list:
        rows = self.array.chunks[0]
        if any(math.isnan(r) for r in rows):
            return [math.nan] * len(rows)
        return [0, *np.cumsum(rows[:-1]).tolist()]

    def _divisions(self) -> tuple:
        rows = self.array.chunks[0]
        starts = self._starts()
        if not rows or math.isnan(starts[0]):
            return (None,) * (len(rows) + 1)
        return (*[int(s) for s in starts], int(starts[-1] + rows[-1] - 1))

    def _lengths(self) -> tuple | None:
        rows = self.array.chunks[0]
        return None if any(math.isnan(r) for r in rows) else tuple(int(r) for r in rows)

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        index = (i,) if self.array.ndim == 1 else (i, 0)
        return Task(key, array_block_to_frame, Ref((self.array.name, *index)), self._starts()[i],
                    self.operand("columns"), self.series_name, self.meta)

    def _one_to_one_inputs(self) -> tuple:
        return (self.array.name,)


def from_array(x: Any, chunksize: int = 50_000, columns: Any = None, meta: Any = None) -> Any:
    """A Series (1-d) or DataFrame (2-d) from an array, one partition per row chunk.

    ``x``: a chunkwise Array (its row chunks are the partitions; all columns
    are put in one chunk) or anything NumPy converts (split every
    ``chunksize`` rows). As ``dask.dataframe.from_array``; structured
    arrays are not supported. The index counts rows; with unknown chunk
    lengths it restarts at 0 in each partition and the divisions are unknown.

    >>> import numpy as np
    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_array(np.arange(6).reshape(3, 2), chunksize=2, columns=["a", "b"])
    >>> df.divisions, df.b.compute().tolist()
    ((0, 2, 2), [1, 3, 5])
    """
    if not isinstance(x, Array):
        arr = np.asarray(x)
        if arr.dtype.names:
            raise NotImplementedError("from_array: structured arrays are not supported; "
                                      "use from_pandas(pd.DataFrame(x))")
        x = array_from_array(arr, chunks=(chunksize,) + tuple(-1 for _ in arr.shape[1:]))
    if x.ndim not in (1, 2):
        raise ValueError(f"from_array: expected a 1-d or 2-d array, got {x.ndim} dimensions")
    if x.ndim == 2:
        ncols = x.shape[1]
        if columns is None:
            columns = list(range(ncols))
        columns = list(columns)
        if len(columns) != ncols:
            raise ValueError(
                f"from_array: {len(columns)} column names for an array with {ncols} columns"
            )
        if len(x.chunks[1]) > 1:
            x = x.rechunk({1: -1})
        name = None
    else:
        name = columns if not isinstance(columns, list | tuple) else None
        columns = None
    expr = FromArrayBlocks(x.expr, columns, name)
    if meta is not None:
        meta = normalize_meta(meta)
        if not isinstance(meta, type(expr.meta)):
            raise ValueError("from_array: meta= must be a DataFrame for 2-d and a Series for 1-d arrays")
    return new_collection(expr)


def partition_values(partition: Any, dtype: np.dtype) -> np.ndarray:
    """The values of one partition as a NumPy array of ``dtype``."""
    return partition.to_numpy(dtype=dtype) if partition.ndim == 1 else partition.to_numpy(dtype=dtype)


class FrameToArray(ArrayExpr):
    """The values of a frame as an array: one row chunk per partition."""

    _parameters = ("frame", "lengths")

    def _chunks(self) -> tuple:
        frame = self.frame
        rows = tuple(self.operand("lengths")) if self.operand("lengths") is not None else (
            (math.nan,) * frame.npartitions
        )
        if isinstance(frame.meta, pd.DataFrame):
            return (rows, (len(frame.meta.columns),))
        return (rows,)

    def _dtype(self) -> Any:
        return values_dtype(self.frame.meta)

    def _task(self, key: Hashable) -> Task:
        return Task(key, partition_values, Ref((self.frame.name, key[1])), self.dtype)

    def _one_to_one_inputs(self) -> tuple:
        return (self.frame.name,)


def values_dtype(meta: Any) -> np.dtype:
    """The NumPy dtype of ``meta.to_numpy()`` (object for strings and categoricals of strings)."""
    try:
        return meta.to_numpy().dtype
    except (TypeError, ValueError):
        return np.dtype(object)


def to_dask_array(frame: FrameBase, lengths: Any = None) -> Array:
    """The values as a chunkwise Array, one row chunk per partition (as dask's ``to_dask_array``).

    The chunk lengths are known when the plan knows the partitions' lengths;
    ``lengths=True`` computes them; a sequence gives them.

    >>> import pandas as pd
    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_pandas(pd.DataFrame({"a": [1, 2, 3], "b": [4.0, 5.0, 6.0]}), npartitions=2)
    >>> x = df.to_dask_array()
    >>> x.chunks, x.dtype
    (((2, 1), (2,)), dtype('float64'))
    """
    if isinstance(frame.expr.meta, pd.Index):
        raise NotImplementedError("to_dask_array of an Index: use index.to_series() first")
    if lengths is True:
        lengths = tuple(partition_lengths(frame))
    elif lengths is None or lengths is False:
        lengths = frame.expr.lengths if lengths is None else None
    else:
        lengths = tuple(int(n) for n in lengths)
        if len(lengths) != frame.npartitions:
            raise ValueError(
                f"to_dask_array: {len(lengths)} lengths for {frame.npartitions} partitions"
            )
    return Array(FrameToArray(frame.expr, lengths))


# --- delayed values, functions and futures -------------------------------------------------------


def check_partition(value: Any, meta: Any, i: int, operation: str) -> Any:
    """``value`` checked to be a pandas object like ``meta`` (columns and dtypes)."""
    if not is_frame_like(value):
        raise TypeError(
            f"{operation}: partition {i} is a {type(value).__name__}, not a pandas "
            f"{type(meta).__name__}"
        )
    if isinstance(meta, pd.DataFrame):
        if not isinstance(value, pd.DataFrame) or list(value.columns) != list(meta.columns):
            found = list(value.columns) if isinstance(value, pd.DataFrame) else type(value).__name__
            raise ValueError(
                f"{operation}: partition {i} has columns {found}, but meta says "
                f"{list(meta.columns)}; pass meta= matching the data"
            )
        mismatched = {c: (str(a), str(b)) for c, a, b in zip(meta.columns, value.dtypes, meta.dtypes)
                      if a != b}
        if mismatched:
            raise ValueError(
                f"{operation}: partition {i} has dtypes differing from meta "
                f"(column: (found, meta)) {mismatched}; pass meta= matching the data"
            )
    elif isinstance(meta, pd.Series) and (not isinstance(value, pd.Series) or value.dtype != meta.dtype):
        found = value.dtype if isinstance(value, pd.Series) else type(value).__name__
        raise ValueError(f"{operation}: partition {i} has dtype {found}, but meta says {meta.dtype}")
    return value


def _passthrough(value: Any, meta: Any, i: int, operation: str) -> Any:
    return value


class FromValues(FrameExpr):
    """One partition per value computed elsewhere: ``Delayed`` expressions or ``distributed`` futures.

    ``sources`` holds expressions (their single key is read) or futures.
    """

    _parameters = ("sources", "meta", "divisions", "verify", "operation")
    _operand_only = ('divisions', 'meta')  # metadata of the same name: read with operand()

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        keys = [s.name if isinstance(s, Expr) else ("future", s.key) for s in self.sources]
        return f"{self.operation.replace('_', '-')}-" + tokenize(
            keys, self.operand("meta"), self.operand("divisions"), self.verify
        )

    def dependencies(self) -> list:
        return [s for s in self.sources if isinstance(s, Expr)]

    def with_operands(self, operands: list) -> Expr:
        return self  # the sources are delayed values: never rewritten

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return self.operand("divisions")

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        source = self.sources[i]
        if isinstance(source, Expr):
            arg: Any = Ref(source.key)
        else:
            from chunkwise.distributed import future_task

            arg = future_task(None, source)
        check = check_partition if self.verify else _passthrough
        return Task(key, check, arg, self.meta, i, self.operation)

    def _explain_line(self) -> str:
        return f"{type(self).__name__}: {self.operation}, {len(self.sources)} partitions"


def _check_divisions_arg(divisions: Any, n: int, operation: str) -> tuple:
    if divisions is None or divisions == "sorted":
        if divisions == "sorted":
            raise NotImplementedError(f"{operation}: divisions='sorted' is not supported; "
                                      "pass the divisions or None")
        return (None,) * (n + 1)
    divisions = tuple(divisions)
    if len(divisions) != n + 1:
        raise ValueError(
            f"{operation}: {n} partitions need {n + 1} divisions, got {len(divisions)}"
        )
    return divisions


def from_delayed(dfs: Any, meta: Any = None, divisions: Any = None, verify_meta: bool = True,
                 prefix: str | None = None) -> Any:
    """A frame with one partition per ``Delayed`` value (as ``dask.dataframe.from_delayed``).

    ``meta``: the partitions' structure (default: the first one, computed
    now). ``verify_meta``: check each partition against it when it is
    computed, with an error naming the partition.

    >>> import pandas as pd
    >>> import chunkwise.dataframe as dd
    >>> from chunkwise import delayed
    >>> parts = [delayed(pd.DataFrame)({"x": [i, i + 1]}) for i in range(3)]
    >>> dd.from_delayed(parts, meta={"x": "int64"}).x.compute().tolist()
    [0, 1, 1, 2, 2, 3]
    """
    from chunkwise.delayed import Delayed

    if isinstance(dfs, Delayed):
        dfs = [dfs]
    dfs = list(dfs)
    if not dfs:
        raise ValueError("from_delayed: give at least one Delayed value")
    bad = [type(d).__name__ for d in dfs if not isinstance(d, Delayed)]
    if bad:
        raise TypeError(f"from_delayed: expected Delayed values, got {bad[0]}; "
                        "wrap values with chunkwise.delayed(...)")
    if meta is None:
        meta = dfs[0].compute()
    meta = normalize_meta(meta)
    if not is_frame_like(meta):
        raise ValueError("from_delayed: meta= must describe a DataFrame or Series")
    sources = tuple(d._finalize() for d in dfs)
    divisions = _check_divisions_arg(divisions, len(dfs), "from_delayed")
    return new_collection(FromValues(sources, meta, divisions, verify_meta, "from_delayed"))


def from_futures(futures: Any, meta: Any = None, divisions: Any = None, verify_meta: bool = True) -> Any:
    """A frame with one partition per ``distributed`` future (the data stays on the workers).

    ``meta`` defaults to the first future's result (fetched now).
    """
    futures = list(futures)
    if not futures:
        raise ValueError("from_futures: give at least one future")
    if meta is None:
        meta = futures[0].result()
    meta = normalize_meta(meta)
    divisions = _check_divisions_arg(divisions, len(futures), "from_futures")
    return new_collection(FromValues(tuple(futures), meta, divisions, verify_meta, "from_futures"))


def from_map(func: Callable, *iterables: Iterable, args: tuple = (), meta: Any = None,
             divisions: Any = None, enforce_metadata: bool = True, **kwargs: Any) -> Any:
    """One partition per item: partition ``i`` is ``func(item_i, *args, **kwargs)`` (as dask's ``from_map``).

    Several iterables are zipped. ``meta`` is inferred by calling ``func``
    on the first item when not given.

    >>> import pandas as pd
    >>> import chunkwise.dataframe as dd
    >>> df = dd.from_map(lambda i: pd.DataFrame({"x": [i] * 2}), range(3))
    >>> df.npartitions, df.x.compute().tolist()
    (3, [0, 0, 1, 1, 2, 2])
    """
    from chunkwise.delayed import delayed

    items = list(zip(*iterables))
    if not items:
        raise ValueError("from_map: the iterables are empty; give at least one item")
    call = f"from_map({getattr(func, '__name__', repr(func))})"
    if meta is None:
        try:
            meta = func(*items[0], *args, **kwargs)
        except Exception as exc:
            raise ValueError(f"{call}: could not infer meta by calling the function on the first "
                             f"item ({type(exc).__name__}: {exc}); pass meta=") from exc
        if not is_frame_like(meta):
            raise ValueError(f"{call}: the function returned a {type(meta).__name__}, not a "
                             "pandas DataFrame or Series")
    meta = normalize_meta(meta)
    parts = [
        delayed(func, pure=True)(*item, *args, **kwargs)
        for item in items
    ]
    return from_delayed(parts, meta=meta, divisions=divisions, verify_meta=enforce_metadata)


class PartitionValue(Expr):
    """One partition of an (optimized) frame, as the value of a ``Delayed``."""

    _parameters = ("frame", "index")

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.frame.name}-partition-{self.index}"

    def optimize(self) -> Expr:
        return self

    def simplify(self) -> Expr:
        return self

    def _task(self, key: Hashable) -> Task:
        return Task(key, _identity, Ref((self.frame.name, self.index)))


def _identity(value: Any) -> Any:
    return value


def to_delayed(frame: FrameBase, optimize_graph: bool = True) -> list:
    """One ``Delayed`` per partition (the plan optimized once, here).

    >>> import pandas as pd
    >>> import chunkwise.dataframe as dd
    >>> parts = dd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2).to_delayed()
    >>> [len(p.compute()) for p in parts]
    [2, 1]
    """
    from chunkwise.delayed import Delayed

    expr = frame.expr.optimize() if optimize_graph else frame.expr
    return [Delayed(PartitionValue(expr, i)) for i in range(expr.npartitions)]

