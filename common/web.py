"""HTTP conventions shared by every revotp server: the JSON error envelope and middlewares."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from typing import TypeVar

import msgspec
import structlog
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.errors import Conflict, InvalidInput, MalformedInput, Refusal
from common.json_input import JSON_INPUT_ERRORS
from common.metrics import observe_request

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 64 * 1024

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "service_unavailable",
}


class ApiError(Exception):
    """An answer other than success, raised by domain code and rendered by the middleware."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message, headers=self.headers)


def error_response(status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> web.Response:
    body = msgspec.json.encode({"error": {"code": code, "message": message}})
    return web.Response(status=status, body=body, content_type="application/json", headers=headers)


def json_response(payload: object, *, status: int = 200) -> web.Response:
    return web.Response(status=status, body=msgspec.json.encode(payload), content_type="application/json")


def service_unavailable(message: str, *, retry_after_s: int = 2) -> ApiError:
    return ApiError(503, "service_unavailable", message, headers={"Retry-After": str(retry_after_s)})


Body = TypeVar("Body")


def decode_body(body: bytes, decoder: msgspec.json.Decoder[Body]) -> Body:
    """A request body read by its schema: 400 ``invalid_body`` when its shape is wrong, 400
    ``malformed_json`` when it is no JSON at all."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ApiError(400, "invalid_body", str(exc)) from None
    except JSON_INPUT_ERRORS as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None


def require_content_type(request: web.Request, *expected: str) -> None:
    if request.content_type not in expected:
        raise ApiError(415, "unsupported_media_type", f"Content-Type must be {' or '.join(expected)}")


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What every request gets, in one layer: its id bound to every log line and echoed back,
    a declared body over the limit refused before a byte of it is read, every error as the
    JSON envelope, so nothing escapes as a bare 500, and its route, status and time counted.

    One layer, not three: each layer's frame lives as long as its request, and a websocket's
    request lives as long as the socket.
    """
    started = time.perf_counter()
    request_id = request.headers.get("X-Request-Id", "")[:64] or secrets.token_hex(16)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
        response = await handler(request)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - rendered, or raised again, by _error_response
        response = _error_response(request, exc)
    if not response.prepared:
        response.headers["X-Request-Id"] = request_id
    if not isinstance(response, web.WebSocketResponse):  # a socket's "duration" is its lifetime
        observe_request(request, response.status, time.perf_counter() - started)
    return response


def _error_response(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The JSON envelope for an error; a redirect (an HTTPException under 400) is raised again."""
    match exc:
        case ApiError():
            return exc.response()
        case Refusal():
            return error_response(status_of(exc), exc.code, exc.message)
        case web.HTTPException() if exc.status >= 400:
            code = _CODES_BY_STATUS.get(exc.status, "http_error")
            headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
            return error_response(exc.status, code, exc.reason, headers=headers)
        case web.HTTPException():
            raise exc
        case RedisConnectionError() | RedisTimeoutError() | ConnectionError():
            log.warning("backing_service_unavailable", path=request.path, error=type(exc).__name__)
            return error_response(
                503, "service_unavailable", "a backing service is unavailable; retry", headers={"Retry-After": "2"}
            )
    log.error("request_failed", path=request.path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred")


# The HTTP status of each kind of refusal the core raises.
_STATUS_OF_REFUSAL: dict[type[Refusal], int] = {MalformedInput: 400, Conflict: 409, InvalidInput: 422}


def status_of(refusal: Refusal) -> int:
    for kind in type(refusal).__mro__:
        if kind in _STATUS_OF_REFUSAL:
            return _STATUS_OF_REFUSAL[kind]
    return 400


def middlewares() -> list[Middleware]:
    return [edge]
