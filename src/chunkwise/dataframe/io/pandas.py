"""Bridges between chunkwise dataframes and in-memory objects: pandas, arrays, delayed values.

- :func:`from_pandas` splits a pandas object into row partitions. With
  ``sort=True`` (the default) the index is sorted first and the partitions
  are cut so that equal index values never span two partitions: the divisions
  are then known, and label lookups read only the partitions they need.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import FromPandas

__all__ = ["from_pandas", "sorted_division_locations"]


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
    leaves the divisions unknown.

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
    if sort and not data.index.hasnans:
        divisions, locations = sorted_division_locations(data.index, chunksize)
    else:
        locations = [*range(0, nrows, chunksize), nrows]
        divisions = [None] * len(locations)
    return new_collection(FromPandas(data, tuple(divisions), tuple(locations)))
