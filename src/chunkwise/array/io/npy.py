"""``to_npy_stack`` / ``from_npy_stack``: one ``.npy`` file per block along one axis.

The layout is Dask's: a directory of ``0.npy``, ``1.npy``, ... plus an
``info`` file (a pickle of chunks, dtype and axis). Each file is written to a
temporary name and renamed into place; ``info`` is removed first and written
last, so an interrupted write is detected when read (:func:`from_npy_stack`
refuses a directory without ``info``). Reading memory-maps the files.
"""

from __future__ import annotations

import os
import pickle
import uuid
from collections.abc import Hashable
from typing import Any

import numpy as np

from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.io.blocks import to_delayed
from chunkwise.base import compute
from chunkwise.core.graph import Task
from chunkwise.delayed import delayed

__all__ = ["FromNpyStack", "from_npy_stack", "to_npy_stack"]


def _order_array_first(args: tuple, opname: str) -> tuple:
    """``(array, *others)`` from arguments in either order (dask's module order puts it last)."""
    arrays = [i for i, a in enumerate(args) if isinstance(a, Array)]
    if not arrays:
        raise TypeError(f"{opname}: no chunkwise array among the arguments")
    i = arrays[0]
    return (args[i], *args[:i], *args[i + 1:])


def _write_npy(block: np.ndarray, path: str) -> None:
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        with open(tmp, "wb") as f:
            np.save(f, block, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def to_npy_stack(*args: Any, axis: int = 0, **kwargs: Any) -> None:
    """Write ``x`` as a directory of ``.npy`` files, one per block along ``axis``.

    Call as ``to_npy_stack(dirname, x, axis=0)`` (Dask's order) or
    ``to_npy_stack(x, dirname)``. ``x`` is rechunked to whole blocks on the
    other axes. The ``info`` file (a pickle of chunks, dtype and axis, as Dask
    writes it) is removed first and written last; each ``.npy`` is written to a
    temporary file and renamed, so readers never see a half-written file.
    Keywords go to ``compute``.

    >>> import numpy as np, tempfile
    >>> import chunkwise.array as da
    >>> d = tempfile.mkdtemp()
    >>> to_npy_stack(d, da.from_array(np.arange(10), chunks=4))
    >>> sorted(os.listdir(d))
    ['0.npy', '1.npy', '2.npy', 'info']
    >>> from_npy_stack(d).compute().tolist() == list(range(10))
    True
    """
    if len(args) != 2:
        raise TypeError("to_npy_stack takes (dirname, x) or (x, dirname)")
    x, dirname = _order_array_first(args, "to_npy_stack")
    dirname = os.fspath(dirname)
    if x.ndim == 0:
        raise ValueError("to_npy_stack: needs an array with at least one axis, got a 0-d array")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"to_npy_stack: axis {axis} is out of bounds for an array of {x.ndim} dimensions")
    axis = axis % x.ndim
    check_known_chunks("to_npy_stack", x)
    chunks = tuple(c if i == axis else (sum(c),) for i, c in enumerate(x.chunks))
    x = x.rechunk(chunks) if chunks != x.chunks else x
    os.makedirs(dirname, exist_ok=True)
    info_path = os.path.join(dirname, "info")
    if os.path.exists(info_path):
        os.remove(info_path)
    blocks = to_delayed(x).reshape(-1)  # one block per position along ``axis``
    writes = [
        delayed(_write_npy, pure=False)(block, os.path.join(dirname, f"{i}.npy"))
        for i, block in enumerate(blocks)
    ]
    compute(*writes, **kwargs)
    meta = {"chunks": x.chunks, "dtype": x.dtype, "axis": axis}
    tmp = f"{info_path}.tmp-{uuid.uuid4().hex[:12]}"
    with open(tmp, "wb") as f:
        pickle.dump(meta, f)
    os.replace(tmp, info_path)


class FromNpyStack(ArrayExpr):
    """Blocks loaded from the ``.npy`` files of a stack written by :func:`to_npy_stack`."""

    _parameters = ("dirname", "chunks_", "dtype_", "axis", "mmap_mode")

    def _chunks(self) -> tuple:
        return self.chunks_

    def _dtype(self) -> Any:
        return self.dtype_

    def _task(self, key: Hashable) -> Task:
        path = os.path.join(self.dirname, f"{key[1 + self.axis]}.npy")
        return Task(key, np.load, path, self.mmap_mode)


def from_npy_stack(dirname: Any, mmap_mode: str | None = "r") -> Array:
    """The array stored by :func:`to_npy_stack` in ``dirname`` (memory-mapped by default).

    The ``info`` file is a pickle, as Dask writes it: read only stacks you trust.
    See :func:`to_npy_stack` for an example.
    """
    dirname = os.fspath(dirname)
    info_path = os.path.join(dirname, "info")
    if not os.path.exists(info_path):
        raise FileNotFoundError(
            f"from_npy_stack: {dirname} has no 'info' file: it is not an npy stack, or its "
            "writing did not finish"
        )
    with open(info_path, "rb") as f:
        info = pickle.load(f)
    chunks = tuple(tuple(int(c) for c in axis_chunks) for axis_chunks in info["chunks"])
    return Array(FromNpyStack(dirname, chunks, np.dtype(info["dtype"]), int(info["axis"]), mmap_mode))
