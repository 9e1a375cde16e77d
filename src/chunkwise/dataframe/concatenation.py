"""``concat``: frames stacked by rows or joined side by side by columns, as pandas' ``concat``.

Rows (``axis=0``): each output partition is one input partition (or, with
``interleave_partitions=True``, the pieces of every input between two
divisions), conformed to the result's ``meta`` (columns missing from an
input are filled with nulls, dtypes cast as pandas would on the whole).

- When every input's divisions are known and the inputs follow each other
  (each one's last division below the next one's first), the divisions are
  kept: the result is still sorted by its index.
- When they overlap, ``interleave_partitions=True`` cuts every input at the
  union of all divisions (no shuffle: partitions are split and joined, as
  ``repartition(divisions=...)`` does), so the result keeps known divisions;
  without it, the partitions are stacked and the divisions become unknown.

Columns (``axis=1``): the inputs are cut at the union of their divisions
and joined pairwise. An outer join may leave rows of one input without
values, so its int columns are ``float64`` (bools ``object``) in every
partition, where pandas' dtype depends on the data. With unknown divisions, inputs of the same partition
count are assumed aligned (a ``UserWarning`` says so, as Dask's does).

``ignore_index=True`` numbers each partition's rows from 0 (pandas numbers the
whole result).

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> a = dd.from_pandas(pd.DataFrame({"x": [1, 2]}, index=[0, 1]), npartitions=1)
>>> b = dd.from_pandas(pd.DataFrame({"x": [3, 4], "y": [0.5, 1.5]}, index=[5, 6]), npartitions=1)
>>> both = dd.concat([a, b])
>>> both.divisions, list(both.columns)
((0, 5, 6), ['x', 'y'])
>>> both.compute().y.tolist()
[nan, nan, 0.5, 1.5]
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import FrameBase, new_collection
from chunkwise.dataframe.expr import FrameExpr, emulate, unify_categoricals
from chunkwise.dataframe.meta_casts import cast_to_meta

__all__ = ["Concat", "concat", "concat_parts"]


# --- functions run in tasks -------------------------------------------------------------


def concat_parts(parts: list, meta: Any, axis: int, join: str, ignore_index: bool) -> Any:
    """``pd.concat`` of one output partition's pieces, made to match ``meta``."""
    if axis == 0:
        parts = unify_categoricals(parts) if all(isinstance(p, type(parts[0])) for p in parts) else parts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # empty pieces, whose dtypes we restore below
        out = pd.concat(parts, axis=axis, join=join, ignore_index=ignore_index and axis == 0)
    if isinstance(meta, pd.DataFrame):
        if isinstance(out, pd.Series):
            out = out.to_frame()
        if list(out.columns) != list(meta.columns) and not meta.columns.has_duplicates:
            out = out.reindex(columns=meta.columns)
    out = cast_to_meta(out, meta)
    if out.index.dtype != meta.index.dtype and len(out) == 0:
        out.index = out.index.astype(meta.index.dtype)
    return out


# --- the node -----------------------------------------------------------------------------


class Concat(FrameExpr):
    """Output partition ``i`` is ``concat_parts`` of ``layout[i]``: pairs (input, partition)."""

    _parameters = ("meta", "axis", "join", "ignore_index", "layout", "given_divisions")
    _operand_only = ("meta",)
    _variadic = True

    @property
    def frames(self) -> list:
        return self.operands[len(self._parameters):]

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return self.given_divisions

    def _lengths(self) -> tuple | None:
        if self.axis != 0 or self.join != "outer":
            return None
        frames = self.frames
        lengths = [f.lengths for f in frames]
        if any(x is None for x in lengths):
            return None
        return tuple(sum(lengths[k][j] for k, j in pieces) for pieces in self.layout)

    def _task(self, key: Hashable) -> Task:
        frames = self.frames
        refs = [Ref((frames[k].name, j)) for k, j in self.layout[key[1]]]
        return Task(key, concat_parts, refs, self.operand("meta"), self.axis, self.join, self.ignore_index)

    def _explain_line(self) -> str:
        how = "columns" if self.axis == 1 else "rows"
        return f"Concat: {len(self.frames)} frames by {how}, join={self.join!r}  [{self.npartitions} partitions]"


# --- the user's call -----------------------------------------------------------------------


def _as_expr(obj: Any) -> FrameExpr:
    if isinstance(obj, FrameBase):
        return obj.expr
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        from chunkwise.dataframe.io.pandas import from_pandas

        return from_pandas(obj, npartitions=1).expr
    raise TypeError(f"concat: expected chunkwise or pandas DataFrames/Series, got {type(obj).__name__}")


def _concat_samples(*samples: Any, axis: int, join: str, ignore_index: bool) -> Any:
    return pd.concat(list(samples), axis=axis, join=join, ignore_index=ignore_index)


def _follow_each_other(frames: list) -> bool:
    if not all(f.known_divisions for f in frames):
        return False
    return all(a.divisions[-1] < b.divisions[0] for a, b in zip(frames[:-1], frames[1:]))


def _union(frames: list) -> tuple:
    values: set = set()
    for f in frames:
        values.update(f.divisions)
    return tuple(sorted(values))


def _cut(frames: list, divisions: tuple) -> list:
    from chunkwise.dataframe.indexing import repartition

    return [f if f.divisions == divisions else repartition(new_collection(f), divisions=divisions).expr
            for f in frames]


def concat(dfs: list, axis: Any = 0, join: str = "outer", interleave_partitions: bool = False,
           ignore_index: bool = False) -> Any:
    """pandas' ``concat`` (as ``dask.dataframe.concat``); see the module docstring."""
    if isinstance(dfs, (FrameBase, pd.DataFrame, pd.Series)) or not len(dfs):
        raise TypeError("concat: give a non-empty list of DataFrames/Series, e.g. dd.concat([a, b])")
    if axis in ("index", "rows"):
        axis = 0
    elif axis == "columns":
        axis = 1
    if axis not in (0, 1):
        raise ValueError(f"concat: axis must be 0 or 1, got {axis!r}")
    if join not in ("outer", "inner"):
        raise ValueError(f"concat: join must be 'inner' or 'outer', got {join!r}")
    frames = [_as_expr(d) for d in dfs]
    meta = emulate(_concat_samples, *frames, axis=axis, join=join, ignore_index=ignore_index,
                   operation=f"concat(axis={axis})")
    if len(frames) == 1:
        return new_collection(frames[0])
    if axis == 1:
        if join == "outer":
            meta = _nullable(meta)
        return _concat_columns(frames, meta, join)
    if _follow_each_other(frames) and not ignore_index:
        divisions = tuple(d for f in frames for d in f.divisions[:-1]) + (frames[-1].divisions[-1],)
        layout = tuple((k, j) for k, f in enumerate(frames) for j in range(f.npartitions))
        layout = tuple((pair,) for pair in layout)
    elif interleave_partitions and all(f.known_divisions for f in frames) and not ignore_index:
        divisions = _union(frames)
        frames = _cut(frames, divisions)
        layout = tuple(tuple((k, i) for k in range(len(frames))) for i in range(len(divisions) - 1))
    else:
        layout = tuple(((k, j),) for k, f in enumerate(frames) for j in range(f.npartitions))
        divisions = (None,) * (len(layout) + 1)
    return new_collection(Concat(meta, 0, join, ignore_index, layout, divisions, *frames))


def _nullable(meta: Any) -> Any:
    """``meta`` with the dtypes pandas gives int and bool columns once rows without them get nulls."""
    if isinstance(meta, pd.Series) or meta.columns.has_duplicates:
        return meta
    casts = {c: ("float64" if d.kind in "iu" else object) for c, d in meta.dtypes.items()
             if isinstance(d, np.dtype) and d.kind in "iub"}
    return meta.astype(casts) if casts else meta


def _concat_columns(frames: list, meta: Any, join: str) -> Any:
    if all(f.known_divisions for f in frames):
        divisions = _union(frames)
        frames = _cut(frames, divisions)
    elif len({f.npartitions for f in frames}) == 1:
        warnings.warn(
            "concat(axis=1): some divisions are unknown, so the partitions are assumed to hold the "
            "same index values, partition by partition; set_index (or repartition) to be sure",
            UserWarning, stacklevel=3,
        )
        divisions = (None,) * (frames[0].npartitions + 1)
    else:
        raise ValueError(
            f"concat(axis=1): the frames have unknown divisions and {sorted({f.npartitions for f in frames})} "
            "partitions, so their rows cannot be matched; set_index(..., sorted=True) on each first"
        )
    layout = tuple(tuple((k, i) for k in range(len(frames))) for i in range(len(divisions) - 1))
    return new_collection(Concat(meta, 1, join, False, layout, divisions, *frames))
