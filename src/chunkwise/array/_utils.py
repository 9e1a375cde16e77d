"""Small helpers shared by the array modules: ``identity``, ``nbytes``, ``format_bytes``, ``is_nan``,
``slab_scale``.

Package-private: the names are public so that sibling modules import them
without reaching for private names; users never need them.

>>> format_bytes(1536), format_bytes(1536, precision=1), format_bytes(float("nan"))
('1.50 kiB', '1.5 kiB', '?')
"""

from __future__ import annotations

import math
from typing import Any

from chunkwise.scheduling import busy_workers
from chunkwise.system import cpu_count

__all__ = ["format_bytes", "identity", "is_nan", "nbytes", "slab_scale"]


def identity(x: Any) -> Any:
    """``x`` itself (a task function that passes its argument through)."""
    return x


def is_nan(x: Any) -> bool:
    """Whether ``x`` is a float NaN (an unknown length or size)."""
    return isinstance(x, float) and math.isnan(x)


def nbytes(a: Any) -> float:
    """``a.nbytes``, counting an unknown (``nan``) size as 0, for ordering operands by size."""
    n = a.nbytes
    return 0 if is_nan(n) else n


def format_bytes(n: float, precision: int = 2) -> str:
    """Bytes in a human-readable binary unit (``?`` when unknown).

    >>> format_bytes(0), format_bytes(1023), format_bytes(8 * 10**9)
    ('0 B', '1023 B', '7.45 GiB')
    """
    if is_nan(n):
        return "?"
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("kiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.{precision}f} {unit}"
    return f"{int(n)} B"


def slab_scale() -> float:
    """How many times larger than on two threads a kernel's slab of a block should be now.

    A kernel that runs a large block in cache-sized slabs (``fusion``, the
    shared reductions) makes a few NumPy calls per slab, each taking the GIL
    for a moment. With ``t`` threads doing the same, each call waits for the
    others more often (``t`` of them) and longer (their queue), so a slab's
    work must grow with ``t ** 2`` for the waiting to stay a small share:
    ``(t / 2) ** 2``, ``t`` being the worker loops of the local computes
    running now, else (a ``distributed`` worker's thread) this process's cores,
    and never below 2. Measured on 16 cores: a 32,768-element slab made the
    elementwise chain 4x slower than whole blocks; on 2 and 4 threads the
    cache-sized slabs win (docs/benchmarks.md, scaling).

    >>> slab_scale() >= 1.0
    True
    """
    threads = busy_workers() or cpu_count()
    return (max(threads, 2) / 2) ** 2
