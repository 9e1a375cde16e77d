"""``chunkwise.array.lib.stride_tricks``: ``sliding_window_view``, as in ``numpy.lib.stride_tricks``.

>>> import numpy as np
>>> import chunkwise.array as da
>>> da.lib.stride_tricks.sliding_window_view(da.from_array(np.arange(4), chunks=2), 2).compute().tolist()
[[0, 1], [1, 2], [2, 3]]
"""

from chunkwise.array.gufunc import sliding_window_view

__all__ = ["sliding_window_view"]
