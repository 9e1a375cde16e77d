"""read_csv / to_csv against pandas on the same files."""

import gzip
import os

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe.testing import assert_eq

SCHEDULERS = ["sync", "threads"]


def table(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=n).round(3)
    floats[::7] = np.nan
    names = pd.Series(rng.choice(["alice", "bob", "carol, jr", 'dan "d"'], size=n), dtype="str")
    names[2::9] = None
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "amount": floats,
            "name": names,
            "when": pd.date_range("2024-01-01", periods=n, freq="13h").strftime("%Y-%m-%d %H:%M"),
        }
    )


@pytest.fixture
def csv_files(tmp_path):
    frame = table()
    paths = []
    for k in range(3):
        path = tmp_path / f"data-{k}.csv"
        frame.iloc[k * 17:(k + 1) * 17].to_csv(path, index=False)
        paths.append(path)
    return tmp_path, paths, frame


def pandas_read(paths, **kwargs):
    return pd.concat([pd.read_csv(p, **kwargs) for p in paths], ignore_index=True)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("blocksize", [None, 64, 200, "1MiB"])
def test_blocks_split_at_line_boundaries(csv_files, blocksize, scheduler):
    root, paths, _ = csv_files
    df = dd.read_csv(str(root / "*.csv"), blocksize=blocksize)
    sizes = [os.path.getsize(p) for p in paths]
    if blocksize == 64:
        assert df.npartitions == sum(-(-s // 64) for s in sizes)
    if blocksize is None:
        assert df.npartitions == 3
    assert_eq(df, pandas_read(paths), check_index=False, scheduler=scheduler)


def test_every_line_read_once_at_any_blocksize(tmp_path):
    path = tmp_path / "lines.csv"
    pd.DataFrame({"x": np.arange(60), "y": ["a" * (i % 13) for i in range(60)]}).to_csv(path, index=False)
    expected = pd.read_csv(path)
    for blocksize in (1, 7, 50, 333, 10_000):  # 1: most blocks hold no line start at all
        result = dd.read_csv(path, blocksize=blocksize).compute(scheduler="sync")
        assert result.x.tolist() == list(range(60)), blocksize
        assert_eq(result.reset_index(drop=True), expected)


def test_list_of_paths_dtype_usecols_parse_dates(csv_files):
    _, paths, _ = csv_files
    kwargs = {"dtype": {"id": "float64"}, "usecols": ["id", "when", "amount"], "parse_dates": ["when"]}
    df = dd.read_csv([str(p) for p in paths], blocksize=100, **kwargs)
    expected = pandas_read(paths, **kwargs)
    assert df.dtypes["when"] == expected.dtypes["when"]
    assert_eq(df, expected, check_index=False)


def test_projection_is_pushed_into_usecols(csv_files, monkeypatch):
    root, paths, frame = csv_files
    seen = []
    original = pd.read_csv

    def spy(*args, **kwargs):
        seen.append(kwargs.get("usecols"))
        return original(*args, **kwargs)

    df = dd.read_csv(str(root / "*.csv"), blocksize=None)
    monkeypatch.setattr(pd, "read_csv", spy)
    result = df[["name", "id"]].compute(scheduler="sync")
    assert seen == [["id", "name"]] * 3  # the union of what consumers need, in file order
    assert_eq(result, pandas_read(paths)[["name", "id"]], check_index=False)
    seen.clear()
    amounts = df.amount.compute(scheduler="sync")
    assert seen == [["amount"]] * 3
    assert_eq(amounts, pandas_read(paths).amount, check_index=False)


def test_compressed_files_are_whole_partitions(tmp_path):
    frame = table()
    paths = []
    for k in range(2):
        path = tmp_path / f"part-{k}.csv.gz"
        with gzip.open(path, "wt") as handle:
            frame.iloc[k * 25:(k + 1) * 25].to_csv(handle, index=False)
        paths.append(path)
    df = dd.read_csv(str(tmp_path / "*.csv.gz"), blocksize=10)
    assert df.npartitions == 2
    assert_eq(df, pandas_read(paths), check_index=False)


def test_include_path_column(csv_files):
    root, paths, _ = csv_files
    df = dd.read_csv(str(root / "*.csv"), blocksize=100, include_path_column=True)
    result = df.compute(scheduler="sync")
    assert isinstance(result.dtypes["path"], pd.CategoricalDtype)
    assert list(result.path.cat.categories) == [str(p) for p in paths]
    counts = result.path.astype(str).value_counts()
    assert counts[str(paths[0])] == 17
    only = df.path.compute(scheduler="sync")  # no file column read, the rows still counted
    assert only.astype(str).tolist() == result.path.astype(str).tolist()
    named = dd.read_csv(str(root / "*.csv"), include_path_column="source")
    assert "source" in named.columns


def test_dtype_drift_error_names_the_column(tmp_path):
    path = tmp_path / "drift.csv"
    lines = ["x"] + [str(i) for i in range(2000)] + ["oops"]
    path.write_text("\n".join(lines) + "\n")
    df = dd.read_csv(path, blocksize=4000, sample=1000)
    assert df.dtypes["x"] == np.int64
    with pytest.raises(ValueError, match=r"column 'x' was inferred as int64.*dtype=\{'x'"):
        df.compute(scheduler="sync")
    assert_eq(dd.read_csv(path, blocksize=4000, dtype={"x": "str"}), pd.read_csv(path, dtype={"x": "str"}),
              check_index=False)


def test_build_time_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="read_csv: no file matches"):
        dd.read_csv(str(tmp_path / "*.csv"))
    with pytest.raises(ValueError, match="index_col"):
        dd.read_csv(str(tmp_path / "x.csv"), index_col=0)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_to_csv_files_and_single_file(tmp_path, scheduler):
    frame = table()
    df = dd.from_pandas(frame, npartitions=3)
    written = df.to_csv(str(tmp_path / "out" / "part-*.csv"), index=False,
                        compute_kwargs={"scheduler": scheduler})
    assert [os.path.basename(p) for p in written] == ["part-0.csv", "part-1.csv", "part-2.csv"]
    assert_eq(dd.read_csv(str(tmp_path / "out" / "*.csv")), frame, check_index=False)
    single = tmp_path / "all.csv"
    assert df.to_csv(str(single), single_file=True, index=False) == [str(single)]
    pd.testing.assert_frame_equal(pd.read_csv(single, dtype={"name": "str"}), frame)
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    directory = tmp_path / "dir"
    df.to_csv(str(directory), index=False)
    assert sorted(os.listdir(directory)) == ["0.part", "1.part", "2.part"]
