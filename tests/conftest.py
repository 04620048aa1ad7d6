"""Suite-wide settings: how many parallel workers ``pytest -n auto`` starts."""

from __future__ import annotations

import os

import pytest


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Most tests wait on brokers, sockets and subprocesses rather than on the CPU, so two workers
    more than there are cores, and at least four, keep the cores busy (on 2 cores: 88 and 92 s
    with four workers, 89 to 104 s with three). ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides."""
    if chosen := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(chosen)
    return max(4, (os.cpu_count() or 1) + 2)
