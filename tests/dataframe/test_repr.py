"""Structure reprs: columns, dtypes, divisions, partitions -- without running a task."""

import pandas as pd
import pytest

import chunkwise.base
import chunkwise.dataframe as dd


@pytest.fixture
def no_compute(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a repr ran a computation")

    monkeypatch.setattr(chunkwise.base, "get", refuse)


def test_dataframe_repr(pdf, no_compute):
    calls = []
    df = dd.from_pandas(pdf, npartitions=3).map_partitions(lambda p: calls.append(1) or p)
    calls.clear()
    text = repr(df)
    assert calls == []
    lines = text.splitlines()
    assert lines[0] == "Chunkwise DataFrame Structure:"
    assert lines[1].split() == ["i", "f", "s", "c", "t"]
    assert lines[2] == "npartitions=3"
    assert lines[3].split() == ["0", "int64", "float64", "str", "category", "datetime64[us,", "Europe/Berlin]"]
    assert [line.split()[0] for line in lines[4:7]] == ["14", "28", "38"]
    assert lines[-1].startswith("Chunkwise Name: ")
    assert lines[-1].endswith("3 partitions")


def test_unknown_divisions_repr(pdf, no_compute):
    df = dd.from_pandas(pdf, npartitions=2, sort=False)
    lines = repr(df).splitlines()
    assert lines[3].split()[0] == "int64"
    assert lines[4].split()[0] == "..."


def test_series_and_index_repr(pdf, no_compute):
    df = dd.from_pandas(pdf, npartitions=2)
    text = repr(df.f + 1)
    lines = text.splitlines()
    assert lines[:2] == ["Chunkwise Series Structure:", "npartitions=2"]
    assert lines[2].split() == ["0", "float64"]
    assert [line.split() for line in lines[3:5]] == [["20", "..."], ["38", "..."]]
    assert "Name: f, dtype: float64" in text
    assert repr(df.index).startswith("Chunkwise Index Structure:")
    assert "Name: idx, dtype: int64" in repr(df.index)


def test_html_repr(pdf, no_compute):
    df = dd.from_pandas(pdf, npartitions=2)
    html = df._repr_html_()
    assert "<table" in html
    assert "Chunkwise DataFrame Structure" in html
    assert "datetime64[us, Europe/Berlin]" in html
    assert "<th>s</th>" in html
    series_html = df.s._repr_html_()
    assert "Name: s, dtype: str" in series_html


def test_scalar_repr(pdf):
    from chunkwise.dataframe.expr import map_partitions_expr

    df = dd.from_pandas(pd.DataFrame({"x": [1.0]}), npartitions=1)
    scalar = dd.Scalar(map_partitions_expr(lambda s: s.iloc[0], df.x.expr, meta=1.0, label="first"))
    assert repr(scalar) == "chunkwise.dataframe.Scalar<first, dtype=float64>"
