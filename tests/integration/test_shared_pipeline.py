"""Concurrent Redis commands share one pipeline, yet each caller gets its own reply or error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from common.pipelining import ReplicasBehind, SharedPipeline
from common.redis import TRANSIENT_ERRORS
from tests.chaos.deployment import wait_for
from tests.integration.conftest import redis_client
from tests.support.brokers import REPLY_TIMEOUT_S, OwnRedis

ECHO = "return {KEYS[1], ARGV[1]}"


async def test_concurrent_commands_ride_one_round_trip_and_keep_their_own_replies(tmp_path: Path):
    server = OwnRedis(tmp_path / "redis")  # its own server: INFO counts only this test's commands
    await server.start()
    redis = Redis.from_url(server.url, socket_timeout=REPLY_TIMEOUT_S)
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
async def test_a_burst_larger_than_one_pipeline_is_split_and_answered_in_order(
    redis: Redis, namespace: str, cleanup: None, count: int
):
    shared = SharedPipeline(redis, max_commands=256)
    # Keyed commands, so that a Redis Cluster spreads them over its nodes (make test-cluster).
    replies = await asyncio.gather(*(shared.execute("INCRBY", f"{namespace}:m{n}", n) for n in range(count)))
    assert replies == list(range(count))
    assert shared.round_trips == {1: 1, 700: 3}[count]  # 256 + 256 + 188


async def test_a_round_trip_is_bounded_as_a_whole_when_replies_have_no_timeout(namespace: str, cleanup: None):
    # The hot paths' client has no per-reply socket timeout; the pipeline's own bound stands in.
    redis = redis_client(socket_timeout=None)
    try:
        shared = SharedPipeline(redis, round_trip_timeout_s=0.2)
        with pytest.raises(TimeoutError) as raised:
            await shared.execute("BLPOP", f"{namespace}:never", 5)
        assert isinstance(raised.value, OSError)  # so every caller treats it as Redis unreachable
        assert await shared.execute("INCR", f"{namespace}:after") == 1  # the next round trip works
    finally:
        await redis.aclose()


async def test_with_replicas_to_wait_for_a_reply_means_the_replica_holds_the_write(tmp_path: Path):
    primary = OwnRedis(tmp_path / "primary", "--repl-diskless-sync-delay", "0")  # no waiting for more replicas
    await primary.start()
    redis = Redis.from_url(primary.url, socket_timeout=REPLY_TIMEOUT_S)
    replica: OwnRedis | None = None
    try:
        shared = SharedPipeline(redis, wait_replicas=1)
        # No replica: the write is made, but nobody is told it is safe; the error is transient.
        with pytest.raises(ReplicasBehind) as raised:
            await shared.execute("SET", "k", "1")
        assert isinstance(raised.value, TRANSIENT_ERRORS)

        replica = OwnRedis(tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary.port))
        await replica.start()

        async def replica_online() -> bool:
            return bool((await redis.info("replication")).get("slave0", {}).get("state") == "online")

        assert await wait_for(replica_online, every=0.05)
        for _ in range(5):
            replies = await asyncio.gather(*(shared.execute("INCR", f"n{n}") for n in range(20)))
            # Replied means replicated: the replica shows each write the moment its caller returns.
            async with Redis.from_url(replica.url, socket_timeout=REPLY_TIMEOUT_S) as on_replica:
                assert [int(v or 0) for v in await on_replica.mget([f"n{n}" for n in range(20)])] == replies
    finally:
        await redis.aclose()
        if replica is not None and replica.process is not None and replica.process.returncode is None:
            await replica.stop()
        await primary.stop()
