"""``python -m benchmarks.instructions``: instructions per request, counted by valgrind's
callgrind, for ingest and for the do-nothing aiohttp handler, and their ratio.

Throughput and CPU time on this machine move by a third within minutes and three-fold from
one day to the next (``RESULTS.md``): a ratio of two rates taken minutes apart can swing by
more than the change it is meant to show. The instructions a process executes for the same
requests barely move, so a ratio of them shows what the code costs, whatever the machine does.

Counted: the server process's own user-space instructions, from after a warm-up to after the
last answer (``callgrind_control`` zeroes the counters, then dumps them). Not counted: the
kernel's work on its behalf, cache misses, waiting. So a ratio here is not a ratio of time,
but it moves only when the code does. A process under callgrind runs some 30 times slower, so
its group commits carry more per round trip than at full speed: ingest's counts are a floor.
Ingest runs alone (no matcher, no notifier); the SMS it queues go with its namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import uvloop

from benchmarks.client import Client, each_in_flight
from benchmarks.pipeline import NUMBER_RATE_LIMIT, answering_sms
from benchmarks.raw import sms_to_nobody
from revotp.replay.ceiling import free_port
from revotp.replay.http import HttpError, Response
from tests.chaos.deployment import Deployment

RESULTS = Path(__file__).with_name("RESULTS.md")
WARM_UP = 100  # requests before counting: connections, caches, the first-call paths

Item = TypeVar("Item")


@dataclass(frozen=True)
class Counted:
    figure: str
    instructions: float  # per request
    yardstick: float | None = None  # the do-nothing handler's per request, for the same requests

    @property
    def ratio(self) -> float:
        """The rate ratio if both sides were bound by these instructions alone."""
        return 1.0 if self.yardstick is None else self.yardstick / self.instructions


class Callgrind:
    """A command line under callgrind, whose counts are zeroed and read while it runs."""

    def __init__(self, directory: Path, name: str) -> None:
        self._out = directory / f"callgrind.{name}"
        self.wrapper = ("valgrind", "--tool=callgrind", "--dump-instr=no", f"--callgrind-out-file={self._out}")

    async def count(self, pid: int, requests: int, load: Awaitable[None]) -> float:
        """Instructions per request that ``pid`` executed while ``load`` ran."""
        await _control("-z", pid)
        await load
        await _control("-d", pid)
        dumps = sorted(self._out.parent.glob(self._out.name + ".*"), key=lambda path: path.stat().st_mtime)
        return _total(dumps[-1]) / requests


async def _control(option: str, pid: int) -> None:
    process = await asyncio.create_subprocess_exec(
        "callgrind_control", option, str(pid), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"callgrind_control {option} {pid}: {stderr.decode()[-500:]}")


def _total(dump: Path) -> int:
    with dump.open() as lines:
        for line in lines:
            if line.startswith(("totals:", "summary:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="revotp-instructions-") as scratch:
        directory = Path(scratch)
        nothing_webhook, nothing_create = await _do_nothing(directory, args)
        creation, known, unknown = await _ingest(directory, args)
    rows = [
        Counted("do-nothing aiohttp handler, a signed webhook", nothing_webhook),
        Counted("ingest, a webhook from a phone it created a challenge for", known, nothing_webhook),
        Counted("ingest, a webhook from a phone it does not know (ingest alone's load)", unknown, nothing_webhook),
        Counted("do-nothing aiohttp handler, a challenge creation request", nothing_create),
        Counted("ingest, a challenge creation", creation, nothing_create),
    ]
    table = _table(rows, args)
    print(table)
    if args.append:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with RESULTS.open("a") as results:
            results.write(f"\n### {stamp} — {machine} — instructions per request\n\n{table}\n")
        print(f"\nappended to {RESULTS}")


def _table(rows: list[Counted], args: argparse.Namespace) -> str:
    lines = [
        (
            f"| instructions per request (callgrind, {args.requests:,} requests, {args.concurrency} in flight) "
            "| thousands | ratio |"
        ),
        "|---|---|---|",
    ]
    for row in rows:
        ratio = "1.00x" if row.yardstick is None else f"{row.ratio:.2f}x web"
        lines.append(f"| {row.figure} | {row.instructions / 1000:,.0f} | {ratio} |")
    return "\n".join(lines)


async def _do_nothing(directory: Path, args: argparse.Namespace) -> tuple[float, float]:
    """The do-nothing handler's instructions per webhook and per creation request."""
    callgrind = Callgrind(directory, "nothing")
    port = free_port()
    serve = f"from revotp.replay.ceiling import serve_nothing; serve_nothing({port})"
    process = await asyncio.create_subprocess_exec(
        *callgrind.wrapper,
        sys.executable,
        "-c",
        serve,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with _client(f"http://127.0.0.1:{port}", args) as client:
            await _answering(client)
            await _send(range(WARM_UP), lambda n: _accepted(client.post_sms(sms_to_nobody(n))), args)
            webhook = await callgrind.count(
                process.pid,
                args.requests,
                _send(range(args.requests), lambda n: _accepted(client.post_sms(sms_to_nobody(n))), args),
            )
            creation = await callgrind.count(
                process.pid,
                args.requests,
                _send(range(args.requests), lambda n: _accepted(client.post_create(f"+3363{n:07d}")), args),
            )
    finally:
        process.kill()
        await process.wait()
    return webhook, creation


async def _ingest(directory: Path, args: argparse.Namespace) -> tuple[float, float, float]:
    """Ingest's instructions per creation, per webhook from a phone with a challenge (created
    by this same process, as one ingest serves both), and per webhook from an unknown phone."""
    callgrind = Callgrind(directory, "ingest")
    deployment = Deployment(
        f"revotp-bench-{uuid.uuid4().hex[:8]}", directory, REVOTP_NUMBER_RATE_LIMIT=NUMBER_RATE_LIMIT
    )
    try:
        ingest = deployment.start("ingest", wrapper=callgrind.wrapper)
        await ingest.wait_ready(within=300)
        pid = ingest.process.pid
        async with _client(ingest.url, args) as client:
            await _send(range(WARM_UP), lambda n: client.create(f"+3364{n:07d}"), args)
            await _send(range(WARM_UP), lambda n: _accepted(client.post_sms(sms_to_nobody(n))), args)
            challenges: list[dict[str, str]] = []

            async def create(n: int) -> None:
                challenges.append(await client.create(f"+3363{n:07d}"))

            creation = await callgrind.count(pid, args.requests, _send(range(args.requests), create, args))
            known = await callgrind.count(
                pid,
                args.requests,
                _send(challenges, lambda challenge: _accepted(client.post_sms(answering_sms(challenge))), args),
            )
            start = WARM_UP
            unknown = await callgrind.count(
                pid,
                args.requests,
                _send(
                    range(start, start + args.requests), lambda n: _accepted(client.post_sms(sms_to_nobody(n))), args
                ),
            )
    finally:
        await deployment.close()
    return creation, known, unknown


@contextlib.asynccontextmanager
async def _client(url: str, args: argparse.Namespace) -> AsyncIterator[Client]:
    async with Client(url, concurrency=args.concurrency) as client:
        yield client


async def _answering(client: Client, within: float = 300) -> None:
    """Until the server answers (it starts slowly under callgrind)."""
    deadline = time.monotonic() + within
    while True:
        try:
            await client.post_sms(sms_to_nobody(0))
            return
        except HttpError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _send(items: Iterable[Item], act: Callable[[Item], Awaitable[object]], args: argparse.Namespace) -> None:
    await each_in_flight(items, args.concurrency, act)


async def _accepted(answer: Awaitable[Response]) -> None:
    """Every counted request must be answered 202: a count of refusals would flatter the server."""
    response = await answer
    if response.status != 202:
        raise AssertionError(f"answered {response.status}: {response.body[:300]!r}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="requests counted for each figure")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--append", action="store_true", help="append the table to benchmarks/RESULTS.md")
    return parser


if __name__ == "__main__":
    uvloop.run(main(_parser().parse_args()))
