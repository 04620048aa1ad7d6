"""Admission of inbound SMS: each distinct SMS counts once against its sender and its number.

An SMS is (provider, provider message id, sender). Its first delivery is counted and the
decision kept for ``ADMISSION_TTL_MS``; a provider's retry of it costs nothing and gets the same
decision, so retries can never use up the allowance of the user's next, genuine SMS.

The two limits answer differently, on purpose:

- **Per sender: accept and drop.** One phone over its allowance is a flood (a pumping script, a
  looping device). Its SMS are answered 2xx and dropped with a counted reason, so that providers
  do not retry a storm back at us. The allowance is for distinct SMS, so a real user's few SMS
  and their retries never reach it.
- **Per virtual number: backpressure.** A number over its rate is a capacity limit, not abuse.
  The whole request is refused with 429 and ``Retry-After``; nothing of it is counted or queued,
  so the provider's retry is judged afresh and no genuine SMS is lost.

A request refused after admission (the broker did not confirm: 503) releases what it counted.
A sender over its allowance is refused before it counts against its number, so one flooding
sender cannot use up the number and shut out the others. When Redis cannot be reached the
limiter lets SMS through: losing real SMS is worse than a short lapse of the limits.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Sequence
from importlib import resources

import structlog
from redis.typing import EncodableT

from common.messages import InboundSms
from common.names import Names
from common.pipelining import SharedPipeline
from common.redis import TRANSIENT_ERRORS, RedisClient, text
from common.settings import Limit

log = structlog.get_logger(__name__)

# A provider's retries of one SMS come within hours (Vonage, Twilio-less providers: up to ~24 h).
ADMISSION_TTL_MS = 48 * 3600 * 1000

_SCRIPT = resources.files("ingest").joinpath("lua/admission.lua").read_text()


class Decision(enum.StrEnum):
    COUNTED = "counted"  # first delivery, within the sender's allowance
    FLOOD = "flood"  # first delivery, over the sender's allowance: accepted and dropped
    SEEN = "seen:counted"  # a retry of a counted SMS: free, passed on (the matcher dedupes)
    SEEN_FLOOD = "seen:flood"  # a retry of a dropped SMS: dropped again, free

    @property
    def passes(self) -> bool:
        return self in (Decision.COUNTED, Decision.SEEN)


class Admission:
    """The decisions on one request's SMS, and how to take back what this request counted."""

    def __init__(self, decisions: tuple[Decision, ...], retry_after_s: int = 0) -> None:
        self.decisions = decisions
        # Over a virtual number's capacity: the request must be refused; nothing stays counted.
        self.retry_after_s = retry_after_s
        self._undo: list[tuple[str, str]] = []  # (Redis command, key) run by release()

    @property
    def busy(self) -> bool:
        return self.retry_after_s > 0


class SmsRateLimiter:
    def __init__(
        self,
        redis: RedisClient,
        names: Names,
        *,
        per_sender: Limit,
        per_number: Limit,
        shared: SharedPipeline | None = None,
    ) -> None:
        self._names = names
        self._per_sender = per_sender
        self._per_number = per_number
        self._script = redis.register_script(_SCRIPT)
        # Concurrent webhooks share their round trips (common/pipelining.py).
        self._shared = shared or SharedPipeline(redis)

    async def admit(self, batch: Sequence[InboundSms]) -> Admission:
        """Decide each SMS; when the number is over capacity, refuse all and count nothing."""
        now = time.time()
        try:
            decisions = await self._decide_senders(batch, now)
            admission = Admission(decisions)
            admission._undo = self._sender_undo(batch, decisions, now)
            counted = [sms for sms, decision in zip(batch, decisions, strict=True) if decision is Decision.COUNTED]
            number_keys = [self._number_key(sms, now) for sms in counted]
            within = await self._count_numbers(number_keys)
            admission._undo += [("DECR", key) for key in number_keys]
            if not all(within):
                await self.release(admission)
                window = self._per_number.window_s
                return Admission(decisions, retry_after_s=max(math.ceil(window - now % window), 1))
        except TRANSIENT_ERRORS as exc:
            log.warning("rate_limit_unavailable", error=type(exc).__name__)
            return Admission(tuple(Decision.COUNTED for _ in batch))
        return admission

    async def release(self, admission: Admission) -> None:
        """Take back what ``admit`` counted, for a request that ends up refused (best effort)."""
        undo, admission._undo = admission._undo, []
        if not undo:
            return
        try:
            await self._shared.execute_many(undo)
        except TRANSIENT_ERRORS as exc:
            log.warning("rate_limit_release_failed", error=type(exc).__name__)

    async def _decide_senders(self, batch: Sequence[InboundSms], now: float) -> tuple[Decision, ...]:
        if not batch:
            return ()
        args: list[EncodableT] = [ADMISSION_TTL_MS, self._per_sender.count, self._per_sender.window_s * 2000]
        calls = [([self._marker(sms), self._sender_key(sms, now)], args) for sms in batch]
        return tuple(Decision(text(reply)) for reply in await self._shared.run_scripts(self._script, calls))

    def _sender_undo(
        self, batch: Sequence[InboundSms], decisions: tuple[Decision, ...], now: float
    ) -> list[tuple[str, str]]:
        undo = []
        for sms, decision in zip(batch, decisions, strict=True):
            if decision in (Decision.COUNTED, Decision.FLOOD):
                undo += [("DEL", self._marker(sms)), ("DECR", self._sender_key(sms, now))]
        return undo

    async def _count_numbers(self, keys: list[str]) -> list[bool]:
        if not keys:
            return []
        ttl_s = self._per_number.window_s * 2
        commands = [command for key in keys for command in (("INCR", key), ("EXPIRE", key, ttl_s, "NX"))]
        replies = await self._shared.execute_many(commands)
        return [int(count) <= self._per_number.count for count in replies[0::2]]

    def _marker(self, sms: InboundSms) -> str:
        return self._names.admission(sms.sender_e164 or sms.sender, sms.provider, sms.provider_message_id)

    def _sender_key(self, sms: InboundSms, now: float) -> str:
        # E.164 when readable, so the same phone written two ways shares one counter.
        sender = sms.sender_e164 or sms.sender
        return self._names.sender_rate(sender, int(now // self._per_sender.window_s))

    def _number_key(self, sms: InboundSms, now: float) -> str:
        number = sms.recipient_e164 or sms.recipient
        return self._names.rate("number", number, int(now // self._per_number.window_s))
