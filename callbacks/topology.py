"""The callbacks' RabbitMQ topology: deliveries due now, and one waiting queue per retry delay.

A failed delivery waits in the queue of its delay (a classic queue whose messages all live that
long), then dead-letters back to the deliveries queue. Each message's own expiration takes a
random share of the delay off (jitter), so retries of many failures do not arrive together; a
queue's messages leave in order, so a message can wait at most the rest of its queue's delay.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from common.amqp import quorum_arguments
from common.names import Names
from common.settings import Settings

DELIVER = "deliver"
MAX_DELAY_MS = 600_000


def retry_delays_ms(settings: Settings) -> list[int]:
    """The wait before attempt n + 1, for n from 1 to max - 1: doubling from the first, capped."""
    first = int(settings.callback_first_retry_s * 1000)
    return [min(first * 2 ** (n - 1), MAX_DELAY_MS) for n in range(1, settings.callback_max_attempts)]


def queue_names(names: Names, settings: Settings) -> list[str]:
    """Every queue the callbacks declare (for operators and for tests that clean up)."""
    return [
        names.callbacks_queue,
        *(names.callback_retry_queue(delay) for delay in sorted(set(retry_delays_ms(settings)))),
    ]


@dataclass(frozen=True)
class CallbackTopology:
    exchange: AbstractExchange
    queue: AbstractQueue


async def declare_callbacks(channel: AbstractChannel, names: Names, settings: Settings) -> CallbackTopology:
    exchange = await channel.declare_exchange(names.callbacks_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
    queue = await channel.declare_queue(
        names.callbacks_queue, durable=True, arguments=quorum_arguments(settings.quorum_group_size)
    )
    await queue.bind(exchange, routing_key=DELIVER)
    for delay in sorted(set(retry_delays_ms(settings))):
        await channel.declare_queue(
            names.callback_retry_queue(delay),
            durable=True,
            arguments={
                "x-message-ttl": delay,
                "x-dead-letter-exchange": names.callbacks_exchange,
                "x-dead-letter-routing-key": DELIVER,
            },
        )
    return CallbackTopology(exchange=exchange, queue=queue)
