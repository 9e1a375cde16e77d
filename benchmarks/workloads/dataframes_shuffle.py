"""Shuffle workloads (issue 17): sorting, indexing, many groups and deduplication.

On the dataframe workloads' Parquet data (``dataframes.data_dir``: 20M rows in
20 files at full size, 20k rows in 4 files with ``--quick``), side by side:

- ``dfs_sort_values``: ``df[["id", "x"]].sort_values("x")``, the whole sorted
  frame computed;
- ``dfs_set_index``: a timestamp column (``k1m`` as seconds, 1M distinct
  instants) set as the index, the whole frame computed;
- ``dfs_groupby_5m``: ``groupby(g).x.sum()`` over 5M keys
  (``g = id * 7919 % 5_000_000``: every file holds a million of them);
- ``dfs_drop_duplicates``: ``df[["id", "k1m"]].drop_duplicates("k1m")``
  (1M of 20M rows kept).

chunkwise and Dask run their defaults (threads; chunkwise chooses tree or
shuffle itself), pandas one thread, polars its lazy engine. Answers are
compared through digests: row counts, sums, order checks. The chunkwise side
reports ``shuffle_mib_written``, the bytes its shuffles wrote to disk.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.workloads.dataframe_setup import Spec, f8, register, shuffle_bytes
from benchmarks.workloads.dataframes import FULL, QUICK, data_dir

GROUP = "dataframes-shuffle"
TARGET = 0.6
TARGET_NOTE = "<= 0.6x Dask's time, peak RSS no higher; faster than pandas"
KEYS_5M = 5_000_000


def _to_pandas(result):
    if type(result).__module__.startswith("polars"):
        return result.to_pandas()
    return result


# --- digests --------------------------------------------------------------------------------


def _sorted_digest(result) -> dict:
    """Rows, whether ``x`` is sorted, ``x`` at 11 evenly spaced positions, the ``id`` sum."""
    import numpy as np

    frame = _to_pandas(result)
    x = frame["x"].to_numpy()
    positions = np.linspace(0, len(x) - 1, 11).astype(int) if len(x) else []
    return {
        "rows": len(frame),
        "sorted": bool(np.all(x[1:] >= x[:-1])),
        "at": [f8(x[p]) for p in positions],
        "ids": int(frame["id"].sum()),
    }


def _indexed_digest(result) -> dict:
    import numpy as np

    frame = _to_pandas(result)
    if "ts" in frame.columns:  # polars: sorted by ts, no index
        ts = frame["ts"].to_numpy()
    else:
        ts = frame.index.to_numpy()
    ts = ts.astype("datetime64[s]").astype("int64")
    return {
        "rows": len(frame),
        "sorted": bool(np.all(ts[1:] >= ts[:-1])),
        "ts_sum": int(ts.sum()),
        "x_sum": f8(frame["x"].sum()),
    }


def _grouped_digest(result) -> dict:
    import numpy as np
    import pandas as pd

    result = _to_pandas(result)
    if isinstance(result, pd.DataFrame):
        result = result.set_index("g")["x"]
    values = result.to_numpy(dtype="float64")
    keys = np.asarray(result.index, dtype="int64")
    return {"groups": len(result), "sum": f8(values.sum()),
            "weighted": f8(np.sum(values * (keys % 97 + 1)))}


def _dedup_digest(result) -> dict:
    frame = _to_pandas(result)
    return {"rows": len(frame), "ids": int(frame["id"].sum()),
            "keys": int(frame["k1m"].sum())}


# --- the queries --------------------------------------------------------------------------------


def _sort_values() -> dict[str, Callable]:
    def chunked(dd):
        return lambda path: dd.read_parquet(path, columns=["id", "x"]).sort_values("x").compute()

    def pandas(path):
        import pandas as pd

        return pd.read_parquet(path, columns=["id", "x"]).sort_values("x")

    def polars(path):
        import polars as pl

        return pl.scan_parquet(str(path / "*.parquet")).select("id", "x").sort("x").collect()

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _set_index() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            df = dd.read_parquet(path, columns=["k1m", "x"])
            df = df.assign(ts=df.k1m.astype("datetime64[s]"))
            return df.set_index("ts").compute()

        return query

    def pandas(path):
        import pandas as pd

        df = pd.read_parquet(path, columns=["k1m", "x"])
        df = df.assign(ts=df.k1m.astype("datetime64[s]"))
        return df.set_index("ts").sort_index()

    def polars(path):
        import polars as pl

        scan = pl.scan_parquet(str(path / "*.parquet")).select("k1m", "x")
        return scan.with_columns(pl.from_epoch("k1m", time_unit="s").alias("ts")).sort("ts").collect()

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _groupby_5m() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            df = dd.read_parquet(path, columns=["id", "x"])
            df = df.assign(g=df.id * 7919 % KEYS_5M)
            return df.groupby("g").x.sum().compute()

        return query

    def pandas(path):
        import pandas as pd

        df = pd.read_parquet(path, columns=["id", "x"])
        return df.assign(g=df.id * 7919 % KEYS_5M).groupby("g").x.sum()

    def polars(path):
        import polars as pl

        scan = pl.scan_parquet(str(path / "*.parquet")).select("id", "x")
        return (scan.with_columns((pl.col("id") * 7919 % KEYS_5M).alias("g"))
                .group_by("g").agg(pl.col("x").sum()).collect())

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _drop_duplicates() -> dict[str, Callable]:
    def chunked(dd):
        return lambda path: dd.read_parquet(path, columns=["id", "k1m"]).drop_duplicates(
            "k1m").compute()

    def pandas(path):
        import pandas as pd

        return pd.read_parquet(path, columns=["id", "k1m"]).drop_duplicates("k1m")

    def polars(path):
        import polars as pl

        return (pl.scan_parquet(str(path / "*.parquet")).select("id", "k1m")
                .unique("k1m", keep="first", maintain_order=True).collect())

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


# --- registration ---------------------------------------------------------------------------------


SPECS = [
    Spec("dfs_sort_values", "sort_values('x') of (id, x), the whole frame", _sort_values(),
         _sorted_digest),
    Spec("dfs_set_index", "set_index on a timestamp (1M distinct instants), the whole frame",
         _set_index(), _indexed_digest),
    Spec("dfs_groupby_5m", "groupby-sum over 5M keys", _groupby_5m(), _grouped_digest),
    Spec("dfs_drop_duplicates", "drop_duplicates('k1m') of (id, k1m): 1M rows kept",
         _drop_duplicates(), _dedup_digest),
]


register(SPECS, data_dir=data_dir, full=FULL, quick=QUICK, target=TARGET, target_note=TARGET_NOTE,
         group=GROUP, wrap=shuffle_bytes)
