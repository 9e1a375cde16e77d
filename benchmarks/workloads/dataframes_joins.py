"""Join and time-series workloads (issue 17): chunkwise, Dask, pandas and polars side by side.

On the dataframe workloads' Parquet data (``dataframes.data_dir``: 20M rows in
20 files at full size, 20k rows in 4 files with ``--quick``):

- ``dfj_merge_dim``: fact x dimension, then groupby: the facts' ``k1k`` joined
  to a 1,000-row dimension (key -> one of 10 regions), ``x`` summed per region.
  chunkwise broadcasts the dimension (one partition) and, the group key being
  one of its columns, sums ``x`` per ``k1k`` before the join, joining only those
  1,000 rows per partition (``JoinedPartials`` in ``explain()``).
- ``dfj_merge_facts``: fact x fact: the first half of the files (``id``, ``x``)
  joined one-to-one to the second half (``id - rows/2``, ``y``), then the count
  and the sum of ``x * y``. chunkwise counts the right side from the Parquet
  footers (10M rows, under ``broadcast_bytes``) and broadcasts it; its files
  come in ``id`` order, so it is chained, not concatenated, and each left
  partition lines up with one right partition and is joined by slicing
  (``explain()`` says why). Dask shuffles both sides.
- ``dfj_rolling_time``: ``id`` as seconds is a sorted timestamp index
  (``set_index(..., sorted=True)``); a 1-hour time-window rolling mean of ``x``,
  summed (so the result, not the transfer of 20M values, is compared).

The columns are given to the readers explicitly (the same for every
implementation). pandas runs on one thread (as in ``dataframes``), polars its
lazy engine. Answers are compared through digests (counts and sums to 8
significant digits).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

from benchmarks.workloads.dataframe_setup import Spec, compute_function, f8, register, shuffle_bytes
from benchmarks.workloads.dataframes import FULL, QUICK, data_dir

GROUP = "dataframes-joins"
TARGET = 0.6
TARGET_NOTE = "<= 0.6x Dask's time, peak RSS no higher; faster than pandas"
REGIONS = 10


def _dimension():
    """1,000 keys, each in one of :data:`REGIONS` regions (named ``r0``.. ``r9``)."""
    import numpy as np
    import pandas as pd

    keys = np.arange(1_000)
    return pd.DataFrame({"key": keys, "region": pd.Series([f"r{k * 7 % REGIONS}" for k in keys], dtype="str")})


def _files(path) -> list[str]:
    return sorted(str(p) for p in path.glob("*.parquet"))


def _halves(path) -> tuple[list[str], list[str]]:
    files = _files(path)
    return files[: len(files) // 2], files[len(files) // 2:]


# --- digests --------------------------------------------------------------------------------


def _region_digest(result) -> dict:
    import pandas as pd

    if type(result).__module__.startswith("polars"):
        result = result.to_pandas().set_index("region")["x"]
    if isinstance(result, pd.DataFrame):
        result = result.set_index("region")["x"]
    result = result.sort_index()
    weights = [zlib.crc32(str(k).encode()) % 1_000 + 1 for k in result.index]
    return {"groups": len(result), "sum": f8(result.sum()),
            "weighted": f8(sum(w * v for w, v in zip(weights, result.to_numpy())))}


def _pair_digest(result) -> dict:
    count, total = result
    return {"rows": int(count), "sum": f8(total)}


def _scalar_digest(result) -> str:
    return f8(result)


# --- the queries --------------------------------------------------------------------------------


def _merge_dim() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            facts = dd.read_parquet(path, columns=["k1k", "x"])
            dim = dd.from_pandas(_dimension(), npartitions=1)
            return facts.merge(dim, left_on="k1k", right_on="key").groupby("region").x.sum().compute()

        return query

    def pandas(path):
        import pandas as pd

        facts = pd.read_parquet(path, columns=["k1k", "x"])
        return facts.merge(_dimension(), left_on="k1k", right_on="key").groupby("region").x.sum()

    def polars(path):
        import polars as pl

        dim = pl.from_pandas(_dimension()).lazy()
        facts = pl.scan_parquet(str(path / "*.parquet")).select("k1k", "x")
        return (facts.join(dim, left_on="k1k", right_on="key")
                .group_by("region").agg(pl.col("x").sum()).collect())

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _merge_facts() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            first, second = _halves(path)
            left = dd.read_parquet(first, columns=["id", "x"])
            right = dd.read_parquet(second, columns=["id", "y"])
            right = right.assign(id=right.id - len(first) * _rows_per_file(path))
            merged = left.merge(right, on="id")
            compute = compute_function(dd)
            return compute(merged.id.count(), (merged.x * merged.y).sum())

        return query

    def pandas(path):
        import pandas as pd

        first, second = _halves(path)
        left = pd.concat([pd.read_parquet(f, columns=["id", "x"]) for f in first], ignore_index=True)
        right = pd.concat([pd.read_parquet(f, columns=["id", "y"]) for f in second], ignore_index=True)
        right["id"] = right.id - len(first) * _rows_per_file(path)
        merged = left.merge(right, on="id")
        return merged.id.count(), (merged.x * merged.y).sum()

    def polars(path):
        import polars as pl

        first, second = _halves(path)
        left = pl.scan_parquet(first).select("id", "x")
        right = pl.scan_parquet(second).select(
            (pl.col("id") - len(first) * _rows_per_file(path)).alias("id"), "y")
        row = (left.join(right, on="id")
               .select(pl.len(), (pl.col("x") * pl.col("y")).sum()).collect().row(0))
        return row[0], row[1]

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _rows_per_file(path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(_files(path)[0]).metadata.num_rows


def _rolling_time() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            df = dd.read_parquet(path, columns=["id", "x"])
            df = df.assign(ts=dd.to_datetime(df.id, unit="s"))
            return df.set_index("ts", sorted=True).x.rolling("1h").mean().sum().compute()

        return query

    def pandas(path):
        import pandas as pd

        df = pd.read_parquet(path, columns=["id", "x"])
        df["ts"] = pd.to_datetime(df.id, unit="s")
        return df.set_index("ts").x.rolling("1h").mean().sum()

    def polars(path):
        import polars as pl

        frame = pl.scan_parquet(str(path / "*.parquet")).select(
            pl.from_epoch("id", time_unit="s").alias("ts"), "x")
        return frame.select(pl.col("x").rolling_mean_by("ts", window_size="1h").sum()).collect().item()

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


# --- registration ---------------------------------------------------------------------------------


SPECS = [
    Spec("dfj_merge_dim", "fact x dimension (1k rows) merge, then groupby-sum over 10 regions",
         _merge_dim(), _region_digest),
    Spec("dfj_merge_facts", "fact x fact merge (2 x half the rows, one-to-one on id): count, sum(x*y)",
         _merge_facts(), _pair_digest),
    Spec("dfj_rolling_time", "1-hour time-window rolling mean on a sorted timestamp index, summed",
         _rolling_time(), _scalar_digest),
]


register(SPECS, data_dir=data_dir, full=FULL, quick=QUICK, target=TARGET, target_note=TARGET_NOTE,
         group=GROUP, wrap=shuffle_bytes)
