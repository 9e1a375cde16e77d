"""The dask collection protocol and futures interop, on an in-process LocalCluster (loopback only)."""

from __future__ import annotations

import threading
from operator import add

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

import chunkwise  # noqa: E402
import chunkwise.array as da  # noqa: E402
from chunkwise import delayed  # noqa: E402
from chunkwise.array.core import PersistedArray  # noqa: E402
from chunkwise.array.testing import assert_eq  # noqa: E402
from chunkwise.base import Persisted  # noqa: E402

# --- a counter the workers (threads of this process) can see -----------------------

_calls: dict[str, int] = {}
_lock = threading.Lock()


def _count(block, label):
    with _lock:
        _calls[label] = _calls.get(label, 0) + 1
    return block


def counted(x, label):
    """``x`` with every block computation counted under ``label``."""
    _calls[label] = 0
    return x.map_blocks(_count, label, dtype=x.dtype)


def _data(shape=(7, 5)):
    return np.arange(np.prod(shape), dtype=float).reshape(shape)


# --- client.compute --------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, chunks",
    [((7, 5), (3, 2)), ((7, 5), ((7,), (5,))), ((0, 4), 2), ((), ()), ((1,), 1)],
)
def test_client_compute_array(client, shape, chunks):
    a = _data(shape)
    x = da.from_array(a, chunks=chunks)
    y = x + 1 if a.ndim != 2 else (x + 1).T * 2
    future = client.compute(y)
    assert isinstance(future, distributed.Future)
    result = future.result()
    expected = a + 1 if a.ndim != 2 else (a + 1).T * 2
    local = y.compute(scheduler="sync")
    assert type(result) is type(local) and result.dtype == expected.dtype  # 0-d: a NumPy scalar
    np.testing.assert_array_equal(result, expected)


def test_client_compute_many_and_delayed(client):
    a = _data()
    x = da.from_array(a, chunks=3)
    d = delayed(add)(delayed(sum)([1, 2]), 10)
    fx, fs, fd, lit = client.compute([x.sum(axis=0), x.mean(), d, 7])
    assert lit == 7
    np.testing.assert_array_equal(fx.result(), a.sum(axis=0))
    assert fs.result() == a.mean()
    assert fd.result() == 13
    assert client.compute(d, sync=True) == 13


def test_protocol_methods():
    x = da.from_array(_data(), chunks=3)
    y = x + 1
    keys = y.__dask_keys__()
    assert len(keys) == 3 * 2 and all(type(k) is tuple for k in keys)
    graph = y.__dask_graph__()
    assert set(keys) <= set(graph)
    assert len(graph) == len(keys)  # fused: from_array and the add run in one task per block
    func, args = y.__dask_postcompute__()
    blocks = [y.blocks[k[1:]].compute() for k in keys]
    np.testing.assert_array_equal(func(blocks, *args), _data() + 1)
    assert y.__dask_optimize__(graph, keys) is graph
    assert dask.base.tokenize(y) == dask.base.tokenize(x + 1) != dask.base.tokenize(x + 2)
    d = delayed(add)(1, 2)
    assert d.__dask_keys__() == [d.key]
    func, args = d.__dask_postcompute__()
    assert func([3], *args) == 3
    assert dask.is_dask_collection(y) and dask.is_dask_collection(d)


# --- client.persist: blocks stay on the cluster and are reused -------------------


def test_client_persist_reuses_blocks(active):
    a = _data((8, 8))
    x = counted(da.from_array(a, chunks=4), "persist")
    y = active.persist(x + x.T)
    assert isinstance(y, da.Array) and isinstance(y.expr, PersistedArray)
    assert y.shape == (8, 8) and y.chunks == ((4, 4), (4, 4))
    distributed.wait(y)
    distributed.progress(y)  # a text bar; returns once the blocks are done
    futures = distributed.futures_of(y)
    assert len(futures) == 4 and all(f.status == "finished" for f in futures)
    done = _calls["persist"]
    assert done == 4  # each block of x once, shared by x and x.T
    # the graph sent for later work refers to the blocks on the cluster: no upstream tasks
    graph = y.sum().__dask_graph__()
    y_keys = {f.key for f in futures}
    # y's blocks stand in the graph as their futures (as in Dask's graphs), nothing else of x
    held = {k: v for k, v in graph.items() if isinstance(v, distributed.Future)}
    assert set(held) == y_keys and all(held[k].key == k for k in held)
    tasks = {k: v for k, v in graph.items() if k not in held}
    needed = set().union(*(node.dependencies for node in tasks.values()))
    assert y_keys <= needed and needed - y_keys <= set(tasks)
    assert not any("_count" in repr(v) or "from-array" in repr(v) for v in tasks.values())
    assert y.sum().compute() == (a + a.T).sum()  # the active client
    assert y.sum().compute(scheduler=active) == (a + a.T).sum()
    np.testing.assert_array_equal(active.compute(y[2:6]).result(), (a + a.T)[2:6])
    assert _calls["persist"] == done  # nothing upstream ran again
    # a local scheduler fetches the blocks from the cluster
    assert y.sum().compute(scheduler="threads") == (a + a.T).sum()
    assert_eq(y, a + a.T)
    assert _calls["persist"] == done


def test_chunkwise_persist_on_cluster_keeps_futures(active):
    a = _data()
    x = counted(da.from_array(a, chunks=3), "chunkwise-persist")
    y = x.persist()  # the active client
    assert all(isinstance(v, distributed.Future) for v in y.expr.data.values())
    (z,) = chunkwise.persist(x * 2, scheduler="distributed")
    assert len(distributed.futures_of(z)) == 6
    distributed.wait([y, z])
    done = _calls["chunkwise-persist"]
    # derived collections show the futures they use, as Dask's do
    y_keys = {f.key for f in distributed.futures_of(y)}
    assert {f.key for f in distributed.futures_of((y + 1).sum())} == y_keys
    assert {f.key for f in distributed.futures_of(y[:3])} < y_keys
    assert (y + 1).sum().compute() == (a + 1).sum()
    assert (y + 1).sum().compute(scheduler="sync") == (a + 1).sum()
    np.testing.assert_array_equal(z.compute(), a * 2)
    assert _calls["chunkwise-persist"] == done


def test_persist_delayed(active):
    d = delayed(add)(delayed(sum)([1, 2, 3]), 1)
    p = active.persist(d)
    assert isinstance(p.expr, Persisted)
    (future,) = distributed.futures_of(p)
    assert future.result() == 7
    assert (p * 2).compute() == 14
    assert (p * 2).compute(scheduler="sync") == 14
    assert active.compute(p + 1).result() == 8


def test_persist_twice_and_cancel(active):
    x = da.from_array(_data(), chunks=3)
    y = active.persist(x * 3)
    z = active.persist(y)  # already on the cluster: the same keys
    assert {f.key for f in distributed.futures_of(z)} == {f.key for f in distributed.futures_of(y)}
    np.testing.assert_array_equal(z.compute(), _data() * 3)
    v = z.persist()  # chunkwise's persist on the active client: the same keys again
    assert {f.key for f in distributed.futures_of(v)} == {f.key for f in distributed.futures_of(y)}
    assert v.sum().compute() == (_data() * 3).sum()
    w = active.persist(x - 1)
    active.cancel(w)
    with pytest.raises(RuntimeError, match="persist the collection again"):
        w.sum().compute(scheduler="sync")


# --- client.submit --------------------------------------------------------------


def _total(x):
    return float(x.sum().compute(scheduler="sync"))


def test_submit_with_collection(client):
    # distributed passes a collection argument as it is: the function gets the lazy array
    x = da.from_array(_data(), chunks=3)
    assert client.submit(_total, x).result() == _data().sum()
    assert client.submit(type, x).result() is da.Array
    d = delayed(add)(1, 2)
    assert client.submit(lambda v: v.compute(scheduler="sync") * 2, d).result() == 6


# --- from_futures ------------------------------------------------------------------


def test_from_futures_grid(client):
    a = _data((5, 6))
    rows, cols = (2, 3), (4, 2)
    grid = []
    r0 = 0
    for r in rows:
        c0, row = 0, []
        for c in cols:
            row.append(client.scatter(a[r0 : r0 + r, c0 : c0 + c]))
            c0 += c
        grid.append(row)
        r0 += r
    x = da.from_futures(grid, chunks=(rows, cols), dtype=float)
    assert x.chunks == (rows, cols) and x.shape == (5, 6)
    np.testing.assert_array_equal(x.compute(scheduler=client), a)
    np.testing.assert_array_equal(client.compute(x.T + 1).result(), a.T + 1)
    assert_eq(x, a)  # local schedulers fetch the blocks
    # the blocks are not in the graph: only references to them
    graph = (x + 1).__dask_graph__()
    assert all(len(repr(node)) < 500 for node in graph.values())
    assert da.from_futures(grid, chunks=(rows, cols), dtype=float).name == x.name


def test_from_futures_regular_chunks_and_map(client):
    a = np.arange(12)
    futures = client.map(lambda i: np.arange(4 * i, 4 * i + 4), range(3))
    x = da.from_futures(futures, chunks=4, shape=(12,), dtype=int)
    assert x.chunks == ((4, 4, 4),)
    assert int(x.sum().compute(scheduler=client)) == a.sum()
    one = da.from_futures(futures[0], shape=(4,), dtype=int)
    assert_eq(one, a[:4])


def test_from_futures_unknown_chunks_and_checks(client):
    futures = [client.scatter(np.ones(n)) for n in (2, 3)]
    x = da.from_futures(futures, chunks=((np.nan, np.nan),), dtype=float)
    assert np.isnan(x.shape[0])
    np.testing.assert_array_equal(x.compute(scheduler=client), np.ones(5))
    wrong = da.from_futures(futures, chunks=((3, 2),), dtype=float)
    with pytest.raises(ValueError, match="from_futures: the value has shape"):
        wrong.compute(scheduler=client)
    with pytest.raises(ValueError, match="from_futures: the value has shape"):
        wrong.compute(scheduler="sync")
    with pytest.raises(ValueError, match="must be a list of 3 items"):
        da.from_futures(futures, chunks=((1, 2, 2),), dtype=float)
    with pytest.raises(TypeError, match="dtype"):
        da.from_futures(futures, chunks=((2, 3),))
    with pytest.raises(TypeError, match="not a distributed.Future"):
        da.from_futures([futures[0], np.ones(3)], chunks=((2, 3),), dtype=float)


def test_from_futures_delayed_and_mixed(client):
    parts = [[delayed(np.full)((2, 2), i)] for i in range(3)]
    x = da.from_futures(parts, chunks=((2, 2, 2), (2,)), dtype=float)
    expected = np.repeat(np.arange(3.0), 4).reshape(6, 2)
    assert_eq(x, expected)
    mixed = [parts[0], [client.scatter(np.full((2, 2), 1.0))], parts[2]]
    y = da.from_futures(mixed, chunks=((2, 2, 2), (2,)), dtype=float)
    np.testing.assert_array_equal(client.compute(y).result(), expected)


# --- dask.compute (a bonus) ----------------------------------------------------------


def test_dask_compute_without_client():
    x = da.from_array(_data(), chunks=3)
    d = delayed(add)(1, 2)
    s, v = dask.compute(x.sum(), d)
    assert s == _data().sum() and v == 3
    (p,) = dask.persist(x + 1)
    assert isinstance(p.expr, PersistedArray)
    np.testing.assert_array_equal(p.compute(), _data() + 1)


# --- conversion --------------------------------------------------------------------


def test_conversion_of_nested_tasks_and_futures(client):
    from chunkwise.core.graph import DataNode, Ref, Task
    from chunkwise.distributed import _run_nested, get_distributed, to_dask_graph

    graph = {
        "a": DataNode("a", 2),
        "b": Task("b", add, Ref("a"), 1),  # simple: converted one to one
        "c": Task("c", add, Task(None, add, Ref("a"), Ref("b")), 10),  # nested: sent whole
        "d": Task("d", sum, [Ref("b"), Ref("c")]),
    }
    dsk = to_dask_graph(graph)
    assert dsk["b"].func is add and dsk["b"].dependencies == {"a"}
    assert dsk["c"].func is _run_nested and dsk["c"].dependencies == {"a", "b"}
    assert dsk["d"].dependencies == {"b", "c"}
    assert get_distributed(graph, ["b", "c", "d"], client=client) == [3, 15, 18]
    # a future as a literal argument is a reference to its data, as in dask
    future = client.scatter(5)
    graph = {"e": Task("e", add, future, 1)}
    dsk = to_dask_graph(graph)
    assert dsk["e"].dependencies == {future.key}
    assert get_distributed(graph, ["e"], client=client) == [6]
