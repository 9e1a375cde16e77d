"""Plan rewrites that do less work than asked (issue 19, ``chunkwise.array.rewrites``).

One workload per rule, each run by four implementations on the same data (an
(n, n) float64 array generated once in setup with a fixed seed and wrapped
with ``from_array``), except ``rewrite_shared_random``, which draws its input
inside the plan:

- ``chunkwise``: the optimized plan, with the rewrites;
- ``plain``: chunkwise with ``optimization.array_rewrites`` off, the plan as
  asked (what the rewrite saves is ``chunkwise / plain``);
- ``dask``: ``dask.array`` on the same expression;
- ``numpy``: the same expression on the in-memory array, single-threaded.

Target: wall time <= 0.6x Dask's (the part-two target). Digests are results
to 6 significant digits (summation orders differ between libraries).
"""

from __future__ import annotations

from benchmarks.registry import Prepared, workload

GROUP = "arrays_rewrites"
TARGET = 0.6
TARGET_NOTE = "wall time <= 0.6x Dask's; chunkwise / plain shows what the rewrite saves"
PARAMS = {"n": 6_000, "chunk": 1_000}
QUICK = {"n": 600, "chunk": 100}


def _chunked(impl: str):
    if impl == "dask":
        import dask.array as da
    else:
        import chunkwise.array as da
    return da


def _data(n: int):
    import numpy as np

    return np.random.default_rng(0).random((n, n))


def _from_array(da, data, chunk):
    x = da.from_array(data, chunks=(chunk, chunk))
    if da.__name__.startswith("chunkwise"):
        x.expr.name  # noqa: B018 - hash the input now (setup), as dask does in from_array
    return x


def _task_count(impl: str, collections: list) -> int | None:
    try:
        if impl == "dask":
            import dask

            return sum(len(c.__dask_graph__()) for c in dask.optimize(*collections))
        from chunkwise.base import graph_of

        return len(graph_of(collections, True)[0])
    except Exception:  # a count is a nicety; never fail the workload for it
        return None


def _digest(result) -> list:
    import numpy as np

    values = result if isinstance(result, tuple) else (result,)
    return [f"{float(v):.6g}" for v in (np.ravel(np.asarray(r, dtype=float)).sum() for r in values)]


def _random_digest(result) -> float:
    """The mean (the second result) to 2 decimals: the random streams differ."""
    return round(float(result[1]), 2)


def _compute(impl: str, collections: list):
    if impl == "dask":
        import dask

        return dask.compute(*collections)
    import chunkwise

    if impl == "plain":
        with chunkwise.config.set({"optimization.array_rewrites": False}):
            return chunkwise.compute(*collections)
    return chunkwise.compute(*collections)


def _define(name: str, description: str, build, numpy_run, source: str = "data") -> None:
    """Register workload ``name``: ``build(da, x) -> list of results``, ``numpy_run(data)``."""
    w = workload(
        name, description, params=PARAMS, quick=QUICK, target=TARGET, target_note=TARGET_NOTE,
        group=GROUP,
    )

    def chunked(impl):
        def prepare(n, chunk):
            da = _chunked(impl)
            if source == "random":
                def make(n, chunk):
                    return build(da, da.random.random((n, n), chunks=(chunk, chunk)))
                tiny = make(40, 10)
            else:
                data = _data(n)
                x = _from_array(da, data, chunk)

                def make(n, chunk, x=x):
                    return build(da, x)
                small = _from_array(da, _data(40), 10)
                tiny = build(da, small)
            if impl == "plain":
                import chunkwise

                with chunkwise.config.set({"optimization.array_rewrites": False}):
                    tasks = _task_count(impl, make(n, chunk))
            else:
                tasks = _task_count(impl, make(n, chunk))
            return Prepared(
                run=lambda: _compute(impl, make(n, chunk)),
                warmup=lambda: _compute(impl, tiny),
                tasks=tasks,
                digest=_random_digest if source == "random" else _digest,
            )

        return prepare

    for impl in ("chunkwise", "plain", "dask"):
        w.impl(impl)(chunked(impl))

    def numpy_impl(n, chunk):
        if source == "random":
            import numpy as np

            return Prepared(
                run=lambda: numpy_run(np.random.default_rng(0).random((n, n))), digest=_random_digest
            )
        data = _data(n)
        return Prepared(run=lambda: numpy_run(data), digest=_digest)

    w.impl("numpy")(numpy_impl)


# --- 1. a rechunk feeding a reduction, through an elementwise op ------------------------------

_define(
    "rewrite_rechunk_sum",
    "(x.rechunk((n, chunk // 8)) + 1).sum(): the rechunk is dropped",
    lambda da, x: [(x.rechunk((x.shape[0], x.chunksize[1] // 8)) + 1).sum()],
    lambda a: (a + 1).sum(),
)

# --- 2. a reduction of a boolean-masked array --------------------------------------------------

_define(
    "rewrite_masked_mean",
    "x[x > 0.5].mean(): a mean with where=, no unknown chunks",
    lambda da, x: [x[x > 0.5].mean()],
    lambda a: a[a > 0.5].mean(),
)

_define(
    "rewrite_masked_std",
    "x[x > 0.5].std()",
    lambda da, x: [x[x > 0.5].std()],
    lambda a: a[a > 0.5].std(),
)

# --- 3. an index into a cumulative result ---------------------------------------------------

_define(
    "rewrite_cumsum_last",
    "x.cumsum(axis=0)[-1]: a sum over axis 0",
    lambda da, x: [x.cumsum(axis=0)[-1]],
    lambda a: a.cumsum(axis=0)[-1],
)

# --- 4. several reductions of one input -------------------------------------------------------

_define(
    "rewrite_shared_five",
    "compute(x.sum(), x.mean(), x.std(), x.min(), x.max()): one pass over x",
    lambda da, x: [x.sum(), x.mean(), x.std(), x.min(), x.max()],
    lambda a: (a.sum(), a.mean(), a.std(), a.min(), a.max()),
)

_define(
    "rewrite_shared_random",
    "the five reductions of random.random((n, n)): each block generated once "
    "(the streams differ: the mean is compared to 2 decimals)",
    lambda da, x: [x.sum(), x.mean(), x.std(), x.min(), x.max()],
    lambda a: (a.sum(), a.mean(), a.std(), a.min(), a.max()),
    source="random",
)

# --- 5. a reduction of a transpose --------------------------------------------------------------

_define(
    "rewrite_transpose_sum",
    "x.T.sum(axis=0): x.sum(axis=1)",
    lambda da, x: [x.T.sum(axis=0)],
    lambda a: a.T.sum(axis=0),
)

# --- reductions of a masked array (chunkwise.array.masks): the shared pass keeps the mask ---------

_define(
    "masked_shared_five",
    "m = ma.masked_greater(x, 0.9); compute(m.sum(), m.mean(), m.std(), m.min(), m.max()): "
    "the unmasked values only, one pass over x",
    lambda da, x: (lambda m: [m.sum(), m.mean(), m.std(), m.min(), m.max()])(da.ma.masked_greater(x, 0.9)),
    lambda a: (lambda m: (m.sum(), m.mean(), m.std(), m.min(), m.max()))(__import__("numpy").ma.masked_greater(a, 0.9)),
)
