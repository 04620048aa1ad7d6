"""Infobip inbound SMS (renderer ``MO_JSON_2``): a batch ``{"results": [...]}``.

Each result has ``messageId``, ``from``, ``to``, ``text``, ``receivedAt`` (numbers without '+').
A malformed result is skipped and the rest accepted, so one bad entry never makes Infobip
resend the valid ones; the answer says how many were taken. Infobip documents no signature for
inbound SMS: it is authenticated by basic auth (``REVOTP_INFOBIP_BASIC_AUTH``) and/or
``?token=`` (``REVOTP_INFOBIP_SECRET``), optionally an IP allow-list. The retry policy is not
documented; any 2xx is taken as success. Source: infobip.com/docs/api/channels/sms/inbound-sms.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from common.web import json_response
from ingest.providers.auth import SharedSecretProvider
from ingest.providers.base import Batch, ParsedSms
from ingest.providers.reading import convert, decode_json, international


class _Result(msgspec.Struct):
    messageId: str
    to: str
    text: str = ""
    receivedAt: str | None = None
    from_: str = msgspec.field(name="from", default="")


class _Batch(msgspec.Struct):
    results: list[Any]


class InfobipProvider(SharedSecretProvider):
    name = "infobip"

    def parse(self, request: web.Request, body: bytes) -> Batch:
        entries = decode_json(body, _Batch).results
        results = [result for entry in entries if (result := convert(entry, _Result)) and result.from_]
        return Batch(
            tuple(
                ParsedSms(
                    provider_message_id=result.messageId,
                    sender=international(result.from_),
                    recipient=international(result.to),
                    text=result.text,
                    received_at=result.receivedAt,
                )
                for result in results
            ),
            skipped=len(entries) - len(results),
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"accepted": len(batch.messages), "skipped": batch.skipped})
