"""Casting a computed partition to its plan's ``meta`` dtypes (shared by joins, concat, time series).

Where pandas' dtype depends on the data (an int column with a null filled
in becomes float), each partition is cast to the dtype ``meta`` promised, so
partitions agree; a cast that cannot hold the values (nulls into an int
column) leaves the column as pandas made it.

>>> import pandas as pd
>>> cast_to_meta(pd.Series([1.0, 2.0], name="x"), pd.Series([], dtype="int64", name="x")).dtype
dtype('int64')
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd

from chunkwise.dataframe.expr import UNKNOWN_CATEGORIES

__all__ = ["cast_target", "cast_to_meta"]


def cast_target(meta_dtype: Any, dtype: Any) -> Any:
    """The dtype to cast a column of ``dtype`` to so that it matches ``meta_dtype`` (None: leave it).

    A categorical of unknown categories in the meta is a promise of *some*
    categories: a categorical column is left alone, other values become a
    categorical of their own (casting to the placeholder category would
    turn every value into NaN).
    """
    if dtype == meta_dtype:
        return None
    if isinstance(meta_dtype, pd.CategoricalDtype) and UNKNOWN_CATEGORIES in meta_dtype.categories:
        if isinstance(dtype, pd.CategoricalDtype):
            return None
        return pd.CategoricalDtype(ordered=meta_dtype.ordered)
    return meta_dtype


def cast_to_meta(out: Any, meta: Any) -> Any:
    """``out`` (a Series or DataFrame) with ``meta``'s dtypes where they differ and the values allow."""
    if isinstance(meta, pd.Series) and isinstance(out, pd.Series):
        target = cast_target(meta.dtype, out.dtype)
        if target is not None:
            with contextlib.suppress(TypeError, ValueError):
                out = out.astype(target)
        return out
    if isinstance(meta, pd.DataFrame) and isinstance(out, pd.DataFrame) and not out.columns.has_duplicates:
        for column, dtype in zip(meta.columns, meta.dtypes):
            target = cast_target(dtype, out[column].dtype) if column in out.columns else None
            if target is not None:
                with contextlib.suppress(TypeError, ValueError):
                    out[column] = out[column].astype(target)
    return out
