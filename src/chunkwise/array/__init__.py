"""``chunkwise.array``: NumPy on chunked arrays, larger than memory.

Use it as ``import chunkwise.array as da``; the names follow NumPy and
``dask.array``. Every module below contributes the operations listed in its
``__all__``.
"""

import importlib

from chunkwise.array.chunks import normalize_chunks
from chunkwise.array.core import (
    Array,
    array,
    asanyarray,
    asarray,
    from_array,
)
from chunkwise.array.rechunk import rechunk

_MODULES = (
    "elementwise",
    "reductions",
    "cumulative",
    "slicing",
    "gather",
    "assignment",
    "manipulation",
    "padding",
    "reshaping",
    "creation",
    "grids",
    "blockwise",
    "linalg",
    "einsum",
    "io",
    "overlap",
    "gufunc",
    "lib",
    "sorting",
    "statistics",
    "counting",
)


def _export_all() -> list:
    names = []
    for module_name in _MODULES:
        module = importlib.import_module(f"chunkwise.array.{module_name}")
        for name in getattr(module, "__all__", ()):
            globals()[name] = getattr(module, name)
            names.append(name)
    return names


__all__ = [
    "Array",
    "array",
    "asanyarray",
    "asarray",
    "from_array",
    "normalize_chunks",
    "rechunk",
]
__all__ += _export_all()  # noqa: PLE0605 - each module lists its own names

from chunkwise.array import ma  # noqa: E402, F401, I001  (da.ma.*: its sum, mean... must not join da)
from chunkwise.array import random  # noqa: E402, F401  (da.random.*)
