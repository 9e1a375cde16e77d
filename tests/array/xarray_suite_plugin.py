"""A pytest plugin that runs xarray's own Dask tests with chunkwise serving as Dask's chunk manager.

xarray ships its test suite. Its ``test_dask.py`` and ``test_duck_array_wrapping.py``
take the array module, the array class and the constructor from
``guess_chunkmanager("dask")`` (their "dask-array expression" mode, for
``dask_array``). Loaded with ``-p``, this plugin answers that call, and
xarray's default manager, with chunkwise's manager, so those tests build
chunkwise arrays::

    X=$(python -c "import os, xarray; print(os.path.dirname(xarray.__file__))")/tests
    PYTHONPATH=src:tests/array python -m pytest -p xarray_suite_plugin -p no:cacheprovider \\
        -q -rf -W ignore $X/test_dask.py $X/test_duck_array_wrapping.py -k "not cupy and not jax"

Tests that inspect Dask's graphs, pass Dask's ``delayed`` objects or Dask
scheduler keywords are expected to fail: chunkwise is not Dask. The counts
and the reasons are in the xarray section of ``docs/array.md``. Importing this
module changes nothing; only pytest's ``-p`` loading does (its
``pytest_load_initial_conftests`` runs before xarray's ``conftest.py`` imports
``xarray.tests``, and only for plugins, never for conftest files).
"""

from __future__ import annotations

import sys
from typing import Any


def _chunkwise_for_dask(original: Any) -> Any:
    def guess_chunkmanager(manager: Any) -> Any:
        return original("chunkwise" if manager in (None, "dask") else manager)

    return guess_chunkmanager


def pytest_configure(config: Any) -> None:
    for marker in ("skip_with_dask_array", "xfail_with_dask_array", "network", "flaky", "slow_hypothesis"):
        config.addinivalue_line("markers", f"{marker}: a marker of xarray's own test suite")


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    import xarray.namedarray.parallelcompat as parallelcompat
    from xarray.core.options import OPTIONS

    original = parallelcompat.guess_chunkmanager
    replacement = _chunkwise_for_dask(original)
    for name, module in list(sys.modules.items()):
        if name.startswith("xarray") and getattr(module, "guess_chunkmanager", None) is original:
            module.guess_chunkmanager = replacement  # type: ignore[attr-defined]
    parallelcompat.guess_chunkmanager = replacement
    OPTIONS["chunk_manager"] = "chunkwise"

    import xarray.tests

    xarray.tests.has_dask_array_expr = True  # the wrapping tests then ask the manager for array_api/from_array


def pytest_collection_finish(session: Any) -> None:
    """Run against chunkwise what xarray marks as failing for Dask (argsort, conjugate, searchsorted)."""
    module = sys.modules.get("xarray.tests.test_duck_array_wrapping")
    if module is not None:
        module.NAMESPACE_ARRAYS["dask.array"]["xfails"] = {}
