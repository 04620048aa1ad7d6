"""A private Redis Cluster: three primaries, each with a replica, on loopback ports.

Six ``redis-server`` processes with ``cluster-enabled yes``, joined by ``redis-cli --cluster
create``, as an operator would build one. A short ``cluster-node-timeout`` makes a replica take
over a killed primary within a few seconds. The nodes keep no files that outlive the test.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from revotp.replay.ceiling import free_port
from tests.support.brokers import OwnRedis

PRIMARIES = 3
# How long a primary may be unreachable before its replica is promoted (ms).
NODE_TIMEOUT_MS = 1000


class OwnRedisCluster:
    def __init__(self, base: Path, *, primaries: int = PRIMARIES) -> None:
        self.nodes = [
            OwnRedis(
                base / f"node-{n}",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                str(NODE_TIMEOUT_MS),
                "--cluster-port",  # the bus; by default port + 10000, which may be taken or past 65535
                str(free_port()),
                # The failover tests ask revotp to wait for its replica (REVOTP_REDIS_WAIT_REPLICAS);
                # fsync on every write would only slow them down.
                "--appendfsync",
                "everysec",
                "--repl-diskless-sync-delay",  # a replica (back) in the cluster syncs at once
                "0",
            )
            for n in range(primaries * 2)
        ]

    @property
    def url(self) -> str:
        """The seed a deployment is given (REVOTP_REDIS_URL): any node will do."""
        return self.nodes[0].url

    async def start(self) -> None:
        await asyncio.gather(*(node.start() for node in self.nodes))
        create = await asyncio.create_subprocess_exec(
            "redis-cli",
            "--cluster",
            "create",
            *(f"127.0.0.1:{node.port}" for node in self.nodes),
            "--cluster-replicas",
            "1",
            "--cluster-yes",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(create.communicate(), 60)
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {output.decode()}")
        await self.wait_healthy()

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes))

    async def kill_and_replace(self, node: OwnRedis) -> None:
        """``kill -9`` a node, wait for its replica to take over, then start it again, as a
        supervisor would: it comes back as the new primary's replica. (Back before the
        takeover, it would serve its slots again from its own, older, files.)"""
        node.kill()
        assert node.process is not None
        await node.process.wait()
        await self.wait_promoted(node)
        await node.start()
        await self.wait_healthy()

    def client(self) -> RedisCluster:
        return RedisCluster.from_url(self.url)

    async def wait_healthy(self, within: float = 60.0) -> None:
        """Every node that runs sees every slot served and agrees on who serves it."""
        deadline = time.monotonic() + within
        while not await self._healthy():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster was not healthy within {within} s")
            await asyncio.sleep(0.2)

    async def wait_promoted(self, dead: OwnRedis, within: float = 60.0) -> None:
        """Until the cluster serves every slot again without ``dead``: its replica took over."""
        deadline = time.monotonic() + within
        while (primaries := await self._agreed_primaries()) is None or dead.port in primaries:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no replica took over from :{dead.port} within {within} s")
            await asyncio.sleep(0.1)

    async def _healthy(self) -> bool:
        return await self._agreed_primaries() is not None

    async def _agreed_primaries(self) -> tuple[int, ...] | None:
        """The primaries' ports, when every running node serves all slots and agrees on them."""
        views = []
        for node in self.nodes:
            if node.process is None or node.process.returncode is not None:
                continue
            try:
                async with Redis.from_url(node.url) as client:
                    info = (await client.execute_command("CLUSTER", "INFO")).decode()  # type: ignore[no-untyped-call]
                    if "cluster_state:ok" not in info:
                        return None
                    views.append(await self._primaries_by_port(client))
            except (OSError, RedisError):
                return None
        return views[0] if all(view == views[0] for view in views) else None

    @staticmethod
    async def _primaries_by_port(client: Redis) -> tuple[int, ...]:
        nodes = (await client.execute_command("CLUSTER", "NODES")).decode()  # type: ignore[no-untyped-call]
        return tuple(
            sorted(
                int(fields[1].split(":")[1].split("@")[0])
                for fields in (line.split() for line in nodes.splitlines())
                if "master" in fields[2] and "fail" not in fields[2]
            )
        )

    async def busiest_primary(self, prefix: str) -> OwnRedis:
        """The primary that holds the most keys starting with ``prefix`` now."""
        counts: Counter[int] = Counter()
        for node in self.nodes:
            async with Redis.from_url(node.url) as client:
                if (await client.info("replication"))["role"] != "master":
                    continue
                counts[node.port] = sum([1 async for _ in client.scan_iter(match=f"{prefix}*", count=1000)])
        port, _ = counts.most_common(1)[0]
        return next(node for node in self.nodes if node.port == port)


async def _run_against_a_cluster(command: list[str]) -> int:
    """Start a private cluster, run ``command`` with REDIS_URL naming it, stop the cluster."""
    with tempfile.TemporaryDirectory(prefix="revotp-redis-cluster-") as base:
        cluster = OwnRedisCluster(Path(base))
        await cluster.start()
        try:
            env = {**os.environ, "REDIS_URL": cluster.url, "REVOTP_TEST_REDIS_CLUSTER": "1"}
            process = await asyncio.create_subprocess_exec(*command, env=env)
            return await process.wait()
        finally:
            await cluster.stop()


if __name__ == "__main__":
    # make test-cluster: python -m tests.support.redis_cluster pytest … runs the suite on a cluster.
    sys.exit(asyncio.run(_run_against_a_cluster(sys.argv[1:])))
