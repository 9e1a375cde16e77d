"""Input validation shared by the ``chunkwise.ml`` estimators.

Design: every estimator's ``fit``/``predict`` starts here, so that bad input
fails when the plan is built, naming the estimator's operation, not later
inside a task.

- :func:`check_array` takes NumPy (anything ``numpy.asarray`` takes),
  chunkwise arrays and chunkwise dataframes/series. In-memory input is
  validated by scikit-learn's own ``check_array`` and stays in memory, so an
  estimator given NumPy behaves exactly as scikit-learn's (``check_estimator``
  feeds NumPy); chunkwise input stays lazy and is checked on its metadata
  only: dimensions, dtype (cast to float when asked), and known row chunk
  lengths (unknown ones are refused with the project's one "unknown chunk
  sizes" error, naming ``compute_chunk_sizes()``, unless the caller passes
  ``compute_chunk_sizes=True``).
- :func:`check_X_y` pairs ``X`` with ``y``: the lengths are compared from the
  metadata (a mismatch raises before any data are computed), ``X`` gets one
  column chunk, and ``y`` is rechunked to ``X``'s row chunks, so block ``i`` of
  ``X`` always travels with block ``i`` of ``y``.
- The passes over the aligned blocks are :mod:`chunkwise.ml.passes`
  (``row_pass`` for float partials, ``fold_pass`` for any others).

>>> import numpy as np
>>> import chunkwise.array as da
>>> X = da.from_array(np.arange(12.0).reshape(6, 2), chunks=(4, 1))
>>> y = da.from_array(np.arange(6), chunks=3)
>>> X2, y2 = check_X_y(X, y, "fit")
>>> X2.chunks, y2.chunks
(((4, 2), (2,)), ((4, 2),))
>>> check_X_y(X, y[:5], "fit")
Traceback (most recent call last):
...
ValueError: fit: X has 6 rows but y has 5; pass X and y with the same number of rows
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.utils import check_array as sklearn_check_array
from sklearn.utils import check_X_y as sklearn_check_X_y
from sklearn.utils.validation import check_is_fitted as sklearn_check_is_fitted

from chunkwise.array.chunks import check_known_chunks, has_unknown
from chunkwise.array.core import Array, from_array
from chunkwise.dataframe.core import FrameBase

__all__ = [
    "align_rows",
    "check_X_y",
    "check_array",
    "check_is_fitted",
    "check_random_state_seed",
    "check_sample_weight",
    "check_weight_total",
    "is_chunked",
    "num_rows",
]


def is_chunked(obj: Any) -> bool:
    """Whether ``obj`` is a chunkwise collection (an Array, a DataFrame or Series)."""
    return isinstance(obj, (Array, FrameBase))


def _frame_to_array(frame: FrameBase, name: str, compute_chunk_sizes: bool, allow_unknown_rows: bool = False) -> Array:
    lengths = frame.expr.lengths
    if lengths is None and not allow_unknown_rows:
        if not compute_chunk_sizes:
            raise ValueError(
                f"{name}: the dataframe's partition lengths are unknown, so its rows cannot be "
                "split or aligned without reading it; pass df.to_dask_array(lengths=True) (or call "
                "compute_chunk_sizes() on df.values) first"
            )
        return frame.to_dask_array(lengths=True)
    return frame.to_dask_array()


def _as_chunked_array(X: Any, name: str, compute_chunk_sizes: bool, allow_unknown_rows: bool = False) -> Array:
    if isinstance(X, FrameBase):
        X = _frame_to_array(X, name, compute_chunk_sizes, allow_unknown_rows)
    if has_unknown(X.chunks[:1]) and not allow_unknown_rows:
        if not compute_chunk_sizes:
            check_known_chunks(name, X, axes=(0,), what="X")
        X = X.compute_chunk_sizes()
    return X


def _float_dtype(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def check_array(
    X: Any,
    name: str,
    *,
    ensure_2d: bool = True,
    dtype: Any = "float",
    compute_chunk_sizes: bool = False,
    allow_unknown_rows: bool = False,
    allow_nd: bool = False,
    what: str = "X",
    **sklearn_kwargs: Any,
) -> Any:
    """``X`` validated for the operation ``name``: a chunkwise Array, or a NumPy array.

    In-memory input goes through ``sklearn.utils.check_array`` (with ``dtype``:
    ``"float"`` means float64 unless ``X`` is already floating; ``"numeric"``
    and ``None`` as scikit-learn's). Chunkwise arrays and dataframes become a
    chunkwise Array, checked from metadata: 2-D unless ``ensure_2d=False``,
    cast lazily to float for ``dtype="float"``, no object dtype for
    ``"numeric"``. Unknown row chunk lengths raise a ``ValueError`` naming
    ``name`` and ``compute_chunk_sizes()``; ``compute_chunk_sizes=True`` computes
    them instead (one pass over ``X``); ``allow_unknown_rows=True`` accepts
    them as they are (for passes that never pair or split rows, such as a
    scaler's ``fit`` or a blockwise ``transform``).
    """
    if not is_chunked(X):
        if dtype == "float":
            sk_dtype: Any = [np.float64, np.float32]
        else:
            sk_dtype = dtype
        return sklearn_check_array(X, dtype=sk_dtype, ensure_2d=ensure_2d, allow_nd=allow_nd,
                                   input_name=what, **sklearn_kwargs)
    X = _as_chunked_array(X, name, compute_chunk_sizes, allow_unknown_rows)
    if ensure_2d and X.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D {what} (samples x features), got {X.ndim}-D with shape {X.shape}; "
            f"reshape 1-D data with {what}.reshape(-1, 1) (one feature) or {what}.reshape(1, -1) (one sample)"
        )
    if not allow_nd and X.ndim > 2:
        raise ValueError(f"{name}: expected at most 2 dimensions for {what}, got shape {X.shape}")
    if X.ndim >= 1 and X.shape[0] == 0:
        raise ValueError(f"{name}: {what} has 0 samples (shape {X.shape}); at least 1 is required")
    if dtype == "float":
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {what} has dtype {X.dtype}; expected numbers (cast with {what}.astype(float))")
        X = X.astype(_float_dtype(X.dtype))
    elif dtype == "numeric":
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{name}: {what} has dtype {X.dtype}; expected numbers (cast with {what}.astype(float))")
    elif dtype is not None:
        X = X.astype(dtype)
    return X


def num_rows(X: Any) -> float:
    """The number of rows of ``X`` (``nan`` when unknown), without computing anything."""
    if isinstance(X, Array):
        return X.shape[0] if X.ndim else 1
    if isinstance(X, FrameBase):
        lengths = X.expr.lengths
        return math.nan if lengths is None else sum(lengths)
    if hasattr(X, "shape") and len(X.shape):
        return X.shape[0]
    return len(X)


def check_X_y(
    X: Any,
    y: Any,
    name: str,
    *,
    dtype: Any = "float",
    multi_output: bool = False,
    y_numeric: bool = False,
    compute_chunk_sizes: bool = False,
    **sklearn_kwargs: Any,
) -> tuple:
    """``(X, y)`` validated and aligned for the operation ``name``.

    Both in memory: scikit-learn's ``check_X_y``. Otherwise both become
    chunkwise arrays: the row counts are compared from metadata (a mismatch
    raises a ``ValueError`` before any data are computed), ``X`` is rechunked
    to one column chunk and ``y`` to ``X``'s row chunks. ``y`` is 1-D unless
    ``multi_output``; a column vector ``(n, 1)`` is raveled. ``y_numeric``
    casts ``y`` to float64.
    """
    if not is_chunked(X) and not is_chunked(y):
        if y is None:
            raise ValueError(f"{name}: requires y to be passed, but the target y is None")
        return sklearn_check_X_y(X, y, dtype=[np.float64, np.float32] if dtype == "float" else dtype,
                                 multi_output=multi_output, y_numeric=y_numeric, **sklearn_kwargs)
    if y is None:
        raise ValueError(f"{name}: requires y to be passed, but the target y is None")
    n_X, n_y = num_rows(X), num_rows(y)
    if not (math.isnan(n_X) or math.isnan(n_y)) and n_X != n_y:
        raise ValueError(f"{name}: X has {n_X} rows but y has {n_y}; pass X and y with the same number of rows")
    if is_chunked(X):
        X = check_array(X, name, dtype=dtype, compute_chunk_sizes=compute_chunk_sizes)
    else:
        X = check_array(X, name, dtype=dtype, **sklearn_kwargs)
    if is_chunked(y):
        y = _as_chunked_array(y, name, compute_chunk_sizes)
    else:
        y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1 and not multi_output:
        y = y.reshape(-1) if isinstance(y, np.ndarray) else y.rechunk({1: -1})[:, 0]
    if y.ndim != 1 and not multi_output:
        raise ValueError(f"{name}: y should be 1-D (n_samples,), got shape {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{name}: X has {X.shape[0]} rows but y has {y.shape[0]}; pass X and y with the same number of rows"
        )
    if y_numeric and y.dtype.kind not in "f":
        y = y.astype(np.float64)
    if not isinstance(X, Array):
        X = from_array(X, chunks=(y.chunks[0], -1))
    X = X.rechunk({1: -1}) if X.ndim == 2 else X
    row_chunks = X.chunks[0]
    if isinstance(y, np.ndarray):
        y = from_array(y, chunks=(row_chunks,) + tuple((n,) for n in y.shape[1:]))
    elif y.chunks[0] != row_chunks:
        y = y.rechunk({0: row_chunks})
    return X, y


def align_rows(name: str, *arrays: Any) -> list:
    """``arrays`` (chunked or in memory, ``None`` kept) as chunkwise arrays sharing one row chunking.

    The first chunked argument's row chunks are the reference; the row counts
    are compared from metadata (a mismatch raises before anything is
    computed) and the others are rechunked to the reference, so block ``i``
    of every result holds the same rows. Unknown row chunks raise the
    "unknown chunk sizes" error naming ``name``.
    """
    present = [a for a in arrays if a is not None]
    lengths = [num_rows(a) for a in present]
    if len({n for n in lengths if not math.isnan(n)}) > 1:
        raise ValueError(f"{name}: found input variables with inconsistent numbers of samples: {lengths}; "
                         "pass arrays with the same number of rows")
    chunked = [_as_chunked_array(a, name, False) if is_chunked(a) else None for a in arrays]
    reference = next((c for c in chunked if c is not None), None)
    if reference is None:
        raise TypeError(f"{name}: align_rows needs at least one chunkwise array")
    check_known_chunks(name, reference, axes=(0,), what="an input")
    row_chunks = reference.chunks[0]
    out = []
    for original, array in zip(arrays, chunked):
        if original is None:
            out.append(None)
            continue
        if array is None:
            values = np.asarray(original)
            array = from_array(values, chunks=(row_chunks,) + tuple((n,) for n in values.shape[1:]))
        else:
            check_known_chunks(name, array, axes=(0,), what="an input")
            if array.chunks[0] != row_chunks:
                array = array.rechunk({0: row_chunks})
        if array.ndim == 2 and array.numblocks[1] != 1:
            array = array.rechunk({1: -1})
        out.append(array)
    return out


def check_sample_weight(sample_weight: Any, X: Array, name: str) -> Array | None:
    """``sample_weight`` as a 1-D float64 chunked array in ``X``'s row chunks (``None`` stays ``None``).

    A scalar weighs every row the same; a NumPy or chunked 1-D array needs one
    weight per row of ``X`` (a mismatch raises before anything is computed).
    Negative weights are not checked (that would cost a pass; scikit-learn
    does not refuse them either by default).
    """
    if sample_weight is None:
        return None
    if not is_chunked(sample_weight):
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim == 0:
            return X[:, 0].map_blocks(np.full_like, float(sample_weight), dtype=np.float64)
    if len(sample_weight.shape) != 1:
        raise ValueError(f"{name}: sample_weight must be 1-D (n_samples,), got shape {sample_weight.shape}")
    weight = align_rows(name, X, sample_weight)[1]
    return weight.astype(np.float64)


def check_weight_total(total: float, name: str) -> None:
    """Refuse sample weights that sum to zero (nothing to fit), as scikit-learn does."""
    if not total > 0:
        raise ValueError(f"{name}: Sample weights must contain at least one non-zero number (their sum is {total})")


def check_is_fitted(estimator: Any, attributes: Any = None, *, msg: str | None = None) -> None:
    """Raise scikit-learn's ``NotFittedError`` unless ``estimator`` is fitted (as ``sklearn.utils.validation.check_is_fitted``)."""
    sklearn_check_is_fitted(estimator, attributes, msg=msg)


def check_random_state_seed(random_state: Any) -> int:
    """An integer seed from ``random_state`` (None, an int, a ``RandomState`` or a ``Generator``).

    ``None`` draws fresh entropy once; an int is used as it is; a NumPy
    ``RandomState``/``Generator`` gives one draw (so reusing it gives new
    streams, as in scikit-learn).
    """
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise ValueError(f"random_state must be None, an int, a RandomState or a Generator, got {random_state!r}")
