"""challenge.sender_mismatch (docs/api.md, Event streams): a pending challenge's code sent from
another phone changes nothing and warns the challenge's tenant, once, and no one else, and only
when the code names exactly one of its pending challenges."""

from __future__ import annotations

import uuid

from matcher.judge import Outcome
from tests.integration.conftest import GLOBEX_KEY, OTHER_PHONE, PHONE, Pipeline, next_frame
from tests.integration.judge_bench import Bench, sms
from tests.support.metrics import grown, sample

GERMAN_PHONE = "+4915112345678"


async def test_the_code_from_another_phone_warns_the_tenant_and_changes_nothing(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    challenge = await pipeline.create()
    message_id = uuid.uuid4().hex
    await pipeline.sms(f"my code {challenge['code']}", sender=GERMAN_PHONE, message_id=message_id)
    signal = await next_frame(ws)
    assert {key: signal[key] for key in ("type", "challenge_id", "status", "attempts", "sender", "from_country")} == {
        "type": "challenge.sender_mismatch",
        "challenge_id": challenge["id"],
        "status": "pending",
        "attempts": 0,
        "sender": "+4915*******78",
        "from_country": "DE",
    }
    assert "receipt" not in signal

    await pipeline.sms(f"my code {challenge['code']}", sender=GERMAN_PHONE, message_id=message_id)  # a retry
    await pipeline.sms(challenge["code"])  # the user, from their phone
    verified = await next_frame(ws)
    assert (verified["type"], verified["attempts"]) == ("challenge.verified", 1), "the retry signaled nothing"
    assert (await pipeline.get(challenge["id"]))["status"] == "verified"

    other = await pipeline.create(api_key=GLOBEX_KEY)  # globex hears only of its own challenges
    await pipeline.sms(other["code"])
    assert (await next_frame(globex_ws))["challenge_id"] == other["id"]


async def test_an_ended_challenge_is_not_signaled(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"
    judged_before = sample("revotp_matcher_sms_total", outcome="no_challenge")
    await pipeline.sms(challenge["code"], sender=OTHER_PHONE)
    assert await grown("revotp_matcher_sms_total", judged_before, outcome="no_challenge") > judged_before, "judged"
    replay = await pipeline.tenant_socket(after="0-0")
    frames = [await next_frame(replay) for _ in range(2)]
    assert [frame["type"] for frame in frames] == ["challenge.verified", "ready"], "no signal for a verified challenge"


async def test_a_code_shared_by_two_pending_challenges_signals_nothing(bench: Bench):
    first = await bench.open("acme", phone=PHONE)
    second = await bench.open("acme", phone=OTHER_PHONE, code=first.code)
    before = sample("revotp_matcher_sender_mismatches_total", tenant="acme")
    judgement = await bench.judge.judge(sms(first.code, sender="+4915112345678"))
    assert judgement.outcome is Outcome.NO_CHALLENGE
    assert sample("revotp_matcher_sender_mismatches_total", tenant="acme") == before
    assert await bench.events("acme") == [], "an ambiguous code says nothing about anyone"
    assert await bench.state(first) == await bench.state(second)


async def test_the_same_code_at_another_tenant_is_no_ambiguity_for_this_one(bench: Bench):
    acme = await bench.open("acme", phone=PHONE)
    await bench.open("globex", phone=OTHER_PHONE, code=acme.code)
    await bench.judge.judge(sms(acme.code, sender="+4915112345678"))
    assert await bench.events("acme") == [f"challenge.sender_mismatch {acme.challenge.id}"]
    assert [event.split()[0] for event in await bench.events("globex")] == ["challenge.sender_mismatch"]
