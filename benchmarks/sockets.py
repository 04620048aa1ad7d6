"""The notifier with many idle tenant sockets: memory per socket, and one event's fan-out to all.

One tenant, ``count`` sockets past their ``ready`` frame. Memory is the notifier process's
resident set before and after they open, per socket. Fan-out is the time from the cancel that
writes one event to its arrival on each socket.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.chaos.deployment import Deployment, next_json
from tests.integration.conftest import ACME_KEY, bearer

OPEN_CONCURRENCY = 100


@dataclass(frozen=True)
class IdleSockets:
    count: int
    bytes_per_socket: float
    fanout_p50_ms: float
    fanout_max_ms: float


def _resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc status")


async def idle_sockets(deployment: Deployment, count: int) -> IdleSockets:
    """On a running deployment whose notifier has no other socket open."""
    connector = aiohttp.TCPConnector(limit=0)
    pid = deployment.processes["notifier"].process.pid
    challenge = await deployment.create("+33612345678")
    before = _resident_bytes(pid)
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def open_one() -> aiohttp.ClientWebSocketResponse:
            async with gate:
                ws = await session.ws_connect(deployment.url("notifier") + "/v1/events", headers=bearer(ACME_KEY))
                assert (await next_json(ws, within=120))["type"] == "ready"
                return ws

        sockets = await asyncio.gather(*(open_one() for _ in range(count)))
        await asyncio.sleep(1.0)  # let the process settle before reading its memory
        after = _resident_bytes(pid)

        async def arrival(ws: aiohttp.ClientWebSocketResponse) -> float:
            frame = await next_json(ws, within=120)
            assert frame["type"] == "challenge.canceled", frame
            return time.perf_counter()

        waiting = [asyncio.create_task(arrival(ws)) for ws in sockets]
        started = time.perf_counter()
        assert await deployment.cancel(challenge["id"]) == 200
        arrivals = sorted(await asyncio.gather(*waiting))
        await asyncio.gather(*(ws.close() for ws in sockets))
    return IdleSockets(
        count=count,
        bytes_per_socket=(after - before) / count,
        fanout_p50_ms=(arrivals[len(arrivals) // 2] - started) * 1000,
        fanout_max_ms=(arrivals[-1] - started) * 1000,
    )
