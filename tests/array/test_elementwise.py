"""Elementwise functions against NumPy on the same data."""

import math
import warnings

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(0)
X = rng.standard_normal((7, 9))
XU = da.from_array(X, chunks=((3, 4), (2, 0, 5, 2)))  # uneven, with an empty block

UNARY_FLOAT = [
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square",
    "absolute", "abs", "fabs", "negative", "positive", "sign", "floor", "ceil", "trunc", "rint",
    "reciprocal", "degrees", "radians", "deg2rad", "rad2deg", "isnan", "isfinite", "isinf",
    "signbit", "spacing", "conj", "conjugate", "logical_not",
]


@pytest.mark.parametrize("name", UNARY_FLOAT)
def test_unary_ufuncs(name):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(np, name)(X)
        assert_eq(getattr(da, name)(XU), expected, schedulers=("sync",))


BINARY = ["add", "subtract", "multiply", "divide", "true_divide", "power", "maximum", "minimum",
          "fmax", "fmin", "arctan2", "hypot", "copysign", "nextafter", "logaddexp", "logaddexp2",
          "greater", "greater_equal", "less", "less_equal", "equal", "not_equal", "logical_and",
          "logical_or", "logical_xor", "fmod", "remainder", "floor_divide", "heaviside", "ldexp"]


@pytest.mark.parametrize("name", BINARY)
def test_binary_ufuncs_broadcasting(name):
    y = rng.standard_normal(9)
    other = np.arange(9) % 3 if name == "ldexp" else y
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(np, name)(X, other)
        assert_eq(getattr(da, name)(XU, da.from_array(other, chunks=4)), expected, schedulers=("sync",))


def test_every_ufunc_is_exported():
    names = [n for n in dir(np) if isinstance(getattr(np, n), np.ufunc) and not n.startswith("_")]
    for n in names:
        if getattr(np, n).signature is None:
            assert n in da.__all__, n
            assert isinstance(getattr(da, n), da.ufunc)
    assert da.add.nin == 2 and da.sin.nout == 1
    assert "matmul" not in dir(da.elementwise) or not isinstance(getattr(da.elementwise, "matmul", None), da.ufunc)


def test_ufunc_without_arrays_is_numpy():
    assert da.sin(0.0) == 0.0
    np.testing.assert_array_equal(da.add(np.arange(3), 1), np.arange(1, 4))


def test_ufunc_dispatch_through_numpy():
    assert_eq(np.sin(XU) + np.cos(XU), np.sin(X) + np.cos(X))
    assert isinstance(np.add(XU, 1), da.Array)


def test_ufunc_two_outputs():
    q, r = da.divmod(XU, 0.7)
    eq, er = np.divmod(X, 0.7)
    assert_eq(q, eq)
    assert_eq(r, er)
    m, e = da.frexp(XU)
    em, ee = np.frexp(X)
    assert_eq(m, em)
    assert_eq(e, ee)


def test_out_refused():
    with pytest.raises(TypeError, match="out="):
        da.sin(XU, out=np.empty(X.shape))


@pytest.mark.parametrize("scalar", [1, 1.0, np.float32(1), np.float64(1), 1 + 1j, True, np.int8(3)])
def test_scalar_promotion_float32(scalar):
    x32 = X.astype(np.float32)
    a = da.from_array(x32, chunks=3)
    assert_eq(a + scalar, x32 + scalar)
    assert_eq(scalar * a, scalar * x32)


def test_weak_promotion_keeps_float32_and_int8():
    a = da.from_array(np.arange(5, dtype=np.float32), chunks=2)
    assert (a + 1.0).dtype == np.float32
    b = da.from_array(np.arange(5, dtype=np.int8), chunks=2)
    assert (b + 1).dtype == np.int8
    assert_eq(b * 2, np.arange(5, dtype=np.int8) * 2)
    with pytest.raises((OverflowError, TypeError)):
        (b + 1000).compute()


def test_bool_and_complex():
    z = X + 1j * X[::-1]
    zu = da.from_array(z, chunks=(4, 5))
    assert_eq(da.conj(zu), np.conj(z))
    assert_eq(zu.conj(), z.conj())
    assert_eq(da.real(zu), np.real(z))
    assert_eq(da.imag(zu), np.imag(z))
    assert_eq(zu.real, z.real)
    assert_eq(np.real(zu), np.real(z))
    assert_eq(da.angle(zu), np.angle(z))
    assert_eq(da.angle(zu, deg=True), np.angle(z, deg=True))
    assert_eq(da.absolute(zu), np.abs(z))
    assert_eq(da.iscomplex(zu), np.iscomplex(z))
    assert_eq(da.isreal(zu), np.isreal(z))
    b = X > 0
    bu = da.from_array(b, chunks=3)
    assert_eq(da.logical_not(bu), ~b)
    assert_eq(~bu, ~b)
    assert_eq(bu & (XU < 1), b & (X < 1))
    assert_eq(bu + bu, b + b)


def test_where():
    assert_eq(da.where(XU > 0, XU, 0), np.where(X > 0, X, 0))
    assert_eq(np.where(XU > 0, XU, -XU), np.where(X > 0, X, -X))
    assert_eq(da.where(da.from_array(X[0], chunks=4) > 0, XU, 1.5), np.where(X[0] > 0, X, 1.5))
    x32 = da.from_array(X.astype(np.float32), chunks=3)
    assert da.where(x32 > 0, x32, 0.0).dtype == np.float32
    cond = np.array([True, False] * 4 + [True])
    assert_eq(da.where(cond, XU, 2), np.where(cond, X, 2))
    with pytest.raises(ValueError, match="both or neither"):
        da.where(XU > 0, XU)


def test_where_one_argument_is_nonzero():
    rows, cols = da.where(XU > 0.5)
    er, ec = np.where(X > 0.5)
    np.testing.assert_array_equal(rows.compute(), er)
    np.testing.assert_array_equal(cols.compute(), ec)


@pytest.mark.parametrize("chunks", [((3, 4), (2, 0, 5, 2)), 1, (7, 9)])
def test_nonzero_order_and_unknown_chunks(chunks):
    a = np.where(X > 0.3, X, 0)
    x = da.from_array(a, chunks=chunks)
    got = da.nonzero(x)
    expected = np.nonzero(a)
    for g, e in zip(got, expected):
        assert all(math.isnan(c) for c in g.chunks[0])
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g.compute(), e)
        np.testing.assert_array_equal(g.compute(scheduler="threads"), e)
    np.testing.assert_array_equal(x.nonzero()[0].compute(), expected[0])
    np.testing.assert_array_equal(np.nonzero(x)[1].compute(), expected[1])


def test_nonzero_1d_and_0d():
    v = np.array([0, 3, 0, 0, 5, 1])
    (idx,) = da.nonzero(da.from_array(v, chunks=4))
    np.testing.assert_array_equal(idx.compute(), np.nonzero(v)[0])
    with pytest.raises(ValueError, match="0d"):
        da.nonzero(da.from_array(np.array(1)))


def test_clip():
    assert_eq(da.clip(XU, -0.5, 0.5), np.clip(X, -0.5, 0.5))
    assert_eq(XU.clip(0), X.clip(0))
    assert_eq(XU.clip(max=0.1), X.clip(max=0.1))
    assert_eq(np.clip(XU, -1, 1), np.clip(X, -1, 1))
    i8 = np.arange(-5, 5, dtype=np.int8)
    assert_eq(da.clip(da.from_array(i8, chunks=3), -2, 2), np.clip(i8, -2, 2))
    lo = np.full(9, -0.2)
    assert_eq(da.clip(XU, da.from_array(lo, chunks=2), 0.3), np.clip(X, lo, 0.3))


def test_round_and_around():
    a = X * 100
    au = da.from_array(a, chunks=4)
    assert_eq(da.round(au, 1), np.round(a, 1))
    assert_eq(da.around(au, -1), np.around(a, -1))
    assert_eq(au.round(2), a.round(2))
    assert_eq(np.round(au), np.round(a))
    ints = np.arange(-50, 50, 7)
    assert_eq(da.round(da.from_array(ints, chunks=5), -1), np.round(ints, -1))


def test_nan_to_num_and_isnan():
    a = X.copy()
    a[0, 0], a[1, 1], a[2, 2] = np.nan, np.inf, -np.inf
    au = da.from_array(a, chunks=((3, 4), (2, 0, 5, 2)))
    assert_eq(da.nan_to_num(au), np.nan_to_num(a))
    assert_eq(np.nan_to_num(au, nan=-1, posinf=7, neginf=-7), np.nan_to_num(a, nan=-1, posinf=7, neginf=-7))
    assert_eq(da.isnan(au), np.isnan(a))
    assert_eq(da.isinf(au), np.isinf(a))
    assert_eq(da.isfinite(au), np.isfinite(a))
    assert_eq(da.isposinf(au), np.isposinf(a))
    assert_eq(da.isneginf(au), np.isneginf(a))
    a32 = a.astype(np.float32)
    assert_eq(da.nan_to_num(da.from_array(a32, chunks=3)), np.nan_to_num(a32))


def test_fix_sign_sinc():
    assert_eq(da.fix(XU * 3), np.fix(X * 3))
    assert_eq(np.fix(XU), np.fix(X))
    assert_eq(da.sign(XU), np.sign(X))
    assert_eq(da.sinc(XU), np.sinc(X))


def test_isclose_allclose():
    y = X + 1e-9
    y[0, 0] += 1
    yu = da.from_array(y, chunks=5)
    assert_eq(da.isclose(XU, yu), np.isclose(X, y))
    assert_eq(np.isclose(XU, y, rtol=0.5), np.isclose(X, y, rtol=0.5))
    n = np.array([np.nan, 1.0])
    nu = da.from_array(n, chunks=1)
    assert_eq(da.isclose(nu, nu, equal_nan=True), np.isclose(n, n, equal_nan=True))
    result = da.allclose(XU, yu)
    assert isinstance(result, da.Array) and result.shape == () and result.dtype == bool
    assert bool(result) is False
    assert bool(da.allclose(XU, X + 1e-12)) is True
    assert bool(np.allclose(XU, X)) is True
    assert bool(da.allclose(nu, nu, equal_nan=True)) is True


def test_empty_and_zero_d_and_one_element():
    e = np.empty((0, 3))
    eu = da.from_array(e, chunks=2)
    assert_eq(da.sin(eu), np.sin(e))
    assert_eq(eu + 1, e + 1)
    z = np.array(2.5)
    zu = da.from_array(z)
    assert_eq(da.sqrt(zu), np.sqrt(z))
    assert_eq(zu * XU, z * X)
    one = np.array([3.0])
    assert_eq(da.log(da.from_array(one)) + XU, np.log(one) + X)


def test_unknown_chunks_elementwise():
    v = np.arange(10.0)
    x = da.from_array(v, chunks=3)
    mask = x > 2
    pos = da.nonzero(mask)[0]  # unknown chunks
    assert_eq(da.sqrt(pos), np.sqrt(np.nonzero(v > 2)[0]))


def test_ufunc_outer():
    a = np.arange(3.0)
    b = np.arange(4.0)
    assert_eq(np.add.outer(da.from_array(a, chunks=2), da.from_array(b, chunks=3)), np.add.outer(a, b))


def test_broadcast_error_names_shapes():
    with pytest.raises(ValueError, match=r"add.*\(7, 9\).*\(4,\)"):
        da.add(XU, da.from_array(np.ones(4)))


# --- unknown chunk sizes on both sides (issue 15, item 4) ------------------------------------------


def test_two_differently_masked_arrays_are_refused_at_build_time():
    a, b = np.arange(10), np.arange(10)[::-1].copy()
    A, B = da.from_array(a, chunks=3), da.from_array(b, chunks=3)
    left, right = A[A > 1], B[B > 1]
    for build in [lambda: left + right, lambda: np.multiply(left, right), lambda: da.where(left > 3, left, right),
                  lambda: left + (right * 2), lambda: da.map_blocks(np.add, left, right)]:
        with pytest.raises(ValueError, match=r"\(nan,\) \(nan,\) have unknown chunk sizes.*compute_chunk_sizes\(\) on each"):
            build()
    # the fix the message names works and agrees with NumPy
    left.compute_chunk_sizes()
    right.compute_chunk_sizes()
    assert_eq(left + right, a[a > 1] + b[b > 1])


def test_arrays_masked_by_the_same_expression_still_pair_blocks(scheduler):
    a = np.arange(10)
    A = da.from_array(a, chunks=3)
    m = A > 1
    expected = a[a > 1] + a[a > 1] * 2
    assert_eq(A[m] + A[m] * 2, expected, schedulers=(scheduler,))
    assert_eq(np.sin(A[m]) + A[m].astype("f8") - A[m] ** 2, np.sin(a[a > 1]) + a[a > 1] - a[a > 1] ** 2,
              schedulers=(scheduler,))
    assert_eq(da.where(A[m] > 4, A[m], -A[m]), np.where(a[a > 1] > 4, a[a > 1], -a[a > 1]), schedulers=(scheduler,))
    assert_eq(A[m] + A[m].sum(), a[a > 1] + a[a > 1].sum(), schedulers=(scheduler,))  # a 0-d side broadcasts


def test_unknown_chunks_against_known_chunks_are_refused():
    A = da.from_array(np.arange(10), chunks=3)
    masked = A[A > 1]
    with pytest.raises(ValueError, match=r"unknown chunk sizes.*compute_chunk_sizes"):
        masked + da.from_array(np.arange(8), chunks=4)
