"""The challenge store: Redis keys and the atomic script behind every state change."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from importlib import resources

import msgspec
from redis.asyncio import Redis
from redis.typing import EncodableT

from common.challenges import Challenge, Status
from common.names import Names
from common.pipelining import SharedPipeline
from common.redis import binary, text

# Any SMS carrying a provider message id is deduplicated for this long per tenant.
SEEN_TTL_MS = 48 * 3600 * 1000
# Challenges stay readable (GET, watch socket) this long after they expire.
RETENTION_AFTER_EXPIRY_MS = 24 * 3600 * 1000

_SCRIPT = resources.files("common").joinpath("lua/challenges.lua").read_text()


class CancelOutcome(enum.Enum):
    CANCELED = "canceled"
    MISSING = "missing"
    CONFLICT = "conflict"


class Verdict(msgspec.Struct, frozen=True):
    """What one SMS did to one challenge; ``event_id`` is empty when nothing changed."""

    challenge_id: str
    status: Status
    attempts: int
    event_id: str


class MatchMode(enum.StrEnum):
    ALL = "all"  # commit whatever the SMS does to the tenant's challenges
    VERIFYING = "verifying"  # commit only if the SMS verifies one of them; else write nothing


class Applied(enum.StrEnum):
    APPLIED = "applied"  # the SMS's effects on this tenant were committed now
    DUPLICATE = "duplicate"  # they were committed before (a retry or a redelivery)
    HELD = "held"  # VERIFYING mode and nothing verified: nothing was written


class MatchResult(msgspec.Struct, frozen=True):
    applied: Applied
    verified: bool  # the SMS verified a challenge of this tenant (now, or when first applied)
    verdicts: tuple[Verdict, ...] = ()


class ChallengeStore:
    def __init__(
        self, redis: Redis, names: Names, *, event_retention_ms: int, shared: SharedPipeline | None = None
    ) -> None:
        self._redis = redis
        self.names = names
        self._retention_ms = event_retention_ms
        self._script = redis.register_script(_SCRIPT)
        # Hot paths (judging SMS, creating challenges): concurrent callers share round trips.
        self._shared = shared or SharedPipeline(redis)

    def _min_event_id(self, now_ms: int) -> str:
        return str(now_ms - self._retention_ms)

    async def create(self, challenge: Challenge, code_hash: bytes) -> None:
        """Store a new pending challenge and make it findable by sender and by deadline.

        One round trip, in this order: the route and deadline entries first, so that a crash
        part way leaves a harmless pointer to nothing, never a challenge that no SMS or sweeper
        can reach.
        """
        names = self.names
        route = names.route(challenge.phone, challenge.virtual_number)
        index_until = challenge.expires_at + 60_000
        keep_until = challenge.expires_at + RETENTION_AFTER_EXPIRY_MS
        member = names.deadline_member(challenge.tenant_id, challenge.id)
        await self._shared.execute_many(
            [
                ("HSET", route, member, ""),
                # Only extend: a longer-lived challenge of another tenant may share the route.
                ("PEXPIREAT", route, index_until, "GT"),
                ("PEXPIREAT", route, index_until, "NX"),
                ("ZADD", names.deadlines, challenge.expires_at, member),
                (
                    "SET",
                    names.challenge(challenge.tenant_id, challenge.id),
                    challenge.pack(code_hash),
                    "PXAT",
                    keep_until,
                ),
            ]
        )

    async def get(self, tenant_id: str, challenge_id: str) -> Challenge | None:
        packed = await self._redis.get(self.names.challenge(tenant_id, challenge_id))
        return Challenge.unpack(tenant_id, challenge_id, binary(packed)) if packed else None

    async def cancel(self, challenge: Challenge, now_ms: int) -> tuple[CancelOutcome, Status | None]:
        keys = self._keys_of(challenge)
        reply = await self._script(keys=keys, args=["cancel", now_ms, self._min_event_id(now_ms)])
        outcome = CancelOutcome(text(reply[0]))
        if outcome is CancelOutcome.CANCELED:
            await self._leave_route(challenge)
        status = Status(text(reply[1])) if outcome is CancelOutcome.CONFLICT else None
        return outcome, status

    async def expire(self, challenge: Challenge, *, cutoff_ms: int, now_ms: int) -> bool:
        """Expire the challenge if still pending and due by ``cutoff_ms``; True when it did."""
        keys = self._keys_of(challenge)
        args: list[EncodableT] = ["expire", now_ms, self._min_event_id(now_ms), cutoff_ms]
        reply = await self._script(keys=keys, args=args)
        return bool(reply[0] == b"expired")

    async def match(
        self,
        tenant_id: str,
        *,
        provider: str,
        provider_message_id: str,
        phone: str,
        virtual_number: str,
        accepted_at_ms: int,
        now_ms: int,
        candidate_hashes: Mapping[str, Sequence[bytes]],
        mode: MatchMode = MatchMode.ALL,
    ) -> MatchResult:
        """Apply one SMS to the tenant's pending challenges for this sender and number."""
        names = self.names
        on_route = await self._shared.execute("HKEYS", names.route(phone, virtual_number))
        challenge_ids = sorted(
            challenge_id
            for member_tenant, challenge_id in map(names.parse_deadline_member, map(text, on_route))
            if member_tenant == tenant_id
        )
        keys = [
            names.events(tenant_id),
            names.seen(tenant_id, provider, phone, provider_message_id),
            *(names.challenge(tenant_id, challenge_id) for challenge_id in challenge_ids),
        ]
        args: list[EncodableT] = [
            "match",
            now_ms,
            self._min_event_id(now_ms),
            accepted_at_ms,
            SEEN_TTL_MS,
            mode,
            phone,
            virtual_number,
        ]
        for spec, hashes in candidate_hashes.items():
            args += [spec, len(hashes), *hashes]
        reply = await self._shared.run_script(self._script, keys, args)
        applied = Applied(text(reply[0]))
        if applied is Applied.DUPLICATE:
            return MatchResult(applied, verified=text(reply[1]) == "verified")
        if applied is Applied.HELD:
            return MatchResult(applied, verified=False)
        fields = [text(value) for value in reply[1:]]
        verdicts = tuple(
            Verdict(fields[i], Status(fields[i + 1]), int(fields[i + 2]), fields[i + 3])
            for i in range(0, len(fields), 4)
        )
        verified = any(verdict.status is Status.VERIFIED and verdict.event_id for verdict in verdicts)
        return MatchResult(applied, verified=verified, verdicts=verdicts)

    async def tenants_judging(
        self, phone: str, virtual_number: str, *, provider: str, provider_message_id: str
    ) -> list[str]:
        """The tenants this SMS is judged against: those waiting for it when it was first judged.

        Recorded for ``SEEN_TTL_MS``, so an SMS that found nobody waiting stays a known SMS: a
        provider's retry after a challenge was opened is a duplicate, not a new attempt.
        """
        keys = [
            self.names.route(phone, virtual_number),
            self.names.judgement(phone, virtual_number, provider, provider_message_id),
        ]
        reply = text(await self._shared.run_script(self._script, keys, ["route", SEEN_TTL_MS]))
        return reply.split(",") if reply else []

    async def due(self, cutoff_ms: int, limit: int) -> list[tuple[str, str]]:
        """(tenant, challenge id) pairs whose deadline is at or before ``cutoff_ms``."""
        members = await self._redis.zrangebyscore(self.names.deadlines, "-inf", cutoff_ms, start=0, num=limit)
        return [self.names.parse_deadline_member(text(member)) for member in members]

    async def forget_deadline(self, tenant_id: str, challenge_id: str, challenge: Challenge | None) -> None:
        """Done with a deadline: the challenge ended (or is gone), so it leaves its route too."""
        await self._redis.zrem(self.names.deadlines, self.names.deadline_member(tenant_id, challenge_id))
        if challenge is not None:
            await self._leave_route(challenge)

    async def _leave_route(self, challenge: Challenge) -> None:
        """Only tidies: the atomic step skips ended challenges, and the route key expires."""
        route = self.names.route(challenge.phone, challenge.virtual_number)
        await self._redis.hdel(route, self.names.deadline_member(challenge.tenant_id, challenge.id))

    def _keys_of(self, challenge: Challenge) -> list[str]:
        return [self.names.challenge(challenge.tenant_id, challenge.id), self.names.events(challenge.tenant_id)]
