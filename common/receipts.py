"""Signed receipts of verifications (docs/api.md, Event streams).

Every ``challenge.verified`` frame carries a compact JWS a platform can keep as proof and
anyone can check offline against ``GET /.well-known/jwks.json``: who (the phone), what (``ctx``,
the SHA-256 of the transaction text the user approved), how (``method``) and when (``iat``).
Signatures are Ed25519 (``EdDSA``) or P-256 (``ES256``), by the key ``REVOTP_RECEIPT_KEY`` holds.
The claims are fixed by the event; Ed25519 signatures are deterministic too, so the notifier and
the callbacks, signing the same event apart, send the same receipt. ES256 signatures differ each
time they are made: two receipts of one verification, both valid.

An Ed25519 receipt is written here, the compact JWS that PyJWT writes (the same bytes, checked by
``tests/unit/test_receipt_signing.py``) and signed by libsodium: one verification's receipt
cost the notifier 35 µs through PyJWT and OpenSSL, 20 µs so (OpenSSL's Ed25519 alone 26 µs,
libsodium's 16), most of the notifier's CPU per verdict (``benchmarks/RESULTS.md``, 2026-12-08).
ES256 receipts are still PyJWT's.

Every key that ever signed is kept in the JWKS (``<namespace>:receipt-keys``) so that receipts
signed before a key rotation still verify; ``revotp receipt-keys forget KID`` removes one.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import jwt
import msgspec
import nacl.signing
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from common.events import Event
from common.logging import first_time
from common.names import Names
from common.redis import RedisClient, text
from common.settings import Settings, SettingsError

log = structlog.get_logger(__name__)

SigningKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_JWS = jwt.PyJWS()  # headers {"typ": "JWT", "alg", "kid"}, as jwt.encode writes them
_CLAIMS = msgspec.json.Encoder()
_CACHED = 4096  # receipts kept signed: a verified event is sent to a few sockets and one callback


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def context_digest(context: str | None) -> str:
    """``ctx``: base64url SHA-256 of the context the user saw (of "" when there was none)."""
    return _b64url(hashlib.sha256((context or "").encode()).digest())


def receipt_id(challenge_id: str) -> str:
    """``jti``: a challenge is verified once, so it has one receipt."""
    return f"rcpt_{challenge_id.removeprefix('ch_')}"


class ReceiptSigner:
    def __init__(self, key: SigningKey, issuer: str) -> None:
        if isinstance(key, Ed25519PrivateKey):
            self.algorithm = "EdDSA"
            public = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
            thumbprint = {name: public[name] for name in ("crv", "kty", "x")}
        elif isinstance(key.curve, ec.SECP256R1):
            self.algorithm = "ES256"
            public = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            thumbprint = {name: public[name] for name in ("crv", "kty", "x", "y")}
        else:
            raise SettingsError("REVOTP_RECEIPT_KEY must be an Ed25519 or a P-256 private key")
        # RFC 7638: the key's own thumbprint names it, the same in every process.
        canonical = json.dumps(thumbprint, separators=(",", ":"), sort_keys=True).encode()
        self.kid = _b64url(hashlib.sha256(canonical).digest())[:16]
        self.public_jwk: dict[str, Any] = {**public, "kid": self.kid, "alg": self.algorithm, "use": "sig"}
        self._key = key
        self._issuer = issuer
        self._signed: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._ed25519 = _Ed25519Jws(key, self.kid) if isinstance(key, Ed25519PrivateKey) else None

    def receipt(self, tenant_id: str, event: Event) -> str:
        """The receipt of a verified event (the same one each time it is asked for)."""
        cached = self._signed.get((tenant_id, event.challenge_id))
        if cached is not None:
            return cached
        claims = {
            "iss": self._issuer,
            "aud": tenant_id,
            "sub": event.challenge_id,
            "jti": receipt_id(event.challenge_id),
            "iat": (event.verified_at or event.occurred_at) // 1000,
            "phone": event.phone,
            "virtual_number": event.virtual_number,
            "method": event.method,
            "external_id": event.external_id,
            "ctx": context_digest(event.context),
        }
        # The claims are JSON already (msgspec), signed as they are: no JWT layer's second pass
        # over them (8 % of a notifier's CPU under load).
        payload = _CLAIMS.encode(claims)
        if self._ed25519 is not None:
            signed = self._ed25519.encode(payload)
        else:
            signed = _JWS.encode(payload, self._key, algorithm=self.algorithm, headers={"kid": self.kid})
        self._signed[(tenant_id, event.challenge_id)] = signed
        if len(self._signed) > _CACHED:
            self._signed.popitem(last=False)
        return signed


class _Ed25519Jws:
    """Compact ``EdDSA`` JWS (RFC 7515, 8037) with PyJWT's header, signed by libsodium."""

    def __init__(self, key: Ed25519PrivateKey, kid: str) -> None:
        seed = key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        self._signing_key = nacl.signing.SigningKey(seed)
        # PyJWT's header: its fields sorted, no spaces.
        header = json.dumps({"alg": "EdDSA", "kid": kid, "typ": "JWT"}, separators=(",", ":"), sort_keys=True)
        self._header = _b64url(header.encode())

    def encode(self, payload: bytes) -> str:
        signing_input = f"{self._header}.{_b64url(payload)}"
        signature = self._signing_key.sign(signing_input.encode()).signature
        return f"{signing_input}.{_b64url(signature)}"


async def load_signer(redis: RedisClient, settings: Settings, names: Names) -> ReceiptSigner:
    """The signer of ``REVOTP_RECEIPT_KEY``; unset, a key generated once and kept in Redis (dev
    only: a copy of Redis could then sign receipts). Its public key joins the JWKS."""
    if settings.receipt_key:
        signer = ReceiptSigner(read_key(settings.receipt_key), settings.public_url)
    else:
        generated = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        await redis.set(names.receipt_key, generated, nx=True)
        stored = await redis.get(names.receipt_key)
        if first_time("receipt_key_unset"):
            log.warning("receipt_key_unset", detail="receipts signed with a key kept in Redis; set REVOTP_RECEIPT_KEY")
        signer = ReceiptSigner(read_key(text(stored)), settings.public_url)
    await redis.hset(names.receipt_keys, signer.kid, json.dumps(signer.public_jwk))
    return signer


def read_key(setting: str) -> SigningKey:
    """A PEM private key, or the path of a file that holds one (a mounted secret)."""
    try:
        pem = setting if setting.lstrip().startswith("-----BEGIN") else Path(setting).read_text()
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except OSError as exc:
        raise SettingsError(f"REVOTP_RECEIPT_KEY names no readable file: {exc.strerror}") from None
    except ValueError as exc:
        raise SettingsError(f"REVOTP_RECEIPT_KEY is no PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise SettingsError("REVOTP_RECEIPT_KEY must be an Ed25519 or a P-256 private key")
    return key


async def published_keys(redis: RedisClient, names: Names) -> dict[str, list[dict[str, Any]]]:
    """The JWKS: every key that signed receipts here and was not forgotten."""
    stored = await redis.hvals(names.receipt_keys)
    return {"keys": sorted((json.loads(text(jwk)) for jwk in stored), key=lambda jwk: str(jwk["kid"]))}
