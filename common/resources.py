"""The Redis-backed resources every service opens the same way, and their aiohttp keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from aiohttp import web
from redis.asyncio import Redis

from common.closing import bounded
from common.keyring import Keyring
from common.names import Names
from common.redis import connect_redis, load_keyring
from common.settings import Settings
from common.store import ChallengeStore
from common.tenants import TenantRegistry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RedisResources:
    redis: Redis
    names: Names
    keyring: Keyring
    store: ChallengeStore
    tenants: TenantRegistry

    @classmethod
    async def open(cls, settings: Settings) -> RedisResources:
        names = Names(settings.namespace)
        redis = await connect_redis(settings.redis_url)
        return cls(
            redis=redis,
            names=names,
            keyring=await load_keyring(redis, settings, names),
            store=ChallengeStore(redis, names, event_retention_ms=settings.event_retention_s * 1000),
            tenants=TenantRegistry(redis, names),
        )

    async def close(self) -> None:
        await self.redis.aclose()


SETTINGS = web.AppKey("settings", Settings)
RESOURCES = web.AppKey("resources", RedisResources)


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context of the servers that authenticate tenants: open, ensure bootstrap tenants, close."""
    settings = app[SETTINGS]
    resources = await RedisResources.open(settings)
    for tenant_id in await resources.tenants.bootstrap(settings.bootstrap_tenants):
        log.info("tenant_bootstrapped", tenant_id=tenant_id)
    app[RESOURCES] = resources
    yield
    await bounded(resources.close(), "close_redis")
