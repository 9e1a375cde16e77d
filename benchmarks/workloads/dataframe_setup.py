"""The set-up every dataframe workload family shares (``df_*``, ``dfs_*``, ``dfj_*``).

A family module lists its workloads as :class:`Spec` rows (a name, a
description, one query per implementation and a digest) and calls
:func:`register`. For each implementation the registered ``prepare``:

- finds the Parquet data of the requested size with the family's
  ``data_dir(rows, files)`` (``dataframes.data_dir``: generated once, cached);
- turns a ``chunkwise``/``dask`` query factory ``query(dd)`` into the query,
  with ``dd`` the library's dataframe module (:func:`library`);
- pins pandas (and the Arrow decoding under it) to one thread;
- warms up on the quick dataset, so lazy imports and pools are not timed;
- lets the family wrap the chunkwise run to record extra figures
  (``wrap(run, extra, path)``, e.g. the bytes a shuffle wrote).

This module registers no workload itself and imports no library at the top
level (``benchmarks.workloads`` rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.registry import Prepared, workload

__all__ = ["Spec", "compute_function", "f8", "library", "register", "shuffle_bytes"]


@dataclass
class Spec:
    """One workload: ``queries`` maps an implementation to its query (or, for chunkwise and
    Dask, to a factory ``query(dd)``); ``digest`` reduces any implementation's answer to
    something equal when the values agree."""

    name: str
    description: str
    queries: dict[str, Callable]
    digest: Callable


def f8(value) -> str:
    """``value`` to 8 significant digits (``-0`` as ``0``), for digests."""
    text = f"{float(value):.8g}"
    return "0" if text == "-0" else text


def library(impl: str):
    """``chunkwise.dataframe`` or ``dask.dataframe``."""
    if impl == "chunkwise":
        import chunkwise.dataframe as dd

        return dd
    import dask.dataframe as dd

    return dd


def compute_function(dd) -> Callable:
    """``chunkwise.compute`` or ``dask.compute``, for the library ``dd``."""
    if dd.__name__.startswith("chunkwise"):
        import chunkwise

        return chunkwise.compute
    import dask

    return dask.compute


def shuffle_bytes(run: Callable, extra: dict, path: Path) -> Callable:
    """A ``wrap`` for :func:`register`: ``run`` reporting the MiB chunkwise's shuffles wrote."""

    def recorded():
        from chunkwise.dataframe.shuffle import shuffle_bytes_written

        before = shuffle_bytes_written()
        result = run()
        extra["shuffle_mib_written"] = round((shuffle_bytes_written() - before) / 2**20, 1)
        return result

    return recorded


def _prepare(impl: str, spec: Spec, data_dir: Callable, quick: dict,
             wrap: Callable | None) -> Callable[..., Prepared]:
    def prepare(rows: int, files: int) -> Prepared:
        path = data_dir(rows, files)
        small = data_dir(quick["rows"], quick["files"])
        query = spec.queries[impl]
        if impl in ("chunkwise", "dask"):
            query = query(library(impl))
        if impl == "pandas":
            import pyarrow as pa

            pa.set_cpu_count(1)
            pa.set_io_thread_count(1)
        extra: dict = {}
        run = lambda: query(path)  # noqa: E731
        if impl == "chunkwise" and wrap is not None:
            run = wrap(run, extra, path)
        return Prepared(run=run, digest=spec.digest, warmup=lambda: query(small), extra=extra)

    return prepare


def register(specs: list[Spec], *, data_dir: Callable, full: dict, quick: dict, target: float,
             target_note: str, group: str, wrap: Callable | None = None) -> None:
    """Register every implementation of every spec with :func:`benchmarks.registry.workload`."""
    for spec in specs:
        registered = workload(spec.name, spec.description, params=full, quick=quick, target=target,
                              target_note=target_note, group=group)
        for impl in spec.queries:
            registered.impl(impl)(_prepare(impl, spec, data_dir, quick, wrap))
