"""``to_hdf5``: write arrays to datasets of an HDF5 file (h5py, an optional dependency).

The datasets are created (or reused) with ``require_dataset`` and written by
:func:`~chunkwise.array.io.store.store` under a lock (HDF5 is not thread
safe). A new file is written under a hidden sibling name and renamed into
place at the end; in an existing file, or one handed in open, each dataset
carries the attribute ``chunkwise_incomplete`` until every block has landed
(:mod:`~chunkwise.array.io.atomic`). Read HDF5 back with
``from_array(h5py_dataset, lock=True)``, which refuses a marked dataset.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray
from chunkwise.array.io.atomic import INCOMPLETE_ATTRIBUTE, incomplete_note, sibling_path
from chunkwise.array.io.store import COMPUTE_KEYWORDS, store

__all__ = ["to_hdf5"]


def to_hdf5(*args: Any, chunks: Any = True, **kwargs: Any) -> None:
    """Write arrays to datasets of an HDF5 file (h5py), creating or reusing the datasets.

    Call as ``to_hdf5(filename, "/x", x)``, ``to_hdf5(filename, {"/x": x, "/y": y})``
    (Dask's orders) or ``to_hdf5(x, filename, "/x")`` (what ``x.to_hdf5`` does).
    ``chunks=True`` gives HDF5 chunks equal to the array's largest block; other
    keywords (``compression=``...) go to ``h5py.File.require_dataset``. Writes are
    serialized by a lock (HDF5 is not thread safe). Read back with
    ``from_array(h5py.File(filename)["/x"], lock=True)``. ``filename`` may also be
    an open ``h5py.File`` or group.

    A write that fails never leaves a file that looks complete: a new file is
    written under a hidden temporary name and renamed into place at the end
    (removed after a failure); in an existing file (or one handed in open),
    each dataset carries the attribute ``chunkwise_incomplete`` until every
    block has landed.

    >>> import numpy as np, h5py, tempfile, os
    >>> import chunkwise.array as da
    >>> path = os.path.join(tempfile.mkdtemp(), "data.h5")
    >>> to_hdf5(path, "/x", da.from_array(np.arange(6.0), chunks=4))
    >>> with h5py.File(path, "r") as f:
    ...     f["/x"][:].tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    try:
        import h5py
    except ImportError:
        raise ImportError(
            "h5py is needed for to_hdf5: pip install 'chunkwise[hdf5]' (or pip install h5py)"
        ) from None
    if args and isinstance(args[0], Array):
        if len(args) != 3:
            raise TypeError("to_hdf5: call as x.to_hdf5(filename, datapath)")
        x, filename, datapath = args
        data = {datapath: x}
    elif len(args) == 2 and isinstance(args[1], dict):
        filename, data = args
    elif len(args) == 3:
        filename, datapath, x = args
        data = {datapath: x}
    else:
        raise TypeError("to_hdf5: call as to_hdf5(filename, datapath, x) or to_hdf5(filename, {datapath: x})")
    data = {path: asarray(value) for path, value in data.items()}
    for path, value in data.items():
        check_known_chunks("to_hdf5", value, what=f"the array for {path!r}")
    compute_kwargs = {k: kwargs.pop(k) for k in COMPUTE_KEYWORDS if k in kwargs}

    def write(f: Any, mark: bool) -> None:
        datasets = []
        for path, value in data.items():
            shape = tuple(int(s) for s in value.shape)
            if chunks is True:
                h5chunks = tuple(max(1, int(c)) for c in value.chunksize) if shape and all(shape) else None
            else:
                h5chunks = chunks
            datasets.append(f.require_dataset(path, shape=shape, dtype=value.dtype, chunks=h5chunks, **kwargs))
        if mark:
            note = incomplete_note("to_hdf5")
            for dataset in datasets:
                dataset.attrs[INCOMPLETE_ATTRIBUTE] = note
        store(list(data.values()), datasets, lock=True, **compute_kwargs)
        if mark:
            for dataset in datasets:
                del dataset.attrs[INCOMPLETE_ATTRIBUTE]

    if isinstance(filename, (h5py.File, h5py.Group)):  # the user's open file: mark, write, unmark
        write(filename, mark=True)
        return
    filename = os.fspath(filename)
    if os.path.exists(filename):  # other datasets live there: mark, write, unmark
        with h5py.File(filename, mode="a") as f:
            write(f, mark=True)
        return
    # a new file: written aside, renamed into place once complete
    tmp = sibling_path(os.path.abspath(filename), "writing")
    try:
        with h5py.File(tmp, mode="w") as f:
            write(f, mark=False)
        if os.path.exists(filename):
            raise FileExistsError(f"to_hdf5: {filename} was created by someone else while this write ran")
        os.replace(tmp, filename)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise

