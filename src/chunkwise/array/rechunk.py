"""``rechunk``: change the block structure of an array, in bounded memory.

Each output block of one rechunk *stage* is assembled from the input blocks it
overlaps: each of those is sliced to the overlap and the pieces are
concatenated. A task therefore holds every input block its output block
touches, plus the output block. When the two grids are misaligned (row blocks
to column blocks, say) one stage would make each task hold a whole row of
input blocks, so :func:`plan_rechunk` chooses intermediate chunkings: a chain
of stages, each of whose tasks stays under a memory limit (by default
``MEMORY_FACTOR`` times the larger of the input and output block).

Planning is per axis, never per block: the projected bytes of a stage's worst
task are the product over axes of the widest span of input blocks any output
block touches, plus the largest output block (:func:`rechunk_task_nbytes`),
which costs a few vectorised NumPy calls per axis even over 100,000 blocks.

The plan is built when the expression is simplified: a :class:`Rechunk` node
(what :func:`rechunk` and chunk unification create) first absorbs a rechunk
below it and vanishes if it changes nothing, then expands into a chain of
*planned* ``Rechunk`` stages, which ``explain()`` shows with their task count
and memory per task.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(10), chunks=3)
>>> y = x.rechunk(5)
>>> y.chunks
((5, 5),)
>>> y.compute().tolist() == list(range(10))
True
>>> plan = plan_rechunk(((10,) * 100, (1000,)), ((1000,), (10,) * 100), 8, 4 * 80_000)
>>> len(plan) > 1 and plan[-1] == ((1000,), (10,) * 100)
True
"""

from __future__ import annotations

import bisect
import importlib
import math
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise import config
from chunkwise.array.chunks import (
    check_known_chunks,
    chunk_boundaries,
    has_unknown,
    normalize_chunks,
    parse_bytes,
    same_axis_chunks,
)
from chunkwise.array.expr import (
    ArrayExpr,
    broadcast_shapes,
    concatenate_blocks,
    unknown_chunks_origin,
)
from chunkwise.array.utils import nbytes
from chunkwise.core.graph import Ref, Task
from chunkwise.sizes import format_bytes

__all__ = ["Rechunk", "plan_rechunk", "rechunk", "rechunk_task_nbytes"]

#: A stage's tasks may hold up to this many times the larger of the input and output block.
MEMORY_FACTOR = 3
#: At most this many stages in a plan.
MAX_STAGES = 16


class Rechunk(ArrayExpr):
    """The input array with ``new_chunks`` (normalized).

    ``planned=False`` (what others create) is the logical operation; simplifying
    replaces it by a chain of ``planned=True`` stages, each run as one layer of
    tasks. ``floor``: bytes a task may always hold (default: the configured
    ``array.chunk_size``); see :func:`plan_rechunk`.
    """

    _parameters = ("array", "new_chunks", "planned", "floor")
    _defaults = {"planned": False, "floor": None}

    def _chunks(self) -> tuple:
        return self.new_chunks

    def _dtype(self) -> Any:
        return self.array.dtype

    def _simplify_down(self):
        source = self.array
        if source.chunks == self.new_chunks:
            return source
        if self.planned:
            return None
        # Absorb the rechunks below (logical or already planned): plan from their source.
        while isinstance(source, Rechunk):
            source = source.array
        if source.chunks == self.new_chunks:
            return source
        if has_unknown(source.chunks):
            return Rechunk(source, self.new_chunks, True)
        limit = _default_limit(source.chunks, self.new_chunks, source.dtype.itemsize, self.floor)
        expr = source
        for stage in plan_rechunk(source.chunks, self.new_chunks, source.dtype.itemsize, limit):
            expr = Rechunk(expr, stage, True)
        return expr

    def _simplify_up(self, parent: Any, dependents: Any) -> Any:
        out = super()._simplify_up(parent, dependents)
        if out is not None:
            return out
        # A rechunk no consumer observes is dropped (chunkwise.array.rewrites, rule 1).
        return importlib.import_module("chunkwise.array.rewrites").drop_rechunk(self, parent, dependents)

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        source = self.array
        pieces_per_axis = []
        for axis, i in enumerate(index):
            if has_unknown((self.new_chunks[axis],)):  # kept as it was: ``rechunk`` changes none
                pieces_per_axis.append([(i, slice(None))])
                continue
            new_bounds = self._bounds[axis]
            old_bounds = self._source_bounds[axis]
            pieces_per_axis.append(_overlaps(old_bounds, new_bounds[i], new_bounds[i + 1]))
        if all(len(p) == 1 for p in pieces_per_axis):
            block = tuple(p[0][0] for p in pieces_per_axis)
            slices = tuple(p[0][1] for p in pieces_per_axis)
            return Task(key, _getitem, Ref((source.name, *block)), slices)
        nested = _nest(pieces_per_axis, source.name)
        return Task(key, concatenate_blocks, nested, self.ndim)

    @property
    def _bounds(self) -> tuple:
        bounds = self.__dict__.get("_bounds_cache")
        if bounds is None:
            bounds = self.__dict__["_bounds_cache"] = tuple(chunk_boundaries(c) for c in self.new_chunks)
        return bounds

    @property
    def _source_bounds(self) -> tuple:
        bounds = self.__dict__.get("_source_bounds_cache")
        if bounds is None:
            bounds = tuple(chunk_boundaries(c) for c in self.array.chunks)
            self.__dict__["_source_bounds_cache"] = bounds
        return bounds

    @property
    def task_nbytes(self) -> float:
        """Projected bytes held by this stage's worst task (inputs touched plus output)."""
        return rechunk_task_nbytes(self.array.chunks, self.new_chunks, self.dtype.itemsize)

    def _explain_line(self) -> str:
        head = f"Rechunk: {_describe_chunks(self.array.chunks)} -> {_describe_chunks(self.new_chunks)}"
        nbytes = self.task_nbytes
        size = format_bytes(nbytes, precision=1)
        return f"{head}  [{self.npartitions} tasks, <= {size} per task]"


def _describe_chunks(chunks: tuple) -> str:
    """A short text for chunks: ``((1000,)*20, (500,))``."""
    parts = []
    for c in chunks:
        if len(c) == 1:
            parts.append(f"({c[0]},)")
        elif all(x == c[0] for x in c):
            parts.append(f"({c[0]},)*{len(c)}")
        elif all(x == c[0] for x in c[:-1]):
            parts.append(f"({c[0]},)*{len(c) - 1}+({c[-1]},)")
        else:
            parts.append(f"({c[0]}, ..., {c[-1]})[{len(c)} blocks]")
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _overlaps(old_bounds: tuple, start: int, stop: int) -> list:
    """``(old block, slice within it)`` for each old block overlapping ``[start, stop)``."""
    if start == stop:  # an empty block: an empty slice of any block will do
        j = min(max(bisect.bisect_right(old_bounds, start) - 1, 0), len(old_bounds) - 2)
        lo = old_bounds[j]
        return [(j, slice(start - lo, start - lo))]
    pieces = []
    j = max(bisect.bisect_right(old_bounds, start) - 1, 0)
    while j < len(old_bounds) - 1 and old_bounds[j] < stop:
        lo, hi = old_bounds[j], old_bounds[j + 1]
        if hi > start:
            pieces.append((j, slice(max(lo, start) - lo, min(hi, stop) - lo)))
        j += 1
    return pieces


def _nest(pieces_per_axis: list, name: str, prefix: tuple = ()) -> Any:
    axis = len(prefix)
    if axis == len(pieces_per_axis):
        block = tuple(p[0] for p in prefix)
        slices = tuple(p[1] for p in prefix)
        return Task(None, _getitem, Ref((name, *block)), slices)
    return [_nest(pieces_per_axis, name, (*prefix, piece)) for piece in pieces_per_axis[axis]]


def _getitem(block: np.ndarray, slices: tuple) -> np.ndarray:
    return block[slices]


# --- planning ----------------------------------------------------------------------------


def max_span(old: tuple, new: tuple) -> int:
    """The widest stretch of ``old`` blocks that one block of ``new`` touches (one axis).

    An empty new block reads an empty slice of one old block, whose length counts.
    """
    old_bounds = np.cumsum((0, *old), dtype=np.int64)
    new_bounds = np.cumsum((0, *new), dtype=np.int64)
    if old_bounds[-1] == 0:
        return 0
    starts, stops = new_bounds[:-1], new_bounds[1:]
    first = np.searchsorted(old_bounds, starts, side="right") - 1
    first = np.clip(first, 0, len(old) - 1)
    last = np.searchsorted(old_bounds, stops, side="left")  # boundary at or after the stop
    last = np.clip(np.maximum(last, first + 1), 1, len(old))
    spans = old_bounds[last] - old_bounds[first]
    return int(spans.max()) if len(spans) else 0


def rechunk_task_nbytes(old_chunks: tuple, new_chunks: tuple, itemsize: int) -> float:
    """Projected bytes of the worst task of one stage from ``old_chunks`` to ``new_chunks``.

    An upper bound: the product over axes of the widest span of input blocks an
    output block touches (the input blocks the task holds), plus the largest
    output block. Costs a few NumPy calls per axis, nothing per block.
    ``nan`` when chunk sizes are unknown.

    >>> rechunk_task_nbytes(((2, 2), (4,)), ((4,), (2, 2)), 1)  # reads 4x4, writes 4x2
    24
    """
    if has_unknown(old_chunks) or has_unknown(new_chunks):
        return math.nan
    inputs = math.prod(max_span(o, n) for o, n in zip(old_chunks, new_chunks))
    output = math.prod(max(n) if n else 0 for n in new_chunks)
    return (inputs + output) * itemsize


def _max_block_nbytes(chunks: tuple, itemsize: int) -> int:
    return math.prod(max(c) if c else 0 for c in chunks) * itemsize


def _default_limit(old_chunks: tuple, new_chunks: tuple, itemsize: int, floor: Any = None) -> int:
    """``MEMORY_FACTOR`` times the larger block, but never under ``floor`` (default: the chunk size).

    A task holding a few MiB is never a problem, so small arrays are rechunked
    in one stage even when their grids are misaligned.
    """
    largest = max(_max_block_nbytes(old_chunks, itemsize), _max_block_nbytes(new_chunks, itemsize), itemsize)
    if floor is None:
        floor = config.get("array.chunk_size")
    return max(MEMORY_FACTOR * largest, parse_bytes(floor))


def _coarsen(chunks: tuple, target: float) -> tuple:
    """Group runs of consecutive blocks of ``chunks`` into blocks of about ``target`` (boundaries kept).

    Every group has the same number of blocks (the last may have fewer), so
    regular chunks stay regular and no group is much over ``target``.
    """
    count = round(target / _typical(chunks))
    if len(chunks) <= 1 or count <= 1:
        return tuple(chunks)
    starts = np.arange(0, len(chunks), count)
    merged = np.add.reduceat(np.asarray(chunks, dtype=np.int64), starts)
    return tuple(int(c) for c in merged)


def _refine(old: tuple, new: tuple) -> tuple:
    """The chunks cut at every boundary of ``old`` and of ``new`` (one axis)."""
    if old == new:
        return tuple(old)
    bounds = np.union1d(np.cumsum((0, *old)), np.cumsum((0, *new)))
    out = tuple(int(c) for c in np.diff(bounds))
    return out or (0,)


def _typical(chunks: tuple) -> float:
    return max(max(chunks), 1) if chunks else 1


def _geometric_plan(old: tuple, new: tuple, stages: int) -> list:
    """``stages`` chunkings from ``old`` to ``new`` with block lengths in geometric progression.

    Consecutive chunkings nest, so each stage only merges or only splits on an
    axis: where blocks grow, each intermediate groups the previous one's
    blocks; where they shrink, each groups the next one's (built backwards
    from ``new``). Only the first or last stage meets a misaligned grid.
    """
    per_axis = []
    for o, n in zip(old, new):
        if o == n:
            per_axis.append([o] * (stages - 1))
            continue
        to, tn = _typical(o), _typical(n)
        targets = [
            math.exp((1 - s / stages) * math.log(to) + (s / stages) * math.log(tn))
            for s in range(1, stages)
        ]
        chunkings = []
        if tn >= to:  # blocks grow: coarsen forwards from old
            previous = o
            for target in targets:
                previous = _coarsen(previous, target)
                chunkings.append(previous)
        else:  # blocks shrink: coarsen backwards from new
            following = n
            for target in reversed(targets):
                following = _coarsen(following, target)
                chunkings.append(following)
            chunkings.reverse()
        per_axis.append(chunkings)
    plan = [tuple(axis[s] for axis in per_axis) for s in range(stages - 1)]
    plan.append(tuple(new))
    return plan


def _plan_cost(old: tuple, plan: list, itemsize: int) -> tuple:
    """(worst task bytes, total tasks) of running ``plan`` from ``old``."""
    worst = 0.0
    tasks = 0
    previous = old
    for stage in plan:
        worst = max(worst, rechunk_task_nbytes(previous, stage, itemsize))
        tasks += math.prod(len(c) for c in stage)
        previous = stage
    return worst, tasks


def plan_rechunk(old_chunks: tuple, new_chunks: tuple, itemsize: int, limit: float | None = None) -> list:
    """The chunkings of each stage of a rechunk from ``old_chunks`` to ``new_chunks``.

    Returns a list of normalized chunks, the last being ``new_chunks``; every
    stage's worst task (:func:`rechunk_task_nbytes`) stays within ``limit``
    bytes (default: ``MEMORY_FACTOR`` times the larger block) when that is
    possible, using as few tasks as it can. Candidates: one stage; stages whose
    block lengths move geometrically from the old to the new ones; and two
    stages through the common refinement of both grids (each task then holds at
    most one input block and one output block's worth of pieces, so it fits any
    limit of at least twice the larger block). If no candidate fits, the one
    with the smallest tasks is returned.

    >>> plan_rechunk(((5, 5),), ((2, 2, 2, 2, 2),), 8, 1000)
    [((2, 2, 2, 2, 2),)]
    """
    old_chunks, new_chunks = tuple(map(tuple, old_chunks)), tuple(map(tuple, new_chunks))
    check_known_chunks("rechunk", old_chunks, new_chunks)
    if limit is None:
        limit = _default_limit(old_chunks, new_chunks, itemsize)
    if old_chunks == new_chunks:
        return [new_chunks]
    candidates = [[new_chunks]]
    first_worst = _plan_cost(old_chunks, [new_chunks], itemsize)[0]
    if first_worst <= limit:
        return [new_chunks]
    # More stages mean more tasks: the first geometric plan that fits is the best of them.
    for stages in range(2, MAX_STAGES + 1):
        plan = _geometric_plan(old_chunks, new_chunks, stages)
        candidates.append(plan)
        if _plan_cost(old_chunks, plan, itemsize)[0] <= limit:
            break
    refined = tuple(_refine(o, n) for o, n in zip(old_chunks, new_chunks))
    candidates.append([refined, new_chunks])
    best = None
    best_cost = None
    fallback = None
    fallback_cost = None
    for plan in candidates:
        plan = _drop_repeats(old_chunks, plan)
        worst, tasks = _plan_cost(old_chunks, plan, itemsize)
        if worst <= limit and (best_cost is None or tasks < best_cost):
            best, best_cost = plan, tasks
        if fallback_cost is None or (worst, tasks) < fallback_cost:
            fallback, fallback_cost = plan, (worst, tasks)
    return best if best is not None else fallback  # type: ignore[return-value]


def _drop_repeats(old: tuple, plan: list) -> list:
    """``plan`` without stages that repeat the chunks before them."""
    out = []
    previous = old
    for stage in plan:
        if stage != previous:
            out.append(stage)
            previous = stage
    return out or [tuple(old)]


# --- chunks lined up for elementwise work -----------------------------------------------------


def unify_chunks(*exprs: Any, opname: str = "operation") -> list:
    """The array operands rechunked so blocks line up on every (broadcast) axis.

    On each axis, the chunks of the largest operand are kept and the others are
    rechunked to them (moving the fewest bytes).
    """
    arrays = [e for e in exprs if isinstance(e, ArrayExpr)]
    if len(arrays) < 2:
        return list(exprs)
    ndim = max(a.ndim for a in arrays)
    shape = broadcast_shapes(*(a.shape for a in arrays))
    target: list = [None] * ndim
    for axis in range(ndim):
        best = None
        for a in sorted(arrays, key=lambda a: -nbytes(a)):
            offset = axis - (ndim - a.ndim)
            if offset < 0 or (a.shape[offset] == 1 and shape[axis] != 1):
                continue
            if best is None:
                best = a.chunks[offset]
        target[axis] = best
    out = []
    for e in exprs:
        if not isinstance(e, ArrayExpr):
            out.append(e)
            continue
        new = []
        for d in range(e.ndim):
            axis = d + ndim - e.ndim
            want = target[axis]
            have = e.chunks[d]
            if (e.shape[d] == 1 and shape[axis] != 1) or want is None or same_axis_chunks(have, want):
                new.append(have)
                continue
            check_known_chunks(
                opname, (have, want), what="an operand",
                detail=f", so its blocks may not line up ({have} vs {want})",
            )
            new.append(want)
        new = tuple(new)
        out.append(e if new == e.chunks else Rechunk(e, new))
    return out



def check_unknown_chunks_align(operands: list, opname: str) -> None:
    """Refuse to pair blocks of unknown (``nan``) lengths unless they provably line up.

    Blocks line up when both sides' unknown chunks come from the same node (see
    :func:`~chunkwise.array.expr.unknown_chunks_origin`); otherwise block ``i``
    of one side may hold other elements than block ``i`` of the other.
    """
    arrays = [o for o in operands if isinstance(o, ArrayExpr)]
    if len(arrays) < 2 or not any(a.unknown_chunks for a in arrays):
        return
    ndim = max(a.ndim for a in arrays)
    for axis in range(ndim):
        sides = []
        for a in arrays:
            offset = axis - (ndim - a.ndim)
            if offset >= 0 and a.shape[offset] != 1:
                sides.append((a, offset))
        if not any(has_unknown((a.chunks[d],)) for a, d in sides):
            continue
        origins = {
            unknown_chunks_origin(a, d) if has_unknown((a.chunks[d],)) else None for a, d in sides
        }
        if len(origins) > 1 or None in origins:
            shapes = " ".join(str(tuple(a.shape)) for a in arrays)
            check_known_chunks(
                opname, *((a.chunks[d],) for a, d in sides), what=f"operands with shapes {shapes}",
                plural=True, detail=f", so their blocks may not line up on axis {axis} (rechunking "
                "them to known chunks also works)",
            )


# --- the public function --------------------------------------------------------------------


def _rechunk_known_axes(chunks: Any, expr: Any, unknown: list, limit: Any) -> tuple:
    """New chunks of an array with unknown block lengths on the axes ``unknown``: those axes
    keep their blocks (a dict without them, or ``None`` for them in a tuple, as in Dask); a
    spec that would change one is refused, naming it."""
    ndim = expr.ndim
    if isinstance(chunks, dict):
        spec = {(axis + ndim if isinstance(axis, int) and axis < 0 else axis): c for axis, c in chunks.items()}
    elif isinstance(chunks, (tuple, list)) and len(chunks) == ndim:
        spec = dict(enumerate(chunks))
    else:
        spec = dict.fromkeys(range(ndim), chunks)
    changed = [axis for axis in unknown if spec.get(axis) is not None and spec[axis] != expr.chunks[axis]]
    known = [axis for axis in range(ndim) if axis not in unknown]
    example = f"{{{known[0]}: -1}}" if known else "nothing"
    check_known_chunks(
        "rechunk", expr, axes=changed, what=f"the array (shape {expr.shape})",
        detail=f" (this rechunk would change axis {changed[0] if changed else ''}; to keep it, give "
        f"only the other axes, e.g. {example})",
    )
    normalized = normalize_chunks(
        tuple(spec.get(axis) for axis in known), tuple(expr.shape[axis] for axis in known),
        dtype=expr.dtype, limit=limit, previous_chunks=tuple(expr.chunks[axis] for axis in known),
    )
    new = list(expr.chunks)
    for axis, c in zip(known, normalized):
        new[axis] = c
    return tuple(new)


def _none_keeps(chunks: Any, expr: Any) -> Any:
    """``chunks`` with each ``None`` for an axis (in a dict, or in a tuple of one entry an
    axis) replaced by that axis' current chunks: ``None`` keeps an axis, as in Dask."""
    ndim = expr.ndim
    if isinstance(chunks, dict):
        return {axis: expr.chunks[axis % ndim] if c is None and isinstance(axis, int) and -ndim <= axis < ndim
                else c for axis, c in chunks.items()}
    if isinstance(chunks, (tuple, list)) and len(chunks) == ndim and any(c is None for c in chunks):
        return tuple(expr.chunks[axis] if c is None else c for axis, c in enumerate(chunks))
    return chunks


def rechunk(x: Any, chunks: Any = "auto", threshold: Any = None, block_size_limit: Any = None) -> Any:
    """The array ``x`` with new chunks; as ``dask.array.rechunk``.

    ``chunks`` is any spec :func:`~chunkwise.array.chunks.normalize_chunks`
    reads: an int, a tuple, a dict ``{axis: spec}`` (other axes keep their
    chunks), ``-1`` for a whole axis, ``None`` to keep an axis' chunks (as
    Dask), ``"auto"`` (blocks near
    ``block_size_limit`` or the configured ``array.chunk_size``). Misaligned
    grids are rechunked in several stages (:func:`plan_rechunk`) whose tasks
    hold at most ``MEMORY_FACTOR`` times the larger of the old and new blocks,
    or ``block_size_limit`` (default: ``array.chunk_size``) if that is more.
    ``threshold`` is accepted for compatibility with Dask and ignored. Axes of
    unknown block lengths (after boolean indexing) keep their blocks (leave
    them out, or give ``None`` for them): the others may be rechunked
    (``x[mask].rechunk({1: -1})``), as in Dask.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.ones((4, 6)), chunks=(1, 6))
    >>> x.rechunk({0: -1, 1: 2}).chunks
    ((4,), (2, 2, 2))
    """
    expr = x.expr
    chunks = _none_keeps(chunks, expr)
    unknown = [axis for axis, c in enumerate(expr.chunks) if has_unknown((c,))]
    try:
        if unknown:
            new = _rechunk_known_axes(chunks, expr, unknown, block_size_limit)
        else:
            new = normalize_chunks(
                chunks, expr.shape, dtype=expr.dtype, limit=block_size_limit, previous_chunks=expr.chunks
            )
    except (ValueError, TypeError) as exc:
        if "unknown chunk sizes" in str(exc):
            raise
        raise type(exc)(f"rechunk of an array of shape {expr.shape}: {exc}") from None
    if new == expr.chunks:
        return x
    floor = None if block_size_limit is None else parse_bytes(block_size_limit)
    return x._rebuild(Rechunk(expr, new, False, floor))
