"""Sinch SMS REST API inbound (MO) callback.

JSON ``{"type": "mo_text", "id", "from", "to", "body", "received_at"}``; MSISDNs without '+'.
``mo_binary`` and ``mo_media`` carry no typed text and are acknowledged and dropped. Sinch signs
nothing by default; it offers HTTP basic auth (``REVOTP_SINCH_BASIC_AUTH``), and any URL can
carry ``?token=`` (``REVOTP_SINCH_SECRET``). Its HMAC option for SMS callbacks is not documented
publicly, so it is not implemented. Answer 200; Sinch retries 5xx and 429 with doubling backoff
for ~22 h and never retries other 4xx. Source: developers.sinch.com/docs/sms/api-reference/sms/tag/Webhooks/.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.web import json_response
from ingest.providers.auth import SharedSecretProvider
from ingest.providers.base import Batch, ParsedSms
from ingest.providers.reading import decode_json, international


class _MoMessage(msgspec.Struct):
    type: str
    id: str
    to: str
    body: str = ""
    received_at: str | None = None
    from_: str = msgspec.field(name="from", default="")


class SinchProvider(SharedSecretProvider):
    name = "sinch"

    def parse(self, request: web.Request, body: bytes) -> Batch:
        message = decode_json(body, _MoMessage)
        if message.type != "mo_text":
            return Batch(())
        return Batch(
            (
                ParsedSms(
                    provider_message_id=message.id,
                    sender=international(message.from_),
                    recipient=international(message.to),
                    text=message.body,
                    received_at=message.received_at,
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"status": "accepted"})
