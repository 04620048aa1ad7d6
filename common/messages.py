"""The one wire schema between ingest and matcher: inbound SMS accepted by ingest, one or several per message."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from common.json_input import JSON_INPUT_ERRORS

SCHEMA_VERSION = 1


class MessageDecodeError(ValueError):
    """The body is not an InboundSms: a poison message, never worth a retry."""


class SmsPart(msgspec.Struct, frozen=True):
    """Where a part of a long SMS belongs, for providers that deliver parts separately."""

    reference: str  # the provider's concatenation reference, shared by all parts
    total: int
    number: int  # 1-based


# The "provider" of the tenant API's simulated SMS (test mode): no webhook has this name, and
# such an SMS reaches the tenant's test challenges only, as a real SMS never does.
TEST_PROVIDER = "test-mode"


class InboundSms(msgspec.Struct, frozen=True, kw_only=True):
    """One SMS as a provider delivered it, stamped by ingest when accepted."""

    message_id: str  # ingest's own id (128 random bits, hex), copied into the AMQP message_id
    provider: str  # route name: generic, twilio, …, or TEST_PROVIDER
    provider_message_id: str  # the provider's id; (provider, id) dedupes retries
    sender: str  # as the provider wrote it
    recipient: str
    # Both numbers as read once, by ingest, in E.164; None when they are no phone numbers.
    sender_e164: str | None
    recipient_e164: str | None
    text: str
    accepted_at_ms: int  # when ingest accepted it; expiry is judged against this
    sender_country: str | None = None  # ISO region hint some providers send
    received_at: str | None = None  # the provider's own timestamp, informational
    part: SmsPart | None = None  # set when this is one part of a long SMS still to be reassembled
    schema_version: int = SCHEMA_VERSION


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(InboundSms | list[InboundSms])


def encode_many(batch: Sequence[InboundSms]) -> bytes:
    """One SMS as its object, several as a JSON array of them."""
    return _encoder.encode(batch[0] if len(batch) == 1 else list(batch))


def decode_many(body: bytes) -> list[InboundSms]:
    """The SMS of a message body: one object, or a non-empty array of them."""
    try:
        decoded = _decoder.decode(body)
    except JSON_INPUT_ERRORS as exc:
        raise MessageDecodeError(str(exc)) from exc
    batch = decoded if isinstance(decoded, list) else [decoded]
    if not batch:
        raise MessageDecodeError("an empty batch")
    for sms in batch:
        if sms.schema_version != SCHEMA_VERSION:
            raise MessageDecodeError(f"unsupported schema_version {sms.schema_version}")
    return batch
