"""Storage: write arrays block by block, read them back, and hand blocks to ``delayed``.

One module per concern; this package re-exports their public names, so
``chunkwise.array.io.X`` names what it always did. ``__all__`` lists the
functions that ``chunkwise.array`` offers users.

- :mod:`~chunkwise.array.io.store`: :func:`store` writes each block into
  anything with ``__setitem__`` (a NumPy array, a memmap, a zarr array, an
  h5py dataset): one task per block, under a lock unless told otherwise
  (:mod:`~chunkwise.array.io.locks`), at the place that
  :mod:`~chunkwise.array.io.regions` computes. A write that fails re-raises
  its own error with a note naming the block, its region and the blocks
  already written: a partial write is never silent.
- :mod:`~chunkwise.array.io.zarr_io`: :func:`to_zarr` / :func:`from_zarr`
  (zarr v3, optional): blocks rechunked to cover whole zarr chunks (or
  shards), so writes need no lock; an existing array is never replaced
  unless ``overwrite=True``, and a directory holding anything but a zarr
  store is never written into.
- :mod:`~chunkwise.array.io.zarr_chunks`: :func:`from_zarr` reads a block
  that is exactly one chunk of a plain local zarr array (bytes, then Blosc,
  Zstandard or nothing; not sharded) by hand, straight into the block through a buffer
  its thread reuses, instead of through zarr's three fresh buffers per chunk;
  :func:`to_zarr` writes such a block into the array it builds under a
  hidden name by hand too (the bytes zarr would write, on the calling thread).
- :mod:`~chunkwise.array.io.atomic`: failed writes never look complete. At a
  local path :func:`to_zarr` and :func:`to_hdf5` (new file) write under a
  hidden sibling name and rename into place when the last block has landed;
  elsewhere the array carries the attribute ``chunkwise_incomplete`` until
  then, and readers refuse it.
- :mod:`~chunkwise.array.io.npy`: :func:`to_npy_stack` /
  :func:`from_npy_stack`, one ``.npy`` file per block along one axis plus an
  ``info`` file, as Dask writes them.
- :mod:`~chunkwise.array.io.hdf5`: :func:`to_hdf5` (h5py, optional); read
  HDF5 back with ``from_array(h5py_dataset, lock=True)``.
- :mod:`~chunkwise.array.io.blocks`: :func:`to_delayed` / :func:`from_delayed`
  (blocks as ``Delayed`` values, and a ``Delayed`` value as a one-block
  array) and :func:`from_futures` (an array from a grid of ``distributed``
  futures or ``Delayed`` values; the blocks stay on the cluster).

Dependencies run one way: ``locks`` and ``regions`` and ``atomic`` need no
sibling; ``store`` uses ``locks`` and ``regions``; ``zarr_io`` and ``hdf5``
write through ``store``, and ``zarr_io`` reads through ``zarr_chunks``; ``npy`` writes through ``blocks``. (A worked example
of ``store`` is in ``store``'s docstring.)
"""

from chunkwise.array.io.atomic import INCOMPLETE_ATTRIBUTE as INCOMPLETE_ATTRIBUTE
from chunkwise.array.io.blocks import FromDelayed as FromDelayed
from chunkwise.array.io.blocks import FromFutures as FromFutures
from chunkwise.array.io.blocks import from_delayed, from_futures, to_delayed
from chunkwise.array.io.hdf5 import to_hdf5
from chunkwise.array.io.locks import SerializableLock as SerializableLock
from chunkwise.array.io.npy import FromNpyStack as FromNpyStack
from chunkwise.array.io.npy import from_npy_stack, to_npy_stack
from chunkwise.array.io.store import LoadStored as LoadStored
from chunkwise.array.io.store import StoreBlocks as StoreBlocks
from chunkwise.array.io.store import StoreDone as StoreDone
from chunkwise.array.io.store import store
from chunkwise.array.io.zarr_io import DEFAULT_ZARR_CODEC as DEFAULT_ZARR_CODEC
from chunkwise.array.io.zarr_io import INNER_CHUNK_BYTES as INNER_CHUNK_BYTES
from chunkwise.array.io.zarr_io import ReadFinished as ReadFinished
from chunkwise.array.io.zarr_io import ZarrFinish as ZarrFinish
from chunkwise.array.io.zarr_io import ZarrWrite as ZarrWrite
from chunkwise.array.io.zarr_io import default_compressors as default_compressors
from chunkwise.array.io.zarr_io import from_zarr, to_zarr
from chunkwise.array.io.zarr_io import inner_chunks as inner_chunks

# the functions ``chunkwise.array`` offers users (the other names above are the
# plan nodes and constants of the modules, importable from here as before)
__all__ = [
    "from_delayed",
    "from_futures",
    "from_npy_stack",
    "from_zarr",
    "store",
    "to_delayed",
    "to_hdf5",
    "to_npy_stack",
    "to_zarr",
]
