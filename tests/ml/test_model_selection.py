"""chunkwise.ml.model_selection: splits keep rows aligned whatever the chunking."""

import numpy as np
import pandas as pd
import pytest

import chunkwise.array as da
import chunkwise.dataframe as dd
from chunkwise.array.testing import with_unknown_chunks
from chunkwise.ml.model_selection import apportion, split_sizes, train_test_split
from chunkwise.ml.validation import check_X_y

N = 101
X_np = np.arange(N * 3, dtype=float).reshape(N, 3)
y_np = np.arange(N)


def _check_paired(Xv, yv):
    np.testing.assert_array_equal(Xv[:, 0], 3 * yv)


@pytest.mark.parametrize("x_chunks,y_chunks", [(20, 20), (17, 40), (N, 9), (((50, 0, 51), 3), ((1, 100),))])
@pytest.mark.parametrize("kwargs", [{}, {"test_size": 0.1}, {"train_size": 30, "test_size": 20},
                                    {"blockwise": False}])
def test_rows_stay_aligned(x_chunks, y_chunks, kwargs, scheduler):
    X = da.from_array(X_np, chunks=x_chunks)
    y = da.from_array(y_np, chunks=y_chunks)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, **kwargs)
    values = [a.compute(scheduler=scheduler) for a in (X_train, X_test, y_train, y_test)]
    _check_paired(values[0], values[2])
    _check_paired(values[1], values[3])
    n_train, n_test = split_sizes(N, kwargs.get("test_size"), kwargs.get("train_size"))
    assert len(values[2]) == n_train == X_train.shape[0] and len(values[3]) == n_test == X_test.shape[0]
    assert len(set(values[2]) | set(values[3])) == n_train + n_test  # no row twice
    assert X_train.chunks[0] == y_train.chunks[0]


def test_shuffle_false_keeps_order():
    X = da.from_array(X_np, chunks=13)
    a, b = train_test_split(X, shuffle=False, test_size=0.2)
    np.testing.assert_array_equal(a.compute(), X_np[:80])
    np.testing.assert_array_equal(b.compute(), X_np[80:])


def test_seeded_split_is_the_same_on_every_scheduler_and_shuffles():
    X = da.from_array(X_np, chunks=25)
    a = train_test_split(X, random_state=3)[0]
    assert np.array_equal(a.compute(scheduler="sync"), a.compute(scheduler="threads"))
    assert np.array_equal(a.compute(), train_test_split(X, random_state=3)[0].compute())
    assert not np.array_equal(a.compute(), train_test_split(X, random_state=4)[0].compute())
    assert not np.array_equal(np.sort(a.compute()[:, 0]), a.compute()[:, 0])


def test_mismatched_lengths_raise_before_computing():
    calls = []

    def spy(block):
        calls.append(1)
        return block

    X = da.from_array(X_np, chunks=10).map_blocks(spy, dtype=float)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[101, 100\\]"):
        train_test_split(X, da.from_array(y_np[:100], chunks=10))
    with pytest.raises(ValueError, match="inconsistent"):
        train_test_split(X, y_np[:50])
    assert calls == []


def test_unknown_chunks_error_names_the_fix():
    X = with_unknown_chunks(da.from_array(X_np, chunks=10))
    with pytest.raises(ValueError, match=r"train_test_split.*compute_chunk_sizes\(\)"):
        train_test_split(X)


def test_numpy_and_mixed_inputs():
    a, b, c, d = train_test_split(X_np, y_np, random_state=0)
    assert isinstance(a, np.ndarray)
    a, b, c, d = train_test_split(da.from_array(X_np, chunks=30), y_np, random_state=0)
    assert isinstance(c, da.Array)
    _check_paired(a.compute(), c.compute())


def test_dataframes_split_per_partition(scheduler):
    pdf = pd.DataFrame({"a": y_np, "b": 3.0 * y_np})
    df = dd.from_pandas(pdf, npartitions=4)
    tr, te, ytr, yte = train_test_split(df, df.b, random_state=1, test_size=0.3)
    trv, tev = tr.compute(scheduler=scheduler), te.compute(scheduler=scheduler)
    assert isinstance(trv, pd.DataFrame) and list(trv.columns) == ["a", "b"]
    assert len(tev) == 31 and len(trv) == 70
    assert sorted(trv.a.tolist() + tev.a.tolist()) == list(range(N))
    pd.testing.assert_series_equal(ytr.compute(scheduler=scheduler), trv.b)
    # the parts know their lengths: their values pair with each other without computing anything
    X_values, y_values = check_X_y(tr[["a"]], ytr, "fit")
    assert X_values.chunks[0] == y_values.chunks[0] and sum(X_values.chunks[0]) == 70
    np.testing.assert_array_equal(X_values.compute()[:, 0] * 3.0, y_values.compute())
    head, tail = train_test_split(df, shuffle=False, test_size=0.3)
    assert tail.to_dask_array().chunks[0] == (8, 23)  # partitions of 26, 26, 26, 23 rows: rows 70 .. 100
    pd.testing.assert_frame_equal(head.compute(), pdf.iloc[:70])
    pd.testing.assert_frame_equal(tail.compute(), pdf.iloc[70:])


def _unknown_frame(pdf, bounds):
    """``pdf`` in partitions ``[bounds[i], bounds[i+1])`` (empty ones allowed), divisions and lengths unknown."""
    from chunkwise.delayed import delayed

    parts = [delayed(pdf.iloc.__getitem__)(slice(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
    return dd.from_delayed(parts, meta=pdf.iloc[:0])


@pytest.mark.parametrize("kwargs", [{}, {"test_size": 0.3}, {"train_size": 40, "test_size": 0.2}])
@pytest.mark.parametrize("partitions", ["even", "unknown"])
def test_dataframe_rows_move_across_partitions(partitions, kwargs, scheduler):
    # blockwise=False on dataframes: the rows (and the order) the array path picks for the same seed
    pdf = pd.DataFrame({"a": y_np, "b": 3.0 * y_np}, index=pd.Index(1000 + 10 * y_np, name="id"))
    if partitions == "even":
        df = dd.from_pandas(pdf, npartitions=4)
    else:  # uneven, an empty partition, unknown divisions and lengths
        df = _unknown_frame(pdf, [0, 30, 30, 31, N])
        assert not df.known_divisions and df.expr.lengths is None
    tr, te, ytr, yte = train_test_split(df, df["b"], random_state=7, blockwise=False, **kwargs)
    Xa_tr, Xa_te = train_test_split(da.from_array(pdf.to_numpy(), chunks=26), random_state=7, blockwise=False,
                                    **kwargs)
    parts = [p.compute(scheduler=scheduler) for p in (tr, te, ytr, yte)]
    expected = sklearn_split_lengths(N, kwargs)
    assert (len(parts[0]), len(parts[1])) == expected == (len(parts[2]), len(parts[3]))
    assert isinstance(parts[0], pd.DataFrame) and isinstance(parts[2], pd.Series) and parts[2].name == "b"
    assert parts[0].index.name == "id" and list(parts[0].columns) == ["a", "b"]
    # the same rows in the same order as the array split, their index labels kept, X and y paired
    np.testing.assert_array_equal(parts[0].to_numpy(), Xa_tr.compute())
    np.testing.assert_array_equal(parts[1].to_numpy(), Xa_te.compute())
    pd.testing.assert_series_equal(parts[2], parts[0]["b"])
    pd.testing.assert_series_equal(parts[3], parts[1]["b"])
    np.testing.assert_array_equal(parts[0].index.to_numpy(), 1000 + 10 * parts[0]["a"].to_numpy())
    assert len(set(parts[0]["a"]) | set(parts[1]["a"])) == sum(expected)  # no row twice
    # rows really crossed partitions: the first output partition holds rows of several input partitions
    first = tr.partitions[0].compute(scheduler=scheduler)["a"].to_numpy()
    assert len(np.unique(first // 26)) > 1
    # the parts know their lengths and pair with each other without computing anything
    X_values, y_values = check_X_y(tr[["a"]], ytr, "fit")
    assert X_values.chunks[0] == y_values.chunks[0] and sum(X_values.chunks[0]) == expected[0]
    if partitions == "even":  # partitions of 26 rows: the array's row chunks
        assert X_values.chunks[0] == Xa_tr.chunks[0]
    # seeded: the same split on every scheduler and on a second call; another seed differs
    again = train_test_split(df, df["b"], random_state=7, blockwise=False, **kwargs)[0]
    pd.testing.assert_frame_equal(again.compute(scheduler="sync"), parts[0])
    other = train_test_split(df, random_state=8, blockwise=False, **kwargs)[0].compute()
    assert not other.index.equals(parts[0].index)


def sklearn_split_lengths(n, kwargs):
    from sklearn.model_selection import train_test_split as sk_split

    train, test = sk_split(np.arange(n), random_state=0, **kwargs)
    return len(train), len(test)


def test_dataframe_split_across_partitions_with_an_array_and_mismatched_lengths():
    pdf = pd.DataFrame({"a": y_np, "b": 3.0 * y_np})
    df = dd.from_pandas(pdf, npartitions=3)
    y = da.from_array(y_np, chunks=17)
    tr, te, ytr, yte = train_test_split(df, y, random_state=2, blockwise=False)
    assert isinstance(tr, dd.DataFrame) and isinstance(ytr, da.Array)
    np.testing.assert_array_equal(tr.compute()["a"].to_numpy(), ytr.compute())
    np.testing.assert_array_equal(te.compute()["a"].to_numpy(), yte.compute())
    calls = []

    def spy(part):
        calls.append(1)
        return part

    X = da.from_array(X_np, chunks=10).map_blocks(spy, dtype=float)
    short = dd.from_pandas(pdf.iloc[:100], npartitions=3)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[101, 100\\]"):
        train_test_split(X, short["b"], blockwise=False, random_state=0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[101, 100\\]"):
        train_test_split(df, short, blockwise=False, random_state=0)
    assert calls == []
    # lengths the plan does not know are computed first, and a mismatch named as such
    unknown = _unknown_frame(pdf.iloc[:100], [0, 50, 100])
    with pytest.raises(ValueError, match="inconsistent numbers of samples: 101 and 100"):
        train_test_split(df, unknown, blockwise=False, random_state=0)


def test_split_size_errors_match_sklearn():
    with pytest.raises(ValueError, match="test_size=1.5"):
        split_sizes(10, 1.5, None)
    with pytest.raises(ValueError, match="train_size and test_size = 12"):
        split_sizes(10, 6, 6)
    assert split_sizes(10, None, None) == (7, 3)
    assert apportion(10, [3, 3, 4]) == [3, 3, 4]
    assert sum(apportion(7, [5, 5, 5])) == 7


# --- KFold, ShuffleSplit, searches --------------------------------------------------------------

from sklearn import model_selection as skms  # noqa: E402
from sklearn.base import BaseEstimator, TransformerMixin  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from chunkwise.ml.datasets import make_classification  # noqa: E402
from chunkwise.ml.model_selection import GridSearchCV, KFold, RandomizedSearchCV, ShuffleSplit  # noqa: E402

FIT_LOG = []


class CountingScaler(TransformerMixin, BaseEstimator):
    """A scaler that records every fit (to count shared pipeline prefixes)."""

    def __init__(self, factor=1.0):
        self.factor = factor

    def fit(self, X, y=None):
        FIT_LOG.append(self.factor)
        self.mean_ = np.mean(X, axis=0)
        return self

    def transform(self, X):
        return (X - self.mean_) * self.factor


@pytest.mark.parametrize("cls,kwargs", [(KFold, {"n_splits": 4}), (KFold, {"n_splits": 3, "shuffle": True,
                                                                            "random_state": 0}),
                                        (ShuffleSplit, {"n_splits": 3, "test_size": 0.2, "random_state": 1})])
def test_splitters_match_sklearn(cls, kwargs):
    X = da.from_array(X_np, chunks=17)
    splitter = cls(**kwargs)
    theirs = getattr(skms, cls.__name__)(**kwargs)
    for (a, b), (c, d) in zip(splitter.split(X), theirs.split(X_np)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        assert X[b].shape == (len(b), 3)
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        next(KFold(2).split(with_unknown_chunks(X)))


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(n_samples=400, n_features=5, chunks=90, random_state=0)
    return X, y, X.compute(), y.compute()


def test_grid_search_matches_sklearn(classification, scheduler):
    from chunkwise import config

    X, y, Xn, yn = classification
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    grid = {"standardscaler__with_mean": [True, False], "logisticregression__C": [0.01, 1.0]}
    with config.set(scheduler=scheduler):
        ours = GridSearchCV(pipe, grid, cv=3, return_train_score=True).fit(X, y)
    theirs = skms.GridSearchCV(pipe, grid, cv=3, return_train_score=True).fit(Xn, yn)
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    for key in ("mean_test_score", "std_test_score", "split0_test_score", "mean_train_score"):
        np.testing.assert_allclose(ours.cv_results_[key], theirs.cv_results_[key], rtol=1e-10)
    np.testing.assert_array_equal(ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"])
    assert ours.best_params_ == theirs.best_params_ and ours.best_score_ == pytest.approx(theirs.best_score_)
    np.testing.assert_allclose(ours.best_estimator_[-1].coef_, theirs.best_estimator_[-1].coef_)
    pred = ours.predict(X)
    assert isinstance(pred, da.Array)
    np.testing.assert_array_equal(pred.compute(), theirs.predict(Xn))
    assert ours.score(X, y) == pytest.approx(theirs.score(Xn, yn))
    assert ours.score(Xn, yn) == pytest.approx(theirs.score(Xn, yn))


def test_grid_search_fits_a_shared_pipeline_prefix_once_per_fold(classification):
    X, y, Xn, yn = classification
    FIT_LOG.clear()
    pipe = make_pipeline(CountingScaler(), LogisticRegression())
    grid = {"countingscaler__factor": [1.0, 2.0], "logisticregression__C": [0.1, 1.0, 10.0]}
    search = GridSearchCV(pipe, grid, cv=3, refit=False).fit(X, y)
    # 2 scaler settings x 3 folds, not 6 candidates x 3 folds
    assert sorted(FIT_LOG) == [1.0] * 3 + [2.0] * 3
    theirs = skms.GridSearchCV(pipe, grid, cv=3, refit=False).fit(Xn, yn)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"])


def test_randomized_search_and_regression(classification):
    X, y, Xn, yn = classification
    target = Xn @ np.arange(5.0)
    ours = RandomizedSearchCV(Ridge(), {"alpha": [0.01, 0.1, 1.0, 10.0]}, n_iter=3, random_state=0, cv=KFold(4))
    ours.fit(X, da.from_array(target, chunks=50))
    theirs = skms.RandomizedSearchCV(Ridge(), {"alpha": [0.01, 0.1, 1.0, 10.0]}, n_iter=3, random_state=0,
                                     cv=skms.KFold(4)).fit(Xn, target)
    assert ours.cv_results_["params"] == theirs.cv_results_["params"]
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"])
    assert ours.best_params_ == theirs.best_params_


def test_search_errors(classification):
    X, y, Xn, yn = classification
    with pytest.raises(ValueError, match="X has 400 rows but y has 300"):
        GridSearchCV(LogisticRegression(), {"C": [1.0]}).fit(X, y[:300])
    search = GridSearchCV(LogisticRegression(), {"C": [-1.0, 1.0]}, cv=2)
    with pytest.warns(Warning, match="failed to fit"):
        search.fit(Xn, yn)
    assert np.isnan(search.cv_results_["mean_test_score"][0]) and search.best_params_ == {"C": 1.0}


@pytest.mark.parametrize("y_chunks", [17, N])
def test_a_dataframe_and_an_array_split_together_stay_aligned(y_chunks):
    # "any number of arrays/dataframes": a frame of 4 partitions with an array chunked otherwise
    pdf = pd.DataFrame({"a": y_np, "b": 3.0 * y_np})
    df = dd.from_pandas(pdf, npartitions=4)
    y = da.from_array(y_np, chunks=y_chunks)
    for kwargs in ({"random_state": 0}, {"random_state": 5, "test_size": 26}, {"shuffle": False}):
        tr, te, ytr, yte = train_test_split(df, y, **{"test_size": 0.25, **kwargs})
        assert isinstance(tr, dd.DataFrame) and isinstance(ytr, da.Array)
        np.testing.assert_array_equal(tr.compute()["a"].to_numpy(), ytr.compute())
        np.testing.assert_array_equal(te.compute()["a"].to_numpy(), yte.compute())
        assert len(te) == 26 and yte.shape == (26,)


def test_grid_search_on_dataframe_columns_matches_sklearn(classification):
    # Spark-style input: the search gets df[features] and df[label]
    _, _, Xn, yn = classification
    df = dd.from_pandas(pd.DataFrame(Xn, columns=list("abcde")).assign(label=yn), npartitions=3)
    grid = {"C": [0.01, 1.0]}
    ours = GridSearchCV(LogisticRegression(), grid, cv=KFold(4)).fit(df[list("abcde")], df["label"])
    theirs = skms.GridSearchCV(LogisticRegression(), grid, cv=skms.KFold(4)).fit(Xn, yn)
    np.testing.assert_allclose(ours.cv_results_["mean_test_score"], theirs.cv_results_["mean_test_score"], rtol=1e-10)
    assert ours.best_params_ == theirs.best_params_
    np.testing.assert_array_equal(np.asarray(ours.predict(df[list("abcde")]).compute()), theirs.predict(Xn))
