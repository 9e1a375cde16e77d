"""Synthetic datasets, generated chunk by chunk: ``make_classification``, ``make_regression``, ``make_blobs``.

Design: a dataset is a small *recipe* drawn once, when the plan is built,
from ``random_state`` (class centroids, per-cluster covariance factors, the
regression's true coefficients, feature shift, scale and order: at most a
few thousand numbers), plus rows generated inside the tasks. Rows come in
fixed *generation blocks* of :data:`GENERATION_ROWS` rows; generation block
``g`` draws from its own PCG64 streams, ``SeedSequence(seed, spawn_key=(1, g,
stream))``, and a chunk covering rows ``[start, stop)`` generates the blocks
it overlaps and keeps its rows. So:

- 200 million rows never sit in memory: a chunk's task holds one chunk;
- the values depend on the seed and the row only: the same on every
  scheduler, in any task order, and **whatever the chunking** (``chunks=1000``
  and ``chunks=7`` give the same array);
- a generation block writes its rows straight into the chunk
  (:func:`_fill_in_blocks`): no per-block result and no concatenation; the
  informative features are computed column by column from per-cluster
  lookups (the sums of the einsum they replace, bit for bit) and the useless
  ones are gathered from the normal draw in one ``np.take``, so a chunk of
  ``make_classification(n_features=20)`` costs about 1.3x the normal draw
  alone (it was 1.7x);
- ``X`` and ``y`` are separate arrays whose blocks line up; computing ``y``
  of a classification or blob dataset draws only the labels (cheap), while
  ``make_regression``'s ``y`` regenerates the rows of ``X`` it needs.

The statistical shape matches scikit-learn's (the same recipe: hypercube
centroids, random covariance per cluster, redundant and repeated features,
``flip_y``, shift, scale), not its values. One difference: scikit-learn
gives each cluster an exact number of rows and then shuffles them; here each
row draws its cluster independently with the same probabilities, so class
counts vary binomially around scikit-learn's, and rows need no shuffle.
``shuffle=True`` permutes the features, as scikit-learn's does.

>>> X, y = make_classification(n_samples=1000, n_features=5, n_informative=3, chunks=300, random_state=0)
>>> X.shape, X.chunks[0], y.dtype
((1000, 5), (300, 300, 300, 100), dtype('int64'))
>>> import numpy as np
>>> X2, y2 = make_classification(n_samples=1000, n_features=5, n_informative=3, chunks=128, random_state=0)
>>> bool(np.array_equal(X.compute(), X2.compute())), bool(np.array_equal(y.compute(), y2.compute()))
(True, True)
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from chunkwise.array.chunks import normalize_chunks
from chunkwise.array.core import Array
from chunkwise.array.creation import arange
from chunkwise.ml.validation import check_random_state_seed

__all__ = ["GENERATION_ROWS", "make_blobs", "make_classification", "make_regression"]

#: Rows per generation block: the unit of the random streams (chunk boundaries do not matter).
GENERATION_ROWS = 16384

_LABELS, _FEATURES, _NOISE, _FLIP, _FLIPPED_TO = 0, 1, 2, 3, 4


def _stream(seed: int, block: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1, block, stream))))


def _recipe_rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0,))))


def _row_chunks(name: str, chunks: Any, n_samples: int) -> tuple:
    """The row chunk lengths from ``chunks``: an int, ``"auto"``, row lengths, or a (rows, columns) block shape."""
    if isinstance(chunks, (tuple, list)) and chunks and isinstance(chunks[0], (tuple, list)):
        chunks = tuple(chunks[0])
    elif (isinstance(chunks, (tuple, list)) and len(chunks) == 2
          and all(isinstance(c, numbers.Integral) for c in chunks) and sum(chunks) != n_samples):
        chunks = int(chunks[0])  # a block shape (rows, columns), as dask-ml accepts
    try:
        return normalize_chunks((chunks,), shape=(n_samples,), dtype=np.float64)[0]
    except ValueError as exc:
        raise ValueError(f"{name}: chunks={chunks!r} does not cut {n_samples} rows: {exc}") from None


def _rows_in_blocks(rows: np.ndarray, make: Any, *args: Any) -> Any:
    """``make(g, lo, hi, *args)`` for every generation block the rows ``rows`` (an arange block) cover, concatenated."""
    if len(rows) == 0:
        return make(0, 0, 0, *args)
    start, stop = int(rows[0]), int(rows[-1]) + 1
    out = None
    for g in range(start // GENERATION_ROWS, (stop - 1) // GENERATION_ROWS + 1):
        first = g * GENERATION_ROWS
        lo, hi = max(start, first) - first, min(stop, first + GENERATION_ROWS) - first
        part = make(g, lo, hi, *args)
        if out is None:
            if hi - lo == stop - start:
                return part
            # each part is copied into place at once: one generation block's temporaries alive at a
            # time, not all of them (a 1M-row chunk of 20 floats would otherwise hold twice its size)
            out = np.empty((stop - start,) + part.shape[1:], dtype=part.dtype)
        at = first + lo - start
        out[at : at + len(part)] = part
    return out


def _fill_in_blocks(rows: np.ndarray, fill: Any, width: int) -> np.ndarray:
    """A float ``(len(rows), width)`` chunk; ``fill(g, lo, hi, out)`` writes generation block ``g``'s rows ``lo:hi``.

    Each generation block writes straight into its slice of the chunk: no
    per-block result and no copy (what :func:`_rows_in_blocks` does for
    values whose size is not known in advance).
    """
    out = np.empty((len(rows), width))
    if len(rows) == 0:
        return out
    start, stop = int(rows[0]), int(rows[-1]) + 1
    for g in range(start // GENERATION_ROWS, (stop - 1) // GENERATION_ROWS + 1):
        first = g * GENERATION_ROWS
        lo, hi = max(start, first) - first, min(stop, first + GENERATION_ROWS) - first
        at = first + lo - start
        fill(g, lo, hi, out[at : at + hi - lo])
    return out


def _normal_rows(rng: np.random.Generator, lo: int, hi: int, out: np.ndarray) -> np.ndarray:
    """Rows ``lo:hi`` of ``rng.standard_normal((hi, width))`` in ``out``; drawn in place when ``lo == 0``."""
    if lo == 0 and out.flags.c_contiguous:
        return rng.standard_normal(out=out)  # the same values, filled row by row: no temporary
    out[...] = rng.standard_normal((hi, out.shape[1]))[lo:]
    return out


def _index(name: str, n_samples: Any, chunks: Any) -> Array:
    if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
        raise ValueError(f"{name}: n_samples must be a positive integer, got {n_samples!r}")
    row_chunks = _row_chunks(name, chunks, int(n_samples))
    return arange(int(n_samples), chunks=(row_chunks,))


# --- make_classification ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClassificationRecipe:
    """Everything a chunk needs to generate its rows of a ``make_classification`` dataset."""

    seed: int
    cluster_p: np.ndarray  # probability of each cluster
    cluster_class: np.ndarray  # class of each cluster
    centroids: np.ndarray  # (n_clusters, n_informative)
    covariance: np.ndarray  # (n_clusters, n_informative, n_informative) factors A: x = z @ A + centroid
    redundant: np.ndarray  # (n_informative, n_redundant)
    repeated: np.ndarray  # column indices of the repeated features
    n_useless: int
    n_classes: int
    flip_y: float
    shift: np.ndarray
    scale: np.ndarray
    feature_order: np.ndarray

    def clusters(self, g: int, hi: int) -> np.ndarray:
        return _stream(self.seed, g, _LABELS).choice(len(self.cluster_p), size=hi, p=self.cluster_p)

    def labels(self, g: int, lo: int, hi: int) -> np.ndarray:
        y = self.cluster_class[self.clusters(g, hi)].astype(np.int64)
        if self.flip_y > 0:
            flipped = _stream(self.seed, g, _FLIP).random(hi) < self.flip_y
            replacement = _stream(self.seed, g, _FLIPPED_TO).integers(self.n_classes, size=hi)
            y[flipped] = replacement[flipped]
        return y[lo:hi]

    def features(self, g: int, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``lo:hi`` of generation block ``g``, written into ``out`` (``(hi - lo, n_features)``) if given."""
        n_informative = self.centroids.shape[1]
        n_redundant = self.redundant.shape[1]
        clusters = self.clusters(g, hi)[lo:hi]
        # one draw for the informative and the useless features: row r's values depend on r only
        z = _stream(self.seed, g, _FEATURES).standard_normal((hi, n_informative + self.n_useless))[lo:]
        position = np.argsort(self.feature_order)  # output column of each generated column
        X = np.empty((hi - lo, len(self.feature_order))) if out is None else out
        kept = n_informative + n_redundant
        if self.n_useless:
            # the useless features straight from z into their output columns, in one gather (mode="clip":
            # unbuffered; every index is valid); the other columns get a placeholder, overwritten below
            source = np.zeros(X.shape[1], dtype=np.intp)
            source[position[kept + len(self.repeated):]] = np.arange(n_informative, z.shape[1])
            np.take(z, source, axis=1, out=X, mode="clip")
        informative = self._informative(z, clusters)
        X[:, position[:n_informative]] = informative
        if n_redundant:
            X[:, position[n_informative:kept]] = informative @ self.redundant
        if len(self.repeated):
            X[:, position[kept:kept + len(self.repeated)]] = X[:, position[self.repeated]]
        if (self.shift != 0).any():
            X += self.shift[self.feature_order]
        if (self.scale != 1).any():
            X *= self.scale[self.feature_order]
        return X

    def _informative(self, z: np.ndarray, clusters: np.ndarray) -> np.ndarray:
        """``z[:, :n_informative] @ covariance[cluster] + centroid[cluster]`` per row."""
        n_informative = self.centroids.shape[1]
        informative = np.empty((len(z), n_informative))
        if n_informative <= 8:
            # column by column, each row's factor looked up per cluster: the products and sums of
            # einsum("ri,rij->rj", z, covariance[clusters]) in its order (bit for bit), without
            # gathering an (n, i, i) array of factors
            for j in range(n_informative):
                column = z[:, 0] * self.covariance[:, 0, j][clusters]
                for i in range(1, n_informative):
                    column += z[:, i] * self.covariance[:, i, j][clusters]
                column += self.centroids[:, j][clusters]
                informative[:, j] = column
        else:
            for k in range(len(self.cluster_p)):
                rows = clusters == k
                informative[rows] = z[rows, :n_informative] @ self.covariance[k] + self.centroids[k]
        return informative


def _hypercube(samples: int, dimensions: int, rng: np.random.Generator) -> np.ndarray:
    """``samples`` distinct vertices of the ``dimensions``-cube, as 0/1 rows (as scikit-learn's)."""
    if dimensions > 30:
        return np.hstack([rng.integers(2, size=(samples, dimensions - 30)), _hypercube(samples, 30, rng)])
    vertices = rng.choice(2**dimensions, size=samples, replace=False).astype(np.int64)
    bits = (vertices[:, None] >> np.arange(dimensions)[None, :]) & 1
    return bits.astype(float)


def _class_weights(name: str, weights: Any, n_classes: int) -> np.ndarray:
    if weights is None:
        return np.full(n_classes, 1.0 / n_classes)
    weights = [float(w) for w in weights]
    if len(weights) not in (n_classes, n_classes - 1):
        raise ValueError(f"{name}: weights specified but incompatible with number of classes ({n_classes})")
    if len(weights) == n_classes - 1:
        weights.append(1.0 - sum(weights))
    weights_array = np.asarray(weights)
    if (weights_array < 0).any() or weights_array.sum() <= 0:
        raise ValueError(f"{name}: weights must be non-negative and not all zero, got {weights}")
    return weights_array / weights_array.sum()


def make_classification(
    n_samples: int = 100,
    n_features: int = 20,
    *,
    n_informative: int = 2,
    n_redundant: int = 2,
    n_repeated: int = 0,
    n_classes: int = 2,
    n_clusters_per_class: int = 2,
    weights: Any = None,
    flip_y: float = 0.01,
    class_sep: float = 1.0,
    hypercube: bool = True,
    shift: Any = 0.0,
    scale: Any = 1.0,
    shuffle: bool = True,
    random_state: Any = None,
    chunks: Any = "auto",
) -> tuple:
    """A random classification problem as chunked ``(X, y)``, as ``sklearn.datasets.make_classification``.

    The parameters are scikit-learn's, plus ``chunks`` (rows per chunk: an
    int, row lengths, or ``"auto"``). ``X`` is float64 ``(n_samples,
    n_features)``, ``y`` int64 labels in ``[0, n_classes)``. See the module
    docstring for how rows are drawn (per row, not exact class counts) and why
    the values do not depend on the chunking.
    """
    name = "make_classification"
    rows = _index(name, n_samples, chunks)
    if n_informative + n_redundant + n_repeated > n_features:
        raise ValueError(f"{name}: number of informative, redundant and repeated features must sum to less than "
                         f"the number of total features ({n_features})")
    if n_informative < 1:
        raise ValueError(f"{name}: n_informative must be at least 1, got {n_informative}")
    if n_classes < 1 or n_clusters_per_class < 1:
        raise ValueError(f"{name}: n_classes and n_clusters_per_class must be at least 1")
    if n_informative < 31 and n_classes * n_clusters_per_class > 2**n_informative:
        raise ValueError(f"{name}: n_classes({n_classes}) * n_clusters_per_class({n_clusters_per_class}) must be "
                         f"smaller or equal 2**n_informative({n_informative})={2**n_informative}")
    if not 0 <= flip_y <= 1:
        raise ValueError(f"{name}: flip_y must be in [0, 1], got {flip_y}")
    class_weights = _class_weights(name, weights, n_classes)
    seed = check_random_state_seed(random_state)
    rng = _recipe_rng(seed)
    n_clusters = n_classes * n_clusters_per_class
    cluster_class = np.arange(n_clusters) % n_classes
    cluster_p = class_weights[cluster_class] / n_clusters_per_class
    centroids = _hypercube(n_clusters, n_informative, rng) * (2 * class_sep) - class_sep
    if not hypercube:
        centroids *= rng.uniform(size=(n_clusters, 1))
        centroids *= rng.uniform(size=(1, n_informative))
    covariance = 2 * rng.uniform(size=(n_clusters, n_informative, n_informative)) - 1
    redundant = 2 * rng.uniform(size=(n_informative, n_redundant)) - 1
    n_kept = n_informative + n_redundant
    repeated = ((n_kept - 1) * rng.uniform(size=n_repeated) + 0.5).astype(np.intp)
    if shift is None:
        shift = (2 * rng.uniform(size=n_features) - 1) * class_sep
    if scale is None:
        scale = 1 + 100 * rng.uniform(size=n_features)
    order = rng.permutation(n_features) if shuffle else np.arange(n_features)
    recipe = ClassificationRecipe(
        seed, cluster_p, cluster_class, centroids, covariance, redundant, repeated,
        n_features - n_kept - n_repeated, n_classes, float(flip_y),
        np.broadcast_to(np.asarray(shift, dtype=float), (n_features,)).copy(),
        np.broadcast_to(np.asarray(scale, dtype=float), (n_features,)).copy(), order,
    )
    X = rows.map_blocks(_classification_X, recipe, dtype=np.float64, new_axis=1,
                        chunks=(rows.chunks[0], (n_features,)))
    y = rows.map_blocks(_classification_y, recipe, dtype=np.int64)
    return X, y


def _classification_X(rows: np.ndarray, recipe: ClassificationRecipe) -> np.ndarray:
    return _fill_in_blocks(rows, recipe.features, len(recipe.feature_order))


def _classification_y(rows: np.ndarray, recipe: ClassificationRecipe) -> np.ndarray:
    return _rows_in_blocks(rows, recipe.labels)


# --- make_regression ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RegressionRecipe:
    """What a chunk needs to generate its rows of a ``make_regression`` dataset."""

    seed: int
    n_features: int
    coef: np.ndarray  # (n_features, n_targets), already in the output feature order
    bias: float
    noise: float

    def features(self, g: int, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty((hi - lo, self.n_features)) if out is None else out
        return _normal_rows(_stream(self.seed, g, _FEATURES), lo, hi, out)

    def targets(self, g: int, lo: int, hi: int) -> np.ndarray:
        y = self.features(g, lo, hi) @ self.coef + self.bias
        if self.noise > 0:
            y += self.noise * _stream(self.seed, g, _NOISE).standard_normal((hi, self.coef.shape[1]))[lo:hi]
        return y


def make_regression(
    n_samples: int = 100,
    n_features: int = 100,
    *,
    n_informative: int = 10,
    n_targets: int = 1,
    bias: float = 0.0,
    effective_rank: Any = None,
    tail_strength: float = 0.5,
    noise: float = 0.0,
    shuffle: bool = True,
    coef: bool = False,
    random_state: Any = None,
    chunks: Any = "auto",
) -> tuple:
    """A random linear regression problem as chunked ``(X, y)`` (and ``coef``), as ``sklearn.datasets.make_regression``.

    ``X`` is standard normal, ``y = X @ coef + bias + noise * N(0, 1)`` with
    ``n_informative`` non-zero coefficients drawn from ``100 * U(0, 1)``;
    ``y`` is 1-D when ``n_targets == 1``. ``coef=True`` also returns the true
    coefficients (NumPy). ``effective_rank`` (a low-rank ``X``) needs a global
    singular-value profile across all rows and is not supported: pass ``None``.
    """
    name = "make_regression"
    rows = _index(name, n_samples, chunks)
    if effective_rank is not None:
        raise NotImplementedError(f"{name}: effective_rank={effective_rank!r} is not supported on chunked data "
                                  "(it needs a low-rank X built from all rows at once); pass effective_rank=None")
    if n_features < 1 or n_targets < 1:
        raise ValueError(f"{name}: n_features and n_targets must be at least 1")
    seed = check_random_state_seed(random_state)
    rng = _recipe_rng(seed)
    n_informative = min(n_features, n_informative)
    ground_truth = np.zeros((n_features, n_targets))
    ground_truth[:n_informative, :] = 100 * rng.uniform(size=(n_informative, n_targets))
    if shuffle:
        ground_truth = ground_truth[rng.permutation(n_features)]
    recipe = RegressionRecipe(seed, int(n_features), ground_truth, float(bias), float(noise))
    X = rows.map_blocks(_regression_X, recipe, dtype=np.float64, new_axis=1,
                        chunks=(rows.chunks[0], (n_features,)))
    if n_targets == 1:
        y = rows.map_blocks(_regression_y, recipe, dtype=np.float64)
    else:
        y = rows.map_blocks(_regression_Y, recipe, dtype=np.float64, new_axis=1,
                            chunks=(rows.chunks[0], (n_targets,)))
    coef_out = ground_truth[:, 0] if n_targets == 1 else ground_truth
    return (X, y, coef_out) if coef else (X, y)


def _regression_X(rows: np.ndarray, recipe: RegressionRecipe) -> np.ndarray:
    return _fill_in_blocks(rows, recipe.features, recipe.n_features)


def _regression_Y(rows: np.ndarray, recipe: RegressionRecipe) -> np.ndarray:
    return _rows_in_blocks(rows, recipe.targets)


def _regression_y(rows: np.ndarray, recipe: RegressionRecipe) -> np.ndarray:
    return _regression_Y(rows, recipe)[:, 0]


# --- make_blobs ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BlobsRecipe:
    """What a chunk needs to generate its rows of a ``make_blobs`` dataset."""

    seed: int
    centers: np.ndarray  # (n_centers, n_features)
    cluster_std: np.ndarray  # (n_centers,)
    center_p: np.ndarray  # probability of each centre

    def labels(self, g: int, lo: int, hi: int) -> np.ndarray:
        return _stream(self.seed, g, _LABELS).choice(len(self.center_p), size=hi, p=self.center_p)[lo:hi].astype(np.int64)

    def features(self, g: int, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        labels = self.labels(g, lo, hi)
        out = np.empty((hi - lo, self.centers.shape[1])) if out is None else out
        z = _normal_rows(_stream(self.seed, g, _FEATURES), lo, hi, out)
        z *= self.cluster_std[labels, None]
        z += self.centers[labels]  # centre + z * std, as the sum commutes exactly
        return z


def make_blobs(
    n_samples: Any = 100,
    n_features: int = 2,
    *,
    centers: Any = None,
    cluster_std: Any = 1.0,
    center_box: tuple = (-10.0, 10.0),
    shuffle: bool = True,
    random_state: Any = None,
    return_centers: bool = False,
    chunks: Any = "auto",
) -> tuple:
    """Isotropic Gaussian blobs as chunked ``(X, y)``, as ``sklearn.datasets.make_blobs``.

    ``centers``: a number of centres (drawn uniformly in ``center_box``;
    3 when ``None``) or their coordinates. ``n_samples`` may be a sequence of
    per-centre counts: then rows draw their centre with those proportions and
    ``n_samples`` is their sum. Rows draw their centre independently (so the
    counts per centre vary around ``n_samples / n_centers``); ``shuffle`` is
    accepted for compatibility (rows are in random order already).
    """
    name = "make_blobs"
    seed = check_random_state_seed(random_state)
    rng = _recipe_rng(seed)
    if isinstance(n_samples, numbers.Integral):
        if centers is None:
            centers = 3
        if isinstance(centers, numbers.Integral):
            centers = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
        centers = np.atleast_2d(np.asarray(centers, dtype=float))
        center_p = np.full(len(centers), 1.0 / len(centers))
        total = int(n_samples)
    else:
        counts = np.asarray(n_samples, dtype=float)
        if centers is None:
            centers = rng.uniform(center_box[0], center_box[1], size=(len(counts), n_features))
        centers = np.atleast_2d(np.asarray(centers, dtype=float))
        if len(centers) != len(counts):
            raise ValueError(f"{name}: length of `n_samples` not consistent with number of centers. "
                             f"Got n_samples = {list(n_samples)} and centers = {len(centers)}")
        center_p = counts / counts.sum()
        total = int(counts.sum())
    stds = np.broadcast_to(np.asarray(cluster_std, dtype=float), (len(centers),)).copy()
    if len(np.atleast_1d(cluster_std)) not in (1, len(centers)):
        raise ValueError(f"{name}: length of `clusters_std` not consistent with number of centers. "
                         f"Got centers = {len(centers)} and cluster_std = {cluster_std}")
    rows = _index(name, total, chunks)
    recipe = BlobsRecipe(seed, centers, stds, center_p)
    n_out = centers.shape[1]
    X = rows.map_blocks(_blobs_X, recipe, dtype=np.float64, new_axis=1, chunks=(rows.chunks[0], (n_out,)))
    y = rows.map_blocks(_blobs_y, recipe, dtype=np.int64)
    return (X, y, centers) if return_centers else (X, y)


def _blobs_X(rows: np.ndarray, recipe: BlobsRecipe) -> np.ndarray:
    return _fill_in_blocks(rows, recipe.features, recipe.centers.shape[1])


def _blobs_y(rows: np.ndarray, recipe: BlobsRecipe) -> np.ndarray:
    return _rows_in_blocks(rows, recipe.labels)
