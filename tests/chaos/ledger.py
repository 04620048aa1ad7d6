"""The chaos ledger: thousands of SMS through real processes while something breaks them.

A test brings its deployment and its own breakage (a coroutine run while the SMS stream); the
ledger plans the challenges and the SMS, streams them as a retrying provider would, and then
checks that it balances: every SMS that got a 2xx was processed exactly once (the attempt
counts say so), every challenge ends in the state the rules give, each tenant's log holds
exactly one terminal event per challenge, nothing was dead-lettered, and a client that
resumes from its cursor (on another notifier, where there are several) receives the whole log
in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest
from redis.asyncio import Redis

from common.amqp import broker_urls
from common.events import Entry, decode_entries
from common.names import Names
from common.store import ChallengeStore
from tests.chaos.deployment import Deployment, next_json, wait_for
from tests.integration.conftest import ACME_KEY, GLOBEX_KEY
from tests.support.queues import take_bodies

CHALLENGES_PER_KIND = 75
NOISE = 675
# What every ledger deployment runs with: allowances the planned stream never reaches, short
# publish timeouts so outages show as 503s, and deliveries enough to outlast every breakage.
LEDGER_SETTINGS = {
    "REVOTP_SENDER_RATE_LIMIT": "1000/60",
    "REVOTP_NUMBER_RATE_LIMIT": "100000/1",
    "REVOTP_PUBLISH_TIMEOUT_S": "2",
    "REVOTP_PREFETCH": "8",
    "REVOTP_MAX_DELIVERIES": "50",
}
CONCURRENCY = 24
RATE_PER_S = 70  # paced, so that both restarts fall in the middle of the stream
NUMBER = "+15550100000"
TENANTS = {"acme": ACME_KEY, "globex": GLOBEX_KEY}

# kind: (final status, attempts the rules allow)
EXPECTED = {
    "right": ("verified", {1}),
    "wrong_then_right": ("verified", {1, 2}),  # the order the two arrive in decides
    "three_wrong": ("failed", {3}),
    "two_wrong": ("canceled", {2}),  # still pending at the end, then canceled
    "right_from_foreign": ("canceled", {0}),  # another phone's SMS never counts
}


@dataclass
class Planned:
    kind: str
    message: dict[str, str]
    challenge_id: str | None
    tries: int = 0
    accepted: bool = False


@dataclass
class Ledger:
    challenges: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (tenant, kind)
    sms: list[Planned] = field(default_factory=list)
    chaos: list[str] = field(default_factory=list)


def wrong(code: str, salt: int) -> str:
    return "".join(str((int(digit) + 1 + salt) % 10) for digit in code)


def plan(ledger: Ledger, challenge: dict[str, Any], tenant: str, kind: str, rng: random.Random) -> None:
    ledger.challenges[challenge["id"]] = (tenant, kind)
    phone, code = challenge["phone"], challenge["code"]

    def sms(text: str, sender: str = phone, message_id: str | None = None) -> dict[str, str]:
        return {"id": message_id or uuid.uuid4().hex, "from": sender, "to": NUMBER, "text": text}

    if kind == "right":
        first = sms(f"my code {code}")
        messages = [first, dict(first)]  # the provider retries the same message
    elif kind == "wrong_then_right":
        messages = [sms(wrong(code, 0)), sms(code)]
    elif kind == "three_wrong":
        messages = [sms(wrong(code, salt)) for salt in range(3)]
        messages.append(dict(messages[0]))
    elif kind == "two_wrong":
        messages = [sms(wrong(code, salt)) for salt in range(2)]
    else:
        messages = [sms(code, sender=f"+3369{rng.randrange(10**7):07d}")]
    ledger.sms += [Planned(kind, message, challenge["id"]) for message in messages]


async def send_all(deployment: Deployment, ledger: Ledger) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    started = time.monotonic()

    async def one(index: int, item: Planned) -> None:
        await asyncio.sleep(max(0.0, started + index / RATE_PER_S - time.monotonic()))
        async with gate:
            item.tries = await deployment.deliver(item.message, within=240)
            item.accepted = True

    await asyncio.gather(*(one(index, item) for index, item in enumerate(ledger.sms)))


# What breaks the deployment while the SMS stream: it runs until ``stop`` is set, then returns.
Breakage = Callable[[Ledger, asyncio.Event], Coroutine[Any, Any, None]]


async def run_ledger(
    deployment: Deployment,
    breakage: Breakage,
    *,
    redis: Redis,
    matchers: list[str],
    notifiers: tuple[str, str] = ("notifier", "notifier"),
    title: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Stream the planned SMS while ``breakage`` runs, then assert that the ledger balances.

    ``redis`` reads the end state; ``notifiers``: where the tenant client watches, then where
    it resumes from its cursor.
    """
    amqp_url = deployment.env["REVOTP_AMQP_URL"]
    rng = random.Random(42)
    ledger = Ledger()
    names = Names(deployment.namespace)
    # A tenant client that will go away mid-run and come back with its cursor.
    watcher = await deployment.tenant_socket(notifier=notifiers[0])
    assert (await next_json(watcher))["type"] == "ready"
    kinds = [kind for kind in EXPECTED for _ in range(CHALLENGES_PER_KIND)]
    for index, kind in enumerate(kinds):
        tenant = "acme" if index % 2 else "globex"
        challenge = await deployment.create(f"+3361{index:07d}", TENANTS[tenant])
        plan(ledger, challenge, tenant, kind, rng)
    ledger.sms += [
        Planned(
            "unknown_sender",
            {"id": uuid.uuid4().hex, "from": f"+3365{n:07d}", "to": NUMBER, "text": f"{rng.randrange(10**6):06d}"},
            None,
        )
        for n in range(NOISE)
    ]
    rng.shuffle(ledger.sms)

    seen_before: list[dict[str, Any]] = []

    async def watch_for_a_while() -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(6):
                while True:
                    seen_before.append(await next_json(watcher, within=10))
        await watcher.close()

    stop = asyncio.Event()
    monkey = asyncio.create_task(breakage(ledger, stop))
    watching = asyncio.create_task(watch_for_a_while())
    started = time.monotonic()
    await send_all(deployment, ledger)
    stop.set()
    await monkey
    await watching
    stream_s = time.monotonic() - started

    # Let the matchers drain what the chaos returned to the queue.
    store = ChallengeStore(redis, names, event_retention_ms=86_400_000)

    async def state(challenge_id: str) -> tuple[str, int]:
        tenant, _ = ledger.challenges[challenge_id]
        challenge = await store.get(tenant, challenge_id)
        assert challenge is not None
        return challenge.status, challenge.attempts

    async def settled() -> bool:
        for challenge_id, (_, kind) in ledger.challenges.items():
            status, attempts = await state(challenge_id)
            final, allowed = EXPECTED[kind]
            if final == "canceled":
                final = "pending"
            if status != final or attempts not in allowed:
                return False
        return await queue_depth(amqp_url, names.inbound_queue) == 0

    assert await wait_for(settled, within=180, every=1.0), "the challenges did not settle as the rules say"
    # Stopping the matchers gracefully ends whatever they still held: they finish it or give it
    # back to the queue, so after they exit nothing is in flight and the state is final.
    for name in matchers:
        matcher = deployment.processes[name]
        await matcher.wait_ready()  # the last one the chaos restarted may still be starting
        assert matcher.terminate() == 0, matcher.log()
    assert await settled(), "a matcher's last work changed a challenge after it had settled"
    for challenge_id, (tenant, kind) in ledger.challenges.items():
        if EXPECTED[kind][0] == "canceled":
            assert await deployment.cancel(challenge_id, TENANTS[tenant]) == 200

    # The ledger.
    rows = []
    failures = []
    for kind in [*EXPECTED, "unknown_sender"]:
        items = [item for item in ledger.sms if item.kind == kind]
        ids = {item.challenge_id for item in items if item.challenge_id}
        states = [await state(challenge_id) for challenge_id in ids]
        final, allowed = EXPECTED.get(kind, ("-", {0}))
        good = sum(1 for status, attempts in states if status == final and attempts in allowed)
        if good != len(states):
            failures.append(kind)
        rows.append(
            (
                kind,
                len(ids),
                len(items),
                sum(item.accepted for item in items),
                sum(item.tries > 1 for item in items),
                final,
                f"{good}/{len(states)}" if states else "-",
            )
        )

    events: dict[str, list[Entry]] = {}
    terminal: Counter[str] = Counter()
    for tenant in TENANTS:
        events[tenant] = decode_entries(await redis.xrange(names.events(tenant)))
        for _, event in events[tenant]:
            if event.terminal:
                terminal[event.challenge_id] += 1
    async with await connect_any(amqp_url) as connection:
        dead = len(await take_bodies(connection, names.dead_letter_queue))

    # The client comes back with its last cursor and gets the rest, in order.
    cursor = seen_before[-1]["cursor"] if seen_before else "0-0"
    resumed = await deployment.tenant_socket(TENANTS["acme"], after=cursor, notifier=notifiers[1])
    rest = []
    while (frame := await next_json(resumed))["type"] != "ready":
        rest.append(frame)
    await resumed.close()
    log_ids = [cursor for cursor, _ in events["acme"]]
    received = [frame["cursor"] for frame in seen_before + rest]

    with capsys.disabled():
        print(f"\n\n{title} — {len(ledger.sms)} SMS in {stream_s:.1f} s, {len(matchers)} matchers")
        for line in ledger.chaos:
            print(f"  {line}")
        header = ("kind", "challenges", "SMS", "2xx", "retried", "final", "as the rules say")
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  " + "  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)))
        print(
            f"  terminal events: {sum(terminal.values())} for {len(ledger.challenges)} challenges; "
            f"dead-lettered: {dead}; resumed client: {len(seen_before)} live + {len(rest)} after its cursor "
            f"= {len(received)} of {len(log_ids)} in acme's log"
        )

    assert all(item.accepted for item in ledger.sms)
    assert not failures, f"kinds whose challenges broke the rules: {failures}"
    assert set(terminal) == set(ledger.challenges)
    assert set(terminal.values()) == {1}, "a challenge got more than one terminal event"
    assert dead == 0
    assert received == log_ids, "the resumed client did not get the whole log, in order"


async def connect_any(urls: str) -> aio_pika.abc.AbstractConnection:
    """A connection to the first node of ``REVOTP_AMQP_URL`` that answers."""
    for url in broker_urls(urls):
        with contextlib.suppress(OSError, aio_pika.exceptions.AMQPError):
            return await aio_pika.connect(url)
    raise ConnectionError(f"no broker node answers: {urls}")


async def queue_depth(urls: str, queue_name: str) -> int:
    """Ready messages in a queue, as the broker reports them (a quorum queue's count may lag)."""
    connection = await connect_any(urls)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, passive=True)
        return int(queue.declaration_result.message_count or 0)
