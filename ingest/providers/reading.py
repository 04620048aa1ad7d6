"""Reading provider requests: form and query parameters, JSON bodies, and their phone numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
from aiohttp import web

from common.json_input import JSON_INPUT_ERRORS
from common.web import require_content_type
from ingest.providers.base import Provider, malformed

T = TypeVar("T")

FORM = "application/x-www-form-urlencoded"


def query_params(request: web.Request, *, encoding: str = "utf-8") -> list[tuple[str, str]]:
    try:
        return parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True, encoding=encoding, errors="strict")
    except (UnicodeDecodeError, LookupError, ValueError):
        raise malformed("the query string is not valid") from None


def remember(request: web.Request, key: web.RequestKey[T], read: Callable[[], T]) -> T:
    """``read()`` once per request: signature checks and parsing both need the parameters."""
    if key not in request:
        request[key] = read()
    return request[key]


_FORM = web.RequestKey("revotp_form_params", list[tuple[str, str]])


def form_params(request: web.Request, body: bytes) -> list[tuple[str, str]]:
    """The parameters a provider sent: the query string of a GET, the form body of a POST."""
    return remember(request, _FORM, lambda: _read_form(request, body))


def _read_form(request: web.Request, body: bytes) -> list[tuple[str, str]]:
    if request.method == "GET":
        return query_params(request)
    require_content_type(request, FORM)
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise malformed("the body is not UTF-8 form data") from None


def decode_json(body: bytes, type_: type[T]) -> T:
    """Decode a JSON body into ``type_``; any mismatch is the provider's malformed request."""
    try:
        return msgspec.json.decode(body, type=type_)
    except JSON_INPUT_ERRORS as exc:
        raise malformed(f"the body does not have the provider's format: {exc}") from None


def convert(raw: Any, type_: type[T]) -> T | None:
    """One entry of a batch as ``type_``, or None when that entry is malformed."""
    try:
        return msgspec.convert(raw, type_)
    except msgspec.ValidationError:
        return None


def require(params: dict[str, str], *names: str) -> None:
    missing = [name for name in names if not params.get(name)]
    if missing:
        raise malformed(f"missing parameters: {', '.join(missing)}")


def international(number: str) -> str:
    """Providers that write international numbers without '+' (447700900001) get it back."""
    digits = number.strip()
    return f"+{digits}" if digits.isdigit() and len(digits) >= 8 else digits


def own_number(provider: Provider, given: str | None) -> str:
    """The virtual number an SMS was sent to, for formats that may omit it.

    ``REVOTP_<PROVIDER>_NUMBER`` names it; without it, a deployment with one virtual number
    uses that one; otherwise the request cannot be attributed and is refused.
    """
    if given:
        return given
    configured = provider.option("number")
    if configured:
        return configured
    numbers = provider.settings.virtual_numbers
    if len(numbers) == 1:
        return numbers[0]
    raise malformed(
        f"the request does not say which number received it; set REVOTP_{provider.name.upper().replace('-', '_')}_NUMBER"
    )
