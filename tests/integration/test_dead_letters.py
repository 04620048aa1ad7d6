"""Poison messages go to the dead-letter queue; the inbound queue keeps flowing."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import aio_pika
import structlog

from common.amqp import declare_topology
from common.names import SMS_ROUTING_KEY, Names
from common.settings import Settings
from matcher.worker import Worker
from tests.integration.conftest import PHONE, Pipeline, deployment_env, next_frame
from tests.support.processes import run_revotp
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


async def _dead_letter_by_hand(amqp: Any, names: Names, *, fail: int, poison: bytes | None = None) -> None:
    """What a matcher does to an SMS that fails ``fail`` times, and to a body it cannot decode."""
    channel = await amqp.channel()
    queue = await channel.declare_queue(names.inbound_queue, passive=True)
    if poison is not None:
        exchange = await channel.get_exchange(names.inbound_exchange)
        await exchange.publish(aio_pika.Message(poison, message_id="poison-1"), routing_key=SMS_ROUTING_KEY)
    rejected = False
    for _ in range(fail + (poison is not None)):
        message = await queue.get(no_ack=False, timeout=5)
        if message.message_id == "poison-1" and not rejected:
            rejected = True
            await message.reject(requeue=False)
        else:
            await message.nack(requeue=True)
    await channel.close()


async def _tool(settings: Settings, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    code, out, err = await run_revotp({**os.environ, **deployment_env(settings.namespace)}, "dead-letters", *args)
    return code, [json.loads(line) for line in out.splitlines()], err


async def test_the_dead_letters_tool_lists_shows_replays_and_purges(
    pipeline_without_matcher: Pipeline, amqp: Any, settings: Settings
):
    pipeline = pipeline_without_matcher
    names = Names(settings.namespace)
    challenge = await pipeline.create()
    await pipeline.sms(f"my code {challenge['code']}")  # queued: no matcher runs yet
    await _dead_letter_by_hand(amqp, names, fail=settings.max_deliveries, poison=b"\xffnot json")

    code, listed, _ = await _tool(settings, "list")
    assert code == 0
    by_reason = {entry["reason"]: entry for entry in listed}
    assert set(by_reason) == {"poison_body", "deliveries_exhausted"}, listed
    assert by_reason["poison_body"]["id"] == "poison-1"
    assert by_reason["poison_body"]["sms"] == 0
    assert by_reason["poison_body"]["problem"]
    exhausted = by_reason["deliveries_exhausted"]
    assert exhausted["sms"] == 1
    assert exhausted["from_queue"] == names.inbound_queue

    code, shown, _ = await _tool(settings, "show", exhausted["id"])
    (details,) = shown
    assert code == 0
    assert details["messages"][0]["from"] == PHONE
    assert challenge["code"] not in json.dumps(details), "a code stays masked unless asked for"
    _, revealed, _ = await _tool(settings, "show", exhausted["id"], "--reveal-text")
    assert revealed[0]["messages"][0]["text"] == f"my code {challenge['code']}"

    code, _, err = await _tool(settings, "replay", "no-such-id")
    assert code == 1
    assert "no dead letter with id no-such-id" in err

    ws = await pipeline.ready_socket()
    worker = Worker(settings)
    await worker.start()
    try:
        code, replayed, _ = await _tool(settings, "replay", "--all")
        assert code == 0, "a poison body left behind is no failure of --all"
        assert {"replayed": exhausted["id"], "sms": 1} in replayed
        assert {"left": "poison-1", "reason": "poison_body", "problem": by_reason["poison_body"]["problem"]} in replayed
        frame = await next_frame(ws)
        assert (frame["type"], frame["challenge_id"]) == ("challenge.verified", challenge["id"])
    finally:
        await worker.stop()

    _, left, _ = await _tool(settings, "list")
    assert [entry["id"] for entry in left] == ["poison-1"], "listing and a refused replay keep what they read"
    assert (await _tool(settings, "purge", "--yes"))[1] == [{"purged": 1}]
    assert (await _tool(settings, "list"))[1] == []


async def test_the_dead_letters_tool_says_in_one_line_when_the_broker_is_unreachable(settings: Settings):
    env = {**os.environ, **deployment_env(settings.namespace), "REVOTP_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"}
    code, out, err = await run_revotp(env, "dead-letters", "list")
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == [err.strip()], err
    assert err.startswith("revotp dead-letters: RabbitMQ:"), err
