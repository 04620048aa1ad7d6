"""revotp end to end: signed generic webhooks in, verdicts out on the tenant's socket.

Real processes (ingest, notifier, N matchers) on this machine's RabbitMQ and Redis, each
challenge for its own phone so that no per-sender allowance is involved; the per-number limit
is raised and printed, so that it is never what silently caps the figure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from benchmarks.client import Client, each_in_flight
from benchmarks.cpu import broker_pids, snapshot, spent
from benchmarks.raw import do_nothing_webhooks, sms_to_nobody
from revotp.replay.heap import frozen_heap
from revotp.replay.listener import Listener
from revotp.replay.plan import Mix, Synthetic
from revotp.replay.report import match_verdicts, percentiles, summarise
from revotp.replay.sender import Pace, Target, new_counters, send_plan
from tests.chaos.deployment import Deployment
from tests.integration.conftest import ACME_KEY

NUMBER_RATE_LIMIT = "1000000/1"
CREATE_CONCURRENCY = 32  # challenge creations in flight (and in the do-nothing yardstick's run)


class _Verdict(msgspec.Struct):
    """What the benchmark reads of a frame. Decoding the whole of an 800-byte verdict frame
    (receipt included) with ``json.loads`` cost 7.8 µs of the client's CPU; this, 0.7 µs."""

    type: str
    challenge_id: str = ""


read_verdict = msgspec.json.Decoder(_Verdict).decode


@dataclass(frozen=True)
class EndToEnd:
    redis: str  # what the run's Redis was: "one server", "3-primary cluster"
    matchers: int
    sms: int
    concurrency: int
    verified_per_s: float
    accepted_per_s: float  # webhooks answered 2xx per second while sending
    creates_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_sms: dict[str, float]  # by part (ingest, matchers, notifier, RabbitMQ, Redis, client)
    # The broker yardstick measured just before and just after this run, averaged: what the
    # machine allowed at that moment (it drifts by a third within minutes).
    broker_beside: float = 0.0
    broker_beside_cpu_ms: float = 0.0  # the raw path's CPU per message in those two runs


def _parts(deployment: Deployment) -> dict[str, list[int]]:
    """The processes whose CPU the run spends, by part (only the parts that run)."""
    by_service: dict[str, list[int]] = {"ingest": [], "matchers": [], "notifier": []}
    for name, process in deployment.processes.items():
        service = name.split("-")[0]
        by_service["matchers" if service == "matcher" else service].append(process.process.pid)
    return {**{part: pids for part, pids in by_service.items() if pids}, **broker_pids(), "client": [os.getpid()]}


@contextlib.asynccontextmanager
async def running(
    logs: Path, *, matchers: int, log_level: str = "info", notifier: bool = True, **env: str
) -> AsyncIterator[Deployment]:
    """Ingest, the notifier and ``matchers`` matcher processes in their own namespace, then gone
    (``env``: more REVOTP_* settings, a Redis Cluster's say)."""
    deployment = Deployment(
        f"revotp-bench-{uuid.uuid4().hex[:8]}",
        logs,
        REVOTP_NUMBER_RATE_LIMIT=NUMBER_RATE_LIMIT,
        REVOTP_FEED_BLOCK_MS="1000",
        REVOTP_LOG_LEVEL=log_level,
        **env,
    )
    try:
        services = ["ingest", *(["notifier"] if notifier else []), *(f"matcher-{n}" for n in range(1, matchers + 1))]
        await deployment.start_ready(*services)
        yield deployment
    finally:
        await deployment.close()


async def create_challenges(deployment: Deployment, count: int, *, phones: str) -> list[dict[str, str]]:
    """``count`` challenges through the tenant API, one phone each (``phones``: their first
    digits), ``CREATE_CONCURRENCY`` in flight."""
    async with Client(deployment.url("ingest"), concurrency=CREATE_CONCURRENCY) as client:
        return await each_in_flight(range(count), CREATE_CONCURRENCY, lambda n: client.create(f"{phones}{n:07d}"))


def answering_sms(challenge: dict[str, str]) -> dict[str, str]:
    """The generic webhook's SMS that verifies a created challenge: its code, from its phone."""
    return {
        "id": uuid.uuid4().hex,
        "from": challenge["phone"],
        "to": challenge["virtual_number"],
        "text": challenge["code"],
    }


async def end_to_end(
    deployment: Deployment, *, matchers: int, sms: int, concurrency: int, redis: str = "one server"
) -> EndToEnd:
    """Verified SMS per second from the first webhook to the last verdict on the socket."""
    started = time.perf_counter()
    challenges = await create_challenges(deployment, sms, phones="+3361")
    creates_per_s = sms / (time.perf_counter() - started)

    ws = await deployment.ready_socket()
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    verdicts_done = asyncio.Event()

    async def read_verdicts() -> None:
        while len(latencies) < sms:
            frame = read_verdict(await ws.receive_str())
            if frame.type == "challenge.verified":
                latencies.append(time.perf_counter() - sent_at[frame.challenge_id])
        verdicts_done.set()

    reader = asyncio.create_task(read_verdicts())
    client = Client(deployment.url("ingest"), concurrency=concurrency)

    async def send(challenge: dict[str, str]) -> None:
        message = answering_sms(challenge)
        sent_at[challenge["id"]] = time.perf_counter()
        await client.deliver(message, within=300)

    parts = _parts(deployment)
    cpu_before = snapshot(parts)
    started = time.perf_counter()
    async with client:
        await each_in_flight(challenges, concurrency, send)
    accepted_per_s = sms / (time.perf_counter() - started)
    await asyncio.wait_for(verdicts_done.wait(), 300)
    elapsed = time.perf_counter() - started
    await reader
    cpu_after = snapshot(parts)
    await ws.close()
    latencies.sort()
    return EndToEnd(
        redis=redis,
        matchers=matchers,
        sms=sms,
        concurrency=concurrency,
        verified_per_s=sms / elapsed,
        accepted_per_s=accepted_per_s,
        creates_per_s=creates_per_s,
        p50_ms=latencies[len(latencies) // 2] * 1000,
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        cpu_ms_per_sms={part: seconds * 1000 / sms for part, seconds in spent(cpu_before, cpu_after).items()},
    )


@dataclass(frozen=True)
class IngestAlone:
    sms: int  # per round
    concurrency: int
    accepted_per_s: tuple[float, ...]  # each round's
    web_beside: tuple[float, ...]  # the do-nothing handler, measured just before each round
    cpu_ms_per_sms: dict[str, float]  # over every round

    @property
    def ratios(self) -> list[float]:
        """Each round's rate over the handler's measured just before it."""
        return [ingest / web for ingest, web in zip(self.accepted_per_s, self.web_beside, strict=True)]


async def ingest_alone(logs: Path, *, sms: int, concurrency: int, log_level: str, rounds: int = 3) -> IngestAlone:
    """Webhooks accepted per second by ingest with no matcher or notifier running.

    The end-to-end runs share the two cores among every part, so their acceptance rate is the
    pipeline's; here ingest (signature, numbers, admission, confirmed publish) has the cores
    with only the broker, Redis and the client, as the do-nothing handler had. The queue keeps
    the SMS, which match no challenge; the namespace goes with the deployment.

    Two seconds of each say little on a machine whose speed drifts within minutes, so rounds
    alternate: the do-nothing handler, then ingest, each round's ratio taken between the two.
    """
    async with (
        running(logs, matchers=0, log_level=log_level, notifier=False) as deployment,
        Client(deployment.url("ingest"), concurrency=concurrency) as client,
    ):

        async def send(n: int) -> None:
            response = await client.post_sms(sms_to_nobody(n))
            assert response.status == 202, response.status

        await each_in_flight(range(min(sms, 500)), concurrency, send)  # connections, caches
        parts = _parts(deployment)
        rates: list[float] = []
        web: list[float] = []
        cpu_spent: dict[str, float] = {}
        for number in range(1, rounds + 1):
            web.append(await do_nothing_webhooks(sms, concurrency))
            cpu_before = snapshot(parts)
            started = time.perf_counter()
            await each_in_flight(range(number * sms, (number + 1) * sms), concurrency, send)
            rates.append(sms / (time.perf_counter() - started))
            for part, seconds in spent(cpu_before, snapshot(parts)).items():
                cpu_spent[part] = cpu_spent.get(part, 0.0) + seconds
    return IngestAlone(
        sms=sms,
        concurrency=concurrency,
        accepted_per_s=tuple(rates),
        web_beside=tuple(web),
        cpu_ms_per_sms={part: seconds * 1000 / (sms * rounds) for part, seconds in cpu_spent.items()},
    )


@dataclass(frozen=True)
class PacedLatency:
    offered_per_s: float
    sms: int  # over every round
    p50_ms: float  # of every round's latencies together
    p99_ms: float
    max_ms: float
    round_p99s_ms: tuple[float, ...]  # how far one round's p99 strays from the pooled one
    late_p99_ms: float  # how far the client fell behind its schedule: near 0 when it kept the pace


async def paced_latency(deployment: Deployment, *, rate: float, seconds: float, rounds: int = 1) -> PacedLatency:
    """Webhook → verdict latency at a steady offered load, measured by ``revotp replay``'s parts.

    A few seconds' p99 rests on a few dozen SMS and moves with the shared machine, so several
    rounds are pooled, and each round's p99 is kept to show the spread."""
    latencies: list[float] = []
    round_p99s: list[float] = []
    late_p99 = 0.0
    for number in range(rounds):
        measured, late = await _paced_round(deployment, rate=rate, seconds=seconds, seed=number)
        latencies += measured
        round_p99s.append(percentiles(measured)["p99"])
        late_p99 = max(late_p99, late)
    pooled = percentiles(latencies)
    return PacedLatency(rate, len(latencies), pooled["p50"], pooled["p99"], pooled["max"], tuple(round_p99s), late_p99)


async def _paced_round(deployment: Deployment, *, rate: float, seconds: float, seed: int) -> tuple[list[float], float]:
    """One round's latencies (ms) and how late the client's p99 send was. Rounds draw their
    phones apart (``seed``): the same phones every round would meet the per-sender limit."""

    count = max(1, round(rate * seconds))
    target = Target(deployment.url("ingest"), "generic", deployment.env, deployment.env["REVOTP_PUBLIC_URL"])
    plan = await Synthetic(deployment.session, target.ingest_url, ACME_KEY, seed=count * 1000 + seed).plan(
        count, Mix(right=1, wrong=0, unknown=0, duplicate=0), ttl_s=900
    )
    listener = Listener(deployment.session, deployment.url("notifier"), ACME_KEY)
    await listener.open()
    try:
        with frozen_heap():
            sent = await send_plan(plan, target, Pace(256, rate=rate), processes=1, counters=new_counters(1))
            await listener.settle(expected=count, quiet_s=0.2, limit_s=60)
    finally:
        await listener.close()
    outcomes, unexplained, others = match_verdicts(plan, sent, listener.frames)
    report = summarise(outcomes, unexplained, others, paced=True)
    if report.as_expected != count:
        raise RuntimeError(f"paced run at {rate:,.0f}/s: {count - report.as_expected} of {count} SMS not verified")
    return [(o.verdict_at - o.sent.sent_at) * 1000 for o in outcomes if o.verdict_at], report.late_ms["p99"]
