"""``chunkwise.array.fft``: discrete Fourier transforms along axes held in one chunk.

An FFT needs every element of the axes it transforms, so those axes must be
one chunk each; the other axes may be chunked as you like, and each block is
transformed by ``numpy.fft`` on its own (one task per block, no
communication). A transformed axis in several chunks is refused with the fix
(``x.rechunk({axis: -1})``), as rechunking a long axis is a choice of memory
the caller should make. Output lengths follow NumPy (``n``/``s``; ``rfft``
keeps ``n // 2 + 1``; ``irfft`` returns ``2 * (m - 1)`` by default).

``fftfreq``/``rfftfreq`` build small arrays; ``fftshift``/``ifftshift`` are
rolls (``chunkwise.array.roll``), which work on any chunking.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(8.0).reshape(2, 4), chunks=(1, 4))
>>> np.round(da.fft.rfft(x).compute()[0], 6)
array([ 6.+0.j, -2.+2.j, -2.+0.j])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes, normalize_axis
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, from_array, implements
from chunkwise.array.manipulation import roll

__all__ = [
    "fft",
    "fft2",
    "fftfreq",
    "fftn",
    "fftshift",
    "hfft",
    "ifft",
    "ifft2",
    "ifftn",
    "ifftshift",
    "ihfft",
    "irfft",
    "irfft2",
    "irfftn",
    "rfft",
    "rfft2",
    "rfftfreq",
    "rfftn",
]


def _as_array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


def _check_single_chunk(x: Array, axes: tuple, opname: str) -> None:
    check_known_chunks(opname, x, axes=axes)
    for axis in axes:
        if x.numblocks[axis] > 1:
            raise ValueError(
                f"{opname}: axis {axis} of the array (shape {x.shape}, chunks {x.chunks[axis]}) is in "
                f"{x.numblocks[axis]} chunks; an FFT needs the whole axis in one chunk: "
                f"x.rechunk({{{axis}: -1}}) first"
            )


def _out_length(kind: str, m: int, n: Any, last: bool) -> int:
    """The output length along one transformed axis of input length ``m``."""
    if kind in ("c2c",) or (kind in ("r2c_n", "c2r_n") and not last):
        return m if n is None else n
    if kind in ("r2c", "r2c_n"):  # rfft, ihfft, rfftn's last axis
        return (m if n is None else n) // 2 + 1
    return 2 * (m - 1) if n is None else n  # irfft, hfft, irfftn's last axis


def _dtype_of(func: Any, dtype: np.dtype, naxes: int, kwargs: dict, nd: bool = False) -> np.dtype:
    probe = {k: v for k, v in kwargs.items() if k in ("norm",)}
    sample = np.ones((4,) * naxes, dtype=dtype)
    if not nd:
        return np.asarray(func(sample, axis=0, **probe)).dtype
    return np.asarray(func(sample, axes=tuple(range(naxes)), **probe)).dtype


def _check_norm(norm: Any, opname: str) -> None:
    if norm not in (None, "backward", "ortho", "forward"):
        raise ValueError(f"{opname}: invalid norm {norm!r}; use 'backward', 'ortho' or 'forward'")


def _transform_1d(func: Any, kind: str, a: Any, n: Any, axis: int, norm: Any, out: Any) -> Array:
    opname = func.__name__
    if out is not None:
        raise TypeError(f"{opname}: out= is not supported on chunkwise arrays (they are immutable)")
    _check_norm(norm, opname)
    x = _as_array(a)
    if x.ndim == 0:
        raise ValueError(f"{opname}: the array must be at least 1-d")
    if n is not None and (not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"{opname}: invalid number of data points ({n!r}) specified")
    axis = normalize_axis(axis, x.ndim, opname)
    _check_single_chunk(x, (axis,), opname)
    length = _out_length(kind, x.shape[axis], n, True)
    chunks = tuple((length,) if d == axis else c for d, c in enumerate(x.chunks))
    dtype = _dtype_of(func, x.dtype, 1, {"norm": norm})
    return x.map_blocks(func, n=n, axis=axis, norm=norm, chunks=chunks, dtype=dtype, name=opname)


def _transform_nd(func: Any, kind: str, a: Any, s: Any, axes: Any, norm: Any, out: Any,
                  opname: str | None = None) -> Array:
    opname = opname or func.__name__  # fft2 and the like run fftn: errors name what the user called
    if out is not None:
        raise TypeError(f"{opname}: out= is not supported on chunkwise arrays (they are immutable)")
    _check_norm(norm, opname)
    x = _as_array(a)
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    axes = tuple(normalize_axis(ax, x.ndim, opname, "axes") for ax in axes)
    if s is not None and len(s) != len(axes):
        raise ValueError(f"{opname}: s ({s!r}) and axes ({axes!r}) have different lengths")
    if len(set(axes)) != len(axes):
        raise ValueError(f"{opname}: repeated axes {axes!r} are not supported on chunkwise arrays")
    _check_single_chunk(x, axes, opname)
    lengths = {}
    for i, axis in enumerate(axes):
        n = None if s is None else s[i]
        lengths[axis] = _out_length(kind, x.shape[axis], n, i == len(axes) - 1)
    chunks = tuple((lengths[d],) if d in lengths else c for d, c in enumerate(x.chunks))
    dtype = _dtype_of(func, x.dtype, len(axes), {"norm": norm}, nd=True)
    s = None if s is None else tuple(s)
    return x.map_blocks(func, s=s, axes=axes, norm=norm, chunks=chunks, dtype=dtype, name=opname)


@implements(np.fft.fft)
def fft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Array:
    """One-dimensional discrete Fourier transform, as ``numpy.fft.fft`` (``axis`` in one chunk)."""
    return _transform_1d(np.fft.fft, "c2c", a, n, axis, norm, out)


@implements(np.fft.ifft)
def ifft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Array:
    """One-dimensional inverse discrete Fourier transform, as ``numpy.fft.ifft``."""
    return _transform_1d(np.fft.ifft, "c2c", a, n, axis, norm, out)


@implements(np.fft.rfft)
def rfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Array:
    """FFT of real input (``n // 2 + 1`` outputs), as ``numpy.fft.rfft``."""
    return _transform_1d(np.fft.rfft, "r2c", a, n, axis, norm, out)


@implements(np.fft.irfft)
def irfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Array:
    """Inverse of ``rfft`` (``2 * (m - 1)`` outputs by default), as ``numpy.fft.irfft``."""
    return _transform_1d(np.fft.irfft, "c2r", a, n, axis, norm, out)


@implements(np.fft.hfft)
def hfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Array:
    """FFT of a Hermitian-symmetric signal (real output), as ``numpy.fft.hfft``."""
    return _transform_1d(np.fft.hfft, "c2r", a, n, axis, norm, out)


@implements(np.fft.ihfft)
def ihfft(a: Any, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Array:
    """Inverse of ``hfft``, as ``numpy.fft.ihfft``."""
    return _transform_1d(np.fft.ihfft, "r2c", a, n, axis, norm, out)


@implements(np.fft.fftn)
def fftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Array:
    """N-dimensional FFT, as ``numpy.fft.fftn`` (every axis in ``axes`` in one chunk)."""
    return _transform_nd(np.fft.fftn, "c2c", a, s, axes, norm, out)


@implements(np.fft.ifftn)
def ifftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Array:
    """N-dimensional inverse FFT, as ``numpy.fft.ifftn``."""
    return _transform_nd(np.fft.ifftn, "c2c", a, s, axes, norm, out)


@implements(np.fft.rfftn)
def rfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Array:
    """N-dimensional FFT of real input, as ``numpy.fft.rfftn``."""
    return _transform_nd(np.fft.rfftn, "r2c_n", a, s, axes, norm, out)


@implements(np.fft.irfftn)
def irfftn(a: Any, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Array:
    """Inverse of ``rfftn``, as ``numpy.fft.irfftn``."""
    return _transform_nd(np.fft.irfftn, "c2r_n", a, s, axes, norm, out)


@implements(np.fft.fft2)
def fft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Array:
    """Two-dimensional FFT, as ``numpy.fft.fft2``."""
    return _transform_nd(np.fft.fftn, "c2c", a, s, axes, norm, out, "fft2")


@implements(np.fft.ifft2)
def ifft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Array:
    """Two-dimensional inverse FFT, as ``numpy.fft.ifft2``."""
    return _transform_nd(np.fft.ifftn, "c2c", a, s, axes, norm, out, "ifft2")


@implements(np.fft.rfft2)
def rfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Array:
    """Two-dimensional FFT of real input, as ``numpy.fft.rfft2``."""
    return _transform_nd(np.fft.rfftn, "r2c_n", a, s, axes, norm, out, "rfft2")


@implements(np.fft.irfft2)
def irfft2(a: Any, s: Any = None, axes: Any = (-2, -1), norm: Any = None, out: Any = None) -> Array:
    """Inverse of ``rfft2``, as ``numpy.fft.irfft2``."""
    return _transform_nd(np.fft.irfftn, "c2r_n", a, s, axes, norm, out, "irfft2")


def _frequencies(values: np.ndarray, dtype: Any, device: Any, chunks: Any, opname: str) -> Array:
    if device is not None and device != "cpu":
        raise ValueError(f"{opname}: chunkwise arrays live on the device 'cpu' only, not {device!r}")
    if dtype is not None:
        values = values.astype(dtype)
    return from_array(values, chunks=chunks)


def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, chunks: Any = -1) -> Array:
    """Sample frequencies of an ``n``-point FFT with spacing ``d``, as ``numpy.fft.fftfreq``.

    ``chunks`` (Dask's keyword) chunks the result; one chunk by default.

    >>> fftfreq(4, d=0.5).compute()
    array([ 0. ,  0.5, -1. , -0.5])
    """
    return _frequencies(np.fft.fftfreq(n, d), dtype, device, chunks, "fftfreq")


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, chunks: Any = -1) -> Array:
    """Sample frequencies of ``rfft``'s output, as ``numpy.fft.rfftfreq`` (``chunks`` as in :func:`fftfreq`).

    >>> rfftfreq(4).compute()
    array([0.  , 0.25, 0.5 ])
    """
    return _frequencies(np.fft.rfftfreq(n, d), dtype, device, chunks, "rfftfreq")


def _shift(x: Any, axes: Any, sign: int, opname: str) -> Array:
    x = _as_array(x)
    axes = tuple(range(x.ndim)) if axes is None else normalize_axes(axes, x.ndim, opname)
    check_known_chunks(opname, x, axes=axes)
    shifts = tuple(sign * (x.shape[axis] // 2) for axis in axes)
    if not axes:
        return x
    return roll(x, shifts, axis=axes)


@implements(np.fft.fftshift)
def fftshift(x: Any, axes: Any = None) -> Array:
    """Move the zero-frequency term to the centre, as ``numpy.fft.fftshift`` (any chunking).

    >>> import chunkwise.array as da
    >>> fftshift(da.arange(5, chunks=2)).compute()
    array([3, 4, 0, 1, 2])
    """
    return _shift(x, axes, 1, "fftshift")


@implements(np.fft.ifftshift)
def ifftshift(x: Any, axes: Any = None) -> Array:
    """The inverse of ``fftshift``, as ``numpy.fft.ifftshift``.

    >>> import chunkwise.array as da
    >>> ifftshift(da.arange(5, chunks=2)).compute()
    array([2, 3, 4, 0, 1])
    """
    return _shift(x, axes, -1, "ifftshift")


def __dir__() -> list:
    return sorted(__all__)
