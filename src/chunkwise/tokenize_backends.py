"""Token normalizers for NumPy, pandas and pyarrow objects.

The core (:mod:`chunkwise.core.tokenize`) may not import these libraries, so
their normalizers live here. Importing this module imports none of them: it
only registers, by top-level module name, loaders that run the first time an
object of that library is tokenized.

Policy (see ``docs/tokenize.md``):

- ``ndarray``: by content -- dtype, shape and the bytes of its C-ordered copy,
  so a view and a copy with equal values get the same token; contiguous
  arrays are hashed in place, other ones in blocks of bounded size. Object and
  string (``StringDType``) arrays: by the tokens of their items. Arrays with a
  zero stride (``broadcast_to``) are hashed as their non-repeated data plus
  shape, not as the repeated content.
- ``np.memmap`` backed by a file: by file name, offset of the view in the file,
  shape, strides, dtype, mode, and the file's modification time and size --
  not by content, so tokenizing never reads a large file.
- pandas objects: ``pd.util.hash_pandas_object`` of the values, plus dtypes,
  names and index.
- pyarrow tables and arrays: the bytes of their IPC stream.

>>> import numpy as np
>>> from chunkwise.core.tokenize import tokenize
>>> x = np.arange(12).reshape(3, 4)
>>> tokenize(x[:, ::2]) == tokenize(x[:, ::2].copy())
True
>>> tokenize(x) == tokenize(x.astype("int32"))
False
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from chunkwise.core.tokenize import content_hash, normalize_token

__all__ = ["register_lazily", "register_numpy", "register_pandas", "register_pyarrow"]

#: Non-contiguous arrays are copied to C order this many bytes at a time.
_BLOCK_BYTES = 64 * 2**20


def register_numpy() -> None:
    """Register normalizers for NumPy arrays, scalars, dtypes, ufuncs and RNGs."""
    import numpy as np

    def dtype_token(dtype: np.dtype) -> tuple:
        return (dtype.str, repr(dtype))

    def array_digest(x: np.ndarray) -> str:
        h = content_hash()
        if x.flags.c_contiguous:
            h.update(x.reshape(-1).view(np.uint8))
        else:  # C-ordered copies of row blocks: same bytes as the whole copy
            row_bytes = max(x[:1].nbytes, 1)
            step = max(1, _BLOCK_BYTES // row_bytes)
            for start in range(0, x.shape[0], step):
                block = np.ascontiguousarray(x[start : start + step])
                h.update(block.reshape(-1).view(np.uint8))
        return h.hexdigest()

    def memmap_token(x: np.memmap) -> tuple | None:
        filename = getattr(x, "filename", None)
        if not filename:
            return None
        root = x
        while isinstance(root.base, np.ndarray):
            root = root.base
        if not isinstance(root, np.memmap):
            return None
        data = x.__array_interface__["data"][0]
        root_data = root.__array_interface__["data"][0]
        offset = root.offset + (data - root_data)
        try:
            stat = os.stat(filename)
        except OSError:
            return None
        return (
            "memmap",
            os.fspath(filename),
            offset,
            x.shape,
            x.strides,
            dtype_token(x.dtype),
            x.mode,
            stat.st_mtime_ns,
            stat.st_size,
        )

    @normalize_token.register(np.ndarray)
    def normalize_array(x: np.ndarray) -> tuple:
        if isinstance(x, np.memmap):
            token = memmap_token(x)
            if token is not None:
                return token
        dtype = dtype_token(x.dtype)
        if x.dtype.hasobject or x.dtype.kind == "T":
            items = normalize_token(x.ravel().tolist())
            return (dtype, x.shape, "items", content_hash(ascii(items).encode()).hexdigest())
        if x.size and 0 in x.strides:  # broadcast: hash the data once, not each repeat
            index = tuple(0 if s == 0 else slice(None) for s in x.strides)
            return (dtype, x.shape, "broadcast", array_digest(x[index]))
        return (dtype, x.shape, array_digest(x))

    @normalize_token.register(np.ma.MaskedArray)
    def normalize_masked_array(x: np.ma.MaskedArray) -> tuple:
        return (
            normalize_array(x.data),
            normalize_array(np.ma.getmaskarray(x)),
            normalize_token(x.fill_value),
        )

    @normalize_token.register(np.generic)
    def normalize_scalar(x: np.generic) -> tuple:
        if x.dtype.hasobject:
            return normalize_array(np.asarray(x))
        return (dtype_token(x.dtype), x.tobytes())

    @normalize_token.register(np.dtype)
    def normalize_dtype(dtype: np.dtype) -> tuple:
        return dtype_token(dtype)

    @normalize_token.register(np.ufunc)
    def normalize_ufunc(ufunc: np.ufunc) -> tuple:
        return (getattr(ufunc, "__module__", None), ufunc.__name__)

    @normalize_token.register(np.random.Generator)
    def normalize_generator(g: np.random.Generator) -> Any:
        return normalize_token(g.bit_generator.state)

    @normalize_token.register(np.random.BitGenerator)
    def normalize_bit_generator(g: np.random.BitGenerator) -> Any:
        return normalize_token(g.state)

    @normalize_token.register(np.random.RandomState)
    def normalize_random_state(r: np.random.RandomState) -> Any:
        return normalize_token(r.get_state())


def register_pandas() -> None:
    """Register normalizers for pandas containers, arrays, dtypes and scalars."""
    import numpy as np
    import pandas as pd
    from pandas.api.extensions import ExtensionArray, ExtensionDtype
    from pandas.api.types import is_object_dtype

    def digest(hashes: Any) -> str:
        return content_hash(np.ascontiguousarray(np.asarray(hashes, dtype=np.uint64))).hexdigest()

    def hashable_by_pandas(obj: Any) -> bool:
        """Whether hash_pandas_object hashes ``obj`` without collisions: it hashes
        object columns holding anything but strings by their ``str()``."""
        if isinstance(obj, pd.MultiIndex):
            return all(hashable_by_pandas(level) for level in obj.levels)
        if isinstance(obj, pd.DataFrame):
            return not any(map(is_object_dtype, obj.dtypes)) or all(
                hashable_by_pandas(obj.iloc[:, i]) for i in range(obj.shape[1])
            )
        if not is_object_dtype(obj.dtype):
            return True
        return pd.api.types.infer_dtype(obj, skipna=True) in ("string", "empty")

    def values_digest(obj: Any) -> Any:
        """Row hashes of a Series/DataFrame (index excluded) or an Index."""
        if hashable_by_pandas(obj):
            with contextlib.suppress(TypeError, ValueError):
                if isinstance(obj, pd.Index):
                    return digest(pd.util.hash_pandas_object(obj))
                return digest(pd.util.hash_pandas_object(obj, index=False))
        # mixed or unhashable objects (1 and "1", lists...): tokenize the items
        return normalize_token(np.asarray(obj, dtype=object))

    def dtype_token(dtype: Any) -> Any:
        return normalize_token(dtype)

    @normalize_token.register(pd.RangeIndex)
    def normalize_range_index(index: pd.RangeIndex) -> tuple:
        return (index.start, index.stop, index.step, normalize_token(index.name))

    @normalize_token.register(pd.MultiIndex)
    def normalize_multi_index(index: pd.MultiIndex) -> tuple:
        return (
            normalize_token(list(index.names)),
            tuple(dtype_token(level.dtype) for level in index.levels),
            len(index),
            values_digest(index),
        )

    @normalize_token.register(pd.Index)
    def normalize_index(index: pd.Index) -> tuple:
        return (
            normalize_token(index.name),
            dtype_token(index.dtype),
            len(index),
            values_digest(index),
        )

    @normalize_token.register(pd.Series)
    def normalize_series(s: pd.Series) -> tuple:
        return (
            normalize_token(s.name),
            dtype_token(s.dtype),
            normalize_token(s.index),
            len(s),
            values_digest(s),
        )

    @normalize_token.register(pd.DataFrame)
    def normalize_dataframe(df: pd.DataFrame) -> tuple:
        return (
            normalize_token(df.columns),
            tuple(dtype_token(dtype) for dtype in df.dtypes),
            normalize_token(df.index),
            df.shape,
            values_digest(df) if df.shape[1] else None,
        )

    @normalize_token.register(pd.Categorical)
    def normalize_categorical(c: pd.Categorical) -> tuple:
        return (dtype_token(c.dtype), normalize_token(c.codes))

    @normalize_token.register(ExtensionArray)
    def normalize_extension_array(a: ExtensionArray) -> tuple:
        return (dtype_token(a.dtype), len(a), values_digest(pd.Series(a, copy=False)))

    @normalize_token.register(pd.CategoricalDtype)
    def normalize_categorical_dtype(dtype: pd.CategoricalDtype) -> tuple:
        categories = None if dtype.categories is None else normalize_token(dtype.categories)
        return (categories, dtype.ordered)

    @normalize_token.register(ExtensionDtype)
    def normalize_extension_dtype(dtype: ExtensionDtype) -> tuple:
        return (str(dtype), repr(dtype))

    def tz_token(tz: Any) -> Any:
        return None if tz is None else str(tz)

    @normalize_token.register(pd.Timestamp)
    def normalize_timestamp(ts: pd.Timestamp) -> tuple:
        value = ts.asm8
        return (str(value.dtype), int(value.view("i8")), tz_token(ts.tz))

    @normalize_token.register(pd.Timedelta)
    def normalize_timedelta(td: pd.Timedelta) -> tuple:
        value = td.asm8
        return (str(value.dtype), int(value.view("i8")))

    @normalize_token.register(pd.Period)
    def normalize_period(p: pd.Period) -> tuple:
        return (p.ordinal, p.freqstr)

    @normalize_token.register((type(pd.NaT), type(pd.NA)))
    def normalize_missing(x: Any) -> str:
        return repr(x)


def register_pyarrow() -> None:
    """Register normalizers for pyarrow tables, batches, arrays, schemas and types."""
    import pyarrow as pa

    def ipc_digest(schema: pa.Schema, batches: list[pa.RecordBatch]) -> str:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
        return content_hash(sink.getvalue()).hexdigest()

    @normalize_token.register(pa.Table)
    def normalize_table(t: pa.Table) -> str:
        return ipc_digest(t.schema, t.combine_chunks().to_batches())

    @normalize_token.register(pa.RecordBatch)
    def normalize_record_batch(b: pa.RecordBatch) -> str:
        return ipc_digest(b.schema, [b])

    @normalize_token.register(pa.ChunkedArray)
    def normalize_chunked_array(a: pa.ChunkedArray) -> str:
        return normalize_array(a.combine_chunks())

    @normalize_token.register(pa.Array)
    def normalize_array(a: pa.Array) -> str:
        batch = pa.record_batch([a], names=["_"])
        return ipc_digest(batch.schema, [batch])

    @normalize_token.register(pa.Schema)
    def normalize_schema(s: pa.Schema) -> str:
        return content_hash(s.serialize()).hexdigest()

    @normalize_token.register(pa.DataType)
    def normalize_data_type(t: pa.DataType) -> str:
        return normalize_schema(pa.schema([pa.field("_", t)]))


def register_lazily() -> None:
    """Register the three loaders by top-level module name (imports none of the libraries)."""
    normalize_token.register_lazy("numpy", register_numpy)
    normalize_token.register_lazy("pandas", register_pandas)
    normalize_token.register_lazy("pyarrow", register_pyarrow)


register_lazily()
