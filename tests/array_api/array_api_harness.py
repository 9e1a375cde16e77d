"""Our Array API conformance harness: a namespace under test against ``array_api_strict``.

This is *not* the public ``array-api-tests`` suite (it is not on the package
index, and this project copies none of it). It is built from public pieces:
``array_api_strict`` (the standard's reference implementation, version
2025.12) computes the expected results, and ``hypothesis.extra.array_api``
(``make_strategies_namespace``) draws the inputs.

How one check runs (:func:`check`):

1. hypothesis draws a call: positional and keyword arguments holding
   ``array_api_strict`` arrays, dtypes and Python values (a seed fixed per
   test, from its pytest id; ``max_examples`` is the test's budget);
2. ``array_api_strict`` runs the call; when it refuses the input (the
   standard does not define it), the example is rejected;
3. the same call runs in the namespace under test (:class:`Target`), with
   every array converted to one of its arrays; for chunkwise, chunked
   *unevenly* (block lengths 1, 2, 3, 1, 2, ... on every axis, except axes a
   case names as ``whole_axes``);
4. the results are compared (:func:`assert_matches`): the same structure
   (tuples and named tuples field by field), the namespace's own array type,
   the dtype the standard's type promotion gives, the shape, and the values:
   exactly (NaN where NaN, and the sign of every zero: the special cases;
   complex results within a few ULPs, whose accuracy the standard leaves
   open) or within a tolerance where the algorithm may legitimately differ
   (chunked reductions, linear algebra).

The target is chosen by the environment variable ``ARRAY_API_TARGET`` (``chunkwise``, the default, or
``numpy``: NumPy 2's own main namespace, with no wrapper).
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable
from typing import Any

import array_api_strict as strict
import numpy as np
from hypothesis import HealthCheck, given, reject, seed, settings
from hypothesis import strategies as st
from hypothesis.extra.array_api import make_strategies_namespace

__all__ = [
    "DTYPE_NAMES",
    "VERSION",
    "Target",
    "arrays",
    "assert_matches",
    "axis_for",
    "call",
    "check",
    "check_property",
    "dtype_name",
    "promotable_pairs",
    "strict",
    "target_by_name",
    "uneven_chunks",
    "xps",
]

VERSION = "2025.12"
strict.set_array_api_strict_flags(api_version=VERSION)
xps = make_strategies_namespace(strict, api_version=VERSION)
StrictArray = type(strict.asarray(0))

DTYPE_NAMES = (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "complex64", "complex128",
)
_STRICT_DTYPES = {getattr(strict, name): name for name in DTYPE_NAMES}


def dtype_name(dtype: Any) -> str:
    """The standard's name of a dtype object of ``array_api_strict`` or of NumPy."""
    if _is_strict_dtype(dtype):
        return _STRICT_DTYPES[dtype]
    return np.dtype(dtype).name


def uneven_chunks(shape: tuple, whole_axes: tuple = ()) -> tuple:
    """Block lengths 1, 2, 3, 1, 2, ... along every axis (one block on ``whole_axes``)."""
    ndim = len(shape)
    whole = {a % ndim for a in whole_axes} if ndim else set()
    chunks = []
    for axis, length in enumerate(shape):
        if axis in whole or length == 0:
            chunks.append((length,))
            continue
        sizes, step = [], 1
        while length:
            size = min(step, length)
            sizes.append(size)
            length -= size
            step = step % 3 + 1
        chunks.append(tuple(sizes))
    return tuple(chunks)


class Target:
    """A namespace under test: how to make its arrays from NumPy ones and read results back."""

    def __init__(self, name: str) -> None:
        self.name = name
        if name == "chunkwise":
            import chunkwise.array as da

            self.ns = da
            self.array_type = da.Array
        elif name == "numpy":
            self.ns = np
            self.array_type = np.ndarray
        else:
            raise ValueError(f"array API harness: unknown target {name!r}; use 'chunkwise' or 'numpy'")

    def __repr__(self) -> str:
        return f"Target({self.name!r})"

    def asarray(self, value: np.ndarray, whole_axes: tuple = ()) -> Any:
        if self.name == "numpy":
            return np.array(value)
        return self.ns.from_array(np.array(value), chunks=uneven_chunks(value.shape, whole_axes))

    def convert(self, value: Any, whole_axes: tuple = ()) -> Any:
        """``value`` with every ``array_api_strict`` array and dtype replaced by this namespace's."""
        if isinstance(value, StrictArray):
            return self.asarray(np.asarray(value), whole_axes)
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return tuple(self.convert(v, whole_axes) for v in value)
        if isinstance(value, list):
            return [self.convert(v, whole_axes) for v in value]
        if isinstance(value, dict):
            return {k: self.convert(v, whole_axes) for k, v in value.items()}
        if _is_strict_dtype(value):
            return getattr(self.ns, _STRICT_DTYPES[value])
        return value

    def to_numpy(self, value: Any) -> np.ndarray:
        """A result of this namespace as a NumPy array, after checking it is one of its arrays."""
        if self.name == "numpy":
            # NumPy's reductions return NumPy scalars, which the standard's array API also offers
            assert isinstance(value, (np.ndarray, np.generic)), f"not a NumPy array: {type(value).__name__}"
            return np.asarray(value)
        assert isinstance(value, self.array_type), f"not a chunkwise array: {type(value).__name__}"
        computed = np.asarray(value.compute(scheduler="sync"))
        assert computed.dtype == value.dtype, f"dtype metadata {value.dtype} but computed {computed.dtype}"
        assert computed.ndim == value.ndim, f"ndim metadata {value.ndim} but computed {computed.ndim}"
        for declared, got in zip(value.shape, computed.shape):
            assert declared == got or math.isnan(declared), f"shape metadata {value.shape} but computed {computed.shape}"
        return computed


def _is_strict_dtype(value: Any) -> bool:
    # by type first: comparing a NumPy dtype with a strict one warns
    return type(value) is type(strict.float64) and value in _STRICT_DTYPES


def target_by_name(name: str) -> Target:
    return Target(name)


# --- strategies -------------------------------------------------------------------------------


def arrays(dtype: Any, shape: Any = None, *, elements: Any = None, min_dims: int = 0, max_dims: int = 3,
           min_side: int = 0, max_side: int = 5) -> st.SearchStrategy:
    """``array_api_strict`` arrays of ``dtype`` (a dtype or a strategy), small uneven-chunkable shapes."""
    if shape is None:
        shape = xps.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)
    return xps.arrays(dtype=dtype, shape=shape, elements=elements)


def axis_for(ndim: int, *, none: bool = True, tuples: bool = False) -> st.SearchStrategy:
    """An ``axis`` argument valid for an array of ``ndim`` dimensions."""
    options = []
    if none:
        options.append(st.none())
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
        if tuples:
            options.append(xps.valid_tuple_axes(ndim))
    return st.one_of(*options) if options else st.none()


def promotable_pairs(kinds: tuple = ("numeric", "bool")) -> list:
    """The dtype pairs the standard's type promotion defines, both of ``kinds``."""
    names = [n for n in DTYPE_NAMES if strict.isdtype(getattr(strict, n), kinds)]
    pairs = []
    for a in names:
        for b in names:
            try:
                strict.result_type(getattr(strict, a), getattr(strict, b))
            except TypeError:
                continue
            pairs.append((getattr(strict, a), getattr(strict, b)))
    return pairs


# --- running and comparing ---------------------------------------------------------------------


def call(ns: Any, op: Any, args: tuple, kwargs: dict) -> Any:
    """``op`` (a dotted name in ``ns`` or a function of ``(ns, *args)``) applied to the arguments."""
    if callable(op):
        return op(ns, *args, **kwargs)
    func = ns
    for part in op.split("."):
        func = getattr(func, part)
    return func(*args, **kwargs)


def _settings(budget: int) -> settings:
    return settings(max_examples=budget, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False)


def _fixed_seed() -> Callable:
    """A seed fixed per test (its pytest id), so every test draws its own, reproducible examples."""
    test_id = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    return seed(zlib.crc32(test_id.encode()))


def check(target: Target, op: Any, strategy: st.SearchStrategy, budget: int, *, exact: bool = True,
          rtol: float = 1e-6, atol: float = 0.0, whole_axes: tuple = (), compare: Callable | None = None,
          signed_zeros: bool = True) -> None:
    """For ``budget`` drawn calls ``(args, kwargs)``, ``op`` in ``target`` matches ``array_api_strict``.

    ``compare(actual_numpy, expected_numpy, inputs)`` replaces the value comparison where results are
    defined only up to signs or order (eigenvectors, QR); dtype and shape are still compared.
    ``signed_zeros=False`` where the standard does not say which zero comes out (``unique_values``).
    """

    @_fixed_seed()
    @_settings(budget)
    @given(strategy)
    def run(drawn: tuple) -> None:
        args, kwargs = drawn
        # converted first: an in-place operation (``__setitem__``) changes the strict inputs
        target_args, target_kwargs = target.convert(args, whole_axes), target.convert(kwargs, whole_axes)
        with np.errstate(all="ignore"):
            try:
                expected = call(strict, op, args, kwargs)
            except Exception:  # the standard leaves this input undefined: not a case
                reject()
            actual = call(target.ns, op, target_args, target_kwargs)
            assert_matches(target, actual, expected, exact=exact, rtol=rtol, atol=atol, compare=compare,
                           inputs=(args, kwargs), signed_zeros=signed_zeros)

    run()


def check_property(budget: int, strategy: st.SearchStrategy, prop: Callable) -> None:
    """``prop(drawn)`` holds for ``budget`` draws of ``strategy`` (fixed seed)."""

    @_fixed_seed()
    @_settings(budget)
    @given(strategy)
    def run(drawn: Any) -> None:
        prop(drawn)

    run()


def assert_matches(target: Target, actual: Any, expected: Any, *, exact: bool = True, rtol: float = 1e-6,
                   atol: float = 0.0, compare: Callable | None = None, inputs: Any = None,
                   signed_zeros: bool = True) -> None:
    """``actual`` (the target's result) equals ``expected`` (``array_api_strict``'s), as described above."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple), f"expected a tuple, got {type(actual).__name__}"
        assert len(actual) == len(expected), (len(actual), len(expected))
        fields = getattr(expected, "_fields", None)
        if fields:
            for field in fields:
                assert hasattr(actual, field), f"the result has no field {field!r}"
        parts = [getattr(actual, f) for f in fields] if fields else list(actual)
        for i, (a, e) in enumerate(zip(parts, expected)):
            part_compare = compare[i] if isinstance(compare, tuple) else compare
            assert_matches(target, a, e, exact=exact, rtol=rtol, atol=atol, compare=part_compare, inputs=inputs,
                           signed_zeros=signed_zeros)
        return
    if isinstance(expected, list):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_matches(target, a, e, exact=exact, rtol=rtol, atol=atol, compare=compare, inputs=inputs,
                           signed_zeros=signed_zeros)
        return
    if not isinstance(expected, StrictArray):
        assert type(actual) is type(expected) or actual == expected, (actual, expected)
        if isinstance(expected, float) and math.isnan(expected):
            assert math.isnan(actual)
        else:
            assert actual == expected, (actual, expected)
        return
    got = target.to_numpy(actual)
    want = np.asarray(expected)
    assert got.dtype.name == want.dtype.name, f"dtype {got.dtype.name}, the standard gives {want.dtype.name}"
    assert got.shape == want.shape, f"shape {got.shape}, the standard gives {want.shape}"
    if compare is not None:
        compare(got, want, inputs)
    elif got.dtype.kind == "c" and exact:
        # the standard leaves complex accuracy to the implementation: a few ULPs (NumPy's sign differs by 1)
        np.testing.assert_allclose(got, want, rtol=8 * np.finfo(got.dtype).eps, equal_nan=True)
    elif exact or got.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, want)
        if got.dtype.kind == "f" and signed_zeros:
            zeros = want == 0
            np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]), err_msg="signed zeros")
    else:
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
