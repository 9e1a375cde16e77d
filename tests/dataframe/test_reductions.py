"""Reductions by tree reduction, against pandas on the same data.

Layouts: even partitions with known divisions, uneven and empty partitions
with unknown divisions, and many partitions with ``split_every=2`` (a tree
of several levels). The kernels are also checked directly on pandas objects.
"""

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
import chunkwise.dataframe.partials as k
import chunkwise.dataframe.sketches as sketches
from chunkwise.core.expr import lower
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.expr import FromPandas
from chunkwise.dataframe.reductions import TreeReduction
from chunkwise.scheduling.callbacks import Callback

from .conftest import make_frame


def layout(pdf, kind):
    """``pdf`` as a chunkwise collection in one of the test layouts."""
    if kind == "even":
        return dd.from_pandas(pdf, npartitions=3), None
    if kind == "uneven-empty-unknown":
        n = len(pdf)
        locations = (0, 3, 3, n // 2, n // 2, n)
        return dd.new_collection(FromPandas(pdf, (None,) * len(locations), locations)), None
    return dd.from_pandas(pdf, chunksize=2), 2  # many partitions, a tree of several levels


LAYOUTS = ["even", "uneven-empty-unknown", "deep-tree"]


@pytest.fixture(params=LAYOUTS)
def frames(request, pdf):
    pdf = pdf.assign(b=pdf.i > 0, small=(pdf.i % 3) + 1, k=pdf.i % 2)
    df, split_every = layout(pdf, request.param)
    return df, pdf, split_every


# --- simple reductions -----------------------------------------------------------------


@pytest.mark.parametrize("how", ["sum", "prod", "min", "max", "count", "mean", "var", "std"])
def test_numeric_frame_reductions(frames, how, scheduler):
    df, pdf, split_every = frames
    cols = ["i", "f", "small"] if how != "prod" else ["small", "b"]
    result = getattr(df[cols], how)(split_every=split_every)
    assert_eq(result, getattr(pdf[cols], how)(), scheduler=scheduler)


@pytest.mark.parametrize("how", ["sum", "min", "max", "count", "mean", "var", "std", "prod"])
def test_series_reductions_are_scalars(frames, how, scheduler):
    df, pdf, split_every = frames
    result = getattr(df.f, how)(split_every=split_every)
    assert isinstance(result, dd.Scalar)
    assert_eq(result, getattr(pdf.f, how)(), scheduler=scheduler)
    assert_eq(getattr(df.i, how)(split_every=split_every), getattr(pdf.i, how)())


def test_min_max_of_strings_and_tz_datetimes(frames, scheduler):
    df, pdf, split_every = frames
    for how in ("min", "max"):
        result = getattr(df[["s", "t", "i"]], how)(split_every=split_every)
        assert_eq(result, getattr(pdf[["s", "t", "i"]], how)(), scheduler=scheduler)
        value = getattr(df.t, how)(split_every=split_every).compute(scheduler=scheduler)
        assert value == getattr(pdf.t, how)() and value.tz is not None
        assert getattr(df.s, how)().compute() == getattr(pdf.s, how)()


def test_index_min_max(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df.index.min(split_every=split_every), pdf.index.min(), scheduler=scheduler)
    assert_eq(df.index.max(split_every=split_every), pdf.index.max(), scheduler=scheduler)
    by_time = dd.from_pandas(pdf.set_index("t"), npartitions=3)
    assert by_time.index.max().compute() == pdf.t.max()
    with pytest.raises(TypeError, match="Index.min"):
        dd.from_pandas(pdf.set_index("c"), npartitions=2).index.min()


def test_count_all_dtypes_and_any_all(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df.count(split_every=split_every), pdf.count(), scheduler=scheduler)
    for how in ("any", "all"):
        result = getattr(df[["i", "f", "b"]], how)(split_every=split_every)
        assert_eq(result, getattr(pdf[["i", "f", "b"]], how)(), scheduler=scheduler)
        assert_eq(getattr(df.b, how)(), getattr(pdf.b, how)())


def test_skipna_ddof_min_count_numeric_only(frames):
    df, pdf, split_every = frames
    num = ["i", "f"]
    assert_eq(df[num].sum(skipna=False, split_every=split_every), pdf[num].sum(skipna=False))
    assert_eq(df[num].mean(skipna=False), pdf[num].mean(skipna=False))
    assert_eq(df[num].var(skipna=False), pdf[num].var(skipna=False))
    assert_eq(df[num].min(skipna=False), pdf[num].min(skipna=False))
    for ddof in (0, 2):
        assert_eq(df[num].var(ddof=ddof), pdf[num].var(ddof=ddof))
        assert_eq(df.f.std(ddof=ddof), pdf.f.std(ddof=ddof))
    assert_eq(df[num].sum(min_count=len(pdf)), pdf[num].sum(min_count=len(pdf)))
    assert_eq(df.f.sum(min_count=len(pdf)), pdf.f.sum(min_count=len(pdf)))
    assert_eq(df.mean(numeric_only=True), pdf.mean(numeric_only=True))
    assert_eq(df.std(numeric_only=True), pdf.std(numeric_only=True))
    assert_eq(df.sum(numeric_only=True), pdf.sum(numeric_only=True))


def test_axis_1_is_per_row(frames):
    df, pdf, _ = frames
    num = ["i", "f", "small"]
    for how in ("sum", "mean", "max", "count", "std"):
        result = getattr(df[num], how)(axis=1)
        assert result.npartitions == df.npartitions
        assert_eq(result, getattr(pdf[num], how)(axis=1))


def test_size_and_memory_usage(frames):
    df, pdf, split_every = frames
    assert df.size.compute() == pdf.size
    assert df.f.size.compute() == pdf.f.size
    fixed = ["i", "f", "t", "b", "small"]  # fixed-width columns: exact
    assert_eq(df[fixed].memory_usage(index=False, split_every=split_every),
              pdf[fixed].memory_usage(index=False))
    # strings and categoricals count each partition's own buffers and categories
    assert (df.memory_usage(index=False).compute() >= pdf.memory_usage(index=False)).all()
    assert df.f.memory_usage(index=False).compute() == pdf.f.memory_usage(index=False)
    # the index's bytes are summed partition by partition
    assert df.memory_usage().compute()["i"] == pdf.memory_usage()["i"]


def test_empty_frame_gives_pandas_answer_on_empty():
    pdf = make_frame().iloc[:0]
    df = dd.from_pandas(pdf, npartitions=2)
    assert_eq(df[["i", "f"]].sum(), pdf[["i", "f"]].sum())
    assert_eq(df.f.mean(), pdf.f.mean())
    assert_eq(df.count(), pdf.count())
    assert_eq(df.i.max(), pdf.i.max())


def test_all_partitions_filtered_away(frames):
    df, pdf, split_every = frames
    assert_eq(df[df.i > 100].f.sum(split_every=split_every), pdf[pdf.i > 100].f.sum())
    assert_eq(df[df.i > 100][["i", "f"]].count(), pdf[pdf.i > 100][["i", "f"]].count())


def test_nullable_and_int_dtypes():
    pdf = pd.DataFrame({"a": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
                        "b": np.arange(6, dtype="int32"), "u": np.arange(6, dtype="uint8")})
    df = dd.from_pandas(pdf, npartitions=3)
    for how in ("sum", "min", "max", "mean", "var", "count"):
        assert_eq(getattr(df, how)(), getattr(pdf, how)())


def test_variance_is_numerically_stable():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=10_000)
    pdf = pd.DataFrame({"x": 1e9 + noise})
    df = dd.from_pandas(pdf, npartitions=13)
    exact = np.var(noise, ddof=1)  # the shift does not change the variance
    result = df.x.var(split_every=3).compute()
    assert abs(result - exact) / exact < 1e-6
    # the naive sum-of-squares formula loses everything here
    naive = ((pdf.x ** 2).sum() - pdf.x.sum() ** 2 / len(pdf)) / (len(pdf) - 1)
    assert abs(naive - exact) / exact > 1e-3


# --- per-column reductions --------------------------------------------------------------


def test_nunique_idxmin_idxmax(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df.nunique(split_every=split_every), pdf.nunique(), scheduler=scheduler)
    assert_eq(df.nunique(dropna=False), pdf.nunique(dropna=False))
    assert df.s.nunique().compute() == pdf.s.nunique()
    for how in ("idxmin", "idxmax"):
        assert_eq(getattr(df[["i", "f", "t"]], how)(split_every=split_every),
                  getattr(pdf[["i", "f", "t"]], how)(), scheduler=scheduler)
        assert getattr(df.f, how)().compute() == getattr(pdf.f, how)()


def test_idxmin_skipna_false_raises_like_pandas(frames):
    df, pdf, _ = frames
    with pytest.raises(ValueError, match="NA"):
        pdf.f.idxmin(skipna=False)
    with pytest.raises(ValueError, match="NA"):
        df.f.idxmin(skipna=False).compute()


def test_mode(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df.s.mode(split_every=split_every), pdf.s.mode(), check_index=False,
              scheduler=scheduler)
    assert_eq(df.i.mode(), pdf.i.mode(), check_index=False)
    assert_eq(df.c.mode(), pdf.c.mode(), check_index=False)
    assert_eq(df[["i", "small"]].mode(), pdf[["i", "small"]].mode(), check_index=False)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("dropna", [True, False])
def test_value_counts(frames, normalize, dropna, scheduler):
    df, pdf, split_every = frames
    result = df.s.value_counts(normalize=normalize, dropna=dropna, split_every=split_every)
    expected = pdf.s.value_counts(normalize=normalize, dropna=dropna)
    # the counts are sorted; among equal counts pandas' order is unspecified
    computed = result.compute(scheduler=scheduler)
    assert computed.is_monotonic_decreasing
    assert computed.name == expected.name and computed.index.name == expected.index.name
    assert computed.index.dtype == expected.index.dtype == "str"
    pd.testing.assert_series_equal(computed.sort_index(), expected.sort_index())


def test_value_counts_sort_ascending_and_categorical(frames):
    df, pdf, _ = frames
    assert_eq(df.small.value_counts(sort=False).compute().sort_index(),
              pdf.small.value_counts(sort=False).sort_index())
    assert df.small.value_counts(ascending=True).compute().is_monotonic_increasing
    cat = pdf.c.cat.add_categories(["never"])
    dcat = dd.from_pandas(pdf.assign(c=cat), npartitions=3).c
    result = dcat.value_counts().compute()
    expected = cat.value_counts()
    assert result["never"] == 0  # every category, as pandas
    pd.testing.assert_series_equal(result.sort_index(), expected.sort_index())


@pytest.mark.parametrize("normalize", [False, True])
def test_frame_value_counts(frames, normalize, scheduler):
    df, pdf, split_every = frames
    result = df[["k", "s"]].value_counts(normalize=normalize, split_every=split_every)
    expected = pdf[["k", "s"]].value_counts(normalize=normalize)
    computed = result.compute(scheduler=scheduler)
    assert computed.is_monotonic_decreasing
    pd.testing.assert_series_equal(computed.sort_index(), expected.sort_index())
    assert_eq(df.value_counts(subset=["k"], sort=False).compute().sort_index(),
              pdf.value_counts(subset=["k"], sort=False).sort_index())


# --- split_out: value_counts and nunique through a hash shuffle -----------------------------


def partition_results(collection):
    """Each output partition of ``collection``, computed."""
    return [collection.partitions[i].compute() for i in range(collection.npartitions)]


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("dropna", [True, False])
@pytest.mark.parametrize("column", ["s", "f", "c"])
def test_value_counts_split_out(frames, column, normalize, dropna):
    df, pdf, split_every = frames
    result = df[column].value_counts(normalize=normalize, dropna=dropna, split_out=3,
                                     split_every=split_every)
    expected = pdf[column].value_counts(normalize=normalize, dropna=dropna)
    assert result.npartitions == 3
    parts = partition_results(result)
    assert all(p.is_monotonic_decreasing for p in parts)  # each sorted by count
    keys = [v for p in parts for v in p.index]
    assert len(keys) == len(set(map(str, keys)))  # every value in exactly one partition
    assert sum(len(p) > 0 for p in parts) >= 2  # the counts really are split
    computed = result.compute()
    assert computed.index.dtype == expected.index.dtype
    pd.testing.assert_series_equal(computed.sort_index(), expected.sort_index())


def test_value_counts_split_out_categorical_lists_every_category_once():
    pdf = make_frame(40)
    cat = pdf.c.cat.add_categories(["never", "nor"])
    dcat = dd.from_pandas(pdf.assign(c=cat), npartitions=4).c
    result = dcat.value_counts(split_out=True, sort=False)
    assert result.npartitions == 4
    computed = result.compute()
    assert computed["never"] == 0 and computed["nor"] == 0
    assert not computed.index.has_duplicates
    pd.testing.assert_series_equal(computed.sort_index(), cat.value_counts(sort=False).sort_index())


@pytest.mark.parametrize("normalize", [False, True])
def test_frame_value_counts_split_out(frames, normalize, scheduler):
    df, pdf, split_every = frames
    result = df[["k", "s"]].value_counts(normalize=normalize, split_out=2, dropna=False)
    expected = pdf[["k", "s"]].value_counts(normalize=normalize, dropna=False)
    assert result.npartitions == 2
    computed = result.compute(scheduler=scheduler)
    assert computed.index.names == expected.index.names
    pd.testing.assert_series_equal(computed.sort_index(), expected.sort_index())


def test_value_counts_split_out_on_all_empty_partitions():
    pdf = make_frame().iloc[:0]
    result = dd.from_pandas(pdf, npartitions=2).s.value_counts(split_out=2)
    pd.testing.assert_series_equal(result.compute(), pdf.s.value_counts())


@pytest.mark.parametrize("dropna", [True, False])
def test_nunique_split_out(frames, dropna, scheduler):
    df, pdf, split_every = frames
    result = df.nunique(dropna=dropna, split_out=3, split_every=split_every)
    assert_eq(result, pdf.nunique(dropna=dropna), scheduler=scheduler)
    for column in ["s", "i", "f", "c", "t"]:
        one = df[column].nunique(dropna=dropna, split_out=True)
        assert one.compute(scheduler=scheduler) == pdf[column].nunique(dropna=dropna)
    assert df.s.nunique(split_out=2).compute() == pdf.s.nunique()


def test_split_out_goes_through_a_hash_shuffle_and_checks_its_argument():
    from chunkwise.core.expr import walk
    from chunkwise.dataframe.shuffle import HashShuffle

    df = dd.from_pandas(make_frame(), npartitions=3)
    shuffles = [e for e in walk([df.s.value_counts(split_out=2).expr]) if isinstance(e, HashShuffle)]
    assert len(shuffles) == 1 and shuffles[0].npartitions == 2
    assert any(isinstance(e, HashShuffle) for e in walk([df.nunique(split_out=2).expr]))
    assert not any(isinstance(e, HashShuffle) for e in walk([df.s.value_counts(split_out=1).expr]))
    with pytest.raises(ValueError, match=r"Series.value_counts\(split_out=...\)"):
        df.s.value_counts(split_out=0)
    with pytest.raises(ValueError, match=r"DataFrame.nunique\(split_out=...\)"):
        df.nunique(split_out="many")


def test_split_out_kernels_against_pandas():
    s = pd.Series(["a", "b", None, "a"], dtype="str")
    frame = pd.concat([k.counts_frame(s.iloc[:2], dropna=False), k.counts_frame(s.iloc[2:], dropna=False)])
    out = k.value_counts_partition(frame, 1, name=None)
    pd.testing.assert_series_equal(out.sort_index(), s.value_counts(dropna=False).sort_index())
    assert k.divide_counts(out.iloc[:0], 0).name == "proportion"


def test_cov_corr(frames, scheduler):
    df, pdf, split_every = frames
    num = ["i", "f", "small"]
    assert_eq(df[num].cov(split_every=split_every), pdf[num].cov(), scheduler=scheduler)
    assert_eq(df[num].corr(split_every=split_every), pdf[num].corr(), scheduler=scheduler)
    # pandas ignores ddof when a column has nulls; compare on complete columns
    assert_eq(df[["i", "small"]].cov(ddof=0), pdf[["i", "small"]].cov(ddof=0))
    assert_eq(df[num].corr(min_periods=12), pdf[num].corr(min_periods=12))
    cols = ["i", "f", "s", "small"]  # pandas refuses datetimes even with numeric_only
    assert_eq(df[cols].cov(numeric_only=True), pdf[cols].cov(numeric_only=True))
    assert_eq(df.i.cov(df.f), pdf.i.cov(pdf.f))
    assert_eq(df.i.corr(df.f), pdf.i.corr(pdf.f))


def test_cov_is_stable_with_large_offsets():
    rng = np.random.default_rng(2)
    a = rng.normal(size=5000)
    b = a + rng.normal(size=5000)
    pdf = pd.DataFrame({"a": 1e8 + a, "b": 1e8 + b})
    result = dd.from_pandas(pdf, npartitions=7).cov(split_every=2).compute()
    exact = pd.DataFrame({"a": a, "b": b}).cov()
    np.testing.assert_allclose(result.to_numpy(), exact.to_numpy(), rtol=1e-6)


# --- approximate: quantile, describe, nunique_approx ---------------------------------------


def test_quantile_is_exact_on_small_partitions(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df.f.quantile(0.3, split_every=split_every), pdf.f.quantile(0.3),
              scheduler=scheduler)
    assert_eq(df.f.quantile([0.1, 0.5, 0.9]), pdf.f.quantile([0.1, 0.5, 0.9]))
    assert_eq(df[["i", "f"]].quantile(0.5), pdf[["i", "f"]].quantile(0.5))
    assert_eq(df[["i", "f"]].quantile([0.25, 0.75]), pdf[["i", "f"]].quantile([0.25, 0.75]))


@pytest.mark.parametrize("distribution", ["uniform", "lognormal"])
def test_quantile_error_bound(distribution):
    """The documented bound: rank error under 0.1% of the rows (measured: at most 0.05%)."""
    rng = np.random.default_rng(3)
    n = 400_000
    values = rng.uniform(size=n) if distribution == "uniform" else rng.lognormal(0, 2, size=n)
    s = pd.Series(values)
    ds = dd.from_pandas(s, npartitions=20)
    qs = [0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999]
    result = ds.quantile(qs, split_every=4).compute()
    ordered = np.sort(values)
    ranks = np.searchsorted(ordered, result.to_numpy()) / (n - 1)
    rank_error = np.abs(ranks - np.array(qs))
    assert rank_error.max() < 1e-3, rank_error
    assert result.iloc[0] >= ordered[0] and result.iloc[-1] <= ordered[-1]


def test_describe_numeric_and_strings(frames, scheduler):
    df, pdf, split_every = frames
    assert_eq(df[["i", "f"]].describe(split_every=split_every), pdf[["i", "f"]].describe(),
              scheduler=scheduler)
    assert_eq(df.f.describe(), pdf.f.describe())
    assert_eq(df[["i", "f"]].describe(percentiles=[0.1, 0.9]),
              pdf[["i", "f"]].describe(percentiles=[0.1, 0.9]))
    strings = df[["s"]].describe().compute(scheduler=scheduler)
    expected = pdf[["s"]].describe()
    assert strings.loc[["count", "unique", "freq"]].equals(expected.loc[["count", "unique", "freq"]])
    top_count = pdf.s.value_counts().max()
    assert pdf.s.value_counts()[strings.loc["top", "s"]] == top_count


def test_describe_issue_example_mixed_frame():
    pdf = pd.DataFrame({"name": pd.Series(["a", "b", "a", "c"] * 5, dtype="str"),
                        "amount": np.linspace(0, 10, 20)})
    df = dd.from_pandas(pdf, npartitions=4)
    assert_eq(df[["name", "amount"]].describe(), pdf[["name", "amount"]].describe())


def test_describe_datetimes_is_refused_with_a_fix():
    pdf = make_frame()
    df = dd.from_pandas(pdf, npartitions=2)
    assert_eq(df[["i", "t"]].describe(), pdf[["i", "t"]].describe())  # numeric only, as pandas
    with pytest.raises(NotImplementedError, match="Series.describe.*select"):
        df.t.describe()


def test_nunique_approx_error_bound():
    """HyperLogLog with 2**14 registers: relative error within 3% (typically ~1%)."""
    rng = np.random.default_rng(4)
    for distinct in (50, 5_000, 200_000):
        values = rng.integers(0, distinct * 4, size=300_000)
        s = pd.Series(values)
        exact = s.nunique()
        estimate = dd.from_pandas(s, npartitions=10).nunique_approx(split_every=3).compute()
        assert abs(estimate - exact) / exact < 0.03, (estimate, exact)
    strings = pd.DataFrame({"a": rng.integers(0, 300, 10_000).astype(str), "b": 1})
    estimate = dd.from_pandas(strings, npartitions=4).nunique_approx().compute()
    assert abs(estimate - len(strings.drop_duplicates())) <= 0.03 * len(strings.drop_duplicates())


# --- the tree: shape, memory, errors -------------------------------------------------------


def test_tree_shape_is_bounded_by_split_every():
    pdf = pd.DataFrame({"x": np.arange(100.0)})
    df = dd.from_pandas(pdf, npartitions=50)
    result = df.x.sum(split_every=4)
    node = result.expr
    assert isinstance(node, TreeReduction)
    assert node.levels == [50, 13, 4]
    graph = lower([node], inline=False)
    for key, task in graph.items():
        name = key[0] if isinstance(key, tuple) else key
        if name.startswith(node.name):
            assert len(task.dependencies) <= 4, (key, task.dependencies)
    assert result.compute() == pdf.x.sum()


def test_partials_alive_are_bounded():
    pdf = pd.DataFrame({"x": np.arange(640.0)})
    df = dd.from_pandas(pdf, npartitions=64)
    result = df.x.var(split_every=4)
    alive = []

    def count(key, value, graph, state, worker_id):
        alive.append(sum(1 for k in state.results if "-partial-" in str(k)))

    with Callback(posttask=count):
        value = result.compute(scheduler="sync")
    assert value == pytest.approx(pdf.x.var())
    # a tree of depth 3 holds at most split_every partials per level at once
    assert 0 < max(alive) <= 3 * 4


def test_build_time_errors_name_the_operation(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(TypeError, match="DataFrame.mean"):
        df[["i", "s"]].mean()
    with pytest.raises(ValueError, match="split_every"):
        df.i.sum(split_every=1)
    with pytest.raises(ValueError, match="No axis named 2"):
        df.sum(axis=2)
    with pytest.raises(NotImplementedError, match="numeric_only=True"):
        df[["i", "t"]].mean()
    with pytest.raises(NotImplementedError, match="pearson"):
        df[["i", "f"]].corr(method="spearman")


def test_explain_shows_the_tree(pdf):
    df = dd.from_pandas(pdf, npartitions=20)
    text = df.f.sum(split_every=4).explain(show=False)
    assert "TreeReduction: sum split_every=4 levels=3" in text


# --- kernels on pandas directly -------------------------------------------------------------


def test_kernels_match_pandas_directly():
    pdf = make_frame(50, seed=5)
    parts = [pdf.iloc[:7], pdf.iloc[7:7], pdf.iloc[7:30], pdf.iloc[30:]]
    parts = [p.drop(columns="c") for p in parts]  # pandas: no min of an unordered categorical
    for how in ("min", "max", "count"):
        result = k.apply_tree(parts, k.reduce_chunk, k.reduce_combine, k.reduce_aggregate,
                              split_every=2, chunk_kwargs={"how": how},
                              combine_kwargs={"how": how})
        pd.testing.assert_series_equal(result, getattr(pdf.drop(columns="c"), how)())
    moments = k.apply_tree([p.f for p in parts], k.moments_chunk, k.moments_combine,
                           k.moments_aggregate, split_every=2,
                           aggregate_kwargs={"how": "var"})
    assert moments == pytest.approx(pdf.f.var())
    digest = k.apply_tree([p.f for p in parts], sketches.quantile_chunk, sketches.quantile_combine,
                          sketches.quantile_aggregate, aggregate_kwargs={"q": 0.37})
    assert digest == pytest.approx(pdf.f.quantile(0.37))


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_describe_counts_integers_exactly_on_large_partitions(scheduler):
    """Integer columns of a modest range are counted, not sorted: with few distinct values
    the digest is exact however many rows a partition has (here far above 4096)."""
    rng = np.random.default_rng(7)
    n = 60_000
    pdf = pd.DataFrame({
        "a": rng.integers(-50, 50, n),
        "n": pd.array(rng.integers(0, 30, n), dtype="Int64"),
        "u": rng.integers(0, 5, n).astype("uint8"),
    })
    pdf.loc[::11, "n"] = pd.NA
    for kind in ("even", "uneven-empty-unknown"):
        df, _ = layout(pdf, kind)
        assert_eq(df.describe(percentiles=[0.01, 0.25, 0.5, 0.75, 0.99]),
                  pdf.describe(percentiles=[0.01, 0.25, 0.5, 0.75, 0.99]), scheduler=scheduler)
        for q in (0.0, 0.013, 0.5, 0.777, 1.0):
            assert df.a.quantile(q).compute(scheduler=scheduler) == pdf.a.quantile(q)
    # a wide integer range or floats are sorted; the bound holds on large partitions too
    wide = pd.Series(rng.integers(0, 10**12, n))
    ordered = np.sort(wide.to_numpy())
    got = dd.from_pandas(wide, npartitions=3).quantile([0.1, 0.5, 0.9]).compute()
    ranks = np.searchsorted(ordered, got.to_numpy()) / (n - 1)
    assert np.abs(ranks - [0.1, 0.5, 0.9]).max() < 1e-3


def test_digest_kernels_against_sorting():
    rng = np.random.default_rng(1)
    values = rng.integers(0, 2_000, 50_000).astype("float64")
    counted = sketches.digest_of(values, 4096, integer=True)
    sorted_ = sketches.digest_of(values, 4096, integer=False)
    qs = np.linspace(0, 1, 101)
    exact = np.quantile(values, qs)
    for digest in (counted, sorted_):
        assert digest[1].sum() == pytest.approx(len(values))
        got = sketches.quantile_aggregate(digest, qs)
        ranks = np.searchsorted(np.sort(values), got.to_numpy()) / (len(values) - 1)
        assert np.abs(ranks - qs).max() < 1e-3
        assert got.iloc[0] == exact[0] and got.iloc[-1] == exact[-1]
    # many floats: read off a histogram (no sort), as close to the sorted digest
    n = 300_000
    crowded = np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n))  # half in one bin: sorted
    for values in (rng.normal(size=n), rng.exponential(size=n), rng.uniform(-3, 9, n), crowded):
        digest = sketches.digest_of(values, 4096)
        assert len(digest[0]) == 4096 and digest[1].sum() == pytest.approx(n)
        assert np.all(np.diff(digest[0]) >= 0)
        got = sketches.quantile_aggregate(digest, qs).to_numpy()
        ordered = np.sort(values)
        assert got[0] == ordered[0] and got[-1] == ordered[-1]
        low = np.searchsorted(ordered, got, side="left") / (n - 1)
        high = np.searchsorted(ordered, got, side="right") / (n - 1)
        assert np.all((low - 2.5e-4 <= qs) & (qs <= high + 2.5e-4))  # as the sorted digest
    few = rng.integers(0, 7, 9_000).astype("float64")  # three points a value: exact
    got = sketches.quantile_aggregate(sketches.digest_of(few, 4096, integer=True), qs)
    np.testing.assert_array_equal(got.to_numpy(), np.quantile(few, qs))
    moments, digest = k.describe_chunk(pd.Series([1.0, None, 3.0, 5.0]))
    assert moments[0][0] == 3 and moments[1][0] == 3.0 and moments[2][0] == 8.0 and moments[3][0]
    np.testing.assert_array_equal(digest[0], [1.0, 3.0, 5.0])
