"""Poison messages go to the dead-letter queue; the inbound queue keeps flowing."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import structlog

from common.amqp import declare_topology
from common.names import SMS_ROUTING_KEY, Names
from common.settings import Settings
from tests.integration.conftest import Pipeline, next_frame
from tests.support.queues import take_bodies


async def _dead_letters(amqp: Any, names: Names, *, expected: int) -> list[bytes]:
    return await take_bodies(amqp, names.dead_letter_queue, expected=expected, within=15.0)


async def test_undecodable_messages_are_dead_lettered_and_the_queue_flows(
    pipeline: Pipeline, amqp: Any, settings: Settings
):
    names = Names(settings.namespace)
    channel = await amqp.channel()
    exchange = await channel.get_exchange(names.inbound_exchange)
    poison = [b"not json", b'{"message_id": "x"}', b'{"schema_version": 99}', b"\xff\xfe"]
    for body in poison:
        message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await exchange.publish(message, routing_key=SMS_ROUTING_KEY)
    await channel.close()
    assert sorted(await _dead_letters(amqp, names, expected=4)) == sorted(poison)

    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"


async def test_a_message_that_keeps_failing_is_dead_lettered_after_max_deliveries(
    amqp: Any, settings: Settings, cleanup: None
):
    names = Names(settings.namespace)
    channel = await amqp.channel()
    queue = (await declare_topology(channel, names, max_deliveries=settings.max_deliveries)).queue
    exchange = await channel.get_exchange(names.inbound_exchange)
    await exchange.publish(aio_pika.Message(b"fails every time"), routing_key=SMS_ROUTING_KEY)
    deliveries = 0
    async with queue.iterator() as messages:
        while True:
            try:
                message = await asyncio.wait_for(anext(messages), 2.0)
            except TimeoutError:
                break  # the broker stopped redelivering it
            deliveries += 1
            await message.nack(requeue=True)  # what the matcher does with a failure it cannot fix
    await channel.close()
    assert await _dead_letters(amqp, names, expected=1) == [b"fails every time"]
    assert deliveries == settings.max_deliveries


async def test_a_queue_declared_with_other_settings_is_used_as_it_is(amqp: Any, settings: Settings, deploy: Any):
    """Changing REVOTP_MAX_DELIVERIES on a running deployment must not stop processes from starting."""
    channel = await amqp.channel()
    await declare_topology(channel, Names(settings.namespace), max_deliveries=settings.max_deliveries + 3)
    await channel.close()
    with structlog.testing.capture_logs() as logs:
        pipeline = await deploy()  # ingest and a matcher declare with the current, different limit
    assert [entry["event"] for entry in logs].count("queue_arguments_differ") == 2
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"
