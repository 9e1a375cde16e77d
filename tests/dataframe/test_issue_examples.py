"""Issue 16's three examples, exactly as written, on a hive-partitioned Parquet directory.

The test writes ``events/`` (partitioned by ``country``, so that ``age`` stays
an ordinary int column and ``df.age > 1`` works as in pandas) into a temporary
directory, changes into it, and runs the examples verbatim. Each answer is
compared with pandas on the same data in memory and with pandas'
``pd.read_parquet("events/")`` of the same files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chunkwise.dataframe import assert_eq


def events_frame(n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(16)
    names = pd.Series(rng.choice(["alice", "bob", "carol", "dan"], n), dtype="str")
    names[::97] = None  # a few missing names: groupby drops them, describe ignores them
    return pd.DataFrame({
        "id": np.arange(n),
        "name": names,
        "age": rng.integers(0, 5, n),
        "amount": rng.normal(100, 20, n).round(2),
        "country": rng.choice(["de", "fr", "us"], n),
    })


@pytest.fixture
def events(tmp_path, monkeypatch):
    """The in-memory frame; ``events/`` written with hive partitions, and the cwd set beside it."""
    pdf = events_frame()
    pdf.to_parquet(tmp_path / "events", partition_cols=["country"], row_group_size=400)
    monkeypatch.chdir(tmp_path)
    return pdf


def test_the_dataset_is_hive_partitioned(events):
    import chunkwise.dataframe as dd

    df = dd.read_parquet("events/")
    assert df.npartitions == 3  # one file per country directory
    assert isinstance(df.dtypes["country"], pd.CategoricalDtype)
    assert df.dtypes["age"] == np.dtype("int64")


def test_example_1_filter_then_groupby_size(events, scheduler):
    import chunkwise.dataframe as dd
    df = dd.read_parquet("events/")                      # a directory, hive partitions
    result = df[df.age > 1].groupby("age").size().compute(scheduler=scheduler)

    expected = events[events.age > 1].groupby("age").size()
    pd.testing.assert_series_equal(result, expected)
    from_files = pd.read_parquet("events/")
    pd.testing.assert_series_equal(result, from_files[from_files.age > 1].groupby("age").size())
    assert_eq(df[df.age > 1].groupby("age").size(), expected, scheduler=scheduler)
    # what was read: only the age column, with the filter pushed into the scan
    plan = df[df.age > 1].groupby("age").size().explain(show=False)
    assert "columns=['age']" in plan
    assert "filters=[[('age', '>', 1)]]" in plan
    assert "'amount'" not in plan and "'name'" not in plan


def test_example_2_groupby_agg_dict(events, scheduler):
    import chunkwise.dataframe as dd
    df = dd.read_parquet("events/")                      # a directory, hive partitions
    result = df.groupby("name").agg({"amount": ["sum", "mean"], "id": "count"}).compute(
        scheduler=scheduler)

    spec = {"amount": ["sum", "mean"], "id": "count"}
    # the files hold the rows grouped by country: sums add in another order
    pd.testing.assert_frame_equal(result, events.groupby("name").agg(spec), check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(result, pd.read_parquet("events/").groupby("name").agg(spec),
                                  check_exact=False, rtol=1e-12)
    assert list(result.index) == ["alice", "bob", "carol", "dan"]  # missing names dropped, sorted
    assert result[("id", "count")].sum() == events.name.notna().sum()
    plan = df.groupby("name").agg(spec).explain(show=False)
    assert sorted(_scan_columns(plan)) == ["amount", "id", "name"]  # not age, not country


def test_example_3_describe(events, scheduler):
    import chunkwise.dataframe as dd
    df = dd.read_parquet("events/")                      # a directory, hive partitions
    result = df[["name", "amount"]].describe().compute(scheduler=scheduler)

    # describe's percentiles are exact while a partition holds at most 4096 rows (docs/dataframe.md)
    expected = events[["name", "amount"]].describe()
    pd.testing.assert_frame_equal(result, expected, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(result, pd.read_parquet("events/")[["name", "amount"]].describe(),
                                  check_exact=False, rtol=1e-12)
    assert list(result.columns) == ["amount"]  # pandas describes the numeric columns only
    assert _scan_columns(df[["name", "amount"]].describe().explain(show=False)) == ["amount"]


def _scan_columns(plan: str) -> list[str]:
    """The columns the (first) ReadParquet line of an ``explain()`` text reads."""
    line = next(line for line in plan.splitlines() if "ReadParquet" in line)
    listed = line.split("columns=[", 1)[1].split("]", 1)[0]
    return [name.strip().strip("'") for name in listed.split(",")]


# --- issue 17: joins and time series ------------------------------------------------------------------


def orders_frames(n: int = 4_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders sorted by time (as a log is written) and a small users dimension."""
    rng = np.random.default_rng(17)
    seconds = np.sort(rng.integers(0, 5 * 86_400, n))
    orders = pd.DataFrame({
        "order_id": np.arange(n),
        "user_id": rng.integers(0, 300, n),
        "amount": rng.normal(50, 15, n).round(2),
        "timestamp": pd.Timestamp("2024-05-01") + pd.to_timedelta(seconds, unit="s"),
    })
    users = pd.DataFrame({
        "user_id": np.arange(0, 280),  # users 280-299 placed orders but are missing here
        "country": pd.Series(rng.choice(["de", "fr", "us", "jp"], 280), dtype="str"),
    })
    return orders, users


@pytest.fixture
def orders_and_users(tmp_path, monkeypatch):
    orders, users = orders_frames()
    (tmp_path / "orders").mkdir()
    for i, start in enumerate(range(0, len(orders), 1_000)):  # four files, in time order
        orders.iloc[start:start + 1_000].to_parquet(tmp_path / "orders" / f"part.{i}.parquet", index=False)
    (tmp_path / "users").mkdir()
    users.to_parquet(tmp_path / "users" / "part.0.parquet", index=False)
    monkeypatch.chdir(tmp_path)
    return orders, users


def test_issue17_example_1_merge_then_groupby(orders_and_users, scheduler):
    import chunkwise.dataframe as dd
    orders = dd.read_parquet("orders/"); users = dd.read_parquet("users/")  # noqa: E702 (as written)
    result = orders.merge(users, on="user_id").groupby("country").amount.sum().compute(scheduler=scheduler)

    pdf_orders, pdf_users = orders_and_users
    expected = pdf_orders.merge(pdf_users, on="user_id").groupby("country").amount.sum()
    pd.testing.assert_series_equal(result, expected, check_exact=False, rtol=1e-12)
    # users is one file: it is broadcast to each orders partition, no shuffle; the sums are
    # taken per user_id before the join, which then joins those few rows to users' country
    plan = orders.merge(users, on="user_id").groupby("country").amount.sum().explain(show=False)
    assert "JoinedPartials: groupby partials per ['user_id'] joined (inner) to ['country']" in plan
    assert "Shuffle" not in plan
    # the orders scan reads only the key and the column summed (users has just the two it needs)
    scans = [line.strip() for line in plan.splitlines() if "ReadParquet" in line]
    assert len(scans) == 2
    assert "orders" in scans[0] and "columns=['user_id', 'amount']" in scans[0]
    assert "users" in scans[1]


def test_issue17_example_3_set_index_then_rolling(orders_and_users, scheduler):
    import chunkwise.dataframe as dd
    orders = dd.read_parquet("orders/")
    result = orders.set_index("timestamp").amount.rolling("1h").mean().compute(scheduler=scheduler)

    pdf_orders, _ = orders_and_users
    expected = pdf_orders.set_index("timestamp").amount.rolling("1h").mean()
    pd.testing.assert_series_equal(result, expected, check_exact=False, rtol=1e-9)
    plan = orders.set_index("timestamp").amount.rolling("1h").mean().explain(show=False)
    assert "Overlap: rolling-mean" in plan  # the previous partition's last hour, not a shuffle of rows
