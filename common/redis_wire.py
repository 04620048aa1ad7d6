"""Pipelined round trips to a single Redis server on one kept connection, replies read by hiredis.

``SharedPipeline`` sends one round trip at a time, so it needs one connection, not a pool.
Measured back to back on this machine (``benchmarks/RESULTS.md``, 2026-12-01), a round trip of
six commands (a challenge creation's) cost the client 256 to 336 µs of CPU through redis-py's
asyncio pipeline, 107 to 151 µs on a kept connection read through redis-py's ``read_response``,
and 78 to 100 µs read here in one loop: redis-py takes a pooled connection under a lock with
observability hooks, and reads each reply through four nested coroutines.

What stays redis-py's: the connection itself (auth, TLS, reconnection, health checks), the
packer, the client's retry policy, and each command's response callback, so that a reply has
the shape the client's own commands give it (``HSCAN`` a cursor and a dict, ``SET`` ``True``).
A Redis error is a value in its place, as with ``raise_on_error=False``. Any other failure part
way through (a lost connection, a cancelled read) leaves the stream at an unknown place, so the
connection is closed; the next round trip opens it again.

Only the reading loop touches redis-py's internals (its hiredis parser); with another parser it
reads through the public ``read_response`` instead: slower, same replies
(``tests/integration/test_redis_wire.py`` checks both, and that the fast loop is the one taken).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis._parsers import _AsyncHiredisParser
from redis._parsers.hiredis import NOT_ENOUGH_DATA
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.typing import EncodableT

Command = tuple[EncodableT, ...]


class KeptConnection:
    """One connection taken from ``redis``'s pool for as long as the client lives (closing the
    client closes it), for a caller that never has two round trips in flight."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._connection: AbstractConnection | None = None
        self._busy = False

    async def round_trip(self, commands: Sequence[Command]) -> list[Any]:
        """The replies of ``commands``, sent in one write."""
        if self._busy:
            raise RuntimeError("one round trip at a time on a kept connection")
        self._busy = True
        try:
            if self._connection is None:
                self._connection = await self._redis.connection_pool.get_connection()  # type: ignore[no-untyped-call]
            connection = self._connection
            try:
                replies: list[Any] = await connection.retry.call_with_retry(
                    lambda: _exchange(connection, commands, self._redis.response_callbacks),
                    lambda _error: connection.disconnect(),
                )
            except BaseException:
                await connection.disconnect(nowait=True)
                raise
            return replies
        finally:
            self._busy = False


async def _exchange(connection: AbstractConnection, commands: Sequence[Command], callbacks: Any) -> list[Any]:
    await connection.send_packed_command(connection.pack_commands(commands))
    replies = await read_replies(connection, len(commands))
    shaped = []
    for command, reply in zip(commands, replies, strict=True):
        callback = None if isinstance(reply, ResponseError) else callbacks.get(command[0])
        shaped.append(callback(reply) if callback is not None else reply)
    return shaped


async def read_replies(connection: AbstractConnection, count: int) -> list[Any]:
    """``count`` replies from the connection, Redis errors among them as values; what redis-py's
    ``read_response`` does around each reply (push messages, errors, the health clock) kept."""
    parser = getattr(connection, "_parser", None)
    if not isinstance(parser, _AsyncHiredisParser):
        return [await _read_one(connection) for _ in range(count)]
    reader = parser._reader
    assert reader is not None  # connected: the commands were just sent
    push = getattr(parser, "_hiredis_PushNotificationType", None)  # RESP3 out-of-band messages
    replies: list[Any] = []
    try:
        while len(replies) < count:
            reply = reader.gets()
            if reply is NOT_ENOUGH_DATA:
                await parser.read_from_socket()
            elif push is not None and isinstance(reply, push):
                await parser.handle_push_response(reply)  # no reply of ours
            elif isinstance(reply, RedisConnectionError):
                raise reply
            elif isinstance(reply, list) and reply and isinstance(reply[0], RedisConnectionError):
                raise reply[0]
            else:
                replies.append(reply)
    except OSError as error:
        raise RedisConnectionError(f"reading replies from Redis: {error}") from error
    if connection.health_check_interval:  # a reply is as good as a health check
        connection.next_health_check = asyncio.get_running_loop().time() + connection.health_check_interval
    return replies


async def _read_one(connection: AbstractConnection) -> Any:
    try:
        return await connection.read_response()
    except ResponseError as error:
        return error
