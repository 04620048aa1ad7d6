"""Integration fixtures: the real apps against the real RabbitMQ and Redis.

Every test gets its own ``REVOTP_NAMESPACE``, so its queues, exchanges and keys touch nothing
else, and everything it declared is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast
from urllib.parse import urlencode

import aio_pika
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis, RedisCluster

from common import messages
from common.names import Names
from common.settings import Settings, from_env
from common.signing import sign
from ingest.app import create_app as create_ingest
from ingest.providers.twilio import compute_signature
from matcher.worker import Worker
from notifier.app import create_app as create_notifier
from tests.integration.provider_requests import PUBLIC_URL, SECRETS, ProviderRequest
from tests.support.queues import delete_declared
from tests.support.watchdog import asyncio_watchdog  # noqa: F401 - an autouse fixture

# An aiohttp test client of one of our apps.
AppClient = TestClient[web.Request, web.Application]

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# REDIS_URL names a seed node of a Redis Cluster: the suite runs against it (make test-cluster).
REDIS_CLUSTER = os.environ.get("REVOTP_TEST_REDIS_CLUSTER") == "1"
GENERIC_SECRET = SECRETS["REVOTP_GENERIC_SECRET"]
TWILIO_TOKEN = SECRETS["REVOTP_TWILIO_SECRET"]
ACME_KEY = "key-acme"
GLOBEX_KEY = "key-globex"
# Acme's callback secret comes from its bootstrap entry; Globex's is made by revotp, unseen.
ACME_CALLBACK_SECRET = "whsec_acme-callbacks-in-tests"
PHONE = "+33612345678"
OTHER_PHONE = "+33698765432"
VIRTUAL_NUMBER = "+15550100000"
EVENT_TIMEOUT_S = 10.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.services)


SECRET_KEY = "integration-test-secret-key-0123456789"


def deployment_env(namespace: str, **extra: str) -> dict[str, str]:
    """The environment of a test deployment (also handed to subprocess workers)."""
    return {
        "REVOTP_NAMESPACE": namespace,
        "REVOTP_AMQP_URL": AMQP_URL,
        "REVOTP_REDIS_URL": REDIS_URL,
        "REVOTP_REDIS_CLUSTER": "1" if REDIS_CLUSTER else "0",
        "REVOTP_SECRET_KEY": SECRET_KEY,
        "REVOTP_BOOTSTRAP_TENANTS": f"acme:{ACME_KEY}:{ACME_CALLBACK_SECRET},globex:{GLOBEX_KEY}",
        **SECRETS,
        "REVOTP_PUBLIC_URL": PUBLIC_URL,
        "REVOTP_VIRTUAL_NUMBERS": VIRTUAL_NUMBER,
        "REVOTP_EXPIRY_GRACE_MS": "500",
        "REVOTP_SWEEP_INTERVAL_S": "0.2",
        "REVOTP_FEED_BLOCK_MS": "50",  # a closing notifier waits for one block
        **extra,
    }


@pytest.fixture
def namespace() -> str:
    return f"revotp-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(namespace: str) -> Settings:
    return from_env(deployment_env(namespace))


def redis_client(url: str = REDIS_URL, **options: Any) -> Redis:
    """A client of the tests' Redis, a cluster client when it is a Redis Cluster (typed as the
    plain client: the tests call what both have)."""
    return cast(Redis, RedisCluster.from_url(url, **options)) if REDIS_CLUSTER else Redis.from_url(url, **options)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = redis_client()
    yield client
    await client.aclose()


@pytest.fixture
async def amqp() -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    yield connection
    await connection.close()


@pytest.fixture
async def cleanup(
    namespace: str, redis: Redis, amqp: aio_pika.abc.AbstractRobustConnection, settings: Settings
) -> AsyncIterator[None]:
    """Runs after every app of the test has stopped: delete what the namespace declared."""
    yield
    async for key in redis.scan_iter(match=f"{namespace}:*", count=10_000):
        await redis.delete(key)
    channel = await amqp.channel()
    await delete_declared(channel, settings)
    await channel.close()


@pytest.fixture
async def ingest(aiohttp_client: Any, settings: Settings, cleanup: None) -> AppClient:
    client: AppClient = await aiohttp_client(create_ingest(settings))
    return client


@pytest.fixture
async def notifier(aiohttp_client: Any, settings: Settings, cleanup: None) -> AppClient:
    client: AppClient = await aiohttp_client(create_notifier(settings))
    return client


@pytest.fixture
async def matcher(settings: Settings, cleanup: None) -> AsyncIterator[Worker]:
    worker = Worker(settings)
    await worker.start()
    yield worker
    await worker.stop()


class Pipeline:
    """Drives a running deployment the way a tenant and a provider would."""

    def __init__(self, ingest: AppClient, notifier: AppClient) -> None:
        self.ingest = ingest
        self.notifier = notifier

    async def create(self, api_key: str = ACME_KEY, **fields: Any) -> dict[str, Any]:
        body = {"phone": PHONE, **fields}
        response = await self.ingest.post("/v1/challenges", json=body, headers=bearer(api_key))
        assert response.status == 201, await response.text()
        return dict(await response.json())

    async def get(self, challenge_id: str, api_key: str = ACME_KEY) -> dict[str, Any]:
        response = await self.ingest.get(f"/v1/challenges/{challenge_id}", headers=bearer(api_key))
        assert response.status == 200, await response.text()
        return dict(await response.json())

    async def sms(
        self, text: str, *, sender: str = PHONE, message_id: str | None = None, to: str = VIRTUAL_NUMBER
    ) -> None:
        """Post one generic webhook and require its 202."""
        message = {"id": message_id or uuid.uuid4().hex, "from": sender, "to": to, "text": text}
        response = await post_generic(self.ingest, message)
        assert response.status == 202, await response.text()

    async def tenant_socket(self, api_key: str = ACME_KEY, after: str | None = None) -> Any:
        query = f"?after={after}" if after else ""
        return await self.notifier.ws_connect(f"/v1/events{query}", headers=bearer(api_key))

    async def ready_socket(self, api_key: str = ACME_KEY, after: str | None = None) -> Any:
        """A tenant socket past its replay: the ``ready`` frame was read."""
        ws = await self.tenant_socket(api_key, after)
        frame = await next_frame(ws)
        assert frame["type"] == "ready", frame
        return ws

    async def wait_status(self, challenge_id: str, status: str, api_key: str = ACME_KEY) -> dict[str, Any]:
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while True:
            challenge = await self.get(challenge_id, api_key)
            if challenge["status"] == status or time.monotonic() > deadline:
                return challenge
            await asyncio.sleep(0.05)


@pytest.fixture
async def pipeline(ingest: AppClient, notifier: AppClient, matcher: Worker) -> Pipeline:
    return Pipeline(ingest, notifier)


@pytest.fixture
async def deploy(
    aiohttp_client: Any, namespace: str, cleanup: None
) -> AsyncIterator[Callable[..., Awaitable[Pipeline]]]:
    """Start a deployment with extra ``REVOTP_*`` settings and ``matchers`` in-process workers."""
    workers: list[Worker] = []

    async def start(*, matchers: int = 1, **env: str) -> Pipeline:
        settings = from_env(deployment_env(namespace, **env))
        pipeline = Pipeline(
            await aiohttp_client(create_ingest(settings)), await aiohttp_client(create_notifier(settings))
        )
        for _ in range(matchers):
            worker = Worker(settings)
            await worker.start()
            workers.append(worker)
        return pipeline

    yield start
    for worker in workers:
        await worker.stop()


@pytest.fixture
async def pipeline_without_matcher(ingest: AppClient, notifier: AppClient) -> Pipeline:
    """For tests that run their matchers as separate processes."""
    return Pipeline(ingest, notifier)


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


async def next_frame(ws: Any, within: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.receive_str(), within)))


async def post_generic(
    client: AppClient,
    payload: Any,
    *,
    secret: str = GENERIC_SECRET,
    timestamp: int | None = None,
    raw: bytes | None = None,
) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "X-Revotp-Timestamp": str(stamp),
        "X-Revotp-Signature": sign(secret, stamp, body),
    }
    return await client.post("/v1/inbound/generic", data=body, headers=headers)


async def post_twilio(
    client: AppClient, params: dict[str, str], *, token: str = TWILIO_TOKEN, path: str = "/v1/inbound/twilio"
) -> Any:
    """Post form parameters signed exactly as Twilio signs them, over the public URL."""
    signature = compute_signature(token, PUBLIC_URL + path, params.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return await client.post(path, data=urlencode(params), headers=headers)


async def send(client: AppClient, request: ProviderRequest) -> Any:
    """Send a provider's request as it would arrive."""
    return await client.request(request.method, request.path, headers=request.headers, data=request.body or None)


async def queued_messages(amqp: aio_pika.abc.AbstractRobustConnection, namespace: str) -> int:
    """How many SMS wait in the namespace's inbound queue (a message may carry several).

    Each message is taken, counted and put back; the queue's own count would say messages.
    """
    channel = await amqp.channel()
    try:
        queue = await channel.declare_queue(Names(namespace).inbound_queue, passive=True)
        held = []
        while (message := await queue.get(no_ack=False, fail=False)) is not None:
            held.append(message)
        for message in held:
            await message.nack(requeue=True)
        return sum(len(messages.decode_many(message.body)) for message in held)
    finally:
        await channel.close()


@pytest.fixture
async def bench(settings: Settings, cleanup: None) -> AsyncIterator[Any]:
    """A judge and a store on this test's namespace (tests/integration/judge_bench.py)."""
    from common.resources import RedisResources
    from tests.integration.judge_bench import Bench  # it reads this module's phones

    resources = await RedisResources.open(settings)
    yield Bench(resources, settings)
    await resources.close()
