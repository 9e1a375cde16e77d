"""``chunkwise.array.linalg``: linear algebra on chunked arrays (NumPy's and the Array API's ``linalg``).

Import it as ``chunkwise.array.linalg`` (``da.linalg``). Names and
signatures follow ``numpy.linalg`` and the Array API's ``linalg`` extension
(``dask.array.linalg`` for ``tsqr`` and ``svd_compressed``); NumPy's own
``np.linalg.*`` functions called on chunkwise arrays dispatch here. How each
uses the chunks:

- ``qr``, ``svd``, ``svdvals``, ``lstsq``, ``pinv``, ``matrix_rank``: TSQR
  for a chunked tall-and-skinny matrix (row chunks, one column chunk;
  rechunked to that when a ``K x K`` block fits ``array.chunk_size``), the
  transpose's for a short-and-fat one (:mod:`.decompositions`,
  :mod:`.solvers`); ``qr``, ``svd``, ``svdvals``, ``lstsq`` and ``tsqr``
  also on row chunks of unknown length (``X[keep]``), as Dask's;
- ``svd_compressed``: a seeded randomized SVD of any chunking;
- ``solve``, ``inv``, ``cholesky``, ``lu``, ``det``, ``slogdet``, ``eigh``,
  ``eigvalsh``, ``eig``, ``eigvals``, ``matrix_power`` (and ``qr``/``svd`` of
  stacks): NumPy per
  matrix held in one chunk, batch-wise over chunked leading axes; a matrix
  in several chunks is rechunked to one when it fits ``array.chunk_size``
  (``cholesky`` factors a bigger 2-d matrix by blocks: :mod:`.blocked`);
- ``norm``, ``vector_norm``, ``matrix_norm``: tree reductions of any
  chunking (singular-value norms through ``svd``) (:mod:`.norms`);
- ``diagonal``, ``trace``, ``cross``, ``outer``, ``matrix_transpose``,
  ``matmul``, ``tensordot``, ``vecdot``: the Array API's forms, on the last
  axes (:mod:`.matrices` and :mod:`chunkwise.array.contraction`).

Modules: ``decompositions``, ``solvers``, ``eigen`` (``eig``/``eigvals``: always
complex, as the dtype must be known before computing), ``blocked``, ``norms``,
``matrices``, and
``plan`` (the plan nodes: calls on one-chunk matrices, the TSQR tree), and
``kernels`` (the NumPy work of one TSQR row block: its R in cache-sized
pieces, its Q as one product ``A_i @ solve(R_i, F_i)``).

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.eye(6)[:, :3] * 2, chunks=(2, 3))
>>> da.linalg.svd(x, full_matrices=False).S.compute()
array([2., 2., 2.])
"""

import numpy as _np

from chunkwise.array.contraction import matmul, outer, tensordot, vecdot
from chunkwise.array.core import implements as _implements
from chunkwise.array.linalg.decompositions import (
    qr,
    svd,
    svd_compressed,
    svdvals,
    tsqr,
)
from chunkwise.array.linalg.eigen import eig, eigvals
from chunkwise.array.linalg.matrices import cross, matrix_transpose
from chunkwise.array.linalg.matrices import linalg_diagonal as diagonal
from chunkwise.array.linalg.matrices import linalg_trace as trace
from chunkwise.array.linalg.norms import matrix_norm, norm, vector_norm
from chunkwise.array.linalg.solvers import (
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    lu,
    matrix_power,
    matrix_rank,
    pinv,
    slogdet,
    solve,
)

__all__ = [
    "cholesky",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "lstsq",
    "lu",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "matrix_transpose",
    "norm",
    "outer",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svd_compressed",
    "svdvals",
    "tensordot",
    "trace",
    "tsqr",
    "vecdot",
    "vector_norm",
]


def _register_numpy_linalg() -> None:
    """``np.linalg.f(chunkwise_array)`` runs ``f`` here (NumPy's ``__array_function__``)."""
    for name in __all__:
        numpy_function = getattr(_np.linalg, name, None)
        if numpy_function is not None and name not in ("matmul", "tensordot", "outer", "vecdot"):
            _implements(numpy_function)(globals()[name])


_register_numpy_linalg()


def __dir__() -> list:
    return sorted(__all__)
