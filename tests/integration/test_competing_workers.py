"""Two matcher processes on one queue: every SMS judged once, no verdict twice."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from common.names import Names
from tests.integration.conftest import Pipeline, deployment_env, next_frame
from tests.support.processes import ServiceProcess

CHALLENGES = 40


async def test_two_workers_verify_n_challenges_exactly_once(
    pipeline_without_matcher: Pipeline, namespace: str, redis: Redis, tmp_path: Any
):
    pipeline = pipeline_without_matcher
    env = deployment_env(namespace, REVOTP_PREFETCH="1")
    workers = [
        ServiceProcess("matcher", env, "REVOTP_MATCHER_PORT", str(tmp_path / f"matcher-{i}.log")) for i in range(2)
    ]
    try:
        await asyncio.gather(*(worker.wait_ready() for worker in workers))
        ws = await pipeline.ready_socket()
        phones = [f"+336123456{i:02d}" for i in range(CHALLENGES)]
        challenges = await asyncio.gather(*(pipeline.create(phone=phone) for phone in phones))
        # One at a time, so that each SMS is a message of its own and both workers compete for them
        # (concurrent webhooks would share messages: test_batches.py).
        for challenge, phone in zip(challenges, phones, strict=True):
            await pipeline.sms(challenge["code"], sender=phone)
        events = [await next_frame(ws) for _ in range(CHALLENGES)]
        assert {event["type"] for event in events} == {"challenge.verified"}
        assert sorted(event["challenge_id"] for event in events) == sorted(c["id"] for c in challenges)
        # Nothing beyond them in the log: no verdict was produced twice.
        assert await redis.xlen(Names(namespace).events("acme")) == CHALLENGES
        handled = [await worker.metric("revotp_matcher_sms_total", 'outcome="applied"') for worker in workers]
        assert sum(handled) == CHALLENGES
        assert all(count > 0 for count in handled), f"one worker took everything: {handled}"
    finally:
        codes = [worker.terminate() for worker in workers]
    assert codes == [0, 0], [worker.log() for worker in workers]
