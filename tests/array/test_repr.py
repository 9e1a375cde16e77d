"""Text and HTML representations of arrays."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.core import Array
from chunkwise.array.expr import FromArray
from chunkwise.array.repr import MAX_LINES, array_repr, array_repr_html
from chunkwise.sizes import format_bytes


class FakeSource:
    """Shape and dtype of a huge array, never read."""

    def __init__(self, shape, dtype="f8"):
        self.shape = shape
        self.dtype = np.dtype(dtype)

    def __getitem__(self, index):
        raise AssertionError("the repr must not read data")


def _svgs(html: str) -> list:
    """Every ``<svg>`` element in ``html``, parsed as XML (so it must be valid)."""
    found = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    return [ET.fromstring(s) for s in found]


def _count(svg, tag: str) -> int:
    return sum(1 for el in svg.iter() if el.tag.endswith(tag))


def test_text_repr():
    x = da.from_array(np.arange(12).reshape(3, 4), chunks=2)
    assert array_repr(x) == repr(x)
    assert repr(x).startswith("chunkwise.array<array, shape=(3, 4), dtype=int64, chunksize=(2, 2)")


@pytest.mark.parametrize(
    ("shape", "chunks", "nblocks"),
    [
        ((), (), 1),
        ((7,), 3, 3),
        ((5, 7), ((2, 0, 3), (1, 4, 2)), 9),
        ((4, 5, 6), (2, 5, 3), 4),
        ((2, 4, 5, 6), (1, 2, 5, 3), 8),
    ],
)
def test_html_repr_dimensions(shape, chunks, nblocks):
    x = da.from_array(np.zeros(shape), chunks=chunks)
    html = x._repr_html_()
    assert html == array_repr_html(x)
    (svg,) = _svgs(html)
    assert _count(svg, "line") >= 2
    assert format_bytes(x.nbytes) in html
    assert f"{nblocks:,} block" in html
    assert "float64" in html and "Bytes" in html and "Shape" in html and "Blocks" in html
    shape_text = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    assert shape_text in html
    if len(shape) > 3:
        assert "last 3 of 4 axes" in html


def test_html_repr_numbers():
    x = da.from_array(np.zeros((1000, 2000), dtype="f4"), chunks=(300, 700))
    html = array_repr_html(x)
    assert "7.63 MiB" in html  # 8,000,000 bytes
    assert "820.31 kiB" in html  # a 300 x 700 float32 block
    assert "(1000, 2000)" in html and "(300, 700)" in html
    assert "12 blocks (4 \u00d7 3)" in html
    (svg,) = _svgs(html)
    assert _count(svg, "line") == 5 + 4  # row and column boundaries
    widths = float(svg.get("width")), float(svg.get("height"))
    assert widths[0] > widths[1]  # wider than tall, like the array


def test_html_repr_extreme_aspect_ratio_is_capped():
    x = Array(FromArray(FakeSource((10, 10**7)), ((10,), (10**6,) * 10), None, "thin"))
    (svg,) = _svgs(array_repr_html(x))
    assert float(svg.get("height")) >= 10 + 40 + 120 / 12 - 1e-6


def test_html_repr_empty_and_unknown():
    empty = da.from_array(np.zeros((0, 4)), chunks=2)
    html = array_repr_html(empty)
    assert "0 B" in html and "(0, 4)" in html
    assert len(_svgs(html)) == 1

    unknown = Array(FromArray(np.zeros((4, 3)), ((np.nan, np.nan), (3,)), None, "unknown"))
    html = array_repr_html(unknown)
    assert "<svg" not in html and "compute_chunk_sizes" in html
    assert "(?, 3)" in html and "?" in html


def test_html_repr_escapes_dtype():
    x = da.from_array(np.array(["a", "bc"]), chunks=1)
    html = array_repr_html(x)
    assert "&lt;U2" in html and "<U2" not in html


def test_html_repr_many_blocks_is_small_and_fast():
    n = 10_000
    x = Array(FromArray(FakeSource((n, n)), ((1,) * n, (1,) * n), None, "huge"))
    start = time.thread_time()  # CPU time of this thread: holds on a loaded machine
    html = array_repr_html(x)
    elapsed = time.thread_time() - start
    assert elapsed < 2.0
    assert len(html) < 200_000
    (svg,) = _svgs(html)
    assert _count(svg, "line") <= 2 * MAX_LINES + 2
    assert "100,000,000 blocks" in html and "sampled" in html

    x3 = Array(FromArray(FakeSource((n, n, 4)), ((1,) * n, (1,) * n, (1,) * 4), None, "huge3"))
    html3 = array_repr_html(x3)
    assert len(html3) < 200_000
    (svg3,) = _svgs(html3)
    assert _count(svg3, "line") <= 6 * MAX_LINES + 10


def test_format_bytes():
    assert format_bytes(1023) == "1023 B"
    assert format_bytes(2**30) == "1.00 GiB"
    assert format_bytes(float("nan")) == "?"
