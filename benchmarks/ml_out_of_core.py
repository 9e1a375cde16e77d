"""Out-of-core fits: ``StandardScaler``, ``LogisticRegression`` and ``KMeans`` on data larger than memory.

The ML issue asks for these three fits on ``make_classification(n_samples=
200_000_000, n_features=20, chunks=1_000_000)`` (32 GB of float64) with a
peak RSS of at most 2 GiB each, once with the data generated on the fly (lazy,
nothing on disk) and once read back from a zarr store.

Design:

- every fit runs in its own child process (``--fit``), so each peak is that
  fit's alone; the parent samples the child's RSS with psutil every 50 ms and
  also reads the kernel's high-water mark (``ru_maxrss`` from ``os.wait4``),
  and reports the larger;
- the child counts passes over the data (:func:`chunkwise.ml.passes.passes_counter`)
  and times ``fit`` (wall and CPU, all its threads); the cache of training data is switched off
  (``set_cache_limit(0)``), so a small ``--rows`` run takes the same
  out-of-core path as the full one (at full size the data exceed the cache
  limit anyway);
- ``--source zarr`` first writes ``X`` and ``y`` to a zarr store under
  ``--store`` (in a child process, timed), fits from it, and deletes the store
  in a ``finally``. The disk is shared: run it under the lock,
  ``flock /work/bigdisk.lock python -m benchmarks.ml_out_of_core --source zarr``.

Usage (small run, then the full one)::

    python -m benchmarks.ml_out_of_core --rows 2_000_000 --source generated
    python -m benchmarks.ml_out_of_core --rows 200_000_000 --source generated
    flock /work/bigdisk.lock python -m benchmarks.ml_out_of_core --rows 200_000_000 --source zarr

``--parallel`` runs the fits of one source at the same time (on a shared
machine, where each process gets its share of the cores). Prints one
Markdown table row per fit (estimator, rows, source, passes, wall
time, CPU time, peak RSS, within the limit or not) and writes them as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["ESTIMATORS", "fit_in_child", "main", "run_fit", "write_zarr"]

ESTIMATORS = ("scaler", "logistic", "kmeans")
MIB = 2**20


# --- in the child: build the data, fit one estimator, print a JSON line -------------------------


def _data(rows: int, chunks: int, features: int, source: str, store: str | None) -> tuple:
    if source == "zarr":
        from chunkwise.array import from_zarr

        return from_zarr(os.path.join(store, "X")), from_zarr(os.path.join(store, "y"))
    from chunkwise.ml.datasets import make_classification

    return make_classification(n_samples=rows, n_features=features, chunks=chunks, random_state=0)


def _estimator(name: str):
    if name == "scaler":
        from chunkwise.ml.preprocessing import StandardScaler

        return StandardScaler()
    if name == "logistic":
        from chunkwise.ml.linear_model import LogisticRegression

        return LogisticRegression()
    if name == "kmeans":
        from chunkwise.ml.cluster import KMeans

        return KMeans(n_clusters=8, max_iter=10, random_state=0)
    raise ValueError(f"ml_out_of_core: unknown estimator {name!r}; choose from {ESTIMATORS}")


def run_fit(name: str, rows: int, chunks: int, features: int, source: str, store: str | None) -> dict:
    """Fit estimator ``name`` on the data (in this process); passes, wall time and a summary of the model."""
    import warnings

    import numpy as np

    from chunkwise.ml.passes import passes_counter, set_cache_limit

    X, y = _data(rows, chunks, features, source, store)
    model = _estimator(name)
    with set_cache_limit(0), passes_counter() as passes, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(X, y) if name == "logistic" else model.fit(X)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    result = {"passes": passes(), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
              "warnings": sorted({type(w.message).__name__ for w in caught})}
    if name == "logistic":
        result["n_iter"] = int(np.max(model.n_iter_))
        result["coef_norm"] = round(float(np.linalg.norm(model.coef_)), 6)
    elif name == "kmeans":
        result["n_iter"] = int(model.n_iter_)
        result["inertia_per_row"] = round(float(model.inertia_) / rows, 6)
    else:
        result["mean_abs_mean"] = round(float(np.abs(model.mean_).mean()), 6)
    return result


def _write_zarr_child(rows: int, chunks: int, features: int, store: str) -> dict:
    from chunkwise.array import to_zarr
    from chunkwise.ml.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=features, chunks=chunks, random_state=0)
    start = time.perf_counter()
    to_zarr(X, os.path.join(store, "X"))
    to_zarr(y, os.path.join(store, "y"))
    return {"wall_s": round(time.perf_counter() - start, 1)}


# --- in the parent: one child per fit, its RSS sampled ------------------------------------------


def _sample_peak(pid: int, stop: threading.Event, peak: list) -> None:
    import psutil

    try:
        process = psutil.Process(pid)
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            stop.wait(0.05)
    except psutil.Error:  # the child has exited
        return


def _child(arguments: list) -> tuple:
    """Run ``python -m benchmarks.ml_out_of_core ARGUMENTS`` in a child; (its JSON line, peak RSS bytes)."""
    command = [sys.executable, "-m", "benchmarks.ml_out_of_core", *arguments]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parent.parent)
    peak = [0]
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_peak, args=(child.pid, stop, peak), daemon=True)
    sampler.start()
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"ml_out_of_core: child {' '.join(arguments)} failed with exit code {child.returncode}")
    line = output.strip().splitlines()[-1]
    return json.loads(line), max(peak[0], usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


def fit_in_child(name: str, args: argparse.Namespace, source: str) -> dict:
    """Fit ``name`` in a child process; the table row (passes, wall, peak RSS)."""
    arguments = ["--fit", name, "--rows", str(args.rows), "--chunks", str(args.chunks),
                 "--features", str(args.features), "--source", source]
    if source == "zarr":
        arguments += ["--store", str(args.store)]
    result, peak = _child(arguments)
    row = {"estimator": name, "rows": args.rows, "source": source, **result,
           "peak_rss_mib": round(peak / MIB), "within_limit": peak <= args.limit_gib * 2**30}
    print(_table_row(row), flush=True)
    return row


def write_zarr(args: argparse.Namespace) -> dict:
    """Write the dataset to ``args.store`` in a child process; its wall time and peak RSS."""
    if Path(args.store).exists():
        raise FileExistsError(f"ml_out_of_core: {args.store} exists; remove it or pass another --store")
    result, peak = _child(["--write-zarr", "--rows", str(args.rows), "--chunks", str(args.chunks),
                           "--features", str(args.features), "--store", str(args.store)])
    size = sum(f.stat().st_size for f in Path(args.store).rglob("*") if f.is_file())
    return {**result, "peak_rss_mib": round(peak / MIB), "store_gib": round(size / 2**30, 2)}


def _fits(names: list, args: argparse.Namespace, source: str) -> list:
    """The fits of ``names``, one after the other, or at the same time with ``--parallel``."""
    if not args.parallel:
        return [fit_in_child(name, args, source) for name in names]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(names)) as pool:
        return list(pool.map(lambda name: fit_in_child(name, args, source), names))


def _table_row(row: dict) -> str:
    cpu = f"{row['cpu_s']:.0f} s" if row.get("cpu_s") is not None else "—"
    return (f"| {row['estimator']} | {row['rows']:,} | {row['source']} | {row['passes']} | {row['wall_s']:.0f} s | "
            f"{cpu} | {row['peak_rss_mib']} MiB | {'yes' if row['within_limit'] else 'NO'} |")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ml_out_of_core", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=200_000_000)
    parser.add_argument("--chunks", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--source", choices=("generated", "zarr", "both"), default="generated")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS), help="comma-separated subset of " +
                        ", ".join(ESTIMATORS))
    parser.add_argument("--store", default="/work/big/mlooc/classification.zarr")
    parser.add_argument("--limit-gib", type=float, default=2.0)
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--parallel", action="store_true",
                        help="run the fits of one source at the same time (each still in its own process, "
                             "its RSS its own)")
    parser.add_argument("--fit", help=argparse.SUPPRESS)
    parser.add_argument("--write-zarr", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv: list | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.fit:  # child: one fit
        print(json.dumps(run_fit(args.fit, args.rows, args.chunks, args.features, args.source, args.store)))
        return 0
    if args.write_zarr:  # child: write the store
        print(json.dumps(_write_zarr_child(args.rows, args.chunks, args.features, args.store)))
        return 0
    names = [n.strip() for n in args.estimators.split(",") if n.strip()]
    for name in names:
        if name not in ESTIMATORS:
            raise SystemExit(f"ml_out_of_core: unknown estimator {name!r}; choose from {ESTIMATORS}")
    print(f"# {args.rows:,} x {args.features} float64 = {args.rows * args.features * 8 / 1e9:.1f} GB, "
          f"chunks of {args.chunks:,} rows; limit {args.limit_gib} GiB", flush=True)
    print("| estimator | rows | source | passes | wall | CPU | peak RSS | ≤ limit |\n|---|---|---|---|---|---|---|---|",
          flush=True)
    rows = []
    if args.source in ("generated", "both"):
        rows += _fits(names, args, "generated")
    if args.source in ("zarr", "both"):
        try:
            written = write_zarr(args)
            print(f"# zarr store written: {written}", flush=True)
            rows.append({"estimator": "write zarr", "rows": args.rows, "source": "zarr", **written})
            rows += _fits(names, args, "zarr")
        finally:  # the disk is shared: never leave the store behind
            shutil.rmtree(args.store, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r.get("within_limit", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
