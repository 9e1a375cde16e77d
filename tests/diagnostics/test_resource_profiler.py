import os
import sys
import threading
import time

import pytest

from chunkwise.core.graph import Ref, Task
from chunkwise.diagnostics import ResourceData, ResourceProfiler

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


def sampler_threads():
    return [t for t in threading.enumerate() if t.name == "chunkwise-resource-profiler"]


def slow_graph(n=5, delay=0.02):
    graph = {("x", i): Task(("x", i), time.sleep, delay) for i in range(n)}
    graph["total"] = Task("total", len, [Ref(("x", i)) for i in range(n)])
    return graph


def wait_for(condition, timeout=30.0):
    """Poll ``condition()`` until it is true or ``timeout`` seconds have passed; its last value."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_samples_during_computation(get):
    def spin_until_sampled(rprof):
        # burn CPU in this process until the sampler has taken 3 samples of its own
        deadline = time.monotonic() + 30
        while len(rprof.results) < 4 and time.monotonic() < deadline:
            sum(range(1000))
        return len(rprof.results)

    with ResourceProfiler(dt=0.01) as rprof:
        graph = {"spin": Task("spin", spin_until_sampled, rprof)}
        assert get(graph, "spin", scheduler="sync") >= 4
    assert not sampler_threads()
    assert len(rprof.results) >= 5  # the first, 3 from the thread, the last
    for sample in rprof.results:
        assert isinstance(sample, ResourceData)
        assert sample.mem > 0
        assert sample.cpu >= 0, sample  # psutil's percent of one core, summed over threads
    assert max(s.cpu for s in rprof.results) > 0  # the spinning task was seen using CPU
    times = [s.time for s in rprof.results]
    assert times == sorted(times)
    # One 10 ms sample may read several cores' worth (the OS counts CPU time in clock
    # ticks), but the CPU time the samples add up to cannot exceed what the cores give.
    cpu_seconds = sum(s.cpu / 100 * (s.time - prev.time) for prev, s in zip(rprof.results, rprof.results[1:]))
    assert cpu_seconds <= (os.cpu_count() or 1) * (times[-1] - times[0]) + 0.05, rprof.results
    assert rprof.peak_memory == max(s.mem for s in rprof.results)


def test_with_block_covers_whole_block():
    with ResourceProfiler(dt=0.01) as rprof:
        assert rprof.running
        # no computation at all: the thread samples anyway
        assert wait_for(lambda: len(rprof.results) >= 3), rprof.results
    assert not rprof.running
    assert len(rprof.results) >= 4


def test_registered_samples_each_computation(get):
    rprof = ResourceProfiler(dt=0.01)
    rprof.register()
    try:
        assert not rprof.running
        get(slow_graph(n=2), "total", scheduler="sync")
        assert not rprof.running
        first = len(rprof.results)
        assert first >= 2
        get(slow_graph(n=2), "total", scheduler="threads", num_workers=2)
        assert len(rprof.results) > first
    finally:
        rprof.unregister()
    assert not sampler_threads()


def boom(x):
    raise ValueError("boom")


def test_stops_after_error(get):
    graph = slow_graph(n=1)
    graph["bad"] = Task("bad", boom, Ref("total"))
    rprof = ResourceProfiler(dt=0.01)
    with pytest.raises(ValueError, match="boom"):
        get(graph, "bad", scheduler="sync", callbacks=[rprof])
    assert not rprof.running
    assert not sampler_threads()


def test_clear_and_peak_memory_empty():
    rprof = ResourceProfiler()
    assert rprof.peak_memory is None
    with rprof:
        pass
    assert rprof.results
    rprof.clear()
    assert rprof.results == [] and rprof.peak_memory is None


def test_dt_must_be_positive():
    with pytest.raises(ValueError, match="dt"):
        ResourceProfiler(dt=0)


def test_visualize(tmp_path):
    pytest.importorskip("matplotlib")
    with ResourceProfiler(dt=0.01) as rprof:
        time.sleep(0.03)
    png = tmp_path / "resources.png"
    assert rprof.visualize(str(png)) == str(png)
    assert png.read_bytes()[:4] == b"\x89PNG"
    html = tmp_path / "resources.html"
    rprof.visualize(str(html))
    text = html.read_text()
    assert "<svg" in text and "Peak memory" in text
    ResourceProfiler().visualize(str(tmp_path / "empty.svg"))  # no samples: still a plot


def test_missing_psutil_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)
    with pytest.raises(ImportError, match="pip install psutil"), ResourceProfiler():
        pass
    assert not sampler_threads()
