"""The HTTP server every revotp process runs: aiohttp, with refusals in revotp's own voice.

aiohttp answers a request its parser refuses (a request line or a header over its limit, a
malformed line) before any middleware runs: a ``text/plain`` body that echoes the refused
line, and a log line carrying its first bytes, where a ``?token=`` secret would show. The
request handler below answers those with the JSON error envelope instead, and logs only the
status and the kind of error, never the request.

aiohttp builds one request handler per connection from its ``Server`` and offers no setting
for the handler's class, so the runner retypes both (the subclasses add no state).

Slow clients (slowloris) are bounded by the reverse proxy in front (request and header
timeouts); aiohttp's own limits are set here: line and header sizes, header count, keep-alive.
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from common.web import error_response

log = structlog.get_logger(__name__)

# aiohttp's defaults, written down: the longest request line and header, and how many headers.
MAX_LINE_BYTES = 8190
MAX_FIELD_BYTES = 8190
MAX_HEADERS = 64
KEEPALIVE_TIMEOUT_S = 75.0


class _JsonErrorRequestHandler(RequestHandler):
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """The JSON envelope, with no word of the request in the answer or the log."""
        log.info("http_request_refused", status=status, error=type(exc).__name__ if exc else None)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; cannot send the error")
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        code = "internal_error" if status >= 500 else "bad_request"
        response = error_response(status, code, f"the server refused the request: {reason.lower()}")
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        handler.__class__ = _JsonErrorRequestHandler
        return handler


class JsonErrorAppRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _JsonErrorServer
        return server


def app_runner(app: web.Application, *, shutdown_timeout_s: float) -> web.AppRunner:
    return JsonErrorAppRunner(
        app,
        shutdown_timeout=shutdown_timeout_s,
        access_log=None,
        max_line_size=MAX_LINE_BYTES,
        max_field_size=MAX_FIELD_BYTES,
        max_headers=MAX_HEADERS,
        keepalive_timeout=KEEPALIVE_TIMEOUT_S,
    )
