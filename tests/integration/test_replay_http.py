"""The replay tool's HTTP client against real servers on loopback: an aiohttp app, and raw
sockets that misbehave as real peers do (close, stall, answer garbage)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from revotp.replay.ceiling import free_port
from revotp.replay.http import Connections, HttpError


@contextlib.asynccontextmanager
async def served(app: web.Application, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def certificate_for_loopback(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1, and a client context that
    trusts exactly that certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, ssl.create_default_context(cafile=str(cert_path))


@contextlib.asynccontextmanager
async def raw_server(
    serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A server of bare sockets; every connection's handler has ended and closed its end when
    this exits (the client has closed its own by then)."""
    handlers: list[asyncio.Task[None]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await serve(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await asyncio.wait_for(asyncio.gather(*handlers), 5)


async def error_from(serve: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]) -> HttpError:
    """The error one GET to a server of bare sockets that ``serve``s it ends in."""
    async with raw_server(serve) as url:
        connections = Connections(url, limit=1, timeout_s=5)
        try:
            with pytest.raises(HttpError) as raised:
                await connections.request("GET", "/")
        finally:
            await connections.close()
    return raised.value


def echo_app(peers: list[tuple[str, int]]) -> web.Application:
    """Echoes the request; notes each request's client address (one per connection)."""

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        body = await request.read()
        status = int(request.query.get("status", "200"))
        headers = {"X-Seen-Path": request.path_qs, "X-Seen-Header": request.headers.get("X-Mine", "")}
        if request.query.get("close"):
            headers["Connection"] = "close"
        return web.Response(status=status, body=body, headers=headers)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"one ", b"two ", b"three"):
            await response.write(part)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_route("*", "/base/echo", echo)
    app.router.add_get("/base/chunked", chunked)
    return app


async def test_requests_share_kept_alive_connections_and_get_status_headers_and_body():
    peers: list[tuple[str, int]] = []
    async with served(echo_app(peers)) as url:
        connections = Connections(url + "/base/", limit=2, timeout_s=5)
        try:
            answers = [
                await connections.request("POST", f"/echo?n={n}", b'{"n": %d}' % n, {"X-Mine": "yes"}) for n in range(5)
            ]
            refused = await connections.request("POST", "/echo?status=422", b'{"error": {}}')
            chunked = await connections.request("GET", "/chunked")
        finally:
            await connections.close()
    assert [answer.status for answer in answers] == [200] * 5
    assert [answer.body for answer in answers] == [b'{"n": %d}' % n for n in range(5)]
    assert answers[3].headers["x-seen-path"] == "/base/echo?n=3"  # under the base URL's path
    assert answers[3].headers["x-seen-header"] == "yes"
    assert (refused.status, refused.body) == (422, b'{"error": {}}')
    assert chunked.body == b"one two three"
    assert len(set(peers)) == 1, "one request at a time: every one went over the same connection"


async def test_concurrent_requests_open_at_most_the_limit_of_connections():
    peers: list[tuple[str, int]] = []
    async with served(echo_app(peers)) as url:
        connections = Connections(url + "/base", limit=3, timeout_s=5)
        try:
            answers = await asyncio.gather(*(connections.request("POST", "/echo", b"x") for _ in range(30)))
        finally:
            await connections.close()
    assert [answer.status for answer in answers] == [200] * 30
    assert 1 <= len(set(peers)) <= 3


async def test_a_connection_the_server_closes_is_not_reused():
    peers: list[tuple[str, int]] = []
    async with served(echo_app(peers)) as url:
        connections = Connections(url + "/base", limit=1, timeout_s=5)
        try:
            first = await connections.request("POST", "/echo?close=1", b"a")
            second = await connections.request("POST", "/echo", b"b")
        finally:
            await connections.close()
    assert (first.status, second.status) == (200, 200)
    assert len(set(peers)) == 2


async def test_an_idle_connection_closed_by_the_server_meanwhile_is_replaced():
    async def one_answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")  # keep-alive, then gone
        await writer.drain()
        writer.close()

    async with raw_server(one_answer_then_close) as url:
        connections = Connections(url, limit=1, timeout_s=5)
        try:
            first = await connections.request("GET", "/")
            await asyncio.sleep(0.1)  # the server's close arrives while the connection is idle
            second = await connections.request("GET", "/")
        finally:
            await connections.close()
    assert (first.status, second.status) == (204, 204)


async def test_a_server_that_never_answers_is_a_timeout_and_its_connection_is_dropped():
    connected = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connected
        connected += 1
        await reader.read()  # until the client gives up

    async with raw_server(silent) as url:
        connections = Connections(url, limit=1, timeout_s=0.2)
        try:
            for _ in range(2):
                with pytest.raises(HttpError) as raised:
                    await connections.request("POST", "/", b"x")
                assert raised.value.reason == "timeout"
        finally:
            await connections.close()
    assert connected == 2, "a timed-out connection could read the late answer as the next one's"


async def test_an_answer_that_is_not_http_is_an_error_not_a_hang():
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        await reader.read()

    assert (await error_from(garbage)).reason.startswith("bad answer")


async def test_a_server_that_closes_mid_answer_is_an_error():
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        await writer.drain()
        writer.close()

    assert (await error_from(cut)).reason == "closed"


async def test_nothing_listening_is_a_connection_error():
    connections = Connections(f"http://127.0.0.1:{free_port()}", limit=1, timeout_s=5)
    with pytest.raises(HttpError) as raised:
        await connections.request("GET", "/")
    assert raised.value.reason.startswith("cannot connect")


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent():
    peers: list[tuple[str, int]] = []
    async with served(echo_app(peers)) as url:
        connections = Connections(url + "/base", limit=1, timeout_s=5)
        try:
            with pytest.raises(ValueError, match="line break"):
                await connections.request("POST", "/echo", b"x", {"X-Mine": "a\r\nX-Injected: 1"})
        finally:
            await connections.close()
    assert peers == []


async def test_https_is_spoken_and_the_server_certificate_is_checked(tmp_path: Path):
    server_tls, trusting = certificate_for_loopback(tmp_path)
    peers: list[tuple[str, int]] = []
    async with served(echo_app(peers), server_tls) as url:
        trusted = Connections(url + "/base", limit=1, timeout_s=5, tls=trusting)
        untrusted = Connections(url + "/base", limit=1, timeout_s=5)  # the system's authorities only
        try:
            answers = [await trusted.request("POST", "/echo", b"over tls %d" % n) for n in range(3)]
            with pytest.raises(HttpError, match="cannot connect"):
                await untrusted.request("POST", "/echo", b"never sent")
        finally:
            await trusted.close()
            await untrusted.close()
    assert [answer.body for answer in answers] == [b"over tls 0", b"over tls 1", b"over tls 2"]
    assert len(peers) == 3
    assert len(set(peers)) == 1, "kept alive over tls too"


def test_only_http_urls_are_taken():
    for bad in ("ftp://example.com", "127.0.0.1:8080", "http://"):
        with pytest.raises(ValueError, match="not an http"):
            Connections(bad, limit=1, timeout_s=1)
