"""Tests of ``chunkwise.array`` as an Array API namespace: public names, inspection, finfo/iinfo, devices."""

import math

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq

HELPERS = {"np", "numpy", "math", "Any", "importlib", "functools", "annotations", "Array", "asarray"}


@pytest.mark.parametrize("namespace", [da, da.linalg, da.fft])
def test_namespaces_list_only_public_names(namespace):
    listed = dir(namespace)
    assert listed == sorted(namespace.__all__)
    for name in listed:
        assert hasattr(namespace, name), name
    if namespace is not da:
        assert not HELPERS & set(listed)
    assert not {n for n in listed if n.startswith("_") and not n.startswith("__array_")}


def test_internal_modules_importable_but_not_advertised():
    internal = {"core", "gather", "assignment", "expr", "treereduce", "contraction", "api", "chunks", "slicing"}
    assert not internal & set(da.__all__)
    assert not internal & set(dir(da))
    import chunkwise.array.gather  # still importable as a submodule

    assert chunkwise.array.gather.__name__ == "chunkwise.array.gather"
    assert {"linalg", "fft", "random"} <= set(da.__all__)
    assert "Reduction" not in da.__all__ and "setitem" not in dir(da)


def test_array_api_version_and_namespace():
    x = da.ones(3, chunks=2)
    assert da.__array_api_version__ == "2025.12"
    assert x.__array_namespace__() is da
    assert x.__array_namespace__(api_version="2025.12") is da
    assert x.__array_namespace__(api_version="2023.12") is da
    with pytest.raises(ValueError, match="version '2019.01' is not supported"):
        x.__array_namespace__(api_version="2019.01")


def test_namespace_info():
    info = da.__array_namespace_info__()
    caps = info.capabilities()
    assert caps == {"boolean indexing": True, "data-dependent shapes": True, "max dimensions": 64}
    assert info.default_device() == "cpu" and info.devices() == ["cpu"]
    defaults = info.default_dtypes(device="cpu")
    assert defaults == {
        "real floating": np.dtype("float64"), "complex floating": np.dtype("complex128"),
        "integral": np.dtype("int64"), "indexing": np.dtype("int64"),
    }
    assert set(info.dtypes()) == {
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float32", "float64", "complex64", "complex128",
    }
    assert set(info.dtypes(kind="unsigned integer")) == {"uint8", "uint16", "uint32", "uint64"}
    assert set(info.dtypes(kind=("bool", "complex floating"))) == {"bool", "complex64", "complex128"}
    with pytest.raises(ValueError, match="'cpu' only"):
        info.dtypes(device="gpu")


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_finfo_returns_python_floats(dtype):
    info = da.finfo(dtype)
    expected = np.finfo(dtype)
    for field in ("eps", "max", "min", "smallest_normal"):
        value = getattr(info, field)
        assert type(value) is float and value == float(getattr(expected, field))
    assert type(info.bits) is int and info.bits == expected.bits
    assert da.finfo(da.ones(2, dtype=dtype)).eps == info.eps


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int64", "uint64"])
def test_iinfo_returns_python_ints(dtype):
    info = da.iinfo(dtype)
    expected = np.iinfo(dtype)
    assert (type(info.min), type(info.max), type(info.bits)) == (int, int, int)
    assert (info.min, info.max, info.bits) == (int(expected.min), int(expected.max), expected.bits)
    with pytest.raises(ValueError):
        da.iinfo("float64")


def test_device_and_to_device():
    x = da.ones((2, 3), chunks=1)
    assert x.device == "cpu"
    assert x.to_device("cpu") is x
    with pytest.raises(ValueError, match="to_device: .*'cpu' only"):
        x.to_device("cuda:0")


def test_mT_transposes_last_two_axes():
    a = np.arange(24).reshape(2, 3, 4)
    x = da.from_array(a, chunks=(1, 2, 3))
    assert_eq(x.mT, np.swapaxes(a, -1, -2))
    assert_eq(da.matrix_transpose(x), np.matrix_transpose(a))
    with pytest.raises(ValueError, match="at least 2-d"):
        da.ones(3).mT


def test_broadcast_shapes():
    assert da.broadcast_shapes((3, 1), (1, 4), (4,)) == np.broadcast_shapes((3, 1), (1, 4), (4,))
    assert da.broadcast_shapes() == ()
    with pytest.raises(ValueError, match="broadcast_shapes: operands could not be broadcast"):
        da.broadcast_shapes((3,), (4,))


def test_dtype_functions():
    x = da.ones(3, dtype="int8", chunks=2)
    assert da.isdtype(x.dtype, "signed integer") and not da.isdtype(x.dtype, "real floating")
    assert da.isdtype(np.dtype("float32"), ("integral", "real floating"))
    assert da.isdtype(np.dtype("float32"), np.dtype("float32"))
    with pytest.raises(ValueError, match="unknown kind"):
        da.isdtype(x.dtype, "whole")
    assert da.result_type(x, np.float32) == np.float32
    assert da.result_type(x, da.ones(2, dtype="uint8")) == np.int16
    assert da.can_cast(x, np.int64) and not da.can_cast(np.float64, np.int8)
    assert_eq(da.astype(x, "float32"), np.ones(3, dtype="float32"))
    with pytest.raises(ValueError, match="'cpu' only"):
        da.astype(x, "float32", device="gpu")


def test_can_cast_follows_the_standards_promotion():
    assert da.can_cast(np.int8, np.int16) and da.can_cast(np.uint8, np.int16) and da.can_cast(np.float32, np.complex64)
    assert not da.can_cast(np.int8, np.float32)  # NumPy says True: the standard never casts across kinds
    assert not da.can_cast(np.bool_, np.int8) and not da.can_cast(np.uint64, np.int64)
    assert not da.can_cast(np.bool_, np.float64)  # (NumPy's dtype(None) is float64: a trap this guards)
    assert da.can_cast(da.ones(2, dtype="float32"), np.float64)


def test_constants_and_from_dlpack():
    assert (da.e, da.pi, da.inf) == (math.e, math.pi, math.inf) and math.isnan(da.nan) and da.newaxis is None
    assert all(type(c) is float for c in (da.e, da.pi, da.inf, da.nan))
    source = np.arange(6.0).reshape(2, 3)
    assert_eq(da.from_dlpack(source), source)
    with pytest.raises(ValueError, match="from_dlpack: .*'cpu' only"):
        da.from_dlpack(source, device="gpu")


B = np.random.default_rng(5).integers(-3, 4, size=(7, 5))
B_UNEVEN = ((3, 1, 3), (2, 3))


def test_concat_permute_dims_unstack(scheduler):
    x = da.from_array(B, chunks=B_UNEVEN)
    y = da.from_array(B[:2].astype("int16"), chunks=1)
    assert_eq(da.concat([x, y]), np.concatenate([B, B[:2].astype("int16")]), schedulers=(scheduler,))
    assert_eq(da.concat([x, y], axis=None), np.concatenate([B.ravel(), B[:2].ravel().astype("int16")]),
              schedulers=(scheduler,))
    assert_eq(da.permute_dims(x, (1, 0)), B.T, schedulers=(scheduler,))
    parts = da.unstack(x, axis=1)
    assert len(parts) == 5
    for got, expected in zip(parts, np.unstack(B, axis=1)):
        assert_eq(got, expected, schedulers=(scheduler,))


@pytest.mark.parametrize("include_initial", [False, True])
@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
def test_cumulative_functions(name, include_initial, scheduler):
    x = da.from_array(B, chunks=B_UNEVEN)
    for axis in (0, 1):
        expected = getattr(np, name)(B, axis=axis, include_initial=include_initial)
        assert_eq(getattr(da, name)(x, axis=axis, include_initial=include_initial), expected,
                  schedulers=(scheduler,))
    one_d = da.from_array(B[0], chunks=2)
    assert_eq(getattr(da, name)(one_d, dtype="float32"), getattr(np, name)(B[0], dtype="float32"))
    with pytest.raises(ValueError, match=f"{name}: axis is required for a 2-d array"):
        getattr(da, name)(x)


@pytest.mark.parametrize("stable", [True, None])
def test_sort_and_argsort_descending(stable, scheduler):
    x = da.from_array(B, chunks=B_UNEVEN)
    for axis in (0, 1, -1):
        expected = np.flip(np.sort(np.flip(B, axis), axis=axis, stable=True), axis)
        assert_eq(da.sort(x, axis=axis, descending=True, stable=stable), expected, schedulers=(scheduler,))
        order = da.argsort(x, axis=axis, descending=True, stable=stable).compute(scheduler=scheduler)
        values = np.take_along_axis(B, order, axis=axis)
        np.testing.assert_array_equal(values, expected)
        # stable: equal values keep their original order
        ranks = np.take_along_axis(np.indices(B.shape)[axis % 2], order, axis=axis)
        ties = np.diff(values, axis=axis) == 0
        assert np.all(np.diff(ranks, axis=axis)[ties] > 0)
    assert_eq(da.sort(x, axis=None, descending=True), np.sort(B, axis=None)[::-1])
    assert_eq(np.sort(x, axis=0), np.sort(B, axis=0))  # NumPy's signature still dispatches


def test_unique_functions_are_named_tuples(scheduler):
    x = da.from_array(B, chunks=B_UNEVEN)
    values, index, inverse, counts = np.unique(B, return_index=True, return_inverse=True, return_counts=True)
    result = da.unique_all(x)
    assert result._fields == ("values", "indices", "inverse_indices", "counts")
    for got, expected in zip(result, (values, index, inverse, counts)):
        assert_eq(got, expected, schedulers=(scheduler,))
    assert result.inverse_indices.shape == B.shape
    assert_eq(da.unique_counts(x).counts, counts, schedulers=(scheduler,))
    assert_eq(da.unique_inverse(x).inverse_indices, inverse, schedulers=(scheduler,))
    assert_eq(da.unique_values(x), values, schedulers=(scheduler,))


def test_capabilities_are_what_works_lazily(scheduler):
    """Boolean indexing and data-dependent shapes: the lengths are nan until computed."""
    assert da.__array_namespace_info__().capabilities()["boolean indexing"] is True
    x = da.from_array(B, chunks=B_UNEVEN)
    masked = x[x > 0]
    assert math.isnan(masked.shape[0])
    assert_eq(masked, B[B > 0], schedulers=(scheduler,))
    for got, expected in zip(da.nonzero(x), np.nonzero(B)):
        assert math.isnan(got.shape[0])
        assert_eq(got, expected, schedulers=(scheduler,))
    assert math.isnan(da.unique_values(x).shape[0])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_repeat_with_an_array_of_repeats(axis, scheduler):
    x = da.from_array(B, chunks=B_UNEVEN)
    length = B.size if axis is None else B.shape[axis]
    counts = np.arange(length) % 3
    got = da.repeat(x, da.from_array(counts, chunks=4), axis=axis)
    assert math.isnan(got.shape[0 if axis is None else axis])
    assert_eq(got, np.repeat(B, counts, axis=axis), schedulers=(scheduler,))
    assert_eq(np.repeat(x, counts, axis=axis), np.repeat(B, counts, axis=axis))  # NumPy dispatch
    assert_eq(da.repeat(x, np.array([2]), axis=axis), np.repeat(B, 2, axis=axis))  # one count: known chunks
    with pytest.raises(ValueError, match="repeat: repeats of shape \\(2,\\) must be an integer"):
        da.repeat(x, np.array([1, 2]), axis=axis)
    with pytest.raises(TypeError, match="repeat: repeats must hold integers"):
        da.repeat(x, np.ones(length), axis=axis)


def test_unique_functions_count_each_nan_apart(scheduler):
    """The standard: each NaN is a value of its own (NumPy's ``equal_nan=False``)."""
    a = np.where(B % 3 == 0, np.nan, B.astype(float))
    x = da.from_array(a, chunks=B_UNEVEN)
    expected = np.unique(a, return_index=True, return_inverse=True, return_counts=True, equal_nan=False)
    for got, e in zip(da.unique_all(x), expected):
        assert_eq(got, e, schedulers=(scheduler,))
    assert_eq(da.unique_values(x), np.unique(a, equal_nan=False), schedulers=(scheduler,))
    assert int(np.isnan(da.unique_counts(x).values.compute()).sum()) == int(np.isnan(a).sum())
    assert_eq(da.unique(x), np.unique(a))  # NumPy's default, equal_nan=True: one NaN


def test_standard_call_forms_of_clip_reshape_linspace(scheduler):
    """The Array API's call forms (issue 19's public-suite signatures): positional-or-keyword
    ``min``/``max`` of ``clip``, ``reshape(x, shape=...)``, ``linspace(..., device=)``."""
    B = np.arange(-4, 8).astype("float64")
    x = da.from_array(B, chunks=((1, 2, 3, 0, 6),))  # uneven, with an empty block
    for got, expected in [
        (da.clip(x, -1, 3), np.clip(B, -1, 3)),
        (da.clip(x, min=-1), np.clip(B, -1, None)),
        (da.clip(x, max=2.5), np.clip(B, None, 2.5)),
        (da.clip(x, a_min=0, a_max=1), np.clip(B, 0, 1)),
        (x.clip(min=1), np.clip(B, 1, None)),
        (da.reshape(x, shape=(3, 4)), B.reshape(3, 4)),
        (da.reshape(x, (4, -1)), B.reshape(4, 3)),
        (da.reshape(x, 2, 6), B.reshape(2, 6)),
        (np.reshape(x, shape=(6, 2)), B.reshape(6, 2)),
        (da.linspace(0, 1, 7, device="cpu", chunks=3), np.linspace(0, 1, 7)),
    ]:
        assert_eq(got, expected, check_chunks=False, schedulers=(scheduler,))
    with pytest.raises(TypeError, match="clip: pass only one of a_min and min"):
        da.clip(x, 0, a_min=1)
    with pytest.raises(ValueError, match="linspace: .*'cpu' only"):
        da.linspace(0, 1, 3, device="gpu")


def test_dlpack_export_of_a_lazy_array(scheduler):
    B = np.arange(12.0).reshape(3, 4)
    x = da.from_array(B, chunks=((1, 2), (3, 0, 1))) * 2  # uneven, with an empty block
    assert x.__dlpack_device__() == B.__dlpack_device__()
    np.testing.assert_array_equal(np.from_dlpack(x), B * 2)
    np.testing.assert_array_equal(np.from_dlpack(x, copy=True), B * 2)
    assert_eq(da.from_dlpack(x), B * 2, schedulers=(scheduler,))
    ones = da.ones((2, 3), chunks=2)  # read-only broadcast blocks
    np.testing.assert_array_equal(np.from_dlpack(ones), np.ones((2, 3)))
    with pytest.raises(BufferError, match="streams are not supported"):
        x.__dlpack__(stream=1)


CREATION_CALLS = {
    "asarray": lambda device: da.asarray([1, 2], device=device),
    "ones": lambda device: da.ones(3, device=device),
    "zeros": lambda device: da.zeros(3, device=device),
    "empty": lambda device: da.empty(3, device=device),
    "full": lambda device: da.full(3, 7, device=device),
    "ones_like": lambda device: da.ones_like(da.ones(3), device=device),
    "zeros_like": lambda device: da.zeros_like(da.ones(3), device=device),
    "empty_like": lambda device: da.empty_like(da.ones(3), device=device),
    "full_like": lambda device: da.full_like(da.ones(3), 7, device=device),
    "arange": lambda device: da.arange(3, device=device),
    "linspace": lambda device: da.linspace(0, 1, 3, device=device),
    "eye": lambda device: da.eye(3, device=device),
}


@pytest.mark.parametrize("name", sorted(CREATION_CALLS))
def test_creation_functions_take_only_the_cpu_device(name):
    make = CREATION_CALLS[name]
    for device in (None, "cpu", da.ones(1).device, da.__array_namespace_info__().default_device()):
        assert make(device).device == "cpu"
    with pytest.raises(ValueError, match=f"{name}: chunkwise arrays live on the device 'cpu' only, not 'gpu'"):
        make("gpu")


def test_asarray_copy_follows_the_standard(scheduler):
    B = np.arange(7.0)
    x = da.from_array(B.copy(), chunks=((1, 2, 0, 4),))  # uneven, with an empty block
    copied, shared = da.asarray(x, copy=True), da.asarray(x)
    assert shared is x and copied is not x
    x[0] = 9.0  # rebinds x's plan: the copy keeps the old one
    assert_eq(copied, B, schedulers=(scheduler,))
    assert_eq(x, np.concatenate([[9.0], B[1:]]), schedulers=(scheduler,))
    source = B.copy()
    from_copy, from_share = da.asarray(source, copy=True), da.asarray(source, copy=False)
    source[0] = -5.0  # NumPy's copy=True / copy=False, the same way
    assert_eq(from_copy, np.asarray(B, copy=True), schedulers=(scheduler,))
    assert_eq(from_share, source, schedulers=(scheduler,))
    with pytest.raises(ValueError, match="asarray: converting float64 to float32 copies, but copy=False"):
        da.asarray(x, dtype="float32", copy=False)
    with pytest.raises(ValueError, match="asarray: converting float64 to int32 copies, but copy=False"):
        da.asarray(B, dtype="int32", copy=False)
    with pytest.raises(ValueError):
        np.asarray([1.0, 2.0], copy=False)  # NumPy refuses it too
    with pytest.raises(ValueError):
        da.asarray([1.0, 2.0], copy=False)
    assert_eq(da.asarray([1.0, 2.0], copy=True), np.array([1.0, 2.0]), schedulers=(scheduler,))


def test_searchsorted_with_sorter(scheduler):
    A = np.array([5.0, -1.0, 3.0, 3.0, 9.0, 0.0, 7.0])
    V = np.array([[3.0, -2.0], [10.0, 6.5]])
    x = da.from_array(A, chunks=((2, 0, 3, 2),))  # uneven, with an empty block
    for sorter in (np.argsort(A), da.argsort(x)):
        for side in ("left", "right"):
            expected = np.searchsorted(A, V, side=side, sorter=np.argsort(A))
            assert_eq(da.searchsorted(x, da.from_array(V, chunks=1), side=side, sorter=sorter), expected,
                      check_chunks=False, schedulers=(scheduler,))
            assert_eq(da.searchsorted(x, 3.0, side=side, sorter=sorter),
                      np.searchsorted(A, 3.0, side=side, sorter=np.argsort(A)), schedulers=(scheduler,))
    with pytest.raises(ValueError, match="searchsorted: sorter must be 1-d integer indices as long as a"):
        da.searchsorted(x, 1.0, sorter=np.arange(3))


def test_sort_and_argsort_with_empty_blocks(scheduler):
    A = np.array([5.0, -1.0, 3.0, 3.0, 9.0, 0.0, 7.0])
    x = da.from_array(A, chunks=((2, 0, 3, 2),))
    assert_eq(da.sort(x), np.sort(A), check_chunks=False, schedulers=(scheduler,))
    assert_eq(da.argsort(x, stable=True), np.argsort(A, kind="stable"), check_chunks=False, schedulers=(scheduler,))
    M = np.arange(12.0).reshape(3, 4)[::-1]
    y = da.from_array(M, chunks=((1, 0, 2), (2, 0, 2)))
    for axis in (0, 1):
        assert_eq(da.sort(y, axis=axis), np.sort(M, axis=axis), check_chunks=False, schedulers=(scheduler,))
        assert_eq(da.argsort(y, axis=axis, stable=True), np.argsort(M, axis=axis, kind="stable"),
                  check_chunks=False, schedulers=(scheduler,))


def test_zero_dimensional_masks(scheduler):
    """A 0-d mask selects all (a new leading axis of length 1) or nothing (length 0), as NumPy."""
    B = np.arange(12.0).reshape(3, 4)
    for flag in (True, False):
        x = da.from_array(B, chunks=((1, 0, 2), (3, 1)))  # uneven, with an empty block
        for key in (da.asarray(flag), (da.asarray(flag),), np.array(flag), flag):
            assert_eq(x[key], B[np.array(flag)], check_chunks=False, schedulers=(scheduler,))
            for value in (-1.0, np.arange(4.0), np.full((1, 3, 4), 7.0), da.asarray(np.arange(4.0))):
                y, expected = da.from_array(B, chunks=((1, 0, 2), (3, 1))), B.copy()
                y[key] = value
                expected[np.array(flag)] = np.asarray(value)
                assert_eq(y, expected, check_chunks=False, schedulers=(scheduler,))


def test_integer_array_on_every_axis(scheduler):
    A = np.arange(24.0).reshape(2, 3, 4)
    x = da.from_array(A, chunks=((1, 1), (2, 0, 1), (3, 1)))  # uneven, with an empty block
    i, j = np.array([[1], [0]]), np.array([0, -2, 2])
    cases = [
        ((da.asarray(i), da.asarray(j), 1), (i, j, 1)),
        ((1, da.asarray(j), np.array([3, 1, 0], dtype=np.uint8)), (1, j, np.array([3, 1, 0], dtype=np.uint8))),
        ((da.asarray(1), da.asarray(0), da.asarray(-1)), (1, 0, -1)),
    ]
    for index, expected in cases:
        assert_eq(x[index], A[expected], check_chunks=False, schedulers=(scheduler,))
    with pytest.raises(IndexError):
        x[da.asarray([0, 2]), da.asarray([0, 1]), 0].compute(scheduler=scheduler)


def test_numpy_result_type_of_chunkwise_arrays_is_metadata():
    # np.result_type(numpy_array, chunkwise_array): xarray's concat of mixed variables asks it
    x = da.ones(3, chunks=2, dtype="int8")
    assert np.result_type(np.zeros(2, dtype="int16"), x) == np.int16
    assert np.result_type(x, da.ones(2, chunks=1, dtype="float32"), 3) == np.float32
