"""The Array API standard's inspection and data-type functions for ``chunkwise.array``.

``chunkwise.array`` is an Array API namespace (``x.__array_namespace__()``
returns it; ``__array_api_version__`` says which version). This module holds
what the standard asks of a namespace beyond the array operations:

- ``__array_namespace_info__()``: the inspection object (``capabilities``,
  ``default_device``, ``default_dtypes``, ``dtypes``, ``devices``). Arrays live
  on one device, ``"cpu"`` (their blocks are NumPy arrays); data-dependent
  output shapes (boolean masks, ``nonzero``, ``unique_*``) are lazy, with
  unknown (``nan``) lengths until computed, so both capabilities are ``True``;
- ``finfo``/``iinfo``: machine limits as plain Python scalars (NumPy's return
  NumPy scalars);
- ``isdtype``, ``result_type``, ``can_cast``, ``astype``, ``broadcast_shapes``:
  the data-type and shape helpers, accepting chunkwise arrays where the
  standard accepts arrays (``can_cast`` by the standard's promotion, which
  never crosses kinds: :func:`standard_promotion`);
- the standard's names NumPy's API lacks or spells otherwise: the constants
  (``e``, ``inf``, ``nan``, ``pi``, ``newaxis``), ``from_dlpack``, ``concat``,
  ``permute_dims``, ``unstack``, ``cumulative_sum``/``cumulative_prod``
  (``include_initial``), ``unique_all``/``unique_counts``/``unique_inverse``/
  ``unique_values`` (named tuples), ``sort``/``argsort`` with NumPy's
  arguments plus ``descending``, and ``repeat`` with an array of repeats.

What differs from the standard, documented where it happens: unknown lengths
are ``nan``, not ``None``; ``unique_*`` of complex arrays count NaNs as one
value; an ``fft`` axis must be one chunk (refused with ``rechunk`` as the fix). ``repeat`` with an array of repeats gives lengths
unknown (``nan``) until computed.

>>> import chunkwise.array as da
>>> da.__array_namespace_info__().default_dtypes()["real floating"]
dtype('float64')
>>> da.finfo("float32").eps
1.1920928955078125e-07
>>> da.broadcast_shapes((3, 1), (4,))
(3, 4)
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np

from chunkwise.array import manipulation, sorting
from chunkwise.array.axes import normalize_axis
from chunkwise.array.blockwise import blockwise
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, check_device, from_array, implements
from chunkwise.array.counting import unique
from chunkwise.array.creation import full
from chunkwise.array.cumulative import cumprod, cumsum
from chunkwise.array.expr import broadcast_shapes as _broadcast
from chunkwise.array.manipulation import concatenate, flip
from chunkwise.array.reshaping import broadcast_to, ravel, transpose

__all__ = [
    "DEVICE",
    "FloatInfo",
    "IntInfo",
    "NamespaceInfo",
    "UniqueAllResult",
    "UniqueCountsResult",
    "UniqueInverseResult",
    "__array_namespace_info__",
    "argsort",
    "astype",
    "broadcast_shapes",
    "can_cast",
    "concat",
    "cumulative_prod",
    "cumulative_sum",
    "e",
    "finfo",
    "from_dlpack",
    "iinfo",
    "inf",
    "isdtype",
    "nan",
    "newaxis",
    "permute_dims",
    "pi",
    "repeat",
    "result_type",
    "sort",
    "standard_promotion",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
    "unstack",
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


class NamespaceInfo:
    """The Array API inspection object of ``chunkwise.array`` (``__array_namespace_info__()``)."""

    __slots__ = ()

    def capabilities(self) -> dict:
        """What the namespace supports: boolean indexing and data-dependent shapes, lazily.

        ``x[mask]``, ``nonzero`` and the ``unique_*`` functions build plans whose
        output lengths are unknown (``nan`` in ``shape`` and ``chunks``, Dask's
        convention, where the standard writes ``None``) until computed; the
        conformance harness (``tests/array_api``) checks their values.
        """
        return {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}

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


@implements(np.result_type)  # metadata only: np.result_type(numpy_array, chunkwise_array) (xarray's concat)
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


def standard_promotion(dtype1: Any, dtype2: Any) -> np.dtype | None:
    """The standard's promotion of two dtypes, or ``None`` where the standard defines none.

    The standard promotes within a kind (booleans; integers, signed with
    unsigned when a signed type holds both; real and complex floating types)
    and never across kinds (NumPy does: ``int8`` with ``float16``).

    >>> standard_promotion(np.dtype("uint8"), np.dtype("int8")), standard_promotion(np.dtype("int8"), np.dtype("float32"))
    (dtype('int16'), None)
    """
    a, b = np.dtype(dtype1), np.dtype(dtype2)
    groups = ("b", "iu", "fc")
    if not any(a.kind in g and b.kind in g for g in groups):
        return None
    if {a.kind, b.kind} == {"i", "u"} and "uint64" in (a.name, b.name):
        return None
    return np.promote_types(a, b)


def can_cast(from_: Any, to: Any, /) -> bool:
    """Whether ``from_`` (a dtype or an array) casts to dtype ``to`` by the standard's type promotion.

    As the Array API's ``can_cast``: ``to`` must be what the standard's
    promotion of the two gives, so no cast crosses kinds (NumPy's
    ``can_cast(int8, float32)`` is True; the standard's is False).

    >>> can_cast(np.dtype("int8"), np.dtype("int64")), can_cast(np.dtype("int8"), np.dtype("float32"))
    (True, False)
    """
    source, target = np.dtype(from_.dtype if isinstance(from_, Array) else from_), np.dtype(to)
    if source == target:
        return True
    promoted = standard_promotion(source, target)  # ``None == dtype`` is True for NumPy: dtype(None) is float64
    return promoted is not None and promoted == target


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


# --- the standard's constants and function forms ----------------------------------------------

#: The standard's constants, as Python floats (and ``newaxis`` is ``None``, as NumPy's).
e, inf, nan, pi = math.e, math.inf, math.nan, math.pi
newaxis = None


def from_dlpack(x: Any, /, *, device: Any = None, copy: Any = None) -> Array:
    """A chunkwise array (one block) of an object exporting DLPack, as the Array API's ``from_dlpack``.

    >>> from_dlpack(np.arange(3)).compute()
    array([0, 1, 2])
    """
    check_device(device, "from_dlpack")
    if isinstance(x, Array):
        return x
    block = np.from_dlpack(x, copy=copy)
    return from_array(np.array(block) if copy is not False else block, chunks=-1)


def concat(arrays: Any, /, *, axis: int | None = 0) -> Array:
    """Join arrays along an existing ``axis`` (flattened first when ``None``), as the Array API's ``concat``.

    >>> concat([from_array(np.arange(2)), from_array(np.arange(3))]).compute()
    array([0, 1, 0, 1, 2])
    """
    arrays = [asarray(a) for a in arrays]
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    return concatenate(arrays, axis=axis)


def permute_dims(x: Array, /, axes: tuple) -> Array:
    """``x`` with its axes permuted, as the Array API's ``permute_dims`` (NumPy's ``transpose``).

    >>> permute_dims(from_array(np.ones((2, 3, 4))), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return transpose(asarray(x), tuple(axes))


def unstack(x: Array, /, *, axis: int = 0) -> tuple:
    """The slices of ``x`` along ``axis``, as the Array API's ``unstack`` (each a view, lazily).

    >>> [part.compute().tolist() for part in unstack(from_array(np.arange(4).reshape(2, 2)))]
    [[0, 1], [2, 3]]
    """
    x = asarray(x)
    axis = normalize_axis(axis, x.ndim, "unstack")
    check_known_chunks("unstack", x, axes=(axis,), what=f"the array (axis {axis})")
    before = (slice(None),) * axis
    return tuple(x[before + (i,)] for i in range(int(x.shape[axis])))


def _cumulative(x: Any, axis: Any, dtype: Any, include_initial: bool, function: Any, initial: int,
                opname: str) -> Array:
    x = asarray(x)
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"{opname}: axis is required for a {x.ndim}-d array (the standard flattens only 1-d)")
        axis = 0
    axis = normalize_axis(axis, x.ndim, opname)
    out = function(x, axis=axis, dtype=dtype)
    if not include_initial:
        return out
    shape = list(out.shape)
    shape[axis] = 1
    first = full(tuple(shape), initial, dtype=out.dtype)
    return concatenate([first, out], axis=axis)


def cumulative_sum(x: Array, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Array:
    """Cumulative sum along ``axis``, as the Array API's ``cumulative_sum`` (``numpy.cumulative_sum``).

    ``include_initial=True`` starts with the sum of nothing (zero).

    >>> cumulative_sum(from_array(np.arange(1, 5), chunks=3), include_initial=True).compute()
    array([ 0,  1,  3,  6, 10])
    """
    return _cumulative(x, axis, dtype, include_initial, cumsum, 0, "cumulative_sum")


def cumulative_prod(x: Array, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Array:
    """Cumulative product along ``axis``, as the Array API's ``cumulative_prod`` (``numpy.cumulative_prod``).

    >>> cumulative_prod(from_array(np.arange(1, 5), chunks=3), include_initial=True).compute()
    array([ 1,  1,  2,  6, 24])
    """
    return _cumulative(x, axis, dtype, include_initial, cumprod, 1, "cumulative_prod")


def _descending_indices(x: Array, axis: int, stable: bool) -> Array:
    """Indices sorting ``x`` descending along ``axis``, ties in their original order (stable)."""
    flipped = flip(x, axis)
    ascending = flip(sorting.argsort(flipped, axis=axis, stable=stable), axis)
    return (x.shape[axis] - 1) - ascending


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, descending: bool = False,
         stable: Any = None) -> Array:
    """Sorted copy of ``a`` along ``axis``: NumPy's ``sort`` and the Array API's (``descending``, ``stable``).

    Descending order reverses the ascending sort of the reversed array
    (NaNs then come first, as in ``array_api_strict``).

    >>> sort(from_array(np.array([3, 1, 2]), chunks=2), descending=True).compute()
    array([3, 2, 1])
    """
    if not descending:
        return sorting.sort(a, axis=axis, kind=kind, order=order, stable=stable)
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "sort")
    return flip(sorting.sort(flip(x, axis), axis=axis, kind=kind, order=order, stable=stable), axis)


def argsort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, descending: bool = False,
            stable: Any = None) -> Array:
    """Indices that sort ``a`` along ``axis``: NumPy's ``argsort`` and the Array API's (``descending``, ``stable``).

    Descending and stable: equal elements keep their original order.

    >>> argsort(from_array(np.array([1, 3, 1, 2]), chunks=3), descending=True).compute()
    array([1, 3, 0, 2])
    """
    if not descending:
        return sorting.argsort(a, axis=axis, kind=kind, order=order, stable=stable)
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "argsort")
    return _descending_indices(x, axis, stable=True if stable is None else stable)


UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])
UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])


def _unique(x: Any, opname: str, **want: bool) -> tuple:
    x = asarray(x)
    equal_nan = x.dtype.kind == "c"  # the standard: each NaN is a value; for complex NaNs, NumPy's one value
    out = unique(x, equal_nan=equal_nan, **want)
    return out if isinstance(out, tuple) else (out,)


def unique_all(x: Array, /) -> UniqueAllResult:
    """Unique values of ``x`` with first indices, inverse indices (``x``'s shape) and counts (Array API).

    The values have an unknown length (``nan``) until computed; see
    :func:`chunkwise.array.unique`. Each NaN is a value of its own, with a
    count of one, as the standard asks (complex NaNs: one value).

    >>> r = unique_all(from_array(np.array([2, 1, 2]), chunks=2))
    >>> r.values.compute().tolist(), r.indices.compute().tolist(), r.counts.compute().tolist()
    ([1, 2], [1, 0], [1, 2])
    """
    values, indices, inverse, counts = _unique(x, "unique_all", return_index=True, return_inverse=True,
                                               return_counts=True)
    return UniqueAllResult(values, indices, inverse, counts)


def unique_counts(x: Array, /) -> UniqueCountsResult:
    """Unique values of ``x`` and their counts, as the Array API's ``unique_counts`` (see :func:`unique_all`).

    >>> unique_counts(from_array(np.array([2, 1, 2]), chunks=2)).counts.compute().tolist()
    [1, 2]
    """
    return UniqueCountsResult(*_unique(x, "unique_counts", return_counts=True))


def unique_inverse(x: Array, /) -> UniqueInverseResult:
    """Unique values of ``x`` and the inverse indices (``x``'s shape), as the Array API's ``unique_inverse``.

    >>> unique_inverse(from_array(np.array([2, 1, 2]), chunks=2)).inverse_indices.compute().tolist()
    [1, 0, 1]
    """
    return UniqueInverseResult(*_unique(x, "unique_inverse", return_inverse=True))


def unique_values(x: Array, /) -> Array:
    """Unique values of ``x``, as the Array API's ``unique_values`` (see :func:`unique_all`).

    >>> unique_values(from_array(np.array([2, 1, 2]), chunks=2)).compute().tolist()
    [1, 2]
    """
    return _unique(x, "unique_values")[0]


def _repeat_block(block: np.ndarray, repeats: np.ndarray, axis: int) -> np.ndarray:
    return np.repeat(block, repeats, axis=axis)


@implements(np.repeat)  # replaces manipulation.repeat's registration: this one also takes arrays
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Array:
    """Repeat elements along ``axis`` (flattened when ``None``): NumPy's ``repeat`` and the Array API's.

    ``repeats`` an integer: known output chunks (:func:`chunkwise.array.manipulation.repeat`).
    ``repeats`` an array (one count per element along ``axis``, or a single
    one): each block repeats its own elements, so the lengths along ``axis``
    depend on the data and are unknown (``nan``) until computed.

    >>> x = from_array(np.array([1, 2, 3]), chunks=2)
    >>> r = repeat(x, from_array(np.array([2, 0, 1]), chunks=2))
    >>> r.shape, r.compute().tolist()
    ((nan,), [1, 1, 3])
    """
    counts = repeats if isinstance(repeats, Array) else np.asarray(repeats)
    if counts.ndim == 0 or (not isinstance(counts, Array) and counts.size == 1 and counts.dtype.kind in "iu"):
        return manipulation.repeat(a, repeats, axis)
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "repeat")
    counts = asarray(counts)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must hold integers, got dtype {counts.dtype}")
    if counts.ndim != 1 or counts.shape[0] not in (1, x.shape[axis]):
        raise ValueError(
            f"repeat: repeats of shape {counts.shape} must be an integer, or 1-d with one count per element "
            f"along axis {axis} ({x.shape[axis]}) or a single count"
        )
    check_known_chunks("repeat", x, axes=(axis,), what=f"the array (axis {axis})")
    if counts.shape[0] == 1 and x.shape[axis] != 1:
        counts = broadcast_to(counts, (x.shape[axis],))
    counts = counts.rechunk((x.chunks[axis],))
    index = tuple(range(x.ndim))
    unknown = tuple(math.nan for _ in x.chunks[axis])
    return blockwise(_repeat_block, index, x, index, counts, (axis,), axis, None, dtype=x.dtype,
                     adjust_chunks={axis: unknown}, concatenate=True)
