"""The issue's seed example, unchanged; fits on a LocalCluster; a fit on data 10x a memory limit."""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import psutil
import pytest
from sklearn.exceptions import ConvergenceWarning

import chunkwise


def test_seed_example_unchanged(capsys):
    # the example as users copy it, unchanged (hence the noqa: import order, one-line statements)
    import chunkwise.array as da  # noqa: F401, I001
    from chunkwise.ml.datasets import make_classification
    from chunkwise.ml.model_selection import train_test_split
    from chunkwise.ml.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score          # or chunkwise.ml.metrics
    X, y = make_classification(n_samples=1_000_000, n_features=20, chunks=100_000, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = LogisticRegression(); clf.fit(X_train, y_train)  # noqa: E702
    print(accuracy_score(y_test.compute(), clf.predict(X_test).compute()))

    accuracy = float(capsys.readouterr().out)
    # scikit-learn on the same rows
    import sklearn.linear_model

    Xn, yn = chunkwise.compute(X_train, y_train)
    reference = sklearn.linear_model.LogisticRegression().fit(Xn, yn)
    expected = accuracy_score(y_test.compute(), reference.predict(X_test.compute()))
    assert abs(accuracy - expected) <= 0.005
    np.testing.assert_allclose(clf.coef_, reference.coef_, rtol=1e-2, atol=1e-3)


def _fit_both(X, y):
    from chunkwise.ml.cluster import KMeans
    from chunkwise.ml.linear_model import LogisticRegression

    clf = LogisticRegression(tol=1e-8).fit(X, y)
    km = KMeans(4, random_state=3).fit(X)
    return clf.coef_, km.cluster_centers_, km.labels_.compute()


def test_local_cluster_fits_logistic_regression_and_kmeans_identically():
    distributed = pytest.importorskip("distributed")
    from chunkwise.ml.datasets import make_classification

    X, y = make_classification(n_samples=6_000, n_features=5, chunks=1_000, random_state=1)
    results = {}
    for scheduler in ["sync", "threads"]:
        with chunkwise.config.set(scheduler=scheduler):
            results[scheduler] = _fit_both(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        results["distributed"] = _fit_both(X, y)
        assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.task_groups)) > 0
    for name in ["threads", "distributed"]:
        for ours, reference in zip(results[name], results["sync"]):
            np.testing.assert_array_equal(ours, reference)


@contextlib.contextmanager
def peak_rss():
    """Sample this process's RSS every 5 ms; yields a dict whose ``"growth"`` is the peak over the start."""
    process = psutil.Process()
    start = process.memory_info().rss
    result = {"peak": start}
    done = threading.Event()

    def sample():
        while not done.is_set():
            result["peak"] = max(result["peak"], process.memory_info().rss)
            time.sleep(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        done.set()
        thread.join()
        result["growth"] = result["peak"] - start


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 320 MiB generated and read ~10 times: minutes on a loaded 2-core machine
def test_fits_on_data_ten_times_the_memory_limit():
    from sklearn.pipeline import make_pipeline

    from chunkwise.ml.cluster import KMeans
    from chunkwise.ml.datasets import make_classification
    from chunkwise.ml.linear_model import LogisticRegression
    from chunkwise.ml.passes import passes_counter, set_cache_limit
    from chunkwise.ml.preprocessing import StandardScaler

    limit = 32 * 2**20
    n_rows = 10 * limit // (20 * 8)  # 10x the limit in float64
    X, y = make_classification(n_samples=n_rows, n_features=20, chunks=10_000, random_state=0)
    assert X.nbytes >= 10 * limit
    with set_cache_limit(limit), chunkwise.config.set(num_workers=2), passes_counter() as passes:
        with peak_rss() as logistic, pytest.warns(ConvergenceWarning):
            pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2)).fit(X, y)
        with peak_rss() as kmeans:
            km = KMeans(8, max_iter=2, init_max_iter=1, random_state=0).fit(X)
    assert pipeline[-1].coef_.shape == (1, 20)
    assert km.cluster_centers_.shape == (8, 20) and np.isfinite(km.inertia_)
    assert passes() >= 6
    assert logistic["growth"] < limit, logistic
    assert kmeans["growth"] < limit, kmeans
