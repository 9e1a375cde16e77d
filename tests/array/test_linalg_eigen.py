"""``linalg.eig``/``eigvals``: batch-wise over chunked leading axes, against NumPy on the same data."""

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq


def _stack(seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(7, 4, 4)).astype(dtype)


def test_eigvals_matches_numpy_on_uneven_batch_chunks(scheduler):
    a = _stack()
    x = da.from_array(a, chunks=((2, 1, 4), (3, 1), (4,)))  # matrix axes split too: rechunked to one
    expected = np.linalg.eigvals(a)
    assert expected.dtype.kind == "c"  # random matrices have complex pairs
    assert_eq(da.linalg.eigvals(x), expected, schedulers=(scheduler,))


def test_eig_matches_numpy_and_satisfies_the_definition(scheduler):
    a = _stack(1)
    x = da.from_array(a, chunks=((3, 4), (4,), (4,)))
    w, v = da.linalg.eig(x)
    expected_w, expected_v = np.linalg.eig(a)
    assert_eq(w, expected_w, schedulers=(scheduler,))
    assert_eq(v, expected_v, schedulers=(scheduler,))
    got_w, got_v = w.compute(scheduler=scheduler), v.compute(scheduler=scheduler)
    np.testing.assert_allclose(a @ got_v, got_v * got_w[..., None, :], atol=1e-10)


def test_eig_of_a_matrix_with_real_eigenvalues_is_complex_typed():
    a = np.array([[2.0, 1.0], [0.0, 3.0]])
    w = da.linalg.eigvals(da.from_array(a, chunks=1))
    assert w.dtype == np.complex128  # NumPy returns float64 here: its dtype depends on the values
    np.testing.assert_allclose(w.compute(), np.linalg.eigvals(a).astype(complex))
    assert da.linalg.eig(da.from_array(a.astype("float32"))).eigenvectors.dtype == np.complex64
    assert da.linalg.eigvals(da.from_array(np.eye(2, dtype=int))).dtype == np.complex128


def test_numpy_linalg_eig_dispatches_to_chunkwise():
    a = _stack(2)[:2]
    out = np.linalg.eigvals(da.from_array(a, chunks=(1, 4, 4)))
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), np.linalg.eigvals(a))


@pytest.mark.parametrize("shape", [(3,), (2, 3), (4, 2, 3)])
def test_eig_refuses_non_square_input(shape):
    with pytest.raises(ValueError, match="eig: the array must be a square matrix"):
        da.linalg.eig(da.ones(shape))
    with pytest.raises(ValueError, match="eigvals: the array must be a square matrix"):
        da.linalg.eigvals(da.ones(shape))
