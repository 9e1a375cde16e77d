"""Array API conformance: the ``fft`` extension, against array_api_strict.

chunkwise transforms an axis held in one chunk (a chunked transformed axis is
refused with ``rechunk`` as the fix, documented), so the transformed axes are
single-chunk here and every other axis is chunked unevenly.
"""

import numpy as np
import pytest
from array_api_harness import arrays, check, strict, xps
from hypothesis import strategies as st

RTOL = 1e-4
ONE_AXIS = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_AXES = ["fftn", "ifftn", "rfftn", "irfftn"]
REAL_INPUT = {"rfft", "ihfft", "rfftn"}


def _dtypes(name):
    return xps.floating_dtypes() if name in REAL_INPUT else xps.complex_dtypes()


def _elements(dtype):
    if strict.isdtype(dtype, "real floating"):
        return {"min_value": -10, "max_value": 10, "allow_nan": False}
    width = 64 if dtype == strict.complex64 else 128
    return st.complex_numbers(max_magnitude=10, allow_nan=False, allow_infinity=False, width=width)


@pytest.mark.parametrize("name", ONE_AXIS)
def test_one_axis(target, budget, name):
    @st.composite
    def calls(draw):
        dtype = draw(_dtypes(name))
        x = draw(arrays(dtype, min_dims=1, min_side=2, max_side=5, elements=_elements(dtype)))
        kwargs = draw(st.fixed_dictionaries({}, optional={
            "n": st.integers(2, 6), "norm": st.sampled_from(["backward", "ortho", "forward"])}))
        kwargs["axis"] = -1
        return (x,), kwargs

    check(target, f"fft.{name}", calls(), budget, exact=False, rtol=RTOL, atol=RTOL, whole_axes=(-1,))


@pytest.mark.parametrize("name", N_AXES)
def test_n_axes(target, budget, name):
    @st.composite
    def calls(draw):
        dtype = draw(_dtypes(name))
        x = draw(arrays(dtype, min_dims=2, max_dims=3, min_side=2, max_side=4, elements=_elements(dtype)))
        kwargs = draw(st.fixed_dictionaries({}, optional={"norm": st.sampled_from(["backward", "ortho", "forward"])}))
        kwargs["axes"] = (-2, -1)
        if draw(st.booleans()):
            kwargs["s"] = (draw(st.integers(2, 4)), draw(st.integers(2, 4)))
        return (x,), kwargs

    check(target, f"fft.{name}", calls(), budget, exact=False, rtol=RTOL, atol=RTOL, whole_axes=(-2, -1))


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_frequencies(target, budget, name):
    @st.composite
    def calls(draw):
        kwargs = draw(st.fixed_dictionaries({}, optional={
            "d": st.floats(0.1, 10), "dtype": xps.floating_dtypes()}))
        return (draw(st.integers(1, 10)),), kwargs

    check(target, f"fft.{name}", calls(), budget, exact=False, rtol=1e-6)


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
def test_shifts(target, budget, name):
    @st.composite
    def calls(draw):
        x = draw(arrays(xps.floating_dtypes(), min_dims=1))
        axes = draw(st.none() | st.integers(-x.ndim, x.ndim - 1) | xps.valid_tuple_axes(x.ndim))
        return (x,), ({} if axes is None else {"axes": axes})

    check(target, f"fft.{name}", calls(), budget)


def test_namespace_has_every_fft_function(target):
    assert set(strict.fft.__all__) <= set(dir(target.ns.fft))
    assert np.dtype(target.to_numpy(target.ns.fft.fftfreq(4)).dtype) == np.float64
