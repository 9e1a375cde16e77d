"""``dd.concat`` against pandas: rows (divisions kept, interleaved, unknown), columns, joins, dtypes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq


@pytest.fixture
def pieces():
    rng = np.random.default_rng(8)
    a = pd.DataFrame({"x": rng.integers(0, 9, 20), "s": pd.Series(list("abcdefghij") * 2, dtype="str")},
                     index=np.arange(20))
    b = pd.DataFrame({"x": rng.integers(0, 9, 15), "y": rng.normal(size=15)}, index=np.arange(30, 45))
    return a, b


def test_rows_that_follow_each_other_keep_divisions(pieces, scheduler):
    a, b = pieces
    da, db = dd.from_pandas(a, npartitions=3), dd.from_pandas(b, npartitions=2)
    result = dd.concat([da, db])
    assert result.known_divisions
    assert result.divisions == da.divisions[:-1] + db.divisions  # a's last bound gives way to b's first
    assert result.npartitions == 5
    expected = pd.concat([a, b])
    assert list(result.columns) == ["x", "s", "y"]
    assert_eq(result, expected, scheduler=scheduler)  # dtypes too: x int64, y float64 with nulls


def test_overlapping_rows_unknown_divisions_or_interleaved(pieces, scheduler):
    a, _ = pieces
    first, second = a.iloc[::2], a.iloc[1::2]
    d1, d2 = dd.from_pandas(first, npartitions=2), dd.from_pandas(second, npartitions=3)
    stacked = dd.concat([d1, d2])
    assert not stacked.known_divisions and stacked.npartitions == 5
    assert_eq(stacked, pd.concat([first, second]), scheduler=scheduler)
    interleaved = dd.concat([d1, d2], interleave_partitions=True)
    assert interleaved.known_divisions
    assert "Repartition" in interleaved.explain(show=False)
    got = interleaved.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got.sort_index(), a)
    dd.assert_eq(interleaved.map_partitions(lambda p: p.sort_index()), a, scheduler=scheduler)


def test_inner_join_of_columns_and_series(pieces, scheduler):
    a, b = pieces
    da, db = dd.from_pandas(a, npartitions=2), dd.from_pandas(b, npartitions=2)
    assert_eq(dd.concat([da, db], join="inner"), pd.concat([a, b], join="inner"), scheduler=scheduler)
    assert_eq(dd.concat([da.x, db.x]), pd.concat([a.x, b.x]), scheduler=scheduler)
    assert_eq(dd.concat([da, b]), pd.concat([a, b]), scheduler=scheduler)  # a pandas frame too


def test_ignore_index_numbers_each_partition(pieces):
    a, b = pieces
    result = dd.concat([dd.from_pandas(a, npartitions=2), dd.from_pandas(b, npartitions=1)], ignore_index=True)
    assert not result.known_divisions
    got = result.compute()
    expected = pd.concat([a, b], ignore_index=True)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)


def test_categoricals_with_other_categories(scheduler):
    a = pd.DataFrame({"c": pd.Categorical(["x", "y"])}, index=[0, 1])
    b = pd.DataFrame({"c": pd.Categorical(["z", "x"])}, index=[2, 3])
    result = dd.concat([dd.from_pandas(a, npartitions=1), dd.from_pandas(b, npartitions=1)])
    expected = pd.concat([a, b])
    got = result.compute(scheduler=scheduler)
    pd.testing.assert_series_equal(got.c.astype(str), expected.c.astype(str))


def test_empty_partitions(pieces, scheduler):
    a, b = pieces
    da = dd.from_pandas(a, npartitions=3)
    empty = da[da.x > 100]
    result = dd.concat([empty, dd.from_pandas(b, npartitions=2)])
    assert_eq(result, pd.concat([a[a.x > 100], b]), scheduler=scheduler)


def test_columns_aligned_by_divisions(scheduler):
    idx = np.arange(40)
    a = pd.DataFrame({"x": idx * 1.0}, index=idx)
    b = pd.DataFrame({"y": idx[::2]}, index=idx[::2])
    da, db = dd.from_pandas(a, npartitions=4), dd.from_pandas(b, npartitions=3)
    result = dd.concat([da, db], axis=1)
    assert result.known_divisions
    assert_eq(result, pd.concat([a, b], axis=1), scheduler=scheduler)
    assert_eq(dd.concat([da, db], axis=1, join="inner"), pd.concat([a, b], axis=1, join="inner"),
              scheduler=scheduler)
    assert_eq(dd.concat([da.x, db.y], axis="columns"), pd.concat([a.x, b.y], axis=1), scheduler=scheduler)


def test_columns_with_unknown_divisions(scheduler):
    idx = np.arange(30)
    a = pd.DataFrame({"x": idx, "y": idx * 2.0})
    da = dd.from_pandas(a, npartitions=3)
    kept = da[da.x % 2 == 0].reset_index(drop=True)  # unknown divisions, the same partitioning
    assert not kept.known_divisions
    with pytest.warns(UserWarning, match="assumed"):
        result = dd.concat([kept.x, kept.y.rename("z")], axis=1)
    k = a[a.x % 2 == 0]
    assert result.dtypes["x"] == np.dtype("float64")  # an outer join may leave nulls: null-safe meta
    got = result.compute(scheduler=scheduler)
    assert got.dtypes["x"] == np.dtype("float64")
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  pd.concat([k.x, k.y.rename("z")], axis=1).reset_index(drop=True),
                                  check_dtype=False)
    other = dd.from_pandas(a, npartitions=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="set_index"):
            dd.concat([kept, other[other.x > 0]], axis=1)


def test_errors():
    df = dd.from_pandas(pd.DataFrame({"x": [1]}), npartitions=1)
    with pytest.raises(TypeError, match="list"):
        dd.concat(df)
    with pytest.raises(ValueError, match="axis"):
        dd.concat([df, df], axis=2)
    with pytest.raises(ValueError, match="join"):
        dd.concat([df, df], join="left")
    assert dd.concat([df]).compute().x.tolist() == [1]
