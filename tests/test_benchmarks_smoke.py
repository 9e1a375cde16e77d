"""Smoke test of the benchmark runner: one cheap workload, quick sizes, one repetition.

No timing assertions: this checks the machinery (fresh worker processes, digest
comparison, JSON report), not the speed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_runner_quick_one_workload(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--repeat",
            "1",
            "--only",
            "tasks_chain_sync",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| tasks_chain_sync |" in proc.stdout

    report = json.loads(out.read_text())
    assert report["machine"]["cpu_count"] >= 1
    assert report["machine"]["versions"]["dask"]
    [result] = report["workloads"]
    assert result["name"] == "tasks_chain_sync"
    assert set(result["impls"]) == {"chunkwise", "dask"}
    for impl in ("chunkwise", "dask"):
        summary = result["impls"][impl]
        assert "error" not in summary, summary.get("error")
        assert summary["median_wall_s"] > 0
        assert summary["median_peak_rss_mib"] > 0
        assert summary["median_us_per_task"] > 0
    assert result["digests_match"] is True
    assert result["ratio"] > 0
    assert isinstance(result["met"], bool)


def test_delayed_scale_workloads_quick(tmp_path):
    """The million-task delayed workloads (issue 15), scaled down, against dask.delayed."""
    out = tmp_path / "bench.json"
    names = ["delayed_flat_1m", "delayed_tree_1m"]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeat", "1", "--only", *names,
         "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert sorted(r["name"] for r in report["workloads"]) == names
    tasks = {"delayed_flat_1m": 2_001, "delayed_tree_1m": 2_000 + 20 + 1}  # n = 2,000
    for result in report["workloads"]:
        assert result["digests_match"] is True, result["name"]
        assert result["digests"]["chunkwise"] == 2_000 * 2_001 // 2
        for impl in ("chunkwise", "dask"):
            summary = result["impls"][impl]
            assert "error" not in summary, summary.get("error")
            assert summary["tasks"] == tasks[result["name"]]
            extra = summary["median_extra"]
            assert extra["build_s"] > 0 and extra["compute_s"] > 0
            assert isinstance(extra["bytes_per_task"], int)
            assert summary["median_us_per_task"] > 0


def test_dataframe_workloads_quick(tmp_path):
    """Issue 16's dataframe workloads, scaled down (20k rows in 4 files): the four
    implementations agree, and chunkwise reports what its Parquet reads touched."""
    import os

    import numpy as np
    import pyarrow.parquet as pq

    out = tmp_path / "bench.json"
    env = dict(os.environ, CHUNKWISE_BENCH_DATA=str(tmp_path / "data"))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeat", "1", "--only", "df_*",
         "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,  # under pytest-timeout's 300 s
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| workload | chunkwise | dask | pandas | polars | ratio to dask |" in proc.stdout
    report = json.loads(out.read_text())
    names = [r["name"] for r in report["workloads"]]
    assert names == ["df_filter_count", "df_groupby_1k", "df_groupby_1m", "df_value_counts",
                     "df_describe", "df_str_filter"]
    for result in report["workloads"]:
        assert set(result["digests"]) == {"chunkwise", "dask", "pandas", "polars"}, result["name"]
        assert result["digests_match"] is True, (result["name"], result["digests"])
        for impl in ("chunkwise", "dask", "pandas", "polars"):
            summary = result["impls"][impl]
            assert "error" not in summary, (result["name"], impl, summary.get("error"))
            assert summary["median_peak_rss_mib"] > 0
        extra = result["impls"]["chunkwise"]["median_extra"]
        assert extra["row_groups_total"] == 16  # 4 files of 4 row groups
        assert extra["row_groups_read"] >= 1 and extra["read_tasks"] >= 1
        assert extra["columns_read"]

    # The shared answers against NumPy on the very same files.
    [data] = (tmp_path / "data").iterdir()
    tables = [pq.read_table(p) for p in sorted(data.glob("*.parquet"))]
    x = np.concatenate([t.column("x").to_numpy() for t in tables])
    k1k = np.concatenate([t.column("k1k").to_numpy() for t in tables])
    assert len(x) == 20_000
    digests = {r["name"]: r["digests"]["chunkwise"] for r in report["workloads"]}
    assert digests["df_filter_count"] == int((x > 1.0).sum())
    means = np.bincount(k1k, weights=x) / np.bincount(k1k)
    assert digests["df_groupby_1k"]["groups"] == 1_000
    assert abs(float(digests["df_groupby_1k"]["sum"]) - means.sum()) <= 1e-7 * abs(means.sum())
    grouped = {r["name"]: r["impls"]["chunkwise"]["median_extra"] for r in report["workloads"]}
    assert grouped["df_groupby_1k"]["columns_read"] == "k1k,x"
    assert grouped["df_str_filter"]["columns_read"] == "text"


def test_handwritten_limits_quick(tmp_path):
    """The hand-written NumPy limits (issue 19) agree with chunkwise and are reported as a ratio."""
    out = tmp_path / "bench.json"
    names = ["random_mean", "histogram_integers", "zarr_roundtrip"]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--repeat", "1", "--only", *names,
         "--impl", "chunkwise", "handwritten", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "÷ hand" in proc.stdout
    report = json.loads(out.read_text())
    assert sorted(r["name"] for r in report["workloads"]) == sorted(names)
    for result in report["workloads"]:
        assert set(result["impls"]) == {"chunkwise", "handwritten"}
        assert result["digests_match"] is True, result["name"]
        assert result["handwritten_ratio"] > 0
        for summary in result["impls"].values():
            assert summary["median_cpu_s"] >= 0


_PEAK_PROBE = """
import json, sys
import numpy as np
from benchmarks import worker
from benchmarks.registry import Prepared, workload

probe = workload("peak_probe", "setup allocates 400 MiB, the run little or 200 MiB", params={},
                 peak=sys.argv[1])
keep = []

@probe.impl("chunkwise")
def _():
    big = np.ones(50_000_000)  # 400 MiB, touched, freed before the run: setup's transient peak
    keep.append(np.ones(1_000_000))  # 8 MiB the run reads, resident before it
    del big

    def run():
        extra = np.ones(25_000_000) if sys.argv[2] == "big-run" else np.ones(100_000)
        return float(extra.sum() + keep[0].sum())

    return Prepared(run=run, digest=lambda result: None)

print(json.dumps(worker.run_one("peak_probe", "chunkwise")))
"""


def _probe(scope, run, sampled=False):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    env["CHUNKWISE_BENCH_SAMPLE_PEAK"] = "1" if sampled else "0"
    proc = subprocess.run([sys.executable, "-c", _PEAK_PROBE, scope, run], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("sampled", [False, True], ids=["high-water-mark", "sampled"])
def test_run_peak_is_the_measured_parts_not_setups(sampled):
    small = _probe("run", "small-run", sampled)
    assert small["peak_rss_scope"] == "run"
    assert small["peak_rss_method"] == ("sampled" if sampled else "VmHWM reset after setup")
    # setup peaked above 400 MiB; the run added under 1 MiB to what was resident before it
    assert small["peak_rss_mib"] < small["rss_before_mib"] + 64
    assert small["peak_rss_mib"] < 380
    big = _probe("run", "big-run", sampled)
    assert big["peak_rss_mib"] >= big["rss_before_mib"] + 150  # a run that allocates 200 MiB shows it


def test_process_peak_is_unchanged_for_other_workloads():
    report = _probe("process", "small-run")
    assert report["peak_rss_scope"] == "process" and report["peak_rss_method"] == "ru_maxrss"
    assert report["peak_rss_mib"] >= 400  # the whole process's, setup's 400 MiB included
