"""Challenge ids: 128 bits, the first 32 of them the slot of time in which the challenge expires.

The store files each challenge under its tenant and expiry slot (``common/store.py``), so an id
alone finds its record, and the sweeper finds every challenge due in a slot at once, with no
index entry per challenge. The other 96 bits come from the CSPRNG: an id is no secret (reading
a challenge takes the tenant's key or a watch token) but stays unguessable and unique.
"""

from __future__ import annotations

import base64
import re
import secrets

# A second: the sweeper expires a slot once it ended, so this bounds how late an expiry is announced.
EXPIRY_SLOT_MS = 1_000
CHALLENGE_ID_PREFIX = "ch_"
_SLOT_BYTES = 4
_RANDOM_BYTES = 12
_ID_SYMBOLS = -(-(_SLOT_BYTES + _RANDOM_BYTES) * 8 // 5)  # base32, unpadded: 26
CHALLENGE_ID = re.compile(rf"^{CHALLENGE_ID_PREFIX}[a-z2-7]{{{_ID_SYMBOLS}}}$")
_SLOT_SYMBOLS = -(-_SLOT_BYTES * 8 // 5)  # base32 symbols holding the slot's bits
_SLOT_SPARE_BITS = _SLOT_SYMBOLS * 5 - _SLOT_BYTES * 8
_SLOT_AT = slice(len(CHALLENGE_ID_PREFIX), len(CHALLENGE_ID_PREFIX) + _SLOT_SYMBOLS)
_ID_SPARE_BITS = _ID_SYMBOLS * 5 - (_SLOT_BYTES + _RANDOM_BYTES) * 8
_AS_INT_DIGITS = str.maketrans("abcdefghijklmnopqrstuvwxyz234567", "0123456789abcdefghijklmnopqrstuv")


def expiry_slot(expires_at_ms: int) -> int:
    return expires_at_ms // EXPIRY_SLOT_MS


def slot_end_ms(slot: int) -> int:
    """The first instant after the slot: every challenge filed in it has expired by then."""
    return (slot + 1) * EXPIRY_SLOT_MS


def new_challenge_id(expires_at_ms: int) -> str:
    raw = expiry_slot(expires_at_ms).to_bytes(_SLOT_BYTES, "big") + secrets.token_bytes(_RANDOM_BYTES)
    return id_of_bytes(raw)


def id_of_bytes(raw: bytes) -> str:
    """The id whose 16 bytes these are (``id_bytes``)."""
    return CHALLENGE_ID_PREFIX + base64.b32encode(raw).decode().rstrip("=").lower()


def id_bytes(challenge_id: str) -> bytes:
    """The 16 bytes an id spells, for where its text would cost memory (the code index).

    Read as one number, as ``slot_of`` reads the slot (1 µs against 4.6 for ``b32decode``): 26
    symbols hold 130 bits, the last two of them padding."""
    symbols = challenge_id.removeprefix(CHALLENGE_ID_PREFIX).translate(_AS_INT_DIGITS)
    return (int(symbols, 32) >> _ID_SPARE_BITS).to_bytes(_SLOT_BYTES + _RANDOM_BYTES, "big")


def slot_of(challenge_id: str) -> int | None:
    """The expiry slot an id was minted for; None for anything that is not a challenge id."""
    if not CHALLENGE_ID.fullmatch(challenge_id):
        return None
    # The slot is the first 32 bits: the first 7 base32 symbols (35 bits) read as a number.
    # Read with int() in base 32 (digits 0-9a-v) after renaming the symbols; 8 → 1 µs against
    # decoding the whole id, which ingest does at every creation and the matcher at every SMS.
    return int(challenge_id[_SLOT_AT].translate(_AS_INT_DIGITS), 32) >> _SLOT_SPARE_BITS
