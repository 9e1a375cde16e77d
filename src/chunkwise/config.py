"""Settings: ``chunkwise.config.set(...)`` as a context manager or globally.

Keys are dotted strings (``"scheduler"``, ``"num_workers"``,
``"array.chunk_size"``); underscores and hyphens are the same. Defaults come
from :data:`defaults`, then from environment variables ``CHUNKWISE_<KEY>``
(dots as double underscores: ``CHUNKWISE_ARRAY__CHUNK_SIZE``), read at import.

>>> import chunkwise
>>> with chunkwise.config.set(scheduler="sync"):
...     chunkwise.config.get("scheduler")
'sync'
>>> chunkwise.config.get("no.such.key", "fallback")
'fallback'

``set`` accepts only known keys (those in :data:`defaults`), so a typo fails
loudly instead of being ignored; a library adding its own settings adds them to
:data:`defaults` first. A namespace may be given as a nested dict
(``set(array={"chunk_size": "64MiB"})``).

>>> chunkwise.config.set(schedular="sync")
Traceback (most recent call last):
...
KeyError: "chunkwise.config.set: unknown key 'schedular' (did you mean 'scheduler'?); known keys: ['array.chunk_size', 'dataframe.broadcast_bytes', 'dataframe.broadcast_rows', 'dataframe.shuffle.compression', 'dataframe.shuffle.directory', 'dataframe.shuffle.memory_limit', 'dataframe.shuffle.method', 'delayed_pure', 'num_workers', 'optimization.array_rewrites', 'optimization.fuse', 'scheduler', 'scheduler.max_live_source_results', 'tokenize.ensure_deterministic']"
"""

from __future__ import annotations

import ast
import difflib
import os
import threading
from typing import Any

__all__ = ["defaults", "get", "refresh", "set"]

defaults: dict[str, Any] = {
    "scheduler": None,  # None: an active distributed Client if any, else "threads"
    "num_workers": None,  # None: chunkwise.system.cpu_count() (affinity and cgroup quota)
    "optimization.fuse": True,
    "optimization.array_rewrites": True,  # chunkwise.array.rewrites: plans that do less work
    "scheduler.max_live_source_results": None,  # None: 4 x num_workers
    "array.chunk_size": "128MiB",
    "tokenize.ensure_deterministic": False,
    "delayed_pure": False,  # chunkwise.delayed: calls are pure (named by their arguments) by default
    # chunkwise.dataframe.joins: a side is broadcast (copied whole to every partition of the
    # other) when its known length and estimated size are below both of these
    "dataframe.broadcast_rows": 1_000_000,
    "dataframe.broadcast_bytes": 256 * 2**20,
    "dataframe.shuffle.directory": None,  # None: the system's temporary directory
    # bytes a shuffle may hold in memory: output partition counts are chosen from it, and a
    # combine whose pieces exceed it is refused (chunkwise.dataframe.shuffle)
    "dataframe.shuffle.memory_limit": None,
    "dataframe.shuffle.compression": None,  # None, "lz4" or "zstd": the pieces written to disk
    "dataframe.shuffle.method": None,  # None: "disk" locally, "tasks" with an active distributed client
}

_lock = threading.RLock()
_config: dict[str, Any] = {}
_MISSING = object()


def _canonical(key: str) -> str:
    return key.replace("-", "_").lower()


def _parse_env_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def refresh(environ: dict | None = None) -> None:
    """Reset to the defaults, then apply ``CHUNKWISE_*`` environment variables."""
    environ = os.environ if environ is None else environ
    with _lock:
        _config.clear()
        _config.update(defaults)
        for name, text in environ.items():
            if name.startswith("CHUNKWISE_"):
                key = _canonical(name[len("CHUNKWISE_"):].replace("__", "."))
                _config[key] = _parse_env_value(text)


def get(key: str, default: Any = _MISSING) -> Any:
    """The value of ``key``; ``default`` when it is unset, else ``KeyError``."""
    value = _config.get(_canonical(key), _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise KeyError(f"chunkwise.config has no setting {key!r}; known: {sorted(_config)}")
        return default
    return value


class set:  # mirrors dask.config.set
    """Set values globally; used in a ``with`` block they are restored at its end.

    >>> import chunkwise
    >>> _ = chunkwise.config.set(num_workers=2)  # global
    >>> chunkwise.config.get("num_workers")
    2
    >>> _ = chunkwise.config.set(num_workers=None)
    """

    def __init__(self, arg: dict | None = None, **kwargs: Any):
        updates: dict[str, Any] = {}
        for key, value in [*(arg or {}).items(), *kwargs.items()]:
            _flatten(_canonical(key.replace("__", ".")), value, updates)
        for key in updates:
            _check_known(key)
        self._previous: dict[str, Any] = {}
        with _lock:
            for key, value in updates.items():
                self._previous.setdefault(key, _config.get(key, _MISSING))
                _config[key] = value

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        with _lock:
            for key, value in self._previous.items():
                if value is _MISSING:
                    _config.pop(key, None)
                else:
                    _config[key] = value


def _known() -> list:
    return sorted(_canonical(k) for k in defaults)


def _flatten(key: str, value: Any, out: dict) -> None:
    """``key: value`` into ``out``; a dict under a namespace (``array={...}``) as dotted keys."""
    namespace = key + "."
    if isinstance(value, dict) and key not in _known() and any(k.startswith(namespace) for k in _known()):
        for sub, item in value.items():
            _flatten(namespace + _canonical(sub), item, out)
    else:
        out[key] = value


def _check_known(key: str) -> None:
    known = _known()
    if key in known:
        return
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise KeyError(
        f"chunkwise.config.set: unknown key {key!r}{hint}; known keys: {known}"
    )


refresh()
