"""The client's own ceiling: the same sender against an endpoint that does nothing.

A replay that reaches this rate against revotp measured the client, not revotp. The do-nothing
server runs in its own process on uvloop, as ingest does, and answers every request 202.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace

from revotp.replay.heap import frozen_heap
from revotp.replay.plan import PlannedSms
from revotp.replay.sender import Pace, Target, new_counters, send_plan


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_nothing(port: int, on_ready: Callable[[], object] = lambda: None) -> None:
    """Serve the do-nothing handler on ``port`` until killed (also run alone, under a profiler:
    ``benchmarks/instructions.py``)."""
    import uvloop
    from aiohttp import web

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"status": "accepted"}, status=202)

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", accept)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        on_ready()
        await asyncio.Event().wait()

    uvloop.run(main())


def _serve_nothing(port: int, ready: multiprocessing.synchronize.Event) -> None:
    serve_nothing(port, ready.set)


@contextlib.asynccontextmanager
async def do_nothing_server() -> AsyncIterator[str]:
    """The base URL of a do-nothing aiohttp server in a child process, for as long as needed."""
    port = free_port()
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=_serve_nothing, args=(port, ready), daemon=True)
    server.start()
    try:
        if not await asyncio.get_running_loop().run_in_executor(None, ready.wait, 30):
            raise RuntimeError("the do-nothing server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.join()


async def client_ceiling(plan: Sequence[PlannedSms], target: Target, pace: Pace, *, processes: int) -> float:
    """Requests per second this client sends flat out, same format, concurrency and processes."""
    async with do_nothing_server() as url:
        flat_out = Pace(pace.concurrency)
        with frozen_heap():
            sent = await send_plan(
                plan, replace(target, ingest_url=url), flat_out, processes=processes, counters=new_counters(processes)
            )
    elapsed = max(s.answered_at for s in sent) - min(s.sent_at for s in sent)
    return len(sent) / max(elapsed, 1e-9)
