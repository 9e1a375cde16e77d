import threading
import time

import pytest

from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.diagnostics import Profiler, TaskData
from chunkwise.diagnostics.profile import key_split


def work(delay, *args):
    time.sleep(delay)
    return threading.get_ident()


def stream_graph(n=12, delay=0.005):
    graph = {("load-1a2b3c4d5e6f", i): Task(("load-1a2b3c4d5e6f", i), work, delay) for i in range(n)}
    graph["total"] = Task("total", len, [Ref(k) for k in list(graph)])
    graph["offset"] = DataNode("offset", 1)
    graph["out"] = Task("out", lambda a, b: a + b, Ref("total"), Ref("offset"))
    return graph


def test_records_every_task(get):
    graph = stream_graph()
    with Profiler() as prof:
        assert get(graph, "out", scheduler="sync") == 13
    assert sorted(map(str, (t.key for t in prof.results))) == sorted(map(str, graph))
    for t in prof.results:
        assert isinstance(t, TaskData)
        assert t.start_time <= t.end_time
        assert t.task is graph[t.key]
        assert t.worker_id == 0
    slow = [t for t in prof.results if isinstance(t.key, tuple)]
    assert all(t.end_time - t.start_time >= 0.004 for t in slow)
    assert prof.start_time <= min(t.start_time for t in prof.results)
    assert prof.end_time >= max(t.end_time for t in prof.results)


def test_worker_ids_with_threads(get):
    graph = stream_graph(n=16, delay=0.01)
    with Profiler() as prof:
        get(graph, "out", scheduler="threads", num_workers=4)
    assert len(prof.results) == len(graph)
    ids = {t.worker_id for t in prof.results}
    assert all(isinstance(w, int) for w in ids)
    assert 1 < len(ids) <= 4
    # one worker runs one task at a time: its intervals do not overlap
    for w in ids:
        spans = sorted((t.start_time, t.end_time) for t in prof.results if t.worker_id == w)
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


def test_clear_and_with_block_resets(get):
    prof = Profiler()
    prof.register()
    try:
        get(stream_graph(n=2), "out", scheduler="sync")
        get(stream_graph(n=2), "out", scheduler="sync")
    finally:
        prof.unregister()
    assert len(prof.results) == 2 * 5
    prof.clear()
    assert prof.results == []
    with prof:
        get({"a": DataNode("a", 1)}, "a", scheduler="sync")
    assert [t.key for t in prof.results] == ["a"]


def test_summary(get):
    with Profiler() as prof:
        get(stream_graph(n=6), "out", scheduler="sync")
    summary = prof.summary()
    assert list(summary.columns) == ["count", "total", "mean"]
    assert summary.index[0] == "load"  # the slow tasks come first
    assert summary.loc["load", "count"] == 6
    assert summary.loc["load", "total"] >= 6 * 0.004
    assert summary.loc["load", "mean"] == pytest.approx(summary.loc["load", "total"] / 6)
    assert set(summary.index) == {"load", "total", "offset", "out"}


def test_key_split():
    assert key_split(("add-0123456789abcdef", 3)) == "add"
    assert key_split("read-parquet-0123456789abcdef") == "read-parquet"
    assert key_split("x-1") == "x"
    assert key_split((("nested", 1), 2)) == "nested"
    assert key_split(42) == "42"
    assert key_split("my-key") == "my-key"


def test_visualize_png_and_html(get, tmp_path):
    pytest.importorskip("matplotlib")
    with Profiler() as prof:
        get(stream_graph(n=8, delay=0.001), "out", scheduler="threads", num_workers=2)
    png = tmp_path / "profile.png"
    assert prof.visualize(str(png)) == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = tmp_path / "profile.html"
    prof.visualize(str(html))
    text = html.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "</html>" in text
    assert "load" in text  # the legend / summary table names the prefix
    fig = prof.visualize(None)
    assert fig.axes


def test_visualize_empty(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "empty.svg"
    Profiler().visualize(str(out))
    assert "<svg" in out.read_text()


def test_missing_matplotlib_message(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        Profiler().visualize(str(tmp_path / "x.png"))
