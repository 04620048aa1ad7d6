"""Long SMS delivered in parts, and batches with a bad entry."""

from __future__ import annotations

import json
import uuid
from typing import Any

from redis.asyncio import Redis

from common.names import Names
from common.settings import from_env
from matcher.worker import Worker
from tests.integration import provider_requests as requests
from tests.integration.conftest import OTHER_PHONE, PHONE, Pipeline, deployment_env, next_frame, send
from tests.integration.provider_requests import Sms


def vonage_part(
    sms: Sms, reference: str, number: int, total: int, text: str, message_id: str
) -> requests.ProviderRequest:
    params = requests.vonage_sms_params(sms)
    params.update(
        {
            "text": text,
            "messageId": message_id,
            "concat": "true",
            "concat-ref": reference,
            "concat-total": str(total),
            "concat-part": str(number),
        }
    )
    return requests.vonage_params(params)


async def test_vonage_parts_out_of_order_and_twice_make_one_message_verified_once(
    pipeline: Pipeline, redis: Redis, namespace: str
):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    code = challenge["code"]
    # The code straddles parts 2 and 3: only the reassembled text carries it.
    texts = ["Hello, this is a long message and my code is ", code[:3], code[3:] + " thanks"]
    sms = Sms(PHONE, challenge["virtual_number"], "", "")
    parts = [vonage_part(sms, "ref-7", n, 3, texts[n - 1], f"part-{n}") for n in (1, 2, 3)]
    for request in (parts[2], parts[0], parts[2], parts[1], parts[0], parts[1]):
        response = await send(pipeline.ingest, request)
        assert response.status == 200
    event = await next_frame(ws)
    assert (event["challenge_id"], event["type"], event["attempts"]) == (challenge["id"], "challenge.verified", 1)
    # Exactly one event for the six deliveries: nothing after it but the marker.
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    assert (await next_frame(ws))["challenge_id"] == marker["id"]
    assert await redis.xlen(Names(namespace).events("acme")) == 2


async def test_parts_whose_siblings_never_come_are_judged_after_the_timeout(
    ingest: Any, notifier: Any, namespace: str, cleanup: None
):
    worker = Worker(from_env(deployment_env(namespace, REVOTP_PARTS_TIMEOUT_S="1")))
    await worker.start()
    try:
        pipeline = Pipeline(ingest, notifier)
        ws = await pipeline.ready_socket()
        challenge = await pipeline.create()
        sms = Sms(PHONE, challenge["virtual_number"], "", "")
        request = vonage_part(sms, "ref-9", 1, 2, f"code {challenge['code']}", "lonely-part")
        assert (await send(ingest, request)).status == 200
        event = await next_frame(ws, within=10)
        assert (event["challenge_id"], event["type"]) == (challenge["id"], "challenge.verified")
    finally:
        await worker.stop()


async def test_an_infobip_batch_with_a_malformed_entry_keeps_the_valid_ones(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    first, second = await pipeline.create(), await pipeline.create(phone=OTHER_PHONE)
    results = [
        requests.infobip_result(Sms(PHONE, first["virtual_number"], first["code"], uuid.uuid4().hex)),
        {"messageId": 42, "text": "no sender, wrong types"},
        requests.infobip_result(Sms(OTHER_PHONE, second["virtual_number"], second["code"], uuid.uuid4().hex)),
    ]
    response = await send(pipeline.ingest, requests.infobip_body(json.dumps({"results": results}).encode()))
    assert response.status == 200
    assert await response.json() == {"accepted": 2, "skipped": 1}
    verified = {(await next_frame(ws))["challenge_id"] for _ in range(2)}
    assert verified == {first["id"], second["id"]}


async def test_a_bandwidth_batch_keeps_valid_messages_and_drops_receipts_quietly(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    events = [
        {"type": "message-delivered", "message": {"id": "out-1"}},  # a receipt: no SMS, not an error
        {"type": "message-received", "message": {"text": "no id"}},
        requests.bandwidth_event(Sms(PHONE, challenge["virtual_number"], challenge["code"], uuid.uuid4().hex)),
    ]
    response = await send(pipeline.ingest, requests.bandwidth_body(json.dumps(events).encode()))
    assert response.status == 200
    assert await response.json() == {"accepted": 1, "skipped": 1}
    assert (await next_frame(ws))["challenge_id"] == challenge["id"]
