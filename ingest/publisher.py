"""Publishing accepted SMS: persistent, mandatory, and confirmed by the broker before any 2xx."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange
from aio_pika.exceptions import AMQPError
from pamqp.commands import Basic

from common import messages
from common.messages import InboundSms
from common.names import SMS_ROUTING_KEY

log = structlog.get_logger(__name__)


class BrokerUnavailable(Exception):
    """The broker did not confirm in time: the caller must not report the SMS as accepted."""


class NotRouted(AMQPError):
    """The broker returned the message: no queue is bound to take it."""


class Publisher:
    def __init__(self, exchange: AbstractExchange, *, timeout_s: float) -> None:
        self._exchange = exchange
        self._timeout_s = timeout_s

    async def publish_all(self, batch: Sequence[InboundSms]) -> None:
        """Publish every SMS and wait for all their confirms.

        Publishes are pipelined on one channel, so concurrent requests share the broker's
        confirm batches (group commit) instead of paying one round trip each.
        """
        try:
            async with asyncio.timeout(self._timeout_s):
                await asyncio.gather(*(self._publish(sms) for sms in batch))
        except (TimeoutError, AMQPError, ConnectionError, RuntimeError) as exc:
            # RuntimeError: aio-pika's "channel closed/not ready" while reconnecting.
            log.warning("publish_failed", error=type(exc).__name__, detail=str(exc), batch=len(batch))
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc

    async def _publish(self, sms: InboundSms) -> None:
        message = aio_pika.Message(
            messages.encode(sms),
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=sms.message_id,
        )
        confirmation = await self._exchange.publish(message, routing_key=SMS_ROUTING_KEY, mandatory=True)
        # aio-pika hands a returned (unroutable) message back instead of raising: only an Ack
        # means a queue holds it.
        if not isinstance(confirmation, Basic.Ack):
            raise NotRouted(f"broker did not acknowledge: {type(confirmation).__name__}")
