"""Deterministic tokens: the same value, built twice, gets the same name.

:func:`tokenize` turns any arguments into a 32-character hex digest. Collections
use it to name expressions, so equal sub-expressions built twice share one name
and are computed once.

How it works: :data:`normalize_token` turns a value into a *normalized token*, a
nested structure of primitives (``None``, ``bool``, ``int``, ``float``,
``complex``, ``str``, ``bytes``, tuples and lists of them); ``tokenize`` hashes
the ``ascii()`` text of that structure with MD5. ``ascii()`` of primitives
spells out their type (``1``, ``1.0``, ``True``, ``'1'``), so equal-looking
values of different types get different tokens, and it never depends on the
Python hash seed.

- Primitives, and tuples and lists of them, are their own normalized token (the
  fast path: no dispatch, no allocation for nested tuples of primitives).
- Anything else goes through the type dispatcher ``normalize_token``: the
  function registered for the first class along the type's MRO is called, and
  its result is tagged with the object's exact type, so a ``dict`` and a tuple of
  pairs, or two classes with equal fields, never collide.
- Normalizers for NumPy, pandas and pyarrow objects live outside the core, in
  ``chunkwise.tokenize_backends``; they are registered lazily, by top-level
  module name, the first time an object of that library is tokenized.
- Unknown objects: ``__chunkwise_tokenize__()`` (or ``__dask_tokenize__()``) if
  defined, the fields of a dataclass, else the bytes of ``cloudpickle.dumps``.
  An object that cannot be pickled gets a random token, or a ``TypeError`` under
  :func:`ensure_deterministic`.
- A container that contains itself is replaced, where it recurs, by a marker
  naming its depth, so cycles terminate.

>>> tokenize("add", 1, 2.0, ("x", 3)) == tokenize("add", 1, 2.0, ("x", 3))
True
>>> len(tokenize([1, 2, 3]))
32
>>> len({tokenize(1), tokenize(1.0), tokenize(True), tokenize("1")})
4
>>> tokenize({"a": 1, "b": 2}) == tokenize({"b": 2, "a": 1})
True

Registering a normalizer (it returns primitives; call ``normalize_token`` on
the parts):

>>> class Point:
...     def __init__(self, x, y):
...         self.x, self.y = x, y
>>> @normalize_token.register(Point)
... def _normalize_point(p):
...     return (normalize_token(p.x), normalize_token(p.y))
>>> tokenize(Point(1, 2)) == tokenize(Point(1, 2)) != tokenize(Point(2, 1))
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import importlib
import pathlib
import sys
import threading
import types
import uuid
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import Any

import cloudpickle

__all__ = [
    "Dispatch",
    "ensure_deterministic",
    "normalize_token",
    "tokenize",
]


# ---------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------

def _content_hash_factory() -> Any:
    """XXH3-128 when ``xxhash`` is installed (~10 GB/s), else SHA-1 (~1.5 GB/s).

    SHA-1 was the fastest of md5/sha1/sha256/blake2b in ``hashlib`` on x86 with
    SHA-NI (see docs/tokenize.md); XXH3 is a non-cryptographic 128-bit hash,
    as Dask also prefers for content tokens. Tokens are the same in every
    process of one environment, not across environments with and without it.
    """
    try:
        import xxhash
    except ImportError:
        return functools.partial(hashlib.sha1, usedforsecurity=False)
    return xxhash.xxh3_128


#: Hash of large buffers (array content, pickles): an object with ``update`` and
#: ``hexdigest``, called with an optional first buffer.
content_hash = _content_hash_factory()

#: bytes up to this length are kept raw in a normalized token, longer ones hashed.
_SMALL_BYTES = 64


def hash_buffer(buffer: Any) -> str:
    """Hex digest of the content of a bytes-like object, hashed without a copy.

    >>> hash_buffer(b"abc") == hash_buffer(bytearray(b"abc"))
    True
    """
    return content_hash(buffer).hexdigest()


# A dispatched object normalizes to ``(tag, payload)`` where the tag is *bytes*
# naming its type. Bytes appear nowhere else at the head of a tuple (bytes data
# is itself dispatched, hence tagged), so tags never collide with data, and
# ``ascii()`` spells them in C, fast.
_CYCLE = b"cycle"
_KWARGS = b"kwargs"
_BIGINT = b"bigint"
_type_tags: dict[type, bytes] = {}


def _type_tag(cls: type) -> bytes:
    try:
        return _type_tags[cls]
    except KeyError:
        tag = _type_tags[cls] = f"{cls.__module__}.{cls.__qualname__}".encode()
        return tag


# ---------------------------------------------------------------------------
# Per-thread state: the containers being normalized, strict mode
# ---------------------------------------------------------------------------


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: dict[int, int] = {}
        self.strict = False


_state = _State()


@contextlib.contextmanager
def ensure_deterministic(enabled: bool = True) -> Iterator[None]:
    """Within this block, tokenizing an object without a deterministic token raises.

    Such objects (unpicklable, with no ``__chunkwise_tokenize__``) otherwise get
    a random token, so plans that contain them are never shared. The same switch
    is available per call as ``tokenize(..., ensure_deterministic=True)``.

    >>> import threading
    >>> with ensure_deterministic():
    ...     tokenize(threading.Lock())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    TypeError: Cannot tokenize an object of type _thread.lock deterministically: ...
    """
    previous = _state.strict
    _state.strict = enabled
    try:
        yield
    finally:
        _state.strict = previous


# ---------------------------------------------------------------------------
# The type dispatcher
# ---------------------------------------------------------------------------


class Dispatch:
    """A function dispatched on the type of its argument, along the MRO.

    ``register(cls)(func)`` registers ``func`` for ``cls`` and its subclasses;
    ``register_lazy("numpy", loader)`` calls ``loader()`` (a callable or a
    ``"module:function"`` string) the first time a class whose top-level module
    is ``numpy`` is dispatched on; the loader registers the real functions.

    >>> describe = Dispatch("describe")
    >>> @describe.register(int)
    ... def _(x):
    ...     return "int"
    >>> @describe.register(object)
    ... def _(x):
    ...     return "object"
    >>> describe(1), describe(True), describe("a")
    ('int', 'int', 'object')
    """

    def __init__(self, name: str = "dispatch") -> None:
        self.__name__ = name
        self._lookup: dict[type, Callable[[Any], Any]] = {}
        self._lazy: dict[str, Callable[[], Any] | str] = {}
        self._cache: dict[type, Callable[[Any], Any]] = {}
        self._lock = threading.RLock()

    def register(self, cls: type | tuple[type, ...], func: Callable | None = None) -> Any:
        """Register ``func`` for ``cls`` (a type or a tuple of types); usable as a decorator."""

        def wrapper(func: Callable) -> Callable:
            for c in cls if isinstance(cls, tuple) else (cls,):
                self._lookup[c] = func
            self._cache.clear()
            return func

        return wrapper(func) if func is not None else wrapper

    def register_lazy(self, toplevel: str, func: Callable[[], Any] | str | None = None) -> Any:
        """Run ``func`` to register functions when ``toplevel``'s types are first seen."""

        def wrapper(func: Callable[[], Any] | str) -> Callable[[], Any] | str:
            self._lazy[toplevel] = func
            self._cache.clear()
            return func

        return wrapper(func) if func is not None else wrapper

    def dispatch(self, cls: type) -> Callable[[Any], Any]:
        """The function registered for ``cls`` or its nearest base class."""
        try:
            return self._cache[cls]
        except KeyError:
            pass
        for base in cls.__mro__:
            func = self._lookup.get(base)
            if func is not None:
                self._cache[cls] = func
                return func
            toplevel = (getattr(base, "__module__", None) or "").partition(".")[0]
            if toplevel in self._lazy:
                with self._lock:
                    loader = self._lazy.pop(toplevel, None)
                    if loader is not None:
                        _run_loader(loader)
                return self.dispatch(cls)
        raise TypeError(f"No dispatch for {cls.__module__}.{cls.__qualname__} in {self.__name__}")

    def __call__(self, obj: Any) -> Any:
        return self.dispatch(type(obj))(obj)


def _run_loader(loader: Callable[[], Any] | str) -> None:
    if isinstance(loader, str):
        module_name, _, attr = loader.partition(":")
        getattr(importlib.import_module(module_name), attr)()
    else:
        loader()


_PRIMITIVES = frozenset(
    {int, float, str, bool, type(None), complex, type(...), type(NotImplemented)}
)


#: Types whose normalizers never recurse into containers: no cycle tracking.
_LEAF_TYPES = frozenset(
    {
        types.FunctionType,
        types.BuiltinFunctionType,
        types.MethodDescriptorType,
        types.WrapperDescriptorType,
        type,
        bytes,
        datetime.date,
        datetime.timedelta,
        decimal.Decimal,
        range,
    }
)


def _is_plain(seq: tuple, _primitives: frozenset = _PRIMITIVES) -> bool:
    """Whether ``seq`` holds only primitives and (recursively) tuples of them."""
    for x in seq:
        t = type(x)
        if t not in _primitives and not (t is tuple and _is_plain(x)):
            return False
    return True


def _normalize_tuple(seq: tuple) -> tuple:
    if _is_plain(seq):
        return seq
    return tuple([normalize_token(x) for x in seq])


def _normalize_list(seq: list) -> Any:
    prims = _PRIMITIVES
    for x in seq:
        if type(x) not in prims:
            break
    else:
        return seq[:]
    stack = _state.stack
    key = id(seq)
    if key in stack:
        return (_CYCLE, stack[key])
    stack[key] = len(stack)
    try:
        return [normalize_token(x) for x in seq]
    finally:
        del stack[key]


class _Normalizer(Dispatch):
    """``normalize_token``: primitives pass through, tuples and lists are walked,
    everything else is dispatched on its type and tagged with that type."""

    def __call__(self, obj: Any) -> Any:
        t = type(obj)
        if t in _PRIMITIVES:
            return obj
        if t is tuple:
            return _normalize_tuple(obj)
        if t is list:
            return _normalize_list(obj)
        try:
            func = self._cache[t]
        except KeyError:
            func = self.dispatch(t)
        if t in _LEAF_TYPES:
            return (_type_tag(t), func(obj))
        stack = _state.stack
        key = id(obj)
        if key in stack:
            return (_CYCLE, stack[key])
        stack[key] = len(stack)
        try:
            return (_type_tag(t), func(obj))
        finally:
            del stack[key]


normalize_token = _Normalizer("normalize_token")
normalize_token.__doc__ = """Normalize ``obj`` to a deterministic structure of primitives.

>>> normalize_token((1, "a", None))
(1, 'a', None)
>>> normalize_token({"b": 2, "a": 1})
(b'builtins.dict', (('a', 1), ('b', 2)))
"""


def tokenize(*args: Any, ensure_deterministic: bool | None = None, **kwargs: Any) -> str:
    """A deterministic 32-character hex token of the arguments.

    The same values give the same token, in any process and under any
    ``PYTHONHASHSEED``. With ``ensure_deterministic=True``, an object that has no
    deterministic token raises ``TypeError`` instead of getting a random token.

    >>> tokenize(1, "a") == tokenize(1, "a") != tokenize("a", 1)
    True
    >>> tokenize(1) != tokenize(1.0)
    True
    """
    if ensure_deterministic is not None:
        previous = _state.strict
        _state.strict = ensure_deterministic
        try:
            return tokenize(*args, **kwargs)
        finally:
            _state.strict = previous
    data: Any = _normalize_tuple(args)
    if kwargs:
        data = (data, _KWARGS, _normalize_dict(kwargs))
    try:
        text = ascii(data)
    except ValueError:  # an int too large for str(): spell it in hex
        text = ascii(_hex_big_ints(data))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _hex_big_ints(obj: Any) -> Any:
    if type(obj) is int and obj.bit_length() > 10_000:
        return (_BIGINT, hex(obj))
    if type(obj) in (tuple, list):
        return type(obj)(_hex_big_ints(x) for x in obj)
    return obj


# ---------------------------------------------------------------------------
# Normalizers for the standard library
# ---------------------------------------------------------------------------


def _sorted_by_text(items: Any) -> tuple:
    return tuple(sorted(items, key=ascii))


@normalize_token.register(dict)
def _normalize_dict(d: dict) -> tuple:
    stack = _state.stack
    key = id(d)
    nested = key not in stack  # normalize_token already pushed dict subclasses
    if nested:
        stack[key] = len(stack)
    try:
        if all(type(k) is str for k in d):
            return tuple(sorted(((k, normalize_token(v)) for k, v in d.items()), key=itemgetter(0)))
        return _sorted_by_text((normalize_token(k), normalize_token(v)) for k, v in d.items())
    finally:
        if nested:
            del stack[key]


@normalize_token.register(OrderedDict)
def _normalize_ordered_dict(d: OrderedDict) -> tuple:
    return tuple((normalize_token(k), normalize_token(v)) for k, v in d.items())


@normalize_token.register((set, frozenset))
def _normalize_set(s: set | frozenset) -> tuple:
    if all(type(x) is str for x in s):
        return tuple(sorted(s))
    return _sorted_by_text(normalize_token(x) for x in s)


@normalize_token.register(tuple)
def _normalize_tuple_subclass(t: tuple) -> tuple:  # namedtuples; the tag names the class
    return tuple([normalize_token(x) for x in t])


@normalize_token.register(list)
def _normalize_list_subclass(seq: list) -> list:
    return [normalize_token(x) for x in seq]


_PRIMITIVE_BASES: tuple[type, ...] = (bool, int, float, complex, str)


@normalize_token.register((int, float, complex, str))
def _normalize_primitive_subclass(x: Any) -> Any:  # e.g. IntEnum members, np.float64
    for base in _PRIMITIVE_BASES:
        if isinstance(x, base):
            return base(x)
    raise AssertionError(type(x))  # pragma: no cover


@normalize_token.register((bytes, bytearray, memoryview))
def _normalize_bytes(x: bytes | bytearray | memoryview) -> Any:
    view = memoryview(x)
    head = (view.format, view.shape) if isinstance(x, memoryview) else ()
    if view.nbytes <= _SMALL_BYTES:
        return (*head, view.tobytes())
    if not view.c_contiguous:
        view = memoryview(view.tobytes())
    return (*head, hash_buffer(view.cast("B")))


@normalize_token.register((range, slice))
def _normalize_range(r: range | slice) -> tuple:
    return (normalize_token(r.start), normalize_token(r.stop), normalize_token(r.step))


@normalize_token.register(enum.Enum)
def _normalize_enum(e: enum.Enum) -> tuple:
    return (_normalize_type(type(e)), e.name)


for _enum_base in (enum.IntEnum, enum.IntFlag, getattr(enum, "StrEnum", None)):
    if _enum_base is not None:  # these have int/str before Enum in their MRO
        normalize_token.register(_enum_base, _normalize_enum)


@normalize_token.register((datetime.datetime, datetime.time))
def _normalize_datetime(d: datetime.datetime | datetime.time) -> tuple:
    tz = None if d.tzinfo is None else normalize_token(d.tzinfo)
    return (d.isoformat(), d.fold, tz)


@normalize_token.register(datetime.date)
def _normalize_date(d: datetime.date) -> str:
    return d.isoformat()


@normalize_token.register(datetime.timedelta)
def _normalize_timedelta(d: datetime.timedelta) -> tuple:
    return (d.days, d.seconds, d.microseconds)


@normalize_token.register(datetime.tzinfo)
def _normalize_tzinfo(tz: datetime.tzinfo) -> Any:
    if isinstance(tz, datetime.timezone):
        return (normalize_token(tz.utcoffset(None)), tz.tzname(None))
    if isinstance(tz, zoneinfo.ZoneInfo) and tz.key is not None:
        return tz.key
    return _normalize_object(tz)


@normalize_token.register(decimal.Decimal)
def _normalize_decimal(d: decimal.Decimal) -> str:
    return str(d)


@normalize_token.register(pathlib.PurePath)
def _normalize_path(p: pathlib.PurePath) -> str:
    return str(p)


@normalize_token.register(types.ModuleType)
def _normalize_module(m: types.ModuleType) -> str:
    return m.__name__


def _resolve(module: str | None, qualname: str) -> Any:
    """The object at ``module.qualname`` if the module is imported, else None."""
    if not module or module == "__main__" or "<" in qualname:
        return None
    obj: Any = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


_named_cache: dict[Any, tuple[str | None, str]] = {}  # module (None if unknown), qualname


@normalize_token.register(types.FunctionType)
def _normalize_function(func: types.FunctionType) -> Any:
    """Importable functions by name; lambdas, closures and ``__main__`` by value."""
    try:
        return _named_cache[func]
    except KeyError:
        pass
    module, qualname = func.__module__, func.__qualname__
    if _resolve(module, qualname) is func:
        result = _named_cache[func] = (module, qualname)
        return result
    return _normalize_pickle(func)


@normalize_token.register(type)
def _normalize_type(cls: type) -> Any:
    try:
        return _named_cache[cls]
    except (KeyError, TypeError):
        pass
    module, qualname = cls.__module__, cls.__qualname__
    if _resolve(module, qualname) is cls:
        result = _named_cache[cls] = (module, qualname)
        return result
    return _normalize_pickle(cls)


@normalize_token.register(types.BuiltinFunctionType)
def _normalize_builtin(func: types.BuiltinFunctionType) -> tuple:
    try:
        return _named_cache[func]
    except KeyError:
        pass
    owner = func.__self__
    if owner is None or isinstance(owner, types.ModuleType):
        result = (func.__module__ or getattr(owner, "__name__", None), func.__qualname__)
        _named_cache[func] = result
        return result
    return (normalize_token(owner), func.__name__)  # a bound builtin method: [].append


@normalize_token.register(
    (
        types.MethodDescriptorType,
        types.WrapperDescriptorType,
        types.ClassMethodDescriptorType,
        types.GetSetDescriptorType,
        types.MemberDescriptorType,
    )
)
def _normalize_descriptor(d: Any) -> tuple:  # str.upper, object.__init__
    return (_normalize_type(d.__objclass__), d.__name__)


@normalize_token.register(types.MethodWrapperType)
def _normalize_method_wrapper(m: Any) -> tuple:  # (1).__add__
    return (normalize_token(m.__self__), m.__name__)


@normalize_token.register(types.MethodType)
def _normalize_method(m: types.MethodType) -> tuple:
    return (normalize_token(m.__self__), normalize_token(m.__func__))


@normalize_token.register(functools.partial)
def _normalize_partial(p: functools.partial) -> tuple:
    return (normalize_token(p.func), _normalize_tuple(p.args), _normalize_dict(p.keywords))


# ---------------------------------------------------------------------------
# Unknown objects
# ---------------------------------------------------------------------------

_MISSING = (b"missing",)


@normalize_token.register(object)
def _normalize_object(obj: Any) -> Any:
    """``__chunkwise_tokenize__``, ``__dask_tokenize__``, dataclass fields, or pickle."""
    cls = type(obj)
    for name in ("__chunkwise_tokenize__", "__dask_tokenize__"):
        method = getattr(cls, name, None)
        if method is not None:
            value = method(obj)
            if value is obj:
                raise TypeError(f"{_qualified(cls)}.{name}() returned the object itself")
            return (name, normalize_token(value))
    named = _normalize_named(obj)
    if named is not None:  # module-level callables that are not functions: np.mean
        return named
    if dataclasses.is_dataclass(obj):
        return tuple(
            (f.name, normalize_token(getattr(obj, f.name, _MISSING)))
            for f in dataclasses.fields(obj)
        )
    return _normalize_pickle(obj)


def _normalize_named(obj: Any) -> tuple[str | None, str] | None:
    """``(module, qualname)`` of an object importable under that name, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not (isinstance(module, str) and isinstance(qualname, str)):
        return None
    try:
        return _named_cache[obj]
    except (KeyError, TypeError):
        pass
    if _resolve(module, qualname) is not obj:
        return None
    with contextlib.suppress(TypeError):
        _named_cache[obj] = (module, qualname)
    return (module, qualname)


def _normalize_pickle(obj: Any) -> tuple:
    try:
        data = cloudpickle.dumps(obj, protocol=5)
    except Exception as error:
        return _nondeterministic(obj, error)
    return ("pickle", hash_buffer(data))


def _nondeterministic(obj: Any, error: BaseException) -> tuple:
    if _state.strict:
        name = _qualified(type(obj))
        raise TypeError(
            f"Cannot tokenize an object of type {name} deterministically: it cannot be "
            f"pickled ({type(error).__name__}: {error}). Define a "
            f"`__chunkwise_tokenize__(self)` method on {name} that returns a deterministic "
            "value (e.g. a tuple of the attributes that define it), or register a normalizer "
            "with `chunkwise.core.tokenize.normalize_token.register`."
        ) from error
    return ("random", uuid.uuid4().hex)


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
