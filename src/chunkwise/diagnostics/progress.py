"""A progress bar for computations: text in a terminal, a widget in Jupyter.

The bar costs the computation almost nothing: ``posttask`` only bumps a
counter, and a background daemon thread redraws at most every ``dt`` seconds
(never faster than ten times a second). The thread starts with the computation
and is joined when it finishes, also after an error.

>>> import io
>>> from chunkwise.scheduling import get
>>> from chunkwise.core.graph import Task, DataNode, Ref
>>> graph = {"a": DataNode("a", 1), "b": Task("b", abs, Ref("a"))}
>>> out = io.StringIO()
>>> with ProgressBar(out=out):
...     get(graph, "b", scheduler="sync")
1
>>> print(out.getvalue().split("\\r")[-1].strip())  # doctest: +ELLIPSIS
[########################################] | 100% Completed | ...s elapsed
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from chunkwise.scheduling.callbacks import Callback

__all__ = ["ProgressBar", "format_time"]

_MIN_DT = 0.1


def format_time(seconds: float) -> str:
    """Seconds as a short human string.

    >>> format_time(1.234), format_time(75), format_time(3725)
    ('1.2s', '1m 15s', '1h 2m')
    """
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m"


def _in_notebook() -> bool:
    """Whether we run in a Jupyter (IPython kernel) session."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


class _TextDisplay:
    """Draws ``[####    ] | 50% Completed | 1.2s elapsed, ETA 1.2s`` with ``\\r``."""

    def __init__(self, out, width: int):
        self.out = out
        self.width = width
        self._last_len = 0

    def _write(self, line: str) -> None:
        out = self.out if self.out is not None else sys.stdout
        padding = " " * max(self._last_len - len(line), 0)
        self._last_len = len(line)
        out.write("\r" + line + padding)
        flush = getattr(out, "flush", None)
        if flush is not None:
            flush()

    def _bar(self, fraction: float) -> str:
        filled = int(self.width * fraction)
        return "[" + "#" * filled + " " * (self.width - filled) + "]"

    def update(self, fraction: float, elapsed: float) -> None:
        if fraction > 0:
            eta = format_time(elapsed * (1 - fraction) / fraction)
        else:
            eta = "?"
        percent = int(100 * fraction)
        self._write(
            f"{self._bar(fraction)} | {percent:3d}% Completed | "
            f"{format_time(elapsed)} elapsed, ETA {eta}"
        )

    def close(self, fraction: float, elapsed: float, errored: bool) -> None:
        percent = int(100 * fraction)
        status = "Failed after" if errored else "Completed |"
        if errored:
            line = f"{self._bar(fraction)} | {percent:3d}% {status} {format_time(elapsed)}"
        else:
            line = f"{self._bar(fraction)} | {percent:3d}% {status} {format_time(elapsed)} elapsed"
        self._write(line)
        out = self.out if self.out is not None else sys.stdout
        out.write("\n")
        flush = getattr(out, "flush", None)
        if flush is not None:
            flush()


class _WidgetDisplay:
    """An ``ipywidgets.IntProgress`` with a label, for Jupyter."""

    _STEPS = 1000

    def __init__(self, ipywidgets):
        self.bar = ipywidgets.IntProgress(min=0, max=self._STEPS, value=0)
        self.label = ipywidgets.HTML(value="")
        self.box = ipywidgets.HBox([self.bar, self.label])
        self._shown = False

    def _show(self) -> None:
        if not self._shown:
            self._shown = True
            _display(self.box)

    def update(self, fraction: float, elapsed: float) -> None:
        self._show()
        self.bar.value = int(self._STEPS * fraction)
        eta = format_time(elapsed * (1 - fraction) / fraction) if fraction > 0 else "?"
        self.label.value = (
            f"{int(100 * fraction)}% | {format_time(elapsed)} elapsed, ETA {eta}"
        )

    def close(self, fraction: float, elapsed: float, errored: bool) -> None:
        self._show()
        self.bar.value = int(self._STEPS * fraction)
        if errored:
            self.bar.bar_style = "danger"
            self.label.value = f"{int(100 * fraction)}% | failed after {format_time(elapsed)}"
        else:
            self.bar.bar_style = "success"
            self.label.value = f"100% | {format_time(elapsed)} elapsed"


class ProgressBar(Callback):
    """Show the progress of computations.

    Use it in a ``with`` block, or call :meth:`register` to show a bar for
    every computation until :meth:`unregister`.

    Parameters
    ----------
    minimum
        Show nothing for computations that finish within this many seconds.
    width
        Width of the text bar, in characters.
    dt
        Seconds between redraws; at least 0.1.
    out
        File to write the text bar to (default ``sys.stdout``, looked up when
        drawing). In Jupyter, with ``out`` unset and ``ipywidgets``
        installed, a widget is shown instead.

    After a computation, ``last_duration`` holds its wall time in seconds.
    """

    def __init__(self, minimum: float = 0, width: int = 40, dt: float = 0.1, out=None):
        super().__init__()
        if width < 1:
            raise ValueError(f"ProgressBar: width must be at least 1, got {width}")
        self._minimum = minimum
        self._width = width
        self._dt = max(float(dt), _MIN_DT)
        self._out = out
        self._done = 0
        self._total = 0
        self._state = None
        self._depth = 0
        self._display = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._start_time = 0.0
        self.last_duration: float | None = None

    # --- hooks ---------------------------------------------------------------

    def _start(self, graph) -> None:
        self._depth += 1
        if self._depth > 1:  # a computation inside a task: the outer bar covers it
            return
        self._done = 0
        self._total = len(graph)
        self._state = None
        self._display = None
        self._start_time = time.perf_counter()
        self._stop = threading.Event()
        self._timer = threading.Thread(
            target=self._run_timer, args=(self._stop,), name="chunkwise-progress", daemon=True
        )
        self._timer.start()

    def _start_state(self, graph, state) -> None:
        if self._depth == 1:
            self._state = state

    def _posttask(self, key, result, graph, state, worker_id) -> None:
        self._done += 1

    def _finish(self, graph, state, errored) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        self._depth = 0
        self._stop.set()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join()
        self._timer = None
        elapsed = time.perf_counter() - self._start_time
        self.last_duration = elapsed
        if elapsed < self._minimum:
            return
        fraction = self._fraction() if errored else 1.0
        display = self._get_display()
        display.close(fraction, elapsed, errored)

    # --- drawing -------------------------------------------------------------

    def _fraction(self) -> float:
        done = self._done
        total = self._total
        state = self._state
        if state is not None:
            total = getattr(state, "num_tasks", total) or total
            # The scheduler's own count is exact; ours may drop an increment
            # when two threads race, which only matters for display.
            done = max(done, getattr(state, "num_done", 0) or 0)
        if total <= 0:
            return 1.0
        return min(done / total, 1.0)

    def _get_display(self):
        if self._display is None:
            ipywidgets = None
            if self._out is None and _in_notebook():
                try:
                    import ipywidgets
                except ImportError:
                    ipywidgets = None
            if ipywidgets is not None:
                self._display = _WidgetDisplay(ipywidgets)
            else:
                self._display = _TextDisplay(self._out, self._width)
        return self._display

    def _run_timer(self, stop: threading.Event) -> None:
        while not stop.wait(self._dt):
            elapsed = time.perf_counter() - self._start_time
            if elapsed >= self._minimum:
                try:
                    self._get_display().update(self._fraction(), elapsed)
                except Exception:  # a closed stream must not kill the computation
                    return
