"""Providers retry every 503 while RabbitMQ restarts, under the default rate limits.

Retries are normal and must be free: every SMS is eventually accepted (never a 429 for a
sender who sent a handful of SMS), each is judged exactly once (the attempt counts say so),
and after the storm each user's genuine SMS still gets through.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chaos.deployment import Deployment, wait_for
from tests.integration.conftest import ACME_KEY
from tests.support.brokers import OwnRabbitMQ, OwnRedis

SENDERS = 100
WRONG_PER_SENDER = 4  # distinct SMS per sender, well within the default 10 per minute
NUMBER = "+15550100000"
RESTART_AFTER_S = 1.0


@pytest.fixture
async def deployment(own_rabbitmq: OwnRabbitMQ, own_redis: OwnRedis, tmp_path: Path) -> AsyncIterator[Deployment]:
    # The default limits: no REVOTP_SENDER_RATE_LIMIT or REVOTP_NUMBER_RATE_LIMIT here.
    deployment = Deployment(
        f"revotp-retries-{uuid.uuid4().hex[:8]}",
        tmp_path,
        REVOTP_AMQP_URL=own_rabbitmq.url,
        REVOTP_REDIS_URL=own_redis.url,
        REVOTP_PUBLISH_TIMEOUT_S="1",
        REVOTP_MAX_DELIVERIES="50",
    )
    await deployment.start_ready("ingest", "notifier", "matcher-1", "matcher-2")
    yield deployment
    await deployment.close()


def _wrong(code: str, salt: int) -> str:
    return "".join(str((int(digit) + 1 + salt) % 10) for digit in code)


@pytest.mark.timeout(600)
async def test_retries_through_a_broker_restart_are_free_and_judged_once(
    deployment: Deployment, own_rabbitmq: OwnRabbitMQ, capsys: pytest.CaptureFixture[str]
):
    challenges = [await deployment.create(f"+3362{n:07d}", ACME_KEY, max_attempts=10) for n in range(SENDERS)]
    tries: list[int] = []

    async def provider(challenge: dict[str, str], start_at: float) -> None:
        """One sender's SMS in order, each retried on 503 every 0.2 s until accepted, then
        delivered once more (a provider that timed out on the answer)."""
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        for salt in range(WRONG_PER_SENDER):
            message = {
                "id": uuid.uuid4().hex,
                "from": challenge["phone"],
                "to": NUMBER,
                "text": _wrong(challenge["code"], salt),
            }
            tries.append(await deployment.deliver(message, within=240))
            await deployment.deliver(message, within=240)

    # The first half streams while the broker stops; the second half starts while it is down, so
    # however fast or slow this machine is, SMS meet the outage and their providers retry.
    half = SENDERS // 2
    started = time.monotonic()
    senders = [
        asyncio.create_task(provider(challenge, started + n * 0.04)) for n, challenge in enumerate(challenges[:half])
    ]
    await asyncio.sleep(RESTART_AFTER_S)
    await own_rabbitmq.stop()
    senders += [asyncio.create_task(provider(challenge, time.monotonic())) for challenge in challenges[half:]]
    await own_rabbitmq.start()
    await asyncio.gather(*senders)
    stream_s = time.monotonic() - started

    async def judged_once() -> bool:
        states = [await deployment.get(challenge["id"], ACME_KEY) for challenge in challenges]
        return all(state["attempts"] == WRONG_PER_SENDER for state in states)

    settled = await wait_for(judged_once, within=120, every=1.0)
    states = [await deployment.get(challenge["id"], ACME_KEY) for challenge in challenges]
    attempts = sorted({state["attempts"] for state in states})

    # After the storm, every user's genuine SMS is still accepted and verifies.
    for challenge in challenges:
        message = {"id": uuid.uuid4().hex, "from": challenge["phone"], "to": NUMBER, "text": challenge["code"]}
        assert await deployment.deliver(message, within=60) == 1

    async def all_verified() -> bool:
        states = [await deployment.get(challenge["id"], ACME_KEY) for challenge in challenges]
        return all(state["status"] == "verified" for state in states)

    verified = await wait_for(all_verified, within=60, every=1.0)
    async with deployment.session.get(deployment.url("ingest") + "/metrics") as response:
        metrics = await response.text()
    dropped = [line for line in metrics.splitlines() if line.startswith("revotp_ingest_sms_dropped_total{")]

    with capsys.disabled():
        print(
            f"\n\nretries through a RabbitMQ restart — {SENDERS} senders x {WRONG_PER_SENDER} SMS in {stream_s:.1f} s, "
            f"default limits\n  SMS retried on 503: {sum(t > 1 for t in tries)} of {len(tries)}, "
            f"{sum(tries) - len(tries)} retries in all; every SMS also delivered twice after acceptance\n"
            f"  attempts per challenge: {attempts} (expected [{WRONG_PER_SENDER}]); "
            f"genuine SMS afterwards: {'all verified' if verified else 'NOT all verified'}; dropped: {dropped or 0}"
        )
    assert sum(t > 1 for t in tries) > 0, "the restart caused no retry: this run proved nothing"
    assert settled, f"attempts per challenge: {attempts}"
    assert verified
    assert not dropped
