"""Tenant authentication by ``Authorization: Bearer <api key>`` (ingest and notifier)."""

from __future__ import annotations

from aiohttp import web

from common.tenants import TenantRegistry
from common.web import ApiError

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="revotp"'}


async def authenticate_tenant(request: web.Request, tenants: TenantRegistry) -> str:
    """The tenant id of the request's API key; 401 when it has none or a wrong one."""
    scheme, _, api_key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not api_key.strip():
        raise ApiError(401, "missing_credentials", "send Authorization: Bearer <api_key>", headers=_CHALLENGE)
    tenant_id = await tenants.authenticate(api_key.strip())
    if tenant_id is None:
        raise ApiError(401, "invalid_credentials", "the API key is not valid", headers=_CHALLENGE)
    return tenant_id
