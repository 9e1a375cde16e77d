"""chunkwise.ml.cluster.KMeans against scikit-learn on the same in-memory data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import make_blobs

import chunkwise
import chunkwise.array as da
from chunkwise.ml.cluster import KMeans, init_kmeans_parallel
from chunkwise.ml.passes import passes_counter

CHUNKINGS = {"even": 500, "uneven": ((300, 1200, 100, 400),), "single": 2000}


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(n_samples=2000, centers=5, n_features=3, cluster_std=1.5, random_state=0)
    return X


def _rows(X, chunks):
    if isinstance(chunks, tuple):
        chunks = chunks + ((X.shape[1],),)
    return da.from_array(X, chunks=chunks)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
def test_lloyd_from_the_same_centres_matches_sklearn(blobs, chunks, scheduler):
    init = blobs[[0, 10, 20, 30, 40]]
    with chunkwise.config.set(scheduler=scheduler):
        ours = KMeans(5, init=init, tol=1e-6).fit(_rows(blobs, chunks))
    ref = SklearnKMeans(5, init=init, n_init=1, tol=1e-6).fit(blobs)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=0.01)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6)
    assert ours.n_iter_ == ref.n_iter_
    labels = ours.labels_
    assert isinstance(labels, da.Array) and labels.chunks == (_rows(blobs, chunks).chunks[0],)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels.compute(), ref.labels_)


@pytest.mark.parametrize("init", ["k-means||", "k-means++", "random"])
def test_initialisations_reach_sklearns_inertia(blobs, init):
    # one k-means|| start is enough here; single k-means++ or random starts can stop in a local minimum
    n_init = 1 if init == "k-means||" else 10
    ours = KMeans(5, init=init, n_init=n_init, random_state=0).fit(_rows(blobs, 500))
    ref = SklearnKMeans(5, random_state=0, n_init=10).fit(blobs)
    assert ours.inertia_ <= ref.inertia_ * 1.01
    assert ours.cluster_centers_.shape == (5, 3)


def test_kmeans_parallel_passes_and_candidates(blobs):
    X = _rows(blobs, 500)
    with passes_counter() as passes:
        centers = init_kmeans_parallel(X, 5, np.random.default_rng(0), oversampling_factor=2, rounds=3)
    assert centers.shape == (5, 3)
    assert passes() == 3 + 1  # one pass per round (cost and draw together), then the weights
    # each true blob gets a centre
    ref = SklearnKMeans(5, random_state=0, n_init=10).fit(blobs).cluster_centers_
    nearest = np.min(((ref[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)
    assert np.all(nearest < 4.0)  # within about one standard deviation (1.5) of every blob


def _two_pass_kmeans_parallel(X, k, rng, oversampling_factor, rounds):
    """The k-means|| of the previous release: a cost pass, then a draw pass, per round (10 local starts)."""
    from chunkwise.ml.cluster import closest_counts, cost_partial, oversample

    blocks = [X[i : i + 500] for i in range(0, len(X), 500)]
    centers = X[rng.integers(len(X))][None, :]
    rate = oversampling_factor * k
    base = int(rng.integers(2**32))
    for r in range(rounds):
        phi = float(np.sum([cost_partial(b, centers=centers)[0] for b in blocks]))
        new = np.concatenate([oversample(b, centers, phi, rate, (base, r, i)) for i, b in enumerate(blocks)])
        centers = np.unique(np.concatenate([centers, new]), axis=0)
    weights = np.sum([closest_counts(b, centers=centers) for b in blocks], axis=0)
    seed = int(rng.integers(2**31))
    local = SklearnKMeans(k, init="k-means++", n_init=10, random_state=seed)
    return local.fit(centers, sample_weight=weights).cluster_centers_


@pytest.mark.parametrize("rounds", [1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_pass_rounds_draw_the_rows_of_a_cost_pass_then_a_draw_pass(blobs, rounds, seed):
    ours = init_kmeans_parallel(_rows(blobs, 500), 5, np.random.default_rng(seed), 2, rounds)
    ref = _two_pass_kmeans_parallel(blobs, 5, np.random.default_rng(seed), 2, rounds)
    np.testing.assert_array_equal(ours, ref)


def test_a_block_that_may_draw_more_than_it_kept_is_reread():
    from chunkwise.ml.cluster import draw_from_partials, oversample, round_partial

    rng = np.random.default_rng(3)
    blocks = [rng.normal(size=(400, 4)) + 8 * (i == 2) for i in range(4)]  # block 2 far away: most draws
    centers = blocks[0][:1]
    rate = 40.0
    for keep in (1, 5, 1000):
        parts = [round_partial(b, centers, rate, (9, 0, i), keep) for i, b in enumerate(blocks)]
        phi = sum(part[0] for part in parts)
        assert phi == pytest.approx(sum(((b - centers) ** 2).sum() for b in blocks))
        reread = []

        def redraw(i, reread=reread, phi=phi):
            reread.append(i)
            return oversample(blocks[i], centers, phi, rate, (9, 0, i))

        drawn, n_reread = draw_from_partials(parts, phi, rate, redraw)
        expected = np.concatenate([oversample(b, centers, phi, rate, (9, 0, i)) for i, b in enumerate(blocks)])
        np.testing.assert_array_equal(np.sort(drawn, axis=0), np.sort(expected, axis=0))
        assert n_reread == len(reread)
        if keep == 1:
            assert 2 in reread  # the far block draws many rows: its one kept row cannot hold them
        if keep == 1000:
            assert reread == []  # every block kept all its rows


def test_default_init_reaches_sklearns_inertia_on_overlapping_blobs():
    # the benchmark's blobs (std 4 in a box of +-10): one weighted k-means++ start on the candidates
    # settled in a local minimum 14 % above scikit-learn's for some seeds; ten starts (no pass) do not
    X, _ = make_blobs(n_samples=60_000, n_features=20, centers=8, cluster_std=4.0, random_state=0)
    ref = SklearnKMeans(8, random_state=0, n_init=1).fit(X).inertia_
    for seed in range(6):
        ours = KMeans(8, random_state=seed).fit(da.from_array(X, chunks=6_000))
        assert ours.inertia_ == pytest.approx(ref, rel=0.01)


def test_default_init_is_three_passes_and_finds_well_separated_blobs():
    X, _ = make_blobs(n_samples=20_000, centers=8, n_features=10, cluster_std=1.0, center_box=(-20, 20),
                      random_state=1)
    for seed in range(4):
        with passes_counter() as passes:
            ours = KMeans(8, random_state=seed).fit(da.from_array(X, chunks=2_500))
        assert passes() == 2 + 1 + ours.n_iter_ + 1  # 2 rounds, the weights; the Lloyd steps; the inertia
        ref = SklearnKMeans(8, init="k-means++", n_init=1, random_state=seed).fit(X)
        assert ours.inertia_ == pytest.approx(ref.inertia_, rel=0.01)


def test_one_pass_per_lloyd_step(blobs):
    init = blobs[:5]
    with passes_counter() as passes:
        km = KMeans(5, init=init, tol=1e-6).fit(_rows(blobs, 500))
    assert passes() == km.n_iter_ + 1  # each step, then the final inertia


def test_seeded_results_identical_across_schedulers(blobs):
    results = []
    for scheduler in ["sync", "threads"]:
        with chunkwise.config.set(scheduler=scheduler):
            results.append(KMeans(5, random_state=7).fit(_rows(blobs, 300)).cluster_centers_)
    np.testing.assert_array_equal(results[0], results[1])


def test_predict_transform_score(blobs):
    Xd = _rows(blobs, 500)
    km = KMeans(5, random_state=0).fit(Xd)
    ref = SklearnKMeans(5, init=km.cluster_centers_, n_init=1, max_iter=1).fit(blobs)
    ref.cluster_centers_ = km.cluster_centers_
    distances = km.transform(Xd)
    assert distances.chunks == (Xd.chunks[0], (5,))
    np.testing.assert_allclose(distances.compute(), ref.transform(blobs), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(km.predict(Xd).compute(), ref.predict(blobs))
    assert km.score(Xd) == pytest.approx(ref.score(blobs), rel=1e-9)
    assert isinstance(km.predict(blobs), np.ndarray)


def test_unknown_chunks_and_column_chunks(blobs):
    Xd = da.from_array(blobs, chunks=(500, 2))
    subset = Xd[Xd[:, 0] > 0]
    km = KMeans(3, random_state=0).fit(subset)
    assert km.labels_.shape[0] == int((blobs[:, 0] > 0).sum())


def test_too_few_samples_raise(blobs):
    with pytest.raises(ValueError, match="n_samples=3 should be >= n_clusters=5"):
        KMeans(5).fit(_rows(blobs[:3], 2))
    with pytest.raises(ValueError, match="init"):
        KMeans(5, init="kmeans").fit(_rows(blobs, 500))


def test_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(KMeans(n_clusters=3), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 40


def test_nearest_matches_numpy_and_works_in_slabs():
    import tracemalloc

    from chunkwise.ml.cluster import cost_partial, lloyd_partial, nearest

    rng = np.random.default_rng(5)
    xb, centers = rng.normal(size=(50_000, 5)), rng.normal(size=(200, 5))
    full = ((xb[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    dist, index = nearest(xb, centers)
    np.testing.assert_array_equal(index, full.argmin(axis=1))
    np.testing.assert_allclose(dist, full.min(axis=1), rtol=1e-9, atol=1e-9)
    del full
    tracemalloc.start()
    cost_partial(xb, centers=centers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50_000 * 200 * 8 / 4  # the 80 MB distance matrix is never formed whole
    packed = lloyd_partial(xb, centers=centers[:8])
    labels = ((xb[:, None, :] - centers[None, :8, :]) ** 2).sum(axis=2).argmin(axis=1)
    np.testing.assert_array_equal(packed[1:9], np.bincount(labels, minlength=8))
    np.testing.assert_allclose(packed[9:9 + 40].reshape(8, 5), [xb[labels == j].sum(axis=0) for j in range(8)],
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
@pytest.mark.parametrize("n_far", [1, 2])
def test_empty_cluster_moves_to_a_far_row_as_sklearn(blobs, chunks, n_far):
    # centres far from every row: those clusters are empty after the first assignment, and each
    # takes one of the rows farthest from their centre (scikit-learn's relocation)
    init = np.concatenate([blobs[[0, 10, 20]], np.full((n_far, 3), 1e3) + np.arange(n_far)[:, None]])
    ours = KMeans(3 + n_far, init=init, tol=1e-6).fit(_rows(blobs, chunks))
    ref = SklearnKMeans(3 + n_far, init=init, n_init=1, tol=1e-6).fit(blobs)
    assert np.all(np.abs(ours.cluster_centers_) < 100)  # no centre was left out at 1e3
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    np.testing.assert_allclose(np.sort(ours.cluster_centers_, axis=0), np.sort(ref.cluster_centers_, axis=0),
                               rtol=1e-6)
    stuck = KMeans(3 + n_far, init=init, tol=1e-6, max_iter=1).fit(_rows(blobs, chunks))
    assert np.bincount(stuck.labels_.compute(), minlength=3 + n_far).min() > 0  # every cluster has rows


def test_merge_lloyd_keeps_the_farthest_rows():
    from chunkwise.ml.cluster import lloyd_partial, merge_lloyd, relocate_empty_clusters

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    centers = np.array([[0.0, 0.0], [50.0, 50.0]])
    parts = [lloyd_partial(X[i : i + 10], centers=centers)[None, :] for i in range(0, 50, 10)]
    merged = merge_lloyd(parts, k=2)[0]
    whole = lloyd_partial(X, centers=centers)
    summed = 1 + 2 + 4 + 4
    np.testing.assert_allclose(merged[:summed], whole[:summed])
    d = (X**2).sum(axis=1)
    np.testing.assert_allclose(np.sort(merged[summed : summed + 2]), np.sort(d)[-2:])
    counts, sums = merged[1:3].copy(), merged[3:7].reshape(2, 2).copy()
    far = merged[summed : summed + 2], merged[summed + 2 : summed + 4], merged[summed + 4 :].reshape(2, 2)
    relocate_empty_clusters(counts, sums, far)
    np.testing.assert_allclose(sums[1], X[np.argmax(d)])
    assert counts.tolist() == [49, 1]
