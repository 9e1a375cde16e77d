"""The shuffle on a LocalCluster: split and combine run as tasks on the workers."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

import chunkwise  # noqa: E402
import chunkwise.dataframe as dd  # noqa: E402
from chunkwise.dataframe.shuffle import hash_partition, shuffle_bytes_written  # noqa: E402


def _load_cluster_fixtures():
    """The LocalCluster fixtures of tests/distributed/conftest.py (one definition of them)."""
    path = pathlib.Path(__file__).parents[1] / "distributed" / "conftest.py"
    spec = importlib.util.spec_from_file_location("distributed_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cluster, module.client, module.active


cluster, client, active = _load_cluster_fixtures()


def data(n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    k = rng.integers(0, 200, n)
    k[: n // 2] = 11  # a skewed key
    s = pd.Series(rng.choice(["a", "b", "c"], n), dtype="str")
    s[::7] = None
    return pd.DataFrame({"k": k, "s": s, "v": rng.normal(size=n), "u": rng.permutation(n)})


def test_hash_partition_on_the_cluster_runs_piece_tasks(active):
    pdf = data()
    df = dd.from_pandas(pdf, npartitions=6)
    out = hash_partition(df, "k", 4)
    before = shuffle_bytes_written()
    got = active.compute(out).result()
    assert shuffle_bytes_written() == before  # pieces stayed in the workers' memory
    pd.testing.assert_frame_equal(got.sort_index(), pdf)
    # the "tasks" method (an active client): a small task per piece, so a combine fetches its own pieces
    graph = out.__dask_graph__()
    names = {key[0] for key in graph if isinstance(key, tuple)}
    assert any(name.endswith("-piece") for name in names)


def test_sort_set_index_groupby_drop_duplicates_on_the_cluster(active):
    pdf = data()
    df = dd.from_pandas(pdf, npartitions=5)
    pd.testing.assert_frame_equal(df.sort_values("u").compute(), pdf.sort_values("u"))
    pd.testing.assert_frame_equal(df.set_index("u").compute(), pdf.set_index("u").sort_index())
    got = df.groupby("k", split_out=3).v.sum().compute().sort_index()
    pd.testing.assert_series_equal(got, pdf.groupby("k").v.sum(), check_exact=False, rtol=1e-12)
    pd.testing.assert_series_equal(df.groupby("s").v.cumsum().compute(), pdf.groupby("s").v.cumsum())
    dedup = df.drop_duplicates(["k", "s"], split_out=2).compute().sort_index()
    pd.testing.assert_frame_equal(dedup, pdf.drop_duplicates(["k", "s"]))


def test_disk_method_with_a_client_that_is_not_the_default(client):
    """compute(scheduler=client) lowers with the disk method; on workers with no open run the
    split keeps its pieces in memory, so the answer is still right."""
    pdf = data()
    df = dd.from_pandas(pdf, npartitions=4)
    with chunkwise.config.set({"dataframe.shuffle.method": "disk"}):
        got = df.shuffle(on="s", npartitions=3).compute(scheduler=client)
    pd.testing.assert_frame_equal(got.sort_index(), pdf)
