"""Expressions: names, rewriting to a fixed point, lowering only what is asked, explain."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from operator import add, mul

import pytest

from chunkwise.core.expr import Expr, key_name, lower, walk
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.scheduling import get_sync


class Source(Expr):
    """``n`` chunks, chunk ``i`` holding ``i * scale``."""

    _parameters = ("n", "scale")
    _defaults = {"scale": 1}

    def _output_keys(self):
        return [(self.name, i) for i in range(self.n)]

    def _task(self, key):
        return DataNode(key, key[1] * self.scale)

    def chunk_nbytes(self, key):
        return 8


class Map(Expr):
    _parameters = ("func", "frame", "arg")

    def _output_keys(self):
        frame = self.frame
        while isinstance(frame, Map):  # a loop, so that deep chains do not recurse
            frame = frame.frame
        count = frame.k if isinstance(frame, Head) else frame.n
        return [(self.name, i) for i in range(count)]

    def _task(self, key):
        return Task(key, self.func, Ref((self.frame.name, key[1])), self.arg)

    def _simplify_down(self):
        # map(add, map(add, x, a), b) -> map(add, x, a + b)
        if self.func is add and isinstance(self.frame, Map) and self.frame.func is add:
            return Map(add, self.frame.frame, self.frame.arg + self.arg)
        if self.func is add and self.arg == 0:
            return self.frame
        return None


class Head(Expr):
    """The first ``k`` chunks of its input."""

    _parameters = ("frame", "k")

    def _output_keys(self):
        return [(self.name, i) for i in range(self.k)]

    def _task(self, key):
        return Task(key, lambda x: x, Ref((self.frame.name, key[1])))

    def _simplify_down(self):
        # Push Head below Map so the map runs on k chunks only (the rewrite is then visible
        # in the plan, not just in lowering).
        if isinstance(self.frame, Map):
            inner = self.frame
            return Map(inner.func, Head(inner.frame, self.k), inner.arg)
        return None


class Total(Expr):
    _parameters = ("frame",)

    def _task(self, key):
        return Task(key, sum, [Ref(k) for k in self.frame._output_keys()])


class Project(Expr):
    """A parent that a child rewrites through ``_simplify_up``."""

    _parameters = ("frame", "scale")

    def _output_keys(self):
        return [(self.name, i) for i in range(self.frame.n)]

    def _task(self, key):
        return Task(key, mul, Ref((self.frame.name, key[1])), self.scale)


class ScalableSource(Source):
    def _simplify_up(self, parent, dependents):
        if isinstance(parent, Project):
            return ScalableSource(self.n, self.scale * parent.scale)
        return None


def test_names_are_deterministic_and_distinguish_operands():
    assert Source(4).name == Source(4).name
    assert Source(4).name != Source(5).name
    assert Source(4, 1).name == Source(4).name  # defaults fill in
    assert Map(add, Source(4), 1).name != Map(mul, Source(4), 1).name
    assert Map(add, Source(4), 1).name.startswith("map-")


def test_names_are_stable_across_processes():
    # this module under the name pytest gave it (``test_expr`` or ``tests.core.test_expr``,
    # depending on the import mode), found from the directory that name starts at
    root = __import__("pathlib").Path(__file__).resolve().parents[__name__.count(".")]
    code = textwrap.dedent(
        f"""
        import importlib, sys
        sys.path.insert(0, {str(root)!r})
        from operator import add
        module = importlib.import_module({__name__!r})
        print(module.Map(add, module.Source(4), 1).name)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == Map(add, Source(4), 1).name


def test_operands_by_name_and_errors():
    m = Map(add, Source(3), 2)
    assert m.arg == 2 and isinstance(m.frame, Source)
    with pytest.raises(TypeError, match="missing operand 'arg'"):
        Map(add, Source(3))
    with pytest.raises(TypeError, match="at most 3 operands"):
        Map(add, Source(3), 1, 2)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        m.nope


def test_simplify_reaches_a_fixed_point():
    expr = Map(add, Map(add, Map(add, Source(3), 1), 2), -3)
    simple = expr.simplify()
    assert isinstance(simple, Source)
    assert simple.simplify().name == simple.name


def test_simplify_up_lets_a_child_rewrite_its_parent():
    expr = Project(ScalableSource(3, 2), 5)
    simple = expr.simplify()
    assert isinstance(simple, ScalableSource) and simple.scale == 10


def test_rewrites_keep_results():
    expr = Total(Head(Map(add, Map(add, Source(10), 1), 2), 4))
    expected = sum(i + 3 for i in range(4))
    assert get_sync(lower([expr]), expr.key) == expected
    simple = expr.simplify()
    assert get_sync(lower([simple]), simple.key) == expected
    assert "Head" in simple.explain(show=False).splitlines()[2]


def test_lower_materializes_only_requested_keys():
    big = Map(add, Source(100_000), 1)
    head = Head(big, 3)
    graph = lower([head])
    # Three outputs, each needing one map task and one source chunk: nothing else is built.
    assert len(graph) == 9
    graph = lower([big], [(big.name, 7)])
    assert sorted(graph, key=str) == sorted([(big.name, 7), (big.frame.name, 7)], key=str)
    with pytest.raises(KeyError, match="no expression in the plan produces key"):
        lower([big], [("unknown", 0)])


def test_shared_subexpressions_lower_once():
    src = Source(4)
    a = Total(Map(add, src, 1))
    b = Total(Map(add, src, 1))  # equal to a: same name
    c = Total(Map(mul, src, 2))
    graph = lower([a, b, c], [a.key, b.key, c.key])
    assert a.key == b.key
    assert len([k for k in graph if key_name(k) == src.name]) == 4
    assert len(list(walk([a, b, c]))) == 5


def test_explain_prints_a_tree(capsys):
    expr = Total(Map(add, Source(3), 1))
    assert expr.explain() is None
    out = capsys.readouterr().out.splitlines()
    assert out == ["Total", "  Map: func=add, arg=1", "    Source: n=3, scale=1"]


def test_deep_chains_simplify_and_lower_without_recursion():
    expr = Source(2)
    for _ in range(5_000):
        expr = Map(mul, expr, 1)
    graph = lower([expr])
    assert len(graph) == 2 * 5_001
    assert expr.simplify().name == expr.name


def test_substitute_replaces_a_subtree():
    old = Source(3)
    expr = Total(Map(add, old, 1))
    new = expr.substitute(old, Source(3, 10))
    assert get_sync(lower([new]), new.key) == sum(10 * i + 1 for i in range(3))


def test_lowering_refuses_keys_distributed_would_reject():
    np = pytest.importorskip("numpy")

    class BadKeys(Source):
        def _output_keys(self):
            return [(self.name, np.int64(i)) for i in range(self.n)]

    with pytest.raises(TypeError, match="cast NumPy integers with int"):
        lower([BadKeys(2)])


# --- nodes building their inlined inputs themselves ----------------------------------------------


class _Inc(Expr):
    """A source-reading node: chunk i of its input plus one (reads one-to-one)."""

    _parameters = ("frame",)

    def _output_keys(self):
        return [(self.name, i) for i in range(self.frame.n)]

    def _one_to_one_inputs(self):
        return (self.frame.name,)

    def _task(self, key):
        return Task(key, add, Ref((self.frame.name, key[1])), 1)


class _Double(Expr):
    """Doubles an ``_Inc``; builds the ``_Inc`` step itself when it is inlined."""

    _parameters = ("frame",)
    built_directly = 0

    def _output_keys(self):
        return [(self.name, i) for i in range(self.frame.frame.n)]

    def _one_to_one_inputs(self):
        return (self.frame.name,)

    def _task(self, key):
        return Task(key, mul, Ref((self.frame.name, key[1])), 2)

    def _task_inline(self, key, inlined):
        if self.frame.name not in inlined:
            return self._task(key)
        type(self).built_directly += 1
        source = Ref((self.frame.frame.name, key[1]))  # left for lower to inline (a data node)
        return Task(key, lambda v: (v + 1) * 2, source)


def test_lower_uses_task_inline_and_inlines_what_it_leaves():
    src = Source(3)
    expr = _Double(_Inc(src))
    _Double.built_directly = 0
    graph = lower([expr])
    assert not any(key[0] == expr.frame.name for key in graph)  # no separate _Inc tasks
    assert len(graph) == 6  # the doubles and the source's data nodes (graph fusion inlines those)
    assert _Double.built_directly == 3
    assert [get_sync(graph, (expr.name, i)) for i in range(3)] == [2, 4, 6]
    # without inlining, the default path: three separate stages
    separate = lower([expr], inline=False)
    assert len(separate) == 9 and _Double.built_directly == 3
    assert [get_sync(separate, (expr.name, i)) for i in range(3)] == [2, 4, 6]


def test_task_inline_defaults_to_task():
    src = Source(2)
    inc = _Inc(src)
    assert repr(inc._task_inline((inc.name, 0), set())) == repr(inc._task((inc.name, 0)))


def test_operand_reaches_a_parameter_that_metadata_shadows():
    class Node(Expr):
        _parameters = ("source", "columns")
        _operand_only = ("columns",)

        @property
        def columns(self):
            return ["metadata"]

    node = Node("src", ["a", "b"])
    assert node.columns == ["metadata"]
    assert node.operand("columns") == ["a", "b"]
    assert node.operand("source") == node.source == "src"
    with pytest.raises(ValueError):
        node.operand("missing")
