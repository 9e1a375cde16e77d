"""``map_blocks``, ``blockwise`` (index notation) and the fusion of elementwise chains.

- :func:`map_blocks` applies a function to every block (Dask's semantics:
  ``chunks``, ``drop_axis``, ``new_axis``, ``block_info``/``block_id``, dtype
  inferred from a zero-size sample). A block that comes back with a shape other
  than the declared chunks raises an error naming the block and both shapes.
- :func:`blockwise` is the general form in index notation, as
  ``dask.array.blockwise``: indices absent from ``out_ind`` are contracted (the
  function gets a list of the blocks along them, or them concatenated).
- :func:`fuse_blockwise` rewrites a plan so that each group of elementwise
  (:class:`~chunkwise.array.expr.Blockwise`) nodes whose results are only used
  inside the group becomes one :class:`FusedBlockwise` node: one task per block
  running the whole group inline, each shared sub-result computed once. Graph
  level fusion only fuses linear chains; this handles diamonds like
  ``sin(x) + cos(x)``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(6.0), chunks=4)
>>> map_blocks(lambda b: b * 2, x).compute().tolist()
[0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
>>> y = da.from_array(np.ones((2, 3)), chunks=(1, 2))
>>> blockwise(np.add, "ij", y, "ij", 1, None).compute().tolist()
[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings
from collections.abc import Callable, Hashable
from itertools import accumulate
from typing import Any

import numpy as np

from chunkwise.array.chunks import has_unknown
from chunkwise.array.core import Array, _nbytes, asarray
from chunkwise.array.expr import (
    ArrayExpr,
    Blockwise,
    _format_bytes,
    _same_chunks,
    one_to_one_inputs,
    unknown_chunks_origin,
)
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Ref, Task

__all__ = ["blockwise", "map_blocks"]


# --- the node -------------------------------------------------------------------------------


class _Call:
    """What one ``IndexBlockwise`` task needs besides its input blocks (a literal, not parsed)."""

    __slots__ = ("func", "kwargs", "expected", "index", "funcname", "ndim", "enforce_ndim", "dtype")

    def __init__(self, func, kwargs, expected, index, funcname, ndim, enforce_ndim, dtype=None):
        self.func = func
        self.kwargs = kwargs
        self.expected = expected
        self.index = index
        self.funcname = funcname
        self.ndim = ndim
        self.enforce_ndim = enforce_ndim
        self.dtype = dtype

    def __reduce__(self):
        return (_Call, (self.func, self.kwargs, self.expected, self.index, self.funcname,
                        self.ndim, self.enforce_ndim, self.dtype))


def _check_block_kind(call: _Call, result: Any) -> None:
    """Refuse a block that is no array (a scalar, a list), has the wrong ndim or dtype."""
    if call.dtype is None:
        return
    shape, dtype = getattr(result, "shape", None), getattr(result, "dtype", None)
    if shape is None or dtype is None or not hasattr(result, "ndim") or (
        isinstance(result, np.generic) and call.ndim != 0
    ):
        raise TypeError(
            f"{call.funcname}: block {call.index} came back as a {type(result).__name__}, not an "
            f"array of {call.ndim} dimensions; the function must return an array for each block "
            "(wrap a scalar: np.full(block.shape, value), or use reductions for one value per block)"
        )
    if len(shape) != call.ndim:
        raise ValueError(
            f"{call.funcname}: block {call.index} came back with {len(shape)} dimensions "
            f"(shape {tuple(shape)}), but the output has {call.ndim}; "
            "pass drop_axis=/new_axis= (and chunks=) to match what the function returns"
        )
    declared = call.dtype
    if dtype != declared and not (dtype.kind == declared.kind and dtype.kind in "USV"):
        raise TypeError(
            f"{call.funcname}: block {call.index} came back with dtype {dtype}, but the output "
            f"was declared {declared}; pass dtype={str(dtype)!r} (or cast inside the function)"
        )


def _call_block(call: _Call, *args: Any) -> Any:
    """Run the user's function on one block's inputs and check the result's shape."""
    result = call.func(*args, **call.kwargs) if call.kwargs else call.func(*args)
    _check_block_kind(call, result)
    shape = getattr(result, "shape", None)
    if call.enforce_ndim and (shape is None or len(shape) != call.ndim):
        raise ValueError(
            f"{call.funcname}: block {call.index} came back with {len(shape) if shape is not None else 0} "
            f"dimensions, but the output has {call.ndim} (enforce_ndim=True); "
            "pass drop_axis=/new_axis= to match what the function returns"
        )
    expected = call.expected
    if expected is not None and shape is not None and tuple(shape) != expected:
        raise ValueError(
            f"{call.funcname}: block {call.index} came back with shape {tuple(shape)}, but the "
            f"declared chunks say {expected}; pass chunks= (and drop_axis=/new_axis=) that match "
            "what the function returns"
        )
    return result


def _concatenate_nested(nested: Any, axes: tuple) -> np.ndarray:
    """Concatenate nested lists of blocks: the outer level along ``axes[0]``, and so on."""
    if not axes:
        return nested
    parts = [_concatenate_nested(sub, axes[1:]) for sub in nested]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts, axis=axes[0])


class IndexBlockwise(ArrayExpr):
    """``func`` applied to blocks chosen by index notation; see :func:`blockwise`.

    Operands: ``func``, ``out_ind``, ``arg_inds`` (one index tuple, or ``None``
    for a literal, per argument), ``kwargs``, ``dtype_``, ``chunks_`` (the output
    chunks, computed at build time), ``concatenate``, ``options`` (``(check
    shapes, pass block_info, pass block_id, enforce_ndim)``), ``funcname``,
    ``name_``, then the arguments.
    """

    _parameters = ("func", "out_ind", "arg_inds", "kwargs", "dtype_", "chunks_", "concatenate",
                   "options", "funcname", "name_")
    _variadic = True

    @functools.cached_property
    def name(self) -> str:
        if self.name_ is not None:
            return self.name_
        return super().name

    @property
    def args(self) -> tuple:
        return tuple(self.operands[len(self._parameters):])

    @property
    def _funcname(self) -> str:
        return self.funcname or getattr(self.func, "__name__", "blockwise")

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    @functools.cached_property
    def _bounds(self) -> dict:
        out = {}
        for pos, arg in enumerate(self.args):
            if isinstance(arg, ArrayExpr):
                out[pos] = tuple(tuple(accumulate(c, initial=0)) for c in arg.chunks)
        out[None] = tuple(tuple(accumulate(c, initial=0)) for c in self.chunks)
        return out

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        where = dict(zip(self.out_ind, index))
        check, pass_info, pass_id, enforce_ndim = self.options
        args = []
        info: dict = {}
        for pos, (arg, ind) in enumerate(zip(self.args, self.arg_inds)):
            if ind is None:
                args.append(arg)
                continue
            numblocks = arg.numblocks
            base = [0 if numblocks[d] == 1 else where.get(s, 0) for d, s in enumerate(ind)]
            contracted = tuple(d for d, s in enumerate(ind) if s not in where and numblocks[d] != 1)
            if not contracted:
                args.append(Ref((arg.name, *base)))
            else:
                nested = _nest_refs(arg.name, base, contracted, numblocks)
                if self.concatenate:
                    args.append(Task(None, _concatenate_nested, nested, contracted))
                else:
                    args.append(nested)
            if pass_info:
                bounds = self._bounds[pos]
                location = []
                for d in range(arg.ndim):
                    if d in contracted:
                        location.append((0, bounds[d][-1]))
                    else:
                        location.append((bounds[d][base[d]], bounds[d][base[d] + 1]))
                info[pos] = {"shape": arg.shape, "num-chunks": numblocks,
                             "chunk-location": tuple(base), "array-location": location}
        expected = self.block_shape(index)
        kwargs = dict(self.kwargs or {})
        if pass_info:
            bounds = self._bounds[None]
            info[None] = {
                "shape": self.shape, "num-chunks": self.numblocks, "chunk-location": tuple(index),
                "array-location": [(b[i], b[i + 1]) for b, i in zip(bounds, index)],
                "chunk-shape": expected, "dtype": self.dtype,
            }
            kwargs["block_info"] = info
        if pass_id:
            kwargs["block_id"] = tuple(index)
        if not check or any(isinstance(s, float) and math.isnan(s) for s in expected):
            expected = None
        call = _Call(self.func, kwargs or None, expected, tuple(index), self._funcname, self.ndim,
                     enforce_ndim, self.dtype if check else None)
        return Task(key, _call_block, call, *args)

    def _explain_line(self) -> str:
        inds = " ".join("".join(map(str, i)) if i is not None else "-" for i in self.arg_inds)
        line = super()._explain_line().split(":", 1)[-1]
        out = "".join(map(str, self.out_ind))
        return f"Blockwise[{inds} -> {out}]: {self._funcname}{line[line.find('  ['):] if '  [' in line else ''}"


def _nest_refs(name: str, base: list, contracted: tuple, numblocks: tuple, level: int = 0) -> list:
    axis = contracted[level]
    out = []
    for i in range(numblocks[axis]):
        index = list(base)
        index[axis] = i
        if level + 1 == len(contracted):
            out.append(Ref((name, *index)))
        else:
            out.append(_nest_refs(name, index, contracted, numblocks, level + 1))
    return out


# --- building -------------------------------------------------------------------------------


def _has_keyword(func: Callable, name: str) -> bool:
    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _as_index(ind: Any, what: str) -> tuple:
    if isinstance(ind, str):
        return tuple(ind)
    if isinstance(ind, (tuple, list)):
        return tuple(ind)
    raise TypeError(f"blockwise: {what} must be a string or a tuple of index symbols, got {ind!r}")


def _unify(pairs: list, align: bool, opname: str) -> tuple[list, dict]:
    """Rechunk the arrays so that every index symbol has one chunking; return (pairs, chunks)."""
    from chunkwise.array.rechunk import Rechunk

    symbols: dict = {}
    for pos, (_arg, ind) in enumerate(pairs):
        if ind is None:
            continue
        for d, s in enumerate(ind):
            symbols.setdefault(s, []).append((pos, d))
    target: dict = {}
    for s, uses in symbols.items():
        lengths = {pairs[p][0].shape[d] for p, d in uses} - {1}
        known = {n for n in lengths if not (isinstance(n, float) and math.isnan(n))}
        if len(known) > 1:
            shapes = ", ".join(f"{pairs[p][0].shape} (index {''.join(map(str, pairs[p][1]))})"
                               for p, _ in uses)
            raise ValueError(
                f"{opname}: index {s!r} has different lengths {sorted(known)} in the inputs: {shapes}"
            )
        unknown = {unknown_chunks_origin(pairs[p][0], d) for p, d in uses
                   if pairs[p][0].shape[d] != 1 and has_unknown((pairs[p][0].chunks[d],))}
        if len(unknown) > 1:
            shapes = " ".join(str(tuple(pairs[p][0].shape)) for p, _ in uses)
            raise ValueError(
                f"{opname}: inputs with shapes {shapes} have unknown chunk sizes (nan) on index {s!r} "
                "that may not line up block by block (e.g. two different boolean masks); call "
                "compute_chunk_sizes() on each of them first (or rechunk them to known chunks)"
            )
        candidates = [(p, d) for p, d in uses if pairs[p][0].shape[d] != 1] or uses
        best = max(candidates, key=lambda u: (_nbytes(pairs[u[0]][0]), -u[0]))
        target[s] = pairs[best[0]][0].chunks[best[1]]
    out = []
    for arg, ind in pairs:
        if ind is None:
            out.append((arg, ind))
            continue
        new = []
        for d, s in enumerate(ind):
            have, want = arg.chunks[d], target[s]
            if _same_chunks(have, want) or (arg.shape[d] == 1 and len(have) == 1):
                new.append(have)
                continue
            if not align:
                raise ValueError(
                    f"{opname}: index {s!r} has chunks {have} in one input and {want} in another; "
                    "rechunk them alike or pass align_arrays=True"
                )
            if has_unknown((have,)) or has_unknown((want,)):
                raise ValueError(
                    f"{opname}: inputs have unknown chunk sizes that may not line up on index {s!r} "
                    f"({have} vs {want}); call x.compute_chunk_sizes() first"
                )
            new.append(want)
        new = tuple(new)
        out.append((arg if new == arg.chunks else Rechunk(arg, new), ind))
    return out, target


def _sample_call(func: Callable, pairs: list, out_ind: tuple, concatenate: bool, kwargs: dict,
                 pass_info: bool, pass_id: bool, length: int) -> Any:
    args = []
    info: dict = {}
    for pos, (arg, ind) in enumerate(pairs):
        if ind is None:
            args.append(arg)
            continue
        shape = (length,) * arg.ndim
        sample = np.ones(shape, dtype=arg.dtype) if length else np.empty(shape, dtype=arg.dtype)
        contracted = [s for s in ind if s not in out_ind]
        if contracted and not concatenate:
            for _ in contracted:
                sample = [sample]
        args.append(sample)
        info[pos] = {"shape": shape, "num-chunks": (1,) * arg.ndim, "chunk-location": (0,) * arg.ndim,
                     "array-location": [(0, length)] * arg.ndim}
    kw = dict(kwargs)
    if pass_info:
        info[None] = {"shape": (length,) * len(out_ind), "num-chunks": (1,) * len(out_ind),
                      "chunk-location": (0,) * len(out_ind),
                      "array-location": [(0, length)] * len(out_ind),
                      "chunk-shape": (length,) * len(out_ind), "dtype": None}
        kw["block_info"] = info
    if pass_id:
        kw["block_id"] = (0,) * len(out_ind)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kw)


def _infer_dtype(func: Callable, pairs: list, out_ind: tuple, concatenate: bool, kwargs: dict,
                 pass_info: bool, pass_id: bool, opname: str) -> np.dtype:
    errors = []
    for length in (0, 1):
        try:
            out = _sample_call(func, pairs, out_ind, concatenate, kwargs, pass_info, pass_id, length)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        dtype = getattr(out, "dtype", None)
        if dtype is None:
            dtype = np.asarray(out).dtype
        return np.dtype(dtype)
    raise ValueError(
        f"{opname}: could not infer the output dtype by calling the function on sample blocks "
        f"(zero-size: {errors[0]}; one element: {errors[1]}); pass dtype= (or meta=)"
    )


def _build(func: Callable, out_ind: tuple, pairs: list, *, dtype: Any, meta: Any, adjust_chunks: Any,
           new_axes: Any, align_arrays: bool, concatenate: bool, kwargs: dict, name: Any,
           check: bool, enforce_ndim: bool, opname: str, chunks_override: Any = None) -> Array:
    if not callable(func):
        raise TypeError(f"{opname}: func must be callable, got {type(func).__name__}")
    converted = []
    for arg, ind in pairs:
        if ind is None:
            if isinstance(arg, Array):
                raise TypeError(f"{opname}: a chunkwise array needs an index, not None")
            converted.append((arg, None))
            continue
        ind = _as_index(ind, "an argument's index")
        expr = asarray(arg).expr
        if len(ind) != expr.ndim:
            raise ValueError(
                f"{opname}: index {''.join(map(str, ind))!r} has {len(ind)} symbols but its array has "
                f"{expr.ndim} dimensions (shape {expr.shape})"
            )
        converted.append((expr, ind))
    if not any(ind is not None for _, ind in converted):
        raise TypeError(f"{opname}: needs at least one chunkwise array argument")
    pairs, target = _unify(converted, align_arrays, opname)
    new_axes = dict(new_axes or {})
    chunks = []
    for s in out_ind:
        if s in new_axes:
            spec = new_axes[s]
            chunks.append((int(spec),) if isinstance(spec, numbers.Integral) else tuple(spec))
        elif s in target:
            chunks.append(target[s])
        else:
            raise ValueError(
                f"{opname}: output index {s!r} is in no input; give its length with new_axes={{{s!r}: n}}"
            )
    for s, adjust in (adjust_chunks or {}).items():
        if s not in out_ind:
            raise ValueError(f"{opname}: adjust_chunks names index {s!r}, which is not in out_ind")
        axis = out_ind.index(s)
        if callable(adjust):
            chunks[axis] = tuple(adjust(c) for c in chunks[axis])
        elif isinstance(adjust, numbers.Integral):
            chunks[axis] = (int(adjust),) * len(chunks[axis])
        else:
            adjust = tuple(adjust)
            if len(adjust) != len(chunks[axis]):
                raise ValueError(
                    f"{opname}: adjust_chunks for index {s!r} gives {len(adjust)} chunks, "
                    f"but the axis has {len(chunks[axis])} blocks"
                )
            chunks[axis] = adjust
    if chunks_override is not None:
        chunks = chunks_override(chunks)
    chunks = tuple(tuple(int(c) if not math.isnan(c) else math.nan for c in axis) for axis in chunks)
    pass_info = _has_keyword(func, "block_info")
    pass_id = _has_keyword(func, "block_id")
    if dtype is not None:
        dtype = np.dtype(dtype)
    elif meta is not None:
        dtype = np.dtype(meta.dtype)
    else:
        dtype = _infer_dtype(func, pairs, out_ind, concatenate, kwargs, pass_info, pass_id, opname)
    funcname = getattr(func, "__name__", type(func).__name__)
    if funcname == "<lambda>":
        funcname = "lambda"
    expr = IndexBlockwise(
        func, tuple(out_ind), tuple(ind for _, ind in pairs), kwargs or None, dtype, chunks,
        bool(concatenate), (check, pass_info, pass_id, enforce_ndim), funcname,
        name if isinstance(name, str) else None, *(arg for arg, _ in pairs),
    )
    return Array(expr)


def blockwise(func: Callable, out_ind: Any, *args: Any, name: str | None = None, token: str | None = None,
              dtype: Any = None, adjust_chunks: dict | None = None, new_axes: dict | None = None,
              align_arrays: bool = True, concatenate: bool | None = None, meta: Any = None,
              **kwargs: Any) -> Array:
    """Apply ``func`` to blocks selected by index notation, as ``dask.array.blockwise``.

    ``args`` alternate arrays (or literals) and their indices (a string like
    ``"ij"``, a tuple of symbols, or ``None`` for a literal). Symbols absent
    from ``out_ind`` are contracted: ``func`` gets the list of blocks along them
    (nested for several), or those blocks concatenated with
    ``concatenate=True``. ``new_axes`` gives the length of output symbols in no
    input; ``adjust_chunks`` maps a symbol to a function of each chunk length,
    an int or a tuple of lengths. ``dtype`` is inferred from a sample call when
    not given. Extra keywords go to ``func``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6).reshape(2, 3), chunks=(1, 2))
    >>> blockwise(lambda b: b.T, "ji", x, "ij").compute().tolist()
    [[0, 3], [1, 4], [2, 5]]
    >>> blockwise(np.sum, "i", x, "ij", concatenate=True, axis=1, keepdims=False,
    ...           adjust_chunks={"i": lambda c: c}).compute().tolist()
    [3, 12]
    """
    if len(args) % 2:
        raise ValueError("blockwise: pass arguments in pairs: array, index (None for a literal)")
    out_ind = _as_index(out_ind, "out_ind")
    pairs = [(args[i], args[i + 1]) for i in range(0, len(args), 2)]
    return _build(func, out_ind, pairs, dtype=dtype, meta=meta, adjust_chunks=adjust_chunks,
                  new_axes=new_axes, align_arrays=align_arrays, concatenate=bool(concatenate),
                  kwargs=kwargs, name=name, check=True, enforce_ndim=False, opname="blockwise")


def _normalize_axes(axes: Any, ndim: int, what: str) -> list:
    if axes is None:
        return []
    if isinstance(axes, numbers.Integral):
        axes = [axes]
    out = []
    for a in axes:
        if not isinstance(a, numbers.Integral) or not -ndim <= a < ndim:
            raise ValueError(f"map_blocks: {what}={axes!r} is out of range for {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"map_blocks: {what}={axes!r} repeats an axis")
    return sorted(out)


def map_blocks(func: Callable, *args: Any, name: str | None = None, token: str | None = None,
               dtype: Any = None, chunks: Any = None, drop_axis: Any = None, new_axis: Any = None,
               enforce_ndim: bool = False, meta: Any = None, **kwargs: Any) -> Array:
    """Apply ``func`` to every block of the arrays in ``args``, as ``dask.array.map_blocks``.

    Arrays are aligned on their trailing axes (like broadcasting) and rechunked
    to line up. ``chunks``: the output chunks when ``func`` changes the block
    shape (a tuple of tuples, or one block shape such as ``(1,)``). ``drop_axis``:
    input axes ``func`` removes (those axes are first gathered into single
    blocks). ``new_axis``: output axes ``func`` adds (length 1 unless
    ``chunks`` says otherwise). If ``func`` accepts ``block_info`` or
    ``block_id``, it gets them. ``dtype`` (or ``meta``) is inferred by calling
    ``func`` on a zero-size sample, then a one-element one.

    Differs from Dask: every block is checked as it comes back. One that is no
    array (a scalar, a list) or whose dtype differs from the declared one raises
    a ``TypeError``; another number of dimensions or a shape other than the
    declared chunks raises a ``ValueError``; each names the block, what was
    expected and the argument to pass (``enforce_ndim`` is accepted for Dask
    compatibility: the number of dimensions is always checked).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(8).reshape(2, 4), chunks=(1, 2))
    >>> x.map_blocks(lambda b: b.sum(axis=1), drop_axis=1).compute().tolist()
    [6, 22]
    >>> x.map_blocks(lambda b, block_id=None: np.full(b.shape, block_id[1])).compute().tolist()
    [[0, 0, 1, 1], [0, 0, 1, 1]]
    """
    if not callable(func) and isinstance(func, Array) and args and callable(args[0]):
        func, args = args[0], (func, *args[1:])  # x.map_blocks(func, ...)
    if not callable(func):
        raise TypeError(f"map_blocks: the first argument must be callable, got {type(func).__name__}")
    arrays = [a for a in args if isinstance(a, Array)]
    if not arrays:
        raise TypeError("map_blocks: needs at least one chunkwise array argument")
    ndim = max(a.ndim for a in arrays)
    pairs = [(a, tuple(range(ndim - a.ndim, ndim))) if isinstance(a, Array) else (a, None) for a in args]
    dropped = _normalize_axes(drop_axis, ndim, "drop_axis")
    out_ind: list = [i for i in range(ndim) if i not in dropped]
    new_axis_list = [new_axis] if isinstance(new_axis, numbers.Integral) else list(new_axis or [])
    n_out = len(out_ind) + len(new_axis_list)
    added = _normalize_axes(new_axis_list, n_out, "new_axis") if new_axis_list else []
    new_axes = {}
    for k, axis in enumerate(added):
        symbol = ndim + k
        out_ind.insert(axis, symbol)
    if chunks is not None and not isinstance(chunks, (tuple, list)):
        chunks = (chunks,) * n_out if n_out else ()
    if chunks is not None and len(chunks) != n_out:
        raise ValueError(
            f"map_blocks: chunks={chunks!r} has {len(chunks)} dimensions, but the output has {n_out} "
            f"(input {ndim}, drop_axis={drop_axis!r}, new_axis={new_axis!r})"
        )
    for axis in added:
        spec = chunks[axis] if chunks is not None else 1
        new_axes[out_ind[axis]] = spec if isinstance(spec, numbers.Integral) else tuple(spec)

    def override(current: list) -> list:
        if chunks is None:
            return current
        out = []
        for axis, (spec, have) in enumerate(zip(chunks, current)):
            if isinstance(spec, (tuple, list)):
                spec = tuple(spec)
                if len(spec) != len(have):
                    raise ValueError(
                        f"map_blocks: chunks for output axis {axis} give {len(spec)} blocks, but "
                        f"the output has {len(have)} blocks on that axis"
                    )
                out.append(spec)
            else:
                out.append((spec,) * len(have))
        return out

    funcname = getattr(func, "__name__", "map_blocks")
    return _build(func, tuple(out_ind), pairs, dtype=dtype, meta=meta, adjust_chunks=None,
                  new_axes=new_axes, align_arrays=True, concatenate=True, kwargs=kwargs, name=name,
                  check=True, enforce_ndim=enforce_ndim, opname=f"map_blocks({funcname})",
                  chunks_override=override)


# --- fusion of elementwise groups --------------------------------------------------------------


class _Program:
    """The steps of a fused group; a literal in tasks (never parsed), run by :func:`_run_program`.

    Each step is ``(func, args, kwargs, release)``: ``args`` hold ``(0, i)`` for
    input block ``i``, ``(1, j)`` for the result of step ``j``, ``(2, v)`` for
    a literal ``v`` and ``(3, v)`` for a constant block of the output block's
    shape filled with the 0-d array ``v`` (an absorbed ``ones``/``full`` source;
    the task passes that shape as its last ``ndim`` arguments); ``release``
    lists the steps whose results are no longer needed after this one (so a
    task holds few intermediate blocks). ``ninputs`` is the number of input
    blocks a task passes.
    """

    __slots__ = ("steps", "names", "root", "ninputs")

    def __init__(self, steps: tuple, names: tuple, root: str, ninputs: int = -1):
        self.steps = steps
        self.names = names
        self.root = root
        self.ninputs = ninputs

    def __reduce__(self):
        return (_Program, (self.steps, self.names, self.root, self.ninputs))

    def __chunkwise_tokenize__(self) -> tuple:
        return ("chunkwise.FusedProgram", self.root)


def _run_program(program: _Program, *inputs: Any) -> Any:
    """Run a fused group on one block's inputs.

    A ufunc step whose argument is an intermediate block dying at this step
    writes its result into that block (``out=``) when the dtype and shape
    match: a chain like ``(sin(x) ** 2 + cos(x) ** 2) * 2 - 1`` then allocates
    two temporary blocks instead of six, and moves half the memory.

    A large block of a program made only of ufuncs on same-shaped inputs is
    run in slabs of rows that fit in the CPU cache (each slab through every
    step, then copied into the output block): the intermediate results never
    leave the cache.
    """
    ninputs = program.ninputs
    shape = None
    if ninputs >= 0:  # the block shape follows the inputs, for constant sources
        shape = inputs[ninputs:]
        inputs = inputs[:ninputs]
    rows = _slab_rows(program, inputs, shape)
    if rows:
        return _run_in_slabs(program, inputs, shape, rows)
    return _run_steps(program, inputs, shape)


_SLAB_ELEMENTS = 32_768  # per slab: a few slabs of intermediates stay in L2 cache
_SLAB_MIN_BLOCK = 8 * _SLAB_ELEMENTS


def _slab_rows(program: _Program, inputs: tuple, shape: Any) -> int:
    """Rows per slab when ``program`` may run in slabs of its block, else 0."""
    steps = program.steps
    if len(steps) < 3:
        return 0
    if inputs:
        first = inputs[0]
        if type(first) is not np.ndarray:
            return 0
        block_shape = first.shape
        if any(type(b) is not np.ndarray or b.shape != block_shape for b in inputs):
            return 0
        if shape is not None and tuple(shape) != block_shape:
            return 0
    elif shape is not None:
        block_shape = tuple(shape)
    else:
        return 0
    if len(block_shape) == 0 or block_shape[0] < 2:
        return 0
    size = math.prod(block_shape)
    if size < _SLAB_MIN_BLOCK:
        return 0
    for func, spec, kwargs, _ in steps:
        if kwargs or type(func) is not np.ufunc or func.nout != 1 or func.signature is not None:
            return 0
        for kind, v in spec:
            if kind == 2 and np.ndim(v) != 0:
                return 0
    row = size // block_shape[0]
    return max(1, _SLAB_ELEMENTS // max(row, 1))


def _run_in_slabs(program: _Program, inputs: tuple, shape: Any, rows: int) -> Any:
    n = inputs[0].shape[0] if inputs else shape[0]
    out = None
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        slab_inputs = tuple(b[start:stop] for b in inputs)
        slab_shape = None if shape is None else (stop - start, *shape[1:])
        if out is not None:  # the last step writes straight into the output block
            _run_steps(program, slab_inputs, slab_shape, out[start:stop])
            continue
        part = _run_steps(program, slab_inputs, slab_shape)
        if np.ndim(part) == 0:  # not elementwise after all: run it whole
            return _run_steps(program, inputs, shape)
        out = np.empty((n, *np.shape(part)[1:]), dtype=np.result_type(part))
        out[start:stop] = part
    return out


def _run_steps(program: _Program, inputs: tuple, shape: Any, out: Any = None) -> Any:
    """Run the steps; ``out``: where the last step (a ufunc, in slab mode) writes its result."""
    results: list = [None] * len(program.steps)
    last = len(program.steps) - 1
    for k, (func, spec, kwargs, release) in enumerate(program.steps):
        args = [
            inputs[v] if kind == 0 else results[v] if kind == 1 else v if kind == 2
            else np.broadcast_to(v, shape)
            for kind, v in spec
        ]
        try:
            buffer = None
            if release and not kwargs and type(func) is np.ufunc and func.nout == 1:
                buffer = _reusable_buffer(func, spec, args, release, results, inputs)
            if k == last and out is not None:
                results[k] = func(*args, out=out)
            elif buffer is not None:
                results[k] = func(*args, out=buffer)
            else:
                results[k] = func(*args, **kwargs) if kwargs else func(*args)
        except Exception as exc:
            exc.add_note(f"in step {program.names[k]!r} of the fused elementwise task {program.root!r}")
            raise
        for j in release:
            results[j] = None
    return results[-1]


def _reusable_buffer(
    func: np.ufunc, spec: tuple, args: list, release: tuple, results: list, inputs: tuple
) -> np.ndarray | None:
    """An intermediate among ``args`` that can safely receive ``func``'s result, or None."""
    for (kind, v), arg in zip(spec, args):
        if kind != 1 or v not in release or type(arg) is not np.ndarray:
            continue
        if arg.base is not None or not arg.flags.writeable or not arg.flags.c_contiguous:
            continue  # a view (of an input, perhaps) or a constant
        if any(arg is block for block in inputs):
            continue
        if sum(1 for r in results if r is arg) != 1:
            continue  # another live step holds the same object
        try:
            dtypes = tuple(_operand_dtype(a) for a in args)
            expected = func.resolve_dtypes(dtypes + (None,))[-1]
            shape = np.broadcast_shapes(*(np.shape(a) for a in args))
        except Exception:
            return None
        if arg.dtype == expected and arg.shape == shape:
            return arg
    return None


def _operand_dtype(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    if type(value) in (int, float, complex):
        return type(value)  # Python scalars promote weakly, as in the call itself
    raise TypeError("no dtype")


class FusedBlockwise(ArrayExpr):
    """A group of elementwise nodes run as one task per block; see :func:`fuse_blockwise`.

    It keeps the name (and so the keys) of the group's output node. Operands:
    ``root_name``, ``program``, ``chunks_``, ``dtype_``, then the input arrays.
    """

    _parameters = ("root_name", "program", "chunks_", "dtype_")
    _variadic = True

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.operands[0]

    @property
    def inputs(self) -> tuple:
        return tuple(self.operands[len(self._parameters):])

    @property
    def _funcname(self) -> str:
        return "fused-" + self.program.names[-1]

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    def _one_to_one_inputs(self) -> tuple:
        return one_to_one_inputs(self, self.inputs)

    def _block_args(self, index: tuple) -> list:
        """The arguments after the program of block ``index``'s task: input refs, then
        the block shape when the program makes constant blocks."""
        ndim = len(index)
        args = []
        for arg in self.inputs:
            offset = ndim - arg.ndim
            numblocks = arg.numblocks
            args.append(Ref((arg.name, *(0 if numblocks[d] == 1 else index[d + offset]
                                         for d in range(arg.ndim)))))
        if self.program.ninputs >= 0:
            args.extend(c[i] for c, i in zip(self.chunks, index))
        return args

    def _task(self, key: Hashable) -> Task:
        return Task(key, _run_program, self.program, *self._block_args(key[1:]))

    def _explain_line(self) -> str:
        names = self.program.names
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        nbytes = self.max_chunk_nbytes
        size = "?" if math.isnan(nbytes) else _format_bytes(nbytes)
        return (f"FusedBlockwise: {len(names)} ops ({shown})  "
                f"[{self.npartitions} blocks of <= {size}, {self.dtype}]")


def fuse_blockwise(expr: Any) -> Any:
    """``expr`` with each group of elementwise nodes fused into one :class:`FusedBlockwise`.

    A :class:`~chunkwise.array.expr.Blockwise` node joins the group of its
    consumers when all its consumers (in the whole tree under ``expr``) are
    elementwise nodes of one group and it has as many blocks as the group's
    output (so no block is computed twice). Call it on the whole plan (the
    root that is computed), since it counts consumers over the tree it is given.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.linspace(0, 1, 8), chunks=2)
    >>> y = (da.sin(x) ** 2 + da.cos(x) ** 2) * 2 - 1
    >>> fused = fuse_blockwise(y.expr)
    >>> type(fused).__name__, fused.name == y.name
    ('FusedBlockwise', True)
    >>> len(Array(fused).__chunkwise_graph__())  # 4 fused tasks (reads inlined) + finalize
    5
    """
    # Every node once, and who consumes it (distinct consumers).
    nodes: dict = {}
    dependents: dict = {}
    stack = [expr]
    while stack:
        node = stack.pop()
        if node.name in nodes:
            continue
        nodes[node.name] = node
        dependents.setdefault(node.name, set())
        for dep in node.dependencies():
            dependents.setdefault(dep.name, set()).add(node.name)
            if dep.name not in nodes:
                stack.append(dep)
    # Consumers before what they consume (Kahn's algorithm from the roots).
    remaining = {name: len(d) for name, d in dependents.items()}
    ready = [name for name, n in remaining.items() if n == 0]
    parents_first = []
    while ready:
        name = ready.pop()
        parents_first.append(name)
        for dep in {d.name for d in nodes[name].dependencies()}:
            remaining[dep] -= 1
            if remaining[dep] == 0:
                ready.append(dep)
    group: dict = {}
    for name in parents_first:
        node = nodes[name]
        if type(node) is not Blockwise:
            continue
        consumers = dependents[name]
        groups = {group.get(c) for c in consumers}
        if consumers and len(groups) == 1 and None not in groups:
            root = nodes[next(iter(groups))]
            if node.npartitions == root.npartitions:
                group[name] = root.name
                continue
        group[name] = name
    members: dict = {}
    for name in reversed(parents_first):
        if name in group:
            members.setdefault(group[name], []).append(name)
    # A lone node is rewritten only to absorb constant sources (``ones((n, n)) + 1``).
    fused = {g for g, m in members.items() if len(m) > 1 or _absorbable_constants(nodes[g], nodes[g])}
    if not fused:
        return expr
    # Rebuild, inputs first.
    memo: dict = {}
    for name in reversed(parents_first):
        node = nodes[name]
        g = group.get(name)
        if g is not None and g != name:
            continue  # inside a group: built with the group's output
        if g is not None and g in fused:
            memo[name] = _fuse_group(node, [nodes[m] for m in members[g]], group, memo)
            continue
        deps = {d.name for d in node.dependencies()}
        memo[name] = node.with_operands(
            [memo[op.name] if isinstance(op, Expr) and op.name in deps else op for op in node.operands]
        )
    return memo[expr.name]


def _is_constant_source(arg: Any, root: ArrayExpr) -> bool:
    """Whether ``arg`` is a constant source (``ones``, ``full``) with ``root``'s blocks.

    Its blocks cost nothing to make, so a fused group makes them itself (even
    when other nodes read the source too) instead of reading another task.
    """
    return getattr(type(arg), "_constant_source", False) and arg.chunks == root.chunks


def _absorbable_constants(node: Any, root: ArrayExpr) -> bool:
    return any(_is_constant_source(arg, root) for arg in node.args)


def _fuse_group(root: Blockwise, group_nodes: list, group: dict, memo: dict) -> FusedBlockwise:
    """The :class:`FusedBlockwise` computing ``root`` from the inputs of ``group_nodes``."""
    position = {node.name: k for k, node in enumerate(group_nodes)}
    inputs: list = []
    input_position: dict = {}
    steps = []
    last_use: dict = {}
    constants = False
    for k, node in enumerate(group_nodes):
        spec = []
        for arg in node.args:
            if isinstance(arg, ArrayExpr):
                if arg.name in position and group.get(arg.name) == root.name:
                    spec.append((1, position[arg.name]))
                    last_use[position[arg.name]] = k
                elif _is_constant_source(arg, root):
                    spec.append((3, arg.value))
                    constants = True
                else:
                    if arg.name not in input_position:
                        input_position[arg.name] = len(inputs)
                        inputs.append(memo.get(arg.name, arg))
                    spec.append((0, input_position[arg.name]))
            else:
                spec.append((2, arg))
        steps.append([node.func, tuple(spec), node.kwargs or None, ()])
    releases: dict = {}
    for j, k in last_use.items():
        releases.setdefault(k, []).append(j)
    for k, js in releases.items():
        steps[k][3] = tuple(js)
    program = _Program(tuple(tuple(s) for s in steps), tuple(n._funcname for n in group_nodes), root.name,
                       len(inputs) if constants else -1)
    return FusedBlockwise(root.name, program, root.chunks, root.dtype, *inputs)
