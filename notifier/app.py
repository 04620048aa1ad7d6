"""The notifier application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from common.health import ReadinessCheck, add_health_routes
from common.names import Names
from common.redis import connect_redis, load_keyring
from common.runtime import start_app
from common.settings import Settings
from common.store import ChallengeStore
from common.tenants import TenantRegistry
from common.web import middlewares
from notifier import keys
from notifier.hub import Hub
from notifier.routes import setup_routes
from notifier.sockets import OpenSockets


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    names = Names(settings.namespace)
    redis = await connect_redis(settings.redis_url)
    app[keys.REDIS] = redis
    app[keys.KEYRING] = await load_keyring(redis, settings, names)
    app[keys.STORE] = ChallengeStore(redis, names, event_retention_ms=settings.event_retention_s * 1000)
    app[keys.TENANTS] = TenantRegistry(redis, names)
    await app[keys.TENANTS].bootstrap(settings.bootstrap_tenants)
    app[keys.HUB] = Hub(redis, names, queue_limit=settings.ws_queue_limit)
    yield
    await app[keys.HUB].close()
    await redis.aclose()


async def close_sockets(app: web.Application) -> None:
    await app[keys.SOCKETS].close_all()


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    runner = await start_app(create_app(settings), settings.host, settings.notifier_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=middlewares())
    app[keys.SETTINGS] = settings
    app[keys.SOCKETS] = OpenSockets()
    app.cleanup_ctx.append(redis_ctx)
    app.on_shutdown.append(close_sockets)
    setup_routes(app)

    def checks() -> dict[str, ReadinessCheck]:
        return {"redis": app[keys.REDIS].ping}

    add_health_routes(app, checks)
    return app
