"""Whole zarr chunks of a local array, read straight into their blocks and written straight from them.

zarr-python reads a chunk through three fresh buffers: the file's bytes, the
decoded chunk, and the output array it copies the chunk into; and it hops
from the calling thread to its event loop and on to its own thread pool and
back. Where fresh memory is dear (a VM that hands freed pages back to its
host pays a fault per page on next use), the first read of a large array
spends more time faulting pages in than decoding them.

:func:`chunk_reader` wraps a zarr array when every chunk can be read by hand
exactly as zarr would read it: a zarr v3 array in a ``LocalStore``, not
sharded, no storage transformers, codecs ``bytes`` (native byte order) and
optionally ``blosc`` or ``zstd`` (zarr 3's default), a fixed-size numeric dtype. For a block that is exactly
one chunk (what :func:`~chunkwise.array.io.zarr_io.from_zarr` asks for by
default) :class:`ChunkReader` reads the chunk file into a buffer that its
thread keeps for the next chunk, and decodes it directly into the new block
(an uncompressed chunk is read into the block itself). A chunk whose file is
missing reads as the fill value, as in zarr. Any other region is read by
zarr itself; either way the values are zarr's.

:class:`ChunkWriter` is the same by hand for writing, for the array that
``to_zarr`` builds under a hidden name: a block of one whole chunk is
encoded with the array's own Blosc settings (the bytes zarr would write) on
the calling thread and written to its chunk file in place.

>>> import numpy as np, os, tempfile, zarr
>>> path = os.path.join(tempfile.mkdtemp(), "x.zarr")
>>> z = zarr.create_array(store=path, shape=(5, 4), chunks=(2, 4), dtype="f8",
...                       compressors=zarr.codecs.BloscCodec())
>>> z[:4] = np.arange(16.0).reshape(4, 4)
>>> reader = chunk_reader(zarr.open_array(path, mode="r"))
>>> reader[2:4, 0:4].tolist(), reader[4:5, 0:4].tolist(), reader[1:3, 1:2].ravel().tolist()
([[8.0, 9.0, 10.0, 11.0], [12.0, 13.0, 14.0, 15.0]], [[0.0, 0.0, 0.0, 0.0]], [5.0, 9.0])
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["ChunkReader", "ChunkWriter", "chunk_reader", "chunk_writer"]


def _plain_codecs(z: Any) -> str | None:
    """``"blosc"``, ``"zstd"`` or ``"raw"``: ``z``'s chunks are native-order bytes (then Blosc or Zstandard)."""
    from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec

    codecs = tuple(getattr(z.metadata, "codecs", ()))
    if not codecs or not isinstance(codecs[0], BytesCodec):
        return None
    endian = codecs[0].endian
    if endian is not None and getattr(endian, "value", endian) != sys.byteorder:
        return None
    if len(codecs) == 1:
        return "raw"
    if len(codecs) == 2 and isinstance(codecs[1], BloscCodec):
        return "blosc"
    if len(codecs) == 2 and isinstance(codecs[1], ZstdCodec):
        return "zstd"
    return None


def _plain_layout(z: Any) -> tuple[str, str] | None:
    """``(codec, root)`` when :class:`ChunkReader` and :class:`ChunkWriter` can handle ``z``, else ``None``."""
    try:
        from zarr.storage import LocalStore
    except ImportError:  # pragma: no cover - zarr without LocalStore
        return None
    try:
        if z.metadata.zarr_format != 3 or not isinstance(z.store, LocalStore):
            return None
        if z.shards is not None or tuple(getattr(z.metadata, "storage_transformers", ()) or ()):
            return None
        dtype = np.dtype(z.dtype)
        if dtype.kind not in "biufcmM" or not dtype.isnative or getattr(z, "order", "C") != "C":
            return None
        codec = _plain_codecs(z)
        if codec is None or z.ndim == 0 or 0 in tuple(z.shape):
            return None
        return codec, os.path.abspath(os.fspath(z.store.root))
    except Exception:  # an unusual array or metadata: leave it to zarr
        return None


def chunk_reader(z: Any) -> ChunkReader | None:
    """A :class:`ChunkReader` of the zarr array ``z``, or ``None`` where zarr must read it itself."""
    layout = _plain_layout(z)
    return None if layout is None else ChunkReader(z, *layout)


def chunk_writer(z: Any) -> ChunkWriter | None:
    """A :class:`ChunkWriter` of the zarr array ``z``, or ``None`` where zarr must write it itself."""
    layout = _plain_layout(z)
    if layout is None:
        return None
    codec, root = layout
    options = None
    if codec == "zstd":
        return None  # written by zarr (read by hand)
    if codec == "blosc":
        blosc = z.metadata.codecs[1]
        shuffle = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}.get(getattr(blosc.shuffle, "value", None))
        if shuffle is None or not blosc.typesize:
            return None
        options = (blosc.cname.value.encode(), int(blosc.clevel), shuffle, int(blosc.blocksize), int(blosc.typesize))
    return ChunkWriter(z, codec, root, options)


class _Chunks:
    """The chunk grid and chunk files of a plain local zarr array (``array``)."""

    def __init__(self, array: Any, codec: str, root: str):
        self.array = array
        self.codec = codec
        self.root = root
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(int(c) for c in array.chunks)
        self.store_path = array.store_path
        self._prefix = [part for part in str(array.path).split("/") if part]

    def _chunk_of(self, slices: Any) -> tuple | None:
        """The chunk coordinates if ``slices`` is exactly one chunk (cut at the array's edge)."""
        if not isinstance(slices, tuple) or len(slices) != self.ndim:
            return None
        coords = []
        for s, n, c in zip(slices, self.shape, self.chunks):
            if not isinstance(s, slice) or s.step not in (None, 1):
                return None
            start, stop = s.start, s.stop
            if not isinstance(start, int) or not isinstance(stop, int) or start % c:
                return None
            if stop != min(start + c, n) or start >= n:
                return None
            coords.append(start // c)
        return tuple(coords)

    def _path(self, coords: tuple) -> str:
        key = self.array.metadata.encode_chunk_key(coords)
        return os.path.join(self.root, *self._prefix, *key.split("/"))


class ChunkReader(_Chunks):
    """``array[slices]`` that reads a block of exactly one chunk by hand (see the module docstring).

    ``codec`` is ``"blosc"``, ``"zstd"`` or ``"raw"``, ``root`` the directory of the
    store. It has the ``shape``, ``dtype``, ``ndim``, ``chunks`` and
    ``store_path`` of the zarr array (``array``). Each thread keeps its own
    read buffer (:meth:`_buffer`), freed with the reader.
    """

    def __init__(self, array: Any, codec: str, root: str):
        super().__init__(array, codec, root)
        self._local = threading.local()

    def __reduce__(self):
        return (ChunkReader, (self.array, self.codec, self.root))

    def __repr__(self) -> str:
        return f"<ChunkReader of {self.store_path} ({self.codec})>"

    def __getitem__(self, slices: Any) -> Any:
        coords = self._chunk_of(slices)
        if coords is None:
            return self.array[slices]
        return self._read_chunk(coords, tuple(s.stop - s.start for s in slices))

    def _buffer(self, name: str, nbytes: int) -> memoryview:
        """This thread's buffer ``name``, at least ``nbytes`` long (kept for the next chunk)."""
        buffer = getattr(self._local, name, None)
        if buffer is None or len(buffer) < nbytes:
            buffer = bytearray(nbytes)
            setattr(self._local, name, buffer)
        return memoryview(buffer)[:nbytes]

    def _decoded(self, full: bool) -> np.ndarray:
        """Where a whole chunk is decoded: a new block, or this thread's buffer for an edge block."""
        if full:
            return np.empty(self.chunks, self.dtype)
        nbytes = int(np.prod(self.chunks)) * self.dtype.itemsize
        return np.frombuffer(self._buffer("decoded", nbytes), self.dtype).reshape(self.chunks)

    def _read_chunk(self, coords: tuple, shape: tuple) -> np.ndarray:
        try:
            file = open(self._path(coords), "rb", buffering=0)  # noqa: SIM115 - closed below
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):  # as zarr's LocalStore: no chunk
            return np.full(shape, self.array.fill_value, dtype=self.dtype)
        full = shape == self.chunks
        with file:
            size = os.fstat(file.fileno()).st_size
            decoded = self._decoded(full)
            raw = memoryview(decoded.reshape(-1).view(np.uint8))
            if self.codec == "raw":
                _read_into(file, raw, size, len(raw))
            else:
                data = self._buffer("encoded", size)
                _read_into(file, data, size, size)
                (_blosc_decompress if self.codec == "blosc" else _zstd_decompress)(data, raw)
        return decoded if full else decoded[tuple(slice(0, n) for n in shape)].copy()


class ChunkWriter(_Chunks):
    """Writes a block that is exactly one whole chunk straight to its chunk file, encoded as zarr encodes it.

    Only for an array that no one reads before the write completes (the one
    :func:`~chunkwise.array.io.zarr_io.to_zarr` builds under a hidden name):
    the file is written in place, where zarr writes each chunk under a
    temporary name and renames it, because the whole array is renamed into
    place once every block has landed. ``options`` are Blosc's ``(cname,
    clevel, shuffle, blocksize, typesize)`` from the array's codec.
    Encoding and writing run on the calling thread (zarr hands a chunk to
    its event loop, then to its thread pool, twice).
    """

    def __init__(self, array: Any, codec: str, root: str, options: tuple | None):
        super().__init__(array, codec, root)
        self.options = options
        self._local = threading.local()

    def _contiguous(self, block: np.ndarray) -> np.ndarray:
        """A C-contiguous copy of ``block`` in this thread's buffer (kept for the next block)."""
        scratch = getattr(self._local, "block", None)
        if scratch is None or scratch.shape != block.shape or scratch.dtype != block.dtype:
            scratch = self._local.block = np.empty(block.shape, block.dtype)
        np.copyto(scratch, block)
        return scratch

    def __reduce__(self):
        return (ChunkWriter, (self.array, self.codec, self.root, self.options))

    def __repr__(self) -> str:
        return f"<ChunkWriter of {self.store_path} ({self.codec})>"

    def write(self, slices: Any, block: np.ndarray) -> bool:
        """Write ``block`` if it is one whole chunk of the array's dtype; whether it was written."""
        coords = self._chunk_of(slices)
        if coords is None or block.shape != self.chunks or block.dtype != self.dtype:
            return False
        if not getattr(self._local, "primed", False):
            _raise_mmap_threshold(block.nbytes + (1 << 16))
            self._local.primed = True
        data = block if block.flags.c_contiguous else self._contiguous(block)
        if self.codec == "raw":
            payload: Any = memoryview(data.reshape(-1).view(np.uint8))
        else:
            from numcodecs import blosc

            cname, clevel, shuffle, blocksize, typesize = self.options or ()
            payload = blosc.compress(data, cname, clevel, shuffle, blocksize, typesize)
        path = self._path(coords)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as file:
            file.write(payload)
        return True


def _raise_mmap_threshold(nbytes: int) -> None:
    """Let this process's ``malloc`` serve blocks of up to ``nbytes`` from its heap, reused, not mapped anew.

    Blosc's output (a new ``bytes`` per chunk, shrunk to the compressed size)
    would otherwise be a fresh ``mmap`` every time: glibc maps blocks above its
    threshold, and raises the threshold only to the size of a mapped block
    when one is freed (``mallopt(3)``, "dynamic mmap threshold"), here the
    shrunk, smaller one. Freeing one untouched block of ``nbytes`` raises it
    at once (it costs no page faults). Elsewhere it is a harmless allocation.
    """
    np.empty(nbytes, np.uint8)


def _read_into(file: Any, target: memoryview, size: int, expected: int) -> None:
    """Fill ``target`` with the ``size`` bytes of ``file``, which must be ``expected`` bytes long."""
    if size != expected:
        raise ValueError(f"zarr chunk {file.name} holds {size} bytes, not {expected} (is the array damaged?)")
    done = 0
    while done < size:
        n = file.readinto(target[done:])
        if not n:
            raise ValueError(f"zarr chunk {file.name} ended after {done} of {size} bytes (rewritten meanwhile?)")
        done += n


def _blosc_decompress(data: memoryview, out: memoryview) -> None:
    """Decode the Blosc frame ``data`` into ``out``, which must be exactly its decoded size.

    The size is bytes 4-7 of the frame's header (little-endian), in every Blosc 1 version.
    """
    from numcodecs import blosc

    nbytes = int.from_bytes(data[4:8], "little") if len(data) >= 16 else -1
    if nbytes != len(out):
        raise ValueError(f"a Blosc chunk decodes to {nbytes} bytes, not the {len(out)} of a zarr chunk")
    blosc.decompress(data, out)


def _zstd_content_size(data: memoryview) -> int | None:
    """The decoded size a Zstandard frame's header declares (RFC 8878, 3.1.1.1), or ``None``."""
    if len(data) < 6 or bytes(data[:4]) != b"\x28\xb5\x2f\xfd":
        return None
    descriptor = data[4]
    single_segment = (descriptor >> 5) & 1
    start = 5 + (0 if single_segment else 1) + (0, 1, 2, 4)[descriptor & 3]
    width = (single_segment, 2, 4, 8)[descriptor >> 6]
    if not width or len(data) < start + width:
        return None
    size = int.from_bytes(data[start:start + width], "little")
    return size + 256 if width == 2 else size


def _zstd_decompress(data: memoryview, out: memoryview) -> None:
    """Decode the Zstandard frame ``data`` into ``out``, which must be exactly its decoded size.

    A frame that does not declare its size must fill ``out`` exactly (numcodecs checks it).
    """
    from numcodecs import zstd

    nbytes = _zstd_content_size(data)
    if nbytes is not None and nbytes != len(out):
        raise ValueError(f"a Zstandard chunk decodes to {nbytes} bytes, not the {len(out)} of a zarr chunk")
    zstd.decompress(data, out)
