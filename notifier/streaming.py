"""Sending a subscription's events to one socket, and ending it the way docs/api.md, Event streams, says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from common.events import Entry
from notifier.frames import cursor_key, event_frame
from notifier.hub import Subscription
from notifier.metrics import EVENTS_SENT, SLOW_CLIENTS

log = structlog.get_logger(__name__)

# WSCloseCode.TRY_AGAIN_LATER: "too slow, resume with your last cursor"
TOO_SLOW = 1013


async def _refuse_incoming(ws: web.WebSocketResponse) -> None:
    """Read until the client closes. These streams take no messages: any data frame ends the
    socket with 1003; an oversize one is closed with 1009 by aiohttp (``max_msg_size``)."""
    async for message in ws:
        if message.type in (WSMsgType.BINARY, WSMsgType.TEXT):
            await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"this stream takes no messages")
            return


async def _pump(
    ws: web.WebSocketResponse,
    subscription: Subscription,
    last_sent: str | None,
    wanted: Callable[[Entry], bool],
    stream: str,
    close_after_terminal: bool,
) -> None:
    last_key = cursor_key(last_sent) if last_sent else (-1, -1)
    while True:
        entry = await subscription.queue.get()
        cursor, event = entry
        if cursor_key(cursor) <= last_key or not wanted(entry):
            continue
        await ws.send_str(event_frame(cursor, event))
        EVENTS_SENT.labels(stream=stream).inc()
        last_key = cursor_key(cursor)
        if close_after_terminal and event.terminal:
            return


async def stream_live(
    ws: web.WebSocketResponse,
    subscription: Subscription,
    *,
    last_sent: str | None,
    wanted: Callable[[Entry], bool] = lambda entry: True,
    stream: str,
    close_after_terminal: bool = False,
) -> None:
    """Forward live events until the client leaves, the stream ends, or the client falls behind."""
    pump = asyncio.create_task(_pump(ws, subscription, last_sent, wanted, stream, close_after_terminal))
    reader = asyncio.create_task(_refuse_incoming(ws))
    overflow = asyncio.create_task(subscription.overflowed.wait())
    tasks = {pump, reader, overflow}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if overflow in done:
        SLOW_CLIENTS.inc()
        log.info("client_too_slow", stream=stream)
        await ws.close(code=TOO_SLOW, message=b"too far behind; resume with your last cursor")
    elif pump in done and pump.exception() is None:
        await ws.close(code=WSCloseCode.OK, message=b"challenge settled")
