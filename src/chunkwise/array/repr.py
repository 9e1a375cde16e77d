"""Text and HTML representations of arrays.

``array_repr`` is the one-line ``repr``; ``array_repr_html`` is what Jupyter
shows: a table (bytes, shape, blocks, dtype, for the whole array and for its
largest block) next to an SVG drawing of the block grid, in the spirit of
Dask's. The drawing is proportional with a cap on extreme aspect ratios;
1-d arrays are one row, 3-d arrays an oblique box, and arrays of more
dimensions show their last three axes. At most about 100 grid lines are drawn
per axis (evenly sampled, with a note), so a 10,000 x 10,000-block array gives
a small page quickly. Unknown block sizes (``nan``) get a note instead of a
drawing.

>>> import numpy as np
>>> import chunkwise.array as da
>>> x = da.from_array(np.zeros((4, 6)), chunks=(2, 3))
>>> html = array_repr_html(x)
>>> "<svg" in html and "192 B" in html and "4 blocks" in html
True
"""

from __future__ import annotations

import html
import math
from typing import Any

from chunkwise.array.chunks import has_unknown
from chunkwise.array.masks import is_masked
from chunkwise.array.utils import is_nan
from chunkwise.core.expr import walk
from chunkwise.sizes import format_bytes

__all__: list = []

#: Most grid lines drawn per axis; beyond it lines are sampled evenly.
MAX_LINES = 100
#: Length in pixels of the longest drawn axis.
SIZE = 120


def array_repr(x: Any) -> str:
    """``chunkwise.array<name, shape=..., dtype=..., chunksize=..., chunktype=numpy.ndarray>``."""
    name = x.name.rsplit("-", 1)[0]
    return (
        f"chunkwise.array<{name}, shape={x.shape}, dtype={x.dtype}, "
        f"chunksize={x.chunksize}, chunktype={_chunktype(x)}>"
    )


# --- the table ----------------------------------------------------------------------


def _format_shape(shape: tuple) -> str:
    parts = [str(int(s)) if not is_nan(s) else "?" for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _chunk_shape(chunks: tuple) -> tuple:
    """The largest block length per axis (``nan`` where any length is unknown)."""
    return tuple(
        math.nan if any(is_nan(c) for c in axis) else (max(axis) if axis else 0) for axis in chunks
    )


def _plan_nodes(x: Any) -> int:
    return sum(1 for _ in walk([x.expr]))


def _table(x: Any) -> str:
    chunk_shape = _chunk_shape(x.chunks)
    chunk_bytes = math.prod(chunk_shape) * x.dtype.itemsize
    nblocks = x.npartitions
    grid = " \u00d7 ".join(str(n) for n in x.numblocks)
    blocks = f"{nblocks:,} block{'s' if nblocks != 1 else ''}"
    if x.ndim > 1:
        blocks += f" ({grid})"
    nodes = _plan_nodes(x)
    blocks += f" in {nodes} plan node{'s' if nodes != 1 else ''}"
    rows = [
        ("Bytes", format_bytes(x.nbytes), format_bytes(chunk_bytes)),
        ("Shape", _format_shape(x.shape), _format_shape(chunk_shape)),
        ("Blocks", blocks, None),
        ("Data type", f"{x.dtype} {_chunktype(x)}", None),
    ]
    lines = [
        '<table style="border-collapse: collapse;">',
        "<thead><tr><td> </td><th> Array </th><th> Chunk </th></tr></thead>",
        "<tbody>",
    ]
    for label, whole, chunk in rows:
        if chunk is None:
            cells = f'<td colspan="2" style="text-align: center;"> {html.escape(whole)} </td>'
        else:
            cells = f"<td> {html.escape(whole)} </td><td> {html.escape(chunk)} </td>"
        lines.append(f"<tr><th> {label} </th>{cells}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


# --- the drawing --------------------------------------------------------------------


def _response(ratio: float) -> float:
    """Compress extreme aspect ratios: proportional up to 4:1, then slowly, at most 12:1."""
    if ratio <= 4:
        return ratio
    return min(12.0, 4 * (ratio / 4) ** 0.3)


def _draw_sizes(shape: tuple, size: float = SIZE) -> list:
    longest = max([*shape, 1])
    return [size / _response(longest / max(s, 0.1)) for s in shape]


def _lines(axis_chunks: tuple, length: float) -> tuple[list, bool]:
    """Positions (0..length) of the block boundaries of one axis, sampled to <= MAX_LINES."""
    total = sum(axis_chunks)
    n = len(axis_chunks)
    if n + 1 <= MAX_LINES:
        indices = range(n + 1)
        sampled = False
    else:
        step = n / (MAX_LINES - 1)
        indices = sorted({min(n, round(i * step)) for i in range(MAX_LINES)} | {0, n})
        sampled = True
    bounds = [0]
    acc = 0
    for c in axis_chunks:  # cumulative sums: per axis, not per block of the array
        acc += c
        bounds.append(acc)
    if total <= 0:
        return [0.0, length], sampled
    return [length * bounds[i] / total for i in indices], sampled


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _line(x1: float, y1: float, x2: float, y2: float, bold: bool = False) -> str:
    width = ' style="stroke-width:2"' if bold else ""
    return f'<line x1="{_f(x1)}" y1="{_f(y1)}" x2="{_f(x2)}" y2="{_f(y2)}"{width} />'


def _polygon(points: list) -> str:
    text = " ".join(f"{_f(a)},{_f(b)}" for a, b in points)
    return f'<polygon points="{text}" style="fill:#ECB172A0;stroke-width:0"/>'


def _text(x: float, y: float, label: str, rotate: float | None = None) -> str:
    transform = f' transform="rotate({_f(rotate)},{_f(x)},{_f(y)})"' if rotate is not None else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="1.0rem" font-weight="100" '
        f'text-anchor="middle"{transform}>{html.escape(label)}</text>'
    )


def _svg(width: float, height: float, body: list) -> str:
    return (
        f'<svg width="{_f(width)}" height="{_f(height)}" style="stroke:rgb(0,0,0);stroke-width:1" '
        'xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(body) + "\n</svg>"
    )


def _svg_2d(chunks: tuple, shape_labels: tuple, sizes: list | None = None) -> tuple[str, bool]:
    rows, cols = chunks
    height, width = sizes if sizes is not None else _draw_sizes((sum(rows), sum(cols)))
    ys, sampled_y = _lines(rows, height)
    xs, sampled_x = _lines(cols, width)
    off = 10
    body = [_polygon([(off, off), (off + width, off), (off + width, off + height), (off, off + height)])]
    for i, y in enumerate(ys):
        body.append(_line(off, off + y, off + width, off + y, bold=i in (0, len(ys) - 1)))
    for i, x in enumerate(xs):
        body.append(_line(off + x, off, off + x, off + height, bold=i in (0, len(xs) - 1)))
    if shape_labels[1] is not None:
        body.append(_text(off + width / 2, off + height + 20, shape_labels[1]))
    if shape_labels[0] is not None:
        body.append(_text(off + width + 20, off + height / 2, shape_labels[0], rotate=-90))
    return _svg(width + off + 40, height + off + 40, body), sampled_x or sampled_y


def _svg_3d(chunks: tuple, shape_labels: tuple) -> tuple[str, bool]:
    depth_chunks, row_chunks, col_chunks = chunks
    d, h, w = _draw_sizes(tuple(sum(c) for c in chunks))
    d *= 0.5  # oblique projection: depth drawn at half length, at 45 degrees
    dx = dy = d / math.sqrt(2)
    ds, sampled_d = _lines(depth_chunks, 1.0)
    hs, sampled_h = _lines(row_chunks, h)
    ws, sampled_w = _lines(col_chunks, w)
    ox, oy = 30, 20 + dy  # room for the depth label at the top left

    def point(z: float, y: float, x: float) -> tuple:
        """Screen coordinates of depth fraction ``z``, row ``y``, column ``x``."""
        return (ox + x + z * dx, oy + y - z * dy)

    body = [
        _polygon([point(0, 0, 0), point(0, 0, w), point(0, h, w), point(0, h, 0)]),
        _polygon([point(0, 0, 0), point(1, 0, 0), point(1, 0, w), point(0, 0, w)]),
        _polygon([point(0, 0, w), point(1, 0, w), point(1, h, w), point(0, h, w)]),
    ]

    def seg(a: tuple, b: tuple, bold: bool) -> str:
        return _line(*a, *b, bold=bold)

    for i, y in enumerate(hs):  # front rows, and along the right face
        edge = i in (0, len(hs) - 1)
        body.append(seg(point(0, y, 0), point(0, y, w), edge))
        body.append(seg(point(0, y, w), point(1, y, w), edge))
    for i, x in enumerate(ws):  # front columns, and along the top face
        edge = i in (0, len(ws) - 1)
        body.append(seg(point(0, 0, x), point(0, h, x), edge))
        body.append(seg(point(0, 0, x), point(1, 0, x), edge))
    for i, z in enumerate(ds):  # depth boundaries on the top and the right faces
        edge = i in (0, len(ds) - 1)
        body.append(seg(point(z, 0, 0), point(z, 0, w), edge))
        body.append(seg(point(z, 0, w), point(z, h, w), edge))
    body.append(_text(ox + w / 2, oy + h + 20, shape_labels[2]))
    body.append(_text(ox + w + dx + 20, oy - dy + h / 2, shape_labels[1], rotate=-90))
    mid = point(0.5, 0, 0)
    body.append(_text(mid[0] - 12, mid[1] - 8, shape_labels[0], rotate=-45))
    return _svg(w + dx + 80, h + dy + 70, body), sampled_d or sampled_h or sampled_w


def _diagram(x: Any) -> str:
    chunks = x.chunks
    if has_unknown(chunks):
        return (
            "<p>Block sizes are unknown (nan), e.g. after boolean indexing: no diagram. "
            "Call <code>x.compute_chunk_sizes()</code> to draw it.</p>"
        )
    labels = tuple(str(int(sum(c))) for c in chunks)
    note = ""
    if x.ndim == 0:
        svg, sampled = _svg_2d(((1,), (1,)), (None, None), sizes=[20, 20])
        note = "0-d array: one element, one block"
    elif x.ndim == 1:
        width = _draw_sizes((sum(chunks[0]),))[0]
        svg, sampled = _svg_2d(((1,), chunks[0]), (None, labels[0]), sizes=[25, max(width, 25)])
    elif x.ndim == 2:
        svg, sampled = _svg_2d(chunks, labels)
    else:
        svg, sampled = _svg_3d(chunks[-3:], labels[-3:])
        if x.ndim > 3:
            lead = ", ".join(labels[:-3])
            note = f"showing the last 3 of {x.ndim} axes (leading axes: {lead})"
    notes = [note] if note else []
    if sampled:
        notes.append(f"grid lines sampled: at most {MAX_LINES} drawn per axis")
    return svg + "".join(f"<p>{html.escape(n)}</p>" for n in notes)


def array_repr_html(x: Any) -> str:
    """The HTML Jupyter shows for an array: a table and a drawing of its blocks."""
    return (
        '<table>\n<tr>\n<td>\n' + _table(x) + "\n</td>\n<td>\n" + _diagram(x) + "\n</td>\n</tr>\n</table>"
    )


def _chunktype(x: Any) -> str:
    """The type of the blocks, as Dask's repr names it."""
    return "numpy.MaskedArray" if is_masked(x) else "numpy.ndarray"
