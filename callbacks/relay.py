"""Events → deliveries: every tenant's log read from its own cursor, one delivery per event.

One process relays at a time: it holds a lease in Redis and renews it, and the others wait to
take over. A delivery is published (and confirmed) before the tenant's cursor moves past its
event, so a relay that dies publishes again at most the events after its last saved cursor:
callbacks arrive at least once, and ``X-Revotp-Event-Id`` lets receivers drop a repeat. A
tenant first seen starts at the end of its log: callbacks begin when they are set up.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import cast

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange

from callbacks.jobs import OUTAGE_ERRORS, Delivery, encode
from callbacks.metrics import RELAYED
from callbacks.topology import DELIVER
from common.backoff import Backoff
from common.events import decode_entries
from common.frames import event_frame
from common.names import Names
from common.receipts import ReceiptSigner
from common.redis import RedisClient, text
from common.tenants import TenantRecord, TenantRegistry

log = structlog.get_logger(__name__)

LEASE_MS = 10_000
READ_COUNT = 200
# Renews the lease only for its holder: a relay that lost it (a pause longer than the lease)
# must not take it back from the one that took over.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class Relay:
    def __init__(
        self,
        redis: RedisClient,
        names: Names,
        tenants: TenantRegistry,
        exchange: AbstractExchange,
        *,
        block_ms: int,
        receipts: ReceiptSigner,
    ) -> None:
        self._redis = redis
        self._names = names
        self._tenants = tenants
        self._receipts = receipts
        self._exchange = exchange
        self._block_ms = block_ms
        self._holder = secrets.token_hex(8)
        self._renew = redis.register_script(_RENEW)
        self._stopping = False

    def stop(self) -> None:
        """Ask ``run`` to return after its current step.

        Cancelling alone is not enough: a cancel that lands as a Redis command's own timeout
        fires can reach ``run`` as that timeout, an outage it rides out, and the loop goes on.
        """
        self._stopping = True

    async def run(self) -> None:
        backoff = Backoff(first_s=0.2, max_s=5.0)
        while not self._stopping:
            try:
                if await self.hold_lease():
                    await self.relay_once()
                else:
                    await asyncio.sleep(LEASE_MS / 3000)
            except OUTAGE_ERRORS as exc:
                delay = backoff.next_delay()
                log.warning("callbacks_relay_failed", error=type(exc).__name__, retry_in_s=delay)
                await asyncio.sleep(delay)
                continue
            backoff.reset()

    async def hold_lease(self) -> bool:
        """Take the lease if free, else renew it if this relay holds it."""
        lease = self._names.callbacks_relay
        if await self._redis.set(lease, self._holder, nx=True, px=LEASE_MS):
            log.info("callbacks_relay_leading")
            return True
        return bool(await self._renew(keys=[lease], args=[self._holder, LEASE_MS]))

    async def release_lease(self) -> None:
        """On a clean stop: another process may take over at once instead of after the lease."""
        await self._renew(keys=[self._names.callbacks_relay], args=[self._holder, 1])

    async def relay_once(self) -> int:
        """Read what the logs hold past their cursors and publish it; with nothing to read,
        pause for a block."""
        tenant_ids = await self._tenants.ids()
        if not tenant_ids:
            await asyncio.sleep(self._block_ms / 1000)
            return 0
        cursors = await self._cursors(tenant_ids)
        # One read per log, in one pipeline: the logs live in their tenants' cluster slots, and
        # a single XREAD may only name keys of one slot. So no blocking read: a pause instead.
        async with self._redis.pipeline(transaction=False) as pipe:
            for tenant_id in tenant_ids:
                pipe.xread({self._names.events(tenant_id): cursors[tenant_id]}, count=READ_COUNT)
            replies = await pipe.execute()
        relayed = 0
        for tenant_id, reply in zip(tenant_ids, replies, strict=True):
            for _, entries in cast(list[tuple[bytes, object]], reply or []):
                relayed += await self._relay_tenant(tenant_id, await self._tenants.get(tenant_id), entries)
        RELAYED.inc(relayed)
        if not relayed and not any(replies):
            await asyncio.sleep(self._block_ms / 1000)
        return relayed

    async def _relay_tenant(self, tenant_id: str, tenant: TenantRecord | None, entries: object) -> int:
        decoded = decode_entries(entries)
        deliveries = []
        for cursor, event in decoded:
            url = event.callback_url or (tenant.callback_url if tenant else None)
            if url and tenant is not None and tenant.callback_secret:
                deliveries.append(
                    Delivery(
                        tenant_id=tenant_id,
                        event_id=cursor,
                        url=url,
                        body=event_frame(cursor, event, self._receipts, tenant_id),
                    )
                )
        await asyncio.gather(*(self._publish(delivery) for delivery in deliveries))
        if decoded:
            await self._redis.set(self._names.callback_cursor(tenant_id), decoded[-1][0])
        return len(deliveries)

    async def _publish(self, delivery: Delivery) -> None:
        message = aio_pika.Message(
            encode(delivery),
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            content_type="application/json",
            message_id=f"{delivery.tenant_id}/{delivery.event_id}",
        )
        await self._exchange.publish(message, routing_key=DELIVER)

    async def _cursors(self, tenant_ids: list[str]) -> dict[str, str]:
        """Each tenant's cursor; a tenant without one starts at the end of its log, now."""
        keys = [self._names.callback_cursor(tenant_id) for tenant_id in tenant_ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(key)
            saved = await pipe.execute()
        cursors = {}
        for tenant_id, key, cursor in zip(tenant_ids, keys, saved, strict=True):
            if cursor is None:
                newest = await self._redis.xrevrange(self._names.events(tenant_id), count=1)
                start = text(newest[0][0]) if newest else "0-0"
                # NX: another relay that started this tenant first keeps its cursor.
                await self._redis.set(key, start, nx=True)
                cursor = await self._redis.get(key)
            cursors[tenant_id] = text(cursor)
        return cursors
