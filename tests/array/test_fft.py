"""Tests of ``chunkwise.array.fft`` against ``numpy.fft`` on the same data."""

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq

rng = np.random.default_rng(3)
REAL = rng.standard_normal((6, 8, 5))
COMPLEX = REAL + 1j * rng.standard_normal((6, 8, 5))

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("n", [None, 4, 11])
@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_one_dimensional_transforms(name, n, axis, norm):
    data = REAL if name in ("rfft", "ihfft") else COMPLEX
    chunks = [(2, 4, 0), (3, 5), (1, 4)]
    chunks[axis] = -1  # the transformed axis in one chunk; the others chunked unevenly
    x = da.from_array(data, chunks=tuple(chunks))
    expected = getattr(np.fft, name)(data, n=n, axis=axis, norm=norm)
    result = getattr(da.fft, name)(x, n=n, axis=axis, norm=norm)
    assert_eq(result, expected, rtol=1e-10, atol=1e-12)
    assert_eq(getattr(np.fft, name)(x, n=n, axis=axis, norm=norm), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2", "rfft2", "irfft2"])
@pytest.mark.parametrize("s, axes", [(None, None), (None, (0, 2)), ((4, 6), (1, 2)), ((3, 5), (2, 0))])
def test_n_dimensional_transforms(name, s, axes):
    data = REAL if name.startswith("rfft") else COMPLEX
    if name.endswith("2") and axes is None:
        axes = (-2, -1)
    kwargs = {"s": s} if s is not None else {}
    if axes is not None:
        kwargs["axes"] = axes
    transformed = range(data.ndim) if axes is None else [a % data.ndim for a in axes]
    chunks = tuple(-1 if d in transformed else 2 for d in range(data.ndim))
    x = da.from_array(data, chunks=chunks)
    expected = getattr(np.fft, name)(data, **kwargs)
    assert_eq(getattr(da.fft, name)(x, **kwargs), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "complex64", "int64"])
def test_fft_dtypes_follow_numpy(dtype):
    data = (REAL * 3).astype(dtype)
    x = da.from_array(data, chunks=(2, 8, 5))
    assert_eq(da.fft.fft(x, axis=1), np.fft.fft(data, axis=1), rtol=1e-5)
    if dtype != "complex64":
        assert_eq(da.fft.rfft(x), np.fft.rfft(data), rtol=1e-5, atol=1e-5)


def test_chunked_axis_is_refused_with_rechunk_fix():
    x = da.from_array(REAL, chunks=(3, 4, 5))
    with pytest.raises(ValueError, match=r"fft: axis 1 .* in 2 chunks.*x.rechunk\(\{1: -1\}\)"):
        da.fft.fft(x, axis=1)
    with pytest.raises(ValueError, match=r"fftn: axis 0"):
        da.fft.fftn(x)
    assert_eq(da.fft.fft(x.rechunk({1: -1}), axis=1), np.fft.fft(REAL, axis=1), rtol=1e-10)


def test_argument_errors():
    x = da.from_array(REAL, chunks=-1)
    with pytest.raises(ValueError, match="invalid norm"):
        da.fft.fft(x, norm="both")
    with pytest.raises(ValueError, match="invalid number of data points"):
        da.fft.fft(x, n=0)
    with pytest.raises(TypeError, match="out="):
        da.fft.fft(x, out=np.empty(1))


@pytest.mark.parametrize("n, d", [(8, 1.0), (7, 0.25), (1, 2.0)])
def test_frequencies(n, d):
    assert_eq(da.fft.fftfreq(n, d), np.fft.fftfreq(n, d))
    assert_eq(da.fft.rfftfreq(n, d), np.fft.rfftfreq(n, d))
    assert_eq(da.fft.fftfreq(n, d, dtype="float32"), np.fft.fftfreq(n, d).astype("float32"))


@pytest.mark.parametrize("axes", [None, 0, (1, 2), -1])
def test_shifts_on_any_chunking(axes):
    x = da.from_array(REAL, chunks=(4, 3, 2))
    assert_eq(da.fft.fftshift(x, axes=axes), np.fft.fftshift(REAL, axes=axes))
    assert_eq(da.fft.ifftshift(x, axes=axes), np.fft.ifftshift(REAL, axes=axes))
    assert_eq(np.fft.fftshift(x, axes=axes), np.fft.fftshift(REAL, axes=axes))
