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


def structure_table(frame: Any) -> pd.DataFrame | pd.Series:
    """The structure as a small pandas object of strings: dtypes, then '...' per division."""
    meta = frame._meta
    labels = _division_labels(frame)
    index = pd.Index(labels, name=f"npartitions={frame.npartitions}")
    if isinstance(meta, pd.DataFrame):
        dtypes = [str(t) for t in meta.dtypes]
        rows = [dtypes] + [["..."] * len(dtypes) for _ in labels[1:]]
        return pd.DataFrame(rows, columns=pd.Index(list(meta.columns), dtype=object), index=index)
    values = [str(meta.dtype)] + ["..."] * (len(labels) - 1)
    return pd.Series(values, index=index, dtype=object)


def _kind(frame: Any) -> str:
    return type(frame).__name__


def _footer(frame: Any) -> str:
    meta = frame._meta
    name = frame.expr._funcname
    plan = f"Chunkwise Name: {name}, {frame.npartitions} partitions"
    if isinstance(meta, pd.DataFrame):
        return plan
    return f"Name: {meta.name}, dtype: {meta.dtype}\n{plan}"


def frame_repr(frame: Any) -> str:
    """The text structure block of a DataFrame, Series or Index (nothing is computed)."""
    table = structure_table(frame)
    text = table.to_string()
    body = "\n".join(line.rstrip() for line in text.splitlines())
    return f"Chunkwise {_kind(frame)} Structure:\n{body}\n{_footer(frame)}"


def frame_repr_html(frame: Any) -> str:
    """The structure block as HTML, for Jupyter (nothing is computed)."""
    table = structure_table(frame)
    if isinstance(table, pd.Series):
        table = table.to_frame(name=str(frame._meta.name))
    footer = "<br>".join(html.escape(line) for line in _footer(frame).splitlines())
    return (
        f"<div><strong>Chunkwise {_kind(frame)} Structure:</strong></div>\n"
        f"{table.to_html()}\n<div>{footer}</div>"
    )
