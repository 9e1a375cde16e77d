"""chunkwise.delayed against plain Python (and dask.delayed where cheap)."""

from __future__ import annotations

import dataclasses
import operator
import pickle
import threading
import traceback
from collections import namedtuple
from operator import add

import pytest

import chunkwise
from chunkwise import Delayed, delayed

# --- module-level helpers (importable, so the processes scheduler can run them) ---


def inc(x):
    return x + 1


def double(x):
    return 2 * x


def fail(x):
    raise ZeroDivisionError(f"user function failed on {x}")


def echo(*args, **kwargs):
    return args, kwargs


class Counter:
    """Counts calls of a function, thread-safely."""

    def __init__(self, func):
        self.func = func
        self.calls = 0
        self.lock = threading.Lock()
        self.__name__ = func.__name__

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
        return self.func(*args, **kwargs)


Point = namedtuple("Point", ["x", "y"])


@dataclasses.dataclass
class Box:
    value: object
    label: str = "box"


# --- wrapping and calling -----------------------------------------------------------


def test_task_queue_style():
    assert delayed(add)(4, 4).compute() == 8
    assert delayed(add)(4, 4).compute(scheduler="sync") == 8


def test_decorator_forms():
    @delayed
    def plain(x):
        return x * 3

    @delayed(pure=True)
    def pure(x):
        return x * 3

    @delayed(nout=2)
    def pair(x):
        return x, x + 1

    assert plain(2).compute() == 6
    assert pure(2).compute() == 6
    a, b = pair(5)
    assert chunkwise.compute(a, b) == (5, 6)


def test_results_match_plain_python():
    data = [3, 1, 4, 1, 5, 9, 2, 6]
    lazy = delayed(sorted)([delayed(inc)(x) for x in data], reverse=True)
    assert lazy.compute() == sorted([inc(x) for x in data], reverse=True)
    total = delayed(sum)(delayed(map)(double, data))
    assert total.compute() == sum(map(double, data))


def test_delayed_value_and_name():
    d = delayed([1, 2, 3])
    assert d.compute() == [1, 2, 3]
    assert delayed(42, name="x").key == "x"
    assert delayed(42, name="x").compute() == 42
    assert delayed(None).compute() is None
    # values are named by their token: equal values, equal keys
    assert delayed([1, 2, 3]).key == delayed([1, 2, 3]).key
    assert delayed([1, 2, 3]).key != delayed([1, 2, 4]).key


def test_delayed_of_delayed_is_identity():
    d = delayed(inc)(1)
    assert delayed(d) is d
    assert delayed(d, pure=True) is d


def test_attribute_access_and_method_calls():
    s = delayed("Hello World")
    assert s.upper().compute() == "HELLO WORLD"
    assert s.split(" ")[1].lower().compute() == "world"
    assert s.replace("World", "there").compute() == "Hello there"
    assert delayed(3 + 4j).real.compute() == 3.0
    c = delayed({"a": 1}).get("b", 2)
    assert c.compute() == 2
    # a method call is one task, not a getattr task and a call task
    graph = s.upper().__chunkwise_graph__(optimize_graph=False)
    assert len(graph) == 2  # the value and the call


def test_method_call_with_delayed_arguments_and_kwargs():
    sep = delayed("-")
    parts = delayed("a-b-c").split(sep, maxsplit=delayed(inc)(0))
    assert parts.compute() == ["a", "b-c"]


def test_private_attributes_and_dtype_raise_attribute_error():
    d = delayed(inc)(1)
    with pytest.raises(AttributeError):
        d._private
    with pytest.raises(AttributeError):
        d.__array__
    assert not hasattr(d, "dtype")
    assert hasattr(delayed((1, 2), nout=2), "dtype")


def test_indexing():
    d = delayed({"a": [10, 20, 30], "b": (1, 2)})
    assert d["a"][2].compute() == 30
    assert d["a"][1:].compute() == [20, 30]
    assert d["a"][delayed(inc)(0)].compute() == 20
    assert d["a"][slice(None, delayed(inc)(1))].compute() == [10, 20]


BINARY = [
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
    "lshift", "rshift", "and_", "xor", "or_",
    "lt", "le", "eq", "ne", "gt", "ge",
]


@pytest.mark.parametrize("name", BINARY)
def test_binary_operators_and_reflected(name):
    op = getattr(operator, name)
    a, b = 7, 3
    da, db = delayed(a), delayed(b)
    assert op(da, db).compute() == op(a, b)
    assert op(da, b).compute() == op(a, b)
    assert op(a, db).compute() == op(a, b)  # reflected (or swapped comparison)


def test_divmod_matmul_and_unary():
    assert divmod(delayed(17), 5).compute() == (3, 2)
    assert divmod(17, delayed(5)).compute() == (3, 2)
    assert (-delayed(3)).compute() == -3
    assert (+delayed(-3)).compute() == -3
    assert (~delayed(3)).compute() == ~3
    assert abs(delayed(-3)).compute() == 3
    np = pytest.importorskip("numpy")
    m = np.arange(4).reshape(2, 2)
    assert ((delayed(m) @ m).compute() == m @ m).all()
    assert ((m @ delayed(m)).compute() == m @ m).all()
    assert ((m + delayed(1)).compute() == m + 1).all()


def test_comparison_returns_delayed():
    d = delayed(1)
    assert isinstance(d == 1, Delayed)
    assert (d == 1).compute() is True
    assert (d != 1).compute() is False
    assert hash(d) == hash(d.key)


def test_calling_a_delayed_value():
    f = delayed(inc)(0)  # a delayed int is not callable, but a delayed function result is
    make_adder = delayed(lambda n: lambda x: x + n)
    assert make_adder(10)(5).compute() == 15
    assert make_adder(10)(f).compute() == 11


# --- dependencies nested in arguments ---------------------------------------------------


def test_nested_dependencies_in_arguments():
    a, b, c = delayed(inc)(1), delayed(inc)(2), delayed(inc)(3)
    args = ([a, (b, {"k": [c, {"deep": (a,)}]})], {b, 100})
    kwargs = {"opt": {"x": [a, b], "y": (c,)}}
    out = delayed(echo)(*args, **kwargs).compute()
    assert out == echo([2, (3, {"k": [4, {"deep": (2,)}]})], {3, 100}, opt={"x": [2, 3], "y": (4,)})
    assert type(out[0][0][1]) is tuple


def test_namedtuple_dataclass_and_set_arguments():
    a = delayed(inc)(1)
    assert delayed(echo)(Point(a, 5)).compute()[0] == (Point(2, 5),)
    assert delayed(echo)(Box(a)).compute()[0] == (Box(2),)
    assert delayed(echo)(frozenset([a, 7])).compute()[0] == (frozenset([2, 7]),)


def test_delayed_of_container_with_delayeds_depends_on_them():
    a, b = delayed(inc)(1), delayed(inc)(2)
    d = delayed([a, {"b": b, "z": 0}, (a, b)])
    assert isinstance(d, Delayed)
    assert d.compute() == [2, {"b": 3, "z": 0}, (2, 3)]
    assert delayed({"x": a, "y": 5}).compute() == {"x": 2, "y": 5}  # dict keys kept
    assert delayed({"x": a}, name="mine").key == "mine"


def test_traverse_false_keeps_delayeds_as_values():
    a = delayed(inc)(1)
    d = delayed([a, 2], traverse=False)
    out = d.compute()
    assert out[1] == 2 and isinstance(out[0], Delayed) and out[0].key == a.key


def test_dependency_on_function_result_only_once():
    counter = Counter(inc)
    shared = delayed(counter)(1)
    total = delayed(sum)([shared, shared, [shared][0]])
    assert total.compute() == 6
    assert counter.calls == 1


# --- keys ------------------------------------------------------------------


def test_pure_calls_are_deterministic_and_impure_calls_unique():
    assert delayed(inc, pure=True)(1).key == delayed(inc, pure=True)(1).key
    assert delayed(inc)(1, pure=True).key == delayed(inc, pure=True)(1).key
    assert delayed(inc, pure=True)(1).key != delayed(inc, pure=True)(2).key
    assert delayed(inc, pure=True)(1).key != delayed(double, pure=True)(1).key
    assert delayed(inc)(1).key != delayed(inc)(1).key
    assert str(delayed(inc)(1).key).startswith("inc-")
    assert str(delayed(lambda x: x)(1).key).startswith("lambda-")
    # operators, attributes and items are pure
    d = delayed(5, name="five")
    assert (d + 1).key == (d + 1).key
    assert d.real.key == d.real.key
    assert d[0].key == d[0].key


def test_pure_keys_across_two_builds():
    def build():
        xs = [delayed(inc, pure=True)(i) for i in range(5)]
        return delayed(sum, pure=True)(xs)

    assert build().key == build().key


def test_delayed_pure_config():
    with chunkwise.config.set(delayed_pure=True):
        assert delayed(inc)(1).key == delayed(inc)(1).key
    assert delayed(inc)(1).key != delayed(inc)(1).key


def test_dask_key_name():
    d = delayed(inc)(1, dask_key_name="my-key")
    assert d.key == "my-key"
    assert (d + 1).compute() == 3
    with pytest.raises(TypeError, match="dask_key_name"):
        delayed(inc)(1, dask_key_name=("x", 1))


def test_keys_match_dask_names():
    dask = pytest.importorskip("dask")
    ours = delayed(inc)(1).key
    theirs = dask.delayed(inc)(1).key
    assert ours.split("-")[0] == theirs.split("-")[0] == "inc"


# --- protocol edges ---------------------------------------------------------------


def test_bool_raises():
    with pytest.raises(TypeError, match="truth value"):
        bool(delayed(1))
    with pytest.raises(TypeError):
        if delayed(inc)(1):
            pass


def test_iterate_without_nout_raises():
    with pytest.raises(TypeError, match="nout="):
        a, b = delayed(divmod)(7, 2)
    with pytest.raises(TypeError, match="nout="):
        len(delayed([1, 2]))


def test_nout():
    q, r = delayed(divmod, nout=2)(17, 5)
    assert (q.compute(), r.compute()) == divmod(17, 5)
    assert len(delayed(divmod, nout=2)(1, 1)) == 2
    (only,) = delayed(lambda: (9,), nout=1)()
    assert only.compute() == 9
    empty = delayed(lambda: (), nout=0)()
    assert len(empty) == 0 and list(empty) == [] and empty.compute() == ()


@pytest.mark.parametrize("nout", [-1, 1.5, "2", True])
def test_bad_nout(nout):
    with pytest.raises(ValueError, match="delayed.*nout"):
        delayed(divmod, nout=nout)
    with pytest.raises(ValueError, match="delayed.*nout"):
        delayed(nout=nout)


def test_immutable():
    d = delayed(inc)(1)
    with pytest.raises(TypeError, match="immutable"):
        d.foo = 1
    with pytest.raises(TypeError, match="immutable"):
        d[0] = 1
    with pytest.raises(TypeError, match="immutable"):
        del d.foo


def test_repr_dir_and_pickle():
    d = delayed(inc)(1)
    assert repr(d) == f"Delayed({d.key!r})"
    assert "compute" in dir(d) and "key" in dir(d)
    again = pickle.loads(pickle.dumps(d))
    assert again.key == d.key and again.compute() == 2
    attr = delayed("ab").upper
    assert pickle.loads(pickle.dumps(attr)).compute()() == "AB"


# --- computing ----------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_schedulers(scheduler):
    xs = [delayed(inc)(i) for i in range(20)]
    total = delayed(sum)([delayed(double)(x) for x in xs])
    assert total.compute(scheduler=scheduler) == sum(2 * (i + 1) for i in range(20))


def test_processes_scheduler_with_module_functions_and_lambda():
    d = delayed(lambda x, y: x * y)(delayed(inc)(2), delayed(double)(5))
    assert d.compute(scheduler="processes", num_workers=2) == 30


def test_config_scheduler_is_used():
    seen = []

    def record(x):
        seen.append(threading.current_thread() is threading.main_thread())
        return x

    with chunkwise.config.set(scheduler="sync"):
        assert delayed(sum)([delayed(record)(i) for i in range(8)]).compute() == 28
    assert all(seen)


def test_error_reraised_with_user_traceback_and_key_note():
    for scheduler in ("sync", "threads"):
        bad = delayed(fail)(3, dask_key_name="the-failing-task")
        with pytest.raises(ZeroDivisionError, match="failed on 3") as info:
            bad.compute(scheduler=scheduler)
        names = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
        assert "fail" in names
        assert any("the-failing-task" in note for note in info.value.__notes__)


def test_delayed_function_returning_a_collection():
    inner = delayed(inc)(1)
    out = delayed(lambda: inner)().compute()
    assert isinstance(out, Delayed) and out.compute() == 2
    assert delayed(lambda: [1, {"a": 2}])().compute() == [1, {"a": 2}]


def nested_compute(x):
    return delayed(inc)(x).compute(scheduler="threads") + delayed(double)(x).compute()


def test_compute_inside_a_task_does_not_deadlock():
    parts = [delayed(nested_compute)(i) for i in range(16)]
    total = delayed(sum)(parts)
    assert total.compute(scheduler="threads", num_workers=2) == sum(3 * i + 1 for i in range(16))


def test_delayed_of_delayed_function_call_uses_pure_and_nout_of_wrapper():
    f = delayed(divmod, pure=True, nout=2)
    q, r = f(9, 4)
    assert f(9, 4).key == f(9, 4).key
    assert chunkwise.compute(q, r) == (2, 1)


def test_tree_reduction_matches_dask():
    dask = pytest.importorskip("dask")

    def tree(dl, n):
        layer = [dl(inc)(i) for i in range(n)]
        while len(layer) > 1:
            nxt = [dl(add)(layer[j], layer[j + 1]) for j in range(0, len(layer) - 1, 2)]
            if len(layer) % 2:
                nxt.append(layer[-1])
            layer = nxt
        return layer[0]

    assert tree(delayed, 101).compute() == tree(dask.delayed, 101).compute(scheduler="sync")


# --- large graphs (issue 15, item 12): behaviour of the lean paths ---------------


def _tree_of_sums(leaves, fan_in=100):
    layer = leaves
    while len(layer) > 1:
        layer = [delayed(sum)(layer[j : j + fan_in]) for j in range(0, len(layer), fan_in)]
    return layer[0]


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_many_calls_flat_and_fan_in_tree(scheduler):
    n = 20_000
    expected = sum(i + 1 for i in range(n))
    flat = delayed(sum)([delayed(inc)(i) for i in range(n)])
    tree = _tree_of_sums([delayed(inc)(i) for i in range(n)])
    assert flat.compute(scheduler=scheduler) == expected
    assert tree.compute(scheduler=scheduler) == expected
    assert chunkwise.compute(flat, tree, scheduler=scheduler) == (expected, expected)


def test_reused_function_wrapper_keeps_keys_and_options():
    a, b = delayed(inc)(1), delayed(inc)(1)
    assert a.key != b.key  # impure calls: unique keys
    assert delayed(inc, pure=True)(1).key == delayed(inc, pure=True)(1).key
    q, r = delayed(divmod, nout=2)(7, 2)
    assert (q.compute(), r.compute()) == (3, 1)
    assert delayed(double)(delayed(inc)(2)).compute() == 6
    named = delayed(inc, name="f")
    assert named.key == "f"
    assert delayed(inc).key != "f"


def test_leaf_calls_share_their_argument_tuple_and_nested_calls_keep_references():
    from chunkwise.core.graph import Ref, Task

    args = (3, "x")
    task = Task.from_call("k", operator.mul, args, {})
    assert task.args is args and task({}) == "xxx" and task.dependencies == frozenset()
    with_ref = Task.from_call("k", operator.add, (Ref("a"), 1), {})
    assert with_ref.dependencies == frozenset({"a"}) and with_ref({"a": 41}) == 42
    with_kwargs = Task.from_call("k", int, ("ff",), {"base": 16})
    assert with_kwargs({}) == 255
    with pytest.raises(TypeError, match="func must be callable"):
        Task.from_call("k", 3, (1,), {})
    graph = delayed(sum)([delayed(inc)(i) for i in range(3)]).__chunkwise_graph__()
    leaf_args = [node.args for node in graph.values() if node.func is inc]
    assert sorted(leaf_args) == [(0,), (1,), (2,)]


def test_scheduler_state_keeps_no_container_for_a_result_read_once():
    from chunkwise.core.graph import DataNode, Ref, Task
    from chunkwise.scheduling.local import State

    graph = {
        "a": DataNode("a", 1),
        "b": Task("b", inc, Ref("a")),
        "c": Task("c", add, Ref("b"), Ref("a")),
        "d": Task("d", double, Ref("c")),
    }
    state = State(graph, {"d"}, max_live_sources=4)
    assert state.keys_by_priority == ["a", "b", "c", "d"]  # everything else is indexed by priority
    assert state.users == [[1, 2], 2, 3, None]  # a list for several readers; one reader's priority
    assert state.remaining == [2, 1, 1, 0] and state.waiting == [0, 1, 2, 1]
    assert [type(node).__name__ for node in state.nodes] == ["DataNode", "Task", "Task", "Task"]
    assert chunkwise.get(graph, "d", scheduler="sync") == 6


def test_a_call_is_one_object_for_the_garbage_collector():
    # The cyclic collector walks every tracked object on each full pass while the
    # user builds a graph: a call is one such object (the Delayed), and calling a
    # function on a list of them adds no object per item (no Ref until lowering).
    import gc

    n = 2000
    wrapped = delayed(inc)
    leaves = [wrapped(i) for i in range(n)]
    total = delayed(sum)(leaves)
    gc.collect()  # untracks the tuples of literals, as the collector's first pass does
    shared = {id(inc), id(leaves[0]._kwargs)}  # the function and the empty keywords
    own = [
        obj
        for leaf in leaves
        for obj in gc.get_referents(leaf)
        if gc.is_tracked(obj) and not isinstance(obj, type) and id(obj) not in shared
    ]
    assert own == []  # no expression node, no tracked argument tuple per call
    held = total._args[0].items  # the copy of the user's list: the inputs as they are
    assert held is not leaves and all(a is b for a, b in zip(held, leaves))
    assert total.compute() == sum(range(1, n + 1))


def test_a_leaf_call_is_one_tracked_object_holding_nothing_of_its_own():
    # While the user's loop builds 10**6 calls, the collector runs a young pass per
    # 700 tracked objects made and full passes over all of them. A leaf call
    # ``f(i)`` used to make two (its Delayed and the argument tuple) and hold two
    # objects of its own (that tuple and its key string), which each full pass
    # reads: now one, and none (the tuple is made, and the key drawn, at lowering).
    import gc

    n = 3000
    wrapped = delayed(inc)
    enabled = gc.isenabled()
    gc.disable()  # no pass untracks anything while counting
    try:
        before = len(gc.get_objects())
        leaves = [wrapped(i) for i in range(1000, 1000 + n)]
        made = len(gc.get_objects()) - before
    finally:
        if enabled:
            gc.enable()
    assert made <= n + 50, made / n  # 2n before
    own = [obj for obj in gc.get_referents(leaves[0]) if type(obj) in (tuple, str)]
    assert own == []  # the argument tuple and the key string, before
    total = delayed(sum)(leaves)
    assert total.compute() == sum(range(1001, 1001 + n))
    keys = [leaf.key for leaf in leaves]  # drawn when lowered, and kept
    assert len(set(keys)) == n and all(k.startswith("inc-") for k in keys)
    assert [leaf.key for leaf in leaves] == keys
    assert leaves[0].expr.operands[1] == (1000,)
    # pure calls, keywords, several arguments and named calls take the general path
    assert delayed(inc, pure=True)(1000).key == delayed(inc, pure=True)(1000).key
    assert delayed(add)(1, 2).compute() == 3 and delayed(inc)(x=4).compute() == 5
    assert delayed(inc)(1, dask_key_name="one").key == "one"
    assert delayed(inc)([1][0]).compute() == 2


def test_a_key_drawn_on_first_use_is_drawn_once_and_survives_pickling():
    leaves = [delayed(inc)(i) for i in range(200)]
    total = delayed(sum)(leaves)
    start = threading.Barrier(4)
    seen: list = []

    def ask():
        start.wait()
        seen.append([leaf.key for leaf in leaves] + [total.key])

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 4 and all(keys == seen[0] for keys in seen)
    assert len(set(seen[0])) == 201
    copy = pickle.loads(pickle.dumps(total))
    assert copy.key == total.key and copy.compute() == total.compute() == sum(range(1, 201))
    leaf = pickle.loads(pickle.dumps(leaves[3]))
    assert leaf.key == leaves[3].key and leaf.compute() == 4


def test_a_list_given_to_a_call_is_copied_when_it_holds_delayed_values():
    parts = [delayed(inc)(1), 10]
    total = delayed(sum)(parts)
    parts.append(delayed(inc)(100))  # later changes to the user's list do not leak in
    parts[1] = 0
    assert total.compute() == 12
    nested = {"a": [delayed(inc)(1)], "b": {delayed(inc)(2), 5}}
    summary = delayed(lambda d: (sum(d["a"]), sorted(d["b"])))(nested)
    nested["a"].append(delayed(inc)(3))
    assert summary.compute() == (2, [3, 5])
    assert len(summary.expr.dependencies()) == 2


def test_the_graph_built_while_the_collector_is_paused_is_not_left_young():
    # The tasks lowering makes live until the computation ends: they are moved to
    # the oldest generation at once, not walked again by the next young passes.
    import gc

    from chunkwise.base import graph_of
    from chunkwise.core.graph import Task

    total = delayed(sum)([delayed(inc)(i) for i in range(500)])
    gc.collect()
    graph, keys = graph_of([total], True)
    young = gc.get_objects(generation=0) + gc.get_objects(generation=1)
    assert not [obj for obj in young if type(obj) is Task]
    assert sum(1 for obj in gc.get_objects(generation=2) if type(obj) is Task) >= 501
    assert chunkwise.get(graph, keys[0]) == sum(range(1, 501))
    gc.freeze()  # a program's own frozen objects are left frozen
    try:
        graph_of([total], True)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_call_expression_is_a_view_of_the_call():
    from chunkwise.delayed import DelayedCall

    a = delayed(inc)(1)
    b = delayed(add)(a, a)  # one input given twice
    expr = b.expr
    assert type(expr) is DelayedCall and expr.name == b.key
    assert [d.name for d in expr.dependencies()] == [a.key]
    task = expr._task(b.key)
    assert task.dependencies == frozenset({a.key}) and task({a.key: 2}) == 4
    assert b.expr.name == expr.name and b.expr is not expr  # made on demand, never stored
    assert "Call: add" in b.explain(show=False)


def test_lowering_walks_the_calls_themselves(monkeypatch):
    # Lowering a delayed graph walks the Delayed calls: no expression view per call
    # (it used to make one per dependency), whatever the graph's shape.
    import sys

    module = sys.modules["chunkwise.delayed"]  # ``chunkwise.delayed`` is the function
    views = []
    make_view = module._call_expr

    def counting_view(value):
        views.append(value)
        return make_view(value)

    monkeypatch.setattr(module, "_call_expr", counting_view)
    n = 500
    leaves = [delayed(inc)(i) for i in range(n)]
    pairs = [delayed(add)(leaves[i], leaves[i + 1]) for i in range(0, n, 2)]
    attr = delayed({"v": 1})["v"]  # a leaf value and a getitem call
    total = delayed(sum)(pairs + [attr])
    assert total.compute(scheduler="sync") == sum(range(1, n + 1)) + 1
    assert len(views) <= 2, len(views)  # the root's own expression only
    graph = total.__chunkwise_graph__()
    assert len(graph) == n + n // 2 + 3
