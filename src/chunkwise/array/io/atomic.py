"""How a failed write is kept from looking complete: write aside, or mark incomplete.

Failed writes never look complete. At a local path a writer builds its result
under a hidden sibling name (:func:`sibling_path`) and renames it into place
when the last block has landed. Where nothing can be renamed (fsspec URLs,
store objects, existing zarr arrays or HDF5 files), the written array carries
the attribute :data:`INCOMPLETE_ATTRIBUTE` (its value says which write, from
:func:`incomplete_note`) until the last block lands, and readers refuse it.
``to_zarr`` and ``to_hdf5`` use both; the marks themselves are set and
removed by each writer, which knows its format's attributes.

>>> import os
>>> os.path.basename(sibling_path("/data/x.zarr", "writing")).startswith(".x.zarr.chunkwise-writing-")
True
"""

from __future__ import annotations

import os
import time
import uuid

__all__ = ["INCOMPLETE_ATTRIBUTE", "incomplete_note", "sibling_path"]


INCOMPLETE_ATTRIBUTE = "chunkwise_incomplete"
"""The attribute that marks an array whose write has not finished (``from_zarr`` refuses it)."""


def sibling_path(path: str, what: str) -> str:
    """A hidden, unique name beside ``path`` (``.NAME.chunkwise-WHAT-<id>``) to write aside."""
    parent, base = os.path.split(path)
    return os.path.join(parent, f".{base}.chunkwise-{what}-{uuid.uuid4().hex[:12]}")


def incomplete_note(operation: str) -> str:
    """The value of :data:`INCOMPLETE_ATTRIBUTE` for a write by ``operation`` starting now."""
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"a chunkwise {operation} write started at {started} has not finished (it failed, or was not computed)"
