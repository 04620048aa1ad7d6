"""Rate limits on inbound SMS, per sender and per virtual number (fixed windows in Redis).

A sender over its limit is refused before it counts against its number's limit, so one
flooding sender cannot use up the number's allowance and shut out the others. When Redis
cannot be reached the limiter lets SMS through: losing real SMS is worse than a short lapse.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import msgspec
import structlog
from redis.asyncio import Redis

from common.messages import InboundSms
from common.names import Names
from common.redis import TRANSIENT_ERRORS
from common.settings import Limit

log = structlog.get_logger(__name__)


class Verdicts(msgspec.Struct, frozen=True):
    admitted: tuple[bool, ...]
    retry_after_s: int  # when the earliest refused window ends


class SmsRateLimiter:
    def __init__(self, redis: Redis, names: Names, *, per_sender: Limit, per_number: Limit) -> None:
        self._redis = redis
        self._names = names
        self._per_sender = per_sender
        self._per_number = per_number

    async def admit(self, batch: Sequence[InboundSms]) -> Verdicts:
        now = time.time()
        try:
            by_sender = await self._count(
                [self._key("sender", sms.sender_e164 or sms.sender, self._per_sender, now) for sms in batch],
                self._per_sender,
            )
            passed = [sms for sms, ok in zip(batch, by_sender, strict=True) if ok]
            by_number = iter(
                await self._count(
                    [self._key("number", sms.recipient_e164 or sms.recipient, self._per_number, now) for sms in passed],
                    self._per_number,
                )
            )
        except TRANSIENT_ERRORS as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return Verdicts(tuple(True for _ in batch), 0)
        admitted = tuple(ok and next(by_number) for ok in by_sender)
        refused_windows = [
            self._per_sender.window_s if not ok else self._per_number.window_s
            for ok, taken in zip(by_sender, admitted, strict=True)
            if not taken
        ]
        retry_after = min((math.ceil(window - now % window) for window in refused_windows), default=0)
        return Verdicts(admitted, retry_after)

    def _key(self, kind: str, number: str, limit: Limit, now: float) -> str:
        # E.164 when readable, so the same phone written two ways shares one counter.
        return self._names.rate(kind, number, int(now // limit.window_s))

    async def _count(self, keys: list[str], limit: Limit) -> list[bool]:
        if not keys:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, limit.window_s * 2, nx=True)
            replies = await pipe.execute()
        return [int(count) <= limit.count for count in replies[0::2]]
