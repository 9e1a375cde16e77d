"""``len(df[pred])`` over a Parquet read (``ParquetFilteredLength``): row groups that footer
statistics decide are counted without decoding, planning reads no footer beyond the first,
and the count is pandas' on nulls, NaN, categoricals, tz-aware timestamps, strings and
uneven or empty files, on both local schedulers."""

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from chunkwise.dataframe.io.footers import FOOTER_CACHE
from chunkwise.dataframe.io.parquet import read_parquet, record_reads

SCHEDULERS = ["sync", "threads"]
ROW_GROUP = 10


def length_plan(query) -> str:
    return query.shape[0].optimize().expr.explain(show=False)


def sorted_frame(n: int = 60) -> pd.DataFrame:
    """Columns sorted along the rows, so each row group of 10 rows has a narrow range."""
    i = np.arange(n)
    floats = i / 10.0
    floats[45] = np.nan  # inside a row group whose statistics (NaN left out) say 4.0..4.9
    nullable = pd.array(i, dtype="Int64")
    nullable[25] = pd.NA
    return pd.DataFrame({
        "i": i,
        "f": floats,
        "n": nullable,
        "s": pd.Series([f"w{v:03d}" for v in i], dtype="str"),
        "t": pd.date_range("2024-03-30", periods=n, freq="6h", tz="Europe/Berlin"),
        "c": pd.Categorical(np.where(i < 30, "lo", "hi"), categories=["lo", "hi", "mid"]),
    })


@pytest.fixture
def sorted_files(tmp_path):
    """Two files of 30 rows (3 row groups of 10 each), an empty file and a 5-row file."""
    pdf = sorted_frame(65)
    path = tmp_path / "sorted"
    path.mkdir()
    pdf.iloc[:30].to_parquet(path / "part.0.parquet", row_group_size=ROW_GROUP)
    pdf.iloc[30:60].reset_index(drop=True).to_parquet(path / "part.1.parquet",
                                                      row_group_size=ROW_GROUP)
    pdf.iloc[:0].to_parquet(path / "part.2.parquet")
    pdf.iloc[60:].reset_index(drop=True).to_parquet(path / "part.3.parquet")
    return path, pdf


def groups_read(reads) -> dict:
    """``{file: row groups decoded}`` (``None``: all of them)."""
    return {os.path.basename(r.path): r.row_groups for r in reads}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_row_groups_the_statistics_decide_are_counted_without_decoding(sorted_files, scheduler):
    path, pdf = sorted_files
    df = read_parquet(path)
    query = df[df.i >= 25]  # part.0: groups 0, 1 none pass, 2 mixed; part.1 and part.3 all pass
    assert "ParquetFilteredLength" in length_plan(query)
    assert "statistics prove all or none pass are not decoded" in length_plan(query)
    with record_reads() as reads:
        n = query.shape[0].compute(scheduler=scheduler)
    assert n == len(pdf[pdf.i >= 25]) == 40
    assert groups_read(reads) == {"part.0.parquet": (2,)}
    assert all(r.columns == ("i",) for r in reads)

    every = df[(df.i >= 0) | (df.f > 100.0)]  # each conjunction decided alone: no decoding
    with record_reads() as reads:
        assert every.shape[0].compute(scheduler=scheduler) == len(pdf)
    assert reads == []

    none = df[df.i > 1000]
    with record_reads() as reads:
        assert none.shape[0].compute(scheduler=scheduler) == 0
    assert reads == []


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_statistics_never_count_a_nan_or_a_null_as_passing(sorted_files, scheduler):
    path, pdf = sorted_files
    df = read_parquet(path)
    # f's statistics of part.1's group 1 (rows 40..49) are 4.0..4.9 without the NaN at
    # row 45: only decoding can tell that row fails
    floats = df[df.f >= 4.0]
    with record_reads() as reads:
        assert floats.shape[0].compute(scheduler=scheduler) == len(pdf[pdf.f >= 4.0])
    assert groups_read(reads)["part.1.parquet"] is not None
    assert 1 in groups_read(reads)["part.1.parquet"]
    # n (nullable) has a null in part.0's group 2: that group is decoded, the others not
    ints = df[df.n >= 20]
    with record_reads() as reads:
        assert ints.shape[0].compute(scheduler=scheduler) == len(pdf[pdf.n >= 20])
    assert groups_read(reads) == {"part.0.parquet": (2,)}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("predicate", [
    lambda d: d.s >= "w025",
    lambda d: (d.s > "w012") & (d.s < "w047"),
    lambda d: d.t >= pd.Timestamp("2024-04-04", tz="UTC"),
    lambda d: d.t < pd.Timestamp("2024-04-02 10:00", tz="Asia/Tokyo"),
    lambda d: d.c == "hi",
    lambda d: (d.i < 12) | (d.n > 55) | (d.s == "w031"),
])
def test_len_of_a_filter_equals_pandas_on_strings_timestamps_and_categoricals(
        sorted_files, scheduler, predicate):
    path, pdf = sorted_files
    df = read_parquet(path)
    query = df[predicate(df)]
    local = pd.read_parquet(path)
    with record_reads() as reads:
        n = query.shape[0].compute(scheduler=scheduler)
    assert n == len(local[predicate(local)]) == len(pdf[predicate(pdf)])
    assert len(reads) <= 3  # each file at most once, the empty one never
    assert "ParquetFilteredLength" in length_plan(query)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_hive_partitions_bind_before_statistics_decide(tmp_path, scheduler):
    pdf = sorted_frame(60).assign(k=lambda d: d.i // 20)
    pdf.to_parquet(tmp_path / "hive", partition_cols=["k"], row_group_size=ROW_GROUP)
    df = read_parquet(tmp_path / "hive")
    local = pd.read_parquet(tmp_path / "hive")
    for pred in (lambda d: (d.k == 1) & (d.i >= 25), lambda d: (d.k == 0) | (d.i > 50)):
        query = df[pred(df)]
        assert "ParquetFilteredLength" in length_plan(query)
        with record_reads() as reads:
            assert query.shape[0].compute(scheduler=scheduler) == len(local[pred(local)])
        for r in reads:  # only row groups straddling the threshold are decoded
            assert r.row_groups is not None and len(r.row_groups) == 1


def test_planning_the_count_reads_only_the_first_footer(sorted_files, monkeypatch):
    path, pdf = sorted_files
    FOOTER_CACHE.clear()
    reads = []
    original = pq.read_metadata

    def spy(where, *args, **kwargs):
        reads.append(os.path.basename(where))
        return original(where, *args, **kwargs)

    monkeypatch.setattr(pq, "read_metadata", spy)
    try:
        df = read_parquet(path)
        query = df[df.i >= 25]
        plan = length_plan(query)
        assert "files=4/4" in plan
        assert reads == ["part.0.parquet"]  # split_row_groups="infer" looks at one footer
        assert query.shape[0].compute(scheduler="sync") == 40
        # the read of the frame itself still skips row groups at plan time
        reads.clear()
        assert len(query.compute(scheduler="sync")) == 40
        assert sorted(reads) == ["part.1.parquet", "part.2.parquet", "part.3.parquet"]
    finally:
        FOOTER_CACHE.clear()
