"""Reading a queue's contents in tests, and deleting what a test deployment declared."""

from __future__ import annotations

import asyncio

from aio_pika.abc import AbstractChannel, AbstractConnection

from callbacks.topology import queue_names
from common.names import Names
from common.settings import Settings


async def delete_declared(channel: AbstractChannel, settings: Settings) -> None:
    """Every queue and exchange that services with these settings declare (names by settings:
    the callbacks' retry queues are named by their delays)."""
    names = Names(settings.namespace)
    for queue in (names.inbound_queue, names.dead_letter_queue, *queue_names(names, settings)):
        await channel.queue_delete(queue)
    for exchange in (names.inbound_exchange, names.dead_letter_exchange, names.callbacks_exchange):
        await channel.exchange_delete(exchange)


async def take_bodies(
    connection: AbstractConnection, queue_name: str, *, expected: int | None = None, within: float = 3.0
) -> list[bytes]:
    """Take messages out of a queue until ``expected`` arrived, or until ``within`` seconds passed.

    The messages themselves are counted: a quorum queue's reported message count lags.
    """
    channel = await connection.channel()
    bodies: list[bytes] = []
    try:
        queue = await channel.declare_queue(queue_name, passive=True)
        deadline = asyncio.get_running_loop().time() + within
        while (expected is None or len(bodies) < expected) and asyncio.get_running_loop().time() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                bodies.append(message.body)
        return bodies
    finally:
        await channel.close()
