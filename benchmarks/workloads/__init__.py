"""Workload definitions, one module per family.

Each module registers its workloads with :func:`benchmarks.registry.workload`
when imported. Add a new module's name to ``MODULES`` to include it in the suite.
Modules must not import chunkwise, dask, numpy or pandas at the top level: the
implementations import what they need, so a broken import fails one cell of the
table, not the whole run.
"""

MODULES = [
    "foundation", "delayed", "arrays", "arrays_ops", "arrays_linalg", "arrays_rewrites",
    "arrays_io", "dataframes",
    "dataframes_shuffle", "dataframes_joins", "ml",
    "cluster",
]
