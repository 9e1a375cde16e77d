"""Array API conformance: every name of the standard is there and is called as the standard says.

The reference is ``array_api_strict`` at version 2025.12: its functions carry
the standard's signatures. For each parameter of the reference signature the
namespace under test must accept the argument the same way:

- positional-only: a positional parameter at that place (or ``*args``);
- positional-or-keyword: the parameter of the same name at the same place,
  itself positional-or-keyword (callers use both forms, e.g. ``clip(x, 0, 1)``
  and ``clip(x, max=1)``);
- keyword-only: a parameter of that name that takes a keyword (or ``**kwargs``);
- ``*args``: ``*args``.

Extra parameters are allowed (chunkwise also speaks NumPy's dialect: ``chunks=``,
``out=``, ...). A callable without an inspectable signature is skipped. Array
methods are checked without their ``self``. In-place operators (``__iadd__``, ...)
are not listed: the standard specifies them as operators, and Python falls back
to the binary operator for an immutable lazy array.
"""

import inspect

import numpy as np
import pytest
from array_api_harness import strict

P = inspect.Parameter

STRICT_ONLY = {"get_array_api_strict_flags", "reset_array_api_strict_flags", "set_array_api_strict_flags"}
FUNCTIONS = sorted(n for n in strict.__all__ if inspect.isfunction(getattr(strict, n)) and n not in STRICT_ONLY)
EXTENSION_FUNCTIONS = [f"{ext}.{n}" for ext in ("linalg", "fft") for n in getattr(strict, ext).__all__]
CONSTANTS = ("e", "inf", "nan", "newaxis", "pi")
DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128")
ARRAY_ATTRIBUTES = ("T", "device", "dtype", "mT", "ndim", "shape", "size")
ARRAY_METHODS = (
    "__abs__", "__add__", "__and__", "__array_namespace__", "__bool__", "__complex__", "__dlpack__",
    "__dlpack_device__", "__eq__", "__float__", "__floordiv__", "__ge__", "__getitem__", "__gt__",
    "__index__", "__int__", "__invert__", "__iter__", "__le__", "__lshift__", "__lt__", "__matmul__",
    "__mod__", "__mul__", "__ne__", "__neg__", "__or__", "__pos__", "__pow__", "__rshift__",
    "__setitem__", "__sub__", "__truediv__", "__xor__", "to_device",
)
# array_api_strict's own signature differs from the standard's here (its ``stream``
# is positional-or-keyword; the standard's is keyword-only).
STRICT_DEVIATIONS = {("to_device", "stream")}


def _resolve(namespace, dotted):
    value = namespace
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def signature_problems(reference, implementation, *, method=False, name=""):
    """How ``implementation`` fails to take the arguments that ``reference`` takes (empty: it takes them)."""
    try:
        got = list(inspect.signature(implementation).parameters.values())
    except (TypeError, ValueError):
        pytest.skip(f"{name}: no inspectable signature")
    want = list(inspect.signature(reference).parameters.values())
    if method:
        want, got = want[1:], got[1:]
    by_name = {p.name: p for p in got}
    positional = [p for p in got if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    var_positional = any(p.kind == P.VAR_POSITIONAL for p in got)
    var_keyword = any(p.kind == P.VAR_KEYWORD for p in got)
    problems = []
    for index, param in enumerate(want):
        if (name, param.name) in STRICT_DEVIATIONS:
            continue
        if param.kind == P.POSITIONAL_ONLY:
            if index >= len(positional) and not var_positional:
                problems.append(f"no positional parameter for {param.name!r} (place {index})")
        elif param.kind == P.POSITIONAL_OR_KEYWORD:
            here = positional[index] if index < len(positional) else None
            if here is None or here.name != param.name or here.kind != P.POSITIONAL_OR_KEYWORD:
                problems.append(f"{param.name!r} must be positional-or-keyword at place {index}")
        elif param.kind == P.KEYWORD_ONLY:
            found = by_name.get(param.name)
            if (found is None and not var_keyword) or (found is not None and found.kind == P.POSITIONAL_ONLY):
                problems.append(f"no keyword {param.name!r}")
        elif param.kind == P.VAR_POSITIONAL and not var_positional:
            problems.append(f"no *{param.name}")
    return problems


@pytest.mark.parametrize("name", FUNCTIONS + EXTENSION_FUNCTIONS)
def test_function_signature(target, name):
    implementation = _resolve(target.ns, name)
    assert implementation is not None, f"{name} is missing"
    assert callable(implementation)
    assert signature_problems(_resolve(strict, name), implementation, name=name) == []


@pytest.mark.parametrize("name", ARRAY_METHODS)
def test_array_method_signature(target, name):
    array_type = type(target.ns.asarray([1.0]))
    implementation = getattr(array_type, name, None)
    assert implementation is not None, f"array.{name} is missing"
    reference = getattr(type(strict.asarray(0)), name)
    assert signature_problems(reference, implementation, method=True, name=name) == []


def test_constants_dtypes_and_attributes(target):
    missing = [n for n in CONSTANTS + DTYPES if not hasattr(target.ns, n)]
    x = target.ns.asarray([[1.0, 2.0]])
    missing += [f"array.{n}" for n in ARRAY_ATTRIBUTES if not hasattr(x, n)]
    assert missing == []


def test_dlpack_device_and_export(target):
    x = target.ns.asarray([[1.0, 2.0], [3.0, 4.0]]) + 1
    assert x.__dlpack_device__() == strict.asarray(0.0).__dlpack_device__()
    expected = np.array([[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(np.asarray(strict.from_dlpack(x)), expected)
    np.testing.assert_array_equal(np.from_dlpack(x), expected)
    np.testing.assert_array_equal(target.to_numpy(target.ns.from_dlpack(x)), expected)
