"""Fixtures for the diagnostics tests."""

from __future__ import annotations

import threading

import pytest

from chunkwise.scheduling import get as scheduler_get


@pytest.fixture
def get():
    """``get(graph, keys, scheduler=..., num_workers=..., callbacks=...)``: the real scheduler."""
    return scheduler_get


@pytest.fixture
def no_leftover_threads():
    """Fail the test when a progress-bar or resource-profiler thread outlives it."""
    yield
    names = [
        t.name
        for t in threading.enumerate()
        if t.is_alive() and t.name in ("chunkwise-progress", "chunkwise-resource-profiler")
    ]
    assert not names, f"threads left running: {names}"
