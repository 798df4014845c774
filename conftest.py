"""Session set-up for every test, doctests included.

The suite runs in parallel: ``-n auto --dist loadscope --no-loadscope-reorder`` in pyproject's
addopts (pytest-xdist, from the dev extra). A module's tests stay on one worker, so its module
fixtures are built once; modules are handed out in the order they are collected (xdist's default
order, most tests first, would leave the modules of a few long tests, the subprocess ones, to the
end). ``-n 0`` runs the suite in one process, and so does ``-p no:xdist`` (or pytest-xdist
absent): the xdist options of addopts are then accepted and ignored.

Every session (each xdist worker) gets a feature cache folder of its own, and a worker's torch
gets its share of the cores. Subprocesses the tests start inherit both.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

_SAVED_ENV: dict[str, str | None] = {}


def _set_env(name: str, value: str) -> None:
    _SAVED_ENV.setdefault(name, os.environ.get(name))
    os.environ[name] = value


def pytest_addoption(parser, pluginmanager):
    if not pluginmanager.hasplugin("xdist"):
        group = parser.getgroup("xdist absent")
        # _addoption: pytest reserves lowercase short options for plugins; xdist declares -n this way
        group._addoption("-n", "--numprocesses", dest="numprocesses", default=None, help="ignored: no pytest-xdist")
        group.addoption("--dist", dest="dist", default="no", help="ignored: no pytest-xdist")
        group.addoption("--no-loadscope-reorder", action="store_true", help="ignored: no pytest-xdist")


def _share_the_cores() -> None:
    """N xdist workers on C cores: C // N threads each for torch, OpenBLAS and MKL (their
    default, C threads per worker, would run N * C busy threads on C cores). Set when this file
    is imported, before numpy or torch is: both read ``OMP_NUM_THREADS`` once, when loaded."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers and "OMP_NUM_THREADS" not in os.environ:
        threads = max(1, (os.cpu_count() or 1) // int(workers))
        _set_env("OMP_NUM_THREADS", str(threads))
        if "torch" in sys.modules:  # imported by a plugin after all
            sys.modules["torch"].set_num_threads(threads)


_share_the_cores()


def pytest_configure(config):
    # a private feature cache: no test reads an entry that another run, another worker or the
    # user wrote, and no two workers write one folder
    config._ganeval_cache = tempfile.mkdtemp(prefix="ganeval-test-cache-")
    _set_env("GANEVAL_CACHE_DIR", config._ganeval_cache)


def pytest_unconfigure(config):
    for name, value in _SAVED_ENV.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _SAVED_ENV.clear()
    cache = getattr(config, "_ganeval_cache", None)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
