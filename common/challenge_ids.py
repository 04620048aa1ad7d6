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
CHALLENGE_ID = re.compile(r"^ch_[a-z2-7]{26}$")
_SLOT_BYTES = 4
_RANDOM_BYTES = 12


def expiry_slot(expires_at_ms: int) -> int:
    return expires_at_ms // EXPIRY_SLOT_MS


def slot_end_ms(slot: int) -> int:
    """The first instant after the slot: every challenge filed in it has expired by then."""
    return (slot + 1) * EXPIRY_SLOT_MS


def new_challenge_id(expires_at_ms: int) -> str:
    raw = expiry_slot(expires_at_ms).to_bytes(_SLOT_BYTES, "big") + secrets.token_bytes(_RANDOM_BYTES)
    return "ch_" + base64.b32encode(raw).decode().rstrip("=").lower()


def slot_of(challenge_id: str) -> int | None:
    """The expiry slot an id was minted for; None for anything that is not a challenge id."""
    if not CHALLENGE_ID.fullmatch(challenge_id):
        return None
    raw = base64.b32decode(challenge_id[3:].upper() + "======")
    return int.from_bytes(raw[:_SLOT_BYTES], "big")
