"""``map_blocks`` and ``blockwise`` (index notation): a function applied block by block.

- :func:`map_blocks` applies a function to every block (Dask's semantics:
  ``chunks``, ``drop_axis``, ``new_axis``, ``block_info``/``block_id``, dtype
  inferred from a zero-size sample). A block that comes back with a shape other
  than the declared chunks raises an error naming the block and both shapes.
- :func:`blockwise` is the general form in index notation, as
  ``dask.array.blockwise``: indices absent from ``out_ind`` are contracted (the
  function gets a list of the blocks along them, or them concatenated).

The fusion of elementwise chains into one task per block is in
:mod:`chunkwise.array.fusion`.

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
from toolz import partition

from chunkwise.array.axes import normalize_axes
from chunkwise.array.chunks import check_known_chunks, has_unknown, same_axis_chunks
from chunkwise.array.core import Array, asarray
from chunkwise.array.expr import (
    ArrayExpr,
    unknown_chunks_origin,
)
from chunkwise.array.masks import declared_masked
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.utils import is_nan, nbytes
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
    if any(isinstance(p, np.ma.MaskedArray) for p in parts):
        return np.ma.concatenate(parts, axis=axes[0])  # np.concatenate would drop the masks
    return np.concatenate(parts, axis=axes[0])


class IndexBlockwise(ArrayExpr):
    """``func`` applied to blocks chosen by index notation; see :func:`blockwise`.

    Operands: ``func``, ``out_ind``, ``arg_inds`` (one index tuple, or ``None``
    for a literal, per argument), ``kwargs``, ``dtype_``, ``chunks_`` (the output
    chunks, computed at build time), ``concatenate``, ``options`` (``(check
    shapes, pass block_info, pass block_id, enforce_ndim)``), ``funcname``,
    ``name_``, ``masked_`` (``True``: the blocks are declared masked, by a masked
    ``meta=`` or the function; ``None``: masked when an input is), then the arguments.
    """

    _parameters = ("func", "out_ind", "arg_inds", "kwargs", "dtype_", "chunks_", "concatenate",
                   "options", "funcname", "name_", "masked_")
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

    def _masked(self) -> bool:
        return super()._masked() if self.masked_ is None else self.masked_

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
        if not check or any(map(is_nan, expected)):
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
    symbols: dict = {}
    for pos, (_arg, ind) in enumerate(pairs):
        if ind is None:
            continue
        for d, s in enumerate(ind):
            symbols.setdefault(s, []).append((pos, d))
    target: dict = {}
    for s, uses in symbols.items():
        lengths = {pairs[p][0].shape[d] for p, d in uses} - {1}
        known = {n for n in lengths if not is_nan(n)}
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
            check_known_chunks(
                opname, *((pairs[p][0].chunks[d],) for p, d in uses), what=f"inputs with shapes {shapes}",
                plural=True, detail=f", so their blocks may not line up on index {s!r} (rechunking "
                "them to known chunks also works)",
            )
        candidates = [(p, d) for p, d in uses if pairs[p][0].shape[d] != 1] or uses
        best = max(candidates, key=lambda u: (nbytes(pairs[u[0]][0]), -u[0]))
        target[s] = pairs[best[0]][0].chunks[best[1]]
    out = []
    for arg, ind in pairs:
        if ind is None:
            out.append((arg, ind))
            continue
        new = []
        for d, s in enumerate(ind):
            have, want = arg.chunks[d], target[s]
            if same_axis_chunks(have, want) or (arg.shape[d] == 1 and len(have) == 1):
                new.append(have)
                continue
            if not align:
                raise ValueError(
                    f"{opname}: index {s!r} has chunks {have} in one input and {want} in another; "
                    "rechunk them alike or pass align_arrays=True"
                )
            check_known_chunks(
                opname, (have, want), what="an input",
                detail=f", so its blocks may not line up on index {s!r} ({have} vs {want})",
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
    masked = declared_masked(func)
    if isinstance(meta, np.ma.MaskedArray):
        masked = True  # Dask's way to say that the blocks are masked (chunkwise.array.masks)
    expr = IndexBlockwise(
        func, tuple(out_ind), tuple(ind for _, ind in pairs), kwargs or None, dtype, chunks,
        bool(concatenate), (check, pass_info, pass_id, enforce_ndim), funcname,
        name if isinstance(name, str) else None, masked, *(arg for arg, _ in pairs),
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
    pairs = list(partition(2, args))
    return _build(func, out_ind, pairs, dtype=dtype, meta=meta, adjust_chunks=adjust_chunks,
                  new_axes=new_axes, align_arrays=align_arrays, concatenate=bool(concatenate),
                  kwargs=kwargs, name=name, check=True, enforce_ndim=False, opname="blockwise")


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
    dropped = [] if drop_axis is None else sorted(normalize_axes(drop_axis, ndim, "map_blocks", "drop_axis"))
    out_ind: list = [i for i in range(ndim) if i not in dropped]
    new_axis_list = [new_axis] if isinstance(new_axis, numbers.Integral) else list(new_axis or [])
    n_out = len(out_ind) + len(new_axis_list)
    added = sorted(normalize_axes(new_axis_list, n_out, "map_blocks", "new_axis")) if new_axis_list else []
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
