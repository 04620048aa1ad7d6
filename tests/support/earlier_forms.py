"""What versions before the compact layouts wrote to Redis, for the tests that read it back."""

from __future__ import annotations

import msgspec

from common.challenges import Challenge, EarlierRecord, _msgpack_str_header


def earlier_record(challenge: Challenge, code_hash: bytes) -> bytes:
    """A record as written before ``StoredRecord``: status and alphabet by name, the expiry as an instant."""
    return msgspec.msgpack.encode(
        EarlierRecord(
            status=challenge.status,
            attempts=challenge.attempts,
            max_attempts=challenge.max_attempts,
            code_length=challenge.code_length,
            alphabet=challenge.alphabet,
            created_at=challenge.created_at,
            expires_at=challenge.expires_at,
            phone=challenge.phone,
            virtual_number=challenge.virtual_number,
            code_hash=msgspec.Raw(_msgpack_str_header(len(code_hash)) + code_hash),
            external_id=challenge.external_id or "",
            context=challenge.context or "",
            verified_at=challenge.verified_at or 0,
            last_event_id=challenge.last_event_id or "",
            test=challenge.test,
            callback_url=challenge.callback_url or "",
            device_id=challenge.device_id or "",
        )
    )


def earlier_code_index_field(tag: str, challenge_id: str) -> bytes:
    """A code index field as written before: a 64-bit hex tag (its first 32 bits the tag of
    today; the rest is never read), then the id without ``ch_``, as text."""
    return (tag + "0" * (16 - len(tag)) + challenge_id.removeprefix("ch_")).encode()
