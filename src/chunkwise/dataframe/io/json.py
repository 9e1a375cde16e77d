"""``read_json`` and ``to_json`` for JSON lines (one record per line).

With ``lines=True`` files split into blocks at line boundaries, as
``read_csv`` does (without a header); otherwise, and for compressed files,
each file is one partition.

>>> import os, tempfile, pandas as pd
>>> import chunkwise.dataframe as dd
>>> path = os.path.join(tempfile.mkdtemp(), "data.jsonl")
>>> pd.DataFrame({"a": [1, 2, 3]}).to_json(path, orient="records", lines=True)
>>> dd.read_json(path, blocksize=10).a.compute().tolist()
[1, 2, 3]
"""

from __future__ import annotations

from typing import Any

from chunkwise.dataframe.io.text_files import (
    SAMPLE_BYTES,
    ReadText,
    WriteText,
    plan_blocks,
    sample_meta,
    target_paths,
)
from chunkwise.sizes import parse_bytes

__all__ = ["ReadJSON", "read_json", "to_json"]


class ReadJSON(ReadText):
    """A JSON scan (blocks of JSON-lines files, or whole files); see ``ReadText``."""


def read_json(
    path: Any,
    lines: bool = True,
    orient: str = "records",
    blocksize: int | str | None = None,
    compression: str | None = "infer",
    storage_options: dict | None = None,
    sample: int = SAMPLE_BYTES,
    **kwargs: Any,
) -> Any:
    """Read JSON files (a path, a glob or a list) lazily, like ``dask.dataframe.read_json``.

    ``blocksize`` (bytes, e.g. ``"64MiB"``) splits JSON-lines files at line
    boundaries; ``None`` (default) gives one partition per file. Other keywords
    go to ``pandas.read_json``. ``meta`` comes from the first ``sample`` bytes.
    """
    from chunkwise.dataframe.core import new_collection

    if blocksize is not None and not lines:
        raise ValueError("read_json: blocksize= needs lines=True (JSON lines); use blocksize=None")
    kwargs.update(lines=lines, orient=orient)
    size = None if blocksize is None else parse_bytes(blocksize)
    fs, blocks = plan_blocks("read_json", path, size, compression, storage_options)
    meta = sample_meta(fs, blocks[0], "json", kwargs, sample if lines else -1)
    expr = ReadJSON("json", fs, tuple(blocks), b"", kwargs, meta, None, None)
    return new_collection(expr)


def to_json(
    df: Any,
    path: Any,
    lines: bool = True,
    orient: str = "records",
    storage_options: dict | None = None,
    compute: bool = True,
    compute_kwargs: dict | None = None,
    **kwargs: Any,
) -> Any:
    """Write one JSON file per partition (``*`` in ``path`` is the partition number;
    a path without ``*`` is a directory of ``<i>.part`` files), each under a
    temporary name, renamed when complete. Returns the list of files written.
    """
    from chunkwise.dataframe.core import new_collection

    frame = df.expr
    fs, paths = target_paths("to_json", path, frame.npartitions, storage_options, False, "part")
    kwargs.update(lines=lines, orient=orient)
    expr = WriteText(frame, "json", fs, tuple(paths), kwargs, False)
    result = new_collection(expr)
    if not compute:
        return result
    return [fs.unstrip(p) for p in result.compute(**(compute_kwargs or {}))]
