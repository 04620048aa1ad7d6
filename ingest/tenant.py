"""``GET /v1/tenant``: the calling tenant's own settings (docs/api.md, Tenant API)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.auth import authenticate_tenant
from common.web import ApiError, json_response
from ingest import keys


class TenantView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    # The tenant's own numbers, else the shared pool; assigned by the operator (`revotp tenant set-numbers`).
    virtual_numbers: tuple[str, ...]


async def get_tenant(request: web.Request) -> web.Response:
    tenants = request.app[keys.RESOURCES].tenants
    tenant_id = await authenticate_tenant(request, tenants)
    record = await tenants.get(tenant_id)
    if record is None:
        raise ApiError(404, "tenant_not_found", "the tenant of this key no longer exists")
    numbers = record.virtual_numbers or request.app[keys.SETTINGS].virtual_numbers
    return json_response(TenantView(id=tenant_id, virtual_numbers=numbers))
