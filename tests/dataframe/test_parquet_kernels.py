"""Reductions computed on what a Parquet read gives before pandas (dictionary codes,
Arrow tables): each path against pandas on the same files, and what was read."""

import numpy as np
import pandas as pd
import pytest

import chunkwise
from chunkwise.dataframe.io.parquet import read_parquet, record_reads

SCHEDULERS = ["sync", "threads"]


def frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = pd.Series(rng.choice(["alice", "bob", "carol", "dan", "eve"], size=n,
                                 p=[0.4, 0.25, 0.2, 0.1, 0.05]), dtype="str")
    names[3::7] = None
    floats = rng.normal(size=n)
    floats[::5] = np.nan
    return pd.DataFrame({
        "i": np.arange(n),
        "f": floats,
        "s": names,
        "none": pd.Series([None] * n, dtype="str"),
        "c": pd.Categorical(rng.choice(["x", "y"], size=n), categories=["x", "y", "z"]),
    })


@pytest.fixture
def files(tmp_path):
    """Three files in row groups of 7 rows, then an empty file (the same schema)."""
    pdf = frame()
    path = tmp_path / "data"
    path.mkdir()
    for k in range(3):
        pdf.iloc[k * 20:(k + 1) * 20].reset_index(drop=True).to_parquet(
            path / f"part.{k}.parquet", row_group_size=7)
    pdf.iloc[:0].to_parquet(path / "part.3.parquet")
    return path, pdf


def same_counts(got: pd.Series, expected: pd.Series) -> None:
    """Equal as pandas' (dtype, name, index name), sorted by count; order among ties free."""
    assert list(got.to_numpy()) == sorted(got.to_numpy(), reverse=True)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index())


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("column", ["s", "none"])
@pytest.mark.parametrize(("dropna", "normalize"), [(True, False), (False, False), (True, True)])
def test_value_counts_of_a_string_column_counts_dictionary_codes(files, scheduler, column,
                                                                 dropna, normalize):
    path, pdf = files
    df = read_parquet(path)
    query = df[column].value_counts(dropna=dropna, normalize=normalize)
    assert "dictionary=" in query.explain(show=False)
    with record_reads() as reads:
        got = query.compute(scheduler=scheduler)
    same_counts(got, pdf[column].value_counts(dropna=dropna, normalize=normalize))
    assert len(reads) == 4
    assert {(r.columns, r.dictionary) for r in reads} == {((column,), (column,))}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("column", ["s", "none"])
def test_nunique_and_mode_of_a_string_column_count_dictionary_codes(files, scheduler, column):
    path, pdf = files
    df = read_parquet(path)
    for dropna in (True, False):
        with record_reads() as reads:
            got = df[column].nunique(dropna=dropna).compute(scheduler=scheduler)
        assert got == pdf[column].nunique(dropna=dropna)
        assert {r.dictionary for r in reads} == {(column,)}
    with record_reads() as reads:
        got = df[column].mode().compute(scheduler=scheduler)
    pd.testing.assert_series_equal(got, pdf[column].mode())
    assert {r.dictionary for r in reads} == {(column,)}


def test_value_counts_of_empty_files_only(tmp_path):
    pdf = frame().iloc[:0]
    path = tmp_path / "empty"
    path.mkdir()
    pdf.to_parquet(path / "part.0.parquet")
    pdf.to_parquet(path / "part.1.parquet")
    got = read_parquet(path).s.value_counts().compute()
    pd.testing.assert_series_equal(got, pdf.s.value_counts())


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_value_counts_shares_the_read_with_other_results(files, scheduler):
    """Another column, or another use of the same column, of the same files: one plain
    read of each file serves every result (no dictionary read beside it)."""
    path, pdf = files
    df = read_parquet(path)
    with record_reads() as reads:
        counts, total = chunkwise.compute(df.s.value_counts(), df.f.sum(), scheduler=scheduler)
    same_counts(counts, pdf.s.value_counts())
    assert total == pytest.approx(pdf.f.sum())
    assert len(reads) == 4
    assert {(r.columns, r.dictionary) for r in reads} == {(("f", "s"), ())}
    with record_reads() as reads:
        counts, longest = chunkwise.compute(df.s.value_counts(), df.s.str.len().max(),
                                            scheduler=scheduler)
    same_counts(counts, pdf.s.value_counts())
    assert longest == pdf.s.str.len().max()
    assert len(reads) == 4
    assert {r.dictionary for r in reads} == {()}


def test_columns_that_are_not_plain_strings_keep_pandas_counts(files, tmp_path):
    """A categorical column counts every category (zeros too), as pandas does; a hive
    partition column and a filtered read are left to the plain path."""
    path, pdf = files
    df = read_parquet(path)
    query = df.c.value_counts()
    assert "dictionary=" not in query.explain(show=False)
    same_counts(query.compute(), pdf.c.value_counts())
    filtered = df[df.i > 10].s.value_counts()
    assert "dictionary=" not in filtered.explain(show=False)
    same_counts(filtered.compute(), pdf[pdf.i > 10].s.value_counts())
    hive = tmp_path / "hive"
    pdf.assign(k=pdf.i % 3).to_parquet(hive, partition_cols=["k"])
    query = read_parquet(hive).k.value_counts()
    assert "dictionary=" not in query.explain(show=False)
    expected = pd.read_parquet(hive).k.value_counts()
    pd.testing.assert_series_equal(query.compute().sort_index(), expected.sort_index())


def length_plan(query) -> str:
    return query.shape[0].optimize().expr.explain(show=False)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("predicate", [
    lambda d: d.f > 0.5,
    lambda d: (d.f >= -0.5) & (d.f < 0.5) | (d.i == 3),
    lambda d: d.s == "bob",
    lambda d: "carol" <= d.s,  # noqa: SIM300 (a reflected comparison, on purpose)
    lambda d: d.none == "x",
    lambda d: (d.i > 100),
])
def test_len_of_a_filtered_read_is_counted_on_arrow(files, scheduler, predicate):
    path, pdf = files
    df = read_parquet(path)
    query = df[predicate(df)]
    assert "ParquetFilteredLength" in length_plan(query)
    with record_reads() as reads:
        n = query.shape[0].compute(scheduler=scheduler)
    assert n == len(pdf[predicate(pdf)])
    assert len(reads) <= 4  # each file at most once (the empty one, or ruled out: not at all)
    assert all(set(r.columns) <= {"f", "i", "s", "none"} for r in reads)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_len_of_a_filtered_read_on_hive_partitions_and_timestamps(tmp_path, scheduler):
    pdf = frame().assign(k=lambda d: d.i % 3,
                         t=pd.date_range("2024-03-30", periods=60, freq="7h", tz="Europe/Berlin"))
    pdf.to_parquet(tmp_path / "hive", partition_cols=["k"])
    df = read_parquet(tmp_path / "hive")
    local = pd.read_parquet(tmp_path / "hive")
    for pred in (lambda d: (d.k == 1) & (d.f > 0), lambda d: (d.k == 2) | (d.f < -1),
                 lambda d: d.t > pd.Timestamp("2024-04-05", tz="UTC")):
        query = df[pred(df)]
        assert "ParquetFilteredLength" in length_plan(query)
        assert query.shape[0].compute(scheduler=scheduler) == len(local[pred(local)])


def test_len_of_a_filter_shared_with_another_result_keeps_one_read(files):
    path, pdf = files
    df = read_parquet(path)
    kept = df[df.f > 0.5]
    with record_reads() as reads:
        n, total = chunkwise.compute(kept.shape[0], df.i.sum(), scheduler="sync")
    assert n == len(pdf[pdf.f > 0.5]) and total == pdf.i.sum()
    assert len(reads) == 4 and {r.columns for r in reads} == {("i", "f")}


def test_len_under_user_filters_stays_on_the_pandas_path(files):
    path, pdf = files
    df = read_parquet(path, filters=[("i", ">=", 10)])
    query = df[df.f > 0]
    assert "ParquetFilteredLength" not in length_plan(query)
    assert query.shape[0].compute() == len(pdf[(pdf.i >= 10) & (pdf.f > 0)])


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_groupby_on_integer_keys_chooses_the_tree_from_statistics(tmp_path, scheduler):
    """Integer keys whose footers' min/max bound them to at most TREE_MAX_ROWS distinct
    values: no plan-time sample of the first partition, each file read once; a string key
    (no bound from statistics) or a span beyond the limit is still sampled."""
    from chunkwise.dataframe.sorting import TREE_MAX_ROWS

    pdf = frame().assign(
        k=lambda d: d.i % 7,
        kn=lambda d: pd.array(np.where(d.i % 5 == 0, None, d.i % 4), dtype="Int64"),
        wide=lambda d: np.where(d.i % 2 == 0, 0, 10 * TREE_MAX_ROWS),
    )
    path = tmp_path / "data"
    path.mkdir()
    for k in range(3):
        pdf.iloc[k * 20:(k + 1) * 20].to_parquet(path / f"part.{k}.parquet", row_group_size=7)
    df = read_parquet(path)
    for key, sampled in (("k", False), ("kn", False), ("s", True), ("wide", True)):
        with record_reads() as reads:
            got = df.groupby(key).f.mean().compute(scheduler=scheduler)
        pd.testing.assert_series_equal(got, pdf.groupby(key).f.mean())
        assert len(reads) == 3 + sampled, key
    bound = read_parquet(path, columns=["k", "kn"]).expr.distinct_bound(["k", "kn"])
    assert bound == 7 * 5  # spans 0..6 and 0..3 with nulls
    assert bound >= len(pdf[["k", "kn"]].drop_duplicates())


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("split_row_groups", [False, True])
def test_reads_inside_tasks_leave_pyarrow_threads_off(files, monkeypatch, scheduler, split_row_groups):
    """Each read task runs on one of the scheduler's threads: pyarrow's own reader threads
    on top of them would oversubscribe the cores, so every piece is read with
    ``use_threads=False`` (whole files and row groups, with the answer pandas gives)."""
    import pyarrow.parquet as pq

    calls = []
    for method in ("read", "read_row_groups"):
        original = getattr(pq.ParquetFile, method)

        def spy(self, *args, _original=original, _method=method, **kwargs):
            calls.append((_method, kwargs.get("use_threads", "default")))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(pq.ParquetFile, method, spy)
    path, pdf = files
    df = read_parquet(path, split_row_groups=split_row_groups)
    got = df[["i", "f"]].sum().compute(scheduler=scheduler)
    pd.testing.assert_series_equal(got, pdf[["i", "f"]].sum())
    methods = {m for m, _ in calls}
    assert methods == ({"read_row_groups"} if split_row_groups else {"read"})
    assert len(calls) >= df.npartitions - 1
    assert {threads for _, threads in calls} == {False}
