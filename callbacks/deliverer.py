"""Deliveries → POSTs: each event to its target, signed, retried through RabbitMQ, then given up.

The body is the event's frame as the tenant's socket shows it; the signature is revotp's own
(``common/signing.py``) under the tenant's callback secret: ``X-Revotp-Signature: v1=<hex>`` of
``HMAC-SHA256(secret, "<X-Revotp-Timestamp>.<body>")``. A 2xx answer delivers; anything else
(another status, a redirect, a timeout, a refused connection) waits in the retry queue of its
delay and comes back, up to ``REVOTP_CALLBACK_MAX_ATTEMPTS`` attempts. A target that is not
allowed (``common/callback_targets.py``) is given up at once. Every failure is the tenant's
``last_error`` (``GET /v1/tenant/callback``); each one given up is counted there too.
"""

from __future__ import annotations

import asyncio
import random
import time

import aio_pika
import aiohttp
import msgspec
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from callbacks.jobs import OUTAGE_ERRORS, Delivery, decode, encode
from callbacks.metrics import DELIVERED, FAILED_ATTEMPTS, GIVEN_UP
from callbacks.topology import retry_delays_ms
from common.callback_targets import GuardedResolver, RefusedTarget, check_url
from common.clock import now_ms
from common.names import Names
from common.redis import RedisClient
from common.settings import Settings
from common.signing import sign
from common.tenants import TenantRegistry
from common.version import VERSION

log = structlog.get_logger(__name__)

# How long a delivery that met a Redis or broker outage waits before it goes back to the queue.
OUTAGE_PAUSE_S = 1.0
MAX_ERROR_LENGTH = 200


class Attempt(msgspec.Struct, frozen=True):
    error: str | None  # None: delivered
    final: bool = False  # no later attempt can succeed (a refused target)


class Deliverer:
    def __init__(
        self, redis: RedisClient, names: Names, tenants: TenantRegistry, channel: AbstractChannel, settings: Settings
    ) -> None:
        self._redis = redis
        self._names = names
        self._tenants = tenants
        self._channel = channel
        self._allow_private = settings.callback_allow_private
        self._max_attempts = settings.callback_max_attempts
        self._delays_ms = retry_delays_ms(settings)
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow_private=settings.callback_allow_private))
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=settings.callback_timeout_s),
            headers={"User-Agent": f"revotp-callbacks/{VERSION}"},
        )

    async def close(self) -> None:
        await self._session.close()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        try:
            delivery = decode(message.body)
        except msgspec.DecodeError:
            log.error("callback_message_unreadable", message_id=message.message_id)
            await message.reject(requeue=False)
            return
        try:
            await self._deliver(delivery)
        except OUTAGE_ERRORS as exc:
            log.warning("callback_postponed", error=type(exc).__name__, tenant_id=delivery.tenant_id)
            await asyncio.sleep(OUTAGE_PAUSE_S)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def _deliver(self, delivery: Delivery) -> None:
        tenant = await self._tenants.get(delivery.tenant_id)
        if tenant is None or tenant.callback_secret is None:
            GIVEN_UP.inc()
            log.warning("callback_given_up", reason="no_tenant_secret", tenant_id=delivery.tenant_id)
            return
        attempt = await self._post(delivery, tenant.callback_secret)
        if attempt.error is None:
            DELIVERED.inc()
            log.info(
                "callback_delivered", tenant_id=delivery.tenant_id, event_id=delivery.event_id, attempt=delivery.attempt
            )
            return
        FAILED_ATTEMPTS.labels(reason="refused" if attempt.final else "target").inc()
        give_up = attempt.final or delivery.attempt >= self._max_attempts
        await self._note_failure(delivery, attempt.error, given_up=give_up)
        if give_up:
            GIVEN_UP.inc()
            log.warning(
                "callback_given_up", tenant_id=delivery.tenant_id, event_id=delivery.event_id, error=attempt.error
            )
        else:
            await self._retry(delivery)

    async def _post(self, delivery: Delivery, secret: str) -> Attempt:
        try:
            check_url(delivery.url, allow_private=self._allow_private)
        except RefusedTarget as exc:
            return Attempt(f"refused: {exc}", final=True)
        body = delivery.body.encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Revotp-Timestamp": str(stamp),
            "X-Revotp-Signature": sign(secret, stamp, body),
            "X-Revotp-Event-Id": delivery.event_id,
            "X-Revotp-Attempt": str(delivery.attempt),
        }
        try:
            async with self._session.post(delivery.url, data=body, headers=headers, allow_redirects=False) as answer:
                if 200 <= answer.status < 300:
                    return Attempt(None)
                return Attempt(f"HTTP {answer.status}")
        except RefusedTarget as exc:  # raised by the guarded resolver for the host's addresses
            return Attempt(f"refused: {exc}", final=True)
        except ValueError as exc:  # a host no request can be made to (IDNA, say): it will not change
            return Attempt(f"refused: {type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH], final=True)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Attempt(f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH])

    async def _retry(self, delivery: Delivery) -> None:
        """Into the waiting queue of its delay, with part of the delay taken off at random."""
        delay_ms = self._delays_ms[delivery.attempt - 1]
        again = msgspec.structs.replace(delivery, attempt=delivery.attempt + 1)
        message = aio_pika.Message(
            encode(again),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
            expiration=delay_ms * random.uniform(0.5, 1.0) / 1000,  # jitter, not a secret
        )
        await self._channel.default_exchange.publish(message, routing_key=self._names.callback_retry_queue(delay_ms))

    async def _note_failure(self, delivery: Delivery, error: str, *, given_up: bool) -> None:
        status = self._names.callback_status(delivery.tenant_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(status, mapping={"last_error": error, "last_error_at": now_ms()})
            if given_up:
                pipe.hincrby(status, "given_up", 1)
            await pipe.execute()
