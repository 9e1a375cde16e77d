"""The memory limit chooses a shuffle's output partition count; compressed pieces; what
``explain()`` says about counts and samples; divisions after ``sort_values``."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe import partition_count, sorting
from chunkwise.dataframe.io.parquet import record_reads
from chunkwise.dataframe.shuffle import hash_partition, shuffle_bytes_written


def numbers(n: int = 40_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.random(n), "k": rng.integers(0, 1000, n),
                         "t": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.permutation(n), "s")})


def limited(limit: str, workers: int = 2):
    return chunkwise.config.set({"dataframe.shuffle.memory_limit": limit, "num_workers": workers})


def test_the_memory_limit_chooses_the_count_from_known_lengths():
    pdf = numbers()
    df = dd.from_pandas(pdf, npartitions=2)
    width = 8 + 8 + 8 + 8  # x, k, t and the index
    budget = 2**20 // (2 * partition_count.PEAK_COPIES)
    expected = math.ceil(len(pdf) * width / budget)
    with limited("1MiB"):
        out = df.sort_values("x")
        by_key = df.shuffle(on="k")
    assert expected > 2 and out.npartitions == expected and by_key.npartitions == expected
    text = out.explain(show=False)
    assert f"-> {expected} partitions]" in text and "known lengths" in text and "memory_limit" in text
    got = out.compute(scheduler="sync")
    pd.testing.assert_frame_equal(got, pdf.sort_values("x", kind="stable"))
    pd.testing.assert_frame_equal(by_key.compute().sort_index(), pdf)


def test_no_limit_or_a_given_count_keeps_the_count_and_reads_nothing(tmp_path):
    pdf = numbers()
    pdf.to_parquet(tmp_path / "data", row_group_size=10_000)
    df = dd.read_parquet(tmp_path / "data", split_row_groups=True)
    with record_reads() as reads:
        plain = df.sort_values("x")
        with limited("64kB"):
            given = df.sort_values("x", npartitions=3)
    assert reads == []
    assert plain.npartitions == df.npartitions == 4 and given.npartitions == 3
    assert "no dataframe.shuffle.memory_limit" in plain.explain(show=False)


def test_parquet_rows_come_from_footers_and_strings_from_one_partition(tmp_path):
    pdf = numbers(20_000)
    pdf["s"] = pd.Series(np.where(pdf.k % 2 == 0, "even-valued", "odd"), dtype="str")
    dd.from_pandas(pdf, npartitions=4).to_parquet(tmp_path / "data")
    df = dd.read_parquet(tmp_path / "data")
    with record_reads() as reads, limited("512kB"):
        estimate = partition_count.estimate_size(df.expr)
        out = df.sort_values("k")
    assert estimate.rows == len(pdf) and "Parquet footers" in estimate.how
    assert [r.columns for r in reads] == [("s",)]  # one file's string column, nothing else
    assert 32 + 4 < estimate.bytes_per_row < 32 + 40
    assert out.npartitions == math.ceil(estimate.nbytes / (512_000 // 8))
    assert "sampled partition 0" in out.explain(show=False)
    got = out.compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  pdf.sort_values("k", kind="stable").reset_index(drop=True))


def test_set_index_chooses_its_count_from_the_limit():
    pdf = numbers()
    df = dd.from_pandas(pdf, npartitions=2)
    with limited("1MiB"):
        out = df.set_index("t")
    assert out.npartitions > 2 and out.known_divisions
    assert "memory_limit" in out.explain(show=False)
    pd.testing.assert_frame_equal(out.compute(), pdf.set_index("t").sort_index())


def test_set_index_divisions_bound_the_data_exactly():
    """The sample carries each partition's min and max: the outer divisions are exact."""
    pdf = numbers(30_000)
    out = dd.from_pandas(pdf, npartitions=3).set_index("x")
    assert out.divisions[0] == pdf.x.min() and out.divisions[-1] == pdf.x.max()


def test_explain_says_what_the_sort_sampled():
    df = dd.from_pandas(numbers(), npartitions=4)
    text = df.sort_values("x").explain(show=False)
    assert "splitters sampled:" in text and "rows of ['x'] from <FromPandas" in text
    rows = int(text.split("splitters sampled: ")[1].split(" rows")[0].replace(",", ""))
    assert rows == 4 * sorting.SAMPLE_ROWS + 4 * 2  # a sample and the min and max a partition
    assert "sampled quantiles: " in df.set_index("t").explain(show=False)


def test_sort_values_then_set_index_sorted_reuses_the_splitters(tmp_path):
    pdf = numbers()
    pdf.to_parquet(tmp_path / "data", row_group_size=10_000)
    df = dd.read_parquet(tmp_path / "data", split_row_groups=True)
    ordered = df.sort_values("x")
    with record_reads() as reads:
        indexed = ordered.set_index("x", sorted=True)
    assert reads and all(r.columns == ("x",) for r in reads)  # the sort's sample, nothing more
    assert indexed.known_divisions and indexed.npartitions == ordered.npartitions
    assert indexed.divisions[0] == pdf.x.min() and indexed.divisions[-1] == pdf.x.max()
    with record_reads() as reads:
        got = indexed.compute()
    assert len(reads) == df.npartitions  # the splitters were not sampled again
    pd.testing.assert_frame_equal(got, pdf.set_index("x").sort_index())
    for i in range(indexed.npartitions):  # every partition inside its divisions
        part = indexed.partitions[i].compute()
        low, high = indexed.divisions[i], indexed.divisions[i + 1]
        assert len(part) == 0 or (part.index.min() >= low and part.index.max() <= high)


def test_set_index_sorted_refuses_a_partition_out_of_order():
    pdf = pd.DataFrame({"a": [1, 2, 3, 5, 4, 6], "b": range(6)})
    df = dd.from_pandas(pdf, npartitions=2, sort=False)
    with pytest.raises(ValueError, match="not in order within partition 1"):
        df.set_index("a", sorted=True)
    ok = dd.from_pandas(pdf.sort_values("a"), npartitions=2, sort=False).set_index("a", sorted=True)
    pd.testing.assert_frame_equal(ok.compute(), pdf.set_index("a").sort_index())


@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_compressed_pieces_round_trip_and_write_fewer_bytes(tmp_path, codec):
    pdf = numbers(20_000)
    pdf["s"] = pd.Series(np.where(pdf.k % 3 == 0, "a", "bcd"), dtype="str")
    df = dd.from_pandas(pdf, npartitions=4)
    written = {}
    for name in (None, codec):
        with chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path),
                                   "dataframe.shuffle.compression": name}):
            before = shuffle_bytes_written()
            got = hash_partition(df, "k", 3).compute(scheduler="sync")
            written[name] = shuffle_bytes_written() - before
        pd.testing.assert_frame_equal(got.sort_index(), pdf)
    assert 0 < written[codec] < written[None]
    assert os.listdir(tmp_path) == []


def test_an_unknown_compression_is_refused():
    df = dd.from_pandas(numbers(100), npartitions=2)
    with (chunkwise.config.set({"dataframe.shuffle.compression": "gzip9"}),
          pytest.raises(ValueError, match="dataframe.shuffle.compression must be")):
        hash_partition(df, "k", 2).compute()


def test_sort_of_a_key_with_no_values_keeps_its_partition_count():
    """Nothing to sample (every key null): the splitters are padded, the count holds."""
    pdf = pd.DataFrame({"x": [np.nan] * 10, "y": range(10)})
    out = dd.from_pandas(pdf, npartitions=3).sort_values("x")
    got = out.compute()
    assert out.npartitions == 3 and len(out.partitions[2].compute()) == 10
    pd.testing.assert_frame_equal(got, pdf.sort_values("x", kind="stable"))


def test_a_hash_join_chooses_its_count_from_both_sides_and_the_limit():
    left = numbers(30_000, seed=1)
    right = numbers(20_000, seed=2).rename(columns={"x": "y", "t": "u"})
    a = dd.from_pandas(left, npartitions=2)
    b = dd.from_pandas(right, npartitions=3)
    width = 8 + 8 + 8 + 8  # three columns and the index, each side
    budget = 2**20 // (2 * partition_count.PEAK_COPIES)
    expected = math.ceil((len(left) + len(right)) * width / budget)
    with limited("1MiB"):
        joined = a.merge(b, on="k", broadcast=False)
        assert expected > 3 and joined.npartitions == expected
        got = joined.compute(scheduler="sync")
    want = left.merge(right, on="k")
    key = ["k", "x", "y"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  want.sort_values(key).reset_index(drop=True))
    assert a.merge(b, on="k", broadcast=False).npartitions == 3  # no limit: the larger side's


# --- set_index(sorted=True) from Parquet statistics (issue 17, round 5, item 3) ------------------


def _sorted_parquet(tmp_path, files: int = 3) -> tuple:
    """``files`` Parquet files of ``t`` (datetime), ``k`` (int) and ``x`` in ``t``/``k`` order,
    one of them empty, nulls in ``x``."""
    pdf = numbers(9_000).sort_values("t", kind="stable").reset_index(drop=True)
    pdf["k"] = np.arange(len(pdf)) // 7
    pdf.loc[::11, "x"] = np.nan
    directory = tmp_path / "sorted"
    directory.mkdir()
    cuts = np.linspace(0, len(pdf), files + 1).astype(int)
    for i in range(files):
        pdf.iloc[cuts[i]:cuts[i + 1]].to_parquet(directory / f"part-{i}.parquet", row_group_size=1000)
    pdf.iloc[:0].to_parquet(directory / f"part-{files}.parquet")  # an empty last file
    return pdf, directory


@pytest.mark.parametrize("column", ["t", "k"])
def test_set_index_sorted_takes_divisions_from_parquet_statistics_without_a_read(tmp_path, column, scheduler):
    pdf, directory = _sorted_parquet(tmp_path)
    df = dd.read_parquet(directory)
    with record_reads() as reads:
        indexed = df.set_index(column, sorted=True)
    assert reads == []  # only footers: no piece read to place the partitions
    assert "Parquet statistics" in indexed.explain(show=False)
    expected = pdf.set_index(column)
    assert indexed.divisions[0] == expected.index.min() and indexed.divisions[-1] == expected.index.max()
    with record_reads() as reads:
        got = indexed.compute(scheduler=scheduler)
    assert len(reads) == df.npartitions  # each piece read once, by the compute itself
    pd.testing.assert_frame_equal(got, expected)
    for i in range(indexed.npartitions):
        part = indexed.partitions[i].compute(scheduler=scheduler)
        low, high = indexed.divisions[i], indexed.divisions[i + 1]
        assert len(part) == 0 or (part.index.min() >= low and part.index.max() <= high)
    projected = df[["x", column]].set_index(column, sorted=True)  # columns of the scan: still no read
    assert "Parquet statistics" in projected.explain(show=False)
    pd.testing.assert_frame_equal(projected.compute(scheduler=scheduler), pdf[["x", column]].set_index(column))


def test_set_index_sorted_from_statistics_refuses_disorder_at_compute_or_build(tmp_path):
    pdf = pd.DataFrame({"a": [1, 2, 3, 5, 4, 6], "b": range(6)})
    directory = tmp_path / "unordered"
    directory.mkdir()
    pdf.iloc[:3].to_parquet(directory / "part-0.parquet")
    pdf.iloc[3:].to_parquet(directory / "part-1.parquet")  # 5 then 4 inside the file
    indexed = dd.read_parquet(directory).set_index("a", sorted=True)  # the statistics look fine
    with pytest.raises(ValueError, match=r"not in order within a partition \(5 then 4\)"):
        indexed.compute()
    crossing = tmp_path / "crossing"
    crossing.mkdir()
    pdf.iloc[3:].sort_values("a").to_parquet(crossing / "part-0.parquet")
    pdf.iloc[:3].to_parquet(crossing / "part-1.parquet")
    with record_reads() as reads, pytest.raises(ValueError, match="partitions are not in order"):
        dd.read_parquet(crossing).set_index("a", sorted=True)
    assert reads == []


def test_set_index_sorted_reads_when_statistics_cannot_say(tmp_path):
    pdf, directory = _sorted_parquet(tmp_path)
    filtered = dd.read_parquet(directory, filters=[("k", ">=", 10)])
    with record_reads() as reads:
        indexed = filtered.set_index("t", sorted=True)
    assert reads and "per-partition min/max" in indexed.explain(show=False)
    pd.testing.assert_frame_equal(indexed.compute(), pdf[pdf.k >= 10].set_index("t"))
