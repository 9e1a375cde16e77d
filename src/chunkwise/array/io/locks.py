"""Locks for writes: a lock that survives pickling, and what ``store(lock=...)`` accepts.

- :class:`SerializableLock`: a ``threading.Lock`` looked up by a token, so
  that the copies of one lock in one process (after a graph holding it was
  pickled and sent to a worker process) are one lock; each process then
  serializes its own writes.
- :func:`normalize_lock`: ``True`` becomes a new :class:`SerializableLock`,
  ``False``/``None`` no lock, anything with ``__enter__``/``__exit__`` is used
  as it is; anything else is refused, naming :func:`~chunkwise.array.io.store`.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

__all__ = ["SerializableLock", "normalize_lock"]


class SerializableLock:
    """A ``threading.Lock`` that survives pickling: copies in one process share one lock.

    Used for ``store(lock=True)`` so that graphs holding it can be sent to
    worker processes (each process then serializes its own writes).

    >>> import pickle
    >>> lock = SerializableLock()
    >>> pickle.loads(pickle.dumps(lock)).lock is lock.lock
    True
    """

    _locks: dict[str, threading.Lock] = {}
    _registry_lock = threading.Lock()

    def __init__(self, token: str | None = None):
        self.token = token or uuid.uuid4().hex
        with self._registry_lock:
            self.lock = self._locks.setdefault(self.token, threading.Lock())

    def acquire(self, *args: Any, **kwargs: Any) -> bool:
        return self.lock.acquire(*args, **kwargs)

    def release(self) -> None:
        self.lock.release()

    def __enter__(self) -> SerializableLock:
        self.lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.lock.release()

    def __reduce__(self):
        return (SerializableLock, (self.token,))

    def __repr__(self) -> str:
        return f"<SerializableLock {self.token[:8]}>"


def normalize_lock(lock: Any) -> Any:
    if lock is True:
        return SerializableLock()
    if lock is False or lock is None:
        return None
    if not (hasattr(lock, "__enter__") and hasattr(lock, "__exit__")):
        raise TypeError(
            f"store: lock must be True, False or a lock object (with __enter__/__exit__), "
            f"got {type(lock).__name__}"
        )
    return lock
