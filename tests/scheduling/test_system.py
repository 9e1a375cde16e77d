"""The default worker count: the cores this process may really use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chunkwise import delayed
from chunkwise.core.graph import Task
from chunkwise.scheduling import busy_workers, get_threads
from chunkwise.system import cpu_count, quota_cores


@pytest.mark.parametrize(
    ("text", "cores"),
    [
        ("max 100000", None),  # cgroup v2, unlimited
        ("-1 100000", None),  # cgroup v1, unlimited
        ("100000 100000", 1),
        ("150000 100000", 2),  # 1.5 cores: rounded up
        ("50000 100000", 1),  # half a core still gets one worker
        ("400000 100000", 4),
        ("garbage", None),
        ("1 0", None),
    ],
)
def test_quota_cores_reads_cgroup_quotas(text, cores):
    assert quota_cores(text) == cores


def test_cpu_count_is_at_most_the_affinity():
    assert 1 <= cpu_count() <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert cpu_count() <= len(os.sched_getaffinity(0))


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity on this platform")
def test_a_process_pinned_to_one_core_defaults_to_one_worker():
    # What taskset or a container's CPU set does: the pools must not start a thread per machine core.
    code = (
        "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})\n"
        "import threading, chunkwise\n"
        "from chunkwise import delayed\n"
        "from chunkwise.system import cpu_count\n"
        "threads = set()\n"
        "def where(i):\n"
        "    threads.add(threading.get_ident()); return i\n"
        "total = delayed(sum)([delayed(where)(i) for i in range(64)])\n"
        "assert total.compute(scheduler='threads') == sum(range(64))\n"
        "print(cpu_count(), len(threads))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, used = map(int, out.stdout.split())
    assert count == 1
    assert used <= 1  # one worker thread (the scheduler may also run tasks in the calling thread)


@pytest.mark.parametrize(("scheduler", "workers"), [("sync", 1), ("threads", 1), ("threads", 3)])
def test_busy_workers_counts_the_loops_of_the_computes_running_now(scheduler, workers):
    assert busy_workers() == 0
    seen = delayed(busy_workers)().compute(scheduler=scheduler, num_workers=workers)
    assert seen == workers
    assert busy_workers() == 0


def test_busy_workers_adds_nested_computes_and_forgets_failed_ones():
    def inner():
        return get_threads({"b": Task("b", busy_workers)}, "b", num_workers=2)

    assert get_threads({"a": Task("a", inner)}, "a", num_workers=3) == 5

    def boom():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        get_threads({"c": Task("c", boom)}, "c", num_workers=2)
    assert busy_workers() == 0
