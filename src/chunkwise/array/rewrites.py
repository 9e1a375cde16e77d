"""Plan rewrites that do less work than asked: general rules over array plan nodes.

Each rule is called from a node's own hook (``_simplify_down``, ``_simplify_up``,
``_push_slice``) or, for sharing, from the ``share`` stage of array plans, and
each shows in ``explain()`` of the optimized plan:

1. **A rechunk no consumer can observe is dropped** (:func:`drop_rechunk`, called
   by ``Rechunk._simplify_up``). The *unobserved axes* of a node
   (:func:`unobserved_axes`) are those along which no consumer depends on its
   chunks:

   - a chunk-insensitive reduction (every reduction of
     :mod:`chunkwise.array.reductions`: sum, prod, min, max, any, all,
     count_nonzero, mean, var, std, ptp, argmin, argmax and the nan versions;
     their partials merge elementwise) observes only the axes it keeps, since
     the output's chunks on those are the input's; its reduced axes are free;
   - an elementwise node of the same shape, whose other array operands are
     size-1 broadcasts or computed elementwise from the same node (as in
     ``where(r > 0, r, 0)``), passes on the unobserved axes of its consumers;
   - anything else (a result the user computes, a slice, a map_blocks...)
     observes every axis.

   A rechunk (or a planned chain of rechunk stages read only by each other)
   that changes chunks only along unobserved axes is dropped; one that also
   changes observed axes becomes a rechunk of those axes alone. So
   ``x.rechunk(c).sum()`` is ``x.sum()``, ``(x.rechunk(c) + 1).sum()`` is
   ``(x + 1).sum()``, ``x.rechunk({0: a, 1: b}).sum(axis=0)`` rechunks axis 1
   only, and a rechunk that some other consumer needs is kept.
2. **A reduction of a boolean-masked array reduces the array with ``where=``**
   (:func:`simplify_reduction`, from ``Reduction._simplify_down``):
   ``x[mask].sum()`` is a :class:`~chunkwise.array.treereduce.MaskedReduction`
   of ``x`` whose chunk functions get each block's mask, as NumPy's
   ``np.sum(x, where=mask)``: no unknown chunk sizes, and no array of the
   selection between tasks. A block's chunk reduces its own selection
   (``block[mask]``, pairwise sums; the deviations of var/std over the
   selected values only), then the partials merge as usual (mean counts the
   selected elements; var/std keep the pairwise merge of ``(count, mean,
   M2)``); a block with nothing selected gives min/max no partial, so an empty
   selection raises NumPy's ``zero-size array`` error.
3. **An index into a cumulative result along its axis is a reduction**
   (:func:`index_cumulative`, from ``Cumulative._push_slice``):
   ``x.cumsum(axis=0)[k]`` is ``x[:k + 1].sum(axis=0)`` (prod, nansum, nanprod
   likewise), and ``x.cumsum(axis=0)[a:b]`` is the sum of ``x[:a]`` (a tree
   reduction, in parallel) combined with the cumulative sum of ``x[a:b]``.
4. **Several reductions of one input share one pass over it**
   (:func:`share_reductions`, the ``share`` stage, after lowering): reductions
   of the same array over the same axes (and mask) become one
   :class:`~chunkwise.array.treereduce.SharedReduction`, whose per-block task
   runs every member's chunk function on the block read (or generated) once,
   and one :class:`~chunkwise.array.treereduce.SharedPart` per member. Where
   two or more members are plain ``sum``/``mean``/``var``/``std``/``min``/``max``
   of a float block, one kernel (:func:`~chunkwise.array.reductions.fused_partials`)
   computes what they share once: one ``np.sum`` for sum, mean and the means of
   var/std, the deviations in one reused buffer, squared in place. Sum, mean,
   std, min and max read each slab of a block four times, not six, and make no
   temporaries (about 4x less CPU per block: 9.3 to 2.1 ms per 8 MB block).
5. **Reductions see through layout**: a reduction of a transpose reduces the
   input over the permuted axes (then transposes the small result if its axes
   come out in another order); a full reduction of a reshape reduces the input.
   **Casts compose** (:func:`simplify_astype`, from ``Blockwise._simplify_down``):
   ``x.astype(a).astype(b)`` is ``x.astype(b)`` when the cast to ``a`` keeps
   every value of ``x`` exactly (int32 to int64 or float64, float32 to
   float64; not int64 to float64, whose rounding a second cast could round
   again), and a cast back to ``x``'s own dtype is ``x``.
6. **A sum of squares reads the unsquared array** (:func:`sum_of_squares`, called
   by ``Blockwise._simplify_up``): ``(x ** 2).sum(axis)``, ``(x * x).sum(axis)``
   and, for real ``x``, ``(abs(x) ** 2).sum(axis)`` reduce ``x`` itself, each block
   by ``np.einsum("ij,ij->j", b, b)`` (:func:`sum_of_squares_chunk`): no squared
   block between the two steps (80 MB per 500,000 x 20 block of a TSQR's
   ``(q ** 2).sum(axis=0)``), about 4x less CPU per block, and the pass can be
   shared with other reductions of ``x`` (rule 4). Only for float and complex
   ``x`` (float32/complex64 accumulate in double precision, then round back):
   NumPy squares integers in their own dtype, wrapping, before ``sum`` widens
   them. Only where the square has no other reader, and for a plain ``sum``
   (no ``dtype=``).

No rule strips a mask: the reductions of a masked array (chunkwise.array.masks) keep
their mask-aware chunk functions (``masked=True``, kept by ``with_reduced_axes``)
through rules 1, 2 and 5, the shared pass of rule 4 hands each member the block as
it takes it, and the fused kernel of rule 4 and the sum of squares of rule 6 take
plain reductions only.

A rule fires only where it keeps every consumer's result: replacements are
made on the consumer (the parent), never on a node someone else still reads.
``chunkwise.config.set({"optimization.array_rewrites": False})`` turns every
rule off (to compare plans, or to rule a rewrite out when debugging).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from chunkwise import config
from chunkwise.array import reductions
from chunkwise.array.chunks import has_unknown, same_axis_chunks
from chunkwise.array.core import Array, astype_block
from chunkwise.array.cumulative import Cumulative
from chunkwise.array.elementwise import elemwise
from chunkwise.array.expr import ArrayExpr, Blockwise
from chunkwise.array.gather import BooleanMask
from chunkwise.array.index_spec import normalize_slice
from chunkwise.array.masks import takes_masked
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.reshaping import Reshape, Transpose
from chunkwise.array.slicing import Slice, is_elementwise, only_sliced
from chunkwise.array.treereduce import (
    MaskedReduction,
    Reduction,
    SharedPart,
    SharedReduction,
    normalize_split_every,
    shared_chunk,
    shared_combine,
)
from chunkwise.core.expr import Expr

__all__ = [
    "drop_rechunk",
    "simplify_astype",
    "index_cumulative",
    "share_reductions",
    "simplify_reduction",
    "sum_of_squares",
    "sum_of_squares_chunk",
    "unobserved_axes",
]

_MAX_DEPTH = 16  # elementwise levels followed when looking for what observes chunks


def _enabled() -> bool:
    return bool(config.get("optimization.array_rewrites", True))


# --- 1. rechunks nobody observes ----------------------------------------------------------


def unobserved_axes(
    expr: ArrayExpr, dependents: Mapping[str, list], origin: ArrayExpr | None = None, depth: int = 0
) -> frozenset:
    """The axes of ``expr`` along which no consumer depends on its chunks (see the module docstring).

    ``origin`` (default ``expr``): an elementwise consumer may also read other
    nodes computed elementwise from it (``where(r > 0, r, 0)`` for ``origin`` r).
    """
    origin = expr if origin is None else origin
    consumers = dependents.get(expr.name) or ()
    if not consumers or depth > _MAX_DEPTH:
        return frozenset()
    free = frozenset(range(expr.ndim))
    for consumer in consumers:
        free &= _free_for(consumer, expr, dependents, origin, depth)
        if not free:
            break
    return free


def _free_for(
    consumer: Expr, expr: ArrayExpr, dependents: Mapping[str, list], origin: ArrayExpr, depth: int
) -> frozenset:
    """The axes of ``expr`` whose chunks ``consumer`` does not observe."""
    if type(consumer) is Reduction and consumer.array.name == expr.name:
        if reductions.reduction_kind(consumer) is not None:
            return frozenset(consumer.axes)
        return frozenset()
    if (
        _elementwise_like(consumer, origin)
        and all(_scalar_like(a) or _derived(a, origin) for a in consumer._arrays)
    ):
        return unobserved_axes(consumer, dependents, origin, depth + 1)
    return frozenset()


def _elementwise_like(expr: Expr, origin: ArrayExpr) -> bool:
    return type(expr) is Blockwise and is_elementwise(expr) and expr.shape == origin.shape


def _scalar_like(expr: ArrayExpr) -> bool:
    return all(s == 1 for s in expr.shape)


def _derived(expr: ArrayExpr, origin: ArrayExpr, depth: int = 0) -> bool:
    """Whether ``expr`` is ``origin``, or computed from it elementwise (and broadcast scalars) only."""
    if expr.name == origin.name:
        return True
    if depth > _MAX_DEPTH or not _elementwise_like(expr, origin):
        return False
    return all(_scalar_like(a) or _derived(a, origin, depth + 1) for a in expr._arrays)


def _paths(expr: Expr, origin: ArrayExpr) -> int:
    """How many distinct operands of ``expr`` are ``origin`` or derived from it."""
    names = {a.name for a in getattr(expr, "_arrays", ()) if not _scalar_like(a) and _derived(a, origin)}
    return len(names)


def _one_path_above(expr: Expr, origin: ArrayExpr, dependents: Mapping[str, list], depth: int = 0) -> bool:
    """Whether no elementwise consumer above ``expr`` reads ``origin`` by another path too.

    Such a consumer is rewritten itself (all its paths at once), never ``expr``
    alone: a node reading ``origin`` rechunked beside one reading it not
    rechunked would pair blocks that do not line up.
    """
    if depth > _MAX_DEPTH:
        return False
    for consumer in dependents.get(expr.name) or ():
        if type(consumer) is Reduction:
            continue
        if _paths(consumer, origin) > 1 or not _one_path_above(consumer, origin, dependents, depth + 1):
            return False
    return True


def drop_rechunk(rechunk: Rechunk, parent: Expr, dependents: Mapping[str, list]) -> Expr | None:
    """``parent`` reading ``rechunk``'s source (or a rechunk of the observed axes only)."""
    if not _enabled():
        return None
    if not isinstance(parent, ArrayExpr):
        return None
    node = rechunk
    while isinstance(node.array, Rechunk):  # a planned chain, each stage read only by the next
        readers = dependents.get(node.array.name) or ()
        if len(readers) != 1 or readers[0].name != node.name:
            break
        node = node.array
    source = node.array
    if has_unknown(source.chunks) or has_unknown(rechunk.chunks):
        return None
    changed = {
        a for a in range(rechunk.ndim) if not same_axis_chunks(source.chunks[a], rechunk.chunks[a])
    }
    if not changed:
        return None
    free = unobserved_axes(rechunk, dependents)
    if not changed & free or not _one_path_above(parent, rechunk, dependents):
        return None
    if changed <= free:
        replacement: ArrayExpr = source
    else:
        kept = tuple(source.chunks[a] if a in free else rechunk.chunks[a] for a in range(rechunk.ndim))
        replacement = Rechunk(source, kept)
    if _paths(parent, rechunk) > 1:  # where(r > 0, r, 0): every path at once
        return parent.substitute(rechunk, replacement)
    return parent.with_operands(
        [replacement if isinstance(op, Expr) and op.name == rechunk.name else op for op in parent.operands]
    )


# --- 2 and 5. reductions of masks, transposes and reshapes --------------------------------


def simplify_reduction(reduction: Reduction) -> Expr | None:
    """``reduction`` over a boolean mask, a transpose or a reshape, rewritten; ``None`` to leave it."""
    if not _enabled():
        return None
    kind = reductions.reduction_kind(reduction)
    if kind is None:
        return None
    array = reduction.array
    if isinstance(array, BooleanMask):
        return _masked(reduction, kind)
    if isinstance(array, Transpose):
        return _through_transpose(reduction, kind)
    if isinstance(array, Reshape):
        return _through_reshape(reduction, kind)
    return None


def _masked(reduction: Reduction, kind: str) -> Expr | None:
    masked = reduction.array
    x = masked.array
    if kind not in ("ufunc", "moments") or reduction.axes != tuple(range(masked.ndim)):
        return None  # a partial reduction keeps the selection's (unknown) length
    if x.dtype.kind not in ("biuf" if reduction.skip_empty else "biufc"):
        return None  # min/max need a far end of the dtype to start from
    if reduction.keepdims and x.ndim != masked.ndim:
        return None
    axes = tuple(range(x.ndim))
    x, mask = _unrechunked(x, masked.mask, masked.axis)
    return MaskedReduction(
        x, reductions.with_reduced_axes(reduction.chunk, axes), reduction.combine,
        reduction.aggregate, axes, reduction.keepdims,
        normalize_split_every(None, axes, x.ndim, reduction.funcname), reduction.dtype,
        reduction.funcname, reduction.skip_empty, False, mask, masked.axis,
    )


def _unrechunked(x: ArrayExpr, mask: ArrayExpr, axis: int) -> tuple:
    """``x`` and ``mask`` before the rechunks that lined them up for a flattening mask,
    when their own chunks already agree (a masked reduction needs no C order)."""
    source, mask_source = x, mask
    while isinstance(source, Rechunk):
        source = source.array
    while isinstance(mask_source, Rechunk):
        mask_source = mask_source.array
    if (source is x and mask_source is mask) or has_unknown(source.chunks):
        return x, mask
    if all(
        same_axis_chunks(source.chunks[axis + d], c) for d, c in enumerate(mask_source.chunks)
    ):
        return source, mask_source
    return x, mask


def _through_transpose(reduction: Reduction, kind: str) -> Expr | None:
    if kind == "arg":
        return None  # flat indices follow the transposed order
    transpose = reduction.array
    perm = transpose.axes
    axes = tuple(sorted(perm[a] for a in reduction.axes))
    x = transpose.array
    split_every = tuple(sorted((perm[a], n) for a, n in reduction.split_every))
    inner = Reduction(
        x, reductions.with_reduced_axes(reduction.chunk, axes), reduction.combine,
        reduction.aggregate, axes, reduction.keepdims, split_every, reduction.dtype,
        reduction.funcname, reduction.skip_empty, False,
    )
    if reduction.keepdims:
        if len(axes) != x.ndim:
            return Transpose(inner, perm)
        return inner  # every axis of length 1: the order does not matter
    remaining = [a for a in range(x.ndim) if a not in axes]
    wanted = [perm[i] for i in range(x.ndim) if i not in reduction.axes]
    order = tuple(remaining.index(a) for a in wanted)
    return inner if order == tuple(range(len(order))) else Transpose(inner, order)


def _through_reshape(reduction: Reduction, kind: str) -> Expr | None:
    reshape = reduction.array
    x = reshape.array
    if reduction.keepdims or reduction.axes != tuple(range(reshape.ndim)) or x.ndim == 0:
        return None
    if kind == "arg":
        if reduction.chunk.keywords.get("axis") is not None or has_unknown(x.chunks):
            return None
        chunk = reduction.chunk  # axis=None: a flat C-order index, as the reshape's
    else:
        chunk = reductions.with_reduced_axes(reduction.chunk, tuple(range(x.ndim)))
    axes = tuple(range(x.ndim))
    return Reduction(
        x, chunk, reduction.combine, reduction.aggregate, axes, False,
        normalize_split_every(None, axes, x.ndim, reduction.funcname), reduction.dtype,
        reduction.funcname, reduction.skip_empty, reduction.with_offsets,
    )


def simplify_astype(cast: Blockwise) -> Expr | None:
    """``astype(astype(x, a), b)`` as ``astype(x, b)`` when the first cast is exact; ``None`` to leave it."""
    if not _enabled():
        return None
    inner = cast.args[0] if len(cast.args) == 1 else None
    if cast.func is not astype_block or type(inner) is not Blockwise or inner.func is not astype_block:
        return None
    if len(inner.args) != 1 or not isinstance(inner.args[0], ArrayExpr):
        return None
    x = inner.args[0]
    if not _exact_cast(x.dtype, inner.dtype):
        return None
    if cast.dtype == x.dtype:
        return x
    ops = cast.operands
    return Blockwise(ops[0], {"dtype": cast.dtype}, cast.dtype, ops[3], x)


def _exact_cast(source: np.dtype, target: np.dtype) -> bool:
    """Whether casting ``source`` to ``target`` keeps every value exactly."""
    if source.kind not in "biufc" or target.kind not in "biufc":
        return False
    if not np.can_cast(source, target, casting="safe"):
        return False
    if source.kind in "iu" and target.kind in "fc":
        mantissa = np.finfo(target).nmant + 1
        return source.itemsize * 8 - (source.kind == "i") <= mantissa
    return True


# --- 3. an index into a cumulative result ----------------------------------------------------

#: The reduction equal to the last element of each cumulative operation, and its binop.
_TOTALS = {
    "cumsum": (reductions.sum, np.add),
    "cumprod": (reductions.prod, np.multiply),
    "nancumsum": (reductions.nansum, np.add),
    "nancumprod": (reductions.nanprod, np.multiply),
}


def index_cumulative(cumulative: Cumulative, parent: Slice, dependents: Mapping[str, list]) -> Expr | None:
    """``cumsum(x)[k]`` as ``sum(x[:k+1])``; ``cumsum(x)[a:b]`` as ``sum(x[:a]) + cumsum(x[a:b])``."""
    if not _enabled():
        return None
    total = _TOTALS.get(cumulative.funcname)
    if total is None or cumulative.dtype.kind == "O" or not only_sliced(cumulative, dependents):
        return None
    index = parent.index
    if any(entry is None for entry in index) or len(index) != cumulative.ndim:
        return None
    axis = cumulative.axis
    entry = index[axis]
    x = cumulative.array
    reduce, binop = total
    # the reduced axis's position once the ints before it have dropped their axes
    position = axis - sum(1 for e in index[:axis] if not isinstance(e, slice))
    dtype = cumulative.dtype
    if not isinstance(entry, slice):
        prefix = _sliced(x, index, axis, slice(0, entry + 1, 1))
        return reduce(Array(prefix), axis=position, dtype=dtype).expr
    start, _, step = entry.indices(x.shape[axis])
    if step != 1 or start == 0 or entry == slice(0, 0, 1):
        return None
    carry = reduce(Array(_sliced(x, index, axis, slice(0, start, 1))), axis=position, dtype=dtype, keepdims=True)
    rest = _sliced(x, index, axis, entry)
    tail = Array(Cumulative(rest, cumulative.func, cumulative.binop, position, dtype, cumulative.funcname))
    if carry.chunks[position] != (1,) or any(
        c != t for d, (c, t) in enumerate(zip(carry.chunks, tail.chunks)) if d != position
    ):
        return None
    return elemwise(binop, carry, tail, dtype=dtype).expr


def _sliced(x: ArrayExpr, index: tuple, axis: int, entry: Any) -> Expr:
    """``x`` indexed by ``index`` with ``entry`` on the cumulative ``axis``."""
    entry = normalize_slice(entry, x.shape[axis], axis, "getitem")
    inner = tuple(entry if a == axis else e for a, e in enumerate(index))
    if all(e == slice(None) for e in inner):
        return x
    return Slice(x, inner)


# --- 6. sums of squares ---------------------------------------------------------------------

_SQUARED_KINDS = "fc"  # integer squares wrap in their own dtype before NumPy's sum widens them
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def sum_of_squares_chunk(block: Any, axis: tuple) -> Any:
    """``np.square(block).sum(axis, keepdims=True)`` without the squared block.

    >>> b = np.arange(6.0).reshape(2, 3)
    >>> sum_of_squares_chunk(b, (0,))
    array([[ 9., 17., 29.]])
    """
    if type(block) is not np.ndarray or block.ndim > len(_LETTERS) or block.dtype.kind not in _SQUARED_KINDS:
        return np.sum(np.square(block), axis=axis, keepdims=True)
    letters = _LETTERS[: block.ndim]
    kept = "".join(letter for a, letter in enumerate(letters) if a not in axis)
    wide = np.promote_types(block.dtype, np.float64)  # float32 sums accumulate in double
    out = np.einsum(f"{letters},{letters}->{kept}", block, block, dtype=wide)
    shape = tuple(1 if a in axis else n for a, n in enumerate(block.shape))
    return np.asarray(out).reshape(shape).astype(block.dtype, copy=False)


def sum_of_squares(square: Blockwise, parent: Expr, dependents: Mapping[str, list]) -> Expr | None:
    """``parent`` (a plain ``sum`` of ``square``, ``x ** 2`` or ``x * x``) as a sum of squares of ``x``."""
    if not _enabled() or type(parent) is not Reduction or parent.array.name != square.name:
        return None
    chunk = parent.chunk
    if (
        reductions.reduction_kind(parent) != "ufunc"
        or set(chunk.keywords) != {"func", "axis"}
        or chunk.keywords["func"] is not np.sum
        or parent.with_offsets
    ):
        return None
    if square.kwargs or any(reader.name != parent.name for reader in dependents.get(square.name, ())):
        return None
    args = square.args
    if square.func is np.multiply and (
        len(args) != 2 or not isinstance(args[0], ArrayExpr) or not isinstance(args[1], ArrayExpr)
        or args[0].name != args[1].name
    ):
        return None
    x = args[0]
    if not isinstance(x, ArrayExpr) or (square.func is np.square and len(args) != 1):
        return None
    if type(x) is Blockwise and x.func is np.absolute and not x.kwargs and len(x.args) == 1:
        inner = x.args[0]
        if isinstance(inner, ArrayExpr) and inner.dtype.kind == "f" and inner.dtype == x.dtype:
            x = inner  # abs(x) ** 2 is x ** 2 for real x, bit for bit
    if (
        x.dtype.kind not in _SQUARED_KINDS
        or not (x.dtype == square.dtype == parent.dtype)
        or x.shape != square.shape
        or x.chunks != square.chunks
    ):
        return None
    return Reduction(
        x, functools.partial(sum_of_squares_chunk, axis=parent.axes), parent.combine, parent.aggregate,
        parent.axes, parent.keepdims, parent.split_every, parent.dtype, "sum_of_squares",
        parent.skip_empty, False,
    )


# --- 4. one pass for several reductions of one input ----------------------------------------


def share_reductions(root: Expr) -> Expr:
    """``root`` with the reductions of one array over the same axes sharing one pass over it."""
    if not _enabled():
        return root
    groups: dict[tuple, dict[str, Reduction]] = {}
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node.name in seen:
            continue
        seen.add(node.name)
        stack.extend(node.dependencies())
        if type(node) not in (Reduction, MaskedReduction) or node.with_offsets:
            continue
        where = getattr(node, "where", None)
        key = (
            node.array.name, node.axes, node.split_every,
            None if where is None else where.name, getattr(node, "where_axis", 0),
        )
        groups.setdefault(key, {})[node.name] = node
    replacements: dict[str, Expr] = {}
    for members in groups.values():
        if len(members) > 1:
            replacements.update(_share(sorted(members.values(), key=lambda m: m.name)))
    if not replacements:
        return root
    return _replace(root, replacements)


def _share(members: list) -> dict:
    first = members[0]
    where = getattr(first, "where", None)
    combines = tuple(m.combine for m in members)
    chunks = tuple(m.chunk for m in members)
    specs = tuple(reductions.fusion_spec(c) for c in chunks)
    kernel = None
    if sum(spec is not None for spec in specs) > 1:  # what they share is computed once per block
        kernel = functools.partial(reductions.fused_partials, chunks=chunks, specs=specs, axis=first.axes)
    chunk = functools.partial(
        shared_chunk, chunks=chunks,
        skips=tuple(m.axes if m.skip_empty else None for m in members),
        combines=combines if 0 in first.axes else None,  # slabs of rows: a reduced axis
        kernel=kernel, masked=True,  # each member takes the block as it takes it
        masked_kernel=_masked_kernel(members, chunks),
    )
    combine = functools.partial(shared_combine, combines=combines)
    finals = tuple((m.aggregate, m.funcname, m.dtype) for m in members)
    shared = SharedReduction(
        first.array, chunk, combine, finals, first.axes, True, first.split_every,
        np.dtype(object), "shared-" + "-".join(m.funcname for m in members), False, False,
        where, getattr(first, "where_axis", 0),
    )
    return {
        m.name: SharedPart(shared, i, m.keepdims, m.dtype, m.chunks, m.funcname)
        for i, m in enumerate(members)
    }


def _masked_kernel(members: list, chunks: tuple) -> Any:
    """The kernel of members that reduce a masked array over all its axes (one selection of
    its unmasked values per block), or ``None``."""
    first = members[0]
    if len(first.axes) != first.array.ndim or not all(
        takes_masked(c) and reductions.reduction_kind(m) in ("ufunc", "moments") for c, m in zip(chunks, members)
    ):
        return None
    return functools.partial(reductions.masked_partials, chunks=chunks, axis=first.axes)


def _replace(root: Expr, replacements: dict) -> Expr:
    """``root`` with the nodes named in ``replacements`` replaced (iteratively, bottom-up)."""
    memo: dict[str, Expr] = {}
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if node.name in memo:
            continue
        if node.name in replacements:
            new = replacements[node.name]
            # the replacement's own inputs may hold nodes to replace
            if not expanded:
                stack.append((node, True))
                stack.extend((d, False) for d in new.dependencies() if d.name not in memo)
                continue
            memo[node.name] = new.with_operands(
                [memo.get(op.name, op) if isinstance(op, Expr) else op for op in new.operands]
            )
            continue
        if not expanded:
            stack.append((node, True))
            stack.extend((d, False) for d in node.dependencies() if d.name not in memo)
            continue
        memo[node.name] = node.with_operands(
            [memo.get(op.name, op) if isinstance(op, Expr) else op for op in node.operands]
        )
    return memo[root.name]
