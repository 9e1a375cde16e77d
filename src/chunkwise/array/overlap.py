"""Neighbourhoods: ``overlap``, ``trim_internal`` and ``map_overlap``.

Reach them as ``da.map_overlap``, ``da.overlap.overlap`` and
``da.overlap.trim_internal`` (Dask's names).

Design. :func:`overlap` gives every block a margin of ``depth`` elements
copied from its neighbours (or, at the ends of an axis, made by the
``boundary`` rule), so a stencil (a filter, a finite difference) can run on
each extended block alone. One :class:`Overlap` node builds two tasks per
block:

- ``(name-halo, i, j)`` (:func:`cut_halo`) copies the edge slabs block
  ``(i, j)`` lends its neighbours: its first and last ``depth`` rows on each
  axis where a neighbour needs them, a few rows each. It runs as soon as the
  block exists, so the block itself is then held only for its own extended
  block, not until the last of up to ``3**ndim - 1`` neighbours has read an
  edge: a row-by-row pass over a grid keeps about one row of blocks alive,
  not two (for ``map_overlap`` over a random (20000, 20000) array in
  (2000, 2000) blocks, peak memory ~1.15 -> ~0.8 GiB);
- ``(name, i, j)`` (:func:`assemble_overlap`) writes the block and the pieces
  of its neighbours' slabs into one preallocated array (a pooled scratch
  buffer, :mod:`chunkwise.array.buffers`): one copy of every element.

Per axis, each piece of an extended block is described once at build time as
``(source block, indexer, side)``: the last or first elements of a neighbour
(from its slab), an index array for the reflected or repeated edges of the
block itself, or a constant. No padding node, concatenation or intermediate
copy of the array is made.

Boundaries follow ``dask.array.overlap`` and ``scipy.ndimage`` modes:
``"reflect"`` (``d c b a | a b c d``, ndimage's ``reflect``, NumPy pad's
``symmetric``), ``"periodic"`` (ndimage's ``wrap``), ``"nearest"`` (the edge
value repeated), ``"none"`` (no margin at the ends of the axis), or a number
(a constant, ndimage's ``constant`` with ``cval``). Each axis may have its
own depth and boundary.

A margin must come from the next block alone, so every block on an axis with
a depth must be at least as long as the depth: smaller blocks are merged (a
rechunk) with a ``UserWarning`` that says so.

:func:`trim_internal` removes the margins again; :func:`map_overlap` is
overlap, ``map_blocks``, then trim.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(6), chunks=3)
>>> overlap(x, depth=1, boundary="reflect").compute().tolist()
[0, 0, 1, 2, 3, 2, 3, 4, 5, 5]
>>> map_overlap(np.gradient, x, depth=1, boundary="nearest", dtype=float).compute().tolist()
[0.5, 1.0, 1.0, 1.0, 1.0, 0.5]
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Hashable
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array import buffers
from chunkwise.array.axes import normalize_axis
from chunkwise.array.blockwise import map_blocks
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.rechunk import Rechunk, unify_chunks
from chunkwise.core.graph import Ref, Task

# Only ``map_overlap`` joins the ``chunkwise.array`` namespace: as in Dask, ``da.overlap``
# is this module (``da.overlap.overlap``, ``da.overlap.trim_internal``). The other
# public names are building blocks for sibling modules (gufunc's sliding windows).
__all__ = ["map_overlap"]

#: The named boundary rules (anything else must be a number: a constant).
BOUNDARIES = ("reflect", "periodic", "nearest", "none")


# --- arguments ------------------------------------------------------------------------------


def _pair(value: Any, opname: str) -> tuple:
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(v, (numbers.Integral, np.integer)) for v in value
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(
            f"{opname}: a depth must be an int or a (before, after) pair of ints, got {value!r}"
        )
    if min(pair) < 0:
        raise ValueError(f"{opname}: depth must not be negative, got {value!r}")
    return pair


def coerce_depth(depth: Any, ndim: int, opname: str = "overlap") -> tuple:
    """``depth`` (an int, one per axis, or ``{axis: depth}``) as one ``(before, after)`` per axis."""
    if depth is None:
        return ((0, 0),) * ndim
    if isinstance(depth, dict):
        out = [(0, 0)] * ndim
        for axis, value in depth.items():
            out[normalize_axis(axis, ndim, opname, "depth")] = _pair(value, opname)
        return tuple(out)
    if isinstance(depth, (tuple, list)) and not (ndim == 1 and len(depth) == 2):
        if len(depth) != ndim:
            raise ValueError(
                f"{opname}: depth {depth!r} gives {len(depth)} axes, but the array has {ndim}; "
                "give one depth per axis, one int, or a dict {axis: depth}"
            )
        return tuple(_pair(v, opname) for v in depth)
    return (_pair(depth, opname),) * ndim


def _rule(value: Any, opname: str) -> Any:
    if value is None:
        return "none"
    if isinstance(value, str):
        if value not in BOUNDARIES:
            raise ValueError(
                f"{opname}: boundary {value!r} is not one of {BOUNDARIES} or a constant number"
            )
        return value
    if isinstance(value, (numbers.Number, np.generic)):
        return ("constant", value)
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "constant":
        return value  # already normalized
    raise TypeError(f"{opname}: boundary must be one of {BOUNDARIES} or a number, got {value!r}")


def coerce_boundary(boundary: Any, ndim: int, opname: str = "overlap") -> tuple:
    """``boundary`` (one rule, one per axis, or ``{axis: rule}``) as one rule per axis."""
    if isinstance(boundary, dict):
        out = ["none"] * ndim
        for axis, value in boundary.items():
            out[normalize_axis(axis, ndim, opname, "boundary")] = _rule(value, opname)
        return tuple(out)
    if isinstance(boundary, (tuple, list)):
        if len(boundary) != ndim:
            raise ValueError(
                f"{opname}: boundary {boundary!r} gives {len(boundary)} axes, but the array has {ndim}"
            )
        return tuple(_rule(b, opname) for b in boundary)
    return (_rule(boundary, opname),) * ndim


def _merged(chunks: tuple, need: int) -> tuple:
    """``chunks`` with neighbours merged until every block is at least ``need`` long."""
    out: list = []
    acc = 0
    for c in chunks:
        acc += c
        if acc >= need:
            out.append(acc)
            acc = 0
    if acc:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    return tuple(out)


def _lends_enough(chunks: tuple, before: int, after: int, rule: Any) -> bool:
    """Whether every margin can be cut from one neighbouring block (or the end block)."""
    if any(c < after for c in chunks[1:]) or any(c < before for c in chunks[:-1]):
        return False
    if rule == "reflect":
        return chunks[0] >= before and chunks[-1] >= after
    if rule == "periodic":
        return chunks[-1] >= before and chunks[0] >= after
    return True


def ensure_minimum_chunks(expr: ArrayExpr, depth: tuple, boundary: tuple, opname: str) -> ArrayExpr:
    """``expr`` rechunked (with a warning) where a block is shorter than the depth it must lend."""
    new = []
    for axis, (chunks, (before, after), rule) in enumerate(zip(expr.chunks, depth, boundary)):
        need = max(before, after)
        if not need or (len(chunks) == 1 and rule == "none"):
            new.append(chunks)
            continue
        check_known_chunks(opname, (chunks,), what=f"the array (axis {axis})")
        length = sum(chunks)
        if rule != "none" and length < need:
            raise ValueError(
                f"{opname}: depth {need} is larger than axis {axis} (length {length}) with "
                f"boundary {rule!r}; use a smaller depth or boundary='none'"
            )
        new.append(chunks if _lends_enough(chunks, before, after, rule) else _merged(chunks, need))
    new = tuple(new)
    if new == expr.chunks:
        return expr
    needs = sorted({max(d) for d in depth if max(d)})
    shown = needs[0] if len(needs) == 1 else tuple(max(d) for d in depth)
    warnings.warn(
        f"{opname}: some blocks are smaller than the depth {shown}; "
        f"rechunking from {expr.chunks} to {new} (rechunk the input yourself to choose the blocks)",
        UserWarning,
        stacklevel=3,
    )
    return Rechunk(expr, new)


# --- the node -------------------------------------------------------------------------------


def _axis_pieces(chunks: tuple, i: int, before: int, after: int, rule: Any) -> list:
    """The pieces of extended block ``i`` on one axis: ``(source block or None, indexer, length, side)``.

    ``side`` is ``"tail"`` or ``"head"`` for a margin cut from a neighbouring
    block (its last or its first elements), ``None`` otherwise.
    """
    n = len(chunks)
    last = chunks[-1]
    pieces: list[tuple] = []
    if before:
        if i > 0:
            pieces.append((i - 1, slice(chunks[i - 1] - before, chunks[i - 1]), before, "tail"))
        elif rule == "reflect":
            pieces.append((0, np.arange(before - 1, -1, -1), before, None))
        elif rule == "nearest":
            pieces.append((0, np.zeros(before, dtype=np.intp), before, None))
        elif rule == "periodic":
            pieces.append((n - 1, slice(last - before, last), before, "tail"))
        elif rule != "none":
            pieces.append((None, None, before, None))
    pieces.append((i, slice(None), chunks[i], None))
    if after:
        if i < n - 1:
            pieces.append((i + 1, slice(0, after), after, "head"))
        elif rule == "reflect":
            pieces.append((n - 1, np.arange(last - 1, last - 1 - after, -1), after, None))
        elif rule == "nearest":
            pieces.append((n - 1, np.full(after, last - 1, dtype=np.intp), after, None))
        elif rule == "periodic":
            pieces.append((0, slice(0, after), after, "head"))
        elif rule != "none":
            pieces.append((None, None, after, None))
    return pieces


def _constant_of(boundary: tuple, axes: list) -> Any:
    for axis in axes:
        if isinstance(boundary[axis], tuple):
            return boundary[axis][1]
    return 0


class Overlap(ArrayExpr):
    """Each block of ``array`` extended by ``depth`` on every side; see the module docstring.

    Operands: ``array``, ``depth`` (one ``(before, after)`` per axis) and
    ``boundary`` (one rule per axis, a constant as ``("constant", value)``).
    """

    _parameters = ("array", "depth", "boundary")

    def _dtype(self) -> Any:
        return self.array.dtype

    def _chunks(self) -> tuple:
        out = []
        for axis, chunks in enumerate(self.array.chunks):
            before, after = self.depth[axis]
            rule = self.boundary[axis]
            out.append(tuple(
                sum(p[2] for p in _axis_pieces(chunks, i, before, after, rule))
                for i in range(len(chunks))
            ))
        return tuple(out)

    @property
    def _halo_name(self) -> str:
        return f"{self.name}-halo"

    def _owned_names(self) -> tuple:
        return (self.name, self._halo_name)

    def _halo_sides(self, index: tuple) -> tuple:
        """The ``(axis, side)`` slabs block ``index`` lends its neighbours (see :func:`cut_halo`)."""
        sides = []
        for axis, (chunks, i) in enumerate(zip(self.array.chunks, index)):
            before, after = self.depth[axis]
            n = len(chunks)
            periodic = self.boundary[axis] == "periodic" and n > 1
            if after and (i > 0 or periodic):  # the next block's 'after' margin: my first rows
                sides.append((axis, "head", after))
            if before and (i < n - 1 or periodic):  # the previous block's 'before' margin: my last rows
                sides.append((axis, "tail", before))
        return tuple(sides)

    def _task(self, key: Hashable) -> Task:
        assert isinstance(key, tuple)
        index = key[1:]
        if key[0] == self._halo_name:
            return Task(key, cut_halo, self._halo_sides(index), Ref((self.array.name, *index)))
        source = self.array
        per_axis = [
            _axis_pieces(chunks, i, *self.depth[axis], self.boundary[axis])
            for axis, (chunks, i) in enumerate(zip(source.chunks, index))
        ]
        refs: list = []
        positions: dict = {}
        pieces = []
        for combo in product(*per_axis):
            constant_axes = [a for a, p in enumerate(combo) if p[0] is None]
            shape = tuple(p[2] for p in combo)
            if constant_axes:
                pieces.append((None, shape, _constant_of(self.boundary, constant_axes)))
                continue
            block = tuple(p[0] for p in combo)
            indexers = tuple(p[1] for p in combo)
            if block != index:  # a neighbour's edge: from the slabs it lent, not the whole block
                axis, side = _lending_side(index, combo)
                slot = self._halo_sides(block).index((axis, side, self.depth[axis][0 if side == "tail" else 1]))
                ref: Hashable = (self._halo_name, *block)
                indexers = (*indexers[:axis], slice(None), *indexers[axis + 1:])
                what: Any = (slot, indexers)
            else:
                ref = (source.name, *block)
                what = (None, indexers)
            if ref not in positions:
                positions[ref] = len(refs)
                refs.append(Ref(ref))
            pieces.append((positions[ref], shape, what))
        counts = tuple(len(p) for p in per_axis)
        return Task(key, assemble_overlap, counts, pieces, source.dtype, *refs)

    def _explain_line(self) -> str:
        return f"Overlap: depth={self.depth} boundary={self.boundary}  [{self.npartitions} blocks, {self.dtype}]"


def _lending_side(index: tuple, combo: tuple) -> tuple:
    """For a piece of extended block ``index`` cut from another block: the slab it lies in.

    On some axis the piece comes from a neighbouring block (the previous or the
    next one, or the other end with ``"periodic"``): it is that block's last
    (``"tail"``) or first (``"head"``) elements there, whatever it is on the others.
    """
    for axis, (i, (block, _, _, side)) in enumerate(zip(index, combo)):
        if block != i and side is not None:
            return axis, side
    raise AssertionError(f"overlap: {combo} is cut from the extended block's own block")


def cut_halo(sides: tuple, block: Any) -> tuple:
    """The edge slabs of ``block`` its neighbours need, as copies, one per ``(axis, side, depth)``.

    A copy, not a view: a view would keep the whole block alive until the last
    neighbour has read its edge, where the slabs are a few rows each.
    """
    out = []
    for axis, side, depth in sides:
        length = block.shape[axis]
        cut = slice(0, depth) if side == "head" else slice(length - depth, length)
        out.append(block[(slice(None),) * axis + (cut,)].copy())
    return tuple(out)


def _take(block: np.ndarray, indexers: tuple) -> np.ndarray:
    """``block`` indexed axis by axis (index arrays never combine into pointwise indexing)."""
    if all(isinstance(ix, slice) for ix in indexers):
        return block[indexers]
    out = block
    for axis, ix in enumerate(indexers):
        if isinstance(ix, slice):
            if ix != slice(None):
                out = out[(slice(None),) * axis + (ix,)]
        else:
            out = np.take(out, ix, axis=axis)
    return out


def assemble_overlap(counts: tuple, pieces: list, dtype: np.dtype, *blocks: Any) -> np.ndarray:
    """Build one extended block from its pieces (in C order over ``counts`` pieces per axis).

    Plain NumPy blocks are copied once, each piece straight into its place in
    the output; masked blocks are concatenated axis by axis (``np.ma``).
    """
    if len(pieces) > 1 and not any(_is_masked(b) for b in blocks):
        return _assemble_in_place(counts, pieces, dtype, blocks)
    arrays = []
    for position, shape, what in pieces:
        if position is None:
            arrays.append(np.full(shape, what, dtype=dtype))
        else:
            arrays.append(_take(_source(blocks[position], what[0]), what[1]))
    if len(arrays) == 1:
        return arrays[0]
    for axis in range(len(counts) - 1, -1, -1):  # innermost axis first
        step = counts[axis]
        if step > 1:
            arrays = [_concatenate(arrays[k:k + step], axis) for k in range(0, len(arrays), step)]
    return arrays[0]


def _assemble_in_place(counts: tuple, pieces: list, dtype: np.dtype, blocks: tuple) -> np.ndarray:
    """:func:`assemble_overlap` into one preallocated array: no intermediate concatenations."""
    ndim = len(counts)
    # The pieces' lengths along each axis: the k-th piece of axis a sits at stride prod(counts[a+1:]).
    strides = [math.prod(counts[a + 1:]) for a in range(ndim)]
    lengths = [[pieces[k * strides[a]][1][a] for k in range(counts[a])] for a in range(ndim)]
    starts = [np.concatenate([[0], np.cumsum(lens)]).tolist() for lens in lengths]
    out_dtype = np.result_type(
        dtype, *(_source(blocks[p[0]], p[2][0]).dtype for p in pieces if p[0] is not None)
    )
    out = buffers.empty(tuple(s[-1] for s in starts), out_dtype)  # reused once no one holds it
    for i, (position, shape, what) in enumerate(pieces):
        where = tuple(
            slice(starts[a][(i // strides[a]) % counts[a]], starts[a][(i // strides[a]) % counts[a]] + shape[a])
            for a in range(ndim)
        )
        if position is None:
            out[where] = what
        else:
            out[where] = _take(_source(blocks[position], what[0]), what[1])
    return out


def _source(block: Any, slot: int | None) -> Any:
    """The array a piece is cut from: the block itself, or one of the slabs a neighbour lent."""
    return block if slot is None else block[slot]


def _is_masked(block: Any) -> bool:
    if isinstance(block, tuple):  # a neighbour's slabs
        return any(isinstance(slab, np.ma.MaskedArray) for slab in block)
    return isinstance(block, np.ma.MaskedArray)


def _concatenate(arrays: list, axis: int) -> np.ndarray:
    if any(isinstance(a, np.ma.MaskedArray) for a in arrays):
        return np.ma.concatenate(arrays, axis=axis)
    return np.concatenate(arrays, axis=axis)


# --- the public functions -------------------------------------------------------------------


def refuse_small_blocks(expr: ArrayExpr, depths: tuple, rules: tuple, opname: str) -> None:
    """Raise if a block is too short to lend its neighbours their depth (``allow_rechunk=False``)."""
    for axis, (chunks, d, rule) in enumerate(zip(expr.chunks, depths, rules)):
        if max(d) and len(chunks) > 1 and not _lends_enough(chunks, *d, rule):
            raise ValueError(
                f"{opname}: blocks {chunks} on axis {axis} are smaller than the depth {max(d)}; "
                "rechunk to larger blocks or pass allow_rechunk=True"
            )


def overlap(x: Any, depth: Any, boundary: Any = None, *, allow_rechunk: bool = True) -> Array:
    """Every block extended by ``depth`` elements of its neighbours, as ``dask.array.overlap.overlap``.

    ``depth``: an int, one per axis, ``{axis: depth}`` (a ``(before, after)``
    pair is accepted per axis). ``boundary``: ``"reflect"``, ``"periodic"``,
    ``"nearest"``, ``"none"`` (default) or a constant, one for all axes, one
    per axis, or ``{axis: rule}``. Blocks shorter than the depth are merged
    first, with a warning (``allow_rechunk=False`` raises instead).

    >>> import numpy as np
    >>> x = asarray(np.arange(4)).rechunk(2)
    >>> overlap(x, 1, boundary="periodic").chunks
    ((4, 4),)
    >>> overlap(x, 1, boundary=-1).compute().tolist()
    [-1, 0, 1, 2, 1, 2, 3, -1]
    """
    x = asarray(x)
    depths = coerce_depth(depth, x.ndim)
    rules = coerce_boundary(boundary, x.ndim)
    expr = x.expr
    if not allow_rechunk:
        refuse_small_blocks(expr, depths, rules, "overlap")
    expr = ensure_minimum_chunks(expr, depths, rules, "overlap")
    if not any(max(d) for d in depths):
        return Array(expr)
    for rule in rules:
        if isinstance(rule, tuple):
            np.asarray(rule[1]).astype(expr.dtype)  # fail now on a constant of the wrong kind
    return Array(Overlap(expr, depths, rules))


def _trim_block(block: np.ndarray, block_id: tuple, trims: tuple) -> np.ndarray:
    index = tuple(
        slice(t[i][0], block.shape[axis] - t[i][1]) for axis, (t, i) in enumerate(zip(trims, block_id))
    )
    return block[index]


def trim_internal(x: Any, axes: Any, boundary: Any = None) -> Array:
    """Remove the margins :func:`overlap` added (``axes``: the same depth), as Dask's ``trim_internal``.

    With ``boundary="none"`` an axis got no margin at its ends, so none is removed there.

    >>> import numpy as np
    >>> x = asarray(np.arange(6)).rechunk(3)
    >>> trim_internal(overlap(x, 1, "reflect"), 1, "reflect").compute().tolist()
    [0, 1, 2, 3, 4, 5]
    """
    x = asarray(x)
    depths = coerce_depth(axes, x.ndim, "trim_internal")
    rules = coerce_boundary(boundary, x.ndim, "trim_internal")
    trims = []
    for chunks, (before, after), rule in zip(x.chunks, depths, rules):
        n = len(chunks)
        trims.append(tuple(
            (0 if (i == 0 and rule == "none") else before, 0 if (i == n - 1 and rule == "none") else after)
            for i in range(n)
        ))
    new_chunks = []
    for axis, (chunks, t) in enumerate(zip(x.chunks, trims)):
        out = tuple(c - b - a for c, (b, a) in zip(chunks, t))
        if any(c < 0 for c in out):
            raise ValueError(
                f"trim_internal: blocks {chunks} on axis {axis} are shorter than the margins "
                f"{depths[axis]} to remove; pass the depth that overlap() was given"
            )
        new_chunks.append(out)
    if not any(any(b or a for b, a in t) for t in trims):
        return x
    return map_blocks(_trim_block, x, chunks=tuple(new_chunks), dtype=x.dtype, trims=tuple(trims))


def map_overlap(func: Callable, *args: Any, depth: Any = None, boundary: Any = None, trim: bool = True,
                align_arrays: bool = True, allow_rechunk: bool = True, dtype: Any = None,
                meta: Any = None, chunks: Any = None, drop_axis: Any = None, new_axis: Any = None,
                **kwargs: Any) -> Array:
    """``func`` on every block extended by its neighbours, then trimmed, as ``dask.array.map_overlap``.

    ``args``: one or more arrays (others are passed to ``func`` as they are);
    ``depth`` and ``boundary`` as in :func:`overlap`, or a list with one per
    array. With several arrays, their blocks are aligned first. ``trim=False``
    returns the blocks as ``func`` returned them (``chunks=`` says their
    shapes). ``dtype``/``meta`` are inferred from a sample call when absent.
    Extra keywords go to ``func``.

    >>> import numpy as np
    >>> x = asarray(np.arange(8.0)).rechunk(3)
    >>> smooth = map_overlap(lambda b: (b[:-2] + b[1:-1] + b[2:]) / 3, x, depth=1, boundary="nearest",
    ...                      trim=False, chunks=((3, 3, 2),))
    >>> smooth.compute().tolist()
    [0.3333333333333333, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.666666666666667]
    """
    if isinstance(func, Array) and args and callable(args[0]):
        func, args = args[0], (func, *args[1:])  # x.map_overlap(func, ...)
    if not callable(func):
        raise TypeError(f"map_overlap: the first argument must be callable, got {type(func).__name__}")
    positions = [k for k, a in enumerate(args) if isinstance(a, (Array, np.ndarray))]
    if not positions:
        raise TypeError("map_overlap: needs at least one array argument")
    arrays = [asarray(args[k]) for k in positions]
    n = len(arrays)
    depths = depth if isinstance(depth, list) and n > 1 else [depth] * n
    rules = boundary if isinstance(boundary, list) and n > 1 else [boundary] * n
    if len(depths) != n or len(rules) != n:
        raise ValueError(
            f"map_overlap: got {len(depths)} depths and {len(rules)} boundaries for {n} arrays; "
            "give one of each, or a list with one per array"
        )
    exprs = [a.expr for a in arrays]
    if n > 1 and align_arrays:
        ndims = {a.ndim for a in arrays}
        if len(ndims) > 1:
            raise ValueError(
                f"map_overlap: the arrays have {sorted(ndims)} dimensions; give arrays of one "
                "number of dimensions (broadcast them first)"
            )
        exprs = unify_chunks(*exprs, opname="map_overlap")
    norm_depths = [coerce_depth(d, e.ndim, "map_overlap") for d, e in zip(depths, exprs)]
    norm_rules = [coerce_boundary(b, e.ndim, "map_overlap") for b, e in zip(rules, exprs)]
    if not allow_rechunk:
        for e, d, b in zip(exprs, norm_depths, norm_rules):
            refuse_small_blocks(e, d, b, "map_overlap")
    if n == 1:
        exprs = [ensure_minimum_chunks(exprs[0], norm_depths[0], norm_rules[0], "map_overlap")]
    else:  # one rechunk for all, so the blocks stay aligned
        widest = tuple(
            (max(d[axis][0] for d in norm_depths), max(d[axis][1] for d in norm_depths))
            for axis in range(exprs[0].ndim)
        )
        fixed = ensure_minimum_chunks(exprs[0], widest, norm_rules[0], "map_overlap")
        exprs = [e if e.chunks == fixed.chunks else Rechunk(e, fixed.chunks) for e in exprs]
    extended = [
        overlap(Array(e), d, b, allow_rechunk=allow_rechunk) for e, d, b in zip(exprs, norm_depths, norm_rules)
    ]
    call_args = list(args)
    for k, ext in zip(positions, extended):
        call_args[k] = ext
    out_chunks = chunks if chunks is not None else (None if (drop_axis is not None or new_axis is not None)
                                                  else extended[0].chunks)
    result = map_blocks(func, *call_args, dtype=dtype, meta=meta, chunks=out_chunks, drop_axis=drop_axis,
                        new_axis=new_axis, **kwargs)
    if not trim:
        return result
    out_depth = list(norm_depths[0])
    out_rules = list(norm_rules[0])
    if drop_axis is not None:
        dropped = {normalize_axis(a, len(out_depth), "map_overlap", "drop_axis")
                   for a in ([drop_axis] if isinstance(drop_axis, numbers.Integral) else drop_axis)}
        out_depth = [d for a, d in enumerate(out_depth) if a not in dropped]
        out_rules = [r for a, r in enumerate(out_rules) if a not in dropped]
    if new_axis is not None:
        for a in sorted([new_axis] if isinstance(new_axis, numbers.Integral) else new_axis):
            out_depth.insert(a, (0, 0))
            out_rules.insert(a, "none")
    out_rules = [r if not isinstance(r, tuple) else 0 for r in out_rules]
    return trim_internal(result, tuple(out_depth), tuple(out_rules))
