"""Telnyx ``message.received`` webhook (Messaging API v2).

JSON ``{"data": {"event_type", "id", "payload": {"id", "from": {"phone_number"}, "to": [{"phone_number"}],
"text", "received_at"}}}``; E.164 with '+'. Other event types are acknowledged and dropped.
Signed with Ed25519: ``telnyx-signature-ed25519`` (base64) over ``<telnyx-timestamp>|<raw body>``,
checked with the account's public key (``REVOTP_TELNYX_SECRET``, base64), the timestamp within
300 s as the SDK requires. Answer: 200. Sources: developers.telnyx.com callbacks/inbound-message
and receiving-webhooks; team-telnyx/telnyx-python ``src/telnyx/lib/webhook_verification.py``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import msgspec
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from common.settings import Settings, SettingsError
from common.web import json_response
from ingest.providers.auth import TimestampSignedProvider
from ingest.providers.base import Batch, ParsedSms, malformed
from ingest.providers.reading import decode_json


class _Number(msgspec.Struct):
    phone_number: str


class _Payload(msgspec.Struct):
    id: str
    to: list[_Number]
    text: str = ""
    received_at: str | None = None
    from_: _Number | None = msgspec.field(default=None, name="from")


class _Data(msgspec.Struct):
    event_type: str
    payload: dict[str, Any]


class _Envelope(msgspec.Struct):
    data: _Data


def verify(public_key_b64: str, timestamp: str, body: bytes, signature_b64: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(base64.b64decode(signature_b64, validate=True), timestamp.encode() + b"|" + body)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


class TelnyxProvider(TimestampSignedProvider):
    name = "telnyx"
    signature_header = "telnyx-signature-ed25519"
    timestamp_header = "telnyx-timestamp"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        if self.secret:
            try:
                Ed25519PublicKey.from_public_bytes(base64.b64decode(self.secret, validate=True))
            except (ValueError, binascii.Error):
                raise SettingsError(
                    "REVOTP_TELNYX_SECRET must be the account's Ed25519 public key, base64 as Telnyx shows it"
                ) from None

    def signature_matches(self, request: web.Request, body: bytes, timestamp: str, signature: str) -> bool:
        return verify(self.secret, timestamp, body, signature)

    def parse(self, request: web.Request, body: bytes) -> Batch:
        envelope = decode_json(body, _Envelope)
        if envelope.data.event_type != "message.received":
            return Batch(())
        try:
            payload = msgspec.convert(envelope.data.payload, _Payload)
        except msgspec.ValidationError as exc:
            raise malformed(f"the message payload is not Telnyx's: {exc}") from None
        if payload.from_ is None or not payload.to:
            raise malformed("the message has no sender or no recipient")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=payload.id,
                    sender=payload.from_.phone_number,
                    recipient=payload.to[0].phone_number,
                    text=payload.text,
                    received_at=payload.received_at,
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"status": "accepted"})
