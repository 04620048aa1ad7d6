"""Typed keys of the ingest application's resources (the shared ones come from common)."""

from aio_pika.abc import AbstractRobustConnection
from aiohttp import web

from common.clock import Clock
from common.publisher import Publisher
from common.resources import RESOURCES, SETTINGS
from ingest.idempotency import IdempotencyCache
from ingest.providers.base import Provider
from ingest.ratelimit import SmsRateLimiter

__all__ = ["AMQP", "CLOCK", "IDEMPOTENCY", "PROVIDERS", "PUBLISHER", "RATE_LIMITER", "RESOURCES", "SETTINGS"]

IDEMPOTENCY = web.AppKey("idempotency", IdempotencyCache)
RATE_LIMITER = web.AppKey("rate_limiter", SmsRateLimiter)
AMQP = web.AppKey("amqp", AbstractRobustConnection)
PUBLISHER = web.AppKey("publisher", Publisher)
PROVIDERS = web.AppKey("providers", dict[str, Provider])
# When challenges are created and canceled, and SMS accepted.
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
