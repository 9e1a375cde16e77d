"""Sort keys for categoricals of unknown categories: their values, not their codes.

A categorical made lazily (``astype("category")``) has *unknown* categories:
each partition holds its own, so the same code means different values in
different partitions, and a range shuffle or a per-partition sort by codes
(or by comparing with splitters made from the meta's placeholder category)
gives a wrong order. pandas sorts an unordered categorical made by
``astype("category")`` by its categories' order, which is the sorted order
of the values present: so ``sort_values`` and ``set_index`` by such a column
sort by a hidden key column holding its *values* (``object``, so that ints
stay ints and strings strings), then drop it (:mod:`chunkwise.dataframe.sorting`).

An *ordered* categorical of unknown categories has an order the values do
not give (each partition's categories may order them differently): it is
refused at build time, naming ``categorize()``, rather than sorted wrongly.

>>> import pandas as pd
>>> meta = pd.DataFrame({"s": pd.Categorical([], categories=[UNKNOWN_CATEGORIES]), "i": []})
>>> unknown_categorical_keys(meta, ["s", "i"], "sort_values")
['s']
>>> with_value_keys(pd.DataFrame({"s": pd.Categorical(["b", "a"])}), {"s": "k"}).k.tolist()
['b', 'a']
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import pandas as pd

from chunkwise.dataframe.expr import UNKNOWN_CATEGORIES, FrameExpr, map_partitions_expr

__all__ = ["unknown_categorical_keys", "value_key_name", "value_keyed", "with_value_keys"]


def _is_unknown_categorical(dtype: Any) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) and UNKNOWN_CATEGORIES in dtype.categories


def unknown_categorical_keys(meta: pd.DataFrame, by: list, operation: str) -> list:
    """The columns of ``by`` that are categoricals of unknown categories; an ordered one
    is refused (its order cannot be made the same across partitions)."""
    found = []
    for column in by:
        if column not in meta.columns or meta.columns.tolist().count(column) != 1:
            continue
        dtype = meta[column].dtype
        if not _is_unknown_categorical(dtype):
            continue
        if dtype.ordered:
            raise NotImplementedError(
                f"{operation}: column {column!r} is an ordered categorical of unknown categories: "
                "each partition may order them differently; make them known first with "
                f"categorize(columns=[{column!r}]) or astype(pd.CategoricalDtype([...], ordered=True))")
        found.append(column)
    return found


def value_key_name(column: Hashable) -> str:
    """The hidden column that carries ``column``'s values while the rows are ordered."""
    return f"__chunkwise_values_of_{column}__"


def with_value_keys(part: pd.DataFrame, keys: dict) -> pd.DataFrame:
    """``part`` with, for each ``column: key`` of ``keys``, the column's values (``object``;
    nulls stay null) in the column ``key`` (added last)."""
    return part.assign(**{key: part[column].astype(object) for column, key in keys.items()})


def value_keyed(frame: FrameExpr, columns: list, operation: str) -> tuple[FrameExpr, dict]:
    """``frame`` with a value key column for each of ``columns``, and the ``{column: key}``
    mapping; refuses a frame that already has a column of that name."""
    keys = {column: value_key_name(column) for column in columns}
    taken = [key for key in keys.values() if key in frame.meta.columns]
    if taken:
        raise ValueError(f"{operation}: the column names {taken!r} are reserved")
    keyed = map_partitions_expr(with_value_keys, frame, keys, meta=with_value_keys(frame.meta, keys),
                                label="categorical-values", keeps_rows=True)
    return keyed, keys
