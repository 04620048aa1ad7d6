"""Kannel ``sms-service`` calling a templated ``get-url``.

Kannel calls the URL we give it, so the template is ours; it must be
``…/v1/inbound/kannel?token=<REVOTP_KANNEL_SECRET>&id=%I&from=%p&to=%P&text=%a&charset=%C&coding=%c``
(%I Kannel's message UUID, %p sender, %P receiver, %a the text, %C its charset). The text is
decoded with ``charset`` (UTF-8 by default, UTF-16BE for UCS-2). Numbers are as the SMSC wrote
them. Kannel signs nothing: ``?token=`` and/or basic auth. The answer body would become a reply
SMS, so it is empty (set ``max-messages = 0`` on the service). Sources: Kannel user guide
"Parameters (Escape Codes)"; kannel ``gw/urltrans.c``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from ingest.providers.auth import SharedSecretProvider
from ingest.providers.base import Batch, ParsedSms, malformed
from ingest.providers.reading import require


class KannelProvider(SharedSecretProvider):
    name = "kannel"
    methods = frozenset({"GET"})

    def parse(self, request: web.Request, body: bytes) -> Batch:
        raw = request.rel_url.raw_query_string
        params = dict(parse_qsl(raw, keep_blank_values=True, encoding="latin-1"))
        require(params, "id", "from", "to")
        charset = params.get("charset") or "utf-8"
        try:
            text = params.get("text", "").encode("latin-1").decode(charset)
        except (LookupError, UnicodeDecodeError):
            raise malformed(f"text is not valid {charset}") from None
        return Batch(
            (ParsedSms(provider_message_id=params["id"], sender=params["from"], recipient=params["to"], text=text),)
        )

    def accepted(self, batch: Batch) -> web.Response:
        return web.Response(text="", content_type="text/plain")
