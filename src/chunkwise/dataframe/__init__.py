"""``chunkwise.dataframe``: pandas on row partitions, larger than memory.

Use it as ``import chunkwise.dataframe as dd``; the names follow pandas and
``dask.dataframe``. See ``docs/dataframe.md`` for the user guide.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> df = dd.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), npartitions=2)
>>> df[df.x > 1].x.compute().tolist()
[2, 3]
"""

from chunkwise.dataframe.asof import merge_asof
from chunkwise.dataframe.concatenation import concat
from chunkwise.dataframe.core import DataFrame, Index, Scalar, Series, new_collection
from chunkwise.dataframe.groupby import Aggregation
from chunkwise.dataframe.io.csv import read_csv, to_csv
from chunkwise.dataframe.io.json import read_json, to_json
from chunkwise.dataframe.io.pandas import (
    from_array,
    from_delayed,
    from_dict,
    from_futures,
    from_map,
    from_pandas,
    to_dask_array,
    to_delayed,
)
from chunkwise.dataframe.io.parquet import read_parquet, to_parquet
from chunkwise.dataframe.joins import merge
from chunkwise.dataframe.methods import map_partitions, to_datetime, to_numeric
from chunkwise.dataframe.testing import assert_eq

__all__ = [
    "Aggregation",
    "DataFrame",
    "Index",
    "Scalar",
    "Series",
    "assert_eq",
    "concat",
    "from_array",
    "from_delayed",
    "from_dict",
    "from_futures",
    "from_map",
    "from_pandas",
    "map_partitions",
    "merge",
    "merge_asof",
    "new_collection",
    "read_csv",
    "read_json",
    "read_parquet",
    "to_csv",
    "to_datetime",
    "to_dask_array",
    "to_delayed",
    "to_json",
    "to_numeric",
    "to_parquet",
]
