"""Array expressions: the plan nodes behind ``chunkwise.array.Array``.

An :class:`ArrayExpr` knows its ``chunks`` (one tuple of block lengths per
axis, ``nan`` where unknown) and ``dtype`` without computing anything; its
output keys are ``(name, i, j, ...)``, one per block. Subclasses implement
``_chunks()``, ``_dtype()`` and ``_task(key)``.

The nodes every other module builds on live here:

- :class:`FromArray` -- blocks sliced out of anything with ``shape``, ``dtype``
  and ``__getitem__`` (a NumPy array, a memmap, an h5py or zarr dataset);
- :class:`Blockwise` -- one task per output block from the blocks of its
  inputs at the same index (broadcasting size-1 axes); elementwise operations
  are blockwise;
- :class:`Finalize` -- the one task that assembles the computed blocks into a
  NumPy array (what ``.compute()`` returns).

>>> import numpy as np
>>> from chunkwise.core.expr import lower
>>> from chunkwise.scheduling import get_sync
>>> def compute_array(expr):
...     final = Finalize(expr)
...     return get_sync(lower([final]), final.key)
>>> x = FromArray(np.arange(6).reshape(2, 3), ((1, 1), (2, 1)))
>>> x.chunks, x.numblocks, x.shape
(((1, 1), (2, 1)), (2, 2), (2, 3))
>>> y = blockwise_call(np.add, x, 10)
>>> y.dtype, y.chunks
(dtype('int64'), ((1, 1), (2, 1)))
>>> compute_array(y)
array([[10, 11, 12],
       [13, 14, 15]])
"""

from __future__ import annotations

import functools
import importlib
import math
import threading
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array.chunks import chunk_boundaries, has_unknown, same_axis_chunks
from chunkwise.array.masks import declared_masked
from chunkwise.array.utils import is_nan
from chunkwise.core.expr import Expr
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.core.tokenize import tokenize
from chunkwise.sizes import format_bytes

__all__ = [
    "ArrayExpr",
    "Blockwise",
    "FromArray",
    "Finalize",
    "blockwise_call",
    "broadcast_shapes",
    "concatenate_blocks",
    "infer_dtype",
    "unknown_chunks_origin",
]


def _module(name: str) -> Any:
    """A sibling module imported when first needed (it imports this one)."""
    return importlib.import_module(f"chunkwise.array.{name}")


class ArrayExpr(Expr):
    """Base of every array plan node; see the module docstring."""

    # The optimization stages of array plans, in order (see chunkwise.core.optimize):
    # slices pushed down and no-op rechunks dropped, nodes lowered, then elementwise
    # groups fused (``Blockwise`` declares ``_fusion_group_key``).
    # Then reductions of one input share one pass over it (``share``, chunkwise.array.rewrites).
    _stages = ("simplify", "lower", "simplify", "share", "fuse")

    @staticmethod
    def _share_stage(root: Expr) -> Expr:
        return _module("rewrites").share_reductions(root)

    def _simplify_up(self, parent: Expr, dependents: Mapping[str, list]) -> Expr | None:
        # A parent slice (``type(parent)._slices_basic``) asks this node to take it below itself.
        if getattr(type(parent), "_slices_basic", False):
            return self._push_slice(parent, dependents)
        return None

    def _push_slice(self, parent: Any, dependents: Mapping[str, list]) -> Expr | None:
        """``parent`` (a basic ``Slice`` of this node) computed with the slice below this
        node; ``None`` when this node cannot take it."""
        return None

    # --- metadata ------------------------------------------------------------

    @functools.cached_property
    def chunks(self) -> tuple:
        """One tuple of block lengths per axis (``nan`` for an unknown length)."""
        return self._chunks()

    @functools.cached_property
    def dtype(self) -> np.dtype:
        """The dtype of the array (known without computing)."""
        return np.dtype(self._dtype())

    @functools.cached_property
    def masked(self) -> bool:
        """Whether the blocks are ``numpy.ma.MaskedArray`` (known without computing; see
        :mod:`chunkwise.array.masks`)."""
        return bool(self._masked())

    def _chunks(self) -> tuple:
        raise NotImplementedError

    def _dtype(self) -> Any:
        raise NotImplementedError

    def _masked(self) -> bool:
        # Masked when an array input is: nodes that make or drop masks say so themselves.
        return any(isinstance(dep, ArrayExpr) and dep.masked for dep in self.dependencies())

    def unknown_lengths_origin(self, axis: int) -> str:
        """A name for the unknown block lengths this node makes on ``axis``: equal names, equal lengths."""
        return f"{self.name}:{axis}"

    @functools.cached_property
    def shape(self) -> tuple:
        return tuple(sum(c) if not any(math.isnan(x) for x in c) else math.nan for c in self.chunks)

    @functools.cached_property
    def ndim(self) -> int:
        return len(self.chunks)

    @functools.cached_property
    def numblocks(self) -> tuple:
        return tuple(len(c) for c in self.chunks)

    @property
    def npartitions(self) -> int:
        return math.prod(self.numblocks)

    @property
    def size(self) -> float:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> float:
        return self.size * self.dtype.itemsize

    @property
    def unknown_chunks(self) -> bool:
        return has_unknown(self.chunks)

    def block_shape(self, index: Sequence[int]) -> tuple:
        """The shape of block ``index``."""
        return tuple(c[i] for c, i in zip(self.chunks, index))

    def chunk_nbytes(self, key: Hashable) -> int | None:
        if type(key) is not tuple or key[0] != self.name:
            return None
        shape = self.block_shape(key[1:])
        if any(math.isnan(s) for s in shape):
            return None
        return int(math.prod(shape)) * self.dtype.itemsize

    @property
    def max_chunk_nbytes(self) -> float:
        """Bytes of the largest block (``nan`` when unknown)."""
        largest = [max(c) if c else 0 for c in self.chunks]
        return math.prod(largest) * self.dtype.itemsize

    # --- keys -----------------------------------------------------------------

    @property
    def key(self) -> Hashable:
        return (self.name,) + (0,) * self.ndim

    def _output_keys(self) -> list:
        name = self.name
        return [(name, *idx) for idx in product(*(range(n) for n in self.numblocks))]

    def block_ref(self, index: Sequence[int]) -> Ref:
        """A reference to block ``index`` of this array."""
        return Ref((self.name, *index))

    def _explain_line(self) -> str:
        line = super()._explain_line()
        nbytes = self.max_chunk_nbytes
        size = format_bytes(nbytes, precision=1)
        return f"{line}  [{self.npartitions} blocks of <= {size}, {self.dtype}]"


# --- reading from an in-memory or on-disk array -----------------------------------


def getter(source: Any, slices: tuple, lock: Any = None) -> np.ndarray:
    """Read one block: ``source[slices]`` as a NumPy array (a masked array keeps its mask, as
    in Dask), under ``lock`` if given."""
    if lock is not None:
        with lock:
            block = source[slices]
    else:
        block = source[slices]
    if type(block) is not np.ndarray and not isinstance(block, np.ma.MaskedArray):
        block = np.asarray(block)
    return block


class FromArray(ArrayExpr):
    """Blocks of ``source`` (shape, dtype, ``__getitem__``), each read only where needed.

    ``lock``: ``True`` for a new lock, or a lock object, when the source is not
    thread safe (some HDF5 builds).
    """

    _parameters = ("source", "chunks", "lock", "name")
    _operand_only = ("chunks", "name")
    _defaults = {"lock": None, "name": None}

    @functools.cached_property
    def name(self) -> str:
        name = self.operand("name")
        if name is not None:
            return name
        return "array-" + tokenize(self.source, self.operand("chunks"))

    def _chunks(self) -> tuple:
        return self.operand("chunks")

    def _push_slice(self, parent: Any, dependents: Mapping[str, list]) -> Expr | None:
        # Read only the sliced region: a new source, not a slice of every block.
        slicing = _module("slicing")
        if type(self) is not FromArray or None in parent.index or not slicing.only_sliced(self, dependents):
            return None
        return slicing.sliced_from_array(self, parent.index, parent.chunks)

    def _dtype(self) -> Any:
        return self.source.dtype

    def _masked(self) -> bool:
        return isinstance(self.source, np.ma.MaskedArray)

    @functools.cached_property
    def _lock(self) -> Any:
        lock = self.lock
        if lock is True:
            return threading.Lock()
        return lock or None

    @functools.cached_property
    def _boundaries(self) -> tuple:
        return tuple(chunk_boundaries(c) for c in self.chunks)

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        slices = tuple(
            slice(bounds[i], bounds[i + 1]) for bounds, i in zip(self._boundaries, index)
        )
        return Task(key, getter, self.source, slices, self._lock)

    def _explain_line(self) -> str:
        source = f"{type(self.source).__name__} {tuple(self.source.shape)}"
        return f"FromArray: {source}  [{self.npartitions} blocks, {self.dtype}]"


# --- blockwise ----------------------------------------------------------------------


def broadcast_shapes(*shapes: tuple) -> tuple:
    """NumPy's broadcasting of shapes, allowing ``nan`` (unknown) lengths."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(ndim):
        size = 1
        for shape in shapes:
            offset = axis - (ndim - len(shape))
            if offset < 0:
                continue
            length = shape[offset]
            if length == 1:
                continue
            if size == 1 or is_nan(size):
                size = length
            elif not is_nan(length) and length != size:
                raise ValueError(
                    "operands could not be broadcast together with shapes "
                    + " ".join(str(tuple(s)) for s in shapes)
                )
        out.append(size)
    return tuple(out)


def infer_dtype(func: Callable, args: Sequence[Any], kwargs: dict | None = None) -> np.dtype:
    """The dtype ``func`` returns on inputs of the given dtypes (tried on one-element arrays,
    or empty ones when an operand is empty).

    Arguments that are ``ArrayExpr`` stand for arrays of their dtype; Python
    scalars stay scalars, so NumPy's promotion rules for them apply.
    """
    # An empty operand makes the result empty: then the sample is empty too, so that a
    # value NumPy refuses only element by element (an integer to a negative power) passes.
    length = 0 if any(isinstance(a, ArrayExpr) and 0 in a.shape for a in args) else 1
    samples = [
        np.ones((length,) * max(arg.ndim, 1), dtype=arg.dtype) if isinstance(arg, ArrayExpr)
        else arg
        for arg in args
    ]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = func(*samples, **(kwargs or {}))
        except Exception as exc:
            name = getattr(func, "__name__", repr(func))
            raise TypeError(
                f"{name}: cannot apply to inputs of dtypes "
                f"{[getattr(a, 'dtype', type(a).__name__) for a in args]}: {exc}"
            ) from exc
    if isinstance(out, tuple):
        return tuple(np.asarray(o).dtype for o in out)  # type: ignore[return-value]
    return np.asarray(out).dtype


_SQUARES = (np.square, np.multiply)


class Blockwise(ArrayExpr):
    """``func`` applied block by block to aligned inputs (with NumPy broadcasting).

    Operands: ``func``, ``kwargs`` (or ``None``), ``dtype_`` (``None``: inferred),
    ``funcname`` (``None``: the function's name), then the arguments, which are
    arrays (``ArrayExpr``) and scalars. The arrays' chunks must agree on every
    axis they share (``rechunk.unify_chunks`` rechunks them); size-1 axes
    broadcast. Build one with :func:`blockwise_call`.
    """

    _parameters = ("func", "kwargs", "dtype", "funcname")
    _operand_only = ("dtype",)
    _defaults = {"kwargs": None, "dtype": None, "funcname": None}
    _variadic = True

    def _simplify_down(self) -> Expr | None:
        # ``x.astype(a).astype(b)`` casts once when the first cast keeps every value
        # (chunkwise.array.rewrites).
        if self.operands[3] == "astype" and type(self) is Blockwise:
            return _module("rewrites").simplify_astype(self)
        return None

    def _simplify_up(self, parent: Expr, dependents: Mapping[str, list]) -> Expr | None:
        out = super()._simplify_up(parent, dependents)
        if out is None and self.operands[0] in _SQUARES and type(self) is Blockwise:
            # ``sum(x ** 2)`` and ``sum(x * x)`` reduce ``x`` by a per-block einsum, with no
            # squared block (chunkwise.array.rewrites).
            return _module("rewrites").sum_of_squares(self, parent, dependents)
        return out

    def _push_slice(self, parent: Any, dependents: Mapping[str, list]) -> Expr | None:
        # Slicing commutes with elementwise work: compute only the sliced region.
        if type(self) is not Blockwise:
            return None
        slicing = _module("slicing")
        if not slicing.is_elementwise(self) or not slicing.only_sliced(self, dependents):
            return None
        return slicing.push_through_blockwise(self, parent.index)

    def _fusion_group_key(self) -> Hashable | None:
        # Elementwise groups with the same number of blocks fuse (array.fusion).
        return ("array-blockwise", self.npartitions) if type(self) is Blockwise else None

    def _fuse_alone(self) -> bool:
        return _module("fusion").absorbable_constants(self)

    def _fused(self, members: list[Expr]) -> Expr:
        return _module("fusion").fuse_group(members)

    @property
    def args(self) -> tuple:
        return tuple(self.operands[4:])

    @property
    def _funcname(self) -> str:
        return self.funcname or getattr(self.func, "__name__", "blockwise")

    @functools.cached_property
    def _arrays(self) -> list:
        return [a for a in self.args if isinstance(a, ArrayExpr)]

    def _chunks(self) -> tuple:
        arrays = self._arrays
        ndim = max((a.ndim for a in arrays), default=0)
        shape = broadcast_shapes(*(a.shape for a in arrays))
        out = []
        for axis in range(ndim):
            chosen = None
            for a in arrays:
                offset = axis - (ndim - a.ndim)
                if offset < 0:
                    continue
                c = a.chunks[offset]
                if a.shape[offset] == 1 and shape[axis] != 1:
                    continue  # broadcast
                if chosen is None:
                    chosen = c
                elif not same_axis_chunks(c, chosen):
                    raise ValueError(
                        f"{self._funcname}: inputs have different chunks on axis {axis}: "
                        f"{chosen} and {c}; rechunk them alike (unify_chunks does it)"
                    )
            out.append(chosen if chosen is not None else ((1,) if shape[axis] == 1 else (shape[axis],)))
        return tuple(out)

    def _dtype(self) -> Any:
        dtype = self.operand("dtype")
        if dtype is not None:
            return dtype
        return infer_dtype(self.func, self.args, self.kwargs)

    def _masked(self) -> bool:
        declared = declared_masked(self.func)
        return super()._masked() if declared is None else declared

    def _one_to_one_inputs(self) -> tuple:
        return one_to_one_inputs(self, self._arrays)

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        ndim = len(index)
        args = []
        for arg in self.args:
            if isinstance(arg, ArrayExpr):
                offset = ndim - arg.ndim
                block = tuple(
                    0 if arg.numblocks[d] == 1 else index[d + offset] for d in range(arg.ndim)
                )
                args.append(Ref((arg.name, *block)))
            else:
                args.append(arg)
        if self.kwargs:
            return Task(key, self.func, *args, **self.kwargs)
        return Task(key, self.func, *args)

    def _explain_line(self) -> str:
        scalars = [repr(a) for a in self.args if not isinstance(a, Expr)]
        head = f"Blockwise: {self._funcname}"
        if scalars:
            head += "(" + ", ".join(s if len(s) < 20 else s[:17] + "..." for s in scalars) + ")"
        nbytes = self.max_chunk_nbytes
        size = format_bytes(nbytes, precision=1)
        return f"{head}  [{self.npartitions} blocks of <= {size}, {self.dtype}]"


def unknown_chunks_origin(expr: ArrayExpr, axis: int) -> str:
    """The name of the node whose unknown (``nan``) chunks ``expr`` has on ``axis``.

    A node that hands on an input's chunks unchanged on that axis (elementwise
    work, ``astype``, ``cumsum``, item assignment: the very same tuple of
    lengths) passes the question down to that input; any other node is the
    origin. Two arrays with the same origin on an axis have blocks of the same
    (unknown) lengths there: ``x[m] + x[m] * 2`` pairs blocks safely,
    ``x[x > 1] + y[y > 1]`` does not. The origin names its lengths
    (:meth:`ArrayExpr.unknown_lengths_origin`): two masks by one boolean
    array make the same lengths, so ``x[m] + y[m]`` pairs blocks too.
    """
    while True:
        lengths = expr.chunks[axis]
        for dep in expr.dependencies():
            if not isinstance(dep, ArrayExpr):
                continue
            same = [d for d, c in enumerate(dep.chunks) if c is lengths]
            if same:
                expr, axis = dep, (axis if axis in same else same[0])
                break
        else:
            return expr.unknown_lengths_origin(axis)


def one_to_one_inputs(expr: ArrayExpr, inputs: Sequence) -> tuple:
    """Names of ``inputs`` whose block ``i`` only block ``i`` of ``expr`` reads (same grid)."""
    numblocks = expr.numblocks
    names = [a.name for a in inputs if isinstance(a, ArrayExpr) and a.numblocks == numblocks]
    # An input passed twice is read twice per task: not one-to-one.
    return tuple(n for n in names if names.count(n) == 1)


def blockwise_call(
    func: Callable,
    *args: Any,
    kwargs: dict | None = None,
    dtype: Any = None,
    funcname: str | None = None,
) -> Blockwise:
    """A :class:`Blockwise` node applying ``func`` to ``args`` block by block."""
    return Blockwise(func, kwargs or None, None if dtype is None else np.dtype(dtype), funcname, *args)


# --- assembling the result ------------------------------------------------------------


def concatenate_blocks(blocks: Any, ndim: int) -> np.ndarray:
    """Assemble nested lists of blocks (``ndim`` levels deep) into one array."""
    if ndim == 0:
        return _writeable(blocks)
    if ndim == 1:
        if len(blocks) == 1:
            return _writeable(blocks[0])
        if _any_masked(blocks, 1):
            return _with_fill_value(np.ma.concatenate(blocks), blocks, 1)  # np.concatenate drops masks
        return np.concatenate(blocks)
    # np.block handles the nesting; the axes line up with the nesting depth.
    if _count_blocks(blocks, ndim) == 1:
        return _writeable(_first_block(blocks, ndim))
    if _any_masked(blocks, ndim):
        return _with_fill_value(_masked_block(blocks, 0, ndim), blocks, ndim)
    return np.block(blocks)


def _any_masked(blocks: Any, ndim: int) -> bool:
    """Whether any of the nested blocks is masked (a padded or concatenated array may start plain)."""
    if ndim == 0:
        return isinstance(blocks, np.ma.MaskedArray)
    return any(_any_masked(b, ndim - 1) for b in blocks)


def _with_fill_value(out: np.ma.MaskedArray, blocks: Any, ndim: int) -> np.ma.MaskedArray:
    """``out`` with the blocks' fill value when they agree on one (``np.ma.concatenate`` drops it)."""
    values = {
        b.fill_value.item() for b in _flat_blocks(blocks, ndim) if isinstance(b, np.ma.MaskedArray)
    }
    if len(values) == 1:
        value = values.pop()
        # numpy keeps its default (999999) unconverted for small ints, and refuses to set it
        if value != out.fill_value.item():
            out.fill_value = value
    return out


def _flat_blocks(blocks: Any, ndim: int) -> list:
    if ndim == 0:
        return [blocks]
    return [block for b in blocks for block in _flat_blocks(b, ndim - 1)]


def _masked_block(blocks: Any, axis: int, ndim: int) -> Any:
    """``np.block`` for masked blocks (chunkwise.array.ma), keeping their masks."""
    if axis == ndim - 1:
        return np.ma.concatenate(blocks, axis=axis)
    return np.ma.concatenate([_masked_block(b, axis + 1, ndim) for b in blocks], axis=axis)


def _writeable(block: Any) -> Any:
    """A block handed to the user whole: copied if it is read-only or a view.

    A single-block result may be a view of the user's own input (``from_array(src)``
    reads ``src[:]``, a view) or of a constant; the user must get memory of their
    own. Blocks computed by NumPy own their memory and pass through uncopied;
    results of several blocks are always new arrays (concatenated).
    """
    if type(block) is np.ndarray and (block.base is not None or not block.flags.writeable):
        return block.copy()
    return block


def _count_blocks(blocks: Any, ndim: int) -> int:
    if ndim == 0:
        return 1
    return len(blocks) * (_count_blocks(blocks[0], ndim - 1) if blocks else 0)


def _first_block(blocks: Any, ndim: int) -> Any:
    for _ in range(ndim):
        blocks = blocks[0]
    return blocks


def _nested_refs(name: str, numblocks: tuple, prefix: tuple = ()) -> Any:
    axis = len(prefix)
    if axis == len(numblocks):
        return Ref((name, *prefix))
    return [_nested_refs(name, numblocks, (*prefix, i)) for i in range(numblocks[axis])]


class Finalize(ArrayExpr):
    """The whole array as one NumPy array: the single task ``.compute()`` asks for."""

    _parameters = ("array",)

    @property
    def _funcname(self) -> str:
        return "finalize-" + self.array._funcname

    @property
    def key(self) -> Hashable:
        return self.name

    def _output_keys(self) -> list:
        return [self.name]

    def _chunks(self) -> tuple:
        return tuple((s,) for s in self.array.shape)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task | DataNode:
        array = self.array
        if array.ndim == 0:
            return Task(key, _writeable, Ref((array.name,)))
        if any(n == 0 for n in array.numblocks):
            return DataNode(key, np.empty(array.shape, dtype=array.dtype))
        return Task(
            key, concatenate_blocks, _nested_refs(array.name, array.numblocks), array.ndim
        )


