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
