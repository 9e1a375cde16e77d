"""Testing helpers: ``assert_eq`` compares a chunkwise array with NumPy on the same data.

>>> import numpy as np
>>> import chunkwise.array as da
>>> assert_eq(da.from_array(np.arange(4), chunks=3) + 1, np.arange(1, 5))
"""

from __future__ import annotations

import math

import numpy as np

from chunkwise.array.chunks import has_unknown
from chunkwise.array.core import Array
from chunkwise.array.expr import ArrayExpr
from chunkwise.core.expr import lower
from chunkwise.core.graph import Ref, Task
from chunkwise.scheduling import get

__all__ = ["assert_eq", "with_unknown_chunks"]


def _check_metadata(x) -> None:
    """The chunks, shape and numblocks of ``x`` agree with each other."""
    assert isinstance(x.chunks, tuple) and all(isinstance(c, tuple) for c in x.chunks)
    assert len(x.chunks) == x.ndim == len(x.shape)
    for c, s in zip(x.chunks, x.shape):
        total = sum(c)
        if not (math.isnan(total) or math.isnan(s)):
            assert total == s, (x.chunks, x.shape)
    for key in x.expr._output_keys():
        assert all(type(part) in (str, int) for part in key), key


def assert_eq(a, b, check_dtype: bool = True, check_chunks: bool = True, schedulers=("sync", "threads"), **kwargs) -> None:
    """``a`` and ``b`` (chunkwise arrays, NumPy arrays or scalars) hold the same values.

    For a chunkwise array, its metadata (shape, dtype) must equal what computing
    it gives, and every block must have the shape its chunks declare; it is
    computed on each scheduler in ``schedulers``.
    """
    results = []
    for side in (a, b):
        if isinstance(side, Array):
            _check_metadata(side)
            computed = [np.asarray(side.compute(scheduler=s)) if side.ndim else side.compute(scheduler=s) for s in schedulers]
            for c in computed[1:]:
                np.testing.assert_array_equal(c, computed[0])
            value = np.asarray(computed[0])
            if side.ndim:
                assert value.shape == tuple(side.shape) or has_unknown(side.chunks), (value.shape, side.shape)
            else:
                assert value.shape == (), value.shape
            if check_dtype:
                assert value.dtype == side.dtype, (value.dtype, side.dtype)
            if check_chunks and not has_unknown(side.chunks):
                blocks = _block_shapes(side)
                for index, shape in blocks.items():
                    expected = tuple(c[i] for c, i in zip(side.chunks, index))
                    assert shape == expected, f"block {index} has shape {shape}, chunks say {expected}"
            results.append(value)
        else:
            results.append(np.asarray(side))
    left, right = results
    if check_dtype:
        assert left.dtype == right.dtype or (left.dtype.kind == right.dtype.kind == "U"), (left.dtype, right.dtype)
    assert left.shape == right.shape, (left.shape, right.shape)
    if left.dtype.kind in "fc":
        np.testing.assert_allclose(left, right, equal_nan=True, **({"rtol": 1e-7} | kwargs))
    else:
        np.testing.assert_array_equal(left, right)


def _block_shapes(x) -> dict:
    """The shape of every computed block, by block index."""
    keys = x.expr._output_keys()
    graph = lower([x.expr.optimize()], [(x.expr.optimize().name, *k[1:]) for k in keys])
    values = get(graph, list(graph.keys()), scheduler="sync")
    out = {}
    name = x.expr.optimize().name
    for key, value in zip(graph.keys(), values):
        if type(key) is tuple and key[0] == name:
            out[key[1:]] = np.shape(value)
    return out




class _UnknownChunks(ArrayExpr):
    """``array`` with the block lengths on ``axes`` declared unknown (as after a boolean mask)."""

    _parameters = ("array", "axes")

    def _chunks(self) -> tuple:
        return tuple(
            tuple(math.nan for _ in c) if d in self.axes else c
            for d, c in enumerate(self.array.chunks)
        )

    def _dtype(self):
        return self.array.dtype

    def _task(self, key):
        return Task(key, _same_block, Ref((self.array.name, *key[1:])))


def _same_block(block):
    return block


def with_unknown_chunks(x, axes=(0,)) -> Array:
    """``x`` with its block lengths on ``axes`` unknown (``nan``), to test code paths for them.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> with_unknown_chunks(da.from_array(np.arange(4), chunks=2)).chunks
    ((nan, nan),)
    """
    return Array(_UnknownChunks(x.expr, tuple(axes)))
