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
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aio_pika
import uvloop

from benchmarks.client import Client, each_in_flight
from benchmarks.cpu import broker_pids, snapshot, spent
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


@dataclass(frozen=True)
class BrokerRun:
    per_s: float  # messages from the first publish to the last ack
    cpu_ms_per_message: dict[str, float]  # publisher (this process), consumer, RabbitMQ

    @property
    def cpu_ms(self) -> float:
        return sum(self.cpu_ms_per_message.values())


async def amqp_round_trip(url: str, count: int) -> BrokerRun:
    """Messages per second from the first publish to the last ack, two processes, and the CPU
    each side and the broker spent per message."""
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
        body = b'{"provider": "generic", "text": "483920"}' * 4

        async def publish(n: int) -> None:
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, message_id=str(n))
            await channel.default_exchange.publish(message, routing_key=queue_name)

        parts = {"publisher": [os.getpid()], "consumer": [consumer.pid or 0], "RabbitMQ": broker_pids()["RabbitMQ"]}
        cpu_before = snapshot(parts)
        started = time.perf_counter()
        await each_in_flight(range(count), PUBLISH_CONCURRENCY, publish)
        # The consumer's last ack: read its CPU while it is a zombie, before join reaps it.
        await asyncio.get_running_loop().run_in_executor(None, _exited, consumer)
        elapsed = time.perf_counter() - started
        cpu = spent(cpu_before, snapshot(parts))
        await asyncio.get_running_loop().run_in_executor(None, consumer.join)
        await channel.queue_delete(queue_name)
    return BrokerRun(count / elapsed, {part: seconds * 1000 / count for part, seconds in cpu.items()})


def _exited(process: multiprocessing.process.BaseProcess) -> None:
    """Wait until ``process`` has ended without reaping it (its /proc entry keeps its CPU)."""
    os.waitid(os.P_PID, process.pid or 0, os.WEXITED | os.WNOWAIT)


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

        async def one(n: int) -> None:
            response = await post(client, n)
            assert response.status == 202, response.status

        started = time.perf_counter()
        await each_in_flight(range(count), concurrency, one)
        return count / (time.perf_counter() - started)


def sms_to_nobody(n: int) -> dict[str, str]:
    """A distinct SMS from a distinct sender: admitted, queued, and matching no challenge."""
    return {"id": uuid.uuid4().hex, "from": f"+3362{n:07d}", "to": "+15550100000", "text": "483920"}


async def redis_round_trips(url: str, count: int, concurrency: int) -> float:
    """Single-command round trips per second (SET), ``concurrency`` in flight, one client."""
    from redis.asyncio import BlockingConnectionPool, Redis

    redis = Redis(connection_pool=BlockingConnectionPool.from_url(url, max_connections=concurrency))
    key = f"revotp-bench-raw-{uuid.uuid4().hex[:8]}"

    async def one(n: int) -> None:
        await redis.set(f"{key}:{n % 100}", n, px=60_000)

    try:
        started = time.perf_counter()
        await each_in_flight(range(count), concurrency, one)
        return count / (time.perf_counter() - started)
    finally:
        await redis.delete(*(f"{key}:{n}" for n in range(min(count, 100))))
        await redis.aclose()
