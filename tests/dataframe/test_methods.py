"""Per-partition methods against pandas on the same data."""

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.expr import UNKNOWN_CATEGORIES, has_known_categories


@pytest.fixture
def df(pdf):
    return dd.from_pandas(pdf, npartitions=3)


def test_astype(df, pdf, scheduler):
    assert_eq(df.i.astype("float32"), pdf.i.astype("float32"), scheduler=scheduler)
    assert_eq(df.astype({"i": "int16", "f": "float32"}), pdf.astype({"i": "int16", "f": "float32"}))
    assert_eq(df.i.astype(str), pdf.i.astype(str))
    with pytest.raises(ValueError, match="^astype: "):
        df.s.astype("int64")


def test_astype_category_has_unknown_categories(df, pdf):
    out = df.astype({"s": "category"})
    assert not has_known_categories(out.s)
    assert list(out._meta.s.cat.categories) == [UNKNOWN_CATEGORIES]
    assert_eq(out, pdf.astype({"s": "category"}), check_dtype=False)
    known = out.categorize(columns=["s"])
    assert has_known_categories(known.s)
    assert_eq(known, pdf.astype({"s": "category"}))
    whole = df.i.astype("category")
    assert not has_known_categories(whole)
    explicit = df.s.astype(pd.CategoricalDtype(["alice", "bob", "carol", "dan"]))
    assert has_known_categories(explicit)
    assert_eq(explicit, pdf.s.astype(pd.CategoricalDtype(["alice", "bob", "carol", "dan"])))


def test_categorize_default_columns(df, pdf):
    out = df.categorize()
    assert isinstance(out._meta.s.dtype, pd.CategoricalDtype)
    assert_eq(out, pdf.astype({"s": "category"}))
    assert_eq(df.s.categorize(), pdf.s.astype("category"))
    with pytest.raises(KeyError, match="categorize: columns \\['q'\\] not found"):
        df.categorize(columns=["q"])


def test_missing_values(df, pdf, scheduler):
    assert_eq(df[["i", "f"]].fillna(0), pdf[["i", "f"]].fillna(0), scheduler=scheduler)
    assert_eq(df.s.fillna("?"), pdf.s.fillna("?"))
    assert_eq(df.fillna({"f": -1.0, "s": "?"}), pdf.fillna({"f": -1.0, "s": "?"}))
    assert_eq(df.f.fillna(df.i), pdf.f.fillna(pdf.i))
    assert_eq(df.dropna(), pdf.dropna())
    assert_eq(df.dropna(subset=["f"]), pdf.dropna(subset=["f"]))
    assert_eq(df.dropna(how="all"), pdf.dropna(how="all"))
    for name in ["isna", "isnull", "notna", "notnull"]:
        assert_eq(getattr(df, name)(), getattr(pdf, name)())
        assert_eq(getattr(df.s, name)(), getattr(pdf.s, name)())
    with pytest.raises(NotImplementedError, match="method="):
        df.fillna(method="ffill")
    with pytest.raises(NotImplementedError, match="axis=0"):
        df.dropna(axis=1)


def test_where_keeps_one_dtype_across_partitions():
    pdf = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6]})
    df = dd.from_pandas(pdf, npartitions=3)
    out = df.x.where(df.x < 3)  # the last partitions replace values, the first does not
    assert out.dtype == np.dtype("float64")
    assert_eq(out, pdf.x.where(pdf.x < 3))


def test_where_mask_clip(df, pdf):
    assert_eq(df.f.where(df.i > 0), pdf.f.where(pdf.i > 0))
    assert_eq(df.f.where(df.i > 0, -1.0), pdf.f.where(pdf.i > 0, -1.0))
    assert_eq(df.f.mask(df.i > 0, df.i), pdf.f.mask(pdf.i > 0, pdf.i))
    assert_eq(df[["i", "f"]].where(lambda d: d > 0, 0), pdf[["i", "f"]].where(lambda d: d > 0, 0))
    assert_eq(df.i.clip(0, 5), pdf.i.clip(0, 5))
    assert_eq(df[["i", "f"]].clip(lower=-1), pdf[["i", "f"]].clip(lower=-1))


def test_rename_drop_replace(df, pdf):
    assert_eq(df.rename(columns={"i": "I"}), pdf.rename(columns={"i": "I"}))
    assert_eq(df.rename(columns=str.upper), pdf.rename(columns=str.upper))
    assert_eq(df.i.rename("j"), pdf.i.rename("j"))
    renamed = df.i.rename(lambda x: x + 1)
    assert not renamed.known_divisions
    assert_eq(renamed, pdf.i.rename(lambda x: x + 1))
    assert_eq(df.drop(columns=["s", "t"]), pdf.drop(columns=["s", "t"]))
    assert_eq(df.drop("s", axis=1), pdf.drop("s", axis=1))
    with pytest.raises(KeyError, match="drop: "):
        df.drop(columns=["nope"])
    with pytest.raises(NotImplementedError, match="only columns"):
        df.drop([0, 2])
    assert_eq(df.replace({"s": {"bob": "robert"}}), pdf.replace({"s": {"bob": "robert"}}))
    assert_eq(df.i.replace(3, 300), pdf.i.replace(3, 300))


def test_map_and_apply(df, pdf):
    assert_eq(df.i.map(lambda x: x * 2), pdf.i.map(lambda x: x * 2))
    mapping = {"alice": 1, "bob": 2, "carol": 3, "dan": 4}
    assert_eq(df.s.map(mapping), pdf.s.map(mapping))  # nulls: float64, as pandas
    full = {v: v * 10 for v in range(-5, 10)}
    # a mapping may miss values, so the result is null-safe (float64) even when it does not
    assert df.i.map(full).dtype == np.dtype("float64")
    assert_eq(df.i.map(full), pdf.i.map(full).astype("float64"))
    assert_eq(df.s.map({"bob": "B"}), pdf.s.map({"bob": "B"}))
    assert_eq(df.i.apply(lambda x: x + 1), pdf.i.apply(lambda x: x + 1))
    assert_eq(df[["i", "f"]].apply(lambda r: r.i + r.f, axis=1), pdf[["i", "f"]].apply(lambda r: r.i + r.f, axis=1))
    assert_eq(
        df.apply(lambda r: r.s, axis=1, meta=("s", "str")),
        pdf.apply(lambda r: r.s, axis=1).rename("s"),
    )
    assert_eq(df[["i", "f"]].map(lambda v: v * 2), pdf[["i", "f"]].map(lambda v: v * 2))
    with pytest.raises(NotImplementedError, match="axis=1"):
        df.apply(len)


def test_apply_error_names_call_and_meta(df):
    def strict(row):
        if row.s == "foo":  # the sample's made-up strings
            raise RuntimeError("not a real name")
        return 1

    with pytest.raises(ValueError, match=r"apply\(strict, axis=1\).*meta="):
        df.apply(strict, axis=1)
    out = df.apply(strict, axis=1, meta=(None, "int64"))
    assert out.dtype == np.dtype("int64")


def test_map_partitions(df, pdf, scheduler):
    def add_col(part, k):
        return part.assign(z=part.i * k)

    assert_eq(df.map_partitions(add_col, 3), add_col(pdf, 3), scheduler=scheduler)
    assert_eq(dd.map_partitions(add_col, df, k=2), add_col(pdf, 2))
    assert_eq(df.map_partitions(lambda a, b: a.i + b.i, df), pdf.i * 2)
    lengths = df.map_partitions(lambda p: pd.Series([len(p)]), meta=(None, "int64"),
                                clear_divisions=True)
    assert lengths.compute().sum() == len(pdf)


def test_map_partitions_meta_error(df):
    def broken(part):
        return part.no_such_column + 1

    with pytest.raises(ValueError, match=r"map_partitions\(broken\).*AttributeError.*meta="):
        df.map_partitions(broken)
    out = df.map_partitions(lambda p: p.i, meta=("i", "int64"))
    assert out.name == "i"
    with pytest.raises(ValueError, match="returns a int"):
        df.map_partitions(len)


def test_map_partitions_meta_mismatch_fails_when_run(df):
    out = df.map_partitions(lambda p: p[["i"]], meta={"x": "int64"})
    with pytest.raises(ValueError, match="meta= says"):
        out.compute()


def test_reset_index_per_partition(df, pdf):
    out = df.reset_index()
    assert not out.known_divisions
    expected = pd.concat([p.reset_index() for p in (pdf.iloc[:7], pdf.iloc[7:14], pdf.iloc[14:])])
    assert_eq(out, expected)
    assert_eq(df.reset_index(drop=True), pdf.reset_index(drop=True), check_index=False)


def test_to_datetime_and_to_numeric(scheduler):
    pdf = pd.DataFrame({"d": ["2024-01-01 00:00", "2024-02-03 04:05", None, "2024-03-01 10:00"],
                        "n": ["1", "2.5", "x", "4"]})
    df = dd.from_pandas(pdf, npartitions=2)
    assert_eq(dd.to_datetime(df.d), pd.to_datetime(pdf.d).astype("datetime64[us]"), scheduler=scheduler)
    assert_eq(dd.to_datetime(df.d, utc=True), pd.to_datetime(pdf.d, utc=True).astype("datetime64[us, UTC]"))
    assert_eq(dd.to_numeric(df.n, errors="coerce"), pd.to_numeric(pdf.n, errors="coerce"))
    ints = dd.from_pandas(pd.Series(["1", "2", "3"]), npartitions=2)
    assert_eq(dd.to_numeric(ints, meta=(None, "int64")), pd.to_numeric(pd.Series(["1", "2", "3"])))
    assert_eq(dd.to_numeric(ints), pd.to_numeric(pd.Series(["1", "2", "3"])).astype("float64"))
    with pytest.raises(ValueError):
        dd.to_numeric(df.n).compute()


@pytest.mark.parametrize("unit", ["D", "h", "s", "ms", "us", "ns"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint32"])
def test_to_datetime_of_integers_with_a_unit(unit, dtype, scheduler):
    """Integers with ``unit=`` become one multiplication to the result's unit, as exact as
    pandas, on uneven and empty partitions; values pandas refuses still raise its error."""
    values = np.array([0, 7, 3, 86_400, 1_000_000, 20_000_000, 1, 5, 9], dtype=dtype)
    pdf = pd.Series(values, name="id", index=pd.RangeIndex(10, 19))
    df = dd.from_pandas(pdf, npartitions=3)
    df = df[df > 4]  # partitions of other lengths, one of them perhaps empty
    want = pd.to_datetime(pdf[pdf > 4], unit=unit)
    assert_eq(dd.to_datetime(df, unit=unit), want, scheduler=scheduler)
    assert_eq(dd.to_datetime(df[df > 10**12], unit=unit), want.iloc[:0], scheduler=scheduler)
    top = (2**63 - 1) // (np.timedelta64(1, unit) // np.timedelta64(1, "us" if unit != "ns" else "ns"))
    edges = pd.Series(np.array([-top + 1, 0, top - 1, top], dtype="int64"))
    assert_eq(dd.to_datetime(dd.from_pandas(edges, npartitions=2), unit=unit),
              pd.to_datetime(edges, unit=unit), scheduler=scheduler)
    beyond = dd.from_pandas(pd.Series(np.array([0, 2**62], dtype="int64")), npartitions=1)
    if unit != "ns" and unit != "us":
        with pytest.raises(pd.errors.OutOfBoundsDatetime):
            dd.to_datetime(beyond, unit=unit).compute(scheduler=scheduler)


def test_isin_abs_round_between(df, pdf):
    assert_eq(df.s.isin(["bob", "dan"]), pdf.s.isin(["bob", "dan"]))
    assert_eq(df.i.isin({1, 2}), pdf.i.isin({1, 2}))
    assert_eq(df.f.round(1), pdf.f.round(1))
    assert_eq(df.i.abs(), pdf.i.abs())
    assert_eq(df.i.between(0, 3), pdf.i.between(0, 3))
    assert_eq(df.i.to_frame(), pdf.i.to_frame())
