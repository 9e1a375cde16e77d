"""Dataframes on distributed: client.compute/persist (partitions stay on the workers), from_futures."""

from __future__ import annotations

import importlib.util
import pathlib
import threading

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

import chunkwise  # noqa: E402
import chunkwise.dataframe as dd  # noqa: E402
from chunkwise.dataframe import assert_eq  # noqa: E402
from chunkwise.dataframe.expr import PersistedFrame  # noqa: E402


def _load_cluster_fixtures():
    """The LocalCluster fixtures of tests/distributed/conftest.py (one definition of them)."""
    path = pathlib.Path(__file__).parents[1] / "distributed" / "conftest.py"
    spec = importlib.util.spec_from_file_location("distributed_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cluster, module.client, module.active


cluster, client, active = _load_cluster_fixtures()

_calls: dict[str, int] = {}
_lock = threading.Lock()


def _count(part, label):
    with _lock:
        _calls[label] = _calls.get(label, 0) + 1
    return part


def counted(df, label):
    frame = df.map_partitions(_count, label, meta=df._meta)
    _calls[label] = 0
    return frame


def test_client_compute(client, pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    future = client.compute(df)
    assert isinstance(future, distributed.Future)
    pd.testing.assert_frame_equal(future.result(), pdf)
    out = client.compute(df[df.i > 0].f * 2).result()
    pd.testing.assert_series_equal(out, pdf[pdf.i > 0].f * 2)
    a, b = client.compute([df.s.str.upper(), df.t.dt.tz_convert("UTC")])
    pd.testing.assert_series_equal(a.result(), pdf.s.str.upper())
    pd.testing.assert_series_equal(b.result(), pdf.t.dt.tz_convert("UTC"))


def test_client_persist_keeps_partitions_on_workers(client, pdf):
    df = counted(dd.from_pandas(pdf, npartitions=3), "persist")
    persisted = client.persist(df)
    assert isinstance(persisted, dd.DataFrame)
    assert isinstance(persisted.expr, PersistedFrame)
    data = persisted.expr.operands[1]
    assert len(data) == 3
    assert all(isinstance(v, distributed.Future) for v in data.values())
    client.gather(list(data.values()))
    assert _calls["persist"] == 3
    later = client.compute(persisted.i + persisted.f).result()
    pd.testing.assert_series_equal(later, pdf.i + pdf.f)
    pd.testing.assert_frame_equal(client.compute(persisted[["i"]] * 2).result(), pdf[["i"]] * 2)
    assert _calls["persist"] == 3  # nothing upstream ran again
    assert persisted.divisions == df.divisions


def test_chunkwise_persist_on_active_client(active, pdf):
    df = counted(dd.from_pandas(pdf, npartitions=2), "active")
    (persisted,) = chunkwise.persist(df)
    assert all(isinstance(v, distributed.Future) for v in persisted.expr.operands[1].values())
    assert_eq(persisted.i.where(persisted.i > 0, 0), pdf.i.where(pdf.i > 0, 0))
    assert len(persisted) == len(pdf)
    assert _calls["active"] == 2


def test_from_futures(client, pdf):
    futures = client.scatter([pdf.iloc[:8], pdf.iloc[8:]])
    df = dd.from_futures(futures, meta=pdf.iloc[:0], divisions=(0, 16, 38))
    assert df.npartitions == 2
    result = client.compute(df.loc[10:20]).result()
    pd.testing.assert_frame_equal(result, pdf.loc[10:20])
    assert_eq(df, pdf, scheduler="sync")


def test_worker_processes(pdf):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", host="127.0.0.1") as lc, \
            distributed.Client(lc, set_as_default=False) as c:
        df = dd.from_pandas(pdf, npartitions=3)
        out = c.compute(df.assign(u=df.s.str.upper())[df.i > 1]).result()
        pd.testing.assert_frame_equal(out, pdf.assign(u=pdf.s.str.upper())[pdf.i > 1])
        persisted = c.persist(df.map_partitions(lambda p: p.assign(z=p.i * 2)))
        pd.testing.assert_series_equal(c.compute(persisted.z.abs()).result(), (pdf.i * 2).abs().rename("z"))


def test_dask_compute_and_scalars(client, pdf):
    dask = pytest.importorskip("dask")
    from chunkwise.dataframe.expr import total_rows

    df = dd.from_pandas(pdf, npartitions=3)
    (out,) = dask.compute(df[df.i > 0].f, scheduler=client)
    pd.testing.assert_series_equal(out, pdf[pdf.i > 0].f)
    rows = dd.Scalar(total_rows(df[df.i > 0].expr))
    assert client.compute(rows).result() == int((pdf.i > 0).sum())
