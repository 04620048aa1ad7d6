"""A burst of clients larger than one Redis connection pool: every one is served, none gets 503.

redis-py's pool refuses a command beyond its size at once (``MaxConnectionsError``); revotp's
pool makes a burst wait for a free connection instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from tests.integration.conftest import ACME_KEY, Pipeline, bearer, next_frame

BURST = 250


async def test_a_burst_of_socket_openings_is_served_in_full(pipeline: Pipeline):
    url = str(pipeline.notifier.make_url("/v1/events"))
    # Its own client session: the test client's connector stops at 100 connections per host.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def open_one() -> Any:
            ws = await session.ws_connect(url, headers=bearer(ACME_KEY))
            assert (await next_frame(ws))["type"] == "ready"
            return ws

        sockets = await asyncio.gather(*(open_one() for _ in range(BURST)))
        challenge = await pipeline.create()
        await pipeline.sms(challenge["code"])
        frames = await asyncio.gather(*(next_frame(ws) for ws in sockets))
        assert {frame["type"] for frame in frames} == {"challenge.verified"}
        await asyncio.gather(*(ws.close() for ws in sockets))
