"""Run one implementation of one workload in this (fresh) process and report JSON.

    python -m benchmarks.worker WORKLOAD IMPL [--quick] [--verify]

Setup runs untimed; only ``Prepared.run()`` is timed, with ``time.perf_counter``.
The report is one line on stdout, prefixed with ``RESULT_MARKER`` so that
anything else the code prints cannot be mistaken for it::

    {"wall_s": ..., "peak_rss_mib": ..., "rss_before_mib": ..., "setup_s": ...,
     "tasks": ..., "us_per_task": ..., "extra": {...}, "digest": ...}

``peak_rss_mib`` is ``getrusage(RUSAGE_SELF).ru_maxrss`` at the end: the peak
of the whole process (interpreter, imports and setup included), so compare it
across implementations of one workload, not across workloads. ``cpu_s`` is the
user plus system CPU time of all the process's threads during ``run()``: on a
loaded machine, where wall times stretch with the other processes' demand,
it is the steadier figure of the work done.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry import WORKLOADS, Prepared, digest, load_all

RESULT_MARKER = "@@BENCHMARK-RESULT@@ "


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # KiB on Linux, bytes on macOS.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _current_rss_mib() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss / (1024 * 1024)


def _jsonable(value):
    try:
        json.dumps(value)
        return value
    except TypeError:
        return repr(value)


def run_one(name: str, impl: str, quick: bool = False, verify: bool = False) -> dict:
    load_all()
    if name not in WORKLOADS:
        raise SystemExit(f"unknown workload {name!r}; known: {', '.join(sorted(WORKLOADS))}")
    wl = WORKLOADS[name]
    if impl not in wl.impls:
        raise SystemExit(
            f"workload {name!r} has no implementation {impl!r}; it has {wl.impl_names()}"
        )

    t0 = time.perf_counter()
    prepared = wl.impls[impl](**wl.sizes(quick))
    if not isinstance(prepared, Prepared):
        raise TypeError(f"{name}/{impl} returned {type(prepared).__name__}, expected Prepared")
    if prepared.warmup is not None:
        prepared.warmup()
    setup_s = time.perf_counter() - t0

    gc.collect()
    rss_before = _current_rss_mib()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    result = prepared.run()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    peak = _peak_rss_mib()

    if verify and prepared.verify is not None:
        result_digest = prepared.verify(result)
    elif prepared.digest is not None:
        result_digest = prepared.digest(result)
    else:
        result_digest = digest(result)

    report = {
        "workload": name,
        "impl": impl,
        "quick": quick,
        "wall_s": wall,
        "cpu_s": cpu,
        "setup_s": setup_s,
        "peak_rss_mib": peak,
        "rss_before_mib": rss_before,
        "tasks": prepared.tasks,
        "us_per_task": wall / prepared.tasks * 1e6 if prepared.tasks else None,
        "extra": {k: _jsonable(v) for k, v in prepared.extra.items()},
        "digest": _jsonable(result_digest),
    }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("impl")
    parser.add_argument("--quick", action="store_true", help="run at the small (smoke-test) sizes")
    parser.add_argument(
        "--verify", action="store_true", help="also run the workload's expensive result check"
    )
    args = parser.parse_args(argv)
    report = run_one(args.workload, args.impl, quick=args.quick, verify=args.verify)
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
