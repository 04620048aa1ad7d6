"""Refused requests get the precise status docs/api.md, Errors, gives them, a JSON error, and enqueue nothing."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.integration.conftest import (
    ACME_KEY,
    PHONE,
    VIRTUAL_NUMBER,
    AppClient,
    bearer,
    post_generic,
    post_twilio,
    queued_messages,
)

MESSAGE = {"id": "m-1", "from": PHONE, "to": VIRTUAL_NUMBER, "text": "123456"}


async def _error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body) == {"error"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code


async def _signed_raw(ingest: AppClient, body: bytes, content_type: str = "application/json") -> Any:
    from common.signing import sign
    from tests.integration.conftest import GENERIC_SECRET

    stamp = int(time.time())
    headers = {
        "Content-Type": content_type,
        "X-Revotp-Timestamp": str(stamp),
        "X-Revotp-Signature": sign(GENERIC_SECRET, stamp, body),
    }
    return await ingest.post("/v1/inbound/generic", data=body, headers=headers)


async def test_refused_webhooks_enqueue_nothing_and_an_accepted_one_does(ingest: AppClient, amqp: Any, namespace: str):
    await _error(await post_generic(ingest, MESSAGE, secret="not-the-secret"), 401, "invalid_signature")
    await _error(await post_generic(ingest, MESSAGE, timestamp=int(time.time()) - 301), 401, "invalid_signature")
    await _error(await post_generic(ingest, MESSAGE, timestamp=int(time.time()) + 301), 401, "invalid_signature")
    unsigned = await ingest.post("/v1/inbound/generic", json=MESSAGE)
    await _error(unsigned, 401)
    # Signed over one body, sent with another.
    from common.signing import sign
    from tests.integration.conftest import GENERIC_SECRET

    stamp = int(time.time())
    tampered = await ingest.post(
        "/v1/inbound/generic",
        data=json.dumps({**MESSAGE, "text": "999999"}),
        headers={
            "Content-Type": "application/json",
            "X-Revotp-Timestamp": str(stamp),
            "X-Revotp-Signature": sign(GENERIC_SECRET, stamp, json.dumps(MESSAGE).encode()),
        },
    )
    await _error(tampered, 401)
    await _error(await _signed_raw(ingest, b'{"id": "m-1", "from": '), 400, "malformed_message")
    await _error(await _signed_raw(ingest, b'{"id": "m-1", "to": "+15550100000"}'), 400, "malformed_message")
    await _error(await _signed_raw(ingest, b'{"id": 5, "from": "x", "to": "y", "text": "z"}'), 400, "malformed_message")
    await _error(await _signed_raw(ingest, b'"just a string"'), 400, "malformed_message")
    await _error(await _signed_raw(ingest, b"[]"), 422, "empty_batch")
    await _error(await _signed_raw(ingest, b"a=b", "application/x-www-form-urlencoded"), 415)
    batch = [dict(MESSAGE, id=f"m-{i}", text="1") for i in range(501)]
    await _error(await post_generic(ingest, batch), 422, "batch_too_large")
    await _error(await _signed_raw(ingest, b"[" + b" " * 70_000 + b"]"), 413, "body_too_large")
    await _error(await post_generic(ingest, [MESSAGE, {"id": "m-2"}]), 400)  # one bad entry refuses the batch
    unknown = await ingest.post("/v1/inbound/no-such-provider", json=MESSAGE)
    await _error(unknown, 404, "unknown_provider")
    twilio_params = {"MessageSid": "SM1", "From": PHONE, "To": VIRTUAL_NUMBER, "Body": "1"}
    await _error(await post_twilio(ingest, twilio_params, token="wrong-token"), 401)
    await _error(await post_twilio(ingest, {"From": PHONE, "To": VIRTUAL_NUMBER}), 400)
    assert await queued_messages(amqp, namespace) == 0

    accepted = await post_generic(ingest, [MESSAGE, dict(MESSAGE, id="m-2")])
    assert accepted.status == 202
    assert await accepted.json() == {"status": "accepted", "count": 2}
    assert await queued_messages(amqp, namespace) == 2
    # The process kept serving throughout.
    assert (await ingest.get("/healthz")).status == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"phone": "not a phone"}, 422, "invalid_phone"),
        ({"phone": "+1 202 555"}, 422, "invalid_phone"),
        ({"phone": "0612345678"}, 422, "invalid_phone"),  # national French number read as US
        ({"phone": "0612345678", "region": "FRA"}, 422, "invalid_region"),
        ({"phone": PHONE, "ttl_seconds": 29}, 422, "invalid_ttl_seconds"),
        ({"phone": PHONE, "ttl_seconds": 901}, 422, "invalid_ttl_seconds"),
        ({"phone": PHONE, "max_attempts": 0}, 422, "invalid_max_attempts"),
        ({"phone": PHONE, "max_attempts": 11}, 422, "invalid_max_attempts"),
        ({"phone": PHONE, "code_length": 3}, 422, "invalid_code_length"),
        ({"phone": PHONE, "code_length": 11}, 422, "invalid_code_length"),
        ({"phone": PHONE, "alphabet": "emoji"}, 422, "invalid_alphabet"),
        ({"phone": PHONE, "context": "x" * 201}, 422, "invalid_context"),
        ({"phone": PHONE, "external_id": "x" * 129}, 422, "invalid_external_id"),
        ({"phone": PHONE, "ttl_seconds": "120"}, 400, "invalid_body"),
        ({"phone": PHONE, "ttl": 120}, 400, "invalid_body"),
        ({}, 400, "invalid_body"),
        ([PHONE], 400, "invalid_body"),
    ],
)
async def test_create_refuses_invalid_requests(ingest: AppClient, body: Any, status: int, code: str):
    response = await ingest.post("/v1/challenges", json=body, headers=bearer(ACME_KEY))
    await _error(response, status, code)


async def test_create_refuses_bad_envelopes(ingest: AppClient):
    path = "/v1/challenges"
    await _error(await ingest.post(path, json={"phone": PHONE}), 401, "missing_credentials")
    await _error(await ingest.post(path, json={"phone": PHONE}, headers=bearer("nope")), 401, "invalid_credentials")
    await _error(
        await ingest.post(path, data=b"{", headers={**bearer(ACME_KEY), "Content-Type": "application/json"}),
        400,
        "malformed_json",
    )
    await _error(
        await ingest.post(path, data=b"phone=1", headers={**bearer(ACME_KEY), "Content-Type": "text/plain"}), 415
    )
    big = json.dumps({"phone": PHONE, "context": "x" * 70_000})
    await _error(
        await ingest.post(path, data=big, headers={**bearer(ACME_KEY), "Content-Type": "application/json"}), 413
    )
    await _error(await ingest.get("/v1/challenges/ch_doesnotexist", headers=bearer(ACME_KEY)), 404)
    await _error(await ingest.get("/v1/challenges/../../etc", headers=bearer(ACME_KEY)), 404)
    await _error(await ingest.put(path, json={}), 405)
    await _error(await ingest.get("/nowhere"), 404)


async def test_a_national_number_is_read_with_its_region(ingest: AppClient):
    response = await ingest.post(
        "/v1/challenges", json={"phone": "06 12 34 56 78", "region": "fr"}, headers=bearer(ACME_KEY)
    )
    assert response.status == 201
    assert (await response.json())["phone"] == PHONE


async def test_an_sms_the_broker_cannot_route_is_answered_503(ingest: AppClient, amqp: Any, namespace: str):
    from common.names import Names

    channel = await amqp.channel()
    await channel.queue_delete(Names(namespace).inbound_queue)
    await channel.close()
    response = await post_generic(ingest, dict(MESSAGE, id=uuid.uuid4().hex))
    await _error(response, 503, "service_unavailable")
    assert response.headers["Retry-After"]


async def test_idempotent_create_returns_the_first_response(ingest: AppClient):
    headers = {**bearer(ACME_KEY), "Idempotency-Key": "order-42-try"}
    first = await ingest.post("/v1/challenges", json={"phone": PHONE}, headers=headers)
    again = await ingest.post("/v1/challenges", json={"phone": PHONE}, headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert await first.json() == await again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await ingest.post("/v1/challenges", json={"phone": PHONE, "ttl_seconds": 60}, headers=headers)
    await _error(other, 422, "idempotency_key_reused")
    # Keys are per tenant: the same key at another tenant is a new challenge.
    from tests.integration.conftest import GLOBEX_KEY

    globex = await ingest.post(
        "/v1/challenges", json={"phone": PHONE}, headers={**bearer(GLOBEX_KEY), "Idempotency-Key": "order-42-try"}
    )
    assert (await globex.json())["id"] != (await first.json())["id"]


async def test_openapi_describes_every_route(ingest: AppClient):
    response = await ingest.get("/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) >= {"/v1/challenges", "/v1/challenges/{challenge_id}", "/v1/inbound/{provider}"}
    assert "CreateChallenge" in document["components"]["schemas"]
    routes = {
        (route.method, route.resource.canonical)
        for route in ingest.app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    described = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    for method, path in routes:
        # A route for any method (the webhooks) must at least have its path described.
        assert (method, path) in described if method != "*" else path in document["paths"]
