"""``rolling`` against pandas: integer and time-offset windows across partition boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import map_partitions_expr


def _same(partition):
    return partition


METHODS = ["mean", "sum", "count", "min", "max", "std", "var"]


@pytest.fixture
def series_frame():
    rng = np.random.default_rng(12)
    seconds = np.sort(rng.choice(np.arange(0, 40_000), 400, replace=False))
    index = pd.DatetimeIndex(pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s"), name="t")
    frame = pd.DataFrame({"x": rng.normal(size=400), "n": rng.integers(0, 9, 400)}, index=index)
    frame.loc[frame.index[20:26], "x"] = np.nan
    return frame


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("window", [1, 4, 60])
@pytest.mark.parametrize("center", [False, True])
def test_integer_windows(series_frame, method, window, center, scheduler):
    df = dd.from_pandas(series_frame, npartitions=9)  # ~44 rows a partition: 60 spans two boundaries
    for min_periods in (None, 1):
        result = getattr(df.rolling(window, min_periods=min_periods, center=center), method)()
        expected = getattr(series_frame.rolling(window, min_periods=min_periods, center=center), method)()
        assert_eq(result, expected, scheduler=scheduler, check_exact=False, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("window", ["30s", "1h", "5h"])
def test_time_windows(series_frame, method, window, scheduler):
    df = dd.from_pandas(series_frame, npartitions=9)
    result = getattr(df.x.rolling(window), method)()
    expected = getattr(series_frame.x.rolling(window), method)()
    assert_eq(result, expected, scheduler=scheduler, check_exact=False, rtol=1e-9, atol=1e-12)
    frame_result = getattr(df.rolling(pd.Timedelta(window), min_periods=3), method)()
    assert_eq(frame_result, getattr(series_frame.rolling(pd.Timedelta(window), min_periods=3), method)(),
              scheduler=scheduler, check_exact=False, rtol=1e-9, atol=1e-12)


def test_a_window_longer_than_several_partitions(series_frame, scheduler):
    df = dd.from_pandas(series_frame, npartitions=40)  # 10 rows a partition, a window of 5h ~ 180 rows
    assert_eq(df.x.rolling("5h").sum(), series_frame.x.rolling("5h").sum(), scheduler=scheduler,
              check_exact=False, rtol=1e-9)
    assert_eq(df.n.rolling(35).max(), series_frame.n.rolling(35).max(), scheduler=scheduler)
    plan = df.x.rolling("5h").sum().explain(show=False)
    assert "Overlap" in plan and "Shuffle" not in plan


def test_empty_partitions(series_frame, scheduler):
    df = dd.from_pandas(series_frame, npartitions=8)
    kept = df[df.n > 2]
    pdf = series_frame[series_frame.n > 2]
    assert_eq(kept.x.rolling("1h").mean(), pdf.x.rolling("1h").mean(), scheduler=scheduler,
              check_exact=False, rtol=1e-9)
    nothing = df[df.n > 100]
    assert_eq(nothing.x.rolling(3).sum(), series_frame[series_frame.n > 100].x.rolling(3).sum(),
              scheduler=scheduler)


def test_integer_windows_work_positionally_without_divisions(series_frame, scheduler):
    frame = series_frame.reset_index(drop=True)
    df = dd.from_pandas(frame, npartitions=5).reset_index(drop=True)  # unknown divisions
    assert not df.known_divisions
    result = df.x.rolling(7).mean().compute(scheduler=scheduler)
    np.testing.assert_allclose(result.to_numpy(), frame.x.rolling(7).mean().to_numpy(), rtol=1e-9)


def test_refusals(series_frame):
    df = dd.from_pandas(series_frame, npartitions=4)
    numbered = df.reset_index(drop=True)
    with pytest.raises(ValueError, match="datetime index"):  # pandas' type
        numbered.x.rolling("1h")
    plain = dd.from_pandas(series_frame.reset_index(), npartitions=3)
    with pytest.raises(ValueError, match="set_index"):
        plain.x.rolling("1h")
    with pytest.raises(ValueError, match="positive"):
        df.rolling(0)
    with pytest.raises(NotImplementedError, match="center"):
        df.rolling("1h", center=True)
    with pytest.raises(ValueError, match="integer or a time span"):
        df.rolling("often")


def test_unknown_divisions_refused_for_time_windows(series_frame):
    df = dd.from_pandas(series_frame, npartitions=4)
    cleared = new_collection(map_partitions_expr(_same, df.expr, meta=df._meta, clear_divisions=True))
    assert not cleared.known_divisions
    with pytest.raises(ValueError, match=r"set_index\('time', sorted=True\)"):
        cleared.x.rolling("1h")


@pytest.mark.parametrize("window", ["1min", "10min", 5])
def test_trailing_windows_with_times_repeated_across_partition_boundaries(window, scheduler):
    """A trailing window runs on each partition as it is and again on its first rows with
    the rows borrowed before it; times repeated across a boundary are in both windows."""
    rng = np.random.default_rng(3)
    seconds = np.repeat(np.arange(0, 3_000, 20), 4)  # each time 4 times: boundaries split them
    pdf = pd.DataFrame({"t": pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s"),
                        "x": rng.normal(size=len(seconds))})
    pdf.loc[7:9, "x"] = np.nan
    df = dd.from_pandas(pdf, npartitions=7, sort=False).set_index("t", sorted=True)
    expected = pdf.set_index("t")
    cuts = np.linspace(0, len(pdf), 8).astype(int)[1:-1]
    assert any(seconds[c - 1] == seconds[c] for c in cuts)  # a time in two files' rows
    same = {"scheduler": scheduler, "check_exact": False, "rtol": 1e-9, "atol": 1e-12}
    for method in ("mean", "sum", "count", "max", "std"):
        assert_eq(getattr(df.x.rolling(window), method)(), getattr(expected.x.rolling(window), method)(),
                  **same)
        assert_eq(getattr(df.rolling(window, min_periods=2), method)(),
                  getattr(expected.rolling(window, min_periods=2), method)(), **same)
