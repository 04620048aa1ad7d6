"""``REVOTP_BOOTSTRAP_TENANTS``: tenants a deployment ensures at start (dev, demo, tests).

Each entry is ``id:api_key`` or ``id:api_key:callback_secret``; no field holds a colon. Without
a third field revotp makes the callback secret itself (``revotp tenant rotate-callback-secret``
shows a new one); with it, the tenant's callbacks are signed with that secret from this start on.
"""

from __future__ import annotations

from typing import NamedTuple

from common.names import TENANT_ID_PATTERN

# A callback secret signs every event a tenant receives: too short and it can be guessed offline
# from one signed post. 16 characters is what any generated secret comfortably exceeds.
MIN_CALLBACK_SECRET = 16


class BootstrapError(ValueError):
    """An entry that does not read ``id:api_key[:callback_secret]``."""


class BootstrapTenant(NamedTuple):
    tenant_id: str
    api_key: str
    callback_secret: str | None


def parse_entry(entry: str) -> BootstrapTenant:
    fields = entry.split(":")
    name = repr(fields[0])
    if len(fields) not in (2, 3) or not fields[1]:
        raise BootstrapError(f"{name} must be written id:api_key or id:api_key:callback_secret")
    if not TENANT_ID_PATTERN.fullmatch(fields[0]):
        raise BootstrapError(f"{name} must be written id:api_key, the id in lowercase letters, digits, '-' or '_'")
    secret = fields[2] if len(fields) == 3 else None
    if secret is not None and len(secret) < MIN_CALLBACK_SECRET:
        raise BootstrapError(
            f"{name} must be written id:api_key:callback_secret, the secret at least {MIN_CALLBACK_SECRET} characters"
        )
    return BootstrapTenant(fields[0], fields[1], secret)


def first_api_key(entries: tuple[str, ...]) -> str:
    """The API key of the first entry: the demo tenant's, which the demo and the tools act as."""
    return parse_entry(entries[0]).api_key
