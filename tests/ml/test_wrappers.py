"""chunkwise.ml.wrappers: ParallelPostFit (lazy blockwise predict) and Incremental (partial_fit per block)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier

import chunkwise.array as da
import chunkwise.dataframe as dd
from chunkwise.array.testing import with_unknown_chunks
from chunkwise.ml.datasets import make_classification
from chunkwise.ml.wrappers import Incremental, ParallelPostFit

X_np, y_np = (a.compute() for a in make_classification(n_samples=600, n_features=6, n_classes=3, n_informative=4,
                                                      chunks=600, random_state=0))
LABELS = np.array(["ant", "bee", "cat"], dtype=object)


@pytest.mark.parametrize("chunks", [100, ((300, 1, 299), (6,)), ((300, 0, 300), (6,)), 600])
def test_parallel_post_fit_matches_sklearn(chunks, scheduler):
    X = da.from_array(X_np, chunks=chunks if isinstance(chunks, tuple) else (chunks, 3))
    y = da.from_array(LABELS[y_np], chunks=77)
    model = ParallelPostFit(LogisticRegression(max_iter=500)).fit(X, y)
    reference = LogisticRegression(max_iter=500).fit(X_np, LABELS[y_np])
    np.testing.assert_allclose(model.coef_, reference.coef_)
    assert list(model.classes_) == ["ant", "bee", "cat"]
    pred = model.predict(X)
    assert pred.dtype == reference.predict(X_np[:1]).dtype and pred.chunks[0] == X.chunks[0]
    np.testing.assert_array_equal(pred.compute(scheduler=scheduler), reference.predict(X_np))
    proba = model.predict_proba(X)
    assert proba.shape == (600, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.compute(scheduler=scheduler), reference.predict_proba(X_np))
    np.testing.assert_allclose(model.decision_function(X).compute(), reference.decision_function(X_np))
    assert model.score(X, y) == pytest.approx(reference.score(X_np, LABELS[y_np]))
    assert isinstance(model.score(X, y), float)


def test_parallel_post_fit_regression_transform_and_scoring():
    X = da.from_array(X_np, chunks=150)
    target = X_np @ np.arange(6.0)
    model = ParallelPostFit(LinearRegression(), scoring="neg_mean_squared_error").fit(X_np, target)
    assert model.score(X, da.from_array(target, chunks=100)) == pytest.approx(0, abs=1e-18)
    pca = ParallelPostFit(PCA(n_components=2)).fit(X_np)
    out = pca.transform(X)
    assert out.chunks == ((150,) * 4, (2,))
    np.testing.assert_allclose(out.compute(), PCA(n_components=2).fit(X_np).transform(X_np))
    assert isinstance(model.predict(X_np), np.ndarray)
    with pytest.raises(ValueError, match="not available on chunked input"):
        ParallelPostFit(LinearRegression(), scoring="max_error").fit(X_np, target).score(X, target)


def test_parallel_post_fit_dataframe_and_unknown_chunks():
    pdf = pd.DataFrame(X_np, columns=list("abcdef"))
    model = ParallelPostFit(LogisticRegression(max_iter=500)).fit(pdf, y_np)
    df = dd.from_pandas(pdf, npartitions=4)
    np.testing.assert_array_equal(model.predict(df).compute(), model.estimator_.predict(pdf))
    X_unknown = with_unknown_chunks(da.from_array(X_np, chunks=(100, 6)))
    np.testing.assert_array_equal(model.predict(X_unknown).compute(), model.estimator_.predict(pdf))


def test_parallel_post_fit_meta_given():
    model = ParallelPostFit(LogisticRegression(), predict_meta=np.array([1.0])).fit(X_np, y_np)
    assert model.predict(da.from_array(X_np, chunks=100)).dtype == np.float64


def test_incremental_matches_partial_fit_in_order():
    X = da.from_array(X_np, chunks=(100, 6))
    y = da.from_array(y_np, chunks=50)
    classes = np.unique(y_np)
    model = Incremental(SGDClassifier(random_state=0, tol=None), shuffle_blocks=False, epochs=2).fit(
        X, y, classes=classes)
    reference = SGDClassifier(random_state=0, tol=None)
    for _ in range(2):
        for i in range(0, 600, 100):
            reference.partial_fit(X_np[i:i + 100], y_np[i:i + 100], classes=classes)
    np.testing.assert_allclose(model.coef_, reference.coef_)
    np.testing.assert_array_equal(model.predict(X).compute(), reference.predict(X_np))


def test_incremental_seeded_order_and_classes_found(scheduler):
    from chunkwise import config

    X = da.from_array(X_np, chunks=(60, 6))
    y = da.from_array(y_np, chunks=60)
    with config.set(scheduler=scheduler):
        a = Incremental(SGDClassifier(random_state=0), epochs=3, random_state=7).fit(X, y)
    b = Incremental(SGDClassifier(random_state=0), epochs=3, random_state=7).fit(X, y)
    c = Incremental(SGDClassifier(random_state=0), epochs=3, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert not np.array_equal(a.coef_, c.coef_)
    assert list(a.classes_) == [0, 1, 2]
    assert a.score(X, y) > 0.6


def test_incremental_unsupervised_and_errors():
    X = da.from_array(X_np, chunks=(100, 6))
    model = Incremental(MiniBatchKMeans(n_clusters=3, random_state=0, n_init=1), random_state=0).fit(X)
    assert model.cluster_centers_.shape == (3, 6)
    assert model.predict(X).compute().shape == (600,)
    with pytest.raises(TypeError, match="partial_fit"):
        Incremental(LogisticRegression()).fit(X, y_np)
    with pytest.raises(ValueError, match="X has 600 rows but y has 599"):
        Incremental(SGDClassifier()).fit(X, y_np[:599])
