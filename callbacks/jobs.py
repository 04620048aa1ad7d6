"""One callback delivery as it travels through RabbitMQ: an event for one tenant's target."""

from __future__ import annotations

import msgspec
from aiormq.exceptions import AMQPError

from common.redis import TRANSIENT_ERRORS

# Redis or the broker away for now: wait and try again, never drop the work.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (*TRANSIENT_ERRORS, AMQPError)


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: str
    event_id: str  # the event's cursor in the tenant's log: receivers dedupe on it
    url: str
    body: str  # the event frame, exactly as the tenant's socket shows it
    attempt: int = 1


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Delivery)


def encode(delivery: Delivery) -> bytes:
    return _encoder.encode(delivery)


def decode(body: bytes) -> Delivery:
    return _decoder.decode(body)
