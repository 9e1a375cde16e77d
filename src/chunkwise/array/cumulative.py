"""Cumulative sums and products (cumsum, cumprod, nancumsum, nancumprod) and ``diff``.

Cumulative sums (:class:`Cumulative`) run ``cumsum`` inside each block, then a
sequential carry along the axis. :func:`diff` reads one element from the next
block.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> da.cumsum(x, axis=1).compute()[2]
array([ 8, 17, 27, 38])
>>> da.diff(x, axis=0).compute()[0]
array([4, 4, 4, 4])
"""

from __future__ import annotations

import builtins
import functools
import importlib
import numbers
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array import manipulation
from chunkwise.array.axes import normalize_axis
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, elemwise, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.masks import filled_block, is_masked, mask_block, with_mask_block
from chunkwise.array.treereduce import numpy_dtype, refuse_extra
from chunkwise.core.graph import Ref, Task

__all__ = [
    "Cumulative",
    "cumprod",
    "cumsum",
    "diff",
    "nancumprod",
    "nancumsum",
]


# --- cumulative reductions -------------------------------------------------------------------


class Cumulative(ArrayExpr):
    """``func`` (``np.cumsum``, ...) along ``axis`` within blocks, then a carry across blocks.

    Keys: ``(name, *index)`` outputs; ``(f"{name}-local", *index)`` holds the
    in-block result of blocks after the first along the axis;
    ``(f"{name}-carry", *index)`` the running total (``binop`` of the last
    elements of the preceding blocks), one slice thin.
    """

    _parameters = ("array", "func", "binop", "axis", "dtype_", "funcname")

    @property
    def _funcname(self) -> str:
        return self.funcname

    def _chunks(self) -> tuple:
        return self.array.chunks

    def _dtype(self) -> Any:
        return self.dtype_

    def _owned_names(self):
        return (self.name, f"{self.name}-local", f"{self.name}-carry")

    def _push_slice(self, parent: Any, dependents: Any) -> Any:
        # ``cumsum(x)[k]`` is ``sum(x[:k + 1])`` (chunkwise.array.rewrites, rule 3).
        if type(self) is not Cumulative:
            return None
        return importlib.import_module("chunkwise.array.rewrites").index_cumulative(self, parent, dependents)

    def _task(self, key: Hashable) -> Task:
        name, index = key[0], key[1:]
        axis = self.axis
        j = index[axis]
        block = Ref((self.array.name, *index))
        if name == f"{self.name}-local" or (name == self.name and j == 0):
            return Task(key, _cumulative_block, block, self.func, axis, self.dtype)
        before = (*index[:axis], j - 1, *index[axis + 1:])
        if name == f"{self.name}-carry":
            previous = Ref((self.name, *before)) if j == 1 else Ref((f"{self.name}-local", *before))
            carry = Ref((f"{self.name}-carry", *before)) if j > 1 else None
            return Task(key, _next_carry, carry, previous, axis, self.binop)
        return Task(
            key, _apply_carry, Ref((f"{self.name}-local", *index)),
            Ref((f"{self.name}-carry", *index)), self.binop,
        )


def _cumulative_block(block, func, axis, dtype):
    return func(block, axis=axis, dtype=dtype)


def _next_carry(carry, previous, axis, binop):
    if previous.shape[axis] == 0:
        return carry
    last = np.take(previous, [-1], axis=axis)
    return last if carry is None else binop(carry, last)


def _apply_carry(local, carry, binop):
    if carry is None:
        return local
    # carry on the left: sums of str objects concatenate, and order matters there
    return binop(carry, local).astype(local.dtype, copy=False)


def _cumulative(a, opname, func, binop, axis, dtype, out):
    refuse_extra(opname, out)
    x = asarray(a)
    if axis is None:
        if x.ndim != 1:
            x = manipulation.ravel(x)
        axis = 0
    axis = normalize_axis(axis, x.ndim, opname)
    if is_masked(x):
        # numpy.ma: the masked values count as the identity, and the result keeps the mask
        identity = 0 if binop is np.add else 1
        data = elemwise(filled_block, x, identity, dtype=x.dtype)
        total = _cumulative(data, opname, func, binop, axis, dtype, None)
        return elemwise(with_mask_block, total, elemwise(mask_block, x, dtype=bool), dtype=total.dtype)
    kwargs = {} if dtype is None else {"dtype": np.dtype(dtype)}
    out_dtype = numpy_dtype(opname, func, x.dtype, **kwargs)
    return Array(Cumulative(x.expr, func, binop, axis, out_dtype, opname))


@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (flattened when ``None``), as ``numpy.cumsum``.

    >>> import numpy as np
    >>> cumsum(asarray(np.arange(5), chunks=2)).compute()
    array([ 0,  1,  3,  6, 10])
    """
    return _cumulative(a, "cumsum", np.cumsum, np.add, axis, dtype, out)


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product along ``axis`` (flattened when ``None``), as ``numpy.cumprod``.

    >>> import numpy as np
    >>> cumprod(asarray(np.arange(1, 5), chunks=2)).compute()
    array([ 1,  2,  6, 24])
    """
    return _cumulative(a, "cumprod", np.cumprod, np.multiply, axis, dtype, out)


@implements(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum treating NaN as zero, as ``numpy.nancumsum``.

    >>> import numpy as np
    >>> nancumsum(asarray(np.array([1.0, np.nan, 2.0]), chunks=2)).compute()
    array([1., 1., 3.])
    """
    return _cumulative(a, "nancumsum", np.nancumsum, np.add, axis, dtype, out)


@implements(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product treating NaN as one, as ``numpy.nancumprod``.

    >>> import numpy as np
    >>> nancumprod(asarray(np.array([2.0, np.nan, 3.0]), chunks=2)).compute()
    array([2., 2., 6.])
    """
    return _cumulative(a, "nancumprod", np.nancumprod, np.multiply, axis, dtype, out)


# --- diff ------------------------------------------------------------------------------------


class Diff(ArrayExpr):
    """First difference along ``axis``: each block reads the first element of the next non-empty block."""

    _parameters = ("array", "axis", "dtype_")

    @property
    def _funcname(self) -> str:
        return "diff"

    def _dtype(self) -> Any:
        return self.dtype_

    @functools.cached_property
    def _next_nonempty(self) -> tuple:
        """For each block along the axis, the next block with elements (or None)."""
        lengths = self.array.chunks[self.axis]
        out: list = [None] * len(lengths)
        following = None
        for j in range(len(lengths) - 1, -1, -1):
            out[j] = following
            if lengths[j] > 0:
                following = j
        return tuple(out)

    def _chunks(self) -> tuple:
        lengths = self.array.chunks[self.axis]
        following = self._next_nonempty
        axis_chunks = tuple(
            n if following[j] is not None else builtins.max(n - 1, 0) for j, n in enumerate(lengths)
        )
        return (*self.array.chunks[: self.axis], axis_chunks, *self.array.chunks[self.axis + 1:])

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        axis = self.axis
        nxt = self._next_nonempty[index[axis]]
        block = Ref((self.array.name, *index))
        if nxt is None or self.array.chunks[axis][index[axis]] == 0:
            return Task(key, _diff_block, block, None, axis)
        neighbour = Ref((self.array.name, *index[:axis], nxt, *index[axis + 1:]))
        return Task(key, _diff_block, block, neighbour, axis)


def _diff_block(block, neighbour, axis):
    if neighbour is not None:
        block = np.concatenate([block, np.take(neighbour, [0], axis=axis)], axis=axis)
    return np.diff(block, axis=axis)


def _as_edge(value: Any, x: Array, axis: int) -> Any:
    """``prepend``/``append`` as an array with the shape of ``x`` except length 1 (or more) on ``axis``."""
    if isinstance(value, Array):
        if value.ndim == 0:
            shape = tuple(1 if d == axis else s for d, s in enumerate(x.shape))
            value = value.reshape((1,) * x.ndim)
            return manipulation.broadcast_to(value, shape)
        return value
    value = np.asarray(value)
    if value.ndim == 0:
        shape = tuple(1 if d == axis else s for d, s in enumerate(x.shape))
        value = np.broadcast_to(value, shape)
    return asarray(value, chunks=tuple(-1 if d == axis else x.chunks[d] for d in range(x.ndim)))


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """The ``n``-th discrete difference along ``axis``, as ``numpy.diff``.

    >>> import numpy as np
    >>> diff(asarray(np.array([1, 4, 9, 16]), chunks=3)).compute()
    array([3, 5, 7])
    """
    x = asarray(a)
    if not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"diff: order n must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if x.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, x.ndim, "diff")
    if n == 0:
        return x
    edges = [v for v in (prepend, append) if v is not np._NoValue]
    if edges:
        parts = []
        if prepend is not np._NoValue:
            parts.append(_as_edge(prepend, x, axis))
        parts.append(x)
        if append is not np._NoValue:
            parts.append(_as_edge(append, x, axis))
        x = manipulation.concatenate(parts, axis=axis)
    check_known_chunks("diff", x, axes=(axis,), detail=" along the axis")
    dtype = np.diff(np.zeros((2,), dtype=x.dtype)).dtype
    expr = x.expr
    for _ in range(int(n)):
        expr = Diff(expr, axis, dtype)
    return Array(expr)
