"""The metrics every process exports besides its own: build, dependencies, HTTP, broker queues.

Some values are read when Prometheus scrapes, not kept up to date: whether Redis and RabbitMQ
answer, how many messages wait in the inbound and dead-letter queues, how full the notifier's
send queues are. Each app registers its readers for as long as it runs (``read_at_scrape``);
``/metrics`` runs them all first, each bounded, so a dead dependency shows as 0 or a stale
value rather than a hung scrape.
"""

from __future__ import annotations

import asyncio
import functools
import platform
from collections.abc import Awaitable, Callable
from typing import TypeVar

import prometheus_client
import structlog
from aio_pika.abc import AbstractConnection
from aiohttp import web
from prometheus_client import Counter, Gauge, Histogram, Info

from common.names import Names
from common.version import VERSION

log = structlog.get_logger(__name__)

# A counter's `_created` series doubles what is stored and says nothing an operator uses.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

BUILD = Info("revotp_build", "The running revotp build")
BUILD.info({"version": VERSION, "python": platform.python_version()})
DEPENDENCY_UP = Gauge("revotp_dependency_up", "1 when the dependency answered the last scrape", ["dependency"])
INBOUND_QUEUE = Gauge("revotp_inbound_queue_messages", "Messages ready in the inbound queue (broker's count)")
DEAD_LETTERS = Gauge("revotp_dead_letter_messages", "Messages in the dead-letter queue (broker's count)")

HTTP_REQUESTS = Counter(
    "revotp_http_requests_total", "HTTP requests answered, by route template", ["route", "method", "status"]
)
HTTP_SECONDS = Histogram(
    "revotp_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (websockets excluded)",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# Any other method is counted as OTHER: a label must not take whatever a client sends.
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

Reader = Callable[[], Awaitable[None]]
_readers: set[Reader] = set()
READ_TIMEOUT_S = 2.0


def read_at_scrape(app: web.Application, reader: Reader) -> None:
    """Run ``reader`` before every scrape while ``app`` runs."""

    async def register(_: web.Application) -> None:
        _readers.add(reader)

    async def unregister(_: web.Application) -> None:
        _readers.discard(reader)

    app.on_startup.append(register)
    app.on_cleanup.append(unregister)


async def read_all() -> None:
    await asyncio.gather(*(_bounded(reader) for reader in list(_readers)))


async def _bounded(reader: Reader) -> None:
    try:
        await asyncio.wait_for(reader(), READ_TIMEOUT_S)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a scrape reports what it could read
        log.warning("metric_read_failed", error=type(exc).__name__, detail=str(exc))


async def read_queue_depths(connection: AbstractConnection | None, names: Names) -> None:
    """The broker's message counts of the inbound and dead-letter queues, on a channel of their own
    (a passive declaration of a missing queue closes its channel)."""
    if connection is None or connection.is_closed:
        return
    channel = await connection.channel()
    try:
        for gauge, name in ((INBOUND_QUEUE, names.inbound_queue), (DEAD_LETTERS, names.dead_letter_queue)):
            queue = await channel.declare_queue(name, passive=True)
            gauge.set(queue.declaration_result.message_count or 0)
    finally:
        await channel.close()


Labeled = TypeVar("Labeled", Counter, Histogram, Gauge)


@functools.cache
def labeled(metric: Labeled, *values: str) -> Labeled:
    """``metric.labels(*values)`` (values in the declared order), looked up once per distinct
    values: ``labels()`` validates and locks on every call, 2 to 4 % of a process's CPU where
    it runs once per SMS or request. Label values are few (routes, outcomes, tenants), as
    Prometheus keeps a child for each anyway."""
    return metric.labels(*values)


def observe_request(request: web.Request, status: int, seconds: float) -> None:
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    method = request.method if request.method in _METHODS else "OTHER"
    labeled(HTTP_REQUESTS, route, method, str(status)).inc()
    labeled(HTTP_SECONDS, route, method).observe(seconds)
