"""Requests as each provider sends them, signed as each provider signs (for the integration tests).

The formats live in ``revotp/replay/webhooks.py``, shared with ``revotp replay``; here they are
bound to the test deployments' secrets, and each provider gets its tampered and malformed cases.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from revotp.replay.webhooks import ProviderRequest, Sms, Webhooks

__all__ = ["CASES", "PUBLIC_URL", "SECRETS", "TELNYX_KEY", "ProviderCase", "ProviderRequest", "Sms"]

PUBLIC_URL = "https://hooks.revotp.test"
TELNYX_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
SECRETS = {
    "REVOTP_GENERIC_SECRET": "generic-test-secret",
    "REVOTP_TWILIO_SECRET": "twilio-test-token",
    "REVOTP_VONAGE_SECRET": "vonage-signature-secret-0123456789abcdef",
    "REVOTP_VONAGE_SIGNATURE_METHOD": "sha256",
    "REVOTP_PLIVO_SECRET": "plivo-auth-token",
    "REVOTP_TELNYX_SECRET": base64.b64encode(TELNYX_KEY.public_key().public_bytes_raw()).decode(),
    "REVOTP_SINCH_BASIC_AUTH": "sinch:sinch-password",
    "REVOTP_INFOBIP_SECRET": "infobip-token",
    "REVOTP_MESSAGEBIRD_SECRET": "bird-signing-key",
    "REVOTP_BANDWIDTH_BASIC_AUTH": "bandwidth:bandwidth-password",
    "REVOTP_ANDROID_SMS_GATEWAY_SECRET": "gateway-signing-key",
    "REVOTP_JASMIN_SECRET": "jasmin-token",
    "REVOTP_KANNEL_SECRET": "kannel-token",
    "REVOTP_SMSMODE_SECRET": "smsmode-token",
}

WEBHOOKS = Webhooks(SECRETS, PUBLIC_URL, telnyx_key=TELNYX_KEY)
generic, generic_body = WEBHOOKS.generic, WEBHOOKS.generic_body
twilio, twilio_params = WEBHOOKS.twilio, WEBHOOKS.twilio_params
vonage, vonage_params, vonage_sms_params = WEBHOOKS.vonage, WEBHOOKS.vonage_params, WEBHOOKS.vonage_sms_params
vonage_messages = WEBHOOKS.vonage_messages
plivo, plivo_params = WEBHOOKS.plivo, WEBHOOKS.plivo_params
telnyx, telnyx_body = WEBHOOKS.telnyx, WEBHOOKS.telnyx_body
messagebird, messagebird_body = WEBHOOKS.messagebird, WEBHOOKS.messagebird_body
android_sms_gateway, android_body = WEBHOOKS.android_sms_gateway, WEBHOOKS.android_body
sinch = WEBHOOKS.sinch
infobip, infobip_body, infobip_result = WEBHOOKS.infobip, WEBHOOKS.infobip_body, WEBHOOKS.infobip_result
bandwidth, bandwidth_body, bandwidth_event = WEBHOOKS.bandwidth, WEBHOOKS.bandwidth_body, WEBHOOKS.bandwidth_event
jasmin, jasmin_params = WEBHOOKS.jasmin, WEBHOOKS.jasmin_params
kannel, kannel_query = WEBHOOKS.kannel, WEBHOOKS.kannel_query
smsmode, smsmode_query = WEBHOOKS.smsmode, WEBHOOKS.smsmode_query


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# --- the cases every provider must pass ---------------------------------------------------------
def _with_body(request: ProviderRequest, transform: Callable[[bytes], bytes]) -> ProviderRequest:
    return replace(request, body=transform(request.body))


def _change_text(request: ProviderRequest) -> ProviderRequest:
    """The body altered after signing: an attacker swaps the code."""
    return _with_body(request, lambda body: body.replace(b"Code", b"Cod3", 1))


def _path_token(request: ProviderRequest) -> ProviderRequest:
    return replace(request, path=request.path.replace("token=", "token=wrong-", 1))


@dataclass(frozen=True)
class ProviderCase:
    name: str
    build: Callable[[Sms], ProviderRequest]
    tamper: Callable[[ProviderRequest], ProviderRequest]
    malformed: Callable[[], ProviderRequest]
    status: int
    content_type: str | None = None
    body: str | None = None


CASES = [
    ProviderCase("generic", generic, _change_text, lambda: generic_body(b'{"id": "m1"}'), 202, "application/json"),
    ProviderCase(
        "twilio",
        twilio,
        _change_text,
        lambda: twilio_params({"Body": "x"}),
        200,
        "text/xml",
        '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
    ),
    ProviderCase("vonage", vonage, _change_text, lambda: vonage_params({"text": "x"}), 200),
    ProviderCase(
        "plivo",
        plivo,
        _change_text,
        lambda: plivo_params({"Text": "x"}),
        200,
        "application/xml",
        "<Response></Response>",
    ),
    ProviderCase("telnyx", telnyx, _change_text, lambda: telnyx_body(b'{"data": {}}'), 200, "application/json"),
    ProviderCase(
        "sinch",
        sinch,
        lambda r: replace(r, headers={**r.headers, "Authorization": _basic("sinch:guess")}),
        lambda: replace(sinch(Sms("+1", "+1", "x", "m")), body=b'{"type": "mo_text"}'),
        200,
    ),
    ProviderCase("infobip", infobip, _path_token, lambda: infobip_body(b'{"messages": []}'), 200, "application/json"),
    ProviderCase("messagebird", messagebird, _change_text, lambda: messagebird_body(b'{"payload": {"id": 1}}'), 200),
    ProviderCase(
        "bandwidth",
        bandwidth,
        lambda r: replace(r, headers={**r.headers, "Authorization": _basic("bandwidth:guess")}),
        lambda: bandwidth_body(b'{"not": "an array"}'),
        200,
    ),
    ProviderCase(
        "android-sms-gateway",
        android_sms_gateway,
        _change_text,
        lambda: android_body(b'{"event": "sms:received", "payload": {}}'),
        200,
    ),
    ProviderCase(
        "jasmin", jasmin, _path_token, lambda: jasmin_params({"from": "1", "to": "2"}), 200, "text/plain", "ACK/Jasmin"
    ),
    ProviderCase("kannel", kannel, _path_token, lambda: kannel_query({"from": "1"}), 200, "text/plain", ""),
    ProviderCase("smsmode", smsmode, _path_token, lambda: smsmode_query({"message": "x"}), 200),
]
