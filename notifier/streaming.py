"""Sending a subscription's events to one socket, and ending it the way docs/api.md, Event streams, says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiohttp import WSCloseCode, WSMsgType, web

from common.events import Entry
from common.frames import cursor_key, event_frame
from common.metrics import labeled
from common.receipts import ReceiptSigner
from notifier.hub import Subscription
from notifier.metrics import EVENTS_SENT, SLOW_CLIENTS

log = structlog.get_logger(__name__)

# WSCloseCode.TRY_AGAIN_LATER: "too slow, resume with your last cursor"
TOO_SLOW = 1013
# How long a client that fell behind gets to take what its mailbox holds before the 1013.
FLUSH_BEFORE_CLOSE_S = 1.0


async def _refuse_incoming(ws: web.WebSocketResponse) -> None:
    """Read until the client closes. These streams take no messages: any data frame ends the
    socket with 1003; an oversize one is closed with 1009 by aiohttp (``max_msg_size``)."""
    async for message in ws:
        if message.type in (WSMsgType.BINARY, WSMsgType.TEXT):
            await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"this stream takes no messages")
            return


class _Sender:
    """Sends a subscription's entries in order; runs only while there is something to send.

    It never closes the socket itself: aiohttp drops the connection without the closing
    handshake when a socket is closed while another task reads it. It asks the handler, whose
    task reads, to close (``end``), by cancelling that read.
    """

    __slots__ = (
        "_close_after_terminal",
        "_done",
        "_handler",
        "_last_key",
        "_receipts",
        "_stream",
        "_subscription",
        "_tenant_id",
        "_wanted",
        "_ws",
        "close_with",
        "closing",
        "task",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        subscription: Subscription,
        last_sent: str | None,
        wanted: Callable[[Entry], bool],
        stream: str,
        close_after_terminal: bool,
        receipts: ReceiptSigner,
        tenant_id: str,
    ) -> None:
        self._ws = ws
        self._receipts = receipts  # shared by every socket: two references, not a renderer each
        self._tenant_id = tenant_id
        self._subscription = subscription
        self._last_key = cursor_key(last_sent) if last_sent else (-1, -1)
        self._wanted = wanted
        self._stream = stream
        self._close_after_terminal = close_after_terminal
        self._handler = asyncio.current_task()
        self._done = False
        self.task: asyncio.Task[None] | None = None
        self.closing: asyncio.Task[None] | None = None  # the end of a client that fell behind
        self.close_with: tuple[int, bytes] | None = None

    def wake(self) -> None:
        """An entry arrived: start sending unless a send is under way (it will take it too)."""
        if not self._done and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._send_all())

    def end(self, code: int, message: bytes) -> None:
        """Have the handler close the socket with this code (its read is interrupted)."""
        if self.close_with is None and self._handler is not None:
            self._done = True
            self.close_with = (code, message)
            self._handler.cancel()

    def stop(self) -> None:
        """The handler no longer reads: nothing may interrupt it any more."""
        self._done = True
        self._handler = None

    def too_slow(self) -> None:
        """The mailbox overflowed: send what it holds, then close with 1013 (resume with the last cursor)."""
        SLOW_CLIENTS.inc()
        log.info("client_too_slow", stream=self._stream)
        self.closing = asyncio.create_task(self._end_too_slow())

    async def _end_too_slow(self) -> None:
        # What the mailbox holds is contiguous: sending it lets the client resume just after it.
        # A client too slow to take even that within the moment is closed all the same.
        if self.task is not None and not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), FLUSH_BEFORE_CLOSE_S)
            except TimeoutError:
                self.task.cancel()
        self.end(TOO_SLOW, b"too far behind; resume with your last cursor")

    async def _send_all(self) -> None:
        """Send until the mailbox is empty; then the task lets go of itself (an idle socket
        keeps no finished task and its coroutine alive)."""
        while (entry := self._subscription.take()) is not None:
            cursor, event = entry
            if cursor_key(cursor) <= self._last_key or not self._wanted(entry):
                continue
            await self._ws.send_str(event_frame(cursor, event, self._receipts, self._tenant_id))
            labeled(EVENTS_SENT, self._stream).inc()
            self._last_key = cursor_key(cursor)
            if self._close_after_terminal and event.terminal:
                self.end(WSCloseCode.OK, b"challenge settled")
                return
        self.task = None


async def stream_live(
    ws: web.WebSocketResponse,
    subscription: Subscription,
    *,
    last_sent: str | None,
    wanted: Callable[[Entry], bool] = lambda entry: True,
    stream: str,
    close_after_terminal: bool = False,
    receipts: ReceiptSigner,
    tenant_id: str,
) -> None:
    """Forward live events until the client leaves, the stream ends, or the client falls behind.

    The handler's own task reads; a sender task exists only while there are events to send.
    """
    sender = _Sender(ws, subscription, last_sent, wanted, stream, close_after_terminal, receipts, tenant_id)
    subscription.on_entry = sender.wake
    subscription.on_overflow = sender.too_slow
    if subscription.has_entries:
        sender.wake()  # entries arrived between subscribing and now
    try:
        await _refuse_incoming(ws)
    except asyncio.CancelledError:
        # The sender's request to close, unless the handler itself is being cancelled too.
        handler = asyncio.current_task()
        if sender.close_with is None or handler is None or handler.uncancel() > 0:
            raise
    finally:
        subscription.on_entry = subscription.on_overflow = _nothing
        sender.stop()
        if sender.task is not None:
            sender.task.cancel()
        await asyncio.gather(*(t for t in (sender.task, sender.closing) if t is not None), return_exceptions=True)
    if sender.close_with is not None:
        code, message = sender.close_with
        await ws.close(code=code, message=message)


def _nothing() -> None:
    pass
