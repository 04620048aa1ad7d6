"""The atomic step on a real Redis, held to its executable specification (``matcher/rules.py``).

Hypothesis writes random programs of creates, SMS (in both match modes), cancels, expiries,
route lookups and clock moves over two tenants, two phones and two virtual numbers, with codes
drawn from a small pool so that challenges share codes and SMS repeat provider ids. Each
program runs against ``ChallengeStore`` (the Lua script) and against ``Rules``; every answer,
every challenge's final state and every tenant's event log must be the same.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from common.challenge_ids import new_challenge_id
from common.challenges import Challenge, Status
from common.clock import now_ms
from common.codes import Alphabet, spec
from common.events import Event, decode_entries
from common.keyring import Keyring
from common.names import Names
from common.store import ChallengeStore, MatchMode, MatchResult
from matcher.matching import candidates_by_spec
from matcher.rules import ModelChallenge, Rules
from tests.integration.conftest import redis_client

TENANTS = ("acme", "globex")
PHONES = ("+33612345678", "+33698765432")
NUMBERS = ("+15550100000", "+15550100001")
MESSAGE_IDS = ("m1", "m2", "m3", "m4")
# (alphabet, length) → the few codes challenges of that shape get: collisions are the point.
SHAPES = {
    (Alphabet.NUMERIC, 4): ("4839", "1207"),
    (Alphabet.NUMERIC, 6): ("483920", "120734"),
    (Alphabet.ALPHANUMERIC, 5): ("K7M2Q", "B4X9Z"),
}
# Wrong guesses of each shape, and words that are no candidate of any shape in use.
NOISE = ("5555", "6060", "777777", "808080", "Q3Q3Q", "R5R5R", "hello", "99999", "4839201", "K7M2", "THANKS")
TARGET_CODE = "<the target's code>"  # stands for the code of the challenge an SMS is aimed at
OTHER_CODE = "<another's code>"  # and for that of another challenge waiting for the same SMS
KEYRING = Keyring(b"rules-model-test-secret-key-0123")
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Create:
    beside: int | None  # or: at the tenant, sender, number and shape of this created challenge
    tenant: str
    phone: str
    number: str
    shape: tuple[Alphabet, int]
    code_index: int  # which code of its shape's pool
    max_attempts: int
    ttl_ms: int
    test: bool  # a test challenge: reached by simulated SMS only


@dataclass(frozen=True)
class Sms:
    target: int | None  # from the sender to the number of this created challenge, at its tenant
    tenant: str
    phone: str
    number: str
    provider: str
    message_id: str
    text: str
    lag_ms: int  # how long before "now" ingest accepted it
    at_deadline: int | None  # or: accepted this many ms after the target's deadline (clock moved there)
    mode: MatchMode
    simulated: bool | None  # a test-mode SMS; None: as its target is a test challenge or not
    received_lag_ms: int | None = None  # the provider received it this long before ingest; None: it did not say


@dataclass(frozen=True)
class Cancel:
    pick: int  # which created challenge, modulo how many exist


@dataclass(frozen=True)
class Expire:
    pick: int
    grace_ms: int
    at_deadline: int | None  # or: the cutoff is this many ms after the challenge's deadline


@dataclass(frozen=True)
class Route:
    phone: str
    number: str
    provider: str
    message_id: str


@dataclass(frozen=True)
class Redeliver:
    """The provider posts the last SMS again, unchanged (a retry, a redelivery)."""


@dataclass(frozen=True)
class Tick:
    ms: int


Operation = Create | Sms | Redeliver | Cancel | Expire | Route | Tick

# Weighted towards one tenant, sender and number, so that challenges meet the same SMS.
_tenant = st.sampled_from(["acme", "acme", "globex"])
_phone = st.sampled_from([PHONES[0], PHONES[0], PHONES[0], PHONES[1]])
_number = st.sampled_from([NUMBERS[0], NUMBERS[0], NUMBERS[0], NUMBERS[1]])
_provider = st.sampled_from(["generic", "generic", "twilio"])
_message_id = st.sampled_from(MESSAGE_IDS)
_shape = st.sampled_from([*SHAPES, (Alphabet.NUMERIC, 4)])
_all_codes = [code for codes in SHAPES.values() for code in codes]
_texts = st.lists(
    st.sampled_from([*_all_codes, *NOISE, TARGET_CODE, TARGET_CODE, OTHER_CODE, OTHER_CODE]), max_size=4
).flatmap(lambda words: st.sampled_from([" ", "-", ". "]).map(lambda sep: sep.join(words)))
_creates = st.builds(
    Create,
    beside=st.one_of(st.none(), st.integers(0, 20)),
    tenant=_tenant,
    phone=_phone,
    number=_number,
    shape=_shape,
    code_index=st.integers(0, 1),
    max_attempts=st.integers(1, 3),
    ttl_ms=st.sampled_from([1_000, 5_000, 60_000]),
    test=st.sampled_from([False, False, False, True]),
)
_sms = st.builds(
    Sms,
    target=st.one_of(st.none(), st.integers(0, 20), st.integers(0, 20)),
    tenant=_tenant,
    phone=_phone,
    number=_number,
    provider=_provider,
    message_id=_message_id,
    text=_texts,
    lag_ms=st.sampled_from([0, 0, 1, 1_000, 70_000]),
    at_deadline=st.sampled_from([None, None, None, -1, 0, 1]),
    mode=st.sampled_from([MatchMode.ALL, MatchMode.ALL, MatchMode.ALL, MatchMode.VERIFYING]),
    simulated=st.sampled_from([None, None, None, True, False]),
    received_lag_ms=st.sampled_from([None, None, 0, 1_000, 3_000, 70_000]),
)
_operations = st.one_of(
    _creates,
    _creates,
    _sms,
    _sms,
    _sms,
    st.builds(Cancel, pick=st.integers(0, 20)),
    st.builds(
        Expire,
        pick=st.integers(0, 20),
        grace_ms=st.sampled_from([0, 500]),
        at_deadline=st.sampled_from([None, -1, 0, 1]),
    ),
    st.builds(
        Route,
        phone=_phone,
        number=_number,
        provider=_provider,
        message_id=_message_id,
    ),
    st.just(Redeliver()),
    st.builds(Tick, ms=st.sampled_from([1, 999, 1_000, 4_000, 65_000])),
)
programs = st.lists(_operations, min_size=10, max_size=40)


def comparable(result: MatchResult) -> tuple[Any, ...]:
    """A match answer without event ids, which only the real log assigns: whether there was one."""
    verdicts = tuple((v.challenge_id, v.status, v.attempts, bool(v.event_id)) for v in result.verdicts)
    return result.applied, result.verified, verdicts, result.stale


class Run:
    """One program against both sides, in step."""

    def __init__(self, redis: Redis, names: Names) -> None:
        self.redis = redis
        self.store = ChallengeStore(redis, names, event_retention_ms=DAY_MS)
        self.rules = Rules()
        self.now = now_ms()  # never behind Redis's clock, so no key expires during the run
        self.created: list[Challenge] = []
        self.codes: dict[str, str] = {}  # challenge id → its code
        self.last_sms: tuple[Sms, int] | None = None  # as sent, with its accepted_at

    async def apply(self, operation: Operation) -> None:
        match operation:
            case Create():
                await self._create(operation)
            case Sms():
                await self._sms(operation)
            case Redeliver() if self.last_sms is not None:
                await self._match(*self.last_sms)
            case Cancel(pick=pick) if self.created:
                challenge = self.created[pick % len(self.created)]
                real = await self.store.cancel(challenge, self.now)
                assert real == self.rules.cancel(challenge.tenant_id, challenge.id, self.now), operation
            case Expire(pick=pick, grace_ms=grace_ms, at_deadline=at_deadline) if self.created:
                challenge = self.created[pick % len(self.created)]
                cutoff = self.now - grace_ms
                if at_deadline is not None:
                    cutoff = challenge.expires_at + at_deadline
                    self.now = max(self.now, cutoff)
                real_expired = await self.store.expire(challenge, cutoff_ms=cutoff, now_ms=self.now)
                assert real_expired == self.rules.expire(challenge.tenant_id, challenge.id, cutoff=cutoff, now=self.now)
            case Route():
                where = {"provider": operation.provider, "provider_message_id": operation.message_id}
                real_route = await self.store.route_of(operation.phone, operation.number, **where)
                real_tenants = list(real_route.tenants)
                assert real_tenants == self.rules.tenants_judging(operation.phone, operation.number, **where)
            case Tick(ms=ms):
                self.now += ms

    async def _create(self, op: Create) -> None:
        if op.beside is not None and self.created:
            near = self.created[op.beside % len(self.created)]
            shape = (near.alphabet, near.code_length)
            op = replace(op, tenant=near.tenant_id, phone=near.phone, number=near.virtual_number, shape=shape)
        alphabet, length = op.shape
        code = SHAPES[op.shape][op.code_index]
        challenge = Challenge(
            id=new_challenge_id(self.now + op.ttl_ms),
            tenant_id=op.tenant,
            phone=op.phone,
            virtual_number=op.number,
            status=Status.PENDING,
            attempts=0,
            max_attempts=op.max_attempts,
            code_length=length,
            alphabet=alphabet,
            created_at=self.now,
            expires_at=self.now + op.ttl_ms,
            test=op.test,
        )
        self.created.append(challenge)
        self.codes[challenge.id] = code
        await self.store.create(challenge, KEYRING.code_hash(op.tenant, op.phone, code))
        self.rules.create(
            ModelChallenge(
                id=challenge.id,
                tenant_id=op.tenant,
                phone=op.phone,
                virtual_number=op.number,
                code=code,
                spec=spec(alphabet, length),
                max_attempts=op.max_attempts,
                expires_at=challenge.expires_at,
                created_at=challenge.created_at,
                test=op.test,
            )
        )

    async def _sms(self, op: Sms) -> None:
        accepted_at = self.now - op.lag_ms
        if op.target is not None and self.created:
            target = self.created[op.target % len(self.created)]
            op = replace(op, tenant=target.tenant_id, phone=target.phone, number=target.virtual_number)
            # Preferably one still waiting, of the target's shape: its code is then no wrong guess.
            others = sorted(
                (
                    self.rules.challenges[(other.tenant_id, other.id)]
                    for other in self.created
                    if other.id != target.id
                    and (other.tenant_id, other.phone, other.virtual_number) == (op.tenant, op.phone, op.number)
                ),
                key=lambda other: (
                    other.status is Status.PENDING,
                    other.spec == spec(target.alphabet, target.code_length),
                ),
            )
            others_codes = [other.code for other in others]
            text = op.text.replace(TARGET_CODE, self.codes[target.id])
            op = replace(op, text=text.replace(OTHER_CODE, others_codes[-1] if others_codes else "0000"))
            if op.at_deadline is not None:
                accepted_at = target.expires_at + op.at_deadline
                self.now = max(self.now, accepted_at)
            if op.simulated is None:
                op = replace(op, simulated=target.test)
        op = replace(op, text=op.text.replace(TARGET_CODE, "0000").replace(OTHER_CODE, "0000"))
        await self._match(op, accepted_at)

    async def _match(self, op: Sms, accepted_at: int) -> None:
        self.last_sms = (op, accepted_at)
        candidates = candidates_by_spec(op.text)
        hashes = {
            shape: [KEYRING.code_hash(op.tenant, op.phone, code) for code in codes]
            for shape, codes in candidates.items()
        }
        where: dict[str, Any] = {
            "provider": op.provider,
            "provider_message_id": op.message_id,
            "phone": op.phone,
            "virtual_number": op.number,
            "mode": op.mode,
            "simulated": bool(op.simulated),
        }
        received_at = None if op.received_lag_ms is None else accepted_at - op.received_lag_ms
        real = await self.store.match(
            op.tenant,
            accepted_at_ms=accepted_at,
            now_ms=self.now,
            candidate_hashes=hashes,
            received_at_ms=received_at,
            **where,
        )
        model = self.rules.match(
            op.tenant, accepted_at=accepted_at, now=self.now, candidates=candidates, received_at=received_at, **where
        )
        assert comparable(real) == comparable(model), op
        event(f"sms {model.applied}")
        for verdict in model.verdicts:
            event(f"sms left a challenge {verdict.status}")
        if model.stale:
            event("sms too old for a challenge")

    async def assert_same_end_state(self) -> None:
        for challenge in self.created:
            real = await self.store.get(challenge.tenant_id, challenge.id)
            model = self.rules.challenges[(challenge.tenant_id, challenge.id)]
            assert real is not None
            assert (real.status, real.attempts, real.verified_at) == (model.status, model.attempts, model.verified_at)
            assert (real.last_event_id is not None) == (model.last_event is not None)
        for tenant in TENANTS:
            log = decode_entries(await self.redis.xrange(self.store.names.events(tenant)))
            real_events = [event for _, event in log]
            assert same_instant_in_any_order(real_events) == same_instant_in_any_order(
                self.rules.events.get(tenant, [])
            )


def same_instant_in_any_order(events: list[Event]) -> list[Event]:
    """The log with the events of one instant ordered by challenge: one SMS can end several
    challenges in one step, in the order its route lists them, which no rule fixes (each
    challenge's own events keep their order: the sort is stable)."""
    ordered: list[Event] = []
    for _, same_instant in itertools.groupby(events, key=lambda event: event.occurred_at):
        ordered += sorted(same_instant, key=lambda event: event.challenge_id)
    return ordered


# Every program writes under this run's prefix, deleted once at the end: a SCAN per program
# would cost a pass over the whole keyspace each time, however much else the server holds.
RUN_PREFIX = f"revotp-rules-{uuid.uuid4().hex[:10]}"
# Each program its own namespace under it, by count: six random hex digits per program collided
# once in about eight runs of 600 programs and their shrinks (a birthday draw over 16.7 million),
# and the second program then met the first one's routes and events.
_PROGRAM_NUMBERS = itertools.count()


async def run_program(program: list[Operation]) -> None:
    redis = redis_client()
    try:
        run = Run(redis, Names(f"{RUN_PREFIX}-{next(_PROGRAM_NUMBERS)}"))
        for operation in program:
            await run.apply(operation)
        await run.assert_same_end_state()
    finally:
        await redis.aclose()


async def delete_run_keys() -> None:
    redis = redis_client()
    try:
        async for keys in _batches(redis.scan_iter(match=f"{RUN_PREFIX}-*", count=10_000)):
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def _batches(keys: AsyncIterator[bytes], size: int = 1000) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for key in keys:
        batch.append(key)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@pytest.fixture(scope="module", autouse=True)
def _delete_keys_after_the_programs() -> Iterator[None]:
    yield
    asyncio.run(delete_run_keys())


# 600 programs take 20 s on one Redis; on a cluster (make test-cluster) each program's client
# first learns the slot map, which more than doubles that.
@pytest.mark.timeout(300)
@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # "explain" re-runs under a tracer: minutes
)
@given(program=programs)
def test_the_atomic_step_does_what_the_rules_say(program: list[Operation]) -> None:
    asyncio.run(run_program(program))


def test_the_model_is_no_echo_of_the_script() -> None:
    """A hand-checked case, so the model cannot silently agree with a wrong script."""
    rules = Rules()
    rules.create(
        ModelChallenge(
            id="a", tenant_id="acme", phone=PHONES[0], virtual_number=NUMBERS[0], code="4839",
            spec=spec(Alphabet.NUMERIC, 4), max_attempts=2, expires_at=10_000,
        )
    )  # fmt: skip
    rules.create(
        ModelChallenge(
            id="b", tenant_id="acme", phone=PHONES[0], virtual_number=NUMBERS[0], code="1207",
            spec=spec(Alphabet.NUMERIC, 4), max_attempts=2, expires_at=10_000,
        )
    )  # fmt: skip
    where: dict[str, Any] = {"provider": "generic", "phone": PHONES[0], "virtual_number": NUMBERS[0]}
    # b's code is no wrong guess for a, 5555 is one for both, then a's code verifies a.
    result = rules.match(
        "acme", provider_message_id="m1", accepted_at=1, now=2, candidates={"numeric:4": ["1207", "5555"]}, **where
    )
    assert comparable(result) == (
        "applied",
        True,
        (("a", Status.PENDING, 1, True), ("b", Status.VERIFIED, 1, True)),
        0,
    )
    assert [event.type for event in rules.events["acme"]] == ["challenge.attempt_failed", "challenge.verified"]
    again = rules.match(
        "acme", provider_message_id="m1", accepted_at=1, now=3, candidates={"numeric:4": ["4839"]}, **where
    )
    assert comparable(again) == ("duplicate", True, (), 0)
    late = rules.match(
        "acme", provider_message_id="m2", accepted_at=10_001, now=10_002, candidates={"numeric:4": ["4839"]}, **where
    )
    assert comparable(late) == ("applied", False, (("a", Status.EXPIRED, 1, True),), 0)
    rules.create(
        ModelChallenge(
            id="c", tenant_id="acme", phone=PHONES[0], virtual_number=NUMBERS[0], code="7777",
            spec=spec(Alphabet.NUMERIC, 4), max_attempts=1, expires_at=60_000, created_at=20_000,
        )
    )  # fmt: skip
    # Received by the provider 2.001 s before c existed: it cannot answer c, and costs it nothing.
    stale = rules.match(
        "acme", provider_message_id="m3", accepted_at=20_500, now=20_600, received_at=17_999,
        candidates={"numeric:4": ["7777"]}, **where,
    )  # fmt: skip
    assert comparable(stale) == ("applied", False, (), 1)
    in_tolerance = rules.match(
        "acme", provider_message_id="m4", accepted_at=20_500, now=20_600, received_at=18_000,
        candidates={"numeric:4": ["7777"]}, **where,
    )  # fmt: skip
    assert comparable(in_tolerance) == ("applied", True, (("c", Status.VERIFIED, 1, True),), 0)
