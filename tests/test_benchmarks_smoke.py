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

    # The CPU split and page faults, per run and as medians (no figures asserted, only their shape).
    for impl in ("chunkwise", "dask"):
        summary = result["impls"][impl]
        [run] = summary["runs"]
        assert run["user_s"] >= 0 and run["system_s"] >= 0
        assert run["cpu_s"] == pytest.approx(run["user_s"] + run["system_s"], abs=1e-6)
        for key in ("minor_faults", "major_faults"):
            assert isinstance(run[key], int) and run[key] >= 0
            assert summary[f"median_{key}"] == run[key]
        assert summary["median_user_s"] == run["user_s"]
        assert summary["median_system_s"] == run["system_s"]
        assert summary["n_cpu_split"] == 1 and summary["n_system_over_user"] in (0, 1)
    user = {impl: result["impls"][impl]["median_user_s"] for impl in ("chunkwise", "dask")}
    if user["dask"] > 0:
        assert result["user_ratio"] == pytest.approx(user["chunkwise"] / user["dask"])
    assert "| ratio | usr ratio |" in proc.stdout and "(usr " in proc.stdout
    assert " (n=1) |" in proc.stdout  # a verdict from one repetition says so
    assert "| usr per run |" in proc.stdout
    assert "free_page_reporting" in report["machine"] or not Path("/sys/module/page_reporting").exists()

    # --report prints the same tables from the JSON alone.
    again = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--report", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    tables = proc.stdout.split("\nraw results:")[0].strip()
    assert tables and again.stdout.strip() == tables


@pytest.fixture
def run_module(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks import run

    return run


def _run(wall, user=None, system=None, digest=1):
    report = {"wall_s": wall, "peak_rss_mib": 100.0, "digest": digest, "tasks": 10,
              "us_per_task": wall / 10 * 1e6}
    if user is not None:
        report.update(cpu_s=user + system, user_s=user, system_s=system, minor_faults=1000,
                      major_faults=0)
    return report


def _document(runs):
    return {"machine": {}, "settings": {}, "workloads": [{
        "name": "probe", "description": "d", "group": "", "params": {}, "target": 0.5,
        "target_note": "",
        "impls": {impl: {"runs": impl_runs} for impl, impl_runs in runs.items()},
    }]}


def test_report_flags_runs_whose_system_time_exceeds_user_time(run_module):
    # chunkwise: its second run spent more time in the kernel than in user code
    document = _document({
        "chunkwise": [_run(1.0, 0.8, 0.1), _run(3.0, 0.9, 2.5), _run(1.2, 1.0, 0.2)],
        "dask": [_run(2.0, 3.0, 0.5), _run(2.2, 3.2, 0.4), _run(2.4, 3.0, 0.6)],
    })
    [result] = run_module.reread(document)
    chunkwise = result["impls"]["chunkwise"]
    assert chunkwise["median_wall_s"] == 1.2 and chunkwise["median_user_s"] == 0.9
    assert chunkwise["median_system_s"] == 0.2 and chunkwise["median_cpu_s"] == pytest.approx(1.2)
    assert chunkwise["n_system_over_user"] == 1 and chunkwise["n_cpu_split"] == 3
    assert result["impls"]["dask"]["n_system_over_user"] == 0
    assert result["ratio"] == pytest.approx(1.2 / 2.2)  # the verdict stays on wall time
    assert result["user_ratio"] == pytest.approx(0.9 / 3.0)
    assert result["met"] is False and result["digests_match"] is True

    tables = run_module.render_tables([result])
    row = next(line for line in tables.splitlines() if line.startswith("| probe |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:7] == ["probe", "1.20 s (usr 900.0 ms, sys 200.0 ms) **sys>usr 1/3**",
                         "2.20 s (usr 3.00 s, sys 500.0 ms)", "0.55", "0.30", "≤ 0.50", "**no**"]
    per_run = next(line for line in tables.splitlines() if line.startswith("| probe | chunkwise |"))
    assert "| 100.0 ms / 2.50 s / 200.0 ms |" in per_run  # system time, run by run
    assert "| · / **sys>usr** / · | 1000 / 0 |" in per_run
    # under a millisecond of system time the split is clock noise: never flagged
    assert not run_module.system_over_user({"user_s": 0.0001, "system_s": 0.0005})
    assert run_module.system_over_user({"user_s": 0.0001, "system_s": 0.002})


def test_report_reads_results_from_before_the_cpu_split(run_module, tmp_path, capsys):
    """An old results file (cpu_s only, or no CPU at all) still gives the table, with — where it lacks."""
    old = _document({"chunkwise": [_run(1.0)], "dask": [_run(4.0)]})
    old["workloads"][0]["impls"]["chunkwise"]["runs"][0]["cpu_s"] = 1.5
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    assert run_module.main(["--report", str(path)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| probe |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[:7] == ["probe", "1.00 s (cpu 1.50 s)", "4.00 s", "0.25", "—", "≤ 0.50", "yes (n=1)"]
    assert "usr per run" not in out  # no run has the split: no per-run CPU table


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


def test_handwritten_smoothing_is_chunkwise_map_overlap_exactly():
    """The hand-written twin fills its halos as chunkwise's boundary='reflect' does, on uneven blocks too."""
    pytest.importorskip("scipy")
    from benchmarks.workloads import arrays_ops
    from scipy.ndimage import gaussian_filter

    import chunkwise.array as da

    for n, chunk in ((64, 32), (100, 40)):
        x = da.random.RandomState(0).random_sample((n, n), chunks=(chunk, chunk))
        smooth = x.map_overlap(gaussian_filter, depth=arrays_ops.DEPTH, boundary="reflect",
                               sigma=arrays_ops.SIGMA, mode="constant", dtype=x.dtype)
        expected = float(smooth.mean().compute(scheduler="sync"))
        assert arrays_ops._smoothing_handwritten_mean(n, chunk) == pytest.approx(expected, rel=1e-13)
