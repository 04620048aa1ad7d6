"""The matcher process: competing consumers on the inbound queue, the sweeper, health.

Lifecycle as saq's worker: start → consume → on stop, cancel the consumer first so no new
deliveries arrive, let in-flight messages finish within the grace period (the rest are
returned to the queue unacked), then close in reverse order of opening.

``run_burst`` is arq's burst mode: take what is queued now, one message at a time through the
same handler, and return when the queue is empty (tests, and draining a backlog by hand).
"""

from __future__ import annotations

import asyncio
import time

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from common.amqp import connect_amqp, declare_topology
from common.closing import bounded
from common.publisher import Publisher
from common.redis import RedisClient
from common.resources import RedisResources
from common.settings import Settings
from matcher.assembly import PartAssembler
from matcher.consumer import SmsConsumer
from matcher.judge import Judge
from matcher.sweeper import Sweeper

log = structlog.get_logger(__name__)


class Worker:
    def __init__(self, settings: Settings, *, sweep: bool = True) -> None:
        self.settings = settings
        self._sweep = sweep
        self.redis: RedisClient | None = None
        self._resources: RedisResources | None = None
        self.connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._opened: tuple[AbstractQueue, SmsConsumer, Sweeper] | None = None
        self._in_flight: set[asyncio.Task[object]] = set()
        self._stopped = False

    async def start(self) -> None:
        """Open Redis and RabbitMQ, then consume and sweep until ``stop``."""
        queue, consumer, sweeper = await self._open()

        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._in_flight.add(task)
            try:
                await consumer.handle(message)
            finally:
                if task is not None:
                    self._in_flight.discard(task)

        self._consumer_tag = await queue.consume(on_message)
        if self._sweep:
            self._sweeper = asyncio.create_task(sweeper.run(), name="sweeper")
        log.info("matcher_started", queue=queue.name, prefetch=self.settings.prefetch)

    async def run_burst(self) -> int:
        """Handle every message queued now, then return how many there were; ``stop`` still closes."""
        queue, consumer, _ = await self._open()
        handled = 0
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            await consumer.handle(message)
            handled += 1
        log.info("matcher_burst_done", handled=handled)
        return handled

    async def _open(self) -> tuple[AbstractQueue, SmsConsumer, Sweeper]:
        """Connect once; later calls (another burst) reuse what the first opened."""
        if self._opened is None:
            self._opened = await self._connect()
        return self._opened

    async def _connect(self) -> tuple[AbstractQueue, SmsConsumer, Sweeper]:
        settings = self.settings
        resources = self._resources = await RedisResources.open(settings)
        self.redis = resources.redis
        names, store = resources.names, resources.store
        self.connection = await connect_amqp(settings.amqp_url, name="revotp-matcher")
        self._channel = await self.connection.channel()
        await self._channel.set_qos(prefetch_count=settings.prefetch)
        topology = await declare_topology(
            self._channel,
            names,
            max_deliveries=settings.max_deliveries,
            quorum_group_size=settings.quorum_group_size,
        )
        self._queue = topology.queue
        judge = Judge(store, resources.tenants, resources.keyring, settings, devices=resources.devices)
        assembler = PartAssembler(
            resources.redis,
            names,
            resources.keyring,
            timeout_ms=int(settings.parts_timeout_s * 1000),
            shared=resources.shared,
        )
        sweeper = Sweeper(
            store, assembler, judge, grace_ms=settings.expiry_grace_ms, interval_s=settings.sweep_interval_s
        )
        publisher = Publisher(topology.exchange, timeout_s=settings.publish_timeout_s)
        return self._queue, SmsConsumer(judge, assembler, publisher), sweeper

    async def stop(self) -> None:
        """Stop consuming, let in-flight SMS finish (the rest go back unacked), close everything.

        Every step is bounded: with the broker or Redis gone, a stop must still end.
        """
        if self._stopped:
            return
        self._stopped = True
        began = time.monotonic()
        if self._queue is not None and self._consumer_tag is not None:
            await bounded(self._queue.cancel(self._consumer_tag), "cancel_consumer")
        in_flight = len(self._in_flight)
        unfinished: set[asyncio.Task[object]] = set()
        if self._in_flight:
            _, unfinished = await asyncio.wait(set(self._in_flight), timeout=self.settings.shutdown_grace_s)
        returned = len(unfinished)  # SMS whose messages go back to the queue unacknowledged
        if self._sweeper is not None:
            unfinished.add(self._sweeper)
        for task in unfinished:
            task.cancel()
        if unfinished:
            # Their messages go back to the queue unacknowledged when the channel closes.
            await bounded(asyncio.gather(*unfinished, return_exceptions=True), "cancel_unfinished")
        if self._channel is not None:
            await bounded(self._channel.close(), "close_channel")
        if self.connection is not None:
            await bounded(self.connection.close(), "close_rabbitmq")
        if self._resources is not None:
            await bounded(self._resources.close(), "close_redis")
        log.info(
            "matcher_stopped",
            in_flight=in_flight,
            finished=in_flight - returned,
            returned_to_queue=returned,
            took_s=round(time.monotonic() - began, 3),
        )
