"""Tree reductions: the :class:`Reduction` node, :func:`reduction`, and their argument checks.

Every reduction in :mod:`chunkwise.array.reductions` (and ``cumulative``'s
argument checks) is built here. A reduction is a *tree reduction* described
by three functions,

- ``chunk(block)`` -> a small *partial* result per input block (the reduced
  axes kept with length 1: a NumPy array, or a tuple of them, e.g.
  ``(count, mean, M2)`` for the variance);
- ``combine(partials)`` -> one partial from a list of partials of
  neighbouring blocks (at most ``split_every`` per reduced axis);
- ``aggregate(partial)`` -> the output block.

A ``chunk`` that reduces masked blocks (``numpy.ma.MaskedArray``) is a
``functools.partial`` with ``masked=True`` (:func:`chunkwise.array.masks.takes_masked`):
it gets the blocks as they are, where any other ``chunk`` gets plain NumPy
arrays. A reduction of an array the plan knows to be masked with a ``chunk``
that does not take masked blocks is refused when the node is built.

The node owns its intermediate stages: keys ``(f"{name}-partial-{level}", *index)``
for each level of the tree, and the output keys ``(name, *index)``, where the
reduced axes have one block (index 0) or are dropped (``keepdims=False``).
Nothing is built per block until lowering; a task never holds more than
``split_every`` partials, which are as small as one block's non-reduced axes.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> type(x.sum(axis=0).expr).__name__
'Reduction'
"""


from __future__ import annotations

import builtins
import functools
import importlib
import math
import numbers
import warnings
from collections.abc import Callable, Hashable, Mapping
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes
from chunkwise.array.chunks import chunk_boundaries
from chunkwise.array.core import Array, asarray
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.masks import refuse_masked_input, takes_masked
from chunkwise.core.expr import Expr
from chunkwise.core.fuse import Fused
from chunkwise.core.graph import Ref, Task
from chunkwise.scheduling import slab_scale

__all__ = [
    "DEFAULT_SPLIT_EVERY",
    "MaskedReduction",
    "Reduction",
    "SharedPart",
    "SharedReduction",
    "check_not_empty",
    "chunk_call",
    "chunk_program_call",
    "combine_call",
    "finish",
    "normalize_split_every",
    "numpy_dtype",
    "reduction",
    "refuse_extra",
]

#: Default number of partials combined by one task (spread over the reduced axes).
DEFAULT_SPLIT_EVERY = 16


# --- the tree-reduction node -------------------------------------------------------------


class Reduction(ArrayExpr):
    """A tree reduction of ``array`` over ``axes``; see the module docstring.

    Operands: ``chunk``, ``combine`` and ``aggregate`` (callables), ``axes``
    (sorted tuple of non-negative ints), ``keepdims``, ``split_every`` (a tuple
    of ``(axis, fan-in)`` pairs), ``dtype`` (read with ``operand``), ``funcname``, ``skip_empty``
    (blocks with a zero-length reduced axis give no partial: the operation has
    no identity) and ``with_offsets`` (``chunk`` gets ``offsets=`` and
    ``shape=`` to compute global indices).
    """

    _parameters = (
        "array", "chunk", "combine", "aggregate", "axes", "keepdims", "split_every",
        "dtype", "funcname", "skip_empty", "with_offsets",
    )
    _operand_only = ("dtype",)
    _defaults = {"skip_empty": False, "with_offsets": False}

    def __init__(self, *operands: Any, **kwargs: Any):
        super().__init__(*operands, **kwargs)
        # A masked input needs a chunk function that takes masked blocks (chunkwise.array.masks):
        # refused here, when the plan is built, not when a task meets a masked block.
        if isinstance(self.array, ArrayExpr) and self.array.masked and not takes_masked(self.chunk):
            refuse_masked_input(self.array, self.funcname)

    @property
    def _funcname(self) -> str:
        return self.funcname

    def _dtype(self) -> Any:
        return self.operand("dtype")

    def _chunks(self) -> tuple:
        axes = self.axes
        out = []
        for axis, c in enumerate(self.array.chunks):
            if axis not in axes:
                out.append(c)
            elif self.keepdims:
                out.append((1,))
        return tuple(out)

    # --- the tree ------------------------------------------------------------------

    @functools.cached_property
    def _levels(self) -> list:
        """Number of blocks per axis at each level of partials (level 0: the input's)."""
        fan_in = dict(self.split_every)
        counts = [tuple(self.array.numblocks)]
        while builtins.any(counts[-1][a] > fan_in[a] for a in self.axes):
            counts.append(
                tuple(
                    -(-n // fan_in[a]) if a in fan_in else n for a, n in enumerate(counts[-1])
                )
            )
        return counts

    @property
    def _fused(self) -> bool:
        """Whether each output block comes from a single input block (no partial stages)."""
        return builtins.all(self.array.numblocks[a] == 1 for a in self.axes)

    def _one_to_one_inputs(self) -> tuple:
        return (self.array.name,)  # each input block feeds exactly one first-stage task

    def _owned_names(self):
        name = self.name
        if self._fused:
            return (name,)
        return (name, *(f"{name}-partial-{level}" for level in range(len(self._levels))))

    @functools.cached_property
    def _boundaries(self) -> tuple:
        return tuple(chunk_boundaries(c) for c in self.array.chunks)

    @functools.cached_property
    def _plan(self) -> tuple:
        """What ``_task`` reads for every key, fetched once (operand lookups are not free)."""
        name = self.name
        levels = {f"{name}-partial-{level}": level for level in range(len(self._levels))}
        return (
            name, self.array.name, self.chunk, self.axes if self.skip_empty else None,
            self.with_offsets, levels, (self.funcname, self.axes, self.keepdims, self.dtype),
        )

    def _chunk_task(self, key: Hashable, index: tuple) -> Task:
        _, source, chunk, skip, with_offsets, _, _ = self._plan
        ref = Ref((source, *index))
        if not with_offsets:
            return Task(key, chunk_call, ref, chunk, skip)
        # unknown lengths only on axes the caller does not reduce (checked at build time)
        offsets = tuple(
            0 if math.isnan(b[i]) else int(b[i]) for b, i in zip(self._boundaries, index)
        )
        shape = tuple(-1 if math.isnan(s) else int(s) for s in self.array.shape)
        return Task(key, chunk_call, ref, chunk, skip, offsets, shape)

    def _group(self, index: tuple, level: int, whole: bool) -> list:
        """The indices at ``level`` that feed block ``index`` of the next level."""
        counts = self._levels[level]
        fan_in = self._fan_in
        ranges = []
        for axis, i in enumerate(index):
            s = fan_in.get(axis)
            if s is None:
                ranges.append((i,))
            elif whole:
                ranges.append(range(counts[axis]))
            else:
                ranges.append(range(i * s, builtins.min((i + 1) * s, counts[axis])))
        return list(product(*ranges))

    @functools.cached_property
    def _fan_in(self) -> dict:
        return dict(self.split_every)

    def _task_inline(self, key: Hashable, inlined: set) -> Task:
        # A fused elementwise input read only here runs inside the first stage's task:
        # one task object per input block instead of two, inlined afterwards.
        array = self.array
        if (
            isinstance(array, Fused)
            and not self.with_offsets
            and array.name in inlined
            and key[0] in self._plan[5]
            and self._plan[5][key[0]] == 0
        ):
            call = array._fused_call((array.name, *key[1:]))
            if call is not None:
                _, _, chunk, skip, _, _, _ = self._plan
                func, args = call
                return Task(key, chunk_program_call, chunk, skip, func, *args)
        return self._task(key)

    def _simplify_down(self) -> Expr | None:
        # Plan rewrites that do less work than asked (chunkwise.array.rewrites): a
        # reduction of a boolean-masked array reduces ``x`` with ``where=mask``, and a
        # reduction of a transpose or reshape reduces the input itself.
        if type(self) is not Reduction:
            return None
        return importlib.import_module("chunkwise.array.rewrites").simplify_reduction(self)

    def _push_slice(self, parent: Any, dependents: Mapping[str, list]) -> Expr | None:
        # ``x.sum(axis=0)[:5]`` reads only the blocks of ``x`` holding those columns.
        slicing = importlib.import_module("chunkwise.array.slicing")
        if type(self) is not Reduction or not slicing.only_sliced(self, dependents):
            return None
        return slicing.push_through_reduction(self, parent.index)

    def _task(self, key: Hashable) -> Task:
        name, _, _, _, _, levels, final = self._plan
        index = key[1:]
        if key[0] == name:
            _, axes, keepdims, _ = final
            if not keepdims:
                it = iter(index)
                index = tuple(0 if a in axes else next(it) for a in range(self.array.ndim))
            if self._fused:
                parts = [self._chunk_task(None, index)]
            else:
                last = len(levels) - 1
                prefix = f"{name}-partial-{last}"
                parts = [Ref((prefix, *i)) for i in self._group(index, last, True)]
            return Task(key, finish, parts, self.combine, self.aggregate, *final)
        level = levels[key[0]]
        if level == 0:
            return self._chunk_task(key, index)
        prefix = f"{name}-partial-{level - 1}"
        parts = [Ref((prefix, *i)) for i in self._group(index, level - 1, False)]
        return Task(key, combine_call, parts, self.combine)

    def _explain_line(self) -> str:
        return (
            f"Reduction: {self.funcname} axes={self.axes} levels={len(self._levels)}"
            f"  [{self.npartitions} blocks, {self.dtype}]"
        )


def chunk_call(
    block: Any, chunk: Callable, skip_axes: tuple | None, offsets: tuple | None = None,
    shape: tuple | None = None,
) -> Any:
    if skip_axes is not None and builtins.any(np.shape(block)[a] == 0 for a in skip_axes):
        return None
    block = block_for(chunk, block)
    if offsets is None:
        return chunk(block)
    return chunk(block, offsets=offsets, shape=shape)


def block_for(chunk: Callable, block: Any) -> Any:
    """``block`` as ``chunk`` takes it: as it is for a mask-aware chunk function, else plain."""
    if isinstance(block, np.ma.MaskedArray) and takes_masked(chunk):
        return block
    return plain_block(block)


def plain_block(block: Any) -> np.ndarray:
    """The block as a NumPy array; a masked block is refused (``np.asarray`` would drop its mask)."""
    refuse_masked(block)
    return np.asarray(block)


def refuse_masked(block: Any) -> None:
    """Raise for a masked block that reached a reduction whose plan did not know it was masked.

    The reductions of an array known to be masked (chunkwise.array.masks) respect its
    mask; masked blocks the plan was not told of would have their masked values
    counted silently.
    """
    if isinstance(block, np.ma.MaskedArray):
        raise TypeError(
            "a reduction met a numpy.ma.MaskedArray block in an array its plan did not know was "
            "masked (a map_blocks or blockwise function that returns masked blocks); declare it: "
            "map_blocks(func, x, meta=np.ma.masked_array(np.empty((0,) * x.ndim, dtype))) or "
            "da.ma.masked_array(result), so that reductions respect the mask"
        )


def masked_chunk_call(
    block: Any, mask: Any, chunk: Callable, skip_axes: tuple | None, mask_axis: int
) -> Any:
    """``chunk(block, where=mask)``, the mask (covering the axes from ``mask_axis`` on) broadcast."""
    block = block_for(chunk, block)
    if skip_axes is not None and builtins.any(block.shape[a] == 0 for a in skip_axes):
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != block.shape:
        lead = (1,) * mask_axis
        trail = (1,) * (block.ndim - mask_axis - mask.ndim)
        mask = np.broadcast_to(mask.reshape(lead + mask.shape + trail), block.shape)
    return chunk(block, where=mask)


def chunk_program_call(chunk: Callable, skip_axes: tuple | None, func: Callable, *args: Any) -> Any:
    """``chunk_call`` on the block a fused node computes with ``func(*args)`` (its ``_fused_call``)."""
    return chunk_call(func(*args), chunk, skip_axes)


def combine_call(parts: list, combine: Callable) -> Any:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return combine(parts)


def finish(
    parts: list, combine: Callable, aggregate: Callable, funcname: str, axes: tuple,
    keepdims: bool, dtype: np.dtype,
) -> Any:
    combined = combine_call(parts, combine)
    if combined is None:
        raise ValueError(
            f"zero-size array to reduction operation {funcname} which has no identity"
        )
    out = aggregate(combined)
    if not isinstance(out, np.ma.MaskedArray):  # the mask-aware reductions give masked results
        out = np.asarray(out)
    if out.dtype != dtype:
        out = out.astype(dtype)
    if not keepdims:
        out = out.reshape(tuple(s for a, s in enumerate(out.shape) if a not in axes))
        if out.ndim == 0:
            return out[()]
    return out


# --- argument checking -----------------------------------------------------------------


def normalize_split_every(split_every: Any, axes: tuple, ndim: int, opname: str) -> tuple:
    """Fan-in per reduced axis, as a sorted tuple of ``(axis, n)`` pairs."""
    if not axes:
        return ()
    if split_every is None:
        split_every = DEFAULT_SPLIT_EVERY
    if isinstance(split_every, dict):
        out = {}
        for a, n in split_every.items():
            if not isinstance(a, (numbers.Integral, np.integer)) or not -ndim <= a < ndim:
                raise ValueError(f"{opname}: split_every names axis {a!r}, but the array has {ndim} axes")
            out[int(a) % ndim] = n
        default = builtins.max(2, int(DEFAULT_SPLIT_EVERY ** (1 / len(axes))))
        fan_in = {a: out.get(a, default) for a in axes}
    elif isinstance(split_every, (numbers.Integral, np.integer)) and not isinstance(split_every, bool):
        per_axis = builtins.max(2, round(int(split_every) ** (1 / len(axes)))) if split_every >= 2 else split_every
        fan_in = dict.fromkeys(axes, per_axis)
    else:
        raise TypeError(f"{opname}: split_every must be an int or a dict {{axis: int}}, got {split_every!r}")
    for a, n in fan_in.items():
        if not isinstance(n, (numbers.Integral, np.integer)) or n < 2:
            raise ValueError(
                f"{opname}: split_every must be at least 2 (blocks combined per task), got {n!r} for axis {a}"
            )
    return tuple((a, int(n)) for a, n in sorted(fan_in.items()))


def numpy_dtype(opname: str, func: Callable, input_dtype: np.dtype, /, **kwargs: Any) -> np.dtype:
    """The dtype NumPy's ``func`` returns for an input of ``input_dtype`` (tried on a tiny array)."""
    sample = np.ones((2,), dtype=input_dtype)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if input_dtype.kind == "O" and "dtype" not in kwargs:
            # Over all axes NumPy returns a bare Python object (an int for ones): reduce one
            # axis of a 2-d sample instead to see the array dtype NumPy keeps (object).
            try:
                return np.asarray(func(np.ones((2, 2), dtype=object), axis=0)).dtype
            except TypeError:
                pass  # a sample function that takes no axis=: the 1-d answer below
        try:
            return np.asarray(func(sample, **kwargs)).dtype
        except Exception as exc:
            raise TypeError(f"{opname}: cannot reduce an array of dtype {input_dtype}: {exc}") from exc


def refuse_extra(opname: str, out: Any = None, **kwargs: Any) -> None:
    if out is not None:
        raise TypeError(
            f"{opname}: out= is not supported on chunkwise arrays (they are immutable); "
            "use the returned array instead"
        )
    for key, value in kwargs.items():
        if value is not None and value is not np._NoValue:
            raise TypeError(f"{opname}: the {key}= argument is not supported on chunkwise arrays")


def check_not_empty(x: Array, axes: tuple, opname: str, message: str | None = None) -> None:
    for a in axes:
        if x.shape[a] == 0:
            raise ValueError(
                message or f"zero-size array to reduction operation {opname} which has no identity"
            )


def reduction(
    x: Any,
    chunk: Callable,
    combine: Callable,
    aggregate: Callable,
    axis: Any = None,
    keepdims: bool = False,
    dtype: Any = None,
    split_every: Any = None,
    name: str = "reduction",
    skip_empty: bool = False,
    with_offsets: bool = False,
) -> Array:
    """A general tree reduction; see the module docstring for ``chunk``/``combine``/``aggregate``.

    ``dtype`` is the output dtype (required). Like ``dask.array.reduction``
    but ``combine`` receives a list of partials (merged elementwise) rather
    than their concatenation.

    >>> import numpy as np
    >>> from functools import partial, reduce
    >>> x = asarray(np.arange(10))
    >>> total = reduction(x, partial(np.sum, axis=(0,), keepdims=True),
    ...                   partial(reduce, np.add), np.asarray, dtype=int, name="total")
    >>> int(total)
    45
    """
    x = asarray(x)
    axes = tuple(sorted(normalize_axes(axis, x.ndim, name)))
    fan_in = normalize_split_every(split_every, axes, x.ndim, name)
    return Array(
        Reduction(
            x.expr, chunk, combine, aggregate, axes, bool(keepdims), fan_in,
            np.dtype(dtype), name, skip_empty, with_offsets,
        )
    )




# --- masked and shared reductions (built by chunkwise.array.rewrites) ----------------------


class MaskedReduction(Reduction):
    """A :class:`Reduction` whose ``chunk`` also gets ``where=`` a boolean block of ``where``.

    ``where`` is ``None`` (no mask) or a boolean array covering the input's axes
    from ``where_axis`` on, chunked like the input there (a mask broadcasts along
    the other axes). The chunk functions of :mod:`chunkwise.array.reductions`
    take ``where=`` as NumPy's reductions do (over every axis, they reduce the
    block's selection, ``block[where]``); an identity-less one (``min``)
    returns no partial for a block with nothing selected, so an empty selection
    raises NumPy's ``zero-size array`` error. It is what ``x[mask].sum()``
    becomes: no unknown chunk sizes, no array of the selection between tasks.
    """

    _parameters = (*Reduction._parameters, "where", "where_axis")
    _defaults = {**Reduction._defaults, "where": None, "where_axis": 0}

    def _one_to_one_inputs(self) -> tuple:
        where = self.where
        if where is None or where.name == self.array.name:
            return (self.array.name,)
        return (self.array.name, where.name)

    def _where_ref(self, index: tuple) -> Ref:
        where = self.where
        p = self.where_axis
        return Ref((where.name, *index[p:p + where.ndim]))

    def _chunk_task(self, key: Hashable, index: tuple) -> Task:
        if self.where is None:
            return super()._chunk_task(key, index)
        _, source, chunk, skip, _, _, _ = self._plan
        return Task(
            key, masked_chunk_call, Ref((source, *index)), self._where_ref(index), chunk, skip,
            self.where_axis,
        )

    def _task_inline(self, key: Hashable, inlined: set) -> Task:
        if self.where is not None:
            return self._task(key)
        return super()._task_inline(key, inlined)

    def _push_slice(self, parent: Any, dependents: Mapping[str, list]) -> Expr | None:
        return None

    def _explain_line(self) -> str:
        line = super()._explain_line()
        if self.where is None:
            return line
        return line.replace("Reduction:", f"MaskedReduction: where=<{self.where._funcname}>", 1)


class SharedReduction(MaskedReduction):
    """Several reductions of one input over the same axes, in one pass over its blocks.

    ``chunk`` runs every member's chunk function on a block (read or generated
    once) and returns a tuple of their partials; ``combine`` merges member by
    member. ``aggregate`` holds the members' ``(aggregate, funcname, dtype)``:
    an output block is the tuple of the members' results with the reduced axes
    kept (or the exception a member raised, such as ``min`` of nothing), which
    each member's :class:`SharedPart` picks. Built by the ``share`` stage of
    array plans (:func:`chunkwise.array.rewrites.share_reductions`).
    """

    def _task(self, key: Hashable) -> Task:
        name, _, _, _, _, levels, _ = self._plan
        if key[0] != name:
            return super()._task(key)
        index = key[1:]
        if self._fused:
            parts = [self._chunk_task(None, index)]
        else:
            last = len(levels) - 1
            prefix = f"{name}-partial-{last}"
            parts = [Ref((prefix, *i)) for i in self._group(index, last, True)]
        return Task(key, finish_shared, parts, self.combine, self.aggregate, self.axes)

    def _explain_line(self) -> str:
        names = ", ".join(funcname for _, funcname, _ in self.aggregate)
        where = "" if self.where is None else f" where=<{self.where._funcname}>"
        return (
            f"SharedReduction: [{names}] axes={self.axes}{where} levels={len(self._levels)}"
            f"  [{self.npartitions} blocks]"
        )


#: Bytes of the slabs (rows of a block) that a shared pass runs every member on in turn, on two
#: threads (times ``slab_scale()`` on more).
SHARED_SLAB_BYTES = 1 << 20


def shared_chunk(
    block: np.ndarray, chunks: tuple, skips: tuple, where: Any = None, combines: tuple | None = None,
    kernel: Callable | None = None, scratch: dict | None = None, masked: bool = True,
    masked_kernel: Callable | None = None,
) -> tuple:
    """Every member's partial of one block (``None`` where a member skips the block).

    With ``combines`` (the reduction runs over axis 0), a large block is taken
    in slabs of rows of about ``SHARED_SLAB_BYTES``: each slab is still in the
    cache when the next member reads it, so the block is read from memory
    once, not once per member; the slabs' partials merge with each member's
    ``combine``. ``kernel`` (``kernel(slab, scratch=...)``) computes all the
    partials of a non-empty real float slab at once, sharing what members have
    in common (:func:`chunkwise.array.reductions.fused_partials`); ``scratch``
    holds its buffers from one slab to the next. ``masked``: it takes masked
    blocks (``takes_masked``), and hands each member the block as that member
    takes it (``block_for``: a member that does not take masked blocks refuses one).
    ``masked_kernel`` (``masked_kernel(block, where=..., scratch=...)``) computes
    all the partials of a masked block at once, or returns ``None`` to leave it
    to the members (:func:`chunkwise.array.reductions.masked_partials`).
    """
    rows = block.shape[0] if block.ndim else 0
    scratch = {} if scratch is None else scratch
    if combines is not None and rows > 1:
        step = builtins.max(1, int(SHARED_SLAB_BYTES * slab_scale()) // builtins.max(1, block.nbytes // rows))
        if rows >= 4 * step:
            parts = [
                shared_chunk(block[i:i + step], chunks, skips, None if where is None else where[i:i + step],
                             kernel=kernel, scratch=scratch, masked=masked, masked_kernel=masked_kernel)
                for i in range(0, rows, step)
            ]
            return shared_combine(parts, combines)
    if masked_kernel is not None and (where is not None or isinstance(block, np.ma.MaskedArray)):
        partials = masked_kernel(block, where=where, scratch=scratch)
        if partials is not None:
            return partials
    if (
        kernel is not None and where is None and isinstance(block, np.ndarray)
        and not isinstance(block, (np.ma.MaskedArray, np.matrix)) and block.dtype.kind == "f" and block.size
    ):
        return kernel(block, scratch=scratch)
    out = []
    for chunk, skip in zip(chunks, skips):
        if skip is not None and builtins.any(block.shape[a] == 0 for a in skip):
            out.append(None)
        elif where is None:
            out.append(chunk(block_for(chunk, block)))
        else:
            out.append(chunk(block_for(chunk, block), where=where))
    return tuple(out)


def shared_combine(parts: list, combines: tuple) -> tuple:
    """Member by member, the partials of ``parts`` merged (``None`` where a member has none)."""
    return tuple(
        combine_call([p[i] for p in parts], combine) for i, combine in enumerate(combines)
    )


def finish_shared(parts: list, combine: Callable, finals: tuple, axes: tuple) -> tuple:
    combined = combine_call(parts, combine)
    out = []
    for i, (aggregate, funcname, dtype) in enumerate(finals):
        try:
            member = [None] if combined is None else [combined[i]]
            out.append(finish(member, _first, aggregate, funcname, axes, True, dtype))
        except Exception as exc:  # raised when this member's result is asked for
            out.append(exc)
    return tuple(out)


def _first(parts: list) -> Any:
    return parts[0]


class SharedPart(ArrayExpr):
    """Member ``position`` of a :class:`SharedReduction`: what the reduction ``like`` computed.

    Operands: the shared node, the member's position, its ``keepdims``, ``dtype``
    and output ``chunks`` (those of the reduction it replaces).
    """

    _parameters = ("shared", "position", "keepdims", "dtype", "chunks", "funcname")
    _operand_only = ("dtype", "chunks")

    @property
    def _funcname(self) -> str:
        return self.funcname

    def _chunks(self) -> tuple:
        return self.operand("chunks")

    def _dtype(self) -> Any:
        return self.operand("dtype")

    def _task(self, key: Hashable) -> Task:
        shared = self.shared
        index = key[1:]
        if not self.keepdims:
            it = iter(index)
            index = tuple(0 if a in shared.axes else next(it) for a in range(shared.array.ndim))
        return Task(
            key, pick_shared, Ref((shared.name, *index)), self.position,
            None if self.keepdims else shared.axes,
        )

    def _explain_line(self) -> str:
        return f"SharedPart: {self.funcname} #{self.position}  [{self.npartitions} blocks, {self.dtype}]"


def pick_shared(results: tuple, position: int, drop_axes: tuple | None) -> Any:
    out = results[position]
    if isinstance(out, Exception):
        raise out
    if drop_axes is not None:
        out = out.reshape(tuple(s for a, s in enumerate(out.shape) if a not in drop_axes))
        if out.ndim == 0:
            return out[()]
    return out
