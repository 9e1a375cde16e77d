"""``chunkwise.array.lib``: the parts of ``numpy.lib`` that chunkwise implements.

Only ``lib.stride_tricks.sliding_window_view`` (NumPy's and Dask's path to it);
the implementation is in :mod:`chunkwise.array.gufunc`.
"""

from chunkwise.array.lib import stride_tricks as stride_tricks  # the submodule, re-exported

# Nothing joins the ``chunkwise.array`` namespace from here (it exports each module's
# ``__all__``): ``da.lib`` is reached as the subpackage itself.
__all__: list = []
