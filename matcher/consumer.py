"""The AMQP adapter of the matcher: decode, judge, and decide each message's fate in one place.

A message holds one SMS or several (ingest's group commit); each SMS is judged on its own.

| what happened                  | fate                                                        |
|--------------------------------|-------------------------------------------------------------|
| body is not InboundSms (or [])  | reject without requeue → dead-letter queue at once          |
| several SMS, delivered again   | split: each SMS published as a message of its own, then ack |
|                                | (so deliveries are counted, and dead-lettered, per SMS)     |
| one part of a long SMS         | kept in Redis, ack; the part that completes it is judged    |
| Redis unreachable              | hold the message and retry with backoff until Redis answers |
|                                | (an outage must not count as deliveries and dead-letter SMS) |
| any other exception (a bug)    | log with traceback, requeue; dead-lettered after the limit  |
| judged (whatever the verdict)  | ack, only after every SMS's atomic step committed           |
"""

from __future__ import annotations

import asyncio
import time
from typing import cast

import structlog
from aio_pika.abc import AbstractIncomingMessage

from common import messages
from common.backoff import Backoff
from common.messages import InboundSms
from common.metrics import labeled
from common.publisher import BrokerUnavailable, Publisher
from common.redis import TRANSIENT_ERRORS
from matcher.assembly import PartAssembler
from matcher.judge import Judge, Judgement
from matcher.metrics import PROCESS_SECONDS, SMS_PROCESSED, VERDICT_LATENCY, VERDICTS

log = structlog.get_logger(__name__)


class SmsConsumer:
    def __init__(
        self, judge: Judge, assembler: PartAssembler, publisher: Publisher, *, max_backoff_s: float = 5.0
    ) -> None:
        self._judge = judge
        self._assembler = assembler
        self._publisher = publisher  # to split a redelivered batch
        self._max_backoff_s = max_backoff_s

    async def _judge_until_done(self, sms: InboundSms) -> Judgement | None:
        """Judge, waiting out a Redis outage: the atomic step makes a retry after a failure safe."""
        backoff = Backoff(first_s=0.1, max_s=self._max_backoff_s)
        while True:
            try:
                return await self._judge_whole(sms)
            except TRANSIENT_ERRORS as exc:
                SMS_PROCESSED.labels(outcome="redis_unavailable").inc()
                delay = backoff.next_delay()
                log.warning("sms_waiting_for_redis", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)

    async def _judge_whole(self, sms: InboundSms) -> Judgement | None:
        """Judge the SMS, or keep it as one part of a longer one (None until that one is whole)."""
        if sms.part is None:
            return await self._judge.judge(sms)
        whole = await self._assembler.add(sms)
        if whole is None:
            return None
        judgement = await self._judge.judge(whole)
        await self._assembler.finish(self._assembler.key_of(sms))
        return judgement

    async def handle(self, message: AbstractIncomingMessage) -> None:
        started = time.perf_counter()
        redeliveries = message.headers.get("x-delivery-count", 0)
        delivery = (redeliveries if isinstance(redeliveries, int) else 0) + 1
        with structlog.contextvars.bound_contextvars(message_id=message.message_id, delivery=delivery):
            try:
                batch = messages.decode_many(message.body)
            except messages.MessageDecodeError as exc:
                SMS_PROCESSED.labels(outcome="poison").inc()
                log.warning("sms_poison", error=str(exc))
                await message.reject(requeue=False)
                return
            if len(batch) > 1 and (delivery > 1 or message.redelivered):
                await self._split(message, batch)
                return
            results = await asyncio.gather(*(self._judge_until_done(sms) for sms in batch), return_exceptions=True)
            if failures := [result for result in results if isinstance(result, BaseException)]:
                SMS_PROCESSED.labels(outcome="error").inc(len(failures))
                log.error("sms_failed", exc_info=failures[0], failed=len(failures), of=len(batch))
                await message.nack(requeue=True)
                return
            await message.ack()
            elapsed = time.perf_counter() - started
            for sms, judgement in zip(batch, results, strict=True):
                self._record(sms, cast(Judgement | None, judgement), elapsed)

    async def _split(self, message: AbstractIncomingMessage, batch: list[InboundSms]) -> None:
        """A message of several SMS came back: give each SMS a message (and a delivery count) of its own."""
        try:
            await self._publisher.publish_each(batch)
        except BrokerUnavailable:
            await message.nack(requeue=True)
            return
        await message.ack()
        SMS_PROCESSED.labels(outcome="split").inc(len(batch))
        log.info("sms_batch_split", sms=len(batch))

    @staticmethod
    def _record(sms: InboundSms, judgement: Judgement | None, elapsed: float) -> None:
        if judgement is None:
            SMS_PROCESSED.labels(outcome="part_kept").inc()
            log.info("sms_part_kept", part=sms.part.number if sms.part else None)
            return
        PROCESS_SECONDS.observe(elapsed)
        VERDICT_LATENCY.observe(max(time.time() * 1000 - sms.accepted_at_ms, 0) / 1000)
        labeled(SMS_PROCESSED, judgement.outcome).inc()
        for verdict in judgement.verdicts:
            if verdict.event_id:
                labeled(VERDICTS, verdict.status).inc()
        log.info(
            "sms_processed",
            outcome=judgement.outcome,
            provider=sms.provider,
            verdicts=[(v.challenge_id, v.status, v.attempts) for v in judgement.verdicts],
            duration_ms=round(elapsed * 1000, 2),
        )
