import io
import re
import sys
import threading
import time
import types

import pytest

from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.diagnostics import ProgressBar
from chunkwise.diagnostics import progress as progress_module
from chunkwise.diagnostics.progress import format_time

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


def sleepy_graph(n=20, delay=0.0):
    graph = {("x", i): Task(("x", i), time.sleep, delay) for i in range(n)}
    graph["total"] = Task("total", len, [Ref(("x", i)) for i in range(n)])
    return graph


class CountingIO(io.StringIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        if text.startswith("\r"):
            self.writes += 1
        return super().write(text)


def last_line(out):
    return out.getvalue().split("\r")[-1]


def test_final_line_format(get):
    out = io.StringIO()
    with ProgressBar(out=out, width=10):
        assert get(sleepy_graph(), "total", scheduler="sync") == 20
    text = out.getvalue()
    assert text.endswith("\n")
    final = last_line(out).rstrip()
    assert re.fullmatch(r"\[#{10}\] \| 100% Completed \| \d+\.\ds elapsed", final), final


def test_refresh_rate_and_intermediate_lines(get):
    out = CountingIO()

    def after_first_draw(delay):
        # the first task waits (with a deadline) until the bar has drawn once, so an
        # intermediate line exists however slowly a loaded machine runs the bar's thread
        deadline = time.monotonic() + 30
        while out.writes < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)

    graph = {("x", i): Task(("x", i), after_first_draw, 0.04) for i in range(10)}
    graph["total"] = Task("total", len, [Ref(("x", i)) for i in range(10)])
    start = time.perf_counter()
    with ProgressBar(out=out, dt=0.01, width=20):  # dt is raised to 0.1
        get(graph, "total", scheduler="sync")
    elapsed = time.perf_counter() - start
    # one write per 0.1 s at most, plus the final one
    assert 2 <= out.writes <= elapsed / 0.1 + 2, (out.writes, elapsed)
    lines = [line.rstrip() for line in out.getvalue().split("\r") if line.strip()]
    assert re.fullmatch(
        r"\[[# ]{20}\] \| +\d+% Completed \| \d+\.\ds elapsed, ETA (\d+\.\ds|\?)", lines[0]
    ), lines[0]
    assert "100% Completed" in lines[-1]


def test_posttask_does_not_write(get):
    out = CountingIO()
    with ProgressBar(out=out, dt=5):
        get(sleepy_graph(n=200), "total", scheduler="sync")
    assert out.writes == 1  # only the final line


def test_minimum_suppresses_short_computations(get):
    out = io.StringIO()
    bar = ProgressBar(minimum=10, out=out)
    with bar:
        get(sleepy_graph(n=5), "total", scheduler="sync")
    assert out.getvalue() == ""
    assert bar.last_duration is not None and bar.last_duration < 10


def test_threads_scheduler(get):
    out = io.StringIO()
    with ProgressBar(out=out):
        assert get(sleepy_graph(n=50, delay=0.001), "total", scheduler="threads", num_workers=4) == 50
    assert "100% Completed" in last_line(out)


def test_register_unregister(get):
    out = io.StringIO()
    bar = ProgressBar(out=out)
    bar.register()
    try:
        get(sleepy_graph(n=3), "total", scheduler="sync")
    finally:
        bar.unregister()
    assert "100% Completed" in out.getvalue()
    out.truncate(0)
    out.seek(0)
    get(sleepy_graph(n=3), "total", scheduler="sync")
    assert out.getvalue() == ""


def test_callbacks_argument(get):
    out = io.StringIO()
    get(sleepy_graph(n=3), "total", scheduler="sync", callbacks=[ProgressBar(out=out)])
    assert "100% Completed" in out.getvalue()


def boom(x):
    raise ZeroDivisionError("boom")


def test_error_stops_cleanly(get):
    out = io.StringIO()
    graph = sleepy_graph(n=4)
    graph["bad"] = Task("bad", boom, Ref("total"))
    with pytest.raises(ZeroDivisionError), ProgressBar(out=out, width=10):
        get(graph, "bad", scheduler="sync")
    final = last_line(out)
    assert "Failed after" in final and "100%" not in final
    assert out.getvalue().endswith("\n")


def test_default_out_is_stdout_at_draw_time(get, capsys):
    with ProgressBar():
        get(sleepy_graph(n=2), "total", scheduler="sync")
    assert "100% Completed" in capsys.readouterr().out


def test_timer_thread_exits():
    bar = ProgressBar(out=io.StringIO())
    graph = sleepy_graph(n=1)
    bar._start(graph)
    assert any(t.name == "chunkwise-progress" for t in threading.enumerate())
    bar._finish(graph, None, False)
    assert not any(t.name == "chunkwise-progress" for t in threading.enumerate())


def test_format_time():
    assert format_time(0.04) == "0.0s"
    assert format_time(59.94) == "59.9s"
    assert format_time(61) == "1m 1s"
    assert format_time(7200) == "2h 0m"


def test_width_must_be_positive():
    with pytest.raises(ValueError, match="width"):
        ProgressBar(width=0)


def test_no_notebook_outside_ipython():
    assert progress_module._in_notebook() is False


def fake_ipywidgets():
    class Widget:
        def __init__(self, *args, **kwargs):
            self.args = args
            self.__dict__.update(kwargs)

    module = types.ModuleType("ipywidgets")
    module.IntProgress = type("IntProgress", (Widget,), {})
    module.HTML = type("HTML", (Widget,), {})
    module.HBox = type("HBox", (Widget,), {})
    return module


def test_widget_in_notebook(get, monkeypatch):
    shown = []
    monkeypatch.setattr(progress_module, "_in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "_display", shown.append)
    monkeypatch.setitem(sys.modules, "ipywidgets", fake_ipywidgets())
    bar = ProgressBar()
    with bar:
        get(sleepy_graph(n=3), "total", scheduler="sync")
    (box,) = shown
    progress, label = box.args[0]
    assert progress.value == progress.max
    assert progress.bar_style == "success"
    assert label.value.startswith("100% |")


def test_widget_shows_failure(get, monkeypatch):
    shown = []
    monkeypatch.setattr(progress_module, "_in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "_display", shown.append)
    monkeypatch.setitem(sys.modules, "ipywidgets", fake_ipywidgets())
    graph = sleepy_graph(n=2)
    graph["bad"] = Task("bad", boom, Ref("total"))
    with pytest.raises(ZeroDivisionError), ProgressBar():
        get(graph, "bad", scheduler="sync")
    progress, label = shown[0].args[0]
    assert progress.bar_style == "danger"
    assert "failed" in label.value


def test_notebook_without_ipywidgets_falls_back_to_text(get, monkeypatch, capsys):
    monkeypatch.setattr(progress_module, "_in_notebook", lambda: True)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import raises ImportError
    with ProgressBar():
        get({"a": DataNode("a", 1)}, "a", scheduler="sync")
    assert "100% Completed" in capsys.readouterr().out


def test_real_ipywidgets_if_installed(get, monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    shown = []
    monkeypatch.setattr(progress_module, "_in_notebook", lambda: True)
    monkeypatch.setattr(progress_module, "_display", shown.append)
    with ProgressBar():
        get(sleepy_graph(n=3), "total", scheduler="sync")
    assert isinstance(shown[0], ipywidgets.HBox)
