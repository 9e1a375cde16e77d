"""chunkwise.base: compute, persist, graphs of collections, and mixing delayed with other collections."""

from __future__ import annotations

import threading
from operator import add

import pytest

import chunkwise
from chunkwise import delayed
from chunkwise.base import Collection, Persisted, compute, is_collection, persist
from chunkwise.core.expr import Expr
from chunkwise.core.graph import Task


class Counter:
    def __init__(self, func):
        self.func = func
        self.calls = 0
        self.lock = threading.Lock()
        self.__name__ = func.__name__

    def __call__(self, *args):
        with self.lock:
            self.calls += 1
        return self.func(*args)


def inc(x):
    return x + 1


CALLS = Counter(inc)


def counted_inc(x):
    """A module-level pure function (so it has a deterministic token) that counts its calls."""
    return CALLS(x)


# --- a tiny non-delayed collection, with a rewrite rule that renames its root ----------


class Literal(Expr):
    _parameters = ("value",)

    def _task(self, key):
        return Task(key, _identity, self.value)


class Add(Expr):
    _parameters = ("left", "right")

    def _task(self, key):
        return Task(key, add, self.left.ref(), self.right.ref())

    def _simplify_down(self):
        if isinstance(self.right, Literal) and self.right.value == 0:
            return self.left  # x + 0 -> x: the optimized root has another name


def _identity(x):
    return x


class Scalar(Collection):
    __slots__ = ()


# --- compute ------------------------------------------------------------------------


def test_compute_shares_common_work():
    before = CALLS.calls
    shared = delayed(counted_inc, pure=True)(1)
    a = delayed(add)(shared, 10)
    b = delayed(add)(shared, 20)
    again = delayed(counted_inc, pure=True)(1)  # built again: same key, same work
    assert compute(a, b, again) == (12, 22, 2)
    assert CALLS.calls - before == 1


def test_compute_nested_and_plain_values():
    a, b = delayed(inc)(1), delayed(inc)(2)
    out = compute([a, (b, 5)], {"x": {a, 9}}, "plain")
    assert out == ([2, (3, 5)], {"x": {2, 9}}, "plain")
    assert compute() == ()
    assert compute(1, [2]) == (1, [2])


def test_compute_traverse_false():
    a = delayed(inc)(1)
    out = compute([a], a, traverse=False)
    assert out[0][0] is a and out[1] == 2


def test_compute_without_optimization():
    a = delayed(inc)(delayed(inc)(1))
    assert compute(a, optimize_graph=False) == (3,)
    with chunkwise.config.set({"optimization.fuse": False}):
        assert a.compute() == 3


def test_compute_matches_dask_compute():
    dask = pytest.importorskip("dask")
    ours = [delayed(inc)(i) for i in range(5)]
    theirs = [dask.delayed(inc)(i) for i in range(5)]
    assert compute(ours, delayed(sum)(ours)) == dask.compute(theirs, dask.delayed(sum)(theirs), scheduler="sync")


# --- persist -----------------------------------------------------------------------------


def test_persist_reuses_results():
    counter = Counter(inc)
    x = delayed(counter)(1)
    (p,) = persist(x)
    assert counter.calls == 1
    assert p.key == x.key and isinstance(p.expr, Persisted)
    assert (p + 1).compute() == 3
    assert compute(p, p * 2) == (2, 4)
    assert p.persist().compute() == 2
    assert counter.calls == 1


def test_persist_method_nested_and_plain():
    counter = Counter(inc)
    x = delayed(counter)(1)
    y = x.persist()
    assert y.compute() == 2 and counter.calls == 1
    out = persist([x], {"k": x}, 3)
    assert out[2] == 3 and out[0][0].key == x.key and isinstance(out[1]["k"].expr, Persisted)
    assert counter.calls == 2  # persisted once for both occurrences
    assert persist(5) == (5,)


def test_persist_keeps_nout():
    q, r = delayed(divmod, nout=2)(7, 2).persist()
    assert compute(q, r) == (3, 1)


# --- graphs ---------------------------------------------------------------------------


def test_chunkwise_graph_has_expected_keys():
    a = delayed(inc)(1, dask_key_name="a")
    b = delayed(inc)(2, dask_key_name="b")
    c = delayed(add)(a, b, dask_key_name="c")
    assert set(c.__chunkwise_graph__(optimize_graph=False)) == {"a", "b", "c"}
    assert "c" in c.__chunkwise_graph__()
    d = delayed(inc)(c, dask_key_name="d")
    assert set(d.__chunkwise_graph__(optimize_graph=False)) == {"a", "b", "c", "d"}
    assert set(d.__chunkwise_graph__()) <= {"a", "b", "c", "d"} and "d" in d.__chunkwise_graph__()


def test_explain_and_optimize():
    d = delayed(add)(delayed(inc)(1), 2)
    text = d.explain(show=False)
    assert "Call: add" in text and "Call: inc" in text
    assert d.optimize().compute() == 4


def test_is_collection():
    assert is_collection(delayed(1)) and not is_collection(1)


# --- delayed over other collections ----------------------------------------------------


def test_other_collection_roots_are_optimized():
    s = Scalar(Add(Literal(5), Literal(0)))
    assert s.compute() == 5
    assert s.optimize().expr.name == Literal(5).name
    assert compute(s, optimize_graph=False) == (5,)


def test_delayed_depending_on_a_collection_whose_key_changes_when_optimized():
    s = Scalar(Add(Add(Literal(5), Literal(0)), Literal(1)))
    t = Scalar(Add(Literal(5), Literal(0)))
    d = delayed(add)(s, t)
    assert d.compute() == 11
    assert d.compute(optimize_graph=False) == 11
    assert compute(d, s, t) == (11, 6, 5)
    assert delayed(t).compute() == 5
    assert delayed([s, t, 1]).compute() == [6, 5, 1]


def test_persist_other_collection():
    s = Scalar(Add(Literal(5), Literal(0)))
    (p,) = persist(s)
    assert isinstance(p, Scalar) and p.compute() == 5
    assert delayed(inc)(p).compute() == 6
