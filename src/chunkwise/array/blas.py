"""BLAS threads inside chunkwise tasks: one BLAS thread per worker thread while several run.

BLAS libraries (OpenBLAS, MKL) start their own threads; with the scheduler's
worker threads each calling BLAS, the two pools oversubscribe the cores (a
chunked matmul ran ~30% faster with BLAS limited to one thread per worker,
and a per-block QR about 2x faster on a loaded 2-core machine).

The limit is one process-wide hold with a count of holders, under a lock:
the first holder lowers BLAS to one thread (through ``threadpoolctl`` when it
is installed; nothing happens otherwise), the last one to leave restores the
setting the first one found. Two kinds of holders:

- a compute on the local threads scheduler holds the limit from start to
  finish, taken and restored in the thread that called ``compute`` through
  the scheduler's ``start_state``/``finish`` hooks (a
  :class:`~chunkwise.scheduling.callbacks.Callback` registered at import;
  ``finish`` runs after a failed compute too);
- a task that calls BLAS runs inside :func:`one_blas_thread`; inside a
  threaded compute that only counts, elsewhere (``distributed`` workers, a
  user's own threads) the first such task takes the limit.

Why the compute holds it: OpenBLAS's pthreads builds (0.3.30 and 0.3.31, the
numpy and scipy wheels) silently ignore ``openblas_set_num_threads`` called
from any thread but the main one (as observed: a fresh thread's call changes
nothing), so a limit taken by the first task to run was a no-op in the
computes whose first BLAS task ran on a worker thread (about half), and a
restore from a worker left the user's setting at one thread after the
compute. A limit taken task by task would also toggle between tasks while
other tasks run BLAS.

>>> with one_blas_thread():
...     pass
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
from typing import Any

from chunkwise.scheduling.callbacks import Callback

__all__ = ["blas_libraries", "blas_threads_held", "one_blas_thread"]


@functools.cache
def _blas_controller(scipy_loaded: bool = False) -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    try:
        return ThreadpoolController()
    except Exception:  # pragma: no cover - a broken BLAS discovery must not break matmul
        return None


def _scipy_loaded() -> bool:
    # scipy's wheel bundles its own OpenBLAS, loaded with scipy.linalg: a controller built
    # before that import would never limit it, so there is one controller per state
    return "scipy.linalg" in sys.modules


def _controller() -> Any:
    return _blas_controller(_scipy_loaded())


def blas_libraries() -> tuple:
    """The BLAS libraries' controllers (``get_num_threads``/``set_num_threads``)."""
    return _libraries(_scipy_loaded())


@functools.cache
def _libraries(scipy_loaded: bool) -> tuple:
    controller = _blas_controller(scipy_loaded)
    if controller is None:
        return ()
    try:
        return tuple(controller.select(user_api="blas").lib_controllers)
    except Exception:  # pragma: no cover
        return ()


_lock = threading.Lock()
_holders = 0  # running threaded computes + tasks inside one_blas_thread
_limiter: Any = None
_counted: set = set()  # ids of the running threaded computes' scheduler states


def blas_threads_held() -> bool:
    """Whether the one-BLAS-thread limit is held now (by a running threaded compute or a task)."""
    return _holders > 0


def _acquire(controller: Any) -> None:
    global _holders, _limiter
    if _holders == 0:
        _limiter = controller.limit(limits=1, user_api="blas")
    _holders += 1


def _release() -> None:
    global _holders, _limiter
    _holders -= 1
    if _holders == 0 and _limiter is not None:
        _limiter.restore_original_limits()
        _limiter = None


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread while other threads may run tasks too.

    BLAS thread counts are process-wide: the first holder sets the limit and
    the last one restores it; inside a threaded compute the compute holds it
    already (see the module docstring). Nothing happens without
    ``threadpoolctl`` or when this is the only thread running.
    """
    controller = _controller()
    if controller is None or threading.active_count() == 1:
        yield
        return
    with _lock:
        _acquire(controller)
    try:
        yield
    finally:
        with _lock:
            _release()


def _compute_started(graph: Any, state: Any) -> None:
    if getattr(state, "num_workers", 1) <= 1:
        return
    controller = _controller()
    if controller is None:
        return
    with _lock:
        _acquire(controller)
        _counted.add(id(state))


def _compute_finished(graph: Any, state: Any, errored: bool) -> None:
    with _lock:
        if id(state) in _counted:
            _counted.discard(id(state))
            _release()


_hooks = Callback(start_state=_compute_started, finish=_compute_finished)
_hooks.register()
