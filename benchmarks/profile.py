"""``python -m benchmarks.profile``: where each service spends its CPU under end-to-end load.

Starts ingest, the notifier and the matchers as the benchmark does, creates challenges, sends
their signed webhooks flat out, and while they flow samples every service with py-spy
(non-blocking, so the sampled processes are not paused). Each service's stacks are written as
``<out>/<service>.txt`` in the collapsed format that speedscope and flamegraph.pl read, and
summarised as tables of the functions holding the most samples. The profiles in
``benchmarks/RESULTS.md`` were taken this way.

Samples are taken by the wall clock, of threads not waiting in the event loop: a process that
waits for a core counts where it waits. On a loaded machine that shows as socket writes, since
a write on loopback wakes its reader (Redis, RabbitMQ) and the writer may yield the core to it
before the call returns: a matcher's Redis writes held a quarter of its samples but took 4 %
of that time in CPU (``time.thread_time`` around each write).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import uvloop

from benchmarks.client import Client, each_in_flight
from benchmarks.pipeline import answering_sms, create_challenges, running
from benchmarks.samples import shares, table
from tests.chaos.deployment import Deployment

WARM_UP_SMS = 500


async def main(args: argparse.Namespace) -> None:
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed (make install)")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="revotp-profile-") as logs:
        async with running(Path(logs), matchers=args.matchers, log_level=args.log_level) as deployment:
            await _load(deployment, WARM_UP_SMS, concurrency=args.concurrency)  # connections, caches
            pids = {name: service.process.pid for name, service in deployment.processes.items()}
            challenges = await create_challenges(deployment, args.sms, phones="+3364")
            sampling = [await _sample(py_spy, pid, args.out / f"{name}.txt", args) for name, pid in pids.items()]
            async with _verdicts_read(deployment):  # the notifier works for a socket, as in the benchmark
                sending = asyncio.create_task(_send(deployment, challenges, concurrency=args.concurrency))
                errors = [(await process.communicate())[1] for process in sampling]
                outlasted = not sending.done()
                await sending
    failures = {
        name: error.decode()[-500:]
        for name, error, process in zip(pids, errors, sampling, strict=True)
        if process.returncode
    }
    if failures:
        raise SystemExit(f"py-spy failed: {failures}")
    if not outlasted:
        print(f"the load ended before the sampling did: raise --sms above {args.sms:,} for a busy profile")
    for name in pids:
        print("\n" + table(name, shares((args.out / f"{name}.txt").read_text().splitlines(), top=args.top)))
    print(f"\nstacks in {args.out}/ (collapsed format: speedscope, flamegraph.pl)")
    print("samples are wall-clock: time spent waiting for a core, inside a socket write say, counts too")


@contextlib.asynccontextmanager
async def _verdicts_read(deployment: Deployment) -> AsyncIterator[None]:
    """The tenant's socket open and read, as a platform would: the notifier has someone to serve."""
    ws = await deployment.ready_socket()
    reading = asyncio.create_task(_drain(ws))
    try:
        yield
    finally:
        reading.cancel()
        await ws.close()


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _ in ws:
        pass


async def _sample(py_spy: str, pid: int, output: Path, args: argparse.Namespace) -> asyncio.subprocess.Process:
    """py-spy on one process, without pausing it, for ``--seconds``."""
    command = [py_spy, "record", "--nonblocking", "--rate", str(args.rate), "--duration", str(args.seconds)]
    command += ["--format", "raw", "--output", str(output), "--pid", str(pid)]
    return await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )


async def _send(deployment: Deployment, challenges: list[dict[str, str]], *, concurrency: int) -> None:
    """Each challenge's right code as a signed webhook."""
    async with Client(deployment.url("ingest"), concurrency=concurrency) as client:
        await each_in_flight(
            challenges, concurrency, lambda challenge: client.deliver(answering_sms(challenge), within=300)
        )


async def _load(deployment: Deployment, count: int, *, concurrency: int) -> None:
    await _send(deployment, await create_challenges(deployment, count, phones="+3365"), concurrency=concurrency)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    parser.add_argument("--sms", type=int, default=12_000, help="SMS sent while sampling (enough to outlast it)")
    parser.add_argument("--seconds", type=int, default=4, help="how long each service is sampled")
    parser.add_argument("--rate", type=int, default=250, help="samples per second")
    parser.add_argument("--matchers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=128, help="webhooks in flight")
    parser.add_argument("--top", type=int, default=20, help="functions per table")
    parser.add_argument("--log-level", default="info", help="REVOTP_LOG_LEVEL of the services (default: as shipped)")
    parser.add_argument("--out", type=Path, default=Path("profiles"), help="where the stacks are written")
    return parser


if __name__ == "__main__":
    uvloop.run(main(_parser().parse_args()))
