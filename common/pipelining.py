"""Redis commands of concurrent callers, sent together: one pipeline per round trip.

Each caller still sends its own commands and awaits its own reply; only the socket writes and
the round trip are shared (group commit, ``common/batching.py``). A script runs by its SHA and
is loaded again if Redis forgot it (a restart), so no ``SCRIPT EXISTS`` precedes a pipeline.
Every script call stays atomic on its own: batching changes when commands travel, not what
each one does.

Given a client without a per-reply socket timeout (``RedisResources`` opens one for this), a
round trip is bounded once, as a whole: redis-py's per-reply timeout costs about 5 µs per
command, close to half of what a pipelined command costs it. On a single server the round trips
go through one kept connection, read in one loop (``common/redis_wire.py``); a cluster's go
through redis-py's cluster pipeline, which routes each command to its slot.

With ``wait_replicas`` (``REVOTP_REDIS_WAIT_REPLICAS``), every round trip ends with ``WAIT`` on
each server it wrote to, on the same connection: a caller gets its reply only once that many
replicas hold what the round trip wrote, so a write that a matcher acks or a tenant is answered
for survives its primary's death and its replica's promotion. When the replicas do not confirm
in time, every caller of that server's share gets ``ReplicasBehind``, a transient error: the SMS
goes back to the queue, the request gets a 503, and a retry (the steps are idempotent) finds
the promoted replica.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.typing import EncodableT

from common.batching import GroupCommit
from common.redis import RedisClient
from common.redis_wire import Command, KeptConnection


def script_call(script: AsyncScript, keys: Sequence[str], args: Sequence[EncodableT]) -> Command:
    """One call of a registered script, by its SHA, as a command for ``execute_many``."""
    return ("EVALSHA", script.sha, len(keys), *keys, *args)


# How long WAIT gives the replicas (ms): a replica on a healthy link confirms in well under one.
WAIT_REPLICAS_TIMEOUT_MS = 1000


class ReplicasBehind(RedisConnectionError):
    """Fewer replicas than ``REVOTP_REDIS_WAIT_REPLICAS`` confirmed a round trip's writes in time."""


class SharedPipeline:
    def __init__(
        self,
        redis: RedisClient,
        *,
        max_commands: int = 512,
        round_trip_timeout_s: float | None = None,
        wait_replicas: int = 0,
    ) -> None:
        self._redis = redis
        self._timeout_s = round_trip_timeout_s
        self._wait_replicas = wait_replicas
        self._group: GroupCommit[Command, Any] = GroupCommit(self._send, max_items=max_commands)
        # One round trip at a time (the group commit's), so one connection serves them all.
        self._kept = None if isinstance(redis, RedisCluster) else KeptConnection(redis)
        self.round_trips = 0  # pipelines sent, for tests and profiles

    async def execute(self, *command: EncodableT) -> Any:
        """One command's reply; its error is raised to this caller only."""
        [reply] = await self._group.submit([command])
        if isinstance(reply, Exception):
            raise reply
        return reply

    async def execute_many(self, commands: Sequence[Command], *, scripts: Sequence[AsyncScript] = ()) -> list[Any]:
        """Several commands, sent together and in order; the first error among them is raised.

        Where they call ``scripts`` (``script_call``) and Redis forgot one, all are sent again
        once it is loaded: only idempotent commands belong beside a script call.
        """
        try:
            return await self._execute_many(commands)
        except NoScriptError:
            if not scripts:
                raise
            for script in scripts:
                await self._redis.script_load(script.script)
            return await self._execute_many(commands)

    async def _execute_many(self, commands: Sequence[Command]) -> list[Any]:
        replies = await self._group.submit(list(commands))
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return replies

    async def run_script(self, script: AsyncScript, keys: Sequence[str], args: Sequence[EncodableT]) -> Any:
        [reply] = await self.run_scripts(script, [(keys, args)])
        return reply

    async def run_scripts(
        self, script: AsyncScript, calls: Sequence[tuple[Sequence[str], Sequence[EncodableT]]]
    ) -> list[Any]:
        """Several calls of one script, in one round trip; each stays its own atomic step."""
        commands = [script_call(script, keys, args) for keys, args in calls]
        return await self.execute_many(commands, scripts=(script,))

    async def _send(self, commands: list[Command]) -> list[Any]:
        self.round_trips += 1
        servers = self._servers_of(commands) if self._wait_replicas else []
        written_to = list(dict.fromkeys(servers))  # each server once, in order
        async with asyncio.timeout(self._timeout_s):
            if self._kept is not None:
                waits = [self._wait_command()] * len(written_to)
                replies = await self._kept.round_trip([*commands, *waits])
            else:
                assert isinstance(self._redis, RedisCluster)
                replies = await self._send_to_cluster(self._redis, commands, written_to)
        if not self._wait_replicas:
            return replies
        confirmed = {
            server: isinstance(count, int) and count >= self._wait_replicas
            for server, count in zip(written_to, replies[len(commands) :], strict=True)
        }
        return [
            reply
            if confirmed[server]
            else ReplicasBehind(f"fewer than {self._wait_replicas} replicas confirmed in time")
            for server, reply in zip(servers, replies[: len(commands)], strict=True)
        ]

    async def _send_to_cluster(
        self, cluster: RedisCluster, commands: list[Command], written_to: list[ClusterNode | None]
    ) -> list[Any]:
        """redis-py's cluster pipeline routes each command to its slot's primary (and each WAIT
        to a server the round trip wrote to)."""
        async with cluster.pipeline(transaction=False) as pipe:
            for command in commands:
                pipe.execute_command(*command)
            for server in written_to:
                pipe.execute_command(*self._wait_command(), target_nodes=server)
            return list(await pipe.execute(raise_on_error=False))

    def _wait_command(self) -> Command:
        return ("WAIT", self._wait_replicas, WAIT_REPLICAS_TIMEOUT_MS)

    def _servers_of(self, commands: list[Command]) -> list[ClusterNode | None]:
        """The primary each command goes to (None: the one server of a plain client), as the
        client's slot map says. A command redirected mid-round-trip (a slot that moved since the
        map was read) is not covered by its WAIT: the map is refreshed after a failover, before
        the next round trip, so this only holds while slots are being moved by hand."""
        if not isinstance(self._redis, RedisCluster):
            return [None] * len(commands)
        return [self._redis.get_node_from_key(_first_key(command)) for command in commands]


def _first_key(command: Command) -> str:
    """The key a command is routed by: after a script's SHA and key count, else its first argument."""
    key = command[3] if str(command[0]).upper() == "EVALSHA" else command[1]
    return key.decode() if isinstance(key, bytes) else str(key)
