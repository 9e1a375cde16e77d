"""Tests for chunkwise.core.passes: cull, toposort, order, fuse_linear, validate_graph."""

from __future__ import annotations

from operator import add

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.core.passes import (
    cull,
    fuse_linear,
    get_dependencies,
    get_dependents,
    optimize_graph,
    order,
    simulate_memory,
    toposort,
    validate_graph,
)

# --- helpers -------------------------------------------------------------------


def execute(graph, keys):
    """Run ``graph`` naively in toposort order; return the results of ``keys``."""
    results = {}
    for k in toposort(graph):
        results[k] = graph[k](results)
    return {k: results[k] for k in keys}


def ancestors(graph, keys):
    """Brute force: the keys and everything they depend on, transitively."""
    seen = set(keys)
    changed = True
    while changed:
        changed = False
        for k in list(seen):
            for d in graph[k].dependencies:
                if d not in seen:
                    seen.add(d)
                    changed = True
    return seen


def assert_topological(graph, priorities):
    assert sorted(priorities.values()) == list(range(len(graph)))
    assert set(priorities) == set(graph)
    for k, node in graph.items():
        for d in node.dependencies:
            assert priorities[d] < priorities[k], (d, k)


CALLS: list = []  # node ids of the tasks run, to catch work duplicated by fusion


def combine(i, *values):
    """Deterministic, order-sensitive mix of a node id and its inputs."""
    CALLS.append(i)
    out = i
    for v in values:
        out = (out * 1_000_003 + v) % 2**61
    return out


def unpack_list(i, values, extra):
    return combine(i, *values, *extra.values())


def inc(x):
    return x + 1


@st.composite
def dags(draw, max_nodes=25):
    """Random DAGs over keys 0..n-1 (a few as tuple keys), edges from lower to higher index."""
    n = draw(st.integers(1, max_nodes))
    names = [("t", i) if draw(st.booleans()) else i for i in range(n)]
    graph = {}
    for i in range(n):
        key = names[i]
        deps = draw(st.lists(st.integers(0, i - 1), max_size=4, unique=True)) if i else []
        if not deps and draw(st.booleans()):
            graph[key] = DataNode(key, i * 7 + 1)
            continue
        refs = [Ref(names[j]) for j in deps]
        style = draw(st.integers(0, 3))
        if style == 0 or not refs:
            graph[key] = Task(key, combine, i, *refs)
        elif style == 1:  # a reference used twice: must not be inlined twice
            graph[key] = Task(key, combine, i, *refs, refs[0])
        elif style == 2:  # references nested in a list and a dict
            graph[key] = Task(key, unpack_list, i, refs[:-1], {"last": refs[-1]})
        else:  # a reference in a keyword argument
            graph[key] = Task(key, _kw_combine, i, *refs[1:], first=refs[0])
    outputs = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    return graph, outputs


def _kw_combine(i, *values, first):
    return combine(i, first, *values)


# --- properties on random DAGs -------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(dags())
def test_cull_keeps_exactly_the_ancestors(case):
    graph, outputs = case
    culled, dependencies = cull(graph, outputs)
    assert set(culled) == ancestors(graph, outputs)
    assert dependencies == {k: graph[k].dependencies for k in culled}
    assert all(culled[k] is graph[k] for k in culled)


@settings(max_examples=100, deadline=None)
@given(dags())
def test_order_and_toposort_are_topological(case):
    graph, _ = case
    assert_topological(graph, order(graph))
    topo = toposort(graph)
    assert_topological(graph, {k: i for i, k in enumerate(topo)})
    # deterministic: the same graph built in another key order gets the same priorities
    reversed_graph = dict(reversed(list(graph.items())))
    assert order(reversed_graph) == order(graph)


@settings(max_examples=100, deadline=None)
@given(dags(), st.sampled_from([1, 2, 100]))
def test_fuse_linear_preserves_results(case, max_chain):
    graph, outputs = case
    expected = execute(graph, outputs)
    culled, dependencies = cull(graph, outputs)
    fused = fuse_linear(culled, outputs, dependencies, max_chain=max_chain)
    assert set(outputs) <= set(fused)
    assert set(fused) <= set(culled)
    validate_graph(fused)
    CALLS.clear()
    assert execute(fused, outputs) == expected
    ran_tasks = sum(type(node) is Task for node in culled.values())
    assert sorted(CALLS) == sorted(set(CALLS)) and len(CALLS) == ran_tasks  # each task once
    assert execute(optimize_graph(graph, outputs), outputs) == expected
    for k, node in fused.items():
        assert node.key == k
    assert_topological(fused, order(fused))


@settings(max_examples=50, deadline=None)
@given(dags())
def test_get_dependents_inverts_dependencies(case):
    graph, _ = case
    dependencies = get_dependencies(graph)
    dependents = get_dependents(graph)
    assert set(dependents) == set(graph)
    pairs = {(d, k) for k, deps in dependencies.items() for d in deps}
    assert pairs == {(d, k) for d, users in dependents.items() for k in users}


# --- fusion specifics ------------------------------------------------------------


def test_fuse_linear_chain_nests_tasks_under_the_last_key():
    graph = {
        "x": DataNode("x", 1),
        "y": Task("y", add, Ref("x"), 10),
        "z": Task("z", inc, Ref("y")),
    }
    fused = fuse_linear(graph, "z")
    assert list(fused) == ["z"]
    inner = fused["z"].args[0]
    assert type(inner) is Task and inner.key == "y"  # nested, keeping its key for error notes
    assert fused["z"].dependencies == frozenset()
    assert fused["z"]({}) == 12


def test_fuse_linear_keeps_requested_and_shared_keys():
    graph = {
        "a": Task("a", inc, 1),
        "b": Task("b", inc, Ref("a")),
        "c": Task("c", inc, Ref("b")),
        "d": Task("d", add, Ref("b"), 1),
    }
    fused = fuse_linear(graph, ["c", "d"])
    # b has two dependents, so it is not inlined; a is inlined into b
    assert set(fused) == {"b", "c", "d"}
    assert execute(fused, ["c", "d"]) == {"c": 4, "d": 4}
    fused = fuse_linear(graph, ["a", "c", "d"])
    assert set(fused) == {"a", "b", "c", "d"}


def test_fuse_linear_does_not_fuse_a_reduction_tree():
    graph = {i: Task(i, inc, i) for i in range(4)}
    graph["s01"] = Task("s01", add, Ref(0), Ref(1))
    graph["s23"] = Task("s23", add, Ref(2), Ref(3))
    graph["total"] = Task("total", add, Ref("s01"), Ref("s23"))
    assert fuse_linear(graph, "total").keys() == graph.keys()


def test_fuse_linear_inlines_data_but_not_containers():
    graph = {
        "n": DataNode("n", 5),
        "shared": DataNode("shared", 2),
        "lst": DataNode("lst", [Ref("n")]),  # a literal list that happens to hold a Ref
        "a": Task("a", add, Ref("n"), Ref("shared")),
        "b": Task("b", add, Ref("a"), Ref("shared")),
        "c": Task("c", len, Ref("lst")),
    }
    fused = fuse_linear(graph, ["b", "c"])
    assert set(fused) == {"shared", "lst", "b", "c"}
    assert execute(fused, ["b", "c"]) == {"b": 9, "c": 1}


# --- long chains ---------------------------------------------------------------------


def test_long_chain_without_recursion_errors():
    n = 100_000
    graph = {0: DataNode(0, 0)}
    for i in range(1, n):
        graph[i] = Task(i, inc, Ref(i - 1))
    culled, dependencies = cull(graph, n - 1)
    assert len(culled) == n
    priorities = order(culled, dependencies)
    assert all(priorities[i] == i for i in range(0, n, 997))
    assert toposort(culled, dependencies)[-1] == n - 1
    validate_graph(culled)
    fused = fuse_linear(culled, [n - 1], dependencies, max_chain=100)
    assert len(fused) == n // 100
    assert execute(fused, [n - 1]) == {n - 1: n - 1}


# --- memory-aware order ------------------------------------------------------------


def tree_reduction(leaves, fanin):
    graph = {("x", i): Task(("x", i), inc, i) for i in range(leaves)}
    level, nodes = 0, [("x", i) for i in range(leaves)]
    while len(nodes) > 1:
        nxt = []
        for j in range(0, len(nodes), fanin):
            key = ("sum", level, j // fanin)
            graph[key] = Task(key, combine, 0, *[Ref(k) for k in nodes[j : j + fanin]])
            nxt.append(key)
        nodes, level = nxt, level + 1
    return graph, nodes[0], level


@pytest.mark.parametrize("fanin", [2, 4])
def test_order_tree_reduction_memory_is_tree_depth(fanin):
    graph, root, depth = tree_reduction(10_000, fanin)
    priorities = order(graph)
    assert_topological(graph, priorities)
    peak = simulate_memory(graph, priorities)
    assert peak <= (fanin - 1) * depth + 2, (peak, depth)
    # a breadth-first order holds every leaf
    assert simulate_memory(graph, {k: i for i, k in enumerate(graph)}) >= 10_000


def test_order_map_finishes_each_chunk_in_key_order():
    n = 300
    graph = {}
    for i in range(n):
        graph[("a", i)] = Task(("a", i), inc, i)
        graph[("b", i)] = Task(("b", i), inc, Ref(("a", i)))
        graph[("c", i)] = Task(("c", i), inc, Ref(("b", i)))
    priorities = order(graph)
    assert_topological(graph, priorities)
    for i in range(n - 1):
        assert priorities[("c", i)] < priorities[("a", i + 1)]
    assert priorities[("a", 2)] < priorities[("a", 10)]  # natural, not string, key order
    assert simulate_memory(graph, priorities, keys=[]) == 2


def test_order_transpose_cross_dependencies():
    # out[i, j] = x[i, j] + x[j, i]
    n = 20
    graph = {("x", i, j): Task(("x", i, j), combine, i, j) for i in range(n) for j in range(n)}
    for i in range(n):
        for j in range(n):
            graph[("out", i, j)] = Task(("out", i, j), add, Ref(("x", i, j)), Ref(("x", j, i)))
    priorities = order(graph)
    assert_topological(graph, priorities)
    assert simulate_memory(graph, priorities, keys=[]) <= 4


def test_order_two_reductions_of_one_input():
    graph, root, depth = tree_reduction(1024, 2)
    graph2, root2, _ = tree_reduction(1024, 2)
    for k, node in graph2.items():  # a second reduction over the same leaves
        if k[0] == "sum":
            graph[("sum2",) + k[1:]] = Task(
                ("sum2",) + k[1:],
                combine,
                1,
                *[Ref(("sum2",) + d[1:] if d[0] == "sum" else d) for d in node.dependencies],
            )
    priorities = order(graph)
    assert_topological(graph, priorities)
    assert simulate_memory(graph, priorities, keys=[]) <= 2 * depth + 3


def test_order_diamond_shared_input():
    graph = {"a": Task("a", inc, 1)}
    for i in range(50):
        graph[("b", i)] = Task(("b", i), inc, Ref("a"))
    graph["c"] = Task("c", combine, 0, *[Ref(("b", i)) for i in range(50)])
    priorities = order(graph)
    assert_topological(graph, priorities)
    assert priorities["a"] == 0 and priorities["c"] == 51
    # c gathers all of its inputs; nothing else is held
    assert simulate_memory(graph, priorities) == 51


def test_simulate_memory_refuses_a_non_topological_order():
    graph = {"a": DataNode("a", 1), "b": Task("b", inc, Ref("a"))}
    with pytest.raises(ValueError, match="'b' runs before its dependency 'a'"):
        simulate_memory(graph, {"a": 1, "b": 0})


# --- validation and errors ------------------------------------------------------------


def test_validate_graph_names_the_missing_dependency():
    graph = {("x", 0): Task(("x", 0), inc, Ref(("y", 3)))}
    with pytest.raises(ValueError, match=r"task \('x', 0\) depends on \('y', 3\)"):
        validate_graph(graph)
    for run in (order, toposort, get_dependents):
        with pytest.raises(ValueError, match=r"\('y', 3\)"):
            run(graph)
    with pytest.raises(ValueError, match=r"\('y', 3\)"):
        cull(graph, ("x", 0))


def test_validate_graph_names_the_keys_on_a_cycle():
    graph = {
        "start": Task("start", inc, Ref("a")),
        "a": Task("a", inc, Ref("b")),
        "b": Task("b", inc, Ref("c")),
        "c": Task("c", inc, Ref("a")),
    }
    with pytest.raises(ValueError, match="cycle: 'a' -> 'b' -> 'c' -> 'a'"):
        validate_graph(graph)
    for run in (order, toposort):
        with pytest.raises(ValueError, match="cycle"):
            run(graph)
    pure_cycle = {k: v for k, v in graph.items() if k != "start"}  # no output to start from
    with pytest.raises(ValueError, match="cycle"):
        order(pure_cycle)


def test_validate_graph_refuses_bad_keys_and_nodes():
    with pytest.raises(TypeError, match="invalid graph key"):
        validate_graph({("x", None): DataNode(("x", None), 1)})
    with pytest.raises(TypeError, match="nodes are Task or DataNode"):
        validate_graph({"x": (inc, 1)})


def test_cull_accepts_one_key_or_many():
    graph = {("x", i): DataNode(("x", i), i) for i in range(3)}
    assert set(cull(graph, ("x", 1))[0]) == {("x", 1)}
    assert set(cull(graph, [("x", 0), ("x", 2)])[0]) == {("x", 0), ("x", 2)}
    assert set(cull(graph, {("x", 0)})[0]) == {("x", 0)}
    with pytest.raises(KeyError, match="requested key 'nope'"):
        cull(graph, "nope")


@pytest.mark.parametrize("layout", ["ascending", "descending", "shuffled"])
def test_order_of_a_wide_sum_is_key_order_whatever_the_graph_order(layout):
    # A sum over most of the graph takes its inputs in graph order (so the sort is
    # cheap): the priorities must not depend on that order. Inputs are leaves, so
    # they run in key order, each before the sum; the sum is last.
    import random

    keys = [f"leaf-{i:05d}" for i in range(3000)]
    if layout == "descending":
        keys.reverse()
    elif layout == "shuffled":
        random.Random(0).shuffle(keys)
    graph = {k: Task(k, abs, int(k[5:])) for k in keys}
    graph["total"] = Task("total", sum, [Ref(k) for k in keys])
    priority = order(graph)
    assert [k for k, _ in sorted(priority.items(), key=lambda kv: kv[1])] == sorted(keys) + ["total"]


# --- wide graphs: work per key, not per key and dependent ------------------------------


def wide_sum_graph(n, key=str):
    leaves = [key(f"x-{i:05d}") for i in range(n)]
    graph = {k: Task(k, inc, i) for i, k in enumerate(leaves)}
    total = key("total")
    graph[total] = Task(total, sum, [Ref(k) for k in leaves])
    return graph, total


def test_fuse_linear_looks_up_no_key_where_nothing_can_fuse(counting_key):
    # A sum over n tasks: no input has a single-input dependent, so no key is
    # looked up (it used to build a map of every key's only dependent: 6n lookups).
    n = 2000
    graph, total = wide_sum_graph(n, counting_key)
    counting_key.hashes = 0
    fused = fuse_linear(graph, [total])
    assert counting_key.hashes <= n // 10, counting_key.hashes
    assert fused == graph and fused is not graph
    assert execute(fused, [total]) == {total: sum(range(1, n + 1))}


def test_fuse_linear_inlines_only_inputs_that_one_task_reads():
    # "b" is the single input of "c" but also read by the wide "total": not inlined.
    graph = {
        "a": Task("a", inc, 1),
        "b": Task("b", inc, Ref("a")),
        "c": Task("c", inc, Ref("b")),
        "d": DataNode("d", 10),
        "e": Task("e", add, Ref("d"), Ref("c")),
    }
    graph["total"] = Task("total", sum, [Ref("b"), Ref("e")] + [Ref(k) for k in "a"])
    graph["a2"] = Task("a2", inc, Ref("a"))
    fused = fuse_linear(graph, ["total", "a2"])
    assert set(fused) == {"a", "b", "e", "total", "a2"}  # c into e, d into e; a, b shared
    assert fused["e"].dependencies == frozenset({"b"})
    assert execute(fused, ["total", "a2"]) == execute(graph, ["total", "a2"])


def test_order_indexed_numbers_keys_as_order_does():
    from chunkwise.core.passes import index_dependencies, order_indexed

    graph = {("x", i): DataNode(("x", i), i) for i in range(4)}
    graph["s0"] = Task("s0", add, Ref(("x", 0)), Ref(("x", 1)))
    graph["s1"] = Task("s1", add, Ref(("x", 2)), Ref(("x", 3)))
    graph["total"] = Task("total", add, Ref("s0"), Ref("s1"))
    keys = list(graph)
    deps, users = index_dependencies(keys, [node.dependencies for node in graph.values()])
    assert deps[keys.index("total")] == [keys.index("s0"), keys.index("s1")]
    assert users[keys.index(("x", 0))] == keys.index("s0")  # one dependent: no list
    ordered = [keys[i] for i in order_indexed(keys, deps, users)]
    assert ordered == sorted(graph, key=order(graph).__getitem__)
    assert ordered == [("x", 0), ("x", 1), "s0", ("x", 2), ("x", 3), "s1", "total"]
    with pytest.raises(ValueError, match="depends on 'nope'"):
        index_dependencies(["a"], [{"nope"}])
