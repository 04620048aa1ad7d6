"""The tenant's event socket, read for the whole replay: every frame with the instant it arrived."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from revotp.replay.plan import VERDICT_TYPES


class ListenError(Exception):
    """The tenant socket could not be opened or read."""


@dataclass
class Listener:
    """Frames of ``/v1/events`` as (arrival instant on ``time.monotonic()``, frame)."""

    session: aiohttp.ClientSession
    url: str
    api_key: str
    frames: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _ws: aiohttp.ClientWebSocketResponse | None = None
    _reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Connect and wait for the ``ready`` frame: no live event is missed after this returns."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        try:
            self._ws = await self.session.ws_connect(self.url.rstrip("/") + "/v1/events", headers=headers)
            first = await asyncio.wait_for(self._ws.receive(), 10)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ListenError(f"cannot open the tenant socket at {self.url}: {exc}") from None
        if first.type is not aiohttp.WSMsgType.TEXT or json.loads(first.data).get("type") != "ready":
            raise ListenError(f"the tenant socket at {self.url} did not say ready: {first.data!r}")
        self._reader = asyncio.create_task(self._read(self._ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                self.frames.append((time.monotonic(), json.loads(message.data)))
                self.arrived.set()

    async def settle(self, *, expected: int | None, quiet_s: float, limit_s: float) -> None:
        """Wait for ``expected`` verdict frames (then ``quiet_s`` more, to catch extra ones), or,
        when the count is unknown, until no frame came for ``quiet_s``; never beyond ``limit_s``."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if expected is not None and self.verdicts() >= expected:
                await asyncio.sleep(min(quiet_s, max(0.0, deadline - time.monotonic())))
                return
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(quiet_s, max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                if expected is None:
                    return

    def verdicts(self) -> int:
        return sum(1 for _, frame in self.frames if frame.get("type") in VERDICT_TYPES)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader
