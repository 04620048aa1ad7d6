"""Sending a plan to ingest: paced or flat out, a bounded number in flight, in one or more processes.

Every send is timed on ``time.monotonic()``, which on Linux and macOS is one clock for every
process of the machine, so a child's send instant and the parent's verdict arrival compare.
Requests are signed when sent, not when planned, so a slow replay never sends stale timestamps.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import multiprocessing
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from revotp.replay.heap import frozen_heap
from revotp.replay.http import Connections, HttpError
from revotp.replay.plan import PlannedSms
from revotp.replay.webhooks import ProviderRequest, Sms, Webhooks

TRANSPORT_ERROR = 0  # the status recorded when no HTTP answer came back
REQUEST_TIMEOUT_S = 30


@dataclass(frozen=True)
class Target:
    """Where and as whom to send: ingest's URL, a provider format, and the secrets to sign with."""

    ingest_url: str
    provider: str
    env: dict[str, str]
    public_url: str
    telnyx_key: bytes | None = None  # raw Ed25519 private key

    def builder(self) -> Callable[[Sms], ProviderRequest]:
        key = Ed25519PrivateKey.from_private_bytes(self.telnyx_key) if self.telnyx_key else None
        return Webhooks(self.env, self.public_url, telnyx_key=key).builder(self.provider)


@dataclass(frozen=True)
class Pace:
    """``rate``: SMS/s overall; ``speed``: the recorded timing, this many times faster; neither: flat out."""

    concurrency: int
    rate: float | None = None
    speed: float | None = None

    def offsets(self, plan: Sequence[PlannedSms]) -> list[float]:
        """When each SMS is due, in seconds after the start."""
        if self.rate:
            return [n / self.rate for n in range(len(plan))]
        if self.speed:
            first = min(sms.at_s for sms in plan if sms.at_s is not None)
            return [((sms.at_s or first) - first) / self.speed for sms in plan]
        return [0.0] * len(plan)

    def share(self, processes: int) -> Pace:
        return Pace(max(1, self.concurrency // processes), self.rate, self.speed)


@dataclass(frozen=True)
class Sent:
    """One send: when it was due and sent, when it was answered, and how (0: no answer)."""

    index: int
    due_at: float
    sent_at: float
    answered_at: float
    status: int
    error: str = ""  # the JSON error code or transport error of a refusal


# Progress counters shared with child processes: [sent, answered] per process.
Counters = ctypes.Array[ctypes.c_longlong]
_counters: Counters | None = None


def new_counters(processes: int) -> Counters:
    counters: Counters = multiprocessing.get_context("spawn").RawArray(ctypes.c_longlong, 2 * processes)
    return counters


def totals(counters: Counters) -> tuple[int, int]:
    """(sent, answered) over every process."""
    values = list(counters)
    return sum(values[0::2]), sum(values[1::2])


async def send_share(
    items: Sequence[tuple[PlannedSms, float]],
    target: Target,
    pace: Pace,
    start_at: float,
    slot: int,
    counters: Counters,
) -> list[Sent]:
    """Send each (SMS, offset) at ``start_at + offset`` or as soon after as the gate allows."""
    build = target.builder()
    gate = asyncio.Semaphore(pace.concurrency)
    results: list[Sent] = []
    connections = Connections(target.ingest_url, limit=pace.concurrency, timeout_s=REQUEST_TIMEOUT_S)

    async def send(planned: PlannedSms, due_at: float) -> None:
        try:
            request = build(planned.sms)
            sent_at = time.monotonic()
            counters[2 * slot] += 1
            status, error = await _post(connections, request)
            results.append(Sent(planned.index, due_at, sent_at, time.monotonic(), status, error))
            counters[2 * slot + 1] += 1
        finally:
            gate.release()

    tasks = set()
    try:
        for planned, offset in items:
            due_at = start_at + offset
            if (delay := due_at - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            task = asyncio.create_task(send(planned, due_at))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks:
            await asyncio.gather(*tasks)
    finally:
        await connections.close()
    return results


async def _post(connections: Connections, request: ProviderRequest) -> tuple[int, str]:
    try:
        response = await connections.request(request.method, request.path, request.body, request.headers)
    except HttpError as exc:
        return TRANSPORT_ERROR, exc.reason
    if response.status < 300:
        return response.status, ""
    return response.status, _error_code(response.body)


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def _child_init(counters: Counters) -> None:
    global _counters
    _counters = counters


def _child_send(
    items: Sequence[tuple[PlannedSms, float]], target: Target, pace: Pace, start_at: float, slot: int
) -> list[Sent]:
    import uvloop

    assert _counters is not None
    with frozen_heap():
        return uvloop.run(send_share(items, target, pace, start_at, slot, _counters))


async def send_plan(
    plan: Sequence[PlannedSms], target: Target, pace: Pace, *, processes: int, counters: Counters
) -> list[Sent]:
    """Send the whole plan, split over ``processes`` (1: in this process).

    Each sender's SMS go to one process, which sends them in plan order: a provider's retry is
    never sent before its original by another process.
    """
    schedule = list(zip(plan, pace.offsets(plan), strict=True))
    shares: list[list[tuple[PlannedSms, float]]] = [[] for _ in range(processes)]
    for planned, offset in schedule:
        shares[zlib.crc32(planned.sms.sender.encode()) % processes].append((planned, offset))
    if processes == 1:
        return await send_share(schedule, target, pace, time.monotonic(), 0, counters)
    share = pace.share(processes)
    context = multiprocessing.get_context("spawn")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_child_init, initargs=(counters,)) as pool:
        # Start every process's clock at one instant, once they had time to import and connect.
        warmed = [loop.run_in_executor(pool, _warm) for _ in range(processes)]
        await asyncio.gather(*warmed)
        start_at = time.monotonic() + 0.2
        futures = [
            loop.run_in_executor(pool, _child_send, shares[slot], target, share, start_at, slot)
            for slot in range(processes)
        ]
        results = await asyncio.gather(*futures)
    return sorted((sent for share_results in results for sent in share_results), key=lambda sent: sent.index)


def _warm() -> None:
    """Import what a child sends with before the clock starts."""
    import uvloop  # noqa: F401

    import revotp.replay.webhooks  # noqa: F401
