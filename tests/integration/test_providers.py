"""Every provider's webhook: a realistic request verifies a challenge end to end, a tampered one
is refused with 401, a malformed one with 400, nothing refused is queued, and the answer is the
one the provider expects."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.integration import provider_requests as requests
from tests.integration.conftest import PHONE, AppClient, Pipeline, next_frame, queued_messages, send
from tests.integration.provider_requests import CASES, ProviderCase, Sms

BY_NAME = pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])


async def _check_answer(case: ProviderCase, response: Any) -> None:
    body = await response.text()
    assert response.status == case.status, body
    if case.content_type is not None:
        assert response.content_type == case.content_type
    if case.body is not None:
        assert body.strip() == case.body


@BY_NAME
async def test_a_realistic_request_verifies_a_challenge(pipeline: Pipeline, case: ProviderCase):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    sms = Sms(PHONE, challenge["virtual_number"], f"Code {challenge['code']}", f"{case.name}-{uuid.uuid4().hex}")
    await _check_answer(case, await send(pipeline.ingest, case.build(sms)))
    event = await next_frame(ws)
    assert (event["challenge_id"], event["type"]) == (challenge["id"], "challenge.verified")


@BY_NAME
async def test_a_tampered_request_is_refused_and_nothing_queued(
    ingest: AppClient, amqp: Any, namespace: str, case: ProviderCase
):
    sms = Sms(PHONE, "+15550100000", "Code 123456", uuid.uuid4().hex)
    response = await send(ingest, case.tamper(case.build(sms)))
    assert response.status == 401, await response.text()
    assert (await response.json())["error"]["code"] in ("invalid_signature", "invalid_credentials")
    assert await queued_messages(amqp, namespace) == 0
    # The genuine request still goes through: the refusal was the tampering's doing.
    await _check_answer(case, await send(ingest, case.build(sms)))
    assert await queued_messages(amqp, namespace) == 1


@BY_NAME
async def test_a_malformed_request_is_refused_and_nothing_queued(
    ingest: AppClient, amqp: Any, namespace: str, case: ProviderCase
):
    response = await send(ingest, case.malformed())
    assert response.status == 400, await response.text()
    assert (await response.json())["error"]["code"] == "malformed_message"
    assert await queued_messages(amqp, namespace) == 0


@pytest.mark.parametrize("name", [case.name for case in CASES if case.name != "generic"])
async def test_an_unconfigured_provider_is_refused(aiohttp_client: Any, namespace: str, cleanup: None, name: str):
    from common.settings import from_env
    from ingest.app import create_app
    from tests.integration.conftest import deployment_env

    env = {
        key: value
        for key, value in deployment_env(namespace).items()
        if not key.startswith(f"REVOTP_{name.upper().replace('-', '_')}_")
    }
    client = await aiohttp_client(create_app(from_env(env)))
    case = next(case for case in CASES if case.name == name)
    response = await send(client, case.build(Sms(PHONE, "+15550100000", "Code 123456", "m-1")))
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "provider_not_configured"


async def test_vonage_get_json_and_messages_api_variants_verify(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    for variant in ("get", "json", "messages"):
        challenge = await pipeline.create()
        sms = Sms(PHONE, challenge["virtual_number"], f"Code {challenge['code']}", uuid.uuid4().hex)
        if variant == "messages":
            request = requests.vonage_messages(sms)
        else:
            request = requests.vonage_params(requests.vonage_sms_params(sms), encoding=variant)
        response = await send(pipeline.ingest, request)
        assert response.status == 200, (variant, await response.text())
        event = await next_frame(ws)
        assert (event["challenge_id"], event["type"]) == (challenge["id"], "challenge.verified"), variant


async def test_vonage_messages_api_refuses_a_jwt_of_another_body(ingest: AppClient):
    good = requests.vonage_messages(Sms(PHONE, "+15550100000", "Code 123456", "m-1"))
    other = requests.vonage_messages(Sms(PHONE, "+15550100000", "Code 654321", "m-1"))
    swapped = requests.ProviderRequest("POST", good.path, other.headers, good.body)
    response = await send(ingest, swapped)
    assert response.status == 401
    assert "payload_hash" in (await response.json())["error"]["message"]


async def test_twilio_get_verifies(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "From": PHONE,
        "To": challenge["virtual_number"],
        "Body": challenge["code"],
    }
    response = await send(pipeline.ingest, requests.twilio_params(params, method="GET"))
    assert response.status == 200
    assert (await next_frame(ws))["type"] == "challenge.verified"


async def test_a_method_the_provider_does_not_use_is_refused(ingest: AppClient):
    response = await ingest.get("/v1/inbound/telnyx")
    assert response.status == 405
    assert response.headers["Allow"] == "POST"


async def test_the_public_url_not_the_host_header_is_what_twilio_signed(ingest: AppClient):
    request = requests.twilio(Sms(PHONE, "+15550100000", "Code 123456", "SM1"))
    forged_host = {**request.headers, "Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}
    response = await ingest.post(request.path, data=request.body, headers=forged_host)
    assert response.status == 200  # signed for REVOTP_PUBLIC_URL; the Host header plays no part
