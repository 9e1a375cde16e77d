"""Sizes in bytes as users write them and read them: ``parse_bytes`` and ``format_bytes``.

One reading of a size for every setting and argument that takes one
(``array.chunk_size``, chunk specs like ``"64 MiB"``, the dataframe readers'
``blocksize``, the shuffle's ``memory_limit``): an int, or a number with a
decimal (``kB``, ``MB``, ...) or binary (``KiB``, ``MiB``, ...) unit, case
and spaces ignored. A size that cannot be read is an error that shows how to
write one. Sizes are shown in binary units (``format_bytes``). No NumPy, so
any module may use it.

>>> parse_bytes("128MiB"), parse_bytes("1.5 kB"), parse_bytes(100)
(134217728, 1500, 100)
>>> format_bytes(1536), format_bytes(1536, precision=1), format_bytes(float("nan"))
('1.50 kiB', '1.5 kiB', '?')
"""

from __future__ import annotations

import math
import numbers
import re

__all__ = ["format_bytes", "parse_bytes"]

UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
    "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
}
"""The units a size may carry (lower case), and their bytes."""


def parse_bytes(text: str | int) -> int:
    """``"64 MiB"`` -> 67108864; integers (Python's or NumPy's) pass through.

    >>> parse_bytes("1 GiB"), parse_bytes("5kb"), parse_bytes("2e3")
    (1073741824, 5000, 2000)
    """
    if isinstance(text, numbers.Integral):
        return int(text)
    match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([A-Za-z]*)\s*", str(text))
    if not match or match.group(2).lower() not in UNITS:
        raise ValueError(
            f"cannot read {text!r} as a size in bytes; write e.g. '64 MiB', '100 MB' or 1000000"
        )
    try:
        return int(float(match.group(1)) * UNITS[match.group(2).lower()])
    except ValueError:
        raise ValueError(
            f"cannot read {text!r} as a size in bytes; write e.g. '64 MiB', '100 MB' or 1000000"
        ) from None


def format_bytes(n: float, precision: int = 2) -> str:
    """Bytes in a human-readable binary unit (``?`` when unknown: NaN).

    >>> format_bytes(0), format_bytes(1023), format_bytes(8 * 10**9)
    ('0 B', '1023 B', '7.45 GiB')
    """
    if isinstance(n, float) and math.isnan(n):
        return "?"
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("kiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.{precision}f} {unit}"
    return f"{int(n)} B"
