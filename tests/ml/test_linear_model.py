"""chunkwise.ml.linear_model against scikit-learn on the same in-memory data."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

import chunkwise
import chunkwise.array as da
from chunkwise.diagnostics import ProgressBar
from chunkwise.ml import linear_model as lm
from chunkwise.ml.passes import passes_counter, set_cache_limit

CHUNKINGS = {"even": 250, "uneven": ((100, 400, 50, 450),), "single": 1000}


def _rows(a, chunks):
    if isinstance(chunks, tuple):
        chunks = chunks + tuple((n,) for n in a.shape[1:])
    return da.from_array(a, chunks=chunks)


@pytest.fixture(params=["sync", "threads"])
def scheduler(request):
    with chunkwise.config.set(scheduler=request.param):
        yield request.param


@pytest.fixture(scope="module")
def binary():
    return make_classification(n_samples=1000, n_features=6, n_informative=4, random_state=0)


@pytest.fixture(scope="module")
def multiclass():
    return make_classification(n_samples=1000, n_features=6, n_informative=4, n_classes=3, random_state=1)


@pytest.fixture(scope="module")
def regression():
    return make_regression(n_samples=1000, n_features=6, noise=2.0, bias=3.0, random_state=0)


def _agree(ours, ref, X, Xd):
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-4, atol=1e-6)
    assert np.shape(ours.coef_) == np.shape(ref.coef_)
    pred = ours.predict(Xd)
    assert isinstance(pred, da.Array)
    assert pred.chunks == (Xd.chunks[0],)
    values = pred.compute()
    assert values.dtype == ref.predict(X).dtype
    assert np.mean(values == ref.predict(X)) >= 0.999


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_logistic_binary_matches_sklearn(binary, chunks, solver, scheduler):
    X, y = binary
    Xd, yd = _rows(X, chunks), _rows(y, chunks)
    ours = lm.LogisticRegression(tol=1e-8, solver=solver, max_iter=1000).fit(Xd, yd)
    ref = sk.LogisticRegression(tol=1e-8, max_iter=1000).fit(X, y)
    _agree(ours, ref, X, Xd)
    assert ours.classes_.tolist() == [0, 1]
    assert isinstance(ours.n_iter_, np.ndarray) and ours.n_iter_.shape == (1,) and ours.n_iter_[0] > 0
    assert ours.n_features_in_ == 6
    proba = ours.predict_proba(Xd)
    assert proba.chunks == (Xd.chunks[0], (2,))
    np.testing.assert_allclose(proba.compute(), ref.predict_proba(X), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(Xd).compute(), ref.decision_function(X), rtol=1e-4, atol=1e-5)
    score = ours.score(Xd, yd)
    assert isinstance(score, float) and score == pytest.approx(ref.score(X, y), abs=1e-3)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("labels", ["int", "str"])
def test_logistic_multinomial_matches_sklearn(multiclass, labels, solver):
    X, y = multiclass
    if labels == "str":
        y = np.array(["ant", "bee", "cat"])[y]
    Xd, yd = _rows(X, 300), _rows(y, 300)
    ours = lm.LogisticRegression(tol=1e-8, max_iter=1000, solver=solver).fit(Xd, yd)
    ref = sk.LogisticRegression(tol=1e-8, max_iter=1000).fit(X, y)
    assert ours.coef_.shape == (3, 6) and ours.intercept_.shape == (3,)
    _agree(ours, ref, X, Xd)
    assert ours.classes_.tolist() == ref.classes_.tolist()
    assert ours.predict_proba(Xd).compute().shape == (1000, 3)
    assert ours.predict(Xd).dtype == ref.predict(X).dtype


@pytest.mark.parametrize("labels", ["0..2", "3,5,7"])
@pytest.mark.parametrize("kwargs", [{"class_weight": "balanced"}, {"class_weight": {1: 3.0}, "fit_intercept": False}],
                         ids=["balanced", "weighted-no-intercept"])
def test_logistic_multinomial_class_weight_and_labels(multiclass, labels, kwargs):
    X, y = multiclass
    if labels == "3,5,7":  # not their own positions: the labels are looked up in classes_
        y = np.array([3, 5, 7])[y]
        if isinstance(kwargs["class_weight"], dict):
            kwargs = {**kwargs, "class_weight": {5: 3.0}}
    Xd, yd = _rows(X, ((100, 500, 400),)), _rows(y, ((100, 500, 400),))
    ours = lm.LogisticRegression(tol=1e-8, max_iter=1000, **kwargs).fit(Xd, yd)
    ref = sk.LogisticRegression(tol=1e-8, max_iter=1000, **kwargs).fit(X, y)
    _agree(ours, ref, X, Xd)


def test_logistic_penalties_and_class_weight(binary):
    X, y = binary
    Xd, yd = _rows(X, 300), _rows(y, 300)
    for kwargs in [{"C": 0.01}, {"C": np.inf}, {"class_weight": "balanced"}, {"class_weight": {0: 3.0}},
                   {"fit_intercept": False}]:
        ours = lm.LogisticRegression(tol=1e-8, max_iter=1000, **kwargs).fit(Xd, yd)
        ref = sk.LogisticRegression(tol=1e-8, max_iter=1000, **kwargs).fit(X, y)
        _agree(ours, ref, X, Xd)


def test_logistic_l1_by_admm_matches_saga(binary):
    X, y = binary
    ours = lm.LogisticRegression(C=0.05, l1_ratio=1.0, solver="admm", tol=1e-8, max_iter=500).fit(_rows(X, 300), _rows(y, 300))
    ref = sk.LogisticRegression(C=0.05, l1_ratio=1.0, solver="saga", tol=1e-10, max_iter=20000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-5)
    assert np.sum(ours.coef_ == 0) == np.sum(np.abs(ref.coef_) < 1e-8) > 0
    with pytest.raises(ValueError, match="admm"):
        lm.LogisticRegression(l1_ratio=1.0).fit(X, y)


def test_one_pass_per_lbfgs_evaluation(binary):
    X, y = binary
    with passes_counter() as passes:
        clf = lm.LogisticRegression(tol=1e-8).fit(_rows(X, 250), _rows(y, 250))
    # one pass for the labels, one per function evaluation (at least one per iteration)
    assert clf.n_iter_[0] + 1 <= passes() <= 3 * clf.n_iter_[0] + 2
    with passes_counter() as passes:
        lm.LinearRegression().fit(_rows(X, 250), _rows(y.astype(float), 250))
    assert passes() == 1


def test_convergence_warning_at_max_iter(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        clf = lm.LogisticRegression(max_iter=2).fit(_rows(X, 250), _rows(y, 250))
    assert clf.n_iter_[0] == 2


def test_warm_start_starts_from_the_previous_coefficients(binary):
    X, y = binary
    clf = lm.LogisticRegression(tol=1e-8, warm_start=True).fit(_rows(X, 250), _rows(y, 250))
    clf.fit(_rows(X, 250), _rows(y, 250))
    assert clf.n_iter_[0] <= 2


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize(
    "name,kwargs",
    [("LinearRegression", {}), ("Ridge", {"alpha": 10.0}), ("Lasso", {"alpha": 1.0, "tol": 1e-10, "max_iter": 100_000}),
     ("ElasticNet", {"alpha": 0.5, "l1_ratio": 0.3, "tol": 1e-10, "max_iter": 100_000})],
)
def test_least_squares_match_sklearn(regression, chunks, name, kwargs, scheduler):
    X, y = regression
    X = X + 1e4  # large means: the moments are merged centred, so no precision is lost
    Xd, yd = _rows(X, chunks), _rows(y, chunks)
    ours = getattr(lm, name)(**kwargs).fit(Xd, yd)
    ref = getattr(sk, name)(**kwargs).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-4)
    pred = ours.predict(Xd)
    assert pred.chunks == (Xd.chunks[0],) and pred.dtype == np.float64
    np.testing.assert_allclose(pred.compute(), ref.predict(X), rtol=1e-6)
    assert ours.score(Xd, yd) == pytest.approx(ref.score(X, y), rel=1e-8)


def test_lasso_zeroes_coefficients_as_sklearn():
    X, y = make_regression(n_samples=600, n_features=10, n_informative=3, noise=1.0, random_state=3)
    ours = lm.Lasso(alpha=5.0, tol=1e-10, max_iter=100_000).fit(_rows(X, 200), _rows(y, 200))
    ref = sk.Lasso(alpha=5.0, tol=1e-10, max_iter=100_000).fit(X, y)
    assert (ours.coef_ == 0).tolist() == (ref.coef_ == 0).tolist()
    assert (ref.coef_ == 0).sum() > 0


def test_linear_regression_multi_output(regression):
    X, _ = regression
    Y = np.column_stack([X @ np.arange(6.0), X[:, 0] - 2])
    ours = lm.LinearRegression().fit(_rows(X, 300), _rows(Y, 300))
    ref = sk.LinearRegression().fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    assert ours.predict(_rows(X, 300)).chunks == ((300, 300, 300, 100), (2,))


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_poisson_matches_sklearn(regression, solver):
    X, _ = regression
    y = np.random.default_rng(0).poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5))
    Xd, yd = _rows(X, 300), _rows(y, 300)
    ours = lm.PoissonRegressor(alpha=0.1, tol=1e-8, solver=solver).fit(Xd, yd)
    ref = sk.PoissonRegressor(alpha=0.1, tol=1e-8).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-7)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-4)
    np.testing.assert_allclose(ours.predict(Xd).compute(), ref.predict(X), rtol=1e-4)
    assert ours.score(Xd, yd) == pytest.approx(ref.score(X, y), rel=1e-6)


def test_numpy_in_numpy_out(binary):
    X, y = binary
    clf = lm.LogisticRegression().fit(X, y)
    assert isinstance(clf.predict(X), np.ndarray)
    assert isinstance(clf.predict_proba(X), np.ndarray)
    assert isinstance(clf.score(X, y), float)


def test_mismatched_lengths_raise_before_computing(binary):
    X, y = binary

    def boom(block):
        raise AssertionError("the data were computed")

    Xd = _rows(X, 250).map_blocks(boom, dtype=float)
    with pytest.raises(ValueError, match="rows"):
        lm.LogisticRegression().fit(Xd, _rows(y[:900], 300))


def test_x_and_y_with_different_row_chunks_stay_aligned(binary):
    X, y = binary
    ours = lm.LogisticRegression(tol=1e-8).fit(_rows(X, 170), _rows(y, 333))
    ref = sk.LogisticRegression(tol=1e-8).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4)


def test_unknown_row_chunks_are_computed(binary):
    X, y = binary
    Xd, yd = _rows(X, 250), _rows(y, 250)
    keep = Xd[:, 0] > 0
    ours = lm.LogisticRegression(tol=1e-8).fit(Xd[keep], yd[keep])
    mask = X[:, 0] > 0
    ref = sk.LogisticRegression(tol=1e-8).fit(X[mask], y[mask])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4)
    # predictions on unknown chunks stay lazy, with unknown chunks
    pred = ours.predict(Xd[keep])
    assert np.isnan(pred.chunks[0][0])
    assert np.mean(pred.compute() == ref.predict(X[mask])) >= 0.999


def test_lazy_data_is_cached_or_reread_with_the_same_result(binary):
    X, y = binary
    Xd = _rows(X, 250) * 1.0  # lazy: not in memory
    yd = _rows(y, 250) + 0
    a = lm.LogisticRegression(tol=1e-8).fit(Xd, yd)
    with set_cache_limit(0):
        b = lm.LogisticRegression(tol=1e-8).fit(Xd, yd)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_dataframe_columns_spark_style():
    pd = pytest.importorskip("pandas")
    import chunkwise.dataframe as dd

    X, y = make_classification(n_samples=600, n_features=4, random_state=2)
    pdf = pd.DataFrame(X, columns=list("abcd")).assign(label=y)
    df = dd.from_pandas(pdf, npartitions=3)
    features = ["a", "b", "c", "d"]
    ours = lm.LogisticRegression(tol=1e-8).fit(df[features], df["label"])
    ref = sk.LogisticRegression(tol=1e-8).fit(pdf[features].to_numpy(), y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4)
    assert np.mean(ours.predict(df[features]).compute() == ref.predict(X)) >= 0.999


def test_seeded_fit_identical_on_sync_and_threads(binary):
    X, y = binary
    fits = []
    for scheduler in ["sync", "threads"]:
        with chunkwise.config.set(scheduler=scheduler):
            fits.append(lm.LogisticRegression(tol=1e-8).fit(_rows(X, 150), _rows(y, 150)).coef_)
    np.testing.assert_array_equal(fits[0], fits[1])


def test_progress_bar_shows_each_optimizer_step(binary):
    X, y = binary
    out = io.StringIO()
    with ProgressBar(out=out):
        clf = lm.LogisticRegression().fit(_rows(X, 250), _rows(y, 250))
    assert out.getvalue().count("100% Completed") >= clf.n_iter_[0]


def test_errors_name_the_operation(binary):
    X, y = binary
    with pytest.raises(ValueError, match="LogisticRegression.*solver"):
        lm.LogisticRegression(solver="sag").fit(_rows(X, 250), _rows(y, 250))
    with pytest.raises(ValueError, match="2 classes"):
        lm.LogisticRegression().fit(_rows(X, 250), _rows(np.zeros(1000), 250))
    with pytest.raises(ValueError, match="newton.*only L2.*admm"):
        lm.LogisticRegression(solver="newton", l1_ratio=0.5).fit(_rows(X, 250), _rows(y, 250))
    clf = lm.LogisticRegression().fit(_rows(X, 250), _rows(y, 250))
    with pytest.raises(ValueError, match="3 features.*expecting 6"):
        clf.predict(_rows(X[:, :3], 250))


@pytest.mark.parametrize(
    "estimator",
    [lm.LogisticRegression(), lm.LinearRegression(), lm.Ridge(), lm.Lasso(), lm.ElasticNet(), lm.PoissonRegressor()],
    ids=lambda e: type(e).__name__,
)
def test_check_estimator(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 40


# --- sample_weight, as scikit-learn 1.9 -----------------------------------------------------------


def _weights(n, chunked_as=None):
    w = np.random.default_rng(3).uniform(0.0, 3.0, size=n)
    w[::17] = 0.0  # zero weights: those rows count for nothing
    return w if chunked_as is None else _rows(w, chunked_as)


@pytest.mark.parametrize("weights_as", ["numpy", "chunked-other-chunks"])
@pytest.mark.parametrize(
    "data,kwargs",
    [("binary", {}), ("binary", {"solver": "newton"}), ("binary", {"class_weight": "balanced"}),
     ("multiclass", {}), ("multiclass", {"class_weight": "balanced", "fit_intercept": False})],
    ids=["binary", "binary-newton", "binary-balanced", "multinomial", "multinomial-balanced"],
)
def test_logistic_sample_weight_matches_sklearn(request, data, kwargs, weights_as):
    X, y = request.getfixturevalue(data)
    w = _weights(len(y), None if weights_as == "numpy" else 333)
    Xd, yd = _rows(X, CHUNKINGS["uneven"]), _rows(y, CHUNKINGS["uneven"])
    ours = lm.LogisticRegression(tol=1e-8, max_iter=1000, **kwargs).fit(Xd, yd, sample_weight=w)
    ref_kwargs = {k: v for k, v in kwargs.items() if k != "solver"}
    ref = sk.LogisticRegression(tol=1e-8, max_iter=1000, **ref_kwargs).fit(X, y, sample_weight=_weights(len(y)))
    _agree(ours, ref, X, Xd)
    unweighted = sk.LogisticRegression(tol=1e-8, max_iter=1000, **ref_kwargs).fit(X, y)
    assert not np.allclose(ours.coef_, unweighted.coef_, rtol=1e-3)  # the weights did change the model


@pytest.mark.parametrize(
    "name,kwargs",
    [("LinearRegression", {}), ("Ridge", {"alpha": 10.0}), ("Lasso", {"alpha": 1.0, "tol": 1e-10, "max_iter": 100_000}),
     ("ElasticNet", {"alpha": 0.5, "l1_ratio": 0.3, "tol": 1e-10, "max_iter": 100_000}),
     ("PoissonRegressor", {"alpha": 0.1, "tol": 1e-8})],
)
def test_regressors_sample_weight_match_sklearn(regression, name, kwargs, scheduler):
    X, y = regression
    if name == "PoissonRegressor":
        y = np.random.default_rng(0).poisson(np.exp(0.3 * X[:, 0] - 0.2 * X[:, 1] + 0.5))
    else:
        X = X + 1e4
    Xd, yd = _rows(X, CHUNKINGS["uneven"]), _rows(y, CHUNKINGS["uneven"])
    ours = getattr(lm, name)(**kwargs).fit(Xd, yd, sample_weight=_weights(len(y), 250))
    ref = getattr(sk, name)(**kwargs).fit(X, y, sample_weight=_weights(len(y)))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-4)
    unweighted = getattr(sk, name)(**kwargs).fit(X, y)
    assert not np.allclose(ours.coef_, unweighted.coef_, rtol=1e-4)


def test_sample_weight_of_the_wrong_length_raises_before_computing(binary):
    X, y = binary
    with pytest.raises(ValueError, match="LogisticRegression.fit.*inconsistent numbers of samples"):
        lm.LogisticRegression().fit(_rows(X, 250), _rows(y, 250), sample_weight=np.ones(999))
    with pytest.raises(ValueError, match="LinearRegression.fit: sample_weight must be 1-D"):
        lm.LinearRegression().fit(_rows(X, 250), _rows(y, 250), sample_weight=np.ones((1000, 2)))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multinomial_hessian_is_the_derivative_of_the_gradient(multiclass, fit_intercept):
    from chunkwise.ml.glm import glm_partial  # the per-block kernel the passes run

    X, y = multiclass
    w = _weights(len(y))
    k, p = 3, X.shape[1]
    size = k * (p + int(fit_intercept))
    theta = np.random.default_rng(0).normal(scale=0.3, size=size)
    kwargs = {"family": "multinomial", "n_outputs": k, "fit_intercept": fit_intercept, "classes": np.arange(3),
              "class_weight": np.array([1.0, 2.0, 0.5])}
    packed = glm_partial(X, y, w, theta=theta, want_hessian=True, **kwargs)
    hess = packed[1 + size :].reshape(size, size)
    step = 1e-6
    numeric = np.empty((size, size))
    for j in range(size):
        e = np.zeros(size)
        e[j] = step
        up = glm_partial(X, y, w, theta=theta + e, want_hessian=False, **kwargs)[1 : 1 + size]
        down = glm_partial(X, y, w, theta=theta - e, want_hessian=False, **kwargs)[1 : 1 + size]
        numeric[:, j] = (up - down) / (2 * step)
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(hess, hess.T, atol=1e-9)


def test_multinomial_newton_one_pass_per_step(multiclass):
    X, y = multiclass
    with passes_counter() as passes:
        clf = lm.LogisticRegression(solver="newton", tol=1e-8).fit(_rows(X, 250), _rows(y, 250))
    # the labels, the start, one per step (more only where a step is halved)
    assert clf.n_iter_[0] + 2 <= passes() <= 2 * clf.n_iter_[0] + 2
    assert clf.n_iter_[0] < 20
