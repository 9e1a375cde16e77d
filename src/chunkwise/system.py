"""How many cores this process may really use: the default number of workers.

``os.cpu_count()`` counts the machine's cores, not the ones this process is
allowed to run on. Under ``taskset``, a CPU set in a container, or a CPU quota
(Kubernetes' ``limits.cpu``, ``docker run --cpus``), a pool sized by it starts
more threads than cores, and they take turns. :func:`cpu_count` is the smallest
of three readings, each skipped where the platform does not offer it:

- the machine's cores, ``os.cpu_count()``;
- the cores this process may be scheduled on, ``os.sched_getaffinity(0)``;
- the CPU quota of its cgroup, rounded up: ``cpu.max`` (cgroup v2) or
  ``cpu.cfs_quota_us / cpu.cfs_period_us`` (cgroup v1); none when unlimited.

It is read once, at first use, and cached (the readings are system calls and
file reads; they do not change under a running process in practice).
``chunkwise.config.set(num_workers=...)`` still overrides it everywhere.

>>> cpu_count() >= 1
True
>>> quota_cores("max 100000"), quota_cores("150000 100000"), quota_cores("50000 100000")
(None, 2, 1)
"""

from __future__ import annotations

import functools
import math
import os

__all__ = ["cpu_count", "quota_cores"]

CGROUP_V2_MAX = "/sys/fs/cgroup/cpu.max"
CGROUP_V1_QUOTA = "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"
CGROUP_V1_PERIOD = "/sys/fs/cgroup/cpu/cpu.cfs_period_us"


def quota_cores(text: str) -> int | None:
    """Cores allowed by a cgroup quota written as ``"QUOTA PERIOD"``, rounded up; ``None``
    when unlimited (``max`` or a negative quota) or unreadable."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return None


def _cgroup_cores() -> int | None:
    text = _read(CGROUP_V2_MAX)
    if text is not None:
        return quota_cores(text)
    quota, period = _read(CGROUP_V1_QUOTA), _read(CGROUP_V1_PERIOD)
    if quota is not None and period is not None:
        return quota_cores(f"{quota} {period}")
    return None


@functools.cache
def cpu_count() -> int:
    """The cores this process may use: the fewest of the machine's, its affinity's and its
    cgroup quota's (see the module's docstring)."""
    counts = [os.cpu_count() or 1]
    if hasattr(os, "sched_getaffinity"):
        counts.append(len(os.sched_getaffinity(0)) or counts[0])
    quota = _cgroup_cores()
    if quota is not None:
        counts.append(quota)
    return max(1, min(counts))
