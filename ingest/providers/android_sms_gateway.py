"""SMS Gateway for Android (capcom6/android-sms-gateway, sms-gate.app): the ``sms:received`` webhook.

JSON ``{"id", "event": "sms:received", "deviceId", "payload": {"messageId", "message", "sender",
"recipient", "receivedAt"}}``; older app versions send ``phoneNumber`` instead of ``sender`` and no
``recipient`` (then ``REVOTP_ANDROID_SMS_GATEWAY_NUMBER`` or the only virtual number is used).
Other events are acknowledged and dropped. Signed when the app has a signing key
(``REVOTP_ANDROID_SMS_GATEWAY_SECRET``): ``X-Signature`` = hex HMAC-SHA256(key, raw body +
``X-Timestamp``), the timestamp within 300 s. The app retries non-2xx up to 15 times.
Source: capcom6/android-sms-gateway ``PayloadSingingPlugin.kt``, ``SmsEventPayload.kt``, README.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec
from aiohttp import web

from common.web import json_response
from ingest.providers.auth import TimestampSignedProvider, same
from ingest.providers.base import Batch, ParsedSms, malformed
from ingest.providers.reading import decode_json, own_number


def gateway_signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


class _Payload(msgspec.Struct):
    messageId: str
    message: str = ""
    sender: str | None = None
    phoneNumber: str | None = None
    recipient: str | None = None
    receivedAt: str | None = None


class _Event(msgspec.Struct):
    event: str
    payload: msgspec.Raw


class AndroidSmsGatewayProvider(TimestampSignedProvider):
    name = "android-sms-gateway"
    signature_header = "X-Signature"
    timestamp_header = "X-Timestamp"

    def signature_matches(self, request: web.Request, body: bytes, timestamp: str, signature: str) -> bool:
        return same(signature.lower(), gateway_signature(self.secret, body, timestamp))

    def parse(self, request: web.Request, body: bytes) -> Batch:
        event = decode_json(body, _Event)
        if event.event != "sms:received":
            return Batch(())
        payload = decode_json(bytes(event.payload), _Payload)
        sender = payload.sender or payload.phoneNumber
        if not sender:
            raise malformed("payload.sender is required")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=payload.messageId,
                    sender=sender,
                    recipient=own_number(self, payload.recipient),
                    text=payload.message,
                    received_at=payload.receivedAt,
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"status": "accepted"})
