"""``resample`` against pandas: bins spanning partitions, empty bins, rules, Series and DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.core import new_collection
from chunkwise.dataframe.expr import map_partitions_expr

HOWS = ["sum", "mean", "count", "min", "max", "ohlc", "first", "last"]


@pytest.fixture
def frame():
    rng = np.random.default_rng(30)
    seconds = np.sort(rng.integers(0, 3 * 86_400, 500))
    index = pd.DatetimeIndex(pd.Timestamp("2024-01-01 03:17") + pd.to_timedelta(seconds, unit="s"), name="t")
    out = pd.DataFrame({"x": rng.normal(size=500), "n": rng.integers(0, 9, 500)}, index=index)
    out.loc[out.index[40:60], "x"] = np.nan
    return out


def _loose(expected):
    """pandas' result with int columns as float64: chunkwise's null-safe meta for these aggregations."""
    if isinstance(expected, pd.Series):
        return expected.astype("float64") if expected.dtype.kind in "iu" else expected
    return expected.astype({c: "float64" for c, d in expected.dtypes.items() if d.kind in "iu"})


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("rule", ["1h", "7h", "1D", "2D", "15min", "W", "ME"])
def test_against_pandas(frame, how, rule, scheduler):
    df = dd.from_pandas(frame, npartitions=7)
    for obj, pobj in ((df, frame), (df.x, frame.x), (df.n, frame.n)):
        result = getattr(obj.resample(rule), how)()
        expected = getattr(pobj.resample(rule), how)()
        if how in ("min", "max", "first", "last", "ohlc"):
            expected = _loose(expected)  # an empty bin would make them float in pandas too
        assert_eq(result, expected, scheduler=scheduler, check_freq=False, check_exact=False, rtol=1e-9)


def test_bins_spanning_many_partitions(frame, scheduler):
    df = dd.from_pandas(frame, npartitions=50)  # 10 rows a partition; a day holds ~170
    result = df.x.resample("1D").mean()
    assert result.npartitions < df.npartitions
    assert_eq(result, frame.x.resample("1D").mean(), scheduler=scheduler, check_freq=False,
              check_exact=False, rtol=1e-9)
    assert "Resample" in result.explain(show=False) and "Shuffle" not in result.explain(show=False)


def test_gaps_between_partitions_are_filled(scheduler):
    index = pd.DatetimeIndex(["2024-01-01 00:10", "2024-01-01 00:20", "2024-01-01 05:10", "2024-01-01 09:59"])
    s = pd.Series([1, 2, 3, 4], index=index)
    ds = dd.from_pandas(s, npartitions=3)
    assert_eq(ds.resample("1h").sum(), s.resample("1h").sum(), scheduler=scheduler, check_freq=False)
    assert_eq(ds.resample("1h").count(), s.resample("1h").count(), scheduler=scheduler, check_freq=False)
    assert_eq(ds.resample("1h").mean(), s.resample("1h").mean(), scheduler=scheduler, check_freq=False)


def test_closed_and_label(frame, scheduler):
    df = dd.from_pandas(frame, npartitions=6)
    for closed, label in (("right", "right"), ("right", "left"), ("left", "right")):
        assert_eq(df.x.resample("3h", closed=closed, label=label).sum(),
                  frame.x.resample("3h", closed=closed, label=label).sum(), scheduler=scheduler,
                  check_freq=False, check_exact=False, rtol=1e-9)


def test_refusals(frame):
    df = dd.from_pandas(frame, npartitions=4)
    with pytest.raises(TypeError, match="datetime index"):
        df.reset_index(drop=True).resample("1h")
    cleared = new_collection(map_partitions_expr(_same, df.expr, meta=df._meta, clear_divisions=True))
    with pytest.raises(ValueError, match="set_index"):
        cleared.resample("1h")
    with pytest.raises(ValueError, match="resample"):
        df.resample("not-a-rule")


def _same(partition):
    return partition
