"""What every provider adapter does: authenticate the request, read its SMS, answer its way."""

from __future__ import annotations

import ipaddress
from abc import ABC, abstractmethod
from ipaddress import IPv4Network, IPv6Network
from typing import ClassVar

import msgspec
from aiohttp import web

from common.messages import SmsPart
from common.names import Names
from common.phones import to_e164
from common.redis import RedisClient
from common.settings import Settings, SettingsError
from common.web import ApiError


class ParsedSms(msgspec.Struct, frozen=True, kw_only=True):
    """One SMS read from a provider's request, before ingest stamps and publishes it."""

    provider_message_id: str
    sender: str
    recipient: str
    text: str
    sender_country: str | None = None
    received_at: str | None = None
    part: SmsPart | None = None  # one part of a long SMS the provider did not reassemble


class Batch(msgspec.Struct, frozen=True):
    """The SMS of one request; ``skipped`` counts entries refused one by one (batched formats)."""

    messages: tuple[ParsedSms, ...]
    skipped: int = 0


def unauthorized(message: str, code: str = "invalid_signature") -> ApiError:
    return ApiError(401, code, message)


def malformed(message: str) -> ApiError:
    return ApiError(400, "malformed_message", message)


def _networks(variable: str, raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip())
    except ValueError as exc:
        raise SettingsError(f"{variable} must list networks like 203.0.113.0/24: {exc}") from None


class Provider(ABC):
    """One provider's webhook. Subclasses set ``name`` and implement the three steps."""

    name: ClassVar[str]
    methods: ClassVar[frozenset[str]] = frozenset({"POST"})
    # The option that holds the provider's credential (REVOTP_<PROVIDER>_<OPTION>).
    credential_option: ClassVar[str] = "secret"

    def __init__(self, settings: Settings) -> None:
        """Read and check the provider's options; a bad one raises SettingsError at start."""
        self.settings = settings
        self.secret = settings.provider_option(self.name, self.credential_option)
        self.allowed_networks = _networks(self.variable("allowed_ips"), self.option("allowed_ips"))
        basic_auth = self.option("basic_auth")
        if basic_auth and ":" not in basic_auth:
            raise SettingsError(f"{self.variable('basic_auth')} must read user:password")
        number = self.option("number")
        if number and to_e164(number, None) is None:
            raise SettingsError(f"{self.variable('number')} must be a phone number in international form")

    def variable(self, option: str) -> str:
        """The environment variable of one of this provider's options."""
        return f"REVOTP_{self.name.upper().replace('-', '_')}_{option.upper()}"

    def option(self, option: str) -> str:
        return self.settings.provider_option(self.name, option)

    def check_configured(self) -> bool:
        """False when signatures are off for local experiments; raises 401 when no credential is set."""
        if self.settings.insecure_no_signatures:
            return False
        if not self.secret:
            raise ApiError(401, "provider_not_configured", f"no credential is configured for provider {self.name!r}")
        return True

    @abstractmethod
    async def authenticate(self, request: web.Request, body: bytes) -> None:
        """Raise a 401 ApiError unless the request provably comes from the provider."""

    async def handshake(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        """Answer a provider's control request (subscription confirmation …); None for an SMS."""
        return None

    @abstractmethod
    def parse(self, request: web.Request, body: bytes) -> Batch:
        """The SMS in the request; raise a 400 ApiError when it is malformed."""

    @abstractmethod
    def accepted(self, batch: Batch) -> web.Response:
        """The answer the provider expects once every SMS is safely queued."""

    def attach(self, redis: RedisClient, names: Names) -> None:
        """Give the adapter the Redis it keeps state in (single-use nonces, say), once it is open."""
        return

    async def close(self) -> None:
        """Release what the adapter opened (an HTTP client, say)."""
        return
