"""Receipts written by revotp's own compact JWS are PyJWT's, byte for byte, and check out."""

from __future__ import annotations

import jwt
import jwt.utils
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwcrypto import jwk, jws

from common.challenges import EventType, Status
from common.events import Event
from common.receipts import ReceiptSigner

ISSUER = "https://revotp.example"


def verified(challenge_id: str = "ch_0123456789abcdef", **fields: object) -> Event:
    return Event(
        type=EventType.VERIFIED,
        challenge_id=challenge_id,
        status=Status.VERIFIED,
        attempts=1,
        max_attempts=3,
        phone="+33612345678",
        virtual_number="+15550100000",
        occurred_at=1_796_698_647_000,
        verified_at=1_796_698_647_000,
        **fields,  # type: ignore[arg-type]
    )


def pyjwt_receipt(signer: ReceiptSigner, key: Ed25519PrivateKey, receipt: str) -> str:
    """The receipt PyJWT writes for the same claims and key."""
    payload = jwt.utils.base64url_decode(receipt.split(".")[1])
    return jwt.PyJWS().encode(payload, key, algorithm="EdDSA", headers={"kid": signer.kid})


@pytest.mark.parametrize(
    "event",
    [
        verified(),
        verified("ch_ffffffffffffffff", external_id="order-7 «é»", context="Pay 12,00 € to Ünïcode"),
    ],
)
def test_an_ed25519_receipt_is_the_one_pyjwt_writes(event: Event):
    key = Ed25519PrivateKey.generate()
    signer = ReceiptSigner(key, ISSUER)
    receipt = signer.receipt("acme", event)
    assert receipt == pyjwt_receipt(signer, key, receipt)


def test_an_ed25519_receipt_verifies_with_the_published_key_and_says_what_was_verified():
    key = Ed25519PrivateKey.generate()
    signer = ReceiptSigner(key, ISSUER)
    receipt = signer.receipt("acme", verified())
    claims = jwt.decode(receipt, key.public_key(), algorithms=["EdDSA"], audience="acme", issuer=ISSUER)
    assert (claims["sub"], claims["phone"], claims["method"]) == ("ch_0123456789abcdef", "+33612345678", "code")
    assert jwt.get_unverified_header(receipt) == {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}
    # and with a JOSE library that is not the one the header imitates
    checked = jws.JWS()
    checked.deserialize(receipt)
    checked.verify(jwk.JWK(**signer.public_jwk))


def test_an_ed25519_receipt_signed_by_another_key_fails():
    signer = ReceiptSigner(Ed25519PrivateKey.generate(), ISSUER)
    receipt = signer.receipt("acme", verified())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(receipt, Ed25519PrivateKey.generate().public_key(), algorithms=["EdDSA"], audience="acme")


def test_a_p256_receipt_is_still_es256():
    key = ec.generate_private_key(ec.SECP256R1())
    signer = ReceiptSigner(key, ISSUER)
    receipt = signer.receipt("acme", verified())
    assert jwt.get_unverified_header(receipt)["alg"] == "ES256"
    assert jwt.decode(receipt, key.public_key(), algorithms=["ES256"], audience="acme")["sub"] == "ch_0123456789abcdef"
