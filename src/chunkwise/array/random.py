"""Random arrays: ``default_rng(seed)`` Generators and the legacy ``RandomState`` functions.

Every block draws from its own independent stream: block ``b`` (its index in
C order) of the ``n``-th array drawn from a generator seeded with ``entropy``
uses ``PCG64(SeedSequence(entropy, spawn_key=(*base, n, b)))``, built inside
the block's task. Nothing is spawned per block when the plan is built (a plan
of 100,000 blocks costs microseconds), and a block's values depend only on
the seed, the call and the block, so a seeded array has the same values
whatever the scheduler, the number of threads or the order tasks run in, and
computing the same array twice gives the same values. An unseeded generator
draws fresh entropy from the operating system once, when it is created.

The names of the arrays hold the entropy: two seeds never share keys, and the
same seed and calls give the same names.

All of it, including the legacy ``RandomState`` and the module functions
(``random``, ``normal``, ``randint``, ...), uses PCG64 streams, about twice as
fast as the MT19937 of NumPy's ``RandomState``. So values differ from NumPy's
(for the same seed) and from Dask's; Dask's differ from NumPy's too.

``choice(..., replace=False)`` and ``permutation(n)`` draw one global
selection (``n`` int64s, held once, in one task) that the blocks slice;
``permutation(x)`` of an array draws the order when the plan is built and
indexes ``x`` with it.

>>> import chunkwise.array as da
>>> rng = da.random.default_rng(42)
>>> x = rng.random((1000, 1000), chunks=(250, 250))
>>> x.numblocks, x.dtype
((4, 4), dtype('float64'))
>>> bool((x.compute() == da.random.default_rng(42).random((1000, 1000), chunks=(250, 250)).compute()).all())
True
"""

from __future__ import annotations

import functools
import math
import operator
import threading
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks, chunk_boundaries
from chunkwise.array.core import Array, asarray, from_array
from chunkwise.array.creation import chunks_for
from chunkwise.array.expr import ArrayExpr, broadcast_shapes
from chunkwise.array.gather import take
from chunkwise.array.rechunk import Rechunk
from chunkwise.core.graph import Ref, Task

__all__ = [
    "Generator",
    "RandomState",
    "choice",
    "default_rng",
    "exponential",
    "normal",
    "permutation",
    "poisson",
    "randint",
    "random",
    "random_sample",
    "seed",
    "standard_normal",
    "uniform",
]


# --- the streams ----------------------------------------------------------------------


def block_generator(entropy: Any, spawn_key: tuple) -> np.random.Generator:
    """The NumPy generator of one block: PCG64 on ``SeedSequence(entropy, spawn_key=spawn_key)``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=spawn_key)))


def _draw(entropy: Any, spawn_key: tuple, method: str, shape: tuple, kwargs: dict | None, *args: Any) -> Any:
    """One block: ``method(*args, size=shape, **kwargs)`` of the block's generator."""
    gen = block_generator(entropy, spawn_key)
    if method in _CUSTOM:
        return _CUSTOM[method](gen, *args, size=shape, **(kwargs or {}))
    return getattr(gen, method)(*args, size=shape, **(kwargs or {}))


def _permutation_indices(gen: np.random.Generator, n: int, size: tuple) -> np.ndarray:
    return gen.permutation(n)


_CUSTOM = {"permutation": _permutation_indices}


class _Param:
    """Marks, in a random node's arguments, the ``i``-th array operand (aligned with the output)."""

    __slots__ = ("i", "whole")

    def __init__(self, i: int, whole: bool = False):
        self.i = i
        self.whole = whole  # a single-block operand given whole to every block (choice's population)

    def __chunkwise_tokenize__(self) -> tuple:
        return ("random-param", self.i, self.whole)

    def __repr__(self) -> str:
        return f"<array operand {self.i}>"


class RandomBlocks(ArrayExpr):
    """Blocks drawn with ``method`` from independent PCG64 streams (see the module docstring).

    Operands: ``entropy`` and ``spawn_key`` (the call's stream; block ``b``
    appends ``b``), the Generator ``method``, its ``args`` and ``kwargs``
    (scalars, or :class:`_Param` markers for the array operands that follow),
    the output ``chunks_`` and ``dtype_``.
    """

    _parameters = ("entropy", "spawn_key", "method", "args", "kwargs", "chunks_", "dtype_")
    _variadic = True

    @property
    def _funcname(self) -> str:
        return self.method.strip("_")

    @property
    def params(self) -> list:
        return self.operands[len(self._parameters):]

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    def _linear(self, index: tuple) -> int:
        linear = 0
        for i, n in zip(index, self.numblocks):
            linear = linear * n + i
        return linear

    def _resolve(self, value: Any, index: tuple) -> Any:
        if type(value) is not _Param:
            return value
        param = self.params[value.i]
        if value.whole:
            return Ref((param.name,) + (0,) * param.ndim)
        offset = self.ndim - param.ndim
        block = tuple(0 if param.numblocks[d] == 1 else index[d + offset] for d in range(param.ndim))
        return Ref((param.name, *block))

    def _task(self, key: Hashable) -> Task:
        index = key[1:]
        args = [self._resolve(a, index) for a in self.args]
        kwargs = self.kwargs
        if kwargs and any(type(v) is _Param for v in kwargs.values()):
            kwargs = {k: self._resolve(v, index) for k, v in kwargs.items()}
        spawn_key = (*self.spawn_key, self._linear(index))
        return Task(
            key, _draw, self.entropy, spawn_key, self.method, self.block_shape(index), kwargs, *args
        )

    def _explain_line(self) -> str:
        return f"Random {self._funcname}  [{self.npartitions} blocks, {self.dtype}]"


class GlobalDraw(ArrayExpr):
    """One draw for the whole array, held in one task that the blocks slice.

    For ``choice(replace=False)`` and ``permutation(n)``, whose elements are
    not independent. ``population`` (optional, a single-block 1-d array) maps
    the drawn indices to values.
    """

    _parameters = ("entropy", "spawn_key", "method", "args", "kwargs", "shape_", "chunks_", "dtype_", "population")
    _variadic = True

    @property
    def _funcname(self) -> str:
        return self.method

    @property
    def params(self) -> list:
        return self.operands[len(self._parameters):]

    def _resolve(self, value: Any) -> Any:
        if type(value) is not _Param:
            return value
        param = self.params[value.i]
        return Ref((param.name,) + (0,) * param.ndim)

    @property
    def _whole_key(self) -> str:
        return "whole-" + self.name

    def _owned_names(self) -> tuple:
        return (self.name, self._whole_key)

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    @functools.cached_property
    def _bounds(self) -> tuple:
        return tuple(chunk_boundaries(c) for c in self.chunks)

    def _task(self, key: Hashable) -> Task:
        if key == self._whole_key:
            args = [self._resolve(a) for a in self.args]
            kwargs = {k: self._resolve(v) for k, v in self.kwargs.items()} if self.kwargs else None
            return Task(key, _draw, self.entropy, self.spawn_key, self.method, self.shape_, kwargs, *args)
        index = key[1:]
        slices = tuple(slice(b[i], b[i + 1]) for b, i in zip(self._bounds, index))
        population = None if self.population is None else Ref((self.population.name, 0))
        return Task(key, _take_block, Ref(self._whole_key), slices, population)


def _take_block(whole: np.ndarray, slices: tuple, population: np.ndarray | None) -> np.ndarray:
    part = whole[slices]
    if population is not None:
        return population[part]
    return part.copy()  # not a view: the whole draw is freed once every block is taken


# --- argument handling ---------------------------------------------------------------------


def _size(opname: str, size: Any) -> tuple | None:
    if size is None:
        return None
    try:
        dims = (operator.index(size),)
    except TypeError:
        try:
            dims = tuple(operator.index(s) for s in size)
        except TypeError:
            raise TypeError(f"{opname}: size must be an int or a tuple of ints, got {size!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{opname}: negative dimensions are not allowed (size {dims})")
    return tuple(int(d) for d in dims)


def _reraise(opname: str, exc: Exception) -> None:
    try:
        new = type(exc)(f"{opname}: {exc}")
    except Exception:  # an exception type with another constructor
        raise exc from None
    raise new from None


#: Distributions whose output is an integer array, whatever their parameters.
_INTEGER_METHODS = {
    "binomial", "poisson", "geometric", "negative_binomial", "hypergeometric", "logseries", "zipf",
}


class _Stream:
    """The entropy and spawn key of a generator, and its count of arrays drawn so far."""

    def __init__(self, seed: Any):
        if isinstance(seed, np.random.SeedSequence):
            entropy, base = seed.entropy, tuple(int(k) for k in seed.spawn_key)
        elif isinstance(seed, (np.random.Generator, np.random.BitGenerator, np.random.RandomState)):
            draw = seed.integers if isinstance(seed, np.random.Generator) else None
            if isinstance(seed, np.random.BitGenerator):
                draw = np.random.Generator(seed).integers
            if draw is None:
                words = seed.randint(0, 2**32, size=4, dtype=np.uint64)
            else:
                words = draw(0, 2**32, size=4, dtype=np.uint64)
            entropy, base = tuple(int(w) for w in words), ()
        else:
            try:
                sequence = np.random.SeedSequence(seed)
            except (TypeError, ValueError) as exc:
                raise type(exc)(
                    f"random: cannot seed with {seed!r}: {exc}; use None, a non-negative int, a "
                    "sequence of them or a numpy.random.SeedSequence"
                ) from None
            entropy, base = sequence.entropy, ()
        if isinstance(entropy, (np.ndarray, list, tuple)):
            entropy = tuple(int(w) for w in entropy)
        else:
            entropy = int(entropy)
        self.entropy = entropy
        self.base = base
        self._count = 0
        self._lock = threading.Lock()

    def next_key(self) -> tuple:
        with self._lock:
            n = self._count
            self._count += 1
        return (*self.base, n)


class _Sampler:
    """What Generator and RandomState share: building random nodes from a :class:`_Stream`."""

    _stream: _Stream

    def _wrap(
        self, opname: str, method: str, args: tuple, size: Any, chunks: Any,
        dtype: Any = None, kwargs: dict | None = None,
    ) -> Array:
        size = _size(opname, size)
        scalars: list = []
        arrays: list = []
        samples: list = []
        for arg in args:
            if isinstance(arg, Array) or (np.ndim(arg) > 0 and not isinstance(arg, (str, bytes))):
                arr = arg if isinstance(arg, Array) else np.asarray(arg)
                arrays.append(arr)
                scalars.append(_Param(len(arrays) - 1))
                samples.append(None if isinstance(arr, Array) else arr)
            else:
                scalars.append(arg)
                samples.append(arg)
        shapes = [tuple(a.shape) for a in arrays]
        if size is None:
            try:
                size = broadcast_shapes(*shapes) if shapes else ()
            except ValueError as exc:
                raise ValueError(f"{opname}: parameters {exc}") from None
        else:
            for shape in shapes:
                try:
                    fits = len(shape) <= len(size) and broadcast_shapes(shape, size) == size
                except ValueError:
                    fits = False
                if not fits:
                    raise ValueError(
                        f"{opname}: a parameter of shape {shape} does not broadcast to size {size}"
                    )
        check_known_chunks(opname, (size,), what="a parameter")
        # Validate the parameters as NumPy does, and learn the dtype, on a tiny draw.
        if all(s is not None for s in samples):
            try:
                gen = np.random.default_rng(0)
                sample = getattr(gen, method)(*samples, size=None if arrays else 1, **(kwargs or {}))
            except Exception as exc:
                _reraise(opname, exc)
            out_dtype = np.asarray(sample).dtype
        elif dtype is not None:
            out_dtype = np.dtype(dtype)
        else:
            out_dtype = np.dtype(np.int64 if method in _INTEGER_METHODS else np.float64)
        normalized = chunks_for(opname, chunks, size, out_dtype)
        params = []
        for arr in arrays:
            expr = asarray(arr, chunks=-1)._expr if not isinstance(arr, Array) else arr._expr
            params.append(_align(expr, normalized))
        stream = self._stream
        node = RandomBlocks(
            stream.entropy, stream.next_key(), method, tuple(scalars), kwargs or None,
            normalized, out_dtype, *params,
        )
        return Array(node)

    # --- the methods both APIs share --------------------------------------------------------

    def standard_normal(self, size: Any = None, dtype: Any = np.float64, out: Any = None, *, chunks: Any = "auto") -> Array:
        """Standard normal samples (mean 0, standard deviation 1), chunked like ``chunks``."""
        _no_out("standard_normal", out)
        return self._wrap("standard_normal", "standard_normal", (), size, chunks, kwargs=_dtype_kw(dtype))

    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
        """Normal samples with mean ``loc`` and standard deviation ``scale`` (scalars or arrays)."""
        return self._wrap("normal", "normal", (loc, scale), size, chunks)

    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
        """Uniform samples in ``[low, high)``."""
        return self._wrap("uniform", "uniform", (low, high), size, chunks)

    def exponential(self, scale: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
        """Exponential samples with mean ``scale``."""
        return self._wrap("exponential", "exponential", (scale,), size, chunks)

    def poisson(self, lam: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
        """Poisson samples with rate ``lam`` (int64)."""
        return self._wrap("poisson", "poisson", (lam,), size, chunks)

    def choice(
        self, a: Any, size: Any = None, replace: bool = True, p: Any = None, axis: int = 0,
        shuffle: bool = True, *, chunks: Any = "auto",
    ) -> Array:
        """Samples from ``a`` (an int ``n`` means ``arange(n)``), as ``Generator.choice``.

        With ``replace=True`` each block draws independently; with
        ``replace=False`` one task draws all the indices (``size`` int64s) and
        the blocks slice them. A 1-d population (and ``p``) is held once, in
        one block, and shared by the blocks. An n-d ``a`` gives whole slices
        along ``axis`` (shape ``a.shape[:axis] + size + a.shape[axis + 1:]``):
        the indices are drawn as above, then ``a`` is gathered lazily with
        them (``take``; ``chunks`` applies to the ``size`` axes), so ``a`` is
        never held whole.

        >>> import numpy as np
        >>> rng = default_rng(0)
        >>> rng.choice(np.arange(12).reshape(3, 4), size=5, axis=1, chunks=2).shape
        (3, 5)
        """
        opname = "choice"
        population = None
        if isinstance(a, Array) or np.ndim(a) > 0:
            population = a if isinstance(a, Array) else np.asarray(a)
            if population.ndim != 1 or axis not in (0, -1):
                return self._choice_slices(population, size, replace, p, axis, shuffle, chunks)
            check_known_chunks("choice", population.chunks if isinstance(population, Array) else (), what="a")
            n = int(population.shape[0])
            dtype = population.dtype
        else:
            try:
                n = operator.index(a)
            except TypeError:
                raise ValueError(f"choice: a must be 1-dimensional or an integer, got {a!r}") from None
            dtype = np.dtype(np.int64)
        size_t = _size(opname, size)
        shape = () if size_t is None else size_t
        m = math.prod(shape)
        if n <= 0 and m > 0:
            raise ValueError(f"choice: a must be a positive integer (or non-empty) unless no samples are taken; got {n}")
        if not replace and m > n:
            raise ValueError(
                f"choice: cannot take a larger sample ({m}) than the population ({n}) when replace=False"
            )
        p_arr = None
        if p is not None:
            if isinstance(p, Array):
                p_arr = p
            else:
                p = np.asarray(p, dtype=np.float64)
                try:
                    np.random.default_rng(0).choice(n, size=min(m, 1), replace=replace, p=p)
                except ValueError as exc:
                    _reraise(opname, exc)
                p_arr = p
            if p_arr.ndim != 1 or p_arr.shape[0] != n:
                raise ValueError(f"choice: p must be 1-d with one probability per element of a ({n}), got shape {p_arr.shape}")
        normalized = chunks_for(opname, chunks, shape, dtype)
        pop_expr = None if population is None else _single_block(population)
        stream = self._stream
        if not replace:
            kwargs = {"replace": False, "shuffle": bool(shuffle)}
            args: tuple = (n,)
            params = []
            if p_arr is not None:
                p_expr = _single_block(p_arr)
                kwargs["p"] = _Param(0, whole=True)
                params.append(p_expr)
            node = GlobalDraw(
                stream.entropy, (*stream.next_key(), 0), "choice", args, kwargs, shape,
                normalized, dtype, pop_expr, *params,
            )
            return Array(node)
        kwargs = {"replace": True}
        params = []
        if pop_expr is not None:
            params.append(pop_expr)
            args = (_Param(0, whole=True),)
        else:
            args = (n,)
        if p_arr is not None:
            params.append(_single_block(p_arr))
            kwargs["p"] = _Param(len(params) - 1, whole=True)
        node = RandomBlocks(stream.entropy, stream.next_key(), "choice", args, kwargs, normalized, dtype, *params)
        return Array(node)

    def _choice_slices(
        self, population: Any, size: Any, replace: bool, p: Any, axis: int, shuffle: bool, chunks: Any
    ) -> Array:
        """``choice`` of whole slices of an n-d ``population`` along ``axis``."""
        if not -population.ndim <= axis < population.ndim:
            raise np.exceptions.AxisError(
                f"choice: axis {axis} is out of bounds for a population of dimension {population.ndim}"
            )
        axis %= population.ndim
        n = population.shape[axis]
        check_known_chunks("choice", ((n,),), what="a")
        if n == 0 and (size is None or math.prod(_size("choice", size) or ()) > 0):
            raise ValueError("choice: a cannot be empty unless no samples are taken")
        indices = self.choice(int(n), size, replace, p, shuffle=shuffle, chunks=chunks)
        return take(asarray(population), indices, axis=axis)

    def permutation(self, x: Any, axis: int = 0, *, chunks: Any = "auto") -> Array:
        """A random permutation of ``arange(x)`` (int ``x``) or of ``x`` along its first axis.

        For an int, one task draws the ``x`` int64s of the permutation and the
        blocks slice them. For an array, the order is drawn when the plan is
        built (``len(x)`` int64s in memory) and ``x`` is indexed with it.
        """
        if axis != 0:
            raise NotImplementedError("permutation: only axis=0 is supported")
        stream = self._stream
        if isinstance(x, Array) or np.ndim(x) > 0:
            arr = asarray(x)
            if arr.ndim == 0:
                raise ValueError("permutation: x must be an integer or at least 1-dimensional")
            check_known_chunks("permutation", arr, what="x")
            order = block_generator(stream.entropy, (*stream.next_key(), 0)).permutation(arr.shape[0])
            return arr[order]
        try:
            n = operator.index(x)
        except TypeError:
            raise TypeError(f"permutation: x must be an int or an array, got {type(x).__name__}") from None
        if n < 0:
            raise ValueError(f"permutation: negative dimensions are not allowed ({n})")
        dtype = np.dtype(np.int64)
        normalized = chunks_for("permutation", chunks, (n,), dtype)
        node = GlobalDraw(
            stream.entropy, (*stream.next_key(), 0), "permutation", (n,), None, (n,), normalized, dtype, None
        )
        return Array(node)


def _no_out(opname: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"{opname}: out= is not supported (chunkwise arrays are immutable)")


def _dtype_kw(dtype: Any) -> dict | None:
    dtype = np.dtype(dtype)
    return None if dtype == np.float64 else {"dtype": dtype}


def _align(expr: ArrayExpr, chunks: tuple) -> ArrayExpr:
    """``expr`` (a parameter broadcasting to the output) rechunked to the output's chunks."""
    offset = len(chunks) - expr.ndim
    new = tuple((1,) if expr.shape[d] == 1 else chunks[d + offset] for d in range(expr.ndim))
    check_known_chunks("random", expr, what="a parameter")
    return expr if new == expr.chunks else Rechunk(expr, new)


def _single_block(a: Any) -> ArrayExpr:
    """``a`` as one block (for populations and probabilities, shared whole by every task)."""
    if isinstance(a, Array):
        expr = a._expr
        if expr.numblocks == (1,):
            return expr
        return Rechunk(expr, ((int(expr.shape[0]),),))
    return from_array(np.asarray(a), chunks=-1)._expr


# --- the two APIs --------------------------------------------------------------------------


class Generator(_Sampler):
    """A chunked ``numpy.random.Generator``: its methods return lazy chunked arrays.

    Methods take NumPy's arguments plus ``chunks=`` (default ``"auto"``).
    Each call draws from new streams, so two calls give different arrays; a
    new ``default_rng(seed)`` repeats the same sequence of calls' values.

    >>> rng = default_rng(0)
    >>> a, b = rng.random(4, chunks=2), rng.random(4, chunks=2)
    >>> a.name != b.name
    True
    >>> rng.integers(0, 10, size=(2, 3), chunks=2).dtype
    dtype('int64')
    """

    def __init__(self, seed: Any = None):
        self._stream = _Stream(seed)

    def __repr__(self) -> str:
        return "chunkwise.array.random.Generator(PCG64)"

    def random(self, size: Any = None, dtype: Any = np.float64, out: Any = None, *, chunks: Any = "auto") -> Array:
        """Uniform floats in ``[0, 1)`` (``dtype`` float64 or float32)."""
        _no_out("random", out)
        return self._wrap("random", "random", (), size, chunks, kwargs=_dtype_kw(dtype))

    def integers(
        self, low: Any, high: Any = None, size: Any = None, dtype: Any = np.int64, endpoint: bool = False,
        *, chunks: Any = "auto",
    ) -> Array:
        """Random integers in ``[low, high)`` (``[0, low)`` without ``high``; ``endpoint=True`` includes ``high``)."""
        if high is None:
            low, high = 0, low
        kwargs = {"dtype": np.dtype(dtype), "endpoint": bool(endpoint)}
        return self._wrap("integers", "integers", (low, high), size, chunks, dtype=dtype, kwargs=kwargs)


def default_rng(seed: Any = None) -> Generator:
    """A chunked :class:`Generator` seeded with ``seed`` (None: fresh entropy), as ``numpy.random.default_rng``.

    >>> x = default_rng(1).normal(10, 2, size=100_000, chunks=10_000)
    >>> abs(float(x.compute().mean()) - 10) < 0.05
    True
    """
    if isinstance(seed, Generator):
        return seed
    return Generator(seed)


class RandomState(_Sampler):
    """The legacy API (``random_sample``, ``randint``, ...) on PCG64 streams.

    Unlike ``numpy.random.RandomState`` this is not MT19937, so values differ
    from NumPy's for the same seed (as Dask's do); the distributions are the
    same. ``seed(s)`` restarts the sequence of arrays.

    >>> state = RandomState(3)
    >>> state.randint(0, 5, size=4, chunks=2).compute().max() < 5
    np.True_
    """

    def __init__(self, seed: Any = None):
        self.seed(seed)

    def seed(self, seed: Any = None) -> None:
        """Restart from ``seed`` (None: fresh entropy)."""
        self._stream = _Stream(seed)

    def __repr__(self) -> str:
        return "chunkwise.array.random.RandomState(PCG64)"

    def random_sample(self, size: Any = None, *, chunks: Any = "auto") -> Array:
        """Uniform floats in ``[0, 1)``."""
        return self._wrap("random_sample", "random", (), size, chunks)

    random = random_sample

    def standard_normal(self, size: Any = None, *, chunks: Any = "auto") -> Array:  # type: ignore[override]
        """Standard normal samples."""
        return self._wrap("standard_normal", "standard_normal", (), size, chunks)

    def randint(self, low: Any, high: Any = None, size: Any = None, dtype: Any = int, *, chunks: Any = "auto") -> Array:
        """Random integers in ``[low, high)`` (``[0, low)`` without ``high``), as ``RandomState.randint``."""
        if high is None:
            low, high = 0, low
        kwargs = {"dtype": np.dtype(dtype)}
        return self._wrap("randint", "integers", (low, high), size, chunks, dtype=dtype, kwargs=kwargs)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None, *, chunks: Any = "auto") -> Array:  # type: ignore[override]
        """Samples from ``a``, as ``RandomState.choice`` (see :meth:`Generator.choice`); ``a`` is an int or 1-d."""
        if (isinstance(a, Array) and a.ndim > 1) or (not isinstance(a, Array) and np.ndim(a) > 1):
            raise ValueError(f"choice: a must be 1-dimensional or an integer, got shape {np.shape(a) if not isinstance(a, Array) else a.shape}")
        return _Sampler.choice(self, a, size, replace, p, chunks=chunks)

    def permutation(self, x: Any, *, chunks: Any = "auto") -> Array:  # type: ignore[override]
        """A random permutation, as ``RandomState.permutation`` (see :meth:`Generator.permutation`)."""
        return _Sampler.permutation(self, x, chunks=chunks)


# --- module functions on a global RandomState ------------------------------------------------

_global_state: RandomState | None = None
_global_lock = threading.Lock()


def _state() -> RandomState:
    global _global_state
    with _global_lock:
        if _global_state is None:
            _global_state = RandomState()
        return _global_state


def seed(seed: Any = None) -> None:
    """Reseed the generator behind the module functions, as ``numpy.random.seed``.

    >>> seed(5); a = random_sample(3, chunks=2)
    >>> seed(5); b = random_sample(3, chunks=2)
    >>> a.name == b.name
    True
    """
    global _global_state
    with _global_lock:
        _global_state = RandomState(seed)


def random_sample(size: Any = None, *, chunks: Any = "auto") -> Array:
    """Uniform floats in ``[0, 1)``, as ``numpy.random.random_sample`` (PCG64 streams).

    >>> random_sample((4, 4), chunks=2).numblocks
    (2, 2)
    """
    return _state().random_sample(size, chunks=chunks)


def random(size: Any = None, *, chunks: Any = "auto") -> Array:
    """Uniform floats in ``[0, 1)``, as ``numpy.random.random`` (PCG64 streams).

    >>> float(random(1000, chunks=100).compute().max()) < 1
    True
    """
    return _state().random_sample(size, chunks=chunks)


def standard_normal(size: Any = None, *, chunks: Any = "auto") -> Array:
    """Standard normal samples, as ``numpy.random.standard_normal`` (PCG64 streams).

    >>> standard_normal(5, chunks=2).chunks
    ((2, 2, 1),)
    """
    return _state().standard_normal(size, chunks=chunks)


def normal(loc: Any = 0.0, scale: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
    """Normal samples, as ``numpy.random.normal`` (PCG64 streams).

    >>> normal(0, 1, size=(3, 3), chunks=2).shape
    (3, 3)
    """
    return _state().normal(loc, scale, size, chunks=chunks)


def uniform(low: Any = 0.0, high: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
    """Uniform samples in ``[low, high)``, as ``numpy.random.uniform`` (PCG64 streams).

    >>> float(uniform(5, 6, size=10, chunks=3).compute().min()) >= 5
    True
    """
    return _state().uniform(low, high, size, chunks=chunks)


def exponential(scale: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
    """Exponential samples, as ``numpy.random.exponential`` (PCG64 streams).

    >>> exponential(2.0, size=4, chunks=2).dtype
    dtype('float64')
    """
    return _state().exponential(scale, size, chunks=chunks)


def poisson(lam: Any = 1.0, size: Any = None, *, chunks: Any = "auto") -> Array:
    """Poisson samples, as ``numpy.random.poisson`` (PCG64 streams).

    >>> poisson(3.0, size=4, chunks=2).dtype
    dtype('int64')
    """
    return _state().poisson(lam, size, chunks=chunks)


def randint(low: Any, high: Any = None, size: Any = None, dtype: Any = int, *, chunks: Any = "auto") -> Array:
    """Random integers in ``[low, high)``, as ``numpy.random.randint`` (PCG64 streams).

    >>> randint(10, size=5, chunks=2).dtype
    dtype('int64')
    """
    return _state().randint(low, high, size, dtype, chunks=chunks)


def choice(a: Any, size: Any = None, replace: bool = True, p: Any = None, *, chunks: Any = "auto") -> Array:
    """Samples from ``a``, as ``numpy.random.choice`` (PCG64 streams).

    >>> choice(5, size=5, replace=False, chunks=2).compute().tolist() != []
    True
    """
    return _state().choice(a, size, replace, p, chunks=chunks)


def permutation(x: Any, *, chunks: Any = "auto") -> Array:
    """A random permutation, as ``numpy.random.permutation`` (PCG64 streams).

    >>> sorted(permutation(6, chunks=4).compute().tolist())
    [0, 1, 2, 3, 4, 5]
    """
    return _state().permutation(x, chunks=chunks)


def __dir__() -> list:
    """The public names only (not the helper imports): what tab completion shows."""
    return sorted(__all__)
