"""Concurrent Redis commands share one pipeline, yet each caller gets its own reply or error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from common.pipelining import SharedPipeline
from tests.integration.conftest import REDIS_URL
from tests.support.brokers import OwnRedis

ECHO = "return {KEYS[1], ARGV[1]}"


async def test_concurrent_commands_ride_one_round_trip_and_keep_their_own_replies(tmp_path: Path):
    server = OwnRedis(tmp_path / "redis")  # its own server: INFO counts only this test's commands
    await server.start()
    redis = Redis.from_url(server.url)
    try:
        shared = SharedPipeline(redis)
        script = redis.register_script(ECHO)
        await shared.run_script(script, ["warm"], ["up"])  # the script is loaded once, on its first miss
        before, trips = await _commands(redis, "evalsha"), shared.round_trips
        replies = await asyncio.gather(*(shared.run_script(script, [f"k{n}"], [n]) for n in range(50)))
        assert replies == [[f"k{n}".encode(), str(n).encode()] for n in range(50)]
        assert await _commands(redis, "evalsha") - before == 50
        assert shared.round_trips - trips == 1  # all 50 were queued before the first flush began
        # One error is its caller's alone.
        results = await asyncio.gather(
            shared.execute("SET", "a", "1"), shared.execute("INCR", "a-list-not"), shared.execute("LPUSH", "a", "x"),
            return_exceptions=True,
        )  # fmt: skip
        assert results[0] is True
        assert results[1] == 1
        assert isinstance(results[2], ResponseError)
        # A restarted Redis forgot the script: it is loaded again, no caller sees NoScriptError.
        await redis.script_flush()
        again = await asyncio.gather(*(shared.run_script(script, ["k"], [n]) for n in range(5)))
        assert again == [[b"k", str(n).encode()] for n in range(5)]
    finally:
        await redis.aclose()
        await server.stop()


async def _commands(redis: Redis, name: str) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))


@pytest.mark.parametrize("count", [1, 700])
async def test_a_burst_larger_than_one_pipeline_is_split_and_answered_in_order(redis: Redis, count: int):
    shared = SharedPipeline(redis, max_commands=256)
    replies = await asyncio.gather(*(shared.execute("ECHO", f"m{n}") for n in range(count)))
    assert replies == [f"m{n}".encode() for n in range(count)]
    assert shared.round_trips == {1: 1, 700: 3}[count]  # 256 + 256 + 188


async def test_a_round_trip_is_bounded_as_a_whole_when_replies_have_no_timeout(namespace: str):
    # The hot paths' client has no per-reply socket timeout; the pipeline's own bound stands in.
    redis = Redis.from_url(REDIS_URL, socket_timeout=None)
    try:
        shared = SharedPipeline(redis, round_trip_timeout_s=0.2)
        with pytest.raises(TimeoutError) as raised:
            await shared.execute("BLPOP", f"{namespace}:never", 5)
        assert isinstance(raised.value, OSError)  # so every caller treats it as Redis unreachable
        assert await shared.execute("ECHO", "after") == b"after"  # the next round trip works
    finally:
        await redis.aclose()
