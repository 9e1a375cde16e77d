"""Shuffles larger than memory: ``sort_values`` and a fact x fact merge under a memory limit.

    flock /work/bigdisk.lock python -m benchmarks.dataframe_out_of_core \\
        --gb 6 --memory-limit 4GiB --dir /work/big/shuffleooc

Steps, all in this process (threads scheduler, ``num_workers`` cores):

1. **Data.** Deterministic Parquet (zstd) under ``DIR/data``: ``orders``, about
   ``--gb`` GB once in pandas memory, in files of ``--file-mb`` MB each, with
   realistic columns that compress: ``order_id`` (unique int64, shuffled),
   ``user_id`` (int64, 10M users), ``qty`` (int16, 1-99), ``ts`` (datetime64[s],
   rising), ``amount`` (float64, cents), ``country`` (a short string). For the
   merge, ``payments``: one row per order (``order_id`` in another order,
   ``paid`` float64, ``method`` int8). Seeds are the file numbers.
2. **Workloads**, with ``dataframe.shuffle.memory_limit`` set (it chooses the
   output partition counts), pieces compressed with ``--compression`` under
   ``DIR/shuffle``:
   - ``sort``: ``orders.sort_values("amount")``, consumed partition by
     partition (rows, first and last key, in order within): nothing holds the
     whole result. The partitions' bounds are then checked to follow each other.
   - ``merge``: ``orders.merge(payments, on="order_id")``, consumed the same
     way (rows and a checksum of ``paid`` a partition), checked against the
     payments' total.
3. **Measures**: wall time, the peak RSS of the process tree (``psutil``,
   sampled every 50 ms), the shuffle's bytes written to disk, output partitions.

``DIR`` is removed in a ``finally``, whatever happens. Prints one JSON line a
workload and a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import threading
import time

BYTES_PER_ROW = 41.0  # orders in pandas memory: 8+8+2+8+8 + a short Arrow string (~7)


# --- memory ----------------------------------------------------------------------------------


class PeakRSS:
    """Samples the RSS of this process and its children on a thread; ``peak`` in bytes."""

    def __init__(self, interval: float = 0.05):
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        total = self.process.memory_info().rss
        for child in self.process.children(recursive=True):
            with contextlib.suppress(Exception):  # a child that ended meanwhile
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self._rss())
            self._done.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


# --- data -------------------------------------------------------------------------------------


def orders_file(i: int, rows: int, start: int, total: int):
    """File ``i`` of ``orders``: rows ``start .. start + rows`` of ``total``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(i)
    ids = np.arange(start, start + rows, dtype="int64")
    countries = np.array(["de", "fr", "us", "gb", "jp", "br", "in", "nl"])
    return pd.DataFrame({
        "order_id": _scramble(ids, total),
        "user_id": rng.integers(0, 10_000_000, rows),
        "qty": rng.integers(1, 100, rows).astype("int16"),
        "ts": (np.datetime64("2025-01-01T00:00:00", "s")
               + (ids * 86_400 * 365 // max(total, 1)).astype("timedelta64[s]")),
        "amount": np.round(rng.gamma(2.0, 30.0, rows), 2),
        "country": pd.array(countries[rng.integers(0, len(countries), rows)], dtype="str"),
    })


def payments_file(i: int, rows: int, start: int, total: int):
    """File ``i`` of ``payments``: one row for each order, in another order."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(10_000 + i)
    ids = np.arange(start, start + rows, dtype="int64")
    return pd.DataFrame({
        "order_id": _scramble(ids[::-1].copy(), total),
        "paid": np.round(rng.gamma(2.0, 30.0, rows), 2),
        "method": rng.integers(0, 5, rows).astype("int8"),
    })


def _scramble(ids, total: int):
    """A bijection of ``0 .. total`` (multiply by a number prime to it, modulo): unique
    ids in an order unrelated to the files'."""
    step = 2_654_435_761 % max(total, 1) or 1
    while math.gcd(step, total) != 1:
        step += 1
    return (ids * step) % max(total, 1)


def generate(directory: str, name: str, make, total: int, per_file: int) -> dict:
    """Write ``total`` rows of one table, ``per_file`` a file; sizes in memory and on disk."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(directory, exist_ok=True)
    memory = disk = 0
    files = math.ceil(total / per_file)
    for i in range(files):
        start = i * per_file
        rows = min(per_file, total - start)
        frame = make(i, rows, start, total)
        memory += int(frame.memory_usage(deep=True, index=False).sum())
        path = os.path.join(directory, f"part-{i:05d}.parquet")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path,
                       compression="zstd", row_group_size=1_000_000)
        disk += os.path.getsize(path)
        del frame
    return {"table": name, "rows": total, "files": files, "memory_bytes": memory,
            "disk_bytes": disk}


def _kept_tables(manifest: str, total: int, per_file: int) -> dict:
    """The tables a ``--keep-data`` run wrote before, by name, when made with the same sizes."""
    try:
        with open(manifest) as file:
            kept = json.load(file)
    except (OSError, ValueError):
        return {}
    if kept.get("rows") != total or kept.get("per_file") != per_file:
        return {}
    return {t["table"]: t for t in kept.get("tables", [])}


# --- consuming ----------------------------------------------------------------------------------


def sorted_summary(part):
    """One partition of the sort: rows, first and last key, whether in order."""
    import pandas as pd

    key = part["amount"].to_numpy()
    ordered = bool((key[1:] >= key[:-1]).all()) if len(key) > 1 else True
    return pd.DataFrame({"rows": [len(part)], "first": [key[0] if len(key) else float("nan")],
                         "last": [key[-1] if len(key) else float("nan")], "ordered": [ordered]})


def merged_summary(part):
    """One partition of the merge: rows and the sum of ``paid``."""
    import pandas as pd

    return pd.DataFrame({"rows": [len(part)], "paid": [float(part["paid"].sum())]})


def _summary_meta(kind: str):
    import pandas as pd

    if kind == "sort":
        return pd.DataFrame({"rows": pd.Series(dtype="int64"), "first": pd.Series(dtype="float64"),
                             "last": pd.Series(dtype="float64"), "ordered": pd.Series(dtype=bool)})
    return pd.DataFrame({"rows": pd.Series(dtype="int64"), "paid": pd.Series(dtype="float64")})


def run_workload(kind: str, data: str, expected_rows: int, expected_paid: float | None) -> dict:
    import chunkwise.dataframe as dd
    from chunkwise.dataframe.shuffle import shuffle_bytes_written

    orders = dd.read_parquet(os.path.join(data, "orders"))
    before = shuffle_bytes_written()
    start = time.perf_counter()
    with PeakRSS() as rss:
        if kind == "sort":
            result = orders.sort_values("amount")
            summary = result.map_partitions(sorted_summary, meta=_summary_meta(kind))
        else:
            payments = dd.read_parquet(os.path.join(data, "payments"))
            result = orders.merge(payments, on="order_id")
            summary = result.map_partitions(merged_summary, meta=_summary_meta(kind))
        npartitions = result.npartitions
        plan = result.explain(show=False) if kind == "sort" else ""
        table = summary.compute()
    wall = time.perf_counter() - start
    written = shuffle_bytes_written() - before
    out = {"workload": kind, "wall_s": round(wall, 1), "peak_rss_gib": round(rss.peak / 2**30, 2),
           "shuffle_gib_written": round(written / 2**30, 2), "partitions": npartitions,
           "rows": int(table["rows"].sum())}
    if out["rows"] != expected_rows:
        raise AssertionError(f"{kind}: {out['rows']} rows, expected {expected_rows}")
    if kind == "sort":
        filled = table[table["rows"] > 0]
        assert filled["ordered"].all(), "a partition of the sort is out of order"
        firsts, lasts = filled["first"].to_numpy(), filled["last"].to_numpy()
        assert (firsts[1:] >= lasts[:-1]).all(), "the sort's partitions do not follow each other"
        out["plan_line"] = next((line.strip() for line in plan.splitlines()
                                 if "RangeShuffle" in line), "")[:400]
    else:
        assert math.isclose(float(table["paid"].sum()), expected_paid, rel_tol=1e-9), "paid sum"
    return out


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gb", type=float, default=2.0, help="orders' size in pandas memory (GB)")
    parser.add_argument("--memory-limit", default="4GiB", help="dataframe.shuffle.memory_limit")
    parser.add_argument("--compression", default="zstd", choices=["none", "lz4", "zstd"])
    parser.add_argument("--dir", default="/work/big/shuffleooc", help="data and shuffle pieces")
    parser.add_argument("--file-mb", type=float, default=200.0, help="MB in memory an orders file")
    parser.add_argument("--workloads", default="sort,merge")
    parser.add_argument("--keep-data", action="store_true",
                        help="reuse DIR/data when its manifest.json matches --gb and --file-mb, "
                             "and keep it afterwards (the shuffle directory is still removed)")
    args = parser.parse_args(argv)

    import chunkwise

    total = int(args.gb * 1e9 / BYTES_PER_ROW)
    per_file = int(args.file_mb * 1e6 / BYTES_PER_ROW)
    data = os.path.join(args.dir, "data")
    rows: list[dict] = []
    try:
        os.makedirs(args.dir, exist_ok=True)
        start = time.perf_counter()
        manifest = os.path.join(data, "manifest.json")
        wanted = ["orders", "payments"] if "merge" in args.workloads else ["orders"]
        kept = _kept_tables(manifest, total, per_file) if args.keep_data else {}
        tables = []
        for name, make in (("orders", orders_file), ("payments", payments_file)):
            if name in wanted:
                tables.append(kept.get(name) or generate(os.path.join(data, name), name, make,
                                                         total, per_file))
        if args.keep_data:
            with open(manifest, "w") as file:
                json.dump({"rows": total, "per_file": per_file, "tables": tables}, file)
        paid = None
        if "merge" in args.workloads:
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            paid = float(pc.sum(pq.read_table(os.path.join(data, "payments"),
                                              columns=["paid"])["paid"]).as_py())
        for t in tables:
            print(json.dumps({**t, "generate_s": round(time.perf_counter() - start, 1)}),
                  flush=True)
        settings = {
            "dataframe.shuffle.memory_limit": args.memory_limit,
            "dataframe.shuffle.directory": os.path.join(args.dir, "shuffle"),
            "dataframe.shuffle.compression": None if args.compression == "none" else args.compression,
        }
        os.makedirs(settings["dataframe.shuffle.directory"], exist_ok=True)
        with chunkwise.config.set(settings):
            for kind in args.workloads.split(","):
                out = run_workload(kind, data, total, paid)
                out.update(memory_limit=args.memory_limit, compression=args.compression,
                           data_gb_memory=round(sum(t["memory_bytes"] for t in tables
                                                    if kind == "merge" or t["table"] == "orders")
                                                / 1e9, 2),
                           data_gb_disk=round(sum(t["disk_bytes"] for t in tables
                                                  if kind == "merge" or t["table"] == "orders")
                                              / 1e9, 2))
                rows.append(out)
                print(json.dumps(out), flush=True)
    finally:
        if args.keep_data:
            shutil.rmtree(os.path.join(args.dir, "shuffle"), ignore_errors=True)
        else:
            shutil.rmtree(args.dir, ignore_errors=True)
    print("\n| workload | data GB in memory / on disk | memory limit | partitions | wall s "
          "| peak RSS GiB | shuffle GiB to disk |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['workload']} | {r['data_gb_memory']} / {r['data_gb_disk']} | "
              f"{r['memory_limit']} | {r['partitions']} | {r['wall_s']} | {r['peak_rss_gib']} | "
              f"{r['shuffle_gib_written']} ({r['compression']}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
