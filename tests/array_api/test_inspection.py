"""Array API conformance: the inspection API (``__array_namespace_info__``) and devices."""

from array_api_harness import VERSION, dtype_name, strict


def test_version(target):
    assert target.ns.__array_api_version__ == VERSION


def test_capabilities(target):
    got = target.ns.__array_namespace_info__().capabilities()
    want = strict.__array_namespace_info__().capabilities()
    assert set(got) == set(want)
    assert all(type(got[k]) is type(want[k]) or got[k] is None for k in want)


def test_default_dtypes(target):
    got = target.ns.__array_namespace_info__().default_dtypes()
    want = strict.__array_namespace_info__().default_dtypes()
    assert {k: dtype_name(v) for k, v in got.items()} == {k: dtype_name(v) for k, v in want.items()}
    created = target.to_numpy(target.ns.asarray([1.0]))
    assert created.dtype.name == dtype_name(got["real floating"])
    assert target.to_numpy(target.ns.arange(3)).dtype.name == dtype_name(got["integral"])


def test_dtypes_by_kind(target):
    info, strict_info = target.ns.__array_namespace_info__(), strict.__array_namespace_info__()
    for kind in (None, "bool", "signed integer", "unsigned integer", "integral", "real floating",
                 "complex floating", "numeric", ("bool", "integral")):
        got = {k: dtype_name(v) for k, v in info.dtypes(kind=kind).items()}
        want = {k: dtype_name(v) for k, v in strict_info.dtypes(kind=kind).items()}
        assert got == want, kind


def test_devices(target):
    info = target.ns.__array_namespace_info__()
    devices = info.devices()
    assert info.default_device() in devices
    x = target.ns.ones(3, device=info.default_device())
    assert x.device == info.default_device()
    assert target.ns.asarray(x, device=info.default_device()).device == x.device
    assert info.dtypes(device=info.default_device())
