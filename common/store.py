"""The challenge store: Redis keys and the atomic script behind every state change."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from importlib import resources

import msgspec
from redis.typing import EncodableT

from common.challenge_ids import expiry_slot, slot_end_ms, slot_of
from common.challenges import MAX_TTL_S, Challenge, Status
from common.funnel import day_of
from common.names import CODE_INDEX_WINDOW_MS, DEVICE_MARK, Names
from common.pipelining import SharedPipeline, script_call
from common.redis import RedisClient, binary, text
from common.redis_wire import Command
from common.spread_index import SpreadIndex

# Any SMS carrying a provider message id is deduplicated for this long per tenant.
SEEN_TTL_MS = 48 * 3600 * 1000
# Challenges stay readable (GET, watch socket) this long after they expire.
RETENTION_AFTER_EXPIRY_MS = 24 * 3600 * 1000
# A window of the code index outlives its last expiry by this much (SMS accepted just before).
CODE_INDEX_GRACE_MS = 60_000

# Script calls sent together when one caller has many (a sweep of an expiry slot).
_CALLS_PER_ROUND_TRIP = 256

_CHALLENGES_SCRIPT = resources.files("common").joinpath("lua/challenges.lua").read_text()
ROUTES_SCRIPT = resources.files("common").joinpath("lua/routes.lua").read_text()


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

    @property
    def verifies(self) -> bool:
        """This SMS verified the challenge (a verdict replayed for a duplicate has no event)."""
        return self.status is Status.VERIFIED and bool(self.event_id)


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
    stale: int = 0  # challenges it could not answer: the provider received it before they existed


class SmsRoute(msgspec.Struct, frozen=True):
    """Whom one SMS is judged against, and the challenges waiting on its route."""

    tenants: tuple[str, ...]  # fixed at the SMS's first judgement
    challenges: dict[str, list[str]]  # tenant → challenge ids on the route now (some may have ended)
    device_tenants: frozenset[str] = frozenset()  # tenants with a device-bound challenge among them


class ChallengeStore:
    """Challenges by tenant and expiry slot, routes by sender and number, expiry slots by time.

    A pending challenge costs one field in its slot's hash and one member in its route; the
    expiry index has one entry per tenant and slot, not per challenge (``benchmarks/memory.py``).
    """

    def __init__(
        self,
        redis: RedisClient,
        names: Names,
        *,
        event_retention_ms: int,
        shared: SharedPipeline | None = None,
        write_earlier_records: bool = False,
    ) -> None:
        self._redis = redis
        self.names = names
        self._retention_ms = event_retention_ms
        self._write_earlier_records = write_earlier_records  # Settings.write_earlier_records
        self._script = redis.register_script(_CHALLENGES_SCRIPT)
        self._routes = redis.register_script(ROUTES_SCRIPT)
        self.expiry_slots = SpreadIndex(redis, names.expiry_slots)
        # Hot paths (judging SMS, creating challenges): concurrent callers share round trips.
        self._shared = shared or SharedPipeline(redis)

    def _min_event_id(self, now_ms: int) -> str:
        return str(now_ms - self._retention_ms)

    async def create(self, challenge: Challenge, code_hash: bytes, code_tag: str | None = None) -> None:
        """Store a new pending challenge and make it findable by sender, by expiry and, given
        its ``code_tag`` (``Keyring.code_tag``), by its code on its number.

        One round trip, in this order: the route, code and expiry entries first, so that a
        crash part way leaves a harmless pointer to nothing, never a challenge that no SMS or
        sweeper can reach.
        """
        slot = slot_of(challenge.id)
        if slot != expiry_slot(challenge.expires_at):
            raise ValueError("a challenge id names the slot of its expiry (common/challenge_ids.py)")
        names = self.names
        tenant_id = challenge.tenant_id
        route_field = names.route_field(challenge.phone, challenge.virtual_number)
        route = (names.route(challenge.phone, challenge.virtual_number),)
        records = names.challenges(tenant_id, slot)
        slot_member = names.tenant_member(tenant_id, slot)
        indexed: list[Command] = []
        if code_tag is not None:
            window = challenge.expires_at // CODE_INDEX_WINDOW_MS
            index = names.code_index(window, code_tag)
            # One field per challenge, found by its tag prefix: a value listing several challenges
            # (equal codes are common on a busy number) would outgrow Redis's compact encoding.
            indexed = [
                ("HSET", index, names.code_index_field(code_tag, challenge.id), tenant_id),
                ("PEXPIREAT", index, (window + 1) * CODE_INDEX_WINDOW_MS + CODE_INDEX_GRACE_MS),
            ]
        await self._shared.execute_many(
            [
                *indexed,
                script_call(self._routes, route, ("join", route_field, self._route_member(challenge))),
                ("ZADD", self.expiry_slots.key_of(slot_member), "NX", slot_end_ms(slot), slot_member),
                ("HSET", records, challenge.id, challenge.pack(code_hash, earlier=self._write_earlier_records)),
                ("PEXPIREAT", records, slot_end_ms(slot) + RETENTION_AFTER_EXPIRY_MS),
            ],
            scripts=(self._routes,),
        )

    async def with_code(self, code_tags: Sequence[str], now_ms: int) -> dict[str, list[str]]:
        """tenant → ids of the challenges whose code on a number has one of these tags, among
        those that may still be pending (every window from a grace ago to the longest TTL)."""
        names = self.names
        first = (now_ms - CODE_INDEX_GRACE_MS) // CODE_INDEX_WINDOW_MS
        last = (now_ms + MAX_TTL_S * 1000) // CODE_INDEX_WINDOW_MS
        scans = [(names.code_index(window, tag), f"{tag}*") for window in range(first, last + 1) for tag in code_tags]
        lookups: list[Command] = [("HSCAN", key, 0, "MATCH", match, "COUNT", 1000) for key, match in scans]
        found: dict[str, list[str]] = {}
        for (key, match), (cursor, fields) in zip(scans, await self._shared.execute_many(lookups), strict=True):
            while True:  # a compact hash answers in one reply; a large one may take more
                for field, tenant_id in fields.items():
                    found.setdefault(text(tenant_id), []).append(names.challenge_in_code_index(binary(field)))
                if not int(cursor):
                    break
                cursor, fields = await self._redis.hscan(key, cursor, match=match, count=1000)
        return found

    async def signal_mismatch(
        self, challenge: Challenge, candidate_hash: bytes, *, sender: str, masked: str, country: str | None,
        provider: str, provider_message_id: str, now_ms: int,
    ) -> str | None:  # fmt: skip
        """``challenge.sender_mismatch`` for a pending challenge whose code came from ``sender``,
        once per provider message; the event id, or None when nothing was signaled."""
        marker = self.names.mismatch_seen(challenge.tenant_id, provider, sender, provider_message_id)
        keys = [*self._keys_of(challenge), marker]
        args: list[EncodableT] = [
            "mismatch", now_ms, self._min_event_id(now_ms), challenge.id, candidate_hash, sender, masked,
            country or "", SEEN_TTL_MS, challenge.virtual_number,
        ]  # fmt: skip
        reply = await self._shared.run_script(self._script, keys, args)
        return text(reply[1]) if text(reply[0]) == "signaled" else None

    async def get_with_code_hash(self, tenant_id: str, challenge_id: str) -> tuple[Challenge, bytes] | None:
        """The challenge and the keyed hash of its code (for the takeover signal's check)."""
        packed = await self._packed(tenant_id, challenge_id)
        if packed is None:
            return None
        return Challenge.unpack_with_code_hash(tenant_id, challenge_id, packed)

    async def get(self, tenant_id: str, challenge_id: str) -> Challenge | None:
        packed = await self._packed(tenant_id, challenge_id)
        return Challenge.unpack(tenant_id, challenge_id, packed) if packed is not None else None

    async def _packed(self, tenant_id: str, challenge_id: str) -> bytes | None:
        """The stored record of a challenge, or None (gone, or not a challenge id)."""
        slot = slot_of(challenge_id)
        if slot is None:
            return None
        packed = await self._redis.hget(self.names.challenges(tenant_id, slot), challenge_id)
        return binary(packed) if packed else None

    async def cancel(self, challenge: Challenge, now_ms: int) -> tuple[CancelOutcome, Status | None]:
        keys = self._keys_of(challenge)
        args: list[EncodableT] = ["cancel", now_ms, self._min_event_id(now_ms), challenge.id]
        reply = await self._shared.run_script(self._script, keys, args)
        outcome = CancelOutcome(text(reply[0]))
        if outcome is CancelOutcome.CANCELED:
            await self.leave_routes([challenge])
        status = Status(text(reply[1])) if outcome is CancelOutcome.CONFLICT else None
        return outcome, status

    async def expire(self, challenge: Challenge, *, cutoff_ms: int, now_ms: int) -> bool:
        """Expire the challenge if still pending and due by ``cutoff_ms``; True when it did."""
        return bool(await self.expire_due([challenge], cutoff_ms=cutoff_ms, now_ms=now_ms))

    async def expire_due(self, challenges: Sequence[Challenge], *, cutoff_ms: int, now_ms: int) -> list[Challenge]:
        """Expire those still pending and due by ``cutoff_ms``, each in its own atomic step, in
        shared round trips; the ones that expired now."""
        expired: list[Challenge] = []
        for start in range(0, len(challenges), _CALLS_PER_ROUND_TRIP):
            chunk = challenges[start : start + _CALLS_PER_ROUND_TRIP]
            min_id = self._min_event_id(now_ms)
            calls: list[tuple[Sequence[str], Sequence[EncodableT]]] = [
                (self._keys_of(challenge), ["expire", now_ms, min_id, challenge.id, cutoff_ms]) for challenge in chunk
            ]
            replies = await self._shared.run_scripts(self._script, calls)
            expired += [challenge for challenge, reply in zip(chunk, replies, strict=True) if reply[0] == b"expired"]
        return expired

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
        on_route: Sequence[str] | None = None,
        simulated: bool = False,
        received_at_ms: int | None = None,
        device_steps: Mapping[bytes, str] | None = None,
    ) -> MatchResult:
        """Apply one SMS to the tenant's pending challenges for this sender and number.

        ``on_route``: the tenant's challenge ids on the SMS's route, as ``route_of`` read them;
        read here when not given. ``simulated``: a test-mode SMS of the tenant API, which
        reaches the tenant's test challenges only, as a real SMS never does.
        ``received_at_ms``: when the provider received it, if it said; it cannot answer a
        challenge created after that (2 s tolerance). ``device_steps``: the candidates that are
        an enrolled device's TOTP (their hash extended with the device's token), each with the
        key that marks its time step spent.
        """
        names = self.names
        if on_route is None:
            route = await self._shared.execute(
                "HGET", names.route(phone, virtual_number), names.route_field(phone, virtual_number)
            )
            on_route = self._read_route(route)[0].get(tenant_id, [])
        challenge_ids = sorted(on_route)
        keys = [
            names.events(tenant_id),
            names.seen(tenant_id, provider, phone, provider_message_id),
            names.funnel(tenant_id, day_of(now_ms)),
            *(self._records_of(tenant_id, challenge_id) for challenge_id in challenge_ids),
            *(device_steps or {}).values(),
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
            "test" if simulated else "real",
            "" if received_at_ms is None else received_at_ms,
            len(challenge_ids),
            *challenge_ids,
            len(device_steps or {}),
            *(device_steps or {}),
        ]
        for spec, hashes in candidate_hashes.items():
            args += [spec, len(hashes), *hashes]
        reply = await self._shared.run_script(self._script, keys, args)
        applied = Applied(text(reply[0]))
        if applied is Applied.DUPLICATE:
            return MatchResult(applied, verified=text(reply[1]) == "verified")
        if applied is Applied.HELD:
            return MatchResult(applied, verified=False)
        stale, fields = int(reply[1]), [text(value) for value in reply[2:]]
        verdicts = tuple(
            Verdict(fields[i], Status(fields[i + 1]), int(fields[i + 2]), fields[i + 3])
            for i in range(0, len(fields), 4)
        )
        verified = any(verdict.verifies for verdict in verdicts)
        return MatchResult(applied, verified=verified, verdicts=verdicts, stale=stale)

    async def route_of(self, phone: str, virtual_number: str, *, provider: str, provider_message_id: str) -> SmsRoute:
        """Whom this SMS is judged against: the tenants waiting for it when it was first judged.

        Recorded for ``SEEN_TTL_MS``, so an SMS that found nobody waiting stays a known SMS: a
        provider's retry after a challenge was opened is a duplicate, not a new attempt.
        """
        names = self.names
        keys = [
            names.route(phone, virtual_number),
            names.judgement(phone, virtual_number, provider, provider_message_id),
        ]
        args: list[EncodableT] = ["judge", names.route_field(phone, virtual_number), SEEN_TTL_MS]
        fixed, on_route = await self._shared.run_script(self._routes, keys, args)
        tenants = tuple(text(fixed).split(",")) if fixed else ()
        return SmsRoute(tenants, *self._read_route(on_route))

    def _read_route(self, route_value: bytes | None) -> tuple[dict[str, list[str]], frozenset[str]]:
        """tenant → its challenge ids on the route, and the tenants with a device-bound one there."""
        by_tenant: dict[str, list[str]] = {}
        device_tenants: set[str] = set()
        for tenant_id, challenge in map(self.names.parse_tenant_member, text(route_value or b"").split()):
            if challenge.endswith(DEVICE_MARK):
                device_tenants.add(tenant_id)
            by_tenant.setdefault(tenant_id, []).append(challenge.removesuffix(DEVICE_MARK))
        return by_tenant, frozenset(device_tenants)

    def _route_member(self, challenge: Challenge) -> str:
        return self.names.route_member(challenge.tenant_id, challenge.id, device=challenge.device_id is not None)

    async def due_slots(self, cutoff_ms: int, limit: int) -> list[tuple[str, int]]:
        """(tenant, expiry slot) pairs whose slot ended at or before ``cutoff_ms``."""
        members = await self.expiry_slots.due(cutoff_ms, limit)
        return [(tenant_id, int(slot)) for tenant_id, slot in map(self.names.parse_tenant_member, members)]

    async def in_slot(self, tenant_id: str, slot: int) -> list[Challenge]:
        """Every challenge of the tenant filed under one expiry slot, ended ones included."""
        records = await self._redis.hgetall(self.names.challenges(tenant_id, slot))
        return [
            Challenge.unpack(tenant_id, text(challenge_id), binary(packed)) for challenge_id, packed in records.items()
        ]

    async def leave_routes(self, challenges: Sequence[Challenge]) -> None:
        """Only tidies: the atomic step skips ended challenges on a route."""
        names = self.names
        for start in range(0, len(challenges), _CALLS_PER_ROUND_TRIP):
            calls = [
                (
                    [names.route(challenge.phone, challenge.virtual_number)],
                    [
                        "leave",
                        names.route_field(challenge.phone, challenge.virtual_number),
                        self._route_member(challenge),
                    ],
                )
                for challenge in challenges[start : start + _CALLS_PER_ROUND_TRIP]
            ]
            await self._shared.run_scripts(self._routes, calls)

    async def forget_slot(self, tenant_id: str, slot: int) -> None:
        """Done with a slot: each of its challenges ended and left its route."""
        await self.expiry_slots.remove(self.names.tenant_member(tenant_id, slot))

    def _records_of(self, tenant_id: str, challenge_id: str) -> str:
        """The slot hash a challenge is filed in; only ids the store itself filed come here."""
        slot = slot_of(challenge_id)
        if slot is None:
            raise ValueError(f"not a challenge id: {challenge_id!r}")
        return self.names.challenges(tenant_id, slot)

    def _keys_of(self, challenge: Challenge) -> list[str]:
        return [self._records_of(challenge.tenant_id, challenge.id), self.names.events(challenge.tenant_id)]
