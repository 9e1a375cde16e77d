"""The ``Array`` collection: a NumPy-like array split into blocks, computed lazily.

``Array`` is a thin, immutable wrapper around an
:class:`~chunkwise.array.expr.ArrayExpr`. Its metadata (shape, dtype, chunks)
is known without computing; operations return new arrays; ``.compute()``
returns a NumPy array.

NumPy's protocols are implemented: ``np.sin(x)`` and every other ufunc stay
lazy (``__array_ufunc__``; ``out=`` is refused since arrays are immutable), the
NumPy functions chunkwise implements dispatch lazily (``__array_function__``;
the others raise a ``TypeError`` naming the function), and ``np.asarray(x)``
computes (``__array__``).

Each module adds its operations: ``elementwise``, ``reductions``, ``slicing``,
``rechunk``, ``manipulation``, ``creation``, ``random``, ``blockwise``, ``io``
and ``repr``. The methods below forward to them; the NumPy functions they
implement are registered with :func:`implements`.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
>>> x
chunkwise.array<array, shape=(3, 4), dtype=int64, chunksize=(2, 2), chunktype=numpy.ndarray>
>>> y = np.sqrt(x + 1)
>>> y.dtype, y.chunks
(dtype('float64'), ((2, 1), (2, 2)))
>>> np.asarray(y)[2, 3]
np.float64(3.4641016151377544)
"""

from __future__ import annotations

import importlib
import numbers
import operator
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
from toolz import merge

from chunkwise.array.chunks import check_known_chunks, has_unknown, normalize_chunks
from chunkwise.array.expr import (
    ArrayExpr,
    Finalize,
    FromArray,
    blockwise_call,
    broadcast_shapes,
    infer_dtype,
)
from chunkwise.array.rechunk import check_unknown_chunks_align, unify_chunks
from chunkwise.array.utils import is_nan
from chunkwise.base import Collection, stored_node
from chunkwise.core.graph import DataNode, Task
from chunkwise.core.tokenize import tokenize

__all__ = [
    "HANDLED_FUNCTIONS",
    "Array",
    "astype_block",
    "check_device",
    "array",
    "asanyarray",
    "asarray",
    "elemwise",
    "from_array",
    "implements",
]

#: Array API versions ``__array_namespace__(api_version=...)`` accepts (the last is implemented).
_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12", "2025.12")

#: NumPy function -> chunkwise implementation, for ``__array_function__``.
HANDLED_FUNCTIONS: dict[Callable, Callable] = {}


def implements(*numpy_functions: Callable) -> Callable:
    """Register the decorated function as the lazy version of ``numpy_functions``."""

    def decorator(func: Callable) -> Callable:
        for np_func in numpy_functions:
            HANDLED_FUNCTIONS[np_func] = func
        return func

    return decorator


def _check_scan_method(opname: str, method: Any) -> None:
    """Accept Dask's ``method=`` of ``cumsum``/``cumprod``: an algorithm choice, not a result change."""
    if method not in ("sequential", "blelloch"):
        raise ValueError(f"{opname}: method must be 'sequential' or 'blelloch' (Dask's scan "
                         f"algorithms, which give the same values), got {method!r}")


def _module(name: str) -> Any:
    """The array module ``name``, for ``Array`` methods that forward to it.

    Those modules import this one (they build ``Array`` objects), so the methods
    look them up when called rather than import them here.
    """
    return importlib.import_module(f"chunkwise.array.{name}")


class PersistedArray(ArrayExpr):
    """Computed blocks standing in for the array expression that produced them."""

    _parameters = ("source", "data")

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.operands[0].name

    def dependencies(self) -> list:
        return []

    def _chunks(self) -> tuple:
        return self.operands[0].chunks

    def _dtype(self) -> Any:
        return self.operands[0].dtype

    def _masked(self) -> bool:
        return self.operands[0].masked

    def _task(self, key: Any) -> DataNode | Task:
        # a block held on a distributed cluster (a Future) is fetched by local
        # schedulers and referred to in place on the cluster
        return stored_node(key, self.operands[1][key])

    def _explain_line(self) -> str:
        return f"Persisted: {len(self.operands[1])} blocks  [{self.dtype}]"


class Array(Collection):
    """A lazy, chunked, NumPy-like array; see the module docstring."""

    __slots__ = ()
    __array_priority__ = 11  # beat NumPy arrays and pandas objects in mixed operations

    def __init__(self, expr: ArrayExpr):
        if not isinstance(expr, ArrayExpr):
            raise TypeError(f"Array wraps an ArrayExpr, got {type(expr).__name__}")
        super().__init__(expr)

    # --- collection protocol --------------------------------------------------

    def _finalize(self) -> Finalize:
        return Finalize(self._expr)

    def _rebuild(self, expr: Any) -> Array:
        return Array(expr)

    def _persisted(self, expr: ArrayExpr, data: dict) -> ArrayExpr:
        # blocks that are views (of the user's input, read by from_array) are copied:
        # later writes to the input must not show through the persisted array
        return PersistedArray(expr, {k: _own_memory(v) for k, v in data.items()})

    # --- metadata -------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._expr.name

    @property
    def shape(self) -> tuple:
        return self._expr.shape

    @property
    def dtype(self) -> np.dtype:
        return self._expr.dtype

    @property
    def chunks(self) -> tuple:
        return self._expr.chunks

    @property
    def numblocks(self) -> tuple:
        return self._expr.numblocks

    @property
    def npartitions(self) -> int:
        return self._expr.npartitions

    @property
    def chunksize(self) -> tuple:
        """The largest block length on each axis."""
        return tuple(max(c) if c else 0 for c in self.chunks)

    @property
    def ndim(self) -> int:
        return self._expr.ndim

    @property
    def size(self) -> float:
        return self._expr.size

    @property
    def nbytes(self) -> float:
        return self._expr.nbytes

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object (a 0-d array)")
        check_known_chunks("len()", self, axes=(0,))
        return self.shape[0]

    def __repr__(self) -> str:
        return _module("repr").array_repr(self)

    def _repr_html_(self) -> str:
        return _module("repr").array_repr_html(self)

    def __dir__(self):
        return sorted(set(dir(type(self))))

    __hash__ = object.__hash__

    # --- NumPy protocols ------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        result = np.asarray(self.compute())
        if dtype is not None and result.dtype != dtype:
            result = result.astype(dtype)
        return result

    def __dlpack__(self, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
                   copy: Any = None) -> Any:
        """The computed values as a DLPack capsule (NumPy exports them): this computes the array."""
        if stream is not None:
            raise BufferError("__dlpack__: streams are not supported (chunkwise arrays live on 'cpu')")
        values = np.asarray(self.compute())
        if not values.flags.writeable and copy is not False and (max_version is None or max_version < (1, 0)):
            values = values.copy()  # DLPack before 1.0 cannot mark a buffer read-only
        return values.__dlpack__(max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self) -> tuple[int, int]:
        """The DLPack device of the values: the CPU (``kDLCPU`` = 1), device 0."""
        return (1, 0)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            raise TypeError(
                f"numpy.{ufunc.__name__}: out= is not supported on chunkwise arrays (they are "
                "immutable); use the returned array instead"
            )
        kwargs.pop("out", None)
        if method == "__call__":
            if ufunc is np.matmul:
                return _module("contraction").matmul(*inputs, **kwargs)
            if ufunc is getattr(np, "vecdot", None):  # a gufunc: a contraction, not elementwise
                return _module("contraction").vecdot(*inputs, **kwargs)
            return elemwise(ufunc, *inputs, **kwargs)
        reductions = {np.add: "sum", np.multiply: "prod", np.minimum: "min", np.maximum: "max",
                      np.logical_and: "all", np.logical_or: "any"}
        if method in ("reduce", "accumulate"):
            kwargs.setdefault("axis", 0)  # NumPy's default for ufunc.reduce/accumulate
        if method == "reduce" and ufunc in reductions:
            return getattr(_module("reductions"), reductions[ufunc])(*inputs, **kwargs)
        accumulations = {np.add: "cumsum", np.multiply: "cumprod"}
        if method == "accumulate" and ufunc in accumulations:
            return getattr(_module("cumulative"), accumulations[ufunc])(*inputs, **kwargs)
        if method == "outer":
            a, b = inputs
            a, b = asarray(a), asarray(b)
            return elemwise(ufunc, a.reshape(a.shape + (1,) * b.ndim), b, **kwargs)
        return NotImplemented

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict) -> Any:
        impl = HANDLED_FUNCTIONS.get(func)
        if impl is None:
            name = getattr(func, "__module__", "numpy") + "." + getattr(func, "__name__", str(func))
            raise TypeError(
                f"{name} is not implemented lazily for chunkwise arrays; compute first "
                f"(np.asarray(x) or x.compute()) or use x.map_blocks({func.__name__})"
            )
        return impl(*args, **kwargs)

    def __array_namespace__(self, api_version: str | None = None) -> Any:
        if api_version is not None and api_version not in _API_VERSIONS:
            raise ValueError(
                f"__array_namespace__: Array API version {api_version!r} is not supported; "
                f"chunkwise.array implements {_API_VERSIONS[-1]} (and the earlier {', '.join(_API_VERSIONS[:-1])})"
            )
        import chunkwise.array as namespace  # the package imports this module: look it up when asked

        return namespace

    # --- conversion to Python scalars (computes) ---------------------------------

    def _scalar(self, kind: Callable) -> Any:
        if self.size != 1:
            raise TypeError(
                f"only arrays of size 1 convert to Python scalars; this one has shape {self.shape}"
            )
        return kind(self.compute().reshape(()))

    def __bool__(self) -> bool:
        size = self.size
        if not is_nan(size) and size != 1:
            if size == 0:
                raise ValueError(
                    "The truth value of an empty array is ambiguous. Use `array.size > 0` to "
                    "check that an array is not empty."
                )
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. "
                "Use a.any() or a.all()"
            )
        return self._scalar(bool)

    def __int__(self) -> int:
        return self._scalar(int)

    def __float__(self) -> float:
        return self._scalar(float)

    def __complex__(self) -> complex:
        return self._scalar(complex)

    def __index__(self) -> int:
        if not np.issubdtype(self.dtype, np.integer):
            raise TypeError(f"only integer arrays can be used as an index, not {self.dtype}")
        return self._scalar(int)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        for i in range(len(self)):
            yield self[i]

    def __reduce__(self):
        return (Array, (self._expr,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"chunkwise arrays are immutable: cannot set {name!r}")

    # --- operators ----------------------------------------------------------------

    def __getitem__(self, index: Any) -> Array:
        return _module("slicing").getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        new = _module("assignment").setitem(self, index, value)
        # Arrays are immutable plans; item assignment swaps in the plan with the update,
        # as Dask does, so that ``x[mask] = 0`` reads like NumPy.
        object.__setattr__(self, "_expr", new._expr)

    @property
    def T(self) -> Array:
        return self.transpose()

    @property
    def mT(self) -> Array:
        """The matrices on the last two axes transposed (the Array API's ``x.mT``)."""
        if self.ndim < 2:
            raise ValueError(f"mT: the array must be at least 2-d, got shape {self.shape}")
        return self.swapaxes(-1, -2)

    @property
    def device(self) -> str:
        """The device the array lives on: always ``"cpu"`` (its blocks are NumPy arrays)."""
        return "cpu"

    def to_device(self, device: Any, /, *, stream: Any = None) -> Array:
        """This array on ``device``: only ``"cpu"`` (where it already is) is supported."""
        check_device(device, "to_device")
        if stream is not None:
            raise ValueError("to_device: streams are not supported (the device is 'cpu')")
        return self

    @property
    def real(self) -> Array:
        return elemwise(np.real, self)

    @property
    def imag(self) -> Array:
        return elemwise(np.imag, self)

    @property
    def blocks(self) -> Any:
        """Index blocks, not elements: ``x.blocks[0, 1:]`` is an array of those blocks; see chunkwise.array.slicing.BlockView."""
        return _module("slicing").BlockView(self)

    @property
    def vindex(self) -> Any:
        """Pointwise (vectorized) indexing: ``x.vindex[[0, 2], [1, 3]]`` picks two elements; see chunkwise.array.gather.VIndex."""
        return _module("gather").VIndex(self)

    def compute_chunk_sizes(self) -> Array:
        """Compute the sizes of blocks that are unknown (``nan``); returns this array.

        As in Dask, the array itself is updated (its plan is replaced by one with
        known chunks) so later operations can use them.
        """
        if not has_unknown(self.chunks):
            return self
        new = _module("gather").with_computed_chunks(self)
        object.__setattr__(self, "_expr", new._expr)
        return self

    def astype(self, dtype: Any, casting: str = "unsafe", copy: bool = True) -> Array:
        """Cast to ``dtype`` (lazily), as ``numpy.ndarray.astype``."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if not np.can_cast(self.dtype, dtype, casting=casting):
            raise TypeError(
                f"astype: cannot cast {self.dtype} to {dtype} with casting={casting!r}"
            )
        return elemwise(astype_block, self, dtype=dtype, funcname="astype", kwargs={"dtype": dtype})

    def copy(self) -> Array:
        """The same array (arrays are immutable, so no data is copied)."""
        return self

    def to_delayed(self) -> Any:
        """The blocks as a nested list of ``Delayed`` objects; see chunkwise.array.io.to_delayed."""
        return _module("io").to_delayed(self)

    # --- arithmetic and bitwise operators (elementwise, NumPy broadcasting) -------------------

    def __add__(self, other: Any) -> Any:
        """``self + other`` elementwise, as ``numpy.add``."""
        return _binary(np.add, self, other)

    def __radd__(self, other: Any) -> Any:
        """``other + self`` elementwise, as ``numpy.add``."""
        return _reflected(np.add, self, other)

    def __sub__(self, other: Any) -> Any:
        """``self - other`` elementwise, as ``numpy.subtract``."""
        return _binary(np.subtract, self, other)

    def __rsub__(self, other: Any) -> Any:
        """``other - self`` elementwise, as ``numpy.subtract``."""
        return _reflected(np.subtract, self, other)

    def __mul__(self, other: Any) -> Any:
        """``self * other`` elementwise, as ``numpy.multiply``."""
        return _binary(np.multiply, self, other)

    def __rmul__(self, other: Any) -> Any:
        """``other * self`` elementwise, as ``numpy.multiply``."""
        return _reflected(np.multiply, self, other)

    def __truediv__(self, other: Any) -> Any:
        """``self / other`` elementwise, as ``numpy.true_divide``."""
        return _binary(np.true_divide, self, other)

    def __rtruediv__(self, other: Any) -> Any:
        """``other / self`` elementwise, as ``numpy.true_divide``."""
        return _reflected(np.true_divide, self, other)

    def __floordiv__(self, other: Any) -> Any:
        """``self // other`` elementwise, as ``numpy.floor_divide``."""
        return _binary(np.floor_divide, self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        """``other // self`` elementwise, as ``numpy.floor_divide``."""
        return _reflected(np.floor_divide, self, other)

    def __mod__(self, other: Any) -> Any:
        """``self % other`` elementwise, as ``numpy.remainder``."""
        return _binary(np.remainder, self, other)

    def __rmod__(self, other: Any) -> Any:
        """``other % self`` elementwise, as ``numpy.remainder``."""
        return _reflected(np.remainder, self, other)

    def __pow__(self, other: Any) -> Any:
        """``self ** other`` elementwise, as ``numpy.power``."""
        return _binary(np.power, self, other)

    def __rpow__(self, other: Any) -> Any:
        """``other ** self`` elementwise, as ``numpy.power``."""
        return _reflected(np.power, self, other)

    def __lshift__(self, other: Any) -> Any:
        """``self << other`` elementwise, as ``numpy.left_shift``."""
        return _binary(np.left_shift, self, other)

    def __rlshift__(self, other: Any) -> Any:
        """``other << self`` elementwise, as ``numpy.left_shift``."""
        return _reflected(np.left_shift, self, other)

    def __rshift__(self, other: Any) -> Any:
        """``self >> other`` elementwise, as ``numpy.right_shift``."""
        return _binary(np.right_shift, self, other)

    def __rrshift__(self, other: Any) -> Any:
        """``other >> self`` elementwise, as ``numpy.right_shift``."""
        return _reflected(np.right_shift, self, other)

    def __and__(self, other: Any) -> Any:
        """``self & other`` elementwise, as ``numpy.bitwise_and``."""
        return _binary(np.bitwise_and, self, other)

    def __rand__(self, other: Any) -> Any:
        """``other & self`` elementwise, as ``numpy.bitwise_and``."""
        return _reflected(np.bitwise_and, self, other)

    def __or__(self, other: Any) -> Any:
        """``self | other`` elementwise, as ``numpy.bitwise_or``."""
        return _binary(np.bitwise_or, self, other)

    def __ror__(self, other: Any) -> Any:
        """``other | self`` elementwise, as ``numpy.bitwise_or``."""
        return _reflected(np.bitwise_or, self, other)

    def __xor__(self, other: Any) -> Any:
        """``self ^ other`` elementwise, as ``numpy.bitwise_xor``."""
        return _binary(np.bitwise_xor, self, other)

    def __rxor__(self, other: Any) -> Any:
        """``other ^ self`` elementwise, as ``numpy.bitwise_xor``."""
        return _reflected(np.bitwise_xor, self, other)

    def __divmod__(self, other: Any) -> Any:
        """``divmod(self, other)`` elementwise, as ``numpy.divmod``."""
        return _binary(np.divmod, self, other)

    def __rdivmod__(self, other: Any) -> Any:
        """``divmod(other, self)`` elementwise, as ``numpy.divmod``."""
        return _reflected(np.divmod, self, other)

    # --- comparisons (elementwise; return boolean arrays) ----------------------------------------

    def __lt__(self, other: Any) -> Any:  # type: ignore[override]
        """``self < other`` elementwise, as ``numpy.less``."""
        return _binary(np.less, self, other)

    def __le__(self, other: Any) -> Any:  # type: ignore[override]
        """``self <= other`` elementwise, as ``numpy.less_equal``."""
        return _binary(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Any:  # type: ignore[override]
        """``self > other`` elementwise, as ``numpy.greater``."""
        return _binary(np.greater, self, other)

    def __ge__(self, other: Any) -> Any:  # type: ignore[override]
        """``self >= other`` elementwise, as ``numpy.greater_equal``."""
        return _binary(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        """``self == other`` elementwise, as ``numpy.equal``."""
        return _binary(np.equal, self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        """``self != other`` elementwise, as ``numpy.not_equal``."""
        return _binary(np.not_equal, self, other)

    # --- unary operators ---------------------------------------------------------------------------

    def __neg__(self) -> Array:
        """``-self`` elementwise, as ``numpy.negative``."""
        return elemwise(np.negative, self)

    def __pos__(self) -> Array:
        """``+self`` elementwise, as ``numpy.positive``."""
        return elemwise(np.positive, self)

    def __abs__(self) -> Array:
        """``abs(self)`` elementwise, as ``numpy.absolute``."""
        return elemwise(np.absolute, self)

    def __invert__(self) -> Array:
        """``~self`` elementwise, as ``numpy.invert``."""
        return elemwise(np.invert, self)

    def __matmul__(self, other: Any) -> Any:
        """``self @ other``, as ``numpy.matmul``; see chunkwise.array.contraction.matmul."""
        return _module("contraction").matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        """``other @ self``, as ``numpy.matmul``; see chunkwise.array.contraction.matmul."""
        return _module("contraction").matmul(other, self)

    # --- methods that forward to the functions of other modules ---------------------------------

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, split_every=None, initial=None, where=None) -> Any:
        """Sum of elements over ``axis``, as numpy.sum; see chunkwise.array.reductions.sum."""
        return _module("reductions").sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, split_every=split_every, initial=initial, where=where)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, split_every=None, initial=None, where=None) -> Any:
        """Product over ``axis``, as numpy.prod; see chunkwise.array.reductions.prod."""
        return _module("reductions").prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, split_every=split_every, initial=initial, where=where)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, split_every=None, where=None) -> Any:
        """Mean over ``axis``, as numpy.mean; see chunkwise.array.reductions.mean."""
        return _module("reductions").mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, split_every=split_every, where=where)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None, where=None, mean=None, correction=None) -> Any:
        """Variance over ``axis`` (``ddof``), as numpy.var; see chunkwise.array.reductions.var."""
        return _module("reductions").var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, split_every=split_every, where=where, mean=mean, correction=correction)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, split_every=None, where=None, mean=None, correction=None) -> Any:
        """Standard deviation over ``axis`` (``ddof``), as numpy.std; see chunkwise.array.reductions.std."""
        return _module("reductions").std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, split_every=split_every, where=where, mean=mean, correction=correction)

    def min(self, axis=None, out=None, keepdims=False, split_every=None, initial=None, where=None) -> Any:
        """Minimum over ``axis``, as numpy.min; see chunkwise.array.reductions.min."""
        return _module("reductions").min(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every, initial=initial, where=where)

    def max(self, axis=None, out=None, keepdims=False, split_every=None, initial=None, where=None) -> Any:
        """Maximum over ``axis``, as numpy.max; see chunkwise.array.reductions.max."""
        return _module("reductions").max(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every, initial=initial, where=where)

    def argmin(self, axis=None, out=None, *, keepdims=False, split_every=None) -> Any:
        """Index of the minimum over ``axis``, as numpy.argmin; see chunkwise.array.reductions.argmin."""
        return _module("reductions").argmin(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every)

    def argmax(self, axis=None, out=None, *, keepdims=False, split_every=None) -> Any:
        """Index of the maximum over ``axis``, as numpy.argmax; see chunkwise.array.reductions.argmax."""
        return _module("reductions").argmax(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every)

    def any(self, axis=None, out=None, keepdims=False, split_every=None, where=None) -> Any:
        """Whether any element is true over ``axis``, as numpy.any; see chunkwise.array.reductions.any."""
        return _module("reductions").any(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every, where=where)

    def all(self, axis=None, out=None, keepdims=False, split_every=None, where=None) -> Any:
        """Whether all elements are true over ``axis``, as numpy.all; see chunkwise.array.reductions.all."""
        return _module("reductions").all(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every, where=where)

    def ptp(self, axis=None, out=None, keepdims=False, split_every=None) -> Any:
        """Range (max - min) over ``axis``, as numpy.ptp; see chunkwise.array.reductions.ptp."""
        return _module("reductions").ptp(self, axis=axis, out=out, keepdims=keepdims, split_every=split_every)

    def cumsum(self, axis=None, dtype=None, out=None, method="sequential") -> Any:
        """Cumulative sum over ``axis``, as numpy.cumsum; see chunkwise.array.cumulative.cumsum.

        ``method`` is Dask's choice of scan algorithm (``"sequential"`` or
        ``"blelloch"``); both give the same values, and chunkwise has one (xarray passes it).
        """
        _check_scan_method("cumsum", method)
        return _module("cumulative").cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None, method="sequential") -> Any:
        """Cumulative product over ``axis``, as numpy.cumprod; see chunkwise.array.cumulative.cumprod.

        ``method``: as for :meth:`cumsum`.
        """
        _check_scan_method("cumprod", method)
        return _module("cumulative").cumprod(self, axis=axis, dtype=dtype, out=out)

    def transpose(self, *axes: Any, **kwargs: Any) -> Any:
        """Permute the axes, as numpy.transpose; see chunkwise.array.manipulation.transpose."""
        return _module("manipulation").transpose(self, *axes, **kwargs)

    def swapaxes(self, axis1, axis2) -> Any:
        """Swap two axes, as numpy.swapaxes; see chunkwise.array.manipulation.swapaxes."""
        return _module("manipulation").swapaxes(self, axis1=axis1, axis2=axis2)

    def reshape(self, *shape, order='C', newshape=None, copy=None) -> Any:
        """A new shape with the same data, as numpy.reshape; see chunkwise.array.manipulation.reshape."""
        return _module("manipulation").reshape(self, *shape, order=order, newshape=newshape, copy=copy)

    def ravel(self, order='C') -> Any:
        """The array flattened to 1-d, as numpy.ravel; see chunkwise.array.manipulation.ravel."""
        return _module("manipulation").ravel(self, order=order)

    def flatten(self, order='C') -> Any:
        """The array flattened to 1-d, as numpy.ndarray.flatten; see chunkwise.array.manipulation.flatten."""
        return _module("manipulation").flatten(self, order=order)

    def squeeze(self, axis=None) -> Any:
        """Remove length-1 axes, as numpy.squeeze; see chunkwise.array.manipulation.squeeze."""
        return _module("manipulation").squeeze(self, axis=axis)

    def repeat(self, repeats, axis=None) -> Any:
        """Repeat elements, as numpy.repeat; see chunkwise.array.manipulation.repeat."""
        return _module("manipulation").repeat(self, repeats=repeats, axis=axis)

    def clip(self, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs: Any) -> Any:
        """Limit values to ``[min, max]``, as numpy.clip; see chunkwise.array.elementwise.clip."""
        return _module("elementwise").clip(self, a_min=a_min, a_max=a_max, out=out, min=min, max=max, **kwargs)

    def round(self, decimals=0, out=None) -> Any:
        """Round to ``decimals``, as numpy.round; see chunkwise.array.elementwise.round."""
        return _module("elementwise").round(self, decimals=decimals, out=out)

    def conj(self) -> Any:
        """Complex conjugate, as numpy.conj; see chunkwise.array.elementwise.conj."""
        return _module("elementwise").conj(self)

    def nonzero(self) -> Any:
        """Indices of non-zero elements, as numpy.nonzero; see chunkwise.array.elementwise.nonzero."""
        return _module("elementwise").nonzero(self)

    def rechunk(self, chunks='auto', threshold=None, block_size_limit=None) -> Any:
        """The same array with new chunks; see chunkwise.array.rechunk.rechunk."""
        return _module("rechunk").rechunk(self, chunks=chunks, threshold=threshold, block_size_limit=block_size_limit)

    def map_blocks(self, *args, name=None, token=None, dtype=None, chunks=None, drop_axis=None, new_axis=None, enforce_ndim=False, meta=None, **kwargs: Any) -> Any:
        """Apply a function to every block; see chunkwise.array.blockwise.map_blocks."""
        return _module("blockwise").map_blocks(self, *args, name=name, token=token, dtype=dtype, chunks=chunks, drop_axis=drop_axis, new_axis=new_axis, enforce_ndim=enforce_ndim, meta=meta, **kwargs)

    def map_overlap(self, func, depth, boundary=None, trim=True, **kwargs: Any) -> Any:
        """``func`` on every block extended by its neighbours; see chunkwise.array.overlap.map_overlap."""
        return _module("overlap").map_overlap(func, self, depth=depth, boundary=boundary, trim=trim, **kwargs)

    def topk(self, k, axis=-1, split_every=None) -> Any:
        """The ``k`` largest elements (``k < 0``: smallest); see chunkwise.array.sorting.topk."""
        return _module("sorting").topk(self, k, axis=axis, split_every=split_every)

    def argtopk(self, k, axis=-1, split_every=None) -> Any:
        """The indices of the ``k`` largest elements; see chunkwise.array.sorting.argtopk."""
        return _module("sorting").argtopk(self, k, axis=axis, split_every=split_every)

    def sort(self, axis=-1, kind=None, order=None, *, stable=None) -> None:
        """Sort in place along ``axis``, as ``numpy.ndarray.sort``: like item assignment, the
        array's plan is swapped for the sorted one; see chunkwise.array.sorting.sort."""
        new = _module("sorting").sort(self, axis=axis, kind=kind, order=order, stable=stable)
        object.__setattr__(self, "_expr", new._expr)

    def argsort(self, axis=-1, kind=None, order=None, *, stable=None) -> Any:
        """The indices that sort the array; see chunkwise.array.sorting.argsort."""
        return _module("sorting").argsort(self, axis=axis, kind=kind, order=order, stable=stable)

    def partition(self, kth, axis=-1, kind="introselect", order=None) -> None:
        """Partition in place around ``kth``, as ``numpy.ndarray.partition`` (the plan is swapped,
        as for item assignment); see chunkwise.array.sorting.partition."""
        new = _module("sorting").partition(self, kth, axis=axis, kind=kind, order=order)
        object.__setattr__(self, "_expr", new._expr)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None) -> Any:
        """The indices that partition the array; see chunkwise.array.sorting.argpartition."""
        return _module("sorting").argpartition(self, kth, axis=axis, kind=kind, order=order)

    def store(self, targets, lock=True, regions=None, compute=True, return_stored=False, **kwargs: Any) -> Any:
        """Write the blocks into a target supporting ``__setitem__``; see chunkwise.array.io.store."""
        return _module("io").store(self, targets=targets, lock=lock, regions=regions, compute=compute, return_stored=return_stored, **kwargs)

    def to_zarr(self, url, component=None, storage_options=None, overwrite=False, region=None, compute=True, return_stored=False, **kwargs: Any) -> Any:
        """Write to a zarr array; see chunkwise.array.io.to_zarr."""
        return _module("io").to_zarr(self, url=url, component=component, storage_options=storage_options, overwrite=overwrite, region=region, compute=compute, return_stored=return_stored, **kwargs)

    def to_hdf5(self, *args: Any, **kwargs: Any) -> Any:
        """Write to an HDF5 file; see chunkwise.array.io.to_hdf5."""
        return _module("io").to_hdf5(self, *args, **kwargs)

    def dot(self, b, out=None) -> Any:
        """Dot product, as numpy.dot; see chunkwise.array.contraction.dot."""
        return _module("contraction").dot(self, b=b, out=out)

    def __format__(self, spec: str) -> str:
        if spec and self.size == 1:
            return format(self.compute().reshape(()).item(), spec)
        return repr(self)


def _own_memory(block: Any) -> Any:
    """``block``, or a copy when it is a NumPy view of memory it does not own."""
    if type(block) is np.ndarray and block.base is not None:
        return block.copy()
    return block


def astype_block(block: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return block.astype(dtype, copy=False)


def _binary(op: Callable, array: Array, other: Any) -> Any:
    """``op(array, other)`` for a binary operator method; NotImplemented defers to ``other``."""
    if _defer_to(other):
        return NotImplemented
    if op is np.power and type(other) in (int, float) and other == 2 and array.dtype.kind in "fc":
        return elemwise(np.square, array)  # what ndarray.__pow__ does for x ** 2: faster
    return elemwise(op, array, other)


def _reflected(op: Callable, array: Array, other: Any) -> Any:
    """``op(other, array)`` for a reflected operator method (``other + x``)."""
    if _defer_to(other):
        return NotImplemented
    return elemwise(op, other, array)


def _defer_to(other: Any) -> bool:
    """Whether a binary operator should return NotImplemented (let ``other`` handle it)."""
    return hasattr(other, "__array_ufunc__") and other.__array_ufunc__ is None


# --- building arrays --------------------------------------------------------------------


def from_array(
    x: Any,
    chunks: Any = "auto",
    name: str | bool | None = None,
    lock: Any = False,
    asarray: bool | None = None,
    fancy: bool = True,
    getitem: Callable | None = None,
    meta: Any = None,
    inline_array: bool = False,
) -> Array:
    """A chunked array reading blocks of ``x`` (NumPy array, memmap, h5py/zarr dataset, ...).

    ``x`` needs ``shape``, ``dtype`` and ``__getitem__`` with slices; only each
    block's region is read. ``chunks`` is any spec :func:`normalize_chunks`
    accepts (``"auto"`` by default). ``lock=True`` (or a lock) serializes reads
    from sources that are not thread safe. ``name=False`` gives a random name
    instead of hashing ``x``'s content. Matches ``dask.array.from_array``.

    >>> import numpy as np
    >>> x = from_array(np.ones((4, 6)), chunks=(2, 3))
    >>> x.numblocks
    (2, 2)
    """
    if isinstance(x, Array):
        return x.rechunk(chunks) if chunks != "auto" else x
    if isinstance(x, (list, tuple)) or not (
        hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__getitem__")
    ):
        x = np.asarray(x)
    if any(map(is_nan, x.shape)):
        raise ValueError(
            f"from_array: the {type(x).__name__} has unknown lengths (shape {tuple(x.shape)}); "
            "compute them first (for a dask array: x.compute_chunk_sizes())"
        )
    if type(x).__module__.startswith("h5py") and "chunkwise_incomplete" in getattr(x, "attrs", ()):
        # marked by a chunkwise.array.to_hdf5 that did not finish (see array/io/hdf5.py)
        raise ValueError(
            f"from_array: the HDF5 dataset {getattr(x, 'name', '')} is incomplete: "
            f"{x.attrs['chunkwise_incomplete']}. Write it again, or delete its attribute "
            "'chunkwise_incomplete' if you know its data is whole"
        )
    shape = tuple(int(s) for s in x.shape)
    dtype = np.dtype(x.dtype)
    try:
        normalized = normalize_chunks(chunks, shape, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"from_array: {exc}") from None
    if name is False:
        expr_name = "array-" + uuid.uuid4().hex
    elif isinstance(name, str):
        expr_name = name
    else:
        expr_name = None
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.reshape(())
    return Array(FromArray(x, normalized, lock or None, expr_name))


def check_device(device: Any, opname: str) -> None:
    """Refuse a device other than ``None`` or ``"cpu"`` (the Array API's ``device=``)."""
    if device is not None and device != "cpu":
        raise ValueError(f"{opname}: chunkwise arrays live on the device 'cpu' only, not {device!r}")


def asarray(a: Any, dtype: Any = None, order: Any = None, like: Any = None, **kwargs: Any) -> Array:
    """``a`` as a chunkwise array (arrays pass through; others via :func:`from_array`).

    ``copy`` is the Array API's. ``True`` always copies: a NumPy array is copied
    now (later writes to it do not show), a chunkwise array becomes a new array
    object over the same immutable plan (a later ``x[...] = v`` on either leaves
    the other alone). ``False`` never copies: a ``ValueError`` where the dtype
    conversion (or a list's conversion) would copy. ``None``, the default,
    shares a NumPy array's memory, as ``from_array`` does.
    """
    check_device(kwargs.pop("device", None), "asarray")
    copy = kwargs.pop("copy", None)
    if isinstance(a, Array):
        out = a
    elif hasattr(a, "to_dask_array") or hasattr(a, "__chunkwise_array__"):
        out = a.__chunkwise_array__()
    else:
        if isinstance(a, np.ndarray) and copy:
            a = a.copy()
        elif not hasattr(a, "shape") or not hasattr(a, "dtype"):
            a = np.asarray(a, dtype=dtype, copy=copy)
        out = from_array(a, chunks=kwargs.pop("chunks", "auto"))
    if dtype is not None and out.dtype != np.dtype(dtype):
        if copy is False:
            raise ValueError(
                f"asarray: converting {out.dtype} to {np.dtype(dtype)} copies, but copy=False; "
                "pass copy=None (or True)"
            )
        out = out.astype(dtype)
    elif copy and out is a:
        out = Array(out.expr)
    return out


array = asarray
asanyarray = asarray


# --- elementwise core --------------------------------------------------------------------


def as_operand(x: Any) -> Any:
    """Arrays become their expressions; NumPy arrays become one-block arrays; scalars stay."""
    if isinstance(x, Array):
        return x._expr
    if isinstance(x, ArrayExpr):
        return x
    if isinstance(x, (numbers.Number, np.generic, str, bytes)) or x is None:
        return x
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return x[()]
        return FromArray(x, tuple((s,) for s in x.shape), None, "array-" + tokenize(x))
    if isinstance(x, (list, tuple)):
        return as_operand(np.asarray(x))
    if isinstance(x, Collection):
        raise TypeError(
            f"cannot combine a chunkwise array with a {type(x).__name__} elementwise"
        )
    if _is_foreign_array(x):
        if type(x).__module__.partition(".")[0] == "pandas":
            return as_operand(np.asarray(x))  # in memory already
        # a dask array, zarr/h5py dataset or any other array-like: its blocks are read as
        # from_array reads them (never handed whole to every block as if it were a scalar)
        return from_array(x)._expr
    return x


def _is_foreign_array(x: Any) -> bool:
    """Whether ``x`` is an array-like from elsewhere: ``shape``, ``dtype`` and ``__getitem__``."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__getitem__")


def _align_foreign(args: tuple, operands: list) -> list:
    """Operands read from foreign array-likes, chunked like the chunkwise arrays they meet.

    ``from_array``'s automatic chunks would make :func:`unify_chunks` rechunk one
    side; chunking the foreign source like the others' blocks avoids that.
    """
    partners = [o for a, o in zip(args, operands) if isinstance(a, (Array, ArrayExpr))]
    if not partners:
        return operands
    ndim = max(o.ndim for o in operands if isinstance(o, ArrayExpr))
    out = []
    for arg, operand in zip(args, operands):
        if not isinstance(operand, FromArray) or operand.source is not arg:
            out.append(operand)
            continue
        chunks = []
        for d, length in enumerate(operand.shape):
            axis = d + ndim - operand.ndim
            chosen = operand.chunks[d]
            for p in partners:
                offset = axis - (ndim - p.ndim)
                if offset >= 0 and p.shape[offset] == length and not has_unknown((p.chunks[offset],)):
                    chosen = p.chunks[offset]
                    break
            chunks.append(chosen)
        chunks = tuple(chunks)
        out.append(operand if chunks == operand.chunks else FromArray(arg, chunks, None, None))
    return out


def elemwise(
    op: Callable,
    *args: Any,
    dtype: Any = None,
    funcname: str | None = None,
    kwargs: dict | None = None,
    **ufunc_kwargs: Any,
) -> Any:
    """Apply ``op`` elementwise with NumPy broadcasting; chunks are unified first.

    ``ufunc_kwargs`` (e.g. ``where=``, ``casting=``, ``dtype=`` for ufuncs) go to
    ``op``. A ufunc with several outputs returns a tuple of arrays.
    """
    name = funcname or getattr(op, "__name__", "elemwise")
    if "where" in ufunc_kwargs and ufunc_kwargs["where"] is not True:
        raise TypeError(
            f"{name}: where= is not supported on chunkwise arrays; use chunkwise.array.where"
        )
    ufunc_kwargs.pop("where", None)
    call_kwargs = merge(kwargs or {}, ufunc_kwargs)
    if "dtype" in ufunc_kwargs and dtype is None:
        dtype = ufunc_kwargs["dtype"]
    operands = _align_foreign(args, [as_operand(a) for a in args])
    try:
        broadcast_shapes(*(o.shape for o in operands if isinstance(o, ArrayExpr)))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if op is np.power and len(operands) == 2:
        _check_integer_power(*operands)
    check_unknown_chunks_align(operands, name)
    operands = unify_chunks(*operands, opname=name)
    nout = getattr(op, "nout", 1)
    if nout > 1:
        whole = blockwise_call(op, *operands, kwargs=call_kwargs or None, dtype=object, funcname=name)
        dtypes = _infer_out_dtypes(op, operands, call_kwargs)
        return tuple(
            Array(blockwise_call(operator.getitem, whole, i, dtype=dt, funcname=f"{name}-{i}"))
            for i, dt in enumerate(dtypes)
        )
    expr = blockwise_call(op, *operands, kwargs=call_kwargs or None, dtype=dtype, funcname=name)
    if not any(isinstance(o, ArrayExpr) for o in operands):
        raise TypeError(f"{name}: needs at least one chunkwise array argument")
    expr.dtype  # noqa: B018 - infer now, so bad dtypes fail at build time
    return Array(expr)


def _check_integer_power(base: Any, exponent: Any) -> None:
    """NumPy's ``ValueError`` for integers to negative integer powers, at build time where known.

    A negative scalar exponent, or an in-memory NumPy exponent holding a negative
    value, is refused now; lazy exponents fail when computed, as in NumPy.
    """
    def kind(x: Any) -> str:
        if isinstance(x, ArrayExpr):
            return x.dtype.kind
        if isinstance(x, (bool, np.bool_)):
            return "b"
        return np.asarray(x).dtype.kind if isinstance(x, (numbers.Number, np.generic)) else "?"

    if kind(base) not in "biu" or kind(exponent) not in "iu":
        return
    if any(0 in x.shape for x in (base, exponent) if isinstance(x, ArrayExpr)):
        return  # an empty result: NumPy's loop never runs, so nothing is refused
    if isinstance(exponent, FromArray) and type(exponent.source) is np.ndarray:  # in memory
        negative = exponent.source.size and exponent.source.min() < 0
    else:
        negative = isinstance(exponent, (numbers.Integral, np.integer)) and exponent < 0
    if negative:
        raise ValueError("Integers to negative integer powers are not allowed.")


def _infer_out_dtypes(op: Callable, operands: list, kwargs: dict) -> tuple:
    return infer_dtype(op, operands, kwargs)  # type: ignore[return-value]


def is_array(x: Any) -> bool:
    """Whether ``x`` is a chunkwise array."""
    return isinstance(x, Array)

