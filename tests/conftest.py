"""Suite-wide settings: how many parallel workers ``pytest -n auto`` starts."""

from __future__ import annotations

import os

import pytest


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Most tests wait on brokers, sockets and subprocesses rather than on the CPU, so one worker
    more than there are cores, and at least three, keeps the cores busy.
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides when set."""
    if chosen := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(chosen)
    return max(3, (os.cpu_count() or 1) + 1)
