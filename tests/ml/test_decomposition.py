"""chunkwise.ml.decomposition against scikit-learn on the same in-memory data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.decomposition as skd

import chunkwise
import chunkwise.array as da
from chunkwise.ml.decomposition import PCA, TruncatedSVD
from chunkwise.ml.passes import passes_counter

CHUNKINGS = {"even": (300, 8), "uneven": ((100, 700, 200, 200), (8,)), "single": (1200, 8), "columns": (300, 3)}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(1200, 8)) @ rng.normal(size=(8, 8)) + 10.0


def _same_up_to_sign(a, b):
    signs = np.sign(np.sum(a * b, axis=1))[:, None]
    np.testing.assert_allclose(a, b * signs, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize("solver", ["tsqr", "randomized"])
def test_pca_matches_sklearn(data, chunks, solver, scheduler):
    Xd = da.from_array(data, chunks=chunks)
    with chunkwise.config.set(scheduler=scheduler):
        ours = PCA(n_components=3, svd_solver=solver, random_state=0).fit(Xd)
    ref = skd.PCA(n_components=3, svd_solver="full").fit(data)
    _same_up_to_sign(ours.components_, ref.components_)
    for name in ["explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-6)
    Z = ours.transform(Xd)
    assert Z.chunks == (Xd.chunks[0], (3,))
    np.testing.assert_allclose(np.abs(Z.compute()), np.abs(ref.transform(data)), rtol=1e-6, atol=1e-8)
    back = ours.inverse_transform(Z)
    assert back.chunks == (Xd.chunks[0], (8,))
    np.testing.assert_allclose(back.compute(), ref.inverse_transform(ref.transform(data)), rtol=1e-6)


@pytest.mark.parametrize("kwargs", [{}, {"n_components": 0.9}, {"n_components": 2, "whiten": True}])
def test_pca_options(data, kwargs):
    Xd = da.from_array(data, chunks=300)
    ours = PCA(**kwargs).fit(Xd)
    ref = skd.PCA(svd_solver="full", **kwargs).fit(data)
    assert ours.n_components_ == ref.n_components_
    _same_up_to_sign(ours.components_, ref.components_)
    np.testing.assert_allclose(np.abs(ours.fit_transform(Xd).compute()), np.abs(ref.transform(data)), rtol=1e-6, atol=1e-8)
    assert ours.noise_variance_ == pytest.approx(ref.noise_variance_, rel=1e-6, abs=1e-12)


def test_pca_tsqr_reads_the_data_twice(data):
    with passes_counter() as passes:
        PCA(n_components=2, svd_solver="tsqr").fit(da.from_array(data, chunks=300))
    assert passes() == 2  # means, then TSQR


def test_pca_unknown_chunks(data):
    Xd = da.from_array(data, chunks=300)
    mask = data[:, 0] > 10
    ours = PCA(n_components=2).fit(Xd[Xd[:, 0] > 10])
    ref = skd.PCA(n_components=2).fit(data[mask])
    _same_up_to_sign(ours.components_, ref.components_)


def test_pca_errors(data):
    with pytest.raises(ValueError, match="svd_solver"):
        PCA(svd_solver="arpack").fit(da.from_array(data, chunks=300))
    with pytest.raises(ValueError, match="n_components"):
        PCA(n_components=20).fit(da.from_array(data, chunks=300))


@pytest.mark.parametrize("algorithm", ["randomized", "tsqr"])
def test_truncated_svd_matches_sklearn(data, algorithm):
    Xd = da.from_array(data, chunks=(300, 3))
    ours = TruncatedSVD(3, algorithm=algorithm, random_state=0).fit(Xd)
    ref = skd.TruncatedSVD(3, n_iter=20, random_state=0).fit(data)
    _same_up_to_sign(ours.components_, ref.components_)
    for name in ["explained_variance_", "explained_variance_ratio_", "singular_values_"]:
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6)
    np.testing.assert_allclose(np.abs(ours.transform(Xd).compute()), np.abs(ref.transform(data)), rtol=1e-6)


@pytest.mark.parametrize("estimator", [PCA(), PCA(n_components=2, svd_solver="randomized", random_state=0), TruncatedSVD(random_state=0)],
                         ids=["PCA", "PCA-randomized", "TruncatedSVD"])
def test_check_estimator(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 40
