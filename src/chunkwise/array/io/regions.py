"""Regions of a write target: where each block of a source lands.

A region is a tuple of slices of the target (as ``store(regions=...)`` and
``to_zarr(region=...)`` take it). :func:`normalize_region` turns it into one
``(start, step)`` per axis and the region's shape, checked against the
target's shape; :func:`block_slices` gives the slices of the target that one
block covers, from the block boundaries of the source; :func:`describe_slices`
writes slices as ``[0:2, 3:6]`` for error messages.

>>> region, shape = normalize_region((slice(2, 12),), (12,), 1, "store")
>>> region, shape
(((2, 1),), (10,))
>>> block_slices(region, ((0, 4, 8, 10),), (1,))
(slice(6, 10, None),)
>>> describe_slices((slice(6, 10), slice(None, None, 2)))
'[6:10, ::2]'
"""

from __future__ import annotations

from typing import Any

__all__ = ["block_slices", "describe_slices", "normalize_region"]


def normalize_region(region: Any, target_shape: tuple | None, ndim: int, opname: str) -> tuple:
    """``((start, step), ...)`` per axis and the region's shape (``None`` if unknown)."""
    if region is None:
        return ((0, 1),) * ndim, target_shape
    if isinstance(region, slice):
        region = (region,)
    if not isinstance(region, tuple) or not all(isinstance(s, slice) for s in region):
        raise TypeError(f"{opname}: a region is a tuple of slices, got {region!r}")
    if target_shape is None:
        raise TypeError(f"{opname}: regions need a target with a .shape; this one has none")
    if len(region) > len(target_shape):
        raise ValueError(
            f"{opname}: region {region!r} has {len(region)} slices but the target has only "
            f"{len(target_shape)} axes (shape {target_shape})"
        )
    region = region + (slice(None),) * (len(target_shape) - len(region))
    starts, shape = [], []
    for sl, length in zip(region, target_shape):
        r = range(*sl.indices(length))
        starts.append((r.start, r.step))
        shape.append(len(r))
    return tuple(starts), tuple(shape)


def block_slices(region: tuple, boundaries: tuple, index: tuple) -> tuple:
    """The slices of the target that block ``index`` covers."""
    out = []
    for (start, step), bounds, i in zip(region, boundaries, index):
        lo, hi = bounds[i], bounds[i + 1]
        if lo == hi:
            out.append(slice(0, 0))
        elif step == 1:
            out.append(slice(start + lo, start + hi))
        else:
            stop = start + hi * step
            out.append(slice(start + lo * step, None if stop < 0 else stop, step))
    return tuple(out)


def describe_slices(slices: tuple) -> str:
    def one(s: slice) -> str:
        text = f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}"
        return text + (f":{s.step}" if s.step not in (None, 1) else "")

    return "[" + ", ".join(one(s) for s in slices) + "]"

