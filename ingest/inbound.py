"""The provider webhook handler: authenticate, parse, publish with confirm, answer (docs/api.md, Webhooks)."""

from __future__ import annotations

import secrets
import time

import structlog
from aiohttp import web

from common.messages import InboundSms
from common.metrics import labeled
from common.phones import read_delivered_number
from common.publisher import BrokerUnavailable
from common.web import ApiError, service_unavailable
from ingest import keys
from ingest.metrics import PUBLISH_SECONDS, SMS_ACCEPTED, SMS_DROPPED, WEBHOOKS_REFUSED
from ingest.providers.auth import check_source_address
from ingest.providers.base import Batch
from ingest.ratelimit import Admission

log = structlog.get_logger(__name__)


async def receive_sms(request: web.Request) -> web.StreamResponse:
    name = request.match_info["provider"]
    provider = request.app[keys.PROVIDERS].get(name)
    if provider is None:
        raise ApiError(404, "unknown_provider", f"no provider named {name!r}")
    if request.method not in provider.methods:
        allowed = ", ".join(sorted(provider.methods))
        raise ApiError(405, "method_not_allowed", f"{name} webhooks use {allowed}", headers={"Allow": allowed})
    structlog.contextvars.bind_contextvars(provider=name)
    try:
        check_source_address(provider, request)
        body = await request.read()
        await provider.authenticate(request, body)
        answer = await provider.handshake(request, body)
        if answer is not None:
            return answer
        batch = provider.parse(request, body)
    except (ApiError, web.HTTPException) as exc:
        WEBHOOKS_REFUSED.labels(provider=name, status=str(exc.status)).inc()
        log.info("webhook_refused", status=exc.status, reason=getattr(exc, "code", "http_error"))
        raise
    if batch.skipped:
        WEBHOOKS_REFUSED.labels(provider=name, status="skipped_entry").inc(batch.skipped)
        log.warning("webhook_entries_skipped", skipped=batch.skipped, accepted=len(batch.messages))
    messages = stamp(name, batch, request.app[keys.SETTINGS].default_region, request.app[keys.CLOCK]())
    # A sender that is no phone number (an alphanumeric id) can never verify: accepted, dropped.
    batch, messages = keep(name, batch, messages, [sms.sender_e164 is not None for sms in messages], "bad_sender")
    admission = await admit(request, name, messages)
    batch, messages = keep(name, batch, messages, [d.passes for d in admission.decisions], "sender_flood")
    try:
        await publish(request, name, messages)
    except ApiError:
        await request.app[keys.RATE_LIMITER].release(admission)
        raise
    return provider.accepted(batch)


def stamp(provider: str, batch: Batch, region: str, accepted_at: int) -> list[InboundSms]:
    """The batch as queue messages: ids, the acceptance instant, and both numbers read once."""
    return [
        InboundSms(
            message_id=secrets.token_hex(16),
            provider=provider,
            provider_message_id=sms.provider_message_id,
            sender=sms.sender,
            recipient=sms.recipient,
            sender_e164=read_delivered_number(sms.sender, sms.sender_country or region),
            recipient_e164=read_delivered_number(sms.recipient, region),
            text=sms.text,
            sender_country=sms.sender_country,
            received_at=sms.received_at,
            part=sms.part,
            accepted_at_ms=accepted_at,
        )
        for sms in batch.messages
    ]


def keep(
    provider: str, batch: Batch, messages: list[InboundSms], kept: list[bool], reason: str
) -> tuple[Batch, list[InboundSms]]:
    """The SMS marked kept; the others are dropped (answered as accepted, never queued) and counted."""
    dropped = kept.count(False)
    if not dropped:
        return batch, messages
    SMS_DROPPED.labels(provider=provider, reason=reason).inc(dropped)
    log.info("sms_dropped", reason=reason, dropped=dropped, kept=len(messages) - dropped)
    parsed = tuple(sms for sms, ok in zip(batch.messages, kept, strict=True) if ok)
    return Batch(parsed, skipped=batch.skipped + dropped), [sms for sms, ok in zip(messages, kept, strict=True) if ok]


async def admit(request: web.Request, provider: str, messages: list[InboundSms]) -> Admission:
    """Count each distinct SMS once; a virtual number over capacity refuses the whole request."""
    admission = await request.app[keys.RATE_LIMITER].admit(messages)
    if admission.busy:
        WEBHOOKS_REFUSED.labels(provider=provider, status="429").inc()
        log.warning("sms_rate_limited", count=len(messages), retry_after_s=admission.retry_after_s)
        raise ApiError(
            429,
            "rate_limited",
            "this virtual number receives more SMS than it may; retry later",
            headers={"Retry-After": str(admission.retry_after_s)},
        )
    return admission


async def publish(request: web.Request, provider: str, messages: list[InboundSms]) -> None:
    """Publish every SMS; return only once the broker confirmed them all."""
    if not messages:
        return
    started = time.perf_counter()
    try:
        await request.app[keys.PUBLISHER].publish_all(messages)
    except BrokerUnavailable:
        WEBHOOKS_REFUSED.labels(provider=provider, status="503").inc()
        raise service_unavailable("the message broker did not confirm; retry") from None
    PUBLISH_SECONDS.observe(time.perf_counter() - started)
    labeled(SMS_ACCEPTED, provider).inc(len(messages))
    log.info("sms_accepted", count=len(messages), message_ids=[sms.message_id for sms in messages][:10])
