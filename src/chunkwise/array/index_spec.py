"""Index normalization shared by basic slicing (``slicing``), gather and assignment.

Shared by the array modules. An index is expanded once, at build time, against the array's
shape: ``Ellipsis`` expanded, trailing ``:`` added, ints and slices checked and
made concrete (``IndexError`` as in NumPy for out-of-bounds integers).

>>> expand_index((0, Ellipsis), 3, "getitem")
[0, slice(None, None, None), slice(None, None, None)]
>>> normalize_slice(slice(None, None, -1), 4, 0, "getitem")
slice(3, None, -1)
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array
from chunkwise.array.utils import is_nan

__all__ = [
    "FULL",
    "as_int_array",
    "check_known_length",
    "check_mask_shape",
    "expand_index",
    "index_int",
    "item_axes",
    "item_out_axes",
    "normalize_slice",
    "slice_length",
]

#: The whole axis (a normalized ``:``).
FULL = slice(None)


def check_known_length(length: Any, axis: int, op: str, use: str) -> None:
    """Refuse ``use`` (an index on ``axis``) when the axis length is unknown (``nan``)."""
    if is_nan(length):
        check_known_chunks(op, ((length,),), what=f"axis {axis}", detail=f"; {use} needs them")


def index_int(value: Any, length: Any, axis: int, op: str) -> int:
    """``value`` as a non-negative int inside ``[0, length)``; IndexError like NumPy's."""
    check_known_length(length, axis, op, f"indexing it with the integer {value}")
    i = operator.index(value)
    if not -length <= i < length:
        raise IndexError(f"index {i} is out of bounds for axis {axis} with size {length}")
    return i + length if i < 0 else i


def normalize_slice(s: slice, length: Any, axis: int, op: str) -> slice:
    """A slice with concrete ``start``/``step`` (``slice(None)`` for the whole axis)."""
    for part in (s.start, s.stop, s.step):
        if part is not None and not isinstance(part, (numbers.Integral, np.integer)):
            try:
                operator.index(part)
            except TypeError:
                raise TypeError(
                    f"{op}: slice indices must be integers or None, got {part!r} (axis {axis})"
                ) from None
    if s.step is not None and operator.index(s.step) == 0:
        raise ValueError("slice step cannot be zero")
    if is_nan(length):
        if s.start in (None, 0) and s.stop is None and s.step in (None, 1):
            return FULL
        check_known_length(length, axis, op, f"slicing it with {s}")
    start, stop, step = slice(
        None if s.start is None else operator.index(s.start),
        None if s.stop is None else operator.index(s.stop),
        None if s.step is None else operator.index(s.step),
    ).indices(length)
    n = len(range(start, stop, step))
    if n == length and step == 1:
        return FULL
    if n == 0:
        return slice(0, 0, 1)
    stop = start + n * step
    return slice(start, None if stop < 0 else stop, step)


def slice_length(s: slice, length: Any) -> Any:
    if s == FULL:
        return length
    return len(range(*s.indices(length)))


def as_int_array(value: Any) -> np.ndarray | None:
    """``value`` as an integer or boolean NumPy array, or ``None`` when it is not array-like."""
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.size == 0 and arr.dtype.kind not in "biu":
            arr = arr.astype(np.intp)
        if arr.dtype.kind not in "biu":
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                f"integer or boolean arrays are valid indices; got an array of dtype {arr.dtype}"
            )
        return arr
    return None


def expand_index(index: Any, ndim: int, op: str) -> list:
    """The index as a list of items, ``Ellipsis`` expanded and trailing ``:`` added.

    Items are ints, slices, ``None``, ``("bool", value)`` (a Python/NumPy bool), NumPy
    integer or boolean arrays, and chunkwise arrays.
    """
    if not isinstance(index, tuple):
        index = (index,)
    items: list = []
    consumed = 0
    ellipsis_at = None
    for item in index:
        if item is Ellipsis:
            if ellipsis_at is not None:
                raise IndexError("an index can only have a single ellipsis ('...')")
            ellipsis_at = len(items)
            continue
        if item is None or isinstance(item, slice):
            items.append(item)
            consumed += item is not None
        elif isinstance(item, (bool, np.bool_)):
            items.append(("bool", bool(item)))
        elif isinstance(item, Array):
            if item.dtype == bool and item.ndim == 0:
                raise NotImplementedError(f"{op}: a 0-d chunkwise boolean index is not supported")
            if item.dtype == bool:
                items.append(item)
                consumed += item.ndim
            elif item.dtype.kind in "iu":
                items.append(item)
                consumed += 1
            else:
                raise IndexError(
                    f"{op}: a chunkwise index must hold integers or booleans, got dtype {item.dtype}"
                )
        else:
            arr = as_int_array(item)
            if arr is not None:
                if arr.dtype == bool and arr.ndim == 0:
                    items.append(("bool", bool(arr)))
                    continue
                items.append(arr)
                consumed += arr.ndim if arr.dtype == bool else 1
                continue
            try:
                items.append(operator.index(item))
            except TypeError:
                raise IndexError(
                    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
                    f"integer or boolean arrays are valid indices; got {type(item).__name__}"
                ) from None
            consumed += 1
    if consumed > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed"
        )
    fill = [FULL] * (ndim - consumed)
    if ellipsis_at is None:
        return items + fill
    return items[:ellipsis_at] + fill + items[ellipsis_at:]


def item_axes(item: Any) -> int:
    """How many input axes an expanded index item consumes."""
    if item is None or type(item) is tuple:
        return 0
    if isinstance(item, (np.ndarray, Array)):
        return item.ndim if item.dtype == bool else 1
    return 1


def check_mask_shape(mask_shape: tuple, shape: tuple, axis: int) -> None:
    for j, m in enumerate(mask_shape):
        n = shape[axis + j]
        if not (is_nan(n) or is_nan(m)) and n != m:
            raise IndexError(
                f"boolean index did not match indexed array along axis {axis + j}; size of axis "
                f"is {n} but size of corresponding boolean axis is {m}"
            )


def item_out_axes(item: Any) -> int:
    if item is None or type(item) is tuple or isinstance(item, slice):
        return 1
    return 0
