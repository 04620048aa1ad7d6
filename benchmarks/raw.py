"""The raw limits of the parts revotp stands on, measured on this machine in the same run.

``amqp_round_trip``: persistent messages published with publisher confirms by one process and
consumed with one ack each by another, through a durable quorum queue like revotp's inbound
queue. It is the per-message rate the broker allows, the yardstick of the end-to-end figure.
``do_nothing_webhooks`` and ``do_nothing_creates`` (a do-nothing aiohttp handler sent exactly
what ingest is sent, by the same client code) are the yardsticks of ingest's two halves, and
``redis_round_trips`` of Redis use.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable

import aio_pika
import uvloop

from benchmarks.client import Client
from revotp.replay.http import Response

PUBLISH_CONCURRENCY = 128
PREFETCH = 64


async def _consume(url: str, queue_name: str, count: int, ready: multiprocessing.synchronize.Event) -> None:
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        queue = await channel.get_queue(queue_name)
        done = asyncio.Event()
        seen = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal seen
            await message.ack()
            seen += 1
            if seen == count:
                done.set()

        await queue.consume(on_message)
        ready.set()
        await done.wait()


def _consumer_process(url: str, queue_name: str, count: int, ready: multiprocessing.synchronize.Event) -> None:
    uvloop.run(_consume(url, queue_name, count, ready))


async def amqp_round_trip(url: str, count: int) -> float:
    """Messages per second from the first publish to the last ack, two processes."""
    queue_name = f"revotp-bench-raw-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect_robust(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue_name, durable=True, arguments={"x-queue-type": "quorum"})
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        consumer = context.Process(target=_consumer_process, args=(url, queue_name, count, ready))
        consumer.start()
        await asyncio.get_running_loop().run_in_executor(None, ready.wait)
        gate = asyncio.Semaphore(PUBLISH_CONCURRENCY)
        body = b'{"provider": "generic", "text": "483920"}' * 4

        async def publish(n: int) -> None:
            async with gate:
                message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(n))
                await channel.default_exchange.publish(message, routing_key=queue_name)

        started = time.perf_counter()
        await asyncio.gather(*(publish(n) for n in range(count)))
        await asyncio.get_running_loop().run_in_executor(None, consumer.join)
        elapsed = time.perf_counter() - started
        await channel.queue_delete(queue_name)
    return count / elapsed


async def do_nothing_webhooks(count: int, concurrency: int) -> float:
    """Requests per second a do-nothing aiohttp handler in its own process answers, sent the
    same signed webhooks by the same client code as ingest: the ceiling of a webhook server
    here, client included."""
    return await _do_nothing_rate(count, concurrency, lambda client, n: client.post_sms(sms_to_nobody(n)))


async def do_nothing_creates(count: int, concurrency: int) -> float:
    """The same for the tenant API: the request a challenge creation sends, by the same client."""
    return await _do_nothing_rate(count, concurrency, lambda client, n: client.post_create(f"+3363{n:07d}"))


async def _do_nothing_rate(count: int, concurrency: int, post: Callable[[Client, int], Awaitable[Response]]) -> float:
    from revotp.replay.ceiling import do_nothing_server

    async with do_nothing_server() as base_url, Client(base_url, concurrency=concurrency) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one(n: int) -> None:
            async with gate:
                response = await post(client, n)
                assert response.status == 202, response.status

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return count / (time.perf_counter() - started)


def sms_to_nobody(n: int) -> dict[str, str]:
    """A distinct SMS from a distinct sender: admitted, queued, and matching no challenge."""
    return {"id": uuid.uuid4().hex, "from": f"+3362{n:07d}", "to": "+15550100000", "text": "483920"}


async def redis_round_trips(url: str, count: int, concurrency: int) -> float:
    """Single-command round trips per second (SET), ``concurrency`` in flight, one client."""
    from redis.asyncio import BlockingConnectionPool, Redis

    redis = Redis(connection_pool=BlockingConnectionPool.from_url(url, max_connections=concurrency))
    key = f"revotp-bench-raw-{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            await redis.set(f"{key}:{n % 100}", n, px=60_000)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return count / (time.perf_counter() - started)
    finally:
        await redis.delete(*(f"{key}:{n}" for n in range(min(count, 100))))
        await redis.aclose()
