"""chunkwise.ml.preprocessing against scikit-learn on the same in-memory data."""

import numpy as np
import pandas as pd
import pytest
from sklearn import preprocessing as sk

import chunkwise
import chunkwise.array as da
import chunkwise.dataframe as dd
from chunkwise.array.testing import with_unknown_chunks
from chunkwise.ml import preprocessing as cp

rng = np.random.default_rng(0)
X_np = rng.standard_normal((97, 4)) * [1.0, 10.0, 0.1, 1e3] + [0.0, 5.0, -3.0, 1e6]
X_np[:, 2] = np.round(X_np[:, 2], 1)
CHUNKS = {"even": (20, 4), "uneven": ((50, 1, 30, 16), (1, 3)), "single": (97, 4), "empty": ((50, 0, 47), (4,))}


def _chunked(kind, values=X_np):
    if kind == "unknown":
        return with_unknown_chunks(da.from_array(values, chunks=(25, 4)))
    return da.from_array(values, chunks=CHUNKS[kind] if values.ndim == 2 else CHUNKS[kind][0])


KINDS = ["even", "uneven", "single", "empty", "unknown"]


def _compare_fitted(ours, theirs, attributes, rtol=1e-12):
    for attr in attributes:
        a, b = getattr(ours, attr), getattr(theirs, attr)
        if b is None:
            assert a is None, attr
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, err_msg=attr)
            assert np.shape(a) == np.shape(b), attr


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("params", [{}, {"with_mean": False}, {"with_std": False}])
def test_standard_scaler_matches_sklearn(kind, params, scheduler):
    ours = cp.StandardScaler(**params).fit(_chunked(kind))
    theirs = sk.StandardScaler(**params).fit(X_np)
    _compare_fitted(ours, theirs, ["mean_", "var_", "scale_"])
    assert ours.n_samples_seen_ == theirs.n_samples_seen_ and ours.n_features_in_ == 4
    Z = ours.transform(_chunked(kind))
    assert isinstance(Z, da.Array) and Z.dtype == np.float64
    np.testing.assert_allclose(Z.compute(scheduler=scheduler), theirs.transform(X_np), rtol=1e-10, atol=1e-12)
    back = ours.inverse_transform(Z).compute(scheduler=scheduler)
    np.testing.assert_allclose(back, X_np, rtol=1e-12)


def test_standard_scaler_nan_weights_constant_and_float32():
    X = X_np.copy()
    X[3, 1] = np.nan
    X[:, 3] = 7.0
    ours = cp.StandardScaler().fit(da.from_array(X, chunks=10))
    theirs = sk.StandardScaler().fit(X)
    _compare_fitted(ours, theirs, ["mean_", "var_", "scale_"], rtol=1e-10)
    np.testing.assert_array_equal(ours.n_samples_seen_, theirs.n_samples_seen_)
    w = rng.uniform(0.5, 2.0, len(X_np))
    ours = cp.StandardScaler().fit(da.from_array(X_np, chunks=30), sample_weight=da.from_array(w, chunks=7))
    theirs = sk.StandardScaler().fit(X_np, sample_weight=w)
    _compare_fitted(ours, theirs, ["mean_", "var_", "scale_"], rtol=1e-10)
    X32 = da.from_array(X_np[:, :3].astype(np.float32), chunks=30)
    assert cp.StandardScaler().fit(X32).transform(X32).dtype == np.float32


def test_standard_scaler_one_pass():
    calls = []

    def spy(block):
        calls.append(block.shape)
        return block

    X = da.from_array(X_np, chunks=(20, 2)).map_blocks(spy, dtype=float)
    cp.StandardScaler().fit(X)
    assert len(calls) == 10  # each of the 5 x 2 blocks read once: mean and variance together


def test_partial_fit_merges():
    ours = cp.StandardScaler()
    ours.partial_fit(da.from_array(X_np[:50], chunks=13))
    ours.partial_fit(da.from_array(X_np[50:], chunks=20))
    theirs = sk.StandardScaler().fit(X_np)
    _compare_fitted(ours, theirs, ["mean_", "var_", "scale_"], rtol=1e-10)
    assert ours.n_samples_seen_ == 97


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("params", [{}, {"feature_range": (-2, 3), "clip": True}])
def test_min_max_scaler_matches_sklearn(kind, params, scheduler):
    ours = cp.MinMaxScaler(**params).fit(_chunked(kind))
    theirs = sk.MinMaxScaler(**params).fit(X_np)
    _compare_fitted(ours, theirs, ["data_min_", "data_max_", "data_range_", "scale_", "min_"])
    assert ours.n_samples_seen_ == theirs.n_samples_seen_
    Z = ours.transform(_chunked(kind) * 1.1)
    np.testing.assert_allclose(Z.compute(scheduler=scheduler), theirs.transform(X_np * 1.1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(_chunked(kind))).compute(), X_np, rtol=1e-10)


@pytest.mark.parametrize("params", [{}, {"quantile_range": (10, 90), "unit_variance": True}, {"with_centering": False}])
def test_robust_scaler_single_block_is_exact(params):
    ours = cp.RobustScaler(**params).fit(_chunked("single"))
    theirs = sk.RobustScaler(**params).fit(X_np)
    _compare_fitted(ours, theirs, ["center_", "scale_"])
    np.testing.assert_allclose(ours.transform(_chunked("single")).compute(), theirs.transform(X_np), rtol=1e-12)


def test_robust_scaler_many_blocks_is_close():
    X = rng.standard_normal((30_000, 3)) * [1, 5, 100]
    ours = cp.RobustScaler().fit(da.from_array(X, chunks=(3_000, 3)))
    theirs = sk.RobustScaler().fit(X)
    assert (np.abs(ours.center_ - theirs.center_) < 0.01 * theirs.scale_).all()
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=0.01)
    small = cp.RobustScaler().fit(_chunked("uneven"))  # small blocks are kept whole: exact
    _compare_fitted(small, sk.RobustScaler().fit(X_np), ["center_", "scale_"])


def test_scalers_on_dataframes(scheduler):
    pdf = pd.DataFrame(X_np, columns=["a", "b", "c", "d"])
    df = dd.from_pandas(pdf, npartitions=4)
    ours = cp.StandardScaler().fit(df)
    theirs = sk.StandardScaler().fit(pdf)
    _compare_fitted(ours, theirs, ["mean_", "var_"])
    assert list(ours.feature_names_in_) == ["a", "b", "c", "d"]
    out = ours.transform(df)
    assert isinstance(out, dd.DataFrame) and list(out.columns) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(out.compute(scheduler=scheduler).to_numpy(), theirs.transform(pdf), rtol=1e-10)
    mm = cp.MinMaxScaler().fit(df)
    np.testing.assert_allclose(mm.data_max_, pdf.max().to_numpy())
    assert list(mm.get_feature_names_out()) == ["a", "b", "c", "d"]


def test_transform_is_lazy_and_checks_features():
    ours = cp.StandardScaler().fit(_chunked("even"))
    out = ours.transform(_chunked("even"))
    assert out.chunks == ((20, 20, 20, 20, 17), (4,))
    with pytest.raises(ValueError, match="X has 3 features, but StandardScaler is expecting 4"):
        ours.transform(da.from_array(X_np[:, :3], chunks=10))


@pytest.mark.parametrize("params", [{"degree": 2}, {"degree": 3, "interaction_only": True, "include_bias": False}])
def test_polynomial_features(params, scheduler):
    X = X_np[:, :3]
    ours = cp.PolynomialFeatures(**params).fit(da.from_array(X, chunks=(30, 2)))
    theirs = sk.PolynomialFeatures(**params).fit(X)
    np.testing.assert_array_equal(ours.powers_, theirs.powers_)
    out = ours.transform(da.from_array(X, chunks=(30, 2)))
    assert out.shape == (97, theirs.n_output_features_)
    np.testing.assert_allclose(out.compute(scheduler=scheduler), theirs.transform(X), rtol=1e-12)
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())


LABELS = np.array(["b", "a", "c", "a", "b", "d"] * 10, dtype=object)


@pytest.mark.parametrize("kind", ["even", "single", "unknown"])
def test_label_encoder(kind, scheduler):
    y = da.from_array(LABELS, chunks=7 if kind != "single" else 60)
    if kind == "unknown":
        y = with_unknown_chunks(y)
    ours = cp.LabelEncoder().fit(y)
    theirs = sk.LabelEncoder().fit(LABELS)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    codes = ours.transform(y)
    np.testing.assert_array_equal(codes.compute(scheduler=scheduler), theirs.transform(LABELS))
    np.testing.assert_array_equal(ours.inverse_transform(codes).compute(scheduler=scheduler), LABELS)
    with pytest.raises(ValueError, match="previously unseen labels"):
        ours.transform(da.from_array(np.array(["a", "z"], dtype=object), chunks=1)).compute()


CAT = pd.DataFrame({"color": ["red", "blue", "red", "green", "blue", "red"] * 5,
                    "size": [1, 2, 3, 1, 2, 3] * 5, "x": np.arange(30.0)})


@pytest.mark.parametrize("params", [{}, {"drop": "first"}, {"handle_unknown": "ignore"}])
def test_one_hot_encoder_on_dataframes(params, scheduler):
    df = dd.from_pandas(CAT[["color", "size"]], npartitions=3)
    ours = cp.OneHotEncoder(sparse_output=False, **params).fit(df)
    theirs = sk.OneHotEncoder(sparse_output=False, **params).fit(CAT[["color", "size"]])
    for a, b in zip(ours.categories_, theirs.categories_):
        np.testing.assert_array_equal(a, b)
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    out = ours.transform(df)
    assert list(out.columns) == list(theirs.get_feature_names_out())
    np.testing.assert_array_equal(out.compute(scheduler=scheduler).to_numpy(), theirs.transform(CAT[["color", "size"]]))


@pytest.mark.parametrize("chunks", [(7, 1), ((10, 0, 20), (1,)), (30, 1), "unknown"])
def test_one_hot_and_ordinal_on_arrays(chunks):
    values = CAT[["color"]].to_numpy().astype(object)
    X = with_unknown_chunks(da.from_array(values, chunks=7)) if chunks == "unknown" else da.from_array(values, chunks=chunks)
    ours = cp.OneHotEncoder().fit(X)  # sparse_output=True: dense blocks on chunked input
    theirs = sk.OneHotEncoder().fit(values)
    np.testing.assert_array_equal(ours.transform(X).compute(), theirs.transform(values).toarray())
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(X)).compute(), values)
    ordinal = cp.OrdinalEncoder().fit(X)
    np.testing.assert_array_equal(ordinal.transform(X).compute(), sk.OrdinalEncoder().fit_transform(values))
    np.testing.assert_array_equal(ordinal.inverse_transform(ordinal.transform(X)).compute(), values)
    numbers = da.from_array(np.array([[3], [1], [2], [1]]), chunks=2)
    np.testing.assert_array_equal(cp.OrdinalEncoder().fit(numbers).categories_[0], [1, 2, 3])
    with pytest.raises(ValueError, match="unknown categor"):
        ours.transform(da.from_array(np.array([["purple"]], dtype=object), chunks=1)).compute()


def test_declared_categories_need_no_pass():
    pdf = CAT.assign(color=CAT.color.astype(pd.CategoricalDtype(["red", "green", "blue", "pink"])))
    calls = []

    def spy(part):
        calls.append(1)
        return part

    df = dd.from_pandas(pdf, npartitions=3).map_partitions(spy, meta=pdf.iloc[:0])
    ours = cp.OneHotEncoder(sparse_output=False).fit(df[["color"]])
    assert calls == []
    assert list(ours.categories_[0]) == ["red", "green", "blue", "pink"]


def test_categorizer_and_dummy_encoder(scheduler):
    df = dd.from_pandas(CAT, npartitions=3)
    cat = cp.Categorizer().fit(df)
    assert list(cat.columns_) == ["color"]
    assert list(cat.categories_["color"].categories) == ["blue", "green", "red"]
    categorized = cat.transform(df)
    assert isinstance(categorized.dtypes["color"], pd.CategoricalDtype)
    dummy = cp.DummyEncoder().fit(categorized)
    out = dummy.transform(categorized)
    expected = pd.get_dummies(CAT.astype({"color": cat.categories_["color"]}), columns=["color"], dtype=float)
    assert list(out.columns) == list(expected.columns) == list(dummy.transformed_columns_)
    pd.testing.assert_frame_equal(out.compute(scheduler=scheduler), expected)
    back = dummy.inverse_transform(out).compute(scheduler=scheduler)
    pd.testing.assert_series_equal(back["color"].astype(str), CAT["color"].astype(str), check_names=False)
    with pytest.raises(ValueError, match="Categorizer"):
        cp.DummyEncoder(columns=["x"]).fit(df)
    np.testing.assert_array_equal(cp.Categorizer().fit_transform(X_np), X_np)


def test_fit_computes_once_per_call():
    X = _chunked("even")
    scaler = cp.StandardScaler().fit(X)
    total = chunkwise.compute(scaler.transform(X).sum(axis=0))[0]
    np.testing.assert_allclose(total, 0, atol=1e-9)
