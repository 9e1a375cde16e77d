import builtins
import functools
import re
import shutil
import subprocess
import sys
from operator import add

import pytest

from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.diagnostics import graphviz as gv_module
from chunkwise.diagnostics import to_dot, visualize

HAS_DOT = shutil.which("dot") is not None


def small_graph():
    return {
        ("x-0123456789abcdef", 0): DataNode(("x-0123456789abcdef", 0), 1),
        ("x-0123456789abcdef", 1): DataNode(("x-0123456789abcdef", 1), 2),
        ("y", 0): Task(("y", 0), add, Ref(("x-0123456789abcdef", 0)), 10),
        ("y", 1): Task(("y", 1), functools.partial(add, 10), Ref(("x-0123456789abcdef", 1))),
        "total": Task("total", sum, [Ref(("y", 0)), Ref(("y", 1))]),
    }


class Collection:
    def __init__(self, graph):
        self.graph = graph

    def __chunkwise_graph__(self):
        return self.graph


def edges(dot):
    return re.findall(r"^  (\w+) -> (\w+);$", dot, flags=re.M)


def labels(dot):
    return dict(re.findall(r'^  (\w+) \[label="([^"]*)"', dot, flags=re.M))


def test_to_dot_nodes_and_edges():
    dot = to_dot(small_graph())
    assert dot.startswith("digraph {") and dot.endswith("}")
    assert "rankdir=BT" in dot
    names = labels(dot)
    # one box per key, one ellipse per task
    assert sorted(v for k, v in names.items() if k.startswith("n")) == [
        "total", "x (0)", "x (1)", "y (0)", "y (1)"
    ]
    assert sorted(v for k, v in names.items() if k.startswith("f")) == ["add", "add", "sum"]
    by_label = {v: k for k, v in names.items() if k.startswith("n")}
    es = set(edges(dot))
    # data -> function -> result
    y0_func = "f" + by_label["y (0)"][1:]
    assert (by_label["x (0)"], y0_func) in es
    assert (y0_func, by_label["y (0)"]) in es
    total_func = "f" + by_label["total"][1:]
    assert (by_label["y (0)"], total_func) in es and (by_label["y (1)"], total_func) in es
    assert len(es) == 2 + 2 + 3  # func->key for 3 tasks, 4 dependency edges


def test_to_dot_collection_rankdir_and_attrs():
    dot = to_dot(Collection(small_graph()), rankdir="LR", size="8,8")
    assert "rankdir=LR" in dot and 'size="8,8"' in dot
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(small_graph(), rankdir="XY")
    with pytest.raises(TypeError, match="graph dict or a chunkwise collection"):
        to_dot(42)


def test_to_dot_list_of_collections_merges():
    g = small_graph()
    first = {k: g[k] for k in list(g)[:2]}
    dot = to_dot([Collection(first), g])
    assert len([k for k in labels(dot) if k.startswith("n")]) == len(g)


def test_to_dot_escapes_labels():
    dot = to_dot({'a"b\\c': DataNode('a"b\\c', 1)})
    assert r'label="a\"b\\c"' in dot


def test_to_dot_external_dependency_is_dashed():
    dot = to_dot({"b": Task("b", abs, Ref("a"))})
    assert 'label="a", shape=box, style=dashed' in dot


def test_to_dot_refuses_huge_graphs():
    graph = {("x", i): DataNode(("x", i), i) for i in range(600)}
    with pytest.raises(ValueError, match=r"600 tasks.*max_nodes=500.*collapse=True.*max_nodes=600"):
        to_dot(graph)
    assert to_dot(graph, max_nodes=None).count("shape=box") == 600


def test_to_dot_collapse():
    graph = {("x", i): DataNode(("x", i), i) for i in range(600)}
    graph.update({("y", i): Task(("y", i), abs, Ref(("x", i))) for i in range(600)})
    dot = to_dot(graph, collapse=True)
    names = labels(dot)
    assert sorted(names.values()) == ["x\\n600 tasks", "y\\nabs\\n600 tasks"]
    assert edges(dot) == [("g0", "g1")]


def test_visualize_dot_format_needs_no_binary(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    out = tmp_path / "graph.dot"
    source = visualize(small_graph(), filename=str(out))
    assert out.read_text().strip() == to_dot(small_graph())
    assert source.source.strip() == to_dot(small_graph())


def test_visualize_missing_dot_binary(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match=r"`dot` executable.*apt-get install graphviz.*conda install python-graphviz"):
        visualize(small_graph(), filename=str(tmp_path / "g.svg"))
    assert not (tmp_path / "g.svg").exists()


def test_visualize_dot_vanishes_during_render(tmp_path, monkeypatch):
    graphviz = pytest.importorskip("graphviz")
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/dot")

    def pipe(self, *args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Source, "pipe", pipe)
    with pytest.raises(RuntimeError, match="`dot` executable"):
        visualize(small_graph(), filename=str(tmp_path / "g.png"))


def test_visualize_missing_python_package(monkeypatch):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "graphviz":
            raise ImportError("No module named 'graphviz'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"needs the graphviz Python package: pip install graphviz"):
        visualize(small_graph())


def test_visualize_bad_format():
    with pytest.raises(ValueError, match="unknown format 'bmp'"):
        visualize(small_graph(), filename="graph.bmp")


def test_visualize_refuses_huge_graph_before_rendering(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    graph = {("x", i): DataNode(("x", i), i) for i in range(501)}
    with pytest.raises(ValueError, match="max_nodes"):
        visualize(graph)


def test_optional_dependencies_are_imported_lazily():
    code = (
        "import sys, chunkwise.diagnostics; "
        "print([m for m in ('matplotlib', 'graphviz', 'pandas', 'ipywidgets') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_graphviz_submodule_is_importable():
    assert gv_module.to_dot is to_dot


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot executable is not installed")
@pytest.mark.parametrize("ext, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_visualize_renders(tmp_path, ext, magic):
    pytest.importorskip("graphviz")
    out = tmp_path / f"graph.{ext}"
    visualize(Collection(small_graph()), filename=str(out))
    assert out.read_bytes().startswith(magic)


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot executable is not installed")
def test_visualize_format_overrides_extension_and_no_filename(tmp_path):
    pytest.importorskip("graphviz")
    visualize(small_graph(), filename=str(tmp_path / "graph.out"), format="png")
    assert (tmp_path / "graph.out").read_bytes().startswith(b"\x89PNG")
    source = visualize(small_graph(), filename=None)
    assert "digraph" in source.source


def test_collection_optimize_graph_is_passed_on():
    calls = []

    class Lazy:
        def __chunkwise_graph__(self, optimize_graph=True):
            calls.append(optimize_graph)
            return small_graph()

    to_dot(Lazy())
    to_dot(Lazy(), optimize_graph=False)
    assert calls == [True, False]


def test_filename_without_extension_gets_one(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    visualize(small_graph(), filename=str(tmp_path / "mydask"), format="dot")
    assert (tmp_path / "mydask.dot").read_text().startswith("digraph {")


def test_real_delayed_collection():
    chunkwise = pytest.importorskip("chunkwise")
    delayed = getattr(chunkwise, "delayed", None)
    if delayed is None:
        pytest.skip("chunkwise.delayed not available")
    total = delayed(sum)([delayed(abs)(-i) for i in range(3)])
    dot = to_dot(total)
    assert "abs" in dot and "sum" in dot


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot executable is not installed")
def test_collection_visualize_method(tmp_path):
    pytest.importorskip("graphviz")
    chunkwise = pytest.importorskip("chunkwise")
    if not hasattr(chunkwise, "delayed"):
        pytest.skip("chunkwise.delayed not available")
    total = chunkwise.delayed(sum)([chunkwise.delayed(abs)(-i) for i in range(3)])
    total.visualize(filename=str(tmp_path / "mydask"))
    assert (tmp_path / "mydask.svg").read_bytes().startswith(b"<?xml")
