"""chunkwise.ml.datasets: generated per chunk, seeded, independent of chunking, shaped like scikit-learn's."""

import numpy as np
import pytest
from sklearn import datasets as skd
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chunkwise.ml.datasets import GENERATION_ROWS, make_blobs, make_classification, make_regression


def _values(*arrays, scheduler="sync"):
    return [a.compute(scheduler=scheduler) for a in arrays]


@pytest.mark.parametrize("chunks", [1000, 333, (600, 400), 5000])
def test_classification_independent_of_chunking_and_scheduler(chunks, scheduler):
    X, y = make_classification(n_samples=1000, n_features=6, n_informative=3, chunks=chunks, random_state=4)
    ref_X, ref_y = _values(*make_classification(n_samples=1000, n_features=6, n_informative=3,
                                                chunks=250, random_state=4))
    X_v, y_v = _values(X, y, scheduler=scheduler)
    np.testing.assert_array_equal(X_v, ref_X)
    np.testing.assert_array_equal(y_v, ref_y)
    assert X.shape == (1000, 6) and X.dtype == np.float64 and y.dtype == np.int64


def test_classification_rows_span_generation_blocks():
    n = GENERATION_ROWS + 300
    a = _values(*make_classification(n_samples=n, n_features=4, chunks=n, random_state=1))
    b = _values(*make_classification(n_samples=n, n_features=4, chunks=GENERATION_ROWS - 7, random_state=1))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_classification_seeds_differ():
    a = make_classification(n_samples=50, chunks=10, random_state=1)[0].compute()
    b = make_classification(n_samples=50, chunks=10, random_state=2)[0].compute()
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("params", [
    {"n_classes": 2},
    {"n_classes": 3, "n_informative": 5, "n_clusters_per_class": 1},
    {"n_classes": 4, "n_informative": 6, "n_redundant": 3, "n_repeated": 2, "flip_y": 0.05, "class_sep": 2.0},
    {"n_classes": 2, "hypercube": False, "shift": None, "scale": None, "shuffle": False},
])
def test_classification_accuracy_like_sklearn(params):
    n = 6000
    X, y = _values(*make_classification(n_samples=n, n_features=20, chunks=1000, random_state=0, **params))
    Xs, ys = skd.make_classification(n_samples=n, n_features=20, random_state=0, **params)
    assert set(np.unique(y)) == set(range(params["n_classes"]))

    order = np.random.default_rng(0).permutation(n)  # scikit-learn's rows are sorted when shuffle=False
    train, test = order[:4000], order[4000:]

    def accuracy(A, b):
        model = make_pipeline(StandardScaler(), SkLogisticRegression(max_iter=2000)).fit(A[train], b[train])
        return model.score(A[test], b[test])

    # the same recipe drawn from other random numbers: accuracy in the same range as scikit-learn's
    assert abs(accuracy(X, y) - accuracy(Xs, ys)) < 0.12


def test_classification_weights_and_structure():
    X, y = _values(*make_classification(n_samples=20000, n_features=5, n_informative=2, n_redundant=2,
                                        n_repeated=1, weights=[0.8], flip_y=0, shuffle=False,
                                        chunks=3000, random_state=0))
    assert abs((y == 0).mean() - 0.8) < 0.02
    # redundant features are linear combinations of the informative ones, repeated ones are copies
    assert np.linalg.matrix_rank(X[:, :4]) == 2
    assert any(np.array_equal(X[:, 4], X[:, j]) for j in range(4))


def test_classification_errors():
    with pytest.raises(ValueError, match="sum to less than"):
        make_classification(n_features=3, n_informative=2, n_redundant=2)
    with pytest.raises(ValueError, match="2\\*\\*n_informative"):
        make_classification(n_classes=5, n_informative=2)
    with pytest.raises(ValueError, match="weights"):
        make_classification(weights=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="n_samples"):
        make_classification(n_samples=0)


def test_regression_matches_its_coefficients(scheduler):
    X, y, coef = make_regression(n_samples=3000, n_features=8, n_informative=3, noise=0.5, bias=2.0,
                                 coef=True, chunks=700, random_state=5)
    X_v, y_v = _values(X, y, scheduler=scheduler)
    assert coef.shape == (8,) and (coef != 0).sum() == 3
    model = SkLinearRegression().fit(X_v, y_v)
    np.testing.assert_allclose(model.coef_, coef, atol=0.05)
    assert abs(model.intercept_ - 2.0) < 0.05
    X2, y2 = _values(*make_regression(n_samples=3000, n_features=8, n_informative=3, noise=0.5, bias=2.0,
                                      chunks=3000, random_state=5))
    np.testing.assert_array_equal(X2, X_v)
    np.testing.assert_array_equal(y2, y_v)


def test_regression_multi_target_and_errors():
    X, Y = make_regression(n_samples=100, n_features=4, n_targets=3, chunks=30, random_state=0)
    assert Y.shape == (100, 3) and Y.compute().shape == (100, 3)
    with pytest.raises(NotImplementedError, match="effective_rank"):
        make_regression(effective_rank=3)


def test_blobs(scheduler):
    X, y, centers = make_blobs(n_samples=3000, n_features=3, centers=4, cluster_std=0.5, chunks=1000,
                               random_state=0, return_centers=True)
    X_v, y_v = _values(X, y, scheduler=scheduler)
    assert centers.shape == (4, 3) and X_v.shape == (3000, 3)
    for k in range(4):
        np.testing.assert_allclose(X_v[y_v == k].mean(axis=0), centers[k], atol=0.1)
        np.testing.assert_allclose(X_v[y_v == k].std(axis=0), 0.5, atol=0.05)
    X2, y2 = make_blobs(n_samples=[100, 300], centers=[[0, 0], [5, 5]], chunks=64, random_state=0)
    assert X2.shape == (400, 2)
    assert 0.65 < (y2.compute() == 1).mean() < 0.85
    with pytest.raises(ValueError, match="n_samples"):
        make_blobs(n_samples=[1, 2], centers=3)


# --- the values are those of the previous release's generators (before rows were written in place) ---


def _stream(seed, g, stream=1):
    """Generation block ``g``'s stream (1: the features), as the module docstring defines it."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1, g, stream))))


def _previous_classification_features(recipe, g, lo, hi):
    """``ClassificationRecipe.features`` as released before: an einsum over gathered factors, column writes."""
    n_informative, n_redundant = recipe.centroids.shape[1], recipe.redundant.shape[1]
    clusters = recipe.clusters(g, hi)[lo:hi]
    z = _stream(recipe.seed, g).standard_normal((hi, n_informative + recipe.n_useless))[lo:]
    if n_informative <= 8:
        informative = np.einsum("ri,rij->rj", z[:, :n_informative], recipe.covariance[clusters])
        informative += recipe.centroids[clusters]
    else:
        informative = np.empty((hi - lo, n_informative))
        for k in range(len(recipe.cluster_p)):
            rows = clusters == k
            informative[rows] = z[rows, :n_informative] @ recipe.covariance[k] + recipe.centroids[k]
    position = np.argsort(recipe.feature_order)
    X = np.empty((hi - lo, len(recipe.feature_order)))
    X[:, position[:n_informative]] = informative
    kept = n_informative + n_redundant
    if n_redundant:
        X[:, position[n_informative:kept]] = informative @ recipe.redundant
    if len(recipe.repeated):
        X[:, position[kept:kept + len(recipe.repeated)]] = X[:, position[recipe.repeated]]
    if recipe.n_useless:
        X[:, position[kept + len(recipe.repeated):]] = z[:, n_informative:]
    if (recipe.shift != 0).any():
        X += recipe.shift[recipe.feature_order]
    if (recipe.scale != 1).any():
        X *= recipe.scale[recipe.feature_order]
    return X


def _previous_blobs_features(recipe, g, lo, hi):
    labels = recipe.labels(g, lo, hi)
    z = _stream(recipe.seed, g).standard_normal((hi, recipe.centers.shape[1]))[lo:hi]
    return recipe.centers[labels] + z * recipe.cluster_std[labels, None]


def _previous_regression_features(recipe, g, lo, hi):
    return _stream(recipe.seed, g).standard_normal((hi, recipe.n_features))[lo:hi]


def _previous(monkeypatch, name, features):
    """Make the dataset ``name`` generate its X with the previous release's ``features``."""
    from chunkwise.ml import datasets

    def chunk(rows, recipe):  # the generation blocks the rows cover, each generated whole, then concatenated
        start, stop = int(rows[0]), int(rows[-1]) + 1
        parts = []
        for g in range(start // GENERATION_ROWS, (stop - 1) // GENERATION_ROWS + 1):
            first = g * GENERATION_ROWS
            lo, hi = max(start, first) - first, min(stop, first + GENERATION_ROWS) - first
            parts.append(features(recipe, g, lo, hi))
        return np.concatenate(parts)

    monkeypatch.setattr(datasets, f"_{name}_X", chunk)


CLASSIFICATION_CASES = [
    {"n_features": 20},
    {"n_features": 20, "n_informative": 8, "n_redundant": 3, "n_repeated": 2, "n_classes": 5},
    {"n_features": 12, "n_informative": 12, "n_redundant": 0, "n_classes": 3},  # > 8: per-cluster products
    {"n_features": 7, "n_informative": 3, "n_redundant": 2, "n_repeated": 2},  # no useless features
    {"n_features": 9, "n_informative": 5, "shift": None, "scale": None, "hypercube": False, "shuffle": False},
]


@pytest.mark.parametrize("params", CLASSIFICATION_CASES)
@pytest.mark.parametrize("chunks", [GENERATION_ROWS * 2 + 1000, 7_777])  # block-aligned starts, and not
def test_classification_values_unchanged_by_writing_in_place(monkeypatch, params, chunks):
    n = GENERATION_ROWS * 2 + 5_000
    X = make_classification(n_samples=n, chunks=chunks, random_state=3, **params)[0].compute()
    with monkeypatch.context() as patch:
        _previous(patch, "classification", _previous_classification_features)
        before = make_classification(n_samples=n, chunks=chunks, random_state=3, **params)[0].compute()
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("chunks", [GENERATION_ROWS, 7_777])
def test_blobs_and_regression_values_unchanged_by_writing_in_place(monkeypatch, chunks):
    n = GENERATION_ROWS * 2 + 5_000
    blobs = make_blobs(n_samples=n, n_features=6, centers=4, cluster_std=[1, 2, 3, 4], chunks=chunks,
                       random_state=1)[0].compute()
    regression = make_regression(n_samples=n, n_features=8, noise=1.0, chunks=chunks, random_state=1)[0].compute()
    with monkeypatch.context() as patch:
        _previous(patch, "blobs", _previous_blobs_features)
        _previous(patch, "regression", _previous_regression_features)
        np.testing.assert_array_equal(blobs, make_blobs(n_samples=n, n_features=6, centers=4, cluster_std=[1, 2, 3, 4],
                                                        chunks=chunks, random_state=1)[0].compute())
        np.testing.assert_array_equal(regression, make_regression(n_samples=n, n_features=8, noise=1.0, chunks=chunks,
                                                                  random_state=1)[0].compute())
