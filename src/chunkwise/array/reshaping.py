"""Changing the shape: transpose, reshape, squeeze, expand_dims, atleast_*d, broadcast_to ...

Every operation here changes the shape or the order of the axes without moving
data between blocks: each output block is one input block, transposed,
reshaped, squeezed or broadcast (after rechunking only the axes that need it),
and nothing per block is built until the plan is lowered.

- ``transpose``/``swapaxes``/``moveaxis``: block ``(j, i)`` of the output is
  the transposed block ``(i, j)`` of the input; a transpose of a transpose
  simplifies to one transpose (or to nothing).
- ``reshape`` (C order): each output block is one input block, reshaped. Axes
  that are merged or split may need rechunking first, and only those: merging
  ``(a, b) -> a*b`` needs ``b`` in one block (the blocks along ``a`` shrink to
  keep the block size), splitting ``a*b -> (a, b)`` needs block boundaries on
  the axis at multiples of ``b`` (or, failing that, a regular layout).
- ``squeeze``/``expand_dims``/``atleast_*d``: length-1 axes dropped or added,
  block by block.
- ``broadcast_to``/``broadcast_arrays``: stretched axes read input block 0.

Joining, ``flip``/``roll``/``tile``/``pad``, ``repeat`` and ``tril``/``triu``
are in ``chunkwise.array.manipulation``, which builds on the helpers here.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> x.T.chunks
((2, 2), (2, 1))
>>> x.reshape(4, 3).compute()[-1].tolist()
[9, 10, 11]
>>> da.expand_dims(x, 0).chunks
((1,), (2, 1), (2, 2))
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes, normalize_axis
from chunkwise.array.chunks import (
    check_known_chunks,
    chunk_boundaries,
    has_unknown,
    normalize_chunks,
    same_chunks,
)
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.expr import ArrayExpr, broadcast_shapes
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.utils import is_nan
from chunkwise.core.graph import Ref, Task

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_arrays",
    "broadcast_to",
    "expand_dims",
    "moveaxis",
    "ravel",
    "reshape",
    "squeeze",
    "swapaxes",
    "transpose",
]


# --- helpers --------------------------------------------------------------------------


def full_block(shape: tuple, value: Any, dtype: np.dtype) -> np.ndarray:
    if math.prod(shape) == 0 or value is None:
        return np.empty(shape, dtype=dtype)
    return np.full(shape, value, dtype=dtype)


def regular_chunks(size: int, length: int) -> tuple:
    if size == 0:
        return (0,)
    full, rest = divmod(size, length)
    return (length,) * full + ((rest,) if rest else ())


class _Constant(ArrayExpr):
    """An array of one value (``None``: uninitialized), built without any input."""

    _parameters = ("chunks", "value", "dtype")
    _operand_only = ("chunks", "dtype")

    def _chunks(self) -> tuple:
        return self.operand("chunks")

    def _dtype(self) -> Any:
        return self.operand("dtype")

    def _task(self, key: Hashable) -> Task:
        return Task(key, full_block, self.block_shape(key[1:]), self.value, self.dtype)


def _empty(shape: tuple, dtype: Any) -> Array:
    return Array(_Constant(tuple((int(s),) for s in shape), None, np.dtype(dtype)))


def target_chunks(exprs: list, axis_of: Any, ndim: int, opname: str) -> list:
    """Per output axis, the chunks of the largest input that is not broadcast on it."""
    target: list = [None] * ndim
    for out_axis in range(ndim):
        for e in sorted(exprs, key=lambda e: -(0 if is_nan(e.nbytes) else e.nbytes)):
            axis = axis_of(e, out_axis)
            if axis is not None:
                target[out_axis] = e.chunks[axis]
                break
    return target


# --- transpose --------------------------------------------------------------------------


class Transpose(ArrayExpr):
    """The input with its axes permuted: output axis ``i`` is input axis ``axes[i]``."""

    _parameters = ("array", "axes")

    def _chunks(self) -> tuple:
        return tuple(self.array.chunks[a] for a in self.axes)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _simplify_down(self) -> ArrayExpr | None:
        if self.axes == tuple(range(len(self.axes))):
            return self.array
        inner = self.array
        if isinstance(inner, Transpose):
            composed = tuple(inner.axes[a] for a in self.axes)
            if composed == tuple(range(len(composed))):
                return inner.array
            return Transpose(inner.array, composed)
        return None

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        source = [0] * len(index)
        for out_axis, in_axis in enumerate(self.axes):
            source[in_axis] = index[out_axis]
        return Task(key, np.transpose, Ref((self.array.name, *source)), self.axes)


@implements(np.transpose)
def transpose(a: Any, *axes: Any, **kwargs: Any) -> Array:
    """Permute the axes (reverse them by default), as ``numpy.transpose``.

    As the method, ``x.transpose(1, 0)`` and ``x.transpose((1, 0))`` both work.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.ones((2, 3, 4)), chunks=2)
    >>> x.transpose(2, 0, 1).shape, da.transpose(x).chunks
    ((4, 2, 3), ((2, 2), (2, 1), (2,)))
    """
    if "axes" in kwargs:
        if axes:
            raise TypeError("transpose: axes given both by position and as axes=")
        axes = (kwargs.pop("axes"),)
    if kwargs:
        raise TypeError(f"transpose: unexpected arguments {sorted(kwargs)}")
    x = asarray(a)
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list, np.ndarray))):
        axes = axes[0]
    if axes is None or (isinstance(axes, tuple) and len(axes) == 0 and x.ndim != 0):
        axes = tuple(range(x.ndim))[::-1]
    axes = tuple(axes)
    if len(axes) != x.ndim:
        raise ValueError(f"transpose: axes {axes} don't match array of shape {x.shape}")
    axes = normalize_axes(axes, x.ndim, "transpose", "axes")
    if axes == tuple(range(x.ndim)):
        return x
    return Array(Transpose(x.expr, axes))


@implements(np.swapaxes)
def swapaxes(a: Any, axis1: int, axis2: int) -> Array:
    """Swap two axes, as ``numpy.swapaxes``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.swapaxes(da.from_array(np.ones((2, 3, 4))), 0, 2).shape
    (4, 3, 2)
    """
    x = asarray(a)
    i = normalize_axis(axis1, x.ndim, "swapaxes")
    j = normalize_axis(axis2, x.ndim, "swapaxes")
    axes = list(range(x.ndim))
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(x, tuple(axes))


@implements(np.moveaxis)
def moveaxis(a: Any, source: Any, destination: Any) -> Array:
    """Move axes to new positions, the others keeping their order, as ``numpy.moveaxis``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.moveaxis(da.from_array(np.ones((2, 3, 4))), 0, -1).shape
    (3, 4, 2)
    """
    x = asarray(a)
    source = normalize_axes(source, x.ndim, "moveaxis", "source")
    destination = normalize_axes(destination, x.ndim, "moveaxis", "destination")
    if len(source) != len(destination):
        raise ValueError(
            "moveaxis: `source` and `destination` arguments must have the same number of elements"
        )
    order = [n for n in range(x.ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, tuple(order))


# --- reshape --------------------------------------------------------------------------------


def _groups(a: tuple, b: tuple) -> list:
    """Pair up runs of input and output axes with equal products (all sizes >= 1), left to right."""
    groups = []
    i, j = len(a), len(b)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and a[i - 1] == b[j - 1]:
            groups.append(((i - 1,), (j - 1,)))
            i, j = i - 1, j - 1
        elif i > 0 and a[i - 1] == 1:
            groups.append(((i - 1,), ()))
            i -= 1
        elif j > 0 and b[j - 1] == 1:
            groups.append(((), (j - 1,)))
            j -= 1
        else:
            ins, outs = [i - 1], [j - 1]
            pa, pb = a[i - 1], b[j - 1]
            i, j = i - 1, j - 1
            while pa != pb:
                if pa < pb:
                    ins.append(i - 1)
                    pa *= a[i - 1]
                    i -= 1
                else:
                    outs.append(j - 1)
                    pb *= b[j - 1]
                    j -= 1
            groups.append((tuple(ins[::-1]), tuple(outs[::-1])))
    return groups[::-1]


def _flat_layout(sizes: tuple, chunks: tuple) -> tuple | None:
    """``(T, p)``: the block boundaries of the flattened axes (``p`` within ``[0, T]``, repeated
    with period ``T``), or ``None`` when some block is not contiguous in C order."""
    split = [k for k, c in enumerate(chunks) if len(c) > 1]
    if not split:
        total = math.prod(sizes)
        return total, (0, total)
    k = split[-1]
    if any(len(chunks[j]) != sizes[j] for j in range(k)):
        return None
    inner = math.prod(sizes[k + 1:])
    return sizes[k] * inner, tuple(b * inner for b in chunk_boundaries(chunks[k]))


def _represent(sizes: tuple, period: int, pattern: tuple) -> tuple | None:
    """Chunks for axes ``sizes`` whose blocks have the flat boundaries ``(period, pattern)``."""
    if not sizes:
        return () if pattern == (0, 1) else None
    for k in range(len(sizes)):
        inner = math.prod(sizes[k + 1:])
        outer = sizes[k] * inner
        if any(x % inner for x in pattern):
            continue
        g = math.gcd(period, outer)
        idx = bisect.bisect_left(pattern, g)
        if idx == len(pattern) or pattern[idx] != g:
            continue
        head = pattern[: idx + 1]
        if len(pattern) - 1 != (period // g) * (len(head) - 1):
            continue
        residues = set(head)
        if any(x % g not in residues for x in pattern):
            continue
        lengths = tuple((head[i + 1] - head[i]) // inner for i in range(len(head) - 1))
        return (
            tuple((1,) * sizes[j] for j in range(k))
            + (lengths * (outer // g),)
            + tuple((sizes[j],) for j in range(k + 1, len(sizes)))
        )
    return None


def _layout(sizes: tuple, budget: int, keep: tuple | None = None) -> tuple:
    """Contiguous chunks for ``sizes`` with blocks of about ``budget`` elements.

    The first axis whose inner product fits the budget is chunked, the axes
    before it get blocks of one, the axes after it one block; ``keep`` (the
    current chunks) is kept on the chunked axis when its blocks fit.
    """
    if not sizes:
        return ()
    for k in range(len(sizes)):
        inner = math.prod(sizes[k + 1:])
        if inner <= budget:
            break
    length = max(1, min(sizes[k], budget // inner))
    if keep is not None and max(keep[k]) <= length:
        chosen = keep[k]
    else:
        chosen = regular_chunks(sizes[k], length)
    return (
        tuple((1,) * sizes[j] for j in range(k))
        + (chosen,)
        + tuple((sizes[j],) for j in range(k + 1, len(sizes)))
    )


def _plan_group(a: tuple, chunks: tuple, b: tuple) -> tuple:
    """(new input chunks, output chunks) for one group of merged/split axes."""
    if len(a) == 1 and len(b) == 1:
        return chunks, chunks
    layout = _flat_layout(a, chunks)
    if layout is not None:
        out = _represent(b, *layout)
        if out is not None:
            return chunks, out
    budget = max(1, math.prod(max(c) for c in chunks))
    # merge-style: contiguous input blocks, then see whether the output can take them
    new_in = _layout(a, budget, keep=chunks)
    out = _represent(b, *_flat_layout(a, new_in))
    if out is not None:
        return new_in, out
    # regular slabs of ``step`` elements that both sides can cut contiguously
    return _common_layout(a, b, budget)


def _largest_divisor_at_most(n: int, limit: int) -> int:
    best = 1
    i = 1
    while i * i <= n and i <= 10**6:
        if n % i == 0:
            for d in (i, n // i):
                if best < d <= limit:
                    best = d
        i += 1
    return best


def _smallest_divisor_at_least(n: int, limit: int) -> int:
    if limit >= n:
        return n
    best = n
    i = 1
    while i * i <= n and i <= 10**6:
        if n % i == 0:
            for d in (i, n // i):
                if limit <= d < best:
                    best = d
        i += 1
    return best


def _common_layout(a: tuple, b: tuple, budget: int) -> tuple:
    """Chunks for both sides whose flat boundaries are the multiples of one step.

    For an input layout chunking axis ``k`` and an output layout chunking axis
    ``k'``, the step must be a multiple of both inner products and divide both
    periods; the step closest to ``budget`` (by ratio; the larger on a tie) wins.
    """
    best = None
    for k in range(len(a)):
        inner_a, period_a = math.prod(a[k + 1:]), math.prod(a[k:])
        for kk in range(len(b)):
            inner_b, period_b = math.prod(b[kk + 1:]), math.prod(b[kk:])
            unit, room = math.lcm(inner_a, inner_b), math.gcd(period_a, period_b)
            if room % unit:
                continue
            below = unit * _largest_divisor_at_most(room // unit, max(1, budget // unit))
            above = unit * _smallest_divisor_at_least(room // unit, -(-budget // unit))
            for step in (below, above):
                score = (abs(math.log(step / budget)), -step)
                if best is None or score < best[0]:
                    best = (score, step, k, kk)
    _, step, k, kk = best

    def chunks_for(sizes: tuple, axis: int) -> tuple:
        inner = math.prod(sizes[axis + 1:])
        return (
            tuple((1,) * sizes[j] for j in range(axis))
            + ((step // inner,) * (sizes[axis] * inner // step),)
            + tuple((sizes[j],) for j in range(axis + 1, len(sizes)))
        )

    return chunks_for(a, k), chunks_for(b, kk)


class Reshape(ArrayExpr):
    """Each output block is one input block reshaped (the input chunks are compatible).

    ``groups`` pairs runs of input and output axes with equal sizes; within a
    group, the blocks correspond one to one in C order.
    """

    _parameters = ("array", "shape", "chunks", "groups")
    _operand_only = ("shape", "chunks")

    def _chunks(self) -> tuple:
        return self.operand("chunks")

    def _dtype(self) -> Any:
        return self.array.dtype

    def _simplify_down(self) -> ArrayExpr | None:
        if self.array.chunks == self.operand("chunks"):
            return self.array
        return None

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        source = [0] * self.array.ndim
        in_blocks, out_blocks = self.array.numblocks, self.numblocks
        for ins, outs in self.groups:
            linear = 0
            for axis in outs:
                linear = linear * out_blocks[axis] + index[axis]
            for axis in reversed(ins):
                linear, source[axis] = divmod(linear, in_blocks[axis])
        shape = self.block_shape(index)
        return Task(key, np.reshape, Ref((self.array.name, *source)), shape)


def _parse_shape(shape: tuple, opname: str) -> tuple:
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{opname}: the new shape must hold integers, got {shape!r}") from None


def _parse_shape_nan(shape: tuple, opname: str) -> tuple:
    for s in shape:
        if not is_nan(s) and not isinstance(s, (int, np.integer)):
            raise TypeError(f"{opname}: the shape must hold integers, got {shape!r}")
    return shape


@implements(np.reshape)
def reshape(a: Any, shape: Any = None, *more: Any, order: str = "C", newshape: Any = None,
            copy: Any = None) -> Array:
    """The same elements in a new shape (C order), as ``numpy.reshape``; ``-1`` infers one axis.

    ``shape`` is a tuple, as in NumPy and the Array API (``shape=`` by keyword
    too), or the new lengths one per argument, as in ``x.reshape(4, 2, 3)``.

    Only the axes being merged or split may be rechunked (see the module
    docstring). Unlike NumPy, ``order="F"`` is not supported.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(24).reshape(4, 6), chunks=(2, 3))
    >>> y = x.reshape(4, 2, 3)
    >>> y.chunks
    ((2, 2), (1, 1), (3,))
    >>> x.reshape(-1).chunks
    ((6, 6, 6, 6),)
    """
    shape = () if shape is None else (shape, *more)
    if newshape is not None:
        if shape:
            raise TypeError("reshape: give the new shape once (shape or newshape)")
        shape = (newshape,)
    if shape and isinstance(shape[-1], str):
        *shape, order = shape
    if not shape:
        raise TypeError("reshape: missing the new shape")
    if order != "C":
        raise NotImplementedError(f"reshape: only order='C' is supported, got order={order!r}")
    x = asarray(a)
    new = _parse_shape(tuple(shape), "reshape")
    expr = x.expr
    check_known_chunks("reshape", expr, what=f"the array (shape {expr.shape})")
    size = math.prod(expr.shape)
    if sum(1 for s in new if s == -1) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension (-1), got {new}")
    if any(s < -1 for s in new):
        raise ValueError(f"reshape: negative dimensions are not allowed, got {new}")
    if -1 in new:
        known = math.prod(s for s in new if s != -1)
        if known == 0 or size % known:
            raise ValueError(
                f"reshape: cannot reshape array of size {size} (shape {expr.shape}) into shape {new}"
            )
        new = tuple(size // known if s == -1 else s for s in new)
    if math.prod(new) != size:
        raise ValueError(
            f"reshape: cannot reshape array of size {size} (shape {expr.shape}) into shape {new}"
        )
    if new == expr.shape:
        return x
    if size == 0:
        return _empty(new, x.dtype)
    chunks = tuple(
        tuple(c for c in axis if c) if len(axis) > 1 else axis for axis in expr.chunks
    )
    in_chunks = list(chunks)
    out_chunks: list = [None] * len(new)
    groups = _groups(expr.shape, new)
    for ins, outs in groups:
        new_in, new_out = _plan_group(
            tuple(expr.shape[i] for i in ins), tuple(chunks[i] for i in ins), tuple(new[o] for o in outs)
        )
        for axis, c in zip(ins, new_in):
            in_chunks[axis] = tuple(int(v) for v in c)
        for axis, c in zip(outs, new_out):
            out_chunks[axis] = tuple(int(v) for v in c)
    in_chunks_t = tuple(in_chunks)
    source = expr if in_chunks_t == expr.chunks else Rechunk(expr, in_chunks_t)
    return Array(Reshape(source, new, tuple(out_chunks), tuple(groups)))


@implements(np.ravel)
def ravel(a: Any, order: str = "C") -> Array:
    """The array as 1-d (C order), as ``numpy.ravel``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.ravel(da.from_array(np.ones((2, 3)), chunks=(1, 3))).chunks
    ((3, 3),)
    """
    return reshape(a, (-1,), order=order)


def flatten(a: Any, order: str = "C") -> Array:
    """The array as 1-d (C order), as ``numpy.ndarray.flatten`` (the ``x.flatten()`` method)."""
    return reshape(a, (-1,), order=order)


# --- squeeze / expand_dims --------------------------------------------------------------------


class Squeeze(ArrayExpr):
    """The input without the length-1 ``axes`` (each one block)."""

    _parameters = ("array", "axes")

    def _chunks(self) -> tuple:
        return tuple(c for i, c in enumerate(self.array.chunks) if i not in self.axes)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        index = iter(key[1:])
        source = tuple(0 if i in self.axes else next(index) for i in range(self.array.ndim))
        return Task(key, np.squeeze, Ref((self.array.name, *source)), self.axes)


class ExpandDims(ArrayExpr):
    """The input with new length-1 ``axes`` (positions in the output)."""

    _parameters = ("array", "axes")

    def _chunks(self) -> tuple:
        inner = iter(self.array.chunks)
        return tuple((1,) if i in self.axes else next(inner) for i in range(self.array.ndim + len(self.axes)))

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        source = tuple(i for axis, i in enumerate(key[1:]) if axis not in self.axes)
        return Task(key, np.expand_dims, Ref((self.array.name, *source)), self.axes)


@implements(np.squeeze)
def squeeze(a: Any, axis: Any = None) -> Array:
    """Remove length-1 axes (all of them, or ``axis``), as ``numpy.squeeze``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.squeeze(da.from_array(np.ones((1, 3, 1)))).shape
    (3,)
    """
    x = asarray(a)
    if axis is None:
        axes = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        bad = [i for i in axes if x.shape[i] != 1]
        if bad:
            raise ValueError(
                f"squeeze: cannot select an axis to squeeze out which has size not equal to one "
                f"(axis {bad[0]} of shape {x.shape})"
            )
    if not axes:
        return x
    expr = x.expr
    if any(expr.numblocks[i] != 1 for i in axes):
        expr = Rechunk(expr, tuple((1,) if i in axes else c for i, c in enumerate(expr.chunks)))
    return Array(Squeeze(expr, tuple(sorted(axes))))


@implements(np.expand_dims)
def expand_dims(a: Any, axis: Any) -> Array:
    """Insert length-1 axes at positions ``axis`` (of the result), as ``numpy.expand_dims``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.expand_dims(da.from_array(np.ones(3)), (0, 2)).shape
    (1, 3, 1)
    """
    x = asarray(a)
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = normalize_axes(tuple(axis), x.ndim + len(tuple(axis)), "expand_dims")
    if not axes:
        return x
    return Array(ExpandDims(x.expr, tuple(sorted(axes))))


def _atleast(ndim: int, arys: tuple, opname: str) -> Any:
    out = []
    for a in arys:
        x = asarray(a)
        if x.ndim < ndim:
            if ndim == 3 and x.ndim == 2:
                x = expand_dims(x, 2)
            elif ndim == 3 and x.ndim == 1:
                x = expand_dims(x, (0, 2))
            else:
                x = expand_dims(x, tuple(range(ndim - x.ndim)))
        out.append(x)
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_1d)
def atleast_1d(*arys: Any) -> Any:
    """Arrays with at least one axis, as ``numpy.atleast_1d`` (a tuple for several inputs).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.atleast_1d(da.from_array(np.float64(1.0))).shape
    (1,)
    """
    return _atleast(1, arys, "atleast_1d")


@implements(np.atleast_2d)
def atleast_2d(*arys: Any) -> Any:
    """Arrays with at least two axes (``(N,)`` becomes ``(1, N)``), as ``numpy.atleast_2d``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.atleast_2d(da.from_array(np.ones(3))).shape
    (1, 3)
    """
    return _atleast(2, arys, "atleast_2d")


@implements(np.atleast_3d)
def atleast_3d(*arys: Any) -> Any:
    """Arrays with at least three axes (``(M, N)`` becomes ``(M, N, 1)``), as ``numpy.atleast_3d``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.atleast_3d(da.from_array(np.ones(3))).shape
    (1, 3, 1)
    """
    return _atleast(3, arys, "atleast_3d")


# --- broadcasting -------------------------------------------------------------------------------


class BroadcastTo(ArrayExpr):
    """The input broadcast to ``shape`` with ``chunks``; broadcast axes read input block 0."""

    _parameters = ("array", "shape", "chunks")
    _operand_only = ("shape", "chunks")

    def _chunks(self) -> tuple:
        return self.operand("chunks")

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        offset = len(index) - self.array.ndim
        out_shape = self.operand("shape")
        source = tuple(
            0 if self.array.shape[d] == 1 and out_shape[d + offset] != 1 else index[d + offset]
            for d in range(self.array.ndim)
        )
        shape = tuple(None if is_nan(s) else s for s in self.block_shape(index))
        return Task(key, _broadcast_block, Ref((self.array.name, *source)), shape)


def _broadcast_block(block: np.ndarray, shape: tuple) -> np.ndarray:
    offset = len(shape) - block.ndim
    full = tuple(block.shape[d - offset] if s is None else s for d, s in enumerate(shape))
    if isinstance(block, np.ma.MaskedArray):  # np.broadcast_to would drop (or not broadcast) the mask
        return np.ma.masked_array(
            np.broadcast_to(block.data, full), mask=np.broadcast_to(np.ma.getmaskarray(block), full)
        )
    return np.broadcast_to(block, full)


@implements(np.broadcast_to)
def broadcast_to(x: Any, shape: Any, chunks: Any = None, subok: bool = False) -> Array:
    """Broadcast to ``shape`` (no data is copied), as ``numpy.broadcast_to``.

    New and stretched axes get ``"auto"`` chunks unless ``chunks`` is given
    (as ``dask.array.broadcast_to``); other axes keep theirs.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> y = da.broadcast_to(da.from_array(np.arange(3), chunks=2), (4, 3))
    >>> y.chunks, int(y.compute().sum())
    (((4,), (2, 1)), 12)
    """
    x = asarray(x)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    shape = tuple(
        s if is_nan(s) else operator.index(s) for s in _parse_shape_nan(shape, "broadcast_to")
    )
    expr = x.expr
    if any(s < 0 for s in shape):
        raise ValueError(f"broadcast_to: all elements of broadcast shape must be non-negative, got {shape}")
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ValueError(
            f"broadcast_to: cannot broadcast shape {x.shape} to {shape}: the new shape has fewer axes"
        )
    for d, s in enumerate(x.shape):
        if s != 1 and s != shape[d + offset] and not (is_nan(s) and is_nan(shape[d + offset])):
            if is_nan(s):
                check_known_chunks("broadcast_to", ((s,),), what=f"the array (shape {x.shape})")
            raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}")
    stretched = [
        d < offset or (x.shape[d - offset] == 1 and shape[d] != 1) for d in range(len(shape))
    ]
    if len(shape) == x.ndim and not any(stretched):
        return x if chunks is None else x.rechunk(chunks)
    if chunks is None:
        spec = tuple("auto" if stretched[d] else expr.chunks[d - offset] for d in range(len(shape)))
        if has_unknown(tuple(c for c in spec if c != "auto")):
            new = tuple((shape[d],) if stretched[d] else expr.chunks[d - offset] for d in range(len(shape)))
        else:
            new = normalize_chunks(spec, shape, dtype=x.dtype)
    else:
        new = normalize_chunks(chunks, shape, dtype=x.dtype)
    keep = tuple(
        expr.chunks[d] if x.shape[d] == 1 and stretched[d + offset] else new[d + offset]
        for d in range(x.ndim)
    )
    if not same_chunks(keep, expr.chunks):
        check_known_chunks("broadcast_to", expr, what=f"the array (shape {expr.shape})")
        expr = Rechunk(expr, keep)
    if any(expr.numblocks[d] != 1 for d in range(x.ndim) if stretched[d + offset]):
        expr = Rechunk(expr, tuple((1,) if stretched[d + offset] else c for d, c in enumerate(expr.chunks)))
    return Array(BroadcastTo(expr, shape, tuple(new)))


@implements(np.broadcast_arrays)
def broadcast_arrays(*args: Any, subok: bool = False) -> tuple:
    """The inputs broadcast against each other, with matching chunks, as ``numpy.broadcast_arrays``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> a, b = da.broadcast_arrays(da.from_array(np.ones((3, 1))), np.arange(4))
    >>> a.shape, b.shape, a.chunks == b.chunks
    ((3, 4), (3, 4), True)
    """
    xs = [asarray(a) for a in args]
    try:
        shape = broadcast_shapes(*(x.shape for x in xs))
    except ValueError as exc:
        raise ValueError(f"broadcast_arrays: {exc}") from None
    ndim = len(shape)

    def axis_of(e: ArrayExpr, d: int) -> int | None:
        axis = d - (ndim - e.ndim)
        if axis < 0 or (e.shape[axis] == 1 and shape[d] != 1):
            return None
        return axis

    target = target_chunks([x.expr for x in xs], axis_of, ndim, "broadcast_arrays")
    chunks = tuple(t if t is not None else "auto" for t in target)
    if any(c == "auto" for c in chunks):
        chunks = normalize_chunks(chunks, shape, dtype=xs[0].dtype) if not has_unknown(
            tuple(c for c in chunks if c != "auto")) else tuple(
            c if c != "auto" else (shape[d],) for d, c in enumerate(chunks))
    return tuple(
        x if tuple(x.shape) == shape and same_chunks(x.chunks, chunks)
        else broadcast_to(x, shape, chunks=chunks)
        for x in xs
    )
