"""``python -m chunkwise demo`` runs and checks its own answers."""

from __future__ import annotations

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
