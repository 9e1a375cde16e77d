"""``chunkwise.array.linalg``: linear algebra on chunked arrays (NumPy's and the Array API's ``linalg``).

Import it as ``chunkwise.array.linalg`` (``da.linalg``). Every name follows
``numpy.linalg`` (and ``dask.array.linalg`` for ``tsqr``/``svd_compressed``);
how each one uses the chunks:

- ``qr``, ``svd``, ``svdvals``: TSQR for tall-and-skinny matrices (row
  chunks, one column chunk), the transpose for short-and-fat ones, NumPy per
  matrix for stacks of one-chunk matrices (:mod:`.decompositions`);
- ``svd_compressed``: a seeded randomized SVD of any chunking;
- ``matmul``, ``tensordot``, ``vecdot``: the chunked contractions of
  :mod:`chunkwise.array.contraction`.

Modules: ``decompositions`` (QR, SVD), ``plan`` (the plan nodes: calls on
one-chunk matrices, the TSQR tree).

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.eye(6)[:, :3] * 2, chunks=(2, 3))
>>> da.linalg.svd(x, full_matrices=False).S.compute()
array([2., 2., 2.])
"""

from chunkwise.array.contraction import matmul, tensordot, vecdot
from chunkwise.array.linalg.decompositions import (
    qr,
    svd,
    svd_compressed,
    svdvals,
    tsqr,
)

__all__ = [
    "matmul",
    "qr",
    "svd",
    "svd_compressed",
    "svdvals",
    "tensordot",
    "tsqr",
    "vecdot",
]


def __dir__() -> list:
    return sorted(__all__)
