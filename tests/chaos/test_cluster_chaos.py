"""The chaos ledger on real clusters: a 3-primary Redis Cluster with replicas, a 3-node RabbitMQ
cluster, two matchers and two notifiers.

Mid-stream, the Redis primary that holds most of the deployment's keys is killed (its replica
takes over; the old primary comes back as a replica), then the RabbitMQ node that leads the
inbound quorum queue is killed (another node leads; it comes back). The ledger must balance:
0 SMS lost, 0 doubled terminal events, every challenge in the state the rules give, and a
client that watched one notifier resumes on the other.

Every process waits for a replica to hold its Redis writes before it acts on them
(``REVOTP_REDIS_WAIT_REPLICAS=1``): without that, a primary killed between a write and its
replication takes the write with it, and the SMS that made it is acked and lost.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from redis.asyncio import Redis

from common.names import Names
from tests.chaos.deployment import Deployment
from tests.chaos.ledger import LEDGER_SETTINGS, Ledger, run_ledger
from tests.support.rabbitmq_cluster import OwnRabbitMQCluster
from tests.support.redis_cluster import OwnRedisCluster

pytestmark = pytest.mark.clusters

MATCHERS = ["matcher-1", "matcher-2"]
NOTIFIERS = ("notifier-1", "notifier-2")


@pytest.fixture
async def deployment(
    own_redis_cluster: OwnRedisCluster, own_rabbitmq_cluster: OwnRabbitMQCluster, tmp_path: Path
) -> AsyncIterator[Deployment]:
    deployment = Deployment(
        f"revotp-cluster-{uuid.uuid4().hex[:8]}",
        tmp_path,
        REVOTP_AMQP_URL=own_rabbitmq_cluster.url,
        REVOTP_QUORUM_GROUP_SIZE="3",
        REVOTP_REDIS_URL=own_redis_cluster.url,
        REVOTP_REDIS_CLUSTER="1",
        REVOTP_REDIS_WAIT_REPLICAS="1",
        **LEDGER_SETTINGS,
    )
    await deployment.start_ready("ingest", *NOTIFIERS, *MATCHERS)
    yield deployment
    await deployment.close()


@pytest.mark.timeout(900)
async def test_the_ledger_balances_when_a_redis_primary_and_the_queue_leader_die(
    deployment: Deployment,
    own_redis_cluster: OwnRedisCluster,
    own_rabbitmq_cluster: OwnRabbitMQCluster,
    capsys: pytest.CaptureFixture[str],
):
    names = Names(deployment.namespace)

    async def breakage(ledger: Ledger, stop: asyncio.Event) -> None:
        started = time.monotonic()

        def note(what: str) -> None:
            ledger.chaos.append(f"{time.monotonic() - started:5.1f}s {what}")

        await asyncio.sleep(4)
        busiest = await own_redis_cluster.busiest_primary(f"{deployment.namespace}:")
        note(f"kill -9 Redis primary :{busiest.port} (the most keys of this deployment)")
        await own_redis_cluster.kill_and_replace(busiest)
        note(f"its replica took over; :{busiest.port} is back as a replica")

        await asyncio.sleep(3)
        leader = await own_rabbitmq_cluster.leader_of(names.inbound_queue)
        note(f"kill -9 RabbitMQ node {leader.name} (leads {names.inbound_queue})")
        await leader.kill()
        new_leader = await own_rabbitmq_cluster.leader_of(names.inbound_queue)
        note(f"{new_leader.name} leads the queue")
        await stop.wait()
        await leader.start()
        note(f"{leader.name} is back")

    redis = cast(Redis, own_redis_cluster.client())  # the cluster client has every call the ledger makes
    try:
        await run_ledger(
            deployment,
            breakage,
            redis=redis,
            matchers=MATCHERS,
            notifiers=NOTIFIERS,
            title="cluster chaos ledger",
            capsys=capsys,
        )
    finally:
        await redis.aclose()
