"""Fixtures for the array tests."""

import pytest


@pytest.fixture(params=["sync", "threads"])
def scheduler(request):
    return request.param
