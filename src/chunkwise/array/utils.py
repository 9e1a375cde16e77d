"""Small helpers shared by the array modules: ``identity``, ``nbytes``, ``is_nan``.

Shared by the array modules (not part of the user-facing ``chunkwise.array``
namespace, whose ``__all__`` leaves it out); users never need them.

>>> is_nan(float("nan")), is_nan(3)
(True, False)
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["identity", "is_nan", "nbytes"]


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
