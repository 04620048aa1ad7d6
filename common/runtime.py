"""Running services: uvloop, stop signals, and aiohttp apps served until told to stop.

A service is a coroutine function ``serve(settings, stop, serve_metrics)``: it runs until
``stop`` is set. Each service package's ``__main__`` hands its own to ``service_main`` and
imports nothing of the other services; ``revotp all`` runs several in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any

import structlog
import uvloop
from aiohttp import web

from common import logging as revotp_logging
from common.http_server import app_runner
from common.settings import Settings, SettingsError, from_env

log = structlog.get_logger(__name__)

# Allocations between two collections of the youngest generation (Python's default: 700). Each
# collection walks what the requests and SMS in flight hold at that moment; collecting less often
# walks it fewer times. Under callgrind, a matcher executed 7 % fewer instructions per verified
# SMS at 10,000, ingest 2 to 3 % fewer per request; p99 latency and memory per idle socket did
# not move (benchmarks/RESULTS.md, 2026-12-08).
YOUNG_COLLECTION_EVERY = 10_000

# How long a stopping server waits for open requests and sockets before closing them.
SHUTDOWN_TIMEOUT_S = 10.0


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

# serve(settings, stop, serve_metrics): runs one service until ``stop`` is set.
Service = Callable[[Settings, asyncio.Event, bool], Awaitable[None]]
# Checks a service's own options before anything starts; raises SettingsError.
ConfigurationCheck = Callable[[Settings], None]


def run(main: Coroutine[Any, Any, None]) -> None:
    """The one event loop of every process."""
    uvloop.run(main)


@contextlib.contextmanager
def stop_signals() -> Iterator[asyncio.Event]:
    """An event set by the first SIGTERM or SIGINT; the handlers are removed on the way out."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, event.set)
    try:
        yield event
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def serve_until_signalled(settings: Settings, services: Sequence[Service]) -> None:
    """Run the services side by side until SIGTERM or SIGINT.

    One process has one metrics registry, so only the first service serves ``/metrics``.
    """
    with stop_signals() as stop:
        await asyncio.gather(*(serve(settings, stop, index == 0) for index, serve in enumerate(services)))


def load_settings(
    checks: Sequence[ConfigurationCheck] = (), adjust: Callable[[Settings], Settings] | None = None
) -> Settings:
    """Settings from the environment (``adjust``-ed, as the demo does) with every option checked,
    or exit naming the bad one."""
    try:
        settings = from_env()
        if adjust is not None:
            settings = adjust(settings)
        for check in (check_receipt_key, *checks):
            check(settings)
    except SettingsError as exc:
        sys.exit(f"revotp: {exc}")
    return settings


def check_receipt_key(settings: Settings) -> None:
    """A bad REVOTP_RECEIPT_KEY stops every process at start, not at its first verification."""
    if settings.receipt_key:
        from common.receipts import read_key  # cryptography only where a key is set

        read_key(settings.receipt_key)


def service_main(serve: Service, check: ConfigurationCheck | None = None) -> None:
    """A service package's ``python -m``: checked settings, logging, then serve until signalled."""
    settings = load_settings([check] if check else [])
    revotp_logging.configure(json=settings.log_json, level=settings.log_level)
    run(serve_until_signalled(settings, [serve]))


async def serve_app(app: web.Application, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve ``app`` until ``stop`` is set, then shut it down gracefully."""
    runner = await start_app(app, host, port)
    try:
        await stop.wait()
    finally:
        began = time.monotonic()
        await runner.cleanup()
        log.info("server_stopped", port=port, took_s=round(time.monotonic() - began, 3))


async def start_app(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = app_runner(app, shutdown_timeout_s=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    # Everything built at start lives as long as the process: out of the collector's way, so
    # that a full collection under load scans only what requests allocated (shorter pauses).
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    log.info("listening", host=host, port=port)
    return runner
