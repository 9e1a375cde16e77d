"""Run one implementation of one workload in this (fresh) process and report JSON.

    python -m benchmarks.worker WORKLOAD IMPL [--quick] [--verify]

Setup runs untimed; only ``Prepared.run()`` is timed, with ``time.perf_counter``.
The report is one line on stdout, prefixed with ``RESULT_MARKER`` so that
anything else the code prints cannot be mistaken for it::

    {"wall_s": ..., "cpu_s": ..., "user_s": ..., "system_s": ...,
     "minor_faults": ..., "major_faults": ..., "peak_rss_mib": ...,
     "rss_before_mib": ..., "setup_s": ..., "tasks": ..., "us_per_task": ...,
     "extra": {...}, "digest": ...}

``peak_rss_mib`` depends on the workload's ``peak`` (``peak_rss_scope`` in the
report says which):

- ``"process"`` (the default): ``getrusage(RUSAGE_SELF).ru_maxrss`` at the end,
  the peak of the whole process (interpreter, imports and setup included), so
  compare it across implementations of one workload, not across workloads;
- ``"run"``: the peak *during* ``run()`` only (the ML fits, whose untimed setup
  builds the data with scikit-learn and would set the process peak). After
  setup and ``gc.collect()`` the worker resets the kernel's high-water mark
  (``5`` written to ``/proc/self/clear_refs``, Linux) and reads ``VmHWM``
  after ``run()``; where that is not possible it samples the RSS every
  :data:`SAMPLE_INTERVAL_S` on a thread (``peak_rss_method`` says which).
  The figure still includes what setup left resident (the data the run
  reads, as ``rss_before_mib`` shows), not setup's transient peak.

CPU time and page faults of ``run()`` (all the process's threads, from
``getrusage(RUSAGE_SELF)`` before and after it):

- ``user_s``: user CPU time, the work the code itself does; on a loaded
  machine, where wall times stretch with the other processes' demand, it is
  the steadiest figure of the work done;
- ``system_s``: system CPU time, the kernel's work for the process: mostly
  page faults on freshly touched memory. On a VM with free page reporting
  (memory a process frees goes back to the host) those faults also fault on
  the host, and ``system_s`` can be several times ``user_s`` for every
  implementation alike: a machine effect (``docs/benchmarks.md``);
- ``cpu_s``: ``user_s + system_s``, kept for readers of older results;
- ``minor_faults``, ``major_faults``: ``ru_minflt`` and ``ru_majflt`` (page
  faults served without and with I/O).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry import WORKLOADS, Prepared, digest, load_all

RESULT_MARKER = "@@BENCHMARK-RESULT@@ "
FORCE_SAMPLING_ENV = "CHUNKWISE_BENCH_SAMPLE_PEAK"
"""Set to ``1`` to sample the run's peak RSS even where the high-water mark can be reset (tests)."""


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


SAMPLE_INTERVAL_S = 0.002
"""How often the fallback sampler reads the RSS (``peak="run"`` without ``/proc/self/clear_refs``)."""


def _read_vmhwm_mib() -> float | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return None


def reset_high_water_mark() -> bool:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; ``False`` where the kernel does not allow it."""
    if _read_vmhwm_mib() is None:
        return False
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


class PeakSampler:
    """The largest RSS seen every ``interval`` seconds between ``start()`` and ``stop()`` (MiB), on a thread."""

    def __init__(self, interval: float = SAMPLE_INTERVAL_S):
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="peak-rss-sampler", daemon=True)
        self.peak = 0.0
        self.samples = 0

    def _sample(self) -> None:
        self.peak = max(self.peak, self._process.memory_info().rss / (1024 * 1024))
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def start(self) -> PeakSampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return self.peak


class RunPeak:
    """The peak RSS of the measured part: the kernel's high-water mark reset at ``start()``, or sampled."""

    def __init__(self, force_sampling: bool = False):
        self.method = "sampled" if force_sampling or not reset_high_water_mark() else "VmHWM reset after setup"
        self._sampler = PeakSampler().start() if self.method == "sampled" else None

    def stop(self) -> float:
        if self._sampler is not None:
            return self._sampler.stop()
        return _read_vmhwm_mib()


class RunUsage:
    """The CPU time and page faults of the process between construction and :meth:`stop`."""

    def __init__(self) -> None:
        self._before = resource.getrusage(resource.RUSAGE_SELF)

    def stop(self) -> dict:
        after, before = resource.getrusage(resource.RUSAGE_SELF), self._before
        user = after.ru_utime - before.ru_utime
        system = after.ru_stime - before.ru_stime
        return {
            "cpu_s": user + system,
            "user_s": user,
            "system_s": system,
            "minor_faults": after.ru_minflt - before.ru_minflt,
            "major_faults": after.ru_majflt - before.ru_majflt,
        }


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
    run_peak = RunPeak(force_sampling=os.environ.get(FORCE_SAMPLING_ENV) == "1") if wl.peak == "run" else None
    usage = RunUsage()
    start = time.perf_counter()
    result = prepared.run()
    wall = time.perf_counter() - start
    cpu = usage.stop()
    peak = run_peak.stop() if run_peak is not None else _peak_rss_mib()

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
        **cpu,
        "setup_s": setup_s,
        "peak_rss_mib": peak,
        "peak_rss_scope": wl.peak,
        "peak_rss_method": run_peak.method if run_peak is not None else "ru_maxrss",
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
