"""Tests for chunkwise.core.tokenize and the NumPy/pandas/pyarrow normalizers."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import operator
import os
import pathlib
import re
import subprocess
import sys
import textwrap
import threading
from collections import OrderedDict, namedtuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import chunkwise.tokenize_backends  # noqa: F401  (registers the lazy backends)
from chunkwise.core.tokenize import Dispatch, ensure_deterministic, normalize_token, tokenize


def assert_distinct(*values):
    tokens = [tokenize(v) for v in values]
    assert len(set(tokens)) == len(tokens), values
    assert tokens == [tokenize(v) for v in values]  # and each is deterministic


def test_token_format():
    token = tokenize(1, "a")
    assert re.fullmatch(r"[0-9a-f]{32}", token), token  # 32 lowercase hex digits
    assert tokenize(1, "a") == token and tokenize(1, "b") != token


def test_primitives_are_type_tagged():
    assert_distinct(1, 1.0, True, "1", b"1", 1 + 0j, None, "None", 0, False, 0.0, -0.0)
    assert_distinct(..., NotImplemented, "Ellipsis")
    assert tokenize(1) == tokenize(1)
    assert tokenize("a" * 1000) == tokenize("a" * 1000)


def test_args_and_kwargs():
    assert tokenize(1, 2) != tokenize(2, 1)
    assert tokenize(1, 2) != tokenize((1, 2))
    assert tokenize(a=1, b=2) == tokenize(b=2, a=1)
    assert tokenize(a=1) != tokenize({"a": 1}) != tokenize(a=2)


def test_big_int():
    big = 10**5000
    assert tokenize(big) == tokenize(10**5000) != tokenize(big + 1)


def test_containers():
    assert_distinct([1, 2], (1, 2), {1, 2}, frozenset({1, 2}), {1: 2}, [2, 1], [[1, 2]], ((1, 2),))
    assert tokenize({"a": 1, "b": 2}) == tokenize({"b": 2, "a": 1})
    assert tokenize({1: "a", "b": 2.0}) == tokenize({"b": 2.0, 1: "a"})
    assert tokenize({3, 1, 2, "x"}) == tokenize({"x", 2, 1, 3})
    assert tokenize({float("nan"), 1.0, 0.5}) == tokenize({0.5, 1.0, float("nan")})
    assert tokenize(OrderedDict(a=1, b=2)) != tokenize(OrderedDict(b=2, a=1))
    assert tokenize(OrderedDict(a=1)) != tokenize({"a": 1})
    # a tuple that spells a normalized dict is not a dict
    assert tokenize({"a": 1}) != tokenize((b"builtins.dict", (("a", 1),)))
    point = namedtuple("point", "x y")
    assert tokenize(point(1, 2)) == tokenize(point(1, 2)) != tokenize((1, 2))
    assert tokenize([1, [2, {"a": (3,)}]]) == tokenize([1, [2, {"a": (3,)}]])


def test_bytes_like():
    big = bytes(range(256)) * 100
    assert_distinct(b"ab", bytearray(b"ab"), memoryview(b"ab"), big, big[:-1], bytearray(big))
    assert tokenize(big) == tokenize(bytes(big))


def test_self_referencing_containers():
    a = [1]
    a.append(a)
    b = [1]
    b.append(b)
    assert tokenize(a) == tokenize(b) != tokenize([1, []])
    d = {"x": 1}
    d["self"] = d
    assert tokenize(d) == tokenize(d)
    nested = [d, a, (a,)]
    assert tokenize(nested) == tokenize(nested)


def test_range_slice_ellipsis():
    assert_distinct(
        range(3), range(1, 3), range(0, 3, 2), slice(3), slice(0, 3), slice(None, 3, 1), ...
    )
    assert tokenize(slice(1, 5, None)) == tokenize(slice(1, 5))


class Color(enum.Enum):
    RED = 1
    BLUE = 2


class Size(enum.IntEnum):
    SMALL = 1


def test_types_enums_stdlib_values():
    assert_distinct(int, float, str, dict, Color, Color.RED, Color.BLUE, Size.SMALL, 1)
    assert_distinct(
        datetime.datetime(2020, 1, 1),
        datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc),
        datetime.date(2020, 1, 1),
        datetime.time(1, 2),
        datetime.timedelta(days=1),
        datetime.timedelta(seconds=1),
        decimal.Decimal("1.5"),
        decimal.Decimal("1.50"),
        pathlib.PurePosixPath("a/b"),
        pathlib.PureWindowsPath("a/b"),
        "a/b",
    )
    assert tokenize(datetime.datetime(2020, 1, 1, 5)) == tokenize(datetime.datetime(2020, 1, 1, 5))


def module_function(x):
    return x + 1


def other_function(x):
    return x + 1


def decorated(func):
    @functools.wraps(func)
    def wrapper(*args):
        return func(*args)

    return wrapper


wrapped_function = decorated(module_function)


class Thing:
    def __init__(self, value):
        self.value = value

    def method(self):
        return self.value


def test_functions():
    assert normalize_token(module_function)[1] == (__name__, "module_function")
    assert_distinct(module_function, other_function, wrapped_function, len, max, operator.add)
    make = lambda: lambda x: x + 1  # noqa: E731
    assert tokenize(make()) == tokenize(make())  # the same lambda, built twice
    f, g = (lambda x: x + 1), (lambda x: x + 2)
    assert tokenize(f) != tokenize(g)


def make_adder(n):
    def add(x):
        return x + n

    return add


def test_closures():
    assert tokenize(make_adder(1)) == tokenize(make_adder(1))
    assert tokenize(make_adder(1)) != tokenize(make_adder(2))


def test_methods_builtins_partials():
    assert_distinct(
        Thing(1).method, Thing(2).method, Thing.method, [].append, [1].append, str.upper, str.lower
    )
    assert tokenize(Thing(1).method) == tokenize(Thing(1).method)
    assert_distinct(
        functools.partial(module_function, 1),
        functools.partial(module_function, 2),
        functools.partial(module_function, x=1),
        functools.partial(other_function, 1),
    )
    assert tokenize(functools.partial(max, 1, key=abs)) == tokenize(
        functools.partial(max, 1, key=abs)
    )
    assert_distinct(np.add, np.subtract, np.mean, np.sum)


@dataclasses.dataclass
class Config:
    a: int
    b: list


@dataclasses.dataclass
class OtherConfig:
    a: int
    b: list


def test_dataclasses():
    assert tokenize(Config(1, [2])) == tokenize(Config(1, [2]))
    assert_distinct(Config(1, [2]), Config(1, [3]), OtherConfig(1, [2]), (1, [2]))


class Custom:
    def __init__(self, key, junk):
        self.key, self.junk = key, junk

    def __chunkwise_tokenize__(self):
        return ("custom", self.key)


class DaskLike:
    def __init__(self, name):
        self.name = name

    def __dask_tokenize__(self):
        return self.name


def test_tokenize_protocols():
    assert tokenize(Custom(1, threading.Lock())) == tokenize(Custom(1, object()))
    assert tokenize(Custom(1, None)) != tokenize(Custom(2, None))
    assert tokenize(DaskLike("a")) == tokenize(DaskLike("a")) != tokenize(DaskLike("b"))


def test_unknown_objects_pickle():
    assert tokenize(Thing(1)) == tokenize(Thing(1)) != tokenize(Thing(2))


def test_nondeterministic_fallback():
    lock = threading.Lock()
    assert tokenize(lock) != tokenize(lock)  # random: never shared
    with pytest.raises(TypeError, match=r"_thread\.lock.*__chunkwise_tokenize__"):
        tokenize(lock, ensure_deterministic=True)
    with ensure_deterministic(), pytest.raises(TypeError, match="__chunkwise_tokenize__"):
        tokenize([1, Thing(lock)])
    assert tokenize(1, ensure_deterministic=True) == tokenize(1)
    tokenize(lock)  # the flag is off again


def test_dispatch_lazy_and_mro():
    fake = type("Fake", (), {"__module__": "fakepkg.sub"})
    calls = []
    dispatch = Dispatch("fake")
    dispatch.register(object, lambda x: "object")

    def loader():
        calls.append(1)
        dispatch.register(fake, lambda x: "fake")

    dispatch.register_lazy("fakepkg", loader)
    assert dispatch(1) == "object"
    assert calls == []
    sub = type("Sub", (fake,), {"__module__": "user"})
    assert dispatch(sub()) == "fake"
    assert dispatch(fake()) == "fake"
    assert calls == [1]


def test_dispatch_lazy_string_path():
    fake = type("Fake", (), {"__module__": "otherfakepkg"})
    dispatch = Dispatch("fake")
    dispatch.register(object, lambda x: "object")
    dispatch.register_lazy("otherfakepkg", "chunkwise.tokenize_backends:register_numpy")
    assert dispatch(fake()) == "object"  # loaded (harmlessly), then fell back to object


# --- NumPy -----------------------------------------------------------------


def test_numpy_arrays():
    x = np.arange(24, dtype="f8").reshape(4, 6)
    assert tokenize(x) == tokenize(x.copy())
    assert_distinct(x, x + 1, x.reshape(6, 4), x.astype("f4"), x.view("i8"), x.T, x[:, :3])
    # views and copies with equal content
    assert tokenize(x[:, ::2]) == tokenize(np.ascontiguousarray(x[:, ::2]))
    assert tokenize(x.T) == tokenize(np.ascontiguousarray(x.T))
    assert tokenize(np.asfortranarray(x)) == tokenize(x)
    assert tokenize(x[::-1]) == tokenize(x[::-1].copy())
    # a difference anywhere is seen
    y = x.copy()
    y[-1, -1] = -1
    assert tokenize(y) != tokenize(x)
    # same bytes, different dtype or shape
    z = np.zeros(8, dtype="u1")
    assert_distinct(z, z.view("i1"), z.view("u8"), z.view("f8"), z.reshape(2, 4), z.view(">u8"))
    # 0-d, empty
    assert_distinct(
        np.array(1), np.array(1.0), np.array([1]), np.array(2), np.empty((0, 3)), np.empty((3, 0))
    )
    assert tokenize(np.array(5)) == tokenize(np.array(5))


def test_numpy_special_arrays():
    objects = np.array(["a", 1, None, (2, 3)], dtype=object)
    assert tokenize(objects) == tokenize(objects.copy()) != tokenize(objects[::-1])
    strings = np.array(["a", "bc"], dtype=np.dtypes.StringDType())
    assert tokenize(strings) == tokenize(strings.copy()) != tokenize(strings[::-1])
    structured = np.zeros(3, dtype=[("a", "i4"), ("b", "f8")])
    renamed = np.zeros(3, dtype=[("c", "i4"), ("b", "f8")])
    assert tokenize(structured) != tokenize(renamed)
    dates = np.array(["2020-01-01"], dtype="M8[D]")
    assert_distinct(dates, dates.astype("M8[s]"), dates.view("i8"))
    broadcast = np.broadcast_to(np.arange(3), (4, 3))
    assert tokenize(broadcast) == tokenize(np.broadcast_to(np.arange(3), (4, 3)))
    assert tokenize(broadcast) != tokenize(np.broadcast_to(np.arange(3), (5, 3)))
    masked = np.ma.masked_array([1, 2, 3], mask=[0, 1, 0])
    assert_distinct(masked, np.ma.masked_array([1, 2, 3], mask=[0, 0, 1]), masked.data)


def test_numpy_scalars_dtypes_ufuncs_random():
    assert_distinct(
        np.float64(1), np.float32(1), np.int64(1), 1.0, 1, np.bool_(True), np.str_("1"), "1"
    )
    assert tokenize(np.float64(1.5)) == tokenize(np.float64(1.5))
    assert_distinct(np.dtype("i8"), np.dtype(">i8"), np.dtype("f8"), np.dtype("M8[ns]"), "int64")
    assert tokenize(np.dtype("int64")) == tokenize(np.dtype("i8"))
    assert_distinct(np.add, np.multiply, np.sin)
    assert tokenize(np.random.default_rng(1)) == tokenize(np.random.default_rng(1))
    assert_distinct(np.random.default_rng(1), np.random.default_rng(2))
    assert tokenize(np.random.RandomState(1)) == tokenize(np.random.RandomState(1))
    assert_distinct(np.random.RandomState(1), np.random.RandomState(2))
    rng = np.random.default_rng(1)
    before = tokenize(rng)
    rng.random()
    assert tokenize(rng) != before  # the state moved


def test_numpy_memmap_policy(tmp_path):
    path = tmp_path / "data.bin"
    np.arange(100, dtype="i8").tofile(path)
    mm = np.memmap(path, dtype="i8", mode="r")
    assert normalize_token(mm)[1][0] == "memmap"  # by file, not by content
    assert tokenize(mm) == tokenize(np.memmap(path, dtype="i8", mode="r"))
    assert_distinct(
        mm, mm[:10], mm[10:20], mm[::2], np.memmap(path, dtype="i8", mode="r", offset=8)
    )
    assert tokenize(mm[10:20]) == tokenize(
        np.memmap(path, dtype="i8", mode="r", offset=80, shape=(10,))
    )
    assert tokenize(mm) != tokenize(np.memmap(path, dtype="i4", mode="r"))
    assert tokenize(np.asarray(mm)) == tokenize(np.arange(100))  # plain arrays: content
    before = tokenize(mm)
    del mm
    data = np.arange(101, dtype="i8")
    data.tofile(path)
    os.utime(path, ns=(1, 1))  # the file changed: the token changes
    assert tokenize(np.memmap(path, dtype="i8", mode="r", shape=(100,))) != before


# --- pandas ----------------------------------------------------------------


def test_pandas_series_and_index():
    s = pd.Series([1, 2, 3], name="a")
    assert tokenize(s) == tokenize(pd.Series([1, 2, 3], name="a"))
    assert_distinct(
        s,
        s.rename("b"),
        s.astype("f8"),
        s.astype("Int64"),
        pd.Series([1, 2, 4], name="a"),
        pd.Series([1, 2, 3], name="a", index=[1, 2, 3]),
        pd.Series([1, 2, 3], name="a", index=pd.Index([0, 1, 2], name="i")),
        s.to_numpy(),
    )
    assert tokenize(s.iloc[::2]) == tokenize(s.iloc[::2].copy())
    assert_distinct(
        pd.Index([1, 2]), pd.Index([1, 2], name="x"), pd.Index([1.0, 2.0]), pd.Index(["1", "2"])
    )
    assert tokenize(pd.RangeIndex(3)) != tokenize(pd.Index([0, 1, 2]))
    mi = pd.MultiIndex.from_tuples([(1, "a"), (2, "b")], names=["x", "y"])
    assert tokenize(mi) == tokenize(
        pd.MultiIndex.from_tuples([(1, "a"), (2, "b")], names=["x", "y"])
    )
    assert_distinct(mi, mi.set_names(["x", "z"]), pd.MultiIndex.from_tuples([(1, "a"), (2, "c")]))


def test_pandas_dataframes():
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert tokenize(df) == tokenize(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}))
    assert_distinct(
        df,
        df.rename(columns={"a": "c"}),
        df[["b", "a"]],
        df.astype({"a": "f8"}),
        df.astype({"b": object}),
        df.set_axis([5, 6]),
        pd.DataFrame({"a": [1, 2], "b": ["x", "z"]}),
        pd.DataFrame(),
        pd.DataFrame(index=[0, 1]),
    )
    mixed = pd.DataFrame({"a": [1, "x"], "b": [1.5, 2.5]})  # hashed by str() in pandas
    assert_distinct(mixed, pd.DataFrame({"a": ["1", "x"], "b": [1.5, 2.5]}))
    assert_distinct(
        pd.Series([1, "x"]), pd.Series(["1", "x"]), pd.Index([1, "x"]), pd.Index(["1", "x"])
    )
    assert_distinct(pd.MultiIndex.from_tuples([(1, "a")]), pd.MultiIndex.from_tuples([("1", "a")]))
    lists = pd.DataFrame({"a": [[1], [2]]})  # unhashable objects
    assert (
        tokenize(lists)
        == tokenize(pd.DataFrame({"a": [[1], [2]]}))
        != tokenize(pd.DataFrame({"a": [[1], [3]]}))
    )


def test_pandas_arrays_dtypes_scalars():
    cat = pd.Categorical(["a", "b", "a"])
    assert tokenize(cat) == tokenize(pd.Categorical(["a", "b", "a"]))
    assert_distinct(
        cat,
        pd.Categorical(["a", "b", "a"], categories=["b", "a"]),
        pd.Categorical(["a", "b", "a"], ordered=True),
        pd.Categorical(["a", "b", "b"]),
    )
    assert_distinct(
        pd.array([1, None], dtype="Int64"),
        pd.array([1, 2], dtype="Int64"),
        pd.array([1, None], dtype="Float64"),
    )
    assert tokenize(pd.array([1, None], dtype="Int64")) == tokenize(
        pd.array([1, None], dtype="Int64")
    )
    assert_distinct(
        pd.CategoricalDtype(["a"]),
        pd.CategoricalDtype(["a"], ordered=True),
        pd.Int64Dtype(),
        pd.StringDtype(),
        pd.DatetimeTZDtype(tz="UTC"),
        np.dtype("i8"),
    )
    assert_distinct(
        pd.Timestamp("2020-01-01"),
        pd.Timestamp("2020-01-01", tz="UTC"),
        pd.Timestamp("2020-01-02"),
        pd.Timedelta(1, "s"),
        pd.Timedelta(2, "s"),
        pd.Period("2020-01", freq="M"),
        pd.Period("2020-01-01", freq="D"),
        pd.NaT,
        pd.NA,
        None,
    )
    assert tokenize(pd.Timestamp("2020-01-01")) == tokenize(pd.Timestamp("2020-01-01"))


def test_pyarrow():
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert tokenize(table) == tokenize(pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    assert_distinct(
        table,
        table.slice(1),
        table.select(["b", "a"]),
        pa.table({"a": [1, 2, 4], "b": ["x", "y", "z"]}),
    )
    assert tokenize(table.slice(1)) == tokenize(pa.table({"a": [2, 3], "b": ["y", "z"]}))
    assert_distinct(
        pa.array([1, 2]),
        pa.array([1, 2], pa.int32()),
        pa.chunked_array([[1], [2]]),
        pa.int64(),
        pa.int32(),
    )
    assert tokenize(pa.chunked_array([[1], [2]])) == tokenize(pa.chunked_array([[1, 2]]))


# --- across processes --------------------------------------------------------

CROSS_PROCESS_VALUES = textwrap.dedent(
    """
    import datetime, decimal, functools, operator, pathlib
    import numpy as np, pandas as pd
    import chunkwise.tokenize_backends
    from chunkwise.core.tokenize import tokenize
    values = [
        1, 1.0, True, "1", b"1", None, (1, "a", 2.5), [1, [2, 3]], {"b": 1, "a": {"x", "y", "z"}},
        frozenset({"p", "q", "r", 1, 2.0}), {("a", 1): "b", 3: [4]}, range(5), slice(1, 2),
        datetime.datetime(2020, 1, 2, 3), decimal.Decimal("1.5"), pathlib.PurePosixPath("a/b"),
        operator.add, len, functools.partial(max, 1), np.mean, np.add, tokenize,
        np.arange(12.0).reshape(3, 4), np.arange(12.0).reshape(3, 4).T, np.float32(3),
        np.array(["a", None], dtype=object), np.dtype("M8[ns]"), np.random.default_rng(0),
        pd.Series([1.5, 2.5], index=["a", "b"], name="s"),
        pd.DataFrame({"x": [1, 2], "y": ["a", "b"], "z": pd.Categorical(["u", "v"])}),
        pd.MultiIndex.from_tuples([(1, "a")]), pd.Timestamp("2020-01-01", tz="UTC"),
    ]
    print(tokenize(*values))
    print(tokenize(lambda x: x + 1))
    """
)


def test_stable_across_processes_and_hash_seeds():
    outputs = []
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", CROSS_PROCESS_VALUES],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(outputs[0].split()) == 2


def test_content_hash_falls_back_to_sha1_without_xxhash(monkeypatch):
    import hashlib
    import sys

    from chunkwise.core import tokenize as module

    monkeypatch.setitem(sys.modules, "xxhash", None)  # import xxhash now fails
    fallback = module._content_hash_factory()
    h = fallback(b"chunk")
    h.update(b"wise")
    assert h.hexdigest() == hashlib.sha1(b"chunkwise").hexdigest()
    monkeypatch.delitem(sys.modules, "xxhash")
    fast = module._content_hash_factory()()
    fast.update(b"chunkwise")
    assert len(fast.hexdigest()) == 32  # XXH3-128
