"""Bridges: from_pandas/from_dict/from_array, to_dask_array/.values, from_delayed, to_delayed, from_map."""

import math

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.array as da
import chunkwise.dataframe as dd
from chunkwise import delayed
from chunkwise.dataframe import assert_eq


def test_from_dict(scheduler):
    data = {"a": [1, 2, 3, 4], "b": ["w", "x", "y", "z"]}
    df = dd.from_dict(data, npartitions=2)
    assert df.npartitions == 2
    assert_eq(df, pd.DataFrame(data), scheduler=scheduler)
    rows = dd.from_dict({"r1": [1, 2], "r2": [3, 4]}, orient="index", columns=["p", "q"], npartitions=1)
    assert_eq(rows, pd.DataFrame.from_dict({"r1": [1, 2], "r2": [3, 4]}, orient="index", columns=["p", "q"]))


def test_from_array_chunkwise_2d(scheduler):
    x = np.arange(20, dtype="float64").reshape(10, 2)
    arr = da.from_array(x, chunks=((3, 3, 4), (1, 1)))
    df = dd.from_array(arr, columns=["a", "b"])
    assert isinstance(df, dd.DataFrame)
    assert df.npartitions == 3
    assert df.divisions == (0, 3, 6, 9)
    assert_eq(df, pd.DataFrame(x, columns=["a", "b"]), scheduler=scheduler)


def test_from_array_1d_and_numpy():
    x = np.arange(7)
    s = dd.from_array(da.from_array(x, chunks=3), columns="v")
    assert isinstance(s, dd.Series)
    assert s.name == "v"
    assert_eq(s, pd.Series(x, name="v"))
    df = dd.from_array(np.ones((5, 3)), chunksize=2)
    assert list(df.columns) == [0, 1, 2]
    assert_eq(df, pd.DataFrame(np.ones((5, 3))))
    with pytest.raises(ValueError, match="2 column names for an array with 3 columns"):
        dd.from_array(np.ones((5, 3)), columns=["a", "b"])
    with pytest.raises(ValueError, match="1-d or 2-d"):
        dd.from_array(np.ones((2, 2, 2)))


def test_from_array_unknown_chunks():
    arr = da.from_array(np.arange(10), chunks=4)
    masked = arr[arr % 2 == 0]
    s = dd.from_array(masked)
    assert not s.known_divisions
    out = s.compute()
    assert out.tolist() == [0, 2, 4, 6, 8]


def test_to_dask_array_lengths(pdf, scheduler):
    df = dd.from_pandas(pdf[["i", "f"]], npartitions=3)
    x = df.values
    assert isinstance(x, da.Array)
    assert x.chunks == ((7, 7, 6), (2,))
    np.testing.assert_array_equal(x.compute(scheduler=scheduler), pdf[["i", "f"]].values)
    filtered = df[df.i > 0]
    y = filtered.to_dask_array()
    assert all(math.isnan(c) for c in y.chunks[0])
    z = filtered.to_dask_array(lengths=True)
    expected = pdf[["i", "f"]][pdf.i > 0]
    assert sum(z.chunks[0]) == len(expected)
    np.testing.assert_array_equal(z.compute(), expected.values)
    assert df.i.values.chunks == ((7, 7, 6),)
    np.testing.assert_array_equal((df.i.values + 1).compute(), pdf.i.values + 1)
    with pytest.raises(ValueError, match="2 lengths for 3 partitions"):
        df.to_dask_array(lengths=[1, 2])


def test_to_dask_array_strings(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    x = df.s.values
    assert x.dtype == np.dtype(object)
    out = x.compute()
    assert list(out[~pd.isna(out)]) == list(pdf.s.dropna())


def test_round_trip_through_array(pdf):
    df = dd.from_pandas(pdf[["i", "f"]].reset_index(drop=True), npartitions=3)
    back = dd.from_array(df.to_dask_array(), columns=["i", "f"])
    assert back.known_divisions
    assert_eq(back, pdf[["i", "f"]].reset_index(drop=True).astype("float64"))


def test_from_delayed(pdf, scheduler):
    pieces = [pdf.iloc[:5], pdf.iloc[5:12], pdf.iloc[12:]]
    parts = [delayed(lambda p: p)(p) for p in pieces]
    df = dd.from_delayed(parts, meta=pdf.iloc[:0])
    assert df.npartitions == 3
    assert not df.known_divisions
    assert_eq(df, pdf, scheduler=scheduler)
    inferred = dd.from_delayed(parts)
    assert_eq(inferred, pdf)
    divided = dd.from_delayed(parts, meta=pdf, divisions=(0, 10, 24, 38))
    assert divided.known_divisions
    assert_eq(divided.loc[10:20], pdf.loc[10:20])


def test_from_delayed_verifies_meta(pdf):
    parts = [delayed(lambda p: p)(pdf.iloc[:5]), delayed(lambda: pdf[["i"]])()]
    df = dd.from_delayed(parts, meta=pdf.iloc[:0])
    with pytest.raises(ValueError, match=r"from_delayed: partition 1 has columns \['i'\]"):
        df.compute()
    unchecked = dd.from_delayed(parts, meta=pdf.iloc[:0], verify_meta=False)
    assert len(unchecked.partitions[0].compute()) == 5
    with pytest.raises(TypeError, match="expected Delayed values"):
        dd.from_delayed([pdf])
    with pytest.raises(ValueError, match="2 partitions need 3 divisions"):
        dd.from_delayed(parts, meta=pdf, divisions=(0, 1))


def test_to_delayed(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    parts = (df.i + 1).to_delayed()
    assert len(parts) == 3
    pd.testing.assert_series_equal(parts[1].compute(), pdf.i.iloc[7:14] + 1)
    total = delayed(sum)([delayed(len)(p) for p in parts])
    assert total.compute() == len(pdf)
    again = dd.from_delayed(parts, meta=df.i._meta)
    assert_eq(again, pdf.i + 1, check_divisions=False)


def test_from_map(scheduler):
    def make(i, scale=1):
        return pd.DataFrame({"i": [i] * (i + 1), "v": np.arange(i + 1) * scale})

    df = dd.from_map(make, range(4), scale=2)
    assert df.npartitions == 4
    expected = pd.concat([make(i, 2) for i in range(4)])
    assert_eq(df, expected, scheduler=scheduler)
    zipped = dd.from_map(lambda a, b: pd.DataFrame({"s": [a + b]}), [1, 2], [10, 20])
    assert zipped.s.compute().tolist() == [11, 22]

    def fails(i):
        raise OSError("no such file")

    with pytest.raises(ValueError, match=r"from_map\(fails\).*meta="):
        dd.from_map(fails, range(2))


def test_compute_bridges_together(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    a, b = chunkwise.compute(df.i.values.sum(), df.i + 1)
    assert a == pdf.i.sum()


@pytest.mark.parametrize(
    "index, known",
    [
        (pd.Index(list("abcdefghijkl"), dtype="str"), True),
        (pd.Index([str(i) for i in range(12)], dtype=object), True),
        (pd.date_range("2024-01-01", periods=12, tz="UTC"), True),
        (pd.Index([1.5, 1.5, 1.5, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0, 4.0, 5.0, 5.0]), True),
        (pd.MultiIndex.from_product([[1, 2, 3], ["x", "y", "z", "w"]]), False),
        (pd.CategoricalIndex(list("aabbccddeeff")), False),
        (pd.Index([3.0, np.nan, 1.0, 2.0] * 3), False),
    ],
)
def test_from_pandas_index_kinds(index, known):
    pdf = pd.DataFrame({"x": np.arange(12), "s": list("abcdefghijkl")}, index=index)
    df = dd.from_pandas(pdf, npartitions=3)
    assert df.known_divisions is known
    assert_eq(df, pdf.sort_index())
    assert_eq(df.x + 1, pdf.sort_index().x + 1)
    pd.testing.assert_frame_equal(df.head(2), pdf.sort_index().head(2))


def test_lengths_survive_row_preserving_work(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    lengths = (7, 7, 6)
    assert (df.i + 1).values.chunks[0] == lengths
    assert df.s.str.upper().values.chunks[0] == lengths
    assert df.fillna({"f": 0}).assign(z=df.i * 2)[["f", "z"]].to_dask_array().chunks[0] == lengths
    assert df.partitions[1:].i.values.chunks[0] == (7, 6)
    assert df.persist().i.values.chunks[0] == lengths
    for unknown in (df[df.i > 0], df.dropna(), df.query("i > 0"), df.map_partitions(lambda p: p)):
        assert all(math.isnan(c) for c in unknown.i.values.chunks[0])
