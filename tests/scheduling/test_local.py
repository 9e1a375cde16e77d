"""The local schedulers: results, release of memory, throttling, errors, interrupts, threads."""

from __future__ import annotations

import _thread
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from operator import add

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chunkwise
from chunkwise import config
from chunkwise.core.graph import DataNode, Ref, Task
from chunkwise.scheduling import Callback, get, get_scheduler, get_sync, get_threads
from chunkwise.scheduling.local import run_graph

SCHEDULERS = ["sync", "threads"]


def inc(x):
    return x + 1


def tree_graph(leaves: int, fan_in: int = 2, leaf=lambda i: Task(("leaf", i), inc, i)):
    """A reduction tree over ``leaves`` source tasks; returns (graph, root key)."""
    graph = {}
    level = []
    for i in range(leaves):
        node = leaf(i)
        graph[node.key] = node
        level.append(node.key)
    depth = 0
    while len(level) > 1:
        depth += 1
        nxt = []
        for j in range(0, len(level), fan_in):
            key = ("sum", depth, j // fan_in)
            graph[key] = Task(key, sum, [Ref(k) for k in level[j : j + fan_in]])
            nxt.append(key)
        level = nxt
    return graph, level[0]


@pytest.mark.parametrize("scheduler", SCHEDULERS + ["processes"])
def test_results_match_python(scheduler):
    graph, root = tree_graph(50)
    assert get(graph, root, scheduler=scheduler, num_workers=2) == sum(i + 1 for i in range(50))


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_nested_key_structure_and_nested_arguments(scheduler):
    graph = {
        "a": DataNode("a", 1),
        ("b", 0): Task(("b", 0), add, Ref("a"), 10),
        "c": Task("c", dict, x=[Ref("a"), (Ref(("b", 0)), {"deep": Ref("a")})]),
    }
    out = get(graph, [["a", ("b", 0)], "c"], scheduler=scheduler)
    assert out == [[1, 11], {"x": [1, (11, {"deep": 1})]}]


@st.composite
def random_dags(draw):
    n = draw(st.integers(1, 40))
    graph = {}
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=3, unique=True)) if i else []
        if deps:
            graph[i] = Task(i, lambda *xs, i=i: i + sum(xs), *[Ref(d) for d in deps])
        else:
            graph[i] = DataNode(i, i)
    outputs = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True))
    return graph, outputs


def naive(graph, key, memo=None):
    memo = {} if memo is None else memo
    if key not in memo:
        node = graph[key]
        memo[key] = node({d: naive(graph, d, memo) for d in node.dependencies})
    return memo[key]


@settings(max_examples=60, deadline=None)
@given(random_dags(), st.sampled_from([1, 2, 4]), st.integers(0, 3))
def test_random_dags_agree_with_naive_execution(dag, workers, max_live):
    graph, outputs = dag
    expected = [naive(graph, k) for k in outputs]
    assert get_sync(graph, outputs) == expected
    assert get_threads(graph, outputs, num_workers=workers, max_live_sources=max_live) == expected


class LiveCounter(Callback):
    """Counts results held by the scheduler after each task (through the callback state)."""

    def __init__(self):
        self.peak = 0
        self.lock = threading.Lock()

    def _posttask(self, key, result, graph, state, worker_id):
        live = len(state.results)
        if live > self.peak:
            with self.lock:
                self.peak = max(self.peak, live)


@pytest.mark.parametrize("fan_in", [2, 8])
def test_tree_reduction_over_10000_chunks_holds_few_results(fan_in):
    graph, root = tree_graph(10_000, fan_in)
    workers = 4
    counter = LiveCounter()
    assert get_threads(graph, root, num_workers=workers, callbacks=[counter]) == sum(
        range(1, 10_001)
    )
    depth = 0
    n = 10_000
    while n > 1:
        n = -(-n // fan_in)
        depth += 1
    # O(workers x depth): each tree level holds at most a group per worker in flight.
    assert counter.peak <= workers * fan_in * depth, counter.peak


def test_results_are_released_when_no_longer_needed():
    graph = {("x", i): Task(("x", i), inc, i) for i in range(100)}
    for i in range(100):
        graph[("y", i)] = Task(("y", i), inc, Ref(("x", i)))
    graph["total"] = Task("total", sum, [Ref(("y", i)) for i in range(100)])
    seen, at_end = [], []
    cb = Callback(
        posttask=lambda key, result, graph, state, worker_id: seen.append(len(state.results)),
        finish=lambda graph, state, errored: at_end.append(sorted(state.results, key=str)),
    )
    get_sync(graph, "total", callbacks=[cb])
    # x_i is dropped as soon as y_i ran: at most all y's plus one x are alive.
    assert max(seen) <= 101
    assert at_end == [["total"]]  # only the requested key remains


@pytest.mark.parametrize("reads_a_data_node", [False, True])
def test_sources_are_throttled_behind_slow_consumers(reads_a_data_node):
    """Sources (no dependencies but data) do not run far ahead of the tasks consuming them."""
    n = 200
    graph = {"offset": DataNode("offset", 0)} if reads_a_data_node else {}
    for i in range(n):
        if reads_a_data_node:
            graph[("src", i)] = Task(("src", i), add, Ref("offset"), i + 1)
        else:
            graph[("src", i)] = Task(("src", i), inc, i)
        graph[("slow", i)] = Task(("slow", i), _slow_inc, Ref(("src", i)))
    graph["total"] = Task("total", sum, [Ref(("slow", i)) for i in range(n)])
    started = {"src": 0, "slow": 0}
    ahead = []
    lock = threading.Lock()

    def pretask(key, graph, state):
        if isinstance(key, tuple):
            with lock:
                started[key[0]] += 1
                ahead.append(started["src"] - started["slow"])

    result = get_threads(graph, "total", num_workers=2, callbacks=[Callback(pretask=pretask)])
    assert result == sum(i + 2 for i in range(n))
    assert max(ahead) <= 4 * 2 + 2


def _slow_inc(x):
    time.sleep(0.0005)
    return x + 1


def test_throttle_never_deadlocks_when_a_consumer_needs_many_sources():
    graph = {("src", i): Task(("src", i), inc, i) for i in range(64)}
    graph["all"] = Task("all", sum, [Ref(("src", i)) for i in range(64)])
    assert get_threads(graph, "all", num_workers=2, max_live_sources=1) == sum(range(1, 65))


# --- errors -------------------------------------------------------------------


def user_function_that_fails(x):
    raise ZeroDivisionError(f"cannot divide {x}")


@pytest.mark.parametrize("scheduler", SCHEDULERS + ["processes"])
def test_task_error_keeps_type_names_key_and_shows_user_function(scheduler):
    graph = {"a": DataNode("a", 1), ("b", 3): Task(("b", 3), user_function_that_fails, Ref("a"))}
    with pytest.raises(ZeroDivisionError, match="cannot divide 1") as info:
        get(graph, ("b", 3), scheduler=scheduler, num_workers=2)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "('b', 3)" in notes
    if scheduler == "processes":
        assert "user_function_that_fails" in notes  # the worker's traceback
    else:
        frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
        assert "user_function_that_fails" in frames
        # No frames of the graph machinery between the caller and the user's function.
        files = [f.filename for f in traceback.extract_tb(info.value.__traceback__)]
        assert not any(f.endswith(os.path.join("core", "graph.py")) for f in files)


def test_error_stops_the_rest_of_the_computation_promptly():
    ran = []

    def slow(i):
        time.sleep(0.01)
        ran.append(i)
        return i

    graph = {("s", i): Task(("s", i), slow, i) for i in range(200)}
    graph["bad"] = Task("bad", user_function_that_fails, 0)
    graph["all"] = Task("all", lambda *xs: xs, Ref("bad"), *[Ref(("s", i)) for i in range(200)])
    with pytest.raises(ZeroDivisionError):
        get_threads(graph, "all", num_workers=2)
    count = len(ran)
    time.sleep(0.1)
    assert len(ran) == count  # nothing keeps running in the background: running tasks finished first
    assert count < 200


def test_a_task_error_is_raised_after_the_tasks_still_running_finish():
    """Before, the error came back while another worker was still in a task (holding the BLAS
    limit, writing a file): the compute had returned but its work had not stopped."""
    slow_started, failed = threading.Event(), threading.Event()
    returned = threading.Event()
    finished_after_return = []

    def slow(x):
        slow_started.set()
        failed.wait(30)
        # still running when the other task has failed: the compute must not return before this ends
        returned.wait(0.5)
        finished_after_return.append(returned.is_set())
        return x

    def fail(x):
        slow_started.wait(30)
        failed.set()
        raise ZeroDivisionError("boom")

    graph = {
        "a": DataNode("a", 1), "b": DataNode("b", 2),
        "slow": Task("slow", slow, Ref("a")), "fail": Task("fail", fail, Ref("b")),
        "both": Task("both", lambda *xs: xs, Ref("slow"), Ref("fail")),
    }
    with pytest.raises(ZeroDivisionError, match="boom"):
        get_threads(graph, "both", num_workers=2)
    returned.set()
    assert finished_after_return == [False]


def test_missing_dependency_and_cycle_are_clear_errors():
    with pytest.raises((ValueError, KeyError), match="missing|not in the graph"):
        get_sync({"a": Task("a", inc, Ref("nope"))}, "a")
    cyclic = {"a": Task("a", inc, Ref("b")), "b": Task("b", inc, Ref("a"))}
    with pytest.raises(ValueError, match="cycle"):
        get_threads(cyclic, "a", num_workers=2)
    with pytest.raises(KeyError, match="not in the graph"):
        get_sync({"a": DataNode("a", 1)}, "zzz")


# --- selection and config -----------------------------------------------------


def test_scheduler_selection_by_argument_config_and_environment():
    assert get_scheduler("sync") is get_sync
    assert get_scheduler("threading") is get_threads
    with config.set(scheduler="sync"):
        assert get_scheduler() is get_sync
    assert get_scheduler() is get_threads
    with pytest.raises(ValueError, match="unknown scheduler 'nope'.*sync"):
        get_scheduler("nope")
    code = textwrap.dedent(
        """
        import chunkwise
        from chunkwise.scheduling import get_scheduler, get_sync
        assert get_scheduler() is get_sync
        print("ok")
        """
    )
    env = dict(os.environ, CHUNKWISE_SCHEDULER="sync")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr


def test_num_workers_from_config_is_used():
    seen = set()
    cb = Callback(posttask=lambda key, result, graph, state, worker_id: seen.add(worker_id))
    graph = {("x", i): Task(("x", i), _slow_inc, i) for i in range(40)}
    with config.set(num_workers=1):
        get(graph, list(graph), scheduler="threads", callbacks=[cb])
    assert seen == {0}


# --- threads ------------------------------------------------------------------


def test_two_threads_computing_at_once_both_get_their_results():
    results = {}

    def work(name, n):
        graph, root = tree_graph(n)
        results[name] = get_threads(graph, root, num_workers=2)

    threads = [threading.Thread(target=work, args=(f"t{i}", 500 + i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for i in range(4):
        assert results[f"t{i}"] == sum(range(1, 501 + i))


def test_a_task_that_computes_does_not_deadlock():
    def inner(x):
        graph, root = tree_graph(20)
        return x + get_threads(graph, root, num_workers=2)

    graph = {("x", i): Task(("x", i), inner, i) for i in range(8)}
    graph["total"] = Task("total", sum, [Ref(("x", i)) for i in range(8)])
    assert get_threads(graph, "total", num_workers=2) == sum(range(8)) + 8 * 210


def test_delayed_compute_inside_delayed_task_on_threads():
    @chunkwise.delayed
    def outer(i):
        return chunkwise.delayed(add)(i, 1).compute(scheduler="threads")

    assert chunkwise.compute(*[outer(i) for i in range(6)], scheduler="threads") == tuple(
        range(1, 7)
    )


# --- callbacks ----------------------------------------------------------------


def test_callback_hooks_are_called_in_order():
    events = []

    class Recorder(Callback):
        def _start(self, graph):
            events.append(("start", len(graph)))

        def _start_state(self, graph, state):
            events.append(("start_state", state.num_tasks))

        def _pretask(self, key, graph, state):
            events.append(("pretask", key))

        def _posttask(self, key, result, graph, state, worker_id):
            events.append(("posttask", key, result))

        def _finish(self, graph, state, errored):
            events.append(("finish", errored, state.num_done))

    graph = {"a": DataNode("a", 1), "b": Task("b", inc, Ref("a"))}
    with Recorder():
        get_sync(graph, "b")
    assert events == [
        ("start", 2),
        ("start_state", 2),
        ("pretask", "a"),
        ("posttask", "a", 1),
        ("pretask", "b"),
        ("posttask", "b", 2),
        ("finish", False, 2),
    ]
    events.clear()
    rec = Recorder()
    rec.register()
    try:
        with pytest.raises(ZeroDivisionError):
            get_sync({"x": Task("x", user_function_that_fails, 1)}, "x")
    finally:
        rec.unregister()
    assert events[-1] == ("finish", True, 0)
    events.clear()
    get_sync(graph, "b")
    assert events == []


# --- interrupts ----------------------------------------------------------------


def _sleep_task(i):
    time.sleep(0.05)
    return i


def wait_for(condition, timeout=30.0):
    """Poll ``condition()`` until it is true or ``timeout`` seconds have passed; its last value."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_ctrl_c_stops_promptly_and_leaves_no_busy_threads(scheduler, sigint_raises_keyboard_interrupt):
    workers = 4
    lock = threading.Lock()
    started, finished, interrupted_at = [], [], []

    def interrupt():
        interrupted_at.append(time.monotonic())
        _thread.interrupt_main()

    def pretask(key, graph, state):
        with lock:
            started.append(key)
            first = len(started) == 1
        if first:  # interrupt once the computation runs, however late a loaded machine starts it
            threading.Timer(0.2, interrupt).start()

    cb = Callback(
        pretask=pretask,
        posttask=lambda key, result, graph, state, worker_id: finished.append(key),
    )
    graph = {("s", i): Task(("s", i), _sleep_task, i) for i in range(400)}  # 400 x 0.05 s
    graph["all"] = Task("all", len, [Ref(("s", i)) for i in range(400)])
    with pytest.raises(KeyboardInterrupt):
        get(graph, "all", scheduler=scheduler, num_workers=workers, callbacks=[cb])
    stopped = time.monotonic()
    started_by_then = len(started)
    # Measured from the interrupt: far below the 5 s the work would take, with room for load.
    assert stopped - interrupted_at[0] < 3.0
    # The tasks in flight finish (all but the caller's own, interrupted, task).
    assert wait_for(lambda: len(started) - len(finished) <= 1), (len(started), len(finished))
    # No new task starts: only tasks taken before the interrupt may report their start
    # late (one per pool thread), and then nothing more runs.
    assert len(started) <= started_by_then + (workers - 1)
    settled = len(started)
    time.sleep(0.2)
    assert len(started) == settled and len(started) < 400


def test_ctrl_c_stops_processes_and_leaves_no_orphans(sigint_raises_keyboard_interrupt):
    code = textwrap.dedent(
        """
        import _thread, threading, time, psutil, os
        from chunkwise.core.graph import Task, Ref
        from chunkwise.scheduling import Callback, get

        def slow(i):
            time.sleep(0.2)
            return i

        def orphans():
            # The forkserver and the resource tracker (direct children) are helpers; the
            # pool's workers are forked by the forkserver, so they are grandchildren.
            me = psutil.Process()
            direct = {p.pid for p in me.children()}
            out = []
            for p in me.children(recursive=True):
                try:
                    if p.pid not in direct and p.status() != psutil.STATUS_ZOMBIE:
                        out.append(p.pid)
                except psutil.NoSuchProcess:
                    pass
            return out

        if __name__ == "__main__":
            graph = {("s", i): Task(("s", i), slow, i) for i in range(200)}
            graph["all"] = Task("all", len, [Ref(("s", i)) for i in range(200)])
            get({"w": Task("w", slow, 1)}, "w", scheduler="processes", num_workers=2)  # warm up
            interrupted_at = []

            def interrupt():
                interrupted_at.append(time.monotonic())
                _thread.interrupt_main()

            timer = threading.Timer(0.5, interrupt)
            started = []

            def first(key, graph, state):
                if not started:
                    started.append(key)
                    timer.start()  # tasks are in flight in the workers when Ctrl-C comes

            try:
                get(graph, "all", scheduler="processes", num_workers=2, callbacks=[Callback(pretask=first)])
            except KeyboardInterrupt:
                print("interrupted after", round(time.monotonic() - interrupted_at[0], 2))
            deadline = time.monotonic() + 30
            while orphans() and time.monotonic() < deadline:
                time.sleep(0.05)
            print("children", len(orphans()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert "interrupted after" in out.stdout, out.stderr
    waited = float(out.stdout.split("interrupted after")[1].split()[0])
    assert waited < 5.0  # measured from the interrupt; the work would take 20 s
    assert "children 0" in out.stdout, out.stdout + out.stderr


def test_run_graph_without_cull_runs_everything():
    ran = []
    graph = {"a": Task("a", ran.append, 1), "b": Task("b", ran.append, 2)}
    run_graph(graph, "a", cull=False)
    assert sorted(ran) == [1, 2]


def test_error_in_a_fused_task_names_the_task_that_failed():
    graph = {
        "a": DataNode("a", 1),
        "b": Task("b", inc, Ref("a")),
        "c": Task("c", user_function_that_fails, Ref("b")),
        "d": Task("d", inc, Ref("c")),
    }
    fused = chunkwise.core.passes.fuse_linear(graph, ["d"])
    assert list(fused) == ["d"]
    for scheduler in SCHEDULERS:
        with pytest.raises(ZeroDivisionError) as info:
            get(fused, "d", scheduler=scheduler)
        assert "task 'c' (fused into task 'd')" in "\n".join(info.value.__notes__)


def test_sync_runs_the_ready_task_of_lowest_priority_from_every_ready_list():
    # Sources ready at the start (plain and DataNode-fed ones that become ready
    # later) and other work: each task taken is the lowest priority then ready,
    # whichever list holds it (with no throttle: max_live_sources is large).
    graph = {}
    for i in range(30):
        if i % 3 == 0:
            graph[f"d{i}"] = DataNode(f"d{i}", i)
            graph[f"s{i}"] = Task(f"s{i}", add, Ref(f"d{i}"), 1)  # fed: ready later
        else:
            graph[f"s{i}"] = Task(f"s{i}", add, i, 1)  # ready at the start
        if i % 5 == 4:
            graph[f"m{i}"] = Task(f"m{i}", add, Ref(f"s{i}"), Ref(f"s{i - 1}"))
    graph["total"] = Task("total", sum, [Ref(k) for k in list(graph) if k[0] in "sm"])
    violations = []

    def pretask(key, graph, state):
        ready = state.initial_sources + state.ready_sources + state.ready_other
        if ready and min(ready) < state.priority[key]:
            violations.append((key, min(ready)))

    expected = sum(i + 1 for i in range(30)) + sum(2 * i + 1 for i in range(4, 30, 5))
    assert get_sync(graph, "total", callbacks=[Callback(pretask=pretask)], max_live_sources=1000) == expected
    assert violations == []


def test_the_scheduler_looks_each_dependency_up_by_key_once(counting_key):
    # A sum over n tasks. The scheduler numbers the tasks once (a map key -> number
    # and one lookup per dependency), orders and runs them on those numbers; the
    # results are stored and read by key. It used to look keys up 22 times per task.
    n = 2000
    leaves = [counting_key(f"x-{i:05d}") for i in range(n)]
    graph = {k: Task(k, inc, i) for i, k in enumerate(leaves)}
    total = counting_key("total")
    graph[total] = Task(total, sum, [Ref(k) for k in leaves])
    counting_key.hashes = 0
    assert get_sync(graph, total, cull=False) == sum(range(1, n + 1))
    # Only ranking keys that are not plain str (2) hashes them: the sum's inputs are
    # found next to it (numbering.py), results are stored and read by position.
    # It was 5 per task with results stored and read by key, 22 before that.
    assert counting_key.hashes <= 2 * n + 10, counting_key.hashes / n


def test_results_live_in_a_list_by_priority_and_are_dropped_when_their_last_reader_ran():
    from chunkwise.scheduling.local import _MISSING

    graph = {
        "a": DataNode("a", 1),
        "b": Task("b", inc, Ref("a")),
        "c": Task("c", add, Ref("b"), Ref("a")),  # the last reader of a and b
        "d": Task("d", inc, Ref("c")),
    }
    slots = {}

    def posttask(key, result, graph, state, worker_id):
        # the scheduler's own store, as it was before this task's result was recorded
        assert type(state.values) is list and len(state.values) == 4
        slots[key] = [state.values[state.priority[k]] for k in "abcd"]

    assert get_sync(graph, "d", callbacks=[Callback(posttask=posttask)]) == 4
    m = _MISSING
    assert slots["b"] == [1, m, m, m]  # a recorded at its position
    assert slots["c"] == [1, 2, m, m]  # c running: a and b still held
    assert slots["d"] == [m, m, 3, m]  # c ran: a and b dropped by position, c held for d


def test_state_holds_dependencies_by_priority_and_keeps_only_asked_results_at_the_end():
    from chunkwise.scheduling.local import State

    graph = {
        "a": DataNode("a", 1),
        "b": Task("b", inc, Ref("a")),
        "c": Task("c", add, Ref("b"), Ref("a")),
        "d": Task("d", inc, Ref("c")),
    }
    state = State(graph, {"d"}, max_live_sources=4)
    # each task's distinct dependencies, and where it reads its inputs, in its reading order
    assert state.deps == [None, 0, [1, 0], 2]
    assert state.refs == [None, 0, [1, 0], 2]
    assert state.priority == {"a": 0, "b": 1, "c": 2, "d": 3}
    ends = []
    cb = Callback(finish=lambda graph, state, errored: ends.append(dict(state.results)))
    assert get_sync(graph, ["d", "b"], callbacks=[cb]) == [4, 2]
    assert ends == [{"d": 4, "b": 2}]


def test_a_worker_never_idles_for_the_throttle_when_consumers_need_more_sources():
    """Each consumer needs two neighbouring sources (as map_overlap's blocks do): more
    sources alive than the limit allows. The second worker must run the next source
    instead of waiting for the running consumer, so consumers run side by side."""
    n = 12
    graph = {("src", i): Task(("src", i), inc, i) for i in range(n + 1)}
    for i in range(n):
        graph[("use", i)] = Task(("use", i), _slow_add, Ref(("src", i)), Ref(("src", i + 1)))
    graph["total"] = Task("total", sum, [Ref(("use", i)) for i in range(n)])
    running, most = [0], [0]
    lock = threading.Lock()

    def pretask(key, graph, state):
        if isinstance(key, tuple) and key[0] == "use":
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])

    def posttask(key, result, graph, state, worker_id):
        if isinstance(key, tuple) and key[0] == "use":
            with lock:
                running[0] -= 1

    cb = Callback(pretask=pretask, posttask=posttask)
    result = get_threads(graph, "total", num_workers=2, max_live_sources=1, callbacks=[cb])
    assert result == sum(2 * i + 3 for i in range(n))
    assert most[0] == 2


def _slow_add(a, b):
    time.sleep(0.02)
    return a + b


def test_sources_ready_at_the_start_are_taken_in_batches_under_one_lock_round():
    """A sum over many leaves: a worker takes up to 16 leaves per lock round, so the
    ready list shrinks by a batch at a time; results are then recorded together."""
    from chunkwise.scheduling.local import _BATCH

    n = 320
    graph = {f"x{i:03d}": Task(f"x{i:03d}", inc, i) for i in range(n)}
    graph["total"] = Task("total", sum, [Ref(k) for k in list(graph)])
    seen = []  # the sources still ready at the start, as each task begins
    pretask = lambda key, graph, state: seen.append(len(state.initial_sources))  # noqa: E731
    assert get_sync(graph, "total", callbacks=[Callback(pretask=pretask)]) == sum(range(1, n + 1))
    rounds = len(set(seen[:n]))  # one value per lock round
    assert rounds <= n // _BATCH + _BATCH, rounds  # smaller batches as the last leaves run out; 320 before
    # and a source whose consumer becomes ready soon is not batched (see the throttle tests)
    chain = {"a": Task("a", inc, 1), "b": Task("b", inc, 2), "c": Task("c", add, Ref("a"), Ref("b"))}
    seen.clear()
    assert get_sync(chain, "c", callbacks=[Callback(pretask=pretask)]) == 5
    assert seen[:2] == [1, 0]


# --- a join of two shuffled sides ---------------------------------------------------------------


def _two_shuffles_joined(n_in: int = 4, n_out: int = 12) -> dict:
    """A join of two shuffled sides: each side's splits (sources) are all read by every one of
    that side's combines; join ``j`` reads combine ``j`` of both sides."""
    graph: dict = {}
    for side in "LR":
        for i in range(n_in):
            graph[(f"split{side}", i)] = Task((f"split{side}", i), list, range(3))
        for j in range(n_out):
            graph[(f"combine{side}", j)] = Task(
                (f"combine{side}", j), lambda *parts: [sum(map(sum, parts))],
                *[Ref((f"split{side}", i)) for i in range(n_in)],
            )
    for j in range(n_out):
        graph[("join", j)] = Task(("join", j), add, Ref(("combineL", j)), Ref(("combineR", j)))
    return graph


@pytest.mark.parametrize(("scheduler", "workers"), [("sync", 1), ("threads", 1), ("threads", 2)])
def test_a_join_of_two_shuffles_holds_few_combines(scheduler, workers):
    # Ran every combine of the left side (the whole left side, in memory) before splitting the
    # right one: the throttle counted the left splits as running ahead of their combines, and
    # the order numbered every left combine right after the last left split. A 36 GB merge ran
    # out of memory. Now each combine runs next to its partner and the join that frees it.
    graph = _two_shuffles_joined()
    lock = threading.Lock()
    held: set = set()
    peak = [0]

    def posttask(key, result, graph_, state, worker_id):
        with lock:
            if key[0].startswith("combine"):
                held.add(key)
            elif key[0] == "join":
                held.discard(("combineL", key[1]))
                held.discard(("combineR", key[1]))
            peak[0] = max(peak[0], len(held))

    keys = [("join", j) for j in range(12)]
    with Callback(posttask=posttask):
        out = get(graph, keys, scheduler=scheduler, num_workers=workers)
    assert out == [[12, 12]] * 12
    assert peak[0] <= 2 * workers + 1, peak[0]
