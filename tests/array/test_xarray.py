"""xarray as a client of chunkwise: ``chunked_array_type="chunkwise"`` through the entry point.

Every result is compared with xarray on the same NumPy-backed data; chunks are
uneven (70 along time, 4 along x of 6) and both local schedulers run.
"""

import numpy as np
import pandas as pd
import pytest

xr = pytest.importorskip("xarray")

from xarray.namedarray.parallelcompat import (  # noqa: E402
    get_chunked_array_type,
    guess_chunkmanager,
    list_chunkmanagers,
)

import chunkwise  # noqa: E402
import chunkwise.array as ca  # noqa: E402
from chunkwise.array import xarray_chunkmanager as xcm  # noqa: E402


def make_dataset(n_time=400, n_x=6, seed=0):
    rng = np.random.default_rng(seed)
    time = pd.date_range("2000-01-01", periods=n_time, freq="D")
    return xr.Dataset(
        {
            "temperature": (("time", "x"), rng.standard_normal((n_time, n_x))),
            "precipitation": (("time",), rng.random(n_time)),
        },
        coords={"time": time, "x": np.arange(n_x)},
    )


@pytest.fixture
def data():
    ds = make_dataset()
    return ds, ds.chunk({"time": 70, "x": 4}, chunked_array_type="chunkwise")


def assert_chunkwise_backed(ds):
    for name, var in ds.data_vars.items():
        assert isinstance(var.data, ca.Array), f"{name} is {type(var.data).__name__}"


def check(result, expected, scheduler):
    assert_chunkwise_backed(result)
    with chunkwise.config.set(scheduler=scheduler):
        computed = result.compute()
    assert not isinstance(computed.temperature.data, ca.Array)
    xr.testing.assert_allclose(computed, expected)


def test_entry_point_is_registered():
    managers = list_chunkmanagers()
    assert isinstance(managers["chunkwise"], xcm.ChunkwiseManager)
    assert isinstance(guess_chunkmanager("chunkwise"), xcm.ChunkwiseManager)


def test_chunk_gives_chunkwise_arrays_and_one_manager(data):
    ds, cds = data
    assert_chunkwise_backed(cds)
    assert cds.temperature.data.chunks == ((70,) * 5 + (50,), (4, 2))
    assert cds.chunksizes["time"] == (70,) * 5 + (50,)
    # Dask's manager must not also claim it (a chunkwise array follows Dask's collection protocol)
    assert isinstance(get_chunked_array_type(cds.temperature.data), xcm.ChunkwiseManager)


def test_chunk_manager_option_makes_chunkwise_the_default(data):
    ds, cds = data  # without it, xarray's default manager is dask
    with xr.set_options(chunk_manager="chunkwise"):
        rechunked = cds.chunk({"x": -1})
        fresh = ds.chunk({"time": 100})
    assert_chunkwise_backed(rechunked)
    assert_chunkwise_backed(fresh)
    assert rechunked.temperature.data.chunks[1] == (6,)
    xr.testing.assert_identical(rechunked.compute(), ds)


def test_arithmetic(data, scheduler):
    ds, cds = data
    check((cds * 2 + 1) / (cds.temperature.mean("x") + 10), (ds * 2 + 1) / (ds.temperature.mean("x") + 10),
          scheduler)


def test_mean(data, scheduler):
    ds, cds = data
    check(cds.mean("time"), ds.mean("time"), scheduler)
    check(cds.std("x"), ds.std("x"), scheduler)


def test_sum_and_max_skipna(data, scheduler):
    ds, cds = data  # xarray builds ``where(isnull(x), x, 0)`` with ``xp.bool`` from chunkwise's namespace
    assert ca.bool is np.bool and ca.float64 is np.float64
    check(cds.sum("time"), ds.sum("time"), scheduler)
    check(cds.max("x"), ds.max("x"), scheduler)


def test_groupby_month_mean(data, scheduler):
    ds, cds = data
    check(cds.groupby("time.month").mean(), ds.groupby("time.month").mean(), scheduler)


def test_resample_monthly_mean(data, scheduler):
    ds, cds = data
    check(cds.resample(time="1MS").mean(), ds.resample(time="1MS").mean(), scheduler)


def test_resample_first_uses_reduction(data, scheduler):
    ds, cds = data  # first/last go through the manager's ``reduction``
    check(cds.resample(time="1MS").first(), ds.resample(time="1MS").first(), scheduler)


def test_cumsum(data, scheduler):
    ds, cds = data
    check(cds.cumsum("time"), ds.cumsum("time"), scheduler)


def test_apply_ufunc_parallelized_elementwise(data, scheduler):
    ds, cds = data
    check(xr.apply_ufunc(np.sin, cds, dask="parallelized", output_dtypes=[float]), np.sin(ds), scheduler)


def test_apply_ufunc_parallelized_core_dimension(data, scheduler):
    ds, cds = data

    def spread(a):
        return a.max(axis=-1) - a.min(axis=-1)

    whole_x = cds.temperature.chunk(x=-1, chunked_array_type="chunkwise")
    result = xr.apply_ufunc(spread, whole_x, input_core_dims=[["x"]],
                            dask="parallelized", output_dtypes=[float])
    expected = xr.apply_ufunc(spread, ds.temperature, input_core_dims=[["x"]])
    check(result.to_dataset(), expected.to_dataset(), scheduler)


def test_apply_ufunc_refuses_split_core_dimension(data):
    ds, cds = data
    with pytest.raises(ValueError, match="core dimension"):
        xr.apply_ufunc(lambda a: a.sum(-1), cds.temperature, input_core_dims=[["x"]],
                       dask="parallelized", output_dtypes=[float])


def test_compute_and_load(data):
    ds, cds = data
    loaded = cds.copy().load()
    assert isinstance(loaded.temperature.data, np.ndarray)
    xr.testing.assert_identical(loaded, ds)
    persisted = cds.persist()
    assert_chunkwise_backed(persisted)
    xr.testing.assert_identical(persisted.compute(), ds)


def test_open_zarr_and_to_zarr_round_trip(tmp_path, scheduler):
    pytest.importorskip("zarr")
    ds = make_dataset(seed=1)
    path = tmp_path / "climate.zarr"
    ds.to_zarr(path, mode="w", encoding={v: {"chunks": (90, 3)[: ds[v].ndim]} for v in ds.data_vars})
    opened = xr.open_zarr(path, chunked_array_type="chunkwise")
    assert_chunkwise_backed(opened)
    assert opened.temperature.data.chunks == ((90,) * 4 + (40,), (3, 3))
    anomaly = opened - opened.mean("time")
    out = tmp_path / "anomaly.zarr"
    with chunkwise.config.set(scheduler=scheduler):
        anomaly.to_zarr(out, mode="w")  # written block by block through chunkwise's store
    back = xr.open_zarr(out).compute()
    xr.testing.assert_allclose(back, ds - ds.mean("time"))


# --- the Dask-shaped adapters, against NumPy -----------------------------------------------------


def test_reduction_adapter_against_numpy():
    x = np.arange(60.0).reshape(6, 10)
    a = ca.from_array(x, chunks=(4, 3))
    for axis in (0, 1, (0, 1), None):
        result = xcm.reduction(a, np.max, axis=axis, dtype=float, keepdims=False).compute()
        np.testing.assert_array_equal(result, x.max(axis=axis))
    kept = xcm.reduction(a, np.sum, axis=1, dtype=float, keepdims=True)
    assert kept.shape == (6, 1)
    np.testing.assert_array_equal(kept.compute(), x.sum(axis=1, keepdims=True))


def test_scan_adapter_against_numpy():
    x = np.random.default_rng(2).random((7, 9))
    a = ca.from_array(x, chunks=(3, 4))
    np.testing.assert_allclose(xcm.scan(np.cumsum, np.add, 0, a, axis=1).compute(), np.cumsum(x, axis=1))
    np.testing.assert_allclose(xcm.scan(np.cumprod, np.multiply, 1, a, axis=0).compute(),
                               np.cumprod(x, axis=0))
    with pytest.raises(TypeError, match="scan"):
        xcm.scan(np.cumsum, np.add, 0, a, axis=0, bogus=1)


def test_apply_gufunc_through_the_manager_against_numpy():
    apply_gufunc = xcm.ChunkwiseManager().apply_gufunc
    x = np.random.default_rng(3).random((5, 4, 3))
    a = ca.from_array(x, chunks=(2, 4, 3))
    mean = apply_gufunc(lambda b: b.mean(axis=-1), "(k)->()", a, output_dtypes=float)
    np.testing.assert_allclose(mean.compute(), x.mean(axis=-1))
    both = apply_gufunc(lambda b: (b.min(axis=-1), b.max(axis=-1)), "(k)->(),()", a,
                            output_dtypes=[float, float])
    np.testing.assert_allclose(both[0].compute(), x.min(axis=-1))
    np.testing.assert_allclose(both[1].compute(), x.max(axis=-1))
    tiled = apply_gufunc(lambda b: np.repeat(b[..., :1], 2, axis=-1), "(k)->(m)", a,
                             output_sizes={"m": 2}, output_dtypes=float)
    np.testing.assert_allclose(tiled.compute(), np.repeat(x[..., :1], 2, axis=-1))
    with pytest.raises(ValueError, match="output_sizes"):
        apply_gufunc(lambda b: b, "(k)->(m)", a)
    split = ca.from_array(x, chunks=(2, 2, 2))
    with pytest.raises(ValueError, match="allow_rechunk"):
        apply_gufunc(lambda b: b.sum(-1), "(k)->()", split)
    rechunked = apply_gufunc(lambda b: b.sum(-1), "(k)->()", split, allow_rechunk=True)
    np.testing.assert_allclose(rechunked.compute(), x.sum(-1))


def test_unify_chunks_against_numpy():
    x, y = np.arange(10.0), np.arange(10.0)[::-1].copy()
    chunkss, (a, b) = xcm.unify_chunks(ca.from_array(x, chunks=4), "i", ca.from_array(y, chunks=3), "i")
    assert chunkss["i"] == (3, 1, 2, 2, 1, 1)
    assert a.chunks == b.chunks == ((3, 1, 2, 2, 1, 1),)
    np.testing.assert_array_equal((a + b).compute(), x + y)


def test_shuffle_groups_one_chunk_each():
    x = np.arange(12.0)
    a = ca.from_array(x, chunks=5)
    manager = xcm.ChunkwiseManager()
    indexer = [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]
    shuffled = manager.shuffle(a, indexer, axis=0, chunks="auto")
    assert shuffled.chunks == ((4, 4, 4),)
    np.testing.assert_array_equal(shuffled.compute(), x[np.concatenate(indexer)])


def test_groupby_shuffle_to_chunks_one_chunk_per_group(data):
    ds, cds = data  # goes through the manager's ``shuffle``
    shuffled = cds.groupby("time.month").shuffle_to_chunks()
    assert_chunkwise_backed(shuffled)
    sizes = ds.time.dt.month.to_series().value_counts().sort_index().tolist()
    assert list(shuffled.chunksizes["time"]) == sizes
    xr.testing.assert_identical(shuffled.compute(), ds.groupby("time.month").shuffle_to_chunks())
