"""``python -m chunkwise demo`` runs and checks its own answers."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest


def test_demo_runs_and_reports():
    out = subprocess.run(
        [sys.executable, "-m", "chunkwise", "demo"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "(correct)" in out.stdout
    assert "mean 0.49" in out.stdout or "mean 0.50" in out.stdout
    assert "peak memory of the process" in out.stdout
    # the dataframe part: the scan reads two columns of the two day partitions the filter keeps
    dataframe = out.stdout[out.stdout.index("3. dataframe:"):]
    # the mask's filter is pushed under the user's: row groups of day 6 and 7 are skipped by it
    assert ("columns=['country', 'amount'], filters=[[('day', '>=', 6), ('amount', '>', 20)]], "
            "files=2/7") in dataframe
    # one read per file: the filter's predicate shares the scan of the rows it filters
    assert "read: 2 pieces of 2 files (day=6, day=7), columns ['amount', 'country'] of 6" in dataframe
    assert "matches pandas (correct)" in dataframe
    assert "100% Completed" in dataframe
    # the ML part: the seed example with a progress bar, checked against scikit-learn
    ml = out.stdout[out.stdout.index("4. ml:"):]
    assert "within 0.5 points (correct)" in ml
    assert "passes over the data" in ml and "peak memory of the fit" in ml
    assert "100% Completed" in ml


def test_dataframe_demo_checks_its_answers_against_pandas():
    from chunkwise.__main__ import dataframe_demo

    out = io.StringIO()
    figures = dataframe_demo(rows=5_000, out=out)
    text = out.getvalue()
    assert figures["columns_read"] == ["amount", "country"]
    assert "matches pandas (correct)" in text
    for country in ("de", "fr", "jp", "us"):
        assert f"\n   {country} " in text  # one row of the groupby table per country


def test_ml_demo_fits_the_seed_example_with_a_bar_per_step():
    from chunkwise.__main__ import ml_demo

    out = io.StringIO()
    figures = ml_demo(rows=20_000, out=out)
    text = out.getvalue()
    assert abs(figures["accuracy"] - figures["reference"]) <= 0.005
    assert "within 0.5 points (correct)" in text
    # one bar per pass: the label pass and one per L-BFGS evaluation
    assert text.count("100% Completed") >= figures["passes"] >= 3
    assert f"{figures['passes']} passes over the data" in text


def test_cluster_demo_runs_on_a_local_cluster():
    pytest.importorskip("distributed")
    out = subprocess.run(
        [sys.executable, "-m", "chunkwise", "demo", "--cluster", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "dashboard: http://127.0.0.1:" in out.stdout
    assert "(correct)" in out.stdout
    assert "held on the workers" in out.stdout
    assert "symmetric: True" in out.stdout
