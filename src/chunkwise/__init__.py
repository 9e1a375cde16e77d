"""chunkwise: lazy chunked arrays, dataframes and delayed functions on data larger than memory."""

__version__ = "0.1.0"
