"""Requests as each provider sends them, signed as each provider signs (for the integration tests)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingest.providers.android_sms_gateway import gateway_signature
from ingest.providers.generic import sign as generic_sign
from ingest.providers.messagebird import bird_signature
from ingest.providers.plivo import signature_v3
from ingest.providers.twilio import compute_signature
from ingest.providers.vonage import compute_sig

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


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Sms:
    sender: str  # E.164 with '+'
    recipient: str
    text: str
    message_id: str


def _no_plus(number: str) -> str:
    return number.lstrip("+")


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- signed over the body or the parameters --------------------------------------------------
def generic(sms: Sms) -> ProviderRequest:
    return generic_body(_json({"id": sms.message_id, "from": sms.sender, "to": sms.recipient, "text": sms.text}))


def generic_body(body: bytes) -> ProviderRequest:
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Revotp-Timestamp": str(stamp),
        "X-Revotp-Signature": generic_sign(SECRETS["REVOTP_GENERIC_SECRET"], stamp, body),
    }
    return ProviderRequest("POST", "/v1/inbound/generic", headers, body)


def twilio_params(params: dict[str, str], method: str = "POST") -> ProviderRequest:
    path = "/v1/inbound/twilio"
    if method == "GET":
        path += "?" + urlencode(params)
        signature = compute_signature(SECRETS["REVOTP_TWILIO_SECRET"], PUBLIC_URL + path, [])
        return ProviderRequest("GET", path, {"X-Twilio-Signature": signature})
    signature = compute_signature(SECRETS["REVOTP_TWILIO_SECRET"], PUBLIC_URL + path, params.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return ProviderRequest("POST", path, headers, urlencode(params).encode())


def twilio(sms: Sms) -> ProviderRequest:
    return twilio_params(
        {
            "ToCountry": "US",
            "SmsMessageSid": sms.message_id,
            "NumMedia": "0",
            "SmsSid": sms.message_id,
            "SmsStatus": "received",
            "Body": sms.text,
            "FromCountry": "FR",
            "To": sms.recipient,
            "NumSegments": "1",
            "MessageSid": sms.message_id,
            "AccountSid": "AC0123456789abcdef0123456789abcdef",
            "From": sms.sender,
            "ApiVersion": "2010-04-01",
        }
    )


def vonage_params(params: dict[str, str], *, encoding: str = "form") -> ProviderRequest:
    signed = {**params, "timestamp": str(int(time.time())), "nonce": uuid.uuid4().hex}
    signed["sig"] = compute_sig(signed, SECRETS["REVOTP_VONAGE_SECRET"], SECRETS["REVOTP_VONAGE_SIGNATURE_METHOD"])
    path = "/v1/inbound/vonage"
    if encoding == "get":
        return ProviderRequest("GET", f"{path}?{urlencode(signed)}", {})
    if encoding == "json":
        return ProviderRequest("POST", path, {"Content-Type": "application/json"}, _json(signed))
    return ProviderRequest(
        "POST", path, {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}, urlencode(signed).encode()
    )


def vonage_sms_params(sms: Sms) -> dict[str, str]:
    return {
        "msisdn": _no_plus(sms.sender),
        "to": _no_plus(sms.recipient),
        "messageId": sms.message_id,
        "text": sms.text,
        "type": "text",
        "keyword": sms.text.split()[0].upper() if sms.text else "",
        "api-key": "abcd1234",
        "message-timestamp": "2026-11-21 07:00:01",
    }


def vonage(sms: Sms) -> ProviderRequest:
    return vonage_params(vonage_sms_params(sms))


def vonage_messages(sms: Sms) -> ProviderRequest:
    body = _json(
        {
            "channel": "sms",
            "message_uuid": sms.message_id,
            "to": _no_plus(sms.recipient),
            "from": _no_plus(sms.sender),
            "timestamp": "2026-11-21T07:00:01Z",
            "text": sms.text,
            "message_type": "text",
            "sms": {"num_messages": "1"},
        }
    )
    claims = {
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "iss": "Vonage",
        "api_key": "abcd1234",
        "payload_hash": hashlib.sha256(body).hexdigest(),
    }
    token = jwt.encode(claims, SECRETS["REVOTP_VONAGE_SECRET"], algorithm="HS256")
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return ProviderRequest("POST", "/v1/inbound/vonage", headers, body)


def plivo_params(params: dict[str, str]) -> ProviderRequest:
    path = "/v1/inbound/plivo"
    nonce = str(uuid.uuid4().int)[:20]
    signature = signature_v3(SECRETS["REVOTP_PLIVO_SECRET"], "POST", PUBLIC_URL + path, params.items(), nonce)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Plivo-Signature-V3": signature,
        "X-Plivo-Signature-V3-Nonce": nonce,
    }
    return ProviderRequest("POST", path, headers, urlencode(params).encode())


def plivo(sms: Sms) -> ProviderRequest:
    return plivo_params(
        {
            "From": _no_plus(sms.sender),
            "To": _no_plus(sms.recipient),
            "Text": sms.text,
            "Type": "sms",
            "MessageUUID": sms.message_id,
            "Units": "1",
            "TotalRate": "0.00000",
            "TotalAmount": "0.00000",
            "MessageIntent": "",
            "PowerpackUUID": "",
        }
    )


def telnyx_body(body: bytes) -> ProviderRequest:
    stamp = str(int(time.time()))
    signature = base64.b64encode(TELNYX_KEY.sign(stamp.encode() + b"|" + body)).decode()
    headers = {"Content-Type": "application/json", "telnyx-signature-ed25519": signature, "telnyx-timestamp": stamp}
    return ProviderRequest("POST", "/v1/inbound/telnyx", headers, body)


def telnyx(sms: Sms) -> ProviderRequest:
    return telnyx_body(
        _json(
            {
                "data": {
                    "event_type": "message.received",
                    "id": str(uuid.uuid4()),
                    "occurred_at": "2026-11-21T07:00:01.000+00:00",
                    "payload": {
                        "direction": "inbound",
                        "encoding": "GSM-7",
                        "id": sms.message_id,
                        "parts": 1,
                        "type": "SMS",
                        "from": {"carrier": "Example Mobile", "line_type": "Wireless", "phone_number": sms.sender},
                        "to": [
                            {
                                "carrier": "Telnyx",
                                "line_type": "VoIP",
                                "phone_number": sms.recipient,
                                "status": "webhook_delivered",
                            }
                        ],
                        "text": sms.text,
                        "received_at": "2026-11-21T07:00:01.000+00:00",
                        "media": [],
                        "record_type": "message",
                    },
                    "record_type": "event",
                },
                "meta": {"attempt": 1, "delivered_to": PUBLIC_URL + "/v1/inbound/telnyx"},
            }
        )
    )


def messagebird_body(body: bytes) -> ProviderRequest:
    path = "/v1/inbound/messagebird"
    stamp = str(int(time.time()))
    signature = bird_signature(SECRETS["REVOTP_MESSAGEBIRD_SECRET"], stamp, PUBLIC_URL + path, body)
    headers = {
        "Content-Type": "application/json",
        "messagebird-signature": signature,
        "messagebird-request-timestamp": stamp,
    }
    return ProviderRequest("POST", path, headers, body)


def messagebird(sms: Sms) -> ProviderRequest:
    return messagebird_body(
        _json(
            {
                "service": "channels",
                "event": "sms.inbound",
                "payload": {
                    "id": sms.message_id,
                    "channelId": "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
                    "sender": {
                        "contact": {
                            "id": str(uuid.uuid4()),
                            "identifierKey": "phonenumber",
                            "identifierValue": sms.sender,
                        }
                    },
                    "receiver": {"connector": {"id": "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f"}},
                    "body": {"type": "text", "text": {"text": sms.text}},
                    "status": "delivered",
                    "direction": "incoming",
                    "createdAt": "2026-11-21T07:00:01.736Z",
                },
            }
        )
    )


def android_body(body: bytes) -> ProviderRequest:
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Timestamp": stamp,
        "X-Signature": gateway_signature(SECRETS["REVOTP_ANDROID_SMS_GATEWAY_SECRET"], body, stamp),
    }
    return ProviderRequest("POST", "/v1/inbound/android-sms-gateway", headers, body)


def android_sms_gateway(sms: Sms) -> ProviderRequest:
    return android_body(
        _json(
            {
                "id": "Ey6ECgOkVVFjz3CL48B8C",
                "webhookId": "LreFUt-Z3sSq0JufY9uWB",
                "event": "sms:received",
                "deviceId": "ffffffffceb0b1db0000018e937c815b",
                "payload": {
                    "message": sms.text,
                    "receivedAt": "2026-11-21T08:00:01.000+01:00",
                    "messageId": sms.message_id,
                    "sender": sms.sender,
                    "recipient": sms.recipient,
                    "simNumber": 1,
                    "phoneNumber": sms.sender,
                },
            }
        )
    )


# --- authenticated by basic auth or a token ---------------------------------------------------
def sinch(sms: Sms, credentials: str = SECRETS["REVOTP_SINCH_BASIC_AUTH"]) -> ProviderRequest:
    body = _json(
        {
            "id": sms.message_id,
            "from": _no_plus(sms.sender),
            "to": _no_plus(sms.recipient),
            "body": sms.text,
            "type": "mo_text",
            "operator_id": "20801",
            "received_at": "2026-11-21T07:00:01.000Z",
        }
    )
    return ProviderRequest(
        "POST", "/v1/inbound/sinch", {"Content-Type": "application/json", "Authorization": _basic(credentials)}, body
    )


def infobip_body(body: bytes, token: str = SECRETS["REVOTP_INFOBIP_SECRET"]) -> ProviderRequest:
    return ProviderRequest("POST", f"/v1/inbound/infobip?token={token}", {"Content-Type": "application/json"}, body)


def infobip_result(sms: Sms) -> dict[str, Any]:
    return {
        "messageId": sms.message_id,
        "from": _no_plus(sms.sender),
        "to": _no_plus(sms.recipient),
        "text": sms.text,
        "cleanText": sms.text,
        "keyword": "",
        "receivedAt": "2026-11-21T07:00:01.000+0000",
        "smsCount": 1,
        "price": {"pricePerMessage": 0, "currency": "EUR"},
        "callbackData": "callbackData",
    }


def infobip(sms: Sms) -> ProviderRequest:
    return infobip_body(_json({"results": [infobip_result(sms)], "messageCount": 1, "pendingMessageCount": 0}))


def bandwidth_event(sms: Sms) -> dict[str, Any]:
    return {
        "type": "message-received",
        "time": "2026-11-21T07:00:01.000Z",
        "description": "Incoming message received",
        "to": sms.recipient,
        "message": {
            "id": sms.message_id,
            "time": "2026-11-21T07:00:01.000Z",
            "to": [sms.recipient],
            "from": sms.sender,
            "text": sms.text,
            "applicationId": str(uuid.uuid4()),
            "media": [],
            "owner": sms.recipient,
            "direction": "in",
            "segmentCount": 1,
        },
    }


def bandwidth_body(body: bytes, credentials: str = SECRETS["REVOTP_BANDWIDTH_BASIC_AUTH"]) -> ProviderRequest:
    return ProviderRequest(
        "POST",
        "/v1/inbound/bandwidth",
        {"Content-Type": "application/json", "Authorization": _basic(credentials)},
        body,
    )


def bandwidth(sms: Sms) -> ProviderRequest:
    return bandwidth_body(_json([bandwidth_event(sms)]))


def jasmin_params(params: dict[str, str], token: str = SECRETS["REVOTP_JASMIN_SECRET"]) -> ProviderRequest:
    return ProviderRequest(
        "POST",
        f"/v1/inbound/jasmin?token={token}",
        {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/plain"},
        urlencode(params).encode(),
    )


def jasmin(sms: Sms) -> ProviderRequest:
    return jasmin_params(
        {
            "id": sms.message_id,
            "from": _no_plus(sms.sender),
            "to": _no_plus(sms.recipient),
            "origin-connector": "smppc_orange",
            "priority": "1",
            "coding": "0",
            "content": sms.text,
            "binary": sms.text.encode("latin-1").hex(),
        }
    )


def kannel_query(params: dict[str, str], token: str = SECRETS["REVOTP_KANNEL_SECRET"]) -> ProviderRequest:
    return ProviderRequest("GET", f"/v1/inbound/kannel?{urlencode({'token': token, **params})}", {})


def kannel(sms: Sms) -> ProviderRequest:
    return kannel_query(
        {
            "id": sms.message_id,
            "from": sms.sender,
            "to": sms.recipient,
            "text": sms.text,
            "ts": str(int(time.time())),
            "coding": "0",
            "charset": "UTF-8",
            "smsc": "orange",
        }
    )


def smsmode_query(params: dict[str, str], token: str = SECRETS["REVOTP_SMSMODE_SECRET"]) -> ProviderRequest:
    return ProviderRequest("GET", f"/v1/inbound/smsmode?{urlencode({'token': token, **params})}", {})


def smsmode(sms: Sms) -> ProviderRequest:
    return smsmode_query(
        {
            "smsID": sms.message_id,
            "numero": _no_plus(sms.sender),
            "message": sms.text,
            "date_reception": "2026-11-21 07:00:01",
        }
    )


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
