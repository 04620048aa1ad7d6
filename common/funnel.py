"""Where users drop off, per tenant and UTC day: page viewed, QR shown, SMS link tapped, SMS
received, verified (``GET /v1/stats``; the same steps in each process's ``/metrics``).

The notifier counts what happens on the verify page; the atomic step counts the SMS a tenant
received and the challenges they verified, in the step that applies them, so a provider's
retry or a redelivery never counts twice. Each day's counts are kept 35 days.
"""

from __future__ import annotations

import enum
import functools
from datetime import UTC, datetime, timedelta

from common.names import Names
from common.redis import RedisClient, text

RETENTION_DAYS = 35


class Step(enum.StrEnum):
    PAGE_VIEWED = "page_viewed"
    QR_SHOWN = "qr_shown"
    SMS_LINK_TAPPED = "sms_link_tapped"
    SMS_RECEIVED = "sms_received"
    VERIFIED = "verified"


def day_of(ms: int) -> str:
    """The UTC date of an instant (Unix time has 86,400 s in every day); the matcher asks at
    every SMS, so each day is formatted once."""
    return _date_of_day(ms // 86_400_000)


@functools.lru_cache(maxsize=4)
def _date_of_day(day: int) -> str:
    return datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")


async def count(redis: RedisClient, names: Names, tenant_id: str, steps: list[Step], now_ms: int) -> None:
    key = names.funnel(tenant_id, day_of(now_ms))
    async with redis.pipeline(transaction=False) as pipe:
        for step in steps:
            pipe.hincrby(key, step, 1)
        pipe.expire(key, RETENTION_DAYS * 86_400)
        await pipe.execute()


async def read_days(
    redis: RedisClient, names: Names, tenant_id: str, now_ms: int, days: int
) -> list[tuple[str, dict[str, int]]]:
    """The last ``days`` days, oldest first, every step present (0 when nothing happened)."""
    today = datetime.fromtimestamp(now_ms / 1000, UTC)
    dates = [(today - timedelta(days=back)).strftime("%Y-%m-%d") for back in reversed(range(days))]
    async with redis.pipeline(transaction=False) as pipe:
        for date in dates:
            pipe.hgetall(names.funnel(tenant_id, date))
        raw = await pipe.execute()
    result = []
    for date, counts in zip(dates, raw, strict=True):
        found = {text(step): int(text(value)) for step, value in counts.items()}
        result.append((date, {step.value: found.get(step.value, 0) for step in Step}))
    return result
