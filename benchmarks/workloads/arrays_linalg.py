"""Linear algebra workloads: tall-and-skinny QR and least squares, chunkwise against Dask and NumPy.

Both workloads use an ``n x 20`` float64 matrix (10,000,000 rows: 1.6 GB) in
row blocks of ``chunk`` rows. The chunked sides draw it lazily from their
random generators inside the computation, so it never exists whole: what
their peak RSS shows is the memory the algorithm needs. NumPy holds it in
memory (generated in setup, untimed) and calls ``np.linalg.qr`` or
``np.linalg.lstsq`` once.

- ``tsqr``: ``q, r = linalg.qr(a)``; computes ``r`` and the column sums of
  ``q ** 2`` together (so every block of Q is built, and then reduced).
  Digest: ``|r[0, 0]| / sqrt(n)`` to 2 decimals (the random streams differ;
  for uniform columns it approaches ``sqrt(1/3)``) and the sum of the
  squares of Q to 6 decimals (``20``: Q's columns are orthonormal).
- ``lstsq``: ``b = a @ coef + 0.01 * (noise - 0.5)`` (built in the same lazy plan);
  computes ``x`` of ``linalg.lstsq(a, b)``. Digest: ``x`` to 3 decimals,
  which is ``coef`` whatever the streams.
- ``lstsq_dropna``: the same after dropping the rows that hold a NaN (about
  1%, drawn lazily): ``lstsq(a[keep], b[keep])`` on row chunks of unknown
  length, the ``chunkwise.ml`` fit after a drop-NaN. Same digest.

The ``handwritten`` implementations (``benchmarks/handwritten.py``) draw
the same blocks as chunkwise (``default_rng(seed)`` streams) on a 2-thread
pool with one BLAS thread each and use the same block algorithm: each
block's R from the R's of cache-sized pieces (``PIECE`` rows; one
``np.linalg.qr`` of a whole 500,000-row block costs ~5x more CPU), one QR
of the stacked R factors, then (``tsqr``) each block's Q times its slice
``F_b`` of the second as ``A_b @ solve(R_b, F_b)``, the block drawn again
(one product; no Householder Q formed, no block kept). Until session 5 they
formed each block's Householder Q (``np.linalg.qr`` reduced) and kept it.

Target (issue 19): at most 0.6x Dask's wall time with peak RSS no higher.
"""

from __future__ import annotations

import math

from benchmarks import handwritten as hw
from benchmarks.registry import Prepared, workload

GROUP = "arrays-linalg"
TARGET = 0.6
TARGET_NOTE = "wall time <= 0.6x Dask's, peak RSS no higher"
COLUMNS = 20


def _chunked(impl: str):
    if impl == "chunkwise":
        import chunkwise.array as da
    else:
        import dask.array as da
    return da


def _coefficients():
    import numpy as np

    return np.arange(1, COLUMNS + 1, dtype=float) / COLUMNS


def _compute(impl: str, *collections):
    if impl == "chunkwise":
        import chunkwise

        return chunkwise.compute(*collections)
    import dask

    return dask.compute(*collections)


def _r_digest(n: int):
    def digest(result):
        r, q_squares = result
        return [round(abs(float(r[0, 0])) / math.sqrt(n), 2), round(float(q_squares.sum()), 6)]

    return digest


def _x_digest(result):
    import numpy as np

    return [round(float(v), 3) for v in np.asarray(result)]


def _random(impl: str, shape, chunks, seed: int = 0):
    """Uniform random numbers from the library's PCG64 generator, drawn per block when computed."""
    return _chunked(impl).random.default_rng(seed).random(shape, chunks=chunks)


def _regression(impl: str, n: int, chunk: int):
    """``(a, noise, b)`` of the lstsq workloads, lazily: ``b = a @ coef + 0.01 * (noise - 0.5)``."""
    a = _random(impl, (n, COLUMNS), (chunk, COLUMNS))
    noise = _random(impl, (n,), (chunk,), seed=1)
    return a, noise, a @ _coefficients() + 0.01 * (noise - 0.5)


def _regression_numpy(n: int):
    """The same problem in memory (one generator: ``a``, then ``noise``)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.random((n, COLUMNS))
    noise = rng.random(n)
    return a, noise, a @ _coefficients() + 0.01 * (noise - 0.5)


# --- tsqr -----------------------------------------------------------------------------------


tsqr = workload(
    "tsqr",
    f"q, r = linalg.qr(a) of a random (n, {COLUMNS}) float64 matrix in row blocks; computes r and "
    "(q**2).sum(axis=0); numpy: np.linalg.qr on the matrix in memory",
    params={"n": 10_000_000, "chunk": 500_000},
    quick={"n": 200_000, "chunk": 20_000},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _tsqr_chunked(impl: str, n: int, chunk: int) -> Prepared:
    da = _chunked(impl)

    def build(n, chunk):
        a = _random(impl, (n, COLUMNS), (chunk, COLUMNS))
        q, r = da.linalg.qr(a)
        return r, (q ** 2).sum(axis=0)

    return Prepared(
        run=lambda: _compute(impl, *build(n, chunk)),
        warmup=lambda: _compute(impl, *build(400, 100)),
        digest=_r_digest(n),
    )


def _tsqr_numpy(n: int, chunk: int) -> Prepared:
    import numpy as np

    a = np.random.default_rng(0).random((n, COLUMNS))

    def run():
        q, r = np.linalg.qr(a)
        return r, (q ** 2).sum(axis=0)

    return Prepared(run=run, digest=_r_digest(n))


tsqr.impl("chunkwise")(lambda n, chunk: _tsqr_chunked("chunkwise", n, chunk))
tsqr.impl("dask")(lambda n, chunk: _tsqr_chunked("dask", n, chunk))
tsqr.impl("numpy")(_tsqr_numpy)


#: Rows per piece of the hand-written block QR: 512 KiB of 20 float64 columns, factored in cache.
PIECE = 3276


def _pieces_r(a):
    """R of a tall block: the R's of cache-sized pieces, stacked and factored again (a piece's R when small)."""
    import numpy as np

    while len(a) > 2 * PIECE:
        a = np.concatenate([np.linalg.qr(a[i:i + PIECE], mode="r") for i in range(0, len(a), PIECE)])
    return np.linalg.qr(a, mode="r")


def _tsqr_handwritten_run(n: int, chunk: int):
    import numpy as np

    rows = hw.grid(n, chunk)

    def block(b):
        r0, r1 = rows[b]
        return hw.uniform_block(0, 0, b, (r1 - r0, COLUMNS))

    def q_squares(b):  # Q_b = A_b @ solve(R_b, Q2_b): the block drawn again, one product
        small = np.linalg.solve(r_blocks[b], q2[b * COLUMNS:(b + 1) * COLUMNS])
        q = block(b) @ small
        return np.einsum("ij,ij->j", q, q)

    with hw.one_blas_thread():
        r_blocks = hw.map_blocks(lambda b: _pieces_r(block(b)), range(len(rows)))
        q2, r = np.linalg.qr(np.concatenate(r_blocks))
        return r, np.sum(hw.map_blocks(q_squares, range(len(rows))), axis=0)


def _tsqr_handwritten(n: int, chunk: int) -> Prepared:
    return Prepared(run=lambda: _tsqr_handwritten_run(n, chunk),
                    warmup=lambda: _tsqr_handwritten_run(400, 100), digest=_r_digest(n))


tsqr.impl("handwritten")(_tsqr_handwritten)


# --- lstsq -----------------------------------------------------------------------------------


lstsq = workload(
    "lstsq",
    f"x of linalg.lstsq(a, b), a random (n, {COLUMNS}) in row blocks, b = a @ coef + 0.01 * noise; "
    "numpy: np.linalg.lstsq in memory",
    params={"n": 10_000_000, "chunk": 500_000},
    quick={"n": 200_000, "chunk": 20_000},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _lstsq_chunked(impl: str, n: int, chunk: int) -> Prepared:
    da = _chunked(impl)

    def build(n, chunk):
        a, _, b = _regression(impl, n, chunk)
        return da.linalg.lstsq(a, b)[0]

    return Prepared(
        run=lambda: _compute(impl, build(n, chunk))[0],
        warmup=lambda: _compute(impl, build(400, 100)),
        digest=_x_digest,
    )


def _lstsq_numpy(n: int, chunk: int) -> Prepared:
    import numpy as np

    a, _, b = _regression_numpy(n)
    return Prepared(run=lambda: np.linalg.lstsq(a, b)[0], digest=_x_digest)


lstsq.impl("chunkwise")(lambda n, chunk: _lstsq_chunked("chunkwise", n, chunk))
lstsq.impl("dask")(lambda n, chunk: _lstsq_chunked("dask", n, chunk))
lstsq.impl("numpy")(_lstsq_numpy)


def _lstsq_handwritten_run(n: int, chunk: int):
    import numpy as np

    rows = hw.grid(n, chunk)
    coef = _coefficients()

    def r_factor(b):
        r0, r1 = rows[b]
        a = hw.uniform_block(0, 0, b, (r1 - r0, COLUMNS))
        noise = hw.uniform_block(1, 0, b, (r1 - r0,))
        rhs = a @ coef
        noise -= 0.5
        noise *= 0.01
        rhs += noise
        return _pieces_r(np.column_stack([a, rhs]))

    with hw.one_blas_thread():
        r = np.linalg.qr(np.concatenate(hw.map_blocks(r_factor, range(len(rows)))), mode="r")
    return np.linalg.solve(r[:COLUMNS, :COLUMNS], r[:COLUMNS, COLUMNS])


def _lstsq_handwritten(n: int, chunk: int) -> Prepared:
    return Prepared(run=lambda: _lstsq_handwritten_run(n, chunk),
                    warmup=lambda: _lstsq_handwritten_run(400, 100), digest=_x_digest)


lstsq.impl("handwritten")(_lstsq_handwritten)


# --- lstsq after dropping NaN rows (unknown row chunks) ----------------------------------------


lstsq_dropna = workload(
    "lstsq_dropna",
    f"x of linalg.lstsq(a[keep], b[keep]), a random (n, {COLUMNS}) with ~1% of its rows holding a NaN, "
    "keep = ~isnan(a).any(axis=1): row chunks of unknown length (TSQR needs no row count); "
    "numpy: the same rows dropped in memory, then np.linalg.lstsq",
    params={"n": 10_000_000, "chunk": 500_000},
    quick={"n": 200_000, "chunk": 20_000},
    target=TARGET,
    target_note=TARGET_NOTE,
    group=GROUP,
)


def _lstsq_dropna_chunked(impl: str, n: int, chunk: int) -> Prepared:
    da = _chunked(impl)

    def build(n, chunk):
        a, noise, b = _regression(impl, n, chunk)
        a = da.where((noise < 0.01)[:, None] & (a > 0.5), float("nan"), a)  # ~1% of rows hold a NaN
        keep = ~da.isnan(a).any(axis=1)
        return da.linalg.lstsq(a[keep], b[keep])[0]

    return Prepared(
        run=lambda: _compute(impl, build(n, chunk))[0],
        warmup=lambda: _compute(impl, build(400, 100)),
        digest=_x_digest,
    )


def _lstsq_dropna_numpy(n: int, chunk: int) -> Prepared:
    import numpy as np

    a, noise, b = _regression_numpy(n)
    a[(noise < 0.01)[:, None] & (a > 0.5)] = np.nan

    def run():
        keep = ~np.isnan(a).any(axis=1)
        return np.linalg.lstsq(a[keep], b[keep])[0]

    return Prepared(run=run, digest=_x_digest)


lstsq_dropna.impl("chunkwise")(lambda n, chunk: _lstsq_dropna_chunked("chunkwise", n, chunk))
lstsq_dropna.impl("dask")(lambda n, chunk: _lstsq_dropna_chunked("dask", n, chunk))
lstsq_dropna.impl("numpy")(_lstsq_dropna_numpy)
