"""Fixtures of the Array API conformance harness (see ``array_api_harness.py``).

- the environment variable ``ARRAY_API_TARGET`` chooses the namespace
  under test: ``chunkwise`` (the default) or ``numpy`` (NumPy 2's own
  namespace, no wrapper);
- ``budget`` is the number of hypothesis examples per function: a quick
  variant (3) runs in the default suite, the full one (20, as the public
  suite's ``--max-examples 20``) is marked ``slow`` (``pytest -m slow``).
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))  # the test modules import array_api_harness

from array_api_harness import target_by_name

QUICK, FULL = 3, 20


@pytest.fixture(scope="session")
def target():
    return target_by_name(os.environ.get("ARRAY_API_TARGET", "chunkwise"))


@pytest.fixture(params=[pytest.param(QUICK, id="quick"), pytest.param(FULL, id="full", marks=pytest.mark.slow)])
def budget(request):
    return request.param
