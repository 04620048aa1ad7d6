"""Opening challenges straight in the store and handing SMS straight to a judge: no HTTP, no AMQP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from common.challenge_ids import new_challenge_id
from common.challenges import Challenge, Status
from common.clock import now_ms
from common.codes import Alphabet, generate_code
from common.events import decode_entries
from common.messages import InboundSms
from common.resources import RedisResources
from common.settings import Settings
from matcher.judge import Judge
from tests.integration.conftest import PHONE, VIRTUAL_NUMBER


@dataclass(frozen=True)
class Opened:
    challenge: Challenge
    code: str


class Bench:
    """Opens challenges straight in the store and hands SMS straight to a judge."""

    def __init__(self, resources: RedisResources, settings: Settings) -> None:
        self.resources = resources
        self.judge = Judge(resources.store, resources.tenants, resources.keyring, settings, devices=resources.devices)

    async def open(
        self, tenant_id: str, phone: str = PHONE, max_attempts: int = 3, ttl_ms: int = 120_000, code: str | None = None
    ) -> Opened:
        now = now_ms()
        challenge = Challenge(
            id=new_challenge_id(now + ttl_ms),
            tenant_id=tenant_id,
            phone=phone,
            virtual_number=VIRTUAL_NUMBER,
            status=Status.PENDING,
            attempts=0,
            max_attempts=max_attempts,
            code_length=6,
            alphabet=Alphabet.NUMERIC,
            created_at=now,
            expires_at=now + ttl_ms,
        )
        code = code or generate_code(6, Alphabet.NUMERIC)
        keyring = self.resources.keyring
        await self.resources.store.create(
            challenge, keyring.code_hash(tenant_id, phone, code), keyring.code_tag(VIRTUAL_NUMBER, code)
        )
        return Opened(challenge, code)

    async def state(self, opened: Opened) -> tuple[Status, int]:
        challenge = await self.resources.store.get(opened.challenge.tenant_id, opened.challenge.id)
        assert challenge is not None
        return challenge.status, challenge.attempts

    async def events(self, tenant_id: str) -> list[str]:
        entries = decode_entries(await self.resources.redis.xrange(self.resources.names.events(tenant_id)))
        return [f"{event.type} {event.challenge_id}" for _, event in entries]


def sms(text: str, *, sender: str | None = PHONE, recipient: str | None = VIRTUAL_NUMBER, pid: str = "") -> InboundSms:
    return InboundSms(
        message_id=uuid.uuid4().hex,
        provider="generic",
        provider_message_id=pid or uuid.uuid4().hex,
        sender=sender or "BANK",
        recipient=recipient or "12",
        sender_e164=sender,
        recipient_e164=recipient,
        text=text,
        accepted_at_ms=now_ms(),
    )
