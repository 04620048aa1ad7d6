"""Ingest's admission step on the real Redis: a refused request gives back what it counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from common.clock import now_ms
from common.messages import InboundSms
from common.names import Names
from common.settings import Limit
from ingest.ratelimit import Decision, SmsRateLimiter
from tests.integration.conftest import PHONE
from tests.support.brokers import OwnRedis


async def test_a_released_admission_costs_nothing(redis: Redis, namespace: str, cleanup: None):
    # What ingest does when the broker did not confirm (503): the request is refused, so it
    # gives back what it counted, and the provider's retry is admitted as a first delivery.
    limiter = SmsRateLimiter(redis, Names(namespace), per_sender=Limit(1, 60), per_number=Limit(100, 60))
    sms = _sms("p-1")
    for _ in range(3):
        admission = await limiter.admit([sms])
        assert admission.decisions == (Decision.COUNTED,)
        await limiter.release(admission)
    assert (await limiter.admit([sms])).decisions == (Decision.COUNTED,)
    assert (await limiter.admit([sms])).decisions == (Decision.SEEN,)
    other = InboundSms(**{**_fields(sms), "provider_message_id": "p-2"})
    assert (await limiter.admit([other])).decisions == (Decision.FLOOD,)


async def test_admission_survives_a_redis_that_forgot_its_scripts(tmp_path: Path):
    # A restarted Redis has an empty script cache; its own server, since SCRIPT FLUSH is global.
    server = OwnRedis(tmp_path / "redis")
    await server.start()
    redis = Redis.from_url(server.url)
    try:
        limiter = SmsRateLimiter(redis, Names("flush"), per_sender=Limit(10, 60), per_number=Limit(100, 60))
        first, second = (_sms(f"p-{n}") for n in (1, 2))
        assert (await limiter.admit([first])).decisions == (Decision.COUNTED,)
        await redis.script_flush()
        assert (await limiter.admit([second, first])).decisions == (Decision.COUNTED, Decision.SEEN)
    finally:
        await redis.aclose()
        await server.stop()


async def test_admission_survives_a_restart_between_the_script_check_and_the_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # The chaos ledger met it: redis-py checks the script, the connection drops, its retry runs
    # the pipeline on the restarted Redis. Skipping the check and flushing reproduces that order.
    server = OwnRedis(tmp_path / "redis")
    await server.start()
    redis = Redis.from_url(server.url)
    try:
        limiter = SmsRateLimiter(redis, Names("race"), per_sender=Limit(10, 60), per_number=Limit(100, 60))
        assert (await limiter.admit([_sms("p-1")])).decisions == (Decision.COUNTED,)

        async def checked_before(self: Pipeline) -> None:
            return None

        monkeypatch.setattr(Pipeline, "load_scripts", checked_before)
        await redis.script_flush()
        assert (await limiter.admit([_sms("p-2")])).decisions == (Decision.COUNTED,)
    finally:
        await redis.aclose()
        await server.stop()


def _sms(provider_message_id: str) -> InboundSms:
    return InboundSms(
        message_id="m",
        provider="generic",
        provider_message_id=provider_message_id,
        sender=PHONE,
        recipient="+15550100000",
        sender_e164=PHONE,
        recipient_e164="+15550100000",
        text="hi",
        accepted_at_ms=now_ms(),
    )


def _fields(sms: InboundSms) -> dict[str, Any]:
    return {field: getattr(sms, field) for field in sms.__struct_fields__}
