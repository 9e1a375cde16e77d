"""Axis arguments, checked and normalized one way for every array operation.

Shared by the array modules. ``normalize_axis`` reads one axis (an ``int``),
``normalize_axes`` an ``int``, a sequence of them, or ``None`` (every axis).
Errors are NumPy's: ``TypeError`` for a non-integer, ``numpy.exceptions.AxisError``
(a ``ValueError`` and an ``IndexError``) out of range, ``ValueError`` for a
repeated axis; each message names the operation.

>>> normalize_axis(-1, 3, "moveaxis")
2
>>> normalize_axes(None, 2, "sum"), normalize_axes((-1, 0), 3, "transpose")
((0, 1), (2, 0))
>>> normalize_axes((0, 0), 2, "sum")
Traceback (most recent call last):
...
ValueError: sum: repeated axis (duplicate value) in `axis`: (0, 0)
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

__all__ = ["normalize_axes", "normalize_axis"]


def normalize_axis(axis: Any, ndim: int, opname: str, argname: str = "axis") -> int:
    """One ``axis`` (negative counts from the end) as an int in ``[0, ndim)``."""
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{opname}: {argname} must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        prefix = opname if argname == "axis" else f"{opname}: {argname}"
        raise np.exceptions.AxisError(axis, ndim, prefix)
    return axis % ndim


def normalize_axes(axes: Any, ndim: int, opname: str, argname: str = "axis") -> tuple:
    """``axes`` (``None``: all, an int, or a sequence of ints) as a tuple of axes, in the given order."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, (numbers.Integral, np.integer)):
        items: tuple = (axes,)
    else:
        try:
            items = tuple(axes)
        except TypeError:
            items = (axes,)
    out = []
    for a in items:
        if not isinstance(a, (numbers.Integral, np.integer)) or isinstance(a, (bool, np.bool_)):
            raise TypeError(
                f"{opname}: {argname} must be an int, a tuple of ints or None, got {axes!r}"
            )
        out.append(normalize_axis(a, ndim, opname, argname))
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated axis (duplicate value) in `{argname}`: {axes!r}")
    return tuple(out)
