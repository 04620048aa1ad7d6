"""Suite-wide settings: how many parallel workers ``pytest -n auto`` starts, and hypothesis's."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# No per-example deadline: a timing assertion, which on a loaded two-core machine failed a
# packing example that takes 0.2 ms once in 300 ms. Speed is the benchmarks' business.
settings.register_profile("revotp", deadline=None)
settings.load_profile("revotp")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Most tests wait on brokers, sockets and subprocesses rather than on the CPU, so two workers
    more than there are cores, and at least four, keep the cores busy (on 2 cores: 88 and 92 s
    with four workers, 89 to 104 s with three). ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides."""
    if chosen := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(chosen)
    return max(4, (os.cpu_count() or 1) + 2)
