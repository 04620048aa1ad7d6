"""From HTTP to the websocket frame: the whole path, through each webhook format."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import unquote

from aiohttp import ClientWebSocketResponse

from tests.integration.conftest import (
    PHONE,
    VIRTUAL_NUMBER,
    Pipeline,
    next_frame,
    post_twilio,
)


async def _challenge_socket(pipeline: Pipeline, challenge: dict[str, Any]) -> ClientWebSocketResponse:
    ws = await pipeline.notifier.ws_connect(f"/v1/challenges/{challenge['id']}/events?token={challenge['watch_token']}")
    first = await next_frame(ws)
    assert first["type"] == "challenge.status"
    assert first["status"] == "pending"
    assert first["challenge_id"] == challenge["id"]
    return ws


async def test_generic_sms_verifies_and_both_sockets_hear_it(pipeline: Pipeline):
    tenant_ws = await pipeline.ready_socket()
    challenge = await pipeline.create(external_id="order-42", context="Confirm payment of 500 EUR")
    assert challenge["status"] == "pending"
    assert challenge["sms_body"] == challenge["code"]
    assert challenge["sms_uri"] == f"sms:{VIRTUAL_NUMBER}?body={challenge['code']}"
    assert challenge["verify_url"].startswith(f"http://127.0.0.1:8090/v1/challenges/{challenge['id']}/page?token=")
    challenge_ws = await _challenge_socket(pipeline, challenge)

    await pipeline.sms(f"Code: {challenge['code']}")

    event = await next_frame(tenant_ws)
    assert event["type"] == "challenge.verified"
    assert event["challenge_id"] == challenge["id"]
    assert event["external_id"] == "order-42"
    assert event["status"] == "verified"
    assert event["attempts"] == 1
    assert event["phone"] == PHONE
    assert event["virtual_number"] == VIRTUAL_NUMBER
    assert event["cursor"]
    watched = await next_frame(challenge_ws)
    assert watched["type"] == "challenge.verified"
    assert watched["cursor"] == event["cursor"]
    # The challenge socket ends after a terminal event, with a closing handshake (not a dropped 1006).
    closing = await challenge_ws.receive()
    assert closing.type.name == "CLOSE"
    assert (closing.data, closing.extra) == (1000, "challenge settled")
    assert challenge_ws.close_code == 1000

    after = await pipeline.get(challenge["id"])
    assert after["status"] == "verified"
    assert "verified_at" in after
    assert not {"code", "sms_body", "sms_uri", "verify_url"} & set(after)


async def test_the_context_goes_into_the_sms_after_the_code_when_asked_and_the_sms_verifies(pipeline: Pipeline):
    tenant_ws = await pipeline.ready_socket()
    context = "Pay 500 € to Shop & Co #7 +tax"
    challenge = await pipeline.create(context=context, context_in_sms=True)
    assert challenge["sms_body"] == f"{challenge['code']} {context}"
    body = challenge["sms_uri"].split("?body=", 1)[1]
    assert not set(body) & set("&#+ ")
    assert unquote(body) == challenge["sms_body"]

    await pipeline.sms(challenge["sms_body"])
    event = await next_frame(tenant_ws)
    assert (event["type"], event["challenge_id"], event["attempts"]) == ("challenge.verified", challenge["id"], 1)


async def test_twilio_sms_verifies_and_gets_twiml(pipeline: Pipeline):
    tenant_ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    params = {
        "ToCountry": "US",
        "ToState": "",
        "SmsMessageSid": "SM" + uuid.uuid4().hex,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": "SM" + uuid.uuid4().hex,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "PARIS",
        "Body": f"{challenge['code'][:3]} {challenge['code'][3:]}",
        "FromCountry": "FR",
        "To": VIRTUAL_NUMBER,
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + uuid.uuid4().hex,
        "From": PHONE,
        "ApiVersion": "2010-04-01",
    }
    response = await post_twilio(pipeline.ingest, params)
    assert response.status == 200
    assert response.content_type == "text/xml"
    assert "<Response></Response>" in await response.text()

    event = await next_frame(tenant_ws)
    assert event["type"] == "challenge.verified"
    assert event["challenge_id"] == challenge["id"]
    assert (await pipeline.get(challenge["id"]))["status"] == "verified"


async def test_already_settled_challenge_socket_sends_state_then_closes(pipeline: Pipeline):
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await pipeline.wait_status(challenge["id"], "verified"))["status"] == "verified"
    ws = await pipeline.notifier.ws_connect(f"/v1/challenges/{challenge['id']}/events?token={challenge['watch_token']}")
    first = await next_frame(ws)
    assert first["type"] == "challenge.status"
    assert first["status"] == "verified"
    closing = await ws.receive()
    assert closing.type.name in ("CLOSE", "CLOSED")
