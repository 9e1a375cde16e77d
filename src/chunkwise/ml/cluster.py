"""``KMeans`` on chunked rows: scalable k-means|| initialisation and one pass per Lloyd step.

Passes over the data (a pass: one fused task per row block, a tree sum, a
small vector to the client; :mod:`chunkwise.ml.passes`):

- a Lloyd step is one pass: each block assigns its rows to the nearest centre
  and returns the inertia, the per-cluster counts and coordinate sums (and the
  column sums and sums of squares, which turn ``tol`` into scikit-learn's
  absolute tolerance, ``tol * mean(var(X, axis=0))``, after the first step);
  a last pass computes ``inertia_`` at the final centres, as scikit-learn's
  final E-step does;
- ``init="k-means||"`` (Bahmani et al., 2012, the default): one random row as
  the first centre (reads one block), then ``init_max_iter`` rounds (default
  2, Spark's default since SPARK-17389) of **one pass each**: every row is
  drawn independently with probability ``min(1, l * d^2 / phi)`` (``l =
  oversampling_factor * n_clusters``, ``phi`` the cost of the current
  candidates), seeded per round and block, so the result is the same on every
  scheduler. ``phi`` is a sum over all blocks, known only after the pass, so
  each block returns its cost and its few rows of smallest ``u / d^2`` (the
  only ones it can draw, checked on the client; a block that might have drawn
  more is re-read alone); this gives the rows that a cost pass followed by a
  draw pass gives, in half the passes. One more pass weights each candidate by
  the rows closest to it, and weighted k-means++ followed by weighted Lloyd
  (10 starts, the best kept: no pass, and one unlucky start no longer leaves
  the fit in a local minimum) reduce the candidates to ``n_clusters`` on the
  client;
- ``init="k-means++"``: exact k-means++ on all rows, one pass per centre (the
  per-block costs) plus one block read to draw the row; scikit-learn's greedy
  variant (several trials per centre) is not used;
- ``init="random"``: ``n_clusters`` distinct rows drawn uniformly (reads only
  their blocks); or an array of initial centres.

An empty cluster moves to a far row, as scikit-learn's does: each Lloyd
pass also brings back the ``k`` rows farthest from their nearest centre (the
``k`` farthest of each block, merged in the tree), and each empty cluster
takes one of them, farthest first, which leaves its old cluster.

Differences from scikit-learn: ``labels_`` is a lazy chunked array
for chunked input (NumPy for NumPy input). dask-ml's KMeans also uses
k-means||, but its Lloyd loop makes several passes per step.

>>> import numpy as np
>>> import chunkwise.array as da
>>> rng = np.random.default_rng(0)
>>> points = np.concatenate([rng.normal(c, 0.1, size=(100, 2)) for c in (0, 5, 10)])
>>> km = KMeans(n_clusters=3, random_state=0).fit(da.from_array(points, chunks=70))
>>> [round(float(c)) for c in np.sort(km.cluster_centers_[:, 0])]
[0, 5, 10]
>>> km.labels_.chunks
((70, 70, 70, 70, 20),)
"""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.cluster import KMeans as _SklearnKMeans
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from chunkwise.array.core import Array, from_array
from chunkwise.ml.linear_model import predict_input
from chunkwise.ml.passes import (
    block_partials,
    cached,
    count_pass,
    one_blas_thread,
    row_blocks,
    row_pass,
)
from chunkwise.ml.validation import check_array, is_chunked

__all__ = [
    "KMEANS_PARALLEL_ROUNDS",
    "KMeans",
    "closest_counts",
    "cost_partial",
    "draw_from_partials",
    "init_kmeans_parallel",
    "lloyd_partial",
    "merge_lloyd",
    "nearest",
    "oversample",
    "relocate_empty_clusters",
    "round_partial",
    "squared_distances",
]


# --- per-block partials -------------------------------------------------------------------------


def squared_distances(xb: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """``|x - c|^2`` for every row and centre (``n x k``), never negative.

    One ``n x k`` array in all: the product is scaled and shifted in place, and
    the rows' squared norms come from ``einsum`` (no ``n x p`` square).
    """
    xb = np.asarray(xb, dtype=np.float64)
    d = xb @ centers.T
    d *= -2.0
    d += np.einsum("ij,ij->i", xb, xb)[:, None]
    d += np.einsum("ij,ij->i", centers, centers)[None, :]
    return np.maximum(d, 0.0, out=d)


def lloyd_partial(xb: np.ndarray, *, centers: np.ndarray) -> np.ndarray:
    """``[inertia, counts (k), sums (k x p), column sums (p), column sums of squares (p), far rows]``.

    ``far rows``: the block's ``k`` rows farthest from their nearest centre, as
    ``k`` distances, ``k`` labels and ``k x p`` coordinates (padded with
    distance ``-1``), from which :func:`merge_lloyd` keeps the ``k`` farthest
    of all blocks: the rows an empty cluster is moved to. The distance
    matrix's buffer is reused as the one-hot assignment matrix, so a block
    costs one ``n x k`` temporary beyond the block itself.
    """
    xb = np.asarray(xb, dtype=np.float64)
    k, p = centers.shape
    d = squared_distances(xb, centers)
    labels = np.argmin(d, axis=1)
    nearest_d = np.take_along_axis(d, labels[:, None], axis=1)[:, 0]
    far_d, far_labels, far_x = np.full(k, -1.0), np.zeros(k), np.zeros((k, p))
    m = min(k, len(xb))
    if m:
        far = np.argpartition(nearest_d, len(xb) - m)[len(xb) - m :]
        far_d[:m], far_labels[:m], far_x[:m] = nearest_d[far], labels[far], xb[far]
    onehot = d
    onehot.fill(0.0)
    onehot[np.arange(len(xb)), labels] = 1.0
    return np.concatenate([[nearest_d.sum()], np.bincount(labels, minlength=k).astype(np.float64),
                           (onehot.T @ xb).ravel(), xb.sum(axis=0), np.einsum("ij,ij->j", xb, xb),
                           far_d, far_labels, far_x.ravel()])


def _lloyd_layout(size: int, k: int) -> tuple:
    """``(summed, p)``: the length of the summed head of a :func:`lloyd_partial` row, and ``p``."""
    p = (size - 1 - 3 * k) // (2 * k + 2)
    return 1 + k + k * p + 2 * p, p


def merge_lloyd(parts: list, k: int) -> np.ndarray:
    """Merge ``(1, size)`` rows of :func:`lloyd_partial`: the heads summed, the ``k`` farthest rows kept."""
    rows = np.concatenate(parts, axis=0)
    summed, p = _lloyd_layout(rows.shape[1], k)
    far_d = rows[:, summed : summed + k].ravel()
    far_labels = rows[:, summed + k : summed + 2 * k].ravel()
    far_x = rows[:, summed + 2 * k :].reshape(-1, p)
    keep = np.argsort(-far_d, kind="stable")[:k]
    return np.concatenate([rows[:, :summed].sum(axis=0), far_d[keep], far_labels[keep],
                           far_x[keep].ravel()])[None, :]


def relocate_empty_clusters(counts: np.ndarray, sums: np.ndarray, far: tuple) -> None:
    """Move each empty cluster to one of the rows farthest from their centre, as scikit-learn does.

    ``far``: ``(distances, labels, rows)`` of the farthest rows, farthest first.
    The row leaves its old cluster (its sum and count) and becomes the empty
    cluster's only member. ``counts`` and ``sums`` are updated in place.
    """
    order = np.argsort(-far[0], kind="stable")
    far_d, far_labels, far_x = far[0][order], far[1][order].astype(np.intp), far[2][order]
    empty = np.flatnonzero(counts == 0)
    for cluster, distance, old, row in zip(empty, far_d, far_labels, far_x):
        if distance <= 0:  # no row lies away from its centre: nothing to move
            break
        sums[old] -= row
        counts[old] -= 1
        sums[cluster] = row
        counts[cluster] = 1


#: Rows per slab when only the nearest centre is wanted: the ``slab x k`` distances stay small even
#: for k-means||'s dozens of candidate centres.
SLAB_ROWS = 8192


def nearest(xb: np.ndarray, centers: np.ndarray) -> tuple:
    """``(squared distance to the nearest centre, its index)`` per row, in slabs of :data:`SLAB_ROWS` rows."""
    xb = np.asarray(xb, dtype=np.float64)
    dist = np.empty(len(xb))
    index = np.empty(len(xb), dtype=np.intp)
    for lo in range(0, len(xb), SLAB_ROWS):
        d = squared_distances(xb[lo : lo + SLAB_ROWS], centers)
        index[lo : lo + SLAB_ROWS] = i = np.argmin(d, axis=1)
        dist[lo : lo + SLAB_ROWS] = np.take_along_axis(d, i[:, None], axis=1)[:, 0]
        del d  # before the next slab's distances exist: one slab alive at a time
    return dist, index


def cost_partial(xb: np.ndarray, *, centers: np.ndarray) -> np.ndarray:
    return np.atleast_1d(nearest(xb, centers)[0].sum())


def closest_counts(xb: np.ndarray, *, centers: np.ndarray) -> np.ndarray:
    return np.bincount(nearest(xb, centers)[1], minlength=len(centers)).astype(np.float64)


def oversample(xb: np.ndarray, centers: np.ndarray, phi: float, rate: float, seed: tuple) -> np.ndarray:
    """The rows of a block drawn with probability ``min(1, rate * d^2 / phi)`` (k-means|| round)."""
    xb = np.asarray(xb, dtype=np.float64)
    d = nearest(xb, centers)[0]
    u = np.random.default_rng(np.random.SeedSequence(seed)).random(len(xb))
    return xb[u < rate * d / phi]


def round_partial(xb: np.ndarray, centers: np.ndarray, rate: float, seed: tuple, keep: int) -> tuple:
    """One block's share of a k-means|| round in the same read: its cost and the rows it could draw.

    A row is drawn when ``u < rate * d^2 / phi``, that is when ``u / d^2 <
    rate / phi``; ``phi`` (the sum over all blocks) is unknown inside the
    block, so the block returns its ``keep`` rows of smallest ``t = u / d^2``
    (with their ``u`` and ``d^2``) and the next smallest ``t``: every row it
    draws is among them unless that next ``t`` is below ``rate / phi``
    (:func:`draw_from_partials` checks, and re-reads such a block). The
    uniforms are those of :func:`oversample` with the same ``seed``.

    Returns ``(phi_b, rows, u, d2, next_t)``.
    """
    xb = np.asarray(xb, dtype=np.float64)
    d = nearest(xb, centers)[0]
    u = np.random.default_rng(np.random.SeedSequence(seed)).random(len(xb))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d > 0, u / d, np.inf)
    if len(xb) > keep:
        head = np.argpartition(t, keep)[: keep + 1]
        head = head[np.argsort(t[head], kind="stable")]
        take, next_t = head[:keep], float(t[head[keep]])
    else:
        take, next_t = np.arange(len(xb)), np.inf
    return float(d.sum()), xb[take], u[take], d[take], next_t


def draw_from_partials(parts: list, phi: float, rate: float, redraw: Any) -> tuple:
    """The rows a k-means|| round draws, from the blocks' :func:`round_partial`; ``(rows, blocks re-read)``.

    A block whose kept rows might not hold all its draws (its next ``t`` within
    a relative ``1e-9`` of ``rate / phi``) is re-read by ``redraw(i)``, the
    exact draw of block ``i`` with :func:`oversample`.
    """
    threshold = rate / phi
    drawn, reread = [], 0
    for i, (_, rows, u, d, next_t) in enumerate(parts):
        if next_t <= threshold * (1 + 1e-9):
            drawn.append(redraw(i))
            reread += 1
        else:
            drawn.append(rows[u < rate * d / phi])
    p = parts[0][1].shape[1]
    return (np.concatenate(drawn) if drawn else np.empty((0, p))), reread


def _row(X: Any, index: int) -> np.ndarray:
    return np.asarray(X[int(index)].compute() if isinstance(X, Array) else X[int(index)], dtype=np.float64)


# --- initialisations ---------------------------------------------------------------------------


#: Default k-means|| rounds: Spark's default since 2.0.1 (SPARK-17389: two steps suffice, as the
#: paper's experiments suggest), and what dask-ml's examples pass as ``init_max_iter``.
KMEANS_PARALLEL_ROUNDS = 2

#: Weighted k-means++ starts when the k-means|| candidates are reduced to ``k`` on the client.
LOCAL_STARTS = 10


def init_kmeans_parallel(X: Array, k: int, rng: np.random.Generator, oversampling_factor: float = 2,
                         rounds: int | None = None) -> np.ndarray:
    """k-means|| (Bahmani et al.): candidates in ``rounds + 1`` passes, reduced to ``k`` on the client.

    Each round is one pass (:func:`round_partial`): the blocks return their
    cost and the rows they could draw, and the client, knowing ``phi`` then,
    keeps the rows drawn (:func:`draw_from_partials`); the same rows as a
    cost pass followed by a draw pass, in half the passes.
    """
    from chunkwise.delayed import delayed

    n = X.shape[0]
    centers = _row(X, rng.integers(n))[None, :]
    rate = oversampling_factor * k
    keep = int(4 * rate) + 16  # a block draws rate * phi_b / phi rows on average, at most rate
    base = int(rng.integers(2**32))
    blocks = [b for (b,) in row_blocks(X)]
    for r in range(KMEANS_PARALLEL_ROUNDS if rounds is None else rounds):
        parts = [delayed(round_partial, pure=True)(b, centers, rate, (base, r, i), keep) for i, b in enumerate(blocks)]
        with one_blas_thread():
            parts = delayed(list, pure=True)(parts).compute()
        count_pass()  # the cost and the draw in one read of every block
        phi = float(np.sum([part[0] for part in parts]))
        if phi == 0:
            break

        def redraw(i: int, r: int = r, phi: float = phi, centers: np.ndarray = centers) -> np.ndarray:
            with one_blas_thread():
                return delayed(oversample, pure=True)(blocks[i], centers, phi, rate, (base, r, i)).compute()

        new, _ = draw_from_partials(parts, phi, rate, redraw)
        centers = np.unique(np.concatenate([centers, new]), axis=0)
    weights = row_pass(closest_counts, [X], len(centers), name="kmeans-weights", centers=centers)
    if len(centers) <= k:
        extra = k - len(centers)
        return np.concatenate([centers, _random_rows(X, extra, rng)]) if extra else centers
    seed = int(rng.integers(2**31))
    # the candidates are few (about l * rounds): several weighted k-means++ starts cost nothing and keep
    # a single unlucky start from settling in a local minimum that the Lloyd passes cannot leave
    local = _SklearnKMeans(k, init="k-means++", n_init=LOCAL_STARTS, random_state=seed)
    return local.fit(centers, sample_weight=weights).cluster_centers_


def init_kmeans_plusplus(X: Array, k: int, rng: np.random.Generator) -> np.ndarray:
    """Exact k-means++: one pass of per-block costs per centre, then one block read to draw the row."""
    n = X.shape[0]
    centers = _row(X, rng.integers(n))[None, :]
    offsets = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(int)
    while len(centers) < k:
        costs = block_partials(cost_partial, [X], 1, name="kmeans++-cost", centers=centers)[:, 0]
        total = costs.sum()
        if total <= 0:
            return np.concatenate([centers, _random_rows(X, k - len(centers), rng)])
        b = int(rng.choice(len(costs), p=costs / total))
        block = np.asarray(X[offsets[b] : offsets[b + 1]].compute(), dtype=np.float64)
        d = squared_distances(block, centers).min(axis=1)
        i = int(rng.choice(len(block), p=d / d.sum()))
        centers = np.concatenate([centers, block[i : i + 1]])
    return centers


def _random_rows(X: Any, k: int, rng: np.random.Generator) -> np.ndarray:
    index = np.sort(rng.choice(X.shape[0], size=k, replace=False))
    rows = X[index]
    return np.asarray(rows.compute() if isinstance(rows, Array) else rows, dtype=np.float64)


# --- the estimator -------------------------------------------------------------------------------


class KMeans(TransformerMixin, ClusterMixin, BaseEstimator):
    """K-means clustering, as ``sklearn.cluster.KMeans``, on chunked rows; see the module docstring.

    ``init``: ``"k-means||"`` (default), ``"k-means++"``, ``"random"`` or an
    array ``(n_clusters, n_features)``. ``n_init="auto"``: 10 runs for
    ``"random"``, 1 otherwise (the run with the lowest inertia is kept).
    ``init_max_iter``: k-means|| rounds, one pass each (``None``: 2).
    """

    def __init__(self, n_clusters: int = 8, *, init: Any = "k-means||", n_init: Any = "auto",
                 max_iter: int = 300, tol: float = 1e-4, random_state: Any = None,
                 oversampling_factor: float = 2, init_max_iter: int | None = None):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.oversampling_factor = oversampling_factor
        self.init_max_iter = init_max_iter

    def _check_params(self, n: int) -> int:
        k = self.n_clusters
        if not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"KMeans: n_clusters must be a positive integer, got {k!r}")
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        if not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise ValueError(f"KMeans: max_iter must be a positive integer, got {self.max_iter!r}")
        if isinstance(self.init, str) and self.init not in ("k-means||", "k-means++", "random"):
            raise ValueError(f"KMeans: init must be 'k-means||', 'k-means++', 'random' or an array, got {self.init!r}")
        n_init = self.n_init
        if n_init == "auto":
            return 10 if isinstance(self.init, str) and self.init == "random" else 1
        if not isinstance(n_init, numbers.Integral) or n_init < 1:
            raise ValueError(f"KMeans: n_init must be 'auto' or a positive integer, got {n_init!r}")
        return 1 if not isinstance(self.init, str) else int(n_init)

    def _initial_centers(self, X: Array, rng: np.random.Generator) -> np.ndarray:
        k = self.n_clusters
        init = self.init
        if not isinstance(init, str):
            centers = np.asarray(init, dtype=np.float64)
            if centers.shape != (k, X.shape[1]):
                raise ValueError(
                    f"KMeans: init has shape {centers.shape}, expected (n_clusters, n_features) = {(k, X.shape[1])}"
                )
            return centers
        if init == "k-means||":
            return init_kmeans_parallel(X, k, rng, self.oversampling_factor, self.init_max_iter)
        if init == "k-means++":
            return init_kmeans_plusplus(X, k, rng)
        return _random_rows(X, k, rng)

    def fit(self, X: Any, y: Any = None) -> KMeans:
        """Cluster the rows of ``X``; ``init_max_iter + 1`` passes to initialise (k-means||), one per step, one last."""
        chunked = is_chunked(X)
        if chunked:
            Xc = check_array(X, "KMeans.fit", compute_chunk_sizes=True).rechunk({1: -1}).astype(np.float64)
            self.n_features_in_ = Xc.shape[1]
        else:
            X = validate_data(self, X, dtype=[np.float64, np.float32])
            Xc = from_array(np.asarray(X, dtype=np.float64))
        n_init = self._check_params(Xc.shape[0])
        (Xc,) = cached(Xc)
        seeds = check_random_state(self.random_state).randint(0, 2**31 - 1, size=n_init)
        best = None
        for seed in seeds:
            rng = np.random.default_rng(int(seed))
            centers = self._initial_centers(Xc, rng)
            run = self._lloyd(Xc, centers)
            if best is None or run[1] < best[1]:
                best = run
        self.cluster_centers_, self.inertia_, self.n_iter_ = best
        self.labels_ = self.predict(X if not chunked else Xc)
        return self

    def _lloyd(self, X: Array, centers: np.ndarray) -> tuple:
        k, p = centers.shape
        tol = None
        n_iter = 0
        for iteration in range(1, self.max_iter + 1):
            n_iter = iteration
            size = 1 + k + k * p + 2 * p + k * (p + 2)
            packed = row_pass(lloyd_partial, [X], size, combine=functools.partial(merge_lloyd, k=k),
                              name="kmeans-lloyd", centers=centers)
            summed, _ = _lloyd_layout(size, k)
            counts = packed[1 : 1 + k].copy()
            sums = packed[1 + k : 1 + k + k * p].reshape(k, p).copy()
            far = packed[summed : summed + k], packed[summed + k : summed + 2 * k], packed[summed + 2 * k :].reshape(k, p)
            relocate_empty_clusters(counts, sums, far)
            if tol is None:
                n = X.shape[0]
                col_sum, col_sq = packed[1 + k + k * p : 1 + k + k * p + p], packed[1 + k + k * p + p : summed]
                variance = np.maximum(col_sq / n - (col_sum / n) ** 2, 0.0)
                tol = self.tol * float(np.mean(variance))
            new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centers)
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= tol:
                break
        inertia = float(row_pass(cost_partial, [X], 1, name="kmeans-inertia", centers=centers)[0])
        return centers, inertia, n_iter

    def _input(self, X: Any, opname: str) -> tuple:
        return predict_input(self, X, opname)

    def _labels_block(self, xb: np.ndarray) -> np.ndarray:
        return nearest(xb, self.cluster_centers_)[1].astype(np.int32)

    def _distances_block(self, xb: np.ndarray) -> np.ndarray:
        return np.sqrt(squared_distances(xb, self.cluster_centers_))

    def predict(self, X: Any) -> Any:
        """The index of the nearest centre per row (int32); lazy for chunked ``X``."""
        X, chunked = self._input(X, "KMeans.predict")
        if not chunked:
            return self._labels_block(X)
        return X.map_blocks(self._labels_block, drop_axis=1, dtype=np.int32)

    def transform(self, X: Any) -> Any:
        """Distances to every centre, ``(n, n_clusters)``; lazy for chunked ``X``."""
        X, chunked = self._input(X, "KMeans.transform")
        if not chunked:
            return self._distances_block(X)
        return X.map_blocks(self._distances_block, chunks=(X.chunks[0], (self.n_clusters,)), dtype=np.float64)

    def fit_predict(self, X: Any, y: Any = None) -> Any:
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the inertia of ``X`` with the fitted centres (one pass)."""
        X, chunked = self._input(X, "KMeans.score")
        if not chunked:
            return -float(squared_distances(X, self.cluster_centers_).min(axis=1).sum())
        return -float(row_pass(cost_partial, [X], 1, name="kmeans-score", centers=self.cluster_centers_)[0])
