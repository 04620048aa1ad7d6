"""``/demo`` (``REVOTP_DEMO``, on in ``revotp demo`` only): a verification in one browser tab.

Enter a phone number, get a challenge and its verify page, then "send" the SMS from a panel
that posts a signed generic webhook to ingest, as a provider would. The browser never holds an
API key or the webhook secret: these endpoints act for it, as the first bootstrap tenant, on
the ingest of this host.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
from aiohttp import web

from common.bootstrap import first_api_key
from common.signing import sign
from common.web import ApiError, decode_body, json_response
from notifier import keys
from notifier.page import ASSET_BASE, STATIC, page_headers

_CLIENT = web.AppKey("demo_client", aiohttp.ClientSession)
_PAGE = STATIC.joinpath("demo.html").read_text()


class DemoChallenge(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class DemoSms(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sender: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    to: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    text: Annotated[str, msgspec.Meta(max_length=480)]


_challenge_decoder = msgspec.json.Decoder(DemoChallenge)
_sms_decoder = msgspec.json.Decoder(DemoSms)


def setup_demo(app: web.Application) -> None:
    app.cleanup_ctx.append(_client_ctx)
    app.router.add_get("/demo", demo_page)
    app.router.add_post("/demo/challenges", create_challenge)
    app.router.add_post("/demo/sms", send_sms)


async def _client_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
        app[_CLIENT] = client
        yield


async def demo_page(request: web.Request) -> web.Response:
    page = _PAGE.replace("$asset_base", ASSET_BASE)
    return web.Response(text=page, content_type="text/html", headers=page_headers(frames=True))


async def create_challenge(request: web.Request) -> web.Response:
    """A challenge for the phone, as the demo tenant; answers what the page needs of it."""
    asked = decode_body(await request.read(), _challenge_decoder)
    settings = request.app[keys.SETTINGS]
    api_key = first_api_key(settings.bootstrap_tenants)
    status, body = await _ingest(
        request,
        "/v1/challenges",
        data=json.dumps({"phone": asked.phone}).encode(),
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    if status != 201:
        return json_response(body, status=status)
    verify = urlsplit(body["verify_url"])
    return json_response(
        {
            "id": body["id"],
            "phone": body["phone"],
            "virtual_number": body["virtual_number"],
            "sms_body": body["sms_body"],
            "verify_path": f"{verify.path}?{verify.query}",
        }
    )


async def send_sms(request: web.Request) -> web.Response:
    """One SMS from ``sender`` to ``to``, signed as the generic provider would sign it."""
    sms = decode_body(await request.read(), _sms_decoder)
    secret = request.app[keys.SETTINGS].provider_option("generic", "secret")
    body = json.dumps({"id": secrets.token_hex(8), "from": sms.sender, "to": sms.to, "text": sms.text}).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Revotp-Timestamp": str(stamp),
        "X-Revotp-Signature": sign(secret, stamp, body),
    }
    status, answer = await _ingest(request, "/v1/inbound/generic", data=body, headers=headers)
    return json_response(answer, status=status)


async def _ingest(request: web.Request, path: str, **post: Any) -> tuple[int, Any]:
    settings = request.app[keys.SETTINGS]
    url = f"http://{settings.host}:{settings.ingest_port}{path}"
    try:
        async with request.app[_CLIENT].post(url, **post) as response:
            return response.status, await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError):
        raise ApiError(503, "service_unavailable", "ingest did not answer; is it running?") from None
