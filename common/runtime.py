"""Running services: uvloop, stop signals, and aiohttp apps served until told to stop."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any

import structlog
import uvloop
from aiohttp import web

from common.http_server import app_runner

log = structlog.get_logger(__name__)

# How long a stopping server waits for open requests and sockets before closing them.
SHUTDOWN_TIMEOUT_S = 10.0


def run(main: Coroutine[Any, Any, None]) -> None:
    """The one entry point of every process."""
    uvloop.run(main)


def stop_event() -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event


async def serve_app(app: web.Application, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve ``app`` until ``stop`` is set, then shut it down gracefully."""
    runner = await start_app(app, host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def start_app(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = app_runner(app, shutdown_timeout_s=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("listening", host=host, port=port)
    return runner
