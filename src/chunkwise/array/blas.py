"""BLAS threads inside chunkwise tasks: one BLAS thread per worker thread while several run.

BLAS libraries (OpenBLAS, MKL) start their own threads; with the scheduler's
worker threads each calling BLAS, the two pools oversubscribe the cores (a
chunked matmul ran ~30% faster with BLAS limited to one thread per worker,
and a per-block QR about 2x faster on a loaded 2-core machine). Tasks that
call BLAS run inside :func:`one_blas_thread`: the first such task lowers
BLAS to one thread (through ``threadpoolctl`` when it is installed; nothing
happens otherwise, or when only one thread runs), the last one restores the
original setting. OpenBLAS sometimes drops a limit set while its pool winds
down from another thread's call, so every :func:`one_blas_thread` block
re-checks the limit on entry, and :func:`enforce_one_blas_thread` re-checks it
before each call where a kernel makes several.

>>> with one_blas_thread():
...     pass
"""

from __future__ import annotations

import contextlib
import functools
import threading
from typing import Any

__all__ = ["blas_libraries", "enforce_one_blas_thread", "one_blas_thread"]


@functools.cache
def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    try:
        return ThreadpoolController()
    except Exception:  # pragma: no cover - a broken BLAS discovery must not break matmul
        return None


@functools.cache
def blas_libraries() -> tuple:
    """The BLAS libraries' controllers (``get_num_threads``/``set_num_threads``)."""
    controller = _blas_controller()
    if controller is None:
        return ()
    try:
        return tuple(controller.select(user_api="blas").lib_controllers)
    except Exception:  # pragma: no cover
        return ()


def enforce_one_blas_thread() -> None:
    """Set BLAS back to one thread if it is not (while a limit is held).

    OpenBLAS sometimes ignores a ``set_num_threads`` call made while its
    thread pool is winding down from another thread's call, so the limit taken
    by :func:`one_blas_thread` is checked again before each product (a cheap
    call) instead of trusted.
    """
    if _blas_users:
        for lib in blas_libraries():
            try:
                if lib.get_num_threads() != 1:
                    lib.set_num_threads(1)
            except Exception:  # pragma: no cover
                pass


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread while other threads may run tasks too.

    BLAS thread counts are process-wide, so the limit is taken by the first
    task that needs it and restored when the last one finishes. Nothing happens
    without ``threadpoolctl`` or when this is the only thread running.
    """
    global _blas_users, _blas_limiter
    controller = _blas_controller()
    if controller is None or threading.active_count() == 1:
        yield
        return
    with _blas_lock:
        if _blas_users == 0:
            _blas_limiter = controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        enforce_one_blas_thread()
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
