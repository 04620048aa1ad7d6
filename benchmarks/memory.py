"""Redis memory per pending challenge: what ``ChallengeStore.create`` leaves behind, per challenge.

Challenges are written through the store itself (records, routes, expiry slots, the code
index), for distinct
phones, each expiring 15 minutes after its own creation as the tenant API would set it, and
``used_memory`` is read before and after; the namespace is deleted at the end. Other writers on
the same Redis add noise, so the count is large.
"""

from __future__ import annotations

import asyncio
import uuid

from redis.asyncio import Redis

from common.challenge_ids import new_challenge_id
from common.challenges import Challenge, Status
from common.clock import now_ms
from common.codes import Alphabet, generate_code
from common.keyring import Keyring
from common.names import Names
from common.store import ChallengeStore

CONCURRENCY = 64


async def bytes_per_pending_challenge(url: str, count: int) -> float:
    redis = Redis.from_url(url, max_connections=CONCURRENCY * 2)
    # As long as the default namespace ("revotp"): every key carries it, so its length counts.
    namespace = f"rv{uuid.uuid4().hex[:4]}"
    names = Names(namespace)
    store = ChallengeStore(redis, names, event_retention_ms=86_400_000)
    keyring = Keyring(b"benchmark-secret-key-0123456789")
    gate = asyncio.Semaphore(CONCURRENCY)

    async def create(n: int) -> None:
        async with gate:
            phone, now = f"+3361{n:07d}", now_ms()
            challenge = Challenge(
                id=new_challenge_id(now + 900_000),
                tenant_id="bench",
                phone=phone,
                virtual_number="+15550100000",
                status=Status.PENDING,
                attempts=0,
                max_attempts=3,
                code_length=6,
                alphabet=Alphabet.NUMERIC,
                created_at=now,
                expires_at=now + 900_000,
                external_id=f"order-{n}",
            )
            code = generate_code(6, Alphabet.NUMERIC)
            tag = keyring.code_tag(challenge.virtual_number, code)  # the code index, as ingest writes it
            await store.create(challenge, keyring.code_hash("bench", phone, code), tag)

    try:
        before = int((await redis.info("memory"))["used_memory"])
        await asyncio.gather(*(create(n) for n in range(count)))
        after = int((await redis.info("memory"))["used_memory"])
        return (after - before) / count
    finally:
        async for key in redis.scan_iter(match=f"{namespace}:*", count=1000):
            await redis.delete(key)
        await redis.aclose()
