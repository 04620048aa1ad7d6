"""Input built to break the parsers: a precise 4xx with a JSON error, nothing queued, no secret
in any log line, and the process keeps serving."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import structlog

from common.runtime import start_app
from common.settings import Settings
from common.signing import sign
from ingest.app import create_app as create_ingest
from revotp.replay.ceiling import free_port
from tests.integration.conftest import (
    ACME_KEY,
    GENERIC_SECRET,
    PHONE,
    AppClient,
    Pipeline,
    bearer,
    next_frame,
    queued_messages,
)
from tests.integration.provider_requests import SECRETS


async def _json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert set(body["error"]) == {"code", "message"}
    return dict(body["error"])


async def _signed(ingest: AppClient, body: bytes, *, timestamp: str | None = None) -> Any:
    stamp = timestamp or str(int(time.time()))
    signature = sign(GENERIC_SECRET, int(stamp), body) if timestamp is None else "v1=00"
    headers = {"Content-Type": "application/json", "X-Revotp-Timestamp": stamp, "X-Revotp-Signature": signature}
    return await ingest.post("/v1/inbound/generic", data=body, headers=headers)


async def test_a_huge_timestamp_is_a_401_not_an_overflow(ingest: AppClient):
    error = await _json_error(await _signed(ingest, b"{}", timestamp="9" * 401), 401)
    assert "timestamp" in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "m-1", "from": "+33612345678", "to": "+15550100000", "text": "\xff\xfe"}',
        b"[" * 2000 + b"]" * 2000,
        b'{"id": "m-1", "from": "+33612345678", "to": "+15550100000", "text": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    ],
    ids=["invalid utf-8", "deep array", "deep value"],
)
async def test_signed_json_that_cannot_be_decoded_is_a_400(ingest: AppClient, amqp: Any, namespace: str, body: bytes):
    await _json_error(await _signed(ingest, body), 400)
    assert await queued_messages(amqp, namespace) == 0


@pytest.mark.parametrize(
    "body",
    [b'{"phone": "+336\xff12345678"}', b'{"phone": "+33612345678", "context": "\xc3"}', b'{"phone": ' + b"[" * 3000],
    ids=["phone", "context", "deep"],
)
async def test_a_create_body_that_cannot_be_decoded_is_a_400(ingest: AppClient, body: bytes):
    headers = {**bearer(ACME_KEY), "Content-Type": "application/json"}
    await _json_error(await ingest.post("/v1/challenges", data=body, headers=headers), 400)


@pytest.fixture
async def served_ingest(settings: Settings, cleanup: None) -> AsyncIterator[str]:
    """Ingest served as processes serve it (its own runner, not the test client's)."""
    port = free_port()
    runner = await start_app(create_ingest(settings), "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_request_line_or_header_over_the_limit_is_a_json_400_and_logs_no_secret(
    served_ingest: str, caplog: pytest.LogCaptureFixture
):
    token = SECRETS["REVOTP_KANNEL_SECRET"]
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as session:
        url = f"{served_ingest}/v1/inbound/kannel?token={token}"
        with structlog.testing.capture_logs() as logs:
            long_line = await session.get(f"{url}&text={'x' * 9000}")
            long_header = await session.get(url, headers={"X-Padding": "y" * 9000})
            many_headers = await session.get(url, headers={f"X-H{n}": "1" for n in range(100)})
        for response in (long_line, long_header, many_headers):
            assert 400 <= response.status < 500
            body = await _json_error(response, response.status)
            assert token not in body["message"]
        # Still serving.
        assert (await session.get(f"{served_ingest}/healthz")).status == 200
    assert logs, "the refusals are logged"
    assert not any(token in str(entry) for entry in logs)
    assert token not in caplog.text


async def test_a_declared_body_over_64_kib_is_refused_before_it_is_read(served_ingest: str):
    host, port = served_ingest.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    # Headers only: a server that waited for the body would never answer.
    writer.write(
        b"POST /v1/inbound/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10000000\r\n\r\n"
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 413"), head


@pytest.mark.parametrize("path", ["/v1/challenges", "/v1/tenant", "/v1/stats"])
async def test_an_api_key_that_is_no_utf_8_is_a_401(served_ingest: str, path: str):
    """aiohttp hands such header bytes over as surrogates, which cannot be encoded as UTF-8."""
    host, port = served_ingest.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    method = b"POST" if path == "/v1/challenges" else b"GET"
    writer.write(
        method + b" " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk_\xae\xff\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'"invalid_credentials"' in answer


async def test_a_signature_or_watch_token_that_is_no_utf_8_opens_nothing(served_ingest: str, pipeline: Pipeline):
    host, port = served_ingest.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = b'{"id": "m1", "from": "+33612345678", "to": "+15550100000", "text": "1"}'
    writer.write(
        b"POST /v1/inbound/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"X-Revotp-Timestamp: {int(time.time())}\r\n".encode()
        + b"X-Revotp-Signature: v1=\xae\xff\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    challenge = await pipeline.create()
    for path in (f"/v1/challenges/{challenge['id']}/page", f"/v1/challenges/{challenge['id']}/page/tapped"):
        method = pipeline.notifier.get if path.endswith("page") else pipeline.notifier.post
        response = await method(f"{path}?token=acme.%AE%FF&code=x")
        assert response.status in (401, 404), (path, response.status)


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/v1/challenges", b"Authorization: Bearer " + ACME_KEY.encode() + b"\r\nIdempotency-Key: k\xae\xff\r\n", 400),
        ("/v1/inbound/plivo", b"X-Plivo-Signature-V2-Nonce: n\xae\xff\r\nX-Plivo-Signature-V2: x\r\n", None),
    ],
)
async def test_other_headers_that_are_no_utf_8_get_a_4xx(
    served_ingest: str, path: str, headers: bytes, status: int | None
):
    host, port = served_ingest.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST "
        + path.encode()
        + b" HTTP/1.1\r\nHost: x\r\n"
        + headers
        + b"Content-Type: application/json\r\nContent-Length: 27\r\nConnection: close\r\n\r\n"
        + b'{"phone": "+33612345678"}  '
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    code = int(answer.split(b" ", 2)[1])
    assert (code == status) if status else (400 <= code < 500), answer[:300]


@pytest.mark.parametrize("cursor", ["99999999999999999999-0", "1-99999999999999999999", "18446744073709551616-0"])
async def test_a_cursor_out_of_range_is_refused_before_the_upgrade(pipeline: Pipeline, cursor: str):
    response = await pipeline.notifier.get(f"/v1/events?after={cursor}", headers=bearer(ACME_KEY))
    error = await _json_error(response, 400)
    assert error["code"] == "invalid_cursor"


async def test_a_cursor_from_the_future_is_refused(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    cursor = (await next_frame(ws))["cursor"]
    millis, _, sequence = cursor.partition("-")
    for later in (f"{int(millis) + 60_000}-0", f"{millis}-{int(sequence) + 1}"):
        response = await pipeline.notifier.get(f"/v1/events?after={later}", headers=bearer(ACME_KEY))
        error = await _json_error(response, 400)
        assert error["code"] == "cursor_in_the_future"
    # The newest cursor itself is fine: the client has everything, and waits for what comes.
    ws = await pipeline.tenant_socket(after=cursor)
    assert (await next_frame(ws)) == {"type": "ready", "cursor": cursor, "gap": False}


async def test_a_cursor_older_than_the_log_says_events_were_lost(pipeline: Pipeline, redis: Any, namespace: str):
    from common.names import Names

    ws = await pipeline.ready_socket()
    challenges = [await pipeline.create() for _ in range(3)]
    for challenge in challenges:
        await pipeline.sms(challenge["code"], sender=PHONE)
    cursors = [(await next_frame(ws))["cursor"] for _ in challenges]
    # Retention trimmed the first event away: a client resuming from before it missed it.
    await redis.xtrim(Names(namespace).events("acme"), minid=cursors[1], approximate=False)
    covered = await pipeline.tenant_socket(after=cursors[1])
    assert (await next_frame(covered))["cursor"] == cursors[2]
    assert await next_frame(covered) == {"type": "ready", "cursor": cursors[2], "gap": False}
    for before in (cursors[0], "1-0"):
        lost = await pipeline.tenant_socket(after=before)
        replayed = [await next_frame(lost) for _ in range(2)]
        assert [frame["cursor"] for frame in replayed] == cursors[1:]
        assert await next_frame(lost) == {"type": "ready", "cursor": cursors[2], "gap": True}
    # A client with no cursor yet replays the whole retained log with 0-0, and lost nothing.
    whole = await pipeline.tenant_socket(after="0-0")
    frames = [await next_frame(whole) for _ in range(3)]
    assert frames[-1] == {"type": "ready", "cursor": cursors[2], "gap": False}
