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


@pytest.fixture(autouse=True)
def without_flox():
    """xarray's own groupby path: with flox installed, xarray hands groupby to flox, which
    takes its Dask path for chunkwise arrays (pinned in test_groupby_with_flox_installed_...)."""
    with xr.set_options(use_flox=False):
        yield


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


# --- the audit: xarray's API on chunkwise-backed data, against the same call on NumPy-backed data ---


def with_gaps(ds, seed=4):
    """``ds`` with about one temperature in ten missing (skipna paths)."""
    rng = np.random.default_rng(seed)
    t = ds.temperature.values.copy()
    t[rng.random(t.shape) < 0.1] = np.nan
    return ds.assign(temperature=(ds.temperature.dims, t))


WEIGHTS = xr.DataArray(np.linspace(0.0, 1.0, 6), dims="x", coords={"x": np.arange(6)})

#: xarray operations that reach the chunk manager or the array namespace; each must give
#: chunkwise-backed results equal to xarray's on NumPy-backed data (chunks 70 x 4, uneven).
AUDITED = {
    "idxmax": lambda d: d.temperature.idxmax("time"),
    "idxmin_x": lambda d: d.temperature.idxmin("x"),
    "idxmax_keep_nan": lambda d: d.temperature.idxmax("time", skipna=False),
    "argmax": lambda d: d.temperature.argmax("time"),
    "argmin_flat": lambda d: d.precipitation.argmin(),
    "polyfit": lambda d: d.temperature.fillna(0).polyfit("time", 2),
    "polyfit_skipna": lambda d: d.temperature.polyfit("time", 1, skipna=True),
    "polyfit_full": lambda d: d.temperature.fillna(0).polyfit("time", 1, full=True),
    "polyval": lambda d: xr.polyval(d.time, d.temperature.fillna(0).polyfit("time", 1).polyfit_coefficients),
    "cumsum": lambda d: d.cumsum("time"),
    "cumprod": lambda d: d.temperature.cumprod("x"),
    "cumulative_sum": lambda d: d.temperature.cumulative("time").sum(),
    "cumulative_mean": lambda d: d.temperature.cumulative("time").mean(),
    "quantile": lambda d: d.quantile(0.3, dim="time"),
    "quantile_many": lambda d: d.temperature.quantile([0.1, 0.9], dim="x"),
    "median": lambda d: d.median("time"),
    "weighted_mean": lambda d: d.temperature.weighted(WEIGHTS).mean("x"),
    "weighted_std": lambda d: d.temperature.weighted(WEIGHTS).std("x"),
    "weighted_by_chunked": lambda d: d.temperature.weighted(d.precipitation).mean("time"),
    "coarsen_mean": lambda d: d.coarsen(time=10).mean(),
    "coarsen_trim": lambda d: d.coarsen(time=7, boundary="trim").mean(),
    "coarsen_construct": lambda d: d.temperature.coarsen(time=10).construct(time=("year", "day")),
    "coarsen_reduce": lambda d: d.temperature.coarsen(x=2).reduce(np.nanmax),
    "where": lambda d: d.where(d.temperature > 0),
    "where_other": lambda d: d.temperature.where(d.temperature > 0, -1),
    "xr_where": lambda d: xr.where(d.temperature > 0, d.temperature, d.precipitation),
    "isin": lambda d: d.temperature.round(0).isin([0.0, 1.0]),
    "rolling_mean": lambda d: d.rolling(time=5).mean(),
    "rolling_center_min_periods": lambda d: d.temperature.rolling(time=4, center=True, min_periods=2).sum(),
    "rolling_construct": lambda d: d.temperature.rolling(time=3, center=True).construct("window"),
    "rolling_median": lambda d: d.temperature.rolling(time=5).median(),
    "differentiate_x": lambda d: d.temperature.differentiate("x"),
    "differentiate_time": lambda d: d.temperature.differentiate("time"),
    "integrate": lambda d: d.temperature.integrate("x"),
    "cumulative_integrate": lambda d: d.temperature.fillna(0).cumulative_integrate("time"),
    "dot": lambda d: xr.dot(d.temperature.fillna(0), WEIGHTS, dim="x"),
    "cov": lambda d: xr.cov(d.temperature, d.precipitation, dim="time"),
    "corr": lambda d: xr.corr(d.temperature, d.precipitation, dim="time"),
    "fillna_count_any": lambda d: xr.Dataset({"f": d.temperature.fillna(0), "n": d.temperature.count("time"),
                                              "a": (d.temperature > 2).any("time")}),
    "dropna": lambda d: d.temperature.dropna("time"),
    "shift_roll_diff": lambda d: xr.Dataset({"s": d.temperature.shift(time=3), "r": d.temperature.roll(time=3),
                                             "d": d.temperature.diff("time")}),
    "pad_edge": lambda d: d.temperature.pad(time=(2, 3), mode="edge"),
    "sortby": lambda d: d.sortby("precipitation"),
    "reindex": lambda d: d.reindex(x=[5, 3, 9, 0]),
    "stack_unstack": lambda d: d.temperature.stack(z=("time", "x")).unstack("z"),
    "concat": lambda d: xr.concat([d, d.isel(time=slice(0, 33))], dim="time"),
    "groupby_quantile": lambda d: d.temperature.groupby("time.month").quantile(0.5),
    "groupby_cumsum": lambda d: d.temperature.groupby("time.month").cumsum(),
    "timedelta_mean": lambda d: (d.time - d.time[0]).where(d.temperature > 0).mean("time"),
    "argmax_two_dims": lambda d: xr.Dataset(d.temperature.fillna(0).argmax(dim=["time", "x"])),
}


@pytest.fixture
def gappy():
    ds = with_gaps(make_dataset())
    return ds, ds.chunk({"time": 70, "x": 4}, chunked_array_type="chunkwise")


@pytest.mark.parametrize("name", sorted(AUDITED))
def test_audited_operation_matches_numpy_backed(gappy, name, scheduler):
    ds, cds = gappy
    op = AUDITED[name]
    result = op(cds)
    arrays = [result.data] if isinstance(result, xr.DataArray) else [v.data for v in result.data_vars.values()]
    assert any(isinstance(a, ca.Array) for a in arrays), f"{name} gave {[type(a).__name__ for a in arrays]}"
    with chunkwise.config.set(scheduler=scheduler):
        computed = result.compute()
    xr.testing.assert_allclose(computed, op(ds))


# --- fixes: each call failed on chunkwise-backed data before ----------------------------------------


def test_differentiate_uses_the_namespace_gradient(gappy, scheduler):
    ds, cds = gappy  # xarray calls x.__array_namespace__().gradient(x, coords, axis=, edge_order=)
    for dim, order in (("x", 1), ("time", 2)):
        result = cds.temperature.differentiate(dim, edge_order=order)
        assert isinstance(result.data, ca.Array)
        with chunkwise.config.set(scheduler=scheduler):
            xr.testing.assert_allclose(result.compute(), ds.temperature.differentiate(dim, edge_order=order))


def numpy_push(array, n=None, axis=-1):
    """Forward fill along ``axis`` over at most ``n`` missing values: bottleneck's ``push`` in NumPy."""
    a = np.moveaxis(np.asarray(array, dtype=float), axis, -1)
    positions = np.arange(a.shape[-1])
    last_valid = np.maximum.accumulate(np.where(np.isnan(a), 0, positions), axis=-1)
    out = np.take_along_axis(a, last_valid, axis=-1)
    if n is not None:
        out = np.where(positions - last_valid > n, np.nan, out)
    return np.moveaxis(out, -1, axis)


@pytest.fixture
def push_without_bottleneck(monkeypatch):
    """xarray's ffill/bfill need bottleneck or numbagg for the per-block fill; a NumPy one stands in."""
    from xarray.core import duck_array_ops

    monkeypatch.setattr(duck_array_ops, "_push", numpy_push)


def test_ffill_bfill_with_limit_longer_than_a_chunk(push_without_bottleneck, scheduler):
    # a limit longer than a chunk takes xarray's scan path, which calls ``x.cumsum(axis, method=)``
    values = np.array([1.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 5.0, np.nan, np.nan, np.nan, 7.0])
    da = xr.DataArray(np.stack([values, values[::-1]], axis=1), dims=("t", "c"))
    cda = da.chunk(t=3, chunked_array_type="chunkwise")
    for limit in (None, 1, 2, 4, 5):
        for method in ("ffill", "bfill"):
            result = getattr(cda, method)("t", limit=limit)
            assert isinstance(result.data, ca.Array)
            with chunkwise.config.set(scheduler=scheduler):
                xr.testing.assert_identical(result.compute(), getattr(da, method)("t", limit=limit))


def test_ffill_of_a_dataset(push_without_bottleneck, gappy, scheduler):
    ds, cds = gappy
    check(cds.ffill("time"), ds.ffill("time"), scheduler)
    check(cds.bfill("time", limit=100), ds.bfill("time", limit=100), scheduler)


def test_mean_of_timedeltas_through_the_managers_isnull(gappy, scheduler):
    ds, cds = gappy  # xarray calls chunkmanager.array_api.isnull (Dask's name) on the timedeltas
    assert xcm.ChunkwiseManager().array_api.isnull is xcm.isnull
    result = (cds.time - cds.time[0]).where(cds.temperature > 0).mean("time")
    with chunkwise.config.set(scheduler=scheduler):
        xr.testing.assert_identical(result.compute(), (ds.time - ds.time[0]).where(ds.temperature > 0).mean("time"))


def test_isnull_matches_pandas_on_uneven_and_empty_blocks(scheduler):
    values = np.array([1.0, None, "a", np.nan, pd.NaT, 3], dtype=object)
    x = ca.from_array(values, chunks=2).rechunk(((1, 0, 5),))
    with chunkwise.config.set(scheduler=scheduler):
        np.testing.assert_array_equal(xcm.isnull(x).compute(), pd.isnull(values))


def test_argmax_over_two_dimensions_unravels_lazily(gappy, scheduler):
    ds, cds = gappy  # xarray calls np.unravel_index on the chunkwise flat argmax
    result = cds.temperature.fillna(0).argmax(dim=["time", "x"])
    assert all(isinstance(v.data, ca.Array) for v in result.values())
    expected = ds.temperature.fillna(0).argmax(dim=["time", "x"])
    with chunkwise.config.set(scheduler=scheduler):
        for dim in ("time", "x"):
            xr.testing.assert_identical(result[dim].compute(), expected[dim])


def test_idxmin_of_a_3d_array_keeps_the_chunks():
    # xarray's test_idxmin_chunking: the coordinate is indexed by a 2-d chunkwise index (vindex)
    t, x, y = 10, 20, 12
    da = xr.DataArray(np.random.default_rng(5).random((t, x, y)),
                      coords={"time": range(t), "x": range(x), "y": range(y)})
    cda = da.chunk({"time": -1, "x": 7, "y": 5}, chunked_array_type="chunkwise")
    for name in ("idxmin", "idxmax"):
        result = getattr(cda, name)("time")
        assert result.chunksizes == {k: cda.chunksizes[k] for k in ("x", "y")}
        xr.testing.assert_identical(result.compute(), getattr(da, name)("time"))


def test_concat_of_numpy_and_chunkwise_variables():
    # xarray asks np.result_type(numpy_array, chunkwise_array) for the shared dtype
    u = xr.Variable(("x", "y"), np.random.default_rng(6).random((4, 6)))
    v = u.chunk({"x": 2}, chunked_array_type="chunkwise")
    for parts in ([u[0], v[1]], [v[0], u[1].astype("float32")], [v[:2], v[2:]]):
        result = xr.Variable.concat(parts, "x")
        assert isinstance(result.data, ca.Array)
        xr.testing.assert_identical(result.compute(), xr.Variable.concat([p.compute() for p in parts], "x"))


def test_auto_chunks_with_a_zero_length_dimension():
    # xarray's test_partial_auto_chunk_zero_len_dim: "auto" cannot size empty blocks
    ds = make_dataset()
    empty = ds.chunk({"time": 70}, chunked_array_type="chunkwise").isel(time=[])
    rechunked = empty.chunk({"x": "auto"}, chunked_array_type="chunkwise")
    assert rechunked.temperature.data.chunks == ((0,), (6,))
    fresh = ds.isel(time=[]).chunk({"x": "auto"}, chunked_array_type="chunkwise")
    assert fresh.temperature.data.chunks == ((0,), (6,))
    xr.testing.assert_identical(rechunked.compute(), ds.isel(time=[]))
    assert empty.temperature.variable.chunk({"x": "auto"}, chunked_array_type="chunkwise").shape == (0, 6)


@pytest.fixture
def timestamps():
    time = xr.DataArray(pd.date_range("2000-01-01", periods=400, freq="37h").values, dims="time")
    return time, time.chunk(time=70, chunked_array_type="chunkwise")


DATE_FIELDS = {
    "month": lambda v: v.dt.month,  # pandas gives int32; xarray declares (and casts to) int64
    "dayofyear": lambda v: v.dt.dayofyear,
    "days_in_month": lambda v: v.dt.days_in_month,
    "isocalendar": lambda v: v.dt.isocalendar(),  # a new axis, declared as one block's shape
    "strftime": lambda v: v.dt.strftime("%Y-%m"),
    "floor": lambda v: v.dt.floor("D"),
    "season": lambda v: v.dt.season,
    "timedelta_days": lambda v: (v - v[0]).dt.days,
}


@pytest.mark.parametrize("name", sorted(DATE_FIELDS))
def test_datetime_accessor(timestamps, name, scheduler):
    time, ctime = timestamps  # the .dt accessor goes through the manager's map_blocks
    result = DATE_FIELDS[name](ctime)
    first = result if isinstance(result, xr.DataArray) else result["week"]
    assert isinstance(first.data, ca.Array)
    with chunkwise.config.set(scheduler=scheduler):
        computed = result.compute()
    expected = DATE_FIELDS[name](time)
    xr.testing.assert_identical(computed, expected)
    if isinstance(expected, xr.DataArray) and expected.dtype.kind in "iufM":
        assert computed.dtype == expected.dtype


def test_datetime_field_with_nat_is_refused_clearly(timestamps):
    time, _ = timestamps  # xarray declares int64, NumPy's path returns float64 NaN at NaT
    time = time.copy()
    time[5] = np.datetime64("NaT", "ns")
    month = time.chunk(time=70, chunked_array_type="chunkwise").dt.month
    with pytest.raises(ValueError, match="declared dtype int64.*NaN.*fillna"):
        month.compute()


def test_map_blocks_through_the_manager_casts_to_the_declared_dtype():
    manager = xcm.ChunkwiseManager()
    x = ca.from_array(np.arange(10, dtype=np.int64), chunks=4)
    halves = manager.map_blocks(lambda b: (b // 2).astype(np.int32), x, dtype=np.int64)
    assert halves.dtype == np.int64
    result = halves.compute()
    assert result.dtype == np.int64
    np.testing.assert_array_equal(result, np.arange(10) // 2)
    # one block's shape, as xarray gives it: the input's chunks on the input's axes
    tripled = manager.map_blocks(lambda b: np.stack([b, b, b]), x, dtype=np.int64,
                                 chunks=(3, 4), new_axis=0)
    assert tripled.chunks == ((3,), (4, 4, 2))
    np.testing.assert_array_equal(tripled.compute(), np.stack([np.arange(10)] * 3))


# --- where xarray's code is written for Dask only -------------------------------------------------


def test_interp_needs_chunkwise_as_the_default_manager(gappy, scheduler):
    pytest.importorskip("dask")
    ds, cds = gappy
    ds, cds = ds.fillna(0), cds.fillna(0)
    targets = {"x": [0.5, 2.5, 4.2]}
    # a chunkwise array is a Dask collection, so xarray builds the interpolation targets
    # with ``.chunk()`` under its default manager (Dask) and then refuses the mix
    with pytest.raises(TypeError, match="Mixing chunked array types"):
        cds.temperature.interp(**targets)
    with xr.set_options(chunk_manager="chunkwise"):
        result = cds.temperature.interp(**targets)
        by_time = cds.temperature.interp(time=pd.date_range("2000-01-05", periods=30, freq="5D"))
    assert isinstance(result.data, ca.Array)
    with chunkwise.config.set(scheduler=scheduler):
        xr.testing.assert_allclose(result.compute(), ds.temperature.interp(**targets))
        xr.testing.assert_allclose(
            by_time.compute(), ds.temperature.interp(time=pd.date_range("2000-01-05", periods=30, freq="5D")))


def test_xarray_map_blocks_runs_through_dask(data):
    pytest.importorskip("dask")
    ds, cds = data  # xr.map_blocks builds a Dask graph itself; it never asks the chunk manager
    result = xr.map_blocks(lambda block: block * 2 + 1, cds)
    assert type(result.temperature.data).__module__.startswith("dask")
    xr.testing.assert_allclose(result.compute(), ds * 2 + 1)
    # apply_ufunc(dask="parallelized") is the chunkwise-native way to run a function per block
    native = xr.apply_ufunc(lambda b: b * 2 + 1, cds, dask="parallelized", output_dtypes=[float])
    assert_chunkwise_backed(native)
    xr.testing.assert_allclose(native.compute(), ds * 2 + 1)


def test_outer_indexing_with_two_lists_is_refused_by_xarrays_dask_adapter(data):
    pytest.importorskip("dask")
    ds, cds = data
    # xarray indexes a Dask collection through its Dask adapter, which expects Dask's
    # NotImplementedError for two list indexers; chunkwise indexes pointwise, as NumPy does
    # (an error always: lists of one length index pointwise, and xarray then finds too few dimensions)
    for keys in ({"time": [0, 1], "x": [2, 3, 4]}, {"time": [0, 1, 5], "x": [2, 3, 4]}):
        with pytest.raises(ValueError):
            cds.temperature.isel(keys)
    with pytest.raises(ValueError):
        cds.temperature.reindex(time=ds.time[:3].values, x=[0.5, 1, 2])
    one_at_a_time = cds.temperature.isel(time=[0, 1]).isel(x=[2, 3, 4])
    assert isinstance(one_at_a_time.data, ca.Array)
    xr.testing.assert_identical(one_at_a_time.compute(), ds.temperature.isel(time=[0, 1], x=[2, 3, 4]))
    reindexed = cds.temperature.reindex(time=ds.time[:3].values).reindex(x=[0.5, 1, 2])
    xr.testing.assert_identical(reindexed.compute(), ds.temperature.reindex(time=ds.time[:3].values, x=[0.5, 1, 2]))


# --- xarray's parallelcompat tests, with chunkwise as the manager -----------------------------------


def test_parallelcompat_get_manager_by_name_and_option():
    assert isinstance(guess_chunkmanager("chunkwise"), xcm.ChunkwiseManager)
    with xr.set_options(chunk_manager="chunkwise"):
        assert isinstance(guess_chunkmanager(None), xcm.ChunkwiseManager)


def test_parallelcompat_detects_chunkwise_arrays_and_ignores_in_memory_ones():
    x = ca.from_array(np.arange(6.0), chunks=4)
    assert isinstance(get_chunked_array_type(x), xcm.ChunkwiseManager)
    assert isinstance(get_chunked_array_type(np.arange(3), x, 1.0), xcm.ChunkwiseManager)
    with pytest.raises(TypeError, match="Expected a chunked array"):
        get_chunked_array_type(np.arange(3))


def test_parallelcompat_refuses_a_mix_with_dask_and_leaves_dask_to_dask():
    dask_array = pytest.importorskip("dask.array")
    from xarray.namedarray.daskmanager import DaskManager

    d = dask_array.ones(4, chunks=2)
    assert isinstance(get_chunked_array_type(d), DaskManager)
    with pytest.raises(TypeError, match="Mixing chunked array types"):
        get_chunked_array_type(d, ca.ones(4, chunks=2))


def test_apply_ufunc_vectorized_with_a_new_output_dimension(data, scheduler):
    ds, cds = data  # apply_gufunc with vectorize=True, output_sizes and allow_rechunk, as polyfit-like code does

    def fit(y):
        return np.polyfit(np.arange(len(y)), y, 1)

    kwargs = {"input_core_dims": [["time"]], "output_core_dims": [["deg"]], "vectorize": True}
    result = xr.apply_ufunc(fit, cds.temperature, dask="parallelized", output_dtypes=[float],
                            dask_gufunc_kwargs={"output_sizes": {"deg": 2}, "allow_rechunk": True}, **kwargs)
    assert isinstance(result.data, ca.Array)
    assert result.data.chunks == ((4, 2), (2,))
    with chunkwise.config.set(scheduler=scheduler):
        xr.testing.assert_allclose(result.compute(), xr.apply_ufunc(fit, ds.temperature, **kwargs))


def test_xr_unify_chunks_refines_both(data):
    ds, cds = data
    temperature, precipitation = xr.unify_chunks(
        cds.temperature, cds.precipitation.chunk(time=50, chunked_array_type="chunkwise"))
    assert temperature.chunks[0] == precipitation.chunks[0] == (
        50, 20, 30, 40, 10, 50, 10, 40, 30, 20, 50, 50)
    xr.testing.assert_identical(temperature.compute(), ds.temperature)
    xr.testing.assert_identical(precipitation.compute(), ds.precipitation)


def test_store_options_netcdf_delayed_append_and_region(tmp_path, scheduler):
    pytest.importorskip("zarr")
    pytest.importorskip("scipy")
    ds = make_dataset(seed=2)
    cds = ds.chunk({"time": 70, "x": 4}, chunked_array_type="chunkwise")
    with chunkwise.config.set(scheduler=scheduler):
        (cds * 2).to_netcdf(tmp_path / "a.nc", engine="scipy")
        back = xr.open_dataset(tmp_path / "a.nc", engine="scipy", chunks={"time": 90},
                               chunked_array_type="chunkwise")
        assert_chunkwise_backed(back)
        xr.testing.assert_allclose(back.compute(), ds * 2)
        delayed = (cds + 1).to_zarr(tmp_path / "b.zarr", compute=False)  # the manager's store(compute=False)
        delayed.compute()
        xr.testing.assert_allclose(xr.open_zarr(tmp_path / "b.zarr").compute(), ds + 1)
        cds.isel(time=slice(0, 140)).to_zarr(tmp_path / "c.zarr", mode="w")
        cds.isel(time=slice(140, None)).to_zarr(tmp_path / "c.zarr", append_dim="time")
        xr.testing.assert_allclose(xr.open_zarr(tmp_path / "c.zarr").compute(), ds)
        (cds * 0).to_zarr(tmp_path / "d.zarr", mode="w")
        (cds.isel(time=slice(70, 140)) * 3).drop_vars("x").to_zarr(tmp_path / "d.zarr", region={"time": slice(70, 140)})
    expected = ds * 0
    expected[{"time": slice(70, 140)}] = ds.isel(time=slice(70, 140)) * 3
    xr.testing.assert_allclose(xr.open_zarr(tmp_path / "d.zarr").compute(), expected)


def test_groupby_with_flox_installed_needs_use_flox_false(data, scheduler):
    pytest.importorskip("flox")
    pytest.importorskip("dask")
    ds, cds = data
    # flox takes its Dask code path for any Dask collection, and builds Dask's objects from ours
    with xr.set_options(use_flox=True), pytest.raises(TypeError):
        cds.groupby("time.month").mean()
    with xr.set_options(use_flox=False):
        check(cds.groupby("time.month").mean(), ds.groupby("time.month").mean(), scheduler)
        check(cds.resample(time="1MS").mean(), ds.resample(time="1MS").mean(), scheduler)
