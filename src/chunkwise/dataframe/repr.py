"""Structure reprs of dataframe collections, computed from metadata only (no task runs).

Like Dask's ``Dask DataFrame Structure:`` block: a table whose header is the
columns, whose first row is the dtypes, and whose other rows are the
divisions (``...`` between the first and last ones; blank when unknown);
then the number of partitions. ``_repr_html_`` shows the same as an HTML
table for Jupyter.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]}), npartitions=2)
>>> print(repr(df))
Chunkwise DataFrame Structure:
                   x    y
npartitions=2
0              int64  str
2                ...  ...
2                ...  ...
Chunkwise Name: frompandas, 2 partitions
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

__all__ = ["frame_repr", "frame_repr_html", "structure_table"]


def _division_labels(frame: Any) -> list:
    divisions = frame.divisions
    if frame.known_divisions:
        return [str(d) for d in divisions]
    return [""] * len(divisions)


def structure_table(frame: Any) -> pd.DataFrame:
    """The structure as a small pandas frame of strings: dtypes, then '...' per division."""
    meta = frame._meta
    if isinstance(meta, pd.DataFrame):
        dtypes = [str(t) for t in meta.dtypes]
        columns = list(meta.columns)
    else:
        dtypes = [str(meta.dtype)]
        columns = [meta.name if meta.name is not None else ""]
    labels = _division_labels(frame)
    rows = [dtypes] + [["..."] * len(dtypes) for _ in labels[1:]]
    index = pd.Index(labels, name=f"npartitions={frame.npartitions}")
    return pd.DataFrame(rows, columns=pd.Index(columns, dtype=object), index=index)


def _kind(frame: Any) -> str:
    return type(frame).__name__


def frame_repr(frame: Any) -> str:
    """The text structure block of a DataFrame, Series or Index."""
    table = structure_table(frame)
    body = "\n".join(line.rstrip() for line in table.to_string().splitlines())
    name = frame.expr._funcname
    return (
        f"Chunkwise {_kind(frame)} Structure:\n{body}\n"
        f"Chunkwise Name: {name}, {frame.npartitions} partitions"
    )


def frame_repr_html(frame: Any) -> str:
    """The structure block as HTML (Jupyter)."""
    table = structure_table(frame).to_html()
    name = html.escape(str(frame.expr._funcname))
    return (
        f"<div><strong>Chunkwise {_kind(frame)} Structure:</strong></div>\n{table}\n"
        f"<div>Chunkwise Name: {name}, {frame.npartitions} partitions</div>"
    )
