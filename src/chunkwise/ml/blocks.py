"""Building blocks of the ``chunkwise.ml`` transformers (public names, shared by modules).

- :func:`transform_blocks`: a function of a NumPy (or pandas) block applied
  lazily to every row block; an Array stays an Array with the same row
  chunks, a DataFrame stays a DataFrame with the same partitions.
- :func:`as_sklearn` / :func:`sklearn_transform`: a fitted chunkwise
  estimator copied into a plain scikit-learn instance, so the tasks call
  scikit-learn's own ``transform`` (the chunkwise subclass never travels).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.dataframe.core import FrameBase

__all__ = ["as_sklearn", "sklearn_transform", "transform_blocks"]


def _frame_apply(part: pd.DataFrame, func: Callable, columns: Any, as_numpy: bool, *args: Any) -> pd.DataFrame:
    values = func(part.to_numpy(dtype=np.float64) if as_numpy else part, *args)
    if isinstance(values, pd.DataFrame):
        values = values.set_axis(columns, axis=1)
        values.index = part.index
        return values
    return pd.DataFrame(values, index=part.index, columns=columns)


def transform_blocks(X: Any, func: Callable, *args: Any, dtype: Any, n_out: int, columns: Any = None,
                     frame_as_numpy: bool = True) -> Any:
    """``func(block, *args)`` lazily on every row block: an Array for an Array, a DataFrame for a DataFrame.

    ``func`` maps a 2-D block to ``n_out`` columns of ``dtype``; ``columns``
    names them for dataframe output. A dataframe partition reaches ``func``
    as float64 NumPy unless ``frame_as_numpy=False`` (then as pandas).
    """
    if isinstance(X, FrameBase):
        columns = list(columns) if columns is not None else list(range(n_out))
        meta = pd.DataFrame({c: pd.Series(dtype=dtype) for c in columns})
        return X.map_partitions(_frame_apply, func, columns, frame_as_numpy, *args, meta=meta)
    if X.ndim == 2 and X.numblocks[1] != 1:
        X = X.rechunk({1: -1})
    return X.map_blocks(func, *args, dtype=dtype, chunks=(X.chunks[0], (n_out,)))


def as_sklearn(estimator: Any, sklearn_class: type) -> Any:
    """A plain ``sklearn_class`` instance holding ``estimator``'s parameters and fitted state."""
    plain = sklearn_class.__new__(sklearn_class)
    plain.__dict__.update(estimator.__dict__)
    return plain


def sklearn_transform(block: Any, fitted: Any, method: str = "transform", dtype: Any = None,
                      n_out: int | None = None) -> Any:
    """``fitted.<method>(block)`` as a dense NumPy array (sparse results are densified), cast to ``dtype``.

    An empty block (scikit-learn refuses 0 rows) gives an empty ``(0, n_out)`` array.
    """
    if len(block) == 0 and n_out is not None:
        return np.empty((0, n_out), dtype=dtype if dtype is not None else np.float64)
    out = getattr(fitted, method)(block)
    if hasattr(out, "toarray"):
        out = out.toarray()
    out = np.asarray(out)
    return out if dtype is None else out.astype(dtype, copy=False)
