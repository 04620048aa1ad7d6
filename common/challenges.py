"""The challenge record, its statuses and event types, as the store keeps them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import msgspec
from redis.typing import EncodableT, FieldT

from common.codes import Alphabet
from common.redis import text


class Status(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


TERMINAL_STATUSES = frozenset(Status) - {Status.PENDING}


class EventType(enum.StrEnum):
    VERIFIED = "challenge.verified"
    ATTEMPT_FAILED = "challenge.attempt_failed"
    FAILED = "challenge.failed"
    EXPIRED = "challenge.expired"
    CANCELED = "challenge.canceled"


TERMINAL_EVENT_TYPES = frozenset(EventType) - {EventType.ATTEMPT_FAILED}


class Challenge(msgspec.Struct, frozen=True, kw_only=True):
    """One challenge as stored (the code only as its keyed hash, which stays in Redis)."""

    id: str
    tenant_id: str
    phone: str
    virtual_number: str
    status: Status
    attempts: int
    max_attempts: int
    code_length: int
    alphabet: Alphabet
    created_at: int  # ms
    expires_at: int  # ms
    external_id: str | None = None
    context: str | None = None
    verified_at: int | None = None  # ms
    last_event_id: str | None = None

    def to_redis_hash(self, code_hash: str) -> dict[FieldT, EncodableT]:
        fields: dict[FieldT, EncodableT] = {
            name: value for name in self.__struct_fields__ if (value := getattr(self, name)) is not None
        }
        fields["code_hash"] = code_hash
        return fields

    @classmethod
    def from_redis_hash(cls, raw: Mapping[Any, Any]) -> Challenge:
        fields = {text(key): text(value) for key, value in raw.items() if value not in (b"", "")}
        fields.pop("code_hash", None)
        return msgspec.convert(fields, cls, strict=False)
