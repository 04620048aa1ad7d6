"""What every pending challenge leaves in Redis stays small, and what earlier versions wrote stays readable.

Redis rounds each allocation up to a size class (jemalloc: 80, 96, 112, 128 … bytes), so a few
bytes decide 16: a record's value takes its length plus 4 bytes of string header.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from common.challenge_ids import new_challenge_id
from common.challenges import Challenge, Status
from common.codes import Alphabet
from common.keyring import CODE_HASH_BYTES, Keyring
from common.names import CODE_TAG_CHARS, Names
from tests.support.earlier_forms import earlier_code_index_field, earlier_record

CREATED_AT = 1_800_000_000_000
CODE_HASH = bytes(range(CODE_HASH_BYTES))


def _pending(**overrides: object) -> Challenge:
    fields: dict[str, object] = {
        "id": new_challenge_id(CREATED_AT + 900_000),
        "tenant_id": "acme",
        "phone": "+33612345678",
        "virtual_number": "+15550100000",
        "status": Status.PENDING,
        "attempts": 0,
        "max_attempts": 3,
        "code_length": 6,
        "alphabet": Alphabet.NUMERIC,
        "created_at": CREATED_AT,
        "expires_at": CREATED_AT + 900_000,
        "external_id": "order-12345",
    }
    return Challenge(**{**fields, **overrides})  # type: ignore[arg-type]


def test_a_typical_pending_record_fits_a_96_byte_allocation():
    packed = _pending().pack(CODE_HASH)
    assert len(packed) + 4 <= 96, len(packed)


def test_a_code_index_field_is_the_tag_and_the_ids_16_bytes():
    challenge_id = new_challenge_id(CREATED_AT)
    tag = Keyring(b"k" * 32).code_tag("+15550100000", "123456")
    field = Names.code_index_field(tag, challenge_id)
    assert len(tag) == CODE_TAG_CHARS
    assert len(field) == CODE_TAG_CHARS + 16
    assert field.startswith(tag.encode())
    assert Names.challenge_in_code_index(field) == challenge_id


def test_a_code_index_field_of_the_earlier_form_names_its_challenge():
    challenge_id = new_challenge_id(CREATED_AT)
    assert Names.challenge_in_code_index(earlier_code_index_field("89abcdef", challenge_id)) == challenge_id


@given(
    status=st.sampled_from(Status),
    alphabet=st.sampled_from(Alphabet),
    attempts=st.integers(0, 10),
    ttl_ms=st.integers(1, 900_000),
    context=st.none() | st.text(min_size=1, max_size=40),  # "" is stored as absent
    verified=st.booleans(),
    device_id=st.none() | st.just("dev_1"),
)
def test_both_layouts_read_as_the_same_challenge(
    status: Status, alphabet: Alphabet, attempts: int, ttl_ms: int, context: str | None, verified: bool,
    device_id: str | None,
):  # fmt: skip
    challenge = _pending(
        status=status, alphabet=alphabet, attempts=attempts, expires_at=CREATED_AT + ttl_ms, context=context,
        verified_at=CREATED_AT + 5 if verified else None, device_id=device_id,
    )  # fmt: skip
    for packed in (challenge.pack(CODE_HASH), earlier_record(challenge, CODE_HASH)):
        assert Challenge.unpack(challenge.tenant_id, challenge.id, packed) == challenge
        assert Challenge.unpack_with_code_hash(challenge.tenant_id, challenge.id, packed) == (challenge, CODE_HASH)


def test_the_earlier_layout_is_written_as_earlier_versions_wrote_it():
    """What ``REVOTP_WRITE_EARLIER_RECORDS`` has ingest write, for matchers not yet upgraded."""
    challenge = _pending(context="checkout", callback_url="https://example.com/hook", device_id="dev_1")
    assert challenge.pack(CODE_HASH, earlier=True) == earlier_record(challenge, CODE_HASH)
