"""Blocks as ``Delayed`` values and back: ``to_delayed``, ``from_delayed``, ``from_futures``.

- :func:`to_delayed`: the blocks of an array as ``Delayed`` values, in an
  object array of shape ``numblocks``. The plan is optimized once; each block
  is a short alias task (``_Block``) so it can be persisted and referenced like
  any delayed value, and computing one block runs only what it needs.
- :func:`from_delayed`: a ``Delayed`` value as a one-block array
  (:class:`FromDelayed`); the value's shape and dtype are checked when it is
  computed, and a value of a kindred dtype is cast.
- :func:`from_futures`: an array from a grid of ``distributed`` futures (or
  ``Delayed`` values), one per block (:class:`FromFutures`); on a cluster the
  blocks stay where they are. A grid holding ``Delayed`` values is assembled
  from one-block arrays with ``block``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array import manipulation
from chunkwise.array.chunks import has_unknown, normalize_chunks
from chunkwise.array.core import Array, asarray
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.utils import identity
from chunkwise.base import Collection, is_future
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task
from chunkwise.core.tokenize import tokenize
from chunkwise.delayed import Delayed

__all__ = ["FromDelayed", "FromFutures", "from_delayed", "from_futures", "to_delayed"]


class _Block(Expr):
    """One block of an (already optimized) array, as the value of a ``Delayed``.

    Its key is its own (a short alias task), so it can be persisted and
    referenced like any delayed value; it is not re-optimized per block.
    """

    _parameters = ("array", "index")

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.array.name}-block-" + "-".join(str(i) for i in self.index)

    def optimize(self) -> Expr:
        return self

    def simplify(self) -> Expr:
        return self

    def _task(self, key: Hashable) -> Task:
        return Task(key, identity, Ref((self.array.name, *self.index)))

    def _explain_line(self) -> str:
        return f"Block {self.index} of {self.array.name}"


def to_delayed(x: Any, optimize_graph: bool = True) -> Any:
    """The blocks of ``x`` as ``Delayed`` values, in an object array of shape ``x.numblocks``.

    As ``dask.array.Array.to_delayed`` (index it like nested lists,
    ``blocks[i][j]``, or call ``.tolist()``): the plan is optimized once, here
    (``optimize_graph=False`` to keep it as it is); computing one block runs
    only what that block needs.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6).reshape(2, 3), chunks=(1, 2))
    >>> blocks = to_delayed(x + 1)
    >>> len(blocks), len(blocks[0])
    (2, 2)
    >>> blocks[1][0].compute().tolist()
    [[4, 5]]
    """
    x = asarray(x)
    expr = x.expr.optimize() if optimize_graph else x.expr

    out = np.empty(expr.numblocks, dtype=object)
    for index in product(*(range(n) for n in expr.numblocks)):
        out[index] = Delayed(_Block(expr, index))
    return out


class FromDelayed(ArrayExpr):
    """A one-block array whose block is the value of a delayed expression."""

    _parameters = ("value", "shape_", "dtype_", "name_")

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        if self.name_ is not None:
            return self.name_
        return "from-value-" + tokenize(self.value.name, self.shape_, str(self.dtype_))

    def _chunks(self) -> tuple:
        return tuple((s,) for s in self.shape_)

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        return Task(key, _check_block, Ref(self.value.key), self.shape_, self.dtype_)


def _check_block(value: Any, shape: tuple, dtype: np.dtype, op: str = "from_delayed") -> np.ndarray:
    block = np.asarray(value)
    if block.ndim != len(shape) or any(
        not math.isnan(s) and b != s for b, s in zip(block.shape, shape)
    ):
        raise ValueError(
            f"{op}: the value has shape {block.shape} but {op} declared "
            f"shape {shape}; pass the right shape"
        )
    if block.dtype != dtype:
        if not np.can_cast(block.dtype, dtype, casting="same_kind"):
            raise TypeError(
                f"{op}: the value has dtype {block.dtype} but {op} declared "
                f"dtype {dtype}; pass the right dtype"
            )
        block = block.astype(dtype)
    return block


def from_delayed(value: Any, shape: tuple, dtype: Any = None, meta: Any = None, name: str | None = None) -> Array:
    """A one-block array whose block is the value of ``value`` (a ``Delayed``).

    As ``dask.array.from_delayed``; in addition the value's shape is checked
    when computed (a clear ``ValueError`` instead of a wrong result later) and
    a value of a kindred dtype is cast to ``dtype``. ``shape`` may hold ``nan``.

    >>> import numpy as np
    >>> from chunkwise import delayed
    >>> value = delayed(np.ones)((2, 3))
    >>> x = from_delayed(value, shape=(2, 3), dtype=float)
    >>> (x + 1).compute().tolist()
    [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """
    if not isinstance(value, Collection):
        raise TypeError(f"from_delayed: expected a Delayed value, got {type(value).__name__}")
    if dtype is None:
        if meta is None:
            raise TypeError("from_delayed: give the dtype (or meta) of the value")
        dtype = meta.dtype
    shape = tuple(s if isinstance(s, float) and math.isnan(s) else int(s) for s in shape)
    expr = value._finalize()
    return Array(FromDelayed(expr, shape, np.dtype(dtype), name))


class FromFutures(ArrayExpr):
    """An array whose blocks are the values of ``distributed`` futures, one per block.

    ``blocks`` maps each block index to its future. On the cluster a block's
    task takes the future's data where it is; local schedulers fetch it.
    """

    _parameters = ("blocks", "chunks_", "dtype_", "name_")

    @functools.cached_property
    def name(self) -> str:  # type: ignore[override]
        if self.name_ is not None:
            return self.name_
        keys = [(index, future.key) for index, future in self.blocks.items()]
        return "from-futures-" + tokenize(keys, self.chunks_, str(self.dtype_))

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        from chunkwise.distributed import future_task  # needs the optional distributed package

        index = key[1:]
        shape = tuple(c[i] for c, i in zip(self.chunks_, index))
        # local schedulers fetch the block; on the cluster the task becomes a
        # reference to the future's data, where it is
        fetch = future_task(None, self.blocks[index])
        return Task(key, _check_block, fetch, shape, self.dtype_, "from_futures")


def _grid_items(futures: Any, numblocks: tuple) -> dict:
    """The items of the nested lists ``futures`` by block index, checked against ``numblocks``."""
    items: dict = {}

    def visit(obj: Any, index: tuple) -> None:
        depth = len(index)
        if depth == len(numblocks):
            items[index] = obj
            return
        if not isinstance(obj, (list, tuple)) or len(obj) != numblocks[depth]:
            where = "futures" + "".join(f"[{i}]" for i in index)
            found = f"a {type(obj).__name__}" if not isinstance(obj, (list, tuple)) else (
                f"{len(obj)} items"
            )
            raise ValueError(
                f"from_futures: the chunks give {numblocks} blocks, so {where} must be a list "
                f"of {numblocks[depth]} items (nested {len(numblocks)} deep), but it is {found}"
            )
        for i, item in enumerate(obj):
            visit(item, (*index, i))

    visit(futures, ())
    return items


def from_futures(
    futures: Any,
    chunks: Any = None,
    dtype: Any = None,
    shape: tuple | None = None,
    meta: Any = None,
    name: str | None = None,
) -> Array:
    """An array from a grid of ``distributed`` futures (or ``Delayed`` values), one per block.

    ``futures`` is nested lists, as deep as the array has dimensions, of
    ``distributed.Future`` objects (from ``client.submit``, ``client.scatter``,
    ``client.map``) or chunkwise ``Delayed`` values: ``futures[i][j]`` is block
    ``(i, j)``. A single future or delayed value makes a one-block array of
    ``shape``. ``chunks`` gives the block lengths on each axis, e.g.
    ``((2, 2), (3,))``, or a block shape together with ``shape``; ``nan``
    marks an unknown length (futures only). ``dtype`` (or ``meta``) is needed.
    Dask builds such arrays with ``da.block`` of ``from_delayed`` arrays; here
    it is one expression, each block's shape is checked when computed, and on
    a cluster the blocks are used where they are, without moving them.

    >>> import numpy as np
    >>> from chunkwise import delayed
    >>> parts = [[delayed(np.full)((2, 3), i + j) for j in range(2)] for i in range(2)]
    >>> x = from_futures(parts, chunks=((2, 2), (3, 3)), dtype=float)
    >>> x.compute()[:, ::3].tolist()
    [[0.0, 1.0], [0.0, 1.0], [1.0, 2.0], [1.0, 2.0]]
    """
    if dtype is None:
        if meta is None:
            raise TypeError("from_futures: give the dtype (or meta) of the blocks")
        dtype = meta.dtype
    dtype = np.dtype(dtype)
    single = is_future(futures) or isinstance(futures, Collection)
    if single:
        if shape is None:
            raise TypeError("from_futures: give the shape of the one block (shape=...)")
        chunks = tuple((s,) for s in shape)
        futures_grid: Any = futures
    else:
        futures_grid = futures
        if chunks is None:
            raise TypeError(
                "from_futures: give the block lengths on each axis, e.g. chunks=((2, 2), (3,)), "
                "or a block shape with shape=..."
            )
    if shape is None:
        if not (isinstance(chunks, (tuple, list)) and all(isinstance(c, (tuple, list)) for c in chunks)):
            raise TypeError(
                "from_futures: chunks must give every block length, e.g. ((2, 2), (3,)), "
                "unless shape= is given too"
            )
        chunks = tuple(tuple(c) for c in chunks)
        shape = tuple(math.nan if any(math.isnan(b) for b in c) else int(sum(c)) for c in chunks)
    shape = tuple(s if isinstance(s, float) and math.isnan(s) else int(s) for s in shape)
    chunks = normalize_chunks(chunks, shape)
    numblocks = tuple(len(c) for c in chunks)
    items = {(0,) * len(shape): futures_grid} if single else _grid_items(futures_grid, numblocks)
    bad = [
        (i, v) for i, v in items.items() if not (is_future(v) or isinstance(v, Collection))
    ]
    if bad:
        index, value = bad[0]
        raise TypeError(
            f"from_futures: block {index} is a {type(value).__name__}, not a distributed.Future "
            "or a Delayed value"
        )
    if all(is_future(v) for v in items.values()):
        return Array(FromFutures(items, chunks, dtype, name))
    # Delayed values (or a mixture): one one-block array each, assembled
    if has_unknown(chunks):
        raise ValueError(
            "from_futures: Delayed blocks need known block lengths (no nan in chunks)"
        )

    def one(index: tuple) -> Array:
        value = items[index]
        block_shape = tuple(c[i] for c, i in zip(chunks, index))
        if is_future(value):
            return Array(FromFutures({(0,) * len(block_shape): value},
                                     tuple((s,) for s in block_shape), dtype, None))
        return from_delayed(value, block_shape, dtype)

    if len(items) == 1:
        return one(next(iter(items)))

    def nest(index: tuple) -> Any:
        if len(index) == len(numblocks):
            return one(index)
        return [nest((*index, i)) for i in range(numblocks[len(index)])]

    return manipulation.block(nest(()))
