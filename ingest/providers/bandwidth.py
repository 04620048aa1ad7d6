"""Bandwidth Messaging v2 callbacks: always a JSON array of events.

``message-received`` events carry ``message.id``, ``message.from``, ``message.text`` and the
receiving number in ``to`` (E.164 with '+'); other events (delivery receipts) are acknowledged
and dropped; a malformed entry is skipped and the others accepted. Bandwidth signs nothing: it
sends the callback credentials of the messaging application as HTTP basic auth
(``REVOTP_BANDWIDTH_BASIC_AUTH``); ``?token=`` (``REVOTP_BANDWIDTH_SECRET``) works too. Answer 2xx
within 10 s, else Bandwidth retries for 24 h (at-least-once). Sources: dev.bandwidth.com
docs/messaging/webhooks; Bandwidth SDK model ``InboundCallbackMessage``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from common.web import json_response
from ingest.providers.auth import SharedSecretProvider
from ingest.providers.base import Batch, ParsedSms
from ingest.providers.reading import convert, decode_json


class _Message(msgspec.Struct):
    id: str
    text: str = ""
    time: str | None = None
    owner: str | None = None
    from_: str = msgspec.field(name="from", default="")


class _Event(msgspec.Struct):
    type: str
    message: _Message
    to: str | None = None


class BandwidthProvider(SharedSecretProvider):
    name = "bandwidth"

    def parse(self, request: web.Request, body: bytes) -> Batch:
        entries = decode_json(body, list[Any])
        received = [entry for entry in entries if isinstance(entry, dict) and entry.get("type") == "message-received"]
        events = [event for entry in received if (event := convert(entry, _Event)) and event.message.from_]
        return Batch(
            tuple(
                ParsedSms(
                    provider_message_id=event.message.id,
                    sender=event.message.from_,
                    recipient=event.to or event.message.owner or "",
                    text=event.message.text,
                    received_at=event.message.time,
                )
                for event in events
            ),
            skipped=len(received) - len(events),
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"accepted": len(batch.messages), "skipped": batch.skipped})
