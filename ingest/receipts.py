"""Receipts' public side (docs/api.md, Event streams): the JWKS that checks them, and revocation.

A receipt is signed when its verification is sent (``common/receipts.py``); here a tenant
revokes one and lists what it revoked, and anyone fetches the keys. A challenge's record is
gone some time after it expired, its receipt is not: once an id's expiry has passed, revoking
its receipt is accepted whether or not the record is still there (an unknown receipt revoked
harms nobody); before, the record must be the tenant's.
"""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.auth import authenticate_tenant
from common.challenge_ids import slot_end_ms, slot_of
from common.challenges import Status
from common.receipts import published_keys, receipt_id
from common.redis import text
from common.web import ApiError, json_response
from ingest import keys

JWKS_MAX_AGE_S = 300


class RevokedReceipt(msgspec.Struct, frozen=True):
    jti: str
    revoked_at: int  # ms


class RevokedReceipts(msgspec.Struct, frozen=True):
    revoked: list[RevokedReceipt]


async def jwks(request: web.Request) -> web.Response:
    resources = request.app[keys.RESOURCES]
    response = json_response(await published_keys(resources.redis, resources.names))
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_S}"
    return response


async def revoke_receipt(request: web.Request) -> web.Response:
    """Revoke the receipt of one of the tenant's verifications; revoking it again answers the same."""
    resources = request.app[keys.RESOURCES]
    tenant_id = await authenticate_tenant(request, resources.tenants)
    challenge_id = request.match_info["challenge_id"]
    slot = slot_of(challenge_id)
    challenge = await resources.store.get(tenant_id, challenge_id) if slot is not None else None
    if slot is None or (challenge is None and slot_end_ms(slot) > request.app[keys.CLOCK]()):
        # Not an id, or one whose record must still exist here: another tenant's, or none.
        raise ApiError(404, "challenge_not_found", "no such challenge")
    if challenge is not None and challenge.status is not Status.VERIFIED:
        raise ApiError(409, "challenge_not_verified", f"the challenge is {challenge.status}: it has no receipt")
    jti = receipt_id(challenge_id)
    key = resources.names.revoked_receipts(tenant_id)
    await resources.redis.hsetnx(key, jti, request.app[keys.CLOCK]())
    revoked_at = await resources.redis.hget(key, jti)
    return json_response(RevokedReceipt(jti=jti, revoked_at=int(text(revoked_at))))


async def revoked_receipts(request: web.Request) -> web.Response:
    resources = request.app[keys.RESOURCES]
    tenant_id = await authenticate_tenant(request, resources.tenants)
    stored = await resources.redis.hgetall(resources.names.revoked_receipts(tenant_id))
    revoked = sorted(
        (RevokedReceipt(jti=text(jti), revoked_at=int(text(at))) for jti, at in stored.items()),
        key=lambda receipt: (receipt.revoked_at, receipt.jti),
    )
    return json_response(RevokedReceipts(revoked=revoked))
