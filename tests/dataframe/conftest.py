"""Fixtures for the dataframe tests: schedulers and pandas data with awkward dtypes."""

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(params=["sync", "threads"])
def scheduler(request):
    return request.param


def make_frame(n: int = 20, seed: int = 0) -> pd.DataFrame:
    """Ints, floats with nulls, strings with nulls, a categorical, tz-aware datetimes."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=n)
    floats[::5] = np.nan
    names = pd.Series(rng.choice(["alice", "bob", "carol", "dan"], size=n), dtype="str")
    names[3::7] = None
    return pd.DataFrame(
        {
            "i": rng.integers(-5, 10, size=n),
            "f": floats,
            "s": names,
            "c": pd.Categorical(rng.choice(["x", "y", "z"], size=n)),
            "t": pd.date_range("2024-03-30", periods=n, freq="7h", tz="Europe/Berlin"),
        },
        index=pd.Index(np.arange(n) * 2, name="idx"),
    )


@pytest.fixture
def pdf():
    return make_frame()
