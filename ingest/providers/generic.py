"""revotp's own webhook format (docs/api.md, Webhooks): JSON, HMAC-SHA256 over ``timestamp.body``."""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.json_input import JSON_INPUT_ERRORS
from common.signing import sign
from common.web import ApiError, json_response, require_content_type
from ingest.providers.auth import TimestampSignedProvider, same
from ingest.providers.base import Batch, ParsedSms, malformed

MAX_BATCH = 500


class GenericMessage(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    id: str
    to: str
    text: str
    from_: str = msgspec.field(name="from")
    received_at: str | None = None


_decoder = msgspec.json.Decoder(GenericMessage | list[GenericMessage])


class GenericProvider(TimestampSignedProvider):
    name = "generic"
    signature_header = "X-Revotp-Signature"
    timestamp_header = "X-Revotp-Timestamp"

    def signature_matches(self, request: web.Request, body: bytes, timestamp: str, signature: str) -> bool:
        expected = sign(self.secret, int(timestamp), body)
        # Several space- or comma-separated signatures allow rotating the secret.
        return any(same(given, expected) for given in signature.replace(",", " ").split())

    def parse(self, request: web.Request, body: bytes) -> Batch:
        require_content_type(request, "application/json")
        try:
            decoded = _decoder.decode(body)
        except JSON_INPUT_ERRORS as exc:
            raise malformed(f"body is not a message or an array of messages: {exc}") from None
        messages = decoded if isinstance(decoded, list) else [decoded]
        if not messages:
            raise ApiError(422, "empty_batch", "the array holds no message")
        if len(messages) > MAX_BATCH:
            raise ApiError(422, "batch_too_large", f"at most {MAX_BATCH} messages per request")
        return Batch(
            tuple(
                ParsedSms(
                    provider_message_id=message.id,
                    sender=message.from_,
                    recipient=message.to,
                    text=message.text,
                    received_at=message.received_at,
                )
                for message in messages
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"status": "accepted", "count": len(batch.messages)}, status=202)
