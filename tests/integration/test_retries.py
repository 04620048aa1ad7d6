"""Providers retry; a retry is free. Rate limits count distinct SMS, and every accepted SMS is
remembered (provider + message id + sender) whether or not a challenge waited for it."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.conftest import OTHER_PHONE, PHONE, Pipeline, next_frame, post_generic
from tests.integration.test_verdicts import wrong_code
from tests.support.metrics import sample

SECOND_NUMBER = "+15550100001"


def _sms(number: str = "+15550100000", message_id: str | None = None) -> dict[str, str]:
    return {"id": message_id or uuid.uuid4().hex, "from": PHONE, "to": number, "text": "hello"}


async def test_a_retried_sms_uses_the_senders_allowance_once(deploy: Any):
    # The default allowance: 10 SMS per sender per minute.
    pipeline = await deploy()
    ws = await pipeline.ready_socket()
    retried = _sms()
    for _ in range(12):
        assert (await post_generic(pipeline.ingest, retried)).status == 202
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    event = await next_frame(ws)
    assert (event["challenge_id"], event["type"]) == (challenge["id"], "challenge.verified")


async def test_a_sender_over_its_allowance_is_accepted_and_dropped(deploy: Any):
    pipeline = await deploy(REVOTP_SENDER_RATE_LIMIT="3/60")
    dropped_before = sample("revotp_ingest_sms_dropped_total", provider="generic", reason="sender_flood")
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=5)
    answers = [await post_generic(pipeline.ingest, _sms()) for _ in range(5)]
    # A 2xx, so that providers do not retry a flood back; the dropped SMS are counted.
    assert [answer.status for answer in answers] == [202] * 5
    # Over the allowance, even the right code is dropped; a retry of a dropped SMS stays dropped.
    await pipeline.sms(challenge["code"], message_id="late-1")
    await pipeline.sms(challenge["code"], message_id="late-1")
    dropped = sample("revotp_ingest_sms_dropped_total", provider="generic", reason="sender_flood")
    assert dropped == dropped_before + 4
    # Another sender is not affected.
    other = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(other["code"], sender=OTHER_PHONE)
    frames = [await next_frame(ws) for _ in range(4)]
    assert {(frame["challenge_id"], frame["type"]) for frame in frames} == {
        (challenge["id"], "challenge.attempt_failed"),
        (other["id"], "challenge.verified"),
    }
    # The flooding sender's three admitted SMS each cost its challenge an attempt; nothing else did.
    assert (await pipeline.get(challenge["id"]))["attempts"] == 3


async def test_a_number_over_capacity_answers_429_and_the_refusals_cost_the_sender_nothing(deploy: Any):
    pipeline = await deploy(
        REVOTP_VIRTUAL_NUMBERS=f"+15550100000,{SECOND_NUMBER}",
        REVOTP_NUMBER_RATE_LIMIT="3/60",
        REVOTP_SENDER_RATE_LIMIT="2/60",
    )
    for n in range(3):
        filler = {**_sms(), "from": f"+3361234560{n}"}
        assert (await post_generic(pipeline.ingest, filler)).status == 202
    refused = _sms()
    for _ in range(4):  # the provider retries the refused SMS
        answer = await post_generic(pipeline.ingest, refused)
        assert answer.status == 429
        assert (await answer.json())["error"]["code"] == "rate_limited"
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
    # The sender's allowance (2) is untouched: two distinct SMS to the other number are queued.
    batch = [_sms(SECOND_NUMBER), _sms(SECOND_NUMBER)]
    answer = await post_generic(pipeline.ingest, batch)
    assert (answer.status, (await answer.json())["count"]) == (202, 2)
    # A batch with one SMS over capacity is refused whole, and nothing of it stays counted:
    # neither the other number's third slot nor the sender's allowance.
    mixed = [{**_sms(SECOND_NUMBER), "from": OTHER_PHONE}, {**_sms(), "from": OTHER_PHONE}]
    assert (await post_generic(pipeline.ingest, mixed)).status == 429
    alone = [{**_sms(SECOND_NUMBER), "from": OTHER_PHONE}]
    answer = await post_generic(pipeline.ingest, alone)
    assert (answer.status, (await answer.json())["count"]) == (202, 1)


async def test_an_sms_seen_before_its_challenge_existed_is_still_a_duplicate(deploy: Any):
    pipeline = await deploy(REVOTP_PREFETCH="1")  # judged one at a time, in order
    ws = await pipeline.ready_socket()
    control = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms("000000", message_id="early-1")
    await pipeline.sms(control["code"], sender=OTHER_PHONE)  # judged after "early-1"
    assert (await next_frame(ws))["challenge_id"] == control["id"]
    challenge = await pipeline.create()
    await pipeline.sms("000000", message_id="early-1")  # the provider's late retry
    await pipeline.sms(challenge["code"])
    event = await next_frame(ws)
    # Had the retry counted, this would read attempt_failed first, then attempts 2.
    assert (event["type"], event["attempts"]) == ("challenge.verified", 1)


async def test_two_senders_may_share_a_message_id(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    first = await pipeline.create()
    second = await pipeline.create(phone=OTHER_PHONE)
    # A gateway numbering its SMS from 1 gives both senders' SMS the id "17".
    await pipeline.sms(wrong_code(first["code"]), message_id="17")
    await pipeline.sms(second["code"], sender=OTHER_PHONE, message_id="17")
    events = {(await next_frame(ws))["challenge_id"]: None for _ in range(2)}
    assert set(events) == {first["id"], second["id"]}
    assert (await pipeline.get(second["id"]))["status"] == "verified"
