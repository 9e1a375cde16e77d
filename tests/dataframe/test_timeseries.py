"""``shift``, ``diff``, ``pct_change`` and cumulative sums across partitions, against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq


@pytest.fixture
def frame():
    rng = np.random.default_rng(7)
    index = pd.date_range("2024-01-01", periods=120, freq="13min", name="t")
    out = pd.DataFrame({"x": rng.normal(10, 2, 120), "n": rng.integers(1, 9, 120)}, index=index)
    out.loc[out.index[30:34], "x"] = np.nan
    return out


@pytest.mark.parametrize("periods", [1, 3, 50, -1, -7, 0])
@pytest.mark.parametrize("method", ["shift", "diff", "pct_change"])
def test_positional_across_partitions(frame, method, periods, scheduler):
    df = dd.from_pandas(frame, npartitions=6)  # 20 rows a partition: 50 spans three boundaries
    assert_eq(getattr(df, method)(periods), getattr(frame, method)(periods), scheduler=scheduler)
    assert_eq(getattr(df.x, method)(periods), getattr(frame.x, method)(periods), scheduler=scheduler)


def test_shift_by_freq_moves_the_divisions(frame, scheduler):
    df = dd.from_pandas(frame, npartitions=4)
    result = df.shift(2, freq="1h")
    assert result.divisions[0] == df.divisions[0] + pd.Timedelta("2h")
    assert "Overlap" not in result.explain(show=False)  # only the index moves: no rows borrowed
    assert_eq(result, frame.shift(2, freq="1h"), scheduler=scheduler)


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "cummax", "cummin"])
@pytest.mark.parametrize("skipna", [True, False])
def test_cumulative_carry(frame, op, skipna, scheduler):
    small = frame.assign(x=frame.x / 10, n=(frame.n == 8) + 1)  # products of 120 values stay in range
    df = dd.from_pandas(small, npartitions=7)
    assert_eq(getattr(df, op)(skipna=skipna), getattr(small, op)(skipna=skipna), scheduler=scheduler,
              check_exact=False, rtol=1e-9)
    assert_eq(getattr(df.n, op)(), getattr(small.n, op)(), scheduler=scheduler)
    plan = getattr(df, op)().explain(show=False)
    assert "carry" in plan and "Shuffle" not in plan


def test_empty_partitions(frame, scheduler):
    df = dd.from_pandas(frame, npartitions=6)
    kept = df[(df.n > 6)]
    pdf = frame[frame.n > 6]
    assert_eq(kept.cumsum(), pdf.cumsum(), scheduler=scheduler, check_exact=False, rtol=1e-12)
    assert_eq(kept.x.diff(2), pdf.x.diff(2), scheduler=scheduler)
    none = df[df.n > 100]
    assert_eq(none.x.cumsum(), frame[frame.n > 100].x.cumsum(), scheduler=scheduler)
    assert_eq(none.x.shift(1), frame[frame.n > 100].x.shift(1), scheduler=scheduler)


def test_unknown_divisions_are_positional(frame, scheduler):
    plain = frame.reset_index(drop=True)
    df = dd.from_pandas(plain, npartitions=5).reset_index(drop=True)
    assert not df.known_divisions
    got = df.x.diff(3).compute(scheduler=scheduler)
    np.testing.assert_allclose(got.to_numpy(), plain.x.diff(3).to_numpy(), equal_nan=True)
    got = df.n.cumsum().compute(scheduler=scheduler)
    np.testing.assert_array_equal(got.to_numpy(), plain.n.cumsum().to_numpy())


def test_errors(frame):
    df = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(TypeError, match="periods"):
        df.shift(1.5)
    strings = dd.from_pandas(pd.DataFrame({"s": ["a", "b"]}), npartitions=1)
    with pytest.raises(TypeError, match="cumprod"):
        strings.cumprod()
