"""The cost of converting chunkwise graphs to ``distributed``'s format, per task.

    python -m benchmarks.convert_cost

Converts ~10^5-task graphs with :func:`chunkwise.distributed.to_dask_graph`
seven times each and prints the minimum and median CPU time per task: an
unfused graph of simple tasks and three fused array graphs (nested tasks).
The distributed issue's target is under 5 µs per task. Dask has no
counterpart step (its graphs are already in that format), so there is no
side-by-side column; the cluster workloads compare end to end.
"""

from __future__ import annotations

import time
from operator import add


def graphs() -> list:
    import chunkwise.array as da
    from chunkwise.core.graph import Ref, Task

    pairs = {("a", i): Task(("a", i), add, i, 1) for i in range(100_000)}
    pairs.update({("b", i): Task(("b", i), add, Ref(("a", i)), 1) for i in range(100_000)})
    x = da.ones((31_600, 31_600), chunks=100)
    r = da.random.random((31_600, 31_600), chunks=100)
    return [
        ("unfused: 100,000 pairs inc -> inc", pairs),
        ("x + x.T (fused)", (x + x.T).__chunkwise_graph__()),
        ("(x + x.T).sum() (fused)", (x + x.T).sum().__chunkwise_graph__()),
        ("random.mean(axis=0) (fused)", r.mean(axis=0).__chunkwise_graph__()),
    ]


def main() -> None:
    from chunkwise.distributed import to_dask_graph

    for name, graph in graphs():
        times = []
        for _ in range(7):
            start = time.process_time()
            to_dask_graph(graph)
            times.append(time.process_time() - start)
        times.sort()
        per = [t / len(graph) * 1e6 for t in (times[0], times[3])]
        print(f"{name:36s} {len(graph):7d} tasks: min {per[0]:.2f}, median {per[1]:.2f} µs/task (CPU)")


if __name__ == "__main__":
    main()
