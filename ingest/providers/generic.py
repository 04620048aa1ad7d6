"""revotp's own webhook format (API.md §4.1): JSON, HMAC-SHA256 over ``timestamp.body``."""

from __future__ import annotations

import hashlib
import hmac
import time

import msgspec
from aiohttp import web

from common.web import ApiError, json_response, require_content_type
from ingest.providers.base import ParsedSms, Provider, malformed, unauthorized

TIMESTAMP_TOLERANCE_S = 300
MAX_BATCH = 500


class GenericMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    id: str
    to: str
    text: str
    from_: str = msgspec.field(name="from")
    received_at: str | None = None


_decoder = msgspec.json.Decoder(GenericMessage | list[GenericMessage])


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Revotp-Signature`` value for a body (used by revotp's own tools and tests)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


class GenericProvider(Provider):
    name = "generic"

    def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        raw_timestamp = request.headers.get("X-Revotp-Timestamp", "")
        signature = request.headers.get("X-Revotp-Signature", "")
        if not raw_timestamp or not signature:
            raise unauthorized("X-Revotp-Timestamp and X-Revotp-Signature are required")
        try:
            timestamp = int(raw_timestamp)
        except ValueError:
            raise unauthorized("X-Revotp-Timestamp must be Unix seconds") from None
        if abs(time.time() - timestamp) > TIMESTAMP_TOLERANCE_S:
            raise unauthorized(f"timestamp is more than {TIMESTAMP_TOLERANCE_S} s from the server clock")
        expected = sign(self.secret, timestamp, body)
        # Several space- or comma-separated signatures allow rotating the secret.
        given = signature.replace(",", " ").split()
        if not any(hmac.compare_digest(candidate.encode(), expected.encode()) for candidate in given):
            raise unauthorized("signature does not match the body")

    def parse(self, request: web.Request, body: bytes) -> list[ParsedSms]:
        require_content_type(request, "application/json")
        try:
            decoded = _decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise malformed(f"body is not a message or an array of messages: {exc}") from None
        messages = decoded if isinstance(decoded, list) else [decoded]
        if not messages:
            raise ApiError(422, "empty_batch", "the array holds no message")
        if len(messages) > MAX_BATCH:
            raise ApiError(422, "batch_too_large", f"at most {MAX_BATCH} messages per request")
        return [
            ParsedSms(
                provider_message_id=message.id,
                sender=message.from_,
                recipient=message.to,
                text=message.text,
                received_at=message.received_at,
            )
            for message in messages
        ]

    def accepted(self, count: int) -> web.Response:
        return json_response({"status": "accepted", "count": count}, status=202)
