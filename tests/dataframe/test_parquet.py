"""read_parquet / to_parquet against pandas on the same files, and checks of what was read."""

import os
import weakref

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe.expr import Finalize, MapPartitions, Projection
from chunkwise.dataframe.io.parquet import ReadParquet, read_parquet, record_reads, to_parquet
from chunkwise.dataframe.testing import assert_eq

SCHEDULERS = ["sync", "threads"]


def awkward_frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """Ints, floats with nulls, strings with nulls, a categorical, tz-aware datetimes."""
    rng = np.random.default_rng(seed)
    floats = rng.normal(size=n)
    floats[::5] = np.nan
    names = pd.Series(rng.choice(["alice", "bob", "carol", "dan"], size=n), dtype="str")
    names[3::7] = None
    return pd.DataFrame(
        {
            "i": np.arange(n),
            "age": rng.integers(1, 4, size=n),
            "f": floats,
            "s": names,
            "c": pd.Categorical(rng.choice(["x", "y", "z"], size=n), categories=["x", "y", "z"]),
            "t": pd.date_range("2024-03-30", periods=n, freq="7h", tz="Europe/Berlin"),
        }
    )


@pytest.fixture
def pdf():
    return awkward_frame()


@pytest.fixture
def files_dir(tmp_path, pdf):
    """Four files of ten rows, each in row groups of three rows (4 row groups a file)."""
    path = tmp_path / "flat"
    path.mkdir()
    for k in range(4):
        pdf.iloc[k * 10:(k + 1) * 10].reset_index(drop=True).to_parquet(
            path / f"part.{k}.parquet", row_group_size=3
        )
    return path


@pytest.fixture
def hive_dir(tmp_path, pdf):
    path = tmp_path / "events"
    pdf.to_parquet(path, partition_cols=["age"])
    return path


def by_i(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("i").reset_index(drop=True)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_single_file_equals_pandas(tmp_path, pdf, scheduler):
    path = tmp_path / "one.parquet"
    pdf.to_parquet(path)
    df = read_parquet(path)
    assert df.npartitions == 1
    assert_eq(df, pd.read_parquet(path), scheduler=scheduler)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_directory_one_partition_per_file(files_dir, scheduler):
    df = read_parquet(files_dir, split_row_groups=False)
    assert df.npartitions == 4
    expected = pd.read_parquet(files_dir)
    assert_eq(df, expected, check_index=False, scheduler=scheduler)
    assert list(df.dtypes) == list(expected.dtypes)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_hive_partitions_are_categoricals_like_pandas(hive_dir, scheduler):
    df = read_parquet(hive_dir)
    expected = pd.read_parquet(hive_dir)
    assert df.dtypes["age"] == expected.dtypes["age"]
    assert list(df.columns) == list(expected.columns)
    assert df.npartitions == 3
    assert_eq(df.compute(scheduler=scheduler).pipe(by_i), expected.pipe(by_i))


@pytest.mark.parametrize(("split", "nparts", "groups"), [(True, 16, 1), (3, 8, 3), (False, 4, None)])
def test_split_row_groups(files_dir, split, nparts, groups):
    df = read_parquet(files_dir, split_row_groups=split)
    assert df.npartitions == nparts
    with record_reads() as reads:
        result = df.compute(scheduler="sync")
    assert len(reads) == nparts
    for record in reads:
        assert record.row_groups is None if groups is None else len(record.row_groups) <= groups
    assert_eq(result, pd.read_parquet(files_dir), check_index=False)


def test_infer_splits_by_blocksize(files_dir):
    assert read_parquet(files_dir).npartitions == 4  # small files: one partition each
    df = read_parquet(files_dir, blocksize=1)  # every row group exceeds it
    assert df.npartitions == 16
    assert_eq(df, pd.read_parquet(files_dir), check_index=False)


def test_projection_reads_only_the_columns(files_dir):
    df = read_parquet(files_dir)
    with record_reads() as reads:
        result = df[["i", "s"]].compute(scheduler="sync")
    assert {r.columns for r in reads} == {("i", "s")}
    assert len(reads) == 4
    assert_eq(result, pd.read_parquet(files_dir, columns=["i", "s"]), check_index=False)
    with record_reads() as reads:
        series = df.f.compute(scheduler="sync")
    assert {r.columns for r in reads} == {("f",)}
    assert_eq(series, pd.read_parquet(files_dir).f, check_index=False)
    named = read_parquet(files_dir, columns="s")  # a label gives a Series
    assert isinstance(named, dd.Series)
    assert_eq(named, pd.read_parquet(files_dir).s, check_index=False)


def test_aggregate_over_one_column_reads_it_only(files_dir):
    df = read_parquet(files_dir)
    if not hasattr(df.f, "sum"):
        pytest.skip("reductions are not on this branch yet")
    with record_reads() as reads:
        total = df.f.sum().compute(scheduler="sync")
    assert {r.columns for r in reads} == {("f",)}
    assert total == pytest.approx(pd.read_parquet(files_dir).f.sum())


def test_read_shared_by_two_results_gives_both_answers(files_dir):
    df = read_parquet(files_dir)
    expected = pd.read_parquet(files_dir)
    with record_reads() as reads:
        i, f = chunkwise.compute(df.i, df[["f", "s"]], scheduler="sync")
    assert_eq(i, expected.i, check_index=False)
    assert_eq(f, expected[["f", "s"]], check_index=False)
    # the expression layer narrows a shared read to the union: each file read once
    assert sorted((r.path, r.columns) for r in reads) == [
        (str(files_dir / f"part.{k}.parquet"), ("i", "f", "s")) for k in range(4)
    ]


def test_reductions_computed_together_read_each_file_once(files_dir):
    df = read_parquet(files_dir)
    expected = pd.read_parquet(files_dir)
    with record_reads() as reads:
        total, mean = chunkwise.compute(df.i.sum(), df.f.mean(), scheduler="sync")
    assert total == expected.i.sum()
    assert mean == pytest.approx(expected.f.mean())
    assert sorted(r.path for r in reads) == sorted(str(p) for p in files_dir.iterdir())
    assert {r.columns for r in reads} == {("i", "f")}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_filter_and_other_results_share_one_read(files_dir, scheduler):
    """The filter's frame and predicate come from the same read as another result: the
    projections narrow them apart, and the reads of that source are widened back to one."""
    df = read_parquet(files_dir)
    expected = pd.read_parquet(files_dir)
    with record_reads() as reads:
        total, count, longest = chunkwise.compute(
            df[df.i > 3].f.sum(), df.s.count(), df.s.str.len().max(), scheduler=scheduler
        )
    assert total == pytest.approx(expected[expected.i > 3].f.sum())
    assert count == expected.s.count()
    assert longest == expected.s.str.len().max()
    assert len(reads) == 4  # one read of each file
    assert {r.columns for r in reads} == {("i", "f", "s")}
    # alone, the filter is pushed into the read, which is still read once per file
    with record_reads() as reads:
        alone = df[df.i > 3].f.sum().compute(scheduler=scheduler)
    assert alone == pytest.approx(expected[expected.i > 3].f.sum())
    assert len(reads) == 4
    assert {(r.columns, str(r.filters)) for r in reads} == {(("i", "f"), "[[('i', '>', 3)]]")}


def test_filters_skip_hive_partitions(hive_dir):
    df = read_parquet(hive_dir, filters=[("age", ">", 1)])
    assert df.npartitions == 2
    with record_reads() as reads:
        result = df.compute(scheduler="sync")
    assert all("age=1" not in r.path for r in reads)
    expected = pd.read_parquet(hive_dir, filters=[("age", ">", 1)])
    assert_eq(by_i(result), by_i(expected))


def test_filters_skip_row_groups_by_statistics(files_dir):
    df = read_parquet(files_dir, filters=[("i", ">=", 33)])
    # rows 33..39 are in the last file, row groups 1 (30-32 is group 0)... groups 1, 2, 3
    with record_reads() as reads:
        result = df.compute(scheduler="sync")
    assert [(os.path.basename(r.path), r.row_groups) for r in reads] == [("part.3.parquet", (1, 2, 3))]
    assert result.i.tolist() == list(range(33, 40))
    expected = pd.read_parquet(files_dir, filters=[("i", ">=", 33)])
    assert_eq(result, expected, check_index=False)


def test_filters_in_dnf_or_and_in(files_dir):
    filters = [[("i", "<", 2)], [("i", "in", [20, 21]), ("s", "==", "bob")]]
    expected = pd.read_parquet(files_dir, filters=filters)
    assert_eq(read_parquet(files_dir, filters=filters), expected, check_index=False)


def test_boolean_filter_is_pushed_into_the_read(files_dir):
    df = read_parquet(files_dir)
    pdf = pd.read_parquet(files_dir)
    query = df[(df.i > 35) | (df.i < 2)]
    plan = query.optimize().expr.explain(show=False)
    assert "filters=[[('i', '>', 35)], [('i', '<', 2)]]" in plan
    with record_reads() as reads:
        result = query.compute(scheduler="sync")
    assert {os.path.basename(r.path) for r in reads} == {"part.0.parquet", "part.3.parquet"}
    assert all(r.row_groups is not None and len(r.row_groups) < 4 for r in reads)
    assert_eq(result, pdf[(pdf.i > 35) | (pdf.i < 2)], check_index=False)


def test_pushed_filter_on_hive_column_and_strings(hive_dir):
    df = read_parquet(hive_dir)
    pdf = pd.read_parquet(hive_dir)
    query = df[(df.age == 2) & (df.s >= "bob")]
    with record_reads() as reads:
        result = query.compute(scheduler="sync")
    assert {"age=2"} == {r.path.split(os.sep)[-2] for r in reads}
    assert_eq(by_i(result), by_i(pdf[(pdf.age == 2) & (pdf.s >= "bob")]))


def test_not_equal_keeps_nulls_like_pandas(files_dir):
    df = read_parquet(files_dir)
    pdf = pd.read_parquet(files_dir)
    query = df[df.s != "bob"]  # NaN != "bob" is True in pandas: not pushed into pyarrow
    assert "filters" not in query.optimize().expr.explain(show=False)
    assert_eq(query, pdf[pdf.s != "bob"], check_index=False)


def test_len_comes_from_the_footers(files_dir):
    df = read_parquet(files_dir)
    with record_reads() as reads:
        assert len(df) == 40
    assert reads == []
    filtered = read_parquet(files_dir, filters=[("i", "<", 5)])
    with record_reads() as reads:
        assert len(filtered) == 5
    assert reads  # a filtered count reads the data


def test_build_reads_no_footer_for_many_files(tmp_path, monkeypatch):
    path = tmp_path / "many"
    path.mkdir()
    frame = pd.DataFrame({"x": np.arange(3)})
    for k in range(300):
        frame.to_parquet(path / f"part.{k}.parquet")
    calls = []
    original = pq.read_metadata

    def counting(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(pq, "read_metadata", counting)
    df = read_parquet(path, split_row_groups=False)
    assert df.npartitions == 300
    assert calls == []
    df = read_parquet(path)  # "infer" looks at one footer
    assert df.npartitions == 300
    assert len(calls) == 1
    assert len(df) == 900
    assert len(calls) == 300  # the counts: every footer once (the first was read already)


def test_explain_shows_columns_filters_and_files(files_dir):
    df = read_parquet(files_dir, filters=[("i", "<", 12)])
    text = df[["i", "f"]].optimize().expr.explain(show=False)
    assert "columns=['i', 'f']" in text
    assert "filters=[[('i', '<', 12)]]" in text
    assert "files=2/4" in text
    assert "row groups=5" in text


def test_index_option(tmp_path, pdf):
    path = tmp_path / "indexed.parquet"
    pdf.set_index("i").to_parquet(path)
    assert_eq(read_parquet(path), pd.read_parquet(path))  # the index pandas stored
    assert_eq(read_parquet(path, columns=["f"]), pd.read_parquet(path, columns=["f"]))
    assert_eq(read_parquet(path, index=False), pd.read_parquet(path).reset_index(drop=True))
    plain = tmp_path / "plain.parquet"
    pdf.to_parquet(plain)
    assert_eq(read_parquet(plain, index="i"), pd.read_parquet(plain).set_index("i"))


def test_empty_file_and_empty_partition(tmp_path, pdf):
    path = tmp_path / "with-empty"
    path.mkdir()
    pdf.iloc[:0].to_parquet(path / "part.0.parquet")
    pdf.iloc[:10].to_parquet(path / "part.1.parquet")
    df = read_parquet(path)
    assert df.npartitions == 2
    expected = pd.read_parquet(path)
    # pyarrow unifies the dictionaries starting from the empty file and loses the categories
    # that every file stores; chunkwise takes them from the first file holding rows
    expected["c"] = expected["c"].astype(pdf.c.dtype)
    assert_eq(df, expected, check_index=False)
    none = read_parquet(path, filters=[("i", ">", 1000)])
    assert none.npartitions == 1  # every piece pruned: one empty partition
    assert_eq(none, expected.iloc[:0], check_index=False)


def test_build_time_errors(files_dir, tmp_path):
    with pytest.raises(KeyError, match=r"columns \['nope'\] not found; available columns"):
        read_parquet(files_dir, columns=["i", "nope"])
    with pytest.raises(KeyError, match="filters name columns"):
        read_parquet(files_dir, filters=[("nope", "==", 1)])
    with pytest.raises(ValueError, match="DNF"):
        read_parquet(files_dir, filters=[("i", "~", 1)])
    with pytest.raises(FileNotFoundError, match="read_parquet"):
        read_parquet(tmp_path / "missing")


# --- writing -------------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_to_parquet_round_trip(tmp_path, pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=3)
    out = tmp_path / "out"
    assert to_parquet(df, out, compute_kwargs={"scheduler": scheduler}) == 3
    names = sorted(os.listdir(out))
    assert names == ["_chunkwise", "part.0.parquet", "part.1.parquet", "part.2.parquet"]
    assert_eq(read_parquet(out), pdf, scheduler=scheduler)
    assert_eq(pd.read_parquet(out), pdf)


def test_to_parquet_partition_on(tmp_path, pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    out = tmp_path / "hive"
    to_parquet(df, out, partition_on="age", write_index=False)
    assert sorted(d for d in os.listdir(out) if not d.startswith("_")) == ["age=1", "age=2", "age=3"]
    back = read_parquet(out)
    assert back.dtypes["age"] == pd.read_parquet(out).dtypes["age"]
    assert_eq(by_i(back.compute()), by_i(pd.read_parquet(out)))


def test_to_parquet_append_checks_schema_and_numbers_on(tmp_path, pdf):
    out = tmp_path / "appended"
    to_parquet(dd.from_pandas(pdf.iloc[:20], npartitions=2), out)
    to_parquet(dd.from_pandas(pdf.iloc[20:], npartitions=2), out, append=True)
    assert sorted(f for f in os.listdir(out) if f.startswith("part.")) == [
        f"part.{k}.parquet" for k in range(4)
    ]
    assert_eq(read_parquet(out), pdf)
    with pytest.raises(ValueError, match="schema"):
        to_parquet(dd.from_pandas(pdf[["i", "f"]], npartitions=1), out, append=True)


def test_to_parquet_refuses_to_overwrite_its_input(tmp_path, pdf):
    out = tmp_path / "data"
    to_parquet(dd.from_pandas(pdf, npartitions=2), out)
    df = read_parquet(out)
    with pytest.raises(ValueError, match="is read by this same plan"):
        to_parquet(df[df.i > 3], out, overwrite=True)
    assert_eq(read_parquet(out), pdf)  # untouched
    with pytest.raises(FileExistsError, match="overwrite=True"):
        to_parquet(df, out)


def test_to_parquet_overwrite_refuses_foreign_directories(tmp_path, pdf):
    foreign = tmp_path / "precious"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not a dataset chunkwise wrote"):
        to_parquet(dd.from_pandas(pdf, npartitions=1), foreign, overwrite=True)
    assert (foreign / "notes.txt").read_text() == "keep me"
    out = tmp_path / "mine"
    to_parquet(dd.from_pandas(pdf, npartitions=3), out)
    to_parquet(dd.from_pandas(pdf.iloc[:5], npartitions=1), out, overwrite=True)
    assert sorted(os.listdir(out)) == ["_chunkwise", "part.0.parquet"]
    assert_eq(read_parquet(out), pdf.iloc[:5])


def test_compute_false_writes_nothing_until_computed(tmp_path, pdf):
    out = tmp_path / "later"
    lazy = to_parquet(dd.from_pandas(pdf, npartitions=2), out, compute=False)
    assert not out.exists()
    assert lazy.compute() == 2
    assert_eq(read_parquet(out), pdf)


def _fail_on_last(frame):
    if len(frame) and frame["i"].iloc[0] >= 30:
        raise RuntimeError("disk full")
    return frame


def test_failed_write_reports_parts_and_never_looks_complete(tmp_path, pdf):
    df = dd.from_pandas(pdf, npartitions=4).map_partitions(_fail_on_last, meta=pdf.iloc[:0])
    out = tmp_path / "broken"
    with pytest.raises(RuntimeError, match="disk full") as info:
        to_parquet(df, out, compute_kwargs={"scheduler": "sync"})
    note = "\n".join(getattr(info.value, "__notes__", []))
    written = sorted(f for f in os.listdir(out) if f.startswith("part."))
    assert "part.3.parquet" not in written
    assert f"parts written: {', '.join(written) or 'none'}." in note
    assert "_chunkwise" not in os.listdir(out)
    assert "_chunkwise_incomplete" in os.listdir(out)
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    with pytest.raises(ValueError, match="did not finish"):
        read_parquet(out)
    to_parquet(dd.from_pandas(pdf, npartitions=2), out, overwrite=True)  # a marked dataset
    assert_eq(read_parquet(out), pdf)


def test_write_metadata_file(tmp_path, pdf):
    out = tmp_path / "meta"
    to_parquet(dd.from_pandas(pdf, npartitions=3), out, write_metadata_file=True)
    metadata = pq.read_metadata(out / "_metadata")
    assert metadata.num_rows == len(pdf)
    assert metadata.num_row_groups == 3
    assert_eq(read_parquet(out), pdf)


def test_read_is_a_readparquet_node(files_dir):
    assert isinstance(read_parquet(files_dir).expr, ReadParquet)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_pushed_filter_keeps_row_labels(tmp_path, pdf, scheduler):
    path = tmp_path / "one.parquet"
    pdf.to_parquet(path, row_group_size=7)
    expected = pd.read_parquet(path)
    df = read_parquet(path, split_row_groups=2)
    query = df[(df.i > 12) & (df.i < 30)]
    assert "filters=[[('i', '>', 12), ('i', '<', 30)]]" in query.optimize().expr.explain(show=False)
    with record_reads() as reads:
        assert_eq(query, expected[(expected.i > 12) & (expected.i < 30)], scheduler=scheduler)
    # row groups 0 (rows 0-6) and 5 (35-39) cannot match and are not read
    assert {r.row_groups for r in reads} == {(1, 2), (3, 4)}
    # the user's own filters number rows afresh (as pandas does); a later mask is pushed
    # too, and the rows keep the numbers the user's filter gives them
    user = read_parquet(path, filters=[("i", ">=", 5)])
    masked = user[user.i < 9]
    assert "('i', '>=', 5), ('i', '<', 9)" in masked.optimize().expr.explain(show=False)
    base = pd.read_parquet(path, filters=[("i", ">=", 5)])
    assert_eq(masked, base[base.i < 9], scheduler=scheduler)


def test_calculate_divisions_from_statistics(tmp_path, pdf):
    pdf = pdf.assign(key=pdf.i ** 2).set_index("key")  # a stored (not range) index
    path = tmp_path / "sorted"
    path.mkdir()
    for k in range(4):
        pdf.iloc[k * 10:(k + 1) * 10].to_parquet(path / f"part.{k}.parquet")
    assert not read_parquet(path).known_divisions  # statistics are not read by default
    df = read_parquet(path, calculate_divisions=True)
    assert df.divisions == (0, 100, 400, 900, 1521)
    expected = pd.read_parquet(path)
    assert_eq(df, expected)
    assert_eq(df.loc[120:500], expected.loc[120:500])
    overlapping = tmp_path / "overlapping"
    overlapping.mkdir()
    pdf.iloc[::2].to_parquet(overlapping / "part.0.parquet")
    pdf.iloc[1::2].to_parquet(overlapping / "part.1.parquet")
    assert not read_parquet(overlapping, calculate_divisions=True).known_divisions


def test_read_and_write_on_a_cluster_of_worker_processes(files_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
    ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        df = read_parquet(files_dir, filters=[("i", "<", 25)])
        expected = pd.read_parquet(files_dir, filters=[("i", "<", 25)])
        result = df[df.f > 0][["i", "s"]].compute(scheduler=client)
        assert_eq(result.reset_index(drop=True),
                  expected[expected.f > 0][["i", "s"]].reset_index(drop=True))
        out = tmp_path / "from-cluster"
        assert to_parquet(df, out, compute_kwargs={"scheduler": client}) == df.npartitions
    assert_eq(read_parquet(out), expected, check_index=False)


def test_projection_rule_takes_the_union_of_all_consumers(files_dir):
    """Given every consumer of a read (as the expression layer will pass them), the rule
    narrows the read to the union of their columns; a consumer needing all columns stops it."""
    read = read_parquet(files_dir).expr
    first, second = Projection(read, "i"), Projection(read, ["f", "s"])
    union = read._simplify_up(first, {read.name: [weakref.ref(first), weakref.ref(second)]})
    assert isinstance(union, Projection) and union.frame.operand("columns") == ["i", "f", "s"]
    assert read._simplify_up(first, {read.name: [first, Finalize(read)]}) is None
    # a filter is pushed only when the filter and its predicate are the read's only consumers
    df = read_parquet(files_dir)
    filtered = (df[df.i > 3]).expr
    consumers = [filtered, filtered.predicate.operands[len(MapPartitions._parameters)]]
    assert read._simplify_up(filtered, {read.name: consumers}) is not None
    assert read._simplify_up(filtered, {read.name: [*consumers, second]}) is None


def test_comparisons_pyarrow_cannot_make_stay_in_pandas(tmp_path, pdf):
    path = tmp_path / "times.parquet"
    pdf.to_parquet(path, row_group_size=5)
    df = read_parquet(path)
    expected = pd.read_parquet(path)
    cut = pd.Timestamp("2024-04-05", tz="Europe/Berlin")
    pushed = df[df.t > cut]
    assert "filters=" in pushed.optimize().expr.explain(show=False)
    assert_eq(pushed, expected[expected.t > cut])
    parsed = df[df.t > "2024-04-05"]  # pandas parses the string; pyarrow would not
    assert "filters=" not in parsed.optimize().expr.explain(show=False)
    assert_eq(parsed, expected[expected.t > "2024-04-05"])
    category = df[df.c == "y"]  # a categorical file column
    assert "filters=[[('c', '==', 'y')]]" in category.optimize().expr.explain(show=False)
    assert_eq(category, expected[expected.c == "y"])


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_elementwise_work_is_fused_into_one_task_per_partition(files_dir, scheduler):
    df = read_parquet(files_dir)
    expected = pd.read_parquet(files_dir)
    # a diamond over one read: two columns, arithmetic, a filter on a third
    out = ((df.f + 1) * 2 - df.i).abs()[df.s.str.len() > 3]
    plan = out.optimize().expr
    assert type(plan).__name__ == "FusedFrame"
    assert "Fused: " in out.explain(show=False)
    graph = out.__chunkwise_graph__()
    by_name: dict = {}
    for key in graph:
        if isinstance(key, tuple):
            by_name.setdefault(key[0], []).append(key[1])
    # one task per partition: the read that several members share is built into the
    # fused task as a step, which runs once (the reads below count it)
    assert sorted(len(v) for v in by_name.values()) == [4]
    assert any(name.startswith("fused-") for name in by_name)
    with record_reads() as reads:
        result = out.compute(scheduler=scheduler)
    assert len(reads) == 4
    want = ((expected.f + 1) * 2 - expected.i).abs()[expected.s.str.len() > 3]
    assert_eq(result, want, check_index=False)
    # a chain over one column of the read: the read is built into the fused task too
    chain = (df.f * 2 + 1).clip(-1, 1).round(2)
    keys = [k for k in chain.__chunkwise_graph__() if isinstance(k, tuple)]
    assert len(keys) == 4
    assert_eq(chain, (expected.f * 2 + 1).clip(-1, 1).round(2), check_index=False)


def test_head_stops_after_the_files_it_needs(files_dir):
    df = read_parquet(files_dir, split_row_groups=False)  # a partition per file of ten rows
    expected = pd.read_parquet(files_dir)
    with record_reads() as reads:
        first = df[["i", "s"]].head(3)
    assert [os.path.basename(r.path) for r in reads] == ["part.0.parquet"]
    assert {r.columns for r in reads} == {("i", "s")}
    assert_eq(first, expected[["i", "s"]].head(3), check_index=False)
    with record_reads() as reads:
        more = df.head(15, npartitions=2)
    assert sorted(os.path.basename(r.path) for r in reads) == ["part.0.parquet", "part.1.parquet"]
    assert_eq(more, expected.head(15), check_index=False)
    with record_reads() as reads:  # the pushed filter skips part.0 and part.1 unread
        late = df[df.i > 25].head(3)
    assert [os.path.basename(r.path) for r in reads] == ["part.2.parquet"]
    assert_eq(late, expected[expected.i > 25].head(3), check_index=False)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_projection_is_pushed_through_assign(files_dir, scheduler):
    df = read_parquet(files_dir)
    expected = pd.read_parquet(files_dir)
    cases = [
        (df.assign(z=df.f * 2)[["z", "s"]], expected.assign(z=expected.f * 2)[["z", "s"]],
         ("f", "s")),
        # a replaced column keeps its place; the unselected new column is not computed
        (df.assign(s=df.s.str.upper(), w=df.i + 1)[["f", "s"]],
         expected.assign(s=expected.s.str.upper(), w=expected.i + 1)[["f", "s"]], ("f", "s")),
        (df.assign(z=df.f * 2, q=df.s)[["z", "age"]].sum(),
         expected.assign(z=expected.f * 2, q=expected.s)[["z", "age"]].sum(), ("age", "f")),
    ]
    for lazy, want, columns in cases:
        with record_reads() as reads:
            assert_eq(lazy, want, check_index=False, scheduler=scheduler)
        assert {r.columns for r in reads} == {columns}
        assert len(reads) == 4


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_len_of_a_filter_reads_only_the_filter_column_once_pushed(files_dir, scheduler):
    df = read_parquet(files_dir)
    expected = pd.read_parquet(files_dir)
    query = df[df.f > 1.0]
    plan = chunkwise.dataframe.core.Scalar(
        chunkwise.dataframe.expr.total_rows(query.expr)
    ).optimize().expr.explain(show=False)
    # counted on the Arrow table of the filter's column (no pandas frame, no mask)
    assert "ParquetFilteredLength" in plan and "filter," not in plan
    assert "count-filtered" not in plan
    with record_reads() as reads:
        n = len(query) if scheduler == "sync" else query.shape[0].compute(scheduler=scheduler)
    assert n == len(expected[expected.f > 1.0])
    # one read per file, of the filter's column only, with the filter pushed: row groups
    # whose statistics exclude it are skipped
    assert sorted(r.path for r in reads) == sorted(str(p) for p in files_dir.glob("*.parquet"))
    assert {r.columns for r in reads} == {("f",)}
    assert all(r.filters == [[("f", ">", 1.0)]] for r in reads)
    assert sum(len(r.row_groups) for r in reads) < 16
    # an interval and an or, over two columns (nulls in both)
    both = df[((df.f > -0.5) & (df.f < 0.5)) | (df.i >= 35)]
    with record_reads() as reads:
        n = both.shape[0].compute(scheduler=scheduler)
    want = expected[((expected.f > -0.5) & (expected.f < 0.5)) | (expected.i >= 35)]
    assert n == len(want)
    assert len(reads) == 4 and {tuple(sorted(r.columns)) for r in reads} == {("f", "i")}


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_len_of_a_filter_counts_the_mask_on_awkward_partitions(scheduler):
    pdf = awkward_frame(50, seed=3)
    pdf["b"] = pd.array([True, None, False, True, False] * 10, dtype="boolean")
    frame = dd.from_pandas(pdf, npartitions=4)
    frame = frame[(frame.i < 10) | (frame.i > 25)]  # uneven: 10, 0, 12, 12 rows
    local = pdf[(pdf.i < 10) | (pdf.i > 25)]
    empty = frame[frame.i < 0]  # every partition empty
    cases = [
        (frame[frame.f > 0], local[local.f > 0]),
        (frame[frame.s.str.startswith("a")], local[local.s.str.startswith("a").fillna(False)]),
        (frame[frame.c == "y"], local[local.c == "y"]),
        (frame[frame.b], local[local.b.fillna(False)]),  # nullable: nulls are not kept
        (frame[frame.t.dt.hour > 12], local[local.t.dt.hour > 12]),
        (empty, local[local.i < 0]),
        (empty[empty.f > 0], local.iloc[:0]),
    ]
    for query, want in cases:
        assert query.shape[0].compute(scheduler=scheduler) == len(want)
        assert_eq(query, want)


def test_a_read_shared_by_two_fused_members_is_read_once(files_dir):
    df = read_parquet(files_dir, columns=["f", "i"])
    expected = pd.read_parquet(files_dir)
    shifted = df.f + 1
    total = shifted[shifted > 1].sum()
    graph = total.__chunkwise_graph__()
    names = {k[0] for k in graph if isinstance(k, tuple)}
    assert not any(n.startswith("read-parquet") for n in names)  # built into the fused task
    with record_reads() as reads:
        result = total.compute(scheduler="threads")
    assert len(reads) == 4 and {r.columns for r in reads} == {("f",)}
    want = (expected.f + 1)[expected.f + 1 > 1].sum()
    assert np.isclose(result, want)


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_selecting_only_assigned_columns_reads_no_column(files_dir, hive_dir, scheduler):
    for path in (files_dir, hive_dir):
        df = read_parquet(path)
        expected = pd.read_parquet(path)
        query = df.assign(z=1, w=df.i * 2)[["z"]]
        with record_reads() as reads:
            result = query.compute(scheduler=scheduler)
        assert {r.columns for r in reads} == {()}  # the rows only: no column decoded
        want = expected.assign(z=1)[["z"]]
        assert len(result) == len(want) and (result.z == 1).all()
        assert result.z.dtype == want.z.dtype
        if path == files_dir:
            assert_eq(result, want, check_index=False)
        both = df.assign(z=df.f + 1)[["z"]]  # a value that needs a column reads that one
        with record_reads() as reads:
            got = both.compute(scheduler=scheduler)
        assert {r.columns for r in reads} == {("f",)}
        assert_eq(got.pipe(lambda x: x.reset_index(drop=True)).z.sum(), (expected.f + 1).sum())


@pytest.mark.parametrize("scheduler", SCHEDULERS)
def test_a_filter_after_user_filters_reads_each_file_once(files_dir, scheduler):
    """Files with a stored RangeIndex and the user's own ``filters=`` (rows renumbered): the
    frame and the predicate still share one read of each file, of the union of their
    columns; the later filter is pushed too (see the next test)."""
    df = read_parquet(files_dir, columns=["s", "f", "age"], filters=[("age", ">=", 2)])
    query = df[df.f > 0.1].groupby("s").f.sum()
    plan = query.optimize().expr.explain(show=False)
    assert plan.count("ReadParquet") == 1
    with record_reads() as reads:
        result = query.compute(scheduler=scheduler)
    main = [r for r in reads if r.columns != ("age",)]
    assert sorted(r.path for r in main) == sorted(str(p) for p in files_dir.glob("*.parquet"))
    assert {tuple(sorted(r.columns)) for r in main} == {("f", "s")}
    # a skipped row group's rows passing the user's filter are counted on its filter column
    assert all(len(r.row_groups) == 1 for r in reads if r.columns == ("age",))
    expected = pd.read_parquet(files_dir, filters=[("age", ">=", 2)])
    assert_eq(result, expected[expected.f > 0.1].groupby("s").f.sum())


@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("split", [False, 2])
@pytest.mark.parametrize(
    "user, counted",
    [
        # an int filter whose statistics decide groups 1-3 (every row passes): only group 0
        # (rows 0-4, some failing) is counted, on a read of its filter column alone
        ([("i", ">=", 3)], {(0,)}),
        # a float filter: statistics never say "every row" (NaN lies outside them)
        ([("f", ">", -0.5)], {(0,), (1,), (2,), (3,)}),
        # a filter every row of groups 0-3 passes by statistics: nothing is counted
        ([("i", ">=", 0)], set()),
    ],
)
def test_a_filter_after_user_filters_is_pushed_into_the_scan(tmp_path, pdf, user, counted, split,
                                                             scheduler):
    """``read_parquet(filters=user)[df.i >= 22]``: the later filter joins the user's in the
    scan, so row groups 0-3 (rows 0-19) are not read; rows keep the numbers the user's
    filter alone gives them (0, 1, ... per piece), the same as an unpushed mask gives."""
    path = tmp_path / "one.parquet"
    pdf.to_parquet(path, row_group_size=5)  # 8 row groups of 5 rows, a stored RangeIndex
    df = read_parquet(path, filters=user, split_row_groups=split)
    query = df[df.i >= 22]
    plan = query.optimize().expr.explain(show=False)
    assert f"{user[0]}, ('i', '>=', 22)" in plan and "row groups=4" in plan
    reference = df[~(df.i < 22)]  # a predicate the optimizer does not push: read, then masked
    assert "('i', '<', 22)" not in reference.optimize().expr.explain(show=False)
    with record_reads() as reads:
        result = query.compute(scheduler=scheduler)
    main = [r for r in reads if r.columns is None]
    assert sorted(g for r in main for g in r.row_groups) == [4, 5, 6, 7]
    column = user[0][0]
    assert {r.row_groups for r in reads if r.columns == (column,)} == (counted if not split else
                                                                      set())
    assert len(reads) == len(main) + (len(counted) if not split else 0)
    expected = reference.compute(scheduler="sync")
    pd.testing.assert_frame_equal(result, expected)
    if not split:  # one piece: pandas numbers the rows the same way
        base = pd.read_parquet(path, filters=user)
        pd.testing.assert_frame_equal(result, base[base.i >= 22])
    assert len(result) == len(pdf.query("i >= 22").pipe(lambda x: x[_passes(x, user)]))


def _passes(frame, user):
    column, op, value = user[0]
    return frame[column] >= value if op == ">=" else frame[column] > value
