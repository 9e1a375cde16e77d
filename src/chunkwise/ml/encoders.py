"""Categorical encoders on chunked data: ``OneHotEncoder``, ``OrdinalEncoder``, ``Categorizer``, ``DummyEncoder``.

Design: the categories of every column are found in **one pass** (each row
block gives its distinct values per column; a tree of unions merges them),
except for dataframe columns whose categorical dtype already declares them
(those need no pass; if all do, ``fit`` reads nothing). Then:

- ``OneHotEncoder``/``OrdinalEncoder`` are scikit-learn's, fitted on a small
  in-memory sample holding each found category (with the same dtypes as the
  input) and ``categories=`` set to the found, sorted categories: their fitted
  attributes, ``drop``, ``handle_unknown`` and ``get_feature_names_out`` are
  scikit-learn's own, and ``transform`` calls scikit-learn's ``transform`` on
  every block (lazily). On chunked input the one-hot output is dense (one
  NumPy block per row block) whatever ``sparse_output`` says, and infrequent
  categories (``min_frequency``, ``max_categories``) are not supported.
- ``Categorizer`` (as dask-ml's) turns object/string columns of a dataframe
  into pandas categoricals with the categories found; ``DummyEncoder`` (as
  dask-ml's) one-hot encodes categorical columns with ``pd.get_dummies``,
  its output columns known from the dtypes without computing anything.
  On NumPy input both have no columns to change and pass the data through.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"city": ["a", "b", "a", "c"], "n": [1.0, 2.0, 3.0, 4.0]}), npartitions=2)
>>> enc = OneHotEncoder(sparse_output=False).fit(df[["city"]])
>>> enc.categories_
[array(['a', 'b', 'c'], dtype=object)]
>>> enc.transform(df[["city"]]).compute().to_numpy().tolist()
[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
>>> cat = Categorizer().fit(df)
>>> cat.categories_["city"].categories.tolist()
['a', 'b', 'c']
>>> DummyEncoder().fit(cat.transform(df)).transform(cat.transform(df)).columns.tolist()
['n', 'city_a', 'city_b', 'city_c']
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from sklearn import preprocessing as sk
from sklearn.base import BaseEstimator, TransformerMixin

from chunkwise.array.core import Array
from chunkwise.dataframe.core import FrameBase
from chunkwise.ml.blocks import as_sklearn, sklearn_transform, transform_blocks
from chunkwise.ml.passes import fold_pass
from chunkwise.ml.validation import check_array, check_is_fitted, is_chunked

__all__ = ["Categorizer", "DummyEncoder", "OneHotEncoder", "OrdinalEncoder", "sorted_categories"]


# --- finding categories -------------------------------------------------------------------------


def _is_missing(values: np.ndarray) -> np.ndarray:
    return pd.isna(pd.Series(values, dtype=object if values.dtype == object else None)).to_numpy()


def sorted_categories(values: np.ndarray) -> np.ndarray:
    """The distinct ``values`` sorted as scikit-learn sorts categories (missing values last)."""
    values = np.asarray(values)
    if values.dtype.kind in "OUS":
        missing = _is_missing(values)
        present = np.unique(values[~missing].astype(object)) if (~missing).any() else np.array([], dtype=object)
        if missing.any():
            present = np.concatenate([present, np.array([np.nan], dtype=object)])
        return present.astype(object) if values.dtype == object else present.astype(values.dtype)
    return np.unique(values)  # NaN sorts last and is kept once


def _block_categories(block: Any, columns: list) -> dict:
    if isinstance(block, pd.DataFrame):
        return {c: sorted_categories(block[c].to_numpy()) for c in columns}
    return {j: sorted_categories(block[:, j]) for j in columns}


def _merge_categories(a: dict, b: dict) -> dict:
    return {key: sorted_categories(np.concatenate([a[key], b[key]])) for key in a}


def find_categories(X: Any, columns: list) -> dict:
    """The sorted categories of ``columns`` of a chunked ``X`` (Array or DataFrame), in one pass."""
    if not columns:
        return {}
    return fold_pass(_block_categories, [X], _merge_categories, columns=columns)


def _declared(frame: FrameBase, column: Any) -> np.ndarray | None:
    dtype = frame.dtypes[column]
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories is not None:
        return np.asarray(dtype.categories)
    return None


def _column_categories(X: Any) -> list:
    """Per column of chunked ``X``, its sorted categories (declared ones read from the dtype)."""
    if isinstance(X, FrameBase):
        names = list(X.columns)
        declared = {c: _declared(X, c) for c in names}
        found = find_categories(X, [c for c in names if declared[c] is None])
        return [declared[c] if declared[c] is not None else found[c] for c in names]
    found = find_categories(X, list(range(X.shape[1])))
    return [found[j] for j in range(X.shape[1])]


def _sample(X: Any, categories: list) -> Any:
    """A small in-memory table holding every category of every column, with ``X``'s dtypes."""
    length = max(1, max(len(c) for c in categories))
    cycled = [list(itertools.islice(itertools.cycle(c), length)) if len(c) else [None] * length for c in categories]
    if isinstance(X, FrameBase):
        return pd.DataFrame({col: pd.Series(values, dtype=X.dtypes[col]) for col, values in zip(X.columns, cycled)})
    return np.array(cycled, dtype=X.dtype).T.reshape(length, len(categories))


def _chunked_input(X: Any, name: str) -> Any:
    if isinstance(X, FrameBase):
        if not hasattr(X, "columns"):
            raise ValueError(f"{name}: expected a 2-D DataFrame, got a Series; use series.to_frame()")
        return X
    return check_array(X, name, dtype=None, allow_unknown_rows=True)


class _SampleFitted:
    """The chunked side of scikit-learn's category encoders (``OneHotEncoder``, ``OrdinalEncoder``).

    ``fit`` finds the categories in one pass, then fits scikit-learn's class on
    a sample holding each category; ``transform`` and ``inverse_transform`` run
    the fitted scikit-learn encoder blockwise (lazy).
    """

    _sklearn_class: type

    def _fit_chunked(self, X: Any) -> Any:
        name = f"{type(self).__name__}.fit"
        if getattr(self, "min_frequency", None) is not None or getattr(self, "max_categories", None) is not None:
            raise NotImplementedError(f"{name}: min_frequency/max_categories (infrequent categories) need counts "
                                      "of every category and are supported for in-memory input only")
        X = _chunked_input(X, name)
        if isinstance(self.categories, str) and self.categories == "auto":
            categories = _column_categories(X)
        else:
            categories = [np.asarray(c) for c in self.categories]
        helper = self._sklearn_class(**{**self.get_params(), "categories": categories})
        helper.fit(_sample(X, categories))
        params = set(self.get_params())
        for key, value in helper.__dict__.items():
            if key not in params:
                setattr(self, key, value)
        return self

    def _plain(self) -> Any:
        return as_sklearn(self, self._sklearn_class)

    # chunked input handled here, anything else by the scikit-learn class

    def fit(self, X: Any, y: Any = None) -> Any:
        if not is_chunked(X):
            return super().fit(X, y)
        return self._fit_chunked(X)

    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        if not is_chunked(X):
            return super().fit_transform(X, y, **params)
        return self.fit(X).transform(X)

    def transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().transform(X)
        check_is_fitted(self)
        X = _chunked_input(X, f"{type(self).__name__}.transform")
        names = self.get_feature_names_out()
        return transform_blocks(X, sklearn_transform, self._plain(), "transform", self.dtype, len(names),
                                dtype=self.dtype, n_out=len(names), columns=list(names), frame_as_numpy=False)

    def inverse_transform(self, X: Any) -> Any:
        if not is_chunked(X):
            return super().inverse_transform(X)
        check_is_fitted(self)
        dtype = np.result_type(*[c.dtype for c in self.categories_])
        X = check_array(X, f"{type(self).__name__}.inverse_transform", allow_unknown_rows=True)
        return transform_blocks(X, sklearn_transform, self._plain(), "inverse_transform", dtype, self.n_features_in_,
                                dtype=dtype, n_out=self.n_features_in_)


class OneHotEncoder(_SampleFitted, sk.OneHotEncoder):
    """Encode categorical features as a one-hot numeric array, as ``sklearn.preprocessing.OneHotEncoder``.

    Chunked input: categories in one pass, dense lazy output (an Array, or a
    DataFrame named by ``get_feature_names_out`` for a DataFrame).
    """

    _sklearn_class = sk.OneHotEncoder


class OrdinalEncoder(_SampleFitted, sk.OrdinalEncoder):
    """Encode categorical features as integers, as ``sklearn.preprocessing.OrdinalEncoder`` (lazy on chunked input)."""

    _sklearn_class = sk.OrdinalEncoder


# --- Categorizer and DummyEncoder (dask-ml's, for dataframes) -----------------------------------


def _check_frame_or_array(X: Any, name: str) -> Any:
    if isinstance(X, (pd.DataFrame, FrameBase)):
        return X
    if isinstance(X, Array):
        return check_array(X, name, dtype=None, allow_unknown_rows=True)
    return check_array(X, name, dtype="numeric")  # no columns to categorize: numbers pass through


def _astype(part: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    return part.astype(dtypes)


class Categorizer(TransformerMixin, BaseEstimator):
    """Make dataframe columns categorical, with the categories found in one pass (as ``dask_ml.preprocessing.Categorizer``).

    ``columns``: the columns to categorize (default: object and string
    columns, and categoricals already declared). ``categories``: a dict of
    column -> ``pd.CategoricalDtype`` to use instead of finding them. Fitted:
    ``columns_`` and ``categories_`` (column -> ``CategoricalDtype``). NumPy
    input has no columns to categorize and passes through.
    """

    def __init__(self, categories: Any = None, columns: Any = None):
        self.categories = categories
        self.columns = columns

    def fit(self, X: Any, y: Any = None) -> Categorizer:
        X = _check_frame_or_array(X, "Categorizer.fit")
        self.n_features_in_ = X.shape[1]
        if not isinstance(X, (pd.DataFrame, FrameBase)):
            self.columns_, self.categories_ = pd.Index([]), {}
            return self
        if isinstance(X, pd.DataFrame):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        dtypes = X.dtypes
        if self.columns is None:
            columns = [c for c in X.columns if getattr(dtypes[c], "kind", "") == "O" or pd.api.types.is_string_dtype(dtypes[c])
                       or isinstance(dtypes[c], pd.CategoricalDtype)]
        else:
            columns = list(self.columns)
        given = dict(self.categories or {})
        declared = {c: dtypes[c] for c in columns
                    if isinstance(dtypes[c], pd.CategoricalDtype) and dtypes[c].categories is not None}
        missing = [c for c in columns if c not in given and c not in declared]
        if isinstance(X, FrameBase):
            found = find_categories(X, missing)
        else:
            found = {c: sorted_categories(X[c].to_numpy()) for c in missing}
        categories = {}
        for c in columns:
            if c in given:
                categories[c] = given[c]
            elif c in declared:
                categories[c] = declared[c]
            else:
                values = [v for v in found[c] if not pd.isna(v)]
                categories[c] = pd.CategoricalDtype(values)
        self.columns_ = pd.Index(columns)
        self.categories_ = categories
        return self

    def transform(self, X: Any, y: Any = None) -> Any:
        check_is_fitted(self, "categories_")
        X = _check_frame_or_array(X, "Categorizer.transform")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"Categorizer.transform: X has {X.shape[1]} features, but Categorizer is expecting "
                             f"{self.n_features_in_} features as input")
        if not isinstance(X, (pd.DataFrame, FrameBase)):
            return X
        if isinstance(X, pd.DataFrame):
            return _astype(X, self.categories_)
        meta = _astype(X.expr.meta, self.categories_)
        return X.map_partitions(_astype, self.categories_, meta=meta)


def _dummies(part: pd.DataFrame, columns: list, drop_first: bool, dtype: Any) -> pd.DataFrame:
    return pd.get_dummies(part, columns=columns, drop_first=drop_first, dtype=dtype)


def _undummies(part: pd.DataFrame, encoder: DummyEncoder) -> pd.DataFrame:
    out = {}
    for column in encoder.columns_:
        if column not in encoder.categorical_columns_:
            out[column] = part[column]
            continue
        dtype = encoder.dtypes_[column]
        names = [f"{column}_{c}" for c in dtype.categories]
        if encoder.drop_first:
            block = part[names[1:]].to_numpy()
            codes = np.where(block.any(axis=1), block.argmax(axis=1) + 1, 0)
        else:
            codes = part[names].to_numpy().argmax(axis=1)
        out[column] = pd.Categorical.from_codes(codes, dtype=dtype)
    return pd.DataFrame(out, index=part.index)


class DummyEncoder(TransformerMixin, BaseEstimator):
    """One-hot encode the categorical columns of a dataframe with ``pd.get_dummies`` (as ``dask_ml.preprocessing.DummyEncoder``).

    The categories come from the columns' ``CategoricalDtype`` (use
    ``Categorizer`` first), so ``fit`` reads no data and the output columns
    are known. ``columns``: the columns to encode (default: all categorical
    ones). Fitted: ``columns_``, ``categorical_columns_``,
    ``non_categorical_columns_``, ``dtypes_``, ``transformed_columns_``.
    NumPy input has no categorical columns and passes through.
    """

    def __init__(self, columns: Any = None, drop_first: bool = False, dtype: Any = np.float64):
        self.columns = columns
        self.drop_first = drop_first
        self.dtype = dtype

    def fit(self, X: Any, y: Any = None) -> DummyEncoder:
        X = _check_frame_or_array(X, "DummyEncoder.fit")
        self.n_features_in_ = X.shape[1]
        if not isinstance(X, (pd.DataFrame, FrameBase)):
            self.columns_ = pd.Index(range(X.shape[1]))
            self.categorical_columns_ = pd.Index([])
            self.non_categorical_columns_ = self.columns_
            self.dtypes_ = {}
            self.transformed_columns_ = self.columns_
            return self
        meta = X.iloc[:0] if isinstance(X, pd.DataFrame) else X.expr.meta
        columns = [c for c in meta.columns if isinstance(meta.dtypes[c], pd.CategoricalDtype)] \
            if self.columns is None else list(self.columns)
        for c in columns:
            if not isinstance(meta.dtypes[c], pd.CategoricalDtype):
                raise ValueError(f"DummyEncoder.fit: column {c!r} is not categorical ({meta.dtypes[c]}); "
                                 "make it categorical first, e.g. with chunkwise.ml.preprocessing.Categorizer")
        self.columns_ = meta.columns
        self.categorical_columns_ = pd.Index(columns)
        self.non_categorical_columns_ = meta.columns.drop(columns)
        self.dtypes_ = {c: meta.dtypes[c] for c in columns}
        self.transformed_columns_ = _dummies(meta, columns, self.drop_first, self.dtype).columns
        return self

    def transform(self, X: Any, y: Any = None) -> Any:
        check_is_fitted(self, "transformed_columns_")
        X = _check_frame_or_array(X, "DummyEncoder.transform")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"DummyEncoder.transform: X has {X.shape[1]} features, but DummyEncoder is expecting "
                             f"{self.n_features_in_} features as input")
        if not isinstance(X, (pd.DataFrame, FrameBase)):
            return X
        columns = list(self.categorical_columns_)
        if isinstance(X, pd.DataFrame):
            return _dummies(X, columns, self.drop_first, self.dtype)
        meta = _dummies(X.expr.meta, columns, self.drop_first, self.dtype)
        return X.map_partitions(_dummies, columns, self.drop_first, self.dtype, meta=meta)

    def inverse_transform(self, X: Any) -> Any:
        check_is_fitted(self, "transformed_columns_")
        if not isinstance(X, (pd.DataFrame, FrameBase)):
            return X
        if isinstance(X, pd.DataFrame):
            return _undummies(X, self)
        meta = _undummies(X.expr.meta, self)
        return X.map_partitions(_undummies, self, meta=meta)
