"""Pytest set-up for the whole checkout: every source module is executed once.

The doctests of ``src/chunkwise`` run against the modules users import, so a
module must not exist twice in one test process. pytest's
``--import-mode=importlib`` (pyproject.toml) can make it exist twice: to
collect a file such as ``src/chunkwise/array/expr.py`` it looks the dotted name
``chunkwise.array.expr`` up in ``sys.modules``, finds nothing, imports the
parent package ``chunkwise.array`` -- whose ``__init__`` imports
``chunkwise.array.expr`` -- and then executes the file *again* and puts the new
copy in ``sys.modules``. From then on the modules imported earlier hold the
first copy's classes and everything resolved later the second's: ``isinstance``
fails between the two, and plans differ from the ones users get (``explain()``
showing a wrapped ``Array`` as the input, an expression passed to a task as if
it were a value). It happens when a source file is named on the command line
before anything imported its package (``pytest src/chunkwise/array/expr.py
docs/array.md``), not when a whole directory is collected (its ``__init__.py``
comes first).

The cure: before pytest imports a file under ``src/``, import the package that
holds it the normal way. pytest then either finds the file in ``sys.modules``
(the package imported it) or executes it once, below a package that exists.
Only when ``import chunkwise`` finds this checkout's ``src/``: where it finds
another install (no ``PYTHONPATH`` to this worktree), importing it would make
pytest test that install's modules instead of the files named.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent / "src"


def package_of(path: Path) -> str | None:
    """The dotted name of the package that holds the source file ``path``, if any."""
    try:
        parts = path.resolve().relative_to(SOURCE_ROOT).parent.parts
    except ValueError:
        return None
    return ".".join(parts) if parts and imports_from_here(parts[0]) else None


@functools.cache
def imports_from_here(top_level: str) -> bool:
    """Whether ``import top_level`` finds this checkout's ``src/`` (not another install)."""
    with contextlib.suppress(ImportError, ValueError):
        spec = importlib.util.find_spec(top_level)
        origin = spec.origin if spec is not None else None
        return origin is not None and SOURCE_ROOT in Path(origin).resolve().parents
    return False


def pytest_collect_file(file_path: Path, parent: object) -> None:
    package = package_of(file_path) if file_path.suffix == ".py" else None
    if package is not None:
        # A package that fails to import (a missing optional dependency) fails
        # again when pytest imports the file, and pytest reports it there.
        with contextlib.suppress(ImportError):
            importlib.import_module(package)
