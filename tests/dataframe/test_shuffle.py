"""The shuffle engine: hash and range partitioning, against pandas on the same data."""

from __future__ import annotations

import glob
import os

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe.shuffle import (
    hash_ids,
    hash_partition,
    range_ids,
    range_partition,
    shuffle_bytes_written,
)


def keyed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Skewed int keys (one key holds half the rows), nullable floats, str keys with nulls, a categorical."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 50, size=n)
    k[: n // 2] = 7
    rng.shuffle(k)
    f = rng.normal(size=n)
    f[::9] = np.nan
    s = pd.Series(rng.choice(["a", "b", "c", "dd"], size=n), dtype="str")
    s[::11] = None
    return pd.DataFrame(
        {"k": k, "f": f, "s": s, "c": pd.Categorical(rng.choice(["x", "y", "z"], size=n)),
         "v": np.arange(n)},
        index=pd.Index(np.arange(n) * 3, name="idx"),
    )


def parts_of(collection, scheduler) -> list:
    return [collection.partitions[i].compute(scheduler=scheduler) for i in range(collection.npartitions)]


def keys_disjoint(parts: list, column: str) -> bool:
    seen: dict = {}
    for i, part in enumerate(parts):
        for key in part[column].astype(object).where(part[column].notna(), "<null>").unique():
            if seen.setdefault(key, i) != i:
                return False
    return True


@pytest.mark.parametrize("on", ["k", "s", "c", "f"])
def test_hash_partition_puts_each_key_in_one_partition(on, scheduler):
    pdf = keyed_frame()
    df = dd.from_pandas(pdf, npartitions=6)
    out = hash_partition(df, on, 5)
    assert out.npartitions == 5 and not out.known_divisions
    parts = parts_of(out, scheduler)
    assert keys_disjoint(parts, on)
    whole = pd.concat(parts).sort_index()
    pd.testing.assert_frame_equal(whole, pdf)
    # partition i holds exactly the rows whose key hashes to i
    for i, part in enumerate(parts):
        assert (hash_ids(part, on, 5) == i).all()


def test_hash_partition_two_frames_agree_on_partition_index():
    left = pd.DataFrame({"k": [1, 2, 3, 4, 5, 6] * 5, "a": range(30)})
    right = pd.DataFrame({"k": [6, 5, 4, 3, 2, 1], "b": range(6)})
    lp = parts_of(hash_partition(dd.from_pandas(left, npartitions=4), "k", 3), "sync")
    rp = parts_of(hash_partition(dd.from_pandas(right, npartitions=2), "k", 3), "sync")
    for a, b in zip(lp, rp):
        assert set(a.k) == set(b.k)


def test_hash_partition_keeps_row_order_within_a_partition():
    pdf = keyed_frame()
    parts = parts_of(hash_partition(dd.from_pandas(pdf, npartitions=4), ["k", "s"], 3), "threads")
    for part in parts:
        assert part.v.is_monotonic_increasing


def test_hash_partition_on_index_and_series():
    pdf = keyed_frame()
    df = dd.from_pandas(pdf, npartitions=4)
    parts = parts_of(hash_partition(df, "index", 3), "sync")
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), pdf)
    series = parts_of(hash_partition(df.s, None, 3), "sync")
    assert keys_disjoint([p.to_frame() for p in series], "s")
    pd.testing.assert_series_equal(pd.concat(series).sort_index(), pdf.s)


def test_null_keys_go_to_one_partition():
    pdf = keyed_frame()
    parts = parts_of(hash_partition(dd.from_pandas(pdf, npartitions=5), "f", 4), "sync")
    assert sum(part.f.isna().any() for part in parts) == 1


def test_empty_partitions_in_and_out():
    pdf = keyed_frame(40)
    df = dd.from_pandas(pdf, npartitions=4)
    df = df[df.v > 25]  # the first partitions are empty
    out = hash_partition(df, "k", 8)  # more outputs than keys present in some
    got = out.compute()
    pd.testing.assert_frame_equal(got.sort_index(), pdf[pdf.v > 25])
    assert out.partitions[0].compute().dtypes.equals(pdf.dtypes)


def test_hash_partition_errors_name_the_operation():
    df = dd.from_pandas(keyed_frame(), npartitions=2)
    with pytest.raises(KeyError, match="hash_partition: no column"):
        hash_partition(df, "nope", 2)
    with pytest.raises(ValueError, match="npartitions must be a positive integer"):
        hash_partition(df, "k", 0)


def test_explain_shows_the_shuffle():
    df = dd.from_pandas(keyed_frame(), npartitions=3)
    text = hash_partition(df, "k", 4).explain(show=False)
    assert "HashShuffle(on='k', npartitions=4)" in text
    text = range_partition(df, "v", [0, 100, 400]).explain(show=False)
    assert "RangeShuffle(by=['v'], npartitions=2" in text


@pytest.mark.parametrize("ascending", [True, False])
def test_range_partition_one_column(ascending, scheduler):
    pdf = keyed_frame()
    df = dd.from_pandas(pdf, npartitions=5)
    divisions = [-1.0, -0.5, 0.0, 0.7, 9.0]
    if not ascending:
        divisions = divisions[::-1]
    out = range_partition(df, "f", divisions, ascending=ascending)
    parts = parts_of(out, scheduler)
    assert len(parts) == 4
    inner = divisions[1:-1]
    for i, part in enumerate(parts):
        values = part.f.dropna()
        if ascending:
            low = inner[i - 1] if i > 0 else -np.inf
            high = inner[i] if i < len(inner) else np.inf
            assert ((values >= low) & (values < high)).all()
        else:
            high = inner[i - 1] if i > 0 else np.inf
            low = inner[i] if i < len(inner) else -np.inf
            assert ((values <= high) & (values > low)).all()
    assert parts[-1].f.isna().sum() == pdf.f.isna().sum()  # na_position="last"
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), pdf)


def test_range_partition_several_columns_and_strings():
    pdf = keyed_frame()
    df = dd.from_pandas(pdf, npartitions=3)
    out = range_partition(df, ["s", "k"], [("a", 0), ("b", 10), ("c", 0), ("zz", 0)],
                          na_position="first")
    parts = parts_of(out, "sync")
    order = pdf.sort_values(["s", "k"], na_position="first", kind="stable")
    got = pd.concat(p.sort_values(["s", "k"], na_position="first", kind="stable") for p in parts)
    pd.testing.assert_frame_equal(got, order)
    assert parts[0].s.isna().all() or parts[0].s.isna().sum() == pdf.s.isna().sum()


def test_range_ids_kernel():
    frame = pd.DataFrame({"x": [0, 5, 9, None, 4.99]})
    assert range_ids(frame, ["x"], [5], [True]).tolist() == [0, 1, 1, 1, 0]
    assert range_ids(frame, ["x"], [5], [True], "first").tolist() == [0, 1, 1, 0, 0]
    assert range_ids(frame, ["x"], [5], [False]).tolist() == [1, 1, 0, 1, 1]


def test_pieces_go_through_disk_and_are_removed(tmp_path):
    pdf = keyed_frame(2000)
    df = dd.from_pandas(pdf, npartitions=4)
    before = shuffle_bytes_written()
    with chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path)}):
        got = hash_partition(df, "k", 3).compute(scheduler="threads")
    assert shuffle_bytes_written() > before
    pd.testing.assert_frame_equal(got.sort_index(), pdf)
    assert os.listdir(tmp_path) == []
    assert not glob.glob(os.path.join(tmp_path, "**", "*.arrow"), recursive=True)


def test_pieces_from_disk_whose_arrow_types_differ_still_join(tmp_path):
    # partition 0's strings are all missing (Arrow: null type), partition 1's are not;
    # the pieces of one output partition then cannot be joined as Arrow tables
    pdf = pd.DataFrame({"k": [1, 2, 1, 2, 1, 2],
                        "s": pd.Series([None, None, None, "a", "b", "c"], dtype=object),
                        "x": np.arange(6.0)})
    df = dd.from_pandas(pdf, npartitions=2, sort=False)
    with chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path)}):
        got = hash_partition(df, "k", 2).compute(scheduler="threads")
        by_x = df.sort_values("x", npartitions=1).compute()
    pd.testing.assert_frame_equal(got.sort_index(), pdf)
    pd.testing.assert_frame_equal(by_x, pdf)
    assert os.listdir(tmp_path) == []


def test_repartition_partition_size_splits_and_joins(scheduler):
    pdf = pd.DataFrame({"x": np.arange(4000, dtype="float64"), "y": np.arange(4000)})
    df = dd.from_pandas(pdf, npartitions=2, sort=False)  # 2 partitions of ~32 kB
    small = df.repartition(partition_size="10kB")
    sizes = [p.memory_usage(deep=True).sum() for p in parts_of(small, scheduler)]
    assert small.npartitions >= 6 and max(sizes) <= 12_000
    pd.testing.assert_frame_equal(small.compute(scheduler=scheduler), pdf)
    big = dd.from_pandas(pdf, npartitions=8, sort=False).repartition(partition_size="40kB")
    assert big.npartitions < 8
    pd.testing.assert_frame_equal(big.compute(scheduler=scheduler), pdf)
    with pytest.raises(ValueError, match="one of divisions=, npartitions= or partition_size="):
        df.repartition(npartitions=2, partition_size="1MB")


# --- temporary files: removed on success, on failure and on Ctrl-C --------------------------------


def _files_under(path) -> list:
    return [os.path.join(d, f) for d, _, files in os.walk(path) for f in files]


def _wait_until(condition, timeout: float = 20.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _fail_on_partition(part, bad):
    if len(part) and part.v.iloc[0] == bad:
        raise ZeroDivisionError("boom in partition")
    return part


@pytest.mark.parametrize("scheduler_name", ["sync", "threads"])
def test_temporary_files_removed_when_a_task_fails(tmp_path, scheduler_name):
    pdf = keyed_frame(4000)
    df = dd.from_pandas(pdf, npartitions=8)
    shuffled = hash_partition(df, "k", 4)
    # the combine of output 2 fails after every split wrote its pieces
    bad_value = shuffled.partitions[2].compute().v.iloc[0]
    failing = shuffled.map_partitions(_fail_on_partition, bad_value, meta=shuffled._meta)
    before = shuffle_bytes_written()
    with (chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path)}),
          pytest.raises(ZeroDivisionError, match="boom")):
        failing.compute(scheduler=scheduler_name)
    assert shuffle_bytes_written() > before  # pieces were written...
    assert _wait_until(lambda: os.listdir(tmp_path) == [])  # ...and removed


def test_temporary_files_removed_on_ctrl_c(tmp_path, sigint_raises_keyboard_interrupt):
    import signal
    import threading
    import time

    pdf = keyed_frame(4000)
    df = dd.from_pandas(pdf, npartitions=8)
    started, release = threading.Event(), threading.Event()

    def block(part):
        started.set()
        deadline = time.monotonic() + 30
        while not release.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        return part

    shuffled = hash_partition(df, "k", 4)
    slow = shuffled.map_partitions(block, meta=shuffled._meta)
    seen_files: list = []

    def interrupt():
        if started.wait(30):
            seen_files.extend(_files_under(tmp_path))
            os.kill(os.getpid(), signal.SIGINT)

    helper = threading.Thread(target=interrupt)
    helper.start()
    try:
        with (chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path)}),
              pytest.raises(KeyboardInterrupt)):
            slow.compute(scheduler="threads", num_workers=2)
    finally:
        release.set()
        helper.join(30)
    assert any(f.endswith(".arrow") for f in seen_files)  # pieces were on disk when interrupted
    assert _wait_until(lambda: os.listdir(tmp_path) == [])


def test_concurrent_computes_of_one_shuffle_share_a_run(tmp_path):
    import concurrent.futures

    pdf = keyed_frame(3000)
    out = hash_partition(dd.from_pandas(pdf, npartitions=6), ["k", "s"], 5)
    with (chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path)}),
          concurrent.futures.ThreadPoolExecutor(3) as pool):
        results = list(pool.map(lambda _: out.compute(scheduler="threads"), range(3)))
    for got in results:
        pd.testing.assert_frame_equal(got.sort_index(), pdf)
    assert _wait_until(lambda: os.listdir(tmp_path) == [])


@pytest.mark.slow
def test_shuffle_larger_than_the_memory_limit_keeps_rss_bounded(tmp_path):
    """~1.2 GB of rows generated partition by partition, shuffled through disk, each output
    partition reduced to its length: the process' RSS grows by far less than the data."""
    import threading
    import time

    psutil = pytest.importorskip("psutil")
    nparts, rows = 24, 2_500_000  # 24 x 2.5M rows x (3 x 8 bytes) ~ 1.44 GB

    def make(i):
        rng = np.random.default_rng(i)
        return pd.DataFrame({"k": rng.integers(0, 10**9, rows), "a": rng.random(rows),
                             "b": np.arange(rows, dtype="int64")})

    meta = make(0).iloc[:0]
    df = dd.from_map(make, list(range(nparts)), meta=meta)
    total_bytes = nparts * rows * 24
    limit = "256MiB"
    process = psutil.Process()
    peak = [process.memory_info().rss]
    baseline = peak[0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path),
                                   "dataframe.shuffle.memory_limit": limit}):
            lengths = hash_partition(df, "k", nparts).map_partitions(
                lambda p: pd.Series([len(p)]), meta=(None, "int64")).compute(
                scheduler="threads", num_workers=2)
    finally:
        done.set()
        sampler.join()
    assert int(lengths.sum()) == nparts * rows
    grew = peak[0] - baseline
    print(f"shuffled {total_bytes / 2**30:.2f} GiB under memory_limit={limit}: peak RSS "
          f"{peak[0] / 2**20:.0f} MiB, {grew / 2**20:.0f} MiB above the {baseline / 2**20:.0f} MiB "
          "before")
    assert grew < total_bytes / 2.5, (grew, total_bytes)  # bounded by partitions, not the data
    assert os.listdir(tmp_path) == []


def test_memory_limit_refuses_an_output_partition_too_large(tmp_path):
    pdf = keyed_frame(20_000)  # the skewed key 7 holds half the rows: one huge output partition
    df = dd.from_pandas(pdf, npartitions=4)
    with (chunkwise.config.set({"dataframe.shuffle.directory": str(tmp_path),
                                "dataframe.shuffle.memory_limit": "100kB"}),
          pytest.raises(MemoryError, match="more partitions")):
        hash_partition(df, "k", 4).compute(scheduler="sync")
    assert _wait_until(lambda: os.listdir(tmp_path) == [])
    with chunkwise.config.set({"dataframe.shuffle.memory_limit": "100MB"}):
        got = hash_partition(df, "k", 4).compute()
    pd.testing.assert_frame_equal(got.sort_index(), pdf)


def _stable_order_cases() -> list:
    rng = np.random.default_rng(8)
    times = rng.integers(0, 50_000, 5000).astype("datetime64[s]")
    times[::97] = np.datetime64("NaT")
    return [
        rng.integers(0, 50_000, 5000),  # one 16-bit digit
        rng.integers(-(2**31), 2**31 - 2, 5000),  # two digits
        rng.integers(-(2**62), 2**62, 5000),  # wider: NumPy's own stable sort
        rng.integers(0, 300, 5000).astype(np.uint64) + np.uint64(2**64 - 400),
        rng.integers(0, 50_000, 5000).astype("datetime64[s]"),
        times,  # NaT last
        rng.integers(0, 9, 5000).astype("timedelta64[ms]"),
        rng.integers(-5, 5, 5000).astype(np.int8),
        rng.random(5000),
    ]


@pytest.mark.parametrize("keys", _stable_order_cases(), ids=lambda k: str(k.dtype))
def test_stable_order_is_numpys_stable_argsort(keys):
    from chunkwise.dataframe.shuffle import stable_order

    np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))
    np.testing.assert_array_equal(stable_order(keys[:3]), np.argsort(keys[:3], kind="stable"))
