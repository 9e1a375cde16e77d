"""Cost per task of large ``delayed`` graphs, for several chunkwise checkouts and Dask.

    python -m benchmarks.delayed_scale --src /work/main/src --src src --dask -n 100000 1000000

Each measurement runs in a fresh process (``python -m benchmarks.delayed_scale
--one SHAPE N IMPL``), with ``PYTHONPATH`` pointing at the checkout's ``src``
(``IMPL`` ``chunkwise``) or importing ``dask.delayed`` (``IMPL`` ``dask``).
Repetitions are interleaved, so machine noise hits every side alike; the
table shows medians. Two shapes, both summing ``inc(i)`` over ``range(n)``:

- ``flat``: ``delayed(sum)([delayed(inc)(i) for i in range(n)])`` (n + 1 tasks);
- ``tree``: the same leaves summed 100 at a time, then those sums 100 at a
  time, up to one (a fan-in-100 tree, about 1.01 n tasks).

Build (making the Delayed objects) and compute (``.compute()`` on the
threaded scheduler) are both timed, in wall time and in the process's CPU
time (steadier than wall time on a machine shared with other work). Memory is the peak RSS of the process
minus its RSS after the imports, per task. The cyclic garbage collector's
passes during the build are counted (``gc.callbacks`` only observes them; no
setting is changed): full passes over the user's calls are the part of the
build that grows with n. The same shapes run in the benchmark suite as
``delayed_flat_1m`` and ``delayed_tree_1m``.

Robust estimates. One repetition runs every size for every side, the sizes
alternating order from one repetition to the next and the sides rotating, so
a burst of load from other programs lands on the small and the large run
alike instead of deciding the ratio between them. Each cell is the median of
the repetitions with its spread (min–max); the ratio of 10**6 to 10**5 (the
largest size over the smallest) is given from the medians and, for its
spread, from each repetition's pair of runs made next to each other.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def inc(x):
    return x + 1


def build(delayed, shape: str, n: int):
    """The graph of one shape over ``n`` leaves; returns (root, number of tasks)."""
    leaves = [delayed(inc)(i) for i in range(n)]
    if shape == "flat":
        return delayed(sum)(leaves), n + 1
    tasks = n
    layer = leaves
    del leaves
    while len(layer) > 1:
        layer = [delayed(sum)(layer[j : j + 100]) for j in range(0, len(layer), 100)]
        tasks += len(layer)
    return layer[0], tasks


def measure(shape: str, n: int, impl: str) -> dict:
    """Build and compute one shape in this process; time, memory and the answer."""
    import psutil

    if impl == "dask":
        from dask import delayed
    else:
        from chunkwise import delayed
    gc.collect()
    base = psutil.Process().memory_info().rss
    passes = _GcPasses()
    gc.callbacks.append(passes)
    try:
        c0 = time.process_time()
        t0 = time.perf_counter()
        root, tasks = build(delayed, shape, n)
        t1 = time.perf_counter()
        c1 = time.process_time()
    finally:
        gc.callbacks.remove(passes)
    value = root.compute(scheduler="threads")
    t2 = time.perf_counter()
    c2 = time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if value != n * (n + 1) // 2:
        raise AssertionError(f"{impl} {shape} {n}: wrong answer {value!r}")
    return {
        "tasks": tasks,
        "build_s": t1 - t0,
        "compute_s": t2 - t1,
        "us_per_task": (t2 - t0) / tasks * 1e6,
        "cpu_us_per_task": (c2 - c0) / tasks * 1e6,
        "build_cpu_us_per_task": (c1 - c0) / tasks * 1e6,
        "compute_cpu_us_per_task": (c2 - c1) / tasks * 1e6,
        "build_gc_full_passes": passes.full,
        "build_gc_cpu_us_per_task": passes.cpu_s / tasks * 1e6,
        "bytes_per_task": (peak - base) / tasks,
    }


class _GcPasses:
    """A ``gc.callbacks`` entry counting full collections and the CPU time of all of them."""

    def __init__(self) -> None:
        self.full = 0
        self.cpu_s = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.process_time()
            return
        self.cpu_s += time.process_time() - self._start
        if info["generation"] == 2:
            self.full += 1


def _run(label: str, src: str | None, shape: str, n: int, timeout: float) -> dict:
    env = dict(os.environ)
    impl = "dask" if src is None else "chunkwise"
    if src is not None:
        env["PYTHONPATH"] = os.path.abspath(src)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.delayed_scale", "--one", shape, str(n), impl],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode:
        raise RuntimeError(f"{label} {shape} {n} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spread(values: list) -> str:
    """``median (min–max)`` of ``values``, to one decimal."""
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.1f}"
    return f"{med:.1f} ({min(values):.1f}–{max(values):.1f})"


def format_table(runs: dict, labels: list, shapes: list, sizes: list) -> str:
    """Markdown tables of ``runs`` (``{(shape, n, label): [measure(), ...]}``).

    The first table gives each cell's median CPU µs per task with its spread,
    split into build and compute, the build's full GC passes, B/task and the
    cost relative to the first side. The second gives, per side and shape, the
    ratio of the largest size's cost per task to the smallest's: from the
    medians, and from each repetition's pair of runs (the spread).
    """
    lines = [
        "| shape | n | side | tasks | CPU µs/task | build CPU | compute CPU | build GC full passes "
        "(GC µs/task) | wall µs/task | B/task | ÷ first side |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    first = labels[0]
    for shape in shapes:
        for n in sizes:
            for label in labels:
                outs = runs.get((shape, n, label))
                if not outs:
                    continue
                cpu = [o["cpu_us_per_task"] for o in outs]
                base = runs.get((shape, n, first))
                ratio = (
                    f"{statistics.median(cpu) / statistics.median(o['cpu_us_per_task'] for o in base):.2f}"
                    if base
                    else "—"
                )
                full = statistics.median(o.get("build_gc_full_passes", 0) for o in outs)
                gc_us = statistics.median(o.get("build_gc_cpu_us_per_task", 0.0) for o in outs)
                lines.append(
                    f"| {shape} | {n} | {label} | {outs[0]['tasks']} | {_spread(cpu)} | "
                    f"{_spread([o.get('build_cpu_us_per_task', 0.0) for o in outs])} | "
                    f"{_spread([o.get('compute_cpu_us_per_task', 0.0) for o in outs])} | "
                    f"{full:g} ({gc_us:.2f}) | "
                    f"{statistics.median(o['us_per_task'] for o in outs):.1f} | "
                    f"{statistics.median(o['bytes_per_task'] for o in outs):.0f} | {ratio} |"
                )
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        lines += [
            "",
            f"| shape | side | CPU per task, n={large} ÷ n={small}: from medians | per repetition |",
            "|---|---|---|---|",
        ]
        for shape in shapes:
            for label in labels:
                lo = runs.get((shape, small, label))
                hi = runs.get((shape, large, label))
                if not lo or not hi:
                    continue
                lo_cpu = [o["cpu_us_per_task"] for o in lo]
                hi_cpu = [o["cpu_us_per_task"] for o in hi]
                pairs = [h / low for h, low in zip(hi_cpu, lo_cpu)]
                med = statistics.median(hi_cpu) / statistics.median(lo_cpu)
                each = ", ".join(f"{x:.2f}" for x in pairs)
                lines.append(f"| {shape} | {label} | {med:.2f} | {each} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=3, metavar=("SHAPE", "N", "IMPL"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--src", action="append", default=[], help="a checkout's src folder (default: src)"
    )
    parser.add_argument("--dask", action="store_true", help="also run dask.delayed")
    parser.add_argument("-n", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--shape", nargs="+", default=["flat", "tree"], choices=["flat", "tree"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    if args.one:
        shape, n, impl = args.one
        print(json.dumps(measure(shape, int(n), impl)))
        return 0
    sides: list[tuple[str, str | None]] = [(src, src) for src in args.src]
    if not sides and not args.dask:
        sides.append(("src", "src"))
    if args.dask:
        sides.append(("dask", None))
    runs: dict = {}
    for r in range(args.repeat):
        sizes = args.n if r % 2 == 0 else args.n[::-1]  # small then large, then large then small
        rotated = sides[r % len(sides) :] + sides[: r % len(sides)]
        for shape in args.shape:
            for n in sizes:
                for label, src in rotated:
                    out = _run(label, src, shape, n, args.timeout)
                    runs.setdefault((shape, n, label), []).append(out)
                    print(f"# rep {r} {shape} n={n} {label}: {json.dumps(out)}", flush=True)
    print(format_table(runs, [label for label, _ in sides], args.shape, args.n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
