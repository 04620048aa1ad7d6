"""Expires due challenges and judges long SMS whose parts timed out.

One runs in every matcher process. Concurrent sweeps are safe: the atomic step expires a
challenge only while it is pending, so only once, and a timed-out message judged twice has the
same id both times, so its second judgement changes nothing."""

from __future__ import annotations

import asyncio

import structlog

from common.backoff import Backoff
from common.challenge_ids import slot_end_ms
from common.challenges import Status
from common.clock import Clock, now_ms
from common.redis import TRANSIENT_ERRORS
from common.store import ChallengeStore
from matcher.assembly import PartAssembler
from matcher.judge import Judge
from matcher.metrics import EXPIRED, EXPIRY_LAG, SMS_PROCESSED

log = structlog.get_logger(__name__)

BATCH = 200  # timed-out long SMS per sweep
# Expiry slots per sweep: each holds every challenge of a tenant expiring in one second.
SLOTS_PER_SWEEP = 20


class Sweeper:
    def __init__(
        self,
        store: ChallengeStore,
        assembler: PartAssembler,
        judge: Judge,
        *,
        grace_ms: int,
        interval_s: float,
        clock: Clock = now_ms,
    ) -> None:
        self._store = store
        self._clock = clock
        self._assembler = assembler
        self._judge = judge
        # SMS accepted just before a deadline may still be in the queue; give them this long.
        self._grace_ms = grace_ms
        self._interval_s = interval_s

    async def run(self) -> None:
        backoff = Backoff(first_s=self._interval_s, max_s=max(self._interval_s, 5.0))
        while True:
            try:
                more_due = await self.sweep_once()
            except TRANSIENT_ERRORS as exc:
                delay = backoff.next_delay()
                log.warning("sweep_failed", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()
            if not more_due:
                await asyncio.sleep(self._interval_s)

    async def sweep_once(self) -> bool:
        """Expire what is due in up to a batch of expiry slots and judge up to a batch of
        timed-out long SMS; True when a batch was full, so more may be due already."""
        now = self._clock()
        cutoff = now - self._grace_ms
        due = await self._store.due_slots(cutoff, SLOTS_PER_SWEEP)
        for tenant_id, slot in due:
            await self._sweep_slot(tenant_id, slot, cutoff=cutoff, now=now)
        timed_out = await self._assembler.due(now, BATCH)
        for key in timed_out:
            whole = await self._assembler.flush(key)
            if whole is not None:
                judgement = await self._judge.judge(whole)
                SMS_PROCESSED.labels(outcome=f"parts_timed_out_{judgement.outcome}").inc()
                log.info("sms_parts_timed_out", outcome=judgement.outcome, provider=whole.provider)
            await self._assembler.finish(key)
        return len(due) == SLOTS_PER_SWEEP or len(timed_out) == BATCH

    async def _sweep_slot(self, tenant_id: str, slot: int, *, cutoff: int, now: int) -> None:
        """Every challenge of the slot ends (expired now if still pending) and leaves its route;
        only then is the slot forgotten, so a sweep cut short is done again, harmlessly."""
        challenges = await self._store.in_slot(tenant_id, slot)
        pending = [challenge for challenge in challenges if challenge.status is Status.PENDING]
        for challenge in await self._store.expire_due(pending, cutoff_ms=cutoff, now_ms=now):
            EXPIRED.inc()
            log.info("challenge_expired", challenge_id=challenge.id, tenant_id=tenant_id)
        await self._store.leave_routes(challenges)
        await self._store.forget_slot(tenant_id, slot)
        EXPIRY_LAG.observe(max(now - slot_end_ms(slot), 0) / 1000)
