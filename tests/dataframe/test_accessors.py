"""The .str, .dt and .cat accessors against pandas on the same data."""

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import assert_eq
from chunkwise.dataframe.expr import has_known_categories


@pytest.fixture
def df(pdf):
    return dd.from_pandas(pdf, npartitions=3)


@pytest.mark.parametrize(
    "method, args, kwargs",
    [
        ("upper", (), {}),
        ("lower", (), {}),
        ("len", (), {}),
        ("contains", ("a",), {}),
        ("contains", ("^b.b$",), {"regex": True}),
        ("startswith", ("c",), {}),
        ("endswith", ("l",), {}),
        ("count", ("a",), {}),
        ("find", ("o",), {}),
        ("replace", ("a", "A"), {}),
        ("strip", ("a",), {}),
        ("slice", (0, 2), {}),
        ("get", (1,), {}),
        ("pad", (8,), {"fillchar": "*"}),
        ("zfill", (7,), {}),
        ("isalpha", (), {}),
        ("title", (), {}),
        ("removeprefix", ("ca",), {}),
        ("fullmatch", ("bob",), {}),
        ("split", (), {}),
    ],
)
def test_str_methods(df, pdf, method, args, kwargs):
    result = getattr(df.s.str, method)(*args, **kwargs)
    expected = getattr(pdf.s.str, method)(*args, **kwargs)
    assert_eq(result, expected)


def test_str_getitem_extract_partition(df, pdf, scheduler):
    assert_eq(df.s.str[0], pdf.s.str[0], scheduler=scheduler)
    assert_eq(df.s.str[1:3], pdf.s.str[1:3])
    assert_eq(df.s.str.extract(r"(?P<first>\w)(?P<rest>\w+)"), pdf.s.str.extract(r"(?P<first>\w)(?P<rest>\w+)"))
    assert_eq(df.s.str.partition("o"), pdf.s.str.partition("o"))
    assert_eq(df.s.str.split("o", n=1, expand=True), pdf.s.str.split("o", n=1, expand=True))
    with pytest.raises(NotImplementedError, match="pass n="):
        df.s.str.split("o", expand=True)
    assert_eq(df.s.str.cat(df.s, sep="-"), pdf.s.str.cat(pdf.s, sep="-"))


def test_str_of_split_lists_stays_object_like_pandas(scheduler):
    # regression: the meta sample of an object column was a ``str`` column (pandas 3
    # infers ``str`` from strings), so ``.str[i]`` of split lists claimed ``str`` and
    # value_counts of an object column gave a ``str`` index; and value_counts' merge
    # (pd.concat of object indexes) turned the object index into ``str``
    urls = pd.Series(["https://a.example/books/1", "https://a.example/toys/2", None,
                      "https://b.example/books/3", "https://b.example/music/4"], dtype="str")
    section = dd.from_pandas(urls, npartitions=3).str.split("/").str[3]
    expected = urls.str.split("/").str[3]
    assert section.dtype == expected.dtype == np.dtype(object)
    assert_eq(section, expected, scheduler=scheduler)
    assert_eq(section.value_counts(), expected.value_counts(), scheduler=scheduler)
    assert_eq(section.value_counts(normalize=True), expected.value_counts(normalize=True))
    # an object column of strings: its meta sample stays object, and so does the result
    plain = pd.Series(["b", "e", "b", "x", None], dtype=object)
    assert_eq(dd.from_pandas(plain, npartitions=2).value_counts(), plain.value_counts())
    assert_eq(dd.from_pandas(plain, npartitions=2).str.upper(), plain.str.upper())

def test_str_meta_is_null_safe(df, pdf):
    # pandas gives float64 for str.len() when a null is present; here always
    assert df.s.str.len().dtype == np.dtype("float64")
    clean = dd.from_pandas(pdf.s.dropna(), npartitions=2)
    assert_eq(clean.str.len(), pdf.s.dropna().str.len().astype("float64"))


def test_str_errors(df):
    with pytest.raises(AttributeError, match=r"\.str: .*dtype int64"):
        df.i.str
    with pytest.raises(TypeError, match=r"^\.str\.pad: "):
        df.s.str.pad("x")
    with pytest.raises(NotImplementedError, match="get_dummies"):
        df.s.str.get_dummies()


@pytest.mark.parametrize(
    "name",
    ["year", "month", "day", "hour", "day_of_week", "day_of_year", "quarter", "is_month_start",
     "days_in_month", "date", "time"],
)
def test_dt_properties(df, pdf, name):
    result = getattr(df.t.dt, name)
    expected = getattr(pdf.t.dt, name)
    if expected.dtype.kind in "iu":  # no NaT here; the null-safe meta is float64
        assert result.dtype == np.dtype("float64")
        expected = expected.astype("float64")
    assert_eq(result, expected)


def test_dt_properties_with_nat():
    pdf = pd.DataFrame({"t": pd.to_datetime(["2024-01-01", None, "2024-05-06", "2025-01-01"])})
    df = dd.from_pandas(pdf, npartitions=2)
    assert_eq(df.t.dt.year, pdf.t.dt.year)
    assert_eq(df.t.dt.strftime("%Y"), pdf.t.dt.strftime("%Y"))


def test_dt_methods(df, pdf):
    assert_eq(df.t.dt.floor("D"), pdf.t.dt.floor("D"))
    assert_eq(df.t.dt.tz_convert("UTC"), pdf.t.dt.tz_convert("UTC"))
    assert_eq(df.t.dt.tz_localize(None), pdf.t.dt.tz_localize(None))
    assert_eq(df.t.dt.strftime("%Y-%m-%d %H"), pdf.t.dt.strftime("%Y-%m-%d %H"))
    assert_eq(df.t.dt.day_name(), pdf.t.dt.day_name())
    assert_eq(df.t.dt.normalize(), pdf.t.dt.normalize())
    assert str(df.t.dt.tz) == "Europe/Berlin"
    assert df.t.dt.unit == pdf.t.dt.unit
    td = df.t - df.t.dt.floor("D")
    assert_eq(td.dt.total_seconds(), (pdf.t - pdf.t.dt.floor("D")).dt.total_seconds())
    assert_eq(td.dt.seconds, (pdf.t - pdf.t.dt.floor("D")).dt.seconds.astype("float64"))
    with pytest.raises(AttributeError, match=r"\.dt: "):
        df.s.dt


def test_cat_known(df, pdf):
    assert df.c.cat.known
    assert list(df.c.cat.categories) == ["x", "y", "z"]
    assert_eq(df.c.cat.codes, pdf.c.cat.codes)
    assert_eq(df.c.cat.add_categories(["w"]), pdf.c.cat.add_categories(["w"]))
    assert_eq(df.c.cat.rename_categories(["X", "Y", "Z"]), pdf.c.cat.rename_categories(["X", "Y", "Z"]))
    assert_eq(df.c.cat.as_ordered(), pdf.c.cat.as_ordered())
    assert_eq(df.c.cat.set_categories(["z", "y"]), pdf.c.cat.set_categories(["z", "y"]))


def test_cat_unknown_and_as_known(df, pdf, scheduler):
    unknown = df.s.astype("category")
    assert not unknown.cat.known
    with pytest.raises(NotImplementedError, match="as_known"):
        unknown.cat.categories
    with pytest.raises(NotImplementedError, match="as_known"):
        unknown.cat.codes
    known = unknown.cat.as_known()
    assert known.cat.known
    assert list(known.cat.categories) == sorted(pdf.s.dropna().unique())
    assert_eq(known, pdf.s.astype("category"), scheduler=scheduler)
    assert_eq(known.cat.codes, pdf.s.astype("category").cat.codes)
    again = known.cat.as_unknown()
    assert not has_known_categories(again)
    assert_eq(again, pdf.s.astype("category"), check_dtype=False)
    unused = df.c.cat.remove_unused_categories()
    assert not unused.cat.known


def test_contains_of_a_plain_substring_scans_the_arrow_buffers():
    """``str.contains`` of a literal on the ``str`` dtype runs ``contains_literal`` (a scan of
    each Arrow chunk's bytes): the same answer as pandas on sliced and multi-chunk arrays,
    nulls, empty strings, non-ASCII text and hits that cross into the next row."""
    from chunkwise.dataframe.accessors import contains_literal

    words = ["timeout x", "a timeou", "tim", "eout timeout", None, "", "ætimeoutø", "xtimeou",
             "ttimeout", "out"]
    one = pd.Series(words * 5, dtype="str")
    chunked = pd.concat([one.iloc[3:17], one.iloc[20:], one.iloc[:0]], ignore_index=True)
    assert chunked.array.__arrow_array__().num_chunks > 1
    for s in (one, one.iloc[7:31], chunked):
        for pat, regex in (("timeout", False), ("timeout", True), ("ø", False), ("ou t", False),
                           ("t", True)):
            got = contains_literal(s, pat, regex=regex)
            pd.testing.assert_series_equal(got, s.str.contains(pat, regex=regex))
    # what it leaves to pandas: regex syntax, case=False, na=, other dtypes
    assert contains_literal(one, "a.b") is None
    assert contains_literal(one, "x", case=False) is None
    assert contains_literal(one, "x", na=True) is None
    assert contains_literal(one.astype(object), "x") is None
    pdf = pd.DataFrame({"s": chunked})
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.s.str.contains("timeout", regex=False), pdf.s.str.contains("timeout", regex=False))
    assert_eq(df[df.s.str.contains("tim")], pdf[pdf.s.str.contains("tim")])


def test_substring_hits_finds_every_start_like_re():
    """The vectorised search (uint16 pairs at both parities, then a byte at a time) against
    ``re`` with a lookahead (overlapping hits), on random short texts and needles."""
    import re

    from chunkwise.dataframe.accessors import substring_hits

    rng = np.random.default_rng(0)
    for _ in range(300):
        raw = "".join(rng.choice(list("abé "), size=rng.integers(0, 30))).encode()
        needle = "".join(rng.choice(list("abé"), size=rng.integers(1, 4))).encode()
        start = int(rng.integers(0, 3))
        want = [m.start() for m in re.finditer(b"(?=" + re.escape(needle) + b")", raw)
                if m.start() >= start and m.start() + len(needle) <= len(raw)]
        assert substring_hits(raw, needle, start, len(raw)).tolist() == want


def test_substring_hits_of_long_needles_searches_their_rarest_pair_like_re():
    """Needles of 3-7 bytes, whose rarest pair (in a sample of ``sample`` bytes, here as
    short as 0-5 bytes, so that the choice varies) may lie anywhere in them: every start
    ``re`` finds, overlapping and at the buffer's edges, and nothing else."""
    import re

    from chunkwise.dataframe.accessors import substring_hits

    # "eo" is the rarer pair of the sample: found by it, the hits are still every start
    text = b"tititieo timeout tim eo timeou timeout"
    assert substring_hits(text, b"timeout", 0, len(text), sample=8).tolist() == [9, 31]
    rng = np.random.default_rng(1)
    for _ in range(400):
        raw = "".join(rng.choice(list("abcé "), size=rng.integers(0, 40),
                                 p=[0.4, 0.3, 0.1, 0.1, 0.1])).encode()
        needle = "".join(rng.choice(list("abcé"), size=rng.integers(2, 6))).encode()
        if rng.random() < 0.3 and raw:  # a needle taken from the text: at least one hit
            at = int(rng.integers(0, len(raw)))
            needle = raw[at: at + int(rng.integers(3, 8))] or needle
        start = int(rng.integers(0, 3))
        want = [m.start() for m in re.finditer(b"(?=" + re.escape(needle) + b")", raw)
                if m.start() >= start and m.start() + len(needle) <= len(raw)]
        got = substring_hits(raw, needle, start, len(raw), sample=int(rng.integers(0, 6)))
        assert got.tolist() == want, (raw, needle, start)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_str_len_of_ascii_text_comes_from_the_offsets(scheduler):
    """``ascii_lengths``: pandas' ``str.len`` (int64, or float64 with NaN for nulls) from
    the Arrow offsets when every byte is ASCII; non-ASCII text and other dtypes go to
    pandas. Sliced, multi-chunk, all-null and empty Series, and through a collection."""
    from chunkwise.dataframe.accessors import ascii_lengths

    one = pd.Series(["timeout x", "", None, "ab", "a b c"] * 4, dtype="str")
    chunked = pd.concat([one.iloc[3:9], one.iloc[11:], one.iloc[:0]], ignore_index=True)
    assert chunked.array.__arrow_array__().num_chunks > 1
    cases = [one, one.iloc[5:13], chunked, one.dropna(), pd.Series([None, None], dtype="str"),
             pd.Series([], dtype="str")]
    for s in cases:
        pd.testing.assert_series_equal(ascii_lengths(s), s.str.len())
    assert ascii_lengths(pd.Series(["é", "a"], dtype="str")) is None
    assert ascii_lengths(one.astype(object)) is None
    pdf = pd.DataFrame({"s": chunked})
    df = dd.from_pandas(pdf, npartitions=3)
    assert_eq(df.s.str.len(), pdf.s.str.len(), scheduler=scheduler)
    empty = df[df.s == "nothing"]
    assert_eq(empty.s.str.len(), pdf[pdf.s == "nothing"].s.str.len().astype("float64"),
              scheduler=scheduler)
