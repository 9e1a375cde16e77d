"""Shape manipulation: transpose, reshape, concatenate, stack, pad, roll, flip, tile ...

Every operation here moves whole blocks (or pieces of blocks) around without
looking at the data at build time: each output block is computed from the
one input block (or the few pieces of blocks) it needs, and nothing per block
is built until the plan is lowered, so a plan over 100,000 blocks builds
instantly.

- ``transpose``/``swapaxes``/``moveaxis``: block ``(j, i)`` of the output is
  the transposed block ``(i, j)`` of the input; a transpose of a transpose
  simplifies to one transpose (or to nothing).
- ``reshape`` (C order): each output block is one input block, reshaped. Axes
  that are merged or split may need rechunking first, and only those: merging
  ``(a, b) -> a*b`` needs ``b`` in one block (the blocks along ``a`` shrink to
  keep the block size), splitting ``a*b -> (a, b)`` needs block boundaries on
  the axis at multiples of ``b`` (or, failing that, a regular layout).
- ``concatenate``/``stack``/``block``: the blocks of the inputs side by side;
  no data moves.
- ``flip``, ``roll``, ``tile``, ``pad``: each output block is a slice of one
  input block (reversed, or with an element repeated for ``pad(mode="edge")``),
  or a constant block for ``pad(mode="constant")``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> x.T.chunks
((2, 2), (2, 1))
>>> x.reshape(4, 3).compute()[-1].tolist()
[9, 10, 11]
>>> da.concatenate([x, x], axis=1).chunks
((2, 1), (2, 2, 2, 2))
"""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Hashable, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from chunkwise.array.chunks import chunk_boundaries, has_unknown, normalize_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.expr import ArrayExpr, broadcast_shapes
from chunkwise.array.rechunk import Rechunk
from chunkwise.core.graph import Ref, Task

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block",
    "broadcast_arrays",
    "broadcast_to",
    "concatenate",
    "dstack",
    "expand_dims",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "moveaxis",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "squeeze",
    "stack",
    "swapaxes",
    "tile",
    "transpose",
    "tril",
    "triu",
    "vstack",
]


# --- helpers --------------------------------------------------------------------------


def _identity(x: Any) -> Any:
    return x


def _full(shape: tuple, value: Any, dtype: np.dtype) -> np.ndarray:
    if math.prod(shape) == 0 or value is None:
        return np.empty(shape, dtype=dtype)
    return np.full(shape, value, dtype=dtype)


def _normalize_axis(axis: Any, ndim: int, opname: str) -> int:
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{opname}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim, opname)
    return axis % ndim


def _normalize_axes(axes: Any, ndim: int, opname: str, argname: str = "axis") -> tuple:
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    out = tuple(_normalize_axis(a, ndim, opname) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{opname}: repeated axis in `{argname}` argument: {tuple(axes)}")
    return out


def _check_known(x: ArrayExpr, opname: str, axes: Sequence[int] | None = None) -> None:
    chunks = x.chunks if axes is None else tuple(x.chunks[a] for a in axes)
    if has_unknown(chunks):
        raise ValueError(
            f"{opname}: the array (shape {x.shape}) has unknown chunk sizes (nan), e.g. after "
            "boolean indexing; call x.compute_chunk_sizes() first"
        )


def _regular(size: int, length: int) -> tuple:
    if size == 0:
        return (0,)
    full, rest = divmod(size, length)
    return (length,) * full + ((rest,) if rest else ())


def _is_nan(x: Any) -> bool:
    return isinstance(x, float) and math.isnan(x)


def _same_chunks(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x == y or (_is_nan(x) and _is_nan(y)) for x, y in zip(a, b))


class _Constant(ArrayExpr):
    """An array of one value (``None``: uninitialized), built without any input."""

    _parameters = ("chunks_", "value", "dtype_")

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        return Task(key, _full, self.block_shape(key[1:]), self.value, self.dtype)


def _empty(shape: tuple, dtype: Any) -> Array:
    return Array(_Constant(tuple((int(s),) for s in shape), None, np.dtype(dtype)))


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
    axes = _normalize_axes(axes, x.ndim, "transpose", "axes")
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
    i = _normalize_axis(axis1, x.ndim, "swapaxes")
    j = _normalize_axis(axis2, x.ndim, "swapaxes")
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
    source = _normalize_axes(source, x.ndim, "moveaxis", "source")
    destination = _normalize_axes(destination, x.ndim, "moveaxis", "destination")
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
        chosen = _regular(sizes[k], length)
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

    _parameters = ("array", "shape_", "chunks_", "groups")

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.array.dtype

    def _simplify_down(self) -> ArrayExpr | None:
        if self.array.chunks == self.chunks_:
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
        if not _is_nan(s) and not isinstance(s, (int, np.integer)):
            raise TypeError(f"{opname}: the shape must hold integers, got {shape!r}")
    return shape


@implements(np.reshape)
def reshape(a: Any, *shape: Any, order: str = "C", newshape: Any = None, copy: Any = None) -> Array:
    """The same elements in a new shape (C order), as ``numpy.reshape``; ``-1`` infers one axis.

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
    _check_known(expr, "reshape")
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
        axes = _normalize_axes(axis, x.ndim, "squeeze")
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
    axes = _normalize_axes(tuple(axis), x.ndim + len(tuple(axis)), "expand_dims")
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


# --- concatenate and friends --------------------------------------------------------------------


class Concatenate(ArrayExpr):
    """The inputs' blocks side by side along ``axis`` (the other axes' chunks agree)."""

    _parameters = ("axis", "dtype_")
    _variadic = True

    @property
    def arrays(self) -> tuple:
        return tuple(self.operands[2:])

    def _chunks(self) -> tuple:
        arrays = self.arrays
        first = arrays[0].chunks
        along = tuple(c for a in arrays for c in a.chunks[self.axis])
        return first[: self.axis] + (along,) + first[self.axis + 1:]

    def _dtype(self) -> Any:
        return self.dtype_

    def _simplify_down(self) -> ArrayExpr | None:
        if len(self.arrays) == 1 and self.arrays[0].dtype == self.dtype:
            return self.arrays[0]
        return None

    @property
    def _offsets(self) -> list:
        offsets = self.__dict__.get("_offsets_cache")
        if offsets is None:
            offsets = [0, *accumulate(a.numblocks[self.axis] for a in self.arrays)]
            self.__dict__["_offsets_cache"] = offsets
        return offsets

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        offsets = self._offsets
        which = bisect.bisect_right(offsets, index[self.axis]) - 1
        source = self.arrays[which]
        block = list(index)
        block[self.axis] = index[self.axis] - offsets[which]
        ref = Ref((source.name, *block))
        if source.dtype != self.dtype:
            return Task(key, np.asarray, ref, self.dtype)
        return Task(key, _identity, ref)


def _target_chunks(exprs: list, axis_of: Any, ndim: int, opname: str) -> list:
    """Per output axis, the chunks of the largest input that is not broadcast on it."""
    target: list = [None] * ndim
    for out_axis in range(ndim):
        for e in sorted(exprs, key=lambda e: -(0 if _is_nan(e.nbytes) else e.nbytes)):
            axis = axis_of(e, out_axis)
            if axis is not None:
                target[out_axis] = e.chunks[axis]
                break
    return target


@implements(np.concatenate)
def concatenate(arrays: Any, axis: int | None = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> Array:
    """Join arrays along an existing axis, as ``numpy.concatenate``; no data moves.

    The blocks of the inputs are laid side by side; on the other axes the
    inputs are rechunked to the chunks of the largest one where they differ.
    ``axis=None`` concatenates the flattened arrays.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.ones((2, 3)), chunks=2)
    >>> da.concatenate([x, np.zeros((1, 3))]).chunks
    ((2, 1), (2, 1))
    """
    if out is not None:
        raise TypeError("concatenate: out= is not supported on chunkwise arrays (they are immutable)")
    if isinstance(arrays, (Array, np.ndarray)):
        arrays = list(arrays) if getattr(arrays, "ndim", 1) > 0 else [arrays]
    xs = [asarray(a) for a in arrays]
    if not xs:
        raise ValueError("concatenate: need at least one array to concatenate")
    if axis is None:
        xs = [ravel(x) for x in xs]
        axis = 0
    if xs[0].ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    ndim = xs[0].ndim
    for i, x in enumerate(xs):
        if x.ndim != ndim:
            raise ValueError(
                "concatenate: all the input arrays must have the same number of dimensions, but "
                f"the array at index 0 has {ndim} dimension(s) (shape {xs[0].shape}) and the array "
                f"at index {i} has {x.ndim} dimension(s) (shape {x.shape})"
            )
    axis = _normalize_axis(axis, ndim, "concatenate")
    for i, x in enumerate(xs):
        for d in range(ndim):
            if d == axis:
                continue
            s0, s1 = xs[0].shape[d], x.shape[d]
            if _is_nan(s0) != _is_nan(s1):
                raise ValueError(
                    f"concatenate: along dimension {d} the array at index 0 (shape {xs[0].shape}) "
                    f"and the array at index {i} (shape {x.shape}) may not match: some chunk sizes "
                    "are unknown (nan); call x.compute_chunk_sizes() first"
                )
            if s0 != s1 and not (_is_nan(s0) and _is_nan(s1)):
                raise ValueError(
                    "concatenate: all the input array dimensions except for the concatenation axis "
                    f"(axis {axis}) must match exactly, but along dimension {d}, the array at index 0 "
                    f"has size {s0} (shape {xs[0].shape}) and the array at index {i} has size {s1} "
                    f"(shape {x.shape})"
                )
    result = np.result_type(*(x.dtype for x in xs))
    if dtype is not None:
        dtype = np.dtype(dtype)
        for x in xs:
            if not np.can_cast(x.dtype, dtype, casting=casting):
                raise TypeError(
                    f"concatenate: cannot cast array data from {x.dtype} to {dtype} "
                    f"according to the rule {casting!r}"
                )
        result = dtype
    exprs = [x.expr for x in xs]
    target = _target_chunks(exprs, lambda e, d: None if d == axis else d, ndim, "concatenate")
    aligned = []
    for e in exprs:
        want = tuple(target[d] if d != axis else e.chunks[d] for d in range(ndim))
        if _same_chunks_all(e.chunks, want):
            aligned.append(e)
            continue
        if e.unknown_chunks or has_unknown(want):
            raise ValueError(
                f"concatenate: inputs have unknown chunk sizes (nan) that may not line up "
                f"({e.chunks} vs {want}); call x.compute_chunk_sizes() first"
            )
        aligned.append(Rechunk(e, want))
    if len(aligned) == 1 and aligned[0].dtype == result:
        return Array(aligned[0])
    return Array(Concatenate(axis, np.dtype(result), *aligned))


def _same_chunks_all(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(_same_chunks(x, y) for x, y in zip(a, b))


@implements(np.stack)
def stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
          casting: str = "same_kind") -> Array:
    """Join arrays of one shape along a new axis, as ``numpy.stack``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.ones((2, 3)), chunks=2)
    >>> da.stack([x, x], axis=1).chunks
    ((2,), (1, 1), (2, 1))
    """
    if out is not None:
        raise TypeError("stack: out= is not supported on chunkwise arrays (they are immutable)")
    xs = [asarray(a) for a in arrays]
    if not xs:
        raise ValueError("stack: need at least one array to stack")
    shapes = {tuple(x.shape) for x in xs}
    if len(shapes) > 1 and not all(any(_is_nan(s) for s in shape) for shape in shapes):
        raise ValueError(f"stack: all input arrays must have the same shape, got {sorted(shapes, key=str)}")
    axis = _normalize_axis(axis, xs[0].ndim + 1, "stack")
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis, dtype=dtype, casting=casting)


@implements(np.hstack)
def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Array:
    """Join arrays column-wise (along axis 1, or 0 for 1-d), as ``numpy.hstack``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.hstack([da.from_array(np.ones(2)), np.zeros(3)]).shape
    (5,)
    """
    xs = [atleast_1d(a) for a in tup]
    if not xs:
        raise ValueError("hstack: need at least one array to concatenate")
    return concatenate(xs, axis=0 if xs[0].ndim == 1 else 1, dtype=dtype, casting=casting)


@implements(np.vstack)
def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Array:
    """Join arrays row-wise (along axis 0, 1-d arrays as rows), as ``numpy.vstack``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.vstack([da.from_array(np.ones(2)), np.zeros(2)]).shape
    (2, 2)
    """
    xs = [atleast_2d(a) for a in tup]
    return concatenate(xs, axis=0, dtype=dtype, casting=casting)


@implements(np.dstack)
def dstack(tup: Any) -> Array:
    """Join arrays along the third axis, as ``numpy.dstack``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.dstack([da.from_array(np.ones(2)), np.zeros(2)]).shape
    (1, 2, 2)
    """
    xs = [atleast_3d(a) for a in tup]
    return concatenate(xs, axis=2)


def _block_depth(arrays: Any, index: tuple = ()) -> tuple:
    """(list depth, max ndim of the leaves), checking the nesting like ``numpy.block``."""
    if isinstance(arrays, tuple):
        raise TypeError(
            f"block: arrays{''.join(f'[{i}]' for i in index)} is a tuple; only lists can be used "
            "to arrange blocks"
        )
    if isinstance(arrays, list):
        if not arrays:
            raise ValueError(f"block: arrays{''.join(f'[{i}]' for i in index)} is an empty list")
        results = [_block_depth(a, (*index, i)) for i, a in enumerate(arrays)]
        depths = {d for d, _ in results}
        if len(depths) > 1:
            raise ValueError(
                f"block: list depths are mismatched under arrays{''.join(f'[{i}]' for i in index)}"
            )
        return depths.pop() + 1, max(n for _, n in results)
    return 0, np.ndim(arrays) if not isinstance(arrays, Array) else arrays.ndim


@implements(np.block)
def block(arrays: Any) -> Array:
    """Assemble an array from nested lists of blocks, as ``numpy.block``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> a = da.from_array(np.ones((2, 2)))
    >>> da.block([[a, np.zeros((2, 1))], [np.zeros((1, 3))]]).shape
    (3, 3)
    """
    depth, leaf_ndim = _block_depth(arrays)
    ndim = max(depth, leaf_ndim)

    def assemble(item: Any, level: int) -> Array:
        if level == depth:
            x = asarray(item)
            if x.ndim < ndim:
                x = expand_dims(x, tuple(range(ndim - x.ndim)))
            return x
        parts = [assemble(sub, level + 1) for sub in item]
        return concatenate(parts, axis=-(depth - level))

    return assemble(arrays, 0)


# --- broadcasting -------------------------------------------------------------------------------


class BroadcastTo(ArrayExpr):
    """The input broadcast to ``shape`` with ``chunks``; broadcast axes read input block 0."""

    _parameters = ("array", "shape_", "chunks_")

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        offset = len(index) - self.array.ndim
        source = tuple(
            0 if self.array.shape[d] == 1 and self.shape_[d + offset] != 1 else index[d + offset]
            for d in range(self.array.ndim)
        )
        shape = tuple(None if _is_nan(s) else s for s in self.block_shape(index))
        return Task(key, _broadcast_block, Ref((self.array.name, *source)), shape)


def _broadcast_block(block: np.ndarray, shape: tuple) -> np.ndarray:
    offset = len(shape) - block.ndim
    full = tuple(block.shape[d - offset] if s is None else s for d, s in enumerate(shape))
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
        s if _is_nan(s) else operator.index(s) for s in _parse_shape_nan(shape, "broadcast_to")
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
        if s != 1 and s != shape[d + offset] and not (_is_nan(s) and _is_nan(shape[d + offset])):
            if _is_nan(s):
                raise ValueError(
                    f"broadcast_to: the array (shape {x.shape}) has unknown chunk sizes (nan); "
                    "call x.compute_chunk_sizes() first"
                )
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
    if not _same_chunks_all(keep, expr.chunks):
        _check_known(expr, "broadcast_to")
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

    target = _target_chunks([x.expr for x in xs], axis_of, ndim, "broadcast_arrays")
    chunks = tuple(t if t is not None else "auto" for t in target)
    if any(c == "auto" for c in chunks):
        chunks = normalize_chunks(chunks, shape, dtype=xs[0].dtype) if not has_unknown(
            tuple(c for c in chunks if c != "auto")) else tuple(
            c if c != "auto" else (shape[d],) for d, c in enumerate(chunks))
    return tuple(
        x if tuple(x.shape) == shape and _same_chunks_all(x.chunks, chunks)
        else broadcast_to(x, shape, chunks=chunks)
        for x in xs
    )


# --- pieces of blocks: flip, roll, tile, pad -------------------------------------------------
#
# Along each axis, an output block is one "piece": ``(j, start, stop, reverse, repeat)`` is
# input block ``j`` sliced to ``[start:stop]`` (``None``: whole), reversed if ``reverse`` and
# with each element repeated ``repeat`` times (``pad(mode="edge")``); ``(None, length, side)``
# is a constant piece of ``pad(mode="constant")``. An output block is one input block sliced
# on every axis, or a constant block.


class AxisPieces(ArrayExpr):
    """Output blocks assembled from pieces of input blocks, axis by axis (see above).

    ``specs``: per axis ``None`` (unchanged) or ``("flip",)``, ``("roll", shift)``,
    ``("tile", reps)``, ``("pad", before, after, mode)``; ``fill``: per axis the
    ``(before, after)`` constants of ``mode="constant"``.
    """

    _parameters = ("array", "specs", "fill", "funcname_")

    @property
    def _funcname(self) -> str:
        return self.funcname_

    @property
    def _pieces(self) -> tuple:
        pieces = self.__dict__.get("_pieces_cache")
        if pieces is None:
            pieces = tuple(
                None if spec is None else _axis_pieces(spec, self.array.chunks[d])
                for d, spec in enumerate(self.specs)
            )
            self.__dict__["_pieces_cache"] = pieces
        return pieces

    def _chunks(self) -> tuple:
        out = []
        for d, pieces in enumerate(self._pieces):
            chunks = self.array.chunks[d]
            if pieces is None:
                out.append(chunks)
            else:
                out.append(tuple(_piece_length(p, chunks) for p in pieces))
        return tuple(out)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        source, slices, repeats = [], [], []
        for d, (i, pieces) in enumerate(zip(index, self._pieces)):
            if pieces is None:
                source.append(i)
                slices.append(slice(None))
                continue
            piece = pieces[i]
            if piece[0] is None:
                source.append(0)
                slices.append(slice(None))
                continue
            j, start, stop, reverse, repeat = piece
            source.append(j)
            if reverse:
                if start is None:
                    slices.append(slice(None, None, -1))
                else:
                    slices.append(slice(stop - 1, start - 1 if start > 0 else None, -1))
            else:
                slices.append(slice(start, stop))
            if repeat != 1:
                repeats.append((d, repeat))
        ref = Ref((self.array.name, *source))
        if _any_constant(self._pieces, index):
            value = None if self.fill is None else _corner_value(self._pieces, self.fill, index)
            shape = self.block_shape(index)
            if any(_is_nan(s) for s in shape):  # unknown lengths on other axes: take the block's
                shape = tuple(None if _is_nan(s) else s for s in shape)
                return Task(key, _full_shaped_like, ref, shape, value, self.dtype)
            return Task(key, _full, shape, value, self.dtype)
        if not repeats and all(s == slice(None) for s in slices):
            return Task(key, _identity, ref)
        return Task(key, _apply_pieces, ref, tuple(slices), tuple(repeats))


def _any_constant(pieces: tuple, index: tuple) -> bool:
    return any(p is not None and p[i][0] is None for p, i in zip(pieces, index))


def _corner_value(pieces: tuple, fill: tuple, index: tuple) -> Any:
    """The constant of the last padded axis (NumPy pads axis by axis, later axes on top)."""
    value = None
    for d, (p, i) in enumerate(zip(pieces, index)):
        if p is not None and p[i][0] is None:
            value = fill[d][p[i][2]]
    return value


def _full_shaped_like(block: np.ndarray, shape: tuple, value: Any, dtype: np.dtype) -> np.ndarray:
    return _full(tuple(b if s is None else s for b, s in zip(block.shape, shape)), value, dtype)


def _apply_pieces(block: np.ndarray, slices: tuple, repeats: tuple) -> np.ndarray:
    out = block[slices]
    for axis, count in repeats:
        out = np.repeat(out, count, axis=axis)
    return out


def _piece_length(piece: tuple, chunks: tuple) -> Any:
    if piece[0] is None:
        return piece[1]
    j, start, stop, _, repeat = piece
    length = chunks[j] if start is None else stop - start
    return length * repeat


def _identity_pieces(chunks: tuple) -> list:
    return [(j, None, None, False, 1) for j in range(len(chunks))]


def _range_pieces(bounds: tuple, start: int, stop: int) -> list:
    """Pieces of the input blocks covering ``[start, stop)`` in order."""
    pieces = []
    j = max(bisect.bisect_right(bounds, start) - 1, 0)
    while j < len(bounds) - 1 and bounds[j] < stop:
        lo, hi = bounds[j], bounds[j + 1]
        if hi > start and hi > lo:
            a, b = max(lo, start) - lo, min(hi, stop) - lo
            pieces.append((j, None, None, False, 1) if (a, b) == (0, hi - lo) else (j, a, b, False, 1))
        j += 1
    return pieces


def _axis_pieces(spec: tuple, chunks: tuple) -> list:
    kind = spec[0]
    if kind == "flip":
        return [(j, None, None, True, 1) for j in range(len(chunks) - 1, -1, -1)]
    if kind == "tile":
        pieces = _identity_pieces(chunks) * spec[1]
        return pieces or [(None, 0, 0)]
    bounds = chunk_boundaries(chunks)
    n = bounds[-1]
    if kind == "roll":
        cut = n - spec[1]
        return _range_pieces(bounds, cut, n) + _range_pieces(bounds, 0, cut)
    if kind == "pad":
        _, before, after, mode = spec
        largest = max(max(chunks), 1)
        middle = _identity_pieces(chunks)
        if mode == "constant":
            return _constant_pieces(before, largest, 0) + middle + _constant_pieces(after, largest, 1)
        left = _map_pieces(_pad_map(np.arange(-before, 0), n, mode), bounds, largest)
        right = _map_pieces(_pad_map(np.arange(n, n + after), n, mode), bounds, largest)
        return left + middle + right
    raise ValueError(f"unknown piece spec {spec!r}")


def _constant_pieces(width: int, largest: int, side: int) -> list:
    return [(None, length, side) for length in _regular(width, largest)] if width else []


def _pad_map(positions: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Which input index each padded position copies (NumPy's ``pad`` semantics)."""
    if mode == "edge":
        return np.clip(positions, 0, n - 1)
    if mode == "wrap":
        return positions % n
    if mode == "symmetric":
        m = positions % (2 * n)
        return np.where(m < n, m, 2 * n - 1 - m)
    if mode == "reflect":
        if n == 1:
            return np.zeros_like(positions)
        m = positions % (2 * n - 2)
        return np.where(m < n, m, 2 * n - 2 - m)
    raise ValueError(f"unknown pad mode {mode!r}")


def _map_pieces(source: np.ndarray, bounds: tuple, largest: int) -> list:
    """Pieces copying ``source`` (input indices, in output order): runs of +1, -1 or 0 steps
    within one input block, at most ``largest`` long."""
    if len(source) == 0:
        return []
    blocks = np.searchsorted(np.asarray(bounds), source, side="right") - 1
    steps = np.diff(source)
    breaks = np.zeros(len(source), dtype=bool)
    breaks[0] = True
    breaks[1:] |= blocks[1:] != blocks[:-1]
    breaks[1:] |= np.abs(steps) > 1
    breaks[2:] |= steps[1:] != steps[:-1]
    starts = np.flatnonzero(breaks).tolist() + [len(source)]
    pieces = []
    for s, e in zip(starts[:-1], starts[1:]):
        j = int(blocks[s])
        step = int(source[s + 1] - source[s]) if e - s > 1 else 1
        for t in range(s, e, largest):
            u = min(e, t + largest)
            first, last = int(source[t]) - bounds[j], int(source[u - 1]) - bounds[j]
            if step == 1:
                pieces.append((j, first, last + 1, False, 1))
            elif step == -1:
                pieces.append((j, last, first + 1, True, 1))
            else:
                pieces.append((j, first, first + 1, False, u - t))
    return pieces


def _pieces_array(x: Array, specs: list, funcname: str, fill: tuple | None = None) -> Array:
    if all(s is None for s in specs):
        return x
    return Array(AxisPieces(x.expr, tuple(specs), fill, funcname))


@implements(np.flip)
def flip(m: Any, axis: Any = None) -> Array:
    """Reverse the order of elements along ``axis`` (all axes by default), as ``numpy.flip``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.flip(da.from_array(np.arange(5), chunks=2)).compute().tolist()
    [4, 3, 2, 1, 0]
    """
    x = asarray(m)
    axes = tuple(range(x.ndim)) if axis is None else _normalize_axes(axis, x.ndim, "flip")
    return _pieces_array(x, [("flip",) if d in axes else None for d in range(x.ndim)], "flip")


@implements(np.fliplr)
def fliplr(m: Any) -> Array:
    """Reverse the order of columns (axis 1), as ``numpy.fliplr``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.fliplr(da.from_array(np.eye(2))).compute()[0].tolist()
    [0.0, 1.0]
    """
    x = asarray(m)
    if x.ndim < 2:
        raise ValueError(f"fliplr: input must be >= 2-d, got shape {x.shape}")
    return flip(x, 1)


@implements(np.flipud)
def flipud(m: Any) -> Array:
    """Reverse the order of rows (axis 0), as ``numpy.flipud``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.flipud(da.from_array(np.arange(3))).compute().tolist()
    [2, 1, 0]
    """
    x = asarray(m)
    if x.ndim < 1:
        raise ValueError("flipud: input must be >= 1-d, got a 0-d array")
    return flip(x, 0)


@implements(np.roll)
def roll(a: Any, shift: Any, axis: Any = None) -> Array:
    """Roll elements along ``axis`` (the flattened array by default), as ``numpy.roll``.

    Each output block is a slice of one input block; one extra block appears
    where the roll cuts a block in two.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.roll(da.from_array(np.arange(5), chunks=2), 2).compute().tolist()
    [3, 4, 0, 1, 2]
    """
    x = asarray(a)
    if axis is None:
        if x.ndim == 0:
            return x
        return reshape(roll(ravel(x), shift, 0), x.shape)
    shifts: dict = {}
    for s, ax in np.broadcast(shift, axis):
        d = _normalize_axis(ax, x.ndim, "roll")
        shifts[d] = shifts.get(d, 0) + operator.index(s)
    _check_known(x.expr, "roll", tuple(shifts))
    specs = []
    for d in range(x.ndim):
        n = x.shape[d]
        s = shifts.get(d, 0) % n if n else 0
        specs.append(("roll", int(s)) if s else None)
    return _pieces_array(x, specs, "roll")


@implements(np.tile)
def tile(A: Any, reps: Any) -> Array:
    """Repeat the whole array ``reps`` times along each axis, as ``numpy.tile``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.tile(da.from_array(np.arange(3)), 2).compute().tolist()
    [0, 1, 2, 0, 1, 2]
    """
    x = asarray(A)
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    try:
        reps = tuple(operator.index(r) for r in reps)
    except TypeError:
        raise TypeError(f"tile: reps must be integers, got {reps!r}") from None
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: negative dimensions are not allowed, got reps={reps}")
    ndim = max(x.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    if x.ndim < ndim:
        x = expand_dims(x, tuple(range(ndim - x.ndim)))
    return _pieces_array(x, [("tile", r) if r != 1 else None for r in reps], "tile")


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


@implements(np.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Array:
    """Pad with a constant or copies of the edges, as ``numpy.pad``.

    Modes: ``"constant"`` (``constant_values``), ``"edge"``, ``"reflect"``,
    ``"symmetric"``, ``"wrap"``. Padded blocks are new blocks at the ends of
    each axis (at most as long as the axis' largest block); the input blocks
    are unchanged.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(4), chunks=2)
    >>> da.pad(x, (1, 2), mode="reflect").compute().tolist()
    [1, 0, 1, 2, 3, 2, 1]
    >>> da.pad(x, 1, constant_values=9).chunks
    ((1, 2, 2, 1),)
    """
    x = asarray(array)
    if callable(mode) or mode not in _PAD_MODES:
        if mode in ("linear_ramp", "maximum", "mean", "median", "minimum", "empty") or callable(mode):
            raise NotImplementedError(
                f"pad: mode={mode!r} is not supported on chunkwise arrays; use one of {_PAD_MODES}"
            )
        raise ValueError(f"pad: mode {mode!r} is not supported; use one of {_PAD_MODES}")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}}.get(mode, set())
    unexpected = set(kwargs) - allowed
    if unexpected:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {sorted(unexpected)}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("pad: only reflect_type='even' is supported")
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit an array of {x.ndim} dimensions; give an int, "
            "(before, after) or one (before, after) per axis"
        ) from None
    if widths.size and not np.issubdtype(widths.dtype, np.integer):
        raise TypeError(f"pad: pad_width must be of integral type, got {pad_width!r}")
    widths = [(int(b), int(e)) for b, e in widths]
    if any(b < 0 or e < 0 for b, e in widths):
        raise ValueError(f"pad: index can't contain negative values (pad_width {pad_width!r})")
    padded_axes = tuple(d for d, w in enumerate(widths) if any(w))
    if not padded_axes:
        return x
    _check_known(x.expr, "pad", padded_axes)
    fill = None
    if mode == "constant":
        values = np.broadcast_to(np.asarray(kwargs.get("constant_values", 0), dtype=object), (x.ndim, 2))
        fill = tuple((_scalar(b), _scalar(e)) for b, e in values)
        np.full((), fill[padded_axes[0]][0], dtype=x.dtype)  # fail now on a bad constant
    else:
        for d in padded_axes:
            if x.shape[d] == 0:
                raise ValueError(
                    f"pad: can't extend empty axis {d} (shape {x.shape}) using modes other than "
                    "'constant' or 'empty'"
                )
    specs = [("pad", b, e, mode) if (b or e) else None for b, e in widths]
    return _pieces_array(x, specs, "pad", fill)


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# --- repeat, tril/triu -----------------------------------------------------------------------


class Repeat(ArrayExpr):
    """Each element repeated ``repeats`` times along ``axis``, block by block."""

    _parameters = ("array", "repeats", "axis")

    def _chunks(self) -> tuple:
        chunks = list(self.array.chunks)
        chunks[self.axis] = tuple(c * self.repeats for c in chunks[self.axis])
        return tuple(chunks)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        return Task(key, np.repeat, Ref((self.array.name, *key[1:])), self.repeats, self.axis)


@implements(np.repeat)
def repeat(a: Any, repeats: Any, axis: int | None = None) -> Array:
    """Repeat each element ``repeats`` times along ``axis`` (flattened if None), as ``numpy.repeat``.

    Only an integer ``repeats`` is supported (as in ``dask.array.repeat``).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.repeat(da.from_array(np.arange(3), chunks=2), 2).compute().tolist()
    [0, 0, 1, 1, 2, 2]
    """
    x = asarray(a)
    if isinstance(repeats, np.ndarray) and repeats.size == 1:
        repeats = repeats.reshape(()).item()
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)):
        raise NotImplementedError(
            f"repeat: only an integer repeats is supported on chunkwise arrays, got {type(repeats).__name__}"
        )
    repeats = int(repeats)
    if repeats < 0:
        raise ValueError(f"repeat: negative dimensions are not allowed (repeats={repeats})")
    if axis is None:
        x = ravel(x)
        axis = 0
    axis = _normalize_axis(axis, x.ndim, "repeat")
    if repeats == 1:
        return x
    return Array(Repeat(x.expr, repeats, axis))


class Triangle(ArrayExpr):
    """``tril``/``triu`` on the last two axes: blocks wholly kept pass through, blocks wholly
    zeroed become zeros without reading the input."""

    _parameters = ("array", "k", "lower")

    def _chunks(self) -> tuple:
        return self.array.chunks

    def _dtype(self) -> Any:
        return self.array.dtype

    @property
    def _bounds(self) -> tuple:
        bounds = self.__dict__.get("_bounds_cache")
        if bounds is None:
            bounds = (chunk_boundaries(self.chunks[-2]), chunk_boundaries(self.chunks[-1]))
            self.__dict__["_bounds_cache"] = bounds
        return bounds

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        rows, cols = self._bounds
        r0, r1 = rows[index[-2]], rows[index[-2] + 1]
        c0, c1 = cols[index[-1]], cols[index[-1] + 1]
        ref = Ref((self.array.name, *index))
        if r0 == r1 or c0 == c1:
            return Task(key, _identity, ref)
        low, high = c0 - (r1 - 1), (c1 - 1) - r0  # range of (column - row) in the block
        k = self.k
        if self.lower:
            keep_all, zero_all, func = high <= k, low > k, np.tril
        else:
            keep_all, zero_all, func = low >= k, high < k, np.triu
        if keep_all:
            return Task(key, _identity, ref)
        if zero_all:
            return Task(key, _full, self.block_shape(index), 0, self.dtype)
        return Task(key, func, ref, k - (c0 - r0))


def _triangle(m: Any, k: int, lower: bool, opname: str) -> Array:
    x = asarray(m)
    k = operator.index(k)
    if x.ndim == 0:
        raise ValueError(f"{opname}: input must be at least 1-d, got a 0-d array")
    if x.ndim == 1:
        x = broadcast_to(x, (x.shape[0], x.shape[0]), chunks=(x.chunks[0], x.chunks[0]))
    _check_known(x.expr, opname, (x.ndim - 2, x.ndim - 1))
    return Array(Triangle(x.expr, int(k), lower))


@implements(np.tril)
def tril(m: Any, k: int = 0) -> Array:
    """Zero the elements above the ``k``-th diagonal (of the last two axes), as ``numpy.tril``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.tril(da.from_array(np.ones((3, 3)), chunks=2)).compute().sum()
    np.float64(6.0)
    """
    return _triangle(m, k, True, "tril")


@implements(np.triu)
def triu(m: Any, k: int = 0) -> Array:
    """Zero the elements below the ``k``-th diagonal (of the last two axes), as ``numpy.triu``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.triu(da.from_array(np.ones((3, 3)), chunks=2), 1).compute().sum()
    np.float64(3.0)
    """
    return _triangle(m, k, False, "triu")
