"""The chaos suite breaks real brokers and processes on purpose (loopback only, bounded in time).

Run it alone with ``.venv/bin/pytest tests/chaos``; ``make test`` runs it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.brokers import OwnRabbitMQ, OwnRedis
from tests.support.rabbitmq_cluster import OwnRabbitMQCluster
from tests.support.redis_cluster import OwnRedisCluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/chaos/" in str(item.path):
            item.add_marker(pytest.mark.services)
            item.add_marker(pytest.mark.chaos)


@pytest.fixture
async def own_rabbitmq(tmp_path: Path) -> AsyncIterator[OwnRabbitMQ]:
    broker = OwnRabbitMQ(tmp_path / "rabbitmq")
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def own_redis_cluster(tmp_path: Path) -> AsyncIterator[OwnRedisCluster]:
    cluster = OwnRedisCluster(tmp_path / "redis-cluster")
    await cluster.start()
    yield cluster
    await cluster.stop()


@pytest.fixture
async def own_rabbitmq_cluster(tmp_path: Path) -> AsyncIterator[OwnRabbitMQCluster]:
    cluster = OwnRabbitMQCluster(tmp_path / "rabbitmq-cluster")
    await cluster.start()
    yield cluster
    await cluster.stop()
