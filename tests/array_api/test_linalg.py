"""Array API conformance: the ``linalg`` extension and the top-level linear algebra functions.

Matrices are small, bounded and well conditioned (a diagonal shift for
``inv``/``solve``/``cholesky``); every axis is chunked unevenly, stacks of
matrices included (chunkwise rechunks the last two axes into one block).
Results defined only up to signs (eigenvectors, QR, SVD factors) are
compared by what defines them: the reconstruction and orthonormality.
"""

import numpy as np
import pytest
from array_api_harness import arrays, check, strict, xps
from hypothesis import strategies as st

FLOATS = xps.floating_dtypes()
RTOL = 1e-3


def _elements(dtype):
    return {"min_value": -4, "max_value": 4, "allow_nan": False} if strict.isdtype(dtype, "real floating") else None


@st.composite
def matrices(draw, *, square=False, batch=True, dtype=None, shift=0.0):
    dtype = dtype or draw(FLOATS)
    stack = draw(xps.array_shapes(min_dims=0, max_dims=1 if batch else 0, min_side=1, max_side=3))
    rows = draw(st.integers(1, 4))
    cols = rows if square else draw(st.integers(1, 4))
    x = draw(arrays(dtype, (*stack, rows, cols), elements=_elements(dtype)))
    if shift:
        x = x + shift * strict.eye(rows, dtype=dtype)
    return x


def _one(matrix_strategy, **kwargs):
    return st.tuples(st.tuples(matrix_strategy), st.just(kwargs))


def _assert_orthonormal_columns(q):
    k = q.shape[-1]
    gram = np.swapaxes(q, -1, -2).conj() @ q
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)), atol=RTOL)


def _close(got, want, inputs):
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL)


def test_cholesky(target, budget):
    @st.composite
    def calls(draw):
        a = draw(matrices(square=True))
        spd = a @ strict.matrix_transpose(a) + a.shape[-1] * strict.eye(a.shape[-1], dtype=a.dtype)
        return (spd,), draw(st.fixed_dictionaries({}, optional={"upper": st.booleans()}))

    check(target, "linalg.cholesky", calls(), budget, compare=_close)


def test_cross(target, budget):
    @st.composite
    def calls(draw):
        dtype = draw(FLOATS)
        shape = draw(xps.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3)) + (3,)
        x1, x2 = draw(arrays(dtype, shape, elements=_elements(dtype))), draw(arrays(dtype, shape, elements=_elements(dtype)))
        return (x1, x2), {"axis": -1}

    check(target, "linalg.cross", calls(), budget, compare=_close)


@pytest.mark.parametrize("name", ["det", "slogdet"])
def test_determinants(target, budget, name):
    check(target, f"linalg.{name}", _one(matrices(square=True)), budget, compare=_close)


def test_diagonal(target, budget):
    @st.composite
    def calls(draw):
        return (draw(matrices()),), {"offset": draw(st.integers(-3, 3))}

    check(target, "linalg.diagonal", calls(), budget)


def test_eigh(target, budget):
    @st.composite
    def calls(draw):
        a = draw(matrices(square=True))
        return (a + strict.matrix_transpose(a),), {}

    def vectors(got, want, inputs):  # orthonormal columns (signs and order within ties may differ)
        _assert_orthonormal_columns(got)

    check(target, "linalg.eigh", calls(), budget, compare=(_close, vectors))


def test_eigvalsh(target, budget):
    @st.composite
    def calls(draw):
        a = draw(matrices(square=True))
        return (a + strict.matrix_transpose(a),), {}

    check(target, "linalg.eigvalsh", calls(), budget, compare=_close)


def test_inv(target, budget):
    check(target, "linalg.inv", _one(matrices(square=True, shift=20.0)), budget, compare=_close)


@pytest.mark.parametrize("where", ["linalg.matmul", "matmul"])
def test_matmul(target, budget, where):
    @st.composite
    def calls(draw):
        dtype = draw(FLOATS)
        n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
        stack = draw(xps.array_shapes(min_dims=0, max_dims=1, min_side=1, max_side=3))
        a = draw(arrays(dtype, (*stack, n, k), elements=_elements(dtype)))
        b = draw(arrays(dtype, (k, m) if draw(st.booleans()) else (k,), elements=_elements(dtype)))
        return (a, b), {}

    check(target, where, calls(), budget, compare=_close)


def test_matrix_norm(target, budget):
    @st.composite
    def calls(draw):
        return (draw(matrices()),), draw(st.fixed_dictionaries({}, optional={
            "keepdims": st.booleans(), "ord": st.sampled_from(["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])}))

    check(target, "linalg.matrix_norm", calls(), budget, compare=_close)


def test_matrix_power(target, budget):
    @st.composite
    def calls(draw):
        return (draw(matrices(square=True, shift=20.0)), draw(st.integers(-2, 3))), {}

    check(target, "linalg.matrix_power", calls(), budget, exact=False, rtol=RTOL)


def test_matrix_rank(target, budget):
    check(target, "linalg.matrix_rank", _one(matrices()), budget)


@pytest.mark.parametrize("where", ["linalg.matrix_transpose", "matrix_transpose"])
def test_matrix_transpose(target, budget, where):
    check(target, where, _one(matrices()), budget)


def test_outer(target, budget):
    @st.composite
    def calls(draw):
        dtype = draw(FLOATS)
        return (draw(arrays(dtype, (draw(st.integers(0, 4)),))), draw(arrays(dtype, (draw(st.integers(0, 4)),)))), {}

    check(target, "linalg.outer", calls(), budget)


def test_pinv(target, budget):
    check(target, "linalg.pinv", _one(matrices()), budget, compare=_close)


def test_qr(target, budget):
    @st.composite
    def calls(draw):
        return (draw(matrices()),), draw(st.fixed_dictionaries({}, optional={
            "mode": st.sampled_from(["reduced", "complete"])}))

    def q_orthonormal(got, want, inputs):
        _assert_orthonormal_columns(got)

    def r_triangular(got, want, inputs):
        np.testing.assert_allclose(np.tril(got, -1), 0, atol=RTOL)
        np.testing.assert_allclose(np.abs(got), np.abs(want), rtol=RTOL, atol=RTOL)  # up to row signs

    check(target, "linalg.qr", calls(), budget, compare=(q_orthonormal, r_triangular))


def test_solve(target, budget):
    @st.composite
    def calls(draw):
        a = draw(matrices(square=True, shift=20.0))
        b = draw(arrays(a.dtype, a.shape, elements=_elements(a.dtype)))
        return (a, b), {}

    check(target, "linalg.solve", calls(), budget, compare=_close)


def test_svd(target, budget):
    @st.composite
    def calls(draw):
        return (draw(matrices()),), {"full_matrices": draw(st.booleans())}

    def orthonormal_columns(got, want, inputs):
        _assert_orthonormal_columns(got)

    def orthonormal_rows(got, want, inputs):
        _assert_orthonormal_columns(np.swapaxes(got, -1, -2))

    check(target, "linalg.svd", calls(), budget, compare=(orthonormal_columns, _close, orthonormal_rows))


def test_svdvals(target, budget):
    check(target, "linalg.svdvals", _one(matrices()), budget, compare=_close)


@pytest.mark.parametrize("where", ["linalg.tensordot", "tensordot"])
def test_tensordot(target, budget, where):
    @st.composite
    def calls(draw):
        dtype = draw(FLOATS)
        shared = draw(xps.array_shapes(min_dims=0, max_dims=2, max_side=3))
        left = draw(xps.array_shapes(min_dims=0, max_dims=1, max_side=3))
        right = draw(xps.array_shapes(min_dims=0, max_dims=1, max_side=3))
        a = draw(arrays(dtype, left + shared, elements=_elements(dtype)))
        b = draw(arrays(dtype, shared + right, elements=_elements(dtype)))
        return (a, b), {"axes": len(shared)}

    check(target, where, calls(), budget, compare=_close)


def test_trace(target, budget):
    @st.composite
    def calls(draw):
        return (draw(matrices()),), {"offset": draw(st.integers(-2, 2))}

    check(target, "linalg.trace", calls(), budget, compare=_close)


@pytest.mark.parametrize("where", ["linalg.vecdot", "vecdot"])
def test_vecdot(target, budget, where):
    @st.composite
    def calls(draw):
        dtype = draw(FLOATS)
        shape = draw(xps.array_shapes(min_dims=1, max_dims=3, max_side=4))
        return (draw(arrays(dtype, shape, elements=_elements(dtype))),
                draw(arrays(dtype, shape, elements=_elements(dtype)))), {"axis": -1}

    check(target, where, calls(), budget, compare=_close)


def test_vector_norm(target, budget):
    @st.composite
    def calls(draw):
        dtype = draw(FLOATS)
        x = draw(arrays(dtype, min_dims=1, elements=_elements(dtype)))
        return (x,), draw(st.fixed_dictionaries({}, optional={
            "axis": st.none() | st.integers(-x.ndim, x.ndim - 1), "keepdims": st.booleans(),
            "ord": st.sampled_from([1, 2, 3, np.inf, -np.inf, 0])}))

    check(target, "linalg.vector_norm", calls(), budget, compare=_close)
