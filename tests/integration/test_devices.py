"""Device-bound codes (docs/api.md): the enrolled app's TOTP, sent from the enrolled phone,
verifies; its secret alone, or the phone alone, does not. Codes are computed here by RFC 6238
itself, not by the pyotp that revotp uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.integration.conftest import (
    ACME_KEY,
    GLOBEX_KEY,
    OTHER_PHONE,
    PHONE,
    VIRTUAL_NUMBER,
    Pipeline,
    bearer,
    next_frame,
)
from tests.support.metrics import grown, sample


def rfc6238(secret_b32: str, at_s: float, period: int = 30, digits: int = 6) -> str:
    """RFC 6238 over RFC 4226 (SHA-1, dynamic truncation), written out."""
    counter = struct.pack(">Q", int(at_s // period))
    mac = hmac.new(base64.b32decode(secret_b32), counter, hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


async def enroll(pipeline: Pipeline, phone: str = PHONE, api_key: str = ACME_KEY) -> dict[str, Any]:
    response = await pipeline.ingest.post(
        "/v1/devices", json={"phone": phone, "label": "Ana's phone"}, headers=bearer(api_key)
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


def secret_of(device: dict[str, Any]) -> str:
    return str(parse_qs(urlsplit(device["otpauth_uri"]).query)["secret"][0])


async def device_challenge(pipeline: Pipeline, device: dict[str, Any]) -> dict[str, Any]:
    response = await pipeline.ingest.post("/v1/challenges", json={"device_id": device["id"]}, headers=bearer(ACME_KEY))
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def test_enrolment_shows_the_secret_once_as_an_otpauth_uri(pipeline: Pipeline):
    device = await enroll(pipeline)
    uri = urlsplit(device["otpauth_uri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", f"/acme:{PHONE}")
    query = {name: values[0] for name, values in parse_qs(uri.query).items()}
    assert query == {"secret": query["secret"], "issuer": "acme", "digits": "6", "period": "30", "algorithm": "SHA1"}
    assert len(base64.b32decode(query["secret"])) == 20
    shown = await (await pipeline.ingest.get(f"/v1/devices/{device['id']}", headers=bearer(ACME_KEY))).json()
    assert shown == {key: device[key] for key in ("id", "phone", "label", "created_at")}, "never the secret again"
    assert (await pipeline.ingest.get(f"/v1/devices/{device['id']}", headers=bearer(GLOBEX_KEY))).status == 404


async def test_the_apps_code_from_the_enrolled_phone_verifies_once(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    device = await enroll(pipeline)
    challenge = await device_challenge(pipeline, device)
    assert "code" not in challenge
    assert "sms_body" not in challenge
    assert challenge["sms_uri"] == f"sms:{VIRTUAL_NUMBER}?body="
    assert challenge["device_id"] == device["id"]

    code = rfc6238(secret_of(device), time.time())
    await pipeline.sms(f"my code {code}")
    frame = await next_frame(ws)
    assert (frame["type"], frame["challenge_id"], frame["method"]) == (
        "challenge.verified",
        challenge["id"],
        "device_totp",
    )
    claims = json.loads(base64.urlsafe_b64decode(frame["receipt"].split(".")[1] + "=="))
    assert claims["method"] == "device_totp"

    again = await device_challenge(pipeline, device)
    await pipeline.sms(code)  # the same code: its time step was spent
    replayed = await next_frame(ws)
    assert (replayed["type"], replayed["challenge_id"], replayed["attempts"]) == (
        "challenge.attempt_failed",
        again["id"],
        1,
    )


async def test_the_apps_code_from_another_phone_verifies_nothing(pipeline: Pipeline):
    device = await enroll(pipeline)
    challenge = await device_challenge(pipeline, device)
    judged_before = sample("revotp_matcher_sms_total", outcome="no_challenge")
    await pipeline.sms(rfc6238(secret_of(device), time.time()), sender=OTHER_PHONE)
    assert await grown("revotp_matcher_sms_total", judged_before, outcome="no_challenge") > judged_before, "judged"
    current = await pipeline.get(challenge["id"])
    assert (current["status"], current["attempts"]) == ("pending", 0)


async def test_a_removed_device_verifies_nothing_and_its_challenges_are_canceled(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    device = await enroll(pipeline)
    challenge = await device_challenge(pipeline, device)
    removed = await pipeline.ingest.delete(f"/v1/devices/{device['id']}", headers=bearer(ACME_KEY))
    assert removed.status == 200
    assert (await removed.json())["canceled_challenges"] == 1
    canceled = await next_frame(ws)
    assert (canceled["type"], canceled["challenge_id"]) == ("challenge.canceled", challenge["id"])
    refused = await pipeline.ingest.post("/v1/challenges", json={"device_id": device["id"]}, headers=bearer(ACME_KEY))
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "device_not_found"
    assert (await pipeline.ingest.delete(f"/v1/devices/{device['id']}", headers=bearer(ACME_KEY))).status == 404


async def test_a_device_challenge_takes_only_the_devices_phone(pipeline: Pipeline):
    device = await enroll(pipeline)
    response = await pipeline.ingest.post(
        "/v1/challenges", json={"device_id": device["id"], "phone": OTHER_PHONE}, headers=bearer(ACME_KEY)
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "phone_not_the_devices"
    missing = await pipeline.ingest.post("/v1/challenges", json={}, headers=bearer(ACME_KEY))
    assert missing.status == 400
