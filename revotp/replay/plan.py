"""What a replay sends: SMS read from a JSONL file, or a synthetic mix made against the tenant API.

Each planned SMS may say which event it should cause on the tenant's socket (``expect``): a
synthetic mix always does, a recorded stream may (an ``expect`` field on its line).
"""

from __future__ import annotations

import asyncio
import enum
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import msgspec

from common.codes import Alphabet
from revotp.replay.webhooks import Sms

NO_EVENT = "none"
VERDICT_TYPES = frozenset({"challenge.verified", "challenge.attempt_failed", "challenge.failed"})
CREATE_CONCURRENCY = 32


class Kind(enum.StrEnum):
    RECORDED = "recorded"  # a line of the input file
    RIGHT = "right"  # the challenge's code, from its phone
    WRONG = "wrong"  # another code, from the challenge's phone
    UNKNOWN = "unknown"  # a code from a phone no challenge waits for
    DUPLICATE = "duplicate"  # a provider's retry: an earlier SMS again, same message id


@dataclass(frozen=True)
class PlannedSms:
    index: int
    sms: Sms
    kind: Kind
    expect: str | None = None  # an event type, NO_EVENT, or None when unknown
    at_s: float | None = None  # recorded instant (epoch seconds), for --speed


class PlanError(Exception):
    """The input cannot be replayed; the message says where and why."""


class _Line(msgspec.Struct, forbid_unknown_fields=False):
    from_: str = msgspec.field(name="from")
    to: str
    text: str
    id: str | None = None
    at: float | str | None = None
    expect: str | None = None


def _epoch_s(at: float | str, where: str) -> float:
    if isinstance(at, float | int):
        return float(at)
    try:
        return datetime.fromisoformat(at).timestamp()
    except ValueError:
        raise PlanError(f"{where}: 'at' must be epoch seconds or an ISO 8601 instant, not {at!r}") from None


def read_jsonl(path: Path) -> list[PlannedSms]:
    """One SMS per line: ``{"from", "to", "text", "id"?, "at"?, "expect"?}``."""
    decoder = msgspec.json.Decoder(_Line)
    plan: list[PlannedSms] = []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise PlanError(f"{where}: {exc}") from None
            if record.expect is not None and record.expect not in VERDICT_TYPES | {NO_EVENT}:
                allowed = ", ".join(sorted(VERDICT_TYPES | {NO_EVENT}))
                raise PlanError(f"{where}: 'expect' must be one of {allowed}")
            sms = Sms(record.from_, record.to, record.text, record.id or f"replay-{uuid.uuid4().hex}")
            at_s = None if record.at is None else _epoch_s(record.at, where)
            plan.append(PlannedSms(len(plan), sms, Kind.RECORDED, record.expect, at_s))
    if not plan:
        raise PlanError(f"{path}: no SMS to replay")
    return plan


@dataclass(frozen=True)
class Mix:
    """Weights of the kinds of SMS in a synthetic stream (``right=80,wrong=10,unknown=5,duplicate=5``)."""

    right: float = 80
    wrong: float = 10
    unknown: float = 5
    duplicate: float = 5

    @classmethod
    def parse(cls, text: str) -> Mix:
        weights: dict[str, float] = {}
        for part in filter(None, text.split(",")):
            name, _, value = part.partition("=")
            if name.strip() not in cls.__dataclass_fields__:
                raise PlanError(f"--mix: unknown kind {name.strip()!r} (right, wrong, unknown, duplicate)")
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                raise PlanError(f"--mix: {part!r} is not KIND=WEIGHT") from None
        mix = cls(**weights)
        if min(mix.right, mix.wrong, mix.unknown, mix.duplicate) < 0 or mix.right + mix.wrong <= 0:
            raise PlanError("--mix: weights must be ≥ 0, and right + wrong > 0")
        return mix

    def counts(self, challenges: int) -> tuple[int, int, int, int]:
        """(right, wrong, unknown, duplicate) SMS for ``challenges`` challenges, each answered once."""
        judged = self.right + self.wrong
        right = round(challenges * self.right / judged)
        return (
            right,
            challenges - right,
            round(challenges * self.unknown / judged),
            round(challenges * self.duplicate / judged),
        )


def _wrong_code(code: str, alphabet: Alphabet) -> str:
    """Another code of the same alphabet, still a candidate: each digit moved to the next digit,
    each letter to the next letter, so an alphanumeric code keeps its digits and costs an attempt."""
    digits = "".join(c for c in alphabet.symbols if c.isdigit())
    letters = "".join(c for c in alphabet.symbols if not c.isdigit())

    def moved(char: str) -> str:
        ring = digits if char.isdigit() else letters
        return ring[(ring.index(char) + 1) % len(ring)] if char in ring else char

    return "".join(moved(char) for char in code)


class Synthetic:
    """Creates challenges through the tenant API and plans the SMS that answer them."""

    def __init__(self, session: aiohttp.ClientSession, ingest_url: str, api_key: str, *, seed: int | None) -> None:
        self._session = session
        self._url = ingest_url.rstrip("/") + "/v1/challenges"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._random = random.Random(seed)
        # This run's phones, apart from earlier runs'; 40-89 are valid after both 06 and 07.
        self._block = self._random.randrange(40, 90)

    def phone(self, n: int, *, known: bool = True) -> str:
        """A distinct French mobile number per challenge; unknown senders come from another range."""
        return f"+33{6 if known else 7}{self._block:02d}{n:06d}"

    async def plan(self, challenges: int, mix: Mix, ttl_s: int) -> list[PlannedSms]:
        if not 0 < challenges <= 1_000_000:
            raise PlanError("--synthetic: between 1 and 1,000,000 challenges")
        gate = asyncio.Semaphore(CREATE_CONCURRENCY)

        async def create(n: int) -> dict[str, Any]:
            async with (
                gate,
                self._session.post(
                    self._url, json={"phone": self.phone(n), "ttl_seconds": ttl_s}, headers=self._headers
                ) as response,
            ):
                body = await response.json(content_type=None)
                if response.status != 201:
                    raise PlanError(f"creating a challenge answered {response.status}: {body}")
                return dict(body)

        created = await asyncio.gather(*(create(n) for n in range(challenges)))
        return mix_stream(created, mix, self._random, unknown_phone=lambda n: self.phone(n, known=False))


def mix_stream(
    created: Sequence[dict[str, Any]], mix: Mix, rng: random.Random, *, unknown_phone: Callable[[int], str]
) -> list[PlannedSms]:
    """Each challenge answered once (right or wrong), in random order; unknown senders anywhere;
    each duplicate somewhere after its original."""
    right, _, unknown, duplicate = mix.counts(len(created))
    judged: list[tuple[Sms, Kind, str]] = []
    for n, challenge in enumerate(created):
        code = challenge["code"]
        if n >= right:
            alphabet = Alphabet.NUMERIC if code.isdigit() else Alphabet.ALPHANUMERIC
            code = _wrong_code(code, alphabet)
        text = challenge.get("sms_body", challenge["code"]).replace(challenge["code"], code)
        sms = Sms(challenge["phone"], challenge["virtual_number"], text, f"replay-{uuid.uuid4().hex}")
        if n < right:
            judged.append((sms, Kind.RIGHT, "challenge.verified"))
        else:
            last_try = challenge["max_attempts"] <= 1
            judged.append((sms, Kind.WRONG, "challenge.failed" if last_try else "challenge.attempt_failed"))
    rng.shuffle(judged)
    span = float(len(judged))
    placed = [(float(position), item) for position, item in enumerate(judged)]
    for n in range(unknown):
        challenge = created[n % len(created)]
        sms = Sms(unknown_phone(n), challenge["virtual_number"], challenge["code"], f"replay-{uuid.uuid4().hex}")
        placed.append((rng.uniform(0, span), (sms, Kind.UNKNOWN, NO_EVENT)))
    for _ in range(duplicate):
        original = rng.randrange(len(judged))
        placed.append((rng.uniform(original + 0.5, span), (judged[original][0], Kind.DUPLICATE, NO_EVENT)))
    placed.sort(key=lambda entry: entry[0])
    return [PlannedSms(index, sms, kind, expect) for index, (_, (sms, kind, expect)) in enumerate(placed)]
