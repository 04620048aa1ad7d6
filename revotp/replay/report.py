"""Every verdict matched to the SMS that caused it, and the figures a load tester reads.

An event names a challenge, its phone and its virtual number, not an SMS: it is given to the
earliest accepted SMS of that (sender, recipient) pair not yet matched, preferring an SMS
expected to cause one (a provider's retry of it is expected to cause none). Numbers compare by
their digits, so ``33612345678`` in a provider's format matches ``+33612345678`` in an event.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from revotp.replay.plan import NO_EVENT, VERDICT_TYPES, PlannedSms
from revotp.replay.sender import TRANSPORT_ERROR, Sent

MISMATCHES_KEPT = 20


@dataclass(frozen=True)
class Outcome:
    """One planned SMS: how ingest answered it and which verdict, if any, it caused."""

    planned: PlannedSms
    sent: Sent
    verdict: str | None = None  # an event type; None: no event came for it
    verdict_at: float | None = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.sent.status < 300

    @property
    def observed(self) -> str:
        return self.verdict or NO_EVENT

    @property
    def as_expected(self) -> bool | None:
        """None when nothing was expected of it (a recorded line without ``expect``)."""
        if self.planned.expect is None:
            return None
        return self.accepted and self.observed == self.planned.expect


def _digits(number: str) -> str:
    return "".join(char for char in number if char.isdigit())


def match_verdicts(
    plan: Sequence[PlannedSms], sent: Sequence[Sent], frames: Sequence[tuple[float, dict[str, Any]]]
) -> tuple[list[Outcome], int, int]:
    """(an outcome per SMS, verdict frames no SMS of the plan explains, frames of other types)."""
    by_index = {result.index: result for result in sent}
    outcomes = {planned.index: Outcome(planned, by_index[planned.index]) for planned in plan}
    waiting: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for outcome in sorted(outcomes.values(), key=lambda o: o.sent.sent_at):
        if outcome.accepted:
            key = (_digits(outcome.planned.sms.sender), _digits(outcome.planned.sms.recipient))
            waiting[key].append(outcome)
    unexplained = other = 0
    for arrived_at, frame in frames:
        if frame.get("type") not in VERDICT_TYPES:
            other += frame.get("type") != "ready"
            continue
        candidates = waiting.get((_digits(frame.get("phone", "")), _digits(frame.get("virtual_number", ""))), [])
        candidates = [o for o in candidates if o.verdict is None and o.sent.sent_at <= arrived_at]
        if not candidates:
            unexplained += 1
            continue
        chosen = min(candidates, key=lambda o: (o.planned.expect == NO_EVENT, o.sent.sent_at))
        outcomes[chosen.planned.index] = matched = Outcome(chosen.planned, chosen.sent, frame["type"], arrived_at)
        key = (_digits(chosen.planned.sms.sender), _digits(chosen.planned.sms.recipient))
        waiting[key] = [matched if o is chosen else o for o in waiting[key]]
    return [outcomes[planned.index] for planned in plan], unexplained, other


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """Nearest-rank p50, p90, p99 and max; empty when there are no values."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"p50": rank(0.50), "p90": rank(0.90), "p99": rank(0.99), "max": ordered[-1]}


@dataclass
class Report:
    planned: int
    sent: int
    accepted: int
    # "429 rate_limited" → count; a transport error as "no answer timeout", "no answer closed", ...
    refused: dict[str, int]
    verdicts: dict[str, int]  # event type, or "none", → count of accepted SMS
    expected: int  # SMS with an expected verdict
    as_expected: int
    mismatches: list[dict[str, Any]]
    sending_s: float  # first send → last answer
    verdicts_s: float  # first send → last verdict
    sent_per_s: float
    accepted_per_s: float
    verdicts_per_s: float
    latency_ms: dict[str, float]  # send → verdict on the tenant socket
    answer_ms: dict[str, float]  # send → ingest's answer
    late_ms: dict[str, float]  # how far behind its due time each SMS went out (paced runs only)
    unexplained_verdicts: int
    other_events: int
    limits: dict[str, str] = field(default_factory=dict)
    client_ceiling_per_s: float | None = None
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def summarise(outcomes: Sequence[Outcome], unexplained: int, other: int, *, paced: bool) -> Report:
    sent = [o.sent for o in outcomes]
    first = min((s.sent_at for s in sent), default=0.0)
    last_answer = max((s.answered_at for s in sent), default=first)
    verdict_times = [o.verdict_at for o in outcomes if o.verdict_at is not None]
    last_verdict = max(verdict_times, default=first)
    accepted = [o for o in outcomes if o.accepted]
    refused = Counter(
        f"{s.status} {s.error}".strip() if s.status != TRANSPORT_ERROR else f"no answer {s.error}"
        for s in sent
        if not 200 <= s.status < 300
    )
    judged = [o for o in outcomes if o.as_expected is not None]
    mismatches = [
        {
            "index": o.planned.index,
            "kind": o.planned.kind,
            "from": o.planned.sms.sender,
            "id": o.planned.sms.message_id,
            "status": o.sent.status,
            "expected": o.planned.expect,
            "observed": o.observed if o.accepted else f"refused {o.sent.status}",
        }
        for o in judged
        if not o.as_expected
    ]
    sending_s = max(last_answer - first, 1e-9)
    verdicts_s = max(last_verdict - first, 1e-9)
    verdict_count = len(verdict_times)
    return Report(
        planned=len(outcomes),
        sent=len(sent),
        accepted=len(accepted),
        refused=dict(refused.most_common()),
        verdicts=dict(Counter(o.observed for o in accepted).most_common()),
        expected=len(judged),
        as_expected=len(judged) - len(mismatches),
        mismatches=mismatches[:MISMATCHES_KEPT],
        sending_s=sending_s,
        verdicts_s=verdicts_s,
        sent_per_s=len(sent) / sending_s,
        accepted_per_s=len(accepted) / sending_s,
        verdicts_per_s=verdict_count / verdicts_s if verdict_count else 0.0,
        latency_ms=percentiles([(o.verdict_at - o.sent.sent_at) * 1000 for o in outcomes if o.verdict_at]),
        answer_ms=percentiles([(s.answered_at - s.sent_at) * 1000 for s in sent]),
        late_ms=percentiles([max(0.0, s.sent_at - s.due_at) * 1000 for s in sent]) if paced else {},
        unexplained_verdicts=unexplained,
        other_events=other,
    )
