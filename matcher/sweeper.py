"""Expires due challenges and judges long SMS whose parts timed out.

One runs in every matcher process. Concurrent sweeps are safe: the atomic step expires a
challenge only while it is pending, so only once, and a timed-out message judged twice has the
same id both times, so its second judgement changes nothing."""

from __future__ import annotations

import asyncio

import structlog

from common.backoff import Backoff
from common.clock import now_ms
from common.redis import TRANSIENT_ERRORS
from common.store import ChallengeStore
from matcher.assembly import PartAssembler
from matcher.judge import Judge
from matcher.metrics import EXPIRED, SMS_PROCESSED

log = structlog.get_logger(__name__)

BATCH = 200


class Sweeper:
    def __init__(
        self, store: ChallengeStore, assembler: PartAssembler, judge: Judge, *, grace_ms: int, interval_s: float
    ) -> None:
        self._store = store
        self._assembler = assembler
        self._judge = judge
        # SMS accepted just before a deadline may still be in the queue; give them this long.
        self._grace_ms = grace_ms
        self._interval_s = interval_s

    async def run(self) -> None:
        backoff = Backoff(first_s=self._interval_s, max_s=max(self._interval_s, 5.0))
        while True:
            try:
                swept = await self.sweep_once()
            except TRANSIENT_ERRORS as exc:
                delay = backoff.next_delay()
                log.warning("sweep_failed", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if swept < BATCH:
                await asyncio.sleep(self._interval_s)

    async def sweep_once(self) -> int:
        """Expire up to one batch of due challenges; return how many deadlines it handled."""
        now = now_ms()
        cutoff = now - self._grace_ms
        due = await self._store.due(cutoff, BATCH)
        for tenant_id, challenge_id in due:
            challenge = await self._store.get(tenant_id, challenge_id)
            if challenge is not None and await self._store.expire(challenge, cutoff_ms=cutoff, now_ms=now):
                EXPIRED.inc()
                log.info("challenge_expired", challenge_id=challenge_id, tenant_id=tenant_id)
            await self._store.forget_deadline(tenant_id, challenge_id, challenge)
        timed_out = await self._assembler.due(now, BATCH)
        for key in timed_out:
            whole = await self._assembler.flush(key)
            if whole is not None:
                judgement = await self._judge.judge(whole)
                SMS_PROCESSED.labels(outcome=f"parts_timed_out_{judgement.outcome}").inc()
                log.info("sms_parts_timed_out", outcome=judgement.outcome, provider=whole.provider)
            await self._assembler.finish(key)
        return max(len(due), len(timed_out))
