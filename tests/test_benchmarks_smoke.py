"""Smoke test of the benchmark runner: one cheap workload, quick sizes, one repetition.

No timing assertions: this checks the machinery (fresh worker processes, digest
comparison, JSON report), not the speed.
"""

import json
import subprocess
import sys
from pathlib import Path

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
