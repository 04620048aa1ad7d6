"""Ingest's admission step on the real Redis: a refused request gives back what it counted."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from common.clock import now_ms
from common.messages import InboundSms
from common.names import Names
from common.settings import Limit
from ingest.ratelimit import Decision, SmsRateLimiter
from tests.integration.conftest import PHONE


async def test_a_released_admission_costs_nothing(redis: Redis, namespace: str, cleanup: None):
    # What ingest does when the broker did not confirm (503): the request is refused, so it
    # gives back what it counted, and the provider's retry is admitted as a first delivery.
    limiter = SmsRateLimiter(redis, Names(namespace), per_sender=Limit(1, 60), per_number=Limit(100, 60))
    sms = InboundSms(
        message_id="m",
        provider="generic",
        provider_message_id="p-1",
        sender=PHONE,
        recipient="+15550100000",
        sender_e164=PHONE,
        recipient_e164="+15550100000",
        text="hi",
        accepted_at_ms=now_ms(),
    )
    for _ in range(3):
        admission = await limiter.admit([sms])
        assert admission.decisions == (Decision.COUNTED,)
        await limiter.release(admission)
    assert (await limiter.admit([sms])).decisions == (Decision.COUNTED,)
    assert (await limiter.admit([sms])).decisions == (Decision.SEEN,)
    other = InboundSms(**{**_fields(sms), "provider_message_id": "p-2"})
    assert (await limiter.admit([other])).decisions == (Decision.FLOOD,)


def _fields(sms: InboundSms) -> dict[str, Any]:
    return {field: getattr(sms, field) for field in sms.__struct_fields__}
