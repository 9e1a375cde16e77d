"""Reading and writing ``s3://`` URLs against a real S3 HTTP endpoint: moto's server on loopback."""

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe.testing import assert_eq

moto_server = pytest.importorskip("moto.server")
s3fs = pytest.importorskip("s3fs")

BUCKET = "chunkwise-test"


@pytest.fixture(scope="module")
def s3():
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        options = {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": f"http://{host}:{port}"},
        }
        fs = s3fs.S3FileSystem(**options)
        fs.mkdir(BUCKET)
        yield fs, options
    finally:
        server.stop()


def frame(n: int = 30) -> pd.DataFrame:
    values = np.arange(n) / 3
    values[::4] = np.nan
    return pd.DataFrame({
        "i": np.arange(n),
        "g": pd.Series(["a", "b", "c"] * (n // 3), dtype="str"),
        "v": values,
        "t": pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"),
    })


def test_parquet_round_trip_through_s3(s3):
    fs, options = s3
    pdf = frame()
    url = f"s3://{BUCKET}/round-trip"
    assert dd.from_pandas(pdf, npartitions=3).to_parquet(url, storage_options=options) == 3
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{BUCKET}/round-trip")) == [
        "_chunkwise", "part.0.parquet", "part.1.parquet", "part.2.parquet"
    ]
    df = dd.read_parquet(url, storage_options=options)
    assert df.npartitions == 3
    assert_eq(df, pdf)
    assert_eq(df[df.i > 20][["i", "v"]], pdf[pdf.i > 20][["i", "v"]])
    assert len(df) == 30
    expected = pd.read_parquet(url, storage_options=options)
    assert_eq(df, expected)
    more = dd.from_pandas(pdf.iloc[:6], npartitions=2)
    assert more.to_parquet(url, append=True, storage_options=options) == 2
    assert len(dd.read_parquet(url, storage_options=options)) == 36
    assert more.to_parquet(url, overwrite=True, storage_options=options) == 2
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{BUCKET}/round-trip", refresh=True)) == [
        "_chunkwise", "part.0.parquet", "part.1.parquet"
    ]
    assert_eq(dd.read_parquet(url, storage_options=options), pdf.iloc[:6])


def test_parquet_hive_directory_written_by_pandas(s3):
    _, options = s3
    pdf = frame()
    url = f"s3://{BUCKET}/hive"
    pdf.to_parquet(url, partition_cols=["g"], storage_options=options)
    df = dd.read_parquet(url, storage_options=options, filters=[("g", "!=", "b")])
    assert df.npartitions == 2
    expected = pd.read_parquet(url, storage_options=options, filters=[("g", "!=", "b")])
    result = df.compute().sort_values("i").reset_index(drop=True)
    assert_eq(result, expected.sort_values("i").reset_index(drop=True))


def test_read_csv_from_s3_in_blocks(s3):
    fs, options = s3
    pdf = frame()[["i", "g", "v"]]
    for k in range(2):
        with fs.open(f"{BUCKET}/csv/part-{k}.csv", "wb") as handle:
            handle.write(pdf.iloc[k * 15:(k + 1) * 15].to_csv(index=False).encode())
    df = dd.read_csv(f"s3://{BUCKET}/csv/*.csv", blocksize=64, storage_options=options)
    assert df.npartitions > 2
    assert_eq(df, pdf, check_index=False)
    written = df.to_csv(f"s3://{BUCKET}/csv-out/*.csv", index=False, storage_options=options)
    assert written[0] == f"s3://{BUCKET}/csv-out/0.csv"
    back = dd.read_csv(f"s3://{BUCKET}/csv-out/*.csv", storage_options=options)
    assert_eq(back, pdf, check_index=False)
