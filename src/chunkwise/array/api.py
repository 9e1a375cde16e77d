"""The Array API standard's inspection and data-type functions for ``chunkwise.array``.

``chunkwise.array`` is an Array API namespace (``x.__array_namespace__()``
returns it; ``__array_api_version__`` says which version). This module holds
what the standard asks of a namespace beyond the array operations:

- ``__array_namespace_info__()``: the inspection object (``capabilities``,
  ``default_device``, ``default_dtypes``, ``dtypes``, ``devices``). Arrays live
  on one device, ``"cpu"`` (their blocks are NumPy arrays); data-dependent
  output shapes are not supported lazily, so both capabilities that need them
  are ``False``;
- ``finfo``/``iinfo``: machine limits as plain Python scalars (NumPy's return
  NumPy scalars);
- ``isdtype``, ``result_type``, ``can_cast``, ``astype``, ``broadcast_shapes``:
  the data-type and shape helpers, accepting chunkwise arrays where the
  standard accepts arrays.

>>> import chunkwise.array as da
>>> da.__array_namespace_info__().default_dtypes()["real floating"]
dtype('float64')
>>> da.finfo("float32").eps
1.1920928955078125e-07
>>> da.broadcast_shapes((3, 1), (4,))
(3, 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from chunkwise.array.core import Array
from chunkwise.array.expr import broadcast_shapes as _broadcast

__all__ = [
    "DEVICE",
    "FloatInfo",
    "IntInfo",
    "NamespaceInfo",
    "__array_namespace_info__",
    "astype",
    "broadcast_shapes",
    "can_cast",
    "finfo",
    "iinfo",
    "isdtype",
    "result_type",
]

#: The one device chunkwise arrays live on (their blocks are NumPy arrays in host memory).
DEVICE = "cpu"

_KINDS = {
    "bool": ("b",),
    "signed integer": ("i",),
    "unsigned integer": ("u",),
    "integral": ("i", "u"),
    "real floating": ("f",),
    "complex floating": ("c",),
    "numeric": ("i", "u", "f", "c"),
}

_DTYPES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)


def check_device(device: Any, opname: str) -> None:
    """Refuse a device other than ``None`` or ``"cpu"``."""
    if device is not None and device != DEVICE:
        raise ValueError(f"{opname}: chunkwise arrays live on the device 'cpu' only, not {device!r}")


class NamespaceInfo:
    """The Array API inspection object of ``chunkwise.array`` (``__array_namespace_info__()``)."""

    __slots__ = ()

    def capabilities(self) -> dict:
        """What the namespace supports: no data-dependent shapes (plans know every shape)."""
        return {"boolean indexing": False, "data-dependent shapes": False, "max dimensions": 64}

    def default_device(self) -> str:
        return DEVICE

    def devices(self) -> list:
        return [DEVICE]

    def default_dtypes(self, *, device: Any = None) -> dict:
        check_device(device, "default_dtypes")
        return {
            "real floating": np.dtype("float64"),
            "complex floating": np.dtype("complex128"),
            "integral": np.dtype("int64"),
            "indexing": np.dtype("int64"),
        }

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict:
        """The supported dtypes by name, of ``kind`` (a kind name or a tuple of them) when given."""
        check_device(device, "dtypes")
        dtypes = {name: np.dtype(name) for name in _DTYPES}
        if kind is None:
            return dtypes
        return {name: dtype for name, dtype in dtypes.items() if isdtype(dtype, kind)}


def __array_namespace_info__() -> NamespaceInfo:
    """The Array API inspection object; see :class:`NamespaceInfo`."""
    return NamespaceInfo()


@dataclass(frozen=True)
class FloatInfo:
    """Machine limits of a floating dtype, as Python floats (the Array API's ``finfo`` object)."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: np.dtype


@dataclass(frozen=True)
class IntInfo:
    """Machine limits of an integer dtype, as Python ints (the Array API's ``iinfo`` object)."""

    bits: int
    max: int
    min: int
    dtype: np.dtype


def _dtype_of(x: Any) -> np.dtype:
    return x.dtype if isinstance(x, Array) or hasattr(x, "dtype") and not isinstance(x, type) else np.dtype(x)


def finfo(type: Any, /) -> FloatInfo:
    """Machine limits of a floating dtype (or of an array's dtype), as Python floats.

    >>> finfo("float64").max
    1.7976931348623157e+308
    """
    dtype = _dtype_of(type)
    info = np.finfo(dtype)
    return FloatInfo(
        bits=int(info.bits), eps=float(info.eps), max=float(info.max), min=float(info.min),
        smallest_normal=float(info.smallest_normal), dtype=np.dtype(info.dtype),
    )


def iinfo(type: Any, /) -> IntInfo:
    """Machine limits of an integer dtype (or of an array's dtype), as Python ints.

    >>> iinfo("int8").min
    -128
    """
    dtype = _dtype_of(type)
    info = np.iinfo(dtype)
    return IntInfo(bits=int(info.bits), max=int(info.max), min=int(info.min), dtype=dtype)


def isdtype(dtype: Any, kind: Any) -> bool:
    """Whether ``dtype`` is of ``kind``: a dtype, a kind name (``"integral"``, ``"real floating"``, ...)
    or a tuple of them, as the Array API's ``isdtype``.

    >>> isdtype(np.dtype("uint8"), "integral"), isdtype(np.dtype("float32"), ("bool", "complex floating"))
    (True, False)
    """
    dtype = np.dtype(dtype)
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"isdtype: unknown kind {kind!r}; use one of {sorted(_KINDS)} or a dtype")
        return dtype.kind in _KINDS[kind]
    return dtype == np.dtype(kind)


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    """The dtype of the result of an operation on these arrays, dtypes and Python scalars (NumPy's promotion).

    >>> import chunkwise.array as da
    >>> result_type(da.ones(2, dtype="int8"), np.float32)
    dtype('float32')
    """
    items = [x.dtype if isinstance(x, Array) else x for x in arrays_and_dtypes]
    if not items:
        raise ValueError("result_type: at least one array or dtype is required")
    return np.result_type(*items)


def can_cast(from_: Any, to: Any, /) -> bool:
    """Whether ``from_`` (a dtype or an array) casts safely to dtype ``to``, as the Array API's ``can_cast``.

    >>> can_cast(np.dtype("int8"), np.dtype("int64")), can_cast(np.dtype("float64"), np.dtype("int64"))
    (True, False)
    """
    return bool(np.can_cast(from_.dtype if isinstance(from_, Array) else from_, to))


def astype(x: Array, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Array:
    """``x`` converted to ``dtype``, as the Array API's ``astype`` (``x.astype(dtype)``).

    >>> import chunkwise.array as da
    >>> astype(da.ones(3, chunks=2), "int8").dtype
    dtype('int8')
    """
    check_device(device, "astype")
    return x.astype(dtype, copy=copy)


def broadcast_shapes(*shapes: tuple) -> tuple:
    """The shape that arrays of ``shapes`` broadcast to, as ``numpy.broadcast_shapes``.

    >>> broadcast_shapes((2, 1, 3), (5, 1))
    (2, 5, 3)
    """
    try:
        return tuple(int(n) if n == n else n for n in _broadcast(*(tuple(s) for s in shapes)))
    except ValueError as exc:
        raise ValueError(f"broadcast_shapes: {exc}") from None
