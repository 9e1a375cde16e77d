"""Elementwise functions: every NumPy ufunc by name, plus ``where``, ``clip``, ``round`` ...

Each ufunc of NumPy is exported under its NumPy name (``da.sin``, ``da.add``,
``da.isnan``, ``da.divmod`` ...) as a :class:`ufunc` wrapper that applies it
block by block with broadcasting (chunks are unified first; see
:func:`chunkwise.array.core.elemwise`). Called without any chunkwise array it
simply calls NumPy. Generalized ufuncs (``matmul``, ``vecdot``, ...) are not
elementwise and live in ``linalg``.

The other functions here register themselves for ``__array_function__``, so
``np.where(x > 0, x, 0)`` on a chunkwise array stays lazy too.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.array([-1.5, 0.0, 2.25]), chunks=2)
>>> da.sin(x).dtype, np.abs(x).compute().tolist()
(dtype('float64'), [1.5, 0.0, 2.25])
>>> da.where(x > 0, x, 10).compute().tolist()
[10.0, 10.0, 2.25]
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, elemwise, implements
from chunkwise.array.expr import ArrayExpr, blockwise_call
from chunkwise.array.rechunk import Rechunk
from chunkwise.core.graph import Ref, Task

__all__ = [
    "allclose",
    "angle",
    "around",
    "clip",
    "fix",
    "imag",
    "iscomplex",
    "isclose",
    "isneginf",
    "isposinf",
    "isreal",
    "nan_to_num",
    "nonzero",
    "real",
    "round",
    "sinc",
    "ufunc",
    "where",
]


def _has_array(args: Any) -> bool:
    return any(isinstance(a, Array) for a in args)


class ufunc:
    """A NumPy ufunc applied lazily to chunkwise arrays (``da.sin``, ``da.add``, ...).

    Calls with chunkwise arrays build an elementwise plan; calls without one
    are NumPy's. ``outer``, ``reduce`` and ``accumulate`` go through NumPy's
    dispatch (``np.add.reduce(x)`` is ``x.sum()``).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(4.0), chunks=2)
    >>> da.add(x, 1).compute().tolist(), da.add.nin
    ([1.0, 2.0, 3.0, 4.0], 2)
    """

    def __init__(self, numpy_ufunc: np.ufunc):
        self._ufunc = numpy_ufunc
        self.__name__ = numpy_ufunc.__name__
        self.__doc__ = (
            f"``numpy.{numpy_ufunc.__name__}`` applied lazily, block by block, with broadcasting.\n\n"
            + (numpy_ufunc.__doc__ or "")
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not _has_array(args):
            return self._ufunc(*args, **kwargs)
        if kwargs.get("out") is not None:
            raise TypeError(
                f"{self.__name__}: out= is not supported on chunkwise arrays (they are immutable); "
                "use the returned array instead"
            )
        kwargs.pop("out", None)
        return elemwise(self._ufunc, *args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        # nin, nout, nargs, ntypes, types, identity, signature, outer, reduce, accumulate, at
        return getattr(self._ufunc, attr)

    def __repr__(self) -> str:
        return f"<chunkwise.array.ufunc {self.__name__}>"

    def __reduce__(self):
        return (ufunc, (self._ufunc,))


def _export_ufuncs() -> list:
    names = []
    for attr in sorted(dir(np)):
        value = getattr(np, attr, None)
        if attr.startswith("_") or not isinstance(value, np.ufunc) or value.signature is not None:
            continue
        globals()[attr] = ufunc(value)
        names.append(attr)
    return names


__all__ += _export_ufuncs()  # noqa: PLE0605


# --- functions that are not ufuncs -------------------------------------------------------


@implements(np.where)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Elements of ``x`` where ``condition`` holds, else of ``y``; as ``numpy.where``.

    With only ``condition`` it is :func:`nonzero` (unknown chunk sizes).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(5), chunks=2)
    >>> da.where(x % 2 == 0, x, -1).compute().tolist()
    [0, -1, 2, -1, 4]
    """
    if x is None and y is None:
        return nonzero(condition)
    if x is None or y is None:
        raise ValueError("where: either both or neither of x and y should be given")
    if not _has_array((condition, x, y)):
        return np.where(condition, x, y)
    return elemwise(np.where, condition, x, y, funcname="where")


@implements(np.clip)
def clip(a: Any, min: Any = None, max: Any = None, out: Any = None, *, a_min: Any = None,
         a_max: Any = None, **kwargs: Any) -> Array:
    """Limit the values to ``[min, max]``, as the Array API's ``clip`` and ``numpy.clip``.

    The bounds are the Array API's positional-or-keyword ``min`` and ``max``
    (positionally they are NumPy's ``a_min`` and ``a_max``, which are accepted
    as keywords too).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.from_array(np.arange(6), chunks=4).clip(1, 3).compute().tolist()
    [1, 1, 2, 3, 3, 3]
    """
    if out is not None:
        raise TypeError("clip: out= is not supported on chunkwise arrays; use the returned array")
    if a_min is not None:
        if min is not None:
            raise TypeError("clip: pass only one of a_min and min")
        min = a_min
    if a_max is not None:
        if max is not None:
            raise TypeError("clip: pass only one of a_max and max")
        max = a_max
    return elemwise(np.clip, asarray(a), min, max, funcname="clip", **kwargs)


def _round(block: np.ndarray, decimals: int) -> np.ndarray:
    return np.round(block, decimals)


@implements(np.round, np.around)
def round(a: Any, decimals: int = 0, out: Any = None) -> Array:
    """Round to ``decimals`` decimal places (half to even), as ``numpy.round``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.round(da.from_array(np.array([0.5, 1.5, 2.5]), chunks=2)).compute().tolist()
    [0.0, 2.0, 2.0]
    """
    if out is not None:
        raise TypeError("round: out= is not supported on chunkwise arrays; use the returned array")
    return elemwise(_round, asarray(a), funcname="round", kwargs={"decimals": int(decimals)})


around = round


def _nan_to_num(block: np.ndarray, nan: Any, posinf: Any, neginf: Any) -> np.ndarray:
    return np.nan_to_num(block, copy=True, nan=nan, posinf=posinf, neginf=neginf)


@implements(np.nan_to_num)
def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None,
               neginf: Any = None) -> Array:
    """Replace NaN and infinities by finite numbers, as ``numpy.nan_to_num``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.array([np.nan, np.inf, -np.inf, 1.0]), chunks=2)
    >>> da.nan_to_num(x, posinf=9, neginf=-9).compute().tolist()
    [0.0, 9.0, -9.0, 1.0]
    """
    return elemwise(_nan_to_num, asarray(x), funcname="nan_to_num",
                    kwargs={"nan": nan, "posinf": posinf, "neginf": neginf})


def _simple(numpy_function: Any, name: str, doc: str) -> Any:
    def function(x: Any) -> Array:
        return elemwise(numpy_function, asarray(x), funcname=name)

    function.__name__ = name
    function.__qualname__ = name
    function.__doc__ = doc
    implements(numpy_function)(function)
    return function


real = _simple(np.real, "real", """The real part, as ``numpy.real``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.real(da.from_array(np.array([1 + 2j, 3 - 1j]))).compute().tolist()
    [1.0, 3.0]
    """)
imag = _simple(np.imag, "imag", """The imaginary part, as ``numpy.imag``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.imag(da.from_array(np.array([1 + 2j, 3 - 1j]))).compute().tolist()
    [2.0, -1.0]
    """)
fix = _simple(np.fix, "fix", """Round towards zero, as ``numpy.fix``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.fix(da.from_array(np.array([-1.5, 2.7]))).compute().tolist()
    [-1.0, 2.0]
    """)
isreal = _simple(np.isreal, "isreal", """Whether each element has no imaginary part, as ``numpy.isreal``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.isreal(da.from_array(np.array([1 + 0j, 1j]))).compute().tolist()
    [True, False]
    """)
iscomplex = _simple(np.iscomplex, "iscomplex", """Whether each element has an imaginary part, as ``numpy.iscomplex``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.iscomplex(da.from_array(np.array([1 + 0j, 1j]))).compute().tolist()
    [False, True]
    """)
isposinf = _simple(np.isposinf, "isposinf", """Whether each element is +inf, as ``numpy.isposinf``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.isposinf(da.from_array(np.array([np.inf, -np.inf]))).compute().tolist()
    [True, False]
    """)
isneginf = _simple(np.isneginf, "isneginf", """Whether each element is -inf, as ``numpy.isneginf``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.isneginf(da.from_array(np.array([np.inf, -np.inf]))).compute().tolist()
    [False, True]
    """)
sinc = _simple(np.sinc, "sinc", """The normalized sinc function, as ``numpy.sinc``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.sinc(da.from_array(np.array([0.0]))).compute().tolist()
    [1.0]
    """)


def _angle(block: np.ndarray, deg: bool) -> np.ndarray:
    return np.angle(block, deg=deg)


@implements(np.angle)
def angle(z: Any, deg: bool = False) -> Array:
    """The angle of complex numbers (radians, or degrees with ``deg=True``), as ``numpy.angle``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.angle(da.from_array(np.array([1j, -1 + 0j])), deg=True).compute().tolist()
    [90.0, 180.0]
    """
    return elemwise(_angle, asarray(z), funcname="angle", kwargs={"deg": bool(deg)})


def _isclose(a: Any, b: Any, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


@implements(np.isclose)
def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Array:
    """Elementwise ``|a - b| <= atol + rtol * |b|``, as ``numpy.isclose``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> da.isclose(da.from_array(np.array([1.0, 2.0])), 1.0 + 1e-9).compute().tolist()
    [True, False]
    """
    if not _has_array((a, b)):
        return np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    return elemwise(_isclose, a, b, dtype=bool, funcname="isclose",
                    kwargs={"rtol": rtol, "atol": atol, "equal_nan": bool(equal_nan)})


@implements(np.allclose)
def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Array:
    """Whether all elements are close, as ``numpy.allclose``: a lazy 0-d bool array.

    Unlike NumPy, the result is a chunkwise array; ``bool()`` or ``.compute()`` it.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> bool(da.allclose(da.from_array(np.ones(4), chunks=2), 1.0))
    True
    """
    close = isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not isinstance(close, Array):
        return np.bool_(close.all())
    return close.all()


# --- nonzero: unknown output sizes --------------------------------------------------------


class NonzeroBlocks(ArrayExpr):
    """Per input block, the tuple of its non-zero indices (offset to the whole array).

    A 1-d object array with one block (of unknown length) per input block, in
    C order of the blocks; every axis but the first must be in one block so the
    concatenated indices come out in NumPy's (C) order.
    """

    _parameters = ("array",)

    def _chunks(self) -> tuple:
        return ((math.nan,) * self.array.npartitions,)

    def _dtype(self) -> Any:
        return object

    def _task(self, key: Hashable) -> Task:
        array = self.array
        index = np.unravel_index(key[1], array.numblocks)
        offsets = tuple(int(sum(c[:i])) for c, i in zip(array.chunks, index))
        return Task(key, _block_nonzero, Ref((array.name, *(int(i) for i in index))), offsets)


def _block_nonzero(block: np.ndarray, offsets: tuple) -> tuple:
    return tuple(ix + off for ix, off in zip(np.nonzero(block), offsets))


def _pick(indices: tuple, axis: int) -> np.ndarray:
    return indices[axis]


@implements(np.nonzero)
def nonzero(a: Any) -> tuple:
    """The indices of the non-zero elements, one 1-d array per axis, as ``numpy.nonzero``.

    The results have unknown chunk sizes (``nan``). To keep NumPy's (C) order,
    every axis but the first is first rechunked into a single block.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> rows, cols = da.nonzero(da.from_array(np.eye(3), chunks=2))
    >>> rows.compute().tolist(), cols.compute().tolist()
    ([0, 1, 2], [0, 1, 2])
    """
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("nonzero: calling nonzero on 0d arrays is not allowed; use atleast_1d(x).nonzero()")
    expr = a.expr
    if a.ndim > 1 and any(n > 1 for n in a.numblocks[1:]):
        check_known_chunks("nonzero", a.chunks[1:], what=f"the array on axes 1.. ({a.chunks[1:]})")
        expr = Rechunk(expr, (a.chunks[0],) + tuple((int(s),) for s in a.shape[1:]))
    blocks = NonzeroBlocks(expr)
    return tuple(
        Array(blockwise_call(_pick, blocks, axis, dtype=np.intp, funcname="nonzero"))
        for axis in range(a.ndim)
    )
