"""The workload registry: each workload is defined once, with one function per implementation.

A workload has a name, a one-line description, the sizes it runs at (full and
``--quick``), an optional target for the chunkwise/dask time ratio, and two or
more implementations: ``chunkwise``, ``dask``, optionally ``handwritten``
(the same blocks in plain NumPy on a 2-thread pool: the practical limit) and a
plain ``numpy``/``pandas`` baseline. An implementation is a function of the sizes that
does its setup (untimed) and returns a :class:`Prepared`, whose ``run`` is the
measured part::

    chain = workload("tasks_chain_sync", "a chain of n inc tasks, sync scheduler",
                     params={"n": 20_000}, quick={"n": 2_000}, target=1 / 3)

    @chain.impl("dask")
    def _(n):
        import dask
        dsk = build_chain(n)                      # untimed
        return Prepared(lambda: dask.get(dsk, ["end"]), tasks=len(dsk))

The worker (``benchmarks/worker.py``) runs one implementation in a fresh
process, times ``run()`` and reports wall time, peak RSS, extra figures and a
digest of the result; the runner (``benchmarks/run.py``) compares the digests
across implementations.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PEAK_SCOPES", "Prepared", "Workload", "digest", "load_all", "workload", "WORKLOADS"]

IMPL_ORDER = ("chunkwise", "dask", "handwritten", "numpy", "pandas", "sklearn")
"""Implementation names, in the order they are shown; chunkwise is compared with dask (the
ratio and target) and with ``handwritten``, the practical limit (``benchmarks/handwritten.py``)."""

WORKLOADS: dict[str, Workload] = {}

PEAK_SCOPES = ("process", "run")
"""What a workload's peak RSS measures: the whole worker process, or only the measured ``run()``."""


@dataclass
class Prepared:
    """What an implementation hands the worker after its (untimed) setup.

    run:     the measured part; its return value is digested.
    tasks:   number of tasks the measured part executes (for µs per task).
    digest:  result -> small JSON value compared across implementations
             (default: :func:`digest`). Return ``None`` to skip the comparison.
    verify:  an expensive check of the result, run only on the first repetition
             (``--verify``); its return value replaces the digest.
    warmup:  run once, untimed, before the measured part (thread pools, lazy imports).
    extra:   extra figures to report; ``run`` may fill it (e.g. sub-phase timings).
    """

    run: Callable[[], Any]
    tasks: int | None = None
    digest: Callable[[Any], Any] | None = None
    verify: Callable[[Any], Any] | None = None
    warmup: Callable[[], Any] | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Workload:
    name: str
    description: str
    params: dict
    quick: dict
    target: float | None = None
    target_note: str = ""
    group: str = ""
    limits: dict[str, float] = field(default_factory=dict)
    peak: str = "process"
    impls: dict[str, Callable[..., Prepared]] = field(default_factory=dict)

    def impl(self, name: str) -> Callable:
        """Decorator registering ``func(**params) -> Prepared`` as implementation ``name``."""

        def register(func: Callable[..., Prepared]) -> Callable[..., Prepared]:
            if name in self.impls:
                raise ValueError(f"workload {self.name!r} already has an implementation {name!r}")
            self.impls[name] = func
            return func

        return register

    def impl_names(self) -> list[str]:
        known = [n for n in IMPL_ORDER if n in self.impls]
        return known + sorted(n for n in self.impls if n not in IMPL_ORDER)

    def sizes(self, quick: bool) -> dict:
        return dict(self.quick if quick else self.params)


def workload(
    name: str,
    description: str,
    *,
    params: dict,
    quick: dict | None = None,
    target: float | None = None,
    target_note: str = "",
    group: str = "",
    limits: dict[str, float] | None = None,
    peak: str = "process",
) -> Workload:
    """Create and register a workload; attach implementations with ``@w.impl(name)``.

    ``limits``: seconds allowed to an implementation's process (setup and
    run), e.g. ``{"sklearn": 600}``; one that runs longer is stopped and shown
    as ``> 600 s``, not as an error, and the run goes on.

    ``peak``: what its peak RSS measures: ``"process"``, the whole worker
    process (setup included), or ``"run"``, the measured part only (the
    high-water mark is reset after setup; see ``benchmarks/worker.py``).
    """
    if name in WORKLOADS:
        raise ValueError(f"workload {name!r} is defined twice")
    if peak not in PEAK_SCOPES:
        raise ValueError(f"workload {name!r}: peak={peak!r}; use one of {PEAK_SCOPES}")
    w = Workload(
        name=name,
        description=description,
        params=dict(params),
        quick=dict(quick if quick is not None else params),
        target=target,
        target_note=target_note,
        group=group,
        limits=dict(limits or {}),
        peak=peak,
    )
    WORKLOADS[name] = w
    return w


_LOAD_ERRORS: dict[str, str] = {}


def load_all() -> dict[str, str]:
    """Import every workload module; return {module: error} for those that failed to import.

    A module listed in ``benchmarks.workloads.MODULES`` that does not exist yet is skipped.
    """
    from benchmarks import workloads

    for module in workloads.MODULES:
        full = f"benchmarks.workloads.{module}"
        if full in _LOAD_ERRORS:
            continue
        try:
            importlib.import_module(full)
        except ModuleNotFoundError as exc:
            if exc.name != full:
                _LOAD_ERRORS[full] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            _LOAD_ERRORS[full] = f"{type(exc).__name__}: {exc}"
    return dict(_LOAD_ERRORS)


# --- digests ---------------------------------------------------------------


def _float_text(x: float) -> str:
    if math.isnan(x):
        return "nan"
    # 9 significant digits: different summation orders agree, real differences show.
    return f"{x:.9g}"


def digest(value: Any) -> Any:
    """A small JSON value summarizing ``value``, equal across implementations that agree.

    Floats are rounded to 9 significant digits; arrays and pandas objects are
    summarized by type, shape, dtype and a rounded sum (chunked and unchunked
    reductions add in different orders).

    >>> digest([1, 2.0000000001, (3, "a")])
    [1, '2', [3, 'a']]
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, (list, tuple)):
        return [digest(v) for v in value]
    if isinstance(value, dict):
        return {str(k): digest(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    module = type(value).__module__.split(".")[0]
    if module == "numpy":
        import numpy as np

        arr = np.asarray(value)
        if arr.ndim == 0:
            return digest(arr.item())
        summary: dict[str, Any] = {"shape": list(arr.shape), "dtype": str(arr.dtype)}
        if arr.dtype.kind in "biufc":
            summary["sum"] = _float_text(float(np.nansum(arr.astype("float64"))))
        return summary
    if module == "pandas":
        import numpy as np
        import pandas as pd

        summary = {"type": type(value).__name__, "shape": list(np.shape(value))}
        if isinstance(value, pd.DataFrame):
            summary["columns"] = [str(c) for c in value.columns]
            numeric = value.select_dtypes("number")
            summary["sum"] = _float_text(
                float(np.nansum(numeric.to_numpy(dtype="float64", na_value=np.nan)))
            )
        elif isinstance(value, pd.Series) and pd.api.types.is_numeric_dtype(value.dtype):
            summary["sum"] = _float_text(
                float(np.nansum(value.to_numpy(dtype="float64", na_value=np.nan)))
            )
        return summary
    return repr(value)[:200]
