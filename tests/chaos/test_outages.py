"""RabbitMQ or Redis goes away and comes back: nothing accepted is lost, nothing needs a restart,
and /readyz tells the truth meanwhile."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chaos.deployment import Deployment, next_json, wait_for
from tests.integration.conftest import AMQP_URL, OTHER_PHONE, PHONE, REDIS_URL
from tests.support.brokers import OwnRabbitMQ, OwnRedis

SERVICES = ("ingest", "matcher-1", "notifier")


async def _deployment(tmp_path: Path, amqp_url: str, redis_url: str) -> AsyncIterator[Deployment]:
    deployment = Deployment(
        f"revotp-chaos-{uuid.uuid4().hex[:8]}",
        tmp_path,
        REVOTP_AMQP_URL=amqp_url,
        REVOTP_REDIS_URL=redis_url,
        REVOTP_PUBLISH_TIMEOUT_S="2",
    )
    await deployment.start_ready(*SERVICES)
    yield deployment
    assert await deployment.close() == [0, 0, 0], "a process did not stop cleanly"


@pytest.fixture
async def on_own_rabbitmq(own_rabbitmq: OwnRabbitMQ, tmp_path: Path) -> AsyncIterator[Deployment]:
    async for deployment in _deployment(tmp_path, own_rabbitmq.url, REDIS_URL):
        yield deployment


@pytest.fixture
async def on_own_redis(own_redis: OwnRedis, tmp_path: Path) -> AsyncIterator[Deployment]:
    async for deployment in _deployment(tmp_path, AMQP_URL, own_redis.url):
        yield deployment


def message(text: str, sender: str = PHONE) -> dict[str, str]:
    return {"id": uuid.uuid4().hex, "from": sender, "to": "+15550100000", "text": text}


async def test_ingest_answers_503_while_the_broker_is_down_and_everything_recovers(
    on_own_rabbitmq: Deployment, own_rabbitmq: OwnRabbitMQ
):
    deployment = on_own_rabbitmq
    ws = await deployment.ready_socket()
    before = await deployment.create(PHONE)
    await deployment.deliver(message(before["code"]))
    assert (await next_json(ws))["challenge_id"] == before["id"]

    await own_rabbitmq.stop()
    refused = await deployment.post_sms(message("000000"))
    assert refused.status == 503
    assert int(refused.headers["Retry-After"]) >= 1

    assert await wait_for(lambda: deployment.readiness_is(503, "ingest", "matcher-1"), within=20)
    _, body = await deployment.ready("ingest")
    assert body["checks"] == {"redis": "ok", "rabbitmq": "down: ConnectionError"}
    # Challenges live in Redis: the tenant API keeps working through a broker outage.
    during = await deployment.create(OTHER_PHONE)

    await own_rabbitmq.start()

    assert await wait_for(lambda: deployment.readiness_is(200, "ingest", "matcher-1"), within=60), (
        "ingest and matcher did not reconnect on their own"
    )
    await deployment.deliver(message(during["code"], sender=OTHER_PHONE))
    event = await next_json(ws)
    assert (event["challenge_id"], event["type"]) == (during["id"], "challenge.verified")


async def test_sms_accepted_while_redis_is_down_are_judged_when_it_returns(
    on_own_redis: Deployment, own_redis: OwnRedis
):
    deployment = on_own_redis
    ws = await deployment.ready_socket()
    challenge = await deployment.create(PHONE)

    await own_redis.stop()

    assert await wait_for(lambda: deployment.readiness_is(503, *SERVICES), within=20)
    refused = await deployment.session.post(
        deployment.url("ingest") + "/v1/challenges", json={"phone": PHONE}, headers={"Authorization": "Bearer key-acme"}
    )
    assert refused.status == 503
    assert (await refused.json())["error"]["code"] == "service_unavailable"
    # Webhooks do not need Redis: the SMS is confirmed by the broker and waits in the queue.
    accepted = await deployment.post_sms(message(f"code {challenge['code']}"))
    assert accepted.status == 202

    await own_redis.start()  # the same append-only file: nothing written before the stop is lost
    event = await next_json(ws, within=60)
    assert (event["challenge_id"], event["type"]) == (challenge["id"], "challenge.verified")

    assert await wait_for(lambda: deployment.readiness_is(200, *SERVICES), within=30)
