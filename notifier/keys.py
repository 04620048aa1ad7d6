"""Typed keys of the notifier application's shared resources."""

from aiohttp import web
from redis.asyncio import Redis

from common.keyring import Keyring
from common.settings import Settings
from common.store import ChallengeStore
from common.tenants import TenantRegistry
from notifier.hub import Hub
from notifier.sockets import OpenSockets

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
KEYRING = web.AppKey("keyring", Keyring)
STORE = web.AppKey("store", ChallengeStore)
TENANTS = web.AppKey("tenants", TenantRegistry)
HUB = web.AppKey("hub", Hub)
SOCKETS = web.AppKey("sockets", OpenSockets)
