"""Tests of ``chunkwise.array`` as an Array API namespace: public names, inspection, finfo/iinfo, devices."""

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
    assert caps["data-dependent shapes"] is False and caps["max dimensions"] == 64
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
