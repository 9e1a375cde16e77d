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


def test_a_parameter_may_not_silently_shadow_metadata():
    class Meta(Expr):
        @property
        def columns(self):
            return ["metadata"]

    with pytest.raises(TypeError, match=r"parameter 'columns' has the name of the attribute Meta\.columns"):
        class Clash(Meta):
            _parameters = ("columns",)

    with pytest.raises(TypeError, match="_operand_only"):
        class ClashWithName(Expr):
            _parameters = ("name",)

    class OptedIn(Meta):
        _parameters = ("columns",)
        _operand_only = ("columns",)

    assert OptedIn(["a"]).columns == ["metadata"] and OptedIn(["a"]).operand("columns") == ["a"]


# --- pushdown with every consumer in view (a tiny table collection) -------------------------


def _row(columns, i):
    return {c: f"{c}{i}" for c in columns}


def _pick(row, columns):
    return {c: row[c] for c in columns}


def _upper(row):
    return {c: v.upper() for c, v in row.items()}


class Table(Expr):
    """Two chunks of a table (dicts); reading fewer columns is what pushdown buys."""

    _parameters = ("columns",)

    def _output_keys(self):
        return [(self.name, i) for i in range(2)]

    def _task(self, key):
        return Task(key, _row, self.columns, key[1])

    def _source_key(self):
        return "table"  # every Table reads the same source, narrowed differently

    def _simplify_up(self, parent, dependents):
        if not isinstance(parent, Pick):
            return None
        needed = set()
        for consumer in dependents.of_source(self):  # every consumer, not just this parent
            if not isinstance(consumer, Pick):
                return None  # someone needs every column
            needed.update(consumer.columns)
        if needed >= set(self.columns):
            return None
        narrowed = Table(tuple(c for c in self.columns if c in needed))
        return narrowed if narrowed.columns == parent.columns else Pick(narrowed, parent.columns)


class Pick(Expr):
    _parameters = ("frame", "columns")

    def _output_keys(self):
        return [(self.name, i) for i in range(2)]

    def _task(self, key):
        return Task(key, _pick, Ref((self.frame.name, key[1])), self.columns)

    def _fusion_group_key(self):
        return "per-chunk"


class Upper(Expr):
    _parameters = ("frame",)

    def _output_keys(self):
        return [(self.name, i) for i in range(2)]

    def _task(self, key):
        return Task(key, _upper, Ref((self.frame.name, key[1])))

    def _simplify_up(self, parent, dependents):
        # pick(upper(x)) -> upper(pick(x)), when the pick is this node's only consumer
        if isinstance(parent, Pick) and len(dependents[self.name]) == 1:
            return Upper(Pick(self.frame, parent.columns))
        return None

    def _fusion_group_key(self):
        return "per-chunk"


class Rows(Expr):
    """Every chunk of its inputs in one list (needs them whole)."""

    _variadic = True

    def _task(self, key):
        return Task(key, list, [Ref(k) for op in self.operands for k in op._output_keys()])


def _compute(expr):
    keys = expr._output_keys()
    values = get_sync(lower([expr]), keys)
    return values[0] if keys == [expr.name] else values


def test_pushdown_through_a_shared_node_takes_the_union():
    table = Table(("a", "b", "c"))
    plan = Rows(Pick(table, ("a",)), Pick(table, ("b",)))
    simple = plan.simplify()
    tables = [e for e in walk([simple]) if isinstance(e, Table)]
    assert [t.columns for t in tables] == [("a", "b")]  # one read, of the union: still shared
    assert [type(op).__name__ for op in simple.operands] == ["Pick", "Pick"]
    assert _compute(simple) == _compute(plan) == [{"a": "a0"}, {"a": "a1"}, {"b": "b0"}, {"b": "b1"}]


def test_the_union_holds_when_one_branch_is_pushed_down_later():
    # the first branch reaches the table only after a pushdown through Upper, while the
    # second is visited first: both still read one narrowed table
    table = Table(("a", "b", "c"))
    plan = Rows(Pick(Upper(table), ("a",)), Pick(table, ("b",)))
    simple = plan.simplify()
    assert [t.columns for t in walk([simple]) if isinstance(t, Table)] == [("a", "b")]
    assert _compute(simple) == _compute(plan) == [{"a": "A0"}, {"a": "A1"}, {"b": "b0"}, {"b": "b1"}]


def test_a_consumer_needing_everything_keeps_a_shared_node_whole():
    table = Table(("a", "b", "c"))
    plan = Rows(Pick(table, ("a",)), table)
    simple = plan.simplify()
    assert [t.columns for t in walk([simple]) if isinstance(t, Table)] == [("a", "b", "c")]
    assert _compute(simple) == _compute(plan)


def test_a_ten_level_pushdown_converges_in_one_pass(monkeypatch):
    from chunkwise.core import optimize

    expr = Table(("a", "b", "c"))
    for _ in range(10):
        expr = Upper(expr)
    plan = Pick(expr, ("a",))
    passes = []
    once = optimize.simplify_once
    monkeypatch.setattr(optimize, "simplify_once", lambda e: passes.append(1) or once(e))
    simple = plan.simplify()
    # one pass does it all; the second only finds nothing left to do
    assert len(passes) == 2
    assert once(plan).name == simple.name
    chain = list(walk([simple]))
    assert [type(e).__name__ for e in chain] == ["Upper"] * 10 + ["Table"]
    assert chain[-1].columns == ("a",)
    assert _compute(simple) == _compute(plan) == [{"a": "A0"}, {"a": "A1"}]


def test_equal_names_mean_equal_nodes_after_rewrites():
    table = Table(("a", "b", "c"))
    one = Rows(Pick(table, ("a",)), Pick(table, ("b",))).simplify()
    two = Rows(Pick(Table(("a", "b", "c")), ("a",)), Pick(table, ("b",))).simplify()
    assert one.name == two.name
    names = {}
    for node in walk([one, two]):  # no two different nodes share a name
        assert names.setdefault(node.name, repr(node)) == repr(node)
    assert Pick(table, ("a",)).name != Pick(table, ("b",)).name


# --- lowering and the stages a collection declares -------------------------------------------


class Scale(Expr):
    """``frame * factor``; lowered to steps of at most 2 (a strategy chosen from an operand)."""

    _parameters = ("frame", "factor")

    def _output_keys(self):
        return [(self.name, i) for i in range(self.frame_chunks())]

    def frame_chunks(self):
        return len(self.frame._output_keys())

    def _task(self, key):
        return Task(key, mul, Ref((self.frame.name, key[1])), self.factor)

    def _lower(self):
        if self.factor > 2 and self.factor % 2 == 0:
            return Scale(Scale(self.frame, 2), self.factor // 2)
        return None


class OnlySimplify(Scale):
    _stages = ("simplify",)


class Unrunnable(Scale):
    _stages = ("simplify", "shuffle")


def test_lower_stage_runs_lower_to_a_fixed_point():
    from chunkwise.core.optimize import lower_stage

    plan = Scale(Source(3), 8)
    lowered = lower_stage(plan)
    factors = [e.factor for e in walk([lowered]) if isinstance(e, Scale)]
    assert factors == [2, 2, 2]
    assert plan.optimize().name == lowered.name  # optimize runs the lower stage
    assert [_get(lowered, i) for i in range(3)] == [0, 8, 16]


def _get(expr, i):
    return get_sync(lower([expr]), (expr.name, i))


def test_a_collection_declares_its_stages():
    plan = OnlySimplify(Source(3), 8)
    assert plan.optimize().name == plan.name  # no lower stage: left as it is
    with pytest.raises(TypeError, match=r"declares the stage 'shuffle' but no _shuffle_stage"):
        Unrunnable(Source(3), 8).optimize()


def test_stage_order_does_not_depend_on_imports():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        first = sys.argv[1]
        if first == "delayed":
            from operator import add
            from chunkwise.delayed import delayed
            d = delayed(add, pure=True)(delayed(1), 2)
            before = d.expr.optimize().name
        import chunkwise.array as da
        if first == "delayed":
            assert d.expr.optimize().name == before, "the delayed plan changed"
        x = da.from_array(np.arange(12.0).reshape(3, 4), chunks=2)
        y = (da.sin(x) + 1)[:2].sum(axis=0)
        print(y.expr.optimize().explain(show=False))
        """
    )
    import os
    from pathlib import Path

    import chunkwise

    src = str(Path(chunkwise.__file__).resolve().parents[1])  # this checkout's chunkwise
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    runs = [
        subprocess.run([sys.executable, "-c", code, first], capture_output=True, text=True, env=env)
        for first in ("array", "delayed")
    ]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr[-2000:] for r in runs]
    assert runs[0].stdout == runs[1].stdout and "FusedBlockwise" in runs[0].stdout


def test_a_tuple_of_collections_is_optimized_by_each_ones_stages():
    import numpy as np

    import chunkwise.array as da
    from chunkwise.core.expr import Tuple, optimize_together
    from chunkwise.delayed import delayed

    x = da.from_array(np.arange(6.0), chunks=3)
    y = da.sin(x) + 1
    d = delayed(sum, pure=True)([1, 2])
    d_expr = d.expr  # a delayed call's expression is a view made on demand: keep one
    arr, dl = optimize_together([y.expr, d_expr])
    assert type(arr).__name__ == "FusedBlockwise" and dl is d_expr
    (alone,) = optimize_together([y.expr])
    assert alone.name == arr.name  # the same stages with or without the delayed value
    assert Tuple(y.expr, d_expr).optimize().operands[1] is d_expr


# --- fusion in core ------------------------------------------------------------------------


def test_fusion_makes_one_task_per_chunk_with_a_name_of_its_own():
    from chunkwise.core.fuse import Fused, fuse

    table = Table(("a", "b"))
    plan = Pick(Upper(Upper(table)), ("a",))
    fused = fuse(plan)
    assert isinstance(fused, Fused) and [type(m).__name__ for m in fused.members] == ["Upper", "Upper", "Pick"]
    assert fused.name != plan.name  # not its root's name: equal names mean equal nodes
    assert fuse(Pick(Upper(Upper(Table(("a", "b")))), ("a",))).name == fused.name
    assert fused.inputs == (table,)
    graph = lower([fused])
    assert sorted(k[0] for k in graph) == sorted([fused.name] * 2 + [table.name] * 2)
    assert [get_sync(graph, k) for k in fused._output_keys()] == [{"a": "A0"}, {"a": "A1"}]


def test_fusion_stops_at_a_node_with_consumers_outside_the_group():
    from chunkwise.core.fuse import Fused, fuse

    shared = Upper(Table(("a",)))
    plan = Rows(Upper(shared), Pick(shared, ("a",)))
    fused = fuse(plan)
    assert not any(isinstance(e, Fused) for e in walk([fused]))  # no group of two
    chain = Rows(Upper(Upper(shared)), shared)
    groups = [e for e in walk([fuse(chain)]) if isinstance(e, Fused)]
    assert [len(g.members) for g in groups] == [2]
    assert _compute(fuse(chain)) == _compute(chain)
