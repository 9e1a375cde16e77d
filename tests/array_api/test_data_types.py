"""Array API conformance: the data-type functions and objects (``astype``, ``can_cast``, ``finfo``,
``iinfo``, ``isdtype``, ``result_type``) against array_api_strict."""

import pytest
from array_api_harness import DTYPE_NAMES, arrays, check, dtype_name, strict, xps
from hypothesis import strategies as st

KINDS = ["bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric"]


def _dtype(ns, name):
    return getattr(ns, name)


def test_astype(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(xps.scalar_dtypes(), elements=None))
        to = draw(xps.scalar_dtypes())
        if strict.isdtype(x.dtype, "complex floating") and not strict.isdtype(to, "complex floating"):
            to = strict.complex128  # the standard leaves complex to real undefined
        if strict.isdtype(x.dtype, ("real floating", "complex floating")) and strict.isdtype(to, ("integral", "bool")):
            x = strict.where(strict.isfinite(x), x, strict.zeros_like(x))  # NaN/inf to an integer is undefined
            if strict.isdtype(to, "integral"):
                x = strict.clip(strict.real(x) if strict.isdtype(x.dtype, "complex floating") else x, 0, 100)
        return (x, to), draw(st.fixed_dictionaries({}, optional={"copy": st.booleans()}))

    check(target, "astype", calls(), budget)


@pytest.mark.parametrize("from_", DTYPE_NAMES)
def test_can_cast(target, from_):
    for to in DTYPE_NAMES:
        expected = strict.can_cast(getattr(strict, from_), getattr(strict, to))
        assert target.ns.can_cast(_dtype(target.ns, from_), _dtype(target.ns, to)) == expected, (from_, to)


@pytest.mark.parametrize("name", ["float32", "float64", "complex64", "complex128"])
def test_finfo(target, name):
    got, want = target.ns.finfo(_dtype(target.ns, name)), strict.finfo(getattr(strict, name))
    for field in ("bits", "eps", "max", "min", "smallest_normal"):
        value = getattr(got, field)
        assert type(value) is type(getattr(want, field)), (field, type(value))
        assert value == getattr(want, field), field
    assert dtype_name(got.dtype) == dtype_name(want.dtype)


@pytest.mark.parametrize("name", [n for n in DTYPE_NAMES if "int" in n])
def test_iinfo(target, name):
    got, want = target.ns.iinfo(_dtype(target.ns, name)), strict.iinfo(getattr(strict, name))
    for field in ("bits", "max", "min"):
        assert type(getattr(got, field)) is int and getattr(got, field) == getattr(want, field), field
    assert dtype_name(got.dtype) == name


def test_finfo_iinfo_of_arrays(target):
    assert target.ns.finfo(target.ns.ones(2, dtype=target.ns.float32)).bits == 32
    assert target.ns.iinfo(target.ns.ones(2, dtype=target.ns.int16)).max == 32767


@pytest.mark.parametrize("kind", KINDS)
def test_isdtype(target, kind):
    for name in DTYPE_NAMES:
        assert target.ns.isdtype(_dtype(target.ns, name), kind) == strict.isdtype(getattr(strict, name), kind)
    for name in DTYPE_NAMES:
        mixed = (kind, _dtype(target.ns, "float32"))
        expected = strict.isdtype(getattr(strict, name), (kind, strict.float32))
        assert target.ns.isdtype(_dtype(target.ns, name), mixed) == expected


def test_dtype_objects_compare_by_identity_and_name(target):
    for name in DTYPE_NAMES:
        dtype = _dtype(target.ns, name)
        assert dtype == _dtype(target.ns, name)
        assert target.ns.ones(1, dtype=dtype).dtype == dtype
    assert _dtype(target.ns, "float32") != _dtype(target.ns, "float64")
