"""Dataframe workloads: ``chunkwise.dataframe`` against ``dask.dataframe``, pandas and polars.

Issue 16's benchmarks, side by side in one run, on generated, deterministic
Parquet (20M rows in 20 files at full size; 20k rows in 4 files with
``--quick``):

- ``df_filter_count``: read + filter + count, ``len(df[df.x > 1.0])``;
- ``df_groupby_1k`` / ``df_groupby_1m``: ``groupby(key).x.mean()`` over 1,000
  and over 1,000,000 keys;
- ``df_value_counts``: ``value_counts`` of a string column (Zipf-distributed
  names);
- ``df_describe``: ``describe()`` of four numeric columns;
- ``df_str_filter``: a string-heavy filter, ``str.contains`` and ``str.len``
  on a column of sentences, then the count and total length of the survivors.

Implementations:

- ``chunkwise`` and ``dask``: ``read_parquet`` of the directory and the
  pandas-style query, computed with each one's default (threaded) scheduler.
- ``pandas``: single-threaded (``pyarrow.set_cpu_count(1)``, so the Parquet
  decoding and Arrow string kernels run on one thread too), reading only the
  columns the query needs with ``pd.read_parquet(path, columns=...)``.
- ``polars``: the lazy ``scan_parquet`` query, the single-machine reference
  (multithreaded, Arrow-native kernels).

Targets (issue 16): wall time <= 0.6x Dask's with peak RSS no higher; faster
than single-threaded pandas; within 2x of polars. The runner's "baselines"
table shows the ratios to pandas and polars.

Answers are compared through digests that are equal when the values agree
(dtypes differ deliberately between libraries, so they compare values):
groupby results by group count, sum and a key-weighted sum; ``value_counts``
by the counts; ``describe`` by count, mean, std, min and max (8 significant
digits) and by its quartiles on a coarse grid, since Dask (and chunkwise)
compute approximate quantiles. The data are built so that every true quartile
lies near the middle of its grid cell.

The chunkwise side also reports, as extra figures, what its Parquet reads
touched (from :func:`chunkwise.dataframe.io.parquet.record_reads`): the
columns, the row groups read out of the dataset's total, and the read tasks.

The data are generated once (the first worker that needs them, untimed) and
cached under ``$CHUNKWISE_BENCH_DATA`` (default: ``chunkwise-benchmarks`` in
the system temp directory), one directory per size and data version. Each
implementation's warm-up runs its query once on the small (quick) dataset, so
lazy imports and thread pools are not timed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

from benchmarks.workloads.dataframe_setup import Spec, compute_function, f8, register

GROUP = "dataframes"
TARGET = 0.6
TARGET_NOTE = "<= 0.6x Dask's time, peak RSS no higher; faster than pandas; within 2x polars"
FULL = {"rows": 20_000_000, "files": 20}
QUICK = {"rows": 20_000, "files": 4}
DATA_ENV = "CHUNKWISE_BENCH_DATA"
DATA_VERSION = 1
ROW_GROUPS_PER_FILE = 4
DESCRIBE_COLUMNS = ["a", "x", "y", "z"]
# Quartiles are compared on this grid: each column's true quartiles sit near
# the middle of a cell (a: 250/500/750 of 0..999; x: normal, +-0.674 and 0;
# y: uniform 0..100, 25/50/75; z: exponential, 0.288/0.693/1.386).
QUANTILE_GRID = {"a": 10.0, "x": 0.1, "y": 1.0, "z": 0.1}
NEEDLE = "timeout"
MIN_LENGTH = 40


# --- the data ---------------------------------------------------------------------

_VOCABULARY = (
    "the a of to and in is for on with that by from at as this be are was it or an not "
    "server client request response error warning info debug user session login logout "
    "payment order invoice customer account balance transfer refund shipping delivery "
    "network disk memory cache queue worker thread process job task batch stream event "
    "failed succeeded retried delayed completed started stopped restarted cancelled "
    "connection database query index table column row partition shard replica cluster "
    "latency throughput bandwidth packet socket port host address region zone service "
    "quickly slowly again after before during while because although unless until "
    "red green blue small large new old first last next previous high low fast slow"
)
_WORDS = _VOCABULARY.split()


def data_dir(rows: int, files: int) -> Path:
    """Where the dataset of this size lives (generating it if it is not there yet)."""
    base = Path(os.environ.get(DATA_ENV) or Path(tempfile.gettempdir()) / "chunkwise-benchmarks")
    path = base / f"df-v{DATA_VERSION}-{rows}rows-{files}files"
    if not (path / "_COMPLETE").exists():
        _generate(path, rows, files)
    return path


def _generate(path: Path, rows: int, files: int) -> None:
    """Write the dataset into a fresh sibling directory, then rename it into place."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=path.parent))
    rng = np.random.default_rng([DATA_VERSION, 0])
    words = np.array(_WORDS + [NEEDLE])
    weights = 1.0 / (np.arange(len(words)) + 3.0)
    weights[-1] = weights[len(words) // 2]  # the needle is a mid-frequency word
    weights /= weights.sum()
    n_sentences = 50_000
    lengths = rng.integers(4, 15, n_sentences)
    picks = rng.choice(len(words), size=int(lengths.sum()), p=weights)
    sentences = [
        " ".join(words[picks[start - n : start]]) for n, start in zip(lengths, np.cumsum(lengths))
    ]
    sentences = pa.array([s[0].upper() + s[1:] + "." for s in sentences], pa.string())
    n_names = 5_000
    syllables = np.array(["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "ba"])
    names = pa.array(
        [
            "".join(syllables[[(j // 10**d) % 10 for d in range(4)]]) + f"_{j}"
            for j in range(n_names)
        ]
    )
    name_p = 1.0 / (np.arange(n_names) + 10.0)
    name_p /= name_p.sum()

    per_file = -(-rows // files)
    for f in range(files):
        n = min(per_file, rows - f * per_file)
        if n <= 0:
            break
        r = np.random.default_rng([DATA_VERSION, 1, f])
        start = f * per_file
        table = pa.table(
            {
                "id": np.arange(start, start + n, dtype="int64"),
                "a": r.integers(0, 1_000, n),
                "x": r.standard_normal(n),
                "y": r.uniform(0.0, 100.0, n),
                "z": r.exponential(1.0, n),
                "k1k": r.integers(0, 1_000, n),
                "k1m": r.integers(0, 1_000_000, n),
                "name": pc.take(names, pa.array(r.choice(n_names, size=n, p=name_p))),
                "text": pc.take(sentences, pa.array(r.integers(0, n_sentences, n))),
            }
        )
        pq.write_table(
            table,
            staging / f"part-{f:03d}.parquet",
            row_group_size=max(1, -(-n // ROW_GROUPS_PER_FILE)),
        )
    (staging / "_COMPLETE").write_text(f"{rows} rows in {files} files\n")
    try:
        staging.rename(path)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
        if not (path / "_COMPLETE").exists():
            raise


def _parquet_files(path: Path) -> list[str]:
    return sorted(str(p) for p in path.glob("*.parquet"))


def _row_group_counts(path: Path) -> dict[str, int]:
    import pyarrow.parquet as pq

    return {p: pq.ParquetFile(p).metadata.num_row_groups for p in _parquet_files(path)}


# --- digests: equal when the values agree --------------------------------------------


def _series(result, key: str, value: str):
    """A pandas Series indexed by ``key``, sorted, from any implementation's result."""
    import pandas as pd

    if type(result).__module__.startswith("polars"):
        result = result.to_pandas()
    if isinstance(result, pd.DataFrame):
        result = result.set_index(key)[value]
    return result.sort_index()


def _keyed_digest(key: str, value: str, weight: Callable) -> Callable:
    def digest(result):
        import numpy as np

        s = _series(result, key, value)
        values = s.to_numpy(dtype="float64")
        return {
            "groups": len(s),
            "sum": f8(np.sum(values)),
            "weighted": f8(np.sum(values * weight(s.index))),
        }

    return digest


def _key_weight(index):
    import numpy as np

    return np.asarray(index, dtype="int64") % 97 + 1


def _name_weight(index):
    import numpy as np

    return np.array([zlib.crc32(str(k).encode()) % 1_000 + 1 for k in index], dtype="float64")


def _describe_digest(result) -> dict:
    """count/mean/std/min/max to 8 digits; quartiles on :data:`QUANTILE_GRID`."""
    if isinstance(result, dict):  # polars: {column: {statistic: value}}
        table = result
    else:
        table = {c: {str(k): v for k, v in result[c].items()} for c in result.columns}
    out = {}
    for column in DESCRIBE_COLUMNS:
        stats = table[column]
        entry = {"count": int(stats["count"])}
        for stat in ("mean", "std", "min", "max"):
            entry[stat] = f8(stats[stat])
        grid = QUANTILE_GRID[column]
        for q in ("25%", "50%", "75%"):
            entry[q] = round(float(stats[q]) / grid) * grid + 0.0
        out[column] = entry
    return out


def _scalars(result):
    return [int(v) for v in result] if isinstance(result, (list, tuple)) else int(result)


# --- the queries ----------------------------------------------------------------------


def _pandas_read(path: Path, columns: list[str]):
    import pandas as pd

    return pd.read_parquet(path, columns=columns)


def _polars_scan(path: Path):
    import polars as pl

    return pl.scan_parquet(str(path / "*.parquet"))


def _groupby(key: str) -> dict[str, Callable]:
    def chunked(dd):
        return lambda path: dd.read_parquet(path).groupby(key).x.mean().compute()

    def pandas(path):
        return _pandas_read(path, [key, "x"]).groupby(key).x.mean()

    def polars(path):
        import polars as pl

        return _polars_scan(path).group_by(key).agg(pl.col("x").mean()).collect()

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _filter_count() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            df = dd.read_parquet(path)
            return len(df[df.x > 1.0])

        return query

    def pandas(path):
        df = _pandas_read(path, ["x"])
        return len(df[df.x > 1.0])

    def polars(path):
        import polars as pl

        return _polars_scan(path).filter(pl.col("x") > 1.0).select(pl.len()).collect().item()

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _value_counts() -> dict[str, Callable]:
    def chunked(dd):
        return lambda path: dd.read_parquet(path).name.value_counts().compute()

    def pandas(path):
        return _pandas_read(path, ["name"]).name.value_counts()

    def polars(path):
        import polars as pl

        return _polars_scan(path).group_by("name").agg(pl.len().alias("count")).collect()

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _describe() -> dict[str, Callable]:
    def chunked(dd):
        return lambda path: dd.read_parquet(path)[DESCRIBE_COLUMNS].describe().compute()

    def pandas(path):
        return _pandas_read(path, DESCRIBE_COLUMNS).describe()

    def polars(path):
        import polars as pl

        stats = {
            "count": lambda c: pl.col(c).count(),
            "mean": lambda c: pl.col(c).mean(),
            "std": lambda c: pl.col(c).std(),
            "min": lambda c: pl.col(c).min(),
            "25%": lambda c: pl.col(c).quantile(0.25, interpolation="linear"),
            "50%": lambda c: pl.col(c).quantile(0.5, interpolation="linear"),
            "75%": lambda c: pl.col(c).quantile(0.75, interpolation="linear"),
            "max": lambda c: pl.col(c).max(),
        }
        exprs = [f(c).alias(f"{c}|{s}") for c in DESCRIBE_COLUMNS for s, f in stats.items()]
        row = _polars_scan(path).select(exprs).collect().row(0, named=True)
        out: dict = {c: {} for c in DESCRIBE_COLUMNS}
        for label, value in row.items():
            column, stat = label.split("|")
            out[column][stat] = value
        return out

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


def _str_filter() -> dict[str, Callable]:
    def chunked(dd):
        def query(path):
            text = dd.read_parquet(path).text
            lengths = text.str.len()
            kept = lengths[text.str.contains(NEEDLE, regex=False) & (lengths > MIN_LENGTH)]
            compute = compute_function(dd)
            return compute(kept.count(), kept.sum())

        return query

    def pandas(path):
        text = _pandas_read(path, ["text"]).text
        lengths = text.str.len()
        kept = lengths[text.str.contains(NEEDLE, regex=False) & (lengths > MIN_LENGTH)]
        return kept.count(), kept.sum()

    def polars(path):
        import polars as pl

        length = pl.col("text").str.len_chars()
        kept = _polars_scan(path).filter(
            pl.col("text").str.contains(NEEDLE, literal=True) & (length > MIN_LENGTH)
        )
        row = kept.select(pl.len(), length.sum()).collect().row(0)
        return row[0], row[1]

    return {"chunkwise": chunked, "dask": chunked, "pandas": pandas, "polars": polars}


# --- registration ---------------------------------------------------------------------


SPECS = [
    Spec(
        "df_filter_count",
        "read + filter + count: len(df[df.x > 1.0])",
        _filter_count(),
        _scalars,
    ),
    Spec(
        "df_groupby_1k",
        "groupby-mean over 1,000 keys: df.groupby('k1k').x.mean()",
        _groupby("k1k"),
        _keyed_digest("k1k", "x", _key_weight),
    ),
    Spec(
        "df_groupby_1m",
        "groupby-mean over 1M keys: df.groupby('k1m').x.mean()",
        _groupby("k1m"),
        _keyed_digest("k1m", "x", _key_weight),
    ),
    Spec(
        "df_value_counts",
        "value_counts of a string column (5,000 Zipf-distributed names)",
        _value_counts(),
        _keyed_digest("name", "count", _name_weight),
    ),
    Spec(
        "df_describe",
        "describe() of 4 numeric columns (int, normal, uniform, exponential)",
        _describe(),
        _describe_digest,
    ),
    Spec(
        "df_str_filter",
        f"text.str.contains({NEEDLE!r}) & (text.str.len() > {MIN_LENGTH}): count and total length",
        _str_filter(),
        _scalars,
    ),
]


def _row_groups_recorded(run: Callable, extra: dict, path: Path) -> Callable:
    """Wrap ``run`` to record the columns, row groups and read tasks of its Parquet reads."""
    row_groups = _row_group_counts(path)

    def recorded():
        from chunkwise.dataframe.io.parquet import record_reads

        with record_reads() as reads:
            result = run()
        columns: set[str] = set()
        all_columns = False
        groups = 0
        for read in reads:
            if read.columns is None:
                all_columns = True
            else:
                columns.update(read.columns)
            groups += (
                row_groups.get(read.path, 0) if read.row_groups is None else len(read.row_groups)
            )
        extra["columns_read"] = "all" if all_columns else ",".join(sorted(columns))
        extra["row_groups_read"] = groups
        extra["row_groups_total"] = sum(row_groups.values())
        extra["read_tasks"] = len(reads)
        return result

    return recorded


register(SPECS, data_dir=data_dir, full=FULL, quick=QUICK, target=TARGET, target_note=TARGET_NOTE,
         group=GROUP, wrap=_row_groups_recorded)
