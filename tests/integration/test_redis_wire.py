"""A round trip read by hiredis in one loop answers exactly as redis-py's own pipeline does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, ResponseError

from common import redis_wire
from common.redis import connect_redis
from common.redis_wire import Command, KeptConnection
from tests.support.brokers import OwnRedis

# Commands whose replies redis-py reshapes (SET → True, HSCAN → cursor and dict, PEXPIREAT →
# bool), plus a script, a nil, and two kinds of Redis error.
COMMANDS: list[Command] = [
    ("SET", "s", "1"),
    ("HSET", "h", "a", "x", "b", "y"),
    ("HSCAN", "h", 0, "MATCH", "a*", "COUNT", 1000),
    ("PEXPIREAT", "h", 4_102_444_800_000),
    ("HGET", "h", "b"),
    ("HGET", "h", "absent"),
    ("EVAL", "return {KEYS[1], tonumber(ARGV[1]) + 1}", 1, "k", 41),
    ("EVALSHA", "0" * 40, 0),
    ("LPUSH", "s", "not a list"),
    ("INCR", "n"),
    ("ZADD", "z", "NX", 5, "m"),
]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Redis]:
    """A private server: the same keys may be written twice over, and nothing else is touched."""
    own = OwnRedis(tmp_path / "redis")
    await own.start()
    client = await connect_redis(own.url, socket_timeout=None)  # as the services' pipelined client
    assert isinstance(client, Redis)
    try:
        yield client
    finally:
        await client.aclose()
        await own.stop()


async def _redis_py(redis: Redis, commands: list[Command]) -> list[Any]:
    async with redis.pipeline(transaction=False) as pipe:
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))


def _comparable(replies: list[Any]) -> list[Any]:
    """Errors compare by type and message (redis-py's pipeline prefixes the command's place)."""
    return [(type(r).__name__, str(r).rsplit(": ", 1)[-1]) if isinstance(r, ResponseError) else r for r in replies]


async def round_trip(redis: Redis, commands: list[Command]) -> list[Any]:
    return await KeptConnection(redis).round_trip(commands)


async def test_replies_have_the_shapes_and_errors_of_redis_pys_pipeline(server: Redis):
    ours = await round_trip(server, COMMANDS)
    await server.flushdb()
    theirs = await _redis_py(server, COMMANDS)
    assert _comparable(ours) == _comparable(theirs)
    assert ours[0] is True
    assert ours[2] == (0, {b"a": b"x"})
    assert ours[5] is None
    assert ours[6] == [b"k", 42]
    assert isinstance(ours[7], NoScriptError)  # so SharedPipeline can load the script and retry
    assert isinstance(ours[8], ResponseError)
    assert "WRONGTYPE" in str(ours[8])


async def test_the_hiredis_loop_is_the_path_taken_and_the_public_one_answers_the_same(
    server: Redis, monkeypatch: pytest.MonkeyPatch
):
    def slow_path_taken(connection: object) -> NoReturn:
        raise AssertionError("read through read_response: redis-py's internals changed?")

    # With the services' client and the pinned redis-py, every reply comes from the fast loop:
    # an upgrade that changes what it reads makes this fail, rather than silently slowing down.
    with monkeypatch.context() as patched:
        patched.setattr(redis_wire, "_read_one", slow_path_taken)
        fast = await round_trip(server, COMMANDS)
    await server.flushdb()
    monkeypatch.setattr(redis_wire, "_AsyncHiredisParser", type("NoParser", (), {}))
    assert _comparable(await round_trip(server, COMMANDS)) == _comparable(fast)


async def test_a_reply_larger_than_one_socket_read_is_assembled(server: Redis):
    big = "x" * 300_000  # several of redis-py's 64 KiB socket reads
    replies = await round_trip(server, [("SET", "big", big), ("GET", "big"), *[("INCR", "n")] * 2000])
    assert replies[1] == big.encode()
    assert replies[2:] == list(range(1, 2001))


async def test_a_cancelled_round_trip_closes_the_connection_so_the_next_reply_is_its_own(server: Redis):
    wire = KeptConnection(server)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await wire.round_trip([("BLPOP", "never", 2)])
    # Had the connection been kept open mid-read, this would read BLPOP's nil 2 s later.
    assert await wire.round_trip([("ECHO", "mine")]) == [b"mine"]


async def test_a_connection_killed_by_the_server_is_replaced_by_the_retry(server: Redis):
    wire = KeptConnection(server)
    [kept] = await wire.round_trip([("CLIENT", "ID")])
    assert await wire.round_trip([("CLIENT", "ID")]) == [kept]  # kept between round trips
    kwargs = server.connection_pool.connection_kwargs
    async with Redis(host=kwargs["host"], port=kwargs["port"]) as other:
        assert await other.client_kill_filter(_id=kept) == 1
    assert await wire.round_trip([("INCR", "after")]) == [1]
    [replacement] = await wire.round_trip([("CLIENT", "ID")])
    assert replacement != kept


async def test_two_round_trips_at_once_are_refused_rather_than_interleaved(server: Redis):
    wire = KeptConnection(server)
    first = asyncio.create_task(wire.round_trip([("BLPOP", "slow", 0.3)]))
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError):
        await wire.round_trip([("ECHO", "second")])
    assert await first == [None]
    assert await wire.round_trip([("ECHO", "third")]) == [b"third"]
