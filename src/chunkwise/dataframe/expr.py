"""Dataframe expressions: the plan nodes behind ``DataFrame``, ``Series`` and ``Index``.

A :class:`FrameExpr` knows, without computing anything:

- ``meta``: an *empty* pandas object (DataFrame, Series, Index) with the exact
  dtypes, names and index dtype of the result, or a NumPy/pandas scalar for a
  one-partition scalar result (``df.x.sum()``);
- ``divisions``: a tuple of ``npartitions + 1`` index values bounding the
  partitions (partition ``i`` holds index values in
  ``[divisions[i], divisions[i + 1])``, the last one closed), all ``None``
  when unknown.

Its output keys are ``(name, i)``, one per partition. Subclasses implement
``_meta()``, ``_divisions()`` and ``_task(key)``. A parameter whose name
collides with metadata (``meta``, ``divisions``, ``columns``) is read with
``self.operand("name")``.

The generic nodes every other module builds on live here:

- :class:`FromPandas` -- partitions sliced out of an in-memory pandas object;
- :class:`Partitionwise` -- one task per output partition, applying a
  top-level function to the same partition of each frame operand (a scalar
  operand, one partition with scalar ``meta``, is broadcast to all);
  :class:`MapPartitions` is its generic form, :class:`Projection` (column
  selection) and :class:`Filter` (boolean rows) the named forms that the
  optimizer rewrites;
- :class:`Partitions` -- a subset of another frame's partitions;
- :class:`Finalize` -- the one task that concatenates the partitions (what
  ``.compute()`` returns).

Meta is computed at build time by running the operation on a small
*non-empty* sample built from the inputs' meta (:func:`meta_nonempty`), so
mistakes fail when the operation is written, not when it runs.

>>> import pandas as pd
>>> from chunkwise.core.expr import lower
>>> from chunkwise.scheduling import get_sync
>>> pdf = pd.DataFrame({"x": [1, 2, 3, 4], "y": [1.0, 2.0, 3.0, 4.0]})
>>> frame = FromPandas(pdf, (0, 2, 3), (0, 2, 4))
>>> frame.npartitions, frame.divisions, list(frame.meta.columns)
(2, (0, 2, 3), ['x', 'y'])
>>> x = Projection(frame, "x")
>>> final = Finalize(x)
>>> get_sync(lower([final]), final.key).tolist()
[1, 2, 3, 4]
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.expr import Expr, key_name
from chunkwise.core.fuse import Fused, fused_inputs
from chunkwise.core.graph import DataNode, Ref, Task

__all__ = [
    "UNKNOWN_CATEGORIES",
    "Filter",
    "Finalize",
    "FrameExpr",
    "FromPandas",
    "MapPartitions",
    "Partitions",
    "Partitionwise",
    "PersistedFrame",
    "Projection",
    "TotalRows",
    "apply_and_enforce",
    "concat_partitions",
    "emulate",
    "filter_rows",
    "has_known_categories",
    "infer_meta",
    "is_frame_like",
    "is_object_dtype",
    "is_scalar_meta",
    "kept_index_dtype",
    "make_meta",
    "map_partitions_expr",
    "meta_nonempty",
    "named_error",
    "normalize_meta",
    "count_filtered",
    "partition_length",
    "partition_ref",
    "select_columns",
    "sum_parts",
    "total_rows",
    "unify_categorical_index",
    "unify_categoricals",
]


# --- meta -----------------------------------------------------------------------


def is_frame_like(obj: Any) -> bool:
    """Whether ``obj`` is a pandas DataFrame, Series or Index."""
    return isinstance(obj, (pd.DataFrame, pd.Series, pd.Index))


#: The one category in the meta of a categorical whose categories are not known yet (as Dask).
UNKNOWN_CATEGORIES = "__UNKNOWN_CATEGORIES__"


def has_known_categories(obj: Any) -> bool:
    """Whether a categorical Series/Index (its meta, or a dtype) has known categories."""
    meta = getattr(obj, "_meta", obj)
    dtype = getattr(meta, "dtype", meta)
    if not isinstance(dtype, pd.CategoricalDtype):
        raise TypeError(f"expected a categorical, got dtype {dtype}")
    return UNKNOWN_CATEGORIES not in dtype.categories


def is_object_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is NumPy's ``object`` dtype."""
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def is_scalar_meta(meta: Any) -> bool:
    """Whether ``meta`` describes a scalar (not a DataFrame, Series or Index)."""
    return not is_frame_like(meta)


def make_meta(obj: Any) -> Any:
    """The empty version of a pandas object (a scalar stays as it is).

    >>> make_meta(pd.Series([1, 2], name="a"))
    Series([], Name: a, dtype: int64)
    """
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj.iloc[:0]
    if isinstance(obj, pd.Index):
        return obj[:0]
    return obj


def _nonempty_values(dtype: Any, n: int, distinct: bool = False) -> Any:
    """``n`` made-up values of ``dtype`` (distinct ones when ``distinct``)."""
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        if len(cats) and UNKNOWN_CATEGORIES not in cats:
            codes = np.arange(n) % len(cats) if distinct else np.zeros(n, dtype=int)
            return pd.Categorical.from_codes(codes, dtype=dtype)
        return pd.Categorical.from_codes(np.full(n, -1), dtype=dtype)  # none, or unknown ones
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pd.date_range("1970-01-01", periods=n, tz=dtype.tz, unit=dtype.unit).array
    if isinstance(dtype, pd.PeriodDtype):
        return pd.period_range("1970-01-01", periods=n, freq=dtype.freq).array
    if isinstance(dtype, pd.IntervalDtype):
        breaks = np.arange(n + 1).astype(dtype.subtype)
        return pd.arrays.IntervalArray.from_breaks(breaks, closed=dtype.closed)
    if is_object_dtype(dtype):
        values = [f"v{i}" for i in range(n)] if distinct else ["foo"] * n
        return np.array(values, dtype=object)
    if isinstance(dtype, pd.StringDtype):
        values = [f"v{i}" for i in range(n)] if distinct else ["foo"] * n
        return pd.array(values, dtype=dtype)
    np_dtype = getattr(dtype, "numpy_dtype", dtype) if not isinstance(dtype, np.dtype) else dtype
    try:
        kind = np.dtype(np_dtype).kind
    except TypeError:
        kind = "O"
    if kind == "b":
        values = np.array([True, False] * n)[:n]
    elif kind == "M":
        values = np.arange(n).astype("datetime64[D]").astype(np_dtype)
    elif kind == "m":
        values = np.arange(1, n + 1).astype(np_dtype)
    elif kind in "iufc":
        values = (np.arange(1, n + 1) if distinct else np.ones(n)).astype(np_dtype)
    else:
        values = ["foo"] * n
    try:
        return pd.array(values, dtype=dtype) if not isinstance(dtype, np.dtype) else values
    except (TypeError, ValueError):
        return pd.Series(values).astype(dtype).array


def _nonempty_index(index: pd.Index, n: int) -> pd.Index:
    if isinstance(index, pd.RangeIndex):
        return pd.RangeIndex(n, name=index.name)
    if isinstance(index, pd.MultiIndex):
        levels = [_nonempty_index(index.levels[i], n) for i in range(index.nlevels)]
        return pd.MultiIndex.from_arrays(levels, names=index.names)
    return pd.Index(_nonempty_values(index.dtype, n, distinct=True), name=index.name, dtype=index.dtype)


def meta_nonempty(meta: Any, n: int = 2) -> Any:
    """A small non-empty pandas object with exactly ``meta``'s dtypes, names and index dtype.

    Functions are run on it to infer the ``meta`` of their result: running
    them on an empty frame gives wrong dtypes too often (object columns).

    >>> meta = pd.DataFrame({"a": pd.Series([], dtype="int8"), "b": pd.Series([], dtype=str)})
    >>> sample = meta_nonempty(meta)
    >>> len(sample), sample.dtypes.astype(str).tolist()
    (2, ['int8', 'str'])
    """
    if isinstance(meta, pd.DataFrame):
        index = _nonempty_index(meta.index, n)
        data = {
            i: pd.Series(_nonempty_values(dtype, n), index=index, dtype=dtype)
            for i, dtype in enumerate(meta.dtypes)
        }
        out = pd.DataFrame(data, index=index)
        out.columns = meta.columns
        return out
    if isinstance(meta, pd.Series):
        index = _nonempty_index(meta.index, n)
        # dtype=: pandas 3 would infer ``str`` from the strings of an object column
        return pd.Series(_nonempty_values(meta.dtype, n), index=index, name=meta.name,
                         dtype=meta.dtype)
    if isinstance(meta, pd.Index):
        return _nonempty_index(meta, n)
    return meta


def _sample(arg: Any) -> Any:
    """The sample standing in for a build-time argument when meta is inferred."""
    if not isinstance(arg, FrameExpr):
        expr = getattr(arg, "expr", None)
        if not isinstance(expr, FrameExpr):
            return arg
        arg = expr
    sample = arg.meta_sample
    # a shallow copy: under copy-on-write a function that edits it edits its own copy
    return sample.copy(deep=False) if is_frame_like(sample) else sample


def emulate(func: Callable, *args: Any, operation: str, **kwargs: Any) -> Any:
    """The meta of ``func(*args, **kwargs)``, found by running it on samples.

    A failure is re-raised with pandas' own error type and ``operation`` named
    in the message (a build-time error, before any data is read).
    """
    samples = [_sample(a) for a in args]
    kw = {k: _sample(v) for k, v in kwargs.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # about made-up sample data, not the user's
            result = func(*samples, **kw)
    except Exception as exc:
        raise named_error(exc, operation) from exc
    return make_meta(result)


_PLAIN_ERRORS = (
    KeyError, IndexError, ZeroDivisionError, OverflowError, NotImplementedError,
    TypeError, ValueError, AttributeError, ArithmeticError, LookupError,
)  # fmt: skip


def named_error(exc: Exception, operation: str) -> Exception:
    """``exc``'s type (or its nearest plain base) with ``operation`` named in the message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's ufunc errors warn when formatted
        message = f"{operation}: {exc.args[0] if len(exc.args) == 1 else exc}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            error = type(exc)(message)
            if str(error) in (message, repr(message)):
                return error
    except Exception:
        pass
    try:  # a pandas error whose constructor formats its own message (UndefinedVariableError)
        error = type(exc).__new__(type(exc))
        error.args = (message,)
        if str(error) in (message, repr(message)):
            return error
    except Exception:
        pass
    for base in type(exc).__mro__:
        if base in _PLAIN_ERRORS:
            return base(message)
    return Exception(message)


def infer_meta(func: Callable, args: Sequence, kwargs: dict, call: str) -> Any:
    """The meta of a user function's result, found by running it on a sample.

    ``call`` names the user's call (``"map_partitions(myfunc)"``). When the
    function fails on the sample, the ``ValueError`` says so and shows how to
    pass ``meta=`` instead.
    """
    samples = [_sample(a) for a in args]
    kw = {k: _sample(v) for k, v in kwargs.items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # about made-up sample data, not the user's
            result = func(*samples, **kw)
    except Exception as exc:
        raise ValueError(
            f"{call}: could not infer the result's metadata by running the function on a "
            f"small sample of the input ({type(exc).__name__}: {exc}). Pass it as meta=, "
            "an empty pandas object (or a dict/list of (column, dtype), or a (name, dtype) "
            "tuple for a Series) describing the output, e.g. "
            "meta=pd.DataFrame({'x': pd.Series(dtype='float64')})"
        ) from exc
    return make_meta(result)


def normalize_meta(meta: Any) -> Any:
    """A user's ``meta=`` as an empty pandas object (dicts, lists of pairs, tuples, dtypes)."""
    if is_frame_like(meta):
        return make_meta(meta)
    if isinstance(meta, dict):
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in meta.items()})
    if isinstance(meta, list) and all(isinstance(p, tuple) and len(p) == 2 for p in meta):
        return pd.DataFrame({k: pd.Series(dtype=v) for k, v in meta})
    if isinstance(meta, tuple) and len(meta) == 2:
        return pd.Series(dtype=meta[1], name=meta[0])
    if isinstance(meta, (str, np.dtype, pd.api.extensions.ExtensionDtype, type)):
        return pd.Series(dtype=meta)
    return meta


# --- functions run in tasks (top level: picklable by reference) -------------------


def kept_index_dtype(meta: Any) -> Any:
    """The index dtype :func:`concat_partitions` must restore for ``meta`` (``object``), else ``None``."""
    index = meta if isinstance(meta, pd.Index) else (
        meta.index if isinstance(meta, (pd.Series, pd.DataFrame)) else None  # a scalar: none
    )
    if index is None or isinstance(index, pd.MultiIndex) or not is_object_dtype(index.dtype):
        return None
    return index.dtype


def concat_partitions(parts: list, index_dtype: Any = None) -> Any:
    """The partitions joined into one pandas object (a scalar: the only part).

    ``index_dtype``: the index dtype to keep (pandas' ``concat`` infers ``str``
    from ``object`` indexes).
    """
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    if isinstance(first, pd.Index):
        out = first.append(list(parts[1:]))
        return out.astype(index_dtype) if index_dtype is not None and out.dtype != index_dtype else out
    if isinstance(first, (pd.DataFrame, pd.Series)):
        out = pd.concat(unify_categorical_index(unify_categoricals(parts)))
        if index_dtype is not None and out.index.dtype != index_dtype:
            out.index = out.index.astype(index_dtype)
        return out
    return parts[0]


def _union_dtype(dtypes: list) -> Any:
    """One categorical dtype holding the categories of all of ``dtypes`` (sorted, as pandas sorts)."""
    if any(d.ordered for d in dtypes):
        return None
    # no categories (an all-null piece, whatever their dtype) and the meta's placeholder
    # (an empty partition made from the meta) add nothing
    dtypes = [d for d in dtypes if len(d.categories) and UNKNOWN_CATEGORIES not in d.categories
              ] or dtypes[:1]
    empties = [pd.Categorical([], dtype=d) for d in dtypes]
    return pd.api.types.union_categoricals(empties, sort_categories=True).dtype


def unify_categoricals(parts: list) -> list:
    """``parts`` with each categorical column cast to the union of its categories.

    Partitions categorized separately have different categories; pandas'
    ``concat`` would turn such columns into plain values.
    """
    first = parts[0]
    if isinstance(first, pd.Series):
        dtypes = [p.dtype for p in parts]
        if isinstance(first.dtype, pd.CategoricalDtype) and any(d != dtypes[0] for d in dtypes):
            union = _union_dtype(dtypes)
            return parts if union is None else [p.astype(union) for p in parts]
        return parts
    if not isinstance(first, pd.DataFrame) or first.columns.has_duplicates:
        return parts
    casts = {}
    for column, dtype in first.dtypes.items():
        if not isinstance(dtype, pd.CategoricalDtype):
            continue
        dtypes = [p.dtypes[column] if column in p.columns else dtype for p in parts]
        if all(isinstance(d, pd.CategoricalDtype) for d in dtypes) and any(d != dtype for d in dtypes):
            union = _union_dtype(dtypes)
            if union is not None:
                casts[column] = union
    if not casts:
        return parts
    return [p.astype(casts) for p in parts]


def unify_categorical_index(parts: list) -> list:
    """``parts`` (frames or Series) with a categorical index cast to the union of its categories.

    Partials keyed by a categorical of unknown categories (``astype("category")``
    per partition) have different categories; pandas' ``concat`` would turn
    their index into plain values, unlike the meta (and pandas' own result).
    """
    dtypes = [getattr(getattr(p, "index", None), "dtype", None) for p in parts]
    if not all(isinstance(d, pd.CategoricalDtype) for d in dtypes) or all(d == dtypes[0] for d in dtypes):
        return parts
    union = _union_dtype(dtypes)
    if union is None:
        return parts
    unified = []
    for part in parts:
        part = part.copy(deep=False)
        part.index = part.index.astype(union)
        unified.append(part)
    return unified


def apply_and_enforce(func: Callable, meta: Any, *args: Any, **kwargs: Any) -> Any:
    """``func(*args, **kwargs)`` made to match ``meta``: its name, column order and dtypes.

    A user's function may give another dtype on some partitions (all nulls,
    say); the declared (or inferred) meta wins, so partitions stay alike.
    Columns other than those of ``meta`` are an error naming the function.
    """
    result = func(*args, **kwargs)
    if isinstance(meta, pd.Series) and isinstance(result, pd.Series):
        if result.name != meta.name:
            result = result.rename(meta.name)
        if result.dtype != meta.dtype and _castable(meta.dtype):
            result = _cast(result, meta.dtype)
        return result
    if isinstance(meta, pd.DataFrame) and isinstance(result, pd.DataFrame):
        if list(result.columns) != list(meta.columns):
            raise ValueError(
                f"the function {getattr(func, '__name__', func)!r} returned columns "
                f"{list(result.columns)} where its meta= says {list(meta.columns)}; "
                "pass a meta= matching the result"
            )
        if not result.columns.has_duplicates:
            casts = {
                c: d
                for c, d, r in zip(meta.columns, meta.dtypes, result.dtypes)
                if r != d and _castable(d)
            }
            if casts:
                result = _cast(result, casts)
    return result


def _castable(dtype: Any) -> bool:
    """Whether partitions may be cast to ``dtype`` (not a categorical with unknown categories)."""
    return not (isinstance(dtype, pd.CategoricalDtype) and UNKNOWN_CATEGORIES in dtype.categories)


def _cast(obj: Any, dtype: Any) -> Any:
    try:
        return obj.astype(dtype)
    except (TypeError, ValueError):
        return obj


def select_columns(frame: Any, columns: Any) -> Any:
    return frame[columns]


def filter_rows(frame: Any, mask: Any) -> Any:
    return frame[mask]


def _identity(value: Any) -> Any:
    return value


def _partition_slice(frame: Any, start: int, stop: int) -> Any:
    return frame.iloc[start:stop]


# --- nodes --------------------------------------------------------------------------


class FrameExpr(Expr):
    """Base of every dataframe plan node; see the module docstring."""

    @functools.cached_property
    def meta(self) -> Any:
        """An empty pandas object (or a scalar) with the result's exact dtypes and names."""
        return self._meta()

    @functools.cached_property
    def divisions(self) -> tuple:
        """``npartitions + 1`` index bounds of the partitions (all ``None`` when unknown)."""
        return tuple(self._divisions())

    @functools.cached_property
    def lengths(self) -> tuple | None:
        """The number of rows of each partition when known without computing, else ``None``."""
        return self._lengths()

    def _lengths(self) -> tuple | None:
        return None

    @functools.cached_property
    def meta_sample(self) -> Any:
        """:func:`meta_nonempty` of ``meta`` (kept: several operations sample one input)."""
        return meta_nonempty(self.meta)

    @property
    def npartitions(self) -> int:
        return len(self.divisions) - 1

    @property
    def known_divisions(self) -> bool:
        return len(self.divisions) > 0 and self.divisions[0] is not None

    @property
    def columns(self) -> pd.Index:
        return self.meta.columns

    def cardinality_source(self, columns: list | None) -> tuple:
        """``(expr, columns)`` whose first partitions' distinct keys stand for this node's
        ``columns`` in a plan-time sample (groupby's and ``drop_duplicates``' path choice);
        a join names the side a column comes from, so the sample runs no join."""
        return self, columns

    def _meta(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define _meta")

    def _divisions(self) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} does not define _divisions")

    def _output_keys(self) -> list:
        name = self.name
        return [(name, i) for i in range(self.npartitions)]

    def _explain_line(self) -> str:
        line = super()._explain_line()
        return f"{line}  [{self.npartitions} partitions]"

    def _fused(self, members: list) -> FrameExpr:
        return FusedFrame(tuple(members), *fused_inputs(members))


class FusedFrame(Fused, FrameExpr):
    """A fused group of per-partition nodes (see :mod:`chunkwise.core.fuse`): one task
    per partition, with the root's meta, divisions and lengths. Inputs it reads
    partition by partition are built inside its tasks when nothing else reads them."""

    def _meta(self) -> Any:
        return self.root.meta

    def _divisions(self) -> tuple:
        return self.root.divisions

    def _lengths(self) -> tuple | None:
        return self.root.lengths

    @functools.cached_property
    def _uses(self) -> dict[str, int]:
        """How many times the members' kernels read each node (member or input)."""
        uses: dict[str, int] = {}
        for member in self.operands[0]:
            for arg in member._kernel_args():
                if isinstance(arg, FrameExpr):
                    uses[arg.name] = uses.get(arg.name, 0) + 1
        return uses

    @functools.cached_property
    def _runs_steps(self) -> bool:
        """Whether a node is read by two members: the task then runs the members as steps,
        each once (:func:`run_steps`); nested calls would compute such a node twice."""
        return any(n > 1 for n in self._uses.values())

    def _one_to_one_inputs(self) -> tuple:
        # an input read by two members (a column and a predicate from the same read) is
        # built into the task too: the task then runs it once, as a step
        uses = self._uses
        return tuple(
            f.name for f in self.inputs
            if isinstance(f, FrameExpr) and not is_scalar_meta(f.meta)
            and f.npartitions == self.npartitions and uses.get(f.name, 0) >= 1
        )

    def _task(self, key: Hashable) -> Any:
        if not self._runs_steps:
            return Fused._task(self, key)
        members = self.operands[0]
        steps = [m._task((m.name, *key[1:])) for m in members]
        inside = {m.name for m in members}
        outside = {
            dep: Ref(dep) for step in steps if type(step) is Task
            for dep in sorted(step.dependencies, key=repr) if key_name(dep) not in inside
        }
        return Task(key, run_steps, PartitionSteps(tuple(steps), steps[-1].key), outside)

    def _explain_line(self) -> str:
        """The fused ops, and the notes of the members that say how they were planned
        (``explain_note``: where a ``set_index``'s divisions came from, say)."""
        notes = [note for m in self.operands[0]
                 if (note := getattr(m, "explain_note", lambda: None)()) is not None]
        tail = f"  ({'; '.join(notes)})" if notes else ""
        return f"{Fused._explain_line(self)}  [{self.npartitions} partitions]{tail}"


class PartitionSteps:
    """The member tasks of one fused partition, in order, and the key of the result; held
    opaque inside a task's arguments (not nested calls) so each runs once."""

    __slots__ = ("result", "tasks")

    def __init__(self, tasks: tuple, result: Hashable):
        self.tasks = tasks
        self.result = result

    def __reduce__(self):
        return (PartitionSteps, (self.tasks, self.result))


def run_steps(steps: PartitionSteps, inputs: dict) -> Any:
    """Run ``steps.tasks`` in order over the input values, each once; the last one's result."""
    results = dict(inputs)
    for task in steps.tasks:
        results[task.key] = task(results)
    return results[steps.result]


class PersistedFrame(FrameExpr):
    """Computed partitions standing in for the expression that produced them."""

    _parameters = ("source", "data")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.operands[0].name

    def dependencies(self) -> list:
        return []

    def _meta(self) -> Any:
        return self.operands[0].meta

    def _divisions(self) -> tuple:
        return self.operands[0].divisions

    def _lengths(self) -> tuple | None:
        return self.operands[0].lengths

    def _task(self, key: Hashable) -> Any:
        from chunkwise.base import Persisted

        return Persisted(self.operands[0], self.operands[1])._task(key)

    def _explain_line(self) -> str:
        return f"Persisted: {len(self.operands[1])} partitions of {type(self.operands[0]).__name__}"


class FromPandas(FrameExpr):
    """Partitions of an in-memory pandas object: rows ``locations[i]:locations[i+1]``."""

    _parameters = ("frame", "divisions", "locations")
    _operand_only = ('divisions',)  # metadata of the same name: read with operand()

    def _meta(self) -> Any:
        return make_meta(self.frame)

    def _divisions(self) -> tuple:
        return self.operand("divisions")

    def _lengths(self) -> tuple:
        loc = self.locations
        return tuple(b - a for a, b in zip(loc[:-1], loc[1:]))

    def _task(self, key: Hashable) -> DataNode:
        i = key[1]
        locations = self.locations
        return DataNode(key, self.frame.iloc[locations[i] : locations[i + 1]])

    def _explain_line(self) -> str:
        return f"FromPandas: {len(self.frame)} rows  [{self.npartitions} partitions]"


def partition_ref(arg: Any, i: int) -> Any:
    """The argument of partition ``i``'s task for operand ``arg``.

    A frame gives its partition ``i``; a scalar (one partition, scalar meta)
    is broadcast; anything else is a literal.
    """
    if isinstance(arg, FrameExpr):
        if is_scalar_meta(arg.meta):
            return Ref((arg.name, 0))
        return Ref((arg.name, i))
    return arg


class Partitionwise(FrameExpr):
    """One task per partition: ``_kernel`` applied to the same partition of each frame operand.

    Subclasses give ``_kernel`` (a top-level function), ``_kernel_args()``
    (operands, frames among them) and optionally ``_kernel_kwargs()``.
    Divisions are the first frame operand's.
    """

    _kernel: Callable = staticmethod(_identity)

    def _kernel_args(self) -> list:
        return list(self.operands)

    def _kernel_kwargs(self) -> dict:
        return {}

    def _frames(self) -> list:
        return [
            op
            for op in self._kernel_args()
            if isinstance(op, FrameExpr) and not is_scalar_meta(op.meta)
        ]

    def _divisions(self) -> tuple:
        frames = self._frames()
        if not frames:
            return (None, None)
        return frames[0].divisions

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        args = [partition_ref(arg, i) for arg in self._kernel_args()]
        return Task(key, self._kernel, *args, **self._kernel_kwargs())

    def _one_to_one_inputs(self) -> tuple:
        return tuple(f.name for f in self._frames() if f.npartitions == self.npartitions)

    def _fusion_group_key(self) -> Hashable | None:
        """Per-partition work fuses with its per-partition consumers (one task per partition)
        when every frame it reads has its partitions (scalars are broadcast)."""
        if any(f.npartitions != self.npartitions for f in self._frames()):
            return None
        return ("frame-partitionwise", self.npartitions)


class Projection(Partitionwise):
    """Column selection: ``frame[columns]`` per partition (a label gives a Series)."""

    _parameters = ("frame", "columns")
    _operand_only = ('columns',)  # metadata of the same name: read with operand()
    _kernel = staticmethod(select_columns)

    def _kernel_args(self) -> list:
        return [self.frame, self.operand("columns")]

    def _meta(self) -> Any:
        return self.frame.meta[self.operand("columns")]

    def _lengths(self) -> tuple | None:
        return self.frame.lengths

    def _explain_line(self) -> str:
        return f"Projection: columns={self.operand('columns')!r}"

    def cardinality_source(self, columns: list | None) -> tuple:
        if columns is None:
            return self, columns
        return self.frame.cardinality_source(columns)

    def _simplify_up(self, parent: Any, dependents: Any = None) -> Any:
        # A source may rewrite the consumer of one of its columns (a Parquet read
        # giving a value_counts its column dictionary-encoded): the source sees
        # the consumer and every dependent, so it can keep a shared read shared.
        rewrite = getattr(self.frame, "rewrite_column_consumer", None)
        return None if rewrite is None else rewrite(self, parent, dependents)

    def _simplify_down(self) -> FrameExpr | None:
        columns = self.operand("columns")
        frame = self.frame
        if isinstance(frame, Projection) and isinstance(frame.operand("columns"), list):
            # df[["a", "b"]]["a"] -> df["a"]
            return Projection(frame.frame, columns)
        if isinstance(frame, Filter) and not frame.frame.meta.columns.has_duplicates:
            # df[mask][cols] -> df[cols][mask]: the filter reads only the columns kept
            return Filter(Projection(frame.frame, columns), frame.predicate)
        if isinstance(columns, list) and columns == list(frame.meta.columns):
            return frame  # every column, in order
        if isinstance(frame, MapPartitions) and getattr(frame.func, "_projects_through", False):
            return _project_assign(frame, columns)
        return None


def _project_assign(assign: MapPartitions, columns: Any) -> FrameExpr | None:
    """``frame.assign(...)[columns]`` -> ``frame[kept].assign(<only those in columns>)[columns]``:
    the assigned frame is narrowed to the columns the selection keeps (so a read under it
    reads only those). ``assign`` is a :class:`MapPartitions` of a function marked
    ``_projects_through`` whose arguments are ``(frame, names, *values)``."""
    args = assign._kernel_args()
    inner, names, values = args[0], args[1], args[2:]
    if (
        assign.operand("kwargs") or not isinstance(inner, FrameExpr)
        or not isinstance(inner.meta, pd.DataFrame) or inner.meta.columns.has_duplicates
        or not isinstance(assign.meta, pd.DataFrame) or len(inner.meta.columns) == 0
    ):
        return None
    wanted = set(columns) if isinstance(columns, list) else {columns}
    have = list(inner.meta.columns)
    kept = [c for c in have if c in wanted]  # a replaced column too: it keeps its place
    pairs = [(n, v) for n, v in zip(names, values) if n in wanted]
    if kept == have and len(pairs) == len(names):
        return None
    keep = set(kept) | {n for n, _ in pairs}
    meta = assign.meta[[c for c in assign.meta.columns if c in keep]]
    narrowed = MapPartitions(
        assign.func, meta, assign.operand("kwargs"), assign.clear_divisions, assign.label,
        assign.enforce, assign.keeps_rows, Projection(inner, kept),
        [n for n, _ in pairs], *(v for _, v in pairs),
    )
    return Projection(narrowed, columns)


class Filter(Partitionwise):
    """Rows where a boolean Series (aligned partition by partition) is true."""

    _parameters = ("frame", "predicate")
    _kernel = staticmethod(filter_rows)

    def _kernel_args(self) -> list:
        return [self.frame, self.predicate]

    def _meta(self) -> Any:
        return self.frame.meta

    def _simplify_up(self, parent: Any, dependents: Any = None) -> Any:
        # The source under this filter (through a column selection) may rewrite the
        # filter's consumer: a Parquet read counts ``len(df[pred])`` on Arrow data.
        source = self.frame.frame if isinstance(self.frame, Projection) else self.frame
        rewrite = getattr(source, "rewrite_filtered_consumer", None)
        return None if rewrite is None else rewrite(self, parent, dependents)


class MapPartitions(Partitionwise):
    """``func(partition, *args, **kwargs)`` for each partition, with a given ``meta``.

    Operands: ``func``, ``meta``, ``kwargs`` (a dict), ``clear_divisions``
    (the result's index is not the input's), ``label`` (the name shown in
    plans and task keys), ``enforce`` (make the result match ``meta``),
    ``keeps_rows`` (each output partition has its input's rows, so known
    partition lengths stay known), then the positional arguments (frames and
    literals).
    """

    _parameters = ("func", "meta", "kwargs", "clear_divisions", "label", "enforce", "keeps_rows")
    _operand_only = ('meta',)  # metadata of the same name: read with operand()
    _variadic = True

    @property
    def _funcname(self) -> str:
        return self.label

    def _kernel_args(self) -> list:
        return list(self.operands[len(self._parameters) :])

    def _kernel_kwargs(self) -> dict:
        return self.operand("kwargs")

    def _meta(self) -> Any:
        return self.operand("meta")

    def _lengths(self) -> tuple | None:
        if not self.keeps_rows:
            return None
        for frame in self._frames():
            if frame.lengths is not None:
                return frame.lengths
        return None

    def _divisions(self) -> tuple:
        divisions = super()._divisions()
        if self.clear_divisions:
            return (None,) * len(divisions)
        return divisions

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        args = [partition_ref(arg, i) for arg in self._kernel_args()]
        if self.enforce:
            return Task(key, apply_and_enforce, self.func, self.meta, *args, **self.operand("kwargs"))
        return Task(key, self.func, *args, **self.operand("kwargs"))

    def _explain_line(self) -> str:
        return f"MapPartitions: {self.label}  [{self.npartitions} partitions]"

    def _simplify_down(self) -> FrameExpr | None:
        return _narrow_filtered_length(self)

    def _lower(self) -> FrameExpr | None:
        return _count_filtered_length(self)


def _length_of_filter(expr: MapPartitions) -> Filter | None:
    """The Filter whose rows ``expr`` counts, when ``expr`` is ``partition_length(Filter)``."""
    if expr.func is not partition_length or expr.operand("kwargs"):
        return None
    args = expr._kernel_args()
    if len(args) == 1 and isinstance(args[0], Filter):
        return args[0]
    return None


def _narrow_filtered_length(expr: MapPartitions) -> FrameExpr | None:
    """``len(df[pred])`` -> ``len(df[col][pred])``, ``df[col]`` a column ``pred`` already
    reads: counting the rows needs no other column, and the filter's frame and its predicate
    then share one node (one read, into which the filter can be pushed)."""
    filtered = _length_of_filter(expr)
    if filtered is None or not isinstance(filtered.frame.meta, pd.DataFrame):
        return None
    frame = filtered.frame
    for node in _walk_frames(filtered.predicate):
        if (
            isinstance(node, Projection) and node.frame.name == frame.name
            and not isinstance(node.operand("columns"), list)
            and isinstance(node.meta, pd.Series) and not frame.meta.columns.has_duplicates
        ):
            return expr.with_operands(
                [Filter(node, filtered.predicate) if op is filtered else op for op in expr.operands]
            )
    return None


def _walk_frames(expr: FrameExpr) -> list:
    """The frame nodes under ``expr`` (itself included), each once, parents first."""
    seen: set[str] = set()
    out: list = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        out.append(node)
        stack.extend(op for op in node.dependencies() if isinstance(op, FrameExpr))
    return out


def _count_filtered_length(expr: MapPartitions) -> FrameExpr | None:
    """``partition_length(frame[mask])`` -> :func:`count_filtered` (``frame``, ``mask``):
    the rows the mask keeps are counted without building the filtered partition."""
    filtered = _length_of_filter(expr)
    if filtered is None:
        return None
    return map_partitions_expr(
        count_filtered, filtered.frame, filtered.predicate, meta=expr.meta,
        label="count-filtered", clear_divisions=expr.clear_divisions,
    )


def count_filtered(frame: Any, mask: Any) -> pd.Series:
    """``partition_length(frame[mask])``, counting the mask's true values when it is aligned
    with ``frame`` row for row (nulls count as false, as pandas' indexing takes them)."""
    if (
        isinstance(mask, pd.Series) and len(mask) == len(frame)
        and (mask.index is frame.index or mask.index.equals(frame.index))
    ):
        if mask.dtype == bool:
            return pd.Series([int(np.count_nonzero(mask.to_numpy()))], dtype="int64")
        if pd.api.types.is_bool_dtype(mask.dtype):  # nullable boolean: nulls are false
            kept = mask.to_numpy(dtype=bool, na_value=False)
            return pd.Series([int(np.count_nonzero(kept))], dtype="int64")
    return partition_length(filter_rows(frame, mask))


def map_partitions_expr(
    func: Callable,
    *args: Any,
    meta: Any,
    label: str | None = None,
    clear_divisions: bool = False,
    enforce: bool = False,
    keeps_rows: bool = False,
    **kwargs: Any,
) -> MapPartitions:
    """A :class:`MapPartitions` node (operands in their positional order)."""
    label = label or getattr(func, "__name__", "map-partitions")
    return MapPartitions(func, meta, kwargs, clear_divisions, label, enforce, keeps_rows, *args)


class Partitions(FrameExpr):
    """The partitions ``indices`` (in that order) of ``frame``."""

    _parameters = ("frame", "indices")

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        indices = self.indices
        divisions = self.frame.divisions
        if not self.frame.known_divisions or list(indices) != sorted(indices):
            return (None,) * (len(indices) + 1)
        return tuple(divisions[i] for i in indices) + (divisions[indices[-1] + 1],)

    def _lengths(self) -> tuple | None:
        lengths = self.frame.lengths
        return None if lengths is None else tuple(lengths[i] for i in self.indices)

    def _task(self, key: Hashable) -> Task:
        return Task(key, _identity, Ref((self.frame.name, self.indices[key[1]])))

    def _explain_line(self) -> str:
        return f"Partitions: {list(self.indices)}"


def sum_parts(parts: list) -> Any:
    """The sum of small per-partition Series (row counts, say) as one NumPy scalar."""
    return np.int64(sum(int(p.sum()) for p in parts))


class TotalRows(FrameExpr):
    """A scalar: the sum of ``counts``, a Series with one row count per partition.

    Build it with :func:`total_rows`; each partition counts its own rows, and
    this one task adds the small counts up.
    """

    _parameters = ("counts",)

    @property
    def _funcname(self) -> str:
        return "len"

    def _meta(self) -> Any:
        return np.int64(0)

    def _divisions(self) -> tuple:
        return (None, None)

    def _task(self, key: Hashable) -> Task:
        counts = self.counts
        return Task(key, sum_parts, [Ref((counts.name, i)) for i in range(counts.npartitions)])


def total_rows(frame: FrameExpr) -> TotalRows:
    """The number of rows of ``frame``, as a one-partition scalar expression."""
    counts = map_partitions_expr(
        partition_length, frame, meta=pd.Series(dtype="int64"), label="len-partitions",
        clear_divisions=True,
    )
    return TotalRows(counts)


def partition_length(partition: Any) -> pd.Series:
    """A one-value Series: the number of rows of the partition."""
    return pd.Series([len(partition)], dtype="int64")


class Finalize(FrameExpr):
    """The whole result as one pandas object: the single task ``.compute()`` asks for."""

    _parameters = ("frame",)

    @property
    def _funcname(self) -> str:
        return "finalize-" + self.frame._funcname

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return (self.frame.divisions[0], self.frame.divisions[-1])

    def _output_keys(self) -> list:
        return [self.name]

    def _task(self, key: Hashable) -> Task:
        frame = self.frame
        refs = [Ref((frame.name, i)) for i in range(frame.npartitions)]
        index_dtype = kept_index_dtype(frame.meta)
        if index_dtype is not None:
            return Task(key, concat_partitions, refs, index_dtype)
        return Task(key, concat_partitions, refs)
