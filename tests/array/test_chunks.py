"""Chunk specifications: every form users write normalizes to tuples of block lengths."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chunkwise
import chunkwise.array as da
from chunkwise.array.chunks import normalize_chunks
from chunkwise.array.testing import assert_eq
from chunkwise.sizes import parse_bytes

shapes = st.lists(st.integers(0, 30), min_size=0, max_size=3).map(tuple)


@settings(max_examples=80, deadline=None)
@given(shapes, st.data())
def test_any_spec_covers_the_shape(shape, data):
    spec = data.draw(
        st.one_of(
            st.integers(1, 10),
            st.just(-1),
            st.just(None),
            st.just("auto"),
            st.tuples(*[st.one_of(st.integers(1, 10), st.just(-1)) for _ in shape]),
        )
    )
    chunks = normalize_chunks(spec, shape, dtype="f8")
    assert len(chunks) == len(shape)
    for axis_chunks, size in zip(chunks, shape):
        assert sum(axis_chunks) == size
        assert all(c >= 0 for c in axis_chunks)
        assert size == 0 or all(c > 0 for c in axis_chunks)


@settings(max_examples=50, deadline=None)
@given(shapes, st.data())
def test_from_array_with_random_explicit_chunks(shape, data):
    chunks = []
    for size in shape:
        cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=4)))
        bounds = [0, *cuts, size]
        chunks.append(tuple(b - a for a, b in zip(bounds, bounds[1:])) or (0,))
    a = np.arange(math.prod(shape), dtype="i4").reshape(shape)
    x = da.from_array(a, chunks=tuple(chunks))
    assert x.chunks == tuple(chunks)
    assert_eq(x + 1, a + 1, schedulers=("sync",))


def test_spec_forms():
    assert normalize_chunks(3, (7, 2)) == ((3, 3, 1), (2,))
    assert normalize_chunks((2, -1), (4, 5)) == ((2, 2), (5,))
    assert normalize_chunks((None, 2), (4, 5)) == ((4,), (2, 2, 1))
    assert normalize_chunks({1: 2}, (4, 5)) == ((4,), (2, 2, 1))
    assert normalize_chunks({-1: 2}, (4, 5), previous_chunks=((1, 3), (5,))) == ((1, 3), (2, 2, 1))
    assert normalize_chunks(((1, 3), (5,)), (4, 5)) == ((1, 3), (5,))
    assert normalize_chunks([2, 5], (4, 5)) == ((2, 2), (5,))
    assert normalize_chunks((), ()) == ()
    assert normalize_chunks(((math.nan, math.nan),), (math.nan,))[0][0] != 0


def test_auto_and_byte_limits():
    chunks = normalize_chunks("auto", (10_000, 10_000), dtype="f8", limit="8 MiB")
    block = max(chunks[0]) * max(chunks[1]) * 8
    assert block <= 8 * 2**20 and block > 2 * 2**20
    with chunkwise.config.set({"array.chunk_size": "1 MiB"}):
        chunks = normalize_chunks("auto", (4096, 4096), dtype="f8")
    assert max(chunks[0]) * max(chunks[1]) * 8 <= 2**20
    chunks = normalize_chunks("64 KiB", (1000, 1000), dtype="f4")
    assert max(chunks[0]) * max(chunks[1]) * 4 <= 64 * 2**10
    assert parse_bytes("1 GiB") == 2**30 and parse_bytes("5kB") == 5000


@pytest.mark.parametrize(
    ("spec", "shape", "message"),
    [
        ((2, 2), (4, 4, 4), "2 entries but the array has 3 axes"),
        (((2, 2), (3,)), (4, 4), "axis 1"),
        (0, (4,), "positive"),
        ({5: 1}, (4,), "names axis 5"),
        ("lots", (4,), "axis 0"),
        (((-1, 5),), (4,), "negative"),
        (1.5, (4,), "chunks must be"),
    ],
)
def test_errors_name_the_axis_and_spec(spec, shape, message):
    with pytest.raises((ValueError, TypeError), match=message):
        normalize_chunks(spec, shape)


def test_parse_bytes_errors():
    with pytest.raises(ValueError, match="size in bytes"):
        parse_bytes("12 parsecs")
