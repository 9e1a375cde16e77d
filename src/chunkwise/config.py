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
"""

from __future__ import annotations

import ast
import os
import threading
from typing import Any

__all__ = ["defaults", "get", "refresh", "set"]

defaults: dict[str, Any] = {
    "scheduler": None,  # None: an active distributed Client if any, else "threads"
    "num_workers": None,  # None: os.cpu_count()
    "optimization.fuse": True,
    "scheduler.max_live_source_results": None,  # None: 4 x num_workers
    "array.chunk_size": "128MiB",
    "tokenize.ensure_deterministic": False,
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
        updates = dict(arg or {})
        updates.update(kwargs)
        self._previous: dict[str, Any] = {}
        with _lock:
            for key, value in updates.items():
                key = _canonical(key.replace("__", "."))
                self._previous[key] = _config.get(key, _MISSING)
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


refresh()
