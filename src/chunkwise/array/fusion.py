"""The fusion of elementwise groups: one task per block for a whole group of ``Blockwise`` nodes.

:func:`fuse_blockwise` rewrites a plan so that each group of elementwise
(:class:`~chunkwise.array.expr.Blockwise`) nodes whose results are only used
inside the group becomes one :class:`FusedBlockwise` node: one task per block
running the whole group inline (a small *program* of steps, run in cache-sized
slabs of rows for large blocks), each shared sub-result computed once. Graph
level fusion only fuses linear chains; this handles diamonds like
``sin(x) + cos(x)``. It is the ``fuse`` stage of array plans: the generic
walk of :mod:`chunkwise.core.fuse` finds the groups (``Blockwise`` declares
``_fusion_group_key``) and the group's root builds a :class:`FusedBlockwise`.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.arange(6.0), chunks=3)
>>> type(fuse_blockwise((np.sin(x) + np.cos(x)).expr)).__name__
'FusedBlockwise'
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
from toolz import groupby

from chunkwise.array.expr import ArrayExpr, one_to_one_inputs
from chunkwise.core.fuse import Fused, fuse
from chunkwise.core.graph import Ref, Task
from chunkwise.scheduling import slab_scale
from chunkwise.sizes import format_bytes

__all__ = ["FusedBlockwise", "absorbable_constants", "fuse_blockwise", "fuse_group", "is_constant_source",
           "run_program"]


class _Program:
    """The steps of a fused group; a literal in tasks (never parsed), run by :func:`run_program`.

    Each step is ``(func, args, kwargs, release)``: ``args`` hold ``(0, i)`` for
    input block ``i``, ``(1, j)`` for the result of step ``j``, ``(2, v)`` for
    a literal ``v`` and ``(3, v)`` for a constant block of the output block's
    shape filled with the 0-d array ``v`` (an absorbed ``ones``/``full`` source;
    the task passes that shape as its last ``ndim`` arguments); ``release``
    lists the steps whose results are no longer needed after this one (so a
    task holds few intermediate blocks). ``ninputs`` is the number of input
    blocks a task passes.
    """

    __slots__ = ("steps", "names", "root", "ninputs")

    def __init__(self, steps: tuple, names: tuple, root: str, ninputs: int = -1):
        self.steps = steps
        self.names = names
        self.root = root
        self.ninputs = ninputs

    def __reduce__(self):
        return (_Program, (self.steps, self.names, self.root, self.ninputs))

    def __chunkwise_tokenize__(self) -> tuple:
        return ("chunkwise.FusedProgram", self.root)


def run_program(program: _Program, *inputs: Any) -> Any:
    """Run a fused group on one block's inputs.

    A ufunc step whose argument is an intermediate block dying at this step
    writes its result into that block (``out=``) when the dtype and shape
    match: a chain like ``(sin(x) ** 2 + cos(x) ** 2) * 2 - 1`` then allocates
    two temporary blocks instead of six, and moves half the memory.

    A large block of a program made only of ufuncs on same-shaped inputs is
    run in slabs of rows that fit in the CPU cache (each slab through every
    step, then copied into the output block): the intermediate results never
    leave the cache.
    """
    ninputs = program.ninputs
    shape = None
    if ninputs >= 0:  # the block shape follows the inputs, for constant sources
        shape = inputs[ninputs:]
        inputs = inputs[:ninputs]
    rows = _slab_rows(program, inputs, shape)
    if rows:
        return _run_in_slabs(program, inputs, shape, rows)
    return _run_steps(program, inputs, shape)


_SLAB_ELEMENTS = 32_768  # per slab on 2 threads: a few slabs of intermediates stay in L2 cache
_SLAB_MIN_BLOCK = 8 * _SLAB_ELEMENTS


def _slab_rows(program: _Program, inputs: tuple, shape: Any) -> int:
    """Rows per slab when ``program`` may run in slabs of its block, else 0."""
    steps = program.steps
    if len(steps) < 3:
        return 0
    if inputs:
        first = inputs[0]
        if type(first) is not np.ndarray:
            return 0
        block_shape = first.shape
        if any(type(b) is not np.ndarray or b.shape != block_shape for b in inputs):
            return 0
        if shape is not None and tuple(shape) != block_shape:
            return 0
    elif shape is not None:
        block_shape = tuple(shape)
    else:
        return 0
    if len(block_shape) == 0 or block_shape[0] < 2:
        return 0
    size = math.prod(block_shape)
    if size < _SLAB_MIN_BLOCK:
        return 0
    for func, spec, kwargs, _ in steps:
        if kwargs or type(func) is not np.ufunc or func.nout != 1 or func.signature is not None:
            return 0
        for kind, v in spec:
            if kind == 2 and np.ndim(v) != 0:
                return 0
    row = size // block_shape[0]
    rows = max(1, int(_SLAB_ELEMENTS * slab_scale()) // max(row, 1))
    return rows if rows < block_shape[0] else 0  # one slab: run the block whole


def _run_in_slabs(program: _Program, inputs: tuple, shape: Any, rows: int) -> Any:
    n = inputs[0].shape[0] if inputs else shape[0]
    out = None
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        slab_inputs = tuple(b[start:stop] for b in inputs)
        slab_shape = None if shape is None else (stop - start, *shape[1:])
        if out is not None:  # the last step writes straight into the output block
            _run_steps(program, slab_inputs, slab_shape, out[start:stop])
            continue
        part = _run_steps(program, slab_inputs, slab_shape)
        if np.ndim(part) == 0:  # not elementwise after all: run it whole
            return _run_steps(program, inputs, shape)
        out = np.empty((n, *np.shape(part)[1:]), dtype=np.result_type(part))
        out[start:stop] = part
    return out


def _run_steps(program: _Program, inputs: tuple, shape: Any, out: Any = None) -> Any:
    """Run the steps; ``out``: where the last step (a ufunc, in slab mode) writes its result."""
    results: list = [None] * len(program.steps)
    last = len(program.steps) - 1
    for k, (func, spec, kwargs, release) in enumerate(program.steps):
        args = [
            inputs[v] if kind == 0 else results[v] if kind == 1 else v if kind == 2
            else np.broadcast_to(v, shape)
            for kind, v in spec
        ]
        try:
            buffer = None
            if release and not kwargs and type(func) is np.ufunc and func.nout == 1:
                buffer = _reusable_buffer(func, spec, args, release, results, inputs)
            if k == last and out is not None:
                results[k] = func(*args, out=out)
            elif buffer is not None:
                results[k] = func(*args, out=buffer)
            else:
                results[k] = func(*args, **kwargs) if kwargs else func(*args)
        except Exception as exc:
            exc.add_note(f"in step {program.names[k]!r} of the fused elementwise task {program.root!r}")
            raise
        for j in release:
            results[j] = None
    return results[-1]


def _reusable_buffer(
    func: np.ufunc, spec: tuple, args: list, release: tuple, results: list, inputs: tuple
) -> np.ndarray | None:
    """An intermediate among ``args`` that can safely receive ``func``'s result, or None."""
    for (kind, v), arg in zip(spec, args):
        if kind != 1 or v not in release or type(arg) is not np.ndarray:
            continue
        if arg.base is not None or not arg.flags.writeable or not arg.flags.c_contiguous:
            continue  # a view (of an input, perhaps) or a constant
        if any(arg is block for block in inputs):
            continue
        if sum(1 for r in results if r is arg) != 1:
            continue  # another live step holds the same object
        try:
            dtypes = tuple(_operand_dtype(a) for a in args)
            expected = func.resolve_dtypes(dtypes + (None,))[-1]
            shape = np.broadcast_shapes(*(np.shape(a) for a in args))
        except Exception:
            return None
        if arg.dtype == expected and arg.shape == shape:
            return arg
    return None


def _operand_dtype(value: Any) -> Any:
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    if type(value) in (int, float, complex):
        return type(value)  # Python scalars promote weakly, as in the call itself
    raise TypeError("no dtype")


class FusedBlockwise(Fused, ArrayExpr):
    """A group of elementwise nodes run as one task per block; see :func:`fuse_blockwise`.

    The array specialisation of :class:`~chunkwise.core.fuse.Fused`: its tasks
    run a :class:`_Program` (in cache-sized slabs) instead of nested tasks. Its
    name is derived from its members, never its root's. Operands: ``members``,
    ``program``, ``chunks``, ``dtype`` (read with ``operand``), then the input arrays.
    """

    _parameters = ("members", "program", "chunks", "dtype")
    _operand_only = ("chunks", "dtype")
    _variadic = True

    def _chunks(self) -> tuple:
        return self.operand("chunks")

    def _dtype(self) -> Any:
        return self.operand("dtype")

    def _one_to_one_inputs(self) -> tuple:
        return one_to_one_inputs(self, self.inputs)

    def _block_args(self, index: tuple) -> list:
        """The arguments after the program of block ``index``'s task: input refs, then
        the block shape when the program makes constant blocks."""
        ndim = len(index)
        args = []
        for arg in self.inputs:
            offset = ndim - arg.ndim
            numblocks = arg.numblocks
            args.append(Ref((arg.name, *(0 if numblocks[d] == 1 else index[d + offset]
                                         for d in range(arg.ndim)))))
        if self.program.ninputs >= 0:
            args.extend(c[i] for c, i in zip(self.chunks, index))
        return args

    def _fused_call(self, key: Hashable) -> tuple:
        return run_program, (self.program, *self._block_args(key[1:]))

    def _task(self, key: Hashable) -> Task:
        return Task(key, run_program, self.program, *self._block_args(key[1:]))

    def _explain_line(self) -> str:
        names = self.program.names
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        nbytes = self.max_chunk_nbytes
        size = format_bytes(nbytes, precision=1)
        return (f"FusedBlockwise: {len(names)} ops ({shown})  "
                f"[{self.npartitions} blocks of <= {size}, {self.dtype}]")


def fuse_blockwise(expr: Any) -> Any:
    """``expr`` with each group of elementwise nodes fused into one :class:`FusedBlockwise`.

    The array plans' ``fuse`` stage: the generic walk of :func:`chunkwise.core.fuse.fuse`.
    A :class:`~chunkwise.array.expr.Blockwise` node joins the group of its
    consumers when all its consumers (in the whole tree under ``expr``) are
    elementwise nodes of one group and it has as many blocks as the group's
    output (so no block is computed twice). Call it on the whole plan (the
    root that is computed), since it counts consumers over the tree it is given.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.linspace(0, 1, 8), chunks=2)
    >>> y = (da.sin(x) ** 2 + da.cos(x) ** 2) * 2 - 1
    >>> fused = fuse_blockwise(y.expr)
    >>> type(fused).__name__, fused.name == y.name  # a fused node has a name of its own
    ('FusedBlockwise', False)
    >>> len(da.Array(fused).__chunkwise_graph__())  # 4 fused tasks (reads inlined) + finalize
    5
    """
    return fuse(expr)


def is_constant_source(arg: Any, root: ArrayExpr) -> bool:
    """Whether ``arg`` is a constant source (``ones``, ``full``) with ``root``'s blocks.

    Its blocks cost nothing to make, so a fused group makes them itself (even
    when other nodes read the source too) instead of reading another task.
    """
    return getattr(type(arg), "_constant_source", False) and arg.chunks == root.chunks


def absorbable_constants(node: Any) -> bool:
    """Whether a lone elementwise ``node`` is worth fusing: it reads constant sources."""
    return any(is_constant_source(arg, node) for arg in node.args)


def fuse_group(group_nodes: list) -> FusedBlockwise:
    """The :class:`FusedBlockwise` computing the last of ``group_nodes`` (inputs first)."""
    root = group_nodes[-1]
    position = {node.name: k for k, node in enumerate(group_nodes)}
    inputs: list = []
    input_position: dict = {}
    steps = []
    last_use: dict = {}
    constants = False
    for k, node in enumerate(group_nodes):
        spec = []
        for arg in node.args:
            if isinstance(arg, ArrayExpr):
                if arg.name in position:
                    spec.append((1, position[arg.name]))
                    last_use[position[arg.name]] = k
                elif is_constant_source(arg, root):
                    spec.append((3, arg.value))
                    constants = True
                else:
                    if arg.name not in input_position:
                        input_position[arg.name] = len(inputs)
                        inputs.append(arg)
                    spec.append((0, input_position[arg.name]))
            else:
                spec.append((2, arg))
        steps.append([node.func, tuple(spec), node.kwargs or None, ()])
    for k, js in groupby(last_use.get, last_use).items():
        steps[k][3] = tuple(js)
    program = _Program(tuple(tuple(s) for s in steps), tuple(n._funcname for n in group_nodes), root.name,
                       len(inputs) if constants else -1)
    return FusedBlockwise(tuple(group_nodes), program, root.chunks, root.dtype, *inputs)
