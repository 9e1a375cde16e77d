"""Tests of the one-BLAS-thread limit (``chunkwise.array.blas``) on the threads scheduler."""

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array import blas
from chunkwise.ml import passes


@pytest.fixture
def libs():
    found = blas.blas_libraries()
    if not found:
        pytest.skip("threadpoolctl sees no BLAS library")
    originals = [lib.get_num_threads() for lib in found]
    for lib in found:
        lib.set_num_threads(2)  # the user's setting (pytest runs tests in the main thread)
    yield found
    for lib, n in zip(found, originals):
        lib.set_num_threads(n)


def _threads(libs):
    return max(lib.get_num_threads() for lib in libs)


def test_blas_is_one_thread_at_every_lapack_and_blas_call_on_threads(libs, monkeypatch):
    """OpenBLAS ignores a limit set from a worker thread: before, every compute whose first BLAS
    task ran on a worker ran all its LAPACK calls with two threads (51 of 102 over two QRs)."""
    seen = []
    qr, solve, matmul = np.linalg.qr, np.linalg.solve, np.matmul

    def counting(func):
        def call(*args, **kwargs):
            seen.append(_threads(libs))
            return func(*args, **kwargs)
        return call

    monkeypatch.setattr(np.linalg, "qr", counting(qr))
    monkeypatch.setattr(np.linalg, "solve", counting(solve))
    for seed in range(4):  # several computes: the first BLAS task lands on either thread
        a = da.random.default_rng(seed).random((40_000, 6), chunks=(2_000, 6))
        q, r = da.linalg.qr(a, split_every=4)
        chunkwise.compute(r, (q**2).sum(axis=0), scheduler="threads")
        chunkwise.compute(da.linalg.lstsq(a, a[:, 0])[0], scheduler="threads")
    x = da.random.default_rng(5).random((600, 600), chunks=100)
    product = da.map_blocks(lambda b: np.matmul(b, b.T), x, dtype=float) @ x
    monkeypatch.setattr(np, "matmul", counting(matmul))  # after building: map_blocks probes its function
    (y,) = chunkwise.compute(product, scheduler="threads")
    assert len(seen) >= 4 * 51
    assert [n for n in seen if n != 1] == []
    assert _threads(libs) == 2  # the user's setting is back
    assert y.shape == (600, 600)


def test_blas_limit_is_set_once_per_compute_not_task_by_task(libs, monkeypatch):
    """Before, the first task to enter set the limit and the last to leave restored it, many
    times per compute while other tasks ran BLAS."""
    calls = []
    for lib in libs:
        original = lib.set_num_threads
        monkeypatch.setattr(lib, "set_num_threads", lambda n, f=original: (calls.append(n), f(n))[1])
    a = da.random.default_rng(0).random((40_000, 6), chunks=(1_000, 6))
    q, r = da.linalg.qr(a, split_every=4)
    chunkwise.compute(r, (q**2).sum(axis=0), scheduler="threads")
    assert calls == [1] * len(libs) + [2] * len(libs)  # limit, then restore: once each
    assert _threads(libs) == 2


def test_users_blas_setting_is_restored_after_a_failing_compute(libs):
    def fail(block):
        raise ZeroDivisionError("boom")

    a = da.random.default_rng(0).random((4_000, 6), chunks=(500, 6))
    bad = da.map_blocks(fail, a, dtype=float)
    with pytest.raises(ZeroDivisionError, match="boom"):
        chunkwise.compute(da.linalg.lstsq(a, a[:, 0])[0] + bad.sum(), scheduler="threads")
    assert not blas.blas_threads_held()
    assert _threads(libs) == 2
    # and a compute after it is limited again
    seen = []
    chunkwise.compute(da.map_blocks(lambda b: (seen.append(_threads(libs)), b)[1], a, dtype=float).sum(),
                      scheduler="threads")
    assert seen and set(seen) == {1}
    assert _threads(libs) == 2


def test_sync_compute_leaves_blas_alone_outside_blas_tasks(libs):
    seen = []
    a = da.ones((40, 4), chunks=(10, 4))
    chunkwise.compute(da.map_blocks(lambda b: (seen.append(_threads(libs)), b)[1], a, dtype=float).sum(),
                      scheduler="sync")
    assert seen == [2] * 4
    assert not blas.blas_threads_held()


def test_ml_passes_share_the_one_hold(libs):
    """ml.passes' block used to take its own threadpoolctl limit: nested with the compute's hold,
    whichever restored last decided the setting left behind."""
    a = da.random.default_rng(0).random((4_000, 6), chunks=(500, 6))
    with passes.one_blas_thread():
        assert blas.blas_threads_held()
        assert _threads(libs) == 1
        chunkwise.compute(da.linalg.lstsq(a, a[:, 0])[0], scheduler="threads")
        assert _threads(libs) == 1  # the compute ended, the pass still holds the limit
    assert not blas.blas_threads_held()
    assert _threads(libs) == 2


def test_one_blas_thread_outside_a_compute_takes_and_restores_the_limit(libs):
    with blas.one_blas_thread():
        with blas.one_blas_thread():
            assert _threads(libs) == 1
        assert _threads(libs) == 1
    assert _threads(libs) == 2
