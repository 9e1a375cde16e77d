"""``read_csv`` and ``to_csv``.

Reading splits files into blocks of ``blocksize`` bytes at line boundaries
(see ``text_files`` for how blocks, the header line and ``meta`` are handled);
compressed files are read whole, one partition each. A column projection
(``df[["a", "b"]]``, ``df.a``) is pushed into the read as pandas' ``usecols``.

>>> import os, tempfile, pandas as pd
>>> import chunkwise.dataframe as dd
>>> path = os.path.join(tempfile.mkdtemp(), "data.csv")
>>> pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}).to_csv(path, index=False)
>>> dd.read_csv(path, blocksize=8).b.compute().tolist()
['x', 'y', 'z']
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from chunkwise.dataframe.io.text_files import (
    SAMPLE_BYTES,
    ReadText,
    WriteText,
    plan_blocks,
    read_header,
    sample_meta,
    target_paths,
)
from chunkwise.sizes import parse_bytes

__all__ = ["ReadCSV", "read_csv", "to_csv"]


class ReadCSV(ReadText):
    """A CSV scan (blocks of files); see ``ReadText``."""


def _has_header(kwargs: dict) -> bool:
    header = kwargs.get("header", "infer")
    if header == "infer":
        return kwargs.get("names") is None
    if header is None:
        return False
    if header != 0:
        raise ValueError(
            f"read_csv: header={header!r} is not supported with blocks; use header=0 or None, "
            "or blocksize=None to read whole files"
        )
    return True


def read_csv(
    path: Any,
    blocksize: int | str | None = "64MiB",
    dtype: Any = None,
    usecols: Any = None,
    parse_dates: Any = None,
    include_path_column: bool | str = False,
    compression: str | None = "infer",
    storage_options: dict | None = None,
    sample: int = SAMPLE_BYTES,
    **kwargs: Any,
) -> Any:
    """Read CSV files (a path, a glob or a list) lazily, like ``dask.dataframe.read_csv``.

    - ``blocksize``: bytes per partition (``"64MiB"``); ``None``: one partition
      per file. Blocks split at line boundaries; the header is read once and
      handed to every block. Compressed files (by extension with
      ``compression="infer"``) are one partition each.
    - ``dtype``, ``usecols``, ``parse_dates`` and other keywords go to
      ``pandas.read_csv`` for every block. ``meta`` comes from the first
      ``sample`` bytes of the first file: pass ``dtype=`` when later rows differ.
    - ``include_path_column``: add a categorical column (``"path"`` or the
      name given) holding each row's file.

    Divisions are unknown; each partition has its own ``RangeIndex``.
    """
    from chunkwise.dataframe.core import new_collection

    for bad in ("chunksize", "iterator", "nrows", "skipfooter"):
        if kwargs.get(bad):
            raise ValueError(f"read_csv: {bad}= is not supported; it does not apply to partitioned reads")
    if kwargs.get("index_col") is not None and kwargs.get("index_col") is not False:
        raise ValueError("read_csv: index_col= is not supported; use .set_index(...) after reading")
    for name, value in (("dtype", dtype), ("usecols", usecols), ("parse_dates", parse_dates)):
        if value is not None:
            kwargs[name] = value
    size = None if blocksize is None else parse_bytes(blocksize)
    fs, blocks = plan_blocks("read_csv", path, size, compression, storage_options)
    header = read_header(fs, blocks[0]) if _has_header(kwargs) else b""
    meta = sample_meta(fs, blocks[0], "csv", kwargs, sample)
    path_column = None
    if include_path_column:
        path_column = "path" if include_path_column is True else include_path_column
        if path_column in meta.columns:
            raise ValueError(f"read_csv: include_path_column={path_column!r} names an existing column")
        files = list(dict.fromkeys(fs.unstrip(b.path) for b in blocks))
        meta = meta.assign(**{path_column: pd.Categorical([], categories=files)})
    expr = ReadCSV("csv", fs, tuple(blocks), header, kwargs, meta, None, path_column)
    return new_collection(expr)


def to_csv(
    df: Any,
    path: Any,
    single_file: bool = False,
    index: bool = True,
    storage_options: dict | None = None,
    compute: bool = True,
    compute_kwargs: dict | None = None,
    **kwargs: Any,
) -> Any:
    """Write one CSV file per partition (``*`` in ``path`` is the partition number;
    a path without ``*`` is a directory of ``<i>.part`` files), or with
    ``single_file=True`` all partitions in order into one file.

    Each file is written under a temporary name and renamed when complete.
    Returns the list of files written (``compute=False``: a lazy result).
    """
    from chunkwise.dataframe.core import new_collection

    frame = df.expr
    fs, paths = target_paths("to_csv", path, frame.npartitions, storage_options, single_file, "part")
    kwargs["index"] = index
    expr = WriteText(frame, "csv", fs, tuple(paths), kwargs, single_file)
    result = new_collection(expr)
    if not compute:
        return result
    return [fs.unstrip(p) for p in result.compute(**(compute_kwargs or {}))]
