"""``assert_eq``: compare a chunkwise dataframe result with pandas, checking its metadata too.

Besides the values, it checks what a plan promised before running: that
every computed partition has the dtypes, columns and names of ``meta``, and,
when divisions are known, that each partition's index lies within its
division. A plan whose meta lies fails here even when the values are right.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> pdf = pd.DataFrame({"x": [1, 2, 3]})
>>> assert_eq(dd.from_pandas(pdf, npartitions=2).x + 1, pdf.x + 1)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.base import compute
from chunkwise.dataframe.core import FrameBase, Scalar
from chunkwise.dataframe.expr import (
    concat_partitions,
    has_known_categories,
    is_scalar_meta,
    kept_index_dtype,
)
from chunkwise.dataframe.io.pandas import to_delayed

__all__ = ["assert_eq", "computed_partitions"]


def computed_partitions(collection: Any, scheduler: Any = None) -> list:
    """The computed partitions of ``collection``, in order (one computation of the whole plan)."""
    return list(compute(*to_delayed(collection), scheduler=scheduler))


def _check_meta(part: Any, meta: Any, i: int, check_dtype: bool) -> None:
    where = f"partition {i}"
    if is_scalar_meta(meta):
        return
    assert type(part) is type(meta) or isinstance(part, type(meta)), (
        f"{where} is a {type(part).__name__}, but meta says {type(meta).__name__}"
    )
    if isinstance(meta, pd.DataFrame):
        assert list(part.columns) == list(meta.columns), (
            f"{where} has columns {list(part.columns)}, meta says {list(meta.columns)}"
        )
        if check_dtype:
            for column, actual, dtype in zip(meta.columns, part.dtypes, meta.dtypes):
                _check_dtype(actual, dtype, f"column {column!r} of {where}")
    elif isinstance(meta, pd.Series):
        assert part.name == meta.name or (part.name != part.name and meta.name != meta.name), (
            f"{where} is named {part.name!r}, meta says {meta.name!r}"
        )
        if check_dtype:
            _check_dtype(part.dtype, meta.dtype, where)
    elif isinstance(meta, pd.Index) and check_dtype:
        _check_dtype(part.dtype, meta.dtype, where)
    if check_dtype and not isinstance(meta, pd.Index):
        assert part.index.dtype == meta.index.dtype, (
            f"{where} has index dtype {part.index.dtype}, meta says {meta.index.dtype}"
        )


def _check_dtype(actual: Any, expected: Any, where: str) -> None:
    """Equal dtypes; a categorical with unknown categories in meta matches any categorical."""
    if isinstance(expected, pd.CategoricalDtype) and not has_known_categories(expected):
        assert isinstance(actual, pd.CategoricalDtype), f"{where} has dtype {actual}, meta says category"
        return
    assert actual == expected, f"{where} has dtype {actual}, meta says {expected}"


def _check_divisions(parts: list, divisions: tuple) -> None:
    for i, part in enumerate(parts):
        index = part if isinstance(part, pd.Index) else part.index
        if len(index) == 0 or isinstance(index, pd.MultiIndex):
            continue
        low, high = divisions[i], divisions[i + 1]
        assert index.min() >= low, f"partition {i} holds index {index.min()!r} below its division {low!r}"
        if i == len(parts) - 1:
            assert index.max() <= high, f"partition {i} holds index {index.max()!r} above {high!r}"
        else:
            assert index.max() < high, f"partition {i} holds index {index.max()!r} at or above {high!r}"


def _compute(obj: Any, check_dtype: bool, check_divisions: bool, scheduler: Any) -> Any:
    if isinstance(obj, Scalar):
        value = obj.compute(scheduler=scheduler)
        expected = getattr(obj._meta, "dtype", None)
        if check_dtype and expected is not None and hasattr(value, "dtype"):
            _check_dtype(value.dtype, expected, "the scalar")
        return value
    if not isinstance(obj, FrameBase):
        return obj
    parts = computed_partitions(obj, scheduler=scheduler)
    meta = obj._meta
    for i, part in enumerate(parts):
        _check_meta(part, meta, i, check_dtype)
    if check_divisions and obj.known_divisions:
        _check_divisions(parts, obj.divisions)
    return concat_partitions(parts, kept_index_dtype(meta))


def assert_eq(
    result: Any,
    expected: Any,
    check_dtype: bool = True,
    check_index: bool = True,
    check_divisions: bool = True,
    scheduler: Any = None,
    **kwargs: Any,
) -> None:
    """Assert that ``result`` (computed) equals ``expected`` (pandas or another collection).

    Other keywords go to pandas' ``assert_frame_equal``/``assert_series_equal``/
    ``assert_index_equal``. ``check_index=False`` compares the values only.
    """
    a = _compute(result, check_dtype, check_divisions, scheduler)
    b = _compute(expected, check_dtype, check_divisions, scheduler)
    if isinstance(a, (pd.DataFrame, pd.Series)) and not check_index:
        a = a.reset_index(drop=True)
        b = b.reset_index(drop=True)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_dtype=check_dtype, **kwargs)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_dtype=check_dtype, **kwargs)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, exact=check_dtype, **kwargs)
    else:
        _assert_scalar_equal(a, b, **kwargs)


def _assert_scalar_equal(a: Any, b: Any, **kwargs: Any) -> None:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return
    if a is pd.NA or b is pd.NA:
        assert a is b, f"{a!r} != {b!r}"
        return
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        np.testing.assert_allclose(a, b, rtol=kwargs.get("rtol", 1e-7), equal_nan=True)
        return
    assert a == b, f"{a!r} != {b!r}"
