"""``PCA`` and ``TruncatedSVD`` on chunked rows, through ``chunkwise.array.linalg``.

Passes over the data:

- ``PCA.fit`` with ``svd_solver="tsqr"`` (or ``"full"``, the same exact
  algorithm): **one pass**, a TSQR that centres as it goes (:func:`centred_r`).
  Each row block gives its row count ``n_i``, its column means ``m_i`` and the
  R factor of the block centred on its *own* means; the tree merges parts by
  one QR of ``[R_1; ...; R_j; sqrt(n_i) (m_i - m)...]`` (the square-root form
  of Chan's pairwise scatter update), so the root holds the global means and
  the R factor of the globally centred data, ``R^T R = (X - mean)^T (X -
  mean)``. The client takes the SVD of that ``p x p`` R: its singular values
  and right vectors are those of the centred data. No block is ever centred
  on a mean far from its own, so data with large offsets (1e6) lose no
  digits (a raw ``X^T X - n mean mean^T`` would lose ~12); only ``S`` and
  ``Vh`` are formed, never ``U``. ``"randomized"``: one pass for the means and
  variances, then ``chunkwise.array.linalg.svd_compressed`` (Halko et al.:
  ``2 + 2 * iterated_power`` reads of the data). ``"auto"``: TSQR when
  ``n_features <= 1000``, else randomized. Input chunked along columns is
  rechunked to one column block (TSQR needs whole rows), not refused.
- ``TruncatedSVD.fit``: ``algorithm="tsqr"`` is the same single pass (the
  uncentred R is one more QR on the client, of ``[R; sqrt(n) mean]``);
  ``"randomized"`` one pass for the moments then the randomized SVD's.
- ``transform``/``inverse_transform``: lazy, blockwise (chunked in, chunked out
  with the same row chunks; NumPy in, NumPy out).

Components follow scikit-learn's sign convention (``svd_flip`` on ``Vh``: the
largest entry of each component is positive), so they equal scikit-learn's
exactly up to rounding; dask-ml's PCA needs the input chunked along rows only
and refuses column chunks.

>>> import numpy as np
>>> import chunkwise.array as da
>>> rng = np.random.default_rng(0)
>>> X = da.from_array(rng.normal(size=(1000, 4)) * [5, 2, 1, 0.1], chunks=(250, 2))
>>> pca = PCA(n_components=2).fit(X)
>>> pca.explained_variance_ratio_.round(2).tolist()
[0.84, 0.13]
>>> pca.transform(X).chunks
((250, 250, 250, 250), (2,))
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.extmath import svd_flip
from sklearn.utils.validation import validate_data

import chunkwise
import chunkwise.array.linalg as linalg
from chunkwise.array.core import from_array
from chunkwise.array.linalg.kernels import block_r
from chunkwise.ml.linear_model import predict_input
from chunkwise.ml.passes import cached, count_pass, row_pass
from chunkwise.ml.validation import check_array, check_random_state_seed, is_chunked

__all__ = ["PCA", "TruncatedSVD", "centred_r"]

#: ``svd_solver="auto"`` uses TSQR up to this many features, randomized SVD above.
TSQR_MAX_FEATURES = 1000


def _fit_input(est: BaseEstimator, X: Any, opname: str) -> Any:
    if is_chunked(X):
        X = check_array(X, opname, compute_chunk_sizes=True).rechunk({1: -1}).astype(np.float64)
        est.n_features_in_ = X.shape[1]
        return X
    X = validate_data(est, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
    return from_array(np.asarray(X, dtype=np.float64))


def _moments(X: Any) -> tuple:
    """Column means and variances (``ddof=0``): one pass."""
    mean, var = chunkwise.compute(X.mean(axis=0), X.var(axis=0))
    count_pass()
    return np.asarray(mean), np.asarray(var)


def _r_partial(xb: np.ndarray, p: int) -> np.ndarray:
    """``[n, mean (p), R (p x p)]`` of one block, R of the block centred on its own means."""
    n = len(xb)
    if n == 0:
        return np.zeros(1 + p + p * p)
    mean = xb.mean(axis=0)
    r = np.zeros((p, p))
    factor = block_r((xb - mean,), xb.dtype)  # in cache-sized pieces: ~5x less CPU than one np.linalg.qr
    r[: factor.shape[0]] = factor
    return np.concatenate([[n], mean, r.ravel()])


def _merge_r(parts: list) -> np.ndarray:
    """Merge ``(1, size)`` rows of :func:`_r_partial`: one QR of the stacked R's and mean corrections."""
    rows = np.concatenate(parts, axis=0)
    rows = rows[rows[:, 0] > 0]
    size = parts[0].shape[1]
    p = int((np.sqrt(4 * size - 3) - 1) / 2)
    if len(rows) == 0:
        return np.zeros((1, size))
    counts, means = rows[:, 0], rows[:, 1 : 1 + p]
    n = counts.sum()
    mean = counts @ means / n
    stacked = np.concatenate([rows[:, 1 + p :].reshape(-1, p), np.sqrt(counts)[:, None] * (means - mean)])
    factor = np.linalg.qr(stacked, mode="r")
    r = np.zeros((p, p))
    r[: factor.shape[0]] = factor
    return np.concatenate([[n], mean, r.ravel()])[None, :]


def centred_r(X: Any) -> tuple:
    """``(n, mean, R)`` with ``R^T R = (X - mean)^T (X - mean)``, ``R`` upper triangular ``p x p``; one pass.

    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(500, 3)) + 1e6
    >>> n, mean, r = centred_r(from_array(x, chunks=(64, 3)))
    >>> bool(np.allclose(r.T @ r, (x - x.mean(0)).T @ (x - x.mean(0)), rtol=1e-9))
    True
    """
    p = X.shape[1]
    packed = row_pass(_r_partial, [X], 1 + p + p * p, combine=_merge_r, name="pca-tsqr", p=p)
    return packed[0], packed[1 : 1 + p], packed[1 + p :].reshape(p, p)


def _r_svd(r: np.ndarray) -> tuple:
    _, s, vh = np.linalg.svd(r, full_matrices=False)
    _, vh = svd_flip(None, vh, u_based_decision=False)
    return s, vh


def _svd(X: Any, k: int, solver: str, power: int, n_oversamples: int, seed: int) -> tuple:
    """``(S, Vh)``, the leading ``k`` singular values and right vectors by randomized SVD; ``2 + 2 * power`` passes."""
    _, s, vh = linalg.svd_compressed(X, k, n_power_iter=power, seed=seed, n_oversamples=n_oversamples)
    s, vh = chunkwise.compute(s, vh)
    for _ in range(2 + 2 * power):
        count_pass()
    _, vh = svd_flip(None, np.asarray(vh), u_based_decision=False)
    return np.asarray(s), vh


def _check_solver(solver: str, owner: str, allowed: tuple) -> None:
    if solver not in allowed:
        raise ValueError(f"{owner}: svd_solver must be one of {allowed}, got {solver!r}")


class _Projection(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Lazy ``transform``/``inverse_transform`` shared by PCA and TruncatedSVD."""

    def _project_block(self, xb: np.ndarray) -> np.ndarray:
        out = (np.asarray(xb, dtype=np.float64) - getattr(self, "mean_", 0.0)) @ self.components_.T
        if getattr(self, "whiten", False):
            out /= np.sqrt(self.explained_variance_)
        return out

    def _unproject_block(self, zb: np.ndarray) -> np.ndarray:
        zb = np.asarray(zb, dtype=np.float64)
        if getattr(self, "whiten", False):
            zb = zb * np.sqrt(self.explained_variance_)
        return zb @ self.components_ + getattr(self, "mean_", 0.0)

    def transform(self, X: Any) -> Any:
        """``X`` projected on ``components_``; lazy for chunked ``X``."""
        X, chunked = predict_input(self, X, f"{type(self).__name__}.transform")
        if not chunked:
            return self._project_block(X)
        k = self.components_.shape[0]
        return X.map_blocks(self._project_block, chunks=(X.chunks[0], (k,)), dtype=np.float64)

    def inverse_transform(self, X: Any) -> Any:
        """Back to the original space (``X @ components_ + mean_``); lazy for chunked ``X``."""
        if not is_chunked(X):
            return self._unproject_block(np.asarray(X))
        X = check_array(X, f"{type(self).__name__}.inverse_transform").rechunk({1: -1})
        p = self.components_.shape[1]
        return X.map_blocks(self._unproject_block, chunks=(X.chunks[0], (p,)), dtype=np.float64)

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """``fit(X).transform(X)`` (lazy for chunked ``X``)."""
        return self.fit(X).transform(X)

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]


class PCA(_Projection):
    """Principal component analysis, as ``sklearn.decomposition.PCA``; see the module docstring.

    ``n_components``: an int, a float in (0, 1) (the variance ratio to keep),
    or ``None`` (all); ``svd_solver``: ``"auto"``, ``"tsqr"``, ``"full"``
    (both exact, by TSQR) or ``"randomized"`` (then ``n_components`` must be an
    int); ``whiten`` scales the projections to unit variance.
    """

    def __init__(self, n_components: Any = None, *, whiten: bool = False, svd_solver: str = "auto",
                 iterated_power: Any = "auto", n_oversamples: int = 10, random_state: Any = None):
        self.n_components = n_components
        self.whiten = whiten
        self.svd_solver = svd_solver
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.random_state = random_state

    def _n_components(self, n: int, p: int, solver: str) -> Any:
        k = self.n_components
        limit = min(n, p)
        if k is None:
            return limit if solver != "randomized" else limit - 1 if limit > 1 else limit
        if isinstance(k, numbers.Integral) and not isinstance(k, bool):
            if not 1 <= k <= limit:
                raise ValueError(
                    f"n_components={k} must be between 1 and min(n_samples, n_features)={limit} with "
                    f"svd_solver='{solver}'"
                )
            return int(k)
        if isinstance(k, numbers.Real) and 0 < k < 1 and solver != "randomized":
            return float(k)
        raise ValueError(
            f"PCA: n_components must be None, an int in [1, {limit}] or (with an exact solver) a float in (0, 1); "
            f"got {k!r}"
        )

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit on ``X``: one pass (TSQR), or one for the moments and ``2 + 2 * iterated_power`` more (randomized)."""
        _check_solver(self.svd_solver, "PCA", ("auto", "tsqr", "full", "randomized"))
        X = _fit_input(self, X, "PCA.fit")
        n, p = X.shape
        solver = self.svd_solver
        if solver == "auto":
            solver = "tsqr" if p <= TSQR_MAX_FEATURES else "randomized"
        k = self._n_components(n, p, solver)
        if solver == "randomized":
            (X,) = cached(X)
            mean, var = _moments(X)
            total_var = float(var.sum()) * n / max(n - 1, 1)
            power = self.iterated_power
            if power == "auto":
                power = 7 if isinstance(k, int) and k < 0.1 * min(n, p) else 4
            seed = check_random_state_seed(self.random_state)
            s, vh = _svd(X - mean, k, solver, int(power), self.n_oversamples, seed)
        else:  # one pass: TSQR of the centred rows
            _, mean, r = centred_r(X)
            s, vh = _r_svd(r)
            s, vh = s[: min(n, p)], vh[: min(n, p)]
            total_var = float((r**2).sum()) / max(n - 1, 1)
        explained = s**2 / max(n - 1, 1)
        ratio = explained / total_var if total_var > 0 else np.zeros_like(explained)
        if isinstance(k, float):
            k = int(np.searchsorted(np.cumsum(ratio), k, side="right") + 1)
            k = min(k, len(s))
        if solver != "randomized" and k < min(n, p):
            self.noise_variance_ = float(explained[k:].mean())
        elif solver == "randomized" and k < min(n, p):
            self.noise_variance_ = float((total_var - explained[:k].sum()) / (min(n, p) - k))
        else:
            self.noise_variance_ = 0.0
        self.mean_ = mean
        self.components_ = vh[:k]
        self.n_components_ = k
        self.n_samples_ = n
        self.explained_variance_ = explained[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = s[:k]
        return self


class TruncatedSVD(_Projection):
    """Truncated SVD (no centring), as ``sklearn.decomposition.TruncatedSVD``.

    ``algorithm``: ``"randomized"`` (``svd_compressed`` with ``n_iter`` power
    iterations; default) or ``"tsqr"`` (exact).
    """

    def __init__(self, n_components: int = 2, *, algorithm: str = "randomized", n_iter: int = 5,
                 n_oversamples: int = 10, random_state: Any = None):
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_iter = n_iter
        self.n_oversamples = n_oversamples
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TruncatedSVD:
        """Fit on ``X``: one pass (``tsqr``), or one for the moments and then the randomized SVD's passes."""
        _check_solver(self.algorithm, "TruncatedSVD", ("randomized", "tsqr"))
        X = _fit_input(self, X, "TruncatedSVD.fit")
        n, p = X.shape
        k = self.n_components
        if not isinstance(k, numbers.Integral) or not 1 <= k <= p:
            raise ValueError(f"TruncatedSVD: n_components must be an int in [1, {p}], got {k!r}")
        if self.algorithm == "tsqr":  # one pass: the centred R, then the uncentred one on the client
            _, mean, r = centred_r(X)
            var = (r**2).sum(axis=0) / n
            s, vh = _r_svd(np.linalg.qr(np.vstack([r, np.sqrt(n) * mean]), mode="r"))
        else:
            (X,) = cached(X)
            mean, var = _moments(X)
            seed = check_random_state_seed(self.random_state)
            s, vh = _svd(X, int(k), self.algorithm, self.n_iter, self.n_oversamples, seed)
        s, vh = s[:k], vh[:k]
        # the variance of each projected column, X @ v: |X v|^2 / n - (mean . v)^2
        explained = s**2 / n - (vh @ mean) ** 2
        self.components_ = vh
        self.singular_values_ = s
        self.explained_variance_ = explained
        total = float(var.sum())
        self.explained_variance_ratio_ = explained / total if total > 0 else np.zeros_like(explained)
        return self
