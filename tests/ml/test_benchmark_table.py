"""The ML benchmark table: scikit-learn beside chunkwise and dask-ml, a time limit per implementation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_an_implementation_past_its_limit_is_shown_over_the_limit_and_is_no_error(tmp_path):
    out = tmp_path / "results.json"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), str(ROOT),
                                                                  os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeat", "2", "--only", "ml_pca10",
         "--impl", "chunkwise", "sklearn", "--limit", "sklearn=0.05", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    row = next(line for line in proc.stdout.splitlines() if line.startswith("| ml_pca10 |"))
    assert "> 50.0 ms" in row  # the sklearn column: stopped at its limit (its imports alone take longer)
    sklearn = json.loads(out.read_text())["workloads"][0]["impls"]["sklearn"]
    assert sklearn["over_limit_s"] == 0.05
    assert len(sklearn["runs"]) == 1  # not repeated: a second try would take as long


def test_every_ml_workload_limits_sklearn_and_a_bad_limit_is_refused():
    from benchmarks.registry import WORKLOADS, load_all
    from benchmarks.run import parse_args

    load_all()
    ml = [w for w in WORKLOADS.values() if w.group == "ml"]
    assert len(ml) == 5
    assert all(w.limits == {"sklearn": 600} and "sklearn" in w.impls for w in ml)
    assert parse_args(["--limit", "sklearn=30", "--limit", "dask=5"]).limit == [("sklearn", 30.0), ("dask", 5.0)]
    with pytest.raises(SystemExit):
        parse_args(["--limit", "sklearn"])


def _summary(wall, rss, **extra):
    return {"median_wall_s": wall, "median_cpu_s": wall, "median_peak_rss_mib": rss, "median_extra": extra}


def test_ml_table_merges_runs_ratios_and_scores():
    from benchmarks.workloads.ml import merge_results, ml_table

    first = {"workloads": [
        {"name": "ml_logistic_seed", "group": "ml", "impls": {
            "chunkwise": _summary(1.0, 600, passes=14, n_iter=11, score=0.7350),
            "dask": _summary(2.5, 650, score=0.7357)}},
        {"name": "tasks_chain_sync", "group": "tasks", "impls": {"chunkwise": _summary(1.0, 1)}},
    ]}
    second = {"workloads": [
        {"name": "ml_logistic_seed", "group": "ml", "impls": {"sklearn": _summary(0.7, 500, n_iter=12, score=0.7357)}},
        {"name": "ml_logistic_multinomial", "group": "ml", "impls": {
            "chunkwise": _summary(6.0, 1400, score=0.32), "dask": _summary(10.0, 1300, score=0.10),
            "sklearn": {"over_limit_s": 600}}},
    ]}
    results = merge_results([first, second])
    assert [r["name"] for r in results] == ["ml_logistic_seed", "ml_logistic_multinomial"]
    lines = ml_table(results).splitlines()
    seed_cw = next(line for line in lines if line.startswith("| ml_logistic_seed | chunkwise |"))
    cells = [c.strip() for c in seed_cw.strip("|").split("|")]
    assert cells[2:8] == ["1.00 s", "1.00 s", "14", "11", "0.7350", "-0.07 pt"]
    assert cells[8:] == ["600 MiB (process)", "—", "0.40", "yes"]  # a result file from before peak="run"
    multi_cw = next(line for line in lines if line.startswith("| ml_logistic_multinomial | chunkwise |"))
    assert multi_cw.rstrip().endswith("| 0.60 **!** | **no** |")  # slower than half dask-ml's, more memory
    assert any(line.startswith("| ml_logistic_multinomial | sklearn | > 600 s |") for line in lines)


def test_ml_table_shows_the_fits_peak_and_its_increase_over_setup():
    from benchmarks.registry import WORKLOADS, load_all
    from benchmarks.workloads.ml import ml_table

    load_all()
    assert all(w.peak == "run" for w in WORKLOADS.values() if w.group == "ml")
    runs = [{"peak_rss_mib": 700.0, "rss_before_mib": 640.0}, {"peak_rss_mib": 720.0, "rss_before_mib": 640.0},
            {"peak_rss_mib": 690.0, "rss_before_mib": 640.0}]
    fit = dict(_summary(1.0, 700, score=0.7357), peak_rss_scope="run", runs=runs)
    dask = dict(_summary(3.0, 900, score=0.7357), peak_rss_scope="run", runs=[])
    lines = ml_table([{"name": "ml_logistic_seed", "impls": {"chunkwise": fit, "dask": dask}}]).splitlines()
    assert "peak RSS (fit)" in lines[0] and "fit's increase" in lines[0]
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[8:] == ["700 MiB", "60 MiB", "0.33", "yes"]  # the increase: the median of 60, 80, 50
