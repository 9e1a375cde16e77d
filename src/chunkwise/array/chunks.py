"""Chunk specifications: normalization, and the small arithmetic on chunk tuples.

``chunks`` are a tuple with one tuple of block lengths per axis, e.g.
``((2, 2, 1), (3, 3))`` for a 5 x 6 array. An unknown length is ``nan``
(after a boolean mask, for instance).

:func:`normalize_chunks` turns every spec users write into that form: an int
(the same block length on every axis), a tuple per axis, a tuple of tuples, a
dict ``{axis: spec}``, ``-1`` or ``None`` (the whole axis), ``"auto"`` (blocks
near ``chunkwise.config.get("array.chunk_size")``, 128 MiB by default) and byte
strings like ``"64 MiB"``. Errors name the axis and the spec.

>>> normalize_chunks(2, (5, 3))
((2, 2, 1), (2, 1))
>>> normalize_chunks({0: -1, 1: 2}, (5, 3))
((5,), (2, 1))
>>> normalize_chunks("8 B", (4,), dtype="float64")
((1, 1, 1, 1),)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from chunkwise import config
from chunkwise.array.utils import is_nan
from chunkwise.sizes import parse_bytes

__all__ = [
    "blockdims_from_blockshape",
    "check_known_chunks",
    "chunk_boundaries",
    "has_unknown",
    "normalize_chunks",
    "same_axis_chunks",
    "same_chunks",
]

def has_unknown(chunks: tuple) -> bool:
    """Whether any block length is unknown (``nan``)."""
    return any(math.isnan(c) for axis in chunks for c in axis)


def same_axis_chunks(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two block-length tuples of one axis are equal, ``nan`` matching ``nan``."""
    if a == b:
        return True
    return len(a) == len(b) and all(
        x == y or (is_nan(x) and is_nan(y)) for x, y in zip(a, b)
    )


def same_chunks(a: tuple, b: tuple) -> bool:
    """Whether two arrays' ``chunks`` (every axis) are equal, ``nan`` matching ``nan``."""
    return len(a) == len(b) and all(same_axis_chunks(x, y) for x, y in zip(a, b))


def check_known_chunks(
    op: str,
    *arrays: Any,
    axes: Sequence[int] | None = None,
    what: str = "the array",
    detail: str = "",
    plural: bool = False,
) -> None:
    """Raise the one "unknown chunk sizes" ``ValueError`` if a block length is ``nan``.

    ``arrays`` are arrays or expressions (anything with ``chunks``) or ``chunks``
    tuples; only ``axes`` are checked when given. The message names ``op`` (the
    user's operation), ``what`` has unknown sizes (``plural``: ``what`` names
    several arrays), an optional ``detail``, and the fix: ``compute_chunk_sizes()``.

    >>> check_known_chunks("rechunk", ((2, 2),))
    >>> check_known_chunks("rechunk", ((float("nan"),),))
    Traceback (most recent call last):
    ...
    ValueError: rechunk: the array has unknown chunk sizes (nan), e.g. after boolean indexing; call x.compute_chunk_sizes() first
    """
    for a in arrays:
        chunks = getattr(a, "chunks", a)
        if axes is not None:
            chunks = tuple(chunks[d] for d in axes)
        if has_unknown(chunks):
            verb, fix = ("have", "compute_chunk_sizes() on each of them") if plural else ("has", "x.compute_chunk_sizes()")
            raise ValueError(
                f"{op}: {what} {verb} unknown chunk sizes (nan), e.g. after boolean indexing{detail}; "
                f"call {fix} first"
            )


def blockdims_from_blockshape(shape: Sequence[int], blockshape: Sequence[int]) -> tuple:
    """Regular blocks of ``blockshape`` covering ``shape`` (the last block may be short)."""
    out = []
    for size, block in zip(shape, blockshape):
        if size == 0:
            out.append((0,))
        elif block <= 0:
            raise ValueError(f"block length must be positive, got {block}")
        else:
            full, rest = divmod(size, block)
            out.append((block,) * full + ((rest,) if rest else ()))
    return tuple(out)


def chunk_boundaries(axis_chunks: Sequence[float]) -> tuple:
    """Start offsets of the blocks along one axis, plus the end: ``(2, 2, 1)`` -> ``(0, 2, 4, 5)``."""
    return (0, *accumulate(axis_chunks))


def _auto_axis_lengths(shape, dtype, auto_axes, fixed, limit):
    """Block lengths for the ``auto`` axes so a block holds about ``limit`` bytes."""
    itemsize = np.dtype(dtype).itemsize if dtype is not None else 8
    fixed_bytes = itemsize
    for length in fixed.values():
        fixed_bytes *= max(length, 1)
    budget = max(limit / fixed_bytes, 1)
    # Spread the budget evenly: each auto axis gets budget ** (1/n), capped by the axis size.
    lengths = {}
    axes = sorted(auto_axes, key=lambda a: shape[a])
    remaining = list(axes)
    while remaining:
        per_axis = budget ** (1 / len(remaining))
        axis = remaining.pop(0)
        length = max(1, min(shape[axis], int(per_axis)))
        lengths[axis] = length
        budget = max(budget / length, 1)
    return lengths


def _refuse_bools(spec: Any, whole: Any) -> None:
    """A bool anywhere in a chunk spec is a mistake (``True`` would be read as 1)."""
    if isinstance(spec, (bool, np.bool_)):
        raise TypeError(
            f"chunks={whole!r}: {spec!r} is not a chunk length (a bool would be read as "
            f"{int(spec)}); give an int, a tuple of ints per axis, 'auto', or -1 for a whole axis"
        )
    if isinstance(spec, (tuple, list)):
        for item in spec:
            _refuse_bools(item, whole)
    elif isinstance(spec, dict):
        for item in spec.values():
            _refuse_bools(item, whole)


def normalize_chunks(
    chunks: Any,
    shape: Sequence[int],
    dtype: Any = None,
    limit: int | str | None = None,
    previous_chunks: tuple | None = None,
) -> tuple:
    """Normalize a chunk spec for an array of ``shape``; see the module docstring."""
    _refuse_bools(chunks, chunks)
    shape = tuple(shape)
    ndim = len(shape)
    for axis, size in enumerate(shape):
        if not (isinstance(size, (int, np.integer)) or is_nan(size)):
            raise TypeError(f"array shape must hold ints, got {shape!r} (axis {axis})")
    # Already normalized (tuple of tuples)?
    if isinstance(chunks, tuple) and len(chunks) == ndim and all(isinstance(c, tuple) for c in chunks):
        for axis, (c, size) in enumerate(zip(chunks, shape)):
            if not c:
                raise ValueError(f"chunks for axis {axis} are empty; use (0,) for an empty axis")
            total = sum(c)
            if not (math.isnan(total) or math.isnan(size)) and total != size:
                raise ValueError(
                    f"chunks {c!r} for axis {axis} add up to {total}, but the axis has length {size}"
                )
            if any(not math.isnan(x) and x < 0 for x in c):
                raise ValueError(f"chunks for axis {axis} hold a negative length: {c!r}")
        return tuple(tuple(int(x) if not math.isnan(x) else math.nan for x in c) for c in chunks)
    if isinstance(chunks, list):
        chunks = tuple(chunks)
    if isinstance(chunks, dict):
        bad = [a for a in chunks if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim]
        if bad:
            raise ValueError(f"chunks dict names axis {bad[0]!r}, but the array has {ndim} axes")
        spec = {a % ndim: v for a, v in chunks.items()}
        chunks = tuple(
            spec.get(a, previous_chunks[a] if previous_chunks is not None else -1) for a in range(ndim)
        )
    if chunks is None or isinstance(chunks, (int, np.integer, str)):
        chunks = (chunks,) * ndim
    if not isinstance(chunks, tuple):
        raise TypeError(
            f"chunks must be an int, a tuple, a dict, 'auto', a byte string or a tuple of tuples; "
            f"got {type(chunks).__name__}"
        )
    if len(chunks) != ndim:
        raise ValueError(
            f"chunks {chunks!r} has {len(chunks)} entries but the array has {ndim} axes (shape {shape})"
        )
    limit_bytes = parse_bytes(limit if limit is not None else config.get("array.chunk_size"))
    fixed: dict[int, int] = {}
    auto_axes = []
    out: list = [None] * ndim
    for axis, (spec, size) in enumerate(zip(chunks, shape)):
        if isinstance(spec, str):
            if spec == "auto":
                auto_axes.append(axis)
                continue
            try:
                limit_bytes = parse_bytes(spec)
            except ValueError:
                raise ValueError(
                    f"chunks for axis {axis}: {spec!r} is neither 'auto' nor a size like '64 MiB'"
                ) from None
            auto_axes.append(axis)
            continue
        if spec is None or (isinstance(spec, (int, np.integer)) and spec == -1):
            out[axis] = (size,) if size else (0,)
            fixed[axis] = size
        elif isinstance(spec, (int, np.integer)):
            if spec <= 0:
                raise ValueError(
                    f"chunks for axis {axis} must be positive (or -1 for the whole axis), got {spec}"
                )
            out[axis] = blockdims_from_blockshape((size,), (int(spec),))[0]
            fixed[axis] = min(int(spec), size)
        elif isinstance(spec, (tuple, list)):
            spec = tuple(spec)
            total = sum(spec)
            if not (math.isnan(total) or math.isnan(size)) and total != size:
                raise ValueError(
                    f"chunks {spec!r} for axis {axis} add up to {total}, but the axis has length {size}"
                )
            if any(not math.isnan(x) and x < 0 for x in spec):
                raise ValueError(f"chunks for axis {axis} hold a negative length: {spec!r}")
            out[axis] = tuple(int(x) if not math.isnan(x) else math.nan for x in spec) or (0,)
            fixed[axis] = max(spec) if spec else 0
        else:
            raise TypeError(f"chunks for axis {axis}: cannot read {spec!r}")
    if auto_axes:
        if any(math.isnan(shape[a]) for a in auto_axes):
            raise ValueError("'auto' chunks need a known axis length; give the chunks explicitly")
        lengths = _auto_axis_lengths(shape, dtype, auto_axes, fixed, limit_bytes)
        for axis in auto_axes:
            out[axis] = blockdims_from_blockshape((shape[axis],), (lengths[axis],))[0]
    return tuple(out)
