"""chunkwise.ml.metrics against scikit-learn on the same data: one pass, a float (or NumPy array) out."""

import numpy as np
import pytest
from sklearn import metrics as sk

import chunkwise.array as da
from chunkwise.array.testing import with_unknown_chunks
from chunkwise.ml import metrics as cm

rng = np.random.default_rng(0)
N = 203
y_bin = rng.integers(0, 2, N)
score = np.clip(y_bin * 0.3 + rng.uniform(size=N) * 0.7, 0, 1).round(2)  # ties included
y_multi = rng.integers(0, 3, N)
proba = rng.dirichlet(np.ones(3), N)
y_reg = rng.standard_normal((N, 2)) * [1, 10]
p_reg = y_reg + rng.standard_normal((N, 2))
weights = rng.uniform(0.1, 2.0, N)
CHUNKS = {"even": 50, "uneven": ((100, 3, 100),), "single": N}


def lazy(values, kind, other=False):
    chunks = CHUNKS[kind] if not other else 37
    if isinstance(chunks, tuple) and values.ndim == 2:
        chunks = (chunks[0], values.shape[1])
    return da.from_array(values, chunks=chunks)


@pytest.mark.parametrize("kind", ["even", "uneven", "single"])
@pytest.mark.parametrize("weighted", [False, True])
def test_classification_metrics(kind, weighted):
    w = weights if weighted else None
    lw = lazy(weights, kind, other=True) if weighted else None
    pred = (score > 0.5).astype(int)
    ours = cm.accuracy_score(lazy(y_bin, kind), lazy(pred, kind, other=True), sample_weight=lw)
    assert isinstance(ours, float)
    assert ours == pytest.approx(sk.accuracy_score(y_bin, pred, sample_weight=w), rel=1e-12)
    assert cm.accuracy_score(lazy(y_bin, kind), pred, normalize=False) == sk.accuracy_score(y_bin, pred, normalize=False)
    assert cm.log_loss(lazy(y_multi, kind), lazy(proba, kind, other=True), sample_weight=lw) == pytest.approx(
        sk.log_loss(y_multi, proba, sample_weight=w), rel=1e-12)
    assert cm.log_loss(lazy(y_bin, kind), lazy(score, kind)) == pytest.approx(sk.log_loss(y_bin, score), rel=1e-12)
    np.testing.assert_allclose(cm.confusion_matrix(lazy(y_multi, kind), lazy(proba.argmax(1), kind, other=True),
                                                   sample_weight=lw),
                               sk.confusion_matrix(y_multi, proba.argmax(1), sample_weight=w), rtol=1e-12)
    assert cm.roc_auc_score(lazy(y_bin, kind), lazy(score, kind, other=True), sample_weight=lw) == pytest.approx(
        sk.roc_auc_score(y_bin, score, sample_weight=w), rel=1e-12)


def test_confusion_matrix_options():
    yt, yp = lazy(y_multi, "even"), lazy(proba.argmax(1), "uneven")
    ours = cm.confusion_matrix(yt, yp)
    assert ours.dtype == sk.confusion_matrix(y_multi, proba.argmax(1)).dtype
    for normalize in ("true", "pred", "all"):
        np.testing.assert_allclose(cm.confusion_matrix(yt, yp, normalize=normalize),
                                   sk.confusion_matrix(y_multi, proba.argmax(1), normalize=normalize))
    np.testing.assert_array_equal(cm.confusion_matrix(yt, yp, labels=[2, 0]),
                                  sk.confusion_matrix(y_multi, proba.argmax(1), labels=[2, 0]))
    strings = np.array(["cat", "dog", "bird"], dtype=object)
    np.testing.assert_array_equal(cm.confusion_matrix(da.from_array(strings[y_multi], chunks=40),
                                                      da.from_array(strings[proba.argmax(1)], chunks=70)),
                                  sk.confusion_matrix(strings[y_multi], strings[proba.argmax(1)]))


def test_roc_auc_multiclass_and_partial():
    for average in ("macro", "weighted"):
        assert cm.roc_auc_score(lazy(y_multi, "even"), lazy(proba, "uneven"), multi_class="ovr",
                                average=average) == pytest.approx(
            sk.roc_auc_score(y_multi, proba, multi_class="ovr", average=average), rel=1e-12)
    assert cm.roc_auc_score(lazy(y_bin, "even"), lazy(score, "even"), max_fpr=0.3) == pytest.approx(
        sk.roc_auc_score(y_bin, score, max_fpr=0.3), rel=1e-12)
    with pytest.raises(ValueError, match="ovr"):
        cm.roc_auc_score(lazy(y_multi, "even"), lazy(proba, "even"))


@pytest.mark.parametrize("kind", ["even", "uneven", "single"])
@pytest.mark.parametrize("multioutput", ["uniform_average", "raw_values", [0.3, 0.7]])
def test_regression_metrics(kind, multioutput):
    for weighted in (False, True):
        w = weights if weighted else None
        lw = lazy(weights, kind) if weighted else None
        for ours, theirs in [(cm.mean_squared_error, sk.mean_squared_error),
                             (cm.mean_absolute_error, sk.mean_absolute_error),
                             (cm.r2_score, sk.r2_score)]:
            got = ours(lazy(y_reg, kind), lazy(p_reg, kind, other=True), sample_weight=lw, multioutput=multioutput)
            want = theirs(y_reg, p_reg, sample_weight=w, multioutput=multioutput)
            np.testing.assert_allclose(got, want, rtol=1e-10)
            assert isinstance(got, float) == isinstance(want, float)
    assert cm.r2_score(lazy(y_reg, kind), lazy(p_reg, kind), multioutput="variance_weighted") == pytest.approx(
        sk.r2_score(y_reg, p_reg, multioutput="variance_weighted"), rel=1e-10)
    assert cm.r2_score(lazy(y_reg[:, 0], kind), lazy(p_reg[:, 0], kind)) == pytest.approx(
        sk.r2_score(y_reg[:, 0], p_reg[:, 0]), rel=1e-10)


def test_r2_constant_target():
    y = np.full(20, 3.0)
    assert cm.r2_score(da.from_array(y, chunks=5), da.from_array(y, chunks=5)) == 1.0
    assert cm.r2_score(da.from_array(y, chunks=5), da.from_array(y + 1, chunks=5)) == 0.0


def test_one_pass_and_errors_before_computing():
    calls = []

    def spy(block):
        calls.append(1)
        return block

    yt = da.from_array(y_bin, chunks=50).map_blocks(spy, dtype=y_bin.dtype)
    cm.accuracy_score(yt, lazy(y_bin, "uneven"))
    assert len(calls) == 5
    calls.clear()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cm.accuracy_score(yt, y_bin[:10])
    assert calls == []
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        cm.accuracy_score(with_unknown_chunks(lazy(y_bin, "even")), y_bin)


def test_schedulers_agree(scheduler):
    from chunkwise import config

    with config.set(scheduler=scheduler):
        assert cm.roc_auc_score(lazy(y_bin, "even"), lazy(score, "uneven")) == pytest.approx(
            sk.roc_auc_score(y_bin, score), rel=1e-12)


def test_numpy_goes_to_sklearn():
    assert cm.accuracy_score(y_bin, y_bin) == 1.0
    assert cm.log_loss(y_multi, proba) == sk.log_loss(y_multi, proba)
