"""Storage: store, zarr, npy stacks, HDF5, and blocks as Delayed values."""

from __future__ import annotations

import os
import pickle
import threading

import numpy as np
import pytest

import chunkwise
import chunkwise.array as da
from chunkwise.array.core import Array
from chunkwise.array.expr import FromArray
from chunkwise.array.io import SerializableLock
from chunkwise.array.testing import assert_eq
from chunkwise.delayed import Delayed, delayed


def _unknown(a: np.ndarray) -> Array:
    """An array whose first-axis block lengths are unknown (for build-time errors only)."""
    return Array(FromArray(a, ((np.nan, np.nan),) + tuple((s,) for s in a.shape[1:]), None, "unknown-x"))


A = np.arange(35.0).reshape(5, 7)
UNEVEN = ((2, 0, 3), (1, 4, 2))


# --- store --------------------------------------------------------------------------


def test_store_round_trip(scheduler):
    x = da.from_array(A, chunks=UNEVEN)
    out = np.zeros_like(A)
    assert da.store(x, out, scheduler=scheduler) is None
    np.testing.assert_array_equal(out, A)


def test_store_method_forwards():
    x = da.from_array(A, chunks=2)
    out = np.zeros_like(A)
    x.store(out)
    np.testing.assert_array_equal(out, A)


@pytest.mark.parametrize(
    ("region", "target_shape"),
    [
        ((slice(1, 6), slice(2, 9)), (10, 9)),
        ((slice(1, 6),), (8, 7)),
        ((slice(0, 10, 2), slice(None, None, -1)), (10, 7)),
        ((slice(None, None, -1), slice(1, 8)), (5, 9)),
        (slice(3, 8), (8, 7)),
    ],
)
def test_store_regions(region, target_shape):
    x = da.from_array(A, chunks=UNEVEN)
    target = np.full(target_shape, -1.0)
    expected = target.copy()
    expected[region] = A
    da.store(x, target, regions=region)
    np.testing.assert_array_equal(target, expected)


def test_store_several_sources_and_regions():
    x = da.from_array(np.arange(6), chunks=4)
    y = da.from_array(np.arange(4) * 10, chunks=3)
    t1, t2 = np.zeros(8, int), np.zeros(4, int)
    da.store([x, y], [t1, t2], regions=[(slice(2, 8),), None])
    np.testing.assert_array_equal(t1, [0, 0, 0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(t2, [0, 10, 20, 30])


class CountingLock:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def __enter__(self):
        self.lock.acquire()
        self.count += 1
        return self

    def __exit__(self, *exc):
        self.lock.release()


@pytest.mark.parametrize("lock", [True, False, None, "threading", "counting"])
def test_store_lock_variants(lock, scheduler):
    if lock == "threading":
        lock = threading.Lock()
    elif lock == "counting":
        lock = CountingLock()
    x = da.from_array(A, chunks=2)
    out = np.zeros_like(A)
    da.store(x, out, lock=lock, scheduler=scheduler)
    np.testing.assert_array_equal(out, A)
    if isinstance(lock, CountingLock):
        assert lock.count == x.npartitions


def test_store_bad_lock():
    with pytest.raises(TypeError, match="lock"):
        da.store(da.from_array(A, chunks=2), np.zeros_like(A), lock="yes")


def test_serializable_lock_pickles():
    lock = SerializableLock()
    copy = pickle.loads(pickle.dumps(lock))
    assert copy.lock is lock.lock
    with copy:
        assert not lock.acquire(blocking=False)


def test_store_compute_false_returns_delayed():
    x = da.from_array(A, chunks=UNEVEN)
    out = np.zeros_like(A)
    writes = da.store(x, out, compute=False)
    assert isinstance(writes, Delayed)
    assert not out.any()
    assert writes.compute() is None
    np.testing.assert_array_equal(out, A)
    # it composes with other delayed work
    out[:] = 0
    total = delayed(lambda _, t: float(t.sum()))(writes, out)
    assert total.compute() == A.sum()


def test_store_compute_false_with_elementwise_source():
    x = da.from_array(A, chunks=UNEVEN)
    out = np.zeros_like(A)
    da.store(x * 2 + 1, out, compute=False).compute(scheduler="threads")
    np.testing.assert_array_equal(out, A * 2 + 1)


def test_store_return_stored():
    x = da.from_array(A, chunks=UNEVEN)
    out = np.zeros_like(A)
    stored = da.store(x, out, compute=False, return_stored=True)
    assert isinstance(stored, Array) and stored.chunks == x.chunks
    assert_eq(stored, A)
    np.testing.assert_array_equal(out, A)

    out2 = np.zeros_like(A)
    back = da.store(x + 1, out2, return_stored=True)
    np.testing.assert_array_equal(out2, A + 1)
    out2[0, 0] = 100  # read back from the target, not held in memory
    assert back.compute()[0, 0] == 100


def test_store_0d_and_empty():
    target = np.zeros(())
    da.store(da.from_array(np.array(3.5)), target)
    assert target[()] == 3.5
    empty = np.zeros((0, 4))
    da.store(da.from_array(np.ones((0, 4)), chunks=2), empty)
    assert empty.shape == (0, 4)


def test_store_memmap(tmp_path):
    path = tmp_path / "m.dat"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=A.dtype, shape=A.shape)
    da.store(da.from_array(A, chunks=UNEVEN), mm)
    mm.flush()
    np.testing.assert_array_equal(np.load(path), A)


def test_store_errors_at_build_time():
    x = da.from_array(A, chunks=2)
    with pytest.raises(ValueError, match=r"\(5, 7\).*\(4, 7\)"):
        da.store(x, np.zeros((4, 7)))
    with pytest.raises(ValueError, match=r"\(5, 7\).*region.*\(3, 7\)"):
        da.store(x, np.zeros((8, 7)), regions=(slice(0, 3),))
    with pytest.raises(ValueError, match="2 target"):
        da.store(x, [np.zeros_like(A), np.zeros_like(A)])
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.store(_unknown(A), np.zeros_like(A))
    with pytest.raises(TypeError, match="item assignment"):
        da.store(x, object())
    with pytest.raises(TypeError, match="tuple of slices"):
        da.store(x, np.zeros_like(A), regions=(0, 1))


class FailingTarget:
    """A NumPy-backed target whose writes fail for rows at or after ``fail_row``."""

    def __init__(self, shape, fail_row):
        self.data = np.zeros(shape)
        self.shape = shape
        self.fail_row = fail_row

    def __setitem__(self, index, value):
        if index[0].start >= self.fail_row:
            raise OSError(f"disk full at {index}")
        self.data[index] = value


def test_store_failure_names_what_was_written():
    x = da.from_array(A, chunks=(2, 7))  # row blocks 0-2, 2-4, 4-5
    target = FailingTarget(A.shape, fail_row=4)
    with pytest.raises(OSError, match="disk full") as info:
        da.store(x, target, scheduler="sync")
    note = "\n".join(info.value.__notes__)
    assert "block (2, 0)" in note and "[4:5, 0:7]" in note
    assert "2 of 3 blocks had been written" in note
    assert "(0, 0)" in note and "(1, 0)" in note
    np.testing.assert_array_equal(target.data[:4], A[:4])


def test_store_failure_first_block():
    x = da.from_array(A, chunks=(2, 7))
    target = FailingTarget(A.shape, fail_row=0)
    with pytest.raises(OSError) as info:
        da.store(x, target, scheduler="threads")
    assert any("none of the 3 blocks" in n or "blocks had been written" in n for n in info.value.__notes__)


# --- delayed ------------------------------------------------------------------------


def test_to_delayed_blocks(scheduler):
    x = da.from_array(A, chunks=UNEVEN) + 1
    blocks = x.to_delayed()
    assert blocks.shape == x.numblocks and blocks.dtype == object
    for i in range(3):
        for j in range(3):
            np.testing.assert_array_equal(
                blocks[i][j].compute(scheduler=scheduler),
                (A + 1)[sum(UNEVEN[0][:i]):sum(UNEVEN[0][:i + 1]), sum(UNEVEN[1][:j]):sum(UNEVEN[1][:j + 1])],
            )
    values = chunkwise.compute(*blocks.ravel().tolist(), scheduler=scheduler)
    assert sum(v.sum() for v in values) == (A + 1).sum()


def test_to_delayed_composes_and_persists():
    x = da.from_array(A, chunks=(2, 7))
    blocks = da.to_delayed(x)
    total = delayed(sum)([delayed(np.sum)(b) for b in blocks[:, 0]])
    assert total.compute() == A.sum()
    (b,) = chunkwise.persist(blocks[1, 0])
    np.testing.assert_array_equal(b.compute(), A[2:4])
    np.testing.assert_array_equal((b + 1).compute(), A[2:4] + 1)


def test_to_delayed_0d():
    blocks = da.to_delayed(da.from_array(np.array(4.0)))
    assert blocks.shape == ()
    assert blocks[()].compute() == 4.0


def test_from_delayed_round_trip():
    value = delayed(np.arange)(6.0)
    x = da.from_delayed(value, shape=(6,), dtype=float)
    assert x.chunks == ((6,),)
    assert_eq(x, np.arange(6.0))
    assert_eq(x * 2, np.arange(6.0) * 2)
    # blocks back into an array
    y = da.from_array(A, chunks=(2, 7))
    back = da.from_delayed(y.to_delayed()[1, 0], shape=(2, 7), dtype=A.dtype)
    assert_eq(back, A[2:4])


def test_from_delayed_checks_the_value():
    bad = da.from_delayed(delayed(np.ones)((2, 2)), shape=(3, 2), dtype=float)
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3, 2\)"):
        bad.compute()
    cast = da.from_delayed(delayed(np.ones)(3, dtype="f4"), shape=(3,), dtype="f8")
    assert_eq(cast, np.ones(3))
    with pytest.raises(TypeError, match="dtype"):
        da.from_delayed(delayed(np.ones)(3), shape=(3,), dtype=int).compute()
    with pytest.raises(TypeError, match="Delayed"):
        da.from_delayed(np.ones(3), shape=(3,), dtype=float)


# --- npy stacks ---------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_npy_stack_round_trip(tmp_path, axis):
    x = da.from_array(A, chunks=UNEVEN)
    da.to_npy_stack(tmp_path / "s", x, axis=axis)
    files = sorted(os.listdir(tmp_path / "s"))
    assert "info" in files and not any(".tmp" in f for f in files)
    y = da.from_npy_stack(tmp_path / "s")
    assert y.chunks[axis] == x.chunks[axis]
    assert_eq(y, A)
    assert_eq(da.from_npy_stack(tmp_path / "s", mmap_mode=None), A)


def test_npy_stack_array_first(tmp_path):
    da.to_npy_stack(da.from_array(np.arange(5), chunks=2), tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["0.npy", "1.npy", "2.npy", "info"]
    assert_eq(da.from_npy_stack(tmp_path), np.arange(5))


def test_npy_stack_interrupted_write(tmp_path, monkeypatch):
    import chunkwise.array.io.npy as io

    da.to_npy_stack(tmp_path, da.from_array(np.arange(6), chunks=2))  # an old, complete stack
    real_save = np.save

    def failing_save(f, block, **kwargs):
        if block[0] == 14:
            raise OSError("disk full")
        real_save(f, block, **kwargs)

    monkeypatch.setattr(io.np, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        da.to_npy_stack(tmp_path, da.from_array(np.arange(10, 20), chunks=2), scheduler="sync")
    files = os.listdir(tmp_path)
    assert "info" not in files and not any(".tmp" in f for f in files)
    with pytest.raises(FileNotFoundError, match="did not finish"):
        da.from_npy_stack(tmp_path)
    # every file present is complete (written to a temporary name, then renamed)
    for f in files:
        assert np.load(tmp_path / f).shape == (2,)


def test_npy_stack_errors(tmp_path):
    with pytest.raises(ValueError, match="0-d"):
        da.to_npy_stack(tmp_path, da.from_array(np.array(1.0)))
    with pytest.raises(ValueError, match="axis 2"):
        da.to_npy_stack(tmp_path, da.from_array(A), axis=2)
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.to_npy_stack(tmp_path, _unknown(A))


# --- zarr ---------------------------------------------------------------------------


def test_zarr_round_trip(tmp_path, scheduler):
    pytest.importorskip("zarr")
    x = da.from_array(A, chunks=UNEVEN)
    path = str(tmp_path / "a.zarr")
    da.to_zarr(x, path)
    y = da.from_zarr(path)
    assert_eq(y, A, schedulers=(scheduler,))


def test_zarr_rechunks_to_the_zarr_grid():
    zarr = pytest.importorskip("zarr")
    import chunkwise.array.io.zarr_io as io

    x = da.from_array(A, chunks=UNEVEN)
    z = zarr.create_array(store={}, shape=A.shape, chunks=(2, 3), dtype=A.dtype)
    stored = da.to_zarr(x, z, compute=False, return_stored=True)
    for axis, unit in enumerate((2, 3)):
        bounds = np.cumsum(stored.chunks[axis])[:-1]
        assert (bounds % unit == 0).all(), stored.chunks
    assert_eq(stored, A)
    np.testing.assert_array_equal(z[:], A)
    # aligned chunks are kept as they are
    assert io._aligned_chunks((4, 4, 2), 0, 10, 2) is None


def test_zarr_sharded_and_chunks_keyword(tmp_path):
    zarr = pytest.importorskip("zarr")
    x = da.from_array(np.arange(100.0).reshape(10, 10), chunks=3)
    path = str(tmp_path / "s.zarr")
    da.to_zarr(x, path, chunks=(2, 2), shards=(4, 4))
    z = zarr.open_array(path, mode="r")
    assert z.shards == (4, 4)
    y = da.from_zarr(path)
    assert y.chunks[0][0] == 4
    assert_eq(y, np.arange(100.0).reshape(10, 10))
    assert_eq(da.from_zarr(path, chunks=5), np.arange(100.0).reshape(10, 10))


def test_zarr_refuses_to_overwrite(tmp_path):
    pytest.importorskip("zarr")
    from zarr.errors import ContainsArrayError

    path = str(tmp_path / "a.zarr")
    da.to_zarr(da.from_array(A, chunks=2), path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        da.to_zarr(da.from_array(A, chunks=2), path)
    with pytest.raises(ContainsArrayError):
        da.to_zarr(da.from_array(A, chunks=2), path)
    da.to_zarr(da.from_array(A * 2, chunks=2), path, overwrite=True)
    assert_eq(da.from_zarr(path), A * 2)
    # overwriting the array being read would destroy the input
    with pytest.raises(ValueError, match="reads from it"):
        da.to_zarr(da.from_zarr(path) + 1, path, overwrite=True)
    assert_eq(da.from_zarr(path), A * 2)


def test_zarr_component_method_and_compute_false(tmp_path):
    zarr = pytest.importorskip("zarr")
    path = str(tmp_path / "g.zarr")
    x = da.from_array(A, chunks=UNEVEN)
    writes = x.to_zarr(path, component="group/x", compute=False)
    assert isinstance(writes, Delayed)
    # nothing that reads as an array is at the path until every block has landed
    with pytest.raises(FileNotFoundError):
        zarr.open_array(path, path="group/x", mode="r")
    writes.compute()
    assert_eq(da.from_zarr(path, component="group/x"), A)


def test_zarr_region(tmp_path):
    zarr = pytest.importorskip("zarr")
    z = zarr.create_array(store=str(tmp_path / "r.zarr"), shape=(10, 7), chunks=(3, 7), dtype="f8")
    da.to_zarr(da.from_array(A, chunks=2), z, region=(slice(4, 9),))
    expected = np.zeros((10, 7))
    expected[4:9] = A
    np.testing.assert_array_equal(z[:], expected)
    with pytest.raises(ValueError, match="shape"):
        da.to_zarr(da.from_array(A), z, region=(slice(0, 3),))


def test_zarr_fsspec_file_url(tmp_path):
    pytest.importorskip("zarr")
    pytest.importorskip("fsspec")
    url = "file://" + str(tmp_path / "u.zarr")
    da.to_zarr(da.from_array(A, chunks=3), url)
    assert_eq(da.from_zarr(url), A)


def test_zarr_0d_and_empty(tmp_path):
    pytest.importorskip("zarr")
    da.to_zarr(da.from_array(np.array(2.5)), str(tmp_path / "s.zarr"))
    assert_eq(da.from_zarr(str(tmp_path / "s.zarr")), np.array(2.5))
    da.to_zarr(da.from_array(np.ones((0, 3))), str(tmp_path / "e.zarr"))
    assert_eq(da.from_zarr(str(tmp_path / "e.zarr")), np.ones((0, 3)))


def test_zarr_errors(tmp_path):
    pytest.importorskip("zarr")
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        da.to_zarr(_unknown(A), str(tmp_path / "u.zarr"))
    with pytest.raises(ValueError, match="existing zarr array"):
        da.to_zarr(da.from_array(A), str(tmp_path / "v.zarr"), region=(slice(0, 5),))
    with pytest.raises(FileNotFoundError):
        da.from_zarr(str(tmp_path / "missing.zarr"))


def test_zarr_write_failure_is_reported(tmp_path, monkeypatch):
    zarr = pytest.importorskip("zarr")
    z = zarr.create_array(store={}, shape=A.shape, chunks=(2, 7), dtype="f8")
    x = da.from_array(A, chunks=(2, 7))
    real = type(z).__setitem__

    def failing(self, index, value):
        if index[0].start == 2:
            raise OSError("network down")
        real(self, index, value)

    monkeypatch.setattr(type(z), "__setitem__", failing)
    with pytest.raises(OSError, match="network down") as info:
        da.to_zarr(x, z, scheduler="sync")
    assert any("block (1, 0)" in n and "incomplete" in n for n in info.value.__notes__)


# --- HDF5 ---------------------------------------------------------------------------


def test_hdf5_round_trip(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = str(tmp_path / "d.h5")
    x = da.from_array(A, chunks=UNEVEN)
    da.to_hdf5(path, "/x", x)  # dask's order
    x.to_hdf5(path, "/y")  # the method: to_hdf5(x, path, "/y")
    da.to_hdf5(path, {"/z": x + 1, "/w": da.from_array(np.arange(3), chunks=2)})
    with h5py.File(path, "r") as f:
        assert f["/x"].chunks == (3, 4)
        for name, expected in [("/x", A), ("/y", A), ("/z", A + 1), ("/w", np.arange(3))]:
            assert_eq(da.from_array(f[name], chunks=2, lock=True), expected)


def test_hdf5_0d_and_empty(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = str(tmp_path / "e.h5")
    da.to_hdf5(path, {"/s": da.from_array(np.array(1.5)), "/e": da.from_array(np.ones((0, 2)))})
    with h5py.File(path, "r") as f:
        assert f["/s"][()] == 1.5 and f["/e"].shape == (0, 2)


def test_hdf5_bad_arguments(tmp_path):
    pytest.importorskip("h5py")
    with pytest.raises(TypeError, match="to_hdf5"):
        da.to_hdf5(str(tmp_path / "x.h5"))


def test_npy_stack_interoperates_with_dask(tmp_path):
    dask_array = pytest.importorskip("dask.array")
    x = dask_array.from_array(A, chunks=(2, 7))
    dask_array.to_npy_stack(str(tmp_path / "d"), x)
    assert_eq(da.from_npy_stack(tmp_path / "d"), A)
    da.to_npy_stack(tmp_path / "c", da.from_array(A, chunks=UNEVEN), axis=1)
    np.testing.assert_array_equal(dask_array.from_npy_stack(str(tmp_path / "c")).compute(), A)


# --- failed writes never look complete ----------------------------------------------


class Faulty:
    """An array-like source whose rows 4.. cannot be read (a block raising mid-write)."""

    def __init__(self, data, fail_from=4):
        self.data = data
        self.shape = data.shape
        self.dtype = data.dtype
        self.ndim = data.ndim
        self.fail_from = fail_from

    def __getitem__(self, index):
        rows = index[0] if isinstance(index, tuple) else index
        if isinstance(rows, slice) and (rows.start or 0) >= self.fail_from:
            raise OSError("source disk gone")
        return self.data[index]


B = np.arange(60.0).reshape(6, 10)


def _faulty():
    return da.from_array(Faulty(B), chunks=(2, 10))  # blocks 0-2, 2-4 fine; 4-6 raises


def _leftovers(root):
    return [os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files if "chunkwise-" in n]


def test_zarr_failed_write_at_a_local_path_leaves_nothing(tmp_path, scheduler):
    pytest.importorskip("zarr")
    path = tmp_path / "a.zarr"
    with pytest.raises(OSError, match="source disk gone"):
        da.to_zarr(_faulty(), str(path), scheduler=scheduler)
    assert not path.exists() and os.listdir(tmp_path) == []  # no array, temporary removed
    with pytest.raises(FileNotFoundError):
        da.from_zarr(str(path))
    # with a component: the array is absent, the groups above it are fine
    with pytest.raises(OSError, match="source disk gone"):
        da.to_zarr(_faulty(), str(path), component="g/x", scheduler=scheduler)
    assert not (path / "g" / "x").exists() and _leftovers(tmp_path) == []
    da.to_zarr(da.from_array(B, chunks=3), str(path), component="g/x")
    assert_eq(da.from_zarr(str(path), component="g/x"), B)


def test_zarr_failed_overwrite_keeps_the_old_array(tmp_path, scheduler):
    pytest.importorskip("zarr")
    path = str(tmp_path / "a.zarr")
    da.to_zarr(da.from_array(B + 1, chunks=2), path)
    with pytest.raises(OSError, match="source disk gone"):
        da.to_zarr(_faulty(), path, overwrite=True, scheduler=scheduler)
    assert_eq(da.from_zarr(path), B + 1)
    assert _leftovers(tmp_path) == []
    # a successful overwrite swaps the new array in and removes the old one, even when
    # the old one's chunk directories are read-only
    for d, dirs, _ in os.walk(os.path.join(path, "c")):
        for name in dirs:
            os.chmod(os.path.join(d, name), 0o555)
    da.to_zarr(da.from_array(B * 2, chunks=(2, 5)), path, overwrite=True, chunks=(2, 5))
    assert_eq(da.from_zarr(path), B * 2)
    assert _leftovers(tmp_path) == [] and os.listdir(tmp_path) == ["a.zarr"]


def test_zarr_failed_write_where_nothing_can_be_renamed_is_marked(tmp_path):
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("fsspec")
    url = "file://" + str(tmp_path / "u.zarr")
    memory = zarr.storage.MemoryStore()
    existing = zarr.create_array(store=str(tmp_path / "e.zarr"), shape=(10, 10), chunks=(2, 10), dtype="f8")
    for target, kwargs in [(url, {}), (memory, {}), (existing, {"region": (slice(2, 8),)})]:
        with pytest.raises(OSError, match="source disk gone"):
            da.to_zarr(_faulty(), target, scheduler="threads", **kwargs)
        with pytest.raises(ValueError, match=r"is incomplete: a chunkwise to_zarr write .* has not finished"):
            da.from_zarr(target)
        opened = target if isinstance(target, zarr.Array) else zarr.open_array(target, mode="r")
        assert "chunkwise_incomplete" in opened.attrs
    # a write that completes leaves no mark
    da.to_zarr(da.from_array(B, chunks=4), url, overwrite=True)
    assert_eq(da.from_zarr(url), B)
    assert "chunkwise_incomplete" not in zarr.open_array(url, mode="r").attrs
    z = zarr.create_array(store={}, shape=B.shape, chunks=(2, 10), dtype="f8", attributes={"units": "m"})
    da.to_zarr(da.from_array(B, chunks=4), z)
    assert dict(z.attrs) == {"units": "m"}  # the user's attributes are kept
    assert_eq(da.from_zarr(z), B)
    # compute=False: incomplete until computed
    w = zarr.create_array(store={}, shape=B.shape, chunks=(2, 10), dtype="f8")
    writes = da.to_zarr(da.from_array(B, chunks=4), w, compute=False)
    with pytest.raises(ValueError, match="incomplete"):
        da.from_zarr(w)
    writes.compute()
    assert_eq(da.from_zarr(w), B)


def test_zarr_refuses_a_directory_that_is_not_a_zarr_store(tmp_path):
    pytest.importorskip("zarr")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    (folder / "sub").mkdir()
    for overwrite in (False, True):
        with pytest.raises(FileExistsError, match=r"not a zarr store .*notes.txt.*Nothing was deleted"):
            da.to_zarr(da.from_array(B, chunks=3), str(folder), overwrite=overwrite)
        with pytest.raises(FileExistsError, match="not a zarr store"):
            da.to_zarr(da.from_array(B, chunks=3), str(folder), component="x", overwrite=overwrite)
    assert sorted(os.listdir(folder)) == ["notes.txt", "sub"]
    assert (folder / "notes.txt").read_text() == "keep me"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        da.to_zarr(da.from_array(B, chunks=3), str(tmp_path / "file"), overwrite=True)
    da.to_zarr(da.from_array(B, chunks=3), str(tmp_path / "arr.zarr"))
    with pytest.raises(FileExistsError, match="holds a zarr array, not a group"):
        da.to_zarr(da.from_array(B, chunks=3), str(tmp_path / "arr.zarr"), component="x", overwrite=True)
    assert_eq(da.from_zarr(str(tmp_path / "arr.zarr")), B)
    (tmp_path / "empty").mkdir()
    da.to_zarr(da.from_array(B, chunks=3), str(tmp_path / "empty"))  # an empty directory is fine
    assert_eq(da.from_zarr(str(tmp_path / "empty")), B)


def test_from_zarr_on_a_group_lists_its_arrays(tmp_path):
    pytest.importorskip("zarr")
    path = str(tmp_path / "g.zarr")
    da.to_zarr(da.from_array(B, chunks=3), path, component="raw/x")
    da.to_zarr(da.from_array(B, chunks=3), path, component="y")
    with pytest.raises(ValueError, match=r"g.zarr is a zarr group.*'raw/x', 'y'.*component=") as info:
        da.from_zarr(path)
    assert "component='raw/x'" in str(info.value)
    with pytest.raises(ValueError, match=r"component 'raw'.* is a zarr group.*'raw/x'"):
        da.from_zarr(path, component="raw")
    assert_eq(da.from_zarr(path, component="raw/x"), B)


def test_hdf5_failed_write_leaves_nothing_or_a_marked_dataset(tmp_path, scheduler):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "new.h5"
    with pytest.raises(OSError, match="source disk gone"):
        da.to_hdf5(str(path), "/x", _faulty(), scheduler=scheduler)
    assert os.listdir(tmp_path) == []  # no file, temporary removed
    # an existing file keeps its other datasets; the failed one is marked incomplete
    da.to_hdf5(str(path), "/keep", da.from_array(B, chunks=3))
    with pytest.raises(OSError, match="source disk gone"):
        da.to_hdf5(str(path), "/x", _faulty(), scheduler=scheduler)
    with h5py.File(path, "r") as f:
        assert "chunkwise_incomplete" in f["/x"].attrs
        assert "chunkwise_incomplete" not in f["/keep"].attrs
        with pytest.raises(ValueError, match=r"HDF5 dataset /x is incomplete: a chunkwise to_hdf5 write"):
            da.from_array(f["/x"], lock=True)
        np.testing.assert_array_equal(f["/keep"][:], B)
    # an open file handed in: marked too, and a complete write unmarks
    with h5py.File(path, "a") as f:
        with pytest.raises(OSError, match="source disk gone"):
            da.to_hdf5(f, "/y", _faulty())
        assert "chunkwise_incomplete" in f["/y"].attrs
        da.to_hdf5(f, "/y", da.from_array(B, chunks=4))
        assert "chunkwise_incomplete" not in f["/y"].attrs
        np.testing.assert_array_equal(f["/y"][:], B)
    assert sorted(os.listdir(tmp_path)) == ["new.h5"]


def test_store_failure_says_which_targets_were_written():
    ok = np.zeros_like(B)
    bad = FailingTarget(B.shape, fail_row=4)
    with pytest.raises(OSError, match="disk full") as info:
        da.store([da.from_array(B, chunks=(6, 10)), da.from_array(B, chunks=(2, 10))], [ok, bad], scheduler="sync")
    note = "\n".join(info.value.__notes__)
    assert "writing block (2, 0) into target 1 (FailingTarget)" in note
    assert "target 0 (ndarray): fully written, 1 of 1 blocks" in note
    np.testing.assert_array_equal(ok, B)


def test_to_zarr_shards_auto_writes_a_shard_per_block_with_small_chunks_inside(tmp_path):
    zarr = pytest.importorskip("zarr")
    data = np.random.default_rng(0).random((1100, 1024))
    x = da.from_array(data, chunks=(512, 512))  # 2 MiB blocks; the last block row is short
    path = tmp_path / "s.zarr"
    da.to_zarr(x, str(path), shards="auto")
    z = zarr.open_array(str(path), mode="r")
    assert z.shards == (512, 512)
    assert z.chunks == (256, 512)  # about 1 MiB each, dividing the shard
    shard_files = [f for _, _, files in os.walk(path / "c") for f in files]
    assert len(shard_files) == x.npartitions  # one file per task, not one per zarr chunk
    y = da.from_zarr(str(path))
    assert y.chunks == x.chunks  # read back a shard per task
    assert_eq(y, data)
    assert_eq(y[300:301, 5:700], data[300:301, 5:700])


def test_to_zarr_default_and_small_blocks_write_plain_chunks(tmp_path):
    zarr = pytest.importorskip("zarr")
    small = tmp_path / "small.zarr"
    da.to_zarr(da.from_array(A, chunks=(2, 3)), str(small), shards="auto")  # 1 MiB or less: no shards
    z = zarr.open_array(str(small), mode="r")
    assert z.shards is None and z.chunks == (2, 3)
    data = np.arange(512 * 512.0).reshape(512, 512)
    plain = tmp_path / "plain.zarr"
    da.to_zarr(da.from_array(data, chunks=(512, 256)), str(plain))
    z = zarr.open_array(str(plain), mode="r")
    assert z.shards is None and z.chunks == (512, 256)  # Dask's layout: a chunk per block
    assert_eq(da.from_zarr(str(plain)), data)
    with pytest.raises(ValueError, match="shards='auto'"):
        da.to_zarr(da.from_array(data, chunks=256), str(tmp_path / "bad.zarr"), shards="yes")


def test_inner_chunks_divide_the_shard():
    from chunkwise.array.io import inner_chunks

    for shard, itemsize in [((1000, 1000), 8), ((512, 384, 3), 4), ((4096,), 1), ((6, 1 << 20), 8)]:
        chunk = inner_chunks(shard, itemsize)
        assert all(s % c == 0 for s, c in zip(shard, chunk))
        assert np.prod(chunk) * itemsize <= 1 << 20 or all(c % 2 for c in chunk)


def test_to_zarr_compresses_numbers_with_blosc_lz4_by_default(tmp_path):
    zarr = pytest.importorskip("zarr")
    from zarr.codecs import BloscCodec, ZstdCodec

    data = np.random.default_rng(1).random((300, 200))
    path = tmp_path / "blosc.zarr"
    da.to_zarr(da.from_array(data, chunks=(100, 100)), str(path))
    z = zarr.open_array(str(path), mode="r")  # a plain zarr reader opens it
    (codec,) = z.compressors
    assert isinstance(codec, BloscCodec)
    assert (codec.cname.value, codec.clevel, codec.shuffle.value, codec.typesize) == ("lz4", 5, "shuffle", 8)
    np.testing.assert_array_equal(z[:], data)
    assert_eq(da.from_zarr(str(path)), data)
    small = np.arange(64, dtype="u1").reshape(8, 8)
    da.to_zarr(da.from_array(small, chunks=4), str(tmp_path / "u1.zarr"))
    (codec,) = zarr.open_array(str(tmp_path / "u1.zarr"), mode="r").compressors
    assert codec.shuffle.value == "bitshuffle"  # 1-byte items: zarr's own pick
    da.to_zarr(da.from_array(data, chunks=100), str(tmp_path / "zstd.zarr"), compressors="auto")
    (codec,) = zarr.open_array(str(tmp_path / "zstd.zarr"), mode="r").compressors
    assert isinstance(codec, ZstdCodec)  # zarr's own default, on request
    da.to_zarr(da.from_array(data, chunks=100), str(tmp_path / "raw.zarr"), compressors=None)
    assert zarr.open_array(str(tmp_path / "raw.zarr"), mode="r").compressors == ()


@pytest.mark.filterwarnings("ignore:The data type .* does not have a Zarr V3 specification")
def test_to_zarr_default_codec_in_zarr_format_2_and_for_strings(tmp_path):
    zarr = pytest.importorskip("zarr")
    data = np.arange(24.0).reshape(4, 6)
    path = tmp_path / "v2.zarr"
    da.to_zarr(da.from_array(data, chunks=2), str(path), zarr_format=2)
    z = zarr.open_array(str(path), mode="r")
    assert z.metadata.zarr_format == 2
    assert z.metadata.compressor.get_config() == {"id": "blosc", "cname": "lz4", "clevel": 5,
                                                  "shuffle": 1, "blocksize": 0}
    assert_eq(da.from_zarr(str(path)), data)
    words = np.array(["a", "bb", "ccc", "dddd"])
    da.to_zarr(da.from_array(words, chunks=2), str(tmp_path / "s.zarr"))
    back = zarr.open_array(str(tmp_path / "s.zarr"), mode="r")
    assert back[:].tolist() == words.tolist()  # not a number: zarr's own codecs


def test_to_zarr_skips_the_empty_chunk_scan_for_blocks_that_are_surely_not_empty(tmp_path, monkeypatch):
    zarr = pytest.importorskip("zarr")
    from zarr.core.buffer.core import NDBuffer

    scans = []
    real = NDBuffer.all_equal
    monkeypatch.setattr(NDBuffer, "all_equal", lambda self, *a, **k: scans.append(1) or real(self, *a, **k))
    data = np.random.default_rng(2).random((6, 8)) + 1
    data[:3, :4] = 0.0  # block (0, 0) equals the fill value: zarr must still skip it
    data[3:, 4:] = 0.0
    data[4, 5] = 7.0  # block (1, 1): zero at the three probed elements, yet not empty
    path = tmp_path / "x.zarr"
    da.to_zarr(da.from_array(data, chunks=(3, 4)), str(path), scheduler="sync")
    assert len(scans) == 2  # only the blocks whose probes all equal the fill value are scanned
    assert_eq(da.from_zarr(str(path)), data)
    chunk_files = sorted(os.path.relpath(os.path.join(root, f), path / "c")
                         for root, _, files in os.walk(path / "c") for f in files)
    assert chunk_files == [os.path.join("0", "1"), os.path.join("1", "0"), os.path.join("1", "1")]
    scans.clear()
    negative_zero = np.full((6, 8), -0.0)  # not the fill value bit for bit, as zarr compares
    da.to_zarr(da.from_array(negative_zero, chunks=(3, 4)), str(tmp_path / "nz.zarr"), scheduler="sync")
    assert scans == []
    assert np.signbit(zarr.open_array(str(tmp_path / "nz.zarr"), mode="r")[:]).all()
    sharded = tmp_path / "s.zarr"  # several zarr chunks per block: zarr scans each one itself
    da.to_zarr(da.from_array(np.zeros((4, 4)), chunks=(4, 4)), str(sharded), chunks=(2, 2), scheduler="sync")
    assert len(scans) == 4 and not os.path.exists(sharded / "c")


# --- zarr chunks read by hand (array/io/zarr_chunks.py) -----------------------------


@pytest.mark.parametrize("compressors", ["default", "auto", None])
def test_from_zarr_reads_whole_chunks_by_hand_and_equals_numpy(tmp_path, scheduler, compressors):
    pytest.importorskip("zarr")
    from chunkwise.array.io.zarr_chunks import ChunkReader

    data = np.random.default_rng(3).random((11, 9))
    data[:4, :4] = 0.0  # a chunk equal to the fill value: zarr writes no file, it reads as 0.0
    path = str(tmp_path / "x.zarr")
    kwargs = {} if compressors == "default" else {"compressors": compressors}  # "auto": zarr's Zstandard
    da.to_zarr(da.from_array(data, chunks=(4, 4)), path, **kwargs)  # edge chunks of 3 and 1
    assert not os.path.exists(os.path.join(path, "c", "0", "0"))
    y = da.from_zarr(path)
    assert isinstance(y.expr.source, ChunkReader) and y.chunks == ((4, 4, 3), (4, 4, 1))
    assert_eq(y, data, schedulers=(scheduler,))
    assert_eq(y[1:10, 3:8] * 2, data[1:10, 3:8] * 2, schedulers=(scheduler,))  # regions: zarr reads them
    assert_eq(da.from_zarr(path, chunks=(5, 9)), data, schedulers=(scheduler,))  # blocks of several chunks
    assert_eq(y.sum(axis=0), data.sum(axis=0), schedulers=(scheduler,))
    reader = pickle.loads(pickle.dumps(y.expr.source))  # to processes and distributed workers
    np.testing.assert_array_equal(reader[8:11, 8:9], data[8:11, 8:9])


def test_from_zarr_leaves_other_layouts_to_zarr(tmp_path, scheduler):
    zarr = pytest.importorskip("zarr")
    from zarr.codecs import ZstdCodec

    from chunkwise.array.io.zarr_chunks import ChunkReader

    data = np.arange(120, dtype="i4").reshape(12, 10)
    x = da.from_array(data, chunks=(4, 5))
    cases = {
        "sharded": {"chunks": (2, 5), "shards": (4, 5)},
        "zstd": {"compressors": ZstdCodec()},
        "v2": {"zarr_format": 2},
        "fill": {"fill_value": 7},
    }
    for name, kwargs in cases.items():
        path = str(tmp_path / f"{name}.zarr")
        da.to_zarr(x, path, **kwargs)
        y = da.from_zarr(path)
        by_hand = name in ("fill", "zstd")  # zarr 3's default codec, and a fill value other than 0
        assert isinstance(y.expr.source, ChunkReader) is by_hand, name
        assert_eq(y, data, schedulers=(scheduler,))
    z = zarr.create_array(store={}, shape=data.shape, chunks=(4, 5), dtype=data.dtype)  # not a local path
    z[:] = data
    assert not isinstance(da.from_zarr(z).expr.source, ChunkReader)
    missing = zarr.create_array(store=str(tmp_path / "m.zarr"), shape=(5, 5), chunks=(2, 2), dtype="f8",
                                fill_value=-1.5, compressors=None)
    assert_eq(da.from_zarr(str(tmp_path / "m.zarr")), np.full((5, 5), -1.5), schedulers=(scheduler,))
    assert missing.nchunks_initialized == 0


def test_from_zarr_by_hand_refuses_a_damaged_chunk(tmp_path):
    pytest.importorskip("zarr")
    from numcodecs import Blosc, Zstd

    path = tmp_path / "x.zarr"
    da.to_zarr(da.from_array(np.arange(16.0).reshape(4, 4), chunks=2), str(path))
    (path / "c" / "1" / "1").write_bytes(Blosc(cname="lz4").encode(np.arange(3.0)))  # decodes to 24 bytes
    with pytest.raises(ValueError, match="decodes to 24 bytes, not the 32"):
        da.from_zarr(str(path)).compute(scheduler="sync")
    zstd = tmp_path / "zstd.zarr"
    da.to_zarr(da.from_array(np.arange(16.0).reshape(4, 4), chunks=2), str(zstd), compressors="auto")
    (zstd / "c" / "0" / "0").write_bytes(Zstd().encode(np.arange(5.0)))
    with pytest.raises(ValueError, match="decodes to 40 bytes, not the 32"):
        da.from_zarr(str(zstd)).compute(scheduler="sync")
    raw = tmp_path / "raw.zarr"
    da.to_zarr(da.from_array(np.arange(16.0).reshape(4, 4), chunks=2), str(raw), compressors=None)
    (raw / "c" / "0" / "1").write_bytes(b"\0" * 8)
    with pytest.raises(ValueError, match="holds 8 bytes, not 32"):
        da.from_zarr(str(raw)).compute(scheduler="sync")


@pytest.mark.parametrize("dtype", ["f8", "i2", "u1"])
@pytest.mark.parametrize("compressors", ["default", None])
def test_to_zarr_writes_whole_chunks_by_hand_as_zarr_writes_them(tmp_path, monkeypatch, scheduler, dtype,
                                                                    compressors):
    zarr = pytest.importorskip("zarr")
    from chunkwise.array.io import default_compressors
    from chunkwise.array.io.zarr_chunks import ChunkWriter

    written = []
    real = ChunkWriter.write
    monkeypatch.setattr(ChunkWriter, "write", lambda self, s, b: written.append(real(self, s, b)) or written[-1])
    data = (np.random.default_rng(4).random((9, 10)) * 100 + 1).astype(dtype)
    data[:4, :5] = 0  # empty: zarr decides (no file); the edge blocks (one row) are written by zarr
    kwargs = {} if compressors == "default" else {"compressors": None}
    mine = tmp_path / "mine.zarr"
    da.to_zarr(da.from_array(data, chunks=(4, 5)), str(mine), scheduler=scheduler, **kwargs)
    assert sorted(written) == [False, False, True, True, True]
    theirs = tmp_path / "theirs.zarr"
    codecs = default_compressors(data.dtype) if compressors == "default" else None
    z = zarr.create_array(store=str(theirs), shape=data.shape, chunks=(4, 5), dtype=data.dtype, compressors=codecs)
    z[:] = data
    files = sorted(os.path.relpath(os.path.join(root, f), theirs)
                   for root, _, names in os.walk(theirs) for f in names if f != "zarr.json")
    assert len(files) == 5 and not os.path.exists(theirs / "c" / "0" / "0")
    for name in files:
        assert (mine / name).read_bytes() == (theirs / name).read_bytes(), name
    assert_eq(da.from_zarr(str(mine)), data, schedulers=(scheduler,))


def test_to_zarr_failed_write_by_hand_is_reported_and_leaves_nothing(tmp_path, monkeypatch, scheduler):
    pytest.importorskip("zarr")
    import numcodecs.blosc

    real = numcodecs.blosc.compress
    calls = []

    def failing(data, *args):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(data, *args)

    monkeypatch.setattr(numcodecs.blosc, "compress", failing)
    path = tmp_path / "a.zarr"
    data = np.random.default_rng(5).random((8, 8)) + 1
    with pytest.raises(OSError, match="disk full") as info:
        da.to_zarr(da.from_array(data, chunks=4), str(path), scheduler=scheduler)
    assert any("writing block" in n and "incomplete" in n for n in info.value.__notes__)
    assert os.listdir(tmp_path) == []  # no array, and the hidden one with its chunk files removed
    calls.clear()
    monkeypatch.setattr(numcodecs.blosc, "compress", real)
    da.to_zarr(da.from_array(data, chunks=4), str(path), scheduler=scheduler)
    assert_eq(da.from_zarr(str(path)), data)


def test_from_zarr_reads_an_array_that_dask_wrote_by_hand(tmp_path, scheduler):
    pytest.importorskip("zarr")
    dask_array = pytest.importorskip("dask.array")
    from chunkwise.array.io.zarr_chunks import ChunkReader

    data = np.random.default_rng(6).standard_normal((10, 7)).astype("f4")
    path = str(tmp_path / "dask.zarr")
    dask_array.from_array(data, chunks=(4, 3)).to_zarr(path)  # zarr 3's defaults: Zstandard
    y = da.from_zarr(path)
    assert isinstance(y.expr.source, ChunkReader) and y.expr.source.codec == "zstd"
    assert_eq(y, data, schedulers=(scheduler,))
