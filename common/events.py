"""One entry of a tenant's event log: written by the atomic step, read here and nowhere else.

``common/lua/challenges.lua`` appends each entry with XADD as flat string fields; ``Event`` is
their one typed reading, used by the notifier's frames, the verdict model and the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import msgspec

from common.challenges import TERMINAL_EVENT_TYPES, EventType, Status
from common.redis import text


class Event(msgspec.Struct, frozen=True, kw_only=True):
    type: EventType
    challenge_id: str
    external_id: str | None = None
    status: Status
    attempts: int
    max_attempts: int
    phone: str
    virtual_number: str
    occurred_at: int  # ms
    verified_at: int | None = None  # ms
    test: bool = False  # a test challenge's event (test mode)
    callback_url: str | None = None  # the challenge's own callback target, if it named one
    context: str | None = None  # verified events: the text the user approved (the receipt's ctx)
    method: str = "code"  # how the phone is proven: "code" (revotp's), or "device_totp" (its app's)
    sender: str | None = None  # sender_mismatch: the phone the code came from, masked
    from_country: str | None = None  # sender_mismatch: that phone's country

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENT_TYPES

    @classmethod
    def from_fields(cls, raw: Mapping[Any, Any]) -> Event:
        """The XADD fields as Redis returns them (bytes or str); empty strings are absent values."""
        fields = {text(key): text(value) for key, value in raw.items()}
        present = {key: value for key, value in fields.items() if value != ""}
        return msgspec.convert(present, cls, strict=False)


# (cursor, event) of one log entry: the cursor is the entry's stream id
Entry = tuple[str, Event]

# A stream reply as redis-py returns it: [(id, {field: value}), …]
RawEntries = list[tuple[bytes, dict[bytes, bytes]]]


def decode_entries(raw: object) -> list[Entry]:
    entries = cast(RawEntries, raw or [])
    return [(text(entry_id), Event.from_fields(fields)) for entry_id, fields in entries]
