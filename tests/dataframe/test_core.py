"""The collections: metadata, compute/persist, column access, operators, alignment."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import chunkwise
import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.expr import FromPandas


def test_metadata_without_computing(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    assert isinstance(df, dd.DataFrame)
    assert df.npartitions == 3
    assert df.known_divisions
    assert df.divisions == (0, 14, 28, 38)
    assert list(df.columns) == list(pdf.columns)
    pd.testing.assert_series_equal(df.dtypes, pdf.dtypes)
    assert len(df._meta) == 0
    assert df.index.dtype == pdf.index.dtype


def test_compute_round_trip(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=4)
    pd.testing.assert_frame_equal(df.compute(scheduler=scheduler), pdf)
    assert_eq(df, pdf, scheduler=scheduler)


def test_uneven_and_empty_partitions(pdf):
    df = dd.from_pandas(pdf, chunksize=7)
    assert df.npartitions == 3
    empty = dd.from_pandas(pdf.iloc[:0], npartitions=3)
    assert empty.npartitions == 1
    assert_eq(empty, pdf.iloc[:0])
    # a filter that empties some partitions
    assert_eq(df[df.i > 100], pdf[pdf.i > 100])
    assert_eq(df.partitions[[0, 2]], pd.concat([pdf.iloc[:7], pdf.iloc[14:]]))


def test_unknown_divisions(pdf):
    df = dd.from_pandas(pdf, npartitions=3, sort=False)
    assert not df.known_divisions
    assert df.divisions == (None,) * 4
    assert_eq(df.f * 2 + df.i, pdf.f * 2 + pdf.i)


def test_column_access(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df["f"], pdf["f"], scheduler=scheduler)
    assert_eq(df.s, pdf.s, scheduler=scheduler)
    assert_eq(df[["s", "i"]], pdf[["s", "i"]], scheduler=scheduler)
    assert isinstance(df.i, dd.Series)
    assert df.i.name == "i"
    assert "s" in dir(df)


def test_missing_column_lists_available(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(KeyError, match=r"'nope' not found; the available columns are \['i', 'f'"):
        df["nope"]
    with pytest.raises(KeyError, match=r"\['zz'\] not found"):
        df[["i", "zz"]]
    with pytest.raises(AttributeError, match="nope"):
        df.nope


def test_boolean_filter(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df[df.i > 2], pdf[pdf.i > 2], scheduler=scheduler)
    assert_eq(df[(df.i > 2) & (df.s == "bob")], pdf[(pdf.i > 2) & (pdf.s == "bob")])
    assert_eq(df.f[df.f.notna()], pdf.f[pdf.f.notna()])
    with pytest.raises(KeyError, match="must be boolean"):
        df[df.i]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv", "floordiv", "mod", "pow"])
def test_arithmetic_with_scalars_and_series(pdf, op):
    df = dd.from_pandas(pdf, npartitions=3)
    import operator

    fn = getattr(operator, op)
    assert_eq(fn(df.f, 3), fn(pdf.f, 3))
    assert_eq(fn(2, df.i.abs() + 1), fn(2, pdf.i.abs() + 1))
    assert_eq(fn(df.f, df.i.abs() + 1), fn(pdf.f, pdf.i.abs() + 1))
    assert_eq(fn(df[["i", "f"]], 2), fn(pdf[["i", "f"]], 2))


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(pdf, op):
    df = dd.from_pandas(pdf, npartitions=3)
    import operator

    fn = getattr(operator, op)
    assert_eq(fn(df.i, 3), fn(pdf.i, 3))
    assert_eq(fn(df.s, "bob"), fn(pdf.s, "bob"))
    assert_eq(fn(df.t, pdf.t.iloc[4]), fn(pdf.t, pdf.t.iloc[4]))
    assert_eq(fn(df[["i", "f"]], df[["i", "f"]] * 0.5), fn(pdf[["i", "f"]], pdf[["i", "f"]] * 0.5))


def test_aligned_frames_and_refusal(pdf):
    a = dd.from_pandas(pdf, npartitions=3)
    b = dd.from_pandas(pdf, npartitions=2)
    assert_eq(a[["i", "f"]] + a[["i", "f"]], pdf[["i", "f"]] * 2)
    with pytest.raises(ValueError, match="add: the operands have 3 and 2 partitions.*repartition"):
        a.i + b.i
    c = dd.from_pandas(pdf.iloc[1:], npartitions=3)
    with pytest.raises(ValueError, match="divisions differ.*repartition"):
        a.i + c.i
    # same npartitions, unknown divisions: lined up partition by partition
    u = dd.from_pandas(pdf, npartitions=3, sort=False)
    assert_eq(u.i + u.f, pdf.i + pdf.f)


def test_build_time_error_names_operation(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(TypeError, match="^sub: "):
        df.s - 1
    with pytest.raises(TypeError, match="in-memory pandas Series"):
        df.i + pdf.i


def test_unary_and_methods(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(-df.i, -pdf.i)
    assert_eq(~(df.i > 0), ~(pdf.i > 0))
    assert_eq(abs(df.f), abs(pdf.f))
    assert_eq(df.i.add(df.f, fill_value=0), pdf.i.add(pdf.f, fill_value=0))
    assert_eq(df.i.rsub(1), pdf.i.rsub(1))


def test_persist_then_compute(pdf, scheduler):
    calls = []

    def record(part):
        calls.append(len(part))
        return part

    df = dd.from_pandas(pdf, npartitions=3).map_partitions(record)
    calls.clear()
    persisted = df.persist(scheduler=scheduler)
    assert len(calls) == 3
    assert persisted.npartitions == 3
    assert_eq(persisted.i + 1, pdf.i + 1, scheduler=scheduler)
    assert len(calls) == 3  # the persisted partitions are reused


def test_compute_together_shares_work(pdf):
    calls = []

    def record(part):
        calls.append(1)
        return part

    df = dd.from_pandas(pdf, npartitions=2).map_partitions(record)
    calls.clear()
    a, b = chunkwise.compute(df.i + 1, df.f * 2)
    assert len(calls) == 2
    pd.testing.assert_series_equal(a, pdf.i + 1)
    pd.testing.assert_series_equal(b, pdf.f * 2)


def test_len_and_index(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    assert len(df) == len(pdf)
    assert len(df[df.i > 3]) == int((pdf.i > 3).sum())
    assert_eq(df.index, pdf.index)


def test_setitem_replaces_plan(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    df["z"] = df.i * 2
    expected = pdf.assign(z=pdf.i * 2)
    assert_eq(df, expected)


def test_from_pandas_sorts_and_keeps_duplicates_together():
    pdf = pd.DataFrame({"x": range(8)}, index=[3, 1, 1, 1, 2, 5, 5, 0])
    df = dd.from_pandas(pdf, chunksize=2)
    assert df.known_divisions
    parts = [df.partitions[i].compute() for i in range(df.npartitions)]
    for part in parts:
        for other in parts:
            if part is not other:
                assert not set(part.index) & set(other.index)
    assert_eq(df, pdf.sort_index())
    series = dd.from_pandas(pdf.x, npartitions=2)
    assert isinstance(series, dd.Series)
    assert_eq(series, pdf.x.sort_index())


def test_from_pandas_arguments():
    pdf = pd.DataFrame({"x": range(4)})
    with pytest.raises(ValueError, match="not both"):
        dd.from_pandas(pdf, npartitions=2, chunksize=2)
    with pytest.raises(TypeError, match="from_array"):
        dd.from_pandas(np.arange(3))
    assert dd.from_pandas(pdf).npartitions == 1


def test_names_are_deterministic(pdf):
    a = dd.from_pandas(pdf, npartitions=3)
    b = dd.from_pandas(pdf.copy(), npartitions=3)
    assert (a.i + 1)._name == (b.i + 1)._name
    assert (a.i + 1)._name != (a.i + 2)._name


def test_expression_metadata():
    pdf = pd.DataFrame({"x": [1, 2, 3]})
    expr = FromPandas(pdf, (0, 2), (0, 3))
    assert expr.npartitions == 1
    assert expr.known_divisions
    assert expr.operand("divisions") == (0, 2)


def test_scalar_broadcast(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    first = df.head(1, compute=False)
    assert first.npartitions == 1
    assert_eq(df.i, pdf.i)
    scalar = dd.new_collection(
        dd.map_partitions(lambda s: s.iloc[:1], df.i).expr
    )
    assert isinstance(scalar, dd.Series)


def test_pickle_round_trip(pdf):
    import pickle

    df = dd.from_pandas(pdf, npartitions=2)
    again = pickle.loads(pickle.dumps(df.i + 1))
    assert_eq(again, pdf.i + 1)


def test_assign(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.assign(z=df.i * 2, k=1), pdf.assign(z=pdf.i * 2, k=1), scheduler=scheduler)
    assert_eq(df.assign(i=df.f), pdf.assign(i=pdf.f))
    assert_eq(
        df.assign(z=lambda d: d.i + 1, w=lambda d: d.z * 2),
        pdf.assign(z=lambda d: d.i + 1, w=lambda d: d.z * 2),
    )
    with pytest.raises(TypeError, match=r"assign\(z=...\): an in-memory"):
        df.assign(z=np.arange(len(pdf)))
    other = dd.from_pandas(pdf, npartitions=2)
    with pytest.raises(ValueError, match="assign.*repartition"):
        df.assign(z=other.i)


def test_query_and_eval(pdf, scheduler):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.query("i > 2 and f < 0.5"), pdf.query("i > 2 and f < 0.5"), scheduler=scheduler)
    assert_eq(df.query("i > @x", local_dict={"x": 3}), pdf.query("i > 3"))
    assert_eq(df.eval("i + f"), pdf.eval("i + f"))
    assert_eq(df.eval("z = i * 2"), pdf.eval("z = i * 2"))
    with pytest.raises(Exception, match="^query: "):
        df.query("nope > 1")


def test_scalar_collection_broadcasts():
    pdf = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    df = dd.from_pandas(pdf, npartitions=2)
    from chunkwise.dataframe.expr import map_partitions_expr

    first = dd.Scalar(map_partitions_expr(lambda s: s.iloc[0], df.x.partitions[0].expr,
                                          meta=np.float64(0.0), label="first"))
    assert isinstance(first, dd.Scalar)
    assert first.compute() == 1.0
    assert_eq(df.x - first, pdf.x - 1.0)
    assert (first + 1).compute() == 2.0


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_scalars_take_every_operator_frames_take(scheduler):
    # one operator table for frames and scalars (ElementwiseOperators): &, |, ^, ~, abs, + were frame-only
    pdf = pd.DataFrame({"x": [1.0, -2.0, 3.0, -4.0, 5.0], "k": [1, 2, 3, 4, 5]})
    df = dd.from_pandas(pdf, npartitions=3)
    total, top = df.x.sum(), df.k.max()
    results = chunkwise.compute(
        abs(-total), +total, -total, ~(top > 4), (total > 0) & (top < 9), (total > 9) | (top > 4),
        (top > 4) ^ (total > 0), top & 6, 7 | top, 2 ** top, 10 % top, total // 2, 1 - total, total != 3,
        scheduler=scheduler,
    )
    t, m = pdf.x.sum(), pdf.k.max()
    assert list(results) == [abs(-t), +t, -t, ~(m > 4), (t > 0) & (m < 9), (t > 9) | (m > 4), (m > 4) ^ (t > 0),
                             m & 6, 7 | m, 2 ** m, 10 % m, t // 2, 1 - t, t != 3]
    assert_eq(df.x * total - top, pdf.x * t - m)
    assert len({total, top, df, df.x}) == 4  # collections stay hashable


def test_elementwise_chain_is_one_task_per_partition(pdf):
    df = dd.from_pandas(pdf, npartitions=4)
    out = ((df[["i", "f"]] + 1) * 2)[df.i > 0].assign(u=df.s.str.upper())
    graph = out.__chunkwise_graph__()
    partition_tasks = [k for k in graph if isinstance(k, tuple)]
    assert len(partition_tasks) == 4
    assert_eq(out, ((pdf[["i", "f"]] + 1) * 2)[pdf.i > 0].assign(u=pdf.s.str.upper()))


def test_projection_rules(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    twice = df[["i", "f", "s"]][["i", "f"]]["i"]
    plan = twice.explain(show=False)
    assert plan.count("Projection") == 1
    assert_eq(twice, pdf.i)
    filtered = df[df.f > 0]["s"]
    plan = filtered.expr.simplify()  # the rewrite rules (fusion comes after)
    assert type(plan).__name__ == "Filter"
    assert type(plan.frame).__name__ == "Projection"
    assert_eq(filtered, pdf[pdf.f > 0]["s"])
    assert df[list(pdf.columns)].optimize().expr.name == df.expr.name


def test_small_frame_api(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df[lambda d: d.i > 0], pdf[pdf.i > 0])
    num = df[["i", "f"]]
    assert_eq(num[num > 0], pdf[["i", "f"]][pdf[["i", "f"]] > 0])
    assert_eq(df.select_dtypes("number"), pdf.select_dtypes("number"))
    assert_eq(df.pipe(lambda d, k: d.i * k, 3), pdf.i * 3)
    renamed = dd.from_pandas(pdf, npartitions=3)
    renamed.columns = ["a", "b", "c", "d", "e"]
    expected = pdf.copy()
    expected.columns = ["a", "b", "c", "d", "e"]
    assert_eq(renamed, expected)
    with pytest.raises(ValueError, match="^set-columns: Length mismatch"):
        renamed.columns = ["a"]
    assert_eq(df.index.to_series(), pdf.index.to_series())
    assert_eq(df.index.to_frame(), pdf.index.to_frame())


def test_shape_and_iteration(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    rows, cols = df.shape
    assert isinstance(rows, dd.Scalar)
    assert rows.compute() == len(pdf)
    assert cols == 5
    (n,) = df.i.shape
    assert int(n) == len(pdf)
    assert list(df.i) == pdf.i.tolist()
    assert list(df) == list(pdf.columns)
    assert [(name, col.dtype) for name, col in df.items()] == list(pdf.dtypes.items())
    assert list(df.index) == pdf.index.tolist()
    empty = df[df.i > 100]
    assert len(empty) == 0


def test_numpy_ufuncs_stay_lazy(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    out = np.log1p(df.i.abs())
    assert isinstance(out, dd.Series)
    assert_eq(out, np.log1p(pdf.i.abs()))
    assert_eq(np.add(df[["i", "f"]], 1), pdf[["i", "f"]] + 1)
    assert_eq(np.maximum(df.i, df.f), np.maximum(pdf.i, pdf.f))
    np.testing.assert_array_equal(np.asarray(df.i), pdf.i.to_numpy())


def test_assert_eq_catches_lying_meta(pdf):
    df = dd.from_pandas(pdf, npartitions=2)
    liar = df.map_partitions(lambda p: p.i.astype("int32"), meta=("i", "int64"), enforce_metadata=False)
    with pytest.raises(AssertionError, match="partition 0 has dtype int32, meta says int64"):
        assert_eq(liar, pdf.i.astype("int32"))
    assert_eq(liar, pdf.i.astype("int32"), check_dtype=False)
    shifted = dd.from_delayed(df.to_delayed()[::-1], meta=pdf, divisions=df.divisions)
    with pytest.raises(AssertionError, match="partition 0 holds index"):
        assert_eq(shifted, pdf)


def test_setitem_lists_and_non_string_labels(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    df[["a", "b"]] = df[["i", "f"]]
    expected = pdf.copy()
    expected[["a", "b"]] = pdf[["i", "f"]]
    assert_eq(df, expected)
    numeric = dd.from_pandas(pd.DataFrame({0: [1, 2, 3]}), npartitions=2)
    numeric[1] = numeric[0] * 2
    assert_eq(numeric, pd.DataFrame({0: [1, 2, 3], 1: [2, 4, 6]}))
    scalar_col = dd.from_pandas(pdf, npartitions=3)
    scalar_col["k"] = 7
    assert_eq(scalar_col, pdf.assign(k=7))


def test_processes_scheduler(pdf):
    df = dd.from_pandas(pdf, npartitions=3)
    out = df.assign(u=df.s.str.upper(), r=2 - df.i, y=df.t.dt.year)[df.i > 0]
    out = out.map_partitions(lambda p: p.assign(k=1))
    expected = pdf.assign(u=pdf.s.str.upper(), r=2 - pdf.i, y=pdf.t.dt.year.astype("float64"))
    assert_eq(out, expected[pdf.i > 0].assign(k=1), scheduler="processes")


def test_fused_names_are_stable_across_processes():
    """A fused group's name comes from its members in an order that does not depend on
    string hashing (PYTHONHASHSEED), so every process names the same plan alike."""
    script = (
        "import numpy as np, pandas as pd, chunkwise.dataframe as dd\n"
        "pdf = pd.DataFrame({'a': np.arange(8.0), 'b': np.arange(8.0)})\n"
        "df = dd.from_pandas(pdf, npartitions=2)\n"
        "out = ((df.a + 1) * df.b)[df.a > 2]\n"
        "print(out.optimize().expr.name)\n"
    )
    names = set()
    for seed in ("1", "2", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True)
        names.add(done.stdout.strip())
    assert len(names) == 1
    assert next(iter(names)).startswith("fused-")
