"""head/tail (reading only what they need), loc, iloc[:, cols], partitions[...]."""

import threading

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq


class Recorder:
    """A per-partition identity that records which partitions ran (by their first index)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = []

    def __call__(self, part):
        with self.lock:
            self.seen.append(part.index[0] if len(part) else None)
        return part


def recorded(pdf, **kwargs):
    rec = Recorder()
    df = dd.from_pandas(pdf, **kwargs).map_partitions(rec)
    rec.seen.clear()  # meta inference ran it once on a sample
    return df, rec


def test_head_reads_only_the_first_partition(pdf, scheduler):
    df, rec = recorded(pdf, npartitions=4)
    out = df.head(3)
    pd.testing.assert_frame_equal(out, pdf.head(3))
    assert rec.seen == [pdf.index[0]]  # partitions 1..3 were not built or run


def test_head_graph_has_only_needed_tasks(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    lazy = (df.i + 1).head(2, compute=False)
    graph = lazy.__chunkwise_graph__()
    partitions_named = {k[1] for k in graph if isinstance(k, tuple) and len(k) == 2}
    assert partitions_named <= {0}
    assert_eq(lazy, pdf.i.head(2) + 1)


def test_head_grows_when_first_partition_is_short(pdf):
    df, rec = recorded(pdf, npartitions=5)  # 4 rows per partition
    out = df.head(9)
    pd.testing.assert_frame_equal(out, pdf.head(9))
    # read 1, then 1 more, then 2 more: partitions 0..3, never the fifth
    assert sorted(rec.seen) == sorted(pdf.index[[0, 4, 8, 12]])
    assert len(rec.seen) == 4


def test_head_after_filter_emptying_partitions(pdf):
    df = dd.from_pandas(pdf, npartitions=5)
    pd.testing.assert_frame_equal(df[df.index > 20].head(2), pdf[pdf.index > 20].head(2))
    pd.testing.assert_frame_equal(df[df.i > 100].head(2), pdf[pdf.i > 100].head(2))


def test_head_npartitions(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    pd.testing.assert_frame_equal(df.head(12, npartitions=2), pdf.head(12))
    pd.testing.assert_frame_equal(df.head(100, npartitions=-1), pdf)
    with pytest.raises(ValueError, match="only 4 partitions"):
        df.head(3, npartitions=9)
    with pytest.raises(ValueError, match="non-negative"):
        df.head(-1)


def test_tail(pdf):
    df, rec = recorded(pdf, npartitions=4)
    pd.testing.assert_frame_equal(df.tail(3), pdf.tail(3))
    assert len(rec.seen) == 1
    pd.testing.assert_series_equal(df.i.tail(7), pdf.i.tail(7))
    pd.testing.assert_frame_equal(df.tail(100), pdf)


def test_partitions(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    assert_eq(df.partitions[1], pdf.iloc[5:10])
    assert_eq(df.partitions[1:3], pdf.iloc[5:15])
    assert_eq(df.partitions[-1], pdf.iloc[15:])
    assert df.partitions[1:3].divisions == df.divisions[1:4]
    assert_eq(df.partitions[[3, 0]], pd.concat([pdf.iloc[15:], pdf.iloc[:5]]), check_divisions=False)
    with pytest.raises(IndexError, match="4 partitions"):
        df.partitions[7]


def test_loc_slice_selects_only_needed_partitions(pdf, scheduler):
    df, rec = recorded(pdf, npartitions=4)  # divisions (0, 10, 20, 30, 38)
    sel = df.loc[12:22]
    assert sel.npartitions == 2
    assert sel.divisions == (12, 20, 22)
    assert_eq(sel, pdf.loc[12:22], scheduler=scheduler)
    assert set(rec.seen) == {10, 20}
    assert_eq(df.loc[:5], pdf.loc[:5])
    assert_eq(df.loc[31:], pdf.loc[31:])
    assert_eq(df.loc[5:5], pdf.loc[5:5])
    assert_eq(df.loc[100:200], pdf.loc[100:200])


def test_loc_labels(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    assert_eq(df.loc[12], pdf.loc[[12]])
    assert df.loc[12].npartitions == 1
    assert_eq(df.loc[[2, 30, 31]], pdf.loc[pdf.index.isin([2, 30, 31])])
    assert_eq(df.i.loc[14], pdf.i.loc[[14]])
    assert_eq(df.loc[12, "s"], pdf.loc[[12], "s"])
    assert_eq(df.loc[:, ["s", "i"]], pdf.loc[:, ["s", "i"]])
    assert_eq(df.loc[10:20, "i":"s"], pdf.loc[10:20, "i":"s"])
    with pytest.raises(TypeError, match="^loc"):
        df.loc["a":"b"]


def test_loc_unknown_divisions(pdf):
    df = dd.from_pandas(pdf, npartitions=4, sort=False)
    assert_eq(df.loc[12:22], pdf.loc[12:22])
    assert_eq(df.loc[[4, 8]], pdf.loc[[4, 8]])


def test_loc_boolean_series(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    assert_eq(df.loc[df.i > 0], pdf.loc[pdf.i > 0])
    assert_eq(df.loc[df.i > 0, ["f"]], pdf.loc[pdf.i > 0, ["f"]])


def test_loc_datetime_index():
    pdf = pd.DataFrame({"x": np.arange(10)}, index=pd.date_range("2024-01-01", periods=10, tz="UTC"))
    df = dd.from_pandas(pdf, npartitions=3)
    lo, hi = pd.Timestamp("2024-01-03", tz="UTC"), pd.Timestamp("2024-01-05", tz="UTC")
    assert_eq(df.loc[lo:hi], pdf.loc[lo:hi])


def test_iloc_columns(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.iloc[:, 0], pdf.iloc[:, 0])
    assert_eq(df.iloc[:, [0, 2]], pdf.iloc[:, [0, 2]])
    assert_eq(df.iloc[:, 1:3], pdf.iloc[:, 1:3])
    with pytest.raises(NotImplementedError, match="only column positions"):
        df.iloc[3]
    with pytest.raises(IndexError, match="5 columns"):
        df.iloc[:, 9]
    dup = pd.DataFrame([[1, 2, 3]], columns=["a", "a", "b"])
    ddup = dd.from_pandas(dup, npartitions=1)
    assert_eq(ddup.iloc[:, [0, 2]], dup.iloc[:, [0, 2]])


def test_series_getitem_boolean(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.f[df.i > 2], pdf.f[pdf.i > 2])


def test_repartition_npartitions(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=5)
    out = df.repartition(npartitions=2)
    assert out.npartitions == 2
    assert out.divisions == (0, 16, 38)
    assert_eq(out, pdf, scheduler=scheduler)
    assert out.i.values.chunks[0] == (8, 12)
    u = dd.from_pandas(pdf, npartitions=4, sort=False).repartition(npartitions=3)
    assert not u.known_divisions
    assert_eq(u, pdf)
    assert df.repartition(npartitions=5) is df
    more = df.repartition(npartitions=9)  # integer divisions: new bounds between the old
    assert more.npartitions == 9 and more.known_divisions
    assert_eq(more, pdf, scheduler=scheduler)
    shares = u.repartition(npartitions=7)  # unknown divisions: each partition cut by rows
    assert shares.npartitions == 7 and not shares.known_divisions
    pd.testing.assert_frame_equal(shares.compute(scheduler=scheduler).sort_index(), pdf)
    assert sorted(len(p) for p in (shares.partitions[i].compute() for i in range(7)))[-1] <= 5


def test_repartition_divisions_aligns_frames(pdf):
    a = dd.from_pandas(pdf, npartitions=3)
    b = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(ValueError, match="repartition"):
        a.i + b.i
    b2 = b.repartition(divisions=a.divisions)
    assert b2.divisions == a.divisions
    assert_eq(a.i + b2.i, pdf.i * 2)
    finer = a.repartition(divisions=[0, 5, 11, 20, 30, 38])
    assert_eq(finer, pdf)
    assert finer.npartitions == 5
    with pytest.raises(ValueError, match="do not cover"):
        a.repartition(divisions=[2, 20, 38])
    with pytest.raises(ValueError, match="unknown"):
        dd.from_pandas(pdf, npartitions=2, sort=False).repartition(divisions=[0, 38])
