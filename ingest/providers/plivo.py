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
  One SDK version widens the UTF-8 bytes of that string to characters before signing it as
  UTF-8 again, the current validator signs it as it is: for non-ASCII texts both forms pass.
  When any V3 header is present, V3 alone decides: no fallback to an older version.
- V2 ``X-Plivo-Signature-V2`` + ``-V2-Nonce``: base64 HMAC-SHA256 of URL-without-query + nonce.
  It covers no body, so one captured V2 pair would sign any SMS: every V2 nonce (also one that
  came along with a verified V3) is bound to its request for ``REVOTP_PLIVO_V2_NONCE_DAYS``
  (30); the same nonce on another request is refused.
- V1 (legacy) ``X-Plivo-Signature``: base64 HMAC-SHA1 of URL + sorted ``keyvalue`` (as Twilio).

``REVOTP_PLIVO_SIGNATURE_VERSIONS`` (default ``v3,v2,v1``) names the versions accepted; ``v3``
alone refuses V2-only requests, which leaves no replay window at all.
Sources: plivo/plivo-python ``plivo/utils/__init__.py``, ``plivo/utils/signature_v3.py`` and
``tests/resources/test_signature.py``; docs.plivo.com messaging signature validation.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from aiohttp import web

from common.names import Names
from common.redis import RedisClient
from common.settings import Settings, SettingsError
from ingest.providers.auth import same
from ingest.providers.base import Batch, ParsedSms, Provider, unauthorized
from ingest.providers.nonces import NonceLedger, fingerprint
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


def signature_v3(
    token: str, method: str, uri: str, params: Iterable[tuple[str, str]], nonce: str, *, widen: bool = True
) -> str:
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
    signed = _widened(url_part) if widen else url_part
    return _b64_hmac(token, f"{signed}.{nonce}".encode(), "sha256")


def _widened(text: str) -> str:
    """As one SDK version signs: the UTF-8 bytes, each taken as one character."""
    return text.encode("utf-8").decode("latin-1")


def signatures_v3(token: str, method: str, uri: str, params: Iterable[tuple[str, str]], nonce: str) -> set[str]:
    """Every form of the V3 signature Plivo's SDKs compute (one only, for ASCII requests)."""
    widened = signature_v3(token, method, uri, params, nonce)
    plain = signature_v3(token, method, uri, params, nonce, widen=False)
    return {widened, plain}


def _candidates(header: str) -> list[str]:
    return [value for value in header.split(",") if value]


def _has_v3(headers: Mapping[str, str]) -> bool:
    return any(header in headers for header in V3_HEADERS)


def _require_one_of(given: Iterable[str], expected: set[str]) -> None:
    """Every given signature is compared with every expected form, in constant time."""
    matches = [same(candidate, form) for candidate in given if candidate for form in expected]
    if not any(matches):
        raise unauthorized("the Plivo signature does not match")


V3_HEADERS = ("X-Plivo-Signature-V3", "X-Plivo-Signature-Ma-V3", "X-Plivo-Signature-V3-Nonce")
V2_HEADERS = ("X-Plivo-Signature-V2", "X-Plivo-Signature-Ma-V2", "X-Plivo-Signature-V2-Nonce")
VERSIONS = frozenset({"v1", "v2", "v3"})


class PlivoProvider(Provider):
    name = "plivo"
    methods = frozenset({"POST", "GET"})

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        raw = self.option("signature_versions") or "v3,v2,v1"
        self.versions = frozenset(item.strip().lower() for item in raw.split(",") if item.strip())
        if not self.versions or not self.versions <= VERSIONS:
            raise SettingsError("REVOTP_PLIVO_SIGNATURE_VERSIONS must list some of v3, v2, v1 (default v3,v2,v1)")
        days = self.option("v2_nonce_days") or "30"
        if not days.isdigit() or not 1 <= int(days) <= 365:
            raise SettingsError("REVOTP_PLIVO_V2_NONCE_DAYS must be a whole number of days from 1 to 365")
        self.nonce_ttl_ms = int(days) * 86_400_000
        self._nonces: NonceLedger | None = None

    def attach(self, redis: RedisClient, names: Names) -> None:
        self._nonces = NonceLedger(redis, names)

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        headers = request.headers
        url = self.settings.public_url.rstrip("/") + request.rel_url.path_qs
        params = form_params(request, body) if request.method == "POST" else []
        if "v3" in self.versions and any(header in headers for header in V3_HEADERS):
            # Present, so it decides: a broken V3 never falls back to the body-less V2.
            nonce = headers.get("X-Plivo-Signature-V3-Nonce", "")
            if not nonce:
                raise unauthorized("X-Plivo-Signature-V3-Nonce is missing or empty")
            expected = signatures_v3(self.secret, request.method, url, params, nonce)
            given = _candidates(headers.get("X-Plivo-Signature-V3", "")) + _candidates(
                headers.get("X-Plivo-Signature-Ma-V3", "")
            )
            _require_one_of(given, expected)
        elif "v2" in self.versions and any(header in headers for header in V2_HEADERS):
            nonce = headers.get("X-Plivo-Signature-V2-Nonce", "")
            if not nonce:
                raise unauthorized("X-Plivo-Signature-V2-Nonce is missing or empty")
            given = [headers.get("X-Plivo-Signature-V2", ""), headers.get("X-Plivo-Signature-Ma-V2", "")]
            _require_one_of(given, {signature_v2(self.secret, url, nonce)})
        elif "v1" in self.versions and (legacy := headers.get("X-Plivo-Signature")):
            _require_one_of([legacy], {signature_v1(self.secret, url, params)})
        else:
            accepted = ", ".join(sorted(self.versions, reverse=True))
            raise unauthorized(f"no Plivo signature of an accepted version ({accepted})")
        await self._claim_v2_nonce(request, body, verified_by_v3="v3" in self.versions and _has_v3(headers))

    async def _claim_v2_nonce(self, request: web.Request, body: bytes, *, verified_by_v3: bool) -> None:
        """Bind the request's V2 nonce to it, whichever version verified it; refuse a V2 replay."""
        nonce = request.headers.get("X-Plivo-Signature-V2-Nonce", "")
        if not nonce or self._nonces is None:
            return
        request_fingerprint = fingerprint(request.method, request.rel_url.path_qs, body)
        first_use = await self._nonces.claim(self.name, nonce, request_fingerprint, ttl_ms=self.nonce_ttl_ms)
        if not first_use and not verified_by_v3:
            raise unauthorized("this V2 nonce was already used by another request", "replayed_nonce")

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
