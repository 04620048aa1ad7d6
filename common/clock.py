"""Wall-clock instants as integer milliseconds, and their ISO 8601 form on the wire."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

# What a component asks for the time: ``now_ms`` in production, a moved clock in tests.
Clock = Callable[[], int]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    """``2026-11-21T07:00:00.000Z``."""
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")
