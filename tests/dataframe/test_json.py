"""read_json / to_json (JSON lines) against pandas on the same files."""

import gzip
import os

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe.testing import assert_eq

SCHEDULERS = ["sync", "threads"]


def records(n: int = 40) -> pd.DataFrame:
    floats = np.arange(n) / 4
    floats[::6] = np.nan
    names = pd.Series([f"name {i % 5}" for i in range(n)], dtype="str")
    names[1::8] = None
    return pd.DataFrame({"id": np.arange(n), "value": floats, "name": names})


@pytest.fixture
def jsonl_files(tmp_path):
    frame = records()
    paths = []
    for k in range(2):
        path = tmp_path / f"rec-{k}.jsonl"
        frame.iloc[k * 20:(k + 1) * 20].to_json(path, orient="records", lines=True)
        paths.append(path)
    return tmp_path, paths


def pandas_read(paths, **kwargs):
    return pd.concat([pd.read_json(p, lines=True, **kwargs) for p in paths], ignore_index=True)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("blocksize", [None, 50, 400])
def test_read_json_lines_in_blocks(jsonl_files, blocksize, scheduler):
    root, paths = jsonl_files
    df = dd.read_json(str(root / "*.jsonl"), blocksize=blocksize)
    if blocksize is None:
        assert df.npartitions == 2
    else:
        assert df.npartitions == sum(-(-os.path.getsize(p) // blocksize) for p in paths)
    assert_eq(df, pandas_read(paths), check_index=False, scheduler=scheduler)


def test_read_json_compressed_and_whole_documents(tmp_path):
    frame = records()
    gz = tmp_path / "rec.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        frame.to_json(handle, orient="records", lines=True)
    df = dd.read_json(gz, blocksize=16)
    assert df.npartitions == 1
    assert_eq(df, pd.read_json(gz, lines=True), check_index=False)
    whole = tmp_path / "doc.json"
    frame.to_json(whole, orient="records")
    assert_eq(dd.read_json(whole, lines=False), pd.read_json(whole), check_index=False)
    with pytest.raises(ValueError, match="blocksize= needs lines=True"):
        dd.read_json(whole, lines=False, blocksize=100)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_to_json_round_trip(tmp_path, scheduler):
    frame = records()
    df = dd.from_pandas(frame, npartitions=3)
    written = df.to_json(str(tmp_path / "out" / "*.jsonl"), compute_kwargs={"scheduler": scheduler})
    assert [os.path.basename(p) for p in written] == ["0.jsonl", "1.jsonl", "2.jsonl"]
    assert_eq(dd.read_json(str(tmp_path / "out" / "*.jsonl")), frame, check_index=False)
    assert not [f for f in os.listdir(tmp_path / "out") if f.endswith(".tmp")]
