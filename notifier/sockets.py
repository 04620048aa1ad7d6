"""The open websockets of one notifier process, so that a shutdown can say goodbye to each."""

from __future__ import annotations

import asyncio
import weakref

import structlog
from aiohttp import WSCloseCode, web

from common.closing import bounded

log = structlog.get_logger(__name__)


class OpenSockets:
    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    def add(self, ws: web.WebSocketResponse) -> None:
        self._sockets.add(ws)

    async def close_all(self) -> None:
        """Close with 1001 (going away): clients reconnect, to another process if need be."""
        sockets = list(self._sockets)
        closes = [ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down") for ws in sockets]
        closed = await bounded(asyncio.gather(*closes, return_exceptions=True), "close_sockets")
        log.info("sockets_closed", sockets=len(sockets), all_in_time=closed)
