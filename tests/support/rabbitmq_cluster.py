"""A private three-node RabbitMQ cluster on loopback ports.

Three nodes as the chaos tests already start them (own names, ports and data, the current
user's Erlang cookie) that find each other at boot through RabbitMQ's classic-config peer
discovery, as an operator's configuration management would have them. Quorum queues declared
on it replicate to all three.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.brokers import OwnRabbitMQ

NODES = 3


class OwnRabbitMQCluster:
    def __init__(self, base: Path, *, nodes: int = NODES) -> None:
        self.nodes = [OwnRabbitMQ(base / f"node-{n}") for n in range(nodes)]
        # Each node finds the others at boot (classic config peer discovery): no join step.
        peers = [f"cluster_formation.classic_config.nodes.{n} = {node.name}" for n, node in enumerate(self.nodes, 1)]
        for node in self.nodes:
            node.configure("cluster_formation.peer_discovery_backend = classic_config", *peers)

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated: what REVOTP_AMQP_URL takes for a cluster."""
        return ",".join(node.url for node in self.nodes)

    async def start(self) -> None:
        await asyncio.gather(*(node.start() for node in self.nodes))
        running = (await self.nodes[0].ctl_output("eval", "rabbit_nodes:all_running().")).count("@")
        if running != len(self.nodes):
            raise RuntimeError(f"{running} of {len(self.nodes)} RabbitMQ nodes formed the cluster")

    async def stop(self) -> None:
        # The last node standing must not wait for the others to sync what they never will.
        await asyncio.gather(*(node.stop() for node in self.nodes if node.running))

    async def leader_of(self, queue: str) -> OwnRabbitMQ:
        """The node that leads a quorum queue now (where its writes are ordered)."""
        asked = next(node for node in self.nodes if node.running)
        output = await asked.ctl_output("list_queues", "name", "leader", "--quiet", "--no-table-headers")
        for line in output.splitlines():
            name, _, leader = line.partition("\t")
            if name == queue:
                return next(node for node in self.nodes if node.name == leader.strip())
        raise LookupError(f"no queue {queue!r} on the cluster")
