"""Keyed code hashes, watch tokens, sealing, and the generic webhook signature."""

import hashlib
import hmac
from collections import Counter

import pytest
from cryptography.exceptions import InvalidTag

from common.codes import Alphabet, generate_code
from common.keyring import Keyring
from common.signing import sign

KEYRING = Keyring(b"k" * 32)


def test_code_hash_is_keyed_and_bound_to_tenant_and_phone():
    digest = KEYRING.code_hash("acme", "+33612345678", "483920")
    assert digest == KEYRING.code_hash("acme", "+33612345678", "483920")
    assert digest != Keyring(b"x" * 32).code_hash("acme", "+33612345678", "483920")
    assert digest != KEYRING.code_hash("globex", "+33612345678", "483920")
    assert digest != KEYRING.code_hash("acme", "+33612345679", "483920")
    assert len(digest) == 16
    assert b"483920" not in digest
    assert digest != hashlib.sha256(b"483920").digest()[:16]


def test_watch_token_opens_one_challenge_of_one_tenant():
    token = KEYRING.watch_token("acme", "ch_a")
    assert KEYRING.watch_tenant(token, "ch_a") == "acme"
    assert KEYRING.watch_tenant(token, "ch_b") is None
    assert KEYRING.watch_tenant(token.replace("acme", "globex"), "ch_a") is None
    assert KEYRING.watch_tenant("", "ch_a") is None
    assert KEYRING.watch_tenant("acme.", "ch_a") is None


def test_seal_round_trips_and_is_bound_to_its_context():
    sealed = KEYRING.seal(b"secret response", "ctx-1")
    assert b"secret response" not in sealed
    assert KEYRING.unseal(sealed, "ctx-1") == b"secret response"
    with pytest.raises(InvalidTag):
        KEYRING.unseal(sealed, "ctx-2")


@pytest.mark.parametrize("alphabet", list(Alphabet))
def test_generated_codes_use_only_their_alphabet(alphabet):
    codes = {generate_code(8, alphabet) for _ in range(200)}
    assert all(len(code) == 8 and set(code) <= set(alphabet.symbols) for code in codes)
    assert len(codes) > 190  # drawn at random, not a fixed sequence


def test_generic_signature_matches_the_documented_construction():
    body = b'{"id":"m1"}'
    expected = hmac.new(b"s3cret", b"1763708400." + body, hashlib.sha256).hexdigest()
    assert sign("s3cret", 1763708400, body) == f"v1={expected}"


def test_alphanumeric_codes_always_hold_a_digit_and_a_letter():
    for length in (4, 6, 10):
        for _ in range(2000):
            code = generate_code(length, Alphabet.ALPHANUMERIC)
            assert len(code) == length
            assert any(c.isdigit() for c in code), code
            assert any(c.isalpha() for c in code), code
            assert set(code) <= set(Alphabet.ALPHANUMERIC.symbols)


@pytest.mark.parametrize("alphabet", list(Alphabet))
def test_codes_are_spread_over_every_symbol_at_every_place(alphabet: Alphabet):
    codes = [generate_code(4, alphabet) for _ in range(20_000)]
    for place in range(4):
        counts = Counter(code[place] for code in codes)
        assert set(counts) == set(alphabet.symbols)  # leading zeros included
        if alphabet is Alphabet.NUMERIC:  # alphanumeric ones must hold a digit: digits weigh more
            expected = len(codes) / len(alphabet.symbols)
            assert all(abs(count - expected) < 6 * expected**0.5 for count in counts.values()), counts


def test_a_previous_secret_still_verifies_what_it_keyed_and_keys_nothing_new():
    old = Keyring(b"o" * 32)
    rotated = Keyring(b"n" * 32, previous=[b"o" * 32])
    stored_before = old.code_hash("acme", "+33612345678", "483920")
    candidate = rotated.candidate_hash("acme", "+33612345678", "483920")
    assert candidate == rotated.code_hash("acme", "+33612345678", "483920") + stored_before
    assert rotated.code_hash("acme", "+33612345678", "483920") != stored_before, "new hashes use the new secret"
    assert rotated.watch_tenant(old.watch_token("acme", "ch_a"), "ch_a") == "acme"
    assert Keyring(b"n" * 32).watch_tenant(old.watch_token("acme", "ch_a"), "ch_a") is None
    assert rotated.unseal(old.seal(b"first response", "ctx"), "ctx") == b"first response"
