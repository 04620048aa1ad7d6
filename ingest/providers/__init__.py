"""The registry of provider webhooks, by route name (``POST /v1/inbound/{name}``)."""

from __future__ import annotations

from common.settings import Settings
from ingest.providers.base import Provider
from ingest.providers.generic import GenericProvider
from ingest.providers.twilio import TwilioProvider

PROVIDER_CLASSES: tuple[type[Provider], ...] = (GenericProvider, TwilioProvider)


def build_providers(settings: Settings) -> dict[str, Provider]:
    return {cls.name: cls(settings) for cls in PROVIDER_CLASSES}
