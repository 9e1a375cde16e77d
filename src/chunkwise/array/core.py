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
import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from chunkwise.array.chunks import has_unknown, normalize_chunks
from chunkwise.array.expr import (
    ArrayExpr,
    Finalize,
    FromArray,
    _same_chunks,
    blockwise_call,
    broadcast_shapes,
    unknown_chunks_origin,
)
from chunkwise.base import Collection, _stored_node
from chunkwise.core.graph import DataNode, Task
from chunkwise.core.tokenize import tokenize

__all__ = [
    "HANDLED_FUNCTIONS",
    "Array",
    "array",
    "asanyarray",
    "asarray",
    "elemwise",
    "from_array",
    "implements",
    "unify_chunks",
]

#: NumPy function -> chunkwise implementation, for ``__array_function__``.
HANDLED_FUNCTIONS: dict[Callable, Callable] = {}


def implements(*numpy_functions: Callable) -> Callable:
    """Register the decorated function as the lazy version of ``numpy_functions``."""

    def decorator(func: Callable) -> Callable:
        for np_func in numpy_functions:
            HANDLED_FUNCTIONS[np_func] = func
        return func

    return decorator


def _module(name: str) -> Any:
    return importlib.import_module(f"chunkwise.array.{name}")


def _forward(module: str, function: str, doc: str) -> Callable:
    def method(self: Array, *args: Any, **kwargs: Any) -> Any:
        return getattr(_module(module), function)(self, *args, **kwargs)

    method.__name__ = function
    method.__doc__ = doc
    return method


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

    def _task(self, key: Any) -> DataNode | Task:
        # a block held on a distributed cluster (a Future) is fetched by local
        # schedulers and referred to in place on the cluster
        return _stored_node(key, self.operands[1][key])

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
        length = self.shape[0]
        if isinstance(length, float) and math.isnan(length):
            raise ValueError(
                "len() of an array with unknown chunk sizes; call x.compute_chunk_sizes() first"
            )
        return length

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

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            raise TypeError(
                f"numpy.{ufunc.__name__}: out= is not supported on chunkwise arrays (they are "
                "immutable); use the returned array instead"
            )
        kwargs.pop("out", None)
        if method == "__call__":
            if ufunc is np.matmul:
                return _module("linalg").matmul(*inputs, **kwargs)
            return elemwise(ufunc, *inputs, **kwargs)
        reductions = {np.add: "sum", np.multiply: "prod", np.minimum: "min", np.maximum: "max",
                      np.logical_and: "all", np.logical_or: "any"}
        if method in ("reduce", "accumulate"):
            kwargs.setdefault("axis", 0)  # NumPy's default for ufunc.reduce/accumulate
        if method == "reduce" and ufunc in reductions:
            return getattr(_module("reductions"), reductions[ufunc])(*inputs, **kwargs)
        accumulations = {np.add: "cumsum", np.multiply: "cumprod"}
        if method == "accumulate" and ufunc in accumulations:
            return getattr(_module("reductions"), accumulations[ufunc])(*inputs, **kwargs)
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
        import chunkwise.array as namespace

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
        if not (isinstance(size, float) and math.isnan(size)) and size != 1:
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
        new = _module("slicing").setitem(self, index, value)
        # Arrays are immutable plans; item assignment swaps in the plan with the update,
        # as Dask does, so that ``x[mask] = 0`` reads like NumPy.
        object.__setattr__(self, "_expr", new._expr)

    @property
    def T(self) -> Array:
        return self.transpose()

    @property
    def mT(self) -> Array:
        return self.swapaxes(-1, -2)

    @property
    def real(self) -> Array:
        return elemwise(np.real, self)

    @property
    def imag(self) -> Array:
        return elemwise(np.imag, self)

    @property
    def blocks(self) -> Any:
        """Index blocks, not elements: ``x.blocks[0, 1:]`` is an array of those blocks."""
        return _module("slicing").BlockView(self)

    @property
    def vindex(self) -> Any:
        """Pointwise (vectorized) indexing: ``x.vindex[[0, 2], [1, 3]]`` picks two elements."""
        return _module("slicing").VIndex(self)

    def compute_chunk_sizes(self) -> Array:
        """Compute the sizes of blocks that are unknown (``nan``); returns this array.

        As in Dask, the array itself is updated (its plan is replaced by one with
        known chunks) so later operations can use them.
        """
        if not has_unknown(self.chunks):
            return self
        new = _module("slicing").with_computed_chunks(self)
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
        return elemwise(_astype, self, dtype=dtype, funcname="astype", kwargs={"dtype": dtype})

    def copy(self) -> Array:
        """The same array (arrays are immutable, so no data is copied)."""
        return self

    def to_delayed(self) -> Any:
        """The blocks as a nested list of ``Delayed`` objects."""
        return _module("io").to_delayed(self)

    def __format__(self, spec: str) -> str:
        if spec and self.size == 1:
            return format(self.compute().reshape(()).item(), spec)
        return repr(self)


def _own_memory(block: Any) -> Any:
    """``block``, or a copy when it is a NumPy view of memory it does not own."""
    if type(block) is np.ndarray and block.base is not None:
        return block.copy()
    return block


def _astype(block: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return block.astype(dtype, copy=False)


def _binary(op: Callable, name: str) -> Callable:
    def method(self: Array, other: Any) -> Any:
        if _defer_to(other):
            return NotImplemented
        if op is np.power and type(other) in (int, float) and other == 2 and self.dtype.kind in "fc":
            return elemwise(np.square, self)  # what ndarray.__pow__ does for x ** 2: faster
        return elemwise(op, self, other)

    def reflected(self: Array, other: Any) -> Any:
        if _defer_to(other):
            return NotImplemented
        return elemwise(op, other, self)

    method.__name__ = f"__{name}__"
    reflected.__name__ = f"__r{name}__"
    return method, reflected


def _defer_to(other: Any) -> bool:
    """Whether a binary operator should return NotImplemented (let ``other`` handle it)."""
    return hasattr(other, "__array_ufunc__") and other.__array_ufunc__ is None


for _name, _op in [
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("truediv", np.true_divide),
    ("floordiv", np.floor_divide), ("mod", np.remainder), ("pow", np.power),
    ("lshift", np.left_shift), ("rshift", np.right_shift), ("and", np.bitwise_and),
    ("or", np.bitwise_or), ("xor", np.bitwise_xor), ("divmod", np.divmod),
]:
    _m, _r = _binary(_op, _name)
    setattr(Array, f"__{_name}__", _m)
    setattr(Array, f"__r{_name}__", _r)
for _name, _op in [("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                   ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)]:
    setattr(Array, f"__{_name}__", _binary(_op, _name)[0])
for _name, _op in [("neg", np.negative), ("pos", np.positive), ("abs", np.absolute),
                   ("invert", np.invert)]:
    setattr(Array, f"__{_name}__", (lambda op: lambda self: elemwise(op, self))(_op))
Array.__matmul__ = lambda self, other: _module("linalg").matmul(self, other)  # type: ignore[attr-defined]
Array.__rmatmul__ = lambda self, other: _module("linalg").matmul(other, self)  # type: ignore[attr-defined]

_FORWARDED = {
    "reductions": [
        ("sum", "Sum of elements over ``axis``, as numpy.sum."),
        ("prod", "Product over ``axis``, as numpy.prod."),
        ("mean", "Mean over ``axis``, as numpy.mean."),
        ("var", "Variance over ``axis`` (``ddof``), as numpy.var."),
        ("std", "Standard deviation over ``axis`` (``ddof``), as numpy.std."),
        ("min", "Minimum over ``axis``, as numpy.min."),
        ("max", "Maximum over ``axis``, as numpy.max."),
        ("argmin", "Index of the minimum over ``axis``, as numpy.argmin."),
        ("argmax", "Index of the maximum over ``axis``, as numpy.argmax."),
        ("any", "Whether any element is true over ``axis``, as numpy.any."),
        ("all", "Whether all elements are true over ``axis``, as numpy.all."),
        ("ptp", "Range (max - min) over ``axis``, as numpy.ptp."),
        ("cumsum", "Cumulative sum over ``axis``, as numpy.cumsum."),
        ("cumprod", "Cumulative product over ``axis``, as numpy.cumprod."),
    ],
    "manipulation": [
        ("transpose", "Permute the axes, as numpy.transpose."),
        ("swapaxes", "Swap two axes, as numpy.swapaxes."),
        ("reshape", "A new shape with the same data, as numpy.reshape."),
        ("ravel", "The array flattened to 1-d, as numpy.ravel."),
        ("flatten", "The array flattened to 1-d, as numpy.ndarray.flatten."),
        ("squeeze", "Remove length-1 axes, as numpy.squeeze."),
        ("repeat", "Repeat elements, as numpy.repeat."),
    ],
    "elementwise": [
        ("clip", "Limit values to ``[min, max]``, as numpy.clip."),
        ("round", "Round to ``decimals``, as numpy.round."),
        ("conj", "Complex conjugate, as numpy.conj."),
        ("nonzero", "Indices of non-zero elements, as numpy.nonzero."),
    ],
    "rechunk": [("rechunk", "The same array with new chunks; see chunkwise.array.rechunk.")],
    "blockwise": [("map_blocks", "Apply a function to every block; see chunkwise.array.map_blocks.")],
    "io": [
        ("store", "Write the blocks into a target supporting ``__setitem__``; see chunkwise.array.store."),
        ("to_zarr", "Write to a zarr array; see chunkwise.array.to_zarr."),
        ("to_hdf5", "Write to an HDF5 file; see chunkwise.array.to_hdf5."),
    ],
    "linalg": [("dot", "Dot product, as numpy.dot.")],
}
for _module_name, _methods in _FORWARDED.items():
    for _name, _doc in _methods:
        setattr(Array, _name, _forward(_module_name, _name, _doc))
del _name, _op, _m, _r, _module_name, _methods, _doc


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
    if any(isinstance(s, float) and math.isnan(s) for s in x.shape):
        raise ValueError(
            f"from_array: the {type(x).__name__} has unknown lengths (shape {tuple(x.shape)}); "
            "compute them first (for a dask array: x.compute_chunk_sizes())"
        )
    if type(x).__module__.startswith("h5py") and "chunkwise_incomplete" in getattr(x, "attrs", ()):
        # marked by a chunkwise.array.to_hdf5 that did not finish (see array/io.py)
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
        import uuid

        expr_name = "array-" + uuid.uuid4().hex
    elif isinstance(name, str):
        expr_name = name
    else:
        expr_name = None
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.reshape(())
    return Array(FromArray(x, normalized, lock or None, expr_name))


def asarray(a: Any, dtype: Any = None, order: Any = None, like: Any = None, **kwargs: Any) -> Array:
    """``a`` as a chunkwise array (arrays pass through; others via :func:`from_array`)."""
    if isinstance(a, Array):
        out = a
    elif hasattr(a, "to_dask_array") or hasattr(a, "__chunkwise_array__"):
        out = a.__chunkwise_array__()
    else:
        if not hasattr(a, "shape") or not hasattr(a, "dtype"):
            a = np.asarray(a, dtype=dtype)
        out = from_array(a, chunks=kwargs.pop("chunks", "auto"))
    if dtype is not None and out.dtype != np.dtype(dtype):
        out = out.astype(dtype)
    return out


array = asarray
asanyarray = asarray


# --- elementwise core --------------------------------------------------------------------


def _as_operand(x: Any) -> Any:
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
        return _as_operand(np.asarray(x))
    if isinstance(x, Collection):
        raise TypeError(
            f"cannot combine a chunkwise array with a {type(x).__name__} elementwise"
        )
    if _is_foreign_array(x):
        if type(x).__module__.partition(".")[0] == "pandas":
            return _as_operand(np.asarray(x))  # in memory already
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


def unify_chunks(*exprs: Any, opname: str = "operation") -> list:
    """The array operands rechunked so blocks line up on every (broadcast) axis.

    On each axis, the chunks of the largest operand are kept and the others are
    rechunked to them (moving the fewest bytes).
    """
    from chunkwise.array.rechunk import Rechunk

    arrays = [e for e in exprs if isinstance(e, ArrayExpr)]
    if len(arrays) < 2:
        return list(exprs)
    ndim = max(a.ndim for a in arrays)
    shape = broadcast_shapes(*(a.shape for a in arrays))
    target: list = [None] * ndim
    for axis in range(ndim):
        best = None
        for a in sorted(arrays, key=lambda a: -_nbytes(a)):
            offset = axis - (ndim - a.ndim)
            if offset < 0 or (a.shape[offset] == 1 and shape[axis] != 1):
                continue
            if best is None:
                best = a.chunks[offset]
        target[axis] = best
    out = []
    for e in exprs:
        if not isinstance(e, ArrayExpr):
            out.append(e)
            continue
        new = []
        for d in range(e.ndim):
            axis = d + ndim - e.ndim
            want = target[axis]
            have = e.chunks[d]
            if (e.shape[d] == 1 and shape[axis] != 1) or want is None or _same_chunks(have, want):
                new.append(have)
                continue
            if has_unknown((have,)) or has_unknown((want,)):
                raise ValueError(
                    f"{opname}: operands have unknown chunk sizes that may not line up "
                    f"({have} vs {want}); call x.compute_chunk_sizes() first"
                )
            new.append(want)
        new = tuple(new)
        out.append(e if new == e.chunks else Rechunk(e, new))
    return out


def _nbytes(a: ArrayExpr) -> float:
    n = a.nbytes
    return 0 if isinstance(n, float) and math.isnan(n) else n


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
    call_kwargs = dict(kwargs or {})
    call_kwargs.update(ufunc_kwargs)
    if "dtype" in ufunc_kwargs and dtype is None:
        dtype = ufunc_kwargs["dtype"]
    operands = _align_foreign(args, [_as_operand(a) for a in args])
    try:
        broadcast_shapes(*(o.shape for o in operands if isinstance(o, ArrayExpr)))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if op is np.power and len(operands) == 2:
        _check_integer_power(*operands)
    _check_unknown_chunks_align(operands, name)
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
    if isinstance(exponent, FromArray) and type(exponent.source) is np.ndarray:  # in memory
        negative = exponent.source.size and exponent.source.min() < 0
    else:
        negative = isinstance(exponent, (numbers.Integral, np.integer)) and exponent < 0
    if negative:
        raise ValueError("Integers to negative integer powers are not allowed.")


def _check_unknown_chunks_align(operands: list, opname: str) -> None:
    """Refuse to pair blocks of unknown (``nan``) lengths unless they provably line up.

    Blocks line up when both sides' unknown chunks come from the same node (see
    :func:`~chunkwise.array.expr.unknown_chunks_origin`); otherwise block ``i``
    of one side may hold other elements than block ``i`` of the other.
    """
    arrays = [o for o in operands if isinstance(o, ArrayExpr)]
    if len(arrays) < 2 or not any(a.unknown_chunks for a in arrays):
        return
    ndim = max(a.ndim for a in arrays)
    for axis in range(ndim):
        sides = []
        for a in arrays:
            offset = axis - (ndim - a.ndim)
            if offset >= 0 and a.shape[offset] != 1:
                sides.append((a, offset))
        if not any(has_unknown((a.chunks[d],)) for a, d in sides):
            continue
        origins = {
            unknown_chunks_origin(a, d) if has_unknown((a.chunks[d],)) else None for a, d in sides
        }
        if len(origins) > 1 or None in origins:
            shapes = " ".join(str(tuple(a.shape)) for a in arrays)
            raise ValueError(
                f"{opname}: operands with shapes {shapes} have unknown chunk sizes (nan) on axis "
                f"{axis} that may not line up block by block (e.g. two different boolean masks); "
                "call compute_chunk_sizes() on each of them first (or rechunk them to known chunks)"
            )


def _infer_out_dtypes(op: Callable, operands: list, kwargs: dict) -> tuple:
    from chunkwise.array.expr import infer_dtype

    return infer_dtype(op, operands, kwargs)  # type: ignore[return-value]


def is_array(x: Any) -> bool:
    """Whether ``x`` is a chunkwise array."""
    return isinstance(x, Array)

