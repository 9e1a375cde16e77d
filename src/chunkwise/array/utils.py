"""Small helpers shared by the array modules: ``identity``, ``nbytes``, ``format_bytes``, ``is_nan``.

Shared by the array modules (not part of the user-facing ``chunkwise.array``
namespace, whose ``__all__`` leaves it out); users never need them.

>>> format_bytes(1536), format_bytes(1536, precision=1), format_bytes(float("nan"))
('1.50 kiB', '1.5 kiB', '?')
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_bytes", "identity", "is_nan", "nbytes"]


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
