"""The callbacks process: the relay, the deliverer, and a small HTTP side for health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection
from aiohttp import web

from callbacks.deliverer import Deliverer
from callbacks.relay import Relay
from callbacks.topology import declare_callbacks
from common.amqp import connect_amqp
from common.closing import bounded
from common.health import ReadinessCheck, add_health_routes
from common.resources import RedisResources
from common.runtime import start_app
from common.settings import Settings
from common.web import middlewares

log = structlog.get_logger(__name__)

PREFETCH = 32


class CallbacksService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.resources: RedisResources | None = None
        self.connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._relay: Relay | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._deliverer: Deliverer | None = None

    async def start(self) -> None:
        settings = self.settings
        resources = self.resources = await RedisResources.open(settings)
        self.connection = await connect_amqp(settings.amqp_url, name="revotp-callbacks")
        channel = self._channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        topology = await declare_callbacks(channel, resources.names, settings)
        self._queue = topology.queue
        # The relay polls (relay.py says why): a quarter second at most between looks, idle.
        pause_ms = min(settings.feed_block_ms, 250)
        self._relay = Relay(
            resources.redis,
            resources.names,
            resources.tenants,
            topology.exchange,
            block_ms=pause_ms,
            receipts=resources.receipts,
        )
        self._relay_task = asyncio.create_task(self._relay.run(), name="callbacks relay")
        self._deliverer = Deliverer(resources.redis, resources.names, resources.tenants, channel, settings)
        self._consumer_tag = await topology.queue.consume(self._deliverer.handle)
        log.info("callbacks_started", queue=resources.names.callbacks_queue)

    async def stop(self) -> None:
        """Stop relaying and consuming; deliveries under way go back to the queue unacked."""
        began = time.monotonic()
        if self._queue is not None and self._consumer_tag is not None:
            await bounded(self._queue.cancel(self._consumer_tag), "cancel_consumer")
        if self._relay is not None:
            self._relay.stop()
        if self._relay_task is not None:
            self._relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bounded(self._relay_task, "stop_relay")
        if self._relay is not None:
            await bounded(self._relay.release_lease(), "release_relay_lease")
        if self._deliverer is not None:
            await bounded(self._deliverer.close(), "close_http_client")
        if self._channel is not None:
            await bounded(self._channel.close(), "close_channel")
        if self.connection is not None:
            await bounded(self.connection.close(), "close_rabbitmq")
        if self.resources is not None:
            await bounded(self.resources.close(), "close_redis")
        log.info("callbacks_stopped", took_s=round(time.monotonic() - began, 3))


async def serve(settings: Settings, stop: asyncio.Event, serve_metrics: bool = True) -> None:
    service = CallbacksService(settings)
    runner = await start_app(
        create_health_app(service, serve_metrics=serve_metrics), settings.host, settings.callbacks_port
    )
    try:
        await service.start()
        await stop.wait()
    finally:
        await service.stop()
        await runner.cleanup()


def create_health_app(service: CallbacksService, *, serve_metrics: bool = True) -> web.Application:
    app = web.Application(middlewares=middlewares())

    def checks() -> dict[str, ReadinessCheck]:
        async def redis() -> None:
            if service.resources is None:
                raise ConnectionError("Redis not connected yet")
            await service.resources.redis.ping()

        async def rabbitmq() -> None:
            connection = service.connection
            if connection is None or connection.is_closed or not connection.connected.is_set():
                raise ConnectionError("RabbitMQ connection is down")

        return {"redis": redis, "rabbitmq": rabbitmq}

    add_health_routes(app, checks, serve_metrics=serve_metrics)
    return app
