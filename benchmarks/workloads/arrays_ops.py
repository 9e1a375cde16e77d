"""Array operations of part two: neighbourhoods, selection, histograms, sets, sorting.

Workloads (issue 19): ``map_overlap`` Gaussian smoothing of an (n, n) array,
``topk``, ``histogram`` and ``unique`` on n integers, ``sort`` of n floats.
Target: wall time <= 0.6x Dask's with peak RSS no higher. Dask has no array
sort, so ``sort`` compares with NumPy's in-memory ``np.sort`` only.

The smoothing draws its input inside the plan (``random.random``): the two
libraries' streams differ, so the digest is the mean smoothed value to 3
decimals. The integer and float workloads use the same data (generated once
in setup with a fixed seed, wrapped with ``from_array``). NumPy runs the same
operation on the whole in-memory array, single call.

The ``handwritten`` implementations (``benchmarks/handwritten.py``) are the
practical limit: plain NumPy/SciPy over the same blocks on a 2-thread pool,
then a reduction of the per-block results. The smoothing's hand-written twin
draws its blocks from the streams chunkwise's ``RandomState(0)`` uses, keeps
three block rows in memory at a time, and filters each extended block in a
reused buffer into a reused output: the least any engine can do around the
user's filter, so it bounds what ``map_overlap`` can gain over Dask.
"""

from __future__ import annotations

from benchmarks import handwritten as hw
from benchmarks.registry import Prepared, workload

GROUP = "arrays_ops"
TARGET = 0.6
TARGET_NOTE = "wall time <= 0.6x Dask's, peak RSS no higher"
SIGMA = 2.0
DEPTH = 8  # scipy's gaussian_filter radius at truncate=4: int(4 * sigma + 0.5)


def _chunked(impl: str):
    if impl == "chunkwise":
        import chunkwise.array as da
    else:
        import dask.array as da
    return da


def _task_count(impl: str, collection) -> int | None:
    try:
        if impl == "chunkwise":
            return len(collection.__chunkwise_graph__())
        import dask

        (opt,) = dask.optimize(collection)
        return len(opt.__dask_graph__())
    except Exception:
        return None


def _register(w, impls: dict) -> None:
    for name, func in impls.items():
        w.impl(name)(func)


def _integers(n: int):
    import numpy as np

    return np.random.default_rng(0).integers(0, 1_000_000, n)


def _floats(n: int):
    import numpy as np

    return np.random.default_rng(1).random(n)


def _from_array(da, data, chunk):
    x = da.from_array(data, chunks=chunk)
    if da.__name__.startswith("chunkwise"):
        x.expr.name  # noqa: B018 - hash the input now (setup), as dask does in from_array
    return x


def _rounded(ndigits: int):
    return lambda result: round(float(result), ndigits)


def _as_list(result):
    import numpy as np

    return np.asarray(result).tolist()


# --- map_overlap gaussian smoothing ------------------------------------------------------------


smoothing = workload(
    "map_overlap_gaussian",
    f"random.RandomState(0).random_sample((n, n), chunks=c).map_overlap(gaussian_filter, depth={DEPTH}, "
    f"boundary='reflect', sigma={SIGMA}).mean(); numpy: scipy on the whole array",
    params={"n": 20_000, "chunk": 2_000},
    quick={"n": 2_000, "chunk": 500},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _smoothing_chunked(impl, n, chunk):
    from scipy.ndimage import gaussian_filter

    da = _chunked(impl)

    def build(n, chunk):
        x = da.random.RandomState(0).random_sample((n, n), chunks=(chunk, chunk))
        smooth = x.map_overlap(gaussian_filter, depth=DEPTH, boundary="reflect", sigma=SIGMA,
                               mode="constant", dtype=x.dtype)
        return smooth.mean()

    return Prepared(run=lambda: build(n, chunk).compute(), warmup=lambda: build(64, 32).compute(),
                    tasks=_task_count(impl, build(n, chunk)), digest=_rounded(3))


def _smoothing_numpy(n, chunk):
    import numpy as np
    from scipy.ndimage import gaussian_filter

    def run():
        x = np.random.default_rng(0).random((n, n))
        return gaussian_filter(x, SIGMA, mode="reflect").mean()

    return Prepared(run=run, digest=_rounded(3))


def _smoothing_handwritten_mean(n, chunk):
    """Mean of the smoothed array: the least work any engine can do with the user's filter.

    Block rows are drawn one ahead on the pool; each block's halo is copied from
    its neighbours (reflected at the array's edges, chunkwise's ``boundary``
    rule) into a per-thread buffer reused from block to block, and the filter
    writes into a reused output (``output=``, which an engine calling the user's
    function cannot pass): no fresh pages per block. Only the filter calls and
    the draws are left, so chunkwise's and Dask's times over this one show what
    each engine adds to the same SciPy calls.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from scipy.ndimage import gaussian_filter

    rows, cols = hw.grid(n, chunk), hw.grid(n, chunk)
    scratch = threading.local()

    def draw_row(i):
        r0, r1 = rows[i]
        return [hw.uniform_block(0, 0, i * len(cols) + j, (r1 - r0, c1 - c0)) for j, (c0, c1) in enumerate(cols)]

    def edge(blocks, k, axis, before):
        # the DEPTH rows/columns block k's neighbour lends on one side, or its own reflected edge
        index = k - 1 if before else k + 1
        if 0 <= index < len(blocks):
            part = blocks[index]
            return part[-DEPTH:] if before else part[:DEPTH]
        own = blocks[k]
        return own[DEPTH - 1::-1] if before else own[:-DEPTH - 1:-1]

    def extended_row(above, here, below, j):
        # one block row's three bands (above, the block, below) for column j, halo columns included
        bands = []
        for band in (above, here, below):
            left = edge([b.T for b in band], j, 0, True).T
            right = edge([b.T for b in band], j, 0, False).T
            bands.append((left, band[j], right))
        return bands

    def smooth_sum(bands):
        height = sum(b[1].shape[0] for b in bands)
        width = bands[1][0].shape[1] + bands[1][1].shape[1] + bands[1][2].shape[1]
        if getattr(scratch, "shape", None) != (height, width):
            scratch.shape = (height, width)
            scratch.block, scratch.out = np.empty((height, width)), np.empty((height, width))
        top = 0
        for left, middle, right in bands:
            h = middle.shape[0]
            scratch.block[top:top + h, :left.shape[1]] = left
            scratch.block[top:top + h, left.shape[1]:left.shape[1] + middle.shape[1]] = middle
            scratch.block[top:top + h, left.shape[1] + middle.shape[1]:] = right
            top += h
        gaussian_filter(scratch.block, SIGMA, mode="constant", output=scratch.out)
        return scratch.out[DEPTH:-DEPTH, DEPTH:-DEPTH].sum()

    def vertical(row_blocks, neighbour, before):
        # the band above (before) or below a block row: the neighbour row's edge, or the row's own reflected
        if neighbour is not None:
            return [b[-DEPTH:] if before else b[:DEPTH] for b in neighbour]
        return [b[DEPTH - 1::-1] if before else b[:-DEPTH - 1:-1] for b in row_blocks]

    total = 0.0
    with ThreadPoolExecutor(hw.THREADS) as pool:
        drawn = {0: pool.submit(draw_row, 0)}
        for i in range(len(rows)):
            if i + 1 < len(rows):
                drawn[i + 1] = pool.submit(draw_row, i + 1)
            here = drawn[i].result()
            above = vertical(here, drawn[i - 1].result() if i > 0 else None, True)
            below = vertical(here, drawn[i + 1].result() if i + 1 < len(rows) else None, False)
            parts = [pool.submit(smooth_sum, extended_row(above, here, below, j)) for j in range(len(cols))]
            total += sum(p.result() for p in parts)
            drawn.pop(i - 1, None)
    return total / (n * n)


def _smoothing_handwritten(n, chunk):
    return Prepared(run=lambda: _smoothing_handwritten_mean(n, chunk),
                    warmup=lambda: _smoothing_handwritten_mean(64, 32), digest=_rounded(3))


_register(smoothing, {
    "chunkwise": lambda n, chunk: _smoothing_chunked("chunkwise", n, chunk),
    "dask": lambda n, chunk: _smoothing_chunked("dask", n, chunk),
    "handwritten": _smoothing_handwritten,
    "numpy": _smoothing_numpy,
})


# --- topk, histogram, unique on integers ---------------------------------------------------------


topk_ints = workload(
    "topk_integers",
    "topk(x, 10) of n integers in [0, 1e6) (same data, from_array, chunks=c); numpy: partition + sort",
    params={"n": 100_000_000, "chunk": 10_000_000},
    quick={"n": 1_000_000, "chunk": 100_000},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _topk_chunked(impl, n, chunk):
    da = _chunked(impl)
    x = _from_array(da, _integers(n), chunk)
    small = _from_array(da, _integers(1000), 100)
    return Prepared(run=lambda: da.topk(x, 10).compute(), warmup=lambda: da.topk(small, 10).compute(),
                    tasks=_task_count(impl, da.topk(x, 10)), digest=_as_list)


def _topk_numpy(n, chunk):
    import numpy as np

    data = _integers(n)
    return Prepared(run=lambda: np.sort(np.partition(data, n - 10)[n - 10:])[::-1], digest=_as_list)


def _blocks(data, chunk):
    return [data[a:b] for a, b in hw.grid(len(data), chunk)]


def _topk_handwritten(n, chunk):
    import numpy as np

    blocks = _blocks(_integers(n), chunk)

    def run():
        tops = hw.map_blocks(lambda b: np.partition(b, len(b) - 10)[-10:], blocks)
        return np.sort(np.concatenate(tops))[::-1][:10]

    return Prepared(run=run, digest=_as_list)


_register(topk_ints, {
    "chunkwise": lambda n, chunk: _topk_chunked("chunkwise", n, chunk),
    "dask": lambda n, chunk: _topk_chunked("dask", n, chunk),
    "handwritten": _topk_handwritten,
    "numpy": _topk_numpy,
})


histogram_ints = workload(
    "histogram_integers",
    "histogram(x, bins=100, range=(0, 1e6)) of n integers (same data, from_array, chunks=c)",
    params={"n": 100_000_000, "chunk": 10_000_000},
    quick={"n": 1_000_000, "chunk": 100_000},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _histogram_chunked(impl, n, chunk):
    da = _chunked(impl)
    x = _from_array(da, _integers(n), chunk)
    small = _from_array(da, _integers(1000), 100)

    def build(x):
        return da.histogram(x, bins=100, range=(0, 1_000_000))[0]

    return Prepared(run=lambda: build(x).compute(), warmup=lambda: build(small).compute(),
                    tasks=_task_count(impl, build(x)), digest=_as_list)


def _histogram_numpy(n, chunk):
    import numpy as np

    data = _integers(n)
    return Prepared(run=lambda: np.histogram(data, bins=100, range=(0, 1_000_000))[0], digest=_as_list)


def _histogram_handwritten(n, chunk):
    import numpy as np

    blocks = _blocks(_integers(n), chunk)

    def run():
        counts = hw.map_blocks(lambda b: np.histogram(b, bins=100, range=(0, 1_000_000))[0], blocks)
        return np.sum(counts, axis=0)

    return Prepared(run=run, digest=_as_list)


_register(histogram_ints, {
    "chunkwise": lambda n, chunk: _histogram_chunked("chunkwise", n, chunk),
    "dask": lambda n, chunk: _histogram_chunked("dask", n, chunk),
    "handwritten": _histogram_handwritten,
    "numpy": _histogram_numpy,
})


unique_ints = workload(
    "unique_integers",
    "unique(x) of n integers in [0, 1e6) (same data, from_array, chunks=c); digest: count and sum",
    params={"n": 100_000_000, "chunk": 10_000_000},
    quick={"n": 1_000_000, "chunk": 100_000},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _unique_digest(result):
    import numpy as np

    result = np.asarray(result)
    return [int(result.size), int(result.sum())]


def _unique_chunked(impl, n, chunk):
    da = _chunked(impl)
    x = _from_array(da, _integers(n), chunk)
    small = _from_array(da, _integers(1000), 100)
    return Prepared(run=lambda: da.unique(x).compute(), warmup=lambda: da.unique(small).compute(),
                    tasks=_task_count(impl, da.unique(x)), digest=_unique_digest)


def _unique_numpy(n, chunk):
    import numpy as np

    data = _integers(n)
    return Prepared(run=lambda: np.unique(data), digest=_unique_digest)


def _sorted_unique(values):
    """``np.unique(values)`` by a sort and a neighbour comparison: NumPy 2.4's ``np.unique`` of
    integers goes through a hash table, about 20x slower than this on 1M integers here."""
    import numpy as np

    ordered = np.sort(values)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _unique_handwritten(n, chunk):
    import numpy as np

    blocks = _blocks(_integers(n), chunk)
    return Prepared(run=lambda: _sorted_unique(np.concatenate(hw.map_blocks(_sorted_unique, blocks))),
                    digest=_unique_digest)


_register(unique_ints, {
    "chunkwise": lambda n, chunk: _unique_chunked("chunkwise", n, chunk),
    "dask": lambda n, chunk: _unique_chunked("dask", n, chunk),
    "handwritten": _unique_handwritten,
    "numpy": _unique_numpy,
})


# --- sort of floats (no Dask equivalent) ---------------------------------------------------------


sort_floats = workload(
    "sort_floats",
    "sort(x) of n float64 (same data, from_array, chunks=c), sample sort; numpy: np.sort in memory "
    "(Dask has no array sort)",
    params={"n": 100_000_000, "chunk": 10_000_000},
    quick={"n": 1_000_000, "chunk": 100_000},
    group=GROUP,
)


def _sort_digest(result):
    import numpy as np

    result = np.asarray(result)
    picks = [0, result.size // 3, result.size // 2, result.size - 1]
    return [float(result[i]) for i in picks] + [bool((result[1:] >= result[:-1]).all())]


def _sort_chunkwise(n, chunk):
    import chunkwise.array as da

    x = _from_array(da, _floats(n), chunk)
    small = _from_array(da, _floats(1000), 100)
    extra: dict = {}

    def run():
        result = da.sort(x)
        extra["output_chunks"] = f"{min(result.chunks[0])}..{max(result.chunks[0])}"
        return result.compute()

    return Prepared(run=run, warmup=lambda: da.sort(small).compute(), tasks=_task_count("chunkwise", da.sort(x)),
                    digest=_sort_digest, extra=extra)


def _sort_numpy(n, chunk):
    import numpy as np

    data = _floats(n)
    return Prepared(run=lambda: np.sort(data), digest=_sort_digest)


def _sample_sort(blocks):
    """Sort each block, cut them at splitters from their samples, merge each piece: a sample sort."""
    import numpy as np

    sorted_blocks = hw.map_blocks(np.sort, blocks)
    k = len(sorted_blocks)
    samples = np.sort(np.concatenate([b[:: max(1, len(b) // 100)] for b in sorted_blocks]))
    splitters = samples[np.linspace(0, len(samples), k + 1)[1:-1].astype(int)]
    cuts = [np.concatenate([[0], np.searchsorted(b, splitters, side="right"), [len(b)]])
            for b in sorted_blocks]

    def piece(i):
        # Output block i: the i-th slice of every sorted block, merged (timsort sees sorted runs).
        return np.sort(np.concatenate([b[c[i]:c[i + 1]] for b, c in zip(sorted_blocks, cuts)]),
                       kind="stable")

    return np.concatenate(hw.map_blocks(piece, range(k)))


def _sort_handwritten(n, chunk):
    blocks = _blocks(_floats(n), chunk)
    return Prepared(run=lambda: _sample_sort(blocks), digest=_sort_digest)


_register(sort_floats, {"chunkwise": _sort_chunkwise, "handwritten": _sort_handwritten,
                        "numpy": _sort_numpy})
