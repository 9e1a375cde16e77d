"""chunkwise graphs on a ``distributed`` LocalCluster (in-process, loopback only)."""

from __future__ import annotations

import operator
from operator import add

import pytest

distributed = pytest.importorskip("distributed")

import numpy as np  # noqa: E402

import chunkwise  # noqa: E402
import chunkwise.array as da  # noqa: E402
from chunkwise import delayed  # noqa: E402
from chunkwise.core.graph import DataNode, Ref, Task  # noqa: E402
from chunkwise.core.passes import fuse_linear  # noqa: E402
from chunkwise.distributed import get_distributed, to_dask_graph  # noqa: E402
from chunkwise.scheduling import get_scheduler, get_threads  # noqa: E402


class Boom(Exception):
    pass


def explode(x):
    raise Boom(f"boom {x}")


def inc(x):
    return x + 1


def concat(*parts, sep="-"):
    return sep.join(str(p) for p in parts)


def where(x):
    """``"cluster"`` when run by a distributed worker, else ``"local"``."""
    try:
        distributed.get_worker()
    except ValueError:
        return "local"
    return "cluster"


def _where(scheduler=None, **kwargs):
    return delayed(where)(delayed(inc)(1)).compute(scheduler=scheduler, **kwargs)


# --- conversion ---------------------------------------------------------------


def test_to_dask_graph_nodes_and_containers(client):
    graph = {
        "a": DataNode("a", 1),
        "b": Task("b", add, Ref("a"), 10),
        "c": Task("c", sum, [Ref("a"), Ref("b"), 100]),
        "d": Task("d", tuple, (Ref("a"), [Ref("b"), 5], 7)),
        "e": Task("e", dict, {"x": Ref("a"), "y": [Ref("c"), {"z": Ref("b")}], "w": [1, 2]}),
        "f": Task("f", concat, Ref("a"), "lit", [1, 2], sep=Ref("g")),
        "g": DataNode("g", "+"),
        # literals that look like legacy tasks stay literals
        ("h", 0): Task(("h", 0), list, [[(1, 2)], (inc, 3)]),
    }
    converted = to_dask_graph(graph)
    import dask._task_spec as ts

    assert isinstance(converted["a"], ts.DataNode)
    assert isinstance(converted["b"], ts.Task)
    assert converted["c"].dependencies == {"a", "b"}
    keys = ["b", "c", "d", "e", "f", ("h", 0)]
    expected = [
        11,
        112,
        (1, [11, 5], 7),
        {"x": 1, "y": [112, {"z": 11}], "w": [1, 2]},
        "1+lit+[1, 2]",
        [[(1, 2)], (inc, 3)],
    ]
    assert get_distributed(graph, keys, client=client) == expected
    assert chunkwise.scheduling.get(graph, keys, scheduler="sync") == expected


def test_to_dask_graph_nested_fused_tasks(client):
    # a linear chain of 100 tasks, fused into one task nesting 99 others
    graph = {("x", 0): DataNode(("x", 0), 0)}
    for i in range(1, 101):  # fusion nests chunkwise tasks ~100 deep at most
        graph[("x", i)] = Task(("x", i), inc, Ref(("x", i - 1)))
    graph["out"] = Task("out", list, [Ref(("x", 100)), Task(None, add, Ref(("x", 0)), 5)])
    fused = fuse_linear(graph, ["out"])
    assert len(fused) < len(graph)
    assert set(fused) == {"out", ("x", 100), ("x", 0)}  # the chain sits in one task, 100 deep
    assert repr(fused[("x", 100)]).count("inc(") == 100
    converted = to_dask_graph(fused)
    assert set(converted) == set(fused)
    assert get_distributed(fused, "out", client=client) == [100, 5]
    assert get_distributed(graph, ["out", [("x", 3)]], client=client) == [[100, 5], [3]]


def test_to_dask_graph_rejects_foreign_nodes():
    with pytest.raises(TypeError, match="not a chunkwise Task"):
        to_dask_graph({"a": (inc, 1)})


# --- scheduler selection --------------------------------------------------------


def test_explicit_client(client):
    x = da.random.default_rng(0).random((400, 400), chunks=100)
    y = (x + x.T).mean()
    local = y.compute(scheduler="threads")
    assert y.compute(scheduler=client) == local
    assert _where(client) == "cluster"


def test_map_overlap_on_cluster(client):
    """Neighbourhood tasks (a block's edge slabs lent to its neighbours) run on a cluster."""
    from scipy.ndimage import uniform_filter

    x = da.random.default_rng(0).random((300, 250), chunks=(100, 90))
    for boundary in ("reflect", "periodic"):
        y = x.map_overlap(uniform_filter, depth=2, boundary=boundary, size=5, mode="constant")
        expected = uniform_filter(x.compute(), 5, mode="reflect" if boundary == "reflect" else "wrap")
        np.testing.assert_allclose(y.compute(scheduler=client), expected, rtol=1e-12)


def test_scheduler_distributed_uses_active_client(active):
    x = da.random.default_rng(0).random((400, 400), chunks=100)
    y = (x + x.T).mean()
    local = y.compute(scheduler="sync")
    assert y.compute(scheduler="distributed") == local
    assert _where("distributed") == _where("dask.distributed") == "cluster"


def test_active_client_is_the_default(active):
    x = da.random.default_rng(0).random((400, 400), chunks=100)
    y = (x + x.T).mean()
    local = y.compute(scheduler="threads")
    assert y.compute() == local
    assert _where() == "cluster"
    # "threads" forces local execution even with an active client
    assert y.compute(scheduler="threads") == local
    assert _where("threads") == _where("sync") == "local"
    with chunkwise.config.set(scheduler="threads"):
        assert y.compute() == local
        assert _where() == "local"
        assert get_scheduler() is get_threads


def test_no_active_client(client):
    # ``client`` is not the default client: the default stays local
    assert get_scheduler() is get_threads
    assert _where() == "local"
    with pytest.raises(ValueError, match="needs a distributed.Client"):
        delayed(inc)(1).compute(scheduler="distributed")


def test_delayed_tree(client):
    leaves = [delayed(inc)(i) for i in range(16)]
    while len(leaves) > 1:
        leaves = [delayed(add)(a, b) for a, b in zip(leaves[::2], leaves[1::2])]
    total = leaves[0]
    assert total.compute(scheduler=client) == total.compute(scheduler="sync") == sum(range(1, 17))
    a, b = chunkwise.compute(total, {"k": [delayed(operator.mul)(total, 2)]}, scheduler=client)
    assert (a, b) == (136, {"k": [272]})


def test_persist_on_cluster(client):
    x = da.arange(100, chunks=10)
    (y,) = chunkwise.persist(x * 2, scheduler=client)
    assert int(y.sum().compute(scheduler="sync")) == 9900


def test_exception_keeps_its_type(client):
    with pytest.raises(Boom, match="boom 3"):
        delayed(explode)(delayed(inc)(2)).compute(scheduler=client)
