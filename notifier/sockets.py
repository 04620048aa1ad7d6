"""The open websockets of one notifier process, so that a shutdown can say goodbye to each."""

from __future__ import annotations

import weakref

from aiohttp import WSCloseCode, web


class OpenSockets:
    def __init__(self) -> None:
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    def add(self, ws: web.WebSocketResponse) -> None:
        self._sockets.add(ws)

    async def close_all(self) -> None:
        """Close with 1001 (going away): clients reconnect, to another process if need be."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
