"""The tests' own Redis servers stop cleanly, even when Redis refuses a first SIGTERM."""

from __future__ import annotations

import time
from pathlib import Path

from redis.asyncio import Redis

from tests.support.brokers import REPLY_TIMEOUT_S, OwnRedis


async def test_a_server_writing_its_first_append_only_file_still_stops_cleanly(tmp_path: Path):
    # A replica right after its full sync writes its first append-only file, and Redis refuses
    # to shut down meanwhile ("Writing initial AOF, can't exit"), then stays up. Turning
    # persistence on at run time puts a server in the same state, for as long as its rewrite
    # takes: slowed here to 0.2 s per key.
    server = OwnRedis(tmp_path / "redis", "--appendonly", "no")
    await server.start()
    async with Redis.from_url(server.url, socket_timeout=REPLY_TIMEOUT_S) as client:
        await client.mset({f"k{n}": n for n in range(10)})
        await client.config_set("rdb-key-save-delay", 200_000)
        await client.config_set("appendonly", "yes")
    started = time.monotonic()
    await server.stop(within=15)
    assert server.process is not None
    assert server.process.returncode == 0  # a clean exit, not the kill
    assert time.monotonic() - started < 10
    assert "Writing initial AOF, can't exit" in server.log_tail(100)  # the refusal did happen
