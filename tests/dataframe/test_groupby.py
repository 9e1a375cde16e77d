"""GroupBy by tree reduction, against pandas on the same data."""

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
import chunkwise.dataframe.partials as k
from chunkwise.core.expr import lower
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe import groupby as G
from chunkwise.dataframe import groupby_counting as GC
from chunkwise.dataframe.expr import FromPandas
from chunkwise.dataframe.groupby import Aggregation
from chunkwise.scheduling.callbacks import Callback

from .conftest import make_frame


def layout(pdf, kind):
    if kind == "even":
        return dd.from_pandas(pdf, npartitions=3), None
    if kind == "uneven-empty-unknown":
        n = len(pdf)
        locations = (0, 3, 3, n // 2, n // 2, n)
        return dd.new_collection(FromPandas(pdf, (None,) * len(locations), locations)), None
    return dd.from_pandas(pdf, chunksize=3), 2


@pytest.fixture(params=["even", "uneven-empty-unknown", "deep-tree"])
def frames(request):
    pdf = make_frame(40, seed=7)
    pdf = pdf.assign(k=pdf.i % 3, b=pdf.i > 0)
    df, split_every = layout(pdf, request.param)
    return df, pdf, split_every


# --- the issue's examples -----------------------------------------------------------------


def issue_frame():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({
        "id": np.arange(n),
        "name": pd.Series(rng.choice(["alice", "bob", "carol", "dan"], n), dtype="str"),
        "age": rng.integers(0, 5, n),
        "amount": rng.normal(100, 20, n).round(2),
    })


def test_issue_examples(scheduler):
    pdf = issue_frame()
    df = dd.from_pandas(pdf, npartitions=7)
    assert_eq(df[df.age > 1].groupby("age").size(), pdf[pdf.age > 1].groupby("age").size(),
              scheduler=scheduler)
    result = df.groupby("name").agg({"amount": ["sum", "mean"], "id": "count"})
    expected = pdf.groupby("name").agg({"amount": ["sum", "mean"], "id": "count"})
    assert_eq(result, expected, scheduler=scheduler)
    assert result.compute().index.dtype == "str"  # pandas 3's str keys, not string[pyarrow]
    assert_eq(df[["name", "amount"]].describe(), pdf[["name", "amount"]].describe(),
              scheduler=scheduler)


# --- every aggregation --------------------------------------------------------------------


@pytest.mark.parametrize("how", ["sum", "mean", "count", "min", "max", "std", "var", "first",
                                 "last", "nunique", "prod"])
def test_series_groupby_methods(frames, how, scheduler):
    df, pdf, split_every = frames
    for column in ("i", "f"):
        result = getattr(df.groupby("s")[column], how)(split_every=split_every)
        assert_eq(result, getattr(pdf.groupby("s")[column], how)(), scheduler=scheduler)


@pytest.mark.parametrize("how", ["min", "max", "first", "last", "count", "nunique"])
def test_strings_and_tz_datetimes(frames, how, scheduler):
    df, pdf, split_every = frames
    result = getattr(df.groupby("k")[["s", "t"]], how)(split_every=split_every)
    expected = getattr(pdf.groupby("k")[["s", "t"]], how)()
    assert_eq(result, expected, scheduler=scheduler)
    if how in ("min", "first"):
        assert result.compute().dtypes["t"] == pdf.t.dtype and pdf.t.dt.tz is not None
        assert result.compute().dtypes["s"] == "str"


def test_frame_groupby_methods_and_size(frames, scheduler):
    df, pdf, split_every = frames
    num = df[["k", "i", "f", "b"]]
    pnum = pdf[["k", "i", "f", "b"]]
    for how in ("sum", "mean", "max", "std", "var", "prod", "count"):
        assert_eq(getattr(num.groupby("k"), how)(split_every=split_every),
                  getattr(pnum.groupby("k"), how)(), scheduler=scheduler)
    assert_eq(df.groupby("s").size(), pdf.groupby("s").size(), scheduler=scheduler)
    assert_eq(df.groupby("s").i.size(), pdf.groupby("s").i.size())
    assert_eq(df.groupby("k").mean(numeric_only=True), pdf.groupby("k").mean(numeric_only=True))


def test_ddof_and_nunique_dropna(frames):
    df, pdf, _ = frames
    for ddof in (0, 2):
        assert_eq(df.groupby("s").f.var(ddof=ddof), pdf.groupby("s").f.var(ddof=ddof))
        assert_eq(df.groupby("s").f.std(ddof=ddof), pdf.groupby("s").f.std(ddof=ddof))
    assert_eq(df.groupby("k").s.nunique(dropna=False), pdf.groupby("k").s.nunique(dropna=False))


def test_variance_per_group_is_stable():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=6000)
    keys = rng.integers(0, 3, 6000)
    pdf = pd.DataFrame({"key": keys, "x": 1e9 + noise})
    result = dd.from_pandas(pdf, npartitions=12).groupby("key").x.var(split_every=3).compute()
    exact = pd.Series(noise).groupby(keys).var()
    np.testing.assert_allclose(result.to_numpy(), exact.to_numpy(), rtol=1e-6)


# --- agg forms ----------------------------------------------------------------------------


def test_agg_dict_list_named(frames, scheduler):
    df, pdf, split_every = frames
    spec = {"i": ["sum", "mean", "std"], "f": "max", "s": ["first", "nunique"]}
    assert_eq(df.groupby("k").agg(spec, split_every=split_every), pdf.groupby("k").agg(spec),
              scheduler=scheduler)
    assert_eq(df.groupby("k").agg({"i": "sum", "f": "mean"}),
              pdf.groupby("k").agg({"i": "sum", "f": "mean"}))
    assert_eq(df[["k", "i", "f"]].groupby("k").agg(["sum", "min", "count"]),
              pdf[["k", "i", "f"]].groupby("k").agg(["sum", "min", "count"]))
    assert_eq(df.groupby("k").agg(total=("f", "sum"), people=("s", "nunique"),
                                  spread=("i", "var")),
              pdf.groupby("k").agg(total=("f", "sum"), people=("s", "nunique"),
                                   spread=("i", "var")))
    assert_eq(df.groupby("k").f.agg(["sum", "mean"]), pdf.groupby("k").f.agg(["sum", "mean"]))
    assert_eq(df.groupby("k").f.agg("mean"), pdf.groupby("k").f.agg("mean"))
    assert_eq(df[["k", "i", "f"]].groupby("k").agg("sum"), pdf[["k", "i", "f"]].groupby("k").agg("sum"))
    assert_eq(df.groupby("k")[["i", "f"]].agg(["sum", "last"]),
              pdf.groupby("k")[["i", "f"]].agg(["sum", "last"]))
    assert_eq(df.groupby("k")[["i", "f"]].sum(), pdf.groupby("k")[["i", "f"]].sum())
    assert_eq(df.groupby("k").f.agg(total="sum", most="max"),
              pdf.groupby("k").f.agg(total="sum", most="max"))
    assert_eq(df.groupby("k").agg(total=pd.NamedAgg("f", "sum")),
              pdf.groupby("k").agg(total=pd.NamedAgg("f", "sum")))


def custom_sum_chunk(grouped):
    return grouped.sum()


def custom_sum_agg(grouped):
    return grouped.sum()


def mean_chunk(grouped):
    return grouped.count(), grouped.sum()


def mean_agg(count, total):
    return count.sum(), total.sum()


def mean_finalize(count, total):
    return total / count


def test_custom_aggregation(frames, scheduler):
    df, pdf, split_every = frames
    custom_sum = Aggregation("custom_sum", custom_sum_chunk, custom_sum_agg)
    result = df.groupby("k").f.agg(custom_sum, split_every=split_every)
    assert_eq(result, pdf.groupby("k").f.sum(), scheduler=scheduler)
    custom_mean = Aggregation("custom_mean", mean_chunk, mean_agg, mean_finalize)
    result = df.groupby("k").agg({"f": [custom_mean, "mean"], "i": custom_sum})
    computed = result.compute(scheduler=scheduler)
    expected = pdf.groupby("k").agg({"f": ["mean", "mean"], "i": "sum"})
    assert list(computed.columns) == [("f", "custom_mean"), ("f", "mean"), ("i", "custom_sum")]
    np.testing.assert_allclose(computed.to_numpy(dtype=float), expected.to_numpy(dtype=float))


# --- keys, sort, dropna, observed -----------------------------------------------------------


def test_by_list_series_and_level(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df.groupby(["k", "s"]).f.sum(split_every=split_every),
              pdf.groupby(["k", "s"]).f.sum(), scheduler=scheduler)
    assert_eq(df.groupby(df.s).f.mean(), pdf.groupby(pdf.s).f.mean())  # a column as a Series
    derived = df.i % 2
    assert_eq(df.groupby(derived).f.sum(), pdf.groupby(pdf.i % 2).f.sum(), scheduler=scheduler)
    assert_eq(df.groupby([derived, "k"]).f.max(), pdf.groupby([pdf.i % 2, "k"]).f.max())
    indexed = pdf.set_index("k")
    dindexed, _ = layout(indexed, "even")
    assert_eq(dindexed.groupby(level="k").f.sum(), indexed.groupby(level="k").f.sum())
    assert_eq(dindexed.groupby(level=0).agg({"f": "mean", "i": "count"}),
              indexed.groupby(level=0).agg({"f": "mean", "i": "count"}))
    assert_eq(dindexed.f.groupby(level=0).sum(), indexed.f.groupby(level=0).sum())
    # an index level named like a key, mixed with a column
    assert_eq(dindexed.groupby(["k", "s"]).f.count(), indexed.groupby(["k", "s"]).f.count())


def test_sort_false_and_dropna_false(frames):
    df, pdf, split_every = frames
    result = df.groupby("s", sort=False).f.sum(split_every=split_every)
    expected = pdf.groupby("s", sort=False).f.sum()
    pd.testing.assert_series_equal(result.compute(), expected)  # first-seen order, as pandas
    assert_eq(df.groupby("s", dropna=False).agg({"f": "mean", "i": "size"}),
              pdf.groupby("s", dropna=False).agg({"f": "mean", "i": "size"}))
    assert_eq(df.groupby(["s", "k"], dropna=False).size(),
              pdf.groupby(["s", "k"], dropna=False).size())


@pytest.mark.parametrize("observed", [True, False])
def test_categorical_keys_observed(frames, observed, scheduler):
    df, pdf, split_every = frames
    cat = pdf.c.cat.add_categories(["never"])
    pdf = pdf.assign(c=cat)
    df = df.assign(c=df.c.astype(cat.dtype))
    gb, pgb = df.groupby("c", observed=observed), pdf.groupby("c", observed=observed)
    for how in ("sum", "count", "size", "mean", "var", "nunique", "first"):
        column = "s" if how in ("nunique", "first") else "f"
        result = getattr(gb if how == "size" else gb[column], how)(split_every=split_every)
        expected = getattr(pgb if how == "size" else pgb[column], how)()
        assert_eq(result, expected, scheduler=scheduler)
    assert ("never" in result.compute().index) is (not observed)
    # with a second key, observed=False gives the product of categories and keys, as pandas
    two = df.groupby(["c", "k"], observed=observed)
    ptwo = pdf.groupby(["c", "k"], observed=observed)
    assert_eq(two.f.mean(split_every=split_every), ptwo.f.mean(), scheduler=scheduler)
    assert_eq(two.size(), ptwo.size())


def test_groupby_empty_and_filtered(frames):
    df, pdf, _ = frames
    assert_eq(df[df.i > 100].groupby("k").f.sum(), pdf[pdf.i > 100].groupby("k").f.sum())
    assert_eq(df[df.i > 100].groupby("s").agg({"f": ["mean", "count"]}),
              pdf[pdf.i > 100].groupby("s").agg({"f": ["mean", "count"]}))


# --- errors -------------------------------------------------------------------------------


def test_build_time_errors(frames):
    df, _, _ = frames
    with pytest.raises(KeyError, match="no column 'nope'.*columns are"):
        df.groupby("nope")
    with pytest.raises(KeyError, match="no column 'nope'"):
        df.groupby("k")["nope"]
    with pytest.raises(ValueError, match="not a tree-reducible aggregation"):
        df.groupby("k").agg({"f": "median"})
    with pytest.raises(TypeError, match=r"groupby\(\.\.\.\)\.mean"):
        df.groupby("k").s.mean()
    with pytest.raises(KeyError, match="do not exist"):
        df.groupby("k").agg({"nope": "sum"})


# --- memory: the tree is bounded by split_every --------------------------------------------


def test_groupby_graph_and_alive_partials_are_bounded():
    pdf = issue_frame()
    df = dd.from_pandas(pdf, npartitions=40)
    result = df.groupby("name").amount.mean(split_every=4)
    node = result.expr
    assert node.levels == [40, 10, 3]
    graph = lower([node], inline=False)
    fan_in = [len(task.dependencies) for key, task in graph.items()
              if str(key[0] if isinstance(key, tuple) else key).startswith(node.name)]
    assert max(fan_in) <= 4
    alive = []

    def count(key, value, graph, state, worker_id):
        alive.append(sum(1 for k in state.results if "-partial-" in str(k)))

    with Callback(posttask=count):
        value = result.compute(scheduler="sync")
    pd.testing.assert_series_equal(value, pdf.groupby("name").amount.mean())
    assert 0 < max(alive) <= 3 * 4  # at most split_every partials per level of the tree


def test_partial_has_one_row_per_group():
    pdf = issue_frame()
    prims = G.primitives_of([("amount", "mean"), ("amount", "var")])
    frame, pairs = G.groupby_chunk(pdf, by=[("column", "name")], prims=prims)
    assert len(frame) == pdf.name.nunique() and not pairs
    merged = k.combine_call([(frame, pairs), (frame, pairs)], G.groupby_combine,
                            {"prims": prims})
    assert len(merged[0]) == pdf.name.nunique()


# --- distributed -------------------------------------------------------------------------


def test_groupby_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    pdf = issue_frame()
    df = dd.from_pandas(pdf, npartitions=6)
    custom = Aggregation("custom_sum", custom_sum_chunk, custom_sum_agg)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as client:
        future = client.compute(
            df.groupby("name").agg({"amount": ["sum", "mean", "std"], "id": "count"}))
        result = future.result()
        pd.testing.assert_frame_equal(
            result, pdf.groupby("name").agg({"amount": ["sum", "mean", "std"], "id": "count"}))
        summed = df.groupby("age").amount.agg(custom).compute(scheduler=client)
        pd.testing.assert_series_equal(summed, pdf.groupby("age").amount.sum())


# --- the issue's examples on Parquet ------------------------------------------------------


def test_issue_examples_on_a_hive_partitioned_parquet_dataset(tmp_path):
    pdf = issue_frame().assign(part=lambda f: f.id % 3)
    pdf.to_parquet(tmp_path / "events", partition_cols=["part"], row_group_size=40)
    df = dd.read_parquet(str(tmp_path / "events"))
    expected = pd.read_parquet(tmp_path / "events")  # pandas on the same files
    assert df.npartitions > 1
    assert_eq(df[df.age > 1].groupby("age").size(),
              expected[expected.age > 1].groupby("age").size())
    assert_eq(df.groupby("name").agg({"amount": ["sum", "mean"], "id": "count"}),
              expected.groupby("name").agg({"amount": ["sum", "mean"], "id": "count"}))
    assert_eq(df[["name", "amount"]].describe(), expected[["name", "amount"]].describe())
    # a groupby reads only the key and the aggregated columns
    plan = df.groupby("name").amount.sum().explain(show=False)
    assert "columns=['name', 'amount']" in plan


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_many_integer_keys_sorted_by_counting_and_merged_once(scheduler):
    """Many keys (the counting sort of merged integer keys, one grouping of the partials
    for all their columns), against pandas: negative, unsigned and sparse keys, nulls in
    the values, uneven and empty partitions, sort=True and first-seen order."""
    rng = np.random.default_rng(11)
    n = 30_000
    values = rng.normal(size=n)
    values[::13] = np.nan
    pdf = pd.DataFrame({
        "k": rng.integers(-5_000, 5_000, n),
        "u": rng.integers(0, 20_000, n).astype("uint32"),
        "sparse": rng.integers(0, 10**12, n),
        "x": values,
        "i": rng.integers(0, 100, n),
    })
    locations = (0, 7_000, 7_000, 20_000, n)
    df = dd.new_collection(FromPandas(pdf, (None,) * len(locations), locations))
    for key in ("k", "u", "sparse"):
        agg = {"x": ["mean", "sum", "count", "min", "max"], "i": ["sum", "size"]}
        assert_eq(df.groupby(key).agg(agg, split_every=2), pdf.groupby(key).agg(agg),
                  scheduler=scheduler)
        assert_eq(df.groupby(key).x.mean(), pdf.groupby(key).x.mean(), scheduler=scheduler)
        got = df.groupby(key, sort=False).i.sum().compute(scheduler=scheduler)
        want = pdf.groupby(key, sort=False).i.sum()
        pd.testing.assert_series_equal(got, want)  # first-seen order, as pandas


def test_sort_groups_matches_sort_index():
    rng = np.random.default_rng(2)
    for keys in (rng.permutation(1000) - 500, rng.permutation(50).astype("uint8"),
                 rng.choice(10**9, 100, replace=False), np.array([3, 3, 1])):
        frame = pd.DataFrame({"v": np.arange(len(keys))}, index=pd.Index(keys, name="g"))
        pd.testing.assert_frame_equal(G.sort_groups(frame), frame.sort_index())


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_as_index_false_puts_the_keys_in_columns(frames, scheduler):
    df, pdf, split_every = frames
    for by in ("k", ["k", "b"]):
        got = df.groupby(by, as_index=False)
        want = pdf.groupby(by, as_index=False)
        assert_eq(got.f.sum(), want.f.sum(), scheduler=scheduler)
        assert_eq(got[["f", "i"]].mean(split_every=split_every), want[["f", "i"]].mean(),
                  scheduler=scheduler)
        assert_eq(got.size(), want.size(), scheduler=scheduler)
        assert_eq(got.agg({"f": ["sum", "count"], "i": "max"}),
                  want.agg({"f": ["sum", "count"], "i": "max"}), scheduler=scheduler)
        assert_eq(got.agg(total=("f", "sum"), n=("i", "count")),
                  want.agg(total=("f", "sum"), n=("i", "count")), scheduler=scheduler)
    with pytest.raises(NotImplementedError, match="as_index=False.*assign"):
        df.groupby(df.i % 2, as_index=False)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_sum_and_prod_min_count(frames, scheduler):
    df, pdf, split_every = frames
    pdf = pdf.assign(sparse=pdf.f.where(pdf.i % 5 == 0))  # groups with 0, 1 or more values
    df = df.assign(sparse=df.f.where(df.i % 5 == 0))
    for min_count in (0, 1, 2, 3):
        assert_eq(df.groupby("k").sparse.sum(min_count=min_count, split_every=split_every),
                  pdf.groupby("k").sparse.sum(min_count=min_count), scheduler=scheduler)
        assert_eq(df.groupby("i").sparse.prod(min_count=min_count),
                  pdf.groupby("i").sparse.prod(min_count=min_count), scheduler=scheduler)
        assert_eq(df.groupby("k")[["sparse", "f"]].sum(min_count=min_count),
                  pdf.groupby("k")[["sparse", "f"]].sum(min_count=min_count), scheduler=scheduler)


def test_counted_chunk_and_combine_match_the_hashing_kernels():
    """Dense integer keys with sums/counts/sizes are grouped by ``np.bincount``: the
    partials equal pandas' (in key order), nulls in the values, negative and unsigned keys."""
    rng = np.random.default_rng(5)
    n = 5_000
    x = rng.normal(size=n)
    x[::9] = np.nan
    part = pd.DataFrame({"k": rng.integers(-300, 300, n), "u": rng.integers(0, 900, n).astype("uint16"),
                         "x": x, "i": rng.integers(0, 5, n)})
    prims = [("x", "sum"), ("x", "count"), (None, "size"), ("i", "count")]
    for key in ("k", "u"):
        by = [("column", key)]
        counted, pairs = G.groupby_chunk(part, by=by, prims=prims, sort=True)
        hashed, _ = G.groupby_chunk(part, by=by, prims=prims, sort=False)
        assert pairs == {} and counted.index.is_monotonic_increasing
        pd.testing.assert_frame_equal(counted, hashed.sort_index())
        halves = [G.groupby_chunk(p, by=by, prims=prims, sort=True) for p in (part[:2000], part[2000:])]
        merged, _ = G.groupby_combine(halves, prims=prims, sort=True)
        pd.testing.assert_frame_equal(merged, hashed.sort_index())
    # what it does not take: sparse keys, other primitives, sums of integers
    assert GC.counted_chunk(part, [part.k * 10**9], prims) is None
    assert GC.counted_chunk(part, [part.k], [("x", "min")]) is None
    assert GC.counted_chunk(part, [part.k], [("i", "sum")]) is None
    assert GC.counted_chunk(part, [part.k], prims) is not None


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("dtype", ["int8", "int16"])
def test_counted_groupby_of_narrow_integer_keys_whose_span_outgrows_their_dtype(dtype, scheduler):
    # key - min of int8 keys 120 and -57 wrapped to a negative code (a bincount error)
    keys = np.array([0, 27, 120, 58, 33, 11, 15, 111, -57, 80, 43, 111], dtype=dtype)
    if dtype == "int16":
        keys = keys.astype(np.int16) * 256
    pdf = pd.DataFrame({"k": np.tile(keys, 50), "x": np.arange(600.0)})
    assert GC.dense_codes(pdf.k) is not None or dtype == "int16"
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.groupby("k").x.sum(), pdf.groupby("k").x.sum(), scheduler=scheduler)
    assert_eq(df.groupby("k").x.count(), pdf.groupby("k").x.count(), scheduler=scheduler)
