"""A challenge is verified only from its own phone: alphanumeric sender ids are no phone numbers.

``phonenumbers`` skips leading letters and maps letters to keypad digits, so ``X0612345678``
once read as +33612345678. Every provider's sender goes through the same rule.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from redis.asyncio import Redis

from common.events import decode_entries
from common.names import Names
from tests.integration.conftest import ACME_KEY, GLOBEX_KEY, OTHER_PHONE, PHONE, next_frame, post_generic, send
from tests.integration.provider_requests import CASES, ProviderCase, Sms
from tests.support.metrics import sample

DROPPED = "revotp_ingest_sms_dropped_total"

# Senders that carry the victim's digits (+33612345678) behind or among letters.
FORGED_SENDERS = [
    "X0612345678",
    "BANK0612345678",
    "X33612345678",
    "+33X612345678",
    "Ж0612345678",
    "\uff21\uff220612345678",
]  # full-width letters


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_an_alphanumeric_sender_never_verifies_nor_costs_an_attempt(
    deploy: Any, redis: Redis, namespace: str, case: ProviderCase
):
    # One delivery at a time: the matcher judges the SMS in the order they were accepted.
    pipeline = await deploy(REVOTP_DEFAULT_REGION="FR", REVOTP_PREFETCH="1")
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=1)
    control = await pipeline.create(phone=OTHER_PHONE)
    for sender in FORGED_SENDERS:
        sms = Sms(sender, challenge["virtual_number"], f"Code {challenge['code']}", uuid.uuid4().hex)
        response = await send(pipeline.ingest, case.build(sms))
        assert response.status == case.status, (sender, await response.text())
    # The control challenge's verdict comes after every forged SMS was judged or dropped.
    await pipeline.sms(control["code"], sender=OTHER_PHONE)
    assert (await next_frame(ws))["challenge_id"] == control["id"]
    unchanged = await pipeline.get(challenge["id"])
    assert (unchanged["status"], unchanged["attempts"]) == ("pending", 0)
    # The genuine SMS still verifies at its first attempt: nothing before it counted.
    genuine = Sms(PHONE, challenge["virtual_number"], f"Code {challenge['code']}", uuid.uuid4().hex)
    assert (await send(pipeline.ingest, case.build(genuine))).status == case.status
    event = await next_frame(ws)
    assert (event["type"], event["challenge_id"], event["attempts"]) == ("challenge.verified", challenge["id"], 1)
    assert len(decode_entries(await redis.xrange(Names(namespace).events("acme")))) == 2


async def test_an_alphanumeric_sender_is_counted_and_spends_no_rate_allowance(deploy: Any):
    pipeline = await deploy(REVOTP_DEFAULT_REGION="FR", REVOTP_SENDER_RATE_LIMIT="2/60")
    dropped_before = sample(DROPPED, provider="generic", reason="bad_sender")
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    for _ in range(5):
        message = {"id": uuid.uuid4().hex, "from": "X0612345678", "to": challenge["virtual_number"], "text": "1"}
        assert (await post_generic(pipeline.ingest, message)).status == 202
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"
    assert sample(DROPPED, provider="generic", reason="bad_sender") == dropped_before + 5


async def test_an_sms_that_verifies_at_one_tenant_leaves_no_trace_at_another(deploy: Any, redis: Redis, namespace: str):
    pipeline = await deploy(REVOTP_PREFETCH="1")  # judged one at a time, in order
    acme_ws = await pipeline.ready_socket(ACME_KEY)
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    # Globex watches the phone with one attempt; Acme's user verifies on the shared number.
    watcher = await pipeline.create(GLOBEX_KEY, max_attempts=1)
    challenge = await pipeline.create(ACME_KEY)
    control = await pipeline.create(GLOBEX_KEY, phone=OTHER_PHONE)
    assert watcher["virtual_number"] == challenge["virtual_number"]
    await pipeline.sms(challenge["code"])
    await pipeline.sms(control["code"], sender=OTHER_PHONE)
    assert (await next_frame(acme_ws))["type"] == "challenge.verified"
    # Globex's first event is its control's: the verifying SMS told it nothing.
    assert (await next_frame(globex_ws))["challenge_id"] == control["id"]
    assert (await pipeline.get(watcher["id"], GLOBEX_KEY))["attempts"] == 0
    # A wrong code concerns both: it costs each tenant's challenge, as its own rules say.
    await pipeline.sms("000001" if challenge["code"] != "000001" else "000002")
    event = await next_frame(globex_ws)
    assert (event["challenge_id"], event["type"], event["attempts"]) == (watcher["id"], "challenge.failed", 1)
    assert len(decode_entries(await redis.xrange(Names(namespace).events("globex")))) == 2


async def test_a_redelivered_sms_that_verified_at_one_tenant_still_costs_another_nothing(
    deploy: Any, redis: Redis, namespace: str
):
    # The matcher crashed after committing at Acme: Globex's step never ran. The redelivery
    # must still know the SMS verified, and leave Globex alone.
    pipeline = await deploy(REVOTP_PREFETCH="1")
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    watcher = await pipeline.create(GLOBEX_KEY, max_attempts=1)
    challenge = await pipeline.create(ACME_KEY)
    names = Names(namespace)
    await redis.set(names.seen("acme", "generic", PHONE, "m-crash"), "verified")
    await redis.set(names.judgement(PHONE, challenge["virtual_number"], "generic", "m-crash"), "acme,globex")
    await pipeline.sms("000000", message_id="m-crash")
    control = await pipeline.create(GLOBEX_KEY, phone=OTHER_PHONE)
    await pipeline.sms(control["code"], sender=OTHER_PHONE)
    assert (await next_frame(globex_ws))["challenge_id"] == control["id"]
    assert (await pipeline.get(watcher["id"], GLOBEX_KEY))["attempts"] == 0
