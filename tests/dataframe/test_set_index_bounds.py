"""``set_index(sorted=True)`` takes its divisions from what the plan knows (Parquet
statistics, through ``assign`` and maps that keep the order) instead of reading the
column, and still refuses data out of order; ``chunkwise.dataframe.column_bounds``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe.column_bounds import known_bounds
from chunkwise.dataframe.io.parquet import record_reads

SIZES = (700, 0, 1_300, 450)  # uneven files, one of them empty


def sorted_files(tmp_path, statistics: bool = True, nulls: bool = False, sizes=SIZES) -> tuple:
    """Files of ``id`` (in order across files: seconds from 1,000,000), ``x`` and ``k``, in
    row groups of 300 rows; with ``nulls``, ``id`` is a float column with NaN in it."""
    total = sum(sizes)
    rng = np.random.default_rng(0)
    pdf = pd.DataFrame({"id": 1_000_000 + np.cumsum(rng.integers(0, 900, total)),
                        "x": rng.random(total), "k": rng.integers(0, 5, total)})
    if nulls:
        pdf["id"] = pdf["id"].astype("float64")
        pdf.loc[pdf.index % 13 == 0, "id"] = np.nan
    directory = tmp_path / ("stats" if statistics else "plain")
    directory.mkdir()
    start = 0
    for i, size in enumerate(sizes):
        pdf.iloc[start:start + size].reset_index(drop=True).to_parquet(
            directory / f"part-{i}.parquet", row_group_size=300, write_statistics=statistics)
        start += size
    return pdf, directory


def check_divisions(indexed, scheduler) -> None:
    for i in range(indexed.npartitions):
        part = indexed.partitions[i].compute(scheduler=scheduler)
        index = part.index.dropna()
        low, high = indexed.divisions[i], indexed.divisions[i + 1]
        assert len(index) == 0 or (index.min() >= low and index.max() <= high)


def _parts(pdf: pd.DataFrame) -> pd.DataFrame:
    """``pdf`` as ``read_parquet`` gives it back: a RangeIndex from 0 in each file."""
    out, start = [], 0
    for size in SIZES:
        out.append(pdf.iloc[start:start + size].reset_index(drop=True))
        start += size
    return pd.concat(out)


MAPS = {
    "to_datetime(unit='s')": lambda s, lib: lib.to_datetime(s, unit="s"),
    "to_datetime(unit='ms', utc=True)": lambda s, lib: lib.to_datetime(s, unit="ms", utc=True),
    "to_datetime(origin=)": lambda s, lib: lib.to_datetime(s, unit="D", origin=pd.Timestamp("1960-01-01")),
    "+ 5": lambda s, lib: s + 5,
    "5 + ": lambda s, lib: 5 + s,
    "- 2.5": lambda s, lib: s - 2.5,
    "* 3": lambda s, lib: s * 3,
    "3 * ": lambda s, lib: 3 * s,
    "/ 4": lambda s, lib: s / 4,
    "// 7": lambda s, lib: s // 7,
    "astype(float32)": lambda s, lib: s.astype("float32"),
    "astype(int32)": lambda s, lib: s.astype("int32"),
    "astype(datetime64[s])": lambda s, lib: s.astype("datetime64[s]"),
    "to_datetime + 1h": lambda s, lib: lib.to_datetime(s, unit="s") + pd.Timedelta("1h"),
}


@pytest.mark.parametrize("name", list(MAPS))
def test_divisions_of_a_mapped_column_come_from_statistics_without_a_read(tmp_path, name, scheduler):
    pdf, directory = sorted_files(tmp_path)
    f = MAPS[name]
    df = dd.read_parquet(directory)
    with record_reads() as reads:
        indexed = df.assign(ts=f(df.id, dd)).set_index("ts", sorted=True)
    assert reads == []  # footers only
    text = indexed.explain(show=False)
    assert "divisions from Parquet statistics of 'id'" in text and "no read" in text
    expected = _parts(pdf).assign(ts=f(_parts(pdf).id, pd)).set_index("ts")
    with record_reads() as reads:
        got = indexed.compute(scheduler=scheduler)
    assert len(reads) == df.npartitions  # one pass: each piece read once, by the compute
    # pandas 3.1 itself gives an int32 column's index as int32 or int64, by the frame's history
    pd.testing.assert_frame_equal(got, expected, check_index_type=name != "astype(int32)")
    assert indexed.divisions[0] == expected.index.min()
    assert indexed.divisions[-1] == expected.index.max()
    check_divisions(indexed, scheduler)


def test_the_benchmark_query_reads_once_and_matches_pandas(tmp_path, scheduler):
    """``dfj_rolling_time``: a time-window rolling mean on ``to_datetime(id)`` set sorted."""
    pdf, directory = sorted_files(tmp_path)
    df = dd.read_parquet(directory, columns=["id", "x"])
    with record_reads() as reads:
        indexed = df.assign(ts=dd.to_datetime(df.id, unit="s")).set_index("ts", sorted=True)
        result = indexed.x.rolling("1h").mean().sum()
    assert reads == []
    with record_reads() as reads:
        got = result.compute(scheduler=scheduler)
    assert len(reads) == df.npartitions
    want = pdf.assign(ts=pd.to_datetime(pdf.id, unit="s")).set_index("ts").x.rolling("1h").mean().sum()
    assert got == pytest.approx(want, rel=1e-12)


def test_a_projected_frame_and_a_replaced_column_keep_the_bounds(tmp_path, scheduler):
    pdf, directory = sorted_files(tmp_path)
    df = dd.read_parquet(directory)
    narrowed = df[["id", "x"]].assign(ts=lambda d: d.id + 1)[["ts", "x"]]
    with record_reads() as reads:
        indexed = narrowed.set_index("ts", sorted=True)
    assert reads == []
    expected = _parts(pdf)[["id", "x"]].assign(ts=lambda d: d.id + 1)[["ts", "x"]].set_index("ts")
    pd.testing.assert_frame_equal(indexed.compute(scheduler=scheduler), expected)
    replaced = df.assign(id=df.id * 2)  # the last value assigned to a name counts
    with record_reads() as reads:
        by_id = replaced.set_index("id", sorted=True)
    assert reads == []
    pd.testing.assert_frame_equal(by_id.compute(scheduler=scheduler),
                                  _parts(pdf).assign(id=_parts(pdf).id * 2).set_index("id"))


def test_without_statistics_the_column_is_read_once_more(tmp_path, scheduler):
    pdf, directory = sorted_files(tmp_path, statistics=False)
    df = dd.read_parquet(directory)
    with record_reads() as reads:
        indexed = df.assign(ts=dd.to_datetime(df.id, unit="s")).set_index("ts", sorted=True)
    assert reads  # the min/max pass
    assert "per-partition min/max" in indexed.explain(show=False)
    expected = _parts(pdf).assign(ts=pd.to_datetime(_parts(pdf).id, unit="s")).set_index("ts")
    pd.testing.assert_frame_equal(indexed.compute(scheduler=scheduler), expected)


def test_null_keys_are_outside_the_statistics(tmp_path, scheduler):
    pdf, directory = sorted_files(tmp_path, nulls=True)
    df = dd.read_parquet(directory)
    with record_reads() as reads:
        indexed = df.assign(ts=dd.to_datetime(df.id, unit="s")).set_index("ts", sorted=True)
    assert reads == []
    expected = _parts(pdf).assign(ts=pd.to_datetime(_parts(pdf).id, unit="s")).set_index("ts")
    pd.testing.assert_frame_equal(indexed.compute(scheduler=scheduler), expected)
    present = expected.index.dropna()
    assert indexed.divisions[0] == present.min() and indexed.divisions[-1] == present.max()
    check_divisions(indexed, scheduler)


def test_a_row_group_of_nulls_only_falls_back_to_a_read(tmp_path, scheduler):
    pdf = pd.DataFrame({"id": [np.nan] * 4 + [1.0, 2.0, 3.0, 4.0], "x": range(8)})
    directory = tmp_path / "nulls"
    directory.mkdir()
    pdf.to_parquet(directory / "part-0.parquet", row_group_size=4)
    df = dd.read_parquet(directory)
    assert known_bounds(df.expr, "id") is None  # the first row group has no min/max
    indexed = df.assign(ts=df.id + 1).set_index("ts", sorted=True)
    assert "per-partition min/max" in indexed.explain(show=False)
    pd.testing.assert_frame_equal(indexed.compute(scheduler=scheduler),
                                  pdf.assign(ts=pdf.id + 1).set_index("ts"))


def test_disorder_in_a_file_is_refused_as_the_partition_is_indexed(tmp_path, scheduler):
    directory = tmp_path / "unordered"
    directory.mkdir()
    pd.DataFrame({"id": [1, 2, 3], "x": 0.0}).to_parquet(directory / "part-0.parquet")
    pd.DataFrame({"id": [5, 4, 6], "x": 0.0}).to_parquet(directory / "part-1.parquet")
    df = dd.read_parquet(directory)
    with record_reads() as reads:
        indexed = df.assign(ts=dd.to_datetime(df.id, unit="s")).set_index("ts", sorted=True)
    assert reads == []  # the statistics alone look fine
    with pytest.raises(ValueError, match=r"set_index\('ts', sorted=True\): the column is not in "
                                         r"order within a partition .*drop sorted=True"):
        indexed.compute(scheduler=scheduler)


def test_files_out_of_order_are_refused_at_build_time_without_a_read(tmp_path):
    directory = tmp_path / "crossing"
    directory.mkdir()
    pd.DataFrame({"id": [4, 5, 6], "x": 0.0}).to_parquet(directory / "part-0.parquet")
    pd.DataFrame({"id": [1, 2, 3], "x": 0.0}).to_parquet(directory / "part-1.parquet")
    df = dd.read_parquet(directory)
    with record_reads() as reads, pytest.raises(
            ValueError, match=r"set_index\('ts', sorted=True\): the partitions are not in order"):
        df.assign(ts=df.id * 10).set_index("ts", sorted=True)
    assert reads == []


@pytest.mark.parametrize("name", ["-s", "10 - s", "s * -1", "s // -1", "100 / s"])
def test_a_map_that_reverses_the_order_is_not_taken_for_increasing(tmp_path, name, scheduler):
    maps = {"-s": lambda s: -s, "10 - s": lambda s: 10 - s, "s * -1": lambda s: s * -1,
            "s // -1": lambda s: s // -1, "100 / s": lambda s: 100 / s}
    _, directory = sorted_files(tmp_path)
    df = dd.read_parquet(directory)
    mapped = df.assign(ts=maps[name](df.id))
    assert known_bounds(mapped.expr, "ts") is None
    with pytest.raises(ValueError, match=r"set_index\('ts', sorted=True\).*not in order"):
        mapped.set_index("ts", sorted=True).compute(scheduler=scheduler)


def test_an_integer_map_that_wraps_around_is_not_trusted(tmp_path):
    _, directory = sorted_files(tmp_path)
    df = dd.read_parquet(directory)
    assert known_bounds(df.assign(ts=df.id * 2**50).expr, "ts") is None  # int64 overflows
    assert known_bounds(df.assign(ts=df.id.astype("int16")).expr, "ts") is None  # wraps
    assert known_bounds(df.assign(ts=df.id * 2).expr, "ts") is not None


def test_other_plans_give_no_bounds(tmp_path):
    _, directory = sorted_files(tmp_path)
    df = dd.read_parquet(directory)
    assert known_bounds(df[df.x > 0.5].expr, "id") is None  # a filter: bounds of row groups only
    assert known_bounds(dd.read_parquet(directory, filters=[("k", ">", 1)]).expr, "id") is None
    assert known_bounds(df.assign(ts=df.id.map_partitions(lambda s: s + 1)).expr, "ts") is None
    assert known_bounds(df.assign(ts=df.id + df.k).expr, "ts") is None  # two columns
    assert known_bounds(df.assign(ts=df.id.astype("str")).expr, "ts") is None
    found = known_bounds(df.expr, "id")
    assert found is not None and len(found.bounds) == df.npartitions
    assert found.bounds[1] is None  # the empty file


def test_calculate_divisions_reads_the_same_bounds(tmp_path):
    pdf, directory = sorted_files(tmp_path, sizes=(700, 1_300, 450))
    pdf["id"] = pdf["id"] * 1_000 + np.arange(len(pdf))  # no value repeats across files
    for i, (start, stop) in enumerate([(0, 700), (700, 2_000), (2_000, 2_450)]):
        pdf.iloc[start:stop].to_parquet(directory / f"part-{i}.parquet", row_group_size=300,
                                         index=False)
    df = dd.read_parquet(directory, index="id", calculate_divisions=True)
    assert df.divisions == (pdf.id.iloc[0], pdf.id.iloc[700], pdf.id.iloc[2_000], pdf.id.iloc[-1])
    pd.testing.assert_frame_equal(df.compute(), pdf.set_index("id"))


@pytest.mark.parametrize("statistics", [True, False])
def test_a_value_shared_by_neighbouring_files_moves_into_one_partition(tmp_path, statistics, scheduler):
    """Divisions are half-open: the rows of a value that ends one file and starts the next
    (or fills a file) are moved into the partition whose range holds them, so ``loc`` finds
    them all; null keys stay where they were."""
    directory = tmp_path / f"ties-{statistics}"
    directory.mkdir()
    files = [[1.0, 2.0, 3.0], [3.0, 3.0], [np.nan, 3.0, 4.0, 4.0], [4.0, 5.0], [], [6.0]]
    start = 0
    for i, ids in enumerate(files):
        pd.DataFrame({"id": pd.Series(ids, dtype="float64"), "x": np.arange(start, start + len(ids))}
                     ).to_parquet(directory / f"part-{i}.parquet", write_statistics=statistics)
        start += len(ids)
    pdf = pd.concat([pd.read_parquet(directory / f"part-{i}.parquet") for i in range(len(files))])
    df = dd.read_parquet(directory)
    with record_reads() as reads:
        indexed = df.assign(ts=df.id * 10).set_index("ts", sorted=True)
    assert (reads == []) == statistics
    assert "UntiedPartitions" in indexed.explain(show=False)
    expected = pdf.assign(ts=pdf.id * 10).set_index("ts")
    got = indexed.compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got.reset_index(), expected.reset_index())
    check_divisions(indexed, scheduler)
    for i in range(indexed.npartitions - 1):  # half-open: no partition reaches its upper bound
        index = indexed.partitions[i].compute(scheduler=scheduler).index.dropna()
        assert len(index) == 0 or index.max() < indexed.divisions[i + 1]
    for value in (30.0, 40.0, 60.0):
        pd.testing.assert_frame_equal(indexed.loc[value].compute(scheduler=scheduler),
                                      expected.loc[[value]])


def test_pieces_of_row_groups_take_their_own_bounds(tmp_path, scheduler):
    pdf, directory = sorted_files(tmp_path)
    df = dd.read_parquet(directory, split_row_groups=True)  # one partition a row group of 300
    assert df.npartitions > len(SIZES)
    with record_reads() as reads:
        indexed = df.assign(ts=dd.to_datetime(df.id, unit="s")).set_index("ts", sorted=True)
    assert reads == [] and indexed.npartitions == df.npartitions
    expected = pdf.assign(ts=pd.to_datetime(pdf.id, unit="s")).set_index("ts")
    got = indexed.compute(scheduler=scheduler)
    np.testing.assert_array_equal(got.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(got.x.to_numpy(), expected.x.to_numpy())
    check_divisions(indexed, scheduler)


def test_a_column_selected_after_moving_shared_values_reads_only_what_it_needs(tmp_path, scheduler):
    directory = tmp_path / "ties"
    directory.mkdir()
    for i, ids in enumerate([[1, 2, 3], [3, 3, 4], [4, 5]]):
        pd.DataFrame({"id": ids, "x": np.arange(len(ids)) + 10 * i, "y": 0.5}
                     ).to_parquet(directory / f"part-{i}.parquet")
    pdf = pd.concat([pd.read_parquet(directory / f"part-{i}.parquet") for i in range(3)])
    indexed = dd.read_parquet(directory).set_index("id", sorted=True)
    selected = indexed.x
    assert "columns=['id', 'x']" in selected.explain(show=False)
    with record_reads() as reads:
        got = selected.compute(scheduler=scheduler)
    assert {r.columns for r in reads} == {("id", "x")}
    pd.testing.assert_series_equal(got, pdf.set_index("id").x)
    both = chunkwise.compute(indexed.x.sum(), indexed.y.sum(), scheduler=scheduler)  # the union
    assert both == (pdf.x.sum(), pdf.y.sum())
