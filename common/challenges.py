"""The challenge record, its statuses and event types, as the store keeps them."""

from __future__ import annotations

import enum

import msgspec

from common.codes import Alphabet

# The longest a challenge may wait for its SMS (ttl_seconds).
MAX_TTL_S = 900


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
    # Its code came from another phone: nothing changed, the platform is warned (takeover?).
    SENDER_MISMATCH = "challenge.sender_mismatch"


TERMINAL_EVENT_TYPES = frozenset(EventType) - {EventType.ATTEMPT_FAILED, EventType.SENDER_MISMATCH}


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
    # For a tenant's test number: only the tenant API's simulated SMS reach it, never a real one.
    test: bool = False
    callback_url: str | None = None  # its events are posted here rather than to the tenant's URL
    device_id: str | None = None  # a device-bound challenge: the enrolled app's TOTP verifies it

    def pack(self, code_hash: bytes, *, earlier: bool = False) -> bytes:
        """The record as Redis keeps it (``StoredRecord``), with the keyed hash of its code;
        ``earlier``: in the layout versions before it read (``EarlierRecord``)."""
        record = StoredRecord(
            status=STATUS_CODES.index(self.status),
            attempts=self.attempts,
            max_attempts=self.max_attempts,
            code_length=self.code_length,
            alphabet=ALPHABET_CODES.index(self.alphabet),
            created_at=self.created_at,
            ttl_ms=self.expires_at - self.created_at,
            phone=self.phone,
            virtual_number=self.virtual_number,
            code_hash=msgspec.Raw(_msgpack_str_header(len(code_hash)) + code_hash),
            external_id=self.external_id or "",
            context=self.context or "",
            verified_at=self.verified_at or 0,
            last_event_id=self.last_event_id or "",
            test=self.test,
            callback_url=self.callback_url or "",
            device_id=self.device_id or "",
        )
        return _RECORD_ENCODER.encode(EarlierRecord.of(record) if earlier else record)

    @classmethod
    def unpack(cls, tenant_id: str, challenge_id: str, packed: bytes) -> Challenge:
        return cls._of_record(tenant_id, challenge_id, _decode_record(packed))

    @classmethod
    def unpack_with_code_hash(cls, tenant_id: str, challenge_id: str, packed: bytes) -> tuple[Challenge, bytes]:
        """The challenge and the keyed hash of its code, from one decoding of the record."""
        record = _decode_record(packed)
        raw = bytes(record.code_hash)  # inside its MessagePack string header: fixstr, else str8
        return cls._of_record(tenant_id, challenge_id, record), raw[1:] if raw[0] & 0xE0 == 0xA0 else raw[2:]

    @classmethod
    def _of_record(cls, tenant_id: str, challenge_id: str, record: StoredRecord) -> Challenge:
        return cls(
            id=challenge_id,
            tenant_id=tenant_id,
            phone=record.phone,
            virtual_number=record.virtual_number,
            status=STATUS_CODES[record.status],
            attempts=record.attempts,
            max_attempts=record.max_attempts,
            code_length=record.code_length,
            alphabet=ALPHABET_CODES[record.alphabet],
            created_at=record.created_at,
            expires_at=record.created_at + record.ttl_ms,
            external_id=record.external_id or None,
            context=record.context or None,
            verified_at=record.verified_at or None,
            last_event_id=record.last_event_id or None,
            test=record.test,
            callback_url=record.callback_url or None,
            device_id=record.device_id or None,
        )


# A stored record's status and alphabet are their positions here. challenges.lua lists the same
# names in the same order (STATUSES, ALPHABETS): add names only at the end.
STATUS_CODES = (Status.PENDING, Status.VERIFIED, Status.FAILED, Status.EXPIRED, Status.CANCELED)
ALPHABET_CODES = (Alphabet.NUMERIC, Alphabet.ALPHANUMERIC)


class StoredRecord(msgspec.Struct, array_like=True, frozen=True):
    """A challenge in Redis: one MessagePack array, the smallest form both Python and Lua read.

    ``common/lua/challenges.lua`` decodes and rewrites it with ``cmsgpack`` and names the same
    positions in the same order (``RECORD_FIELDS``): add fields only at the end. The id and
    tenant are in the key. Absent values are ``""`` or ``0``, because an array with a hole does
    not survive a round trip through Lua. The code hash is raw bytes inside a MessagePack
    string (Redis' ``cmsgpack`` has no binary type): written as such, never decoded here.

    Codes for the status and alphabet, and the TTL for the expiry, keep a typical record
    within 92 bytes, which Redis keeps in a 96-byte allocation: 16 B less per pending
    challenge than names and the expiry instant (``EarlierRecord``) took.
    """

    status: int  # position in STATUS_CODES
    attempts: int
    max_attempts: int
    code_length: int
    alphabet: int  # position in ALPHABET_CODES
    created_at: int  # ms
    ttl_ms: int  # expires_at - created_at
    phone: str
    virtual_number: str
    code_hash: msgspec.Raw
    external_id: str
    context: str
    verified_at: int  # ms, 0 until verified
    last_event_id: str
    test: bool = False
    callback_url: str = ""
    device_id: str = ""


class EarlierRecord(msgspec.Struct, array_like=True, frozen=True):
    """The layout written before ``StoredRecord``'s, still read (and kept by the atomic step)
    until the last such record's slot expires: the same positions with the status and alphabet
    by name and the expiry as an instant."""

    status: str
    attempts: int
    max_attempts: int
    code_length: int
    alphabet: str
    created_at: int  # ms
    expires_at: int  # ms
    phone: str
    virtual_number: str
    code_hash: msgspec.Raw
    external_id: str
    context: str
    verified_at: int  # ms, 0 until verified
    last_event_id: str
    test: bool = False  # absent from records written before test mode
    callback_url: str = ""  # absent from records written before callbacks
    device_id: str = ""  # absent from records written before device-bound codes

    @classmethod
    def of(cls, record: StoredRecord) -> EarlierRecord:
        fields = msgspec.structs.asdict(record)
        fields["status"] = STATUS_CODES[record.status]
        fields["alphabet"] = ALPHABET_CODES[record.alphabet]
        fields["expires_at"] = record.created_at + fields.pop("ttl_ms")
        return cls(**fields)

    def current(self) -> StoredRecord:
        fields = msgspec.structs.asdict(self)
        fields["status"] = STATUS_CODES.index(Status(self.status))
        fields["alphabet"] = ALPHABET_CODES.index(Alphabet(self.alphabet))
        fields["ttl_ms"] = fields.pop("expires_at") - self.created_at
        return StoredRecord(**fields)


_RECORD_ENCODER = msgspec.msgpack.Encoder()
_RECORD_DECODER = msgspec.msgpack.Decoder(StoredRecord)
_EARLIER_DECODER = msgspec.msgpack.Decoder(EarlierRecord)


def _decode_record(packed: bytes) -> StoredRecord:
    """Either layout: after the array's header, ``EarlierRecord`` starts with a string (the
    status), ``StoredRecord`` with a small integer (its code)."""
    first = packed[1] if packed[0] & 0xF0 == 0x90 else packed[3]  # fixarray, else array16
    if first & 0xE0 == 0xA0:  # fixstr
        return _EARLIER_DECODER.decode(packed).current()
    return _RECORD_DECODER.decode(packed)


def _msgpack_str_header(length: int) -> bytes:
    if length < 32:
        return bytes([0xA0 | length])
    if length < 256:
        return bytes([0xD9, length])
    raise ValueError("a code hash is a few dozen bytes")
