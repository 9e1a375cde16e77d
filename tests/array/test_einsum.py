"""einsum against NumPy on the same data."""

from __future__ import annotations

import numpy as np
import pytest

import chunkwise.array as da
from chunkwise.array.testing import assert_eq, with_unknown_chunks

RNG = np.random.default_rng(0)
A = RNG.random((5, 4))
B = RNG.random((4, 6))
C = RNG.random(6)
S = RNG.random((5, 5))
T = RNG.random((2, 5, 4))
D = RNG.random((3, 3, 2))


def _chunked(name):
    chunks = {"A": (2, 3), "B": (3, 4), "C": 4, "S": (2, 3), "T": (1, 2, 3), "D": 2}[name]
    return da.from_array(globals()[name], chunks=chunks)


@pytest.mark.parametrize(
    "spec, names",
    [
        ("ij,jk->ik", "AB"),
        ("ij,jk", "AB"),  # implicit output
        ("ij->ji", "A"),
        ("ji", "A"),
        ("ij->", "A"),
        ("ii->i", "S"),  # diagonal
        ("ii", "S"),  # trace
        ("iij->ij", "D"),
        ("i,i", "CC"),
        ("i,j->ij", "CC"),
        ("ij,jk,k->i", "ABC"),
        ("...ij,jk->...ik", "TB"),
        ("bij,bkj->bik", "TT"),
        ("...j,...j->...", "TA"),  # '...' broadcasts
        ("ij...->...", "T"),
        ("b...", "T"),
        ("ijk->kji", "T"),
    ],
)
def test_einsum_matches_numpy(spec, names):
    arrays = [_chunked(n) for n in names]
    expected = np.einsum(spec, *[globals()[n] for n in names])
    assert_eq(da.einsum(spec, *arrays), expected)
    assert_eq(np.einsum(spec, *arrays), expected, schedulers=("sync",))


def test_einsum_dtypes_empty_and_unknown_chunks():
    ai = np.arange(12, dtype=np.int32).reshape(3, 4)
    xi = da.from_array(ai, chunks=2)
    assert_eq(da.einsum("ij,ij->i", xi, xi), np.einsum("ij,ij->i", ai, ai))
    assert_eq(da.einsum("ij->", xi, dtype=np.float64), np.einsum("ij->", ai, dtype=np.float64))
    with pytest.raises(TypeError, match="einsum"):
        da.einsum("ij->", xi, dtype=np.float32)  # not a 'safe' cast, as in NumPy
    e = np.zeros((0, 3))
    assert_eq(da.einsum("ij,jk", da.from_array(e), da.from_array(np.ones((3, 2)))), np.zeros((0, 2)))
    assert_eq(da.einsum("ij->j", da.from_array(e)), np.zeros(3))
    u = with_unknown_chunks(_chunked("A"))
    assert_eq(da.einsum("ij->i", u), A.sum(axis=1))
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.einsum("ij->j", u)


def test_einsum_zero_d_and_one_element():
    z = da.from_array(np.float64(3.0))
    o = da.from_array(np.array([2.0]))
    assert_eq(da.einsum("", z), np.float64(3.0))
    assert_eq(da.einsum(",->", z, z), np.float64(9.0))
    assert_eq(da.einsum("i,->i", o, z), np.array([6.0]))
    assert_eq(da.einsum("i->", o), np.float64(2.0))


def test_einsum_tasks_hold_one_block_per_operand():
    from chunkwise.core.expr import lower

    x, y = _chunked("A"), _chunked("B")
    graph = lower([da.einsum("ij,jk->ik", x, y).expr])
    for task in graph.values():
        deps = [k for k in task.dependencies if k[0] in (x.name, y.name)]
        assert len(deps) <= 2


@pytest.mark.parametrize(
    "spec, n, match",
    [
        ("ij,jk->ik", 1, "name 2 operand"),
        ("ij->ii", 1, "repeats"),
        ("ij,jk", 2, "lengths 4 and 5"),
        ("i2", 1, "character '2'"),
        ("ij->i->j", 1, "at most one '->'"),
        ("ijk", 1, "names 3 dimension"),
        ("ij->k", 1, "'k' does not appear"),
        ("i...j...", 1, "'...' more than once"),
    ],
)
def test_einsum_errors(spec, n, match):
    x = _chunked("A")
    with pytest.raises(ValueError, match=match):
        da.einsum(spec, *[x] * n)


def test_einsum_unsupported_forms():
    x = _chunked("A")
    with pytest.raises(NotImplementedError, match="subscripts-string"):
        da.einsum(x, [0, 1])
    with pytest.raises(TypeError, match="out="):
        da.einsum("ij", x, out=np.empty((5, 4)))
