"""Vonage (Nexmo): the legacy SMS API inbound webhook and the Messages API inbound SMS.

SMS API: GET, form POST or JSON POST with ``msisdn``, ``to``, ``messageId``, ``text``, and for a
long SMS ``concat-ref``/``concat-total``/``concat-part`` (Vonage does not reassemble: revotp
does). Signed with ``sig``: every other parameter sorted by name as ``&key=value`` (``&`` and
``=`` inside values replaced by ``_``), then ``md5hash`` = md5(string + secret) or an HMAC
(md5, sha1, sha256, sha512) keyed with the signature secret; the method is the account's
dashboard setting, ``REVOTP_VONAGE_SIGNATURE_METHOD`` (default ``md5``, HMAC-MD5, as the current
SDK's ``Auth``). The signature is compared lower-cased, as the SDK does. Answer: 200.
Sources: developer.vonage.com/messaging/sms/guides/inbound-sms, Vonage/vonage-python-sdk
``http_client/src/vonage_http_client/auth.py`` and its tests, legacy nexmo-python tests.

Messages API: JSON with ``message_uuid``, signed by ``Authorization: Bearer <JWT>`` (HS256 with
the same signature secret) whose ``payload_hash`` claim is the body's SHA-256. Both the flat v1
shape (``from``/``to``/``text``) and the nested v0.1 one (``from.number``, ``message.content.text``)
are read. Source: developer.vonage.com messages "signed webhooks"; Nexmo/api-specification.
Numbers come without '+' and get it back here.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import jwt
import msgspec
from aiohttp import web

from common.json_input import JSON_INPUT_ERRORS
from common.messages import SmsPart
from common.settings import SettingsError
from common.web import ApiError
from ingest.providers.auth import same
from ingest.providers.base import Batch, ParsedSms, Provider, malformed, unauthorized
from ingest.providers.reading import form_params, international, remember, require

_HMAC_METHODS = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
SIGNATURE_METHODS = frozenset({"md5hash", *_HMAC_METHODS})
_LEGACY_PARAMS = web.RequestKey("revotp_vonage_params", dict[str, str])


def signature_base(params: Mapping[str, str]) -> str:
    """``&key=value`` for every parameter but ``sig``, sorted by key, with ``&``/``=`` in values as ``_``."""
    return "".join(
        f"&{key}={str(value).replace('&', '_').replace('=', '_')}"
        for key, value in sorted(params.items())
        if key != "sig"
    )


def compute_sig(params: Mapping[str, str], secret: str, method: str) -> str:
    base = signature_base(params)
    if method == "md5hash":
        return hashlib.md5((base + secret).encode(), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), base.encode(), _HMAC_METHODS[method]).hexdigest()


def is_valid_sig(params: Mapping[str, str], secret: str, method: str) -> bool:
    return same(params.get("sig", "").lower(), compute_sig(params, secret, method))


def _is_messages_api(request: web.Request, body: bytes) -> bool:
    return request.method == "POST" and request.content_type == "application/json" and b"message_uuid" in body


class VonageProvider(Provider):
    name = "vonage"
    methods = frozenset({"GET", "POST"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.method = self.option("signature_method") or "md5"
        if self.method not in SIGNATURE_METHODS:
            raise SettingsError(f"REVOTP_VONAGE_SIGNATURE_METHOD must be one of {', '.join(sorted(SIGNATURE_METHODS))}")

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        if _is_messages_api(request, body):
            self._check_jwt(request, body)
        elif not is_valid_sig(self._legacy_params(request, body), self.secret, self.method):
            raise unauthorized("sig does not match the parameters")

    def _check_jwt(self, request: web.Request, body: bytes) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("Authorization: Bearer <JWT> is required")
        try:
            claims = jwt.decode(token.strip(), self.secret, algorithms=["HS256"], options={"require": ["iat"]})
        except jwt.PyJWTError as exc:
            raise unauthorized(f"the JWT is not valid: {exc}") from None
        payload_hash = claims.get("payload_hash")
        if payload_hash is not None and not same(str(payload_hash), hashlib.sha256(body).hexdigest()):
            raise unauthorized("payload_hash does not match the body")

    def _legacy_params(self, request: web.Request, body: bytes) -> dict[str, str]:
        return remember(request, _LEGACY_PARAMS, lambda: self._read_legacy_params(request, body))

    def _read_legacy_params(self, request: web.Request, body: bytes) -> dict[str, str]:
        if request.method == "POST" and request.content_type == "application/json":
            try:
                decoded = msgspec.json.decode(body, type=dict[str, Any])
            except JSON_INPUT_ERRORS as exc:
                raise malformed(f"the body is not a JSON object: {exc}") from None
            return {key: _text(value) for key, value in decoded.items()}
        return dict(form_params(request, body))

    def parse(self, request: web.Request, body: bytes) -> Batch:
        if _is_messages_api(request, body):
            return Batch((self._messages_api(body),))
        params = self._legacy_params(request, body)
        require(params, "msisdn", "to", "messageId")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=params["messageId"],
                    sender=international(params["msisdn"]),
                    recipient=international(params["to"]),
                    # A binary SMS carries no text a person typed.
                    text="" if params.get("type") == "binary" else params.get("text", ""),
                    received_at=params.get("message-timestamp") or None,
                    part=_part(params),
                ),
            )
        )

    def _messages_api(self, body: bytes) -> ParsedSms:
        try:
            message = msgspec.json.decode(body, type=dict[str, Any])
        except JSON_INPUT_ERRORS as exc:
            raise malformed(f"the body is not a JSON object: {exc}") from None
        sender, recipient = _number(message.get("from")), _number(message.get("to"))
        text = message.get("text")
        if text is None:  # v0.1 nests the content
            content = (message.get("message") or {}).get("content") or {}
            text = content.get("text") if isinstance(content, dict) else None
        if not (isinstance(message.get("message_uuid"), str) and sender and recipient):
            raise malformed("message_uuid, from and to are required")
        return ParsedSms(
            provider_message_id=message["message_uuid"],
            sender=international(sender),
            recipient=international(recipient),
            text=text if isinstance(text, str) else "",
            received_at=message.get("timestamp") if isinstance(message.get("timestamp"), str) else None,
        )

    def accepted(self, batch: Batch) -> web.Response:
        return web.Response(status=200)


def _text(value: Any) -> str:
    """JSON values as Vonage's signer writes them (booleans as true/false)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("number"), str):
        return str(value["number"])
    return None


def _part(params: Mapping[str, str]) -> SmsPart | None:
    if params.get("concat", "").lower() != "true":
        return None
    try:
        total, number = int(params["concat-total"]), int(params["concat-part"])
        reference = params["concat-ref"]
    except (KeyError, ValueError):
        raise malformed("concat-ref, concat-total and concat-part must describe the part") from None
    if not (1 <= number <= total <= 255) or not reference:
        raise ApiError(400, "malformed_message", "concat-part must be between 1 and concat-total (at most 255)")
    return SmsPart(reference=reference, total=total, number=number)
