"""Sorting and selection: ``sort``/``argsort`` by sample sort, ``topk``/``argtopk``, ``partition``.

Sample sort (:class:`SampleSort`), along any axis, on any chunking. Work on
one *lane* (a 1-d slice along the sorted axis) at a time; every element has
a distinct key ``(value, position)``, so ties are broken by position: the sort
is stable, and NaNs go last as in NumPy (``searchsorted`` and ``sort`` share
that order).

1. ``-sorted``: each input block is sorted along the axis (one task per
   block); ``argsort`` sorts stably and keeps the global positions. A key's
   position is its block's offset plus its rank in the sorted block, so equal
   values order by block, then by their order in it: distinct keys, and
   ``sort`` needs no positions at all.
2. ``-splitters``: one task per lane group reads every ``step``-th key of each
   sorted block (a regular sample: no extra pass). A sample key's rank is
   known within ``p * step`` (``p`` input blocks), so for each target rank
   ``R_k`` (the start of output block ``k``) two splitters are picked: one
   surely at or below ``R_k``, one surely at or above. ``step`` makes the
   small bucket between them under an eighth of an output block (about
   ``8 * p * P`` samples in all, ``P`` output blocks).
3. ``-cuts``: each sorted block is cut at the splitters (``searchsorted`` on
   values; equal values are contiguous, so their key positions cut them by
   arithmetic): bucket ``b`` of block ``i``.
4. ``-starts``: one small task adds the bucket sizes: the rank where each
   bucket starts.
5. Output block ``k`` holds ranks ``[R_k, R_k+1)`` exactly: it reads the
   buckets holding those ranks from every sorted block (the small bucket at
   each end and the one between: at most ``1.25`` blocks' worth of data),
   merges those sorted runs (NumPy's stable sort, a timsort) and keeps its
   window.

The output blocks are balanced: ``P`` (the number of input blocks on the
axis) blocks of equal length (``n // P``, the first ``n % P`` one longer),
whatever the data. The sorted blocks stay in memory until every output block
is built (about twice the array), so sort arrays that fit in memory (or
``persist`` the result of one sort when several consumers need it).

Masked arrays (``numpy.ma`` blocks, :mod:`chunkwise.array.masks`) are ordered
as ``numpy.ma.sort``: by their data filled with an extreme value
(:func:`~chunkwise.array.masks.sort_fill_value`: masked values last, or first).
An argsort is the argsort of the filled array. A sort carries the data and
the mask with the filled keys through the five steps (the third item of a
sorted block); for bool, integer and float data it needs no argsort
(:func:`masked_sort_lanes`), so it is always stable, and ``partition`` of a
one-block axis partitions the filled keys and gathers data and mask.

``topk``/``argtopk`` are tree reductions (:class:`TopK`): each block keeps
its ``|k|`` largest (or smallest) by ``numpy.partition``, groups of partials
merge the same way, the root sorts. ``partition``/``argpartition`` are
NumPy's on a one-block axis; on a chunked axis a full sort is returned, which
satisfies NumPy's contract for every ``kth``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([5, 1, 4, 1, 3, 9, 2, 6]), chunks=3)
>>> s = da.sort(x)
>>> s.compute().tolist(), s.chunks
([1, 1, 2, 3, 4, 5, 6, 9], ((3, 3, 2),))
>>> da.argsort(x).compute().tolist()
[1, 3, 6, 4, 2, 0, 7, 5]
>>> da.topk(x, 2).compute().tolist(), da.topk(x, -3).compute().tolist()
([9, 6], [1, 1, 2])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axis
from chunkwise.array.blockwise import map_blocks
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, elemwise, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.masks import filled_block, is_masked, sort_fill_value
from chunkwise.array.reshaping import ravel
from chunkwise.array.treereduce import Reduction, normalize_split_every
from chunkwise.core.graph import Ref, Task

# The names joining the ``chunkwise.array`` namespace (NumPy/Dask names); the nodes and
# helpers above and below are public to sibling modules and tests, not to ``da``.
__all__ = [
    "argpartition",
    "argsort",
    "argtopk",
    "partition",
    "sort",
    "topk",
]

_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


# --- lanes: a block seen as (lanes, length along the axis) -----------------------------------


def _lanes(block: np.ndarray, axis: int) -> np.ndarray:
    moved = np.moveaxis(block, axis, -1)
    if not moved.ndim:
        return moved.reshape(1, 1)
    # the lane count spelled out: ``-1`` is ambiguous for an empty block (a zero-length chunk)
    return moved.reshape(math.prod(moved.shape[:-1]), moved.shape[-1])


def _unlanes(lanes: np.ndarray, shape: tuple, axis: int) -> np.ndarray:
    moved_shape = shape[:axis] + shape[axis + 1:] + (shape[axis],)
    return np.moveaxis(lanes.reshape(moved_shape), -1, axis)


# --- the tasks -------------------------------------------------------------------------------


def sort_block(block: np.ndarray, axis: int, offset: int, want: str, fill: Any = None) -> tuple:
    """Step 1: the block's lanes sorted (with their global positions when ``want`` is them).

    Values alone need no positions: their keys use each element's rank in the
    sorted block instead (``offset + rank``), which orders equal values by block
    and keeps every key distinct, as the splitting needs.

    A masked block (``fill`` given, values wanted) is sorted by its data filled
    with ``fill``; its data and mask travel with the keys (the third item, with
    the block's ``fill_value`` for the output blocks).
    """
    if fill is not None:
        keys, data, mask = (_lanes(part, axis) for part in _masked_parts(block, fill))
        sorted_keys, _, (data, mask) = masked_sort_lanes(keys, data, mask, fill)
        return sorted_keys, None, (data, mask, _fill_value_of(block))
    lanes = _lanes(np.asarray(block), axis)
    if want == "values":
        return np.sort(lanes, axis=1), None, None
    order = np.argsort(lanes, axis=1, kind="stable")
    return np.take_along_axis(lanes, order, axis=1), order + offset, None


def choose_splitters(sorted_blocks: list, offsets: tuple, targets: tuple, step: int) -> tuple:
    """Step 2: per lane, two sample keys ``(value, key position)`` around each target rank.

    A key position is ``offset of the block + rank in the sorted block``: equal
    values order by block, then by their (stable) order within the block. A
    sample with ``q`` samples below it has a rank in ``[q * step - (p - 1) *
    (step - 1), q * step]``; for a target ``R`` the first splitter's rank is
    surely at most ``R``, the second's at least ``R``, so the bucket between
    them (small: under ``p * step``) straddles ``R``.
    """
    p = len(sorted_blocks)
    nlanes = sorted_blocks[0][0].shape[0]
    values = np.concatenate([b[0][:, ::step] for b in sorted_blocks], axis=1)
    positions = np.concatenate([np.arange(off, off + b[0].shape[1], step) for b, off in zip(sorted_blocks, offsets)])
    count = values.shape[1]
    targets = np.asarray(targets, dtype=np.int64)
    below = targets // step
    above = -(-(targets + (p - 1) * (step - 1)) // step)
    picks = np.clip(np.stack([below, above], axis=1).reshape(-1), 0, count - 1)
    picks = np.maximum.accumulate(picks).astype(np.intp)
    split_values = np.empty((nlanes, len(picks)), dtype=values.dtype)
    split_positions = np.empty((nlanes, len(picks)), dtype=np.intp)
    for lane in range(nlanes):
        order = np.lexsort((positions, values[lane]))
        split_values[lane] = values[lane, order[picks]]
        split_positions[lane] = positions[order[picks]]
    return split_values, split_positions


def cut_block(sorted_block: tuple, splitters: tuple, offset: int) -> np.ndarray:
    """Step 3: where each splitter key cuts each lane of a sorted block (``(lanes, P + 1)``).

    Keys below ``(value, position)``: the smaller values, and of the equal ones
    (contiguous in the sorted block) those whose key position is below.
    """
    values = sorted_block[0]
    split_values, split_positions = splitters
    nlanes, length = values.shape
    cuts = np.empty((nlanes, split_values.shape[1] + 2), dtype=np.intp)
    cuts[:, 0] = 0
    cuts[:, -1] = length
    for lane in range(nlanes):
        v, sv = values[lane], split_values[lane]
        lo = np.searchsorted(v, sv, side="left")
        hi = np.searchsorted(v, sv, side="right")
        cuts[lane, 1:-1] = lo + np.clip(split_positions[lane] - offset - lo, 0, hi - lo)
    return cuts


def bucket_starts(cuts: list) -> np.ndarray:
    """Step 4: the rank at which each bucket starts, per lane (``(lanes, P + 1)``)."""
    sizes = sum(np.diff(c, axis=1) for c in cuts)
    starts = np.zeros((sizes.shape[0], sizes.shape[1] + 1), dtype=np.intp)
    np.cumsum(sizes, axis=1, out=starts[:, 1:])
    return starts


def output_block(k: int, window: tuple, starts: np.ndarray, sorted_blocks: list, cuts: list,
                 shape: tuple, axis: int, want: str, fill: Any = None) -> np.ndarray:
    """Step 5: ranks ``window`` of every lane, from the buckets that hold them.

    The buckets are found from their starts (by the splitters' rank bound they
    are among ``k-1 .. k+1``, mostly bucket ``k`` alone); their pieces are sorted
    runs, which NumPy's stable sort (timsort) merges cheaply.
    """
    low, high = window
    nlanes = starts.shape[0]
    if sorted_blocks[0][2] is not None:
        return _masked_output_block(window, starts, sorted_blocks, cuts, shape, axis, fill)
    dtype = sorted_blocks[0][0].dtype if want == "values" else np.intp
    out = np.empty((nlanes, high - low), dtype=dtype)
    if high == low:
        return _unlanes(out, shape, axis)
    buckets = starts.shape[1] - 1
    for lane in range(nlanes):
        first = min(max(int(np.searchsorted(starts[lane], low, side="right")) - 1, 0), buckets - 1)
        last = min(max(int(np.searchsorted(starts[lane], high, side="left")) - 1, first), buckets - 1)
        base = starts[lane, first]
        spans = [(b, c[lane, first], c[lane, last + 1]) for b, c in zip(sorted_blocks, cuts)]
        values = np.concatenate([b[0][lane, i:j] for b, i, j in spans])
        if want == "values":
            values.sort(kind="stable")
            out[lane] = values[low - base:high - base]
        else:  # pieces in block order, ties in position order within each: a stable sort keeps it
            order = np.argsort(values, kind="stable")[low - base:high - base]
            out[lane] = np.concatenate([b[1][lane, i:j] for b, i, j in spans])[order]
    return _unlanes(out, shape, axis)


def _lane_spans(lane: int, window: tuple, starts: np.ndarray, cuts: list) -> tuple:
    """The first bucket of ``lane`` holding ranks ``window`` and each sorted block's piece of them."""
    low, high = window
    buckets = starts.shape[1] - 1
    first = min(max(int(np.searchsorted(starts[lane], low, side="right")) - 1, 0), buckets - 1)
    last = min(max(int(np.searchsorted(starts[lane], high, side="left")) - 1, first), buckets - 1)
    return starts[lane, first], [(c[lane, first], c[lane, last + 1]) for c in cuts]


def _masked_output_block(window: tuple, starts: np.ndarray, sorted_blocks: list, cuts: list,
                         shape: tuple, axis: int, fill: Any) -> np.ma.MaskedArray:
    """Step 5 of a masked sort: the filled keys order the window, the data and mask follow them.

    The pieces are in block order, ties in position order within each: a
    stable sort of their concatenation keeps it (:func:`masked_sort_lanes`).
    """
    low, high = window
    nlanes = starts.shape[0]
    data = np.empty((nlanes, high - low), dtype=sorted_blocks[0][2][0].dtype)
    mask = np.empty((nlanes, high - low), dtype=bool)
    for lane in range(nlanes if high > low else 0):
        base, spans = _lane_spans(lane, window, starts, cuts)
        keys, lane_data, lane_mask = (
            np.concatenate([part(b)[lane, i:j] for b, (i, j) in zip(sorted_blocks, spans)])[None]
            for part in (lambda b: b[0], lambda b: b[2][0], lambda b: b[2][1])
        )
        _, _, (lane_data, lane_mask) = masked_sort_lanes(keys, lane_data, lane_mask, fill, runs=True)
        data[lane] = lane_data[0, low - base:high - base]
        mask[lane] = lane_mask[0, low - base:high - base]
    fill_values = {b[2][2] for b in sorted_blocks}  # kept when the input blocks agree on one
    return np.ma.masked_array(_unlanes(data, shape, axis), mask=_unlanes(mask, shape, axis),
                              fill_value=fill_values.pop() if len(fill_values) == 1 else None)


def _fill_value_of(block: Any) -> Any:
    """The ``fill_value`` a masked block carries (``None`` for a plain one), as a Python scalar."""
    return block.fill_value.item() if isinstance(block, np.ma.MaskedArray) else None


def _masked_parts(block: Any, fill: Any) -> tuple:
    """The sort keys (the data filled with ``fill``), the data and the mask of a (masked) block."""
    return np.ma.filled(block, fill), np.ma.getdata(block), np.ma.getmaskarray(block)


def masked_sort_lanes(keys: np.ndarray, data: np.ndarray, mask: np.ndarray, fill: Any, runs: bool = False) -> tuple:
    """``(sorted keys, None, (data, mask))``: lanes sorted stably by ``keys`` (the data filled with ``fill``).

    Without an argsort where the dtype allows (bool, integers, floats): every
    masked place has the key ``fill``, so the places whose key differs from it
    are unmasked and their sorted keys are their sorted data; the places tied
    with ``fill`` (masked, or real values equal to it) form one run of the
    sorted keys, which holds their data and mask in position order (a stable
    sort's order): a plain sort and a boolean selection, where the general way
    (kept for other dtypes) takes an argsort and three gathers.
    ``runs``: the lanes are sorted runs (step 5), which timsort merges fastest;
    otherwise NumPy's quickest sort (equal keys are equal values).
    """
    if keys.dtype.kind not in "biuf":
        order = np.argsort(keys, axis=1, kind="stable")
        payload = tuple(np.take_along_axis(part, order, axis=1) for part in (data, mask))
        return np.take_along_axis(keys, order, axis=1), None, payload
    fill = np.ma.filled(np.ma.masked_all(1, keys.dtype), fill)[0]  # as np.ma.filled casts it
    sorted_keys = np.sort(keys, axis=1, kind="stable" if runs else None)
    tied = np.isnan(keys) if keys.dtype.kind == "f" and np.isnan(fill) else keys == fill
    out_data, out_mask = sorted_keys.copy(), np.zeros(keys.shape, dtype=bool)
    for lane in np.flatnonzero(tied.any(axis=1)).tolist():
        where = tied[lane]
        start = int(np.searchsorted(sorted_keys[lane], fill, side="left"))
        count = int(np.count_nonzero(where))
        out_data[lane, start:start + count] = data[lane][where]
        out_mask[lane, start:start + count] = mask[lane][where]
    return sorted_keys, None, (out_data, out_mask)


def masked_sort_block(block: Any, axis: int, kind: Any, fill: Any) -> np.ma.MaskedArray:
    """``numpy.ma.sort`` of one block along ``axis`` (stable: see :func:`masked_sort_lanes`)."""
    shape = np.shape(block)
    keys, data, mask = (_lanes(part, axis) for part in _masked_parts(block, fill))
    _, _, (data, mask) = masked_sort_lanes(keys, data, mask, fill)
    return np.ma.masked_array(_unlanes(data, shape, axis), mask=_unlanes(mask, shape, axis),
                              fill_value=_fill_value_of(block))


def masked_partition_block(block: Any, kth: Any, axis: int, kind: Any, fill: Any) -> np.ma.MaskedArray:
    """A partition of one block in ``numpy.ma.sort``'s order (masked places as ``fill``)."""
    order = np.argpartition(np.ma.filled(block, fill), kth, axis=axis, kind=kind)
    return _gather_masked(block, order, axis)


def _gather_masked(block: Any, order: np.ndarray, axis: int) -> np.ma.MaskedArray:
    return np.ma.masked_array(np.take_along_axis(np.ma.getdata(block), order, axis=axis),
                              mask=np.take_along_axis(np.ma.getmaskarray(block), order, axis=axis),
                              fill_value=_fill_value_of(block))


# --- the node --------------------------------------------------------------------------------


def balanced_chunks(length: int, parts: int) -> tuple:
    """``length`` split into ``parts`` blocks whose lengths differ by at most one.

    >>> balanced_chunks(10, 3)
    (4, 3, 3)
    """
    parts = max(1, min(parts, length)) if length else 1
    base, extra = divmod(length, parts)
    return tuple(base + 1 if i < extra else base for i in range(parts))


class SampleSort(ArrayExpr):
    """``array`` sorted (``want="values"``) or argsorted (``"positions"``) along ``axis``.

    See the module docstring for the five steps and their keys. ``fill``: the
    array is masked, sorted by its data filled with ``fill`` (``want="values"``
    only; a masked argsort is the argsort of the filled array).
    """

    _parameters = ("array", "axis", "want", "fill")
    _defaults = {"fill": None}

    def _dtype(self) -> Any:
        return self.array.dtype if self.want == "values" else np.dtype(np.intp)

    def _chunks(self) -> tuple:
        chunks = list(self.array.chunks)
        chunks[self.axis] = balanced_chunks(int(self.array.shape[self.axis]), len(chunks[self.axis]))
        return tuple(chunks)

    def _owned_names(self):
        name = self.name
        return (name, *(f"{name}-{stage}" for stage in ("sorted", "splitters", "cuts", "starts")))

    @functools.cached_property
    def _plan(self) -> dict:
        out_chunks = self.chunks[self.axis]
        in_chunks = self.array.chunks[self.axis]
        ranks = (0, *np.cumsum(out_chunks).tolist())
        smallest = min(out_chunks)
        # the buckets straddling each block boundary hold < p * step keys: an eighth of a block
        step = max(1, smallest // (8 * (len(in_chunks) + 1)))
        offsets = (0, *np.cumsum(in_chunks).tolist())
        return {"ranks": ranks, "step": step, "offsets": offsets, "p": len(in_chunks),
                "P": len(out_chunks)}

    def _refs(self, stage: str, index: tuple) -> list:
        axis = self.axis
        return [Ref((f"{self.name}-{stage}", *index[:axis], i, *index[axis + 1:]))
                for i in range(self._plan["p"])]

    def _task(self, key: Hashable) -> Task:
        name, index = key[0], tuple(key[1:])
        axis, plan = self.axis, self._plan
        if name == f"{self.name}-sorted":
            return Task(key, sort_block, Ref((self.array.name, *index)), axis, plan["offsets"][index[axis]],
                        self.want, self.fill)
        if name == f"{self.name}-splitters":
            return Task(key, choose_splitters, self._refs("sorted", index), tuple(plan["offsets"][:-1]),
                        tuple(plan["ranks"][1:-1]), plan["step"])
        if name == f"{self.name}-cuts":
            lane_group = (*index[:axis], 0, *index[axis + 1:])
            return Task(key, cut_block, Ref((f"{self.name}-sorted", *index)),
                        Ref((f"{self.name}-splitters", *lane_group)), plan["offsets"][index[axis]])
        if name == f"{self.name}-starts":
            return Task(key, bucket_starts, self._refs("cuts", index))
        k = index[axis]
        lane_group = (*index[:axis], 0, *index[axis + 1:])
        window = (plan["ranks"][k], plan["ranks"][k + 1])
        return Task(key, output_block, k, window, Ref((f"{self.name}-starts", *lane_group)),
                    self._refs("sorted", lane_group), self._refs("cuts", lane_group),
                    self.block_shape(index), axis, self.want, self.fill)

    def _explain_line(self) -> str:
        p = self._plan
        masked = "" if self.fill is None else f" masked (fill {self.fill!r})"
        return (f"SampleSort: axis={self.axis} {self.want}{masked} {p['p']} -> {p['P']} blocks, "
                f"sample every {p['step']}  [{self.dtype}]")


# --- sort, argsort ---------------------------------------------------------------------------


def _check_sort_args(opname: str, x: Array, kind: Any, order: Any) -> None:
    if order is not None:
        raise NotImplementedError(f"{opname}: order= (structured arrays) is not supported on chunkwise arrays")
    if kind not in _KINDS:
        raise ValueError(f"{opname}: kind must be one of {_KINDS[1:]}, got {kind!r}")
    if x.dtype.kind in "OV":
        raise TypeError(f"{opname}: cannot sort an array of dtype {x.dtype} lazily; compute it first")


def _filled(x: Array, fill: Any) -> Array:
    return elemwise(filled_block, x, dtype=x.dtype, funcname="filled", kwargs={"fill_value": fill})


def sorted_along(a: Any, axis: Any, kind: Any, order: Any, want: str, opname: str, endwith: bool = True,
                 fill_value: Any = None) -> Array:
    """Sort or argsort (``want``) along ``axis``; a masked array in ``numpy.ma``'s order.

    A masked array is ordered by its data filled with :func:`sort_fill_value`
    (masked values last for ``endwith``): its argsort is the argsort of the
    filled array, its sort carries the data and the mask with the filled keys.
    """
    x = asarray(a)
    _check_sort_args(opname, x, kind, order)
    if axis is None or (x.ndim == 0 and want == "positions"):  # NumPy argsorts a 0-d array as 1-d
        x, axis = ravel(x), 0 if axis is None else axis
    if x.ndim == 0:
        raise np.exceptions.AxisError(f"{opname}: axis {axis} is out of bounds for array of dimension 0")
    axis = normalize_axis(axis, x.ndim, opname)
    fill = None
    if is_masked(x):
        fill = sort_fill_value(x.dtype, endwith, fill_value, opname)
        if want == "positions":
            x, fill = _filled(x, fill), None
    if x.numblocks[axis] == 1 or x.size == 0:
        if fill is not None:
            return map_blocks(masked_sort_block, x, axis=axis, kind=kind, fill=fill, dtype=x.dtype)
        func = np.sort if want == "values" else np.argsort
        dtype = x.dtype if want == "values" else np.dtype(np.intp)
        return map_blocks(func, x, axis=axis, kind=kind, dtype=dtype)
    check_known_chunks(opname, x, axes=(axis,), what=f"the array (axis {axis})")
    return Array(SampleSort(x.expr, axis, want, fill))


@implements(np.sort)
def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Array:
    """A sorted copy along ``axis`` (``None``: flattened), as ``numpy.sort``; NaNs last.

    On a one-block axis each block is sorted by NumPy (with ``kind``); on a
    chunked axis the sample sort of the module docstring runs, which is
    always stable, and the result has balanced blocks on that axis. A masked
    array is sorted, always stably, as ``numpy.ma.sort``: masked values last (see
    :func:`chunkwise.array.ma.sort` for ``endwith``/``fill_value``).

    >>> import numpy as np
    >>> x = asarray(np.array([[3.0, np.nan, 1.0], [2.0, 0.0, 5.0]])).rechunk((1, 2))
    >>> sort(x, axis=1).compute().tolist()
    [[1.0, 3.0, nan], [0.0, 2.0, 5.0]]
    >>> sort(x, axis=None).chunks  # balanced blocks, as many as the input had
    ((2, 2, 1, 1),)
    """
    return sorted_along(a, axis, "stable" if stable else kind, order, "values", "sort")


@implements(np.argsort)
def argsort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Array:
    """The indices that sort ``a`` along ``axis``, as ``numpy.argsort`` (stable on a chunked axis).

    A 0-d array is sorted as a 1-d array of one element (``[0]``), as NumPy
    does (while ``sort`` of a 0-d array needs ``axis=None``). A masked array
    is argsorted as ``numpy.ma.argsort`` with ``axis=-1``: masked places last.

    >>> import numpy as np
    >>> argsort(asarray(np.array([2, 0, 2, 1])).rechunk(2)).compute().tolist()
    [1, 3, 0, 2]
    """
    return sorted_along(a, axis, "stable" if stable else kind, order, "positions", "argsort")


def _check_kth(opname: str, kth: Any, length: int) -> tuple:
    kths = np.atleast_1d(np.asarray(kth))
    if kths.dtype.kind not in "iu":
        raise TypeError(f"{opname}: kth must be an integer or a sequence of integers, got {kth!r}")
    for k in kths.tolist():
        if not -length <= k < length:
            raise ValueError(f"{opname}: kth(={k}) out of bounds ({length})")
    return kths


@implements(np.partition)
def partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None) -> Array:
    """A copy with the ``kth`` element in its sorted place, as ``numpy.partition``.

    On a one-block axis this is NumPy's partition of each block; on a chunked
    axis the fully sorted array is returned (a valid partition for every ``kth``).
    A masked array is partitioned in ``numpy.ma.sort``'s order (masked values
    last; the mask travels with the data), not as ``MaskedArray.partition``,
    which warns and moves the data without its mask.

    >>> import numpy as np
    >>> x = asarray(np.array([7, 1, 5, 3, 9, 0])).rechunk(4)
    >>> int(partition(x, 2)[2])
    3
    """
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis(axis, x.ndim, "partition")
    _check_kth("partition", kth, int(x.shape[axis]))
    if order is not None:
        raise NotImplementedError("partition: order= (structured arrays) is not supported on chunkwise arrays")
    if x.numblocks[axis] == 1:
        if is_masked(x):
            return map_blocks(masked_partition_block, x, kth=kth, axis=axis, kind=kind,
                              fill=sort_fill_value(x.dtype, opname="partition"), dtype=x.dtype)
        return map_blocks(np.partition, x, kth, axis=axis, kind=kind, dtype=x.dtype)
    return sort(x, axis=axis)


@implements(np.argpartition)
def argpartition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None) -> Array:
    """Indices that partition ``a`` around ``kth``, as ``numpy.argpartition`` (see :func:`partition`).

    A masked array: those of its data filled as ``numpy.ma.argsort`` fills it
    (masked places last).

    >>> import numpy as np
    >>> x = asarray(np.array([7, 1, 5, 3, 9, 0])).rechunk(4)
    >>> int(argpartition(x, 0)[0])
    5
    """
    x = asarray(a)
    if axis is None or x.ndim == 0:  # NumPy argpartitions a 0-d array as 1-d
        x, axis = ravel(x), 0 if axis is None else axis
    if is_masked(x):
        x = _filled(x, sort_fill_value(x.dtype, opname="argpartition"))
    axis = normalize_axis(axis, x.ndim, "argpartition")
    _check_kth("argpartition", kth, int(x.shape[axis]))
    if order is not None:
        raise NotImplementedError("argpartition: order= (structured arrays) is not supported on chunkwise arrays")
    if x.numblocks[axis] == 1:
        return map_blocks(np.argpartition, x, kth, axis=axis, kind=kind, dtype=np.intp)
    return argsort(x, axis=axis)


# --- topk, argtopk ---------------------------------------------------------------------------


class TopK(Reduction):
    """A tree reduction whose output keeps ``|k|`` elements on the reduced axis (``topk``/``argtopk``)."""

    _parameters = (*Reduction._parameters, "length")

    def _chunks(self) -> tuple:
        axis = self.axes[0]
        return tuple((self.length,) if a == axis else c for a, c in enumerate(self.array.chunks))


def topk_candidates(values: np.ndarray, k: int) -> np.ndarray | None:
    """A boolean mask of a 1-d ``values`` that keeps its ``|k|`` largest (smallest) and few others.

    The ``|k|``-th largest value ``t`` of a strided sample is a lower bound of the
    ``|k|``-th largest of all, so ``values >= t`` keeps every value of the top
    (NaNs too: ``~(values < t)``, as ``np.partition`` ranks them largest). One
    comparison pass instead of ``np.partition``'s copy and selection of the whole
    block: ~9x faster on 10M integers. ``None`` when it would not pay (a short
    block, or a sample that leaves more than a quarter of the values).
    """
    n = len(values)
    if values.dtype.kind not in "iuf" or n < 4096 or n < 64 * abs(k):
        return None
    sample = values[:: n // (32 * abs(k))]
    if k > 0:
        t = np.partition(sample, len(sample) - k)[len(sample) - k]
        mask = ~(values < t)
    else:
        t = np.partition(sample, -k - 1)[-k - 1]
        mask = values <= t
    kept = int(np.count_nonzero(mask))
    return mask if abs(k) <= kept <= n // 4 else None


def _top(values: np.ndarray, k: int, axis: int, indices: np.ndarray | None = None) -> Any:
    """The ``|k|`` largest (``k > 0``) or smallest values along ``axis``, unordered (and their indices)."""
    if values.ndim == 1:
        mask = topk_candidates(values, k)
        if mask is not None:
            values = values[mask]
            indices = None if indices is None else indices[mask]
    n = values.shape[axis]
    if n <= abs(k):
        return values if indices is None else (values, indices)
    kth = n - k if k > 0 else -k - 1
    keep = slice(n - k, None) if k > 0 else slice(None, -k)
    where = (slice(None),) * axis + (keep,)
    if indices is None:
        return np.partition(values, kth, axis=axis)[where]
    order = np.argpartition(values, kth, axis=axis)[where]
    return np.take_along_axis(values, order, axis=axis), np.take_along_axis(indices, order, axis=axis)


def _topk_chunk(block: np.ndarray, k: int, axis: int) -> np.ndarray:
    return _top(block, k, axis)


def _topk_combine(parts: list, k: int, axis: int) -> np.ndarray:
    return _top(np.concatenate(parts, axis=axis), k, axis)


def _topk_aggregate(partial: np.ndarray, k: int, axis: int) -> np.ndarray:
    if partial.shape[axis] < abs(k):  # an axis of unknown length (after boolean indexing) was too short
        raise ValueError(
            f"topk: |k|={abs(k)} is larger than axis {axis} (length {partial.shape[axis]}); "
            f"use a k between -{partial.shape[axis]} and {partial.shape[axis]}"
        )
    out = np.sort(partial, axis=axis)
    return np.flip(out, axis=axis) if k > 0 else out


def _argtopk_chunk(block: np.ndarray, k: int, axis: int, offsets: tuple, shape: tuple) -> tuple:
    index_shape = [1] * block.ndim
    index_shape[axis] = block.shape[axis]
    indices = np.broadcast_to(
        np.arange(offsets[axis], offsets[axis] + block.shape[axis], dtype=np.intp).reshape(index_shape),
        block.shape,
    )
    return _top(block, k, axis, indices)


def _argtopk_combine(parts: list, k: int, axis: int) -> tuple:
    values = np.concatenate([p[0] for p in parts], axis=axis)
    indices = np.concatenate([p[1] for p in parts], axis=axis)
    return _top(values, k, axis, indices)


def _argtopk_aggregate(partial: tuple, k: int, axis: int) -> np.ndarray:
    values, indices = partial
    order = np.argsort(values, axis=axis, kind="stable")
    if k > 0:
        order = np.flip(order, axis=axis)
    return np.take_along_axis(indices, order, axis=axis)


def _topk(a: Any, k: Any, axis: Any, split_every: Any, want_indices: bool) -> Array:
    opname = "argtopk" if want_indices else "topk"
    x = asarray(a)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k == 0:
        raise ValueError(f"{opname}: k must be a non-zero integer (k > 0: largest, k < 0: smallest), got {k!r}")
    k = int(k)
    axis = normalize_axis(axis, x.ndim, opname)
    if want_indices:  # global indices need each block's offset
        check_known_chunks(opname, x, axes=(axis,), what=f"the array (axis {axis})")
    if abs(k) > x.shape[axis]:  # an unknown length (nan) is checked when the result is built
        raise ValueError(
            f"{opname}: |k|={abs(k)} is larger than axis {axis} (length {x.shape[axis]}); "
            f"use a k between -{x.shape[axis]} and {x.shape[axis]}"
        )
    fan_in = normalize_split_every(split_every, (axis,), x.ndim, opname)
    if want_indices:
        chunk = functools.partial(_argtopk_chunk, k=k, axis=axis)
        combine = functools.partial(_argtopk_combine, k=k, axis=axis)
        aggregate = functools.partial(_argtopk_aggregate, k=k, axis=axis)
        dtype = np.dtype(np.intp)
    else:
        chunk = functools.partial(_topk_chunk, k=k, axis=axis)
        combine = functools.partial(_topk_combine, k=k, axis=axis)
        aggregate = functools.partial(_topk_aggregate, k=k, axis=axis)
        dtype = x.dtype
    return Array(TopK(x.expr, chunk, combine, aggregate, (axis,), True, fan_in, dtype,
                      opname, True, want_indices, abs(k)))


def topk(a: Any, k: int, axis: int = -1, split_every: Any = None) -> Array:
    """The ``k`` largest elements along ``axis``, largest first (``k < 0``: the ``-k`` smallest,
    smallest first), as ``dask.array.topk``.

    A tree reduction over any chunking: each block keeps its ``|k|`` best by
    ``numpy.partition``, groups of ``split_every`` partials merge the same way,
    the last step sorts. NaNs count as largest (NumPy's order).

    >>> import numpy as np
    >>> x = asarray(np.array([[4, 8, 1], [7, 2, 9]])).rechunk(1)
    >>> topk(x, 2, axis=1).compute().tolist()
    [[8, 4], [9, 7]]
    """
    return _topk(a, k, axis, split_every, False)


def argtopk(a: Any, k: int, axis: int = -1, split_every: Any = None) -> Array:
    """The indices of the ``k`` largest elements along ``axis`` (``k < 0``: smallest), as ``dask.array.argtopk``.

    >>> import numpy as np
    >>> argtopk(asarray(np.array([4, 8, 1, 7])).rechunk(3), 2).compute().tolist()
    [1, 3]
    """
    return _topk(a, k, axis, split_every, True)

