"""What every provider adapter does: authenticate the request, read its SMS, answer its way."""

from __future__ import annotations

import hmac
from abc import ABC, abstractmethod
from typing import ClassVar

import msgspec
from aiohttp import web

from common.settings import Settings
from common.web import ApiError


class ParsedSms(msgspec.Struct, frozen=True, kw_only=True):
    """One SMS read from a provider's request, before ingest stamps and publishes it."""

    provider_message_id: str
    sender: str
    recipient: str
    text: str
    sender_country: str | None = None
    received_at: str | None = None


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "invalid_signature", message)


def malformed(message: str) -> ApiError:
    return ApiError(400, "malformed_message", message)


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class Provider(ABC):
    """One provider's webhook. Subclasses set ``name`` and implement the three steps."""

    name: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secret = settings.provider_option(self.name, "secret")

    def check_configured(self) -> bool:
        """False when signatures are off for local experiments; raises 401 when no credential is set."""
        if self.settings.insecure_no_signatures:
            return False
        if not self.secret:
            raise ApiError(401, "provider_not_configured", f"no credential is configured for provider {self.name!r}")
        return True

    @abstractmethod
    def authenticate(self, request: web.Request, body: bytes) -> None:
        """Raise a 401 ApiError unless the request provably comes from the provider."""

    @abstractmethod
    def parse(self, request: web.Request, body: bytes) -> list[ParsedSms]:
        """The SMS in the request; raise a 400 ApiError when it is malformed."""

    @abstractmethod
    def accepted(self, count: int) -> web.Response:
        """The answer the provider expects once every SMS is safely queued."""
