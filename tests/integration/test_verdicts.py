"""The README's matching rules through the real pipeline: who may verify, what attempts cost, what happens once."""

from __future__ import annotations

import time
from typing import Any

from common.clock import now_ms
from common.settings import Settings
from ingest.app import create_app as create_ingest
from tests.integration.conftest import ACME_KEY, OTHER_PHONE, Pipeline, bearer, next_frame


def wrong_code(code: str) -> str:
    """A code of the same shape that is certainly not ``code``."""
    return "".join("1" if digit != "1" else "2" for digit in code)


async def test_right_code_from_another_number_verifies_nothing_and_costs_nothing(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"], sender=OTHER_PHONE)
    # Its one event is the takeover signal (test_takeover_signal.py), which changes nothing.
    signal = await next_frame(ws)
    assert (signal["type"], signal["challenge_id"]) == ("challenge.sender_mismatch", challenge["id"])
    # A marker that must be the very next event: the foreign SMS produced nothing else.
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    event = await next_frame(ws)
    assert event["challenge_id"] == marker["id"]
    unchanged = await pipeline.get(challenge["id"])
    assert unchanged["status"] == "pending"
    assert unchanged["attempts"] == 0


async def test_wrong_codes_fail_the_challenge_and_a_late_right_code_changes_nothing(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=3)
    bad = wrong_code(challenge["code"])
    for expected_attempts in (1, 2):
        await pipeline.sms(bad)
        event = await next_frame(ws)
        assert event["type"] == "challenge.attempt_failed"
        assert event["status"] == "pending"
        assert event["attempts"] == expected_attempts
    await pipeline.sms("no code in this text")  # a text without a candidate costs one too
    event = await next_frame(ws)
    assert event["type"] == "challenge.failed"
    assert (event["status"], event["attempts"]) == ("failed", 3)

    await pipeline.sms(challenge["code"])
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    assert (await next_frame(ws))["challenge_id"] == marker["id"]
    final = await pipeline.get(challenge["id"])
    assert (final["status"], final["attempts"]) == ("failed", 3)


async def test_one_sms_with_many_wrong_candidates_uses_that_many_attempts(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=5)
    wrong = [c for c in ("111111", "222222", "333333", "444444") if c != challenge["code"]][:3]
    await pipeline.sms(" ".join(wrong))
    event = await next_frame(ws)
    assert (event["challenge_id"], event["type"], event["attempts"]) == (challenge["id"], "challenge.attempt_failed", 3)


async def test_wrong_candidates_before_the_right_one_cannot_exceed_the_attempts_left(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=2)
    code = challenge["code"]
    candidates = [c for c in ("111111", "222222", "333333") if c != code][:2]
    await pipeline.sms(f"{candidates[0]} {candidates[1]} {code}")
    event = await next_frame(ws)
    assert (event["type"], event["attempts"]) == ("challenge.failed", 2)


async def test_right_code_after_wrong_candidates_verifies_within_attempts(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=3)
    await pipeline.sms(f"{wrong_code(challenge['code'])} then {challenge['code']}")
    event = await next_frame(ws)
    assert (event["type"], event["attempts"]) == ("challenge.verified", 2)


async def test_the_same_provider_message_twice_has_one_effect(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    bad = wrong_code(challenge["code"])
    await pipeline.sms(bad, message_id="provider-msg-1")
    await pipeline.sms(bad, message_id="provider-msg-1")
    await pipeline.sms(bad, message_id="provider-msg-1")
    first = await next_frame(ws)
    assert (first["type"], first["attempts"]) == ("challenge.attempt_failed", 1)
    await pipeline.sms(challenge["code"], message_id="provider-msg-2")
    second = await next_frame(ws)
    # Had a retry counted, this would read attempts 3 or 4.
    assert (second["type"], second["attempts"]) == ("challenge.verified", 2)


async def test_a_verified_challenge_is_verified_once(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"
    await pipeline.sms(challenge["code"])
    await pipeline.sms("000000")
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    assert (await next_frame(ws))["challenge_id"] == marker["id"]
    assert (await pipeline.get(challenge["id"]))["attempts"] == 1


async def test_cancel_emits_an_event_and_a_retried_cancel_answers_the_same(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(external_id="order-7")
    response = await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))
    assert response.status == 200
    assert (await response.json())["status"] == "canceled"
    event = await next_frame(ws)
    assert (event["type"], event["status"], event["external_id"]) == ("challenge.canceled", "canceled", "order-7")
    # A cancel retried after its reply was lost is no conflict, and emits nothing more.
    again = await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))
    assert again.status == 200
    assert (await again.json())["status"] == "canceled"
    await pipeline.sms(challenge["code"])  # a canceled challenge is terminal
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    assert (await next_frame(ws))["challenge_id"] == marker["id"]
    assert (await pipeline.get(challenge["id"]))["status"] == "canceled"


async def test_cancel_of_a_challenge_that_ended_otherwise_conflicts(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"
    response = await pipeline.ingest.delete(f"/v1/challenges/{challenge['id']}", headers=bearer(ACME_KEY))
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "challenge_not_pending"


async def test_two_pending_challenges_for_one_phone_do_not_charge_each_other(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    first = await pipeline.create()
    second = await pipeline.create()
    await pipeline.sms(first["code"])
    event = await next_frame(ws)
    assert (event["challenge_id"], event["type"]) == (first["id"], "challenge.verified")
    assert (await pipeline.get(second["id"]))["attempts"] == 0


async def test_expiry_is_announced_within_five_seconds_and_late_sms_verify_nothing(
    pipeline: Pipeline, aiohttp_client: Any, settings: Settings
):
    # A tenant API whose clock is 28 s behind creates a 30 s challenge (the shortest) that ends in 2 s.
    behind = Pipeline(await aiohttp_client(create_ingest(settings, clock=lambda: now_ms() - 28_000)), pipeline.notifier)
    ws = await pipeline.ready_socket()
    challenge = await behind.create(ttl_seconds=30)
    expires_at = time.time() + 2
    event = await next_frame(ws, within=12)
    announced_at = time.time()
    assert (event["type"], event["status"]) == ("challenge.expired", "expired")
    assert announced_at - expires_at < 5.0
    await pipeline.sms(challenge["code"])
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    assert (await next_frame(ws))["challenge_id"] == marker["id"]
    assert (await pipeline.get(challenge["id"]))["status"] == "expired"


async def test_words_around_an_alphanumeric_code_cost_nothing(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(alphabet="alphanumeric", max_attempts=2)
    code = challenge["code"]
    assert any(c.isdigit() for c in code)
    assert any(c.isalpha() for c in code)
    await pipeline.sms(f"thanks bye merci {code.lower()} thanks")
    event = await next_frame(ws)
    assert (event["type"], event["attempts"]) == ("challenge.verified", 1)
