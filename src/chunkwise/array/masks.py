"""Masked-ness in array plans: which arrays have ``numpy.ma.MaskedArray`` blocks, known at build time.

Design. Every array expression answers ``expr.masked`` without computing
anything (:attr:`chunkwise.array.expr.ArrayExpr.masked`): whether its blocks
are ``numpy.ma.MaskedArray`` objects. The answer is decided where a mask is
made or dropped, and handed on everywhere else:

- a source says it: ``from_array`` of a ``MaskedArray`` is masked, other
  sources are not;
- a block function declares it (:func:`declare_masked`): the constructors of
  :mod:`chunkwise.array.ma` (``masked_where``, ``masked_invalid``, ...) make
  masked blocks, ``filled``, ``getdata`` and ``getmaskarray`` plain ones;
  ``map_blocks``/``blockwise`` with a masked ``meta=`` (as in Dask:
  ``meta=np.ma.masked_array(np.empty((0,)))``) declare a masked output;
- every other node is masked when one of its array inputs is: elementwise
  work (NumPy's ufuncs keep masks), slicing, reshaping, rechunking,
  concatenating, overlaps and ``map_blocks`` without a declaration.

The generic reductions read the flag when they are built and take the
mask-aware path for a masked input (:mod:`chunkwise.array.reductions`): the
same tree reduction, whose chunk function declares that it takes masked
blocks (:func:`takes_masked`) and reduces only the unmasked values. A
reduction of a masked input that does not take masked blocks is refused when
it is built; a masked block that reaches a plain chunk function anyway (from
a ``map_blocks`` that returns masked blocks without saying so) is refused
when computed, with a message that says how to declare it.

Erring on the masked side is safe: the mask-aware kernels accept plain
blocks (as ``numpy.ma`` functions do), so an operation that drops the masks
of an input it inherited the flag from (``np.where`` on masked blocks) only
costs a little time.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([1.0, -1.0, 3.0, np.nan]), chunks=2)
>>> m = da.ma.masked_invalid(x)
>>> is_masked(x), is_masked(m), is_masked(m + 1), is_masked(da.ma.filled(m, 0))
(False, True, True, False)
>>> float(m.sum())
3.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "MASKED_ATTRIBUTE",
    "data_block",
    "declare_masked",
    "declared_masked",
    "filled_block",
    "is_masked",
    "mask_block",
    "refuse_masked_input",
    "sort_fill_value",
    "takes_masked",
    "with_mask_block",
]

#: The attribute a block function sets to declare the kind of blocks it returns.
MASKED_ATTRIBUTE = "chunkwise_masked_blocks"


def declare_masked(masked: bool, elementwise: bool = False) -> Callable:
    """Decorate a block function that returns masked (``True``) or plain (``False``) blocks.

    ``elementwise``: the function works element by element, so slices are pushed
    below it (``chunkwise.array.slicing.is_elementwise``).
    """

    def decorator(func: Callable) -> Callable:
        setattr(func, MASKED_ATTRIBUTE, bool(masked))
        if elementwise:
            func._chunkwise_elementwise = True  # type: ignore[attr-defined]
        return func

    return decorator


def declared_masked(func: Any) -> bool | None:
    """What ``func`` declares of its blocks (``None``: nothing, masked when an input is).

    >>> declared_masked(filled_block), declared_masked(np.add)
    (False, None)
    """
    value = getattr(func, MASKED_ATTRIBUTE, None)
    if value is None and isinstance(func, functools.partial):
        value = getattr(func.func, MASKED_ATTRIBUTE, None)
    return value


def is_masked(x: Any) -> bool:
    """Whether the chunkwise array (or array expression) ``x`` has masked blocks."""
    expr = getattr(x, "expr", x)
    return bool(getattr(expr, "masked", False))


def takes_masked(chunk: Any) -> bool:
    """Whether a reduction's chunk function reduces masked blocks (a partial with ``masked=True``)."""
    return isinstance(chunk, functools.partial) and bool(chunk.keywords.get("masked"))


def refuse_masked_input(x: Any, opname: str) -> None:
    """Refuse, at build time, an operation that would reduce the masked values of ``x`` as data."""
    if is_masked(x):
        raise TypeError(
            f"{opname}: not supported on a masked array (its blocks are numpy.ma.MaskedArray): it "
            "would read the masked values as data; fill them first (da.ma.filled(x, value)) or "
            "take the data under the mask (da.ma.getdata(x))"
        )


def sort_fill_value(dtype: Any, endwith: bool = True, fill_value: Any = None, opname: str = "sort") -> Any:
    """The value ``numpy.ma.argsort`` fills masked places with before sorting (decided at build time).

    ``fill_value`` when given (it overrides ``endwith``); else, for masked
    values last (``endwith=True``), NaN for floats (it sorts after ``inf``) and
    the dtype's largest value for the rest (``numpy.ma.minimum_fill_value``);
    for masked values first, the dtype's smallest (``-inf`` for floats,
    ``numpy.ma.maximum_fill_value``). Ties between a masked place and an equal
    real value are ordered by position, as a stable sort of the filled data.
    Strings have no such value (``numpy.ma`` fills them with the array's own
    ``fill_value``, known only when computed): refused unless ``fill_value`` is given.

    >>> sort_fill_value(np.dtype("f8")), sort_fill_value(np.dtype("i1")), sort_fill_value(np.dtype("i1"), False)
    (nan, 127, -128)
    """
    dtype = np.dtype(dtype)
    if fill_value is not None:
        return fill_value
    try:
        if endwith:
            fill = np.nan if np.issubdtype(dtype, np.floating) else np.ma.minimum_fill_value(dtype)
        else:
            fill = np.ma.maximum_fill_value(dtype)
    except TypeError:
        fill = None
    if fill is None:  # strings: numpy.ma fills with each array's own fill_value, not known when built
        raise TypeError(
            f"{opname}: cannot sort a masked array of dtype {dtype} (it has no extreme value to sort "
            "the masked values last or first); pass fill_value=, or fill the array first "
            "(da.ma.filled(x, value))"
        )
    return fill


# --- block functions that make or drop masks --------------------------------------------------


@declare_masked(False, elementwise=True)
def filled_block(block: Any, fill_value: Any = None) -> np.ndarray:
    """``numpy.ma.filled``: the data with masked places set to ``fill_value`` (a plain array)."""
    return np.ma.filled(block, fill_value)


@declare_masked(False, elementwise=True)
def data_block(block: Any) -> np.ndarray:
    """``numpy.ma.getdata``: the data under the mask (a plain array)."""
    return np.ma.getdata(block)


@declare_masked(False, elementwise=True)
def mask_block(block: Any) -> np.ndarray:
    """``numpy.ma.getmaskarray``: the mask as a full boolean array."""
    return np.ma.getmaskarray(block)


@declare_masked(True, elementwise=True)
def with_mask_block(block: Any, mask: Any) -> np.ma.MaskedArray:
    """``block`` (its data) masked where ``mask`` is true."""
    return np.ma.masked_array(np.ma.getdata(block), mask=np.asarray(mask, dtype=bool))
