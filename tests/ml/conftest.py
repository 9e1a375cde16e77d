"""Fixtures for the ``chunkwise.ml`` tests."""

import pytest


@pytest.fixture(params=["sync", "threads"])
def scheduler(request):
    return request.param
