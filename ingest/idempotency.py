"""``Idempotency-Key`` on challenge creation: a retried create returns the first response.

The first response carries the code, so it is kept sealed (AES-GCM) and only for the
challenge's lifetime. A key reused with another body is refused; a key whose first request is
still running answers 409, as payment APIs do.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import msgspec
from cryptography.exceptions import InvalidTag

from common.errors import Conflict, InvalidInput, MalformedInput
from common.keyring import Keyring
from common.names import Names
from common.redis import RedisClient

MAX_KEY_LENGTH = 255
# How long a first request may hold its key before a retry may take over.
IN_FLIGHT_MS = 30_000


class _Record(msgspec.Struct, frozen=True):
    fingerprint: str
    sealed: bytes | None = None  # None while the first request runs


class IdempotencyCache:
    def __init__(self, redis: RedisClient, names: Names, keyring: Keyring) -> None:
        self._redis = redis
        self._names = names
        self._keyring = keyring

    async def once(
        self, tenant_id: str, key: str, body: bytes, keep_ms: int, create: Callable[[], Awaitable[bytes]]
    ) -> tuple[bytes, bool]:
        """``create()``'s response, or the stored one; the flag says whether it was replayed."""
        if not key or len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
            raise MalformedInput(
                "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters"
            )
        redis_key = self._names.idempotency(tenant_id, key)
        fingerprint = hashlib.sha256(body).hexdigest()
        claim = msgspec.msgpack.encode(_Record(fingerprint))
        if not await self._redis.set(redis_key, claim, nx=True, px=IN_FLIGHT_MS):
            stored = await self._redis.get(redis_key)
            return self._replay(stored if isinstance(stored, bytes) else None, fingerprint, redis_key), True
        try:
            response = await create()
        except BaseException:
            await self._redis.delete(redis_key)
            raise
        done = _Record(fingerprint, self._keyring.seal(response, redis_key))
        await self._redis.set(redis_key, msgspec.msgpack.encode(done), px=keep_ms)
        return response, False

    def _replay(self, raw: bytes | None, fingerprint: str, redis_key: str) -> bytes:
        if raw is None:
            raise Conflict("idempotency_in_progress", "a request with this Idempotency-Key just ended; retry")
        record = msgspec.msgpack.decode(raw, type=_Record)
        if record.fingerprint != fingerprint:
            raise InvalidInput("idempotency_key_reused", "this Idempotency-Key was used with another request body")
        if record.sealed is None:
            raise Conflict("idempotency_in_progress", "a request with this Idempotency-Key is still running")
        try:
            return self._keyring.unseal(record.sealed, redis_key)
        except InvalidTag:
            # Sealed under a server secret no longer held (rotated without a grace period).
            raise Conflict(
                "idempotency_replay_unavailable",
                "the first response to this Idempotency-Key can no longer be replayed; use a new key",
            ) from None
