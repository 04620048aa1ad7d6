"""``python -m benchmarks.instructions``: instructions per request, counted by valgrind's
callgrind, for ingest and for the do-nothing aiohttp handler, and their ratio; then per verified
SMS for a matcher and for the notifier, which have no such yardstick.

Throughput and CPU time on this machine move by a third within minutes and three-fold from
one day to the next (``RESULTS.md``): a ratio of two rates taken minutes apart can swing by
more than the change it is meant to show. The instructions a process executes for the same
requests barely move, so a ratio of them shows what the code costs, whatever the machine does.

Counted: the server process's own user-space instructions, from after a warm-up to after the
last answer (``callgrind_control`` zeroes the counters, then dumps them). Not counted: the
kernel's work on its behalf, cache misses, waiting. So a ratio here is not a ratio of time,
but it moves only when the code does. A process under callgrind runs some 30 times slower, so
its group commits carry more per round trip than at full speed: ingest's counts are a floor.
For ingest's figures it runs alone (no matcher, no notifier); the SMS it queues go with its
namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import uvloop

from benchmarks import results
from benchmarks.client import Client, each_in_flight
from benchmarks.pipeline import NUMBER_RATE_LIMIT, answering_sms, create_challenges, read_verdict
from benchmarks.raw import sms_to_nobody
from revotp.replay.ceiling import free_port
from revotp.replay.http import HttpError, Response
from tests.chaos.deployment import Deployment

WARM_UP = 100  # requests before counting: connections, caches, the first-call paths
VERDICTS_WITHIN_S = 600  # a matcher and the notifier under callgrind run some 30 times slower

Item = TypeVar("Item")


@dataclass(frozen=True)
class Counted:
    figure: str
    instructions: float  # per request, or per verified SMS
    against: float | None = None  # the do-nothing handler's, for the same requests
    yardstick: bool = False  # the do-nothing handler's own row

    def ratio_cell(self) -> str:
        """The rate ratio if both sides were bound by these instructions alone."""
        if self.yardstick:
            return "1.00x"
        return "" if self.against is None else f"{self.against / self.instructions:.2f}x web"


class Callgrind:
    """A command line under callgrind, whose counts are zeroed and read while it runs."""

    def __init__(self, directory: Path, name: str) -> None:
        self._out = directory / f"callgrind.{name}"
        self.wrapper = ("valgrind", "--tool=callgrind", "--dump-instr=no", f"--callgrind-out-file={self._out}")

    async def count(self, pid: int, requests: int, load: Awaitable[None]) -> float:
        """Instructions per request that ``pid`` executed while ``load`` ran."""
        [per_request] = await count_together([(self, pid)], requests, load)
        return per_request

    def newest_total(self) -> int:
        dumps = sorted(self._out.parent.glob(self._out.name + ".*"), key=lambda path: path.stat().st_mtime)
        return _total(dumps[-1])


async def count_together(counted: list[tuple[Callgrind, int]], per: int, load: Awaitable[None]) -> list[float]:
    """Instructions per item (of ``per`` items) that each process executed while ``load`` ran."""
    for _, pid in counted:
        await _control("-z", pid)
    await load
    for _, pid in counted:
        await _control("-d", pid)
    return [callgrind.newest_total() / per for callgrind, _ in counted]


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
        matcher, notifier = await _downstream(directory, args)
    rows = [
        Counted("do-nothing aiohttp handler, a signed webhook", nothing_webhook, yardstick=True),
        Counted("ingest, a webhook from a phone it created a challenge for", known, nothing_webhook),
        Counted("ingest, a webhook from a phone it does not know (ingest alone's load)", unknown, nothing_webhook),
        Counted("do-nothing aiohttp handler, a challenge creation request", nothing_create, yardstick=True),
        Counted("ingest, a challenge creation", creation, nothing_create),
        Counted("a matcher (one), per verified SMS", matcher),
        Counted("the notifier, per verified SMS sent to one tenant socket", notifier),
    ]
    table = _table(rows, args)
    print(table)
    if args.append:
        results.append(table, "instructions per request")


def _table(rows: list[Counted], args: argparse.Namespace) -> str:
    lines = [
        (
            f"| instructions (callgrind, {args.requests:,} requests or SMS, {args.concurrency} in flight) "
            "| thousands | ratio |"
        ),
        "|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row.figure} | {row.instructions / 1000:,.0f} | {row.ratio_cell()} |")
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
        async with Client(f"http://127.0.0.1:{port}", concurrency=args.concurrency) as client:
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
        async with Client(ingest.url, concurrency=args.concurrency) as client:
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


async def _downstream(directory: Path, args: argparse.Namespace) -> tuple[float, float]:
    """A matcher's and the notifier's instructions per verified SMS, both under callgrind while
    ingest runs at full speed. The sweeper runs once a minute here, so that its idle rounds (it
    reads the expiry index's 32 buckets each time) are not counted against the SMS."""
    matcher, notifier = Callgrind(directory, "matcher"), Callgrind(directory, "notifier")
    deployment = Deployment(
        f"revotp-bench-{uuid.uuid4().hex[:8]}",
        directory,
        REVOTP_NUMBER_RATE_LIMIT=NUMBER_RATE_LIMIT,
        REVOTP_SWEEP_INTERVAL_S="60",
        REVOTP_FEED_BLOCK_MS="1000",
    )
    try:
        deployment.start("ingest")
        deployment.start("matcher-1", wrapper=matcher.wrapper)
        deployment.start("notifier", wrapper=notifier.wrapper)
        await asyncio.gather(*(process.wait_ready(within=300) for process in deployment.processes.values()))
        warm_up = await create_challenges(deployment, WARM_UP, phones="+3365")
        counted = await create_challenges(deployment, args.requests, phones="+3361")
        socket = await deployment.ready_socket()
        async with Client(deployment.url("ingest"), concurrency=args.concurrency) as client:
            await _verified(socket, client, warm_up, args)
            pids = [deployment.processes[name].process.pid for name in ("matcher-1", "notifier")]
            per_sms = await count_together(
                list(zip((matcher, notifier), pids, strict=True)),
                args.requests,
                _verified(socket, client, counted, args),
            )
        await socket.close()
    finally:
        await deployment.close()
    return per_sms[0], per_sms[1]


async def _verified(
    socket: aiohttp.ClientWebSocketResponse, client: Client, challenges: list[dict[str, str]], args: argparse.Namespace
) -> None:
    """Each challenge answered by its SMS, and every verdict read off the tenant socket."""

    async def read() -> None:
        verified = 0
        while verified < len(challenges):
            if read_verdict(await socket.receive_str()).type == "challenge.verified":
                verified += 1

    reader = asyncio.create_task(read())
    await _send(challenges, lambda challenge: _accepted(client.post_sms(answering_sms(challenge))), args)
    await asyncio.wait_for(reader, VERDICTS_WITHIN_S)


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
