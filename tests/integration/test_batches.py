"""Several SMS per message (ingest's group commit), with deliveries still counted per SMS."""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
from redis.asyncio import Redis

from common import messages
from common.clock import now_ms
from common.messages import InboundSms
from common.names import SMS_ROUTING_KEY, Names
from common.settings import Settings
from matcher.worker import Worker
from tests.integration.conftest import VIRTUAL_NUMBER, Pipeline, next_frame
from tests.support.metrics import sample
from tests.support.queues import take_bodies

COUNT = 30


async def test_concurrent_webhooks_share_messages_and_queue_each_sms_once(
    pipeline_without_matcher: Pipeline, amqp: aio_pika.abc.AbstractRobustConnection, namespace: str
):
    ids = [f"m-{n}" for n in range(COUNT)]
    await asyncio.gather(
        *(pipeline_without_matcher.sms("123456", sender=f"+336123456{n:02d}", message_id=ids[n]) for n in range(COUNT))
    )
    bodies = await take_bodies(amqp, Names(namespace).inbound_queue, within=1.0)
    queued = [sms.provider_message_id for body in bodies for sms in messages.decode_many(body)]
    assert sorted(queued) == sorted(ids)  # every accepted SMS, once
    assert len(bodies) < COUNT  # in fewer messages than SMS: they shared confirms


def _sms(phone: str, code: str) -> InboundSms:
    return InboundSms(
        message_id=uuid.uuid4().hex,
        provider="generic",
        provider_message_id=uuid.uuid4().hex,
        sender=phone,
        recipient=VIRTUAL_NUMBER,
        sender_e164=phone,
        recipient_e164=VIRTUAL_NUMBER,
        text=code,
        accepted_at_ms=now_ms(),
    )


async def test_a_redelivered_batch_is_split_and_each_sms_judged_once(
    pipeline_without_matcher: Pipeline,
    amqp: aio_pika.abc.AbstractRobustConnection,
    settings: Settings,
    namespace: str,
    redis: Redis,
):
    pipeline, names = pipeline_without_matcher, Names(namespace)
    phones = [f"+336987654{n:02d}" for n in range(5)]
    challenges = [await pipeline.create(phone=phone) for phone in phones]
    batch = [_sms(phone, challenge["code"]) for phone, challenge in zip(phones, challenges, strict=True)]
    channel = await amqp.channel()
    exchange = await channel.get_exchange(names.inbound_exchange)
    await exchange.publish(aio_pika.Message(messages.encode_many(batch)), routing_key=SMS_ROUTING_KEY)
    # A matcher took it and died before its ack: the batch goes back to the queue, delivered once.
    queue = await channel.get_queue(names.inbound_queue)
    taken = await queue.get(no_ack=False, timeout=5)
    assert taken is not None
    await taken.nack(requeue=True)
    await channel.close()
    split_before, applied_before = (sample("revotp_matcher_sms_total", outcome=o) for o in ("split", "applied"))

    ws = await pipeline.ready_socket()
    worker = Worker(settings)
    await worker.start()
    try:
        events = [await next_frame(ws) for _ in batch]
    finally:
        await worker.stop()
    assert sorted(event["challenge_id"] for event in events) == sorted(c["id"] for c in challenges)
    assert {event["type"] for event in events} == {"challenge.verified"}
    assert await redis.xlen(names.events("acme")) == len(batch)  # each judged once
    # Split into one message per SMS, each judged as a message of its own.
    assert sample("revotp_matcher_sms_total", outcome="split") - split_before == len(batch)
    assert sample("revotp_matcher_sms_total", outcome="applied") - applied_before == len(batch)
