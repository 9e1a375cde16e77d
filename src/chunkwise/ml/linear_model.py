"""Linear models fitted on chunked rows with scikit-learn's API and objectives.

- :class:`LogisticRegression` (binary and multinomial, any sortable labels),
  :class:`PoissonRegressor`: iterative; every optimizer step is one pass over
  the row blocks (loss, gradient and, for ``newton``, Hessian per block in one
  fused task, then a tree sum; see :mod:`chunkwise.ml.glm`). A
  classifier reads its labels once more first (classes and their counts).
- :class:`LinearRegression`, :class:`Ridge`: one pass. Each block gives its row
  count, column means and centred scatter of ``[X, y]``; the blocks are merged
  pairwise (Chan et al.), so a large mean costs no precision, and the
  ``p x p`` normal equations are solved on the client (``lstsq``, the
  minimum-norm solution when ``X`` is rank deficient). Normal equations square
  the condition number of ``X``: for ill-conditioned ``X`` (condition number
  near ``1e8``) scikit-learn's ``lstsq`` on ``X`` itself is more accurate.
- :class:`Lasso`, :class:`ElasticNet`: the same single pass, then ADMM on the
  ``p x p`` moments on the client, however many iterations it takes.

Inputs: a chunked array (rows in any chunks; columns are gathered into one
block; unknown row chunk sizes are computed first, one extra pass), a chunked
dataframe's selected columns, or NumPy data (then predictions are NumPy too;
for chunked input they are lazy chunked arrays). Lazily generated training
data is kept in memory for the fit when it is small enough
(:func:`chunkwise.ml.passes.cached`).

>>> import numpy as np
>>> import chunkwise.array as da
>>> rng = np.random.default_rng(0)
>>> X = da.from_array(rng.normal(size=(1000, 3)), chunks=250)
>>> y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
>>> clf = LogisticRegression().fit(X, y)
>>> clf.coef_.shape, clf.classes_.tolist()
((1, 3), [0, 1])
>>> clf.predict(X).chunks
((250, 250, 250, 250),)
>>> clf.score(X, y) > 0.95
True
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import validate_data

from chunkwise.array.chunks import has_unknown
from chunkwise.array.core import Array, from_array
from chunkwise.ml import metrics
from chunkwise.ml.glm import (
    Problem,
    admm_least_squares,
    lbfgs_start,
    solve,
)
from chunkwise.ml.passes import (
    cached,
    label_counts,
    merge_moments,
    moments_partial,
    moments_size,
    row_pass,
    weighted_moments_partial,
)
from chunkwise.ml.validation import (
    check_array,
    check_is_fitted,
    check_sample_weight,
    check_weight_total,
    check_X_y,
    is_chunked,
)

__all__ = [
    "ElasticNet",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "PoissonRegressor",
    "Ridge",
    "predict_input",
]


# --- inputs --------------------------------------------------------------------------------------


def _training_data(est: BaseEstimator, X: Any, y: Any, opname: str, y_numeric: bool, multi_output: bool = False,
                   sample_weight: Any = None) -> tuple:
    """``(X, y, w)`` checked, as chunked arrays: ``X`` float64 in one column block, ``y`` and the sample
    weights ``w`` (``None`` when not given) in ``X``'s row chunks.

    NumPy input is validated by scikit-learn (``check_estimator`` feeds it) and
    becomes one block; unknown row chunk sizes are computed (one pass).
    """
    if not is_chunked(X) and not is_chunked(y) and not is_chunked(sample_weight):
        X, y = validate_data(est, X, y, y_numeric=y_numeric, multi_output=multi_output, dtype=[np.float64, np.float32])
        X = from_array(np.asarray(X, dtype=np.float64))
        y = from_array(np.asarray(y), chunks=(X.chunks[0],) + tuple((n,) for n in np.shape(y)[1:]))
        return X, y, check_sample_weight(sample_weight, X, opname)
    X, y = check_X_y(X, y, opname, multi_output=multi_output, y_numeric=y_numeric, compute_chunk_sizes=True)
    if y.ndim == 2 and y.numblocks[1] > 1:
        y = y.rechunk({1: -1})
    est.n_features_in_ = X.shape[1]
    return X.astype(np.float64), y, check_sample_weight(sample_weight, X, opname)


def predict_input(est: BaseEstimator, X: Any, opname: str) -> tuple:
    """``(X, chunked)`` for prediction: NumPy checked by scikit-learn, or a chunked array in one column block.

    Unknown row chunk sizes are kept (predictions are blockwise).
    """
    check_is_fitted(est)
    if not is_chunked(X):
        X = validate_data(est, X, reset=False, dtype=[np.float64, np.float32])
        return np.asarray(X, dtype=np.float64), False
    if not (isinstance(X, Array) and X.ndim == 2 and has_unknown(X.chunks[:1])):
        X = check_array(X, opname)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"{opname}: X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input"
        )
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    return X.astype(np.float64), True


def _linear(xb: np.ndarray, coef: np.ndarray, intercept: np.ndarray, ravel: bool) -> np.ndarray:
    z = np.asarray(xb, dtype=np.float64) @ coef.T + intercept
    return z[:, 0] if ravel else z


def _lazy_rows(X: Array, func: Any, width: int | None, dtype: Any, **params: Any) -> Array:
    """``func(block, **params)`` per row block: 1-d output (``width=None``) or ``width`` columns."""
    if width is None:
        return X.map_blocks(func, drop_axis=1, dtype=dtype, **params)
    return X.map_blocks(func, chunks=(X.chunks[0], (width,)), dtype=dtype, **params)


class _LinearPredictor:
    """``decision_function``/``predict``/``score`` shared by the linear models."""

    def _decision(self, X: Any, opname: str) -> Any:
        X, chunked = predict_input(self, X, opname)
        coef = np.atleast_2d(self.coef_)
        intercept = np.atleast_1d(self.intercept_)
        ravel = np.ndim(self.coef_) == 1 or coef.shape[0] == 1 and not getattr(self, "_multi_output", False)
        if not chunked:
            return _linear(X, coef, intercept, ravel)
        return _lazy_rows(X, _linear, None if ravel else coef.shape[0], np.float64,
                          coef=coef, intercept=intercept, ravel=ravel)


class _Regressor(_LinearPredictor, RegressorMixin, BaseEstimator):
    def predict(self, X: Any) -> Any:
        """Predicted targets: NumPy for NumPy input, a lazy chunked array for chunked input."""
        return self._decision(X, f"{type(self).__name__}.predict")

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of the predictions (as scikit-learn's); chunked inputs are read in one pass."""
        return float(metrics.r2_score(y, self.predict(X), sample_weight=sample_weight))


# --- least squares: one pass of moments --------------------------------------------------------


def _moments(X: Array, y: Array, w: Array | None = None) -> tuple:
    """``(n, x_mean, y_mean, Gc, Cxy, y_scatter)`` of ``[X, y]``, weighted by ``w`` when given (then ``n``
    is the sum of the weights): one pass."""
    p = X.shape[1]
    t = 1 if y.ndim == 1 else y.shape[1]
    d = p + t
    if w is None:
        packed = row_pass(moments_partial, [X, y], moments_size(d), combine=merge_moments, name="moments")
    else:
        packed = row_pass(weighted_moments_partial, [X, y, w], moments_size(d), combine=merge_moments,
                          name="weighted-moments")
    n, mean, scatter = packed[0], packed[1 : 1 + d], packed[1 + d :].reshape(d, d)
    if w is not None:
        check_weight_total(n, "fit")
    return n, mean[:p], mean[p:], scatter[:p, :p], scatter[:p, p:], scatter[p:, p:]


def _normal_equations(X: Array, y: Array, fit_intercept: bool, w: Array | None = None) -> tuple:
    n, x_mean, y_mean, gram, xty, _ = _moments(X, y, w)
    if not fit_intercept:  # uncentre
        gram = gram + n * np.outer(x_mean, x_mean)
        xty = xty + n * np.outer(x_mean, y_mean)
        x_mean, y_mean = np.zeros_like(x_mean), np.zeros_like(y_mean)
    return n, x_mean, y_mean, gram, xty


def _set_coef(est: Any, coef: np.ndarray, x_mean: np.ndarray, y_mean: np.ndarray, y: Array) -> None:
    """``coef`` is ``p x t``; scikit-learn's shapes: ``(p,)`` for 1-d ``y``, ``(t, p)`` otherwise."""
    intercept = y_mean - x_mean @ coef
    if y.ndim == 1:
        est.coef_, est.intercept_ = coef[:, 0], float(intercept[0])
    else:
        est.coef_, est.intercept_ = coef.T.copy(), intercept
    est._multi_output = y.ndim == 2


class LinearRegression(_Regressor):
    """Ordinary least squares, as ``sklearn.linear_model.LinearRegression``; one pass over the data.

    Solves the normal equations from centred moments merged across blocks
    (see the module docstring for the conditioning this implies).
    """

    def __init__(self, *, fit_intercept: bool = True):
        self.fit_intercept = fit_intercept

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        X, y, w = _training_data(self, X, y, "LinearRegression.fit", True, multi_output=True,
                                 sample_weight=sample_weight)
        _, x_mean, y_mean, gram, xty = _normal_equations(X, y, self.fit_intercept, w)
        coef = np.linalg.lstsq(gram, xty, rcond=None)[0]
        _set_coef(self, coef, x_mean, y_mean, y)
        self.n_iter_ = None
        return self


class Ridge(_Regressor):
    """L2-penalised least squares, as ``sklearn.linear_model.Ridge`` (``|y - Xw|^2 + alpha |w|^2``); one pass."""

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True):
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        _check_non_negative(self.alpha, "alpha", "Ridge")
        X, y, w = _training_data(self, X, y, "Ridge.fit", True, multi_output=True, sample_weight=sample_weight)
        _, x_mean, y_mean, gram, xty = _normal_equations(X, y, self.fit_intercept, w)
        a = gram + self.alpha * np.eye(len(gram))
        coef = np.linalg.lstsq(a, xty, rcond=None)[0]
        _set_coef(self, coef, x_mean, y_mean, y)
        self.n_iter_ = None
        return self


def _check_non_negative(value: Any, name: str, owner: str) -> None:
    if not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{owner}: {name} must be a non-negative number, got {value!r}")


class ElasticNet(_Regressor):
    """``1/(2n) |y - Xw|^2 + alpha * l1_ratio |w|_1 + alpha (1 - l1_ratio) / 2 |w|^2``, as scikit-learn's.

    One pass over the data (centred moments), then ADMM on the client
    (``n_iter_`` counts its iterations, none of which reads the data).
    """

    def __init__(self, alpha: float = 1.0, *, l1_ratio: float = 0.5, fit_intercept: bool = True,
                 max_iter: int = 1000, tol: float = 1e-4, warm_start: bool = False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ElasticNet:
        name = type(self).__name__
        _check_non_negative(self.alpha, "alpha", name)
        ratio = self._l1_ratio()
        if not isinstance(ratio, numbers.Real) or not 0 <= ratio <= 1:
            raise ValueError(f"{name}: l1_ratio must be in [0, 1], got {ratio!r}")
        X, y, w = _training_data(self, X, y, f"{name}.fit", True, sample_weight=sample_weight)
        n, x_mean, y_mean, gram, xty = _normal_equations(X, y, self.fit_intercept, w)
        p = len(gram)
        start = np.zeros(p)
        if self.warm_start and hasattr(self, "coef_") and np.shape(self.coef_) == (p,):
            start = np.asarray(self.coef_, dtype=np.float64)
        coef, self.n_iter_ = admm_least_squares(
            gram / n, xty[:, 0] / n, self.alpha * ratio, self.alpha * (1 - ratio),
            start, min(self.tol, 1e-6) * 1e-2, max(self.max_iter, 10_000),
        )
        _set_coef(self, coef[:, None], x_mean, y_mean, y)
        return self

    def _l1_ratio(self) -> float:
        return self.l1_ratio


class Lasso(ElasticNet):
    """``1/(2n) |y - Xw|^2 + alpha |w|_1``, as ``sklearn.linear_model.Lasso``; one pass, then ADMM."""

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: float = 1e-4, warm_start: bool = False):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _l1_ratio(self) -> float:
        return 1.0


# --- iterative GLMs ------------------------------------------------------------------------------


def _pack(coef: np.ndarray, intercept: np.ndarray, fit_intercept: bool) -> np.ndarray:
    parts = [np.asarray(coef, dtype=np.float64).ravel()]
    if fit_intercept:
        parts.append(np.asarray(intercept, dtype=np.float64).ravel())
    return np.concatenate(parts)


def _unpack(theta: np.ndarray, k: int, p: int, fit_intercept: bool) -> tuple:
    coef = theta[: k * p].reshape(k, p).copy()
    intercept = theta[k * p :].copy() if fit_intercept else np.zeros(k)
    return coef, intercept


def _check_solver(solver: str, owner: str, allowed: tuple) -> None:
    if solver not in allowed:
        raise ValueError(f"{owner}: solver must be one of {allowed}, got {solver!r}")


class PoissonRegressor(_Regressor):
    """Poisson regression with a log link, as ``sklearn.linear_model.PoissonRegressor``.

    Minimizes ``mean(exp(Xw + b) - y (Xw + b)) + alpha / 2 |w|^2``; each
    ``lbfgs`` evaluation or ``newton`` step is one pass.
    """

    def __init__(self, *, alpha: float = 1.0, fit_intercept: bool = True, solver: str = "lbfgs",
                 max_iter: int = 100, tol: float = 1e-4, warm_start: bool = False):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> PoissonRegressor:
        _check_non_negative(self.alpha, "alpha", "PoissonRegressor")
        _check_solver(self.solver, "PoissonRegressor", ("lbfgs", "newton"))
        numpy_y = None if is_chunked(X) or is_chunked(y) else np.asarray(y)
        X, y, w = _training_data(self, X, y, "PoissonRegressor.fit", True, sample_weight=sample_weight)
        if numpy_y is not None and np.any(numpy_y < 0):
            raise ValueError("Some value(s) of y are out of the valid range of the loss 'HalfPoissonLoss'.")
        X, y, w = cached(X, y, w)
        p = X.shape[1]
        total = X.shape[0] if w is None else float(w.sum().compute())
        check_weight_total(total, "PoissonRegressor.fit")
        problem = Problem(X, y, "poisson", p, 1, self.fit_intercept, 1.0 / total, l2=self.alpha,
                               sample_weight=w)
        previous = None
        if self.warm_start and hasattr(self, "coef_") and np.shape(self.coef_) == (p,):
            previous = _pack(self.coef_, self.intercept_, self.fit_intercept)
        start = lbfgs_start(problem, self.solver, np.zeros(problem.size), previous, X.numblocks[0], self.tol,
                            self.max_iter)
        theta, self.n_iter_ = solve(problem, self.solver, start.theta, self.tol, self.max_iter,
                                    scaling=start.scaling)
        coef, intercept = _unpack(theta, 1, p, self.fit_intercept)
        self.coef_, self.intercept_ = coef[0], float(intercept[0])
        return self

    def predict(self, X: Any) -> Any:
        """Predicted means ``exp(Xw + b)``: NumPy for NumPy input, lazy for chunked input."""
        z = self._decision(X, "PoissonRegressor.predict")
        return np.exp(z)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """D^2, the fraction of Poisson deviance explained (as scikit-learn's); one pass over chunked input."""
        if not (is_chunked(X) or is_chunked(y)):
            from sklearn.metrics import d2_tweedie_score

            return float(d2_tweedie_score(y, self.predict(X), sample_weight=sample_weight, power=1))
        X, _ = predict_input(self, X, "PoissonRegressor.score")
        X, y = check_X_y(X, y, "PoissonRegressor.score", compute_chunk_sizes=True)
        s = row_pass(_deviance_partial, [X, y], 5, name="d2", predict=self._numpy_predict)
        n, sum_y, sum_ylogy, sum_ylogmu, sum_mu = s
        mean = sum_y / n
        dev = 2 * (sum_ylogy - sum_ylogmu - sum_y + sum_mu)
        dev_null = 2 * (sum_ylogy - sum_y * np.log(mean))
        return float(1 - dev / dev_null)

    def _numpy_predict(self, xb: np.ndarray) -> np.ndarray:
        return np.exp(self._decision(np.asarray(xb), "predict"))


def _deviance_partial(xb: np.ndarray, yb: np.ndarray, *, predict: Any) -> np.ndarray:
    y = np.asarray(yb, dtype=np.float64)
    mu = predict(xb)
    ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    return np.array([len(y), y.sum(), ylogy.sum(), (y * np.log(mu)).sum(), mu.sum()])


class LogisticRegression(_LinearPredictor, ClassifierMixin, BaseEstimator):
    """Logistic regression, binary or multinomial, as ``sklearn.linear_model.LogisticRegression`` 1.9.

    Minimizes ``C * sum_i s_i loss_i + (1 - l1_ratio) / 2 |W|^2 + l1_ratio |W|_1``
    (the intercept is not penalised; ``C=np.inf``: no penalty). Solvers:
    ``lbfgs`` (default; one pass per function evaluation), ``newton`` (binary
    or multinomial; loss, gradient and Hessian in one pass per step; a
    multinomial Hessian costs ``n (K (p+1))^2`` per pass, so ``lbfgs`` is
    faster for many classes and features), ``admm`` (``l1_ratio >
    0``). ``penalty`` (deprecated in scikit-learn 1.8) is still accepted:
    ``"l2"``, ``"l1"``, ``"elasticnet"``, ``None``.
    """

    def __init__(self, penalty: Any = "deprecated", *, C: float = 1.0, l1_ratio: float = 0.0,
                 tol: float = 1e-4, fit_intercept: bool = True, class_weight: Any = None,
                 solver: str = "lbfgs", max_iter: int = 100, warm_start: bool = False):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.solver = solver
        self.max_iter = max_iter
        self.warm_start = warm_start

    def _penalty(self) -> tuple:
        """``(C, l1_ratio)`` after the deprecated ``penalty``."""
        C, ratio = self.C, self.l1_ratio
        if not isinstance(C, numbers.Real) or C <= 0:
            raise ValueError(f"LogisticRegression: C must be a positive number, got {C!r}")
        penalty = self.penalty
        if penalty == "l2":
            ratio = 0.0
        elif penalty == "l1":
            ratio = 1.0
        elif penalty is None:
            C = np.inf
        elif penalty not in ("deprecated", "elasticnet"):
            raise ValueError(f"LogisticRegression: unknown penalty {penalty!r}")
        if ratio is None or not 0 <= ratio <= 1:
            raise ValueError(f"LogisticRegression: l1_ratio must be in [0, 1], got {ratio!r}")
        return C, ratio

    def _class_weights(self, classes: np.ndarray, counts: np.ndarray) -> np.ndarray | None:
        cw = self.class_weight
        if cw is None:
            return None
        if isinstance(cw, str) and cw == "balanced":
            return counts.sum() / (len(classes) * counts.astype(np.float64))
        if isinstance(cw, dict):
            unknown = set(cw) - set(classes.tolist())
            if unknown:
                raise ValueError(f"LogisticRegression: class_weight names classes not in y: {sorted(unknown)}")
            return np.array([float(cw.get(c, 1.0)) for c in classes.tolist()])
        raise ValueError(f"LogisticRegression: class_weight must be None, 'balanced' or a dict, got {cw!r}")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit on ``X`` (rows x features) and labels ``y``; one pass for the labels, one per step.

        ``sample_weight``: one weight per row (NumPy or chunked), multiplied by
        the class weights, as scikit-learn does.
        """
        C, ratio = self._penalty()
        _check_solver(self.solver, "LogisticRegression", ("lbfgs", "newton", "admm"))
        if ratio > 0 and np.isfinite(C) and self.solver != "admm":
            raise ValueError(
                f"LogisticRegression: solver={self.solver!r} supports only L2 penalties; got l1_ratio={ratio}, "
                "use solver='admm'"
            )
        X, y, w = _training_data(self, X, y, "LogisticRegression.fit", False, sample_weight=sample_weight)
        X, y, w = cached(X, y, w)
        classes, counts = label_counts(y, w)
        if len(classes) < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data contains only "
                f"one class: {classes[0] if len(classes) else None!r}"
            )
        if y.dtype.kind == "f" and not np.all(np.mod(classes, 1) == 0):
            raise ValueError(f"Unknown label type: continuous. LogisticRegression.fit needs class labels, got {classes[:5]}")
        if w is not None:
            check_weight_total(float(counts.sum()), "LogisticRegression.fit")
        weights = self._class_weights(classes, counts)
        total = float(counts.sum() if weights is None else (counts * weights).sum())
        k = 1 if len(classes) == 2 else len(classes)
        family = "binomial" if k == 1 else "multinomial"
        p = X.shape[1]
        strength = 0.0 if not np.isfinite(C) else 1.0 / (C * total)
        problem = Problem(
            X, y, family, p, k, self.fit_intercept, 1.0 / total, l2=(1 - ratio) * strength,
            l1=ratio * strength, classes=classes, class_weight=weights, sample_weight=w,
        )
        previous = None
        if self.warm_start and hasattr(self, "coef_") and np.shape(self.coef_) == (k, p):
            previous = _pack(self.coef_, self.intercept_, self.fit_intercept)
        start = lbfgs_start(problem, self.solver, np.zeros(problem.size), previous, X.numblocks[0], self.tol,
                            self.max_iter)
        theta, n_iter = solve(problem, self.solver, start.theta, self.tol, self.max_iter, scaling=start.scaling)
        self.coef_, self.intercept_ = _unpack(theta, k, p, self.fit_intercept)
        self.classes_ = classes
        self.n_iter_ = np.array([n_iter], dtype=np.int32)
        return self

    def decision_function(self, X: Any) -> Any:
        """``X @ coef_.T + intercept_``: ``(n,)`` for two classes, ``(n, n_classes)`` otherwise."""
        return self._decision(X, "LogisticRegression.decision_function")

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, ``(n, n_classes)``; lazy for chunked ``X``."""
        X, chunked = predict_input(self, X, "LogisticRegression.predict_proba")
        if not chunked:
            return self._proba_block(X)
        return _lazy_rows(X, self._proba_block, len(self.classes_), np.float64)

    def predict_log_proba(self, X: Any) -> Any:
        """``log(predict_proba(X))``."""
        return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> Any:
        """Predicted labels (from ``classes_``); lazy for chunked ``X``."""
        X, chunked = predict_input(self, X, "LogisticRegression.predict")
        if not chunked:
            return self._predict_block(X)
        return _lazy_rows(X, self._predict_block, None, self.classes_.dtype)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (a float); chunked ``X`` and ``y`` are read in one pass."""
        return float(metrics.accuracy_score(y, self.predict(X), sample_weight=sample_weight))

    def _proba_block(self, xb: np.ndarray) -> np.ndarray:
        z = _linear(np.asarray(xb, dtype=np.float64), self.coef_, self.intercept_, False)
        if z.shape[1] == 1:
            p = expit(z[:, 0])
            return np.column_stack([1 - p, p])
        return softmax(z, axis=1)

    def _predict_block(self, xb: np.ndarray) -> np.ndarray:
        z = _linear(np.asarray(xb, dtype=np.float64), self.coef_, self.intercept_, False)
        index = (z[:, 0] > 0).astype(np.intp) if z.shape[1] == 1 else np.argmax(z, axis=1)
        return self.classes_[index]
