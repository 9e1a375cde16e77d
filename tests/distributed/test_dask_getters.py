"""chunkwise collections computed by dask's own get functions (``dask.get``, ``dask.threaded.get``).

A get function of dask runs graphs of dask's nodes; chunkwise converts its
graph for it. Before, ``compute(x, scheduler=dask.get)`` returned chunkwise's
task objects as if they were the values (found through xarray's
``ds.load(scheduler=dask.get)``).
"""

from __future__ import annotations

import functools

import pytest

pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import chunkwise  # noqa: E402
import chunkwise.array as da  # noqa: E402
import chunkwise.dataframe as dd  # noqa: E402
from chunkwise import delayed  # noqa: E402
from chunkwise.diagnostics import ProgressBar  # noqa: E402
from chunkwise.scheduling import get_scheduler, get_threads, runs_dask_graphs  # noqa: E402

GETTERS = {
    "dask.get": lambda: dask.get,
    "dask.threaded.get": lambda: __import__("dask.threaded", fromlist=["get"]).get,
    "partial": lambda: functools.partial(__import__("dask.threaded", fromlist=["get"]).get, num_workers=2),
}


@pytest.fixture(params=sorted(GETTERS))
def getter(request):
    return GETTERS[request.param]()


def test_arrays_compute_with_dask_getters(getter):
    data = np.arange(60.0).reshape(6, 10)
    x = da.from_array(data, chunks=((2, 0, 4), (3, 7)))
    result = ((x + x.T[:, :6].sum()) * 2).sum(axis=0)
    np.testing.assert_allclose(result.compute(scheduler=getter), ((data + data.T[:, :6].sum()) * 2).sum(axis=0))
    first, second = chunkwise.compute(x.mean(), x[x > 30], scheduler=getter)
    assert first == data.mean()
    np.testing.assert_array_equal(second, data[data > 30])


def test_dataframes_and_delayed_compute_with_dask_getters(getter):
    pdf = pd.DataFrame({"k": [1, 2, 1, 3, 2, 1], "v": np.arange(6.0)})
    df = dd.from_pandas(pdf, npartitions=3)
    pd.testing.assert_series_equal(df.groupby("k").v.sum().compute(scheduler=getter), pdf.groupby("k").v.sum())
    assert delayed(sum)([delayed(len)("ab"), 3]).compute(scheduler=getter) == 5


def test_persist_with_a_dask_getter():
    x = da.arange(10, chunks=3) + 1
    (kept,) = chunkwise.persist(x, scheduler=dask.get)
    np.testing.assert_array_equal(kept.compute(scheduler="sync"), np.arange(10) + 1)


def test_chunkwise_getters_and_plain_functions_are_not_converted():
    assert not runs_dask_graphs(get_threads)
    assert get_scheduler(get_threads) is get_threads

    def my_get(graph, keys, **kwargs):  # a user's wrapper around a chunkwise scheduler
        return get_threads(graph, keys, **kwargs)

    assert get_scheduler(my_get) is my_get
    assert da.arange(5, chunks=2).sum().compute(scheduler=my_get) == 10
    assert runs_dask_graphs(dask.get) and runs_dask_graphs(functools.partial(dask.get))


def test_chunkwise_callbacks_are_refused_with_a_dask_getter():
    with pytest.raises(ValueError, match="callbacks cannot run inside dask's scheduler"):
        da.arange(5, chunks=2).sum().compute(scheduler=dask.get, callbacks=[ProgressBar()])
