"""Text and HTML representations of arrays."""

from __future__ import annotations

from typing import Any

__all__: list = []


def array_repr(x: Any) -> str:
    """``chunkwise.array<name, shape=..., dtype=..., chunksize=..., chunktype=numpy.ndarray>``."""
    name = x.name.rsplit("-", 1)[0]
    return (
        f"chunkwise.array<{name}, shape={x.shape}, dtype={x.dtype}, "
        f"chunksize={x.chunksize}, chunktype=numpy.ndarray>"
    )


def array_repr_html(x: Any) -> str:
    return f"<pre>{array_repr(x)}</pre>"
