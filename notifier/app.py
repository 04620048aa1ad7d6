"""The notifier application factory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from common.health import ReadinessCheck, add_health_routes
from common.metrics import read_at_scrape
from common.resources import redis_ctx
from common.runtime import serve_app
from common.settings import Settings
from common.web import middlewares
from notifier import keys
from notifier.hub import Hub
from notifier.metrics import SEND_QUEUE, SEND_QUEUE_LONGEST
from notifier.routes import setup_routes
from notifier.sockets import OpenSockets


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    resources = app[keys.RESOURCES]
    settings = app[keys.SETTINGS]
    app[keys.HUB] = Hub(
        resources.redis, resources.names, queue_limit=settings.ws_queue_limit, block_ms=settings.feed_block_ms
    )
    yield
    await app[keys.HUB].close()


async def close_sockets(app: web.Application) -> None:
    await app[keys.SOCKETS].close_all()


async def serve(settings: Settings, stop: asyncio.Event, serve_metrics: bool = True) -> None:
    app = create_app(settings, serve_metrics=serve_metrics)
    await serve_app(app, settings.host, settings.notifier_port, stop)


def create_app(settings: Settings, *, serve_metrics: bool = True) -> web.Application:
    app = web.Application(middlewares=middlewares())
    app[keys.SETTINGS] = settings
    app[keys.SOCKETS] = OpenSockets()
    app.cleanup_ctx.extend([redis_ctx, hub_ctx])
    app.on_shutdown.append(close_sockets)
    setup_routes(app)

    def checks() -> dict[str, ReadinessCheck]:
        return {"redis": app[keys.RESOURCES].redis.ping}

    add_health_routes(app, checks, serve_metrics=serve_metrics)

    async def send_queues() -> None:
        queued = app[keys.HUB].queued() if keys.HUB in app else []
        SEND_QUEUE.set(sum(queued))
        SEND_QUEUE_LONGEST.set(max(queued, default=0))

    read_at_scrape(app, send_queues)
    return app
