"""chunkwise.ml.validation: inputs checked from metadata, X and y paired block by block."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

import chunkwise.array as da
import chunkwise.dataframe as dd
from chunkwise.array.testing import with_unknown_chunks
from chunkwise.ml.validation import (
    as_row_blocks,
    check_array,
    check_is_fitted,
    check_random_state_seed,
    check_X_y,
    map_row_blocks,
    tree_reduce,
)

rng = np.random.default_rng(0)
X_np = rng.standard_normal((23, 3))
y_np = rng.integers(0, 3, 23)


def test_check_array_numpy_goes_through_sklearn():
    out = check_array(X_np.astype(np.int32), "fit")
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    with pytest.raises(ValueError, match="2D"):
        check_array(np.arange(3.0), "fit")


def test_check_array_chunked_casts_lazily_and_checks_dimensions():
    X = da.from_array(np.arange(12).reshape(6, 2), chunks=(4, 2))
    out = check_array(X, "fit")
    assert isinstance(out, da.Array) and out.dtype == np.float64
    np.testing.assert_array_equal(out.compute(), np.arange(12.0).reshape(6, 2))
    with pytest.raises(ValueError, match="fit: expected a 2-D X"):
        check_array(da.arange(4, chunks=2), "fit")
    with pytest.raises(TypeError, match="dtype"):
        check_array(da.from_array(np.array([["a"], ["b"]]), chunks=1), "fit")


def test_check_array_unknown_chunks_refused_or_computed():
    X = with_unknown_chunks(da.from_array(X_np, chunks=(5, 3)))
    with pytest.raises(ValueError, match=r"fit: X has unknown chunk sizes.*compute_chunk_sizes\(\)"):
        check_array(X, "fit")
    out = check_array(X, "fit", compute_chunk_sizes=True)
    assert out.chunks[0] == (5, 5, 5, 5, 3)


def test_check_array_dataframe():
    df = dd.from_pandas(pd.DataFrame(X_np, columns=list("abc")), npartitions=3)
    out = check_array(df, "fit")
    assert isinstance(out, da.Array)
    np.testing.assert_array_equal(out.compute(), X_np)


@pytest.mark.parametrize("x_chunks,y_chunks", [(5, 7), (23, 4), ((10, 13), ((13, 10),))])
def test_check_X_y_rechunks_y_to_X_rows(x_chunks, y_chunks, scheduler):
    X = da.from_array(X_np, chunks=(x_chunks, 1))
    y = da.from_array(y_np, chunks=y_chunks)
    X2, y2 = check_X_y(X, y, "fit")
    assert X2.numblocks[1] == 1 and y2.chunks[0] == X2.chunks[0]
    for (xb, yb), lo in zip(as_row_blocks(X2, y2), np.cumsum((0,) + X2.chunks[0])):
        xv, yv = xb.compute(scheduler=scheduler), yb.compute(scheduler=scheduler)
        np.testing.assert_array_equal(xv, X_np[lo:lo + len(xv)])
        np.testing.assert_array_equal(yv, y_np[lo:lo + len(yv)])


def test_check_X_y_mismatch_raises_before_computing():
    calls = []

    def spy(block):
        calls.append(1)
        return block

    X = da.from_array(X_np, chunks=5).map_blocks(spy, dtype=float)
    with pytest.raises(ValueError, match="fit: X has 23 rows but y has 22"):
        check_X_y(X, da.from_array(y_np[:22], chunks=5), "fit")
    with pytest.raises(ValueError, match="X has 23 rows but y has 20"):
        check_X_y(X, y_np[:20], "fit")
    assert calls == []


def test_check_X_y_mixed_inputs_and_column_vector():
    X2, y2 = check_X_y(X_np, da.from_array(y_np.reshape(-1, 1), chunks=(6, 1)), "fit")
    assert isinstance(X2, da.Array) and y2.ndim == 1 and X2.chunks[0] == y2.chunks[0]
    np.testing.assert_array_equal(y2.compute(), y_np)
    Xn, yn = check_X_y(X_np, y_np, "fit")
    assert isinstance(Xn, np.ndarray)


def test_map_row_blocks_and_tree_reduce_match_numpy(scheduler):
    X = da.from_array(X_np, chunks=(4, 2))
    y = da.from_array(y_np.astype(float), chunks=7)
    X2, y2 = check_X_y(X, y, "fit")
    parts = map_row_blocks(lambda xb, yb, w: xb.T @ (yb * w), X2, y2, 2.0)
    assert len(parts) == 6
    total = tree_reduce(parts, split_every=2).compute(scheduler=scheduler)
    np.testing.assert_allclose(total, X_np.T @ (y_np * 2.0))
    counts = tree_reduce(map_row_blocks(len, X2)).compute(scheduler=scheduler)
    assert counts == 23


def test_check_is_fitted():
    with pytest.raises(NotFittedError):
        check_is_fitted(StandardScaler())


def test_check_random_state_seed():
    assert check_random_state_seed(3) == 3
    assert check_random_state_seed(np.random.RandomState(0)) == check_random_state_seed(np.random.RandomState(0))
    assert isinstance(check_random_state_seed(None), int)
    with pytest.raises(ValueError, match="random_state"):
        check_random_state_seed("x")
