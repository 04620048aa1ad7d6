"""RabbitMQ connection and the one idempotent declaration of revotp's topology."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue, AbstractRobustConnection
from aiormq.exceptions import AMQPConnectionError, ChannelPreconditionFailed
from pamqp.common import FieldTable
from yarl import URL

from common.backoff import Backoff
from common.names import SMS_ROUTING_KEY, Names

log = structlog.get_logger(__name__)


def broker_urls(setting: str) -> list[str]:
    """``REVOTP_AMQP_URL``: one broker, or the nodes of one cluster, comma-separated."""
    urls = [url.strip() for url in setting.split(",") if url.strip()]
    if not urls:
        raise ValueError("REVOTP_AMQP_URL names no broker")
    return urls


async def connect_amqp(url_setting: str, *, name: str, attempts: int = 10) -> AbstractRobustConnection:
    """A robust connection (it reconnects on its own once up) named for the broker's UI.

    The first connection goes to the first node that answers, and is retried a bounded number
    of times, so a process started together with its broker waits for it instead of failing.
    With several nodes, a connection that stays down moves on to the next node
    (``_follow_the_cluster``) instead of waiting for its own to come back.
    """
    urls = broker_urls(url_setting)
    backoff = Backoff(first_s=0.5, max_s=4.0)
    for attempt in range(1, attempts + 1):
        failure: Exception | None = None
        for index, url in enumerate(urls):
            try:
                connection = await aio_pika.connect_robust(
                    url, client_properties={"connection_name": name}, reconnect_interval=RECONNECT_INTERVAL_S
                )
            except (AMQPConnectionError, OSError) as exc:
                failure = exc
                continue
            if len(urls) > 1 and isinstance(connection, aio_pika.RobustConnection):
                _follow_the_cluster(connection, urls, index)
            return connection
        if attempt == attempts:
            raise failure or ConnectionError("no broker answered")
        delay = backoff.next_delay()
        log.warning("rabbitmq_unreachable", attempt=attempt, of=attempts, error=str(failure), retry_in_s=delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


# How often a robust connection retries, and how long one stays down before it tries another node.
RECONNECT_INTERVAL_S = 1.0
NODE_SWITCH_S = 3.0
_followers: set[asyncio.Task[None]] = set()


def _follow_the_cluster(connection: aio_pika.RobustConnection, urls: list[str], current: int) -> None:
    """While the connection is down, point its reconnection at the next node every few seconds.

    aio-pika reconnects to the URL the connection holds; a node that died would be retried
    until it came back, with the rest of the cluster up. The robust channels, queues and
    consumers are restored on whichever node takes the connection.
    """

    async def follow() -> None:
        turn = current
        while not connection.is_closed:
            await asyncio.sleep(NODE_SWITCH_S)
            if not connection.is_closed and not connection.connected.is_set():
                turn = (turn + 1) % len(urls)
                connection.url = URL(urls[turn])  # read by each reconnection attempt
                log.warning("rabbitmq_node_switched", node=f"{connection.url.host}:{connection.url.port}")

    # It ends with the connection's close (its close callbacks also run at every lost node).
    task = asyncio.create_task(follow(), name="rabbitmq node follower")
    _followers.add(task)
    task.add_done_callback(_followers.discard)


@dataclass(frozen=True)
class Topology:
    exchange: AbstractExchange
    queue: AbstractQueue


def quorum_arguments(group_size: int) -> FieldTable:
    """A quorum queue, replicated on ``group_size`` nodes when first declared (0: as the broker decides)."""
    arguments: FieldTable = {"x-queue-type": "quorum"}
    if group_size > 0:
        arguments["x-quorum-initial-group-size"] = group_size
    return arguments


async def declare_topology(
    channel: AbstractChannel, names: Names, *, max_deliveries: int, quorum_group_size: int = 0
) -> Topology:
    """Declare exchanges, the inbound quorum queue and its dead-letter queue.

    Declared through a robust channel, they are declared again after a reconnect, and the
    returned objects stay usable across it.

    ``max_deliveries`` (at least 1) is how many times a message may be delivered in all.

    A quorum queue replicates across a cluster and counts deliveries, so a message that keeps
    failing is dead-lettered after ``max_deliveries`` instead of blocking the queue forever.
    """
    dead_exchange = await channel.declare_exchange(
        names.dead_letter_exchange, aio_pika.ExchangeType.FANOUT, durable=True
    )
    dead_queue = await channel.declare_queue(
        names.dead_letter_queue, durable=True, arguments=quorum_arguments(quorum_group_size)
    )
    await dead_queue.bind(dead_exchange)
    exchange = await channel.declare_exchange(names.inbound_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
    arguments: FieldTable = {
        **quorum_arguments(quorum_group_size),
        # The broker's limit counts redeliveries: the first delivery is not one.
        "x-delivery-limit": max_deliveries - 1,
        "x-dead-letter-exchange": names.dead_letter_exchange,
    }
    try:
        queue = await channel.declare_queue(names.inbound_queue, durable=True, arguments=arguments)
    except ChannelPreconditionFailed as exc:
        # Queue arguments cannot change once declared. A deployment whose settings changed
        # (REVOTP_MAX_DELIVERIES) keeps running on the queue as it is, and says so.
        log.warning(
            "queue_arguments_differ",
            queue=names.inbound_queue,
            detail=str(exc),
            hint="the existing queue is used as declared; delete it when empty, or set a policy, to apply new settings",
        )
        await channel.reopen()
        queue = await channel.declare_queue(names.inbound_queue, passive=True)
    await queue.bind(exchange, routing_key=SMS_ROUTING_KEY)
    return Topology(exchange=exchange, queue=queue)
