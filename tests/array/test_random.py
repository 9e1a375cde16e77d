"""Random arrays: reproducible on every scheduler, independent blocks, NumPy's distributions and errors."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.core.expr import lower


def _all_schedulers(x):
    results = [
        x.compute(scheduler="sync"),
        x.compute(scheduler="threads", num_workers=1),
        x.compute(scheduler="threads", num_workers=4),
    ]
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])
    return results[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda r: r.random((7, 9), chunks=(3, 4)),
        lambda r: r.standard_normal((10,), chunks=((3, 0, 7),)),
        lambda r: r.normal(5, 2, size=(6, 5), chunks=2),
        lambda r: r.uniform(-1, 1, size=8, chunks=3),
        lambda r: r.integers(0, 100, size=(5, 5), chunks=2),
        lambda r: r.choice(10, size=12, chunks=5),
        lambda r: r.choice(10, size=(2, 3), replace=False, chunks=2),
        lambda r: r.permutation(11, chunks=4),
        lambda r: r.poisson(3.0, size=9, chunks=4),
    ],
)
def test_seeded_reproducible_across_schedulers_and_runs(make):
    a = make(da.random.default_rng(123))
    b = make(da.random.default_rng(123))
    assert a.name == b.name
    first = _all_schedulers(a)
    np.testing.assert_array_equal(first, b.compute())
    np.testing.assert_array_equal(first, a.compute())  # same object twice
    assert first.dtype == a.dtype and first.shape == a.shape
    c = make(da.random.default_rng(124))
    assert c.name != a.name
    # blocks drawn independently are sources: no dependencies, a few scalars each
    if type(a.expr).__name__ == "RandomBlocks":
        assert all(not node.dependencies for node in lower([a.expr]).values())


def test_legacy_reproducible_and_seed():
    a = da.random.RandomState(5).random_sample((6, 6), chunks=4)
    b = da.random.RandomState(5).random((6, 6), chunks=4)
    np.testing.assert_array_equal(_all_schedulers(a), b.compute())
    da.random.seed(7)
    x = da.random.random((5, 5), chunks=2)
    y = da.random.normal(0, 1, size=4, chunks=2)
    da.random.seed(7)
    assert da.random.random((5, 5), chunks=2).name == x.name
    assert da.random.normal(0, 1, size=4, chunks=2).name == y.name
    state = da.random.RandomState(1)
    r = state.randint(3, 9, size=100, chunks=30).compute()
    assert r.dtype == np.int64 and r.min() >= 3 and r.max() < 9
    assert state.randint(5, size=3, dtype="i2", chunks=2).dtype == np.int16
    assert da.random.randint(5, size=10, chunks=3).compute().max() < 5
    assert da.random.standard_normal(4, chunks=2).dtype == np.float64
    assert da.random.uniform(2, 3, size=4, chunks=2).compute().min() >= 2


def test_unseeded_differs_but_same_object_is_stable():
    x = da.random.random(100, chunks=30)
    y = da.random.random(100, chunks=30)
    assert x.name != y.name
    np.testing.assert_array_equal(x.compute(), x.compute())
    assert not np.array_equal(x.compute(), y.compute())
    r1, r2 = da.random.default_rng(), da.random.default_rng()
    assert r1.random(3).name != r2.random(3).name


def test_calls_on_one_generator_differ_and_replay():
    rng = da.random.default_rng(0)
    a, b = rng.random(50, chunks=10), rng.random(50, chunks=10)
    assert not np.array_equal(a.compute(), b.compute())
    rng2 = da.random.default_rng(0)
    np.testing.assert_array_equal(rng2.random(50, chunks=10).compute(), a.compute())
    np.testing.assert_array_equal(rng2.random(50, chunks=10).compute(), b.compute())


def test_blocks_are_independent_streams():
    x = da.random.default_rng(9).random((4, 1000), chunks=(1, 1000)).compute()
    for i in range(4):
        for j in range(i + 1, 4):
            assert not np.array_equal(x[i], x[j])
            assert abs(np.corrcoef(x[i], x[j])[0, 1]) < 0.15


def test_statistics():
    x = da.random.default_rng(1).random(1_000_000, chunks=100_000).compute()
    assert abs(x.mean() - 0.5) < 0.01 and x.min() >= 0 and x.max() < 1
    n = da.random.default_rng(2).normal(3, 2, size=200_000, chunks=50_000).compute()
    assert abs(n.mean() - 3) < 0.05 and abs(n.std() - 2) < 0.05
    legacy = da.random.RandomState(3).random_sample(1_000_000, chunks=250_000).compute()
    assert abs(legacy.mean() - 0.5) < 0.01


def test_dtypes():
    rng = da.random.default_rng(0)
    for dtype in ("i1", "u2", "i4", "u8", np.int64, bool):
        x = rng.integers(0, 2, size=20, dtype=dtype, chunks=7)
        assert x.dtype == np.dtype(dtype)
        assert x.compute().dtype == np.dtype(dtype)
    v = rng.integers(5, size=1000, endpoint=True, chunks=300).compute()
    assert v.max() == 5 and v.min() == 0
    assert rng.random(5, dtype=np.float32, chunks=2).compute().dtype == np.float32
    assert rng.standard_normal(5, dtype="f4", chunks=2).compute().dtype == np.float32
    assert rng.choice(np.array([1.5, 2.5]), size=4, chunks=3).compute().dtype == np.float64


def test_shapes_and_chunks():
    rng = da.random.default_rng(0)
    x = rng.random((10, 7), chunks=((1, 2, 7), (7,)))
    assert x.chunks == ((1, 2, 7), (7,))
    assert x.compute().shape == (10, 7)
    assert rng.random(0, chunks=2).compute().shape == (0,)
    scalar = rng.random()
    assert scalar.shape == () and scalar.compute().shape == ()
    assert rng.random((3, 0), chunks=2).compute().shape == (3, 0)
    assert rng.random((1000, 1000)).chunks == ((1000,), (1000,))  # "auto"


def test_array_parameters_broadcast():
    rng = da.random.default_rng(4)
    loc = np.array([0.0, 100.0, 1000.0])
    x = rng.normal(loc, 0.01, size=(50, 3), chunks=(20, 2))
    got = x.compute()
    np.testing.assert_allclose(got.mean(axis=0), loc, atol=0.1)
    y = rng.normal(da.from_array(loc, chunks=1), 0.01, chunks=2)
    assert y.shape == (3,)
    np.testing.assert_allclose(y.compute(), loc, atol=0.1)
    with pytest.raises(ValueError, match="does not broadcast"):
        rng.normal(np.zeros(4), 1, size=(5, 3))


def test_choice():
    rng = da.random.default_rng(11)
    pop = np.array([10, 20, 30, 40, 50])
    x = rng.choice(pop, size=(40, 3), chunks=(7, 2)).compute()
    assert set(np.unique(x)) <= set(pop)
    x = rng.choice(da.from_array(pop, chunks=2), size=30, chunks=7).compute()
    assert set(np.unique(x)) <= set(pop)
    p = [0.0, 0.0, 1.0, 0.0, 0.0]
    assert (rng.choice(5, size=20, p=p, chunks=6).compute() == 2).all()
    no_repeat = rng.choice(100, size=(10, 9), replace=False, chunks=4).compute()
    assert len(np.unique(no_repeat)) == 90
    no_repeat = rng.choice(pop, size=5, replace=False, chunks=2).compute()
    assert sorted(no_repeat.tolist()) == pop.tolist()
    with_p = rng.choice(6, size=3, replace=False, p=[0.2, 0.2, 0.2, 0.2, 0.2, 0.0], chunks=2).compute()
    assert len(set(with_p.tolist())) == 3 and 5 not in with_p
    with pytest.raises(ValueError, match="larger sample"):
        rng.choice(3, size=4, replace=False)
    with pytest.raises(ValueError, match="choice"):
        rng.choice(3, size=2, p=[0.5, 0.6, 0.1])
    with pytest.raises(ValueError, match="same size|one probability per element"):
        rng.choice(3, size=2, p=[0.5, 0.5])
    with pytest.raises(ValueError, match="1-dimensional"):
        da.random.RandomState(0).choice(np.ones((2, 2)), size=2)
    with pytest.raises(ValueError, match="positive"):
        rng.choice(0, size=2)


def test_choice_of_slices_of_an_nd_population():
    rng = da.random.default_rng(5)
    a = np.arange(7 * 4 * 3).reshape(7, 4, 3)
    x = da.from_array(a, chunks=(3, 2, 2))
    rows = {tuple(r.ravel()) for r in a}
    y = rng.choice(x, size=(5, 2), chunks=(2, 1))
    assert y.shape == (5, 2, 4, 3) and y.chunks[:2] == ((2, 2, 1), (1, 1)) and y.chunks[2:] == x.chunks[1:]
    out = y.compute()
    assert all(tuple(out[i, j].ravel()) in rows for i in range(5) for j in range(2))
    np.testing.assert_array_equal(out, y.compute(scheduler="threads"))  # the same draws on any scheduler
    z = rng.choice(a, size=4, axis=1, replace=False, chunks=3).compute()
    assert z.shape == (7, 4, 3) and sorted(z[0, :, 0].tolist()) == a[0, :, 0].tolist()
    w = rng.choice(x, size=6, axis=-1, p=[0.0, 1.0, 0.0], chunks=4).compute()
    np.testing.assert_array_equal(w, np.repeat(a[:, :, 1:2], 6, axis=2))
    one = rng.choice(x).compute()  # size=None: one slice
    assert one.shape == (4, 3) and tuple(one.ravel()) in rows
    assert rng.choice(np.ones((0, 2)), size=0).shape == (0, 2)
    with pytest.raises(np.exceptions.AxisError, match="choice: axis 3"):
        rng.choice(x, axis=3)
    with pytest.raises(ValueError, match="empty"):
        rng.choice(np.ones((0, 2)), size=2)
    with pytest.raises(ValueError, match="larger sample"):
        rng.choice(x, size=8, replace=False)


def test_permutation():
    rng = da.random.default_rng(8)
    x = rng.permutation(1000, chunks=300)
    assert x.chunks == ((300, 300, 300, 100),) and x.dtype == np.int64
    assert sorted(_all_schedulers(x).tolist()) == list(range(1000))
    assert rng.permutation(0, chunks=3).compute().shape == (0,)


def test_permutation_of_array():
    rng = da.random.default_rng(8)
    a = np.arange(20) * 2
    x = rng.permutation(da.from_array(a, chunks=6))
    assert sorted(x.compute().tolist()) == a.tolist()


def test_bad_arguments():
    rng = da.random.default_rng(0)
    with pytest.raises(ValueError, match="negative dimensions"):
        rng.random(-1)
    with pytest.raises(ValueError, match="negative dimensions"):
        da.random.random((3, -2))
    with pytest.raises(TypeError, match="size must be"):
        rng.random(2.5)
    with pytest.raises(ValueError, match="random: .*axis 0"):
        rng.random(10, chunks=((3, 3),))
    with pytest.raises(ValueError, match="normal: .*scale"):
        rng.normal(0, -1, size=3)
    with pytest.raises(ValueError, match="integers"):
        rng.integers(5, 2, size=3)
    with pytest.raises(TypeError, match="out="):
        rng.random(3, out=np.empty(3))
    with pytest.raises(ValueError, match="cannot seed"):
        da.random.default_rng(-1)


def test_many_blocks_build_without_per_block_work():
    import time

    start = time.thread_time()  # CPU time of this thread: holds on a loaded machine
    x = da.random.default_rng(0).random((100_000, 100_000), chunks=(316, 316))
    assert x.npartitions > 99_000
    graph = lower([x.expr], [(x.name, 316, 316)])
    assert time.thread_time() - start < 1.0
    (task,) = graph.values()
    assert not task.dependencies and task({}).shape == (144, 144)


def test_issue_example_mean_when_reductions_land():
    x = da.random.random((2000, 2000), chunks=(500, 500))
    if not hasattr(da, "mean"):
        pytest.skip("reductions not merged yet")
    assert abs(float(x.mean().compute()) - 0.5) < 0.01


def test_seed_kinds():
    seq = np.random.SeedSequence(42)
    a = da.random.default_rng(seq).random(5, chunks=2)
    b = da.random.default_rng(np.random.SeedSequence(42)).random(5, chunks=2)
    np.testing.assert_array_equal(a.compute(), b.compute())
    c = da.random.default_rng([1, 2, 3]).random(5, chunks=2)
    assert c.name != a.name
    d = da.random.default_rng(np.random.default_rng(0)).random(5, chunks=2)
    e = da.random.default_rng(np.random.default_rng(0)).random(5, chunks=2)
    assert d.name == e.name
    rng = da.random.default_rng(1)
    assert da.random.default_rng(rng) is rng
