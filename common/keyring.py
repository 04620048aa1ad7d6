"""Keys derived from the one server secret, and everything signed or hashed with them.

Codes exist in clear only in the create response: the store keeps ``HMAC(code key, …)``, so a
copy of Redis alone does not reveal or brute-force a code. Watch tokens are MACs, so they need
no storage. Idempotent replays of a create are sealed with AES-GCM for the challenge's lifetime.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from common.names import CODE_TAG_CHARS

_SEP = "\x1f"
CODE_HASH_BYTES = 16


def _derive(root: bytes, label: str) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=label.encode()).derive(root)


class Keyring:
    """Everything keyed by the server secret; ``previous`` secrets (a rotation's grace period)
    still verify what they keyed, and key nothing new."""

    def __init__(self, root_secret: bytes, previous: Sequence[bytes] = ()) -> None:
        if any(len(secret) < 16 for secret in (root_secret, *previous)):
            raise ValueError("the server secret must be at least 16 bytes")
        self._code_key = _derive(root_secret, "revotp code hash v1")
        self._watch_key = _derive(root_secret, "revotp watch token v1")
        self._index_key = _derive(root_secret, "revotp code index v1")
        self._seal = AESGCM(_derive(root_secret, "revotp seal v1"))
        self._previous = [Keyring(secret) for secret in previous]

    def code_hash(self, tenant_id: str, phone: str, code: str) -> bytes:
        """Keyed hash of a code; the tenant and phone make equal codes hash apart.

        Truncated to 128 bits, binary: it only has to tell one code from another under a key an
        attacker lacks, and every pending challenge keeps one in Redis."""
        message = _SEP.join((tenant_id, phone, code)).encode()
        return hmac.new(self._code_key, message, hashlib.sha256).digest()[:CODE_HASH_BYTES]

    def candidate_hash(self, tenant_id: str, phone: str, code: str) -> bytes:
        """A code an SMS offers, hashed under the current secret and then each previous one,
        concatenated: the atomic step matches it against a stored hash made under any of them."""
        own = self.code_hash(tenant_id, phone, code)
        return own + b"".join(keyring.code_hash(tenant_id, phone, code) for keyring in self._previous)

    def device_token(self, tenant_id: str, phone: str, device_id: str) -> bytes:
        """What a device-bound challenge stores in place of a code's hash: no SMS text hashes to
        it (a candidate never holds the separator); the matcher adds it to a candidate that is
        the device's current TOTP."""
        return self.code_hash(tenant_id, phone, f"device{_SEP}{device_id}")

    def device_tokens(self, tenant_id: str, phone: str, device_id: str) -> bytes:
        """The token under the current secret, then under each previous one (as candidate_hash)."""
        return b"".join(keyring.device_token(tenant_id, phone, device_id) for keyring in (self, *self._previous))

    def is_code(self, tenant_id: str, phone: str, code: str, stored: bytes) -> bool:
        """Whether ``code`` is the one whose hash was stored, under any secret still accepted."""
        return any(
            hmac.compare_digest(keyring.code_hash(tenant_id, phone, code), stored)
            for keyring in (self, *self._previous)
        )

    def code_tag(self, virtual_number: str, code: str) -> str:
        """Finds the challenges a code belongs to on a number, whoever sends it (the takeover
        signal): 32 bits of a keyed hash, hex, so the index reveals no code and takes little room."""
        message = _SEP.join((virtual_number, code.upper())).encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()[:CODE_TAG_CHARS]

    def code_tags(self, virtual_number: str, code: str) -> list[str]:
        """The tag under the current secret, then under each previous one."""
        return [keyring.code_tag(virtual_number, code) for keyring in (self, *self._previous)]

    def watch_token(self, tenant_id: str, challenge_id: str) -> str:
        """``<tenant>.<mac>``: opens the event socket of one challenge and nothing else."""
        return f"{tenant_id}.{self._watch_mac(tenant_id, challenge_id)}"

    def watch_tenant(self, token: str, challenge_id: str) -> str | None:
        """The tenant a watch token was issued by for this challenge, or None."""
        tenant_id, _, mac = token.rpartition(".")
        if not tenant_id or not mac or not token.isascii():  # a token we issued is ASCII
            return None
        for keyring in (self, *self._previous):
            expected = keyring._watch_mac(tenant_id, challenge_id)
            if hmac.compare_digest(mac.encode(), expected.encode()):
                return tenant_id
        return None

    def _watch_mac(self, tenant_id: str, challenge_id: str) -> str:
        message = _SEP.join((tenant_id, challenge_id)).encode()
        return hmac.new(self._watch_key, message, hashlib.sha256).hexdigest()[:40]

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._seal.encrypt(nonce, plaintext, context.encode())

    def unseal(self, sealed: bytes, context: str) -> bytes:
        """The plaintext, sealed under the current secret or a previous one; InvalidTag otherwise."""
        for keyring in (self, *self._previous):
            try:
                return keyring._seal.decrypt(sealed[:12], sealed[12:], context.encode())
            except InvalidTag:
                continue
        raise InvalidTag


def api_key_digest(api_key: str) -> str:
    """API keys are 256-bit random strings, so a plain SHA-256 is a sufficient stored form.

    A header that was no UTF-8 reaches us with its bytes as surrogates: they are hashed as the
    bytes they were, so such a key is simply one that matches nothing (401), not an error.
    """
    return hashlib.sha256(api_key.encode("utf-8", "surrogateescape")).hexdigest()
