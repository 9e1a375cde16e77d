"""The same seeded results on a ``distributed`` LocalCluster as on the local schedulers (datasets, splits, a scaler, metrics, Incremental)."""

import numpy as np
import pandas as pd
import pytest
from sklearn import preprocessing as sk
from sklearn.linear_model import SGDClassifier

import chunkwise.dataframe as dd
from chunkwise.ml import metrics
from chunkwise.ml.datasets import make_classification
from chunkwise.ml.model_selection import train_test_split
from chunkwise.ml.preprocessing import StandardScaler
from chunkwise.ml.wrappers import Incremental

distributed = pytest.importorskip("distributed")


def _pipeline():
    """Everything seeded: data, split, scaler, incremental fit; returns the computed pieces."""
    X, y = make_classification(n_samples=3000, n_features=6, n_classes=3, n_informative=4, chunks=700,
                               random_state=11)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=5)
    scaler = StandardScaler().fit(X_train)
    Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)
    model = Incremental(SGDClassifier(random_state=0), epochs=2, random_state=3).fit(Z_train, y_train)
    # a dataframe's rows moved across partitions (the shuffle engine: task-based on the cluster)
    frame = dd.from_pandas(pd.DataFrame(X.compute(), columns=list("abcdef")), npartitions=4)
    frame_train, frame_test = train_test_split(frame, random_state=5, blockwise=False, test_size=0.2)
    return {
        "frame_train": frame_train.compute().to_numpy(), "frame_test_rows": frame_test.compute().index.to_numpy(),
        "X": X.compute(), "y": y.compute(), "X_test": X_test.compute(), "y_test": y_test.compute(),
        "mean": scaler.mean_, "scale": scaler.scale_, "coef": model.coef_,
        "accuracy": metrics.accuracy_score(y_test, model.predict(Z_test)),
        "confusion": metrics.confusion_matrix(y_test, model.predict(Z_test)),
    }


def test_seeded_results_identical_on_sync_threads_and_cluster():
    from chunkwise import config

    with config.set(scheduler="sync"):
        sync = _pipeline()
    with config.set(scheduler="threads"):
        threads = _pipeline()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster):
        on_cluster = _pipeline()
    for key in sync:
        np.testing.assert_array_equal(sync[key], threads[key], err_msg=key)
        np.testing.assert_array_equal(sync[key], on_cluster[key], err_msg=key)
    # the scaler agrees with scikit-learn on the training rows (all rows not in the test set)
    train_rows = np.isin(sync["X"][:, 0], sync["X_test"][:, 0], invert=True)
    assert train_rows.sum() == 3000 - len(sync["X_test"])
    theirs = sk.StandardScaler().fit(sync["X"][train_rows])
    np.testing.assert_allclose(sync["mean"], theirs.mean_, rtol=1e-10)
    np.testing.assert_allclose(sync["scale"], theirs.scale_, rtol=1e-10)
