"""Shape manipulation: concatenate, stack, block, flip, roll, tile, pad, repeat, tril/triu ...

Every operation here moves whole blocks (or pieces of blocks) around without
looking at the data at build time: each output block is computed from the
one input block (or the few pieces of blocks) it needs, and nothing per block
is built until the plan is lowered, so a plan over 100,000 blocks builds
instantly.

- ``concatenate``/``stack``/``block``: the blocks of the inputs side by side;
  no data moves.
- ``flip``, ``roll``, ``tile`` (and ``pad``, in ``chunkwise.array.padding``): each output block is a slice of one
  input block (reversed, or with an element repeated for ``pad(mode="edge")``),
  or a constant block for ``pad(mode="constant")``.

Operations that only change the shape (``transpose``, ``reshape``, ``ravel``,
``squeeze``, ``expand_dims``, ``atleast_*d``, ``broadcast_to`` ...) are in
``chunkwise.array.reshaping``; the ``Array`` methods and other modules reach
them through this module too.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> da.concatenate([x, x], axis=1).chunks
((2, 1), (2, 2, 2, 2))
>>> da.flip(x, 0).compute()[0].tolist()
[8, 9, 10, 11]
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Hashable
from itertools import accumulate
from typing import Any

import numpy as np
from toolz import sliding_window

from chunkwise.array.axes import normalize_axes, normalize_axis
from chunkwise.array.chunks import check_known_chunks, chunk_boundaries, same_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.rechunk import Rechunk

# The shape-only operations live in ``reshape`` (and in its ``__all__``). The ``Array``
# methods (``x.transpose()``, ``x.reshape()``, ``x.ravel()``, ``x.flatten()``, ``x.squeeze()``
# ...) and other modules call them as ``chunkwise.array.manipulation.<name>``, so all of
# them are importable from here too (the ``noqa`` ones only for that).
from chunkwise.array.reshaping import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_arrays,  # noqa: F401 - as before the split
    broadcast_to,
    expand_dims,
    flatten,  # noqa: F401 - x.flatten()
    full_block,
    moveaxis,  # noqa: F401 - as before the split
    ravel,
    regular_chunks,
    reshape,
    squeeze,  # noqa: F401 - x.squeeze()
    swapaxes,  # noqa: F401 - x.swapaxes()
    target_chunks,
    transpose,  # noqa: F401 - x.transpose()
)
from chunkwise.array.utils import identity, is_nan
from chunkwise.core.graph import Ref, Task

__all__ = [
    "block",
    "concatenate",
    "dstack",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "repeat",
    "roll",
    "stack",
    "tile",
    "tril",
    "triu",
    "vstack",
]

# --- helpers --------------------------------------------------------------------------


# --- concatenate and friends --------------------------------------------------------------------


class Concatenate(ArrayExpr):
    """The inputs' blocks side by side along ``axis`` (the other axes' chunks agree)."""

    _parameters = ("axis", "dtype")
    _operand_only = ("dtype",)
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
        return self.operand("dtype")

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
            return Task(key, np.asanyarray, ref, self.dtype)  # a masked block keeps its mask
        return Task(key, identity, ref)


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
    axis = normalize_axis(axis, ndim, "concatenate")
    for i, x in enumerate(xs):
        for d in range(ndim):
            if d == axis:
                continue
            s0, s1 = xs[0].shape[d], x.shape[d]
            if is_nan(s0) != is_nan(s1):
                check_known_chunks(
                    "concatenate", ((s0, s1),), what=f"along dimension {d} an input",
                    detail=f", so the array at index 0 (shape {xs[0].shape}) and the array at index "
                    f"{i} (shape {x.shape}) may not match",
                )
            if s0 != s1 and not (is_nan(s0) and is_nan(s1)):
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
    target = target_chunks(exprs, lambda e, d: None if d == axis else d, ndim, "concatenate")
    aligned = []
    for e in exprs:
        want = tuple(target[d] if d != axis else e.chunks[d] for d in range(ndim))
        if same_chunks(e.chunks, want):
            aligned.append(e)
            continue
        check_known_chunks(
            "concatenate", e, want, what="an input", detail=f" that may not line up ({e.chunks} vs {want})"
        )
        aligned.append(Rechunk(e, want))
    if len(aligned) == 1 and aligned[0].dtype == result:
        return Array(aligned[0])
    return Array(Concatenate(axis, np.dtype(result), *aligned))


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
    if len(shapes) > 1 and not all(any(is_nan(s) for s in shape) for shape in shapes):
        raise ValueError(f"stack: all input arrays must have the same shape, got {sorted(shapes, key=str)}")
    axis = normalize_axis(axis, xs[0].ndim + 1, "stack")
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
            if any(is_nan(s) for s in shape):  # unknown lengths on other axes: take the block's
                shape = tuple(None if is_nan(s) else s for s in shape)
                return Task(key, _full_shaped_like, ref, shape, value, self.dtype)
            return Task(key, full_block, shape, value, self.dtype)
        if not repeats and all(s == slice(None) for s in slices):
            return Task(key, identity, ref)
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
    return full_block(tuple(b if s is None else s for b, s in zip(block.shape, shape)), value, dtype)


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
    return [(None, length, side) for length in regular_chunks(width, largest)] if width else []


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
    for s, e in sliding_window(2, starts):
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


def pieces_array(x: Array, specs: list, funcname: str, fill: tuple | None = None) -> Array:
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
    axes = tuple(range(x.ndim)) if axis is None else normalize_axes(axis, x.ndim, "flip")
    return pieces_array(x, [("flip",) if d in axes else None for d in range(x.ndim)], "flip")


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
        d = normalize_axis(ax, x.ndim, "roll")
        shifts[d] = shifts.get(d, 0) + operator.index(s)
    check_known_chunks("roll", x.expr, axes=tuple(shifts), what=f"the array (shape {x.expr.shape})")
    specs = []
    for d in range(x.ndim):
        n = x.shape[d]
        s = shifts.get(d, 0) % n if n else 0
        specs.append(("roll", int(s)) if s else None)
    return pieces_array(x, specs, "roll")


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
    return pieces_array(x, [("tile", r) if r != 1 else None for r in reps], "tile")


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
    axis = normalize_axis(axis, x.ndim, "repeat")
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
            return Task(key, identity, ref)
        low, high = c0 - (r1 - 1), (c1 - 1) - r0  # range of (column - row) in the block
        k = self.k
        if self.lower:
            keep_all, zero_all, func = high <= k, low > k, np.tril
        else:
            keep_all, zero_all, func = low >= k, high < k, np.triu
        if keep_all:
            return Task(key, identity, ref)
        if zero_all:
            return Task(key, full_block, self.block_shape(index), 0, self.dtype)
        return Task(key, func, ref, k - (c0 - r0))


def _triangle(m: Any, k: int, lower: bool, opname: str) -> Array:
    x = asarray(m)
    k = operator.index(k)
    if x.ndim == 0:
        raise ValueError(f"{opname}: input must be at least 1-d, got a 0-d array")
    if x.ndim == 1:
        x = broadcast_to(x, (x.shape[0], x.shape[0]), chunks=(x.chunks[0], x.chunks[0]))
    check_known_chunks(opname, x.expr, axes=(x.ndim - 2, x.ndim - 1), what=f"the array (shape {x.expr.shape})")
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
