"""The JSON frames of events (docs/api.md, Event streams): what the sockets send and the callbacks post."""

from __future__ import annotations

import msgspec

from common.challenges import Challenge, EventType
from common.clock import iso_ms
from common.events import Event
from common.receipts import ReceiptSigner


class EventFrame(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    type: str
    challenge_id: str
    external_id: str | None
    status: str
    attempts: int
    max_attempts: int
    phone: str
    virtual_number: str
    occurred_at: str
    cursor: str | msgspec.UnsetType = msgspec.UNSET
    expires_at: str | msgspec.UnsetType = msgspec.UNSET
    verified_at: str | msgspec.UnsetType = msgspec.UNSET
    test: bool = False  # shown only when true: a test challenge (test mode)
    method: str  # how the user proved the phone: "code" (revotp's) or "device_totp" (the enrolled app's)
    receipt: str | msgspec.UnsetType = msgspec.UNSET  # challenge.verified: the signed receipt
    sender: str | msgspec.UnsetType = msgspec.UNSET  # challenge.sender_mismatch: masked
    from_country: str | msgspec.UnsetType | None = msgspec.UNSET  # challenge.sender_mismatch


_encoder = msgspec.json.Encoder()


def _encode(frame: EventFrame) -> str:
    return _encoder.encode(frame).decode()


def cursor_key(cursor: str) -> tuple[int, int]:
    """Stream ids compare as (milliseconds, sequence), not as strings."""
    ms, _, seq = cursor.partition("-")
    return int(ms), int(seq)


def event_frame(cursor: str, event: Event, receipts: ReceiptSigner, tenant_id: str) -> str:
    """An event as sent and posted; a verification's with its signed receipt."""
    verified = event.type is EventType.VERIFIED
    receipt = receipts.receipt(tenant_id, event) if verified else msgspec.UNSET
    mismatch = event.type is EventType.SENDER_MISMATCH
    return _encode(
        EventFrame(
            type=event.type,
            cursor=cursor,
            challenge_id=event.challenge_id,
            external_id=event.external_id,
            status=event.status,
            attempts=event.attempts,
            max_attempts=event.max_attempts,
            phone=event.phone,
            virtual_number=event.virtual_number,
            occurred_at=iso_ms(event.occurred_at),
            verified_at=iso_ms(event.verified_at) if event.verified_at is not None else msgspec.UNSET,
            test=event.test,
            method=event.method,
            receipt=receipt,
            sender=event.sender or "" if mismatch else msgspec.UNSET,
            from_country=event.from_country if mismatch else msgspec.UNSET,
        )
    )


def status_frame(challenge: Challenge, now_ms: int) -> str:
    """The first frame of a challenge socket: its state now, so no verdict is missed."""
    return _encode(
        EventFrame(
            type="challenge.status",
            challenge_id=challenge.id,
            external_id=challenge.external_id,
            status=challenge.status,
            attempts=challenge.attempts,
            max_attempts=challenge.max_attempts,
            phone=challenge.phone,
            virtual_number=challenge.virtual_number,
            occurred_at=iso_ms(now_ms),
            expires_at=iso_ms(challenge.expires_at),
            verified_at=iso_ms(challenge.verified_at) if challenge.verified_at is not None else msgspec.UNSET,
            test=challenge.test,
            method="device_totp" if challenge.device_id else "code",
        )
    )


def ready_frame(cursor: str | None, *, gap: bool = False) -> str:
    """After the replay: the newest cursor, and whether retention removed events after the client's."""
    return _encoder.encode({"type": "ready", "cursor": cursor, "gap": gap}).decode()
