"""AWS End User Messaging SMS (Pinpoint) two-way SMS, delivered by an SNS HTTPS subscription.

SNS posts JSON (as ``text/plain``) ``{Type, MessageId, TopicArn, Message, Timestamp,
SignatureVersion, Signature, SigningCertURL, …}``; for ``Notification`` the ``Message`` is the
SMS as a JSON string: ``originationNumber``, ``destinationNumber``, ``messageBody``,
``inboundMessageId``. Authentication, as docs.aws.amazon.com/sns "Verifying the signatures of
Amazon SNS messages" asks:
- ``TopicArn`` must be one of ``REVOTP_AWS_SNS_TOPIC_ARNS`` (this provider's credential);
- ``SigningCertURL`` must be https on a host matching ``REVOTP_AWS_SNS_CERT_HOSTS`` (default
  ``sns.<region>.amazonaws.com``) and end in ``.pem``; the certificate is fetched once and cached;
- ``Signature`` is RSA PKCS#1 v1.5 (SignatureVersion 1: SHA-1, 2: SHA-256) over the canonical
  ``Key\\nValue\\n`` lines of the message type.
A ``SubscriptionConfirmation`` is confirmed by a GET of its ``SubscribeURL`` (same host rule).
Sources: docs.aws.amazon.com/sms-voice two-way-sms-payload; sns http-notification-json,
sns-verify-signature-of-message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import ssl
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import msgspec
import structlog
from aiohttp import web
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from common.settings import SettingsError
from common.web import json_response, service_unavailable
from ingest.providers.base import Batch, ParsedSms, Provider, malformed, unauthorized
from ingest.providers.reading import decode_json

log = structlog.get_logger(__name__)

DEFAULT_CERT_HOSTS = r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
MAX_CERTIFICATE_BYTES = 16 * 1024
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
_SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}


class SnsMessage(msgspec.Struct):
    Type: str
    MessageId: str
    TopicArn: str
    Message: str
    Timestamp: str
    SignatureVersion: str
    Signature: str
    SigningCertURL: str
    Subject: str | None = None
    SubscribeURL: str | None = None
    Token: str | None = None


class _InboundSms(msgspec.Struct):
    originationNumber: str
    destinationNumber: str
    inboundMessageId: str
    messageBody: str = ""


def canonical_string(message: SnsMessage) -> bytes:
    keys = _SIGNED_KEYS.get(message.Type)
    if keys is None:
        raise malformed(f"unknown SNS message type {message.Type!r}")
    lines = []
    for key in keys:
        value = getattr(message, key)
        if value is not None:
            lines.append(f"{key}\n{value}\n")
    return "".join(lines).encode()


def verify_signature(message: SnsMessage, certificate: x509.Certificate) -> bool:
    algorithm = _HASHES.get(message.SignatureVersion)
    key = certificate.public_key()
    if algorithm is None or not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(
            base64.b64decode(message.Signature, validate=True),
            canonical_string(message),
            padding.PKCS1v15(),
            algorithm(),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class AwsSnsProvider(Provider):
    name = "aws-sns"
    credential_option = "topic_arns"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._topics = frozenset(arn.strip() for arn in self.secret.split(",") if arn.strip())
        try:
            self._hosts = re.compile(self.option("cert_hosts") or DEFAULT_CERT_HOSTS)
        except re.error as exc:
            raise SettingsError(f"{self.variable('cert_hosts')} must be a regular expression: {exc}") from None
        self._ca_file = self.option("ca_file") or None
        if self._ca_file is not None and not os.path.isfile(self._ca_file):
            raise SettingsError(f"{self.variable('ca_file')}: no file {self._ca_file!r}")
        self._certificates: dict[str, x509.Certificate] = {}
        self._session: aiohttp.ClientSession | None = None

    def _trusted_url(self, url: str | None, *, pem: bool) -> str:
        parts = urlsplit(url or "")
        if parts.scheme != "https" or not self._hosts.fullmatch(parts.hostname or ""):
            raise unauthorized("the SNS URL is not an https URL of Amazon SNS")
        if pem and not parts.path.endswith(".pem"):
            raise unauthorized("SigningCertURL is not a .pem certificate")
        return str(url)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            context = ssl.create_default_context(cafile=self._ca_file)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=context), timeout=aiohttp.ClientTimeout(total=5)
            )
        return self._session

    async def _certificate(self, url: str) -> x509.Certificate:
        cached = self._certificates.get(url)
        if cached is not None:
            return cached
        try:
            async with self._client().get(self._trusted_url(url, pem=True)) as response:
                response.raise_for_status()
                pem = await response.content.read(MAX_CERTIFICATE_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("sns_certificate_unavailable", error=type(exc).__name__)
            raise service_unavailable("the SNS signing certificate could not be fetched") from None
        if len(pem) > MAX_CERTIFICATE_BYTES:
            raise unauthorized("the SNS signing certificate is too large")
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise unauthorized("SigningCertURL does not hold a PEM certificate") from None
        self._certificates[url] = certificate
        return certificate

    async def authenticate(self, request: web.Request, body: bytes) -> None:
        message = decode_json(body, SnsMessage)
        if not self.check_configured():
            return
        if message.TopicArn not in self._topics:
            raise unauthorized("the SNS topic is not one of REVOTP_AWS_SNS_TOPIC_ARNS")
        certificate = await self._certificate(message.SigningCertURL)
        if not verify_signature(message, certificate):
            raise unauthorized("the SNS signature does not match")

    async def handshake(self, request: web.Request, body: bytes) -> web.StreamResponse | None:
        message = decode_json(body, SnsMessage)
        if message.Type == "UnsubscribeConfirmation":
            return json_response({"status": "ignored"})
        if message.Type != "SubscriptionConfirmation":
            return None
        try:
            url = self._trusted_url(message.SubscribeURL, pem=False)
            async with self._client().get(url) as response:
                response.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("sns_subscription_not_confirmed", topic=message.TopicArn, error=type(exc).__name__)
            raise service_unavailable("the subscription could not be confirmed; SNS will retry") from None
        log.info("sns_subscription_confirmed", topic=message.TopicArn)
        return json_response({"status": "subscribed"})

    def parse(self, request: web.Request, body: bytes) -> Batch:
        message = decode_json(body, SnsMessage)
        if message.Type != "Notification":
            return Batch(())
        sms = decode_json(message.Message.encode(), _InboundSms)
        return Batch(
            (
                ParsedSms(
                    provider_message_id=sms.inboundMessageId,
                    sender=sms.originationNumber,
                    recipient=sms.destinationNumber,
                    text=sms.messageBody,
                    received_at=message.Timestamp,
                ),
            )
        )

    def accepted(self, batch: Batch) -> web.Response:
        return json_response({"status": "accepted"})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
