"""RabbitMQ connection and the one idempotent declaration of revotp's topology."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue, AbstractRobustConnection
from aiormq.exceptions import AMQPConnectionError, ChannelPreconditionFailed
from pamqp.common import FieldTable

from common.backoff import Backoff
from common.names import SMS_ROUTING_KEY, Names

log = structlog.get_logger(__name__)


async def connect_amqp(url: str, *, name: str, attempts: int = 10) -> AbstractRobustConnection:
    """A robust connection (it reconnects on its own once up) named for the broker's UI.

    The first connection is retried a bounded number of times, so a process started together
    with its broker waits for it instead of failing.
    """
    backoff = Backoff(first_s=0.5, max_s=4.0)
    for attempt in range(1, attempts + 1):
        try:
            return await aio_pika.connect_robust(url, client_properties={"connection_name": name})
        except (AMQPConnectionError, OSError) as exc:
            if attempt == attempts:
                raise
            delay = backoff.next_delay()
            log.warning("rabbitmq_unreachable", attempt=attempt, of=attempts, error=str(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Topology:
    exchange: AbstractExchange
    queue: AbstractQueue


async def declare_topology(channel: AbstractChannel, names: Names, *, max_deliveries: int) -> Topology:
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
        names.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    await dead_queue.bind(dead_exchange)
    exchange = await channel.declare_exchange(names.inbound_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
    arguments: FieldTable = {
        "x-queue-type": "quorum",
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
