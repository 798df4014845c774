"""Shared fixtures and the slow/gpu switches (skipped unless --runslow / --rungpu).

The session set-up (parallel workers, a private feature cache) is in the root conftest.py.
"""

from __future__ import annotations

import numpy as np
import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")
    parser.addoption("--rungpu", action="store_true", default=False, help="run tests marked gpu")


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: pass --runslow")
    skip_gpu = pytest.mark.skip(reason="needs a GPU: pass --rungpu")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "gpu" in item.keywords and not config.getoption("--rungpu"):
            item.add_marker(skip_gpu)


@pytest.fixture
def rng():
    """A fresh seeded generator per test (never the global RNG)."""
    return np.random.default_rng(12345)
