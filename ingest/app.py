"""The ingest application factory: one cleanup context per resource, as aiohttp recommends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from common.amqp import connect_amqp, declare_topology
from common.clock import Clock, now_ms
from common.closing import bounded
from common.health import ReadinessCheck, add_health_routes
from common.metrics import read_at_scrape, read_queue_depths
from common.names import Names
from common.publisher import Publisher
from common.resources import redis_ctx
from common.runtime import serve_app
from common.settings import Limit, Settings
from common.web import MAX_BODY_BYTES, middlewares
from ingest import keys
from ingest.idempotency import IdempotencyCache
from ingest.providers import build_providers
from ingest.ratelimit import SmsRateLimiter
from ingest.routes import setup_routes

log = structlog.get_logger(__name__)


async def guards_ctx(app: web.Application) -> AsyncIterator[None]:
    """Idempotent creates and inbound rate limits, both kept in Redis."""
    resources, settings = app[keys.RESOURCES], app[keys.SETTINGS]
    app[keys.IDEMPOTENCY] = IdempotencyCache(resources.redis, resources.names, resources.keyring)
    app[keys.RATE_LIMITER] = SmsRateLimiter(
        resources.redis,
        resources.names,
        shared=resources.shared,
        per_sender=Limit.parse(settings.sender_rate_limit, "REVOTP_SENDER_RATE_LIMIT"),
        per_number=Limit.parse(settings.number_rate_limit, "REVOTP_NUMBER_RATE_LIMIT"),
    )
    yield


async def amqp_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    connection = await connect_amqp(settings.amqp_url, name="revotp-ingest")
    channel = await connection.channel(publisher_confirms=True)
    topology = await declare_topology(
        channel,
        Names(settings.namespace),
        max_deliveries=settings.max_deliveries,
        quorum_group_size=settings.quorum_group_size,
    )
    app[keys.AMQP] = connection
    app[keys.PUBLISHER] = Publisher(topology.exchange, timeout_s=settings.publish_timeout_s)
    yield
    await bounded(connection.close(), "close_rabbitmq")


async def providers_ctx(app: web.Application) -> AsyncIterator[None]:
    """The provider adapters, built (and their options checked) by ``create_app``, given Redis."""
    resources = app[keys.RESOURCES]
    for provider in app[keys.PROVIDERS].values():
        provider.attach(resources.redis, resources.names)
    yield
    for name, provider in app[keys.PROVIDERS].items():
        await bounded(provider.close(), f"close_provider_{name}")


def check_configuration(settings: Settings) -> None:
    """The provider adapters check their own options (REVOTP_<PROVIDER>_*) when built."""
    build_providers(settings)


async def serve(settings: Settings, stop: asyncio.Event, serve_metrics: bool = True) -> None:
    app = create_app(settings, serve_metrics=serve_metrics)
    await serve_app(app, settings.host, settings.ingest_port, stop)


def create_app(settings: Settings, *, serve_metrics: bool = True, clock: Clock = now_ms) -> web.Application:
    if settings.insecure_no_signatures:
        log.warning("signatures_disabled", detail="REVOTP_INSECURE_NO_SIGNATURES=1: webhooks are not authenticated")
    app = web.Application(middlewares=middlewares(), client_max_size=MAX_BODY_BYTES)
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.PROVIDERS] = build_providers(settings)
    app.cleanup_ctx.extend([redis_ctx, providers_ctx, guards_ctx, amqp_ctx])
    setup_routes(app)

    def checks() -> dict[str, ReadinessCheck]:
        connection = app[keys.AMQP]

        async def amqp() -> None:
            if connection.is_closed or not connection.connected.is_set():
                raise ConnectionError("RabbitMQ connection is down")

        return {"redis": app[keys.RESOURCES].redis.ping, "rabbitmq": amqp}

    add_health_routes(app, checks, serve_metrics=serve_metrics)
    read_at_scrape(app, lambda: read_queue_depths(app.get(keys.AMQP), Names(settings.namespace)))
    return app
