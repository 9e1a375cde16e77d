"""Benchmarks: chunkwise against Dask (and NumPy/pandas) on the same workloads.

Run them all with ``python -m benchmarks``; see ``docs/benchmarks.md``.
"""
