"""The chaos suite breaks real brokers and processes on purpose (loopback only, bounded in time).

Run it alone with ``.venv/bin/pytest tests/chaos``; ``make test`` runs it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.support.brokers import OwnRabbitMQ, OwnRedis
from tests.support.rabbitmq_cluster import OwnRabbitMQCluster
from tests.support.redis_cluster import OwnRedisCluster
from tests.support.watchdog import asyncio_watchdog  # noqa: F401 - an autouse fixture


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/chaos/" in str(item.path):
            item.add_marker(pytest.mark.services)
            item.add_marker(pytest.mark.chaos)


class _Startable(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@contextlib.asynccontextmanager
async def _running(thing: _Startable) -> AsyncIterator[None]:
    await thing.start()
    try:
        yield
    finally:
        await thing.stop()


@pytest.fixture
async def own_rabbitmq(tmp_path: Path) -> AsyncIterator[OwnRabbitMQ]:
    broker = OwnRabbitMQ(tmp_path / "rabbitmq")
    async with _running(broker):
        yield broker


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    async with _running(server):
        yield server


@pytest.fixture
async def own_redis_cluster(tmp_path: Path) -> AsyncIterator[OwnRedisCluster]:
    cluster = OwnRedisCluster(tmp_path / "redis-cluster")
    async with _running(cluster):
        yield cluster


@pytest.fixture
async def own_rabbitmq_cluster(tmp_path: Path) -> AsyncIterator[OwnRabbitMQCluster]:
    cluster = OwnRabbitMQCluster(tmp_path / "rabbitmq-cluster")
    async with _running(cluster):
        yield cluster
