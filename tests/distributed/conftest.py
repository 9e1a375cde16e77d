"""Fixtures shared by the distributed tests: one in-process LocalCluster on loopback.

``client`` is a client that is not the default one; ``active`` is the default
client for the duration of one test. (``test_cluster.py`` starts real worker
processes, command-line programs and TLS clusters of its own.)
"""

from __future__ import annotations

import pytest

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
    ) as lc:
        yield lc


@pytest.fixture
def client(cluster):
    """A client that is not the default client."""
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


@pytest.fixture
def active(cluster):
    """The default client for the duration of the test."""
    with distributed.Client(cluster) as c:
        assert distributed.default_client() is c
        yield c
