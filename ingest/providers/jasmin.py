"""Jasmin SMS gateway: an SMS-MO thrown to an HTTP client connector (``deliverSmHttpThrower``).

GET or form POST with ``id``, ``from``, ``to``, ``content``, ``binary`` (hex of the content),
``coding`` (SMPP data_coding). ``content`` is the raw short message: with ``coding=8`` it is
UTF-16BE, so the text is decoded from ``binary`` by ``coding`` (8 → UTF-16BE; 0, 1, 3 → Latin-1,
whose digits and letters are those of the GSM default alphabet). Numbers are as the SMSC wrote
them. Jasmin concatenates long SMS itself. It signs nothing: ``?token=`` (``REVOTP_JASMIN_SECRET``)
and/or basic auth. The answer must be exactly ``ACK/Jasmin`` with 200, otherwise Jasmin retries
(3 times, 30 s apart). Sources: jookies/jasmin ``misc/doc/sources/apis/http/index.rst``
("Receiving SMS-MO") and ``jasmin/routing/throwers.py``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from aiohttp import web

from ingest.providers.auth import SharedSecretProvider
from ingest.providers.base import Batch, ParsedSms, malformed
from ingest.providers.reading import FORM, require

JASMIN_ACK = "ACK/Jasmin"


def decode_short_message(params: dict[str, str]) -> str:
    """The text of the short message, from its bytes and data coding."""
    binary = params.get("binary")
    if binary:
        try:
            data = bytes.fromhex(binary)
        except ValueError:
            raise malformed("binary is not hexadecimal") from None
    else:
        data = params.get("content", "").encode("latin-1")
    encoding = "utf-16-be" if params.get("coding") == "8" else "latin-1"
    return data.decode(encoding, errors="replace")


class JasminProvider(SharedSecretProvider):
    name = "jasmin"
    methods = frozenset({"GET", "POST"})

    def _params(self, request: web.Request, body: bytes) -> dict[str, str]:
        # Latin-1 keeps every raw byte of `content`, whatever its coding.
        if request.method == "GET":
            raw = request.rel_url.raw_query_string
        elif request.content_type == FORM:
            raw = body.decode("latin-1")
        else:
            raise malformed(f"Jasmin posts {FORM}")
        return dict(parse_qsl(raw, keep_blank_values=True, encoding="latin-1"))

    def parse(self, request: web.Request, body: bytes) -> Batch:
        params = self._params(request, body)
        require(params, "id", "from", "to")
        return Batch(
            (
                ParsedSms(
                    provider_message_id=params["id"],
                    sender=params["from"],
                    recipient=params["to"],
                    text=decode_short_message(params),
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return web.Response(text=JASMIN_ACK, content_type="text/plain")
