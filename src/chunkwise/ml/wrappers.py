"""Meta-estimators for scikit-learn models on chunked data: ``ParallelPostFit`` and ``Incremental``.

Design:

- :class:`ParallelPostFit` fits its estimator in memory (chunked ``X``/``y``
  are computed first: use it when the training data fit but the data to
  predict on do not) and makes ``predict``, ``predict_proba``,
  ``predict_log_proba``, ``decision_function`` and ``transform`` of chunked
  input lazy and blockwise: each row block is passed to the fitted
  estimator in its own task. The output's dtype and columns come from
  calling the method on one synthetic row of zeros (no data are read), or
  from ``predict_meta=``/``predict_proba_meta=``/``transform_meta=``. Row
  chunks are kept; a DataFrame's partitions become row blocks (with their
  feature names, so the estimator sees what it was fitted on).
- :class:`Incremental` fits with ``partial_fit``, one row block at a time,
  on the client: ``epochs`` passes, each over the blocks in a random order
  drawn from ``random_state`` (``shuffle_blocks=False``: in order). While the
  estimator learns from one block the next one is already being computed.
  ``fit_kwargs`` such as ``classes=`` are forwarded to every ``partial_fit``;
  a classifier that needs ``classes`` and gets none has them found first in
  one pass over ``y``. It predicts like ``ParallelPostFit``.

Fitted attributes of the wrapped estimator (``coef_``, ``classes_`` ...)
are reachable on the wrapper; the fitted copy itself is ``estimator_``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> from sklearn.linear_model import SGDClassifier
>>> X = da.from_array(np.r_[np.zeros((50, 2)), np.ones((50, 2))], chunks=(20, 2))
>>> y = da.from_array(np.r_[np.zeros(50, int), np.ones(50, int)], chunks=20)
>>> model = Incremental(SGDClassifier(random_state=0), epochs=3, random_state=0).fit(X, y)
>>> model.classes_.tolist()
[0, 1]
>>> pred = model.predict(X)
>>> pred.chunks, pred.dtype
(((20, 20, 20, 20, 20),), dtype('int64'))
>>> float((pred.compute() == y.compute()).mean())
1.0
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.metrics import get_scorer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import unique_labels

from chunkwise.array.core import Array
from chunkwise.base import compute
from chunkwise.dataframe.core import FrameBase
from chunkwise.ml import metrics
from chunkwise.ml.validation import (
    as_row_blocks,
    check_array,
    check_is_fitted,
    check_random_state_seed,
    check_X_y,
    is_chunked,
    map_row_blocks,
    tree_reduce,
)

__all__ = ["Incremental", "ParallelPostFit", "estimator_has"]

_SCORERS = {
    "accuracy": (metrics.accuracy_score, "predict", 1),
    "r2": (metrics.r2_score, "predict", 1),
    "neg_mean_squared_error": (metrics.mean_squared_error, "predict", -1),
    "neg_mean_absolute_error": (metrics.mean_absolute_error, "predict", -1),
    "neg_log_loss": (metrics.log_loss, "predict_proba", -1),
    "roc_auc": (metrics.roc_auc_score, "predict_proba", 1),
}


def _apply(block: Any, estimator: Any, method: str, columns: Any, meta: Any = None) -> np.ndarray:
    if len(block) == 0 and meta is not None:  # scikit-learn refuses 0 rows: an empty block like the output
        return np.empty((0,) + meta.shape[1:], dtype=meta.dtype)
    if columns is not None and not isinstance(block, pd.DataFrame):
        block = pd.DataFrame(block, columns=columns)
    out = getattr(estimator, method)(block)
    if hasattr(out, "toarray"):
        out = out.toarray()
    return np.asarray(out)


def estimator_has(method: str) -> Any:
    """For ``available_if``: the wrapped (or fitted) estimator has ``method``."""

    def check(self: Any) -> bool:
        fitted = self.__dict__.get("estimator_")
        return hasattr(fitted if fitted is not None else self.estimator, method)

    return check


def _as_values(frame: FrameBase, name: str) -> Array:
    return check_array(frame, name, dtype=None, allow_unknown_rows=True)


class ParallelPostFit(MetaEstimatorMixin, BaseEstimator):
    """Fit in memory, predict and transform chunked data lazily, block by block (as ``dask_ml.wrappers.ParallelPostFit``).

    ``scoring``: a scorer name (``"accuracy"``, ``"r2"``, ``"neg_log_loss"``,
    ``"roc_auc"``, ``"neg_mean_squared_error"``, ``"neg_mean_absolute_error"``)
    or a callable ``scorer(estimator, X, y)``; by default the estimator's own
    metric (accuracy for classifiers, R² for regressors), computed in one
    pass on chunked input.
    """

    def __init__(self, estimator: Any = None, scoring: Any = None, predict_meta: Any = None,
                 predict_proba_meta: Any = None, transform_meta: Any = None):
        self.estimator = estimator
        self.scoring = scoring
        self.predict_meta = predict_meta
        self.predict_proba_meta = predict_proba_meta
        self.transform_meta = transform_meta

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        if self.estimator is not None:
            inner = self.estimator.__sklearn_tags__()
            tags.estimator_type = inner.estimator_type
            tags.classifier_tags = inner.classifier_tags
            tags.regressor_tags = inner.regressor_tags
            tags.transformer_tags = inner.transformer_tags
            tags.target_tags = inner.target_tags
            tags.input_tags = inner.input_tags
        return tags

    def __getattr__(self, name: str) -> Any:
        # fitted attributes of the wrapped estimator (coef_, classes_, ...)
        if name.endswith("_") and not name.startswith("__") and name != "estimator_":
            fitted = self.__dict__.get("estimator_")
            if fitted is not None and hasattr(fitted, name):
                return getattr(fitted, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _check_estimator(self) -> Any:
        if self.estimator is None:
            raise ValueError(f"{type(self).__name__}: pass an estimator, e.g. {type(self).__name__}(LogisticRegression())")
        return self.estimator

    def fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> ParallelPostFit:
        """Fit a clone of ``estimator`` in memory (chunked ``X`` and ``y`` are computed first)."""
        estimator = clone(self._check_estimator())
        if is_chunked(X) or is_chunked(y):
            X = X.compute() if is_chunked(X) else X
            y = y.compute() if is_chunked(y) else y
        self.estimator_ = estimator.fit(X, y, **fit_kwargs)
        return self

    # --- lazy blockwise methods -----------------------------------------------------------------

    def _meta(self, method: str, n_features: int, dtype: Any) -> np.ndarray:
        given = {"predict": self.predict_meta, "predict_proba": self.predict_proba_meta,
                 "predict_log_proba": self.predict_proba_meta, "decision_function": self.predict_proba_meta,
                 "transform": self.transform_meta}.get(method)
        if given is not None:
            return np.asarray(given)
        columns = getattr(self.estimator_, "feature_names_in_", None)
        row = np.zeros((1, n_features), dtype=dtype if np.dtype(dtype).kind in "biuf" else np.float64)
        return _apply(row, self.estimator_, method, list(columns) if columns is not None else None)

    def _blockwise(self, method: str, X: Any) -> Any:
        check_is_fitted(self, "estimator_")
        if not hasattr(self.estimator_, method):
            raise AttributeError(f"{type(self.estimator_).__name__} has no method {method!r}")
        if not is_chunked(X):
            return getattr(self.estimator_, method)(X)
        name = f"{type(self).__name__}.{method}"
        columns = list(X.columns) if isinstance(X, FrameBase) and hasattr(X, "columns") else None
        X = _as_values(X, name) if isinstance(X, FrameBase) else X
        if X.ndim != 2:
            raise ValueError(f"{name}: expected 2-D X (samples x features), got shape {X.shape}")
        if X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        if columns is None and getattr(self.estimator_, "feature_names_in_", None) is not None:
            columns = list(self.estimator_.feature_names_in_)
        meta = self._meta(method, X.shape[1], X.dtype)
        empty = np.empty((0,) + meta.shape[1:], dtype=meta.dtype)
        if meta.ndim == 1:
            return X.map_blocks(_apply, self.estimator_, method, columns, empty, dtype=meta.dtype, drop_axis=1)
        return X.map_blocks(_apply, self.estimator_, method, columns, empty, dtype=meta.dtype,
                            chunks=(X.chunks[0], (meta.shape[1],)))

    @available_if(estimator_has("predict"))
    def predict(self, X: Any) -> Any:
        """Predictions, lazily per row block for chunked ``X``."""
        return self._blockwise("predict", X)

    @available_if(estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(n, n_classes)``, lazily per row block for chunked ``X``."""
        return self._blockwise("predict_proba", X)

    @available_if(estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        """Log class probabilities, lazily per row block for chunked ``X``."""
        return self._blockwise("predict_log_proba", X)

    @available_if(estimator_has("decision_function"))
    def decision_function(self, X: Any) -> Any:
        """Decision function, lazily per row block for chunked ``X``."""
        return self._blockwise("decision_function", X)

    @available_if(estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """The estimator's ``transform``, lazily per row block for chunked ``X``."""
        return self._blockwise("transform", X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """The ``scoring`` metric (or the estimator's own), in one pass over chunked input."""
        check_is_fitted(self, "estimator_")
        if callable(self.scoring):
            return self.scoring(self, X, y)
        if not (is_chunked(X) or is_chunked(y)):
            if self.scoring is None:
                return self.estimator_.score(X, y) if sample_weight is None else \
                    self.estimator_.score(X, y, sample_weight=sample_weight)
            return get_scorer(self.scoring)(self.estimator_, X, y)
        scoring = self.scoring or ("accuracy" if is_classifier(self.estimator_) else "r2")
        if scoring not in _SCORERS:
            raise ValueError(f"{type(self).__name__}.score: scoring={scoring!r} is not available on chunked input; "
                             f"use one of {sorted(_SCORERS)} or a callable scorer(estimator, X, y)")
        metric, method, sign = _SCORERS[scoring]
        predictions = self._blockwise(method, X)
        if scoring == "roc_auc" and predictions.ndim == 2 and predictions.shape[1] == 2:
            predictions = predictions[:, 1]
        kwargs = {"sample_weight": sample_weight} if sample_weight is not None else {}
        return sign * metric(y, predictions, **kwargs)


def _unique_labels(block: np.ndarray) -> np.ndarray:
    return np.unique(block)


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.unique(np.concatenate([a, b]))


def _compute_block(pair: tuple) -> tuple:
    return compute(*pair)


class Incremental(ParallelPostFit):
    """Fit an estimator with ``partial_fit`` one row block at a time (as ``dask_ml.wrappers.Incremental``).

    ``epochs``: passes over the data; ``shuffle_blocks``: visit the blocks in
    a random order (a new one each epoch, drawn from ``random_state``, so a
    seeded fit is reproducible on any scheduler). Keyword arguments of
    ``fit``/``partial_fit`` (``classes=``, ``sample_weight`` excepted) reach
    every ``partial_fit`` call.
    """

    def __init__(self, estimator: Any = None, scoring: Any = None, epochs: int = 1, shuffle_blocks: bool = True,
                 random_state: Any = None, assume_equal_chunks: bool = True, predict_meta: Any = None,
                 predict_proba_meta: Any = None, transform_meta: Any = None):
        super().__init__(estimator, scoring=scoring, predict_meta=predict_meta,
                         predict_proba_meta=predict_proba_meta, transform_meta=transform_meta)
        self.epochs = epochs
        self.shuffle_blocks = shuffle_blocks
        self.random_state = random_state
        self.assume_equal_chunks = assume_equal_chunks

    def fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> Incremental:
        """``epochs`` passes of ``partial_fit`` over the row blocks, on a fresh clone of ``estimator``."""
        estimator = self._check_estimator()
        if not hasattr(estimator, "partial_fit"):
            raise TypeError(f"Incremental: {type(estimator).__name__} has no partial_fit; wrap an estimator that "
                            "learns incrementally (SGDClassifier, MiniBatchKMeans, ...) or use ParallelPostFit")
        if not isinstance(self.epochs, (int, np.integer)) or self.epochs < 1:
            raise ValueError(f"Incremental: epochs must be a positive integer, got {self.epochs!r}")
        self.estimator_ = clone(estimator)
        self._passes(X, y, self.epochs, fit_kwargs)
        return self

    def partial_fit(self, X: Any, y: Any = None, **fit_kwargs: Any) -> Incremental:
        """One more pass of ``partial_fit`` over the row blocks (the first call starts from a clone)."""
        if not hasattr(self, "estimator_"):
            self.estimator_ = clone(self._check_estimator())
        self._passes(X, y, 1, fit_kwargs)
        return self

    def _passes(self, X: Any, y: Any, epochs: int, fit_kwargs: dict) -> None:
        name = f"{type(self).__name__}.fit"
        if not (is_chunked(X) or is_chunked(y)):
            if y is not None and is_classifier(self.estimator_) and "classes" not in fit_kwargs \
                    and not hasattr(self.estimator_, "classes_"):
                fit_kwargs = {**fit_kwargs, "classes": unique_labels(y)}
            for _ in range(epochs):
                self.estimator_.partial_fit(X, y, **fit_kwargs)
            return
        if y is None:
            X = check_array(X, name, dtype=None, allow_unknown_rows=True)
            blocks = [(b,) for b in as_row_blocks(X)]
        else:
            X, y = check_X_y(X, y, name, dtype=None)
            blocks = as_row_blocks(X, y)
            if is_classifier(self.estimator_) and "classes" not in fit_kwargs \
                    and not hasattr(self.estimator_, "classes_"):
                classes = tree_reduce(map_row_blocks(_unique_labels, y), _union).compute()
                fit_kwargs = {**fit_kwargs, "classes": classes}
        seed = check_random_state_seed(self.random_state)
        rng = np.random.default_rng(seed)
        order = []
        for _ in range(epochs):
            order += list(rng.permutation(len(blocks)) if self.shuffle_blocks else range(len(blocks)))
        with ThreadPoolExecutor(1) as prefetch:
            upcoming = prefetch.submit(_compute_block, blocks[order[0]])
            for step in range(len(order)):
                values = upcoming.result()
                if step + 1 < len(order):
                    upcoming = prefetch.submit(_compute_block, blocks[order[step + 1]])
                if len(values[0]) == 0:
                    continue
                self.estimator_.partial_fit(*values, **fit_kwargs)
