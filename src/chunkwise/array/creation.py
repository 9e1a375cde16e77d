"""Creating arrays from nothing: ``ones``, ``arange``, ``linspace``, ``eye``, ``diag``, ...

Every function here builds a *source* node: each block's task depends on no
other key and holds only a few scalars (offsets, a fill value), never the
array's data, and nothing is done per block until the plan is lowered. A plan
of 100,000 blocks of ones costs the same to build as one of 10 blocks.

Values equal NumPy's bit for bit: ``arange`` and ``linspace`` compute each
block with the arithmetic NumPy uses for the whole array (``arange``'s
``start + i * delta`` with ``delta = (start + step) - start`` in the result
dtype; ``linspace``'s ``i * step + start``), so a block does not depend on the
blocks before it.

Constant blocks (``ones``, ``zeros``, ``full``, ``empty`` and their ``*_like``,
and the all-zero blocks of ``eye``, ``diag`` and ``tri``) are read-only
broadcast views of one scalar, as in Dask: they cost no memory or time until an
operation reads them. ``empty`` gives zeros (NumPy leaves the values
unspecified).

Signatures follow NumPy's, with ``chunks=`` (default ``"auto"``) added as a
keyword; where Dask puts ``chunks`` positionally (``da.eye(N, chunks)``,
``da.linspace(start, stop, num, endpoint, retstep, chunks)``), write it as a
keyword here.

Grids (``meshgrid``, ``indices``, ``fromfunction``) are in :mod:`chunkwise.array.grids`.

>>> import chunkwise.array as da
>>> x = da.ones((1000, 1000), chunks=(100, 100))
>>> x.numblocks, x.dtype
((10, 10), dtype('float64'))
>>> float((x + 1).compute()[0, 0])
2.0
>>> da.arange(0, 1, 0.25, chunks=2).compute()
array([0.  , 0.25, 0.5 , 0.75])
"""

from __future__ import annotations

import bisect
import functools
import math
import operator
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from toolz import sliding_window

from chunkwise.array.chunks import (
    check_known_chunks,
    chunk_boundaries,
    normalize_chunks,
)
from chunkwise.array.core import Array, asarray, check_device, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.core.graph import Ref, Task

__all__ = [
    "arange",
    "diag",
    "empty",
    "empty_like",
    "eye",
    "full",
    "full_like",
    "linspace",
    "ones",
    "ones_like",
    "tri",
    "zeros",
    "zeros_like",
]


# --- helpers -----------------------------------------------------------------------------


def normalize_shape(shape: Any, opname: str) -> tuple:
    """``shape`` (an int or a sequence of ints) as a tuple of Python ints, checked as NumPy does."""
    if isinstance(shape, Array):
        raise TypeError(f"{opname}: shape must be ints, not a chunkwise array")
    try:
        dims = (operator.index(shape),)
    except TypeError:
        try:
            dims = tuple(operator.index(s) for s in shape)
        except TypeError:
            raise TypeError(
                f"{opname}: expected a sequence of integers or a single integer as the shape, "
                f"got {shape!r}"
            ) from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{opname}: negative dimensions are not allowed (shape {dims})")
    return tuple(int(d) for d in dims)


def chunks_for(opname: str, chunks: Any, shape: tuple, dtype: Any) -> tuple:
    try:
        return normalize_chunks(chunks, shape, dtype=dtype)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{opname}: {exc}") from None


def _constant_block(value: np.ndarray, shape: tuple) -> np.ndarray:
    """A read-only block of ``shape`` holding ``value`` everywhere (no memory per element)."""
    return np.broadcast_to(value, shape)


def _zero(dtype: np.dtype) -> np.ndarray:
    return np.zeros((), dtype=dtype)


class Source(ArrayExpr):
    """Base of the creation nodes: chunks given as the operand ``chunks_``."""

    def _chunks(self) -> tuple:
        return self.chunks_

    def dependencies(self) -> list:
        return []

    @functools.cached_property
    def _bounds(self) -> tuple:
        return tuple(chunk_boundaries(c) for c in self.chunks)

    def _offsets(self, index: Sequence[int]) -> tuple:
        return tuple(b[i] for b, i in zip(self._bounds, index))


# --- constants ---------------------------------------------------------------------------


class Full(Source):
    """Every element equal to ``value`` (a 0-d NumPy array of the result dtype)."""

    _parameters = ("value", "chunks_", "funcname_")
    #: Its blocks are free to make: fused elementwise groups make them themselves.
    _constant_source = True

    @property
    def _funcname(self) -> str:
        return self.funcname_

    def _dtype(self) -> Any:
        return self.value.dtype

    def _task(self, key: Hashable) -> Task:
        return Task(key, _constant_block, self.value, self.block_shape(key[1:]))

    def _explain_line(self) -> str:
        return f"{self.funcname_.capitalize()}: {self.value.item()!r}  [{self.npartitions} blocks, {self.dtype}]"


def _full(opname: str, shape: Any, value: np.ndarray, chunks: Any) -> Array:
    shape = normalize_shape(shape, opname)
    normalized = chunks_for(opname, chunks, shape, value.dtype)
    return Array(Full(value, normalized, opname))


def _fill_value(opname: str, fill_value: Any, dtype: Any) -> np.ndarray:
    """``fill_value`` as a 0-d array of ``dtype`` (NumPy's ``full`` casting)."""
    if isinstance(fill_value, Array):
        raise TypeError(f"{opname}: fill_value must be a scalar, not a chunkwise array")
    if np.ndim(fill_value) != 0:
        raise ValueError(
            f"{opname}: fill_value must be a scalar, got an array of shape {np.shape(fill_value)}; "
            "use broadcast_to for an array"
        )
    if dtype is None:
        return np.array(fill_value)
    value = np.empty((), dtype=dtype)
    np.copyto(value, fill_value, casting="unsafe")
    return value


def ones(shape: Any, dtype: Any = float, order: str = "C", *, chunks: Any = "auto", like: Any = None, device: Any = None) -> Array:
    """An array of ones, as ``numpy.ones`` (blocks are read-only broadcast views).

    >>> ones((2, 3), chunks=2).compute()
    array([[1., 1., 1.],
           [1., 1., 1.]])
    """
    check_device(device, "ones")
    return _full("ones", shape, np.ones((), dtype=dtype), chunks)


def zeros(shape: Any, dtype: Any = float, order: str = "C", *, chunks: Any = "auto", like: Any = None, device: Any = None) -> Array:
    """An array of zeros, as ``numpy.zeros``.

    >>> zeros(3, dtype=int, chunks=2).compute()
    array([0, 0, 0])
    """
    check_device(device, "zeros")
    return _full("zeros", shape, np.zeros((), dtype=dtype), chunks)


def empty(shape: Any, dtype: Any = float, order: str = "C", *, chunks: Any = "auto", like: Any = None, device: Any = None) -> Array:
    """An array whose values do not matter, as ``numpy.empty``; here they are zeros.

    >>> empty((2, 2), chunks=1).shape
    (2, 2)
    """
    check_device(device, "empty")
    return _full("empty", shape, np.zeros((), dtype=dtype), chunks)


def full(
    shape: Any, fill_value: Any, dtype: Any = None, order: str = "C",
    *, chunks: Any = "auto", like: Any = None, device: Any = None,
) -> Array:
    """An array filled with the scalar ``fill_value``, as ``numpy.full``.

    ``fill_value`` must be a scalar (NumPy also accepts arrays that broadcast).

    >>> full(3, 7, chunks=2).compute()
    array([7, 7, 7])
    """
    check_device(device, "full")
    return _full("full", shape, _fill_value("full", fill_value, dtype), chunks)


def _like(opname: str, a: Any, dtype: Any, shape: Any, chunks: Any) -> tuple:
    """Shape, dtype and chunks for a ``*_like`` function."""
    if not isinstance(a, Array) and not (hasattr(a, "shape") and hasattr(a, "dtype")):
        a = np.asarray(a)
    dtype = a.dtype if dtype is None else np.dtype(dtype)
    if shape is not None:
        shape = normalize_shape(shape, opname)
        return shape, dtype, chunks_for(opname, "auto" if chunks is None else chunks, shape, dtype)
    if isinstance(a, Array):
        check_known_chunks(opname, a, what=f"the input (chunks {a.chunks})")
        if chunks is None:
            return a.shape, dtype, a.chunks
    shape = tuple(int(s) for s in a.shape)
    return shape, dtype, chunks_for(opname, "auto" if chunks is None else chunks, shape, dtype)


@implements(np.ones_like)
def ones_like(
    a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
    *, chunks: Any = None, device: Any = None,
) -> Array:
    """Ones with the shape and dtype of ``a``, as ``numpy.ones_like``.

    A chunkwise ``a`` gives its chunks (unless ``shape`` or ``chunks`` is given);
    other arrays give ``chunks="auto"``.

    >>> import numpy as np
    >>> ones_like(ones(5, chunks=2), dtype=int).chunks
    ((2, 2, 1),)
    """
    check_device(device, "ones_like")
    shape, dtype, normalized = _like("ones_like", a, dtype, shape, chunks)
    return Array(Full(np.ones((), dtype=dtype), normalized, "ones_like"))


@implements(np.zeros_like)
def zeros_like(
    a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
    *, chunks: Any = None, device: Any = None,
) -> Array:
    """Zeros with the shape and dtype of ``a``, as ``numpy.zeros_like`` (chunks as :func:`ones_like`).

    >>> import numpy as np
    >>> zeros_like(np.ones((2, 2))).compute()
    array([[0., 0.],
           [0., 0.]])
    """
    check_device(device, "zeros_like")
    shape, dtype, normalized = _like("zeros_like", a, dtype, shape, chunks)
    return Array(Full(np.zeros((), dtype=dtype), normalized, "zeros_like"))


@implements(np.empty_like)
def empty_like(
    prototype: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
    *, chunks: Any = None, device: Any = None,
) -> Array:
    """An array like ``prototype`` whose values do not matter (zeros here), as ``numpy.empty_like``.

    >>> empty_like(ones((2, 3), chunks=2)).chunks
    ((2,), (2, 1))
    """
    check_device(device, "empty_like")
    shape, dtype, normalized = _like("empty_like", prototype, dtype, shape, chunks)
    return Array(Full(np.zeros((), dtype=dtype), normalized, "empty_like"))


@implements(np.full_like)
def full_like(
    a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
    *, chunks: Any = None, device: Any = None,
) -> Array:
    """``fill_value`` everywhere, with the shape and dtype of ``a``, as ``numpy.full_like``.

    >>> full_like(ones(3, dtype=int, chunks=2), 2.5).compute()
    array([2, 2, 2])
    """
    check_device(device, "full_like")
    shape, dtype, normalized = _like("full_like", a, dtype, shape, chunks)
    value = _fill_value("full_like", fill_value, dtype)
    return Array(Full(value, normalized, "full_like"))


# --- ranges --------------------------------------------------------------------------------


class Arange(Source):
    """``numpy.arange``: ``first``, ``second`` (``start + step``, in the dtype), ``i * delta`` after."""

    _parameters = ("first", "second", "chunks_")

    def _dtype(self) -> Any:
        return self.first.dtype

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        return Task(
            key, _arange_block, self.first, self.second, self._offsets(index)[0], self.chunks[0][index[0]]
        )

    def _explain_line(self) -> str:
        return f"Arange: from {self.first!r}  [{self.npartitions} blocks, {self.dtype}]"


def _arange_block(first: np.generic, second: np.generic, offset: int, n: int) -> np.ndarray:
    """Elements ``offset ... offset + n - 1`` of ``numpy.arange``, computed as NumPy fills them."""
    dtype = first.dtype
    i = np.arange(offset, offset + n, dtype=np.intp)
    kind = dtype.kind
    if kind in "iu":
        # C integer arithmetic in npy_intp, then truncation to the dtype: the same modulo 2**64.
        start = np.array(first).astype(np.uint64)
        delta = np.array(second).astype(np.uint64) - start
        out = (i.astype(np.uint64) * delta + start).astype(dtype)
    elif kind == "f":
        work = np.dtype(np.float32) if dtype == np.float16 else dtype  # NumPy fills float16 in float32
        start = first.astype(work)
        delta = second.astype(work) - start
        out = (start + i.astype(work) * delta).astype(dtype, copy=False)
    elif kind == "c":
        real = np.empty(0, dtype=dtype).real.dtype
        out = np.empty(n, dtype=dtype)
        out.real = first.real + i.astype(real) * (second.real - first.real)
        out.imag = first.imag + i.astype(real) * (second.imag - first.imag)
    else:  # bool and others: at most two elements (checked when built)
        out = np.array([first, second], dtype=dtype)[offset: offset + n]
        return out
    if offset == 0 and n > 0:
        out[0] = first
    if offset <= 1 < offset + n:
        out[1 - offset] = second
    return out


def arange(
    start: Any = 0, stop: Any = None, step: Any = None, dtype: Any = None,
    *, chunks: Any = "auto", like: Any = None, device: Any = None,
) -> Array:
    """Evenly spaced values in ``[start, stop)``, as ``numpy.arange`` (same values and dtype).

    Arguments are NumPy's (``dtype`` is the fourth positional one; Dask makes it
    keyword-only). Each block computes its own elements with NumPy's formula, so
    float steps give exactly NumPy's values.

    >>> arange(5, chunks=2).chunks
    ((2, 2, 1),)
    >>> arange(1, 2, 0.25, chunks=3).compute()
    array([1.  , 1.25, 1.5 , 1.75])
    """
    check_device(device, "arange")
    if stop is None:
        start, stop = 0, start
    step_given = step is not None
    if step is None:
        step = 1
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, Array) or np.ndim(value) != 0:
            raise TypeError(f"arange: {name} must be a scalar, got {type(value).__name__}")
    if step == 0:
        raise ZeroDivisionError("arange: step must not be zero (division by zero)")
    if dtype is None:
        values = (start, stop, step) if step_given else (start, stop)
        dtype = np.result_type(*(np.asarray(v) for v in values))
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(f"arange: dtype {dtype} is not supported (use a number dtype)")
    quotient = (stop - start) / step
    if isinstance(quotient, complex) or np.iscomplexobj(quotient):
        length = min(math.ceil(quotient.real), math.ceil(quotient.imag))
    else:
        if not math.isfinite(quotient):
            raise ValueError(f"arange: cannot compute the length of arange({start}, {stop}, {step})")
        length = math.ceil(quotient)
    length = max(int(length), 0)
    if dtype.kind == "b" and length > 2:
        raise TypeError("arange() is only supported for booleans when the result has at most length 2.")
    pair = np.zeros(2, dtype=dtype)
    pair[0] = start
    if length > 1:
        pair[1] = start + step
    normalized = chunks_for("arange", chunks, (length,), dtype)
    return Array(Arange(pair[0], pair[1], normalized))


class Linspace(Source):
    """``numpy.linspace`` with scalar ``start``/``stop``; the operands hold NumPy's intermediate values."""

    _parameters = ("start", "stop", "num", "endpoint", "scale", "step_zero", "div", "dt", "dtype_", "chunks_")

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        return Task(
            key, _linspace_block, self.start, self.stop, self.num, self.endpoint, self.scale,
            self.step_zero, self.div, self.dt, self.dtype_, self._offsets(index)[0], self.chunks[0][index[0]],
        )

    def _explain_line(self) -> str:
        return f"Linspace: {self.start!r} to {self.stop!r}, num={self.num}  [{self.npartitions} blocks]"


def _linspace_block(start, stop, num, endpoint, scale, step_zero, div, dt, dtype, offset, n):
    """Elements ``offset ... offset + n - 1`` of ``numpy.linspace``, with NumPy's arithmetic."""
    y = np.arange(offset, offset + n).astype(dt)
    if div > 0:
        if step_zero:
            y /= div
            y *= scale  # delta
        else:
            y *= scale  # step
    else:
        y = y * scale  # delta
    y += start
    if endpoint and num > 1 and offset + n == num and n > 0:
        y[-1] = stop
    if np.issubdtype(dtype, np.integer):
        np.floor(y, out=y)
    return y.astype(dtype, copy=False)


def _array_converter(start: Any, stop: Any) -> tuple:
    """linspace's ``start``/``stop`` and its working dtype, by NumPy's promotion rules
    (Python scalars weak, as NEP 50 has them; an inexact dtype at least)."""
    dt = np.result_type(start, stop)
    if dt.kind not in "fc":
        dt = np.result_type(dt, 1.0)
    return start, stop, dt


def linspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
    dtype: Any = None, axis: int = 0, *, chunks: Any = "auto", device: Any = None,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``, as ``numpy.linspace``.

    ``start`` and ``stop`` must be scalars (NumPy also takes arrays). Values are
    bit-identical to NumPy's. ``dtype`` is the sixth positional argument, as in
    NumPy (Dask's sixth is ``chunks``: pass that as a keyword). ``device`` is the
    Array API's keyword: only ``None`` or ``"cpu"``.

    >>> linspace(0, 1, 5, chunks=2).compute()
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    >>> linspace(0, 1, 5, retstep=True, chunks=2)[1]
    np.float64(0.25)
    """
    check_device(device, "linspace")
    for name, value in (("start", start), ("stop", stop)):
        if isinstance(value, Array) or np.ndim(value) != 0:
            raise TypeError(f"linspace: {name} must be a scalar here, got {type(value).__name__}")
    if axis not in (0, -1):
        raise np.exceptions.AxisError(f"linspace: axis {axis} is out of bounds for a 1-d result")
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    start_c, stop_c, dt = _array_converter(start, stop)
    final = dt if dtype is None else np.dtype(dtype)
    delta = np.subtract(stop_c, start_c, dtype=type(dt))
    step_zero = False
    if div > 0:
        step = delta / div
        step_zero = bool(step == 0)
        scale = delta if step_zero else step
    else:
        step = np.nan
        scale = delta
    normalized = chunks_for("linspace", chunks, (num,), final)
    out = Array(Linspace(start_c, stop_c, num, bool(endpoint), scale, step_zero, div, dt, final, normalized))
    if retstep:
        return out, step
    return out


# --- matrices --------------------------------------------------------------------------


class Eye(Source):
    """Ones on diagonal ``k`` of an ``N x M`` matrix (``kind="eye"``) or on and below it (``"tri"``)."""

    _parameters = ("k", "dtype_", "chunks_", "kind")

    @property
    def _funcname(self) -> str:
        return self.kind

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        r0, c0 = self._offsets(index)
        nr, nc = self.block_shape(index)
        local = self.k + r0 - c0  # the diagonal's offset inside this block
        dtype = self.dtype
        if self.kind == "eye":
            if nr == 0 or nc == 0 or local >= nc or local <= -nr:
                return Task(key, _constant_block, _zero(dtype), (nr, nc))
            return Task(key, np.eye, nr, nc, local, dtype)
        if nr and nc and nc - 1 <= local:  # every column is on or below the diagonal
            return Task(key, _constant_block, np.ones((), dtype=dtype), (nr, nc))
        if nr == 0 or nc == 0 or local < -(nr - 1):
            return Task(key, _constant_block, _zero(dtype), (nr, nc))
        return Task(key, np.tri, nr, nc, local, dtype)


def _matrix(opname: str, N: Any, M: Any, k: Any, dtype: Any, chunks: Any) -> Array:
    N = normalize_shape(N, opname)
    if len(N) != 1:
        raise TypeError(f"{opname}: N must be an integer, got {N}")
    M = N[0] if M is None else normalize_shape(M, opname)[0]
    shape = (N[0], M)
    dtype = np.dtype(dtype)
    normalized = chunks_for(opname, chunks, shape, dtype)
    return Array(Eye(operator.index(k), dtype, normalized, opname))


def eye(
    N: int, M: int | None = None, k: int = 0, dtype: Any = float, order: str = "C",
    *, chunks: Any = "auto", like: Any = None, device: Any = None,
) -> Array:
    """Ones on the ``k``-th diagonal of an ``N x M`` matrix, as ``numpy.eye``.

    NumPy's argument order (Dask's second positional argument is ``chunks``;
    pass it as a keyword here). Blocks off the diagonal are zero views.

    >>> eye(3, k=1, chunks=2).compute()
    array([[0., 1., 0.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    check_device(device, "eye")
    return _matrix("eye", N, M, k, dtype, chunks)


def tri(
    N: int, M: int | None = None, k: int = 0, dtype: Any = float, *, chunks: Any = "auto", like: Any = None
) -> Array:
    """Ones on and below the ``k``-th diagonal, as ``numpy.tri``.

    >>> tri(3, dtype=int, chunks=2).compute()
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    return _matrix("tri", N, M, k, dtype, chunks)


class DiagFrom1d(ArrayExpr):
    """A 2-d array with the 1-d ``array`` on diagonal ``k`` and zeros elsewhere."""

    _parameters = ("array", "k")

    @functools.cached_property
    def _pad(self) -> tuple:
        """Chunks of the ``|k|`` extra rows (k < 0) or columns (k > 0)."""
        k = abs(self.k)
        if k == 0:
            return ()
        chunks = self.array.chunks[0]
        return normalize_chunks(max(max(chunks), 1), (k,))[0]

    def _chunks(self) -> tuple:
        vc = self.array.chunks[0]
        if self.k >= 0:
            return (vc + self._pad, self._pad + vc)
        return (self._pad + vc, vc + self._pad)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        i, j = key[1:]
        p = len(self._pad)
        diagonal = (i, j - p) if self.k >= 0 else (i - p, j)
        nv = self.array.numblocks[0]
        if diagonal[0] == diagonal[1] and 0 <= diagonal[0] < nv:
            return Task(key, np.diag, Ref((self.array.name, diagonal[0])))
        return Task(key, _constant_block, _zero(self.dtype), self.block_shape((i, j)))


class DiagFrom2d(ArrayExpr):
    """Diagonal ``k`` of the 2-d ``array``: one output block per stretch inside one input block."""

    _parameters = ("array", "k")

    @functools.cached_property
    def _pieces(self) -> list:
        """(input block index, offset inside the block's ``np.diagonal``, length) per output block."""
        x, k = self.array, self.k
        rows, cols = (chunk_boundaries(c) for c in x.chunks)
        n, m = x.shape
        r_shift, c_shift = max(0, -k), max(0, k)
        length = max(0, min(n - r_shift, m - c_shift))
        if length == 0:
            return []
        cuts = {0, length}
        cuts.update(b - r_shift for b in rows if 0 < b - r_shift < length)
        cuts.update(b - c_shift for b in cols if 0 < b - c_shift < length)
        edges = sorted(cuts)
        pieces = []
        for t0, t1 in sliding_window(2, edges):
            r, c = t0 + r_shift, t0 + c_shift
            bi = bisect.bisect_right(rows, r) - 1
            bj = bisect.bisect_right(cols, c) - 1
            lr, lc = r - rows[bi], c - cols[bj]
            local = lc - lr
            pieces.append(((bi, bj), local, lr if local >= 0 else lc, t1 - t0))
        return pieces

    def _chunks(self) -> tuple:
        pieces = self._pieces
        return (tuple(p[3] for p in pieces) or (0,),)

    def _dtype(self) -> Any:
        return self.array.dtype

    def _task(self, key: Hashable) -> Task:
        pieces = self._pieces
        if not pieces:
            return Task(key, np.zeros, 0, self.dtype)
        block, local, start, n = pieces[key[1]]
        return Task(key, _diagonal_piece, Ref((self.array.name, *block)), local, start, n)


def _diagonal_piece(block: np.ndarray, offset: int, start: int, n: int) -> np.ndarray:
    return np.diagonal(block, offset)[start: start + n].copy()


@implements(np.diag)
def diag(v: Any, k: int = 0) -> Array:
    """A 2-d array with ``v`` on diagonal ``k`` (1-d ``v``), or diagonal ``k`` of ``v`` (2-d), as ``numpy.diag``.

    >>> import numpy as np
    >>> x = diag(arange(3, chunks=2), 1)
    >>> x.chunks
    ((2, 1, 1), (1, 2, 1))
    >>> diag(x, 1).compute()
    array([0, 1, 2])
    """
    x = asarray(v)
    k = operator.index(k)
    check_known_chunks("diag", x, what=f"the input (chunks {x.chunks})")
    if x.ndim == 1:
        return Array(DiagFrom1d(x._expr, k))
    if x.ndim == 2:
        return Array(DiagFrom2d(x._expr, k))
    raise ValueError(f"diag: input must be 1-d or 2-d, got {x.ndim}-d (shape {x.shape})")


# NumPy's creation functions taking ``like=`` dispatch to these when given a chunkwise array.
for _np_func, _impl in [
    (np.ones, ones), (np.zeros, zeros), (np.empty, empty), (np.full, full), (np.arange, arange),
    (np.eye, eye), (np.tri, tri),
]:
    implements(_np_func)(_impl)
del _np_func, _impl
