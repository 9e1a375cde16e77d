"""``python -m chunkwise demo``: a short tour that runs in a few seconds.

1. delayed: a tree reduction over many delayed tasks, run with a progress bar
   on the threaded scheduler, checked against plain Python, with a summary
   (tasks, time per task, the peak number of results held at once).
2. array: the mean of a 3 GiB random array computed block by block, with its
   plan, a progress bar and the process's peak memory.
3. dataframe: a Parquet dataset of events (hive-partitioned by day) written
   to a temporary directory, read back with a column selection and a
   partition filter, then filtered, grouped and described; the answers are
   checked against pandas, and the plan shows what the scan reads (and the
   reads recorded while it ran confirm it).

4. ml: the seed example of ``chunkwise.ml`` (``make_classification``,
   ``train_test_split``, ``LogisticRegression``) on 200,000 rows, with a
   progress bar per optimizer step (one pass over the data each); the
   accuracy is checked against scikit-learn's on the same rows, and the fit
   time, passes and the peak memory of the fit are printed.

``python -m chunkwise demo --cluster`` runs the same kind of work on a
``distributed.LocalCluster`` started for the occasion (worker processes on
127.0.0.1), prints its dashboard address, persists an array on the workers
and reduces it there.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from operator import add

__all__ = ["array_demo", "cluster_demo", "dataframe_demo", "demo", "main", "ml_demo"]


def _load(i: int) -> list[int]:
    """Stands in for reading one chunk of data."""
    return list(range(i * 100, (i + 1) * 100))


def _summarize(chunk: list[int]) -> int:
    return sum(x * x for x in chunk)


def demo(n_chunks: int = 2_000, out=None) -> dict:
    """Run the delayed tree-reduction demo and return its figures."""
    import chunkwise
    from chunkwise import delayed
    from chunkwise.diagnostics import ProgressBar
    from chunkwise.scheduling import Callback

    out = out or sys.stdout
    print(f"chunkwise {chunkwise.__version__} demo", file=out)
    print(f"1. delayed: sum of squares over {n_chunks:,} chunks, reduced as a binary tree", file=out)
    load = delayed(_load, pure=True)
    summarize = delayed(_summarize, pure=True)
    level = [summarize(load(i)) for i in range(n_chunks)]
    while len(level) > 1:
        level = [
            delayed(add, pure=True)(level[j], level[j + 1]) if j + 1 < len(level) else level[j]
            for j in range(0, len(level), 2)
        ]
    total = level[0]

    graph = total.__chunkwise_graph__()
    print(f"   plan: {len(graph):,} tasks after optimization", file=out)

    peak = {"live": 0}
    lock = threading.Lock()

    def posttask(key, result, graph, state, worker_id):
        live = len(state.results)
        if live > peak["live"]:
            with lock:
                peak["live"] = max(peak["live"], live)

    start = time.perf_counter()
    with ProgressBar(out=out):
        result = total.compute(scheduler="threads", callbacks=[Callback(posttask=posttask)])
    elapsed = time.perf_counter() - start
    expected = sum(x * x for x in range(n_chunks * 100))
    status = "correct" if result == expected else f"WRONG (expected {expected})"
    print(f"   result {result:,} ({status})", file=out)
    print(
        f"   {len(graph):,} tasks in {elapsed:.2f} s: {elapsed / len(graph) * 1e6:.1f} µs per task; "
        f"at most {peak['live']} results held at once",
        file=out,
    )
    if result != expected:
        raise SystemExit(1)
    return {"tasks": len(graph), "seconds": elapsed, "peak_live_results": peak["live"]}


def array_demo(size: int = 20_000, block: int = 2_000, out=None) -> dict:
    """An out-of-core-style reduction: the mean of a random array larger than it holds at once."""
    import chunkwise.array as da
    from chunkwise.diagnostics import ProgressBar, ResourceProfiler

    out = out or sys.stdout
    nbytes = size * size * 8
    print(
        f"2. array: mean of a {size:,} x {size:,} random float64 array "
        f"({nbytes / 2**30:.1f} GiB) in {block:,} x {block:,} blocks",
        file=out,
    )
    x = da.random.default_rng(42).random((size, size), chunks=(block, block))
    total = x.mean()
    print(f"   plan: {len(total.__chunkwise_graph__()):,} tasks; the plan:", file=out)
    for line in total.explain(show=False).splitlines():
        print("     " + line, file=out)
    start = time.perf_counter()
    with ProgressBar(out=out), ResourceProfiler(dt=0.05) as resources:
        mean = float(total.compute())
    elapsed = time.perf_counter() - start
    peak = resources.peak_memory or 0.0
    print(
        f"   mean {mean:.6f} (expected about 0.5) in {elapsed:.2f} s "
        f"({nbytes / elapsed / 2**30:.2f} GiB/s); peak memory of the process {peak:,.0f} MB",
        file=out,
    )
    if abs(mean - 0.5) > 1e-3:
        raise SystemExit(1)
    return {"seconds": elapsed, "peak_mb": peak, "mean": mean}


def _events(rows: int, seed: int = 16):
    """A made-up table of events: who spent how much, where, on which day."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": np.arange(rows),
        "day": rng.integers(1, 8, rows),
        "user": pd.Series(rng.choice(["ann", "bob", "cy", "dee", "eve"], rows), dtype="str"),
        "country": pd.Series(rng.choice(["de", "fr", "jp", "us"], rows, p=[0.2, 0.2, 0.1, 0.5]), dtype="str"),
        "amount": rng.lognormal(3, 1, rows).round(2),
        "note": pd.Series(rng.choice(["", "gift", "refund?", "promo"], rows), dtype="str"),
    })


def dataframe_demo(rows: int = 200_000, out=None) -> dict:
    """Write a hive-partitioned Parquet dataset, then filter, group and describe it, reading only what is needed."""
    import tempfile

    import numpy as np
    import pandas as pd

    import chunkwise
    import chunkwise.dataframe as dd
    from chunkwise.dataframe.io.parquet import record_reads
    from chunkwise.diagnostics import ProgressBar

    out = out or sys.stdout
    print(f"3. dataframe: {rows:,} events in Parquet, hive-partitioned by day (day=1 ... day=7)", file=out)
    events = _events(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/events"
        events.to_parquet(path, partition_cols=["day"], row_group_size=10_000)
        df = dd.read_parquet(path, columns=["country", "amount"], filters=[("day", ">=", 6)])
        big = df[df.amount > 20]
        by_country = big.groupby("country").amount.agg(["count", "sum", "mean"])
        summary = big.amount.describe()
        print(f"   read_parquet(columns=['country', 'amount'], filters=[('day', '>=', 6)]): "
              f"{df.npartitions} of 7 day partitions", file=out)
        print("   big = df[df.amount > 20]; big.groupby('country').amount.agg(['count', 'sum', 'mean']); "
              "big.amount.describe()", file=out)
        print("   the plan (what the scan reads):", file=out)
        for line in by_country.explain(show=False).splitlines():
            print("     " + line, file=out)
        start = time.perf_counter()
        with ProgressBar(out=out), record_reads() as reads:
            result, described = chunkwise.compute(by_country, summary)
        elapsed = time.perf_counter() - start

        local = pd.read_parquet(path)  # pandas on the same files, every column
    local = local[(local.day.astype(int) >= 6) & (local.amount > 20)]
    expected = local.groupby("country").amount.agg(["count", "sum", "mean"])
    exact, quartiles = ["count", "mean", "std", "min", "max"], ["25%", "50%", "75%"]
    ok = (
        result.index.equals(expected.index)
        and result["count"].equals(expected["count"])
        and np.allclose(result[["sum", "mean"]], expected[["sum", "mean"]], rtol=1e-12)
        # describe's percentiles are approximate (docs/dataframe.md): checked loosely
        and np.allclose(described[exact], local.amount.describe()[exact], rtol=1e-12)
        and np.allclose(described[quartiles], local.amount.describe()[quartiles], rtol=0.02)
    )
    table = result.to_string(float_format=lambda v: f"{v:,.2f}")
    for line in table.splitlines():
        print("   " + line, file=out)
    print("   amount > 20: " + ", ".join(f"{k} {v:,.2f}" for k, v in described.items()), file=out)
    files_read = sorted({r.path for r in reads})
    days = sorted({p.rsplit("/", 2)[-2] for p in files_read})
    columns_read = sorted({c for r in reads for c in (r.columns or ("(all)",))})
    print(
        f"   read: {len(reads)} pieces of {len(files_read)} files ({', '.join(days)}), "
        f"columns {columns_read} of {len(events.columns)}; {elapsed:.2f} s; "
        + ("matches pandas (correct)" if ok else "WRONG: differs from pandas"),
        file=out,
    )
    if not ok:
        raise SystemExit(1)
    return {"seconds": elapsed, "pieces_read": len(reads), "columns_read": columns_read}


def cluster_demo(n_workers: int = 2, size: int = 8_000, block: int = 1_000, out=None) -> dict:
    """Run delayed and array work on a ``LocalCluster``, the way a ``distributed`` user would."""
    try:
        import distributed
    except ImportError as exc:  # the extra is not installed
        raise SystemExit(
            "python -m chunkwise demo --cluster needs distributed: pip install 'chunkwise[distributed]'"
        ) from exc
    import numpy as np

    import chunkwise
    import chunkwise.array as da
    from chunkwise import delayed

    out = out or sys.stdout
    print(f"chunkwise {chunkwise.__version__} demo on a distributed LocalCluster", file=out)
    start = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:8787",  # another free port if 8787 is taken
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        print(
            f"   {n_workers} worker processes started in {time.perf_counter() - start:.1f} s; "
            f"scheduler {cluster.scheduler_address}",
            file=out,
        )
        print(f"   dashboard: {client.dashboard_link}", file=out)

        print("1. delayed: sum of squares over 200 chunks, on the cluster (the active client)", file=out)
        load = delayed(_load, pure=True)
        summarize = delayed(_summarize, pure=True)
        total = delayed(sum, pure=True)([summarize(load(i)) for i in range(200)])
        start = time.perf_counter()
        result = total.compute()  # an active client: no scheduler= needed
        elapsed = time.perf_counter() - start
        expected = sum(x * x for x in range(200 * 100))
        status = "correct" if result == expected else f"WRONG (expected {expected})"
        print(f"   result {result:,} ({status}) in {elapsed:.2f} s", file=out)
        if result != expected:
            raise SystemExit(1)

        print(
            f"2. array: y = x + x.T over a {size:,} x {size:,} random array in {block:,} x {block:,} "
            "blocks, persisted on the workers, then reduced there",
            file=out,
        )
        x = da.random.default_rng(7).random((size, size), chunks=(block, block))
        start = time.perf_counter()
        y = client.persist(x + x.T)
        distributed.progress(y, notebook=False)
        print("", file=out)
        persisted = time.perf_counter() - start
        held = sum(len(keys) for keys in client.has_what().values())
        start = time.perf_counter()
        column_means = y.mean(axis=0).compute()
        symmetric_gap = float(abs(y[:block, :block] - y[:block, :block].T).max().compute())
        reduced = time.perf_counter() - start
        rss = client.run(_process_rss_mb)
        print(
            f"   persisted in {persisted:.2f} s ({held} blocks held on the workers); "
            f"reductions in {reduced:.2f} s; mean {float(np.mean(column_means)):.4f} (expected about 1.0); "
            f"symmetric: {symmetric_gap == 0.0}",
            file=out,
        )
        print(
            "   worker memory now: "
            + ", ".join(f"{mb:,.0f} MB" for mb in rss.values()),
            file=out,
        )
        ok = abs(float(np.mean(column_means)) - 1.0) < 1e-2 and symmetric_gap == 0.0
        if not ok:
            raise SystemExit(1)
    return {"delayed_seconds": elapsed, "persist_seconds": persisted, "reduce_seconds": reduced}


def ml_demo(rows: int = 200_000, out=None) -> dict:
    """The seed example of ``chunkwise.ml`` with a progress bar; accuracy checked against scikit-learn."""
    import numpy as np
    import psutil
    from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
    from sklearn.metrics import accuracy_score

    import chunkwise
    from chunkwise.diagnostics import ProgressBar
    from chunkwise.ml.datasets import make_classification
    from chunkwise.ml.linear_model import LogisticRegression
    from chunkwise.ml.model_selection import train_test_split
    from chunkwise.ml.passes import passes_counter

    out = out or sys.stdout
    chunks = max(rows // 10, 1)
    print(f"4. ml: LogisticRegression on make_classification({rows:,} x 20, chunks={chunks:,}), "
          "train_test_split; one progress bar per optimizer step (one pass over the data each)", file=out)
    X, y = make_classification(n_samples=rows, n_features=20, chunks=chunks, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        with ProgressBar(out=out, minimum=0), passes_counter() as passes:
            clf = LogisticRegression().fit(X_train, y_train)
    finally:
        done.set()
        sampler.join()
    fit_seconds = time.perf_counter() - start
    print("", file=out)
    y_true, y_pred = chunkwise.compute(y_test, clf.predict(X_test))
    accuracy = accuracy_score(y_true, y_pred)
    Xn, yn, Xt = chunkwise.compute(X_train, y_train, X_test)
    reference = accuracy_score(y_true, SklearnLogisticRegression().fit(Xn, yn).predict(Xt))
    ok = abs(accuracy - reference) <= 0.005 and bool(np.all(np.isfinite(clf.coef_)))
    print(
        f"   accuracy {accuracy:.4f} (scikit-learn on the same rows: {reference:.4f}; "
        + ("within 0.5 points (correct)" if ok else "WRONG: differs from scikit-learn") + ")",
        file=out,
    )
    print(
        f"   fit {fit_seconds:.2f} s: {clf.n_iter_[0]} L-BFGS iterations, {passes()} passes over the data; "
        f"peak memory of the fit {(peak[0] - start_rss) / 1e6:,.0f} MB above the {start_rss / 1e6:,.0f} MB "
        f"before it (the training data: {X_train.nbytes / 1e6:,.0f} MB)",
        file=out,
    )
    if not ok:
        raise SystemExit(1)
    return {"accuracy": accuracy, "reference": reference, "fit_seconds": fit_seconds, "passes": passes()}


def _process_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chunkwise", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("demo", help="run the demo")
    run.add_argument("--chunks", type=int, default=2_000, help="number of chunks (default 2000)")
    run.add_argument(
        "--cluster",
        action="store_true",
        help="run on a distributed LocalCluster (needs chunkwise[distributed]) and print its dashboard",
    )
    run.add_argument("--workers", type=int, default=2, help="worker processes for --cluster (default 2)")
    args = parser.parse_args(argv)
    if args.command == "demo" and args.cluster:
        cluster_demo(n_workers=args.workers)
    elif args.command == "demo":
        demo(args.chunks)
        array_demo()
        dataframe_demo()
        try:
            import sklearn  # noqa: F401  (the ML part needs the ml extra)
        except ImportError:
            print("4. ml: skipped: scikit-learn is not installed (pip install -e '.[ml]')")
        else:
            ml_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
