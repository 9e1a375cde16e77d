"""``gradient``: NumPy's central differences on chunked arrays.

``numpy.gradient`` reads one neighbour on each side of a point (second-order
central differences, also for uneven spacing) and, at the two ends of an axis,
``edge_order + 1`` points of the axis itself. So each block along the
differenced axis is extended by one element from each neighbour
(:func:`chunkwise.array.overlap.map_overlap` with ``boundary="none"``: nothing is
added at the ends of the axis), ``numpy.gradient`` runs on the extended block
with the matching slice of the coordinates, and the margin is trimmed. Interior
points then see exactly the neighbours NumPy sees, and the end points are
computed from the same ``edge_order + 1`` points, so the values equal NumPy's
up to rounding.

Blocks shorter than ``edge_order + 1`` are merged with their neighbours first
(only along the differenced axis), so an end block always holds the points its
one-sided formula needs. xarray's ``differentiate`` reaches this through the
array namespace (``x.__array_namespace__().gradient``).

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0]), chunks=4)
>>> da.gradient(x).compute().tolist()
[1.0, 1.5, 2.5, 3.5, 4.5, 5.0]
"""

from __future__ import annotations

import numbers
from itertools import accumulate
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axis
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.overlap import map_overlap

__all__ = ["gradient"]


def _spacings(varargs: tuple, axes: tuple, shape: tuple) -> list:
    """One spacing per differenced axis, as NumPy reads ``*varargs``: a scalar or 1-d coordinates."""
    if not varargs:
        return [1.0] * len(axes)
    # coordinates are 1-d and small: each block slices them, so lazy ones are computed here
    varargs = tuple(v.compute() if isinstance(v, Array) else v for v in varargs)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return [varargs[0]] * len(axes)
    if len(varargs) != len(axes):
        raise TypeError(f"gradient: give one spacing for all axes or one per axis ({len(axes)}), "
                        f"got {len(varargs)}")
    out = []
    for spacing, axis in zip(varargs, axes):
        if np.ndim(spacing) == 0:
            out.append(spacing)
            continue
        coords = np.asarray(spacing)
        if coords.ndim != 1:
            raise ValueError("gradient: distances must be scalars or 1-d coordinate arrays")
        if len(coords) != shape[axis]:
            raise ValueError(f"gradient: the coordinates of axis {axis} have length {len(coords)}; "
                             f"the axis has {shape[axis]} points")
        out.append(coords)
    return out


def _merged_chunks(chunks: tuple, least: int) -> tuple:
    """``chunks`` with every block shorter than ``least`` merged into a neighbour."""
    if all(c >= least for c in chunks) or len(chunks) == 1:
        return chunks
    merged: list[int] = []
    for c in chunks:
        if merged and merged[-1] < least:
            merged[-1] += c
        else:
            merged.append(c)
    if len(merged) > 1 and merged[-1] < least:
        last = merged.pop()
        merged[-1] += last
    return tuple(merged)


class _BlockGradient:
    """``numpy.gradient`` of one block extended by one element from each neighbour along ``axis``."""

    def __init__(self, axis: int, chunks: tuple, spacing: Any, edge_order: int):
        self.axis, self.spacing, self.edge_order = axis, spacing, edge_order
        self.starts = (0, *accumulate(chunks))

    def __call__(self, block: np.ndarray, block_id: tuple = ()) -> np.ndarray:
        i = block_id[self.axis]
        last = len(self.starts) - 2
        spacing = self.spacing
        if np.ndim(spacing):
            lo = self.starts[i] - (1 if i > 0 else 0)
            hi = self.starts[i + 1] + (1 if i < last else 0)
            spacing = spacing[lo:hi]
        return np.gradient(block, spacing, axis=self.axis, edge_order=self.edge_order)


@implements(np.gradient)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """The gradient of ``f`` by central differences, as ``numpy.gradient``.

    ``varargs``: the spacing, as in NumPy (nothing for 1, one scalar for all
    axes, or one scalar or 1-d coordinate array per axis). Returns one array
    for one axis, else a tuple with one array per axis.

    >>> import numpy as np
    >>> x = asarray(np.arange(12.0).reshape(3, 4) ** 2, chunks=(2, 3))
    >>> [g.compute()[1].tolist() for g in gradient(x)]
    [[32.0, 40.0, 48.0, 56.0], [9.0, 10.0, 12.0, 13.0]]
    """
    x = asarray(f)
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    if axis is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axis, numbers.Integral):
        axes = (normalize_axis(axis, x.ndim, "gradient"),)
    else:
        axes = tuple(normalize_axis(a, x.ndim, "gradient") for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"gradient: repeated axis in {axis!r}")
    check_known_chunks("gradient", x, axes=axes)
    for a in axes:
        if x.shape[a] < edge_order + 1:
            raise ValueError(f"gradient: axis {a} has {x.shape[a]} points; edge_order={edge_order} "
                             f"needs at least {edge_order + 1}")
    dtype = np.gradient(np.zeros(edge_order + 1, dtype=x.dtype), edge_order=edge_order).dtype
    results = []
    for a, spacing in zip(axes, _spacings(varargs, axes, x.shape)):
        chunks = _merged_chunks(x.chunks[a], edge_order + 1)
        xa = x if chunks == x.chunks[a] else x.rechunk({a: chunks})
        kernel = _BlockGradient(a, chunks, spacing, edge_order)
        results.append(map_overlap(kernel, xa, depth={a: 1}, boundary="none", dtype=dtype,
                                   allow_rechunk=False))
    return results[0] if len(results) == 1 else tuple(results)
