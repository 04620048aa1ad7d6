"""The provider webhook handler: authenticate, parse, publish with confirm, answer (API.md §4)."""

from __future__ import annotations

import time
import uuid

import structlog
from aiohttp import web

from common.clock import now_ms
from common.messages import InboundSms
from common.web import ApiError, service_unavailable
from ingest import keys
from ingest.metrics import PUBLISH_SECONDS, SMS_ACCEPTED, WEBHOOKS_REFUSED
from ingest.publisher import BrokerUnavailable

log = structlog.get_logger(__name__)


async def receive_sms(request: web.Request) -> web.Response:
    name = request.match_info["provider"]
    provider = request.app[keys.PROVIDERS].get(name)
    if provider is None:
        raise ApiError(404, "unknown_provider", f"no provider named {name!r}")
    structlog.contextvars.bind_contextvars(provider=name)
    try:
        body = await request.read()
        provider.authenticate(request, body)
        parsed = provider.parse(request, body)
    except (ApiError, web.HTTPException) as exc:
        status = exc.status
        WEBHOOKS_REFUSED.labels(provider=name, status=str(status)).inc()
        log.info("webhook_refused", status=status, reason=getattr(exc, "code", "http_error"))
        raise
    accepted_at = now_ms()
    batch = [
        InboundSms(
            message_id=uuid.uuid4().hex,
            provider=name,
            provider_message_id=sms.provider_message_id,
            sender=sms.sender,
            recipient=sms.recipient,
            text=sms.text,
            sender_country=sms.sender_country,
            received_at=sms.received_at,
            accepted_at_ms=accepted_at,
        )
        for sms in parsed
    ]
    started = time.perf_counter()
    try:
        await request.app[keys.PUBLISHER].publish_all(batch)
    except BrokerUnavailable:
        WEBHOOKS_REFUSED.labels(provider=name, status="503").inc()
        raise service_unavailable("the message broker did not confirm; retry") from None
    PUBLISH_SECONDS.observe(time.perf_counter() - started)
    SMS_ACCEPTED.labels(provider=name).inc(len(batch))
    log.info("sms_accepted", count=len(batch), message_ids=[sms.message_id for sms in batch][:10])
    return provider.accepted(len(batch))
