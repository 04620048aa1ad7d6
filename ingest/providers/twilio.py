"""Twilio Programmable Messaging incoming-message webhook.

Form-encoded POST signed in ``X-Twilio-Signature``: base64 HMAC-SHA1, keyed with the Auth
Token, over the configured URL followed by every POST parameter sorted by name as name+value.
Like twilio-python's ``RequestValidator`` the URL is tried with and without its default port.
The answer is empty TwiML. Sources: twilio.com/docs/usage/webhooks/webhooks-security and
twilio-python ``twilio/request_validator.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web

from ingest.providers.base import Batch, ParsedSms, Provider, unauthorized
from ingest.providers.reading import form_params, require

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
_DEFAULT_PORTS = {"https": 443, "http": 80}


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    payload = url
    for name, value in sorted(set(params)):
        payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL as given, with its default port added, and with it removed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    without = urlunsplit(parts._replace(netloc=prefix + host))
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{parts.port or default_port}"))
    return list(dict.fromkeys([url, without, with_port]))


def is_valid(auth_token: str, url: str, params: list[tuple[str, str]], signature: str) -> bool:
    return any(
        hmac.compare_digest(compute_signature(auth_token, variant, params).encode(), signature.encode())
        for variant in url_variants(url)
    )


class TwilioProvider(Provider):
    name = "twilio"
    methods = frozenset({"POST", "GET"})

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            raise unauthorized("X-Twilio-Signature is required")
        # The URL Twilio signed is the public one it was configured with, never our Host header.
        url = self.settings.public_url.rstrip("/") + request.rel_url.path_qs
        # A GET carries its parameters in the URL, which is all that is signed.
        params = form_params(request, body) if request.method == "POST" else []
        if not is_valid(self.secret, url, params, signature):
            raise unauthorized("X-Twilio-Signature does not match")

    def parse(self, request: web.Request, body: bytes) -> Batch:
        params = dict(form_params(request, body))
        require(params, "MessageSid", "From", "To")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=params["MessageSid"],
                    sender=params["From"],
                    recipient=params["To"],
                    text=params.get("Body", ""),
                    sender_country=params.get("FromCountry") or None,
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return web.Response(text=TWIML_EMPTY, content_type="text/xml")
