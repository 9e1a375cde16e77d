"""Plan nodes shared by the linear algebra modules: small dense calls and the TSQR tree.

Two kinds of work make up every decomposition here:

- **Core calls** (:class:`CoreCall` + :class:`Part`): a NumPy function applied
  to whole matrices held in one block each (the last ``core`` axes of every
  input are one chunk), once per block of the leading *batch* axes. The call
  may return several arrays (``svd`` returns three); it runs once per batch
  block and each :class:`Part` node takes one of them. A 2-d matrix is the
  case of zero batch axes: one task.
- **The TSQR tree** (:class:`RTree` and :class:`TSQRQ`): the R factor of
  row-aligned, one-column-chunk arrays ``[A1 | A2 | ...]`` (hstacked block by
  block) by a tree of QR factorizations: each row block gives its ``R_i``,
  groups of ``split_every`` R's are stacked and factored again, up to one
  root. Only R's (``K x K`` at most, ``K`` the total column count) travel up
  the tree, so the R pass holds one input block per thread and never the
  whole input. Each row block's R is factored in cache-sized pieces
  (:func:`chunkwise.array.linalg.kernels.block_r`). ``TSQRQ`` builds Q in a
  second pass: the tree's small Q factors are multiplied top-down, and row
  block ``i`` of Q is ``A_i @ solve(R_i, F_i)``, one product of the input
  block (recomputed when it is cheap: read, generated or elementwise) with
  a ``K x K`` matrix made of the block's R kept from the first level and its
  slice ``F_i`` of the factor above it (its Householder Q times ``F_i``
  when ``R_i`` is ill-conditioned). Neither Q block ``i`` nor input block
  ``i`` waits in memory for the root, so a 10,000,000 x 20 QR runs in
  memory bounded by a few blocks per thread, at the price of producing each
  input block twice.

Every task that calls LAPACK or BLAS limits BLAS to one thread while it runs
(:func:`chunkwise.array.blas.one_blas_thread`): the scheduler's threads
already keep the cores busy.

Keys: ``RTree`` owns ``(f"{name}-up{level}", g)`` (level 0: one per row
block; level ``L``: the root; each ``(Q, R, row counts of the children's
R's, rows seen)``) and ``(f"{name}-down{level}", g)`` (the Q factors of the
tree, top-down, with the same counts), and outputs ``(name, 0, 0)``, the
root's R. ``TSQRQ`` outputs ``(name, i, 0)``, the Q rows of row block ``i``.
A node finds its rows of its parent's factor from those counts when the
task runs, so the tree needs no row count before computing: TSQR works on
row chunks of unknown length (``x[mask]``), like Dask's.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12.0).reshape(6, 2) ** 2, chunks=(2, 2))
>>> r = RTree(2, "qr", x.expr)
>>> r.chunks, r.levels
(((2,), (2,)), [3, 2, 1])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from chunkwise import config
from chunkwise.array.blas import one_blas_thread
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array
from chunkwise.array.expr import ArrayExpr, broadcast_shapes
from chunkwise.array.linalg.kernels import block_qr, block_r, q_by_solve
from chunkwise.core.expr import key_name, walk
from chunkwise.core.graph import Ref, Task
from chunkwise.sizes import format_bytes, parse_bytes

__all__ = [
    "DEFAULT_SPLIT_EVERY",
    "RECOMPUTE_LIMIT",
    "CoreCall",
    "Part",
    "RTree",
    "RowsSeen",
    "TSQRQ",
    "chunk_limit",
    "conj_transpose",
    "core_call",
    "linalg_dtype",
    "one_core_chunk",
    "tsqr_r",
]

#: R factors stacked and factored again by one task of the TSQR tree.
DEFAULT_SPLIT_EVERY = 16


def chunk_limit() -> int:
    """The configured target chunk size in bytes (``array.chunk_size``)."""
    return parse_bytes(config.get("array.chunk_size"))


def linalg_dtype(opname: str, *dtypes: Any) -> np.dtype:
    """The dtype NumPy's ``linalg`` computes in for inputs of ``dtypes`` (ints -> float64).

    >>> linalg_dtype("qr", np.dtype("int32")), linalg_dtype("qr", np.dtype("float32"))
    (dtype('float64'), dtype('float32'))
    """
    out = []
    for dtype in dtypes:
        dtype = np.dtype(dtype)
        if dtype.kind in "biu":
            out.append(np.dtype("float64"))
        elif dtype.kind in "fc" and dtype.itemsize >= 4 and dtype != np.dtype("longdouble"):
            out.append(dtype)
        else:
            raise TypeError(
                f"{opname}: arrays of dtype {dtype} are not supported by linear algebra; "
                "convert with x.astype('float64') first"
            )
    return np.result_type(*out)


# --- core calls ---------------------------------------------------------------------------------


def _call(func: Callable, kwargs: dict | None, *blocks: Any) -> Any:
    with one_blas_thread():
        return func(*blocks, **(kwargs or {}))


class CoreCall(ArrayExpr):
    """``func(*blocks, **kwargs)`` once per block of the batch axes; see the module docstring.

    Operands: ``func``, ``kwargs``, ``cores`` (the number of core axes of each
    input: its last ``cores[i]`` axes are one chunk), ``funcname``, then the
    input arrays. The inputs' leading (batch) axes broadcast against each
    other as NumPy's do, aligned on the right (an axis of length 1 in one
    chunk broadcasts). The node's chunks are the batch grid; its blocks are
    what ``func`` returns (a tuple for several outputs), read by :class:`Part`.
    """

    _parameters = ("func", "kwargs", "cores", "funcname")
    _variadic = True

    @property
    def _funcname(self) -> str:
        return self.operands[3]

    @property
    def inputs(self) -> list:
        return self.operands[4:]

    def dependencies(self) -> list:
        return list(self.inputs)

    def _dtype(self) -> Any:
        return np.dtype(object)

    @functools.cached_property
    def _batch_ndims(self) -> tuple:
        return tuple(x.ndim - c for x, c in zip(self.inputs, self.operands[2]))

    def _chunks(self) -> tuple:
        nb = max(self._batch_ndims, default=0)
        chunks: list = [(1,)] * nb
        for x, bn in zip(self.inputs, self._batch_ndims):
            for d in range(bn):
                c = x.chunks[d]
                if c != (1,) or chunks[nb - bn + d] == (1,):
                    chunks[nb - bn + d] = c
        return tuple(chunks)

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        nb = len(index)
        refs = []
        for x, bn in zip(self.inputs, self._batch_ndims):
            batch = index[nb - bn:]
            block = tuple(0 if x.numblocks[d] == 1 else batch[d] for d in range(bn))
            refs.append(Ref((x.name, *block, *(0,) * (x.ndim - bn))))
        return Task(key, _call, self.operands[0], self.operands[1], *refs)

    def chunk_nbytes(self, key: Hashable) -> int | None:
        return None

    def _explain_line(self) -> str:
        return f"CoreCall: {self._funcname}  [{self.npartitions} calls]"


def _part(result: Any, item: Any) -> Any:
    out = result if item is None else result[item]
    if isinstance(out, np.ndarray) and out.ndim == 0:
        return out[()]  # a NumPy scalar, as NumPy returns for one matrix
    return out


class Part(ArrayExpr):
    """Output ``item`` of a :class:`CoreCall` (``None``: its whole result), core axes of ``core_shape``."""

    _parameters = ("call", "item", "core_shape", "dtype_")

    def _dtype(self) -> Any:
        return self.dtype_

    def _chunks(self) -> tuple:
        return self.call.chunks + tuple((n,) for n in self.core_shape)

    def _task(self, key: Hashable) -> Task:
        batch = key[1:len(key) - len(self.core_shape)]
        return Task(key, _part, Ref((self.call.name, *batch)), self.item)

    @property
    def _funcname(self) -> str:
        return f"{self.call._funcname}-part"

    def _explain_line(self) -> str:
        return f"Part {self.item} of {self.call._funcname}  [{self.npartitions} blocks, {self.dtype}]"


def _align_batch_chunks(exprs: list, cores: tuple) -> list:
    """The inputs with the same chunks on each batch axis they share (length-1 axes broadcast)."""
    nb = max((x.ndim - c for x, c in zip(exprs, cores)), default=0)
    target: list = [None] * nb
    for x, c in zip(exprs, cores):
        bn = x.ndim - c
        for d in range(bn):
            if x.shape[d] != 1 and target[nb - bn + d] is None:
                target[nb - bn + d] = x.chunks[d]
    out = []
    for x, c in zip(exprs, cores):
        bn = x.ndim - c
        spec = {
            d: target[nb - bn + d] for d in range(bn)
            if x.shape[d] != 1 and x.chunks[d] != target[nb - bn + d]
        }
        out.append(Array(x).rechunk(spec).expr if spec else x)
    return out


def core_call(func: Callable, arrays: list, cores: Any, outputs: list, funcname: str,
              kwargs: dict | None = None) -> tuple:
    """The arrays ``func`` returns, one :class:`Part` per ``(core_shape, dtype)`` in ``outputs``.

    ``cores``: the number of core axes of each input (an int: the same for
    all). ``func`` returns a tuple when ``outputs`` has several entries, else
    one array. Batch axes must broadcast (checked here, naming ``funcname``).
    """
    cores = tuple(cores) if isinstance(cores, (tuple, list)) else (cores,) * len(arrays)
    exprs = [a.expr if isinstance(a, Array) else a for a in arrays]
    shapes = [x.shape[:x.ndim - c] for x, c in zip(exprs, cores)]
    try:
        broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            f"{funcname}: the stacks of shapes {' and '.join(str(x.shape) for x in exprs)} do not broadcast "
            f"(batch axes {' and '.join(map(str, shapes))})"
        ) from None
    exprs = _align_batch_chunks(exprs, cores)
    call = CoreCall(func, kwargs, cores, funcname, *exprs)
    if len(outputs) == 1:
        shape, dtype = outputs[0]
        return (Array(Part(call, None, tuple(shape), np.dtype(dtype))),)
    return tuple(Array(Part(call, i, tuple(shape), np.dtype(dtype))) for i, (shape, dtype) in enumerate(outputs))


def conj_transpose(x: Array) -> Array:
    """The conjugate transpose of the last two axes (the plain transpose for real dtypes)."""
    return x.mT.conj() if x.dtype.kind == "c" else x.mT


def one_core_chunk(x: Array, core: int, opname: str) -> Array:
    """``x`` with its last ``core`` axes in one chunk, rechunked when one matrix fits a chunk.

    Refused (``ValueError`` naming shape, chunks and the fix) when one matrix
    is larger than the configured chunk size.
    """
    axes = tuple(range(x.ndim - core, x.ndim))
    check_known_chunks(opname, x, axes=axes, what="the matrix axes")
    if all(x.numblocks[d] == 1 for d in axes):
        return x
    matrix = math.prod(x.shape[d] for d in axes) * x.dtype.itemsize
    limit = chunk_limit()
    if matrix > limit:
        raise ValueError(
            f"{opname}: each matrix (the last {core} axes of shape {x.shape}, chunks of {x.chunksize}) must be "
            f"one chunk, and one is {format_bytes(matrix)}, more than array.chunk_size "
            f"({format_bytes(limit)}); rechunk with x.rechunk({{{', '.join(f'{d}: -1' for d in axes)}}}) "
            "after raising array.chunk_size if it fits in memory"
        )
    spec = dict.fromkeys(axes, -1)
    batch = math.prod(max(c) for c in x.chunks[:x.ndim - core]) if x.ndim > core else 1
    if batch * matrix > limit:  # keep blocks near the limit: fewer matrices per block
        per_block = max(1, limit // matrix)
        for d in range(x.ndim - core - 1, -1, -1):
            spec[d] = max(1, min(x.shape[d], per_block))
            per_block = max(1, per_block // max(x.shape[d], 1))
    return x.rechunk(spec)


# --- the TSQR tree --------------------------------------------------------------------------------


def _leaf_r(dtype: np.dtype, need: int, opname: str, *blocks: np.ndarray) -> tuple:
    """Up result of one row block of ``[A1 | A2 | ...]``: ``(None, R, None, rows)``, R factored in pieces.

    R has shape ``(min(rows, K), K)``. ``need`` (the root's check; 0 below
    the root): see :func:`_check_root`.
    """
    rows = len(blocks[0])
    if rows == 0:
        r = np.zeros((0, sum(1 if b.ndim == 1 else b.shape[1] for b in blocks)), dtype=dtype)
    else:
        with one_blas_thread():
            r = block_r(blocks, dtype)
    return _check_root((None, r, None, rows), need, opname)


def _stack_qr(dtype: np.dtype, need: int, opname: str, *parts: tuple) -> tuple:
    """Up result of a group of children: ``(Q, R, row counts of the children's R's, rows seen)``."""
    rs = [p[1] for p in parts]
    stacked = np.vstack(rs).astype(dtype, copy=False)
    with one_blas_thread():
        q, r = np.linalg.qr(stacked)
    return _check_root((q, r, [len(x) for x in rs], sum(p[3] for p in parts)), need, opname)


def _check_root(up: tuple, need: int, opname: str) -> tuple:
    """``up``, or a ``ValueError`` when its R has fewer than ``need`` rows.

    Only for unknown row chunks: the root's R was declared ``K x K`` (as
    Dask's), which holds when the rows are at least the columns of ``a``.
    """
    if len(up[1]) < need:
        raise ValueError(
            f"{opname}: the matrix has unknown row chunk sizes and turned out to have {up[3]} rows, fewer than "
            f"its {need} columns, so its R factor is not the declared {need} x {need}; call "
            "x.compute_chunk_sizes() first (a wide matrix is factored through its known shape)"
        )
    return up


def _root_r(root: tuple, rows: int) -> np.ndarray:
    """The root's R, with zero rows appended up to the declared ``rows`` (unknown row chunks only)."""
    r = root[1]
    if len(r) < rows:  # [a | b] of lstsq with fewer rows than columns: R22 is all zero
        r = np.vstack([r, np.zeros((rows - len(r), r.shape[1]), dtype=r.dtype)])
    return r


def _rows_seen(root: tuple) -> np.int64:
    return np.int64(root[3])


def _slice_of(parent: tuple | None, index: int) -> np.ndarray | None:
    """The rows of child ``index`` in its parent's Q factor (``parent``: the parent's down result)."""
    if parent is None:
        return None
    factor, counts = parent
    start = sum(counts[:index])
    return factor[start:start + counts[index]]


def _down(local: tuple, parent: tuple | None, index: int) -> tuple:
    """This tree node's down result: ``(its Q times its rows of the parent's factor, its children's counts)``."""
    mine = _slice_of(parent, index)
    if mine is None:
        return local[0], local[2]
    with one_blas_thread():
        return local[0] @ mine, local[2]


def _leaf_q(
    dtype: np.dtype, parent: tuple | None, index: int, right: np.ndarray | None, up: tuple, block: np.ndarray,
) -> np.ndarray:
    """The Q rows of one row block, times ``right`` (``None``: the identity); see :mod:`.kernels`.

    ``Q_b @ F @ right`` with ``F`` the block's rows of its parent's factor
    (``parent``: the parent's down result, ``None`` for a single block) and
    ``Q_b`` the block's own Q: ``block @ solve(R_b, ...)`` (``R_b`` from its
    up result ``up``) when that R is well conditioned, else its Householder Q
    rebuilt piece by piece (same R as the R pass).
    """
    r_block = up[1]
    factor = _slice_of(parent, index)
    width = r_block.shape[1] if factor is None else factor.shape[1]
    if right is not None:
        width = right.shape[1]
    if len(block) == 0:
        return np.zeros((0, width), dtype=dtype)
    a = block[:, None] if block.ndim == 1 else block
    a = a.astype(dtype, copy=False)
    with one_blas_thread():
        small = factor
        if right is not None:
            small = right if small is None else small @ right
        q = q_by_solve(a, r_block, small)
        if q is None:
            q = block_qr((a,), dtype)[0]
            if small is not None:
                q = q @ small
        return q


class RTree(ArrayExpr):
    """The R factor of ``[A1 | A2 | ...]`` by a tree of QRs; see the module docstring.

    Operands: ``split_every``, ``opname`` (the user's operation, for errors),
    then the arrays (1-d or 2-d, the same row chunks, one column chunk each).
    Row chunks may be unknown (``nan``, e.g. after ``x[mask]``): the tree only
    needs the number of row blocks. The root's R is then declared ``K x K``
    (as Dask's), checked when computed: the rows must be at least the columns
    of ``A1``.
    """

    _parameters = ("split_every", "opname")
    _variadic = True

    @property
    def _funcname(self) -> str:
        return "tsqr-r"

    @property
    def inputs(self) -> list:
        return self.operands[2:]

    def dependencies(self) -> list:
        return list(self.inputs)

    @functools.cached_property
    def width(self) -> int:
        return sum(1 if x.ndim == 1 else x.shape[1] for x in self.inputs)

    def _dtype(self) -> Any:
        return linalg_dtype(self.operands[1], *(x.dtype for x in self.inputs))

    @functools.cached_property
    def levels(self) -> list:
        """Number of tree nodes at each level (level 0: the row blocks; last: 1, the root)."""
        counts = [self.inputs[0].numblocks[0]]
        fan_in = self.operands[0]
        while counts[-1] > 1:
            counts.append(-(-counts[-1] // fan_in))
        return counts

    @functools.cached_property
    def rows(self) -> list:
        """Rows of the R of each tree node, per level (``nan`` where the row chunks are unknown)."""
        width = self.width
        out = [[_r_rows(m, width) for m in self.inputs[0].chunks[0]]]
        fan_in = self.operands[0]
        for count in self.levels[1:]:
            below = out[-1]
            out.append([_r_rows(sum(below[g * fan_in:(g + 1) * fan_in]), width) for g in range(count)])
        return out

    @property
    def unknown_rows(self) -> bool:
        return math.isnan(self.rows[-1][0])

    def _chunks(self) -> tuple:
        root = self.rows[-1][0]
        return ((self.width if math.isnan(root) else root,), (self.width,))

    def _owned_names(self):
        top = len(self.levels) - 1
        return (
            self.name,
            *(f"{self.name}-up{level}" for level in range(top + 1)),
            *(f"{self.name}-down{level}" for level in range(1, top + 1)),
        )

    def up_ref(self, level: int, group: int) -> Ref:
        """The up result ``(Q, R, counts, rows seen)`` of tree node ``(level, group)``."""
        return Ref((f"{self.name}-up{level}", group))

    def down_ref(self, level: int, group: int) -> tuple:
        """``(Ref or None, index)``: the down result of node ``(level - 1, group)``'s parent, and its place there."""
        top = len(self.levels) - 1
        if level > top:
            return None, 0
        fan_in = self.operands[0]
        return Ref((f"{self.name}-down{level}", group // fan_in)), group % fan_in

    def _task(self, key: Hashable) -> Task:
        name = key[0]
        dtype = self.dtype
        top = len(self.levels) - 1
        if name == self.name:
            return Task(key, _root_r, self.up_ref(top, 0), self.chunks[0][0])
        suffix = name.rsplit("-", 1)[1]
        stage = "up" if suffix.startswith("up") else "down"
        level, group = int(suffix[len(stage):]), key[1]
        need = self.inputs[0].shape[1] if level == top and self.unknown_rows and self.inputs[0].ndim == 2 else 0
        if stage == "up" and level == 0:
            refs = [Ref((x.name, group, *(0,) * (x.ndim - 1))) for x in self.inputs]
            return Task(key, _leaf_r, dtype, need, self.operands[1], *refs)
        if stage == "up":
            fan_in = self.operands[0]
            below = self.levels[level - 1]
            refs = [self.up_ref(level - 1, g) for g in range(group * fan_in, min((group + 1) * fan_in, below))]
            return Task(key, _stack_qr, dtype, need, self.operands[1], *refs)
        parent, index = self.down_ref(level + 1, group)
        return Task(key, _down, self.up_ref(level, group), parent, index)

    def _explain_line(self) -> str:
        return (
            f"RTree: TSQR of {self.inputs[0].numblocks[0]} row blocks x {self.width} columns  "
            f"[{len(self.levels) - 1} levels, fan-in {self.operands[0]}, {self.dtype}]"
        )


def _r_rows(rows: float, width: int) -> float:
    """Rows of the R of ``rows`` stacked rows of ``width`` columns (``nan`` stays ``nan``)."""
    return rows if math.isnan(rows) else min(int(rows), width)


class RowsSeen(ArrayExpr):
    """The number of rows a :class:`RTree` factored, a 0-d int64 array (for unknown row chunks)."""

    _parameters = ("tree",)

    @property
    def _funcname(self) -> str:
        return "tsqr-rows"

    def _dtype(self) -> Any:
        return np.dtype(np.int64)

    def _chunks(self) -> tuple:
        return ()

    def _task(self, key: Hashable) -> Task:
        return Task(key, _rows_seen, self.tree.up_ref(len(self.tree.levels) - 1, 0))


#: Most tasks rebuilt inside one Q task to recompute its input block instead of keeping it.
RECOMPUTE_LIMIT = 16


class TSQRQ(ArrayExpr):
    """The Q factor matching ``tree`` (an :class:`RTree` of one array ``array``), times ``right``.

    ``right`` (optional, a ``K x J`` array in one chunk) multiplies Q inside
    each Q task: ``svd``'s ``U = Q @ U_R`` costs no pass of its own. Q block
    ``i`` is ``A_i @ solve(R_i, F_i @ right)`` (``R_i``: the block's R from
    the tree's first level, ``F_i``: its slice of the tree's Q factor; see
    :mod:`.kernels`), or the block's Householder Q times the same when
    ``R_i`` is ill-conditioned. It needs input block ``i`` again, after the root of the tree
    is known. Keeping the input blocks from the R pass would hold the whole
    input in memory (what Dask's TSQR does), so each Q task *recomputes* its
    input block: the block's own tasks (its read, its random generation, the
    elementwise work on it) are built into the Q task, when they are at most
    ``RECOMPUTE_LIMIT`` tasks reading no other data. An input block made by
    wider work (a rechunk, a contraction) is shared instead.
    """

    _parameters = ("tree", "array", "right")
    _defaults = {"right": None}

    @property
    def _funcname(self) -> str:
        return "tsqr-q"

    def _dtype(self) -> Any:
        return self.tree.dtype

    def _chunks(self) -> tuple:
        width = self.tree.chunks[0][0] if self.right is None else self.right.shape[1]
        return (self.array.chunks[0], (width,))

    @functools.cached_property
    def _input_owners(self) -> dict:
        return {name: expr for expr in walk([self.array]) for name in expr._owned_names()}

    def _rebuilt(self, key: Hashable, budget: list) -> Any:
        """The task computing ``key`` with everything it reads built inside it, or ``None``."""
        owner = self._input_owners.get(key_name(key))
        budget[0] -= 1
        if owner is None or budget[0] < 0:
            return None
        task = owner._task(key)
        if type(task) is not Task:
            return None
        found = {}
        for dep in task.dependencies:
            inner = self._rebuilt(dep, budget)
            if inner is None:
                return None
            found[dep] = inner
        return task.inline(found, in_place=True) if found else task

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        parent, index = self.tree.down_ref(1, i)
        block_key = (self.array.name, i, *(0,) * (self.array.ndim - 1))
        right = None if self.right is None else Ref((self.right.name, 0, 0))
        up = self.tree.up_ref(0, i)
        task = Task(key, _leaf_q, self.dtype, parent, index, right, up, Ref(block_key))
        rebuilt = self._rebuilt(block_key, [RECOMPUTE_LIMIT])
        return task.inline({block_key: rebuilt}, in_place=True) if rebuilt is not None else task

    def _explain_line(self) -> str:
        times = "" if self.right is None else f" times a {self.right.shape[0]} x {self.right.shape[1]} factor"
        return (
            f"TSQRQ: Q{times} of {self.npartitions} row blocks, each A_i @ solve(R_i, F_i) on its input "
            f"block recomputed  [{self.dtype}]"
        )


def tsqr_r(arrays: list, split_every: int | None = None, opname: str = "tsqr") -> Array:
    """The R factor of the row-aligned arrays ``[A1 | A2 | ...]`` (one column chunk each)."""
    return Array(RTree(split_every or DEFAULT_SPLIT_EVERY, opname, *[a.expr for a in arrays]))

