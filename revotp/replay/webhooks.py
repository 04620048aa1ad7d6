"""Inbound SMS as each provider posts them, signed as each provider signs them.

Used by ``revotp replay`` to load ingest in any provider's format, and by the test suite. The
secrets are read as ingest reads them (``REVOTP_<PROVIDER>_SECRET``…), so a signer built from
the same environment as ingest produces requests that ingest accepts. Two providers cannot be
imitated by anyone but themselves: AWS SNS (signed with Amazon's certificate) and Telnyx unless
the Ed25519 private key matching ``REVOTP_TELNYX_SECRET`` is given.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.signing import sign as generic_sign
from ingest.providers.android_sms_gateway import gateway_signature
from ingest.providers.messagebird import bird_signature
from ingest.providers.plivo import signature_v3
from ingest.providers.twilio import compute_signature
from ingest.providers.vonage import compute_sig


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    path: str  # with its query string, relative to ingest's base URL
    headers: dict[str, str]
    body: bytes = b""


@dataclass(frozen=True)
class Sms:
    sender: str  # E.164 with '+'
    recipient: str
    text: str
    message_id: str


class CannotSign(Exception):
    """This signer lacks what the provider's signature needs."""


def _no_plus(number: str) -> str:
    return number.lstrip("+")


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _now() -> str:
    return str(int(time.time()))


def _received(offset: str = "Z", *, milliseconds: bool = True) -> str:
    """Now, as a provider stamps its reception (ISO 8601 in UTC, the zone written its way):
    a replayed SMS is received when it is sent, so none is older than its challenge."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds" if milliseconds else "seconds")
    return stamp.replace("+00:00", offset)


class Webhooks:
    """Builds provider requests signed with the secrets ingest is configured with.

    ``env`` maps ``REVOTP_*`` names to values (an environment, or ``Settings.env``);
    ``public_url`` is ingest's ``REVOTP_PUBLIC_URL``, which URL-signing providers sign over.
    """

    def __init__(self, env: Mapping[str, str], public_url: str, *, telnyx_key: Ed25519PrivateKey | None = None) -> None:
        self._env = env
        self._public_url = public_url.rstrip("/")
        self._telnyx_key = telnyx_key

    def option(self, provider: str, option: str) -> str:
        return self._env.get(f"REVOTP_{provider.upper().replace('-', '_')}_{option}", "")

    def secret(self, provider: str, option: str = "SECRET") -> str:
        """A provider's secret, which ingest needs as well: without it nothing could be signed."""
        if value := self.option(provider, option):
            return value
        name = f"REVOTP_{provider.upper().replace('-', '_')}_{option}"
        raise CannotSign(f"{name} is not set: set it to the value ingest has, to sign as {provider}")

    def builder(self, provider: str) -> Callable[[Sms], ProviderRequest]:
        """The request builder of a provider format, by its webhook name, once it built one."""
        builders = {
            "generic": self.generic,
            "twilio": self.twilio,
            "vonage": self.vonage,
            "vonage-messages": self.vonage_messages,
            "plivo": self.plivo,
            "telnyx": self.telnyx,
            "sinch": self.sinch,
            "infobip": self.infobip,
            "messagebird": self.messagebird,
            "bandwidth": self.bandwidth,
            "android-sms-gateway": self.android_sms_gateway,
            "jasmin": self.jasmin,
            "kannel": self.kannel,
            "smsmode": self.smsmode,
        }
        if provider not in builders:
            raise CannotSign(f"no request format for {provider!r}; one of: {', '.join(sorted(builders))}")
        builders[provider](Sms("+33612345678", "+15550100000", "probe", "probe"))  # raises what is missing
        return builders[provider]

    # --- signed over the body or the parameters ----------------------------------------------
    def generic(self, sms: Sms) -> ProviderRequest:
        return self.generic_body(
            _json({"id": sms.message_id, "from": sms.sender, "to": sms.recipient, "text": sms.text})
        )

    def generic_body(self, body: bytes) -> ProviderRequest:
        stamp = _now()
        headers = {"Content-Type": "application/json", "X-Revotp-Timestamp": stamp}
        if secret := self.option("generic", "SECRET"):  # ingest may run without signatures (dev only)
            headers["X-Revotp-Signature"] = generic_sign(secret, int(stamp), body)
        return ProviderRequest("POST", "/v1/inbound/generic", headers, body)

    def twilio_params(self, params: dict[str, str], method: str = "POST") -> ProviderRequest:
        path = "/v1/inbound/twilio"
        if method == "GET":
            path += "?" + urlencode(params)
            signature = compute_signature(self.secret("twilio"), self._public_url + path, [])
            return ProviderRequest("GET", path, {"X-Twilio-Signature": signature})
        signature = compute_signature(self.secret("twilio"), self._public_url + path, params.items())
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        return ProviderRequest("POST", path, headers, urlencode(params).encode())

    def twilio(self, sms: Sms) -> ProviderRequest:
        return self.twilio_params(
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

    def vonage_params(self, params: dict[str, str], *, encoding: str = "form") -> ProviderRequest:
        signed = {**params, "timestamp": _now(), "nonce": uuid.uuid4().hex}
        method = self.option("vonage", "SIGNATURE_METHOD") or "md5"  # ingest's default
        signed["sig"] = compute_sig(signed, self.secret("vonage"), method)
        path = "/v1/inbound/vonage"
        if encoding == "get":
            return ProviderRequest("GET", f"{path}?{urlencode(signed)}", {})
        if encoding == "json":
            return ProviderRequest("POST", path, {"Content-Type": "application/json"}, _json(signed))
        form = "application/x-www-form-urlencoded; charset=UTF-8"
        return ProviderRequest("POST", path, {"Content-Type": form}, urlencode(signed).encode())

    @staticmethod
    def vonage_sms_params(sms: Sms) -> dict[str, str]:
        return {
            "msisdn": _no_plus(sms.sender),
            "to": _no_plus(sms.recipient),
            "messageId": sms.message_id,
            "text": sms.text,
            "type": "text",
            "keyword": sms.text.split()[0].upper() if sms.text else "",
            "api-key": "abcd1234",
            "message-timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        }

    def vonage(self, sms: Sms) -> ProviderRequest:
        return self.vonage_params(self.vonage_sms_params(sms))

    def vonage_messages(self, sms: Sms) -> ProviderRequest:
        """Vonage's Messages API: a JSON body under a signed JWT."""
        body = _json(
            {
                "channel": "sms",
                "message_uuid": sms.message_id,
                "to": _no_plus(sms.recipient),
                "from": _no_plus(sms.sender),
                "timestamp": _received(milliseconds=False),
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
        token = jwt.encode(claims, self.secret("vonage"), algorithm="HS256")
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        return ProviderRequest("POST", "/v1/inbound/vonage", headers, body)

    def plivo_params(self, params: dict[str, str]) -> ProviderRequest:
        path = "/v1/inbound/plivo"
        nonce = str(uuid.uuid4().int)[:20]
        signature = signature_v3(self.secret("plivo"), "POST", self._public_url + path, params.items(), nonce)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Plivo-Signature-V3": signature,
            "X-Plivo-Signature-V3-Nonce": nonce,
        }
        return ProviderRequest("POST", path, headers, urlencode(params).encode())

    def plivo(self, sms: Sms) -> ProviderRequest:
        return self.plivo_params(
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

    def telnyx_body(self, body: bytes) -> ProviderRequest:
        if self._telnyx_key is None:
            raise CannotSign("Telnyx signs with an Ed25519 private key: give the one matching REVOTP_TELNYX_SECRET")
        stamp = _now()
        signature = base64.b64encode(self._telnyx_key.sign(stamp.encode() + b"|" + body)).decode()
        headers = {"Content-Type": "application/json", "telnyx-signature-ed25519": signature, "telnyx-timestamp": stamp}
        return ProviderRequest("POST", "/v1/inbound/telnyx", headers, body)

    def telnyx(self, sms: Sms) -> ProviderRequest:
        return self.telnyx_body(
            _json(
                {
                    "data": {
                        "event_type": "message.received",
                        "id": str(uuid.uuid4()),
                        "occurred_at": _received("+00:00"),
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
                            "received_at": _received("+00:00"),
                            "media": [],
                            "record_type": "message",
                        },
                        "record_type": "event",
                    },
                    "meta": {"attempt": 1, "delivered_to": self._public_url + "/v1/inbound/telnyx"},
                }
            )
        )

    def messagebird_body(self, body: bytes) -> ProviderRequest:
        path = "/v1/inbound/messagebird"
        stamp = _now()
        signature = bird_signature(self.secret("messagebird"), stamp, self._public_url + path, body)
        headers = {
            "Content-Type": "application/json",
            "messagebird-signature": signature,
            "messagebird-request-timestamp": stamp,
        }
        return ProviderRequest("POST", path, headers, body)

    def messagebird(self, sms: Sms) -> ProviderRequest:
        sender = {"contact": {"id": str(uuid.uuid4()), "identifierKey": "phonenumber", "identifierValue": sms.sender}}
        return self.messagebird_body(
            _json(
                {
                    "service": "channels",
                    "event": "sms.inbound",
                    "payload": {
                        "id": sms.message_id,
                        "channelId": "614208aa-b153-4d5d-9989-2fddfc0ce4c3",
                        "sender": sender,
                        "receiver": {"connector": {"id": "86cc4dc0-3dc0-41b7-ac43-8ec829ead56f"}},
                        "body": {"type": "text", "text": {"text": sms.text}},
                        "status": "delivered",
                        "direction": "incoming",
                        "createdAt": _received(),
                    },
                }
            )
        )

    def android_body(self, body: bytes) -> ProviderRequest:
        stamp = _now()
        headers = {
            "Content-Type": "application/json",
            "X-Timestamp": stamp,
            "X-Signature": gateway_signature(self.secret("android-sms-gateway"), body, stamp),
        }
        return ProviderRequest("POST", "/v1/inbound/android-sms-gateway", headers, body)

    def android_sms_gateway(self, sms: Sms) -> ProviderRequest:
        return self.android_body(
            _json(
                {
                    "id": "Ey6ECgOkVVFjz3CL48B8C",
                    "webhookId": "LreFUt-Z3sSq0JufY9uWB",
                    "event": "sms:received",
                    "deviceId": "ffffffffceb0b1db0000018e937c815b",
                    "payload": {
                        "message": sms.text,
                        "receivedAt": _received("+00:00"),
                        "messageId": sms.message_id,
                        "sender": sms.sender,
                        "recipient": sms.recipient,
                        "simNumber": 1,
                        "phoneNumber": sms.sender,
                    },
                }
            )
        )

    # --- authenticated by basic auth or a token ------------------------------------------------
    def sinch(self, sms: Sms, credentials: str | None = None) -> ProviderRequest:
        body = _json(
            {
                "id": sms.message_id,
                "from": _no_plus(sms.sender),
                "to": _no_plus(sms.recipient),
                "body": sms.text,
                "type": "mo_text",
                "operator_id": "20801",
                "received_at": _received(),
            }
        )
        authorization = _basic(credentials or self.secret("sinch", "BASIC_AUTH"))
        headers = {"Content-Type": "application/json", "Authorization": authorization}
        return ProviderRequest("POST", "/v1/inbound/sinch", headers, body)

    def infobip_body(self, body: bytes, token: str | None = None) -> ProviderRequest:
        query = urlencode({"token": token or self.secret("infobip")})
        return ProviderRequest("POST", f"/v1/inbound/infobip?{query}", {"Content-Type": "application/json"}, body)

    @staticmethod
    def infobip_result(sms: Sms) -> dict[str, Any]:
        return {
            "messageId": sms.message_id,
            "from": _no_plus(sms.sender),
            "to": _no_plus(sms.recipient),
            "text": sms.text,
            "cleanText": sms.text,
            "keyword": "",
            "receivedAt": _received("+0000"),
            "smsCount": 1,
            "price": {"pricePerMessage": 0, "currency": "EUR"},
            "callbackData": "callbackData",
        }

    def infobip(self, sms: Sms) -> ProviderRequest:
        results = {"results": [self.infobip_result(sms)], "messageCount": 1, "pendingMessageCount": 0}
        return self.infobip_body(_json(results))

    @staticmethod
    def bandwidth_event(sms: Sms) -> dict[str, Any]:
        return {
            "type": "message-received",
            "time": _received(),
            "description": "Incoming message received",
            "to": sms.recipient,
            "message": {
                "id": sms.message_id,
                "time": _received(),
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

    def bandwidth_body(self, body: bytes, credentials: str | None = None) -> ProviderRequest:
        authorization = _basic(credentials or self.secret("bandwidth", "BASIC_AUTH"))
        headers = {"Content-Type": "application/json", "Authorization": authorization}
        return ProviderRequest("POST", "/v1/inbound/bandwidth", headers, body)

    def bandwidth(self, sms: Sms) -> ProviderRequest:
        return self.bandwidth_body(_json([self.bandwidth_event(sms)]))

    def jasmin_params(self, params: dict[str, str], token: str | None = None) -> ProviderRequest:
        query = urlencode({"token": token or self.secret("jasmin")})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/plain"}
        return ProviderRequest("POST", f"/v1/inbound/jasmin?{query}", headers, urlencode(params).encode())

    def jasmin(self, sms: Sms) -> ProviderRequest:
        try:  # SMPP data coding: Latin-1 when the text fits, else UCS-2 (UTF-16BE), as an SMSC sends it
            coding, raw = "0", sms.text.encode("latin-1")
        except UnicodeEncodeError:
            coding, raw = "8", sms.text.encode("utf-16-be")
        return self.jasmin_params(
            {
                "id": sms.message_id,
                "from": _no_plus(sms.sender),
                "to": _no_plus(sms.recipient),
                "origin-connector": "smppc_orange",
                "priority": "1",
                "coding": coding,
                "content": sms.text,
                "binary": raw.hex(),
            }
        )

    def _token_query(self, provider: str, params: dict[str, str], token: str | None) -> ProviderRequest:
        """A GET whose query holds the SMS and the provider's shared token (Kannel, smsmode)."""
        query = urlencode({"token": token or self.secret(provider), **params})
        return ProviderRequest("GET", f"/v1/inbound/{provider}?{query}", {})

    def kannel_query(self, params: dict[str, str], token: str | None = None) -> ProviderRequest:
        return self._token_query("kannel", params, token)

    def kannel(self, sms: Sms) -> ProviderRequest:
        return self.kannel_query(
            {
                "id": sms.message_id,
                "from": sms.sender,
                "to": sms.recipient,
                "text": sms.text,
                "ts": _now(),
                "coding": "0",
                "charset": "UTF-8",
                "smsc": "orange",
            }
        )

    def smsmode_query(self, params: dict[str, str], token: str | None = None) -> ProviderRequest:
        return self._token_query("smsmode", params, token)

    def smsmode(self, sms: Sms) -> ProviderRequest:
        return self.smsmode_query(
            {
                "smsID": sms.message_id,
                "numero": _no_plus(sms.sender),
                "message": sms.text,
                "date_reception": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
