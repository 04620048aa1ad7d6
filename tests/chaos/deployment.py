"""A revotp deployment of real processes, driven as a tenant and a (retrying) provider would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
from aio_pika.exceptions import AMQPError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from common.amqp import broker_urls
from common.settings import from_env
from common.signing import sign
from tests.integration.conftest import ACME_KEY, GENERIC_SECRET, bearer, deployment_env
from tests.support.processes import ServiceProcess
from tests.support.queues import delete_declared

PORT_VARIABLES = {
    "ingest": "REVOTP_INGEST_PORT",
    "matcher": "REVOTP_MATCHER_PORT",
    "notifier": "REVOTP_NOTIFIER_PORT",
    "callbacks": "REVOTP_CALLBACKS_PORT",
}


def signed_generic_webhook(message: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one generic webhook, signed with the test deployments' secret."""
    body = json.dumps(message).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Revotp-Timestamp": str(stamp),
        "X-Revotp-Signature": sign(GENERIC_SECRET, stamp, body),
    }
    return body, headers


class Deployment:
    def __init__(self, namespace: str, logs: Path, **env: str) -> None:
        self.namespace = namespace
        self.env = deployment_env(namespace, **env)
        self.logs = logs
        self.processes: dict[str, ServiceProcess] = {}
        self.session = aiohttp.ClientSession()

    def start(self, name: str, *, wrapper: Sequence[str] = ()) -> ServiceProcess:
        """Start ``ingest``, ``notifier`` or ``matcher-<n>`` (a name may be started again after a
        kill), under ``wrapper`` if given (a profiler)."""
        service = name.split("-")[0]
        if name in self.processes:
            self.processes[name].terminate()  # reap the one it replaces and close its log
        process = ServiceProcess(
            service,
            self.env,
            PORT_VARIABLES[service],
            str(self.logs / f"{name}-{uuid.uuid4().hex[:6]}.log"),
            wrapper=wrapper,
        )
        self.processes[name] = process
        return process

    async def start_ready(self, *names: str) -> None:
        await asyncio.gather(*(self.start(name).wait_ready() for name in names))

    def url(self, service: str) -> str:
        return self.processes[service].url

    async def ready(self, service: str) -> tuple[int, dict[str, Any]]:
        async with self.session.get(self.url(service) + "/readyz") as response:
            return response.status, await response.json()

    async def readiness_is(self, status: int, *services: str) -> bool:
        """Whether every named service's /readyz answers ``status`` now."""
        return all([(await self.ready(service))[0] == status for service in services])

    async def ready_socket(self, api_key: str = ACME_KEY) -> aiohttp.ClientWebSocketResponse:
        """A tenant socket past its ``ready`` frame."""
        ws = await self.tenant_socket(api_key)
        frame = await next_json(ws)
        assert frame["type"] == "ready", frame
        return ws

    async def create(self, phone: str, api_key: str = ACME_KEY, **fields: Any) -> dict[str, Any]:
        """Create a challenge, retrying while the service answers 503 (as a careful tenant would)."""
        body = {"phone": phone, "ttl_seconds": 900, **fields}
        return await self._until_ok("POST", "/v1/challenges", json=body, headers=bearer(api_key))

    async def cancel(self, challenge_id: str, api_key: str = ACME_KEY) -> int:
        async with self.session.delete(
            self.url("ingest") + f"/v1/challenges/{challenge_id}", headers=bearer(api_key)
        ) as response:
            return response.status

    async def get(self, challenge_id: str, api_key: str = ACME_KEY) -> dict[str, Any]:
        return await self._until_ok("GET", f"/v1/challenges/{challenge_id}", headers=bearer(api_key))

    async def post_sms(self, message: dict[str, str]) -> aiohttp.ClientResponse:
        """One signed generic webhook; returns the response (the body already read)."""
        body, headers = signed_generic_webhook(message)
        async with self.session.post(
            self.url("ingest") + "/v1/inbound/generic", data=body, headers=headers
        ) as response:
            await response.read()
            return response

    async def deliver(self, message: dict[str, str], *, within: float = 120.0) -> int:
        """Post until a 2xx, as a provider retries; returns how many tries it took.

        A 503 is retried after its Retry-After, capped at 1 s so that a test ends soon after
        the outage; a connection that fails is retried after 0.2 s.
        """
        deadline = time.monotonic() + within
        tries = 0
        while True:
            tries += 1
            pause_s = 0.2
            try:
                response = await self.post_sms(message)
                if response.status < 300:
                    return tries
                assert response.status == 503, f"unexpected {response.status}"
                retry_after = response.headers.get("Retry-After")
                assert retry_after
                pause_s = min(float(retry_after), 1.0)
            except aiohttp.ClientError:
                pass  # ingest being restarted or the connection cut
            if time.monotonic() > deadline:
                raise TimeoutError(f"SMS {message['id']} not accepted within {within} s")
            await asyncio.sleep(pause_s)

    async def tenant_socket(
        self, api_key: str = ACME_KEY, after: str | None = None, *, notifier: str = "notifier"
    ) -> aiohttp.ClientWebSocketResponse:
        params = {"after": after} if after else {}
        return await self.session.ws_connect(self.url(notifier) + "/v1/events", params=params, headers=bearer(api_key))

    async def _until_ok(self, method: str, path: str, *, within: float = 60.0, **kwargs: Any) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            try:
                async with self.session.request(method, self.url("ingest") + path, **kwargs) as response:
                    if response.status < 300:
                        return dict(await response.json())
                    assert response.status == 503, f"{method} {path}: {response.status} {await response.text()}"
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {path} did not succeed within {within} s")
            await asyncio.sleep(0.2)

    async def close(self) -> list[int]:
        """Stop every process (SIGTERM), then delete what the namespace left in Redis and RabbitMQ."""
        codes = [process.terminate() for process in self.processes.values()]
        await self.session.close()
        redis = Redis.from_url(self.env["REVOTP_REDIS_URL"])
        try:
            async for key in redis.scan_iter(match=f"{self.namespace}:*", count=10_000):
                await redis.delete(key)
        except (OSError, RedisError):
            pass  # a test's own Redis may be gone already
        finally:
            await redis.aclose()
        for url in broker_urls(self.env["REVOTP_AMQP_URL"]):  # each node it may have declared on
            try:
                connection = await aio_pika.connect(url)
            except (OSError, AMQPError):
                continue  # a test's own broker may be gone already
            async with connection:
                await delete_declared(await connection.channel(), from_env(self.env))
        return codes


async def next_json(ws: aiohttp.ClientWebSocketResponse, within: float = 30.0) -> dict[str, Any]:
    return dict(json.loads(await asyncio.wait_for(ws.receive_str(), within)))


async def wait_for(predicate: Any, *, within: float = 30.0, every: float = 0.2) -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + within
    while True:
        result = await predicate()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(every)
