"""Typed keys of the ingest application's shared resources."""

from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from redis.asyncio import Redis

from common.keyring import Keyring
from common.settings import Settings
from common.store import ChallengeStore
from common.tenants import TenantRegistry
from ingest.idempotency import IdempotencyCache
from ingest.providers.base import Provider
from ingest.publisher import Publisher

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
KEYRING = web.AppKey("keyring", Keyring)
STORE = web.AppKey("store", ChallengeStore)
TENANTS = web.AppKey("tenants", TenantRegistry)
IDEMPOTENCY = web.AppKey("idempotency", IdempotencyCache)
AMQP = web.AppKey("amqp", AbstractRobustConnection)
PUBLISHER = web.AppKey("publisher", Publisher)
PROVIDERS = web.AppKey("providers", dict[str, Provider])
