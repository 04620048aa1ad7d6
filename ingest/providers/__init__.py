"""The registry of provider webhooks, by route name (``/v1/inbound/{name}``)."""

from __future__ import annotations

from common.settings import Settings
from ingest.providers.android_sms_gateway import AndroidSmsGatewayProvider
from ingest.providers.aws_sns import AwsSnsProvider
from ingest.providers.bandwidth import BandwidthProvider
from ingest.providers.base import Provider
from ingest.providers.generic import GenericProvider
from ingest.providers.infobip import InfobipProvider
from ingest.providers.jasmin import JasminProvider
from ingest.providers.kannel import KannelProvider
from ingest.providers.messagebird import MessagebirdProvider
from ingest.providers.plivo import PlivoProvider
from ingest.providers.sinch import SinchProvider
from ingest.providers.smsmode import SmsmodeProvider
from ingest.providers.telnyx import TelnyxProvider
from ingest.providers.twilio import TwilioProvider
from ingest.providers.vonage import VonageProvider

PROVIDER_CLASSES: tuple[type[Provider], ...] = (
    GenericProvider,
    TwilioProvider,
    VonageProvider,
    PlivoProvider,
    TelnyxProvider,
    SinchProvider,
    InfobipProvider,
    MessagebirdProvider,
    BandwidthProvider,
    AwsSnsProvider,
    AndroidSmsGatewayProvider,
    JasminProvider,
    KannelProvider,
    SmsmodeProvider,
)


def build_providers(settings: Settings) -> dict[str, Provider]:
    """Every adapter, its options read and checked: a bad one raises SettingsError, naming it."""
    return {cls.name: cls(settings) for cls in PROVIDER_CLASSES}
