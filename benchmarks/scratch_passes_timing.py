"""Scratch timing: chunkwise.core.passes (cull, order, fuse_linear) vs dask on the same shapes.

Run: python benchmarks/scratch_passes_timing.py
Each pass is timed best-of-3 on a ~100,000-task graph; dask gets the same graph
as a legacy tuple graph {key: (func, *args)}.
"""

from __future__ import annotations

import gc
import time

from chunkwise.core.graph import Ref, Task
from chunkwise.core.passes import cull, fuse_linear, order


def inc(x):
    return x + 1


def load(i):
    return i


def total(*xs):
    return sum(xs)


def tree(nodes, fanin, name):
    """nodes: list of (chunkwise key). Returns edges: list of (key, [child keys]) up to one root."""
    level = 0
    out = []
    while len(nodes) > 1:
        nxt = []
        for j in range(0, len(nodes), fanin):
            k = (name, level, j // fanin)
            out.append((k, nodes[j : j + fanin]))
            nxt.append(k)
        nodes = nxt
        level += 1
    return out, nodes[0]


def shape(kind):
    """Return (chunkwise graph, dask graph, root key)."""
    cw, dk = {}, {}
    if kind == "tree 50k leaves, fan-in 2":
        leaves = [("x", i) for i in range(50_000)]
        for i, k in enumerate(leaves):
            cw[k] = Task(k, load, i)
            dk[k] = (load, i)
        edges, root = tree(leaves, 2, "sum")
    elif kind == "100k independent + fan-in 16 sum":
        leaves = [("x", i) for i in range(100_000)]
        for i, k in enumerate(leaves):
            cw[k] = Task(k, load, i)
            dk[k] = (load, i)
        edges, root = tree(leaves, 16, "sum")
    elif kind == "25k chains of 4 + fan-in 8 sum":
        leaves = []
        for i in range(25_000):
            cw[("a", i)] = Task(("a", i), load, i)
            dk[("a", i)] = (load, i)
            for prev, name in (("a", "b"), ("b", "c"), ("c", "d")):
                cw[(name, i)] = Task((name, i), inc, Ref((prev, i)))
                dk[(name, i)] = (inc, (prev, i))
            leaves.append(("d", i))
        edges, root = tree(leaves, 8, "sum")
    elif kind == "linear chain 100k":
        cw[("c", 0)] = Task(("c", 0), load, 0)
        dk[("c", 0)] = (load, 0)
        for i in range(1, 100_000):
            cw[("c", i)] = Task(("c", i), inc, Ref(("c", i - 1)))
            dk[("c", i)] = (inc, ("c", i - 1))
        return cw, dk, ("c", 99_999)
    for k, children in edges:
        cw[k] = Task(k, total, *[Ref(c) for c in children])
        dk[k] = (total, *children)
    return cw, dk, root


def best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    import warnings

    from dask.optimization import cull as dcull
    from dask.optimization import fuse as dfuse
    from dask.optimization import fuse_linear as dfuse_linear
    from dask.order import order as dorder

    warnings.simplefilter("ignore")
    kinds = [
        "tree 50k leaves, fan-in 2",
        "100k independent + fan-in 16 sum",
        "25k chains of 4 + fan-in 8 sum",
        "linear chain 100k",
    ]
    for kind in kinds:
        run_kind(kind, cull_d=dcull, order_d=dorder, fuse_d=dfuse, fuse_linear_d=dfuse_linear)


def run_kind(kind, cull_d, order_d, fuse_d, fuse_linear_d):
    cw, dk, root = shape(kind)
    keys = [root]
    c_graph, c_deps = cull(cw, keys)
    d_graph, d_deps = cull_d(dk, keys)
    t = {
        "cull": (best(lambda: cull(cw, keys)), best(lambda: cull_d(dk, keys))),
        "order": (
            best(lambda: order(c_graph, c_deps)),
            best(lambda: order_d(d_graph, dependencies=d_deps)),
        ),
        "fuse": (
            best(lambda: fuse_linear(c_graph, keys, c_deps)),
            best(lambda: fuse_d(d_graph, keys, dependencies=d_deps)),
        ),
    }
    d_fl = best(lambda: fuse_linear_d(d_graph, keys, dependencies=d_deps))
    print(f"\n{kind}: {len(cw):,} tasks")
    tot_c = tot_d = 0.0
    for name, (tc, td) in t.items():
        tot_c += tc
        tot_d += td
        print(
            f"  {name:6s} chunkwise {tc * 1e3:8.1f} ms   dask {td * 1e3:8.1f} ms   ratio {tc / td:5.2f}"
        )
    print(f"  (dask fuse_linear alone: {d_fl * 1e3:.1f} ms)")
    print(
        f"  total  chunkwise {tot_c * 1e3:8.1f} ms   dask {tot_d * 1e3:8.1f} ms   ratio {tot_c / tot_d:5.2f}"
    )
    fused = fuse_linear(c_graph, keys, c_deps)
    print(f"  fused graph: {len(fused):,} tasks (from {len(c_graph):,})")


if __name__ == "__main__":
    main()
