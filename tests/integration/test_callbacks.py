"""Signed callbacks: every event posted once to a real local receiver, retried through RabbitMQ
until it is answered 2xx (also across a kill -9 of the callbacks process), given up after the
last attempt, and never posted where a tenant may not make revotp's servers reach."""

from __future__ import annotations

import asyncio
import json
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aio_pika
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from callbacks.app import CallbacksService
from callbacks.deliverer import Deliverer
from callbacks.jobs import Delivery
from common.resources import RedisResources
from common.settings import Settings, from_env
from common.signing import sign
from tests.chaos.deployment import Deployment, wait_for
from tests.integration.conftest import (
    ACME_CALLBACK_SECRET,
    ACME_KEY,
    PHONE,
    Pipeline,
    bearer,
    deployment_env,
    next_frame,
)
from tests.support.queues import delete_declared

FAST_RETRIES = {
    "REVOTP_CALLBACK_ALLOW_PRIVATE": "1",
    "REVOTP_CALLBACK_FIRST_RETRY_S": "0.3",
    "REVOTP_CALLBACK_MAX_ATTEMPTS": "3",
}


@dataclass
class Receiver:
    """A tenant's callback endpoint: answers from a script of statuses (then 200), records all."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        status = self.statuses.pop(0) if self.statuses else 200
        self.received.append((dict(request.headers), await request.read(), status))
        self.arrived.set()
        return web.Response(status=status)

    def delivered(self) -> list[dict[str, Any]]:
        """The bodies answered 2xx, in arrival order."""
        return [json.loads(body) for _, body, status in self.received if status < 300]

    async def wait(self, condition: Callable[[], bool], within: float = 15.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    target = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/revotp", target.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        target.url = str(server.make_url("/hooks/revotp"))
        yield target


@pytest.fixture
async def with_callbacks(
    deploy: Callable[..., Awaitable[Pipeline]], namespace: str, receiver: Receiver
) -> AsyncIterator[Callable[..., Awaitable[tuple[Pipeline, Settings]]]]:
    # Asking for the receiver stops the callbacks services before it: a receiver closed first
    # waits out a post still under way (aiohttp's shutdown timeout) and stalls the test.
    services: list[CallbacksService] = []

    async def start(**env: str) -> tuple[Pipeline, Settings]:
        env = {**FAST_RETRIES, **env}
        pipeline = await deploy(**env)
        settings = from_env(deployment_env(namespace, **env))
        service = CallbacksService(settings)
        await service.start()
        services.append(service)
        return pipeline, settings

    yield start
    for service in services:
        await service.stop()
        # The retry queues are named by these settings' delays, not the default ones.
        assert service.connection is not None
        async with await aio_pika.connect(service.settings.amqp_url) as connection:
            await delete_declared(await connection.channel(), service.settings)


async def set_callback(pipeline: Pipeline, url: str | None) -> Any:
    """PATCH the tenant's callback URL; when that worked, the callback setting."""
    patched = await pipeline.ingest.patch("/v1/tenant", json={"callback_url": url}, headers=bearer(ACME_KEY))
    if patched.status != 200:
        return patched
    assert (await patched.json())["callback_url"] == url
    return await pipeline.ingest.get("/v1/tenant/callback", headers=bearer(ACME_KEY))


def signature_is_valid(headers: dict[str, str], body: bytes, secret: str) -> bool:
    stamp = int(headers["X-Revotp-Timestamp"])
    return abs(time.time() - stamp) < 60 and headers["X-Revotp-Signature"] == sign(secret, stamp, body)


def documented_verifier() -> Callable[[str, dict[str, str], bytes], bool]:
    """The verification snippet docs/api.md gives tenants, as they would paste it."""
    api = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    snippet = api.split("Verifying in Python:", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope: dict[str, Any] = {}
    exec(snippet, scope)  # noqa: S102 - our own documentation, under test
    return cast(Callable[[str, dict[str, str], bytes], bool], scope["is_from_revotp"])


async def test_every_event_arrives_once_and_signed(with_callbacks: Any, receiver: Receiver):
    pipeline, _ = await with_callbacks()
    answer = await set_callback(pipeline, receiver.url)
    assert answer.status == 200, await answer.text()
    setting = await answer.json()
    assert setting == {"url": receiver.url, "last_error": None, "last_error_at": None, "given_up": 0}
    tenant_ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=3)
    await pipeline.sms("000000" if challenge["code"] != "000000" else "111111")
    await pipeline.sms(challenge["code"])
    frames = [await next_frame(tenant_ws), await next_frame(tenant_ws)]

    await receiver.wait(lambda: len(receiver.delivered()) >= 2)
    await asyncio.sleep(1.0)  # nothing more may come: each event once
    assert receiver.delivered() == frames
    is_from_revotp = documented_verifier()
    for headers, body, _ in receiver.received:
        # Signed with the secret of Acme's REVOTP_BOOTSTRAP_TENANTS entry (id:api_key:callback_secret).
        assert signature_is_valid(headers, body, ACME_CALLBACK_SECRET)
        assert is_from_revotp(ACME_CALLBACK_SECRET, headers, body)
        assert not is_from_revotp(ACME_CALLBACK_SECRET, headers, body + b" ")
        assert headers["Content-Type"] == "application/json"
    assert [headers["X-Revotp-Event-Id"] for headers, _, _ in receiver.received] == [f["cursor"] for f in frames]


async def test_a_failed_post_is_retried_until_answered_and_the_error_is_shown(with_callbacks: Any, receiver: Receiver):
    pipeline, _ = await with_callbacks()
    await set_callback(pipeline, receiver.url)
    receiver.statuses = [500]
    challenge = await pipeline.create()
    assert (await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))).status == 200

    await receiver.wait(lambda: len(receiver.delivered()) == 1)
    assert [(status, headers["X-Revotp-Attempt"]) for headers, _, status in receiver.received] == [
        (500, "1"),
        (200, "2"),
    ]
    assert len({headers["X-Revotp-Event-Id"] for headers, _, _ in receiver.received}) == 1
    assert all(signature_is_valid(headers, body, ACME_CALLBACK_SECRET) for headers, body, _ in receiver.received)
    status = await (await pipeline.ingest.get("/v1/tenant/callback", headers=bearer(ACME_KEY))).json()
    assert (status["last_error"], status["given_up"]) == ("HTTP 500", 0)


async def test_an_event_written_before_the_relay_first_looks_is_still_posted(
    deploy: Callable[..., Awaitable[Pipeline]], namespace: str, receiver: Receiver
):
    pipeline = await deploy(**FAST_RETRIES)
    await set_callback(pipeline, receiver.url)
    challenge = await pipeline.create()
    await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))
    # Only now does a callbacks process start (a slow start, a restart, a deploy).
    service = CallbacksService(from_env(deployment_env(namespace, **FAST_RETRIES)))
    await service.start()
    try:
        await receiver.wait(lambda: len(receiver.delivered()) == 1)
        assert receiver.delivered()[0]["challenge_id"] == challenge["id"]
    finally:
        await service.stop()
        async with await aio_pika.connect(service.settings.amqp_url) as connection:
            await delete_declared(await connection.channel(), service.settings)


async def test_a_rotated_secret_signs_the_next_post_and_is_shown_once(with_callbacks: Any, receiver: Receiver):
    pipeline, _ = await with_callbacks()
    await set_callback(pipeline, receiver.url)
    rotated = await pipeline.ingest.post("/v1/tenant/callback-secret", headers=bearer(ACME_KEY))
    assert rotated.status == 200
    secret = (await rotated.json())["callback_secret"]
    assert secret.startswith("whsec_")
    assert secret != ACME_CALLBACK_SECRET
    for route in ("/v1/tenant", "/v1/tenant/callback"):
        assert secret not in await (await pipeline.ingest.get(route, headers=bearer(ACME_KEY))).text()
    challenge = await pipeline.create()
    await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))
    await receiver.wait(lambda: len(receiver.delivered()) == 1)
    ((headers, body, _),) = receiver.received
    assert signature_is_valid(headers, body, secret)
    assert not signature_is_valid(headers, body, ACME_CALLBACK_SECRET)


async def test_a_post_is_given_up_after_the_last_attempt(with_callbacks: Any, receiver: Receiver):
    pipeline, _ = await with_callbacks()
    await set_callback(pipeline, receiver.url)
    receiver.statuses = [503] * 10
    challenge = await pipeline.create()
    await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))

    async def given_up() -> bool:
        view = await (await pipeline.ingest.get("/v1/tenant/callback", headers=bearer(ACME_KEY))).json()
        return bool(view["given_up"] == 1)

    assert await wait_for(given_up, within=15)
    await asyncio.sleep(1.0)
    assert [status for _, _, status in receiver.received] == [503, 503, 503]  # REVOTP_CALLBACK_MAX_ATTEMPTS


async def test_a_challenge_may_name_its_own_callback(with_callbacks: Any, receiver: Receiver):
    pipeline, _ = await with_callbacks()
    await set_callback(pipeline, None)  # no URL for the tenant's other challenges
    own = await pipeline.create(callback_url=receiver.url)
    others = await pipeline.create(phone="+33698765432")
    for challenge in (others, own):
        await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))
    await receiver.wait(lambda: len(receiver.delivered()) == 1)
    await asyncio.sleep(0.5)
    assert [(event["type"], event["challenge_id"]) for event in receiver.delivered()] == [
        ("challenge.canceled", own["id"])
    ]


async def test_targets_inside_the_network_are_refused(deploy: Any, settings: Settings, receiver: Receiver):
    pipeline = await deploy()  # the production default: no private addresses
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost:9/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://10.0.0.7/",
        "ftp://example.org/",
        "http://user:pw@8.8.8.8/",
    ):
        answer = await set_callback(pipeline, url)
        assert answer.status == 422, url
        assert (await answer.json())["error"]["code"] == "invalid_callback_url"
    assert (await set_callback(pipeline, None)).status == 200
    refused = await pipeline.ingest.post(
        "/v1/challenges", json={"phone": PHONE, "callback_url": "http://192.168.1.1/"}, headers=bearer(ACME_KEY)
    )
    assert (refused.status, (await refused.json())["error"]["code"]) == (422, "invalid_callback_url")

    # A delivery that names such a target anyway (set while allowed, say) is given up unsent.
    resources = await RedisResources.open(settings)
    deliverer = Deliverer(resources.redis, resources.names, resources.tenants, None, settings)  # type: ignore[arg-type]
    try:
        secret = (await resources.tenants.get("acme")).callback_secret  # type: ignore[union-attr]
        for url in (receiver.url, receiver.url.replace("127.0.0.1", "localhost")):
            attempt = await deliverer._post(
                Delivery(tenant_id="acme", event_id="1-0", url=url, body="{}"), secret or ""
            )
            assert attempt.final, url
            assert attempt.error is not None
            assert attempt.error.startswith("refused")
    finally:
        await deliverer.close()
        await resources.close()
    assert receiver.received == []


async def test_a_retry_survives_a_kill_of_the_callbacks_process(namespace: str, cleanup: None, receiver: Receiver):
    receiver.statuses = [500]
    env = {**FAST_RETRIES, "REVOTP_CALLBACK_FIRST_RETRY_S": "3"}
    with tempfile.TemporaryDirectory() as logs:
        deployment = Deployment(namespace, Path(logs), **env)
        try:
            await deployment.start_ready("ingest", "callbacks")
            async with deployment.session.patch(
                deployment.url("ingest") + "/v1/tenant", json={"callback_url": receiver.url}, headers=bearer(ACME_KEY)
            ) as answer:
                assert answer.status == 200
            challenge = await deployment.create(PHONE)
            assert await deployment.cancel(challenge["id"]) == 200
            await receiver.wait(lambda: len(receiver.received) == 1)
            # The retry now waits in RabbitMQ, ~3 s: kill the process that would deliver it.
            killed = deployment.processes["callbacks"].process
            killed.send_signal(signal.SIGKILL)
            await asyncio.to_thread(killed.wait)
            await deployment.start_ready("callbacks")
            await receiver.wait(lambda: len(receiver.delivered()) >= 1, within=30)
            assert receiver.delivered()[0]["challenge_id"] == challenge["id"]
            # At least once (docs/api.md, Callbacks): killed after it scheduled the retry but
            # before it acked the first attempt, the process leaves both to its successor, and
            # the event is posted twice, under one event id.
            statuses = [status for _, _, status in receiver.received]
            assert statuses in ([500, 200], [500, 200, 200]), statuses
            assert len({headers["X-Revotp-Event-Id"] for headers, _, _ in receiver.received}) == 1
        finally:
            await deployment.close()
