"""The matcher's burst mode: take what is queued, judge it through the usual handler, return."""

from __future__ import annotations

import json
import os

import aio_pika

from common.settings import Settings
from matcher.worker import Worker
from tests.integration.conftest import OTHER_PHONE, Pipeline, deployment_env, queued_messages
from tests.support.processes import run_revotp


async def test_a_burst_judges_every_queued_sms_and_returns_when_the_queue_is_empty(
    pipeline_without_matcher: Pipeline,
    settings: Settings,
    amqp: aio_pika.abc.AbstractRobustConnection,
    namespace: str,
):
    pipeline = pipeline_without_matcher
    verified = [await pipeline.create(), await pipeline.create(phone=OTHER_PHONE)]
    await pipeline.sms(verified[0]["code"])
    await pipeline.sms(verified[1]["code"], sender=OTHER_PHONE)
    await pipeline.sms("no code at all")
    worker = Worker(settings, sweep=False)
    try:
        assert await worker.run_burst() == 3
        assert await worker.run_burst() == 0
    finally:
        await worker.stop()
    for challenge in verified:
        assert (await pipeline.get(challenge["id"]))["status"] == "verified"
    assert await queued_messages(amqp, namespace) == 0


async def test_revotp_matcher_burst_drains_the_queue_and_says_how_much(
    pipeline_without_matcher: Pipeline, namespace: str
):
    pipeline = pipeline_without_matcher
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    env = {**os.environ, **deployment_env(namespace)}
    code, stdout, stderr = await run_revotp(env, "matcher", "--burst")
    assert code == 0, stderr
    assert json.loads(stdout) == {"handled": 1}
    assert (await pipeline.get(challenge["id"]))["status"] == "verified"
