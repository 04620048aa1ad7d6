"""Single-use signature nonces, for schemes whose signature does not cover the body (Plivo V2).

Each nonce is recorded with a fingerprint of the request it came with. The same request again
(a provider's retry) passes; the same nonce on any other request is a replay and is refused.
"""

from __future__ import annotations

import hashlib

from common.names import Names
from common.redis import RedisClient, text


def fingerprint(method: str, path_qs: str, body: bytes) -> str:
    """What a nonce is bound to: the whole request as it arrived."""
    return hashlib.sha256(b"\n".join((method.encode(), path_qs.encode(), body))).hexdigest()


class NonceLedger:
    def __init__(self, redis: RedisClient, names: Names) -> None:
        self._redis = redis
        self._names = names

    async def claim(self, provider: str, nonce: str, request_fingerprint: str, *, ttl_ms: int) -> bool:
        """True when the nonce is new, or was first seen with this very request."""
        key = self._names.nonce(provider, nonce)
        first = await self._redis.set(key, request_fingerprint, nx=True, px=ttl_ms, get=True)
        return first is None or text(first) == request_fingerprint
