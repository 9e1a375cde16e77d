"""Draw a task graph with Graphviz.

:func:`to_dot` writes the DOT text of a graph with nothing but string
building: a box per key (its result), an ellipse per task labelled with its
function, and arrows along the dependencies. :func:`visualize` renders that
text to SVG, PNG or PDF with the ``graphviz`` Python package and Graphviz's
``dot`` program.

>>> from operator import add
>>> from chunkwise.core.graph import Task, DataNode, Ref
>>> graph = {"a": DataNode("a", 1), "b": Task("b", add, Ref("a"), 10)}
>>> print(to_dot(graph))
digraph {
  graph [rankdir=BT];
  node [fontname=Helvetica, fontsize=12];
  n0 [label="a", shape=box];
  n1 [label="b", shape=box];
  f1 [label="add", shape=ellipse];
  f1 -> n1;
  n0 -> f1;
}
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Hashable, Mapping
from typing import Any

from chunkwise.core.graph import DataNode, Task
from chunkwise.diagnostics.profile import key_split

__all__ = ["to_dot", "visualize"]

DEFAULT_MAX_NODES = 500

_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg", "gif", "dot")


def graph_of(obj: Any, optimize_graph: bool | None = None) -> Mapping:
    """The graph dict of a graph, a collection, or a list of those."""
    method = getattr(obj, "__chunkwise_graph__", None)
    if method is not None:
        return method() if optimize_graph is None else method(optimize_graph=optimize_graph)
    if isinstance(obj, Mapping):
        return obj
    if isinstance(obj, (list, tuple)) and obj:
        merged: dict = {}
        for item in obj:
            merged.update(graph_of(item, optimize_graph))
        return merged
    raise TypeError(
        f"visualize: expected a graph dict or a chunkwise collection, got {type(obj).__name__}"
    )


def _funcname(func: Any) -> str:
    """A short name for a task's function, looking through partials and curries."""
    seen = 0
    while seen < 10:
        inner = getattr(func, "func", None)  # functools.partial, toolz.curry
        if inner is None or not callable(inner) or inner is func:
            break
        func = inner
        seen += 1
    name = getattr(func, "__name__", None)
    if not isinstance(name, str):
        name = type(func).__name__
    return name


def _key_label(key: Hashable) -> str:
    """``('add-5f1e8d2a', 0, 1)`` -> ``add (0, 1)``; other keys as ``str``."""
    if isinstance(key, tuple) and key:
        prefix = key_split(key[0])
        rest = ", ".join(str(part) for part in key[1:])
        return f"{prefix} ({rest})" if rest else prefix
    return key_split(key) if isinstance(key, str) else str(key)


def _quote(text: str, limit: int = 60) -> str:
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(attrs: Mapping[str, Any]) -> str:
    parts = []
    for name, value in attrs.items():
        if name == "label" or not str(value).replace(".", "").isalnum():
            value = _quote(str(value))
        parts.append(f"{name}={value}")
    return ", ".join(parts)


def _dependencies(node: Any) -> frozenset:
    return getattr(node, "dependencies", frozenset())


def to_dot(
    graph: Any,
    rankdir: str = "BT",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    collapse: bool = False,
    optimize_graph: bool | None = None,
    **graph_attrs: Any,
) -> str:
    """The DOT text of a task graph (or of a collection's graph).

    A graph with more than ``max_nodes`` keys is refused, since its drawing
    would be unreadable and slow to lay out; pass a larger ``max_nodes`` (or
    None) to draw it anyway, or ``collapse=True`` to draw one node per kind
    of task (key prefix) with the number of tasks in it. ``graph_attrs`` go
    into the ``graph [...]`` line (e.g. ``size="8,8"``). ``optimize_graph``
    is passed on to a collection's ``__chunkwise_graph__``.
    """
    graph = graph_of(graph, optimize_graph)
    if collapse:
        return _collapsed_dot(graph, rankdir, graph_attrs)
    if max_nodes is not None and len(graph) > max_nodes:
        raise ValueError(
            f"visualize: the graph has {len(graph):,} tasks, more than max_nodes={max_nodes:,}; "
            "a drawing that size is unreadable and slow to lay out. Draw a smaller piece "
            "(fewer chunks or partitions, e.g. x[:2, :2]), pass collapse=True for one node "
            f"per kind of task, or pass max_nodes={len(graph)} to draw it anyway."
        )
    lines = _header(rankdir, graph_attrs)
    ids: dict = {}

    def data_id(key: Hashable) -> str:
        ident = ids.get(key)
        if ident is None:
            ident = ids[key] = f"n{len(ids)}"
        return ident

    body: list[str] = []
    external: list = []
    for key in graph:
        data_id(key)
    for key, node in graph.items():
        ident = data_id(key)
        body.append(f"  {ident} [{_attrs({'label': _key_label(key), 'shape': 'box'})}];")
        if isinstance(node, DataNode) or not isinstance(node, Task):
            if not isinstance(node, DataNode):
                for dep in sorted(_dependencies(node), key=str):
                    body.append(f"  {data_id(dep)} -> {ident};")
            continue
        func_id = "f" + ident[1:]
        body.append(
            f"  {func_id} [{_attrs({'label': _funcname(node.func), 'shape': 'ellipse'})}];"
        )
        body.append(f"  {func_id} -> {ident};")
        for dep in sorted(node.dependencies, key=str):
            if dep not in graph and dep not in external:
                external.append(dep)
            body.append(f"  {data_id(dep)} -> {func_id};")
    for dep in external:
        label = _attrs({"label": _key_label(dep), "shape": "box", "style": "dashed"})
        body.append(f"  {data_id(dep)} [{label}];")
    lines.extend(body)
    lines.append("}")
    return "\n".join(lines)


def _header(rankdir: str, graph_attrs: Mapping[str, Any]) -> list[str]:
    if rankdir not in ("TB", "BT", "LR", "RL"):
        raise ValueError(f"visualize: rankdir must be 'TB', 'BT', 'LR' or 'RL', got {rankdir!r}")
    attrs = {"rankdir": rankdir, **graph_attrs}
    return [
        "digraph {",
        f"  graph [{_attrs(attrs)}];",
        "  node [fontname=Helvetica, fontsize=12];",
    ]


def _collapsed_dot(graph: Mapping, rankdir: str, graph_attrs: Mapping[str, Any]) -> str:
    """One node per key prefix, labelled with its task count; edges between prefixes."""
    counts: dict[str, int] = {}
    funcs: dict[str, str] = {}
    edges: dict[tuple[str, str], None] = {}
    for key, node in graph.items():
        prefix = key_split(key)
        counts[prefix] = counts.get(prefix, 0) + 1
        if isinstance(node, Task) and prefix not in funcs:
            funcs[prefix] = _funcname(node.func)
        for dep in _dependencies(node):
            dep_prefix = key_split(dep)
            if dep_prefix != prefix:
                edges[(dep_prefix, prefix)] = None
                counts.setdefault(dep_prefix, 0)
    ids = {prefix: f"g{i}" for i, prefix in enumerate(counts)}
    lines = _header(rankdir, graph_attrs)
    for prefix, count in counts.items():
        label = prefix
        if prefix in funcs and funcs[prefix] != prefix:
            label += f"\n{funcs[prefix]}"
        label += f"\n{count:,} task" + ("" if count == 1 else "s")
        lines.append(f"  {ids[prefix]} [{_attrs({'label': label, 'shape': 'box3d'})}];")
    for dep_prefix, prefix in edges:
        lines.append(f"  {ids[dep_prefix]} -> {ids[prefix]};")
    lines.append("}")
    return "\n".join(lines)


_NO_DOT = (
    "visualize() needs Graphviz's `dot` executable, which is not on PATH. Install Graphviz: "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install python-graphviz` (conda). Without it, to_dot() or filename='graph.dot' "
    "still give the DOT text."
)


def visualize(
    graph_or_collection: Any,
    filename: str | os.PathLike | None = "graph.svg",
    format: str | None = None,
    rankdir: str = "BT",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    collapse: bool = False,
    optimize_graph: bool | None = None,
    **kwargs: Any,
):
    """Render a task graph with Graphviz and write it to ``filename``.

    ``graph_or_collection`` is a graph dict, an object with a
    ``__chunkwise_graph__()`` method (any chunkwise collection), or a list of
    those. ``format`` (``svg``, ``png``, ``pdf``, ...) defaults to the file's
    extension, else ``svg``; a ``filename`` without extension gets one
    (``"mydask"`` -> ``"mydask.svg"``, as in Dask). ``format="dot"`` writes
    the DOT text and needs no Graphviz. ``max_nodes``, ``collapse`` and
    ``optimize_graph`` are as in :func:`to_dot`; other keyword arguments
    become graph attributes. Returns the ``graphviz.Source``, which Jupyter
    displays; with ``filename=None`` nothing is written.
    """
    source = to_dot(graph_or_collection, rankdir=rankdir, max_nodes=max_nodes,
                    collapse=collapse, optimize_graph=optimize_graph, **kwargs)
    if filename is not None:
        filename = os.fspath(filename)
        ext = os.path.splitext(filename)[1].lstrip(".").lower()
        if format is None:
            format = ext if ext else "svg"
        if not ext:
            filename = f"{filename}.{format.lower()}"
    elif format is None:
        format = "svg"
    format = format.lower()
    if format not in _FORMATS:
        raise ValueError(f"visualize: unknown format {format!r}; choose one of {', '.join(_FORMATS)}")
    try:
        import graphviz
    except ImportError:
        raise ImportError(
            "visualize() needs the graphviz Python package: pip install graphviz "
            "(and Graphviz's `dot` program, e.g. apt-get install graphviz)"
        ) from None
    obj = graphviz.Source(source, format="svg" if format == "dot" else format)
    if format == "dot":
        if filename is not None:
            with open(filename, "w", encoding="utf-8") as f:
                f.write(source + "\n")
        return obj
    if shutil.which("dot") is None:
        raise RuntimeError(_NO_DOT)
    if filename is not None:
        try:
            data = obj.pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(_NO_DOT) from None
        with open(filename, "wb") as f:
            f.write(data)
    return obj
