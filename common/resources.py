"""The Redis-backed resources every service opens the same way, and their aiohttp keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from aiohttp import web

from common.closing import bounded
from common.devices import DeviceRegistry
from common.keyring import Keyring
from common.logging import first_time
from common.names import Names
from common.pipelining import SharedPipeline
from common.receipts import ReceiptSigner, load_signer
from common.redis import REPLY_TIMEOUT_S, RedisClient, connect_redis, load_keyring
from common.settings import Settings
from common.store import ChallengeStore
from common.tenants import TenantRegistry

log = structlog.get_logger(__name__)


# Connections of the shared pipelines: one round trip in flight per pipeline, and a few pipelines.
PIPELINED_CONNECTIONS = 8


@dataclass(frozen=True)
class RedisResources:
    redis: RedisClient
    names: Names
    keyring: Keyring
    store: ChallengeStore
    tenants: TenantRegistry
    # The hot paths' round trips, on connections without a per-reply timeout (bounded per trip).
    pipelined: RedisClient
    shared: SharedPipeline
    receipts: ReceiptSigner
    devices: DeviceRegistry

    @classmethod
    async def open(cls, settings: Settings) -> RedisResources:
        names = Names(settings.namespace)
        cluster = settings.redis_cluster
        redis = await connect_redis(settings.redis_url, cluster=cluster)
        pipelined = await connect_redis(
            settings.redis_url, cluster=cluster, max_connections=PIPELINED_CONNECTIONS, socket_timeout=None
        )
        shared = SharedPipeline(
            pipelined, round_trip_timeout_s=REPLY_TIMEOUT_S, wait_replicas=settings.redis_wait_replicas
        )
        retention_ms = settings.event_retention_s * 1000
        keyring = await load_keyring(redis, settings, names)
        return cls(
            redis=redis,
            names=names,
            keyring=keyring,
            store=ChallengeStore(
                redis,
                names,
                event_retention_ms=retention_ms,
                shared=shared,
                write_earlier_records=settings.write_earlier_records,
            ),
            tenants=TenantRegistry(redis, names, shared=shared),
            pipelined=pipelined,
            shared=shared,
            receipts=await load_signer(redis, settings, names),
            devices=DeviceRegistry(redis, names, keyring),
        )

    async def close(self) -> None:
        await self.redis.aclose()
        await self.pipelined.aclose()


SETTINGS = web.AppKey("settings", Settings)
RESOURCES = web.AppKey("resources", RedisResources)


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context of the servers that authenticate tenants: open, ensure bootstrap tenants, close."""
    settings = app[SETTINGS]
    resources = await RedisResources.open(settings)
    if not settings.redis_cluster:
        await resources.tenants.adopt_untagged_keys()
    for tenant_id in await resources.tenants.bootstrap(settings.bootstrap_tenants):
        if first_time("tenant_bootstrapped", tenant_id):
            log.info("tenant_bootstrapped", tenant_id=tenant_id)
    app[RESOURCES] = resources
    yield
    await bounded(resources.close(), "close_redis")
