"""AWS SNS: signatures checked with a certificate fetched over HTTPS from an allowed host.

A local HTTPS server (its own test CA, a certificate for 127.0.0.1) plays the part of
sns.<region>.amazonaws.com: it serves the signing certificate and records subscription
confirmations. ingest is pointed at it with REVOTP_AWS_SNS_CERT_HOSTS and REVOTP_AWS_SNS_CA_FILE.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from common.clock import iso_ms, now_ms
from common.settings import from_env
from ingest.app import create_app
from matcher.worker import Worker
from notifier.app import create_app as create_notifier
from revotp.replay.ceiling import free_port
from tests.integration.conftest import PHONE, Pipeline, deployment_env, next_frame, queued_messages

TOPIC = "arn:aws:sns:eu-west-3:123456789012:inbound-sms"


def _certificate(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: tuple[str, rsa.RSAPrivateKey] | None = None,
    *,
    ca: bool = False,
    ip: str | None = None,
) -> x509.Certificate:
    issuer_name, issuer_key = issuer or (subject, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeSnsHost:
    """The HTTPS side of SNS that a subscriber talks to: the signing certificate and SubscribeURL."""

    def __init__(self, tmp_path: Path) -> None:
        ca_key, server_key, self.signing_key = _key(), _key(), _key()
        ca = _certificate("revotp test CA", ca_key, ca=True)
        server = _certificate("127.0.0.1", server_key, ("revotp test CA", ca_key), ip="127.0.0.1")
        self.signing_pem = _pem(_certificate("sns.test.amazonaws.com", self.signing_key))
        self.ca_file = tmp_path / "ca.pem"
        self.ca_file.write_bytes(_pem(ca))
        chain, key_file = tmp_path / "server.pem", tmp_path / "server.key"
        chain.write_bytes(_pem(server))
        key_file.write_bytes(
            server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.tls.load_cert_chain(chain, key_file)
        self.port = free_port()
        self.confirmed: list[str] = []
        self.certificate_fetches = 0

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> web.AppRunner:
        async def certificate(_: web.Request) -> web.Response:
            self.certificate_fetches += 1
            return web.Response(body=self.signing_pem, content_type="application/x-pem-file")

        async def confirm(request: web.Request) -> web.Response:
            self.confirmed.append(request.query["Token"])
            return web.Response(text="<ConfirmSubscriptionResponse/>", content_type="text/xml")

        app = web.Application()
        app.router.add_get("/SimpleNotificationService-test.pem", certificate)
        app.router.add_get("/", confirm)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port, ssl_context=self.tls).start()
        return runner

    def sign(self, message: dict[str, str], version: str = "2") -> dict[str, str]:
        """Sign as SNS does: the canonical Key\\nValue\\n lines of the message type."""
        keys = (
            ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            if message["Type"] == "Notification"
            else ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        )
        canonical = "".join(f"{key}\n{message[key]}\n" for key in keys if key in message)
        algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # noqa: S303 - SNS SignatureVersion 1
        signature = self.signing_key.sign(canonical.encode(), padding.PKCS1v15(), algorithm)
        return {
            **message,
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": f"{self.base}/SimpleNotificationService-test.pem",
        }


@pytest.fixture
async def sns_host(tmp_path: Path) -> AsyncIterator[FakeSnsHost]:
    host = FakeSnsHost(tmp_path)
    runner = await host.start()
    yield host
    await runner.cleanup()


@pytest.fixture
async def sns_pipeline(
    aiohttp_client: Any, namespace: str, sns_host: FakeSnsHost, cleanup: None
) -> AsyncIterator[Pipeline]:
    settings = from_env(
        deployment_env(
            namespace,
            REVOTP_AWS_SNS_TOPIC_ARNS=TOPIC,
            REVOTP_AWS_SNS_CERT_HOSTS=r"^127\.0\.0\.1$",
            REVOTP_AWS_SNS_CA_FILE=str(sns_host.ca_file),
        )
    )
    worker = Worker(settings)
    await worker.start()
    yield Pipeline(await aiohttp_client(create_app(settings)), await aiohttp_client(create_notifier(settings)))
    await worker.stop()


def notification(sms_text: str, recipient: str, topic: str = TOPIC) -> dict[str, str]:
    inner = {
        "originationNumber": PHONE,
        "destinationNumber": recipient,
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": sms_text,
        "inboundMessageId": str(uuid.uuid4()),
        "previousPublishedMessageId": "x",
    }
    return {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": json.dumps(inner),
        "Timestamp": iso_ms(now_ms()),  # SNS stamps when it published: now
        "UnsubscribeURL": "https://sns.example/?Action=Unsubscribe",
    }


async def post_sns(pipeline: Pipeline, message: dict[str, str]) -> Any:
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": message["Type"],
        "x-amz-sns-message-id": message["MessageId"],
        "x-amz-sns-topic-arn": message["TopicArn"],
    }
    return await pipeline.ingest.post("/v1/inbound/aws-sns", data=json.dumps(message), headers=headers)


async def test_subscription_confirmation_visits_the_subscribe_url(sns_pipeline: Pipeline, sns_host: FakeSnsHost):
    token = uuid.uuid4().hex
    message = sns_host.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic.",
            "Timestamp": "2026-11-21T07:00:00.000Z",
            "SubscribeURL": f"{sns_host.base}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token={token}",
        }
    )
    response = await post_sns(sns_pipeline, message)
    assert response.status == 200
    assert await response.json() == {"status": "subscribed"}
    assert sns_host.confirmed == [token]


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_notification_verifies_a_challenge(sns_pipeline: Pipeline, sns_host: FakeSnsHost, version: str):
    ws = await sns_pipeline.ready_socket()
    challenge = await sns_pipeline.create()
    message = sns_host.sign(notification(f"Code {challenge['code']}", challenge["virtual_number"]), version)
    response = await post_sns(sns_pipeline, message)
    assert response.status == 200, await response.text()
    event = await next_frame(ws)
    assert (event["challenge_id"], event["type"]) == (challenge["id"], "challenge.verified")


async def test_forged_notifications_are_refused(
    sns_pipeline: Pipeline, sns_host: FakeSnsHost, amqp: Any, namespace: str
):
    signed = sns_host.sign(notification("Code 123456", "+15550100000"))
    tampered = {**signed, "Message": signed["Message"].replace("123456", "654321")}
    other_topic = sns_host.sign(notification("Code 123456", "+15550100000", topic="arn:aws:sns:eu-west-3:999:other"))
    foreign_certificate = {**signed, "SigningCertURL": "https://sns.evil.example.com/SimpleNotificationService-x.pem"}
    plain_http = {**signed, "SigningCertURL": signed["SigningCertURL"].replace("https://", "http://")}
    for forged in (tampered, other_topic, foreign_certificate, plain_http):
        response = await post_sns(sns_pipeline, forged)
        assert response.status == 401, await response.text()
    malformed = await sns_pipeline.ingest.post("/v1/inbound/aws-sns", data="{not json")
    assert malformed.status == 400
    assert await queued_messages(amqp, namespace) == 0
    # The certificate was fetched once and then served from the cache.
    assert sns_host.certificate_fetches == 1
