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

__all__ = ["cast_to_meta"]


def cast_to_meta(out: Any, meta: Any) -> Any:
    """``out`` (a Series or DataFrame) with ``meta``'s dtypes where they differ and the values allow."""
    if isinstance(meta, pd.Series) and isinstance(out, pd.Series):
        if out.dtype != meta.dtype:
            with contextlib.suppress(TypeError, ValueError):
                out = out.astype(meta.dtype)
        return out
    if isinstance(meta, pd.DataFrame) and isinstance(out, pd.DataFrame) and not out.columns.has_duplicates:
        for column, dtype in zip(meta.columns, meta.dtypes):
            if column in out.columns and out[column].dtype != dtype:
                with contextlib.suppress(TypeError, ValueError):
                    out[column] = out[column].astype(dtype)
    return out
