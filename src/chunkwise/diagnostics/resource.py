"""Sample this process's memory and CPU use while computations run.

:class:`ResourceProfiler` starts a background thread that samples resident
memory (MB) and CPU percent with ``psutil`` every ``dt`` seconds. As a
registered callback it samples from the start to the end of each
computation; in a ``with`` block it covers the whole block. The thread is
joined when sampling stops, so none is left behind.

>>> from chunkwise.scheduling import get
>>> from chunkwise.core.graph import Task, DataNode, Ref
>>> graph = {"a": DataNode("a", 1), "b": Task("b", abs, Ref("a"))}
>>> with ResourceProfiler(dt=0.01) as rprof:
...     get(graph, "b", scheduler="sync")
1
>>> len(rprof.results) >= 2, rprof.peak_memory > 0
(True, True)
"""

from __future__ import annotations

import threading
import time
from collections import namedtuple

from chunkwise.diagnostics.profile import new_figure, save_figure
from chunkwise.scheduling.callbacks import Callback

__all__ = ["ResourceData", "ResourceProfiler"]

ResourceData = namedtuple("ResourceData", ["time", "mem", "cpu"])
ResourceData.__doc__ = """One sample: ``time.perf_counter()`` seconds, resident memory in MB
(10**6 bytes) and CPU percent (100 per fully busy core)."""


def _import_psutil():
    try:
        import psutil
    except ImportError:
        raise ImportError("ResourceProfiler needs psutil: pip install psutil") from None
    return psutil


class _Sampler:
    """The sampling thread: one sample at once, every ``dt`` seconds, and one at stop."""

    def __init__(self, dt: float, results: list):
        psutil = _import_psutil()
        self.dt = dt
        self.results = results
        self.process = psutil.Process()
        self.process.cpu_percent()  # the first call only sets the reference point
        self.stop_event = threading.Event()
        self.sample()
        self.thread = threading.Thread(
            target=self._run, name="chunkwise-resource-profiler", daemon=True
        )
        self.thread.start()

    def sample(self) -> None:
        process = self.process
        with process.oneshot():
            mem = process.memory_info().rss / 1e6
            cpu = process.cpu_percent()
        self.results.append(ResourceData(time.perf_counter(), mem, cpu))

    def _run(self) -> None:
        while not self.stop_event.wait(self.dt):
            try:
                self.sample()
            except Exception:  # the process is ours; but never let sampling fail loudly
                return

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not threading.current_thread():
            self.thread.join()
        self.sample()


class ResourceProfiler(Callback):
    """Sample memory and CPU use of this process during computations.

    Parameters
    ----------
    dt
        Seconds between samples.

    Only this process is measured: with the ``processes`` scheduler, the
    worker processes' own memory and CPU are not included.

    ``results`` is a list of :class:`ResourceData`; entering a ``with`` block
    clears it, :meth:`register` keeps adding to it.
    """

    def __init__(self, dt: float = 1.0):
        super().__init__()
        if not dt > 0:
            raise ValueError(f"ResourceProfiler: dt must be positive, got {dt}")
        self._dt = float(dt)
        self.results: list[ResourceData] = []
        self._sampler: _Sampler | None = None
        self._entered = False
        self._depth = 0
        self._lock = threading.Lock()

    def _start_sampling(self) -> None:
        with self._lock:
            if self._sampler is None:
                self._sampler = _Sampler(self._dt, self.results)

    def _stop_sampling(self) -> None:
        with self._lock:
            sampler, self._sampler = self._sampler, None
        if sampler is not None:
            sampler.stop()

    @property
    def running(self) -> bool:
        """Whether the sampling thread is running now."""
        sampler = self._sampler
        return sampler is not None and sampler.thread.is_alive()

    def __enter__(self):
        self.clear()
        self._start_sampling()
        self._entered = True
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            super().__exit__(*exc)
        finally:
            self._entered = False
            self._stop_sampling()

    def _start(self, graph) -> None:
        with self._lock:
            self._depth += 1
        self._start_sampling()

    def _finish(self, graph, state, errored) -> None:
        with self._lock:
            self._depth = max(self._depth - 1, 0)
            last = self._depth == 0
        if last and not self._entered:
            self._stop_sampling()

    def close(self) -> None:
        """Stop sampling now."""
        self._stop_sampling()

    def clear(self) -> None:
        """Forget all samples."""
        self.results = []
        with self._lock:
            if self._sampler is not None:
                self._sampler.results = self.results

    @property
    def peak_memory(self) -> float | None:
        """The largest resident memory sampled, in MB; None before any sample."""
        if not self.results:
            return None
        return max(r.mem for r in self.results)

    def visualize(self, filename: str | None = "resources.html"):
        """Plot memory (MB) and CPU (%) against time with matplotlib.

        ``filename`` ending in ``.html`` writes a self-contained page with the
        plot as inline SVG; ``.png``, ``.svg`` or ``.pdf`` write the image.
        Returns the filename, or the matplotlib Figure when ``filename`` is None.
        """
        results = list(self.results)
        fig = new_figure(10, 3.5)
        ax_mem = fig.add_subplot()
        ax_mem.set_xlabel("time (s)")
        ax_mem.set_ylabel("memory (MB)", color="tab:blue")
        ax_mem.set_title("Memory and CPU")
        ax_cpu = ax_mem.twinx()
        ax_cpu.set_ylabel("CPU (%)", color="tab:red")
        if results:
            origin = results[0].time
            times = [r.time - origin for r in results]
            ax_mem.plot(times, [r.mem for r in results], color="tab:blue", label="memory")
            ax_cpu.plot(times, [r.cpu for r in results], color="tab:red", label="CPU")
            ax_mem.set_ylim(bottom=0)
            ax_cpu.set_ylim(bottom=0)
        else:
            ax_mem.text(0.5, 0.5, "no samples", ha="center", va="center",
                        transform=ax_mem.transAxes)
        if filename is None:
            return fig
        peak = self.peak_memory
        extra = f"<p>Peak memory: {peak:.1f} MB</p>" if peak is not None else ""
        return save_figure(fig, filename, "chunkwise resource use", extra)
