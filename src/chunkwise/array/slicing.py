"""Indexing: basic slicing, index normalization, ``blocks``, and the ``getitem`` dispatch.

Every index is normalized once, at build time, against the array's shape
(out-of-bounds integers raise ``IndexError`` as in NumPy). Basic indexing
(ints, slices with any step, ``None``) becomes a :class:`Slice` plan node:
block boundaries stay where they are, output block ``i`` is a slice of one
input block, so ``x[:10, :10]`` lowers only the blocks it overlaps. When the
plan is simplified a slice is pushed below elementwise work (``(x + 1)[:10]``
becomes ``x[:10] + 1``), two slices merge into one, and a slice of
``from_array`` becomes a ``from_array`` of just that region.

:func:`getitem` hands integer arrays and boolean masks to
:mod:`chunkwise.array.gather` (``Gather``, ``BooleanMask``, ``take``,
``vindex``, ``compute_chunk_sizes``); item assignment lives in
:mod:`chunkwise.array.assignment`; the index normalization all three share in
:mod:`chunkwise.array.index_spec`.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(10), chunks=4)
>>> x[::-3].compute()
array([9, 6, 3, 0])
>>> x[[5, 1, 1]].compute()
array([5, 1, 1])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable, Mapping
from itertools import product
from typing import Any

import numpy as np
from numpy.lib import recfunctions

from chunkwise.array.blockwise import map_blocks
from chunkwise.array.chunks import chunk_boundaries
from chunkwise.array.core import Array, asarray, astype_block, elemwise
from chunkwise.array.expr import ArrayExpr, Blockwise, FromArray
from chunkwise.array.gather import boolean_mask, gather, take_by_array
from chunkwise.array.index_spec import (
    FULL,
    check_known_length,
    check_mask_shape,
    expand_index,
    index_int,
    item_axes,
    item_out_axes,
    normalize_slice,
    slice_length,
)
from chunkwise.array.reshaping import moveaxis, reshape
from chunkwise.array.utils import identity
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task
from chunkwise.core.tokenize import tokenize

__all__ = ["BlockView", "getitem"]


def _getitem(block: Any, index: tuple) -> Any:
    return block[index]


# --- basic slicing ---------------------------------------------------------------------------


def slice_plan(axis_chunks: tuple, entry: slice) -> tuple:
    """For a normalized slice of one axis: (input blocks, local slices, output chunks)."""
    if entry == FULL:
        return None, None, axis_chunks
    bounds = np.asarray(chunk_boundaries(axis_chunks), dtype=np.int64)
    length = int(bounds[-1])
    start, stop, step = entry.indices(length)
    n = len(range(start, stop, step))
    if n == 0:
        return [0], [slice(0, 0, 1)], (0,)
    last = start + (n - 1) * step
    first_block = int(np.searchsorted(bounds, start, "right") - 1)
    last_block = int(np.searchsorted(bounds, last, "right") - 1)
    if step > 0:
        blocks = np.arange(first_block, last_block + 1)
        lo, hi = bounds[blocks], bounds[blocks + 1]
        first = start + -(-np.maximum(lo - start, 0) // step) * step
        end = np.minimum(hi, last + 1)
        counts = np.where(first < end, (end - first + step - 1) // step, 0)
    else:
        size = -step
        blocks = np.arange(first_block, last_block - 1, -1)
        lo, hi = bounds[blocks], bounds[blocks + 1]
        first = start - (-(-np.maximum(start - (hi - 1), 0) // size)) * size
        bottom = np.maximum(lo, last)
        counts = np.where(first >= bottom, (first - bottom) // size + 1, 0)
    keep = counts > 0
    blocks, lo, first, counts = blocks[keep], lo[keep], first[keep], counts[keep]
    return blocks, _LocalSlices(first - lo, counts, step), tuple(counts.tolist())


class _LocalSlices:
    """The slice within each touched block, built on demand (no per-block objects up front)."""

    __slots__ = ("counts", "starts", "step")

    def __init__(self, starts: np.ndarray, counts: np.ndarray, step: int):
        self.starts, self.counts, self.step = starts, counts, step

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> slice:
        start = int(self.starts[i])
        stop = start + int(self.counts[i]) * self.step
        return slice(start, None if stop < 0 else stop, self.step)


class Slice(ArrayExpr):
    """Basic indexing: ``index`` holds one int or normalized slice per input axis, plus ``None``s."""

    _parameters = ("array", "index")

    @property
    def _funcname(self) -> str:
        return "getitem"

    def _dtype(self) -> Any:
        return self.array.dtype

    @functools.cached_property
    def _plans(self) -> list:
        """Per index entry: ``("new",)``, ``("int", block, local)`` or ``("slice", blocks, locals, chunks)``."""
        plans = []
        axis = 0
        chunks = self.array.chunks
        for entry in self.index:
            if entry is None:
                plans.append(("new",))
                continue
            if isinstance(entry, slice):
                plans.append(("slice", *slice_plan(chunks[axis], entry)))
            else:
                bounds = chunk_boundaries(chunks[axis])
                block = int(np.searchsorted(bounds, entry, "right") - 1)
                plans.append(("int", block, entry - bounds[block]))
            axis += 1
        return plans

    def _chunks(self) -> tuple:
        out = []
        for plan in self._plans:
            if plan[0] == "new":
                out.append((1,))
            elif plan[0] == "slice":
                out.append(plan[3])
        return tuple(out)

    def _task(self, key: Hashable) -> Task:
        out = iter(key[1:])
        block = []
        local = []
        for plan in self._plans:
            if plan[0] == "new":
                next(out)
                local.append(None)
            elif plan[0] == "int":
                block.append(plan[1])
                local.append(plan[2])
            else:
                i = next(out)
                if plan[1] is None:
                    block.append(i)
                    local.append(FULL)
                else:
                    block.append(int(plan[1][i]))
                    local.append(plan[2][i])
        ref = Ref((self.array.name, *block))
        if all(s == FULL for s in local):
            return Task(key, identity, ref)
        return Task(key, _getitem, ref, tuple(local))

    # A parent slice asks its child to take it below itself (``ArrayExpr._simplify_up``):
    # ``FromArray`` reads only the region, elementwise ``Blockwise`` and ``Reduction``
    # compute only the sliced part, and a slice of a slice is one slice.
    _slices_basic = True

    def _simplify_down(self) -> Expr | None:
        if all(entry == FULL for entry in self.index):
            return self.array
        return None

    def _push_slice(self, parent: Any, dependents: Mapping[str, list]) -> Expr | None:
        merged = _compose(self.index, parent.index, self.array.shape)
        return None if merged is None else Slice(self.array, merged)


def only_sliced(expr: Expr, dependents: Mapping[str, list]) -> bool:
    """Whether every consumer of ``expr`` slices it (so none needs it whole).

    A node some consumer needs whole is computed whole anyway: a slice of it
    then reads from its blocks instead of computing the region a second time.
    """
    consumers = dependents.get(expr.name) or ()
    return all(getattr(type(c), "_slices_basic", False) for c in consumers)


def _compose(inner: tuple, outer: tuple, shape: tuple) -> tuple | None:
    """The one index equal to applying ``inner`` then ``outer`` (``None`` if there is none)."""
    result: list = []
    pending = list(outer)
    pos = 0

    def next_consuming() -> Any:
        nonlocal pos
        while pending[pos] is None:
            result.append(None)
            pos += 1
        entry = pending[pos]
        pos += 1
        return entry

    axis = 0
    for entry in inner:
        if entry is None:
            o = next_consuming()
            if isinstance(o, slice):
                if o != FULL and slice_length(o, 1) == 0:
                    return None
                result.append(None)
            continue  # an int (0) drops the new axis
        if not isinstance(entry, slice):
            result.append(entry)
            axis += 1
            continue
        o = next_consuming()
        length = shape[axis]
        axis += 1
        if entry == FULL:
            result.append(o)
            continue
        start, _, step = entry.indices(length)
        if not isinstance(o, slice):
            result.append(start + o * step)
            continue
        if o == FULL:
            result.append(entry)
            continue
        inner_length = slice_length(entry, length)
        o_start, _, o_step = o.indices(inner_length)
        n = slice_length(o, inner_length)
        new_start, new_step = start + o_start * step, step * o_step
        result.append(normalize_slice(_range_slice(new_start, new_step, n), length, axis - 1, "getitem"))
    result.extend(pending[pos:])
    return tuple(result)


def _range_slice(start: int, step: int, n: int) -> slice:
    if n == 0:
        return slice(0, 0, 1)
    stop = start + n * step
    return slice(start, None if stop < 0 else stop, step)


class _Region:
    """A lazily sliced view of an array-like source: reads only what is asked of it."""

    def __init__(self, source: Any, index: tuple, shape: tuple):
        self.source = source
        self.index = index
        self.shape = shape
        self.dtype = source.dtype
        self.ndim = len(shape)

    def __chunkwise_tokenize__(self) -> Any:
        return ("chunkwise.slicing.Region", tokenize(self.source), self.index)

    def __getitem__(self, key: tuple) -> Any:
        key = iter(key if isinstance(key, tuple) else (key,))
        full = []
        for entry in self.index:
            if not isinstance(entry, slice):
                full.append(entry)
                continue
            k = next(key, FULL)
            if entry == FULL:
                full.append(k)
                continue
            start, _, step = entry.indices(2**62)
            k_start = k.start or 0
            n = len(range(*k.indices(2**62 if k.stop is None else k.stop)))
            full.append(_range_slice(start + k_start * step, step, n))
        return self.source[tuple(full)]


def sliced_from_array(array: FromArray, index: tuple, chunks: tuple) -> Expr | None:
    source = array.source
    if isinstance(source, _Region):  # a region of a region: compose the two
        index = _compose(source.index, index, source.source.shape)
        source = source.source
    if not isinstance(source, np.ndarray) and any(
        isinstance(e, slice) and e != FULL and e.step != 1 for e in index
    ):
        return None  # some stores (h5py) read only positive steps
    region = _Region(source, index, tuple(sum(c) for c in chunks))
    name = "array-" + tokenize(array.name, index)
    return FromArray(region, chunks, array._lock, name)


def is_elementwise(expr: Blockwise) -> bool:
    """Whether ``expr`` applies its function element by element (so slicing commutes with it)."""
    func = expr.func
    if isinstance(func, np.ufunc):
        return func.nout == 1
    if getattr(func, "_chunkwise_elementwise", False):
        return True
    return func is astype_block or any(func is f for f in _ELEMENTWISE_FUNCTIONS)


#: NumPy functions (not ufuncs) that work element by element; other functions can
#: opt in to slice pushdown with ``func._chunkwise_elementwise = True``.
_ELEMENTWISE_FUNCTIONS = (np.where, np.clip, np.round, np.around, np.nan_to_num, np.real, np.imag)


def push_through_blockwise(array: Blockwise, index: tuple) -> Expr:
    """``Slice(Blockwise(f, a, b))`` as ``Blockwise(f, Slice(a), Slice(b))`` (broadcasting kept)."""
    ndim = array.ndim
    out_shape = array.shape
    new_args = []
    for arg in array.args:
        if not isinstance(arg, ArrayExpr):
            new_args.append(arg)
            continue
        offset = ndim - arg.ndim  # the arg's axes are the trailing ones
        entries = []
        axis = 0
        for entry in index:
            if entry is None:
                if axis >= offset:  # among the arg's axes: the arg gets it too
                    entries.append(None)
                continue
            if axis >= offset:
                if arg.shape[axis - offset] == 1 and out_shape[axis] != 1:  # broadcast axis
                    if isinstance(entry, slice):
                        length = slice_length(entry, out_shape[axis])
                        entries.append(FULL if length else slice(0, 0, 1))
                    else:
                        entries.append(0)
                else:
                    entries.append(entry)
            axis += 1
        entries = tuple(entries)
        new_args.append(arg if all(e == FULL for e in entries) else Slice(arg, entries))
    ops = array.operands
    return Blockwise(ops[0], ops[1], array.dtype, ops[3], *new_args)


def push_through_reduction(array: Expr, index: tuple) -> Expr | None:
    """``Slice(Reduction(x))`` as ``Reduction(Slice(x))`` when only kept axes are sliced.

    ``x.sum(axis=0)[:5]`` then reads only the blocks of ``x`` holding those five
    columns. Only slices are pushed (ints and ``None`` change the axes the
    reduction numbers), never into the reduced axes, and not into arg-reductions
    (their offsets depend on the whole input).
    """
    if array.with_offsets:
        return None
    if not all(isinstance(entry, slice) for entry in index):
        return None
    axes = array.axes
    keepdims = array.keepdims
    entries = iter(index)
    inner = []
    for axis in range(array.array.ndim):
        if axis in axes:
            if keepdims and next(entries, FULL) != FULL:
                return None  # a slice of a length-1 reduced axis: leave it outside
            inner.append(FULL)
        else:
            inner.append(next(entries, FULL))
    if all(entry == FULL for entry in inner):
        return None
    return type(array)(Slice(array.array, tuple(inner)), *array.operands[1:])


def _basic(x: Array, index: tuple) -> Array:
    """``x`` indexed by a normalized basic index (ints, normalized slices, ``None``)."""
    if all(entry == FULL for entry in index):
        return x
    return Array(Slice(x.expr, tuple(index)))


# --- getitem -----------------------------------------------------------------------------------


def _field_block(block: np.ndarray, fields: Any) -> np.ndarray:
    if isinstance(fields, str):
        return block[fields]
    # several fields: packed (no gaps where other fields were), the dtype that
    # concatenating blocks gives anyway
    return recfunctions.repack_fields(block[fields])


def _getfield(x: Array, fields: Any) -> Array:
    """``x["f"]`` or ``x[["f", "g"]]`` on a structured array, block by block, as in NumPy.

    Differs from NumPy: several fields come packed (NumPy's ``repack_fields`` of
    its result, whose dtype keeps the other fields' bytes as gaps).
    """
    names = x.dtype.names
    if names is None:
        raise IndexError(
            f"getitem: field {fields!r} of an array of dtype {x.dtype}, which has no fields; "
            "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer "
            "or boolean arrays are valid indices"
        )
    wanted = [fields] if isinstance(fields, str) else fields
    missing = [f for f in wanted if f not in names]
    if missing:
        message = f"getitem: no field of name {missing[0]}; the fields are {list(names)}"
        raise ValueError(message) if isinstance(fields, str) else KeyError(message)
    if not isinstance(fields, str) and len(set(fields)) != len(fields):
        raise ValueError(f"getitem: duplicate field of name {fields!r}; the fields are {list(names)}")
    sample = _field_block(np.empty((0,) * x.ndim, dtype=x.dtype), fields)  # dtype, subarray axes
    extra = sample.shape[x.ndim:]
    if not extra:
        return elemwise(_field_block, x, dtype=sample.dtype, funcname="getitem-field",
                        kwargs={"fields": fields})
    # a subarray field ("f4", (2,)) adds its axes at the end, each one block long
    return map_blocks(
        _field_block, x, fields, dtype=sample.dtype,
        new_axis=list(range(x.ndim, x.ndim + len(extra))),
        chunks=x.chunks + tuple((n,) for n in extra),
    )


def _several_integer_arrays(x: Array, index: Any) -> bool:
    """The standard's integer-array indexing beyond what the general path takes: one integer
    or integer array per axis, at least two arrays, a chunkwise one among them."""
    if not isinstance(index, tuple) or len(index) != x.ndim:
        return False
    arrays = [item for item in index if isinstance(item, (np.ndarray, Array))]
    if len(arrays) < 2 or not any(isinstance(item, Array) for item in arrays):
        return False
    if any(item.dtype.kind not in "iu" for item in arrays):
        return False
    return all(isinstance(item, (np.ndarray, Array)) or (
        isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))) for item in index)


def _getitem_integer_arrays(x: Array, index: tuple, op: str) -> Array:
    """``x[i0, i1, ...]`` (every axis an integer or an integer array, broadcast together) as one
    lazy gather from the flattened array at the flat positions ``(i0 * n1 + i1) * n2 + ...``.

    Negative indices count from the end; an element out of bounds on its own axis is sent out
    of bounds of the flattened array, so the gather raises ``IndexError`` at compute time.
    """
    for axis, n in enumerate(x.shape):
        check_known_length(n, axis, op, "indexing it with integer arrays")
    flat: Any = 0
    valid: Any = True
    for axis, (item, n) in enumerate(zip(index, x.shape)):
        if isinstance(item, (np.ndarray, Array)):
            position = item.astype(np.int64)
            valid = valid & (position >= -n) & (position < n)
            position = position + (position < 0) * n
        else:
            position = index_int(item, n, axis, op)
        flat = flat * n + position
    size = math.prod(x.shape)
    flat = elemwise(np.where, valid, flat, size, dtype=np.int64, funcname=op)
    return getitem(reshape(x, (-1,)), flat)


def getitem(x: Any, index: Any) -> Array:
    """``x[index]`` with NumPy's indexing rules, lazily; ``Array.__getitem__`` calls it.

    Supports ints, slices (any step), ``Ellipsis``, ``None``, integer arrays
    (lists or NumPy arrays, several broadcast together as in NumPy) and
    boolean masks. A NumPy mask gives known chunk sizes; a chunkwise boolean
    array gives unknown (``nan``) ones, one block per input block (rows of
    blocks are first made whole when the mask spans several axes, so the
    order is NumPy's). A chunkwise integer array gathers lazily: its
    values are only read at compute time (see ``gather.TakeByArray`` for the
    cost), and out-of-bounds values raise ``IndexError`` then.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    >>> x[1:, ::-2].compute()
    array([[ 7,  5],
           [11,  9]])
    >>> x[[2, 0], None, 1].compute()
    array([[9],
           [1]])
    """
    x = asarray(x)
    if isinstance(index, str) or (
        isinstance(index, list) and index and all(isinstance(i, str) for i in index)
    ):
        return _getfield(x, index)
    op = "getitem"
    key = index[0] if isinstance(index, tuple) and len(index) == 1 else index
    if isinstance(key, Array) and key.dtype == bool and key.ndim == 0:
        # A 0-d mask adds a leading axis of length 1 (true) or 0 (false): a 1-d mask on a new axis.
        return getitem(getitem(x, None), getitem(key, None))
    if _several_integer_arrays(x, index):
        return _getitem_integer_arrays(x, index, op)
    shape = x.shape
    items = expand_index(index, x.ndim, op)
    # Booleans given as scalars: True adds an axis, False an empty one (NumPy's rule).
    empty_axes = []
    if any(type(item) is tuple for item in items):
        out_axis = 0
        new_items = []
        for item in items:
            if type(item) is tuple:
                if not item[1]:
                    empty_axes.append(out_axis)
                new_items.append(None)
            else:
                new_items.append(item)
            out_axis += item_out_axes(item)
        if any(isinstance(i, (np.ndarray, Array)) for i in new_items):
            raise NotImplementedError(f"{op}: a scalar boolean index mixed with arrays is not supported")
        items = new_items
    # NumPy boolean masks become their nonzero() integer arrays.
    expanded = []
    axis = 0
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype == bool:
            check_mask_shape(item.shape, shape, axis)
            for a in range(axis, axis + item.ndim):
                check_known_length(shape[a], a, op, "a NumPy boolean mask")
            expanded.extend(np.nonzero(item))
        else:
            expanded.append(item)
        axis += item_axes(item)
    items = expanded
    # Normalize ints and slices against the shape.
    basic = []
    axis = 0
    for item in items:
        if item is None:
            basic.append(None)
            continue
        if isinstance(item, slice):
            basic.append(normalize_slice(item, shape[axis], axis, op))
        elif isinstance(item, (np.ndarray, Array)):
            basic.extend([FULL] * item_axes(item))
        else:
            basic.append(index_int(item, shape[axis], axis, op))
        axis += item_axes(item)
    arrays = [i for i, item in enumerate(items) if isinstance(item, np.ndarray)]
    masks = [i for i, item in enumerate(items) if isinstance(item, Array)]
    result = _basic(x, tuple(basic))
    if arrays or masks:
        if arrays and masks or len(masks) > 1:
            raise NotImplementedError(
                f"{op}: a chunkwise index combined with other array indices is not supported; "
                "apply them one after the other"
            )
        advanced = [
            i for i, item in enumerate(items)
            if isinstance(item, (np.ndarray, Array)) or (item is not None and not isinstance(item, slice))
        ]
        adjacent = advanced == list(range(advanced[0], advanced[-1] + 1))
        # Position of each array among the axes left by the basic step.
        positions = {}
        out_axis = 0
        for i, item in enumerate(items):
            if isinstance(item, (np.ndarray, Array)):
                positions[i] = out_axis
                out_axis += item_axes(item)
            elif item is None or isinstance(item, slice):
                out_axis += 1
        first = positions[arrays[0] if arrays else masks[0]]
        if masks and items[masks[0]].dtype != bool:
            k = items[masks[0]].ndim
            result = take_by_array(result, items[masks[0]], first, op)
            if not adjacent and first != 0 and k:
                result = moveaxis(result, list(range(first, first + k)), list(range(k)))
        elif masks:
            result = boolean_mask(result, items[masks[0]], first, op, None if adjacent else 0)
        else:
            axes = tuple(positions[i] for i in arrays)
            position = first if adjacent else 0
            position -= sum(1 for a in axes if a < first)
            result = gather(result, axes, [items[i] for i in arrays], position, op)
    if empty_axes:
        result = _basic(result, tuple(slice(0, 0, 1) if a in empty_axes else FULL for a in range(result.ndim)))
    return result


# --- blocks --------------------------------------------------------------------------------


class Blocks(ArrayExpr):
    """Some blocks of ``array``: ``selection`` holds the block indices kept on each axis."""

    _parameters = ("array", "selection")

    @property
    def _funcname(self) -> str:
        return "blocks"

    def _dtype(self) -> Any:
        return self.array.dtype

    def _chunks(self) -> tuple:
        return tuple(tuple(c[i] for i in sel) for c, sel in zip(self.array.chunks, self.selection))

    def _task(self, key: Hashable) -> Task:
        block = tuple(sel[i] for sel, i in zip(self.selection, key[1:]))
        return Task(key, identity, Ref((self.array.name, *block)))


class BlockView:
    """Index blocks instead of elements: ``x.blocks[i, j]``, ``x.blocks[:, 1:]``, ``x.blocks[[2, 0]]``.

    The result is an array made of those blocks; an integer keeps its axis
    (as in ``dask.array``). ``shape`` is the grid of blocks.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(10), chunks=3)
    >>> x.blocks[-1].compute(), x.blocks[::2].compute()
    (array([9]), array([0, 1, 2, 6, 7, 8]))
    """

    __slots__ = ("_array",)

    def __init__(self, array: Array):
        self._array = array

    @property
    def shape(self) -> tuple:
        return self._array.numblocks

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index: Any) -> Array:
        x = self._array
        if not isinstance(index, tuple):
            index = (index,)
        if any(item is None for item in index):
            raise IndexError("blocks: None (np.newaxis) is not supported when indexing blocks")
        items = expand_index(index, x.ndim, "blocks")
        selection = []
        for axis, (item, n) in enumerate(zip(items, x.numblocks)):
            if isinstance(item, slice):
                selection.append(tuple(range(n))[item])
            elif isinstance(item, np.ndarray):
                if item.dtype == bool or item.ndim != 1:
                    raise IndexError("blocks: only ints, slices and 1-d integer lists index blocks")
                selection.append(tuple(_block_int(int(i), n, axis) for i in item))
            elif isinstance(item, int):
                selection.append((_block_int(item, n, axis),))
            else:
                raise IndexError(f"blocks: cannot index blocks with {item!r}")
            if not selection[-1]:
                raise IndexError(f"blocks: the index selects no blocks on axis {axis}")
        selection = tuple(selection)
        if all(sel == tuple(range(n)) for sel, n in zip(selection, x.numblocks)):
            return x
        return Array(Blocks(x.expr, selection))

    def ravel(self) -> list:
        """Every block as a one-block array, in C order."""
        return [self[idx] for idx in product(*(range(n) for n in self.shape))]

    def __repr__(self) -> str:
        return f"BlockView(shape={self.shape})"


def _block_int(i: int, n: int, axis: int) -> int:
    if not -n <= i < n:
        raise IndexError(f"block index {i} is out of bounds for axis {axis} with {n} blocks")
    return i % n
