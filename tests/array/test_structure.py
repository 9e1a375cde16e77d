"""The array package's structure: modules import in any order, no private names cross modules,
``Array``'s methods are defined in its class body."""

from __future__ import annotations

import ast
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chunkwise.array as da

PACKAGE = Path(da.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first_in_a_fresh_process(module):
    # An import cycle between sibling modules breaks when the wrong one is imported first.
    code = f"import chunkwise.array.{module}; import chunkwise.array"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def _private_imports(path: Path) -> list:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chunkwise.array"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} {node.module}.{alias.name}")
    return found


def test_no_private_names_imported_across_array_modules():
    found = [hit for path in sorted(PACKAGE.glob("*.py")) for hit in _private_imports(path)]
    assert found == []


#: Every name ``Array`` once received by ``setattr`` loops after its class body.
FORMERLY_ATTACHED = [
    *(f"__{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lshift",
                             "rshift", "and", "or", "xor", "divmod")),
    *(f"__r{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lshift",
                              "rshift", "and", "or", "xor", "divmod")),
    "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__",
    "__neg__", "__pos__", "__abs__", "__invert__", "__matmul__", "__rmatmul__",
    "sum", "prod", "mean", "var", "std", "min", "max", "argmin", "argmax", "any", "all", "ptp",
    "cumsum", "cumprod", "transpose", "swapaxes", "reshape", "ravel", "flatten", "squeeze",
    "repeat", "clip", "round", "conj", "nonzero", "rechunk", "map_blocks", "store", "to_zarr",
    "to_hdf5", "dot",
]


def _defined_in_class_body() -> set:
    tree = ast.parse(inspect.getsource(da.Array))
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    return {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("name", FORMERLY_ATTACHED)
def test_array_method_is_defined_in_the_class_body_with_a_docstring(name):
    assert name in da.Array.__dict__
    assert name in _defined_in_class_body()
    method = da.Array.__dict__[name]
    assert method.__doc__ and method.__doc__.strip()
    assert list(inspect.signature(method).parameters)[0] == "self"


def test_forwarding_methods_show_their_parameters():
    assert "axis" in inspect.signature(da.Array.sum).parameters
    assert "keepdims" in inspect.signature(da.Array.mean).parameters
    assert "numpy.sum" in da.Array.sum.__doc__


def test_the_unknown_chunk_sizes_error_is_written_once():
    # Every operation raises it through chunks.check_known_chunks, with its own name in front.
    writers = sorted(
        path.name for path in PACKAGE.glob("*.py") if "compute_chunk_sizes() first" in path.read_text()
    )
    assert writers == ["chunks.py"]


@pytest.mark.parametrize(
    "operation",
    [len, lambda y: y.rechunk(2), lambda y: y.reshape(1, -1), lambda y: y[1], np.diff, np.argmax],
)
def test_unknown_chunk_sizes_error_names_the_operation_and_the_fix(operation):
    x = da.from_array(np.arange(6.0), chunks=4)
    y = x[x > 2]
    with pytest.raises(ValueError, match=r"^\S+: .*unknown chunk sizes.*compute_chunk_sizes\(\) first"):
        operation(y)
