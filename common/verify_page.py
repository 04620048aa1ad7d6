"""The verify page's link: what it shows is sealed into it, since revotp keeps no code in clear.

The create response carries ``verify_url``: the notifier's page for the challenge, its watch
token, and the code and SMS body sealed with AES-GCM under the server key, bound to the tenant
and challenge (``Keyring.seal``). Only the notifier can open it, and it opens for no other
challenge; the code stays out of Redis as before. Whoever holds the link sees the code, as
whoever the platform shows the code to does.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

import msgspec
from cryptography.exceptions import InvalidTag

from common.keyring import Keyring


class PageSecret(msgspec.Struct, array_like=True, frozen=True):
    code: str
    sms_body: str


def _context(tenant_id: str, challenge_id: str) -> str:
    return f"verify page {tenant_id} {challenge_id}"


def seal_page_secret(keyring: Keyring, tenant_id: str, challenge_id: str, secret: PageSecret) -> str:
    sealed = keyring.seal(msgspec.msgpack.encode(secret), _context(tenant_id, challenge_id))
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def open_page_secret(keyring: Keyring, tenant_id: str, challenge_id: str, sealed: str) -> PageSecret | None:
    """The page's secret, or None when ``sealed`` was not made for this challenge (or altered)."""
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
        plain = keyring.unseal(raw, _context(tenant_id, challenge_id))
        return msgspec.msgpack.decode(plain, type=PageSecret)
    except (binascii.Error, ValueError, InvalidTag, msgspec.DecodeError):
        return None


def verify_url(base_url: str, challenge_id: str, *, watch_token: str, sealed: str) -> str:
    return f"{base_url}/v1/challenges/{challenge_id}/page?{urlencode({'token': watch_token, 'code': sealed})}"
