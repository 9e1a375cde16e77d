"""The ordering kernels (``dataframe/order_kernels.py``) give NumPy's answers exactly,
and a sort through them gives pandas' answer (ties, -0.0, NaN, NaT)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import chunkwise.dataframe as dd
from chunkwise.dataframe import order_kernels
from chunkwise.dataframe.order_kernels import ordered_bits, range_ids, sort_order, stable_order


def _float_cases() -> dict:
    rng = np.random.default_rng(3)
    n = 5000
    signed = rng.normal(size=n)
    signed[::50] = np.nan
    signed[1::70] = -0.0
    signed[2::70] = 0.0
    signed[3::90] = -np.nan  # a NaN with its sign bit set: still last
    wide = np.concatenate([rng.normal(size=n), [1e300, -1e300]])
    # neighbours a few ulps apart in a span of ~2**63: they tie on the kept top bits
    base = rng.normal(size=n)
    near = np.concatenate([base, np.nextafter(base[:200], np.inf), base[200:300], [1e300, -1e300]])
    return {
        "normal": rng.normal(size=n),
        "nan_and_signed_zeros": signed,
        "rounded_ties": np.round(rng.normal(size=n), 1),
        "float32": rng.normal(size=n).astype(np.float32),
        "float16": rng.normal(size=n).astype(np.float16),
        "infinities_and_subnormals": np.tile([np.inf, -np.inf, 1e308, -1e308, 5e-324, -5e-324], 900),
        "all_nan": np.full(n, np.nan),
        "wide_span": wide,
        "ulps_apart_in_a_wide_span": near,
        "half_tied_wide_span": np.concatenate([rng.normal(size=n), np.full(n, 1.5), [1e300]]),
    }


def _integer_cases() -> dict:
    rng = np.random.default_rng(4)
    n = 5000
    times = rng.integers(0, 10**15, n).astype("datetime64[ns]")
    times[rng.random(n) < 0.1] = np.datetime64("NaT")
    return {
        "int64_wide": rng.integers(-(2**62), 2**62, n),
        "uint64_wide": rng.integers(0, 2**64 - 1, n, dtype=np.uint64),
        "uint64_top": rng.integers(0, 300, n).astype(np.uint64) + np.uint64(2**64 - 400),
        "datetime_ns_wide": rng.integers(0, 2**40, n).astype("datetime64[ns]"),
        "datetime_nat_wide": times,
        "timedelta_wide": rng.integers(-(2**40), 2**40, n).astype("timedelta64[s]"),
        "int8": rng.integers(-3, 3, n).astype(np.int8),
        "narrow_int": rng.integers(0, 5, n),
    }


_CASES = {**_float_cases(), **_integer_cases()}


@pytest.mark.parametrize("name", list(_CASES))
def test_stable_order_is_numpys_stable_argsort_on_every_path(name):
    keys = _CASES[name]
    want = np.argsort(keys, kind="stable")
    np.testing.assert_array_equal(stable_order(keys), want)
    shuffled = keys[np.random.default_rng(5).permutation(len(keys))]
    np.testing.assert_array_equal(stable_order(shuffled), np.argsort(shuffled, kind="stable"))
    np.testing.assert_array_equal(stable_order(keys[:3]), np.argsort(keys[:3], kind="stable"))


def test_ordered_bits_keep_numpys_order_and_equalities():
    values = np.array([-np.inf, -1.5, -5e-324, -0.0, 0.0, 5e-324, 2.0, np.inf, np.nan, -np.nan])
    bits = ordered_bits(values)
    assert (np.diff(bits[:4].astype(object)) > 0).all()
    assert bits[3] == bits[4]  # -0.0 == 0.0
    assert (np.diff(bits[4:8].astype(object)) > 0).all()
    assert bits[8] == bits[9] == np.iinfo(np.uint64).max  # every NaN last
    ints = np.array([-(2**63), -1, 0, 1, 2**63 - 1])
    assert (np.diff(ordered_bits(ints).astype(object)) > 0).all()


def test_the_tie_repair_and_the_fallback_both_run(monkeypatch):
    """The cases above take both ways out of the packed sort: repaired ties, and too many
    ties (NumPy's own argsort)."""
    seen = []
    packed = order_kernels._packed_order

    def spy(bits):
        out = packed(bits)
        seen.append(out is None)
        return out

    repairs = []
    lexsort = np.lexsort
    monkeypatch.setattr(order_kernels, "_packed_order", spy)
    monkeypatch.setattr(np, "lexsort", lambda keys: repairs.append(len(keys[0])) or lexsort(keys))
    for name in ("ulps_apart_in_a_wide_span", "half_tied_wide_span", "normal"):
        keys = _CASES[name]
        np.testing.assert_array_equal(stable_order(keys), np.argsort(keys, kind="stable"))
    assert seen == [False, True, False]
    assert repairs and repairs[0] >= 400  # the 200 pairs a few ulps apart, put right


@pytest.mark.parametrize("name", list(_CASES))
@pytest.mark.parametrize("count", [1, 7, 64, 65])
def test_range_ids_are_searchsorted(name, count):
    values = _CASES[name]
    valid = values[~np.isnan(values)] if values.dtype.kind in "fmM" else values
    if len(valid) == 0:
        valid = np.zeros(1, dtype=values.dtype)
    inner = np.sort(np.random.default_rng(count).choice(valid, count))
    want = np.searchsorted(inner, values, side="right")
    got = range_ids(values, inner)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("name", ["nan_and_signed_zeros", "rounded_ties", "ulps_apart_in_a_wide_span",
                                  "datetime_nat_wide", "uint64_wide"])
def test_sort_values_through_the_kernels_is_pandas(name, scheduler):
    keys = _CASES[name]
    pdf = pd.DataFrame({"k": keys, "i": np.arange(len(keys))})
    # uneven partitions, one of them empty
    parts = [pdf.iloc[:100], pdf.iloc[100:100], pdf.iloc[100:4000], pdf.iloc[4000:]]
    df = dd.from_map(lambda i: parts[i], range(len(parts)), meta=pdf.iloc[:0])
    assert df.npartitions == 4
    got = df.sort_values("k", npartitions=5).compute(scheduler=scheduler)
    want = pdf.sort_values("k", kind="stable")
    pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("n", [1, 7, 300, 5000])
def test_sort_order_is_pandas_stable_sort_values(n):
    """Every key kind (float with NaN and -0.0, int ties, datetime with NaT, bool), one to
    three keys, every ascending mix, nulls first and last: pandas' stable order exactly."""
    import itertools

    rng = np.random.default_rng(n)
    floats = rng.integers(0, 4, n).astype(float)
    floats[rng.random(n) < 0.1] = np.nan
    floats[rng.random(n) < 0.1] = -0.0
    times = pd.to_datetime(rng.integers(0, 5, n), unit="D").to_numpy().copy()
    times[rng.random(n) < 0.1] = np.datetime64("NaT")
    frame = pd.DataFrame({"f": floats, "i": rng.integers(0, 3, n), "t": times, "b": rng.random(n) < 0.5})
    for by in (["f"], ["t"], ["i"], ["b"], ["f", "i"], ["t", "f", "i"], ["b", "f"]):
        for ascending in itertools.product([True, False], repeat=len(by)):
            for na_position in ("first", "last"):
                want = frame.sort_values(by, ascending=list(ascending), na_position=na_position,
                                         kind="stable").index.to_numpy()
                got = sort_order([frame[k].to_numpy() for k in by], list(ascending), na_position)
                np.testing.assert_array_equal(got, want, err_msg=f"{by} {ascending} {na_position}")
