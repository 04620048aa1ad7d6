"""Bird (formerly MessageBird) Channels API: an inbound SMS (``sms.inbound``) webhook.

Signed as docs.bird.com "Verifying a webhook" describes: ``messagebird-signature`` = base64
HMAC-SHA256(signing key, ``<messagebird-request-timestamp>\\n<full URL>\\n<SHA-256 of the body,
raw 32 bytes>``), the URL being ``REVOTP_PUBLIC_URL`` + path, the timestamp within 300 s.
The message is the Channels API message of docs.bird.com "programmable-sms/receiving-messages":
``id``, ``sender.contact.identifierValue``, ``body.text.text``, ``direction: incoming``.
**Not confirmed:** the envelope around it (read here as ``{"service", "event", "payload": message}``,
a bare message is accepted too) and where the receiving number appears (a connector id is all
the sample shows): ``receiver.connector.identifierValue`` is used when present, otherwise
``REVOTP_MESSAGEBIRD_NUMBER`` or the only virtual number. The legacy MessageBird SMS forward
(GET ``originator``/``recipient``/``body``, JWT-signed) is not supported: its format could not
be confirmed. Answer 200; Bird retries non-2xx for 8 h.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from aiohttp import web

from common.web import json_response
from ingest.providers.auth import TimestampSignedProvider, same
from ingest.providers.base import Batch, ParsedSms, malformed
from ingest.providers.reading import decode_json, own_number


def bird_signature(signing_key: str, timestamp: str, url: str, body: bytes) -> str:
    message = f"{timestamp}\n{url}\n".encode() + hashlib.sha256(body).digest()
    return base64.b64encode(hmac.new(signing_key.encode(), message, hashlib.sha256).digest()).decode()


def _dig(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


class MessagebirdProvider(TimestampSignedProvider):
    name = "messagebird"
    signature_header = "messagebird-signature"
    timestamp_header = "messagebird-request-timestamp"

    def signature_matches(self, request: web.Request, body: bytes, timestamp: str, signature: str) -> bool:
        url = self.settings.public_url.rstrip("/") + request.rel_url.path_qs
        return same(signature, bird_signature(self.secret, timestamp, url, body))

    def parse(self, request: web.Request, body: bytes) -> Batch:
        document = decode_json(body, dict[str, Any])
        message = document.get("payload", document)
        if document.get("event", "sms.inbound") != "sms.inbound" or _dig(message, "direction") == "outgoing":
            return Batch(())
        message_id = _dig(message, "id")
        sender = _dig(message, "sender", "contact", "identifierValue")
        if not isinstance(message_id, str) or not isinstance(sender, str):
            raise malformed("id and sender.contact.identifierValue are required")
        text = _dig(message, "body", "text", "text")
        recipient = _dig(message, "receiver", "connector", "identifierValue")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=message_id,
                    sender=sender,
                    recipient=own_number(self, recipient if isinstance(recipient, str) else None),
                    text=text if isinstance(text, str) else "",
                    received_at=_dig(message, "createdAt"),
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"status": "accepted"})
