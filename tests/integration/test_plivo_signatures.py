"""Plivo's V2 signature covers the URL and a nonce, not the body: one seen V2 pair must not
forge another SMS. V3 covers the body and, when present, must verify on its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from common.settings import SettingsError, from_env
from ingest.app import create_app
from ingest.providers.plivo import signature_v2, signature_v3
from tests.integration.conftest import deployment_env, queued_messages
from tests.integration.provider_requests import PUBLIC_URL, SECRETS

PATH = "/v1/inbound/plivo"
TOKEN = SECRETS["REVOTP_PLIVO_SECRET"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _params(text: str = "Code 123456", sender: str = "33612345678") -> dict[str, str]:
    return {"From": sender, "To": "15550100000", "Text": text, "Type": "sms", "MessageUUID": uuid.uuid4().hex}


def _v2(nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or uuid.uuid4().hex
    return {"X-Plivo-Signature-V2-Nonce": nonce, "X-Plivo-Signature-V2": signature_v2(TOKEN, PUBLIC_URL + PATH, nonce)}


def _v3(params: dict[str, str], nonce: str | None = None) -> dict[str, str]:
    nonce = nonce or uuid.uuid4().hex
    return {
        "X-Plivo-Signature-V3-Nonce": nonce,
        "X-Plivo-Signature-V3": signature_v3(TOKEN, "POST", PUBLIC_URL + PATH, params.items(), nonce),
    }


async def _post(client: Any, params: dict[str, str], headers: dict[str, str]) -> Any:
    return await client.post(PATH, data=urlencode(params), headers={**FORM, **headers})


async def test_a_seen_v2_pair_cannot_sign_another_body(ingest: Any, amqp: Any, namespace: str):
    seen = _v2()
    assert (await _post(ingest, _params(), seen)).status == 200
    # The attacker's body (another sender, another code) under the captured V2 headers.
    forged = await _post(ingest, _params("Code 999999", sender="33698765432"), seen)
    assert forged.status == 401
    assert (await forged.json())["error"]["code"] == "replayed_nonce"
    assert await queued_messages(amqp, namespace) == 1


async def test_plivos_retry_of_the_same_request_is_still_accepted(ingest: Any):
    params, headers = _params(), _v2()
    assert (await _post(ingest, params, headers)).status == 200
    assert (await _post(ingest, params, headers)).status == 200


async def test_a_v2_nonce_of_a_v3_verified_request_is_recorded_too(ingest: Any):
    params = _params()
    both = {**_v2(), **_v3(params)}
    assert (await _post(ingest, params, both)).status == 200
    stripped = {key: value for key, value in both.items() if "V3" not in key}
    assert (await _post(ingest, _params("Code 999999"), stripped)).status == 401


@pytest.mark.parametrize("broken", ["wrong signature", "empty nonce", "signature only"])
async def test_a_present_v3_header_must_verify_with_no_fallback_to_v2(ingest: Any, broken: str):
    params = _params()
    v3 = _v3(params)
    if broken == "wrong signature":
        v3["X-Plivo-Signature-V3"] = "A" * 44
    elif broken == "empty nonce":
        v3["X-Plivo-Signature-V3-Nonce"] = ""
    else:
        del v3["X-Plivo-Signature-V3-Nonce"]
    response = await _post(ingest, params, {**_v2(), **v3})
    assert response.status == 401, await response.text()


async def test_an_operator_may_require_v3(aiohttp_client: Any, namespace: str, cleanup: None):
    settings = from_env(deployment_env(namespace, REVOTP_PLIVO_SIGNATURE_VERSIONS="v3"))
    client = await aiohttp_client(create_app(settings))
    params = _params()
    assert (await _post(client, params, _v2())).status == 401
    assert (await _post(client, params, _v3(params))).status == 200


async def test_a_v3_signature_over_plain_utf8_text_is_accepted(ingest: Any):
    # Plivo's current SDK validator signs the UTF-8 string as it is; the older one "widened" it.
    params = _params("Code 123456 — merci, à bientôt")
    nonce = uuid.uuid4().hex
    url_part = f"{PUBLIC_URL}{PATH}?" + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(TOKEN.encode(), f"{url_part}.{nonce}".encode(), hashlib.sha256).digest()
    plain = base64.b64encode(digest).decode()
    assert plain != signature_v3(TOKEN, "POST", PUBLIC_URL + PATH, params.items(), nonce)
    headers = {"X-Plivo-Signature-V3-Nonce": nonce, "X-Plivo-Signature-V3": plain}
    assert (await _post(ingest, params, headers)).status == 200
    # And the widened form keeps working.
    widened = _params("Code 123456 — merci")
    assert (await _post(ingest, widened, _v3(widened))).status == 200


def test_an_invalid_signature_versions_option_fails_at_start(namespace: str):
    settings = from_env(deployment_env(namespace, REVOTP_PLIVO_SIGNATURE_VERSIONS="v4"))
    with pytest.raises(SettingsError, match="REVOTP_PLIVO_SIGNATURE_VERSIONS"):
        create_app(settings)
