"""One ``redis.asyncio`` client per process, checked at start with a bounded, logged retry.

With ``REVOTP_REDIS_CLUSTER=1`` the client is redis-py's cluster client, seeded by the one node
``REVOTP_REDIS_URL`` names: it learns the slots, follows MOVED/ASK, and finds a promoted replica
after a failover. Every atomic step revotp takes touches one slot (``common/names.py``).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import TypeAlias

import structlog
from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ClusterDownError, RedisClusterException, SlotNotCoveredError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.backoff import Backoff
from common.keyring import Keyring
from common.logging import first_time
from common.names import Names
from common.redis_packing import connection_class_for
from common.settings import Settings

log = structlog.get_logger(__name__)

# What every service holds: one server (or a primary with replicas), or a Redis Cluster.
RedisClient: TypeAlias = Redis | RedisCluster

# Redis errors that mean "not reachable right now": retry later, never blame the message. A
# cluster between a primary's death and its replica's promotion answers CLUSTERDOWN (TRYAGAIN
# for a slot on the move; the client may find a slot served by nobody): the same outage, seen
# from a cluster.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,
    TryAgainError,
    SlotNotCoveredError,
    OSError,
)


def text(value: object) -> str:
    """A Redis reply (bytes, as this client returns them) as text."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a Redis string reply, got {type(value).__name__}")


def binary(value: object) -> bytes:
    """A Redis reply that holds bytes, not text (a packed record)."""
    if isinstance(value, bytes):
        return value
    raise TypeError(f"expected a Redis bytes reply, got {type(value).__name__}")


# How long a command waits for a free pooled connection before it counts as Redis unavailable.
POOL_WAIT_S = 5.0


# How long one command (or one shared pipeline, common/pipelining.py) may wait for its reply.
REPLY_TIMEOUT_S = 10.0


async def connect_redis(
    url: str,
    *,
    cluster: bool = False,
    attempts: int = 10,
    max_connections: int = 256,
    socket_timeout: float | None = REPLY_TIMEOUT_S,
) -> RedisClient:
    """A client that replaces dead pooled connections on its own, and queues a burst.

    After a Redis restart every pooled connection is dead; without an explicit retry policy
    the first command on each fails. Retrying is safe here because every write revotp makes
    is idempotent: the atomic step dedupes by message id, terminal states never change again.
    redis-py's own pool refuses a command beyond its size at once (``MaxConnectionsError``, a
    503 to the client); this one makes it wait up to ``POOL_WAIT_S`` for a connection.
    """
    client = (
        _cluster_client(url, max_connections, socket_timeout)
        if cluster
        else _client(url, max_connections, socket_timeout)
    )
    backoff = Backoff(first_s=0.2, max_s=2.0)
    for attempt in range(1, attempts + 1):
        try:
            if isinstance(client, RedisCluster):
                await client.initialize()
            await client.ping()
        except _NOT_YET as exc:
            if attempt == attempts:
                await client.aclose()
                raise
            delay = backoff.next_delay()
            log.warning("redis_unreachable", attempt=attempt, of=attempts, error=str(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
        else:
            if first_time("redis_connected", url):
                log.info(
                    "redis_connected",
                    cluster=cluster,
                    nodes=len(client.get_nodes()) if isinstance(client, RedisCluster) else 1,
                )
            return client
    raise AssertionError("unreachable")


# At start, also a cluster that cannot yet tell its slots (its nodes still meeting).
_NOT_YET: tuple[type[Exception], ...] = (*TRANSIENT_ERRORS, RedisClusterException)
_RETRY_ON: list[type[Exception]] = [RedisConnectionError, RedisTimeoutError]


def _client(url: str, max_connections: int, socket_timeout: float | None) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        connection_class=connection_class_for(url),
        max_connections=max_connections,
        timeout=POOL_WAIT_S,
        health_check_interval=10,
        socket_timeout=socket_timeout,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=_RETRY_ON,
        # A request header that was no UTF-8 reaches us as surrogates; where one ends up in a
        # key (a provider's nonce, say) it is written as the bytes it was, never an error.
        encoding_errors="surrogateescape",
    )
    return Redis.from_pool(pool)  # owns the pool: closing the client closes it


def _cluster_client(url: str, max_connections: int, socket_timeout: float | None) -> RedisCluster:
    """The cluster client, retrying as ``_client`` does; its connection limit is per node.

    Its retry covers a failover too: on a connection error it reloads the slot map from the
    nodes still up before the next attempt, so a command waits out a promotion (a few
    ``cluster-node-timeout``) instead of failing with it.
    """
    return RedisCluster.from_url(
        url,
        max_connections=max_connections,
        socket_timeout=socket_timeout,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 10),
        retry_on_error=_RETRY_ON,
        encoding_errors="surrogateescape",
    )


async def load_keyring(redis: RedisClient, settings: Settings, names: Names) -> Keyring:
    """The keyring from ``REVOTP_SECRET_KEY``; unset, a secret generated once and kept in Redis.

    Keeping the secret beside the hashes defeats their purpose, so that fallback is for local
    use only and says so at start.
    """
    if settings.secret_key:
        return Keyring(settings.secret_key.encode(), [key.encode() for key in settings.previous_secret_keys])
    await redis.set(names.server_key, secrets.token_hex(32), nx=True)
    stored = await redis.get(names.server_key)
    if first_time("secret_key_unset"):
        log.warning(
            "secret_key_unset", detail="using a generated secret kept in Redis; set REVOTP_SECRET_KEY in production"
        )
    return Keyring(text(stored).encode())
