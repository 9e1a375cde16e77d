"""A task profiler: when each task ran, and on which worker.

:class:`Profiler` records one :class:`TaskData` per task from the scheduler's
``pretask`` and ``posttask`` hooks, in the threads that run the tasks.
:meth:`Profiler.summary` adds up time per kind of task (the key's name
prefix) and :meth:`Profiler.visualize` draws the task stream: one row per
worker, one bar per task, coloured by key prefix.

>>> from chunkwise.scheduling import get
>>> from chunkwise.core.graph import Task, DataNode, Ref
>>> graph = {"a": DataNode("a", 1), "b": Task("b", abs, Ref("a"))}
>>> with Profiler() as prof:
...     get(graph, "b", scheduler="sync")
1
>>> sorted(t.key for t in prof.results)
['a', 'b']
>>> all(t.start_time <= t.end_time for t in prof.results)
True
"""

from __future__ import annotations

import io
import re
import time
from collections import namedtuple
from html import escape
from typing import Any

from chunkwise.scheduling.callbacks import Callback

__all__ = ["Profiler", "TaskData", "key_split"]

TaskData = namedtuple("TaskData", ["key", "task", "start_time", "end_time", "worker_id"])
TaskData.__doc__ = """One task's run: its key, graph node, start and end (``time.perf_counter()``
seconds) and the index of the worker that ran it."""

_TOKEN = re.compile(r"^[0-9a-f]{8,}$")


def key_split(key: Any) -> str:
    """The name prefix of a key: what kind of task it is.

    Tuple keys give their first part; a trailing hex token or number after a
    ``-`` is dropped.

    >>> key_split(("add-5f1e8d2a9b3c", 0, 1)), key_split("sum-aggregate-1a2b3c4d5e6f"), key_split("x")
    ('add', 'sum-aggregate', 'x')
    """
    while isinstance(key, tuple):
        if not key:
            return "()"
        key = key[0]
    if isinstance(key, bytes):
        key = key.decode(errors="replace")
    text = str(key)
    parts = text.split("-")
    while len(parts) > 1 and (_TOKEN.match(parts[-1]) or parts[-1].isdigit()):
        parts.pop()
    return "-".join(parts)


def _import_matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(
            "plotting diagnostics needs matplotlib: pip install matplotlib"
        ) from None
    return matplotlib


def new_figure(width: float, height: float):
    """A matplotlib Figure without pyplot, so no GUI backend is touched."""
    _import_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, filename: str, title: str, extra_html: str = "") -> str:
    """Write ``fig`` to ``filename``: PNG/SVG/PDF by extension, or a self-contained HTML page."""
    lower = str(filename).lower()
    if lower.endswith((".html", ".htm")):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
        svg = buffer.getvalue()
        svg = svg[svg.find("<svg") :]  # drop the XML prolog and doctype
        page = (
            "<!DOCTYPE html>\n<html>\n<head>\n<meta charset='utf-8'>\n"
            f"<title>{escape(title)}</title>\n"
            "<style>body{font-family:sans-serif;margin:1em}"
            "table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}"
            "th:first-child,td:first-child{text-align:left}</style>\n"
            f"</head>\n<body>\n<h2>{escape(title)}</h2>\n{svg}\n{extra_html}\n</body>\n</html>\n"
        )
        with open(filename, "w", encoding="utf-8") as f:
            f.write(page)
    else:
        fig.savefig(filename)
    return str(filename)


class Profiler(Callback):
    """Record the start and end time and the worker of every task.

    Entering a ``with`` block clears earlier results; :meth:`register` keeps
    adding to them. ``results`` is a list of :class:`TaskData` in the order
    the tasks finished.
    """

    def __init__(self):
        super().__init__()
        self.results: list[TaskData] = []
        self._starts: dict = {}
        self.start_time: float | None = None
        self.end_time: float | None = None

    def __enter__(self):
        self.clear()
        return super().__enter__()

    def _start(self, graph) -> None:
        if self.start_time is None:
            self.start_time = time.perf_counter()

    def _pretask(self, key, graph, state) -> None:
        self._starts[key] = time.perf_counter()

    def _posttask(self, key, result, graph, state, worker_id) -> None:
        end = time.perf_counter()
        start = self._starts.pop(key, end)
        self.results.append(TaskData(key, graph.get(key), start, end, worker_id))

    def _finish(self, graph, state, errored) -> None:
        self.end_time = time.perf_counter()
        self._starts.clear()

    def clear(self) -> None:
        """Forget all recorded tasks."""
        self.results = []
        self._starts = {}
        self.start_time = None
        self.end_time = None

    def summary(self):
        """Time spent per key prefix: a pandas DataFrame with ``count``, ``total`` and
        ``mean`` (seconds), largest total first."""
        import pandas as pd

        groups: dict[str, list[float]] = {}
        for task in self.results:
            groups.setdefault(key_split(task.key), []).append(task.end_time - task.start_time)
        rows = {
            prefix: (len(times), sum(times), sum(times) / len(times))
            for prefix, times in groups.items()
        }
        frame = pd.DataFrame.from_dict(
            rows, orient="index", columns=["count", "total", "mean"]
        ).astype({"count": "int64", "total": "float64", "mean": "float64"})
        frame.index.name = "prefix"
        return frame.sort_values("total", ascending=False, kind="stable")

    def visualize(self, filename: str | None = "profile.html", max_legend: int = 20):
        """Plot the task stream with matplotlib: a row per worker, a bar per task.

        ``filename`` ending in ``.html`` writes a self-contained page (the plot
        as inline SVG plus :meth:`summary` as a table); ``.png``, ``.svg`` or
        ``.pdf`` write the image. Returns the filename, or the matplotlib
        Figure when ``filename`` is None.
        """
        fig = self._figure(max_legend)
        if filename is None:
            return fig
        summary = self.summary()
        return save_figure(fig, filename, "chunkwise task stream", summary.to_html())

    def _figure(self, max_legend: int):
        results = list(self.results)
        workers = sorted({t.worker_id for t in results}, key=lambda w: (str(type(w)), w))
        fig = new_figure(10, 1.5 + 0.35 * max(len(workers), 1))
        ax = fig.add_subplot()
        ax.set_xlabel("time (s)")
        ax.set_ylabel("worker")
        ax.set_title("Task stream")
        if not results:
            ax.text(0.5, 0.5, "no tasks recorded", ha="center", va="center", transform=ax.transAxes)
            return fig
        origin = min(t.start_time for t in results)
        totals: dict[str, float] = {}
        for t in results:
            prefix = key_split(t.key)
            totals[prefix] = totals.get(prefix, 0.0) + (t.end_time - t.start_time)
        prefixes = sorted(totals, key=totals.get, reverse=True)
        from matplotlib import colormaps

        palette = colormaps["tab20"]
        colors = {p: palette(i % 20) for i, p in enumerate(prefixes)}
        row = {w: i for i, w in enumerate(workers)}
        by_prefix: dict[str, dict[int, list]] = {}
        for t in results:
            spans = by_prefix.setdefault(key_split(t.key), {}).setdefault(row[t.worker_id], [])
            # a minimum width keeps instant tasks visible
            spans.append((t.start_time - origin, max(t.end_time - t.start_time, 1e-6)))
        for prefix in prefixes:
            for r, spans in by_prefix[prefix].items():
                ax.broken_barh(
                    spans, (r - 0.4, 0.8), facecolors=colors[prefix],
                    label=prefix if r == min(by_prefix[prefix]) else None,
                )
        ax.set_yticks(range(len(workers)), [str(w) for w in workers])
        ax.set_ylim(-0.6, len(workers) - 0.4)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles[:max_legend], labels[:max_legend], loc="upper left",
                      bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
        return fig
