"""Tenants and their API keys: keys are shown once and stored only as digests."""

from __future__ import annotations

import secrets

import msgspec
from redis.asyncio import Redis

from common.clock import now_ms
from common.keyring import api_key_digest
from common.names import TENANT_ID_PATTERN, Names
from common.redis import text


class TenantError(ValueError):
    """A tenant id or bootstrap entry that cannot be used."""


class TenantRecord(msgspec.Struct, frozen=True):
    name: str
    created_at: int


def new_api_key() -> str:
    return "rk_" + secrets.token_urlsafe(32)


def parse_bootstrap(entries: tuple[str, ...]) -> list[tuple[str, str]]:
    """``REVOTP_BOOTSTRAP_TENANTS`` entries ``id:api_key`` as pairs."""
    pairs = []
    for entry in entries:
        tenant_id, sep, api_key = entry.partition(":")
        if not sep or not api_key:
            raise TenantError(f"bootstrap tenant {entry.split(':')[0]!r} must be written id:api_key")
        check_tenant_id(tenant_id)
        pairs.append((tenant_id, api_key))
    return pairs


def check_tenant_id(tenant_id: str) -> None:
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise TenantError(f"tenant id {tenant_id!r} must be 1-63 lowercase letters, digits, '-' or '_'")


class TenantRegistry:
    def __init__(self, redis: Redis, names: Names) -> None:
        self._redis = redis
        self._names = names

    async def create(self, tenant_id: str) -> str:
        """Register a new tenant and return its API key (the only time it is seen)."""
        check_tenant_id(tenant_id)
        record = msgspec.json.encode(TenantRecord(name=tenant_id, created_at=now_ms()))
        if not await self._redis.hsetnx(self._names.tenants, tenant_id, record):
            raise TenantError(f"tenant {tenant_id!r} exists already")
        api_key = new_api_key()
        await self._redis.hset(self._names.api_keys, api_key_digest(api_key), tenant_id)
        return api_key

    async def ensure(self, tenant_id: str, api_key: str) -> None:
        """Make sure the tenant exists and accepts this key (idempotent, for bootstrap)."""
        check_tenant_id(tenant_id)
        record = msgspec.json.encode(TenantRecord(name=tenant_id, created_at=now_ms()))
        await self._redis.hsetnx(self._names.tenants, tenant_id, record)
        await self._redis.hset(self._names.api_keys, api_key_digest(api_key), tenant_id)

    async def bootstrap(self, entries: tuple[str, ...]) -> list[str]:
        """Ensure every ``REVOTP_BOOTSTRAP_TENANTS`` entry; return the tenant ids."""
        pairs = parse_bootstrap(entries)
        for tenant_id, api_key in pairs:
            await self.ensure(tenant_id, api_key)
        return [tenant_id for tenant_id, _ in pairs]

    async def authenticate(self, api_key: str) -> str | None:
        """The tenant owning this key, or None."""
        tenant_id = await self._redis.hget(self._names.api_keys, api_key_digest(api_key))
        return text(tenant_id) if tenant_id is not None else None
