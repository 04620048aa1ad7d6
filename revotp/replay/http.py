"""A lean HTTP/1.1 client for load: kept-alive connections, requests written as bytes, answers
read by httptools (llhttp, the parser uvicorn uses).

A load tool must cost less than what it loads. aiohttp's client spent 0.21 to 0.36 ms of CPU per
webhook here, two to three times what a do-nothing aiohttp server spent answering it, so a
replay or benchmark on it measured its own client. This one spends 0.08 to 0.11 ms for the same
signed webhooks (benchmarks/RESULTS.md). It does only what a replay needs: one origin, one
request at a time per connection, bodies of known length, http or https, no HEAD.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

_WRITTEN_HERE = frozenset({"host", "content-length"})  # from the URL and the body, never twice


class HttpError(Exception):
    """No complete answer: the connection failed, closed, timed out, or spoke no HTTP."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # a short name for reports: "refused", "closed", "timeout", ...


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes


class _Connection(asyncio.Protocol):
    """One kept-alive connection: a request is written, and its answer parsed as it arrives."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[Response] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's are not asyncio.Transport subclasses

    def exchange(self, request: bytes) -> asyncio.Future[Response]:
        assert self._transport is not None
        assert self._answer is None
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return self._answer

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"bad answer: {exc}"))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        response = Response(self._parser.get_status_code(), self._headers, b"".join(self._body))
        self._headers, self._body = {}, []
        if not self._parser.should_keep_alive():
            self.close()
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_result(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        self._fail(HttpError("closed"))

    def _fail(self, error: HttpError) -> None:
        self.close()
        answer, self._answer = self._answer, None
        if answer is not None and not answer.done():
            answer.set_exception(error)

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()


class Connections:
    """Up to ``limit`` kept-alive connections to the origin of ``base_url``: a request takes an
    idle one, or opens one, and gives it back once its answer is read."""

    def __init__(self, base_url: str, *, limit: int, timeout_s: float, tls: ssl.SSLContext | None = None) -> None:
        """``tls``: how an https origin is checked (default: the system's trusted authorities)."""
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._host = url.hostname
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl = (tls or ssl.create_default_context()) if url.scheme == "https" else None
        self._prefix = url.path.rstrip("/")
        self._host_header = f"Host: {url.netloc}\r\n"
        self._timeout_s = timeout_s
        self._gate = asyncio.Semaphore(limit)
        self._idle: list[_Connection] = []

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Response:
        """One request to ``path`` (under the base URL's path) and its whole answer."""
        request = self._encode(method, path, body, headers or {})
        async with self._gate:
            connection = await self._connection()
            try:
                async with asyncio.timeout(self._timeout_s):
                    response = await connection.exchange(request)
            except TimeoutError:
                connection.close()  # its late answer would be read as the next request's
                raise HttpError("timeout") from None
            except BaseException:
                connection.close()
                raise
            if connection.reusable:
                self._idle.append(connection)
            return response

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        await asyncio.sleep(0)  # let the transports close before the loop may end

    async def _connection(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable:
                return connection
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout_s):
                _, connection = await loop.create_connection(
                    _Connection,
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl else None,
                )
        except TimeoutError:
            raise HttpError("connect timeout") from None
        except OSError as exc:
            raise HttpError(f"cannot connect: {exc.strerror or exc}") from None
        return connection

    def _encode(self, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> bytes:
        lines = [f"{method} {self._prefix}{path} HTTP/1.1\r\n", self._host_header, f"Content-Length: {len(body)}\r\n"]
        for name, value in headers.items():
            if name.lower() in _WRITTEN_HERE:
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}\r\n")
        lines.append("\r\n")
        return "".join(lines).encode("latin-1") + body
