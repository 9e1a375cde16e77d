"""chunkwise.ml.model_selection: splits keep rows aligned whatever the chunking."""

import numpy as np
import pandas as pd
import pytest

import chunkwise.array as da
import chunkwise.dataframe as dd
from chunkwise.array.testing import with_unknown_chunks
from chunkwise.ml.model_selection import apportion, split_sizes, train_test_split

N = 101
X_np = np.arange(N * 3, dtype=float).reshape(N, 3)
y_np = np.arange(N)


def _check_paired(Xv, yv):
    np.testing.assert_array_equal(Xv[:, 0], 3 * yv)


@pytest.mark.parametrize("x_chunks,y_chunks", [(20, 20), (17, 40), (N, 9), (((50, 0, 51), 3), ((1, 100),))])
@pytest.mark.parametrize("kwargs", [{}, {"test_size": 0.1}, {"train_size": 30, "test_size": 20},
                                    {"blockwise": False}])
def test_rows_stay_aligned(x_chunks, y_chunks, kwargs, scheduler):
    X = da.from_array(X_np, chunks=x_chunks)
    y = da.from_array(y_np, chunks=y_chunks)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, **kwargs)
    values = [a.compute(scheduler=scheduler) for a in (X_train, X_test, y_train, y_test)]
    _check_paired(values[0], values[2])
    _check_paired(values[1], values[3])
    n_train, n_test = split_sizes(N, kwargs.get("test_size"), kwargs.get("train_size"))
    assert len(values[2]) == n_train == X_train.shape[0] and len(values[3]) == n_test == X_test.shape[0]
    assert len(set(values[2]) | set(values[3])) == n_train + n_test  # no row twice
    assert X_train.chunks[0] == y_train.chunks[0]


def test_shuffle_false_keeps_order():
    X = da.from_array(X_np, chunks=13)
    a, b = train_test_split(X, shuffle=False, test_size=0.2)
    np.testing.assert_array_equal(a.compute(), X_np[:80])
    np.testing.assert_array_equal(b.compute(), X_np[80:])


def test_seeded_split_is_the_same_on_every_scheduler_and_shuffles():
    X = da.from_array(X_np, chunks=25)
    a = train_test_split(X, random_state=3)[0]
    assert np.array_equal(a.compute(scheduler="sync"), a.compute(scheduler="threads"))
    assert np.array_equal(a.compute(), train_test_split(X, random_state=3)[0].compute())
    assert not np.array_equal(a.compute(), train_test_split(X, random_state=4)[0].compute())
    assert not np.array_equal(np.sort(a.compute()[:, 0]), a.compute()[:, 0])


def test_mismatched_lengths_raise_before_computing():
    calls = []

    def spy(block):
        calls.append(1)
        return block

    X = da.from_array(X_np, chunks=10).map_blocks(spy, dtype=float)
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[101, 100\\]"):
        train_test_split(X, da.from_array(y_np[:100], chunks=10))
    with pytest.raises(ValueError, match="inconsistent"):
        train_test_split(X, y_np[:50])
    assert calls == []


def test_unknown_chunks_error_names_the_fix():
    X = with_unknown_chunks(da.from_array(X_np, chunks=10))
    with pytest.raises(ValueError, match=r"train_test_split.*compute_chunk_sizes\(\)"):
        train_test_split(X)


def test_numpy_and_mixed_inputs():
    a, b, c, d = train_test_split(X_np, y_np, random_state=0)
    assert isinstance(a, np.ndarray)
    a, b, c, d = train_test_split(da.from_array(X_np, chunks=30), y_np, random_state=0)
    assert isinstance(c, da.Array)
    _check_paired(a.compute(), c.compute())


def test_dataframes_split_per_partition(scheduler):
    pdf = pd.DataFrame({"a": y_np, "b": 3.0 * y_np})
    df = dd.from_pandas(pdf, npartitions=4)
    tr, te, ytr, yte = train_test_split(df, df.b, random_state=1, test_size=0.3)
    trv, tev = tr.compute(scheduler=scheduler), te.compute(scheduler=scheduler)
    assert isinstance(trv, pd.DataFrame) and list(trv.columns) == ["a", "b"]
    assert len(tev) == 31 and len(trv) == 70
    assert sorted(trv.a.tolist() + tev.a.tolist()) == list(range(N))
    pd.testing.assert_series_equal(ytr.compute(scheduler=scheduler), trv.b)
    head, tail = train_test_split(df, shuffle=False, test_size=0.3)
    pd.testing.assert_frame_equal(head.compute(), pdf.iloc[:70])
    pd.testing.assert_frame_equal(tail.compute(), pdf.iloc[70:])


def test_split_size_errors_match_sklearn():
    with pytest.raises(ValueError, match="test_size=1.5"):
        split_sizes(10, 1.5, None)
    with pytest.raises(ValueError, match="train_size and test_size = 12"):
        split_sizes(10, 6, 6)
    assert split_sizes(10, None, None) == (7, 3)
    assert apportion(10, [3, 3, 4]) == [3, 3, 4]
    assert sum(apportion(7, [5, 5, 5])) == 7
