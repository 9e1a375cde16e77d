"""``chunkwise.array``: NumPy on chunked arrays, larger than memory.

Use it as ``import chunkwise.array as da``; the names follow NumPy and
``dask.array``. Every module below contributes the operations listed in its
``__all__``; the submodules ``linalg``, ``fft`` and ``random`` are namespaces
of their own (``da.linalg.qr``).

The package is an Array API namespace (``x.__array_namespace__()``; version
``__array_api_version__``; inspection through ``__array_namespace_info__()``,
see :mod:`chunkwise.array.api`). ``dir(da)`` and ``__all__`` list the public
names only; the implementation modules (``core``, ``gather``, ...) stay
importable as ``chunkwise.array.core`` but are not advertised.
"""

import importlib as _importlib

import numpy as _np

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
    "contraction",
    "einsum",
    "io",
    "overlap",
    "finite_differences",
    "gufunc",
    "lib",
    "sorting",
    "statistics",
    "counting",
)


#: Plan nodes and helpers that modules list in ``__all__`` for their siblings, not for users.
_NOT_PUBLIC = frozenset(
    {"Reduction", "Cumulative", "BlockView", "VIndex", "getitem", "setitem", "with_computed_chunks",
     "reduction_kind", "with_reduced_axes"}
)


#: NumPy's functions whose Array API forms (:mod:`chunkwise.array.api`) take their place in ``da``:
#: the same arguments and more (``descending``; an array of ``repeats``).
_API_FORMS = frozenset({"argsort", "repeat", "sort"})


def _export_all() -> list:
    names = []
    for module_name in _MODULES:
        module = _importlib.import_module(f"chunkwise.array.{module_name}")
        for name in getattr(module, "__all__", ()):
            if name in _NOT_PUBLIC or name in _API_FORMS:
                continue
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

from chunkwise.array import (  # noqa: E402  (da.fft.*, da.linalg.*, da.random.*)
    fft,
    linalg,
    ma,
    random,
)
from chunkwise.array.api import (  # noqa: E402  (the Array API's forms; sort/argsort add ``descending``)
    __array_namespace_info__,
    argsort,
    astype,
    broadcast_shapes,
    can_cast,
    concat,
    cumulative_prod,
    cumulative_sum,
    e,
    finfo,
    from_dlpack,
    iinfo,
    inf,
    isdtype,
    nan,
    newaxis,
    permute_dims,
    pi,
    repeat,
    result_type,
    sort,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
    unstack,
)
from chunkwise.array.linalg.matrices import diagonal, kron, matrix_transpose, trace  # noqa: E402
from chunkwise.base import compute  # noqa: E402  (as dask.array.compute: results computed together)

__array_api_version__ = "2025.12"

# The standard's data types as namespace names (``da.float64``, ``da.bool``): NumPy's own,
# so ``xp.bool`` in array-agnostic code (xarray's skipna reductions) means what it does for NumPy.
_DTYPE_NAMES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)
globals().update({_name: getattr(_np, _name) for _name in _DTYPE_NAMES})

__all__ += [
    "__array_api_version__",
    "__array_namespace_info__",
    "argsort",
    "astype",
    "broadcast_shapes",
    "can_cast",
    "compute",
    "concat",
    "cumulative_prod",
    "cumulative_sum",
    "diagonal",
    "e",
    "fft",
    "finfo",
    "from_dlpack",
    "iinfo",
    "inf",
    "isdtype",
    "kron",
    "linalg",
    "ma",
    "matrix_transpose",
    "nan",
    "newaxis",
    "permute_dims",
    "pi",
    "random",
    "repeat",
    "result_type",
    "sort",
    "trace",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
    "unstack",
]
__all__ += list(_DTYPE_NAMES)
__all__.sort()


def __dir__() -> list:
    return list(__all__)
