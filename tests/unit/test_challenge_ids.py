"""Challenge ids carry the slot of their expiry and 96 random bits, in the documented shape."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from common.challenge_ids import (
    CHALLENGE_ID,
    EXPIRY_SLOT_MS,
    expiry_slot,
    id_bytes,
    id_of_bytes,
    new_challenge_id,
    slot_end_ms,
    slot_of,
)

INSTANTS = st.integers(min_value=0, max_value=2**32 * EXPIRY_SLOT_MS - 1)


@given(INSTANTS)
@example(0)
@example(2**32 * EXPIRY_SLOT_MS - 1)  # every bit of the slot set
def test_an_id_names_the_slot_of_its_expiry(expires_at: int):
    challenge_id = new_challenge_id(expires_at)
    assert CHALLENGE_ID.fullmatch(challenge_id)
    assert slot_of(challenge_id) == expiry_slot(expires_at)
    assert expires_at < slot_end_ms(expiry_slot(expires_at)) <= expires_at + EXPIRY_SLOT_MS


def test_ids_of_the_same_expiry_differ():
    ids = {new_challenge_id(1_800_000_000_000) for _ in range(1000)}
    assert len(ids) == 1000
    assert len({challenge_id[:9] for challenge_id in ids}) == 1  # the slot: 32 bits, 6.4 characters


def test_what_is_no_challenge_id_has_no_slot():
    for text in ("", "ch_", "ch_" + "a" * 25, "ch_" + "A" * 26, "ch_" + "1" * 26, "xx_" + "a" * 26, "ch_" + "a" * 27):
        assert slot_of(text) is None


@given(INSTANTS, st.binary(min_size=12, max_size=12))
@example(0, bytes(12))
@example(2**32 * EXPIRY_SLOT_MS - 1, b"\xff" * 12)  # every bit set: the padding must not leak in
def test_an_id_and_its_16_bytes_give_each_other(expires_at: int, random_part: bytes):
    raw = expiry_slot(expires_at).to_bytes(4, "big") + random_part
    challenge_id = id_of_bytes(raw)
    assert CHALLENGE_ID.fullmatch(challenge_id)
    assert id_bytes(challenge_id) == raw
    assert slot_of(challenge_id) == expiry_slot(expires_at)
