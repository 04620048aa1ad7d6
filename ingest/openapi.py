"""The OpenAPI 3.1 document of ingest, served at ``GET /openapi.json``.

Body schemas come from the same msgspec structs that decode and encode the bodies, so the
document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

import msgspec

from common.frames import EventFrame
from ingest.devices import DeviceView, EnrollDevice
from ingest.providers import PROVIDER_CLASSES
from ingest.providers.generic import GenericMessage
from ingest.receipts import RevokedReceipt, RevokedReceipts
from ingest.schemas import ChallengeView, CreateChallenge, SimulatedSms
from ingest.stats import Stats
from ingest.tenant import CallbackView, NewCallbackSecret, TenantPatch, TenantView


class ErrorDetail(msgspec.Struct):
    code: str
    message: str


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"description": "error", **_json(_ref("ErrorBody"))} for status in statuses}


_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_PROVIDER = {
    "name": "provider",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "enum": [cls.name for cls in PROVIDER_CLASSES]},
}
_WEBHOOK_RESPONSES = {
    "200": {"description": "accepted (most providers)"},
    "202": {"description": "accepted (generic)"},
    **_errors(400, 401, 404, 405, 413, 415, 422, 429, 503),
}
_CHALLENGE_ID = {"name": "challenge_id", "in": "path", "required": True, "schema": {"type": "string"}}
_DEVICE_ID = {"name": "device_id", "in": "path", "required": True, "schema": {"type": "string"}}


# Stable names for client generators, one per operation (method, path).
OPERATION_IDS = {
    ("post", "/v1/challenges"): "createChallenge",
    ("get", "/v1/challenges/{challenge_id}"): "getChallenge",
    ("delete", "/v1/challenges/{challenge_id}"): "cancelChallenge",
    ("post", "/v1/challenges/{challenge_id}/simulate-sms"): "simulateSms",
    ("get", "/v1/tenant/callback"): "getCallback",
    ("post", "/v1/tenant/callback-secret"): "rotateCallbackSecret",
    ("get", "/v1/stats"): "getStats",
    ("get", "/v1/tenant"): "getTenant",
    ("patch", "/v1/tenant"): "updateTenant",
    ("post", "/v1/inbound/{provider}"): "receiveSmsWebhook",
    ("get", "/v1/inbound/{provider}"): "receiveSmsWebhookByGet",
    ("post", "/v1/challenges/{challenge_id}/revoke-receipt"): "revokeReceipt",
    ("get", "/v1/receipts/revoked"): "listRevokedReceipts",
    ("get", "/.well-known/jwks.json"): "getJwks",
    ("post", "/v1/devices"): "enrollDevice",
    ("get", "/v1/devices/{device_id}"): "getDevice",
    ("delete", "/v1/devices/{device_id}"): "removeDevice",
    ("get", "/openapi.json"): "getOpenApi",
    ("get", "/healthz"): "getHealth",
    ("get", "/readyz"): "getReadiness",
    ("get", "/metrics"): "getMetrics",
}

# The notifier's websockets, which OpenAPI cannot describe as operations (docs/api.md, Event streams).
# Their frames are the EventFrame schema of components, as common/frames.py writes them.
WEBSOCKETS = {
    "/v1/events": {
        "summary": "The tenant's event stream: every state change of its challenges, in order",
        "server": "notifier (REVOTP_NOTIFIER_PORT)",
        "authentication": "Authorization: Bearer <api_key>",
        "query": {
            "after": "resume after this cursor: the events after it are replayed, then live ones follow; "
            "0-0 replays the whole retained log; a cursor later than the newest event is refused with 400 "
            "before the upgrade"
        },
        "frames": {
            "oneOf": [
                _ref("EventFrame"),
                {
                    "type": "object",
                    "description": "after the replay: the newest cursor, and whether retention removed events",
                    "properties": {
                        "type": {"const": "ready"},
                        "cursor": {"type": ["string", "null"]},
                        "gap": {"type": "boolean"},
                    },
                },
            ]
        },
        "frame_types": [
            "challenge.verified",
            "challenge.attempt_failed",
            "challenge.failed",
            "challenge.expired",
            "challenge.canceled",
            "challenge.sender_mismatch",
            "ready",
        ],
        "close_codes": {"1001": "the server stops", "1013": "the client fell too far behind: resume from its cursor"},
    },
    "/v1/challenges/{challenge_id}/events": {
        "summary": "One challenge's events, for the end user's browser (the verify page, revotp.js): "
        "its state now (challenge.status), then each change, closed once it ended",
        "server": "notifier (REVOTP_NOTIFIER_PORT)",
        "authentication": "query token=<watch_token> from the create response",
        "frames": _ref("EventFrame"),
        "close_codes": {"1000": "the challenge ended", "1001": "the server stops"},
    },
}


def build_openapi(version: str) -> dict[str, Any]:
    document = _document(version)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            operation["operationId"] = OPERATION_IDS[(method, path)]
    document["x-websockets"] = WEBSOCKETS
    return document


def _document(version: str) -> dict[str, Any]:
    (_, components) = msgspec.json.schema_components(
        [
            CreateChallenge,
            ChallengeView,
            ErrorBody,
            GenericMessage,
            TenantView,
            TenantPatch,
            SimulatedSms,
            CallbackView,
            NewCallbackSecret,
            Stats,
            EventFrame,
            RevokedReceipt,
            RevokedReceipts,
            EnrollDevice,
            DeviceView,
        ],
        ref_template="#/components/schemas/{name}",
    )
    generic_body = {
        "oneOf": [_ref("GenericMessage"), {"type": "array", "items": _ref("GenericMessage"), "maxItems": 500}]
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "revotp ingest",
            "version": version,
            "description": "Reverse-OTP challenges and inbound-SMS webhooks. Verdicts are pushed by "
            "the notifier over websockets: GET /v1/events and GET /v1/challenges/{id}/events. "
            "GET /v1/events?after=<cursor> replays every event after that cursor, then goes on live; "
            "after=0-0 replays the whole retained log (a client with no cursor yet). A cursor later "
            "than the newest event is refused with 400 (cursor_in_the_future) before the upgrade. "
            "The replay ends with {type: ready, cursor, gap}: gap is true when retention removed "
            "events after the given cursor, and the client should re-read its pending challenges.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/v1/challenges": {
                "post": {
                    "summary": "Create a challenge",
                    "security": _BEARER,
                    "parameters": [
                        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 255}}
                    ],
                    "requestBody": {"required": True, **_json(_ref("CreateChallenge"))},
                    "responses": {
                        "201": {
                            "description": "created; the only response that holds the code",
                            **_json(_ref("ChallengeView")),
                        },
                        **_errors(400, 401, 409, 413, 415, 422, 503),
                    },
                }
            },
            "/v1/challenges/{challenge_id}": {
                "get": {
                    "summary": "Read a challenge",
                    "security": _BEARER,
                    "parameters": [_CHALLENGE_ID],
                    "responses": {
                        "200": {"description": "the challenge", **_json(_ref("ChallengeView"))},
                        **_errors(401, 404, 503),
                    },
                },
                "delete": {
                    "summary": "Cancel a pending challenge",
                    "description": "Also 200 for a challenge canceled already (a retried cancel); "
                    "409 when it ended otherwise (verified, failed, expired).",
                    "security": _BEARER,
                    "parameters": [_CHALLENGE_ID],
                    "responses": {
                        "200": {"description": "canceled", **_json(_ref("ChallengeView"))},
                        **_errors(401, 404, 409, 503),
                    },
                },
            },
            "/v1/challenges/{challenge_id}/simulate-sms": {
                "post": {
                    "summary": "Test mode: simulate the SMS of a test challenge's phone",
                    "description": "Only for a challenge created for one of the tenant's test numbers "
                    "(409 not_a_test_challenge otherwise); judged as any SMS, and its events say test: true. "
                    "A real SMS never verifies a test challenge.",
                    "security": _BEARER,
                    "parameters": [_CHALLENGE_ID],
                    "requestBody": {"required": True, **_json(_ref("SimulatedSms"))},
                    "responses": {
                        "202": {"description": "queued for judging"},
                        **_errors(400, 401, 404, 409, 413, 415, 503),
                    },
                }
            },
            "/v1/tenant/callback": {
                "get": {
                    "summary": "The callback URL, the last delivery error and the posts given up",
                    "description": "Never the signing secret: it is shown once, when made or rotated.",
                    "security": _BEARER,
                    "responses": {
                        "200": {"description": "the callback setting", **_json(_ref("CallbackView"))},
                        **_errors(401, 404, 503),
                    },
                },
            },
            "/v1/tenant/callback-secret": {
                "post": {
                    "summary": "Rotate the callback signing secret; the new one is in this answer only",
                    "description": "Posts are signed with it from now on; a post already under way may still "
                    "carry the old signature, so a receiver accepts both for a minute.",
                    "security": _BEARER,
                    "responses": {
                        "200": {"description": "the new secret", **_json(_ref("NewCallbackSecret"))},
                        **_errors(401, 404, 503),
                    },
                },
            },
            "/v1/stats": {
                "get": {
                    "summary": "The tenant's funnel per UTC day: page viewed, QR shown, SMS link tapped, "
                    "SMS received, verified",
                    "security": _BEARER,
                    "parameters": [
                        {"name": "days", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 35}}
                    ],
                    "responses": {
                        "200": {"description": "the funnel, oldest day first", **_json(_ref("Stats"))},
                        **_errors(400, 401, 422, 503),
                    },
                }
            },
            "/v1/tenant": {
                "get": {
                    "summary": "The calling tenant's settings",
                    "description": "virtual_numbers: the tenant's own numbers (assigned by the operator with "
                    "`revotp tenant set-numbers`), else the shared pool.",
                    "security": _BEARER,
                    "responses": {
                        "200": {"description": "the tenant", **_json(_ref("TenantView"))},
                        **_errors(401, 503),
                    },
                },
                "patch": {
                    "summary": "Change the calling tenant's settings: only the fields named",
                    "description": "callback_url: the default target of signed callbacks (null: none; the signing "
                    "secret comes with the tenant, from `revotp tenant create`, and a tenant older than that "
                    "gets callback_secret in this answer, once); "
                    "http(s) only, loopback, private and link-local targets refused (invalid_callback_url). "
                    "test_numbers: at most 20 phones whose challenges only simulate-sms verifies. "
                    "allowed_sender_countries: ISO regions whose phones may answer the tenant's challenges "
                    "(invalid_sender_countries otherwise); an SMS from another country verifies nothing and "
                    "costs nothing; [] allows all.",
                    "security": _BEARER,
                    "requestBody": {"required": True, **_json(_ref("TenantPatch"))},
                    "responses": {
                        "200": {"description": "the tenant", **_json(_ref("TenantView"))},
                        **_errors(400, 401, 413, 415, 422, 503),
                    },
                },
            },
            "/v1/inbound/{provider}": {
                "post": {
                    "summary": "Inbound SMS webhook of an SMS provider",
                    "description": "Answered 2xx only once the broker confirmed every SMS, in the form the "
                    "provider expects. Each provider is authenticated as it signs (see the README). SMS "
                    "from alphanumeric senders and from a sender over its allowance are answered 2xx "
                    "and dropped (counted); a virtual number over capacity answers 429 for the whole "
                    "request and queues none of it.",
                    "parameters": [_PROVIDER],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": generic_body},
                            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                            "text/plain": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": _WEBHOOK_RESPONSES,
                },
                "get": {
                    "summary": "Inbound SMS webhook of a provider that calls with GET (Vonage, Jasmin, Kannel, …)",
                    "parameters": [_PROVIDER],
                    "responses": _WEBHOOK_RESPONSES,
                },
            },
            "/v1/challenges/{challenge_id}/revoke-receipt": {
                "post": {
                    "summary": "Revoke the signed receipt of a verified challenge",
                    "description": "Its jti is listed by GET /v1/receipts/revoked from now on; revoking it again "
                    "answers the same. 409 challenge_not_verified for a challenge that was not verified.",
                    "security": _BEARER,
                    "parameters": [_CHALLENGE_ID],
                    "responses": {
                        "200": {"description": "revoked", **_json(_ref("RevokedReceipt"))},
                        **_errors(401, 404, 409, 503),
                    },
                }
            },
            "/v1/receipts/revoked": {
                "get": {
                    "summary": "The jti of every receipt the tenant revoked, oldest revocation first",
                    "security": _BEARER,
                    "responses": {
                        "200": {"description": "the revoked receipts", **_json(_ref("RevokedReceipts"))},
                        **_errors(401, 503),
                    },
                }
            },
            "/v1/devices": {
                "post": {
                    "summary": "Enrol the tenant's app on a user's phone for device-bound codes",
                    "description": "otpauth_uri holds the TOTP secret (RFC 6238: 6 digits, 30 s, SHA-1) and is in "
                    "this answer only; revotp keeps the secret sealed. A challenge created with this device_id "
                    "verifies when the app's current code comes by SMS from this phone.",
                    "security": _BEARER,
                    "requestBody": {"required": True, **_json(_ref("EnrollDevice"))},
                    "responses": {
                        "201": {"description": "enrolled", **_json(_ref("DeviceView"))},
                        **_errors(400, 401, 413, 415, 422, 503),
                    },
                }
            },
            "/v1/devices/{device_id}": {
                "get": {
                    "summary": "An enrolled device (never its secret)",
                    "security": _BEARER,
                    "parameters": [_DEVICE_ID],
                    "responses": {
                        "200": {"description": "the device", **_json(_ref("DeviceView"))},
                        **_errors(401, 404, 503),
                    },
                },
                "delete": {
                    "summary": "Remove a device: its codes verify nothing more, its pending challenges are canceled",
                    "security": _BEARER,
                    "parameters": [_DEVICE_ID],
                    "responses": {
                        "200": {"description": "removed", **_json(_ref("DeviceView"))},
                        **_errors(401, 404, 503),
                    },
                },
            },
            "/.well-known/jwks.json": {
                "get": {
                    "summary": "The public keys that check receipts (every key that signed one, by kid)",
                    "responses": {"200": {"description": "a JSON Web Key Set"}},
                }
            },
            "/openapi.json": {
                "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
            },
            "/healthz": {"get": {"summary": "Alive", "responses": {"200": {"description": "alive"}}}},
            "/readyz": {
                "get": {
                    "summary": "RabbitMQ and Redis reachable",
                    "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
                }
            },
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "metrics"}}}},
        },
    }
