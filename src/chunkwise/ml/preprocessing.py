"""Preprocessing on chunked data: scalers, encoders, polynomial features, label encoding.

Design: every transformer here *is* its scikit-learn counterpart (a
subclass: same parameters, same fitted attributes, same
``get_feature_names_out``), and only ``fit``/``transform``/``inverse_transform``
of chunked input are ours:

- In-memory input (NumPy, pandas, lists) goes straight to scikit-learn, so
  the results are scikit-learn's and ``check_estimator`` applies unchanged.
- ``fit`` on a chunkwise Array or DataFrame is **one pass**: one task per row
  block computes every statistic the transformer needs from that block (a
  scaler's count, mean and sum of squared deviations, minima and maxima,
  quantile summaries; an encoder's categories) and a tree of ``combine``
  calls merges them (:func:`chunkwise.ml.passes.fold_pass`). Means and
  variances merge with Chan's pairwise formulas, so they equal NumPy's to
  rounding.
- ``transform``/``inverse_transform`` are lazy and blockwise: an Array gives
  an Array with the same row chunks (one column chunk), a DataFrame a
  DataFrame with the same partitions. Nothing is computed until asked.

Rows with unknown lengths (after a boolean mask, or a dataframe's
``.values``) are fine here: no transformer pairs or splits rows.

``RobustScaler``'s quantiles are exact on a single block; on several blocks
each block contributes 1001 evenly spaced quantiles weighted by its row
count and the quantiles of that weighted summary are returned: the rank error
is below 0.1 % of the largest block's rows.

The encoders (``OneHotEncoder``, ``OrdinalEncoder``, ``Categorizer``,
``DummyEncoder``) live in :mod:`chunkwise.ml.encoders` and are re-exported here.

>>> import numpy as np
>>> import chunkwise.array as da
>>> X = da.from_array(np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]]), chunks=(3, 2))
>>> scaler = StandardScaler().fit(X)
>>> scaler.mean_, scaler.n_samples_seen_
(array([ 2.5, 25. ]), np.int64(4))
>>> Z = scaler.transform(X)
>>> Z.chunks
((3, 1), (2,))
>>> np.round(Z.compute()[:, 0], 3)
array([-1.342, -0.447,  0.447,  1.342])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from sklearn import preprocessing as sk

from chunkwise.array.core import Array
from chunkwise.dataframe.core import FrameBase
from chunkwise.ml.blocks import (
    as_sklearn,
    sklearn_transform,
    transform_blocks,
)
from chunkwise.ml.encoders import Categorizer, DummyEncoder, OneHotEncoder, OrdinalEncoder
from chunkwise.ml.passes import fold_pass
from chunkwise.ml.validation import check_array, check_is_fitted, check_X_y, is_chunked

__all__ = [
    "Categorizer",
    "DummyEncoder",
    "LabelEncoder",
    "MinMaxScaler",
    "OneHotEncoder",
    "OrdinalEncoder",
    "PolynomialFeatures",
    "RobustScaler",
    "StandardScaler",
]


# --- shared pieces ------------------------------------------------------------------------------


def _fit_input(estimator: Any, X: Any, name: str) -> Array:
    """``X`` as a float Array for a chunked ``fit``, recording ``n_features_in_`` and ``feature_names_in_``."""
    if isinstance(X, FrameBase):
        if not hasattr(X, "columns"):
            raise ValueError(f"{name}: expected a 2-D DataFrame, got a Series; use series.to_frame()")
        estimator.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    out = check_array(X, name, allow_unknown_rows=True)
    estimator.n_features_in_ = int(out.shape[1])
    return out


def _scaled_blocks(estimator: Any, X: Any, method: str, func: Any, *params: Any) -> Any:
    """``func(block, *params)`` on each block of chunked ``X``, checked for ``estimator.method``; lazy.

    The result keeps ``X``'s dtype (float64 for a DataFrame) and columns.
    """
    X = _check_transform_input(estimator, X, f"{type(estimator).__name__}.{method}")
    return transform_blocks(X, func, *params, dtype=X.dtype if isinstance(X, Array) else np.float64,
                            n_out=estimator.n_features_in_,
                            columns=list(X.columns) if isinstance(X, FrameBase) else None)


def _check_transform_input(estimator: Any, X: Any, name: str) -> Any:
    """Chunked ``X`` checked against the fitted number of features (a DataFrame stays a DataFrame)."""
    check_is_fitted(estimator)
    n_features = X.shape[1] if isinstance(X, Array) and X.ndim == 2 else len(getattr(X, "columns", ()))
    if isinstance(X, Array):
        X = check_array(X, name, allow_unknown_rows=True)
        n_features = X.shape[1]
    if n_features != estimator.n_features_in_:
        raise ValueError(f"{name}: X has {n_features} features, but {type(estimator).__name__} is expecting "
                         f"{estimator.n_features_in_} features as input")
    return X


def _handle_zeros_in_scale(scale: np.ndarray, constant_mask: np.ndarray | None = None) -> np.ndarray:
    """Scale factors of 0 (or of constant features) replaced by 1, as scikit-learn does."""
    scale = np.array(scale, dtype=float, copy=True)
    if constant_mask is None:
        constant_mask = scale < 10 * np.finfo(scale.dtype).eps
    scale[constant_mask] = 1.0
    return scale


def _counts_attribute(counts: np.ndarray) -> Any:
    """``n_samples_seen_`` as scikit-learn gives it: one int64 when all features saw as many rows."""
    if np.all(counts == np.round(counts)):
        counts = counts.astype(np.int64)
    return counts[0] if np.ptp(counts) == 0 else counts


# --- StandardScaler -----------------------------------------------------------------------------


def _moments(block: np.ndarray, weights: Any = None) -> tuple:
    """``(count, mean, M2)`` per column of one block, NaNs ignored; ``weights`` per row (optional)."""
    if weights is None and len(block):
        mean = block.mean(axis=0, dtype=np.float64)
        if np.isfinite(mean).all():  # no NaN in the block: three reads of it, not ten
            centered = block - mean
            return (np.full(block.shape[1], float(len(block))), mean,
                    np.einsum("ij,ij->j", centered, centered))
    present = ~np.isnan(block)
    w = present.astype(np.float64) if weights is None else present * np.asarray(weights, dtype=np.float64)[:, None]
    count = w.sum(axis=0)
    values = np.where(present, block, 0.0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, (w * values).sum(axis=0) / np.where(count > 0, count, 1), 0.0)
    m2 = (w * (values - mean) ** 2).sum(axis=0)
    return count, mean, m2


def _merge_moments(a: tuple, b: tuple) -> tuple:
    """Chan's pairwise update of two ``(count, mean, M2)`` triples."""
    n_a, mean_a, m2_a = a
    n_b, mean_b, m2_b = b
    n = n_a + n_b
    safe = np.where(n > 0, n, 1)
    delta = mean_b - mean_a
    mean = mean_a + delta * n_b / safe
    m2 = m2_a + m2_b + delta**2 * n_a * n_b / safe
    return n, mean, m2


def _standard_transform(block: np.ndarray, mean: Any, scale: Any) -> np.ndarray:
    out = block.astype(block.dtype, copy=True)
    if mean is not None:
        out -= mean.astype(block.dtype)
    if scale is not None:
        out /= scale.astype(block.dtype)
    return out


def _standard_inverse(block: np.ndarray, mean: Any, scale: Any) -> np.ndarray:
    out = block.astype(block.dtype, copy=True)
    if scale is not None:
        out *= scale.astype(block.dtype)
    if mean is not None:
        out += mean.astype(block.dtype)
    return out


class StandardScaler(sk.StandardScaler):
    """Standardize features to zero mean and unit variance, as ``sklearn.preprocessing.StandardScaler``.

    On chunked input ``fit`` is one pass (count, mean and variance merged
    pairwise, NaNs ignored as scikit-learn does; ``sample_weight`` may be a
    1-D chunked or NumPy array with as many rows) and ``transform`` is lazy.
    ``partial_fit`` of chunked input is ``fit`` on it followed by a merge.
    """

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        if not is_chunked(X):
            return super().fit(X, y, sample_weight)
        for attr in ("n_samples_seen_", "mean_", "var_", "scale_"):
            self.__dict__.pop(attr, None)
        return self._fit_chunked(X, sample_weight)

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        if not is_chunked(X):
            return super().partial_fit(X, y, sample_weight)
        return self._fit_chunked(X, sample_weight)

    def _fit_chunked(self, X: Any, sample_weight: Any) -> StandardScaler:
        name = f"{type(self).__name__}.fit"
        previous = getattr(self, "n_samples_seen_", None)
        old = (np.broadcast_to(previous, (self.n_features_in_,)).astype(float), self.mean_,
               self.var_ * previous if self.var_ is not None else None) if previous is not None else None
        Xc = _fit_input(self, X, name)
        if sample_weight is None:
            count, mean, m2 = fold_pass(_moments, [Xc], _merge_moments)
        else:
            Xc, weights = check_X_y(Xc, sample_weight, name, y_numeric=True)
            count, mean, m2 = fold_pass(_moments, [Xc, weights], _merge_moments)
        if old is not None and old[2] is not None:
            count, mean, m2 = _merge_moments(old, (count, mean, m2))
        self.n_samples_seen_ = _counts_attribute(count)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = np.where(count > 0, m2 / np.where(count > 0, count, 1), np.nan)
            mean = np.where(count > 0, mean, np.nan)
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        if self.with_std:
            eps = np.finfo(np.float64).eps
            constant = var <= count * eps * var + (count * mean * eps) ** 2
            self.scale_ = _handle_zeros_in_scale(np.sqrt(var), constant)
        else:
            self.scale_ = None
        return self

    def transform(self, X: Any, copy: Any = None) -> Any:
        if not is_chunked(X):
            return super().transform(X, copy=copy)
        mean = self.mean_ if self.with_mean else None
        return _scaled_blocks(self, X, "transform", _standard_transform, mean, self.scale_)

    def inverse_transform(self, X: Any, copy: Any = None) -> Any:
        if not is_chunked(X):
            return super().inverse_transform(X, copy=copy)
        mean = self.mean_ if self.with_mean else None
        return _scaled_blocks(self, X, "inverse_transform", _standard_inverse, mean, self.scale_)


# --- MinMaxScaler -------------------------------------------------------------------------------


def _min_max(block: np.ndarray) -> tuple:
    if block.shape[0] == 0:
        return np.zeros(block.shape[1]), np.full(block.shape[1], np.inf), np.full(block.shape[1], -np.inf)
    low, high = block.min(axis=0), block.max(axis=0)
    if not (np.isnan(low).any() or np.isnan(high).any()):  # no NaN: plain min and max, no copies
        return np.full(block.shape[1], float(len(block))), low, high
    count = (~np.isnan(block)).sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, as in scikit-learn
            return count, np.nanmin(block, axis=0), np.nanmax(block, axis=0)


def _merge_min_max(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], np.fmin(a[1], b[1]), np.fmax(a[2], b[2])


def _min_max_transform(block: np.ndarray, scale: np.ndarray, minimum: np.ndarray, clip: Any) -> np.ndarray:
    out = block * scale.astype(block.dtype) + minimum.astype(block.dtype)
    if clip is not None:
        np.clip(out, clip[0], clip[1], out=out)
    return out


def _min_max_inverse(block: np.ndarray, scale: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    return (block - minimum.astype(block.dtype)) / scale.astype(block.dtype)


class MinMaxScaler(sk.MinMaxScaler):
    """Scale features to ``feature_range``, as ``sklearn.preprocessing.MinMaxScaler`` (one pass on chunked input)."""

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        if not is_chunked(X):
            return super().fit(X, y)
        for attr in ("n_samples_seen_", "data_min_", "data_max_"):
            self.__dict__.pop(attr, None)
        return self.partial_fit(X, y)

    def partial_fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        if not is_chunked(X):
            return super().partial_fit(X, y)
        low, high = self.feature_range
        if low >= high:
            raise ValueError(f"Minimum of desired feature range must be smaller than maximum. Got {self.feature_range}.")
        Xc = _fit_input(self, X, f"{type(self).__name__}.fit")
        count, data_min, data_max = fold_pass(_min_max, [Xc], _merge_min_max)
        if hasattr(self, "n_samples_seen_"):
            data_min, data_max = np.fmin(self.data_min_, data_min), np.fmax(self.data_max_, data_max)
            count = count + self.n_samples_seen_
        data_range = data_max - data_min
        self.scale_ = (high - low) / _handle_zeros_in_scale(data_range)
        self.min_ = low - data_min * self.scale_
        self.data_min_, self.data_max_, self.data_range_ = data_min, data_max, data_range
        self.n_samples_seen_ = int(count.max()) if count.size else 0
        return self

    def transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().transform(X)
        clip = self.feature_range if self.clip else None
        return _scaled_blocks(self, X, "transform", _min_max_transform, self.scale_, self.min_, clip)

    def inverse_transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().inverse_transform(X)
        return _scaled_blocks(self, X, "inverse_transform", _min_max_inverse, self.scale_, self.min_)


# --- RobustScaler -------------------------------------------------------------------------------

_SUMMARY_POINTS = np.linspace(0.0, 100.0, 1001)


def _quantile_summary(block: np.ndarray) -> list:
    """Per column: ``[(values, weights, exact_block)]``: the block itself when small, else 1001 quantiles."""
    out = []
    for j in range(block.shape[1]):
        column = block[:, j]
        column = column[~np.isnan(column)]
        if len(column) <= len(_SUMMARY_POINTS):
            out.append((np.sort(column), np.ones(len(column))))
        else:
            out.append((np.percentile(column, _SUMMARY_POINTS), np.full(len(_SUMMARY_POINTS),
                                                                          len(column) / len(_SUMMARY_POINTS))))
    return [out]


def _concat_summaries(a: list, b: list) -> list:
    return a + b


def _summary_percentiles(summaries: list, q: Any) -> np.ndarray:
    """Percentiles ``q`` of each column from the blocks' summaries (exact for one block)."""
    n_features = len(summaries[0])
    out = np.empty((len(q), n_features))
    for j in range(n_features):
        if len(summaries) == 1 or all(len(s[j][0]) == np.sum(s[j][1]) for s in summaries):
            values = np.concatenate([s[j][0] for s in summaries])
            exact = np.sort(values)
            out[:, j] = np.nanpercentile(exact, q) if len(exact) else np.nan
            continue
        values = np.concatenate([s[j][0] for s in summaries])
        weights = np.concatenate([s[j][1] for s in summaries])
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
        cumulative = np.cumsum(weights) - weights / 2
        cumulative /= weights.sum()
        out[:, j] = np.interp(np.asarray(q) / 100.0, cumulative, values)
    return out


class RobustScaler(sk.RobustScaler):
    """Scale with statistics robust to outliers, as ``sklearn.preprocessing.RobustScaler``.

    On chunked input the median and quantile range come from one pass of
    per-block quantile summaries: exact for one block, approximate (rank
    error below 0.1 % of a block's rows) for several; see the module docstring.
    """

    def fit(self, X: Any, y: Any = None) -> RobustScaler:
        if not is_chunked(X):
            return super().fit(X, y)
        q_min, q_max = self.quantile_range
        if not 0 <= q_min <= q_max <= 100:
            raise ValueError(f"Invalid quantile range: {self.quantile_range}")
        Xc = _fit_input(self, X, f"{type(self).__name__}.fit")
        summaries = fold_pass(_quantile_summary, [Xc], _concat_summaries)
        center, low, high = _summary_percentiles(summaries, [50.0, q_min, q_max])
        self.center_ = center if self.with_centering else None
        if self.with_scaling:
            scale = _handle_zeros_in_scale(high - low)
            if self.unit_variance:
                scale = scale / (stats.norm.ppf(q_max / 100.0) - stats.norm.ppf(q_min / 100.0))
            self.scale_ = scale
        else:
            self.scale_ = None
        return self

    def transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().transform(X)
        return _scaled_blocks(self, X, "transform", _standard_transform, self.center_, self.scale_)

    def inverse_transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().inverse_transform(X)
        return _scaled_blocks(self, X, "inverse_transform", _standard_inverse, self.center_, self.scale_)


# --- PolynomialFeatures -------------------------------------------------------------------------


class PolynomialFeatures(sk.PolynomialFeatures):
    """Polynomial and interaction features, as ``sklearn.preprocessing.PolynomialFeatures``.

    ``fit`` needs only the number of features (read from the chunked input's
    metadata: no pass); ``transform`` is lazy and blockwise.
    """

    def fit(self, X: Any, y: Any = None) -> PolynomialFeatures:
        if not is_chunked(X):
            return super().fit(X, y)
        Xc = check_array(X, f"{type(self).__name__}.fit", allow_unknown_rows=True)
        super().fit(np.zeros((1, Xc.shape[1]), dtype=Xc.dtype))
        if isinstance(X, FrameBase):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return self

    def transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().transform(X)
        X = _check_transform_input(self, X, f"{type(self).__name__}.transform")
        dtype = X.dtype if isinstance(X, Array) else np.float64
        plain = as_sklearn(self, sk.PolynomialFeatures)
        plain.__dict__.pop("feature_names_in_", None)
        return transform_blocks(X, sklearn_transform, plain, "transform", dtype, self.n_output_features_,
                                dtype=dtype, n_out=self.n_output_features_,
                                columns=list(self.get_feature_names_out()) if isinstance(X, FrameBase) else None)


# --- LabelEncoder -------------------------------------------------------------------------------


def _merge_unique(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.unique(np.concatenate([a, b]))


def _encode_labels(block: np.ndarray, classes: np.ndarray) -> np.ndarray:
    if block.size == 0:
        return np.empty(block.shape, dtype=np.int64)
    positions = np.searchsorted(classes, block)
    positions = np.minimum(positions, len(classes) - 1)
    unseen = classes[positions] != block
    if unseen.any():
        raise ValueError(f"y contains previously unseen labels: {np.unique(block[unseen]).tolist()}")
    return positions.astype(np.int64)


def _decode_labels(block: np.ndarray, classes: np.ndarray) -> np.ndarray:
    if block.size and (block.min() < 0 or block.max() >= len(classes)):
        bad = np.unique(block[(block < 0) | (block >= len(classes))]).tolist()
        raise ValueError(f"y contains previously unseen labels: {bad}")
    return classes[block]


def _label_array(y: Any, name: str) -> Array:
    if isinstance(y, FrameBase):
        y = y.to_dask_array()
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.rechunk({1: -1})[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name}: y should be a 1d array, got an array of shape {y.shape} instead.")
    return y


class LabelEncoder(sk.LabelEncoder):
    """Encode target labels as ``0 .. n_classes - 1``, as ``sklearn.preprocessing.LabelEncoder``.

    On chunked ``y`` the classes are found in one pass; ``transform`` and
    ``inverse_transform`` are lazy (an unseen label raises ``ValueError`` when
    its block is computed).
    """

    def fit(self, y: Any) -> LabelEncoder:
        if not is_chunked(y):
            return super().fit(y)
        y = _label_array(y, f"{type(self).__name__}.fit")
        self.classes_ = fold_pass(_unique_1d, [y], _merge_unique)
        return self

    def fit_transform(self, y: Any) -> Any:
        if not is_chunked(y):
            return super().fit_transform(y)
        return self.fit(y).transform(y)

    def transform(self, y: Any) -> Any:
        if not is_chunked(y):
            return super().transform(y)
        check_is_fitted(self)
        y = _label_array(y, f"{type(self).__name__}.transform")
        return y.map_blocks(_encode_labels, self.classes_, dtype=np.int64)

    def inverse_transform(self, y: Any) -> Any:
        if not is_chunked(y):
            return super().inverse_transform(y)
        check_is_fitted(self)
        y = _label_array(y, f"{type(self).__name__}.inverse_transform")
        return y.map_blocks(_decode_labels, self.classes_, dtype=self.classes_.dtype)


def _unique_1d(block: np.ndarray) -> np.ndarray:
    return np.unique(block)

