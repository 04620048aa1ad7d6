"""Provider options beyond the signature: source networks, older signature versions, stale timestamps."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest

from common.settings import from_env
from ingest.app import create_app
from ingest.providers.plivo import signature_v2
from tests.integration import provider_requests as requests
from tests.integration.conftest import PHONE, deployment_env, send
from tests.integration.provider_requests import PUBLIC_URL, SECRETS, Sms

SMS = Sms(PHONE, "+15550100000", "Code 123456", "m-1")


@pytest.mark.parametrize(("networks", "status"), [("10.0.0.0/8, 192.168.0.0/16", 401), ("10.0.0.0/8,127.0.0.0/8", 200)])
async def test_allowed_ips_limit_who_may_call(
    aiohttp_client: Any, namespace: str, cleanup: None, networks: str, status: int
):
    settings = from_env(deployment_env(namespace, REVOTP_SINCH_ALLOWED_IPS=networks))
    client = await aiohttp_client(create_app(settings))
    response = await send(client, requests.sinch(SMS))
    assert response.status == status
    if status == 401:
        assert (await response.json())["error"]["code"] == "address_not_allowed"


async def test_plivo_v2_signatures_are_accepted_and_checked(ingest: Any):
    path = "/v1/inbound/plivo"
    params = {"From": "33612345678", "To": "15550100000", "Text": "Code 123456", "Type": "sms", "MessageUUID": "u-1"}
    nonce = "05429567804466091622"
    good = signature_v2(SECRETS["REVOTP_PLIVO_SECRET"], PUBLIC_URL + path, nonce)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Plivo-Signature-V2-Nonce": nonce}
    # Main-account signature only: accepted too.
    accepted = await ingest.post(path, data=urlencode(params), headers={**headers, "X-Plivo-Signature-Ma-V2": good})
    assert accepted.status == 200
    refused = await ingest.post(
        path, data=urlencode(params), headers={**headers, "X-Plivo-Signature-V2": "x" + good[1:]}
    )
    assert refused.status == 401
    unsigned = await ingest.post(path, data=urlencode(params), headers={"Content-Type": headers["Content-Type"]})
    assert unsigned.status == 401


async def test_plivo_v3_accepts_any_of_several_rotating_signatures(ingest: Any):
    request = requests.plivo(SMS)
    signature = request.headers["X-Plivo-Signature-V3"]
    rotated = replace(request, headers={**request.headers, "X-Plivo-Signature-V3": f"{'A' * 44},{signature}"})
    assert (await send(ingest, rotated)).status == 200


async def test_stale_timestamps_are_refused(ingest: Any):
    stale = str(int(time.time()) - 301)
    telnyx = requests.telnyx(SMS)
    signature = base64.b64encode(requests.TELNYX_KEY.sign(stale.encode() + b"|" + telnyx.body)).decode()
    replayed = replace(
        telnyx, headers={**telnyx.headers, "telnyx-timestamp": stale, "telnyx-signature-ed25519": signature}
    )
    response = await send(ingest, replayed)
    assert response.status == 401
    assert "timestamp" in (await response.json())["error"]["message"]


async def test_shared_secret_providers_need_basic_auth_and_token_when_both_are_set(
    aiohttp_client: Any, namespace: str, cleanup: None
):
    settings = from_env(deployment_env(namespace, REVOTP_INFOBIP_BASIC_AUTH="infobip:pw"))
    client = await aiohttp_client(create_app(settings))
    token_only = requests.infobip(Sms(PHONE, "+15550100000", "Code 1", uuid.uuid4().hex))
    assert (await send(client, token_only)).status == 401
    both = replace(
        token_only, headers={**token_only.headers, "Authorization": "Basic " + base64.b64encode(b"infobip:pw").decode()}
    )
    assert (await send(client, both)).status == 200
