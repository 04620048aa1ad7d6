"""The matcher's small HTTP side: health, readiness and metrics of one worker."""

from __future__ import annotations

import asyncio

from aiohttp import web

from common.health import ReadinessCheck, add_health_routes
from common.metrics import read_at_scrape, read_queue_depths
from common.names import Names
from common.runtime import start_app
from common.settings import Settings
from common.web import middlewares
from matcher.worker import Worker


async def serve(settings: Settings, stop: asyncio.Event, serve_metrics: bool = True) -> None:
    """Run one worker and its health endpoint until ``stop`` is set; then drain and close."""
    worker = Worker(settings)
    app = create_health_app(worker, serve_metrics=serve_metrics)
    runner = await start_app(app, settings.host, settings.matcher_port)
    try:
        await worker.start()
        await stop.wait()
    finally:
        await worker.stop()
        await runner.cleanup()


async def burst(settings: Settings) -> int:
    """Judge what the queue holds now, then stop (``revotp matcher --burst``); returns how many SMS."""
    worker = Worker(settings, sweep=False)
    try:
        return await worker.run_burst()
    finally:
        await worker.stop()


def create_health_app(worker: Worker, *, serve_metrics: bool = True) -> web.Application:
    app = web.Application(middlewares=middlewares())

    def checks() -> dict[str, ReadinessCheck]:
        async def redis() -> None:
            if worker.redis is None:
                raise ConnectionError("Redis not connected yet")
            await worker.redis.ping()

        async def rabbitmq() -> None:
            connection = worker.connection
            if connection is None or connection.is_closed or not connection.connected.is_set():
                raise ConnectionError("RabbitMQ connection is down")

        return {"redis": redis, "rabbitmq": rabbitmq}

    add_health_routes(app, checks, serve_metrics=serve_metrics)
    read_at_scrape(app, lambda: read_queue_depths(worker.connection, Names(worker.settings.namespace)))
    return app
