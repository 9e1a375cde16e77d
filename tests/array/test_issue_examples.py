"""The examples from the array issue, exactly as users copy them, checked against NumPy."""

import numpy as np
import pytest


def test_ones_transpose_mean_as_written():
    import chunkwise.array as da

    x = da.ones((1000, 1000), chunks=(100, 100)); y = x + x.T; z = y.mean(axis=0); z.compute()  # noqa: E702

    result = z.compute()
    assert isinstance(result, np.ndarray)
    expected = (np.ones((1000, 1000)) + np.ones((1000, 1000)).T).mean(axis=0)
    assert result.shape == expected.shape == (1000,)
    assert result.dtype == expected.dtype
    np.testing.assert_allclose(result, expected)
    assert z.shape == (1000,) and z.dtype == expected.dtype


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_random_mean(scheduler):
    import chunkwise.array as da

    # The issue's size is (10000, 10000) with (1000, 1000) chunks; smaller here, same shape of code.
    x = da.random.random((2000, 2000), chunks=(500, 500)); x.mean().compute()  # noqa: E702

    assert x.shape == (2000, 2000) and x.dtype == np.float64
    assert x.chunks == ((500,) * 4, (500,) * 4)
    values = x.compute(scheduler=scheduler)
    assert values.shape == (2000, 2000) and values.dtype == np.float64
    assert values.min() >= 0.0 and values.max() < 1.0
    mean = x.mean().compute(scheduler=scheduler)
    np.testing.assert_allclose(mean, values.mean())  # the lazy mean is the mean of those values
    assert abs(float(mean) - 0.5) < 0.01
    # the same plan computes the same numbers again (each block draws from its own stream)
    np.testing.assert_array_equal(x.compute(scheduler=scheduler), values)


@pytest.mark.slow
def test_random_mean_issue_size():
    import chunkwise.array as da

    x = da.random.random((10000, 10000), chunks=(1000, 1000)); result = x.mean().compute()  # noqa: E702

    assert abs(float(result) - 0.5) < 0.001


def test_from_array_numpy_X():
    import chunkwise.array as da
    from chunkwise.array.testing import assert_eq

    numpy_X = np.random.default_rng(0).standard_normal((2500, 30))
    X = da.from_array(numpy_X, chunks=1000)

    assert X.chunks == ((1000, 1000, 500), (30,))
    assert X.shape == numpy_X.shape and X.dtype == numpy_X.dtype
    assert_eq(X, numpy_X)
    assert_eq(X.mean(axis=0), numpy_X.mean(axis=0))
    assert_eq(X.T @ X, numpy_X.T @ numpy_X)
