"""Matrix products on chunked arrays: ``matmul`` (``@``), ``dot``, ``tensordot``, ``outer``, ``vdot``, ``inner``, ``vecdot``.

All of them are one plan node, :class:`Contraction`: output block ``(i, j)``
of ``a @ b`` is the sum over ``k`` of ``a[i, k] @ b[k, j]``. The blocks of the
contracted axes must line up, so the cheaper operand (fewer bytes) is rechunked
to the other's chunks on those axes. The sum over ``k`` is done in groups of
``SPLIT_EVERY`` products per task (accumulated in place), and the group sums
are added in a tree of the same fan-in, so no task holds more than a few blocks
however many blocks the contracted axis has. A symmetric product, ``a @ a.T``
or ``a.T @ a`` of a 2-d ``a``, computes only the blocks on and above the
diagonal; each block below it is a transposed copy of its mirror (half the
products, as NumPy's own ``a @ a.T`` uses BLAS's ``syrk``).

Inside tasks, BLAS is limited to one thread while several chunkwise worker
threads run (through ``threadpoolctl`` when it is installed; otherwise BLAS
keeps its own threads), so the scheduler's threads and BLAS's do not
oversubscribe the cores.

>>> import numpy as np
>>> import chunkwise.array as da
>>> a = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
>>> b = da.from_array(np.arange(12.0).reshape(4, 3), chunks=3)
>>> (a @ b).compute()
array([[ 42.,  48.,  54.],
       [114., 136., 158.],
       [186., 224., 262.]])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from itertools import product
from typing import Any

import numpy as np

from chunkwise.array.axes import normalize_axes
from chunkwise.array.blas import one_blas_thread
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, elemwise, implements
from chunkwise.array.expr import ArrayExpr
from chunkwise.array.manipulation import atleast_1d, ravel
from chunkwise.array.rechunk import Rechunk
from chunkwise.array.reshaping import Transpose
from chunkwise.array.utils import is_nan, nbytes
from chunkwise.core.graph import Ref, Task
from chunkwise.sizes import format_bytes

__all__ = ["dot", "inner", "matmul", "outer", "tensordot", "vdot", "vecdot"]

#: Products summed in one task, and the fan-in of the tree adding the group sums.
SPLIT_EVERY = 4


# --- task functions ------------------------------------------------------------------------


def _accumulate(total: Any, part: Any) -> Any:
    if total is None:
        return part
    if isinstance(total, np.ndarray) and total.shape == np.shape(part) and total.flags.writeable:
        np.add(total, part, out=total, casting="unsafe")
        return total
    return total + part


def _contract_sum(func: Any, a_blocks: list, b_blocks: list, kwargs: dict | None, dtype: np.dtype) -> Any:
    """``sum(func(a, b) for a, b in zip(a_blocks, b_blocks))``, accumulated in place."""
    total = None
    with one_blas_thread():
        for a, b in zip(a_blocks, b_blocks):
            part = func(a, b, **kwargs) if kwargs else func(a, b)
            if total is None and isinstance(part, np.ndarray) and not part.flags.owndata:
                part = part.copy()  # a view of an input: never add into it
            total = _accumulate(total, part)
    return _as_dtype(total, dtype)


def _add_parts(parts: list, dtype: np.dtype) -> Any:
    """The sum of partial results (the first one is a fresh array this task may reuse)."""
    total = None
    for part in parts:
        total = part.copy() if total is None and isinstance(part, np.ndarray) else _accumulate(total, part)
    return _as_dtype(total, dtype)


def _transposed(block: Any) -> Any:
    """A C-ordered copy of ``block.T`` (a mirrored block of a symmetric product)."""
    return np.ascontiguousarray(np.transpose(block))


def _as_dtype(value: Any, dtype: np.dtype) -> Any:
    if isinstance(value, np.ndarray) and value.ndim:
        return value if value.dtype == dtype else value.astype(dtype)
    return np.asarray(value, dtype=dtype)[()]


# --- the plan node ------------------------------------------------------------------------------


class Contraction(ArrayExpr):
    """``func`` applied to aligned block pairs of ``a`` and ``b``, summed over contracted axes.

    ``a_index``/``b_index`` label the axes of ``a`` and ``b``; ``out_index``
    the output's. Labels missing from ``out_index`` are contracted (their
    chunks must agree); labels on both sides and in the output are batch axes
    (a side whose axis has length 1 broadcasts). ``func(a_block, b_block)``
    must return the output block's partial sum with axes in ``out_index``
    order.
    """

    _parameters = ("a", "b", "a_index", "b_index", "out_index", "func", "kwargs", "dtype_", "funcname")

    @property
    def _funcname(self) -> str:
        return self.operands[8]

    def _dtype(self) -> Any:
        return self.dtype_

    @functools.cached_property
    def _contracted(self) -> tuple:
        out = set(self.out_index)
        labels = []
        for label in (*self.a_index, *self.b_index):
            if label not in out and label not in labels:
                labels.append(label)
        return tuple(labels)

    def _label_chunks(self, label: Any) -> tuple:
        """The chunks of the axes labelled ``label`` (a side of length 1 broadcasts)."""
        found = []
        for operand, index in ((self.a, self.a_index), (self.b, self.b_index)):
            if label in index:
                axis = index.index(label)
                found.append((operand.shape[axis] == 1, operand.chunks[axis]))
        for broadcast, chunks in found:
            if not broadcast:
                return chunks
        return found[0][1]

    def _chunks(self) -> tuple:
        return tuple(self._label_chunks(label) for label in self.out_index)

    @functools.cached_property
    def _contracted_numblocks(self) -> tuple:
        return tuple(len(self._label_chunks(label)) for label in self._contracted)

    @functools.cached_property
    def _levels(self) -> int:
        """How many layers of partial sums lie below the output (0: one task per output block)."""
        groups = math.ceil(max(math.prod(self._contracted_numblocks), 1) / SPLIT_EVERY)
        levels = 0
        while groups > 1:
            levels += 1
            groups = math.ceil(groups / SPLIT_EVERY)
        return levels

    def _owned_names(self):
        return (self.name, *(f"{self.name}-partial{level}" for level in range(self._levels)))

    def _groups_at(self, level: int) -> int:
        """Number of partial sums per output block at ``level`` (0 is the products)."""
        groups = math.ceil(max(math.prod(self._contracted_numblocks), 1) / SPLIT_EVERY)
        for _ in range(level):
            groups = math.ceil(groups / SPLIT_EVERY)
        return groups

    def _block_ref(self, operand: ArrayExpr, index: tuple, labels: dict) -> Ref:
        block = tuple(
            0 if operand.numblocks[axis] == 1 else labels[label] for axis, label in enumerate(index)
        )
        return Ref((operand.name, *block))

    @functools.cached_property
    def _symmetric(self) -> bool:
        """Whether this is ``a @ a.T`` (or ``a.T @ a``) of a 2-d ``a``: a symmetric result.

        Then each output block below the diagonal is the transpose of the block
        above it, copied instead of computed (half the products, as NumPy's own
        ``a @ a.T`` calls BLAS's ``syrk``).
        """
        a, b = self.a, self.b
        return (
            self.func is np.matmul
            and not self.kwargs
            and self.a_index == ("n", "k")
            and self.b_index == ("k", "m")
            and self.out_index == ("n", "m")
            and (
                (type(b) is Transpose and b.axes == (1, 0) and b.array.name == a.name)
                or (type(a) is Transpose and a.axes == (1, 0) and a.array.name == b.name)
            )
        )

    def _inlinable(self) -> bool:
        return not self._symmetric  # mirrored blocks read other output blocks

    def _task(self, key: Hashable) -> Task:
        name = key[0]
        levels = self._levels
        if name == self.name:
            if len(key) == 3 and key[1] > key[2] and self._symmetric:
                return Task(key, _transposed, Ref((name, key[2], key[1])))
            level = levels  # the output: sums the partials of the level below (or the products)
            out_index, group = key[1:], 0
        else:
            level = int(name.rsplit("partial", 1)[1])
            out_index, group = key[1:-1], key[-1]
        if level == 0:
            labels = dict(zip(self.out_index, out_index))
            combos = list(product(*(range(n) for n in self._contracted_numblocks)))
            a_refs, b_refs = [], []
            for combo in combos[group * SPLIT_EVERY:(group + 1) * SPLIT_EVERY]:
                labels.update(zip(self._contracted, combo))
                a_refs.append(self._block_ref(self.a, self.a_index, labels))
                b_refs.append(self._block_ref(self.b, self.b_index, labels))
            return Task(key, _contract_sum, self.func, a_refs, b_refs, self.kwargs, self.dtype)
        below = f"{self.name}-partial{level - 1}"
        count = self._groups_at(level - 1)
        parts = [
            Ref((below, *out_index, g))
            for g in range(group * SPLIT_EVERY, min((group + 1) * SPLIT_EVERY, count))
        ]
        return Task(key, _add_parts, parts, self.dtype)

    def _explain_line(self) -> str:
        nbytes = self.max_chunk_nbytes
        size = format_bytes(nbytes, precision=1)
        products = math.prod(self._contracted_numblocks) * self.npartitions
        return (
            f"Contraction: {self._funcname}  [{self.npartitions} blocks of <= {size}, {self.dtype}; "
            f"{products} block products, {self._levels} levels of partial sums]"
        )


def _contract(
    a: ArrayExpr,
    b: ArrayExpr,
    a_index: tuple,
    b_index: tuple,
    out_index: tuple,
    func: Any,
    dtype: np.dtype,
    funcname: str,
    kwargs: dict | None = None,
) -> Array:
    """Unify the chunks of shared labels (rechunking the cheaper side) and build the node."""
    a_new, b_new = list(a.chunks), list(b.chunks)
    for label in set(a_index) & set(b_index):
        i, j = a_index.index(label), b_index.index(label)
        if a.shape[i] == 1 and label in out_index and b.shape[j] != 1:
            continue  # broadcast batch axis
        if b.shape[j] == 1 and label in out_index and a.shape[i] != 1:
            continue
        ca, cb = a.chunks[i], b.chunks[j]
        if ca == cb:
            continue
        check_known_chunks(
            funcname, (ca, cb), what=f"an operand (shapes {a.shape} and {b.shape})",
            detail=f" on the axes they share ({ca} vs {cb})",
        )
        if nbytes(a) <= nbytes(b):
            a_new[i] = cb
        else:
            b_new[j] = ca
    a_new, b_new = tuple(a_new), tuple(b_new)
    if a_new != a.chunks:
        a = Rechunk(a, a_new)
    if b_new != b.chunks:
        b = Rechunk(b, b_new)
    expr = Contraction(a, b, tuple(a_index), tuple(b_index), tuple(out_index), func, kwargs, dtype, funcname)
    return Array(expr)


def _result_dtype(func: Any, a: ArrayExpr, b: ArrayExpr, name: str, **kwargs: Any) -> np.dtype:
    sa = np.ones((1,) * a.ndim, dtype=a.dtype)
    sb = np.ones((1,) * b.ndim, dtype=b.dtype)
    try:
        return np.asarray(func(sa, sb, **kwargs)).dtype
    except TypeError as exc:
        raise TypeError(f"{name}: cannot multiply arrays of dtypes {a.dtype} and {b.dtype}: {exc}") from None


def _check_size(name: str, a: ArrayExpr, b: ArrayExpr, i: int, j: int, what: str) -> None:
    sa, sb = a.shape[i], b.shape[j]
    check_known_chunks(name, a, axes=(i,), what=f"a contracted axis (shapes {a.shape} and {b.shape})")
    check_known_chunks(name, b, axes=(j,), what=f"a contracted axis (shapes {a.shape} and {b.shape})")
    if sa != sb:
        raise ValueError(
            f"{name}: {what} of shapes {a.shape} and {b.shape} do not match "
            f"(size {sa} is different from {sb})"
        )


# --- public functions ------------------------------------------------------------------------------


def _as_array(x: Any) -> Array:
    return x if isinstance(x, Array) else asarray(x)


@implements(np.matmul)
def matmul(a: Any, b: Any) -> Array:
    """Matrix product of two arrays, as ``numpy.matmul`` (``a @ b``).

    1-d operands are promoted to a row (``a``) or column (``b``) and the added
    axis is removed; axes before the last two are batch axes and broadcast.
    Mismatched chunks on the contracted axis are unified by rechunking the
    operand with fewer bytes.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> a = da.from_array(np.ones((2, 3, 4)), chunks=(1, 2, 2))
    >>> matmul(a, np.ones(4)).compute()
    array([[4., 4., 4.],
           [4., 4., 4.]])
    """
    a, b = _as_array(a), _as_array(b)
    x, y = a.expr, b.expr
    for position, operand in enumerate((x, y)):
        if operand.ndim == 0:
            raise ValueError(
                f"matmul: Input operand {position} does not have enough dimensions (has 0, "
                "gufunc core with signature (n?,k),(k,m?)->(n?,m?) requires 1); shapes "
                f"{x.shape} and {y.shape}; use * to multiply by a scalar"
            )
    k_a = x.ndim - 1
    k_b = y.ndim - 2 if y.ndim >= 2 else 0
    sa, sb = x.shape[k_a], y.shape[k_b]
    if not is_nan(sa) and not is_nan(sb) and sa != sb:
        raise ValueError(
            f"matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
            f"(n?,k),(k,m?)->(n?,m?) (size {sb} is different from {sa}); shapes {x.shape} and {y.shape}"
        )
    _check_size("matmul", x, y, k_a, k_b, "the contracted axes")
    batch = max(x.ndim - 2, y.ndim - 2, 0)
    a_batch = tuple(f"batch{batch - (x.ndim - 2) + d}" for d in range(max(x.ndim - 2, 0)))
    b_batch = tuple(f"batch{batch - (y.ndim - 2) + d}" for d in range(max(y.ndim - 2, 0)))
    for d in range(batch):  # broadcasting of batch axes, as NumPy checks it
        label = f"batch{d}"
        sizes = []
        if label in a_batch:
            sizes.append(x.shape[a_batch.index(label)])
        if label in b_batch:
            sizes.append(y.shape[b_batch.index(label)])
        if len(sizes) == 2 and 1 not in sizes and not any(map(is_nan, sizes)) and sizes[0] != sizes[1]:
            raise ValueError(
                f"matmul: operands could not be broadcast together with shapes {x.shape} and {y.shape} "
                f"(batch axes {x.shape[:-2]} and {y.shape[:-2]})"
            )
    a_index = a_batch + (("n", "k") if x.ndim >= 2 else ("k",))
    b_index = b_batch + (("k", "m") if y.ndim >= 2 else ("k",))
    out_index = tuple(f"batch{d}" for d in range(batch))
    if x.ndim >= 2:
        out_index += ("n",)
    if y.ndim >= 2:
        out_index += ("m",)
    dtype = _result_dtype(np.matmul, x, y, "matmul")
    # Where one operand lacks a batch axis the other has, the blocks come from the one that has it.
    return _contract(x, y, a_index, b_index, out_index, np.matmul, dtype, "matmul")


@implements(np.tensordot)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Array:
    """Sum of products over the given axes, as ``numpy.tensordot``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> a = da.from_array(np.ones((3, 4, 5)), chunks=2)
    >>> tensordot(a, np.ones((4, 5, 2)), axes=2).compute()[0]
    array([20., 20.])
    """
    a, b = _as_array(a), _as_array(b)
    x, y = a.expr, b.expr
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > x.ndim or n > y.ndim:
            raise ValueError(
                f"tensordot: axes={n} is invalid for arrays of shapes {x.shape} and {y.shape}"
            )
        a_axes, b_axes = tuple(range(x.ndim - n, x.ndim)), tuple(range(n))
    else:
        try:
            a_spec, b_spec = axes
        except (TypeError, ValueError):
            raise ValueError(
                f"tensordot: axes must be an int or a pair of axis sequences, got {axes!r}"
            ) from None
        a_axes = normalize_axes(a_spec, x.ndim, "tensordot", "axes")
        b_axes = normalize_axes(b_spec, y.ndim, "tensordot", "axes")
        if len(a_axes) != len(b_axes):
            raise ValueError(
                f"tensordot: shape-mismatch for sum: {len(a_axes)} axes of {x.shape} against "
                f"{len(b_axes)} axes of {y.shape}"
            )
    for i, j in zip(a_axes, b_axes):
        if not is_nan(x.shape[i]) and not is_nan(y.shape[j]) and x.shape[i] != y.shape[j]:
            raise ValueError(
                f"tensordot: shape-mismatch for sum: axis {i} of {x.shape} has length {x.shape[i]}, "
                f"axis {j} of {y.shape} has length {y.shape[j]}"
            )
        _check_size("tensordot", x, y, i, j, "the contracted axes")
    a_index = tuple(f"a{d}" for d in range(x.ndim))
    b_index = [f"b{d}" for d in range(y.ndim)]
    for i, j in zip(a_axes, b_axes):
        b_index[j] = f"a{i}"
    b_index = tuple(b_index)
    out_index = tuple(a_index[d] for d in range(x.ndim) if d not in a_axes) + tuple(
        b_index[d] for d in range(y.ndim) if d not in b_axes
    )
    kwargs = {"axes": (a_axes, b_axes)}
    dtype = _result_dtype(np.tensordot, x, y, "tensordot", axes=kwargs["axes"])
    return _contract(x, y, a_index, b_index, out_index, np.tensordot, dtype, "tensordot", kwargs)


@implements(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Array:
    """Dot product, as ``numpy.dot``: ``matmul`` for 1-d and 2-d, ``*`` with a scalar,
    and a sum over the last axis of ``a`` and the second-to-last of ``b`` otherwise.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(4.0), chunks=3)
    >>> dot(x, x).compute()
    np.float64(14.0)
    """
    if out is not None:
        raise TypeError("dot: out= is not supported on chunkwise arrays (they are immutable)")
    a, b = _as_array(a), _as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return elemwise(np.multiply, a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        if a.shape[-1] != b.shape[0 if b.ndim == 1 else -2] and not is_nan(a.shape[-1]):
            raise ValueError(
                f"dot: shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {a.ndim - 1}) "
                f"!= {b.shape[0 if b.ndim == 1 else -2]} (dim {0 if b.ndim == 1 else b.ndim - 2})"
            )
        return matmul(a, b)
    axis = 0 if b.ndim == 1 else b.ndim - 2
    if not is_nan(a.shape[-1]) and a.shape[-1] != b.shape[axis]:
        raise ValueError(
            f"dot: shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {a.ndim - 1}) "
            f"!= {b.shape[axis]} (dim {axis})"
        )
    return tensordot(a, b, axes=((a.ndim - 1,), (axis,)))


@implements(np.inner)
def inner(a: Any, b: Any) -> Array:
    """Inner product over the last axes, as ``numpy.inner``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> inner(da.from_array(np.arange(3)), np.arange(3)).compute()
    np.int64(5)
    """
    a, b = _as_array(a), _as_array(b)
    if a.ndim == 0 or b.ndim == 0:
        return elemwise(np.multiply, a, b)
    if not is_nan(a.shape[-1]) and not is_nan(b.shape[-1]) and a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"inner: shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {a.ndim - 1}) "
            f"!= {b.shape[-1]} (dim {b.ndim - 1})"
        )
    return tensordot(a, b, axes=((a.ndim - 1,), (b.ndim - 1,)))


def _flat(x: Array, name: str) -> Array:
    if x.ndim == 1:
        return x
    return atleast_1d(x) if x.ndim == 0 else ravel(x)


@implements(np.outer)
def outer(a: Any, b: Any, out: Any = None) -> Array:
    """Outer product of two vectors, as ``numpy.outer`` (other inputs are flattened first).

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> outer(da.from_array(np.arange(3), chunks=2), np.arange(2)).compute()
    array([[0, 0],
           [0, 1],
           [0, 2]])
    """
    if out is not None:
        raise TypeError("outer: out= is not supported on chunkwise arrays (they are immutable)")
    x, y = _flat(_as_array(a), "outer").expr, _flat(_as_array(b), "outer").expr
    dtype = _result_dtype(np.outer, x, y, "outer")
    return _contract(x, y, ("i",), ("j",), ("i", "j"), np.outer, dtype, "outer")


@implements(np.vdot)
def vdot(a: Any, b: Any) -> Array:
    """Dot product of flattened arrays, conjugating the first, as ``numpy.vdot``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> vdot(da.from_array(np.array([1j, 2]), chunks=1), np.array([1j, 1])).compute()
    np.complex128(3+0j)
    """
    x, y = _flat(_as_array(a), "vdot").expr, _flat(_as_array(b), "vdot").expr
    if not is_nan(x.shape[0]) and not is_nan(y.shape[0]) and x.shape[0] != y.shape[0]:
        raise ValueError(
            f"vdot: cannot reshape arrays of sizes {x.shape[0]} and {y.shape[0]} into vectors "
            "of the same length"
        )
    _check_size("vdot", x, y, 0, 0, "the flattened arrays")
    dtype = _result_dtype(np.vdot, x, y, "vdot")
    return _contract(x, y, ("k",), ("k",), (), np.vdot, dtype, "vdot")


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Array:
    """Vector dot product over ``axis`` (the first conjugated), broadcasting the other axes,
    as ``numpy.vecdot`` (a gufunc: ``np.vecdot(x, y)`` on chunkwise arrays lands here) and the
    Array API's ``vecdot``/``linalg.vecdot``.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> vecdot(da.from_array(np.arange(6.0).reshape(2, 3), chunks=2), np.ones(3)).compute()
    array([ 3., 12.])
    """
    a, b = _as_array(x1), _as_array(x2)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"vecdot: both operands must have at least one axis, got shapes {a.shape} and {b.shape}")
    ndim = max(a.ndim, b.ndim)
    if not -ndim <= axis < ndim:
        raise ValueError(f"vecdot: axis {axis} is out of bounds for the broadcast shapes {a.shape} and {b.shape}")
    axis = axis - ndim if axis >= 0 else axis  # counted from the end: the operands may differ in ndim
    if -axis > a.ndim or -axis > b.ndim:
        raise ValueError(f"vecdot: axis {axis} is out of bounds for shapes {a.shape} and {b.shape}")
    sa, sb = a.shape[axis], b.shape[axis]
    if not is_nan(sa) and not is_nan(sb) and sa != sb:
        raise ValueError(
            f"vecdot: the contracted axis {axis} has length {sa} in {a.shape} and {sb} in {b.shape}; "
            "they must be equal"
        )
    if np.iscomplexobj(np.empty(0, a.dtype)):
        a = a.conj()
    return elemwise(np.multiply, a, b).sum(axis=axis)
