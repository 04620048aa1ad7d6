"""Plivo incoming message (``message_url``): form POST or GET, answered with empty Plivo XML.

Fields ``From``, ``To``, ``Text``, ``Type``, ``MessageUUID`` (Plivo reassembles long SMS;
``Units`` counts the parts). Numbers come without '+'. Only ``Type=sms`` is read; other types
are acknowledged and dropped.

Signatures, keyed with the auth token (``REVOTP_PLIVO_SECRET``) over the public URL
(``REVOTP_PUBLIC_URL`` + path), each header possibly holding several comma-separated values,
and each present for the sub-account and, as ``-Ma-``, the main account:
- V3 ``X-Plivo-Signature-V3`` + ``-V3-Nonce``: base64 HMAC-SHA256 of ``<url part>.<nonce>``;
  for POST the url part is ``scheme://host/path?`` + sorted query (``k=v&…``, then ``.``) +
  sorted POST parameters as ``keyvalue``; for GET it is ``…?`` + sorted ``k=v&…`` of all.
  The SDK widens the UTF-8 bytes of that string to characters before signing it as UTF-8
  again; this is reproduced so non-ASCII texts verify as Plivo computes them.
- V2 ``X-Plivo-Signature-V2`` + ``-V2-Nonce``: base64 HMAC-SHA256 of URL-without-query + nonce.
- V1 (legacy) ``X-Plivo-Signature``: base64 HMAC-SHA1 of URL + sorted ``keyvalue`` (as Twilio).
Sources: plivo/plivo-python ``plivo/utils/__init__.py``, ``plivo/utils/signature_v3.py`` and
``tests/resources/test_signature.py``; docs.plivo.com messaging signature validation.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from aiohttp import web

from ingest.providers.auth import same
from ingest.providers.base import Batch, ParsedSms, Provider, unauthorized
from ingest.providers.reading import form_params, international, require

PLIVO_XML_EMPTY = "<Response></Response>"


def _b64_hmac(token: str, message: bytes, digest: str) -> str:
    return base64.b64encode(hmac.new(token.encode(), message, digest).digest()).decode()


def _base_url(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def signature_v2(token: str, uri: str, nonce: str) -> str:
    return _b64_hmac(token, (_base_url(uri) + nonce).encode(), "sha256")


def signature_v1(token: str, uri: str, params: Iterable[tuple[str, str]]) -> str:
    payload = uri + "".join(f"{key}{value}" for key, value in sorted(params))
    return _b64_hmac(token, payload.encode(), "sha1")


def _sorted_query(params: dict[str, list[str]]) -> str:
    return "&".join("&".join(f"{key}={value}" for value in sorted(params[key])) for key in sorted(params))


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def signature_v3(token: str, method: str, uri: str, params: Iterable[tuple[str, str]], nonce: str) -> str:
    query = parse_qsl(urlsplit(uri).query, keep_blank_values=True)
    params = list(params)
    base = _base_url(uri)
    if method.upper() == "GET":
        all_params = _sorted_query(_grouped([*params, *query]))
        url_part = base + (f"?{all_params}" if all_params else "")
    else:
        sorted_query = _sorted_query(_grouped(query))
        url_part = base
        if sorted_query or params:
            url_part += f"?{sorted_query}"
        if sorted_query and params:
            url_part += "."
        grouped = _grouped(params)
        url_part += "".join("".join(f"{key}{value}" for value in sorted(grouped[key])) for key in sorted(grouped))
    # As the SDK: the UTF-8 bytes, each taken as one character, signed as UTF-8.
    widened = url_part.encode("utf-8").decode("latin-1")
    return _b64_hmac(token, f"{widened}.{nonce}".encode(), "sha256")


def _candidates(header: str) -> list[str]:
    return [value for value in header.split(",") if value]


class PlivoProvider(Provider):
    name = "plivo"
    methods = frozenset({"POST", "GET"})

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        headers = request.headers
        url = self.settings.public_url.rstrip("/") + request.rel_url.path_qs
        params = form_params(request, body) if request.method == "POST" else []
        if nonce := headers.get("X-Plivo-Signature-V3-Nonce"):
            expected = signature_v3(self.secret, request.method, url, params, nonce)
            given = _candidates(headers.get("X-Plivo-Signature-V3", "")) + _candidates(
                headers.get("X-Plivo-Signature-Ma-V3", "")
            )
        elif nonce := headers.get("X-Plivo-Signature-V2-Nonce"):
            expected = signature_v2(self.secret, url, nonce)
            given = [headers.get("X-Plivo-Signature-V2", ""), headers.get("X-Plivo-Signature-Ma-V2", "")]
        elif legacy := headers.get("X-Plivo-Signature"):
            expected, given = signature_v1(self.secret, url, params), [legacy]
        else:
            raise unauthorized("no X-Plivo-Signature-V3, -V2 or legacy signature")
        if not any(same(candidate, expected) for candidate in given if candidate):
            raise unauthorized("the Plivo signature does not match")

    def parse(self, request: web.Request, body: bytes) -> Batch:
        params = dict(form_params(request, body))
        require(params, "MessageUUID", "From", "To")
        if params.get("Type", "sms").lower() != "sms":
            return Batch(())
        return Batch(
            (
                ParsedSms(
                    provider_message_id=params["MessageUUID"],
                    sender=international(params["From"]),
                    recipient=international(params["To"]),
                    text=params.get("Text", ""),
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return web.Response(text=PLIVO_XML_EMPTY, content_type="application/xml")
