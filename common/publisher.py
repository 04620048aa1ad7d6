"""Publishing accepted SMS: persistent, mandatory, and confirmed by the broker before any 2xx.

Ingest publishes by group commit: the SMS of webhooks that arrive while a publish awaits its
confirm travel together in the next message (a JSON array), so one confirm answers them all.
The matcher judges each SMS of such a message on its own, and splits a redelivered one into
one message per SMS, so redelivery counts and dead-lettering stay per SMS
(``matcher/consumer.py``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Sequence

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange
from aio_pika.exceptions import AMQPError
from pamqp.commands import Basic

from common import messages
from common.batching import GroupCommit
from common.messages import InboundSms
from common.names import SMS_ROUTING_KEY

log = structlog.get_logger(__name__)

# SMS per AMQP message at most: about 25 KB of JSON, far below any frame or queue limit.
MAX_SMS_PER_MESSAGE = 64


class BrokerUnavailable(Exception):
    """The broker did not confirm in time: the caller must not report the SMS as accepted."""


class NotRouted(AMQPError):
    """The broker returned the message: no queue is bound to take it."""


class Publisher:
    def __init__(self, exchange: AbstractExchange, *, timeout_s: float) -> None:
        self._exchange = exchange
        self._timeout_s = timeout_s
        self._grouped: GroupCommit[InboundSms, None] = GroupCommit(
            self._publish_together, max_items=MAX_SMS_PER_MESSAGE
        )

    async def publish_all(self, batch: Sequence[InboundSms]) -> None:
        """Publish every SMS, sharing messages with concurrent callers; return once confirmed."""
        await self._guarded(self._grouped.submit(batch), len(batch))

    async def publish_each(self, batch: Sequence[InboundSms]) -> None:
        """Publish every SMS as a message of its own (a split batch); return once all are confirmed."""
        singles = (self._publish([sms]) for sms in batch)
        await self._guarded(asyncio.gather(*singles), len(batch))

    async def _guarded(self, publishing: Awaitable[object], count: int) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await publishing
        except (TimeoutError, AMQPError, ConnectionError, RuntimeError) as exc:
            # RuntimeError: aio-pika's "channel closed/not ready" while reconnecting.
            log.warning("publish_failed", error=type(exc).__name__, detail=str(exc), batch=count)
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc

    async def _publish_together(self, batch: list[InboundSms]) -> list[None]:
        await self._publish(batch)
        return [None] * len(batch)

    async def _publish(self, batch: Sequence[InboundSms]) -> None:
        message = aio_pika.Message(
            messages.encode_many(batch),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=batch[0].message_id if len(batch) == 1 else f"batch-{uuid.uuid4().hex}",
        )
        confirmation = await self._exchange.publish(message, routing_key=SMS_ROUTING_KEY, mandatory=True)
        # aio-pika hands a returned (unroutable) message back instead of raising: only an Ack
        # means a queue holds it.
        if not isinstance(confirmation, Basic.Ack):
            raise NotRouted(f"broker did not acknowledge: {type(confirmation).__name__}")
