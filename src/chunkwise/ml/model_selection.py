"""Splitting chunked data: ``train_test_split``, ``KFold``, ``ShuffleSplit``; hyper-parameter search.

Design of :func:`train_test_split` on chunked input: the first chunked
argument's row chunks are the reference; every other argument is checked to
have as many rows (from metadata, before anything is computed) and rechunked
to those row chunks, so row ``r`` of ``X`` and row ``r`` of ``y`` are always
in the same block at the same place. Then

- ``shuffle=False``: plain slices, rows ``[0, n_train)`` for training and
  ``[n_train, n_train + n_test)`` for testing, as scikit-learn;
- ``shuffle=True`` (``blockwise=True``, the default): the test rows are
  apportioned to the blocks in proportion to their lengths (largest
  remainders), and each block draws a permutation of its rows from its own
  seeded stream, ``SeedSequence(seed, spawn_key=(block,))``, taking the first
  ``n_test_i`` for testing and the next ``n_train_i`` for training. Every
  argument's block ``i`` uses the same permutation, so rows stay paired; the
  output chunks are known (``n_train_i``/``n_test_i``) and no data move
  between blocks. Rows are shuffled within blocks; the result depends on the
  seed and the chunking, and is the same on every scheduler;
- ``shuffle=True, blockwise=False``: one global permutation of the ``n``
  row numbers is drawn when the plan is built (``8 n`` bytes on the client)
  and every argument is gathered with it: rows move across blocks. Arrays
  are indexed with it; dataframes (and Series) are moved by the dataframe
  shuffle engine keyed by each row's output position
  (:func:`chunkwise.ml.frame_split.gather_rows`), into partitions of the
  same lengths as the arrays' row chunks: the same rows, in the same order,
  for the same seed, whatever the mix of inputs.

Dataframes are split the same way (their partition lengths are computed when
the plan does not know them, e.g. unknown divisions) and come back as
dataframes whose partition lengths the plan knows (:class:`SplitPartitions`),
so their ``.values`` pair with each other (``fit(train[features],
train[label])``) without another pass. The split is lazy: an iterative fit
recomputes it on every pass (with ``blockwise=False``, a shuffle per pass),
so ``persist()`` the parts first when they are fitted more than once.
In-memory arguments only: scikit-learn's ``train_test_split``.

``KFold``/``ShuffleSplit`` are scikit-learn's, reading the number of rows of
chunked input from its metadata; they yield NumPy index arrays.

``GridSearchCV``/``RandomizedSearchCV`` build one task graph for the whole
search and compute it once: per fold, the rows of ``X``/``y`` selected in
memory; per candidate and fold, a fit task and a score task. For a
``Pipeline``, each prefix of transformer steps is one task keyed by a token
of (the fold, the steps so far, their parameters): candidates whose prefixes
have equal parameters share the key, so the prefix is fitted once per fold
and its output reused (a grid over the final step's parameters fits the
scaler ``n_folds`` times, not ``n_folds * n_candidates``).

>>> import numpy as np
>>> import chunkwise.array as da
>>> X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(4, 2))
>>> y = da.from_array(np.arange(10), chunks=3)
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
>>> X_train.shape, X_test.shape, X_test.chunks[0]
((7, 2), (3, 2), (1, 1, 1))
>>> bool((X_test.compute()[:, 0] == 2 * y_test.compute()).all())
True
"""

from __future__ import annotations

import math
import numbers
import operator
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn import model_selection as sklearn_model_selection
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import ParameterGrid, ParameterSampler, check_cv
from sklearn.model_selection import train_test_split as sklearn_train_test_split
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if

from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, from_array
from chunkwise.base import compute
from chunkwise.core.tokenize import tokenize
from chunkwise.dataframe.core import FrameBase
from chunkwise.delayed import delayed
from chunkwise.ml.frame_split import (
    SplitPartitions,
    frame_lengths,
    gather_rows,
    pick_rows,
    slice_rows,
    split_within_partitions,
)
from chunkwise.ml.validation import check_is_fitted, check_random_state_seed, is_chunked, num_rows
from chunkwise.ml.wrappers import ParallelPostFit, estimator_has

__all__ = [
    "GridSearchCV",
    "KFold",
    "RandomizedSearchCV",
    "ShuffleSplit",
    "SplitPartitions",
    "apportion",
    "split_sizes",
    "train_test_split",
]


def split_sizes(n_samples: int, test_size: Any, train_size: Any, default_test_size: float = 0.25,
                name: str = "train_test_split") -> tuple:
    """``(n_train, n_test)`` for ``n_samples`` rows, with scikit-learn's rules and errors."""
    if test_size is None and train_size is None:
        test_size = default_test_size

    def check(value: Any, what: str) -> None:
        if value is None:
            return
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if not 0 < value < n_samples:
                raise ValueError(f"{name}: {what}={value} should be either positive and smaller than the number "
                                 f"of samples {n_samples} or a float in the (0, 1) range")
        elif isinstance(value, numbers.Real):
            if not 0 < value < 1:
                raise ValueError(f"{name}: {what}={value} should be either positive and smaller than the number "
                                 f"of samples {n_samples} or a float in the (0, 1) range")
        else:
            raise ValueError(f"{name}: invalid value for {what}: {value!r}")

    check(test_size, "test_size")
    check(train_size, "train_size")
    if isinstance(test_size, float) and isinstance(train_size, float) and test_size + train_size > 1:
        raise ValueError(f"{name}: the sum of test_size and train_size = {test_size + train_size}, should be in "
                         "the (0, 1) range. Reduce test_size and/or train_size.")
    n_test = None
    if isinstance(test_size, float):
        n_test = math.ceil(test_size * n_samples)
    elif test_size is not None:
        n_test = int(test_size)
    n_train = None
    if isinstance(train_size, float):
        n_train = math.floor(train_size * n_samples)
    elif train_size is not None:
        n_train = int(train_size)
    if n_train is None:
        n_train = n_samples - n_test
    elif n_test is None:
        n_test = n_samples - n_train
    if n_train + n_test > n_samples:
        raise ValueError(f"{name}: the sum of train_size and test_size = {n_train + n_test}, should be smaller than "
                         f"the number of samples {n_samples}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"{name}: with n_samples={n_samples}, test_size={test_size} and train_size={train_size}, "
                         "the resulting train set will be empty. Adjust any of the aforementioned parameters.")
    return n_train, n_test


def apportion(total: int, capacities: Any) -> list:
    """``total`` split over bins in proportion to ``capacities`` (largest remainders), never above a capacity.

    >>> apportion(3, [4, 4, 2])
    [1, 1, 1]
    >>> apportion(5, [10, 0, 10])
    [3, 0, 2]
    """
    capacities = np.asarray(capacities, dtype=np.int64)
    whole = int(capacities.sum())
    if total > whole:
        raise ValueError(f"apportion: {total} does not fit in {whole}")
    if whole == 0:
        return [0] * len(capacities)
    exact = capacities * (total / whole)
    counts = np.minimum(np.floor(exact).astype(np.int64), capacities)
    remainder = exact - counts
    order = np.argsort(-remainder, kind="stable")
    missing = total - int(counts.sum())
    for i in order:
        if missing == 0:
            break
        if counts[i] < capacities[i]:
            counts[i] += 1
            missing -= 1
    return [int(c) for c in counts]


# --- train_test_split ---------------------------------------------------------------------------


def _pick_array_rows(block: np.ndarray, seed: int, starts: tuple, stops: tuple, block_id: Any = None) -> np.ndarray:
    i = block_id[0]
    return pick_rows(block, seed, i, starts[i], stops[i])


def _align_arrays(arrays: list) -> tuple:
    """The arguments as chunked pieces sharing one row chunking, and that chunking."""
    name = "train_test_split"
    lengths = {num_rows(a) for a in arrays}
    known = {n for n in lengths if not math.isnan(n)}
    if len(known) > 1:
        found = [num_rows(a) for a in arrays]
        raise ValueError(f"{name}: found input variables with inconsistent numbers of samples: {found}; "
                         "pass arrays with the same number of rows")
    reference = None
    for a in arrays:
        if isinstance(a, FrameBase):
            reference = frame_lengths(a)
            break
    if reference is None:
        for a in arrays:
            if isinstance(a, Array):
                check_known_chunks(name, a, axes=(0,), what="an input")
                reference = tuple(int(c) for c in a.chunks[0])
                break
    aligned = []
    for a in arrays:
        if isinstance(a, FrameBase):
            own = frame_lengths(a)
            if sum(own) != sum(reference):
                raise ValueError(f"{name}: inconsistent numbers of samples: {sum(reference)} and {sum(own)}; "
                                 "pass inputs with the same number of rows")
            if own != reference:
                raise ValueError(f"{name}: the dataframes' partitions hold different numbers of rows "
                                 f"({own} and {reference}); repartition them alike first")
            aligned.append(a)
        elif isinstance(a, Array):
            check_known_chunks(name, a, axes=(0,), what="an input")
            aligned.append(a if a.chunks[0] == reference else a.rechunk({0: reference}))
        else:
            values = np.asarray(a)
            aligned.append(from_array(values, chunks=(reference,) + tuple((n,) for n in values.shape[1:])))
    if sum(reference) != next(iter(known), sum(reference)):
        raise ValueError(f"{name}: inconsistent numbers of samples: {sum(reference)} and {known}")
    return aligned, reference


def train_test_split(*arrays: Any, test_size: Any = None, train_size: Any = None, random_state: Any = None,
                     shuffle: bool = True, stratify: Any = None, blockwise: bool = True) -> list:
    """Split arrays or dataframes into random train and test subsets, as ``sklearn.model_selection.train_test_split``.

    Returns ``[a_train, a_test, b_train, b_test, ...]``: chunkwise arrays for
    array (and in-memory) arguments mixed with chunked ones, dataframes for
    dataframes; all in memory: scikit-learn's result. ``blockwise`` (as
    dask-ml): shuffle rows within blocks (``True``) or across them (arrays and
    dataframes alike: the same rows as for an array). Mismatched
    lengths raise before anything is computed. ``stratify`` is supported for
    in-memory input only. See the module docstring for how rows are chosen.
    """
    name = "train_test_split"
    if not arrays:
        raise ValueError(f"{name}: at least one array required as input")
    if not any(is_chunked(a) for a in arrays):
        return sklearn_train_test_split(*arrays, test_size=test_size, train_size=train_size,
                                        random_state=random_state, shuffle=shuffle, stratify=stratify)
    if stratify is not None:
        raise NotImplementedError(f"{name}: stratify= is supported for in-memory input only; split chunked data "
                                  "with stratify=None (the random within-block split keeps class proportions "
                                  "close on large data)")
    aligned, lengths = _align_arrays(list(arrays))
    n_samples = sum(lengths)
    n_train, n_test = split_sizes(n_samples, test_size, train_size)
    out: list = []
    if not shuffle:
        for a in aligned:
            if isinstance(a, FrameBase):
                out += [slice_rows(a, lengths, 0, n_train), slice_rows(a, lengths, n_train, n_train + n_test)]
            else:
                out += [a[:n_train], a[n_train:n_train + n_test]]
        return out
    seed = check_random_state_seed(random_state)
    if not blockwise:
        order = np.random.default_rng(np.random.SeedSequence(seed)).permutation(n_samples)
        train_index, test_index = order[n_test:n_test + n_train], order[:n_test]
        inverse = None
        rows_per_partition = max(max(lengths), 1)  # the row chunks of an array gathered by index
        for a in aligned:
            if isinstance(a, FrameBase):
                if inverse is None:
                    inverse = np.empty(n_samples, dtype=np.int64)
                    inverse[order] = np.arange(n_samples, dtype=np.int64)
                out += [gather_rows(a, lengths, inverse, n_test, n_test + n_train, rows_per_partition),
                        gather_rows(a, lengths, inverse, 0, n_test, rows_per_partition)]
            else:
                out += [a[train_index], a[test_index]]
        return out
    test_counts = apportion(n_test, lengths)
    train_counts = apportion(n_train, [n - t for n, t in zip(lengths, test_counts)])
    test_stops = tuple(test_counts)
    train_stops = tuple(t + r for t, r in zip(test_counts, train_counts))
    zeros = (0,) * len(lengths)
    for a in aligned:
        if isinstance(a, FrameBase):
            out += [split_within_partitions(a, seed, test_stops, train_stops),
                    split_within_partitions(a, seed, zeros, test_stops)]
            continue
        rest = a.chunks[1:]
        train = a.map_blocks(_pick_array_rows, seed, test_stops, train_stops, dtype=a.dtype,
                             chunks=(tuple(train_counts),) + rest)
        test = a.map_blocks(_pick_array_rows, seed, zeros, test_stops, dtype=a.dtype,
                            chunks=(tuple(test_counts),) + rest)
        out += [train, test]
    return out


# --- KFold and ShuffleSplit ---------------------------------------------------------------------


def _known_rows(X: Any, name: str) -> int:
    n = num_rows(X)
    if math.isnan(n):
        check_known_chunks(name, X if isinstance(X, Array) else ((math.nan,),), axes=(0,), what="X")
    return int(n)


class KFold(sklearn_model_selection.KFold):
    """K-fold cross-validation indices, as ``sklearn.model_selection.KFold``.

    ``split`` accepts chunkwise arrays and dataframes too: the number of rows
    comes from the metadata (unknown row chunks raise, naming
    ``compute_chunk_sizes()``) and it yields NumPy ``(train, test)`` index
    arrays, as scikit-learn's; select rows with ``X[train]``.
    """

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        if not is_chunked(X):
            yield from super().split(X, y, groups)
            return
        n = _known_rows(X, "KFold.split")
        yield from super().split(np.empty((n, 0)), None, groups)


class ShuffleSplit(sklearn_model_selection.ShuffleSplit):
    """Random permutation cross-validation indices, as ``sklearn.model_selection.ShuffleSplit`` (chunked input too)."""

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
        if not is_chunked(X):
            yield from super().split(X, y, groups)
            return
        n = _known_rows(X, "ShuffleSplit.split")
        yield from super().split(np.empty((n, 0)), None, groups)


# --- hyper-parameter search ---------------------------------------------------------------------


def _concat_rows(blocks: list) -> Any:
    if blocks and isinstance(blocks[0], (pd.DataFrame, pd.Series)):
        return pd.concat(blocks)
    return np.concatenate(blocks) if len(blocks) > 1 else blocks[0]


def _in_memory(a: Any) -> Any:
    """``a`` as one ``Delayed`` value holding all its rows (chunked) or as itself (in memory)."""
    if isinstance(a, FrameBase):
        return delayed(_concat_rows, pure=True)(a.to_delayed())
    if isinstance(a, Array):
        if a.ndim == 2 and a.numblocks[1] != 1:
            a = a.rechunk({1: -1})
        blocks = [row[0] if a.ndim == 2 else row for row in a.to_delayed().tolist()]
        return delayed(_concat_rows, pure=True)(blocks)
    return delayed(a)


def _rows(a: Any, index: np.ndarray) -> Any:
    if a is None:
        return None
    if hasattr(a, "iloc"):
        return a.iloc[index]
    if hasattr(a, "tocsr"):  # scipy sparse
        return a.tocsr()[index]
    return np.asarray(a)[index]


def _fit_step(step: Any, X: Any, y: Any, fit_params: dict) -> tuple:
    started = time.perf_counter()
    if hasattr(step, "fit_transform"):
        Xt = step.fit_transform(X, y, **fit_params)
    else:
        Xt = step.fit(X, y, **fit_params).transform(X)
    return step, Xt, time.perf_counter() - started


def _transform_step(fitted: tuple, X: Any) -> Any:
    return fitted[0].transform(X)


def _fit_final(estimator: Any, X: Any, y: Any, fit_params: dict, error_score: Any) -> tuple:
    started = time.perf_counter()
    try:
        estimator = estimator.fit(X, y, **fit_params)
    except Exception as exc:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        warnings.warn(f"GridSearchCV: a candidate failed to fit ({type(exc).__name__}: {exc}); its score is "
                      f"error_score={error_score}", FitFailedWarning, stacklevel=2)
        return None, time.perf_counter() - started
    return estimator, time.perf_counter() - started


def _score(fitted: tuple, scorer: Any, X: Any, y: Any, error_score: Any, prefix_time: Any = 0.0) -> tuple:
    estimator, fit_time = fitted
    if estimator is None:
        return float(error_score), fit_time, 0.0
    started = time.perf_counter()
    value = scorer(estimator, X, y) if y is not None else scorer(estimator, X)
    return float(value), fit_time + sum(prefix_time if isinstance(prefix_time, list) else [prefix_time]), \
        time.perf_counter() - started


def _step_time(fitted: tuple) -> float:
    return fitted[2]


def _split_params(pipeline: Pipeline, params: dict) -> list:
    """Per pipeline step, the candidate's parameters of that step (``step__param``) as a sorted tuple."""
    per_step: list = [[] for _ in pipeline.steps]
    names = [name for name, _ in pipeline.steps]
    for key, value in params.items():
        name, _, rest = key.partition("__")
        if name in names and rest:
            per_step[names.index(name)].append((rest, value))
        elif name in names:
            per_step[names.index(name)].append(("", value))  # the whole step replaced
        else:
            raise ValueError(f"Invalid parameter {key!r} for estimator {pipeline}")
    return [tuple(sorted(p, key=lambda kv: kv[0])) for p in per_step]


def _configured_step(step: Any, params: tuple) -> Any:
    replaced = dict(params).get("")
    step = clone(replaced if replaced is not None else step)
    rest = {k: v for k, v in params if k}
    return step.set_params(**rest) if rest else step



def _best_estimators(method: str, what: str) -> Any:
    """The search's ``method``: the best estimator's, lazy and blockwise on chunked input."""

    @available_if(estimator_has(method))
    def call(self: Any, X: Any) -> Any:
        return self._call(method, X)

    call.__name__ = call.__qualname__ = method
    call.__doc__ = f"The best estimator's {what} (lazy on chunked input)."
    return call


class _BaseSearch(MetaEstimatorMixin, BaseEstimator):
    """What ``GridSearchCV`` and ``RandomizedSearchCV`` share: the task graph of the search and the fitted attributes."""

    def _candidates(self) -> list:
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags = inner.input_tags
        tags.target_tags = inner.target_tags
        return tags

    def _fold_graph(self, X_d: Any, y_d: Any, candidates: list, folds: list, scorer: Any, fit_params: dict) -> list:
        """One ``Delayed`` ``(test score, fit time, score time)`` (and train score) per candidate and fold."""
        estimator = self.estimator
        is_pipeline = isinstance(estimator, Pipeline)
        out = []
        for f, (train, test) in enumerate(folds):
            X_train = delayed(_rows, pure=True)(X_d, train)
            X_test = delayed(_rows, pure=True)(X_d, test)
            y_train = delayed(_rows, pure=True)(y_d, train) if y_d is not None else None
            y_test = delayed(_rows, pure=True)(y_d, test) if y_d is not None else None
            for params in candidates:
                Xt_train, Xt_test, prefix_times = X_train, X_test, []
                final = clone(estimator).set_params(**params)
                if is_pipeline:
                    per_step = _split_params(estimator, params)
                    steps = estimator.steps
                    key = tokenize(f, train, "search-prefix")
                    for (name, step), step_params in zip(steps[:-1], per_step[:-1]):
                        if step is None or step == "passthrough":
                            continue
                        key = tokenize(key, name, type(step).__name__, step.get_params(deep=True), step_params)
                        configured = _configured_step(step, step_params)
                        fitted = delayed(_fit_step, pure=True)(configured, Xt_train, y_train, {},
                                                               dask_key_name=f"fit-{name}-{key}")
                        prefix_times.append(delayed(_step_time, pure=True)(fitted, dask_key_name=f"time-{name}-{key}"))
                        Xt_train = delayed(operator.itemgetter(1), pure=True)(fitted, dask_key_name=f"Xt-{name}-{key}")
                        Xt_test = delayed(_transform_step, pure=True)(fitted, Xt_test,
                                                                      dask_key_name=f"Xt-test-{name}-{key}")
                    last = steps[-1][1]
                    final = _configured_step(last, per_step[-1])
                fitted = delayed(_fit_final, pure=False)(final, Xt_train, y_train, fit_params, self.error_score)
                test_score = delayed(_score, pure=False)(fitted, scorer, Xt_test, y_test, self.error_score,
                                                         prefix_times)
                train_score = delayed(_score, pure=False)(fitted, scorer, Xt_train, y_train, self.error_score) \
                    if self.return_train_score else None
                out.append((test_score, train_score))
        return out

    def fit(self, X: Any, y: Any = None, groups: Any = None, **fit_params: Any) -> Any:
        """Fit and score every candidate on every fold (all in one computation), then refit the best."""
        name = f"{type(self).__name__}.fit"
        if is_chunked(X) or is_chunked(y):
            n_X, n_y = num_rows(X), (num_rows(y) if y is not None else None)
            if n_y is not None and not (math.isnan(n_X) or math.isnan(n_y)) and n_X != n_y:
                raise ValueError(f"{name}: X has {n_X} rows but y has {n_y}; pass X and y with the same number "
                                 "of rows")
            n = _known_rows(X, name)
            y_memory = y.compute() if is_chunked(y) else y  # labels for stratified folds: one column
            X_split = np.empty((n, 0))
        else:
            y_memory, X_split = y, X
        cv = check_cv(self.cv, y_memory, classifier=is_classifier(self.estimator))
        folds = list(cv.split(X_split, y_memory, groups))
        scorer = check_scoring(self.estimator, scoring=self.scoring)
        candidates = self._candidates()
        if not candidates:
            raise ValueError(f"{name}: no candidate parameters to search")
        X_d = _in_memory(X)
        y_d = _in_memory(y) if y is not None else None
        graph = self._fold_graph(X_d, y_d, candidates, folds, scorer, fit_params)
        results = compute(*[t for t, _ in graph], *[t for _, t in graph if t is not None])
        n_folds, n_candidates = len(folds), len(candidates)
        test = np.array([r[0] for r in results[:len(graph)]]).reshape(n_folds, n_candidates)
        fit_times = np.array([r[1] for r in results[:len(graph)]]).reshape(n_folds, n_candidates)
        score_times = np.array([r[2] for r in results[:len(graph)]]).reshape(n_folds, n_candidates)
        train = np.array([r[0] for r in results[len(graph):]]).reshape(n_folds, n_candidates) \
            if self.return_train_score else None
        self.cv_results_ = _cv_results(candidates, test, train, fit_times, score_times)
        self.n_splits_ = n_folds
        self.scorer_ = scorer
        self.multimetric_ = False
        self.best_index_ = int(self.cv_results_["rank_test_score"].argmin())
        self.best_score_ = float(self.cv_results_["mean_test_score"][self.best_index_])
        self.best_params_ = candidates[self.best_index_]
        if self.refit:
            X_fit = X.compute() if is_chunked(X) else X
            y_fit = y.compute() if is_chunked(y) else y
            started = time.perf_counter()
            best = clone(self.estimator).set_params(**self.best_params_)
            self.best_estimator_ = best.fit(X_fit, y_fit, **fit_params)
            self.refit_time_ = time.perf_counter() - started
            for attr in ("classes_", "n_features_in_", "feature_names_in_"):
                if hasattr(self.best_estimator_, attr):
                    setattr(self, attr, getattr(self.best_estimator_, attr))
        return self

    # --- the best estimator's methods (lazy and blockwise on chunked input) ------------------------

    def _call(self, method: str, X: Any) -> Any:
        check_is_fitted(self, "best_estimator_")
        wrapper = ParallelPostFit(self.best_estimator_)
        wrapper.estimator_ = self.best_estimator_
        return getattr(wrapper, method)(X)

    predict = _best_estimators("predict", "predictions")
    predict_proba = _best_estimators("predict_proba", "class probabilities")
    predict_log_proba = _best_estimators("predict_log_proba", "log class probabilities")
    decision_function = _best_estimators("decision_function", "decision function")
    transform = _best_estimators("transform", "transform")

    def score(self, X: Any, y: Any = None) -> float:
        """The search's scorer on the best estimator (in memory) or its default metric in one pass (chunked)."""
        check_is_fitted(self, "best_estimator_")
        if is_chunked(X) or is_chunked(y):
            wrapper = ParallelPostFit(self.best_estimator_, scoring=self.scoring if isinstance(self.scoring, str)
                                      else None)
            wrapper.estimator_ = self.best_estimator_
            return wrapper.score(X, y)
        return float(self.scorer_(self.best_estimator_, X, y))


def _masked_params(candidates: list) -> dict:
    names = sorted({k for params in candidates for k in params})
    out = {}
    for key in names:
        column = np.ma.MaskedArray(np.empty(len(candidates), dtype=object), mask=True)
        for i, params in enumerate(candidates):
            if key in params:
                column[i] = params[key]
        out[f"param_{key}"] = column
    return out


def _cv_results(candidates: list, test: np.ndarray, train: Any, fit_times: np.ndarray,
                score_times: np.ndarray) -> dict:
    results: dict = {
        "mean_fit_time": fit_times.mean(axis=0), "std_fit_time": fit_times.std(axis=0),
        "mean_score_time": score_times.mean(axis=0), "std_score_time": score_times.std(axis=0),
    }
    results.update(_masked_params(candidates))
    results["params"] = candidates
    for kind, scores in (("test", test), ("train", train)):
        if scores is None:
            continue
        for f in range(scores.shape[0]):
            results[f"split{f}_{kind}_score"] = scores[f]
        results[f"mean_{kind}_score"] = scores.mean(axis=0)
        results[f"std_{kind}_score"] = scores.std(axis=0)
        if kind == "test":
            means = np.where(np.isnan(results["mean_test_score"]), -np.inf, results["mean_test_score"])
            results["rank_test_score"] = stats.rankdata(-means, method="min").astype(np.int32)
    return results


class GridSearchCV(_BaseSearch):
    """Exhaustive search over a parameter grid, as ``sklearn.model_selection.GridSearchCV``.

    All candidates and folds are fitted in one computation on the scheduler
    (in parallel); fold data are gathered in memory per fold, as dask-ml
    does. For a ``Pipeline``, a prefix of steps with equal parameters is
    fitted once per fold and shared by every candidate that has it (its task
    key is a token of the steps' parameters and the fold). ``n_jobs``,
    ``verbose`` and ``pre_dispatch`` are accepted for compatibility (the
    scheduler decides the parallelism). Chunked ``X``/``y`` work too:
    ``y`` is read once to make the folds (stratified for classifiers, as
    scikit-learn), and ``predict``/``score`` of chunked input are lazy.
    """

    def __init__(self, estimator: Any, param_grid: Any, *, scoring: Any = None, n_jobs: Any = None,
                 refit: bool = True, cv: Any = None, verbose: int = 0, pre_dispatch: Any = "2*n_jobs",
                 error_score: Any = np.nan, return_train_score: bool = False):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.error_score = error_score
        self.return_train_score = return_train_score

    def _candidates(self) -> list:
        return list(ParameterGrid(self.param_grid))


class RandomizedSearchCV(_BaseSearch):
    """Randomized search over parameter distributions, as ``sklearn.model_selection.RandomizedSearchCV``.

    Candidates are drawn by scikit-learn's ``ParameterSampler`` from
    ``random_state``; everything else is as :class:`GridSearchCV`.
    """

    def __init__(self, estimator: Any, param_distributions: Any, *, n_iter: int = 10, scoring: Any = None,
                 n_jobs: Any = None, refit: bool = True, cv: Any = None, verbose: int = 0,
                 pre_dispatch: Any = "2*n_jobs", random_state: Any = None, error_score: Any = np.nan,
                 return_train_score: bool = False):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.refit = refit
        self.cv = cv
        self.verbose = verbose
        self.pre_dispatch = pre_dispatch
        self.random_state = random_state
        self.error_score = error_score
        self.return_train_score = return_train_score

    def _candidates(self) -> list:
        return list(ParameterSampler(self.param_distributions, self.n_iter, random_state=self.random_state))
