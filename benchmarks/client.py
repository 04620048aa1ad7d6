"""The load client of every benchmark figure: signed webhooks and challenge creations over the
replay tool's lean connections (``revotp/replay/http.py``).

revotp and its do-nothing yardsticks are sent the same requests by this same code, so a ratio
compares servers, not clients. The client still shares the machine's two cores with what it
loads; its CPU is reported beside every run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Self, TypeVar

from revotp.replay.http import Connections, HttpError, Response
from tests.chaos.deployment import signed_generic_webhook
from tests.integration.conftest import ACME_KEY, bearer

REQUEST_TIMEOUT_S = 30
RETRY_PAUSE_S = 0.2  # after a failed connection; a 503 waits its Retry-After, at most 1 s

Item = TypeVar("Item")
Result = TypeVar("Result")


async def each_in_flight(
    items: Iterable[Item], concurrency: int, act: Callable[[Item], Awaitable[Result]]
) -> list[Result]:
    """``act`` on every item, ``concurrency`` at a time; the results in the items' order.

    A fixed set of workers pulls from one iterator: no task and no semaphore waiter per item.
    Gathering one coroutine per item behind a semaphore cost the load client about 20 µs of CPU
    per item here, CPU that every figure's client took from the parts it measured. The first
    failure cancels the rest.
    """
    indexed = iter(enumerate(items))
    results: dict[int, Result] = {}

    async def worker() -> None:
        for index, item in indexed:
            results[index] = await act(item)

    async with asyncio.TaskGroup() as workers:
        for _ in range(concurrency):
            workers.create_task(worker())
    return [results[index] for index in range(len(results))]


class Client:
    def __init__(self, base_url: str, *, concurrency: int) -> None:
        self._connections = Connections(base_url, limit=concurrency, timeout_s=REQUEST_TIMEOUT_S)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._connections.close()

    async def post_sms(self, message: dict[str, str]) -> Response:
        """One signed generic webhook."""
        body, headers = signed_generic_webhook(message)
        return await self._connections.request("POST", "/v1/inbound/generic", body, headers)

    async def post_create(self, phone: str) -> Response:
        """One challenge creation request, as a tenant sends it."""
        body = json.dumps({"phone": phone, "ttl_seconds": 900}).encode()
        headers = {"Content-Type": "application/json", **bearer(ACME_KEY)}
        return await self._connections.request("POST", "/v1/challenges", body, headers)

    async def deliver(self, message: dict[str, str], *, within: float) -> None:
        """Post until a 2xx, as a provider retries a 503 or a failed connection."""
        await self._until_ok(lambda: self.post_sms(message), within=within, what=f"SMS {message['id']}")

    async def create(self, phone: str, *, within: float = 60.0) -> dict[str, Any]:
        """A created challenge, as the tenant API returns it."""
        response = await self._until_ok(lambda: self.post_create(phone), within=within, what=f"challenge for {phone}")
        return dict(json.loads(response.body))

    async def _until_ok(self, send: Callable[[], Awaitable[Response]], *, within: float, what: str) -> Response:
        deadline = time.monotonic() + within
        while True:
            pause_s = RETRY_PAUSE_S
            try:
                response = await send()
                if response.status < 300:
                    return response
                if response.status != 503:
                    raise AssertionError(f"{what}: {response.status} {response.body[:300]!r}")
                pause_s = min(float(response.headers.get("retry-after", "1")), 1.0)
            except HttpError:
                pass  # ingest being restarted or the connection cut
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not accepted within {within} s")
            await asyncio.sleep(pause_s)
