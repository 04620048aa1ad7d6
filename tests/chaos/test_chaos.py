"""Thousands of SMS through real processes while matchers are killed and both brokers restart.

The ledger (``tests/chaos/ledger.py``) must balance afterwards.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.chaos.deployment import Deployment
from tests.chaos.ledger import LEDGER_SETTINGS, Ledger, run_ledger
from tests.support.brokers import OwnRabbitMQ, OwnRedis

MATCHERS = 3
KILL_EVERY_S = 2.5


async def chaos_monkey(
    deployment: Deployment, rabbitmq: OwnRabbitMQ, redis: OwnRedis, ledger: Ledger, stop: asyncio.Event
) -> None:
    """kill -9 a matcher every few seconds; restart RabbitMQ once and Redis once along the way."""
    started = time.monotonic()
    rng = random.Random(7)
    broker_restarted = redis_restarted = False
    while not stop.is_set() or not (broker_restarted and redis_restarted):
        await asyncio.sleep(KILL_EVERY_S)
        victim = f"matcher-{rng.randrange(1, MATCHERS + 1)}"
        deployment.processes[victim].process.send_signal(signal.SIGKILL)
        deployment.processes[victim].process.wait()
        deployment.start(victim)
        ledger.chaos.append(f"{time.monotonic() - started:5.1f}s kill -9 {victim}, restarted")
        if not broker_restarted and time.monotonic() - started > 5:
            await rabbitmq.restart()
            broker_restarted = True
            ledger.chaos.append(f"{time.monotonic() - started:5.1f}s RabbitMQ restarted")
        elif broker_restarted and not redis_restarted and time.monotonic() - started > 12:
            await redis.restart()
            redis_restarted = True
            ledger.chaos.append(f"{time.monotonic() - started:5.1f}s Redis restarted (append-only file kept)")


@pytest.fixture
async def deployment(own_rabbitmq: OwnRabbitMQ, own_redis: OwnRedis, tmp_path: Path) -> AsyncIterator[Deployment]:
    deployment = Deployment(
        f"revotp-chaos-{uuid.uuid4().hex[:8]}",
        tmp_path,
        REVOTP_AMQP_URL=own_rabbitmq.url,
        REVOTP_REDIS_URL=own_redis.url,
        **LEDGER_SETTINGS,
    )
    await deployment.start_ready("ingest", "notifier", *(f"matcher-{n}" for n in range(1, MATCHERS + 1)))
    yield deployment
    await deployment.close()


@pytest.mark.timeout(900)
async def test_the_ledger_balances_after_chaos(
    deployment: Deployment, own_rabbitmq: OwnRabbitMQ, own_redis: OwnRedis, capsys: pytest.CaptureFixture[str]
):
    async def breakage(ledger: Ledger, stop: asyncio.Event) -> None:
        await chaos_monkey(deployment, own_rabbitmq, own_redis, ledger, stop)

    async with Redis.from_url(own_redis.url) as redis:
        await run_ledger(
            deployment,
            breakage,
            redis=redis,
            matchers=[f"matcher-{n}" for n in range(1, MATCHERS + 1)],
            title="chaos ledger",
            capsys=capsys,
        )
