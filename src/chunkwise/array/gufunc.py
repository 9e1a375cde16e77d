"""Generalized ufuncs: ``apply_gufunc``, ``gufunc``/``as_gufunc``, ``apply_along_axis``,
``apply_over_axes`` and ``sliding_window_view``.

Design. A generalized ufunc has a signature such as ``"(i,j),(j)->(i)"``: each
input has *core* dimensions (named, last in the array) and *loop* dimensions
(all before them, broadcast together as NumPy does). :func:`apply_gufunc`
lowers it to one ``blockwise`` call: loop dimensions keep their blocks (the
inputs are first rechunked to line up on them), core dimensions must each be
one block — the function sees whole core dimensions — or a ``ValueError``
names the dimension and suggests ``rechunk`` or ``allow_rechunk=True``.
Several outputs are computed by one task per block (a tuple held in an object
block) and picked apart by one cheap task per output block, so the function
runs once per block. ``axes=``/``axis=`` move core dimensions from where they
are to the end and back, as NumPy's gufunc keywords do.

:func:`sliding_window_view` is built on :mod:`chunkwise.array.overlap`: each
block borrows ``window - 1`` elements from the next one, then NumPy's
``sliding_window_view`` runs per block.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=(2, 4))
>>> apply_gufunc(lambda a: a.mean(axis=-1), "(i)->()", x).compute().tolist()
[1.5, 5.5, 9.5]
>>> lo, hi = apply_gufunc(lambda a: (a.min(-1), a.max(-1)), "(i)->(),()", x)
>>> hi.compute().tolist()
[3.0, 7.0, 11.0]
"""

from __future__ import annotations

import functools
import numbers
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes, normalize_axis
from chunkwise.array.blockwise import blockwise, map_blocks
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray
from chunkwise.array.creation import zeros
from chunkwise.array.overlap import Overlap, ensure_minimum_chunks
from chunkwise.array.reshaping import expand_dims, moveaxis

# The names joining the ``chunkwise.array`` namespace (NumPy/Dask names); the nodes and
# helpers above and below are public to sibling modules and tests, not to ``da``.
__all__ = [
    "apply_along_axis",
    "apply_gufunc",
    "apply_over_axes",
    "as_gufunc",
    "gufunc",
    "sliding_window_view",
]

_DIMS = re.compile(r"\(([^()]*)\)")


def parse_signature(signature: str) -> tuple:
    """``"(i,j),(j)->(i)"`` as ``([("i", "j"), ("j",)], [("i",)], several_outputs)``.

    >>> parse_signature("(i),(i)->(),()")
    ([('i',), ('i',)], [(), ()], True)
    """
    text = signature.replace(" ", "")
    if text.count("->") != 1:
        raise ValueError(f"apply_gufunc: signature {signature!r} is not of the form '(i),(j)->(k)'")
    left, right = text.split("->")

    def groups(part: str) -> list:
        found = _DIMS.findall(part)
        if _DIMS.sub("", part).replace(",", "") or (part and not found):
            raise ValueError(f"apply_gufunc: signature {signature!r} is not of the form '(i),(j)->(k)'")
        return [tuple(d for d in g.split(",") if d) for g in found]

    inputs, outputs = groups(left), groups(right)
    if not outputs:
        raise ValueError(f"apply_gufunc: signature {signature!r} has no output")
    return inputs, outputs, len(outputs) > 1 or right.endswith(",")


def _normalize_axes_arg(axes: Any, axis: Any, in_core: list, out_core: list, ndims: list) -> list | None:
    """One tuple of axes per input and output (where its core dimensions are), or None."""
    if axes is not None and axis is not None:
        raise ValueError("apply_gufunc: give axes= or axis=, not both")
    if axis is not None:
        if any(len(c) > 1 for c in in_core + out_core):
            raise ValueError("apply_gufunc: axis= needs at most one core dimension per argument; use axes=")
        axes = [(axis,) if c else () for c in in_core + out_core]
    if axes is None:
        return None
    axes = [(a,) if isinstance(a, numbers.Integral) else tuple(a) for a in axes]
    if len(axes) == len(in_core):
        axes = axes + [tuple(range(-len(c), 0)) for c in out_core]
    if len(axes) != len(in_core) + len(out_core):
        raise ValueError(
            f"apply_gufunc: axes= gives {len(axes)} entries for {len(in_core)} inputs and "
            f"{len(out_core)} outputs"
        )
    for a, c in zip(axes, in_core + out_core):
        if len(a) != len(c):
            raise ValueError(f"apply_gufunc: axes entry {a} does not match core dimensions {c}")
    return axes


def _core_to_end(x: Array, where: tuple) -> Array:
    if not where:
        return x
    source = normalize_axes(where, x.ndim, "apply_gufunc", "axes")
    return moveaxis(x, source, tuple(range(x.ndim - len(source), x.ndim)))


def _tuple_block(func: Callable, nout: int, nloop: int, *blocks: Any, **kwargs: Any) -> np.ndarray:
    result = func(*blocks, **kwargs)
    if not isinstance(result, tuple) or len(result) != nout:
        raise ValueError(
            f"apply_gufunc: the function returned {type(result).__name__}, but the signature "
            f"declares {nout} outputs; return a tuple of {nout} arrays"
        )
    holder = np.empty((1,) * nloop, dtype=object)
    holder[(0,) * nloop] = result
    return holder


def _pick_output(holder: np.ndarray, k: int, dtype: np.dtype) -> np.ndarray:
    return np.asarray(holder.reshape(-1)[0][k], dtype=dtype)


def _unify_loops(arrays: list, in_core: list, nloop: int) -> list:
    """Rechunk the inputs so that their loop dimensions line up (the largest input's blocks win)."""
    target: dict = {}
    for x, core in sorted(zip(arrays, in_core), key=lambda p: -p[0].nbytes):
        loops = x.ndim - len(core)
        for d in range(loops):
            k = nloop - loops + d
            if x.shape[d] != 1 and k not in target:
                target[k] = x.chunks[d]
    out = []
    for x, core in zip(arrays, in_core):
        loops = x.ndim - len(core)
        want = {d: target[nloop - loops + d] for d in range(loops)
                if x.shape[d] != 1 and x.chunks[d] != target[nloop - loops + d]}
        out.append(x.rechunk(want) if want else x)
    return out, target


def apply_gufunc(func: Callable, signature: str, *args: Any, axes: Any = None, axis: Any = None,
                 keepdims: bool = False, output_dtypes: Any = None, output_sizes: dict | None = None,
                 vectorize: bool | None = None, allow_rechunk: bool = False, meta: Any = None,
                 **kwargs: Any) -> Any:
    """Apply a generalized ufunc over the blocks of ``args``, as ``dask.array.apply_gufunc``.

    ``signature``: NumPy's gufunc signature (``"(i,j),(j)->(i)"``; several
    outputs as ``"()->(),()"``). Core dimensions must be in one block each;
    ``allow_rechunk=True`` rechunks them, otherwise a ``ValueError`` says which
    to rechunk. ``output_dtypes``: one dtype (or one per output), inferred from
    a small sample call when absent. ``output_sizes``: lengths of output core
    dimensions no input has. ``vectorize=True`` wraps ``func`` in
    ``numpy.vectorize`` (``func`` then sees one core element at a time).
    ``axes``/``axis``/``keepdims`` as for NumPy gufuncs. Extra keywords go to
    ``func``.

    >>> import numpy as np
    >>> a = asarray(np.arange(6.0).reshape(2, 3))
    >>> apply_gufunc(np.dot, "(i),(i)->()", a, a, vectorize=True).compute().tolist()
    [5.0, 50.0]
    """
    opname = f"apply_gufunc({getattr(func, '__name__', 'func')})"
    in_core, out_core, several = parse_signature(signature)
    if len(args) != len(in_core):
        raise TypeError(f"{opname}: the signature {signature!r} takes {len(in_core)} inputs, got {len(args)}")
    nout = len(out_core)
    dtypes = output_dtypes
    if dtypes is not None:
        dtypes = [np.dtype(d) for d in (dtypes if isinstance(dtypes, (list, tuple)) else [dtypes])]
        if len(dtypes) != nout:
            raise ValueError(f"{opname}: output_dtypes gives {len(dtypes)} dtypes for {nout} outputs")
    if vectorize:
        otypes = [d.char for d in dtypes] if dtypes is not None else None
        func = np.vectorize(func, signature=signature, otypes=otypes)
    arrays = [asarray(a) for a in args]
    for x, core in zip(arrays, in_core):
        if x.ndim < len(core):
            raise ValueError(
                f"{opname}: an input of shape {x.shape} has fewer dimensions than its core dimensions {core}"
            )
    norm_axes = _normalize_axes_arg(axes, axis, in_core, out_core, [a.ndim for a in arrays])
    if norm_axes is not None:
        arrays = [_core_to_end(x, a) for x, a in zip(arrays, norm_axes[:len(in_core)])]
    sizes: dict = dict(output_sizes or {})
    for pos, (x, core) in enumerate(zip(arrays, in_core)):
        first = x.ndim - len(core)
        rechunk = {}
        for d, dim in enumerate(core):
            axis_ = first + d
            length = x.shape[axis_]
            if sizes.setdefault(dim, length) != length:
                raise ValueError(
                    f"{opname}: core dimension {dim!r} has lengths {sizes[dim]} and {length} in the inputs"
                )
            if x.numblocks[axis_] > 1:
                if not allow_rechunk:
                    raise ValueError(
                        f"{opname}: core dimension {dim!r} of input {pos} (axis {axis_}) spans "
                        f"{x.numblocks[axis_]} blocks {x.chunks[axis_]}, but core dimensions must be "
                        f"one block; rechunk it (x.rechunk({{{axis_}: -1}})) or pass allow_rechunk=True"
                    )
                rechunk[axis_] = -1
        if rechunk:
            arrays[pos] = x.rechunk(rechunk)
    nloop = max(x.ndim - len(c) for x, c in zip(arrays, in_core))
    arrays, loop_chunks = _unify_loops(arrays, in_core, nloop)
    loop_syms = tuple(f"loop{k}" for k in range(nloop))
    pairs: list = []
    for x, core in zip(arrays, in_core):
        loops = x.ndim - len(core)
        pairs += [x, loop_syms[nloop - loops:] + tuple(f"core-{d}" for d in core)]
    for core in out_core:
        for dim in core:
            if dim not in sizes:
                raise ValueError(
                    f"{opname}: output core dimension {dim!r} is in no input; give its length with "
                    f"output_sizes={{{dim!r}: n}}"
                )
    new_axes = {f"core-{d}": sizes[d] for core in out_core for d in core
                if not any(d in c for c in in_core)}
    if dtypes is None:
        dtypes = _infer_dtypes(func, arrays, in_core, nout, several, kwargs, opname)
    if not several:
        outs = [blockwise(func, loop_syms + tuple(f"core-{d}" for d in out_core[0]), *pairs,
                          dtype=dtypes[0], new_axes=new_axes, concatenate=True, **kwargs)]
    else:
        adjust = dict.fromkeys(loop_syms, 1)
        holder = blockwise(_tuple_block, loop_syms, func, None, nout, None, nloop, None, *pairs,
                           dtype=object, adjust_chunks=adjust, concatenate=True, **kwargs)
        outs = []
        for k, (core, dtype) in enumerate(zip(out_core, dtypes)):
            restore = {s: loop_chunks.get(i, (1,) * holder.numblocks[i]) for i, s in enumerate(loop_syms)}
            syms = loop_syms + tuple(f"core-{d}" for d in core)
            outs.append(blockwise(_pick_output, syms, holder, loop_syms, k, None, dtype, None,
                                  dtype=dtype, adjust_chunks=restore,
                                  new_axes={f"core-{d}": sizes[d] for d in core}))
    if keepdims:
        kept = in_core[0]
        outs = [expand_dims(o, tuple(range(o.ndim, o.ndim + len(kept) - len(c)))) if len(c) < len(kept) else o
                for o, c in zip(outs, out_core)]
    if norm_axes is not None:
        placed = []
        for o, where, core in zip(outs, norm_axes[len(in_core):], out_core):
            n = len(core)
            if keepdims and n < len(in_core[0]):  # the kept dimensions go back where they were
                where, n = norm_axes[0], len(in_core[0])
            placed.append(moveaxis(o, tuple(range(o.ndim - n, o.ndim)), where) if where and n else o)
        outs = placed
    return tuple(outs) if several else outs[0]


def _infer_dtypes(func: Callable, arrays: list, in_core: list, nout: int, several: bool, kwargs: dict,
                  opname: str) -> list:
    samples = [np.ones((1,) * (x.ndim - len(c)) + tuple(int(x.shape[x.ndim - len(c) + d])
                                                        for d in range(len(c))), dtype=x.dtype)
               if all(x.shape[x.ndim - len(c) + d] <= 64 for d in range(len(c)))
               else np.ones((1,) * x.ndim, dtype=x.dtype)
               for x, c in zip(arrays, in_core)]
    try:
        with np.errstate(all="ignore"):
            result = func(*samples, **kwargs)
    except Exception as exc:
        raise ValueError(
            f"{opname}: could not infer the output dtypes from a sample call ({type(exc).__name__}: "
            f"{exc}); pass output_dtypes="
        ) from None
    results = result if several else (result,)
    return [np.asarray(r).dtype for r in results][:nout]


class gufunc:
    """``pyfunc`` made a lazy generalized ufunc with a fixed ``signature``, as ``dask.array.gufunc``.

    Calling it runs :func:`apply_gufunc` with the options given here (a call
    may override them).

    >>> import numpy as np
    >>> row_sum = gufunc(lambda a: a.sum(-1), signature="(i)->()", output_dtypes=float)
    >>> row_sum(asarray(np.ones((2, 3)))).compute().tolist()
    [3.0, 3.0]
    """

    def __init__(self, pyfunc: Callable, *, signature: str | None = None, vectorize: bool = False,
                 axes: Any = None, axis: Any = None, keepdims: bool = False, output_sizes: dict | None = None,
                 output_dtypes: Any = None, allow_rechunk: bool = False, meta: Any = None):
        if signature is None:
            raise TypeError("gufunc: signature= is required (e.g. '(i)->()')")
        parse_signature(signature)
        self.pyfunc = pyfunc
        self.signature = signature
        self.options = {"vectorize": vectorize, "axes": axes, "axis": axis, "keepdims": keepdims,
                        "output_sizes": output_sizes, "output_dtypes": output_dtypes,
                        "allow_rechunk": allow_rechunk}
        functools.update_wrapper(self, pyfunc, updated=())

    def __repr__(self) -> str:
        return f"<gufunc {getattr(self.pyfunc, '__name__', 'func')} {self.signature!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        options = {**self.options, **{k: kwargs.pop(k) for k in list(kwargs) if k in self.options}}
        return apply_gufunc(self.pyfunc, self.signature, *args, **options, **kwargs)


def as_gufunc(signature: str | None = None, **kwargs: Any) -> Callable:
    """A decorator making a function a :class:`gufunc`, as ``dask.array.as_gufunc``.

    >>> import numpy as np
    >>> @as_gufunc("(i)->(i)", output_dtypes=float)
    ... def centred(a):
    ...     return a - a.mean(-1, keepdims=True)
    >>> centred(asarray(np.arange(3.0))).compute().tolist()
    [-1.0, 0.0, 1.0]
    """
    def decorator(pyfunc: Callable) -> gufunc:
        return gufunc(pyfunc, signature=signature, **kwargs)

    return decorator


# --- apply_along_axis, apply_over_axes ---------------------------------------------------------


def _along_block(block: np.ndarray, func1d: Callable, axis: int, shape: tuple, out_dtype: np.dtype,
                 args: tuple, kwargs: dict) -> np.ndarray:
    if any(n == 0 for d, n in enumerate(block.shape) if d != axis):  # no lane: func1d never runs
        out_shape = block.shape[:axis] + shape + block.shape[axis + 1:]
        return np.empty(out_shape, dtype=out_dtype)
    return np.apply_along_axis(func1d, axis, block, *args, **kwargs).astype(out_dtype, copy=False)


def apply_along_axis(func1d: Callable, axis: int, arr: Any, *args: Any, dtype: Any = None,
                     shape: tuple | None = None, **kwargs: Any) -> Array:
    """``func1d`` on every 1-d slice along ``axis``, as ``numpy.apply_along_axis``.

    ``axis`` is first rechunked into one block. ``dtype`` and ``shape`` (of
    ``func1d``'s result) are found by calling ``func1d`` on ones when absent.
    As NumPy, an iteration axis (any other axis) of length 0 is refused:
    ``func1d`` would never run, so its result's shape is unknown.

    >>> import numpy as np
    >>> x = asarray(np.arange(6).reshape(2, 3))
    >>> apply_along_axis(lambda v: v[::-1], 1, x).compute().tolist()
    [[2, 1, 0], [5, 4, 3]]
    """
    x = asarray(arr)
    axis = normalize_axis(axis, x.ndim, "apply_along_axis")
    check_known_chunks("apply_along_axis", x, axes=(axis,), what=f"axis {axis}",
                       detail=", and the axis is rechunked into one block")
    empty = [d for d in range(x.ndim) if d != axis and x.shape[d] == 0]
    if empty:
        raise ValueError(
            f"apply_along_axis: cannot apply along axis {axis} of the array of shape {x.shape} when any "
            f"iteration dimensions are 0 (axis {empty[0]}), as NumPy refuses: func1d would never run, so its "
            "result's shape is unknown; skip the call when the array is empty (x.size == 0)"
        )
    if shape is None or dtype is None:
        sample = np.asarray(func1d(np.ones(int(x.shape[axis]), dtype=x.dtype), *args, **kwargs))
        shape = sample.shape if shape is None else tuple(shape)
        dtype = sample.dtype if dtype is None else dtype
    shape, dtype = tuple(shape), np.dtype(dtype)
    x = x.rechunk({axis: -1})
    chunks = x.chunks[:axis] + tuple((s,) for s in shape) + x.chunks[axis + 1:]
    return map_blocks(_along_block, x, dtype=dtype, chunks=chunks, drop_axis=axis,
                      new_axis=list(range(axis, axis + len(shape))), func1d=func1d, axis=axis,
                      shape=shape, out_dtype=dtype, args=args, kwargs=kwargs)


def apply_over_axes(func: Callable, a: Any, axes: Any) -> Array:
    """``func(a, axis)`` applied for each axis in turn, keeping dimensions, as ``numpy.apply_over_axes``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = asarray(np.arange(24).reshape(2, 3, 4)).rechunk(2)
    >>> apply_over_axes(da.sum, x, [0, 2]).compute().tolist()
    [[[60], [92], [124]]]
    """
    val = asarray(a)
    for axis in [axes] if isinstance(axes, numbers.Integral) else axes:
        axis = normalize_axis(axis, val.ndim, "apply_over_axes")
        res = asarray(func(val, axis))
        if res.ndim == val.ndim:
            val = res
        elif res.ndim == val.ndim - 1:
            val = expand_dims(res, axis)
        else:
            raise ValueError(
                f"apply_over_axes: the function returned {res.ndim} dimensions for an input of "
                f"{val.ndim}; it must keep the axis or drop it"
            )
    return val


# --- sliding windows -------------------------------------------------------------------------


def _window_block(block: np.ndarray, window: tuple, axes: tuple, out_shape_fn: Any = None) -> np.ndarray:
    shape = list(block.shape)
    for a, w in zip(axes, window):  # an axis may repeat: its windows' reaches add up
        shape[a] -= w - 1
    if any(s < 1 for s in shape):  # a block too short for one window
        return np.empty(tuple(max(s, 0) for s in shape) + tuple(window), dtype=block.dtype)
    return np.lib.stride_tricks.sliding_window_view(block, window, axis=axes)


def sliding_window_view(x: Any, window_shape: Any, axis: Any = None, *, subok: bool = False,
                        writeable: bool = False, automatic_rechunk: bool = True) -> Array:
    """Every window of ``window_shape`` as new last axes, as ``numpy.lib.stride_tricks.sliding_window_view``.

    Built on :func:`chunkwise.array.overlap.overlap`: each block borrows the
    first ``window - 1`` elements of the next block. The windows are copies
    in the result's blocks (NumPy's are views; arrays here are read-only anyway).
    ``automatic_rechunk`` (Dask's keyword, which xarray's ``rolling`` passes) is
    accepted; blocks are merged only where one is shorter than its window's reach.

    >>> import numpy as np
    >>> v = sliding_window_view(asarray(np.arange(5)).rechunk(3), 3)
    >>> v.compute().tolist()
    [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    """
    a = asarray(x)
    window = (window_shape,) if isinstance(window_shape, numbers.Integral) else tuple(window_shape)
    if axis is None:
        if len(window) != a.ndim:
            raise ValueError(
                f"sliding_window_view: window_shape {window} needs one entry per axis of an array of "
                f"{a.ndim} dimensions when axis is None"
            )
        axes = tuple(range(a.ndim))
    else:  # an axis may repeat, as in NumPy: windows of windows along it
        axes = tuple(normalize_axis(ax, a.ndim, "sliding_window_view")
                     for ax in ((axis,) if isinstance(axis, numbers.Integral) else axis))
        if len(axes) != len(window):
            raise ValueError(
                f"sliding_window_view: window_shape {window} and axis {axis} must have the same length"
            )
    if any(w < 0 for w in window):
        raise ValueError("sliding_window_view: window_shape cannot contain negative values")
    reach = [0] * a.ndim  # elements each window start needs after it, per axis
    for ax, w in zip(axes, window):
        reach[ax] += w - 1
    for ax in set(axes):
        if a.shape[ax] < reach[ax] + 1:
            raise ValueError(
                f"sliding_window_view: window shape {window} is larger than axis {ax} (length {a.shape[ax]})"
            )
    if 0 in window:  # an empty window: the result holds no element, only its shape matters
        return zeros(tuple(n - r for n, r in zip(a.shape, reach)) + window, dtype=a.dtype)
    depth = tuple((0, r) for r in reach)
    rules = ("none",) * a.ndim
    expr = ensure_minimum_chunks(a.expr, depth, rules, "sliding_window_view")
    extended = Array(Overlap(expr, depth, rules)) if any(reach) else Array(expr)
    chunks = [c[:-1] + (c[-1] - r,) if r else c for c, r in zip(expr.chunks, reach)]
    chunks += [(w,) for w in window]
    return map_blocks(_window_block, extended, dtype=a.dtype, chunks=tuple(chunks),
                      new_axis=list(range(a.ndim, a.ndim + len(window))), window=window, axes=axes)
