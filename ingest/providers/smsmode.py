"""smsmode inbound SMS (SMS-MO push). **Format not confirmed.**

smsmode's public documentation covers sending, polling replies and delivery-report callbacks,
but no field list of an inbound push could be found, so this adapter reads the names smsmode
uses elsewhere and common alternatives: id ``smsID``/``id``, sender ``numero``/``from``,
receiver ``destinataire``/``to`` (else ``REVOTP_SMSMODE_NUMBER`` or the only virtual number),
text ``message``/``text``, from a GET query, a form POST or a JSON object. Nothing is signed:
``?token=`` (``REVOTP_SMSMODE_SECRET``) and/or basic auth. Answer: 200 with an empty body.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from common.json_input import JSON_INPUT_ERRORS
from ingest.providers.auth import SharedSecretProvider
from ingest.providers.base import Batch, ParsedSms, malformed
from ingest.providers.reading import form_params, international, own_number

_ALIASES = {
    "id": ("smsID", "smsId", "id", "messageId"),
    "sender": ("numero", "from", "originator", "sender"),
    "recipient": ("destinataire", "to", "recipient"),
    "text": ("message", "text", "body"),
    "received_at": ("date_reception", "receivedAt", "date"),
}


def _first(params: dict[str, Any], field: str) -> str | None:
    for name in _ALIASES[field]:
        value = params.get(name)
        if value not in (None, ""):
            return str(value)
    return None


class SmsmodeProvider(SharedSecretProvider):
    name = "smsmode"
    methods = frozenset({"GET", "POST"})

    def parse(self, request: web.Request, body: bytes) -> Batch:
        params: dict[str, Any]
        if request.method == "POST" and request.content_type == "application/json":
            try:
                params = msgspec.json.decode(body, type=dict[str, Any])
            except JSON_INPUT_ERRORS as exc:
                raise malformed(f"the body is not a JSON object: {exc}") from None
        else:
            params = dict(form_params(request, body))
        message_id, sender = _first(params, "id"), _first(params, "sender")
        if not message_id or not sender:
            raise malformed("an id (smsID) and a sender (numero) are required")
        recipient = _first(params, "recipient")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=message_id,
                    sender=international(sender),
                    recipient=own_number(self, international(recipient) if recipient else None),
                    text=_first(params, "text") or "",
                    received_at=_first(params, "received_at"),
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return web.Response(status=200)
