"""chunkwise: lazy chunked arrays, dataframes and delayed functions on data larger than memory.

>>> import chunkwise
>>> from chunkwise import delayed
>>> parts = [delayed(sum)(range(i * 10, (i + 1) * 10)) for i in range(4)]
>>> chunkwise.compute(delayed(max)(parts), delayed(sum)(parts))
(345, 780)
"""

from chunkwise import config
from chunkwise.base import compute, persist
from chunkwise.delayed import Delayed, delayed
from chunkwise.scheduling import get
from chunkwise.scheduling.callbacks import Callback
from chunkwise.tokenize_backends import register_lazily

register_lazily()  # tokens of NumPy/pandas/pyarrow objects, loaded when first seen
del register_lazily

__version__ = "0.1.0"

__all__ = [
    "Callback",
    "Delayed",
    "compute",
    "config",
    "delayed",
    "get",
    "persist",
    "visualize",
]


def visualize(*collections, filename="mydask", format=None, **kwargs):
    """Draw the task graph of one or more collections (or a graph dict) with graphviz."""
    from chunkwise.diagnostics import visualize as draw

    if len(collections) == 1:
        return draw(collections[0], filename=filename, format=format, **kwargs)
    from chunkwise.base import graph_of

    graph, _ = graph_of(list(collections), kwargs.pop("optimize_graph", True))
    return draw(graph, filename=filename, format=format, **kwargs)
