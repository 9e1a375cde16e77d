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
minus its RSS after the imports, per task. The same shapes run in the
benchmark suite as ``delayed_flat_1m`` and ``delayed_tree_1m``.
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
    c0 = time.process_time()
    t0 = time.perf_counter()
    root, tasks = build(delayed, shape, n)
    t1 = time.perf_counter()
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
        "bytes_per_task": (peak - base) / tasks,
    }


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
    for shape in args.shape:
        for n in args.n:
            for r in range(args.repeat):
                rotated = sides[r % len(sides) :] + sides[: r % len(sides)]
                for label, src in rotated:
                    out = _run(label, src, shape, n, args.timeout)
                    runs.setdefault((shape, n, label), []).append(out)
                    print(f"# {shape} n={n} {label}: {json.dumps(out)}", flush=True)
    print(
        "| shape | n | side | tasks | build s | compute s | µs/task | CPU µs/task | B/task (peak RSS) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for (shape, n, label), outs in runs.items():
        med = {k: statistics.median(o[k] for o in outs) for k in outs[0]}
        print(
            f"| {shape} | {n} | {label} | {int(med['tasks'])} | {med['build_s']:.2f} | "
            f"{med['compute_s']:.2f} | {med['us_per_task']:.1f} | {med['cpu_us_per_task']:.1f} | "
            f"{med['bytes_per_task']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
