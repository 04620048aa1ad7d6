"""Authentication pieces shared by provider adapters."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import time
from abc import abstractmethod
from typing import ClassVar

from aiohttp import web

from common.web import ApiError
from ingest.providers.base import Provider, unauthorized

TIMESTAMP_TOLERANCE_S = 300


def same(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time equality of two secrets or signatures. A header that was no UTF-8 comes
    with its bytes as surrogates: compared as those bytes, it matches nothing."""
    given_bytes = given.encode("utf-8", "surrogateescape") if isinstance(given, str) else given
    expected_bytes = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(given_bytes, expected_bytes)


def check_timestamp(raw: str, *, tolerance_s: int = TIMESTAMP_TOLERANCE_S) -> int:
    """Unix seconds within ``tolerance_s`` of our clock, so a captured request cannot be replayed later."""
    # At most 12 digits (the year 33658): a longer number cannot be within the window, and a
    # 400-digit one would overflow the float comparison below.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise unauthorized("the signature timestamp must be Unix seconds")
    timestamp = int(raw)
    if abs(time.time() - timestamp) > tolerance_s:
        raise unauthorized(f"the signature timestamp is more than {tolerance_s} s from the server clock")
    return timestamp


def check_source_address(provider: Provider, request: web.Request) -> None:
    """``REVOTP_<PROVIDER>_ALLOWED_IPS``: when set, only these networks may call (checked on the peer address)."""
    networks = provider.allowed_networks
    if not networks:
        return
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        raise ApiError(401, "address_not_allowed", "the caller's address is unknown") from None
    if not any(peer in network for network in networks):
        raise ApiError(401, "address_not_allowed", "the caller's address is not allowed for this provider")


class TimestampSignedProvider(Provider):
    """A provider that signs each request with a signature header and a timestamp header.

    The timestamp must be within 300 s of our clock, which bounds replays; subclasses say what
    the signature covers.
    """

    signature_header: ClassVar[str]
    timestamp_header: ClassVar[str]

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        signature = request.headers.get(self.signature_header, "")
        timestamp = request.headers.get(self.timestamp_header, "")
        if not signature or not timestamp:
            raise unauthorized(f"{self.signature_header} and {self.timestamp_header} are required")
        check_timestamp(timestamp)
        if not self.signature_matches(request, body, timestamp, signature):
            raise unauthorized(f"{self.signature_header} does not match")

    @abstractmethod
    def signature_matches(self, request: web.Request, body: bytes, timestamp: str, signature: str) -> bool:
        """Whether ``signature`` is the provider's signature of this request at ``timestamp``."""


class SharedSecretProvider(Provider):
    """A provider that signs nothing: HTTP basic auth and/or a ``?token=`` equal to the secret.

    ``REVOTP_<PROVIDER>_BASIC_AUTH=user:password`` requires basic auth; ``REVOTP_<PROVIDER>_SECRET``
    requires ``?token=<secret>`` in the URL the provider is configured with. When both are set,
    both are required; when neither is, the provider is refused.
    """

    def check_configured(self) -> bool:
        if self.settings.insecure_no_signatures:
            return False
        if not self.secret and not self.option("basic_auth"):
            raise ApiError(401, "provider_not_configured", f"no credential is configured for provider {self.name!r}")
        return True

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        if not self.check_configured():
            return
        expected_basic = self.option("basic_auth")
        if expected_basic and not same(_basic_credentials(request), expected_basic):
            raise unauthorized("HTTP basic credentials are missing or wrong", "invalid_credentials")
        if self.secret and not same(request.query.get("token", ""), self.secret):
            raise unauthorized("the token query parameter is missing or wrong", "invalid_credentials")


def _basic_credentials(request: web.Request) -> str:
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        return base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
