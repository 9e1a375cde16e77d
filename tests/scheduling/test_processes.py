"""The processes scheduler recovers from worker processes that die."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import psutil
import pytest

from chunkwise.core.graph import Ref, Task
from chunkwise.scheduling import get
from chunkwise.scheduling.processes import WorkerDiedError


def inc(x):
    return x + 1


def die(x):
    os._exit(3)


def pause(x):
    time.sleep(0.2)
    return x


def unrelated_work():
    graph = {("x", i): Task(("x", i), inc, i) for i in range(6)}
    graph["total"] = Task("total", sum, [Ref(("x", i)) for i in range(6)])
    return graph, "total"


def pool_workers():
    """The pool's worker processes: forked by the forkserver, so grandchildren of this process."""
    me = psutil.Process()
    direct = {p.pid for p in me.children()}
    out = []
    for p in me.children(recursive=True):
        try:
            if p.pid not in direct and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _status(process):
    try:
        return process.status()
    except psutil.NoSuchProcess:
        return psutil.STATUS_DEAD


def test_a_task_that_kills_its_worker_is_named_and_the_next_compute_works():
    graph = {"ok": Task("ok", pause, 1), ("dies", 7): Task(("dies", 7), die, 1)}
    graph["both"] = Task("both", list, [Ref("ok"), Ref(("dies", 7))])
    with pytest.raises(WorkerDiedError, match=r"running task \('dies', 7\) died .*exit code 3") as info:
        get(graph, "both", scheduler="processes", num_workers=2)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, BrokenProcessPool)
    graph, root = unrelated_work()
    assert get(graph, root, scheduler="processes", num_workers=2) == sum(range(1, 7))
    # and again: the fresh pool stays healthy
    assert get(graph, root, scheduler="processes", num_workers=2) == sum(range(1, 7))


@pytest.mark.parametrize("wait_for_death", [True, False])
def test_workers_killed_between_computes_are_replaced(wait_for_death):
    # two slow tasks at once make the pool start both of its workers
    graph = {("p", i): Task(("p", i), pause, i) for i in range(2)}
    assert get(graph, list(graph), scheduler="processes", num_workers=2) == [0, 1]
    victims = pool_workers()
    assert victims, "found no worker process to kill"
    for victim in victims:
        with contextlib.suppress(psutil.NoSuchProcess):  # one of a dropped pool, exiting
            victim.send_signal(signal.SIGKILL)
    if wait_for_death:
        psutil.wait_procs(victims, timeout=30)
        assert not [v for v in victims if v.is_running() and _status(v) != psutil.STATUS_ZOMBIE]
    graph, root = unrelated_work()
    assert get(graph, root, scheduler="processes", num_workers=2) == sum(range(1, 7))
    assert not {v.pid for v in victims} & {p.pid for p in pool_workers()}


def test_exit_codes_are_read_after_the_executor_has_reaped_its_workers():
    # With the forkserver an exit status is read once from a pipe; reading it while the
    # executor's manager thread reaps the broken pool gave "exit code 255" about once in 20
    # runs under load. deaths() waits for that thread, so the real code is read every time.
    import cloudpickle

    from chunkwise.scheduling import processes

    for attempt in range(8):
        pool = processes._Pool(1)
        payload = cloudpickle.dumps((Task("d", die, 1), {}))
        future = pool.executor.submit(processes._run_in_worker, payload, 41 + attempt)
        with pytest.raises(BrokenProcessPool):
            future.result(timeout=60)
        pool.shutdown(wait=False)
        [(pid, code, number)] = pool.deaths()
        assert (code, number) == (3, 41 + attempt)
        assert pool.manager is not None and not pool.manager.is_alive()


def test_a_worker_killed_during_a_compute_fails_it_clearly_then_recovers():
    def kill_myself(x):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(WorkerDiedError, match=r"task 'k' died .*SIGKILL.*out-of-memory"):
        get({"k": Task("k", kill_myself, 1)}, "k", scheduler="processes", num_workers=1)
    graph, root = unrelated_work()
    assert get(graph, root, scheduler="processes", num_workers=1) == sum(range(1, 7))
