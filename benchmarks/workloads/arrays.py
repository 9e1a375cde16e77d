"""Array workloads: ``chunkwise.array`` against ``dask.array`` (and plain NumPy).

Targets, from the array issue:

- wall time at most 0.8x Dask's on every compute workload, with peak RSS no
  higher;
- the elementwise chain at >= 1.6x the throughput of single-threaded NumPy on
  the same array (the ``numpy`` column; both report ``mvalues_per_second``);
- graph build + optimize over 200 x 200 blocks at least 5x faster than Dask
  (a ratio <= 0.2);
- the 32 GB out-of-core mean with peak RSS under 2 GiB (``peak_under_2GiB``).

Both chunked sides use their default (threaded) scheduler. Where the two
sides draw random numbers (``RandomState(0)``) their streams differ (as they
differ from NumPy's), so those workloads compare a rounded mean, not exact
sums.

The ``handwritten`` implementation (``benchmarks/handwritten.py``) is the
practical limit: the same blocks in plain NumPy on a 2-thread pool, drawing
random blocks from the very streams chunkwise's ``RandomState(0)`` uses. Where a workload
names "the same data", the array is generated once in setup (untimed, a
fixed seed) and wrapped with each library's ``from_array``.

Every implementation's warm-up runs the same computation at a tiny size, so
lazy imports and thread pools are not timed.
"""

from __future__ import annotations

import resource
import sys
import time

from benchmarks import handwritten as hw
from benchmarks.registry import Prepared, workload

GROUP = "arrays"
TARGET = 0.8
TARGET_NOTE = "wall time <= 0.8x Dask's, peak RSS no higher"


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _chunked(impl: str):
    """The array module of a chunked implementation."""
    if impl == "chunkwise":
        import chunkwise.array as da
    else:
        import dask.array as da
    return da


def _task_count(impl: str, collection) -> int | None:
    """Tasks in the optimized graph that computing ``collection`` runs (setup, untimed)."""
    try:
        if impl == "chunkwise":
            return len(collection.__chunkwise_graph__())
        import dask

        (opt,) = dask.optimize(collection)
        return len(opt.__dask_graph__())
    except Exception:  # a count is a nicety; never fail the workload for it
        return None


def _rounded(ndigits: int):
    """Digest: the (scalar) result rounded to ``ndigits`` decimals."""
    return lambda result: round(float(result), ndigits)


def _relative(digits: int):
    """Digest: the (scalar) result to ``digits`` significant digits."""
    return lambda result: f"{float(result):.{digits}g}"


def _same_data(n: int, m: int | None = None, seed: int = 0):
    """The fixed float64 input of the "same data" workloads (setup, untimed)."""
    import numpy as np

    return np.random.default_rng(seed).random((n, n if m is None else m))


def _from_array(da, data, chunks):
    """``da.from_array(data, chunks=chunks)`` with the input's content hash taken now (setup).

    Dask hashes the input inside ``from_array``; chunkwise names an expression
    lazily, on first use, so without this the hash (~2 s for 3.2 GB) would land
    in the timed part on the chunkwise side only.
    """
    x = da.from_array(data, chunks=chunks)
    if da.__name__.startswith("chunkwise"):
        x.expr.name  # noqa: B018 - computes and caches the name
    return x


def _register(w, impls: dict) -> None:
    for name, func in impls.items():
        w.impl(name)(func)


def _timed(run, extra: dict, values: int | None = None):
    """Wrap ``run`` to record its own time (and throughput when ``values`` is given)."""

    def timed():
        t0 = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - t0
        if values:
            extra["mvalues_per_second"] = round(values / elapsed / 1e6, 1)
        return result

    return timed


# --- ones_transpose_mean -------------------------------------------------------


ones_transpose_mean = workload(
    "ones_transpose_mean",
    "x = ones((n, n), chunks=c); (x + x.T).mean(axis=0).compute()  (the first seed example)",
    params={"n": 20_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 250},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _ones_transpose_mean_chunked(impl, n, chunk):
    da = _chunked(impl)

    def build(n, chunk):
        x = da.ones((n, n), chunks=(chunk, chunk))
        return (x + x.T).mean(axis=0)

    return Prepared(
        run=lambda: build(n, chunk).compute(),
        warmup=lambda: build(40, 10).compute(),
        tasks=_task_count(impl, build(n, chunk)),
    )


def _ones_transpose_mean_numpy(n, chunk):
    import numpy as np

    def run():
        x = np.ones((n, n))
        return (x + x.T).mean(axis=0)

    return Prepared(run=run)


def _ones_transpose_mean_handwritten(n, chunk):
    import numpy as np

    def column_mean(bounds):
        # One column block j of the output: add (ones + ones.T) blocks down the rows.
        a, b = bounds
        acc = np.zeros(b - a)
        for r0, r1 in hw.grid(n, chunk):
            block = np.ones((r1 - r0, b - a))
            block += np.ones((b - a, r1 - r0)).T
            acc += block.sum(axis=0)
        return acc

    def run(n=n):
        return np.concatenate(hw.map_blocks(column_mean, hw.grid(n, chunk))) / n

    return Prepared(run=run)


_register(
    ones_transpose_mean,
    {
        "chunkwise": lambda n, chunk: _ones_transpose_mean_chunked("chunkwise", n, chunk),
        "dask": lambda n, chunk: _ones_transpose_mean_chunked("dask", n, chunk),
        "numpy": _ones_transpose_mean_numpy,
        "handwritten": _ones_transpose_mean_handwritten,
    },
)


# --- random_mean -----------------------------------------------------------------


random_mean = workload(
    "random_mean",
    "random.RandomState(0).random_sample((n, n), chunks=c).mean().compute()  (the second seed "
    "example); "
    "the streams differ, so the mean is compared to 2 decimals",
    params={"n": 20_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 250},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _random_mean_chunked(impl, n, chunk):
    da = _chunked(impl)

    def build(n, chunk):
        return da.random.RandomState(0).random_sample((n, n), chunks=(chunk, chunk)).mean()

    return Prepared(
        run=lambda: build(n, chunk).compute(),
        warmup=lambda: build(40, 10).compute(),
        tasks=_task_count(impl, build(n, chunk)),
        digest=_rounded(2),
    )


def _random_sum_handwritten(shape, chunks):
    """Sum of a ``RandomState(0)`` array drawn per block, on the hand-written pool."""
    slices = list(hw.block_slices(shape, chunks))

    def one(item):
        b, index = item
        return hw.uniform_block(0, 0, b, tuple(s.stop - s.start for s in index)).sum()

    return float(sum(hw.map_blocks(one, enumerate(slices))))


def _random_mean_numpy(n, chunk):
    import numpy as np

    return Prepared(
        run=lambda: np.random.default_rng(0).random((n, n)).mean(), digest=_rounded(2)
    )


def _random_mean_handwritten(n, chunk):
    return Prepared(
        run=lambda: _random_sum_handwritten((n, n), (chunk, chunk)) / (n * n),
        warmup=lambda: _random_sum_handwritten((40, 40), (10, 10)),
        digest=_rounded(2),
    )


_register(
    random_mean,
    {
        "chunkwise": lambda n, chunk: _random_mean_chunked("chunkwise", n, chunk),
        "dask": lambda n, chunk: _random_mean_chunked("dask", n, chunk),
        "numpy": _random_mean_numpy,
        "handwritten": _random_mean_handwritten,
    },
)


# --- elementwise_chain -----------------------------------------------------------


elementwise_chain = workload(
    "elementwise_chain",
    "((sin(x)**2 + cos(x)**2) * 2 - 1).sum() on the same in-memory float64 (n, n) array "
    "(from_array, chunks=c); numpy: the same expression, single-threaded",
    params={"n": 20_000, "chunk": 1_000},
    quick={"n": 2_000, "chunk": 250},
    target=TARGET,
    target_note=TARGET_NOTE + "; and >= 1.6x single-threaded NumPy's mvalues_per_second",
    group=GROUP,
)


def _chain(np_like, x):
    return ((np_like.sin(x) ** 2 + np_like.cos(x) ** 2) * 2 - 1).sum()


def _elementwise_chain_chunked(impl, n, chunk):
    da = _chunked(impl)
    data = _same_data(n)
    small = _same_data(40)
    extra: dict = {}

    # from_array in setup: hashing the 3.2 GB input is not what this measures.
    x = _from_array(da, data, (chunk, chunk))
    x_small = _from_array(da, small, (10, 10))
    return Prepared(
        run=_timed(lambda: _chain(da, x).compute(), extra, values=n * n),
        warmup=lambda: _chain(da, x_small).compute(),
        tasks=_task_count(impl, _chain(da, x)),
        digest=_relative(7),
        extra=extra,
    )


def _elementwise_chain_numpy(n, chunk):
    import numpy as np

    data = _same_data(n)
    extra: dict = {}
    return Prepared(
        run=_timed(lambda: _chain(np, data), extra, values=n * n),
        digest=_relative(7),
        extra=extra,
    )


def _chain_block(block):
    """``((sin(b)**2 + cos(b)**2) * 2 - 1).sum()`` with two temporaries, updated in place."""
    import numpy as np

    s = np.sin(block)
    np.multiply(s, s, out=s)
    c = np.cos(block)
    np.multiply(c, c, out=c)
    s += c
    s *= 2
    s -= 1
    return s.sum()


def _elementwise_chain_handwritten(n, chunk):
    data = _same_data(n)
    extra: dict = {}

    def run():
        blocks = (data[index] for index in hw.block_slices(data.shape, (chunk, chunk)))
        return float(sum(hw.map_blocks(_chain_block, blocks)))

    return Prepared(run=_timed(run, extra, values=n * n), digest=_relative(7), extra=extra)


_register(
    elementwise_chain,
    {
        "chunkwise": lambda n, chunk: _elementwise_chain_chunked("chunkwise", n, chunk),
        "dask": lambda n, chunk: _elementwise_chain_chunked("dask", n, chunk),
        "numpy": _elementwise_chain_numpy,
        "handwritten": _elementwise_chain_handwritten,
    },
)


# --- matmul_sum --------------------------------------------------------------------


matmul_sum = workload(
    "matmul_sum",
    "(x @ x.T).sum() on the same in-memory float64 (n, n) array (from_array, chunks=c); "
    "numpy: one BLAS call (its own threads)",
    params={"n": 8_000, "chunk": 1_000},
    quick={"n": 800, "chunk": 200},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _matmul_sum_chunked(impl, n, chunk):
    da = _chunked(impl)
    data = _same_data(n)
    small = _same_data(40)

    def build(x):
        return (x @ x.T).sum()

    x = _from_array(da, data, (chunk, chunk))  # in setup: hashing the input is untimed
    x_small = _from_array(da, small, (10, 10))
    return Prepared(
        run=lambda: build(x).compute(),
        warmup=lambda: build(x_small).compute(),
        tasks=_task_count(impl, build(x)),
        digest=_relative(7),
    )


def _matmul_sum_numpy(n, chunk):
    data = _same_data(n)
    return Prepared(run=lambda: (data @ data.T).sum(), digest=_relative(7))


def _matmul_sum_handwritten(n, chunk):
    data = _same_data(n)
    rows = hw.grid(n, chunk)
    # x @ x.T is symmetric: the blocks on and below the diagonal, those below counted twice.
    pairs = [(i, j) for i in range(len(rows)) for j in range(i + 1)]

    def one(pair):
        i, j = pair
        (a0, a1), (b0, b1) = rows[i], rows[j]
        total = (data[a0:a1] @ data[b0:b1].T).sum()
        return total if i == j else 2 * total

    def run():
        with hw.one_blas_thread():
            return float(sum(hw.map_blocks(one, pairs)))

    return Prepared(run=run, digest=_relative(7))


_register(
    matmul_sum,
    {
        "chunkwise": lambda n, chunk: _matmul_sum_chunked("chunkwise", n, chunk),
        "dask": lambda n, chunk: _matmul_sum_chunked("dask", n, chunk),
        "numpy": _matmul_sum_numpy,
        "handwritten": _matmul_sum_handwritten,
    },
)


# --- matmul_general_sum -------------------------------------------------------------
# ``x @ x.T`` is symmetric and chunkwise computes only half its blocks (as NumPy's
# own call does, through BLAS's syrk); this one has no such shortcut on any side.


matmul_general_sum = workload(
    "matmul_general_sum",
    "(x @ y).sum() on two different in-memory float64 (n, n) arrays (from_array, chunks=c); "
    "numpy: one BLAS call (its own threads)",
    params={"n": 8_000, "chunk": 1_000},
    quick={"n": 800, "chunk": 200},
    group=GROUP,
)


def _two_arrays(n):
    return _same_data(n), _same_data(n, seed=1)


def _matmul_general_chunked(impl, n, chunk):
    da = _chunked(impl)
    a, b = _two_arrays(n)
    a_small, b_small = _two_arrays(40)

    def build(x, y):
        return (x @ y).sum()

    x, y = _from_array(da, a, (chunk, chunk)), _from_array(da, b, (chunk, chunk))
    xs, ys = _from_array(da, a_small, (10, 10)), _from_array(da, b_small, (10, 10))
    return Prepared(
        run=lambda: build(x, y).compute(),
        warmup=lambda: build(xs, ys).compute(),
        tasks=_task_count(impl, build(x, y)),
        digest=_relative(7),
    )


def _matmul_general_numpy(n, chunk):
    a, b = _two_arrays(n)
    return Prepared(run=lambda: (a @ b).sum(), digest=_relative(7))


def _matmul_general_handwritten(n, chunk):
    a, b = _two_arrays(n)
    blocks = hw.grid(n, chunk)
    pairs = [(i, j) for i in blocks for j in blocks]

    def one(pair):
        (r0, r1), (c0, c1) = pair
        return (a[r0:r1] @ b[:, c0:c1]).sum()

    def run():
        with hw.one_blas_thread():
            return float(sum(hw.map_blocks(one, pairs)))

    return Prepared(run=run, digest=_relative(7))


_register(
    matmul_general_sum,
    {
        "chunkwise": lambda n, chunk: _matmul_general_chunked("chunkwise", n, chunk),
        "dask": lambda n, chunk: _matmul_general_chunked("dask", n, chunk),
        "numpy": _matmul_general_numpy,
        "handwritten": _matmul_general_handwritten,
    },
)


# --- rechunk_rows_to_cols ------------------------------------------------------------


rechunk_rows_to_cols = workload(
    "rechunk_rows_to_cols",
    "random.RandomState(0).random_sample((rows, cols)) in row blocks (rows/40 x cols) rechunked "
    "to column blocks (rows x cols/40), then .sum(); ~4 GB of float64, 100 MB blocks; mean "
    "compared to 2 decimals; handwritten: the row blocks summed (a sum needs no rechunk)",
    params={"rows": 20_000, "cols": 25_000, "parts": 40},
    quick={"rows": 2_000, "cols": 2_500, "parts": 8},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _rechunk_rows_to_cols_chunked(impl, rows, cols, parts):
    da = _chunked(impl)

    def build(rows, cols, parts):
        x = da.random.RandomState(0).random_sample((rows, cols), chunks=(rows // parts, cols))
        return x.rechunk((rows, cols // parts)).sum()

    size = rows * cols
    return Prepared(
        run=lambda: build(rows, cols, parts).compute() / size,
        warmup=lambda: build(40, 50, 4).compute(),
        tasks=_task_count(impl, build(rows, cols, parts)),
        digest=_rounded(2),
    )


def _rechunk_rows_to_cols_handwritten(rows, cols, parts):
    return Prepared(
        run=lambda: _random_sum_handwritten((rows, cols), (rows // parts, cols)) / (rows * cols),
        warmup=lambda: _random_sum_handwritten((40, 50), (10, 50)),
        digest=_rounded(2),
    )


_register(
    rechunk_rows_to_cols,
    {
        "chunkwise": lambda **p: _rechunk_rows_to_cols_chunked("chunkwise", **p),
        "dask": lambda **p: _rechunk_rows_to_cols_chunked("dask", **p),
        "handwritten": _rechunk_rows_to_cols_handwritten,
    },
)


# --- out_of_core_mean ------------------------------------------------------------------


out_of_core_mean = workload(
    "out_of_core_mean",
    "random.RandomState(0).random_sample((rows, cols), chunks=(10_000, 2_000)).mean(): 32 GB of "
    "float64, more than "
    "the machine's memory; peak RSS must stay under 2 GiB (extra peak_under_2GiB)",
    params={"rows": 200_000, "cols": 20_000, "row_chunk": 10_000, "col_chunk": 2_000},
    quick={"rows": 20_000, "cols": 2_000, "row_chunk": 1_000, "col_chunk": 500},
    target=TARGET,
    target_note=TARGET_NOTE + "; peak RSS < 2 GiB",
    group=GROUP,
)


def _out_of_core_mean_chunked(impl, rows, cols, row_chunk, col_chunk):
    da = _chunked(impl)
    extra: dict = {}

    def build(rows, cols, row_chunk, col_chunk):
        return da.random.RandomState(0).random_sample((rows, cols), chunks=(row_chunk, col_chunk)).mean()

    def run():
        result = build(rows, cols, row_chunk, col_chunk).compute()
        peak = _peak_rss_mib()
        extra["peak_under_2GiB"] = peak < 2048
        return result

    return Prepared(
        run=run,
        warmup=lambda: build(40, 40, 10, 10).compute(),
        tasks=_task_count(impl, build(rows, cols, row_chunk, col_chunk)),
        digest=_rounded(2),
        extra=extra,
    )


def _out_of_core_mean_handwritten(rows, cols, row_chunk, col_chunk):
    extra: dict = {}

    def run():
        result = _random_sum_handwritten((rows, cols), (row_chunk, col_chunk)) / (rows * cols)
        extra["peak_under_2GiB"] = _peak_rss_mib() < 2048
        return result

    return Prepared(
        run=run,
        warmup=lambda: _random_sum_handwritten((40, 40), (10, 10)),
        digest=_rounded(2),
        extra=extra,
    )


_register(
    out_of_core_mean,
    {
        "chunkwise": lambda **p: _out_of_core_mean_chunked("chunkwise", **p),
        "dask": lambda **p: _out_of_core_mean_chunked("dask", **p),
        "handwritten": _out_of_core_mean_handwritten,
    },
)


# --- graph_build_optimize_200x200 ------------------------------------------------------


graph_build_optimize = workload(
    "graph_build_optimize_200x200",
    "build ((x + 1) * 2).sum(axis=0) over x = ones((n, n), chunks=c) (200 x 200 blocks), "
    "optimize it and materialize the task graph; nothing computed",
    params={"n": 200_000, "chunk": 1_000},
    quick={"n": 20_000, "chunk": 1_000},
    target=1 / 5,
    target_note="build + optimize >= 5x faster than Dask",
    group=GROUP,
)


def _graph_digest(result):
    z, graph = result
    return {"shape": list(z.shape), "dtype": str(z.dtype)}


@graph_build_optimize.impl("chunkwise")
def _(n, chunk):
    import chunkwise.array as da

    extra: dict = {}

    def build(n, chunk):
        x = da.ones((n, n), chunks=(chunk, chunk))
        return ((x + 1) * 2).sum(axis=0)

    def run():
        t0 = time.perf_counter()
        z = build(n, chunk)
        t1 = time.perf_counter()
        graph = z.__chunkwise_graph__()  # optimize the expression, lower it, fuse the graph
        t2 = time.perf_counter()
        extra.update(build_s=t1 - t0, optimize_lower_s=t2 - t1, graph_tasks=len(graph))
        return z, graph

    return Prepared(
        run=run,
        warmup=lambda: build(40, 10).__chunkwise_graph__(),
        digest=_graph_digest,
        extra=extra,
    )


@graph_build_optimize.impl("dask")
def _(n, chunk):
    import dask
    import dask.array as da

    extra: dict = {}

    def build(n, chunk):
        x = da.ones((n, n), chunks=(chunk, chunk))
        return ((x + 1) * 2).sum(axis=0)

    def graph_of(z):
        (opt,) = dask.optimize(z)  # cull, blockwise fusion, linear fusion
        return dict(opt.__dask_graph__())  # materialized, as a scheduler would receive it

    def run():
        t0 = time.perf_counter()
        z = build(n, chunk)
        t1 = time.perf_counter()
        graph = graph_of(z)
        t2 = time.perf_counter()
        extra.update(build_s=t1 - t0, optimize_lower_s=t2 - t1, graph_tasks=len(graph))
        return z, graph

    return Prepared(
        run=run, warmup=lambda: graph_of(build(40, 10)), digest=_graph_digest, extra=extra
    )
