"""SIGTERM: each process stops taking work, finishes or returns what it holds, says goodbye, exits 0."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from common.names import Names
from tests.chaos.deployment import Deployment, next_json
from tests.integration.conftest import AMQP_URL, REDIS_URL, redis_client

STOP_BOUND_S = 15.0


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    deployment = Deployment(
        f"revotp-stop-{uuid.uuid4().hex[:8]}",
        tmp_path,
        REVOTP_AMQP_URL=AMQP_URL,
        REVOTP_REDIS_URL=REDIS_URL,
        REVOTP_SENDER_RATE_LIMIT="1000/60",
        REVOTP_PREFETCH="4",
    )
    yield deployment
    await deployment.close()


def sigterm(deployment: Deployment, name: str) -> float:
    """Send SIGTERM, wait for the exit, return how long it took (and require exit code 0)."""
    process = deployment.processes[name].process
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(STOP_BOUND_S) == 0, deployment.processes[name].log()
    return time.monotonic() - started


async def test_notifier_closes_sockets_with_1001_and_exits_0(deployment: Deployment):
    await deployment.start_ready("ingest", "notifier")
    sockets = [await deployment.tenant_socket() for _ in range(3)]
    for ws in sockets:
        assert (await next_json(ws))["type"] == "ready"
    # The clients are listening while the server stops, as real clients are.
    closings = [asyncio.create_task(ws.receive()) for ws in sockets]
    elapsed = await asyncio.get_running_loop().run_in_executor(None, sigterm, deployment, "notifier")
    for ws, closing in zip(sockets, closings, strict=True):
        message = await asyncio.wait_for(closing, 5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1001
    assert elapsed < STOP_BOUND_S


async def test_ingest_stops_listening_and_exits_0(deployment: Deployment):
    await deployment.start_ready("ingest")
    url = deployment.url("ingest")
    await asyncio.get_running_loop().run_in_executor(None, sigterm, deployment, "ingest")
    with pytest.raises(aiohttp.ClientConnectionError):
        await deployment.session.get(url + "/healthz")


async def test_a_stopping_matcher_loses_and_doubles_nothing(deployment: Deployment):
    await deployment.start_ready("ingest", "notifier", "matcher-1")
    ws = await deployment.tenant_socket()
    assert (await next_json(ws))["type"] == "ready"
    phones = [f"+3361234{n:04d}" for n in range(150)]
    challenges = await asyncio.gather(*(deployment.create(phone) for phone in phones))
    sends = asyncio.gather(
        *(
            deployment.deliver({"id": uuid.uuid4().hex, "from": phone, "to": "+15550100000", "text": challenge["code"]})
            for phone, challenge in zip(phones, challenges, strict=True)
        )
    )
    first = await next_json(ws)  # mid-stream: the matcher has judged at least one SMS
    await asyncio.get_running_loop().run_in_executor(None, sigterm, deployment, "matcher-1")
    await sends
    await deployment.start_ready("matcher-2")  # whatever the first one returned, the second takes
    verified = [first, *[await next_json(ws) for _ in range(len(challenges) - 1)]]
    assert sorted(event["challenge_id"] for event in verified) == sorted(c["id"] for c in challenges)
    assert {event["type"] for event in verified} == {"challenge.verified"}
    redis = redis_client()
    try:
        assert await redis.xlen(Names(deployment.namespace).events("acme")) == len(challenges)
    finally:
        await redis.aclose()
