"""Diagnostics: progress bars, profilers and graph drawings.

- :class:`ProgressBar` -- a text bar in a terminal, a widget in Jupyter;
- :class:`Profiler` -- when each task ran and on which worker, with a task
  stream plot;
- :class:`ResourceProfiler` -- memory and CPU use sampled over time;
- :func:`visualize` and :func:`to_dot` -- draw a task graph with Graphviz.

All are callbacks of the local schedulers (see
:mod:`chunkwise.scheduling.callbacks`); use them in a ``with`` block or
``register()`` them. See ``docs/diagnostics.md`` for a guide.
"""

from chunkwise.diagnostics.graphviz import to_dot, visualize
from chunkwise.diagnostics.profile import Profiler, TaskData
from chunkwise.diagnostics.progress import ProgressBar
from chunkwise.diagnostics.resource import ResourceData, ResourceProfiler

__all__ = [
    "ProgressBar",
    "Profiler",
    "ResourceData",
    "ResourceProfiler",
    "TaskData",
    "to_dot",
    "visualize",
]
