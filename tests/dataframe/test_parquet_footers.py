"""Footers of local Parquet files are kept across plans, and never used once a file changed."""

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from chunkwise.dataframe.io.footers import FOOTER_CACHE, FooterCache
from chunkwise.dataframe.io.parquet import read_parquet

SCHEDULERS = ["sync", "threads"]


@pytest.fixture
def counted_footer_reads(monkeypatch):
    """The paths whose footer planning reads (``pq.read_metadata``), in a fresh cache."""
    FOOTER_CACHE.clear()
    reads = []
    original = pq.read_metadata

    def spy(path, *args, **kwargs):
        reads.append(os.path.basename(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(pq, "read_metadata", spy)
    yield reads
    FOOTER_CACHE.clear()


def write_files(path, sizes, seed=0):
    rng = np.random.default_rng(seed)
    frames = []
    for k, n in enumerate(sizes):
        pdf = pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 5, size=n)})
        pdf.to_parquet(path / f"part.{k}.parquet", row_group_size=4)
        frames.append(pdf)
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_second_plan_reads_no_footer_and_a_changed_file_is_read_again(
        tmp_path, counted_footer_reads, scheduler):
    pdf = write_files(tmp_path, [10, 0, 7, 13])
    df = read_parquet(tmp_path)
    assert len(df[df.x > 0.5].compute(scheduler=scheduler)) == (pdf.x > 0.5).sum()
    first = sorted(counted_footer_reads)
    assert first == ["part.0.parquet", "part.1.parquet", "part.2.parquet", "part.3.parquet"]

    counted_footer_reads.clear()
    again = read_parquet(tmp_path)  # a new plan over the same, unchanged files
    got = again[again.x > 0.5].compute(scheduler=scheduler)
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  pdf[pdf.x > 0.5].reset_index(drop=True))
    assert counted_footer_reads == []

    # part.2 rewritten with more rows (another size), part.0 with the same size but
    # another modification time: both footers are read again, the answer is the new one
    changed = pd.DataFrame({"x": np.linspace(0, 1, 11), "k": np.arange(11)})
    changed.to_parquet(tmp_path / "part.2.parquet", row_group_size=4)
    stat = os.stat(tmp_path / "part.0.parquet")
    os.utime(tmp_path / "part.0.parquet", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    counted_footer_reads.clear()
    new = pd.concat([pdf.iloc[:10], changed, pdf.iloc[17:]], ignore_index=True)
    latest = read_parquet(tmp_path)
    assert len(latest) == len(new)
    assert len(latest[latest.x > 0.5]) == (new.x > 0.5).sum()
    assert sorted(set(counted_footer_reads)) == ["part.0.parquet", "part.2.parquet"]


def test_footer_cache_forgets_the_least_recently_used_beyond_its_capacity():
    cache = FooterCache(capacity=2)
    cache.put(("a", 1, 1), "A")
    cache.put(("b", 1, 1), "B")
    assert cache.get_many([("a", 1, 1)]) == ["A"]  # a is now the most recently used
    cache.put(("c", 1, 1), "C")
    assert cache.get_many([("a", 1, 1), ("b", 1, 1), ("c", 1, 1), None]) == ["A", None, "C", None]
    cache.put(None, "ignored")
    assert cache.get_many([("a", 1, 1), ("c", 1, 1)]) == ["A", "C"]
