"""How many output partitions a shuffle needs: a size estimate against the memory limit.

A shuffle's peak memory is set by its output partitions, not by the data: a
combine holds the pieces it read, the partition they make, and whatever the
next step (a sort, a join) copies. With ``dataframe.shuffle.memory_limit``
set, :func:`choose_npartitions` sizes the output so that every worker thread
can hold :data:`PEAK_COPIES` copies of one output partition within the limit::

    partition budget = memory_limit / (workers x PEAK_COPIES)
    npartitions      = max(workers, ceil(estimated bytes / budget))

(at least one partition a worker, so that the combines run in parallel). A hash
join (:func:`choose_join_npartitions`) sizes its partitions for both sides
together, since each output partition holds a piece of each. The
input's partition count does not matter: a shuffle of many small partitions
into fewer, larger ones (within the budget) writes fewer pieces.

The estimate (:func:`estimate_size`) uses what is known without reading the
data where it can, and says where each figure came from:

- **rows**: known partition lengths (``from_pandas``, ``from_map`` with
  lengths); else a Parquet source's footers (row counts, no data read);
  else the first partition's length times the partition count (one read).
- **bytes a row**: fixed-width columns (numbers, datetimes, booleans,
  categorical codes) and the index from the dtypes; string and object columns
  from the first partition of those columns alone (one read, for example one
  Parquet file's string columns), or 32 bytes a column when a shuffle or a
  join lies under the frame (reading its first partition would run it).

Without a limit, a shuffle keeps its input's partition count (and nothing is
read). The choice and its reason are shown by ``explain()`` on the shuffle's
line.

>>> import pandas as pd
>>> import chunkwise
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": range(100_000)}), npartitions=2)
>>> with chunkwise.config.set({"dataframe.shuffle.memory_limit": "1MiB", "num_workers": 2}):
...     choice = choose_npartitions(df.expr)
>>> choice.npartitions  # 100,000 rows x 16 bytes / (1 MiB / (2 x 4))
13
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chunkwise import config
from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import FrameExpr, Partitions, Partitionwise, Projection
from chunkwise.sizes import parse_bytes
from chunkwise.system import cpu_count

__all__ = [
    "PEAK_COPIES",
    "UNKNOWN_WIDTH",
    "CountChoice",
    "SizeEstimate",
    "choose_join_npartitions",
    "choose_npartitions",
    "describe_source",
    "estimate_size",
    "memory_limit",
    "partition_budget",
]

#: Copies of one output partition a worker may hold at its peak: the pieces read, the
#: partition they make, and a reordered copy (a sort, a join) with its result.
PEAK_COPIES = 4
#: Bytes a row assumed for a string or object column whose values cannot be sampled.
UNKNOWN_WIDTH = 32


@dataclass(frozen=True)
class SizeEstimate:
    """A frame's estimated size in memory; ``rows``/``bytes_per_row`` ``None`` when unknown,
    ``how`` says where each figure came from, ``sampled`` what was read for it (or ``None``)."""

    rows: int | None
    bytes_per_row: float | None
    how: str
    sampled: str | None = None

    @property
    def nbytes(self) -> float | None:
        if self.rows is None or self.bytes_per_row is None:
            return None
        return self.rows * self.bytes_per_row


@dataclass(frozen=True)
class CountChoice:
    """An output partition count and why (``explain()`` shows ``reason``)."""

    npartitions: int
    reason: str


def memory_limit() -> int | None:
    """``dataframe.shuffle.memory_limit`` in bytes, or ``None`` when unset."""
    limit = config.get("dataframe.shuffle.memory_limit", None)
    if limit is None:
        return None

    value = parse_bytes(limit)
    if value <= 0:
        raise ValueError(f"dataframe.shuffle.memory_limit must be positive, got {limit!r}")
    return value


def _workers() -> int:
    workers = config.get("num_workers", None)
    return int(workers) if workers else cpu_count()


def partition_budget(limit: int, workers: int | None = None) -> int:
    """Bytes one output partition may hold in memory: ``limit / (workers x PEAK_COPIES)``."""
    workers = _workers() if workers is None else workers
    return max(1, limit // (max(workers, 1) * PEAK_COPIES))


# --- the estimate ---------------------------------------------------------------------------


def _chain_to_source(expr: FrameExpr) -> tuple[FrameExpr, bool]:
    """The source under ``expr`` through per-partition nodes, and whether the chain is
    partition for partition (so ``expr``'s first partition is cheap: one source partition)."""
    node = expr
    while True:
        frames = [d for d in node.dependencies() if isinstance(d, FrameExpr)]
        if not frames:
            return node, True
        if not isinstance(node, Partitionwise) or any(
            f.npartitions != node.npartitions for f in frames
        ):
            return node, False
        node = frames[0]


def describe_source(expr: FrameExpr) -> str:
    """The source under ``expr`` as ``explain()`` shows it (``"<FromPandas: 8 rows>"``)."""
    source, _ = _chain_to_source(expr)
    return "<" + source._explain_line().split("  [")[0] + ">"


def _parquet_rows(source: FrameExpr) -> int | None:
    """Rows of a Parquet scan from its pieces and footers (no data read)."""
    pieces = getattr(source, "pieces", None)
    dataset = getattr(source, "dataset", None)
    if pieces is None or dataset is None or not hasattr(dataset, "read_footers"):
        return None
    unknown = list(dict.fromkeys(p.path for p in pieces if p.num_rows is None))
    footers = dict(zip(unknown, dataset.read_footers(unknown))) if unknown else {}
    rows = 0
    for piece in pieces:
        if piece.num_rows is not None:
            rows += piece.num_rows
        elif piece.row_groups is None:
            rows += footers[piece.path].num_rows
        else:
            rows += sum(footers[piece.path].row_group(i).num_rows for i in piece.row_groups)
    return rows


def _fixed_width(dtype: Any) -> int | None:
    if isinstance(dtype, pd.CategoricalDtype):
        return dtype.categories.dtype.itemsize if len(dtype.categories) > 2**15 else 2
    if isinstance(dtype, np.dtype) and dtype.kind in "iufbmMc":
        return dtype.itemsize
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not pd.api.types.is_string_dtype(dtype):
        numpy_dtype = getattr(dtype, "numpy_dtype", None)
        if numpy_dtype is not None and numpy_dtype.kind in "iufbmM":
            return numpy_dtype.itemsize + 1  # the values and a mask
    return None


def _columns_of(meta: Any) -> list[tuple[Any, Any]]:
    if isinstance(meta, pd.Series):
        return [(meta.name, meta.dtype)]
    return list(zip(meta.columns, meta.dtypes))


def _index_width(meta: Any) -> int:
    """Bytes a row of the index after a shuffle (a positional index becomes 64-bit labels)."""
    index = getattr(meta, "index", None)
    if index is None or isinstance(index, pd.MultiIndex):
        return 8 * (index.nlevels if index is not None else 1)
    return _fixed_width(index.dtype) or UNKNOWN_WIDTH


_ESTIMATES: dict = {}  # expr name -> SizeEstimate (a build-time read happens once a plan)


def estimate_size(expr: FrameExpr) -> SizeEstimate:
    """``expr``'s estimated size in memory (see the module docstring); reads at most one
    partition of its string columns (or of one column, for its length)."""
    found = _ESTIMATES.get(expr.name)
    if found is not None:
        return found
    found = _estimate(expr)
    if len(_ESTIMATES) > 256:
        _ESTIMATES.clear()
    _ESTIMATES[expr.name] = found
    return found


def _estimate(expr: FrameExpr) -> SizeEstimate:
    meta = expr.meta
    columns = _columns_of(meta)
    fixed = _index_width(meta) + sum(_fixed_width(d) or 0 for _, d in columns)
    variable = [c for c, d in columns if _fixed_width(d) is None]
    source, cheap = _chain_to_source(expr)
    rows, rows_how = None, None
    lengths = expr.lengths
    if lengths is not None:
        rows, rows_how = sum(lengths), "known lengths"
    elif cheap:
        parquet = _parquet_rows(source)
        if parquet is not None:
            rows, rows_how = parquet, "Parquet footers"
    need_rows = rows is None and cheap
    if (variable or need_rows) and cheap and expr.npartitions:
        part = _first_partition(expr, variable or [columns[0][0]] if columns else [])
        sampled = f"partition 0 ({len(part):,} rows) of {describe_source(expr)}"
        width = 0.0
        if variable and len(part):
            width = float(np.sum(part.memory_usage(deep=True, index=False))) / len(part)
        if need_rows:
            rows, rows_how = len(part) * expr.npartitions, "partition 0's length x partitions"
        how = f"rows from {rows_how}, bytes a row from dtypes" + (
            " and sampled strings" if variable else "")
        return SizeEstimate(rows, fixed + width, how, sampled)
    width = fixed + UNKNOWN_WIDTH * len(variable)
    how = (f"rows from {rows_how}" if rows is not None else "rows unknown") + (
        ", bytes a row from dtypes" + (f" (+{UNKNOWN_WIDTH} B a string column, not sampled)"
                                       if variable else ""))
    return SizeEstimate(rows, width, how)


def _first_partition(expr: FrameExpr, columns: list) -> Any:
    if isinstance(expr.meta, pd.DataFrame) and columns:
        expr = Projection(expr, list(columns))
    return new_collection(Partitions(expr, (0,))).compute(scheduler="sync")


# --- the choice -------------------------------------------------------------------------------


def _mib(value: float) -> str:
    if value >= 2**30:
        return f"{value / 2**30:.1f} GiB"
    return f"{value / 2**20:.1f} MiB" if value >= 2**20 else f"{value / 2**10:.1f} KiB"


def choose_npartitions(expr: FrameExpr, given: int | None = None) -> CountChoice:
    """The output partition count of a shuffle of ``expr``: ``given`` when set; else, with
    ``dataframe.shuffle.memory_limit`` set, enough partitions for the estimated size (at
    least one a worker); else the input's count. See the module docstring."""
    if given is not None:
        return CountChoice(int(given), "npartitions= given")
    count = max(expr.npartitions, 1)
    limit = memory_limit()
    if limit is None:
        return CountChoice(count, "the input's count (no dataframe.shuffle.memory_limit)")
    estimate = estimate_size(expr)
    budget = partition_budget(limit)
    if estimate.nbytes is None:
        return CountChoice(count, f"the input's count: size unknown ({estimate.how})")
    needed = max(1, math.ceil(estimate.nbytes / budget))
    sampled = f"; sampled {estimate.sampled}" if estimate.sampled else ""
    reason = (
        f"~{_mib(estimate.nbytes)} estimated ({estimate.rows:,} rows x "
        f"{estimate.bytes_per_row:.0f} B; {estimate.how}{sampled}) / {_mib(budget)} a partition "
        f"(memory_limit {_mib(limit)} / ({_workers()} workers x {PEAK_COPIES}))"
    )
    workers = _workers()
    if needed < workers:
        return CountChoice(workers, f"one a worker ({workers}), more than needed: {reason}")
    return CountChoice(needed, reason)


def choose_join_npartitions(left: FrameExpr, right: FrameExpr, given: int | None = None) -> CountChoice:
    """The partition count of a hash join of ``left`` and ``right``: ``given`` when set;
    else, with ``dataframe.shuffle.memory_limit`` set, enough partitions for both sides'
    estimated sizes together (an output partition holds a piece of each side); else the
    larger side's count."""
    if given is not None:
        return CountChoice(int(given), "npartitions= given")
    count = max(left.npartitions, right.npartitions, 1)
    limit = memory_limit()
    if limit is None:
        return CountChoice(count, "the larger side's count (no dataframe.shuffle.memory_limit)")
    sizes = [estimate_size(left).nbytes, estimate_size(right).nbytes]
    if any(size is None for size in sizes):
        return CountChoice(count, "the larger side's count: a side's size is unknown")
    budget = partition_budget(limit)
    workers = _workers()
    needed = max(workers, math.ceil(sum(sizes) / budget))  # type: ignore[arg-type]
    reason = (f"~{_mib(sum(sizes))} estimated for both sides / {_mib(budget)} a partition "  # type: ignore[arg-type]
              f"(memory_limit {_mib(limit)} / ({workers} workers x {PEAK_COPIES}))")
    return CountChoice(needed, reason)
