"""``/v1/tenant``: the calling tenant's own settings (docs/api.md, Tenant API)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.auth import authenticate_tenant
from common.json_input import JSON_INPUT_ERRORS
from common.tenants import TenantError
from common.web import ApiError, json_response, require_content_type
from ingest import keys


class TenantView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    # The tenant's own numbers, else the shared pool; assigned by the operator (`revotp tenant set-numbers`).
    virtual_numbers: tuple[str, ...]
    # Phones whose challenges only the tenant API's simulated SMS verify (test mode).
    test_numbers: tuple[str, ...]


class TestNumbers(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    numbers: list[str]


async def get_tenant(request: web.Request) -> web.Response:
    tenant_id = await authenticate_tenant(request, request.app[keys.RESOURCES].tenants)
    return json_response(await _view(request, tenant_id))


async def put_test_numbers(request: web.Request) -> web.Response:
    """Replace the tenant's test numbers; an empty list turns test mode off."""
    tenants = request.app[keys.RESOURCES].tenants
    tenant_id = await authenticate_tenant(request, tenants)
    require_content_type(request, "application/json")
    try:
        asked = msgspec.json.decode(await request.read(), type=TestNumbers)
    except msgspec.ValidationError as exc:
        raise ApiError(400, "invalid_body", str(exc)) from None
    except JSON_INPUT_ERRORS as exc:
        raise ApiError(400, "malformed_json", str(exc)) from None
    try:
        await tenants.set_test_numbers(tenant_id, asked.numbers)
    except TenantError as exc:
        raise ApiError(422, "invalid_test_numbers", str(exc)) from None
    return json_response(await _view(request, tenant_id))


async def _view(request: web.Request, tenant_id: str) -> TenantView:
    record = await request.app[keys.RESOURCES].tenants.get(tenant_id)
    if record is None:
        raise ApiError(404, "tenant_not_found", "the tenant of this key no longer exists")
    numbers = record.virtual_numbers or request.app[keys.SETTINGS].virtual_numbers
    return TenantView(id=tenant_id, virtual_numbers=numbers, test_numbers=record.test_numbers)
