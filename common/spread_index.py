"""A time index spread over several keys, so that no one key takes every write.

The sweepers' indexes (expiry slots, part deadlines) are sorted sets scored by when something
falls due. As one key, every challenge creation in the deployment writes the same key, which
in a Redis Cluster means one shard; spread over ``INDEX_BUCKETS`` keys named without a hash
tag, Redis Cluster places the buckets on different slots, so the writes spread with the shards.
A member always lands in the same bucket (by its CRC-32, ``key_of``), so adding it again and
removing it touch the one key that holds it; writers add with ``ZADD NX`` to ``key_of(member)``
in their own round trips. Reading what is due asks every bucket, in one pipeline.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable

from common.redis import RedisClient, text

# Fixed for a deployment: lowering it strands what the buckets above hold.
INDEX_BUCKETS = 16


class SpreadIndex:
    def __init__(self, redis: RedisClient, bucket_key: Callable[[int], str]) -> None:
        self._redis = redis
        self._bucket_key = bucket_key

    def key_of(self, member: str) -> str:
        return self._bucket_key(zlib.crc32(member.encode()) % INDEX_BUCKETS)

    async def due(self, cutoff_ms: int, limit: int) -> list[str]:
        """Up to ``limit`` members due at or before ``cutoff_ms``, earliest first."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for bucket in range(INDEX_BUCKETS):
                pipe.zrangebyscore(self._bucket_key(bucket), "-inf", cutoff_ms, start=0, num=limit, withscores=True)
            replies = await pipe.execute()
        merged = heapq.merge(*replies, key=lambda pair: pair[1])
        return [text(member) for member, _ in list(merged)[:limit]]

    async def remove(self, member: str) -> None:
        await self._redis.zrem(self.key_of(member), member)
