"""The verdict rules as plain Python: the executable specification of the atomic step.

Production runs ``common/lua/challenges.lua`` behind ``ChallengeStore``. This model says what it
must do, with no I/O and no clock of its own (every operation is handed its
instants). ``tests/integration/test_rules_model.py`` drives the model and the real step on Redis
with the same random creates, SMS, cancels, expiries and clock moves, and requires the same
answers, challenge states and events; a rule changed on one side only fails it.

Left out on purpose: how long Redis keeps seen markers, routes, judgement records and old
events (days, on Redis's own clock); the candidates an SMS text holds (``matcher/matching.py``,
pure already); and how the judge offers one SMS to several tenants (``matcher/judge.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from common.challenges import EventType, Status
from common.events import Event
from common.store import Applied, CancelOutcome, MatchMode, MatchResult, Verdict

# A provider's reception time this close before a challenge's creation still counts (clock skew).
STALE_TOLERANCE_MS = 2000


@dataclass
class ModelChallenge:
    id: str
    tenant_id: str
    phone: str
    virtual_number: str
    code: str  # in the clear: the model has no keys, and equal codes are equal hashes
    spec: str  # alphabet:length, the candidate list it reads
    max_attempts: int
    expires_at: int
    created_at: int = 0
    external_id: str | None = None
    status: Status = Status.PENDING
    attempts: int = 0
    verified_at: int | None = None
    last_event: int | None = None  # index in its tenant's log
    test: bool = False  # reached by simulated SMS only, never by a real one


@dataclass
class Rules:
    """Every tenant's challenges, event logs and seen markers; the routes and judgement records."""

    challenges: dict[tuple[str, str], ModelChallenge] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)
    seen: dict[tuple[str, str, str, str], bool] = field(default_factory=dict)  # → verified
    routes: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=dict)  # → (tenant, id)
    judgements: dict[tuple[str, str, str, str], list[str]] = field(default_factory=dict)

    # --- the atomic step's operations ---------------------------------------------------------
    def create(self, challenge: ModelChallenge) -> None:
        self.challenges[(challenge.tenant_id, challenge.id)] = challenge
        route = self.routes.setdefault((challenge.phone, challenge.virtual_number), set())
        route.add((challenge.tenant_id, challenge.id))

    def cancel(self, tenant_id: str, challenge_id: str, now: int) -> tuple[CancelOutcome, Status | None]:
        """Only a pending challenge can be canceled; canceling it again is the same success."""
        challenge = self.challenges.get((tenant_id, challenge_id))
        if challenge is None:
            return CancelOutcome.MISSING, None
        if challenge.status is Status.CANCELED:
            return CancelOutcome.CANCELED, None
        if challenge.status is not Status.PENDING:
            return CancelOutcome.CONFLICT, challenge.status
        self._transition(challenge, Status.CANCELED, EventType.CANCELED, now)
        # A canceled challenge leaves its route: its tenant no longer waits for that sender.
        self.routes[(challenge.phone, challenge.virtual_number)].discard((tenant_id, challenge_id))
        return CancelOutcome.CANCELED, None

    def expire(self, tenant_id: str, challenge_id: str, *, cutoff: int, now: int) -> bool:
        """A pending challenge whose deadline is at or before ``cutoff`` expires, once."""
        challenge = self.challenges.get((tenant_id, challenge_id))
        if challenge is None or challenge.status is not Status.PENDING or challenge.expires_at > cutoff:
            return False
        self._transition(challenge, Status.EXPIRED, EventType.EXPIRED, now)
        return True

    def match(
        self,
        tenant_id: str,
        *,
        provider: str,
        provider_message_id: str,
        phone: str,
        virtual_number: str,
        accepted_at: int,
        now: int,
        candidates: Mapping[str, Sequence[str]],
        mode: MatchMode = MatchMode.ALL,
        simulated: bool = False,
        received_at: int | None = None,
    ) -> MatchResult:
        """One SMS against one tenant's pending challenges for its sender and number: test
        challenges for a simulated SMS, the others for a real one. A challenge created more
        than STALE_TOLERANCE_MS after the provider received the SMS is not one it can answer."""
        seen_key = (tenant_id, provider, phone, provider_message_id)
        if seen_key in self.seen:
            return MatchResult(Applied.DUPLICATE, verified=self.seen[seen_key])
        waiting = sorted(
            (
                challenge
                for challenge in self.challenges.values()
                if (challenge.tenant_id, challenge.phone, challenge.virtual_number)
                == (tenant_id, phone, virtual_number)
                and challenge.status is Status.PENDING
                and challenge.test == simulated
            ),
            key=lambda challenge: challenge.id,
        )
        stale = [c for c in waiting if received_at is not None and received_at < c.created_at - STALE_TOLERANCE_MS]
        waiting = [challenge for challenge in waiting if challenge not in stale]  # costs them nothing
        # An SMS accepted after a deadline finds that challenge expired, whatever it says.
        late = [challenge for challenge in waiting if challenge.expires_at < accepted_at]
        considered = [challenge for challenge in waiting if challenge.expires_at >= accepted_at]
        plan: list[tuple[ModelChallenge, Status, int, EventType | None]] = [
            (challenge, Status.EXPIRED, challenge.attempts, EventType.EXPIRED) for challenge in late
        ]
        codes = {challenge.code for challenge in considered}
        for challenge in considered:
            plan.append(self._effect(challenge, candidates.get(challenge.spec, ()), codes))
        verified = any(status is Status.VERIFIED for _, status, _, _ in plan)
        if mode is MatchMode.VERIFYING and not verified:
            return MatchResult(Applied.HELD, verified=False)
        self.seen[seen_key] = verified
        verdicts = []
        for challenge, status, attempts, event_type in plan:
            challenge.attempts = attempts
            event = self._transition(challenge, status, event_type, now) if event_type else None
            verdicts.append(Verdict(challenge.id, challenge.status, challenge.attempts, event or ""))
        return MatchResult(Applied.APPLIED, verified=verified, verdicts=tuple(verdicts), stale=len(stale))

    @staticmethod
    def _effect(
        challenge: ModelChallenge, candidates: Sequence[str], codes: set[str]
    ) -> tuple[ModelChallenge, Status, int, EventType | None]:
        """What the SMS's candidates, in text order, do to one challenge.

        Its code verifies. Any other candidate costs one attempt, unless it is the code of
        another challenge considered for the same SMS (no wrong guess); the attempts stop at the
        limit. A text without a single candidate costs one attempt.
        """
        attempts = challenge.attempts
        if not candidates:
            attempts += 1
        for candidate in candidates:
            if candidate == challenge.code:
                return challenge, Status.VERIFIED, attempts + 1, EventType.VERIFIED
            if candidate not in codes:
                attempts += 1
                if attempts >= challenge.max_attempts:
                    break
        if attempts >= challenge.max_attempts:
            return challenge, Status.FAILED, attempts, EventType.FAILED
        if attempts > challenge.attempts:
            return challenge, Status.PENDING, attempts, EventType.ATTEMPT_FAILED
        return challenge, Status.PENDING, attempts, None

    def tenants_judging(self, phone: str, virtual_number: str, *, provider: str, provider_message_id: str) -> list[str]:
        """Fixed at an SMS's first judgement: the tenants that had challenges for its sender and
        number, canceled ones left out."""
        key = (phone, virtual_number, provider, provider_message_id)
        if key not in self.judgements:
            route = self.routes.get((phone, virtual_number), set())
            self.judgements[key] = sorted({tenant_id for tenant_id, _ in route})
        return self.judgements[key]

    # --- the one way a challenge changes ------------------------------------------------------
    def _transition(self, challenge: ModelChallenge, status: Status, event_type: EventType, now: int) -> str:
        """Set the status, append the event; returns the event's position as its id."""
        challenge.status = status
        if status is Status.VERIFIED:
            challenge.verified_at = now
        log = self.events.setdefault(challenge.tenant_id, [])
        log.append(
            Event(
                type=event_type,
                challenge_id=challenge.id,
                external_id=challenge.external_id,
                status=status,
                attempts=challenge.attempts,
                max_attempts=challenge.max_attempts,
                phone=challenge.phone,
                virtual_number=challenge.virtual_number,
                occurred_at=now,
                verified_at=challenge.verified_at,
                test=challenge.test,
            )
        )
        challenge.last_event = len(log) - 1
        return str(len(log))
