"""Wall-clock instants as integer milliseconds, and their ISO 8601 form on the wire."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime

# What a component asks for the time: ``now_ms`` in production, a moved clock in tests.
Clock = Callable[[], int]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    """``2026-11-21T07:00:00.000Z``. Every event sent carries one or two, and events come
    in bursts of the same second: each second is formatted once."""
    seconds, millis = divmod(ms, 1000)
    return f"{_iso_second(seconds)}.{millis:03d}Z"


@functools.lru_cache(maxsize=256)
def _iso_second(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def provider_time_ms(stamp: str | None, *, zoneless_is_utc: bool = False) -> int | None:
    """A provider's reception time in ms, or None when it gave none or one we cannot place.

    ISO 8601 with a zone, or Unix seconds or milliseconds. A time without a zone counts only
    for a provider that documents it as UTC (Vonage's ``2026-11-21 07:00:01``): read in the
    wrong zone, a time behind UTC would make every SMS look older than its challenge. Reading
    a time wrong must never make an SMS stale, so anything else is None, and the SMS is
    judged as if the provider had not said.
    """
    if not stamp:
        return None
    text = stamp.strip()
    if text.isdigit() and len(text) in (10, 13):
        return int(text) * (1000 if len(text) == 10 else 1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        if not zoneless_is_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
