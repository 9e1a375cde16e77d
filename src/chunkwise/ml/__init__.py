"""``chunkwise.ml``: scikit-learn-style training on chunked arrays and dataframes.

The estimators keep scikit-learn's API (``fit``/``predict``/``transform``,
fitted attributes as NumPy arrays) and read their chunked inputs in passes:
each optimizer step is one pass over the chunks, a per-chunk partial result
followed by a tree reduction. Submodules: ``datasets``, ``model_selection``,
``preprocessing``, ``linear_model``, ``cluster``, ``decomposition``,
``metrics``, ``wrappers``; import them as ``chunkwise.ml.<name>``.
"""

__all__: list[str] = []
