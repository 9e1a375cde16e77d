"""``pad``: every mode of ``numpy.pad`` on chunked arrays.

The geometric modes (``constant``, ``edge``, ``reflect``, ``symmetric``,
``wrap``) reuse the pieces-of-blocks machinery of
``chunkwise.array.manipulation``: each output block is a slice of one input
block, or a constant block. The computed modes (``mean``, ``median``,
``minimum``, ``maximum``, ``linear_ramp``) build each side's padding from a
lazy reduction of the edge region (``stat_length`` wide) and concatenate it to
the array, axis by axis, as NumPy does.

>>> import numpy as np
>>> import chunkwise.array as da
>>> da.pad(da.from_array(np.arange(5), chunks=2), 2, mode="edge").compute().tolist()
[0, 0, 0, 1, 2, 3, 4, 4, 4]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chunkwise.array.blockwise import map_blocks
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.elementwise import round as round_
from chunkwise.array.manipulation import concatenate, pieces_array
from chunkwise.array.reductions import max as max_
from chunkwise.array.reductions import mean
from chunkwise.array.reductions import min as min_

__all__ = ["pad"]


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
_STAT_MODES = ("maximum", "mean", "median", "minimum")
_ALL_PAD_MODES = _PAD_MODES + _STAT_MODES + ("linear_ramp",)


@implements(np.pad)
def pad(array: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Array:
    """Pad with a constant, copies of the edges, statistics or ramps, as ``numpy.pad``.

    Modes: ``"constant"`` (``constant_values``), ``"edge"``, ``"reflect"``,
    ``"symmetric"``, ``"wrap"``, ``"mean"``, ``"median"``, ``"minimum"``,
    ``"maximum"`` (``stat_length``), ``"linear_ramp"`` (``end_values``).
    Padded blocks are new blocks at the ends of each axis; the input blocks
    are unchanged. The statistics are lazy reductions over the edge region
    (axes padded one after the other, as NumPy does, so corners see the
    padding of earlier axes); ``"median"`` reads the whole edge region of an
    axis (``stat_length`` long, the axis by default) into one block per block
    of the other axes. Callable modes and ``"empty"`` are not supported.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(4), chunks=2)
    >>> da.pad(x, (1, 2), mode="reflect").compute().tolist()
    [1, 0, 1, 2, 3, 2, 1]
    >>> da.pad(x, 1, constant_values=9).chunks
    ((1, 2, 2, 1),)
    >>> da.pad(x, 2, mode="linear_ramp", end_values=(5, 9)).compute().tolist()
    [5, 2, 0, 1, 2, 3, 6, 9]
    >>> da.pad(x, (1, 1), mode="mean", stat_length=2).compute().tolist()
    [0, 0, 1, 2, 3, 2]
    """
    x = asarray(array)
    if callable(mode) or mode not in _ALL_PAD_MODES:
        if mode == "empty" or callable(mode):
            raise NotImplementedError(
                f"pad: mode={mode!r} is not supported on chunkwise arrays; use one of {_ALL_PAD_MODES}"
            )
        raise ValueError(f"pad: mode {mode!r} is not supported; use one of {_ALL_PAD_MODES}")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}, "linear_ramp": {"end_values"}}.get(mode, set())
    if mode in _STAT_MODES:
        allowed = {"stat_length"}
    unexpected = set(kwargs) - allowed
    if unexpected:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {sorted(unexpected)}")
    if kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError("pad: only reflect_type='even' is supported")
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit an array of {x.ndim} dimensions; give an int, "
            "(before, after) or one (before, after) per axis"
        ) from None
    if widths.size and not np.issubdtype(widths.dtype, np.integer):
        raise TypeError(f"pad: pad_width must be of integral type, got {pad_width!r}")
    widths = [(int(b), int(e)) for b, e in widths]
    if any(b < 0 or e < 0 for b, e in widths):
        raise ValueError(f"pad: index can't contain negative values (pad_width {pad_width!r})")
    padded_axes = tuple(d for d, w in enumerate(widths) if any(w))
    if not padded_axes:
        return x
    check_known_chunks("pad", x.expr, axes=padded_axes, what=f"the array (shape {x.expr.shape})")
    fill = None
    if mode == "constant":
        values = np.broadcast_to(np.asarray(kwargs.get("constant_values", 0), dtype=object), (x.ndim, 2))
        fill = tuple((_scalar(b), _scalar(e)) for b, e in values)
        np.full((), fill[padded_axes[0]][0], dtype=x.dtype)  # fail now on a bad constant
    else:
        for d in padded_axes:
            if x.shape[d] == 0:
                raise ValueError(
                    f"pad: can't extend empty axis {d} (shape {x.shape}) using modes other than "
                    "'constant' or 'empty'"
                )
    if mode in _STAT_MODES or mode == "linear_ramp":
        return _pad_computed(x, widths, padded_axes, mode, kwargs)
    specs = [("pad", b, e, mode) if (b or e) else None for b, e in widths]
    return pieces_array(x, specs, "pad", fill)


def _pad_pairs(value: Any, ndim: int, name: str, as_index: bool) -> list:
    """``value`` as one (before, after) pair per axis, as ``numpy.pad`` reads its keywords."""
    if value is None:
        return [(None, None)] * ndim
    arr = np.asarray(value)
    if as_index:
        arr = np.round(arr).astype(np.intp)
        if arr.size and arr.min() < 0:
            raise ValueError(f"pad: index can't contain negative values ({name}={value!r})")
    try:
        pairs = np.broadcast_to(arr, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: {name}={value!r} does not fit an array of {ndim} dimensions; give a scalar, "
            "(before, after) or one (before, after) per axis"
        ) from None
    return [(_scalar(b), _scalar(e)) for b, e in pairs]


def _pad_computed(x: Array, widths: list, axes: tuple, mode: str, kwargs: dict) -> Array:
    """Pad ``x`` axis by axis with pieces computed from its edges (statistics or ramps)."""
    if mode == "linear_ramp":
        pairs = _pad_pairs(kwargs.get("end_values", 0), x.ndim, "end_values", False)
    else:
        pairs = _pad_pairs(kwargs.get("stat_length"), x.ndim, "stat_length", True)
    for d in axes:
        pieces = []
        for side, width in enumerate(widths[d]):
            if not width:
                continue
            if mode == "linear_ramp":
                piece = _ramp_piece(x, d, side, width, pairs[d][side])
            else:
                piece = _stat_piece(x, d, side, width, pairs[d][side], mode)
            pieces.append(piece)
            if side == 0:
                pieces.append(x)
        if not widths[d][0]:
            pieces.insert(0, x)
        x = concatenate(pieces, axis=d)
    return x


def _edge_region(x: Array, axis: int, side: int, length: int) -> Array:
    n = x.shape[axis]
    region = slice(0, length) if side == 0 else slice(n - length, n)
    return x[(slice(None),) * axis + (region,)]


def _stat_piece(x: Array, axis: int, side: int, width: int, length: Any, mode: str) -> Array:
    n = x.shape[axis]
    length = n if length is None else min(int(length), n)
    if length == 0:
        raise ValueError(f"pad: stat_length of 0 yields no value for padding (mode {mode!r}, axis {axis})")
    region = _edge_region(x, axis, side, length)
    if mode == "median":
        whole = region.rechunk({axis: -1})
        chunks = tuple((1,) if d == axis else c for d, c in enumerate(whole.chunks))
        stat = map_blocks(_median_keepdims, whole, chunks=chunks, axis=axis,
                          dtype=np.median(np.ones(1, dtype=x.dtype)).dtype)
    else:
        reduce = {"mean": mean, "minimum": min_, "maximum": max_}[mode]
        stat = reduce(region, axis=axis, keepdims=True)
    if np.issubdtype(x.dtype, np.integer) and stat.dtype.kind in "fc":
        stat = round_(stat)
    if stat.dtype != x.dtype:
        stat = stat.astype(x.dtype)
    return _stretch(stat, axis, width, x)


def _median_keepdims(block: np.ndarray, axis: int) -> np.ndarray:
    return np.median(block, axis=axis, keepdims=True)


def _stretch(piece: Array, axis: int, width: int, like: Array) -> Array:
    """``piece`` (length 1 on ``axis``) repeated to ``width``, in blocks no longer than ``like``'s."""
    largest = max(max(like.chunks[axis]), 1)
    parts = []
    for n, count in ((largest, width // largest), (width % largest, 1)):
        if n and count:
            chunks = tuple((n,) if d == axis else c for d, c in enumerate(piece.chunks))
            block = map_blocks(np.repeat, piece, n, axis=axis, chunks=chunks, dtype=piece.dtype)
            parts.extend([block] * count)
    return parts[0] if len(parts) == 1 else concatenate(parts, axis=axis)


def _ramp_piece(x: Array, axis: int, side: int, width: int, end: Any) -> Array:
    edge = _edge_region(x, axis, side, 1)
    chunks = tuple((width,) if d == axis else c for d, c in enumerate(edge.chunks))
    return map_blocks(_linear_ramp, edge, chunks=chunks, dtype=x.dtype, end=end, width=width,
                      axis=axis, reverse=bool(side))


def _linear_ramp(edge: np.ndarray, end: Any, width: int, axis: int, reverse: bool) -> np.ndarray:
    """NumPy's ramp for ``pad(mode="linear_ramp")``: from ``end`` towards the edge value."""
    ramp = np.linspace(end, edge.squeeze(axis), num=width, endpoint=False, dtype=edge.dtype, axis=axis)
    if reverse:
        ramp = np.flip(ramp, axis=axis)
    return ramp


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
