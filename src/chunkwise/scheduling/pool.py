"""A process-wide pool of reusable daemon threads that never makes a job wait.

The threaded scheduler hands each computation's worker loops to this pool.
When no thread is idle, a new one starts: a task that itself calls
``.compute()`` (a nested computation) therefore always finds threads for its
own workers and cannot deadlock waiting for its parent's. Idle threads beyond
``max_idle`` exit, so bursts of nesting do not leave threads behind.

>>> import threading
>>> done = threading.Event()
>>> default_pool().submit(done.set)
>>> done.wait(5)
True
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from queue import SimpleQueue

from chunkwise.system import cpu_count

__all__ = ["ThreadPool", "default_pool"]


class ThreadPool:
    """Daemon threads taking jobs from one queue; every job is matched to a thread."""

    def __init__(self, max_idle: int | None = None, name: str = "chunkwise-worker"):
        self.max_idle = max_idle if max_idle is not None else 2 * cpu_count() + 2
        self.name = name
        self._jobs: SimpleQueue = SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job and not yet promised one
        self._count = 0

    @property
    def num_threads(self) -> int:
        """Threads alive in the pool now."""
        return self._count

    def submit(self, job: Callable[[], object]) -> None:
        """Run ``job()`` in a pool thread; starts a thread when none is idle."""
        with self._lock:
            if self._idle > 0:
                self._idle -= 1  # promise one idle thread to this job
                start = False
            else:
                self._count += 1
                start = True
        self._jobs.put(job)
        if start:
            thread = threading.Thread(
                target=self._run, name=f"{self.name}-{self._count}", daemon=True
            )
            thread.start()

    def _run(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            with contextlib.suppress(BaseException):  # jobs report their own errors
                job()
            job = None
            with self._lock:
                if self._idle >= self.max_idle:
                    self._count -= 1
                    return
                self._idle += 1


_default: ThreadPool | None = None
_default_lock = threading.Lock()


def default_pool() -> ThreadPool:
    """The process-wide pool shared by all threaded computations."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = ThreadPool()
    return _default


def _reset_after_fork() -> None:
    global _default
    _default = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
