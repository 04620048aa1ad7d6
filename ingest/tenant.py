"""``/v1/tenant``: the calling tenant's own settings (docs/api.md, Tenant API)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.auth import authenticate_tenant
from common.callback_targets import RefusedTarget, check_target
from common.redis import text
from common.settings import Settings
from common.tenants import TenantError
from common.web import ApiError, decode_body, json_response, require_content_type
from ingest import keys


class TenantView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    # The tenant's own numbers, else the shared pool; assigned by the operator (`revotp tenant set-numbers`).
    virtual_numbers: tuple[str, ...]
    # Where every event is posted, signed (docs/api.md, Callbacks); None for none.
    callback_url: str | None
    # Phones whose challenges only the tenant API's simulated SMS verify (test mode).
    test_numbers: tuple[str, ...]
    # ISO regions whose phones may answer challenges; empty: all.
    allowed_sender_countries: tuple[str, ...]
    # Only in the PATCH that gave a tenant older than per-tenant secrets its first one.
    callback_secret: str | msgspec.UnsetType = msgspec.UNSET


class NewCallbackSecret(msgspec.Struct, frozen=True):
    callback_secret: str


class TenantPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``PATCH /v1/tenant``: only the fields it names change."""

    # null: only challenges that name their own callback_url are posted
    callback_url: str | msgspec.UnsetType | None = msgspec.UNSET
    test_numbers: list[str] | msgspec.UnsetType = msgspec.UNSET
    allowed_sender_countries: list[str] | msgspec.UnsetType = msgspec.UNSET


class CallbackView(msgspec.Struct, frozen=True, kw_only=True):
    """Where the tenant's events are posted and how it went; never the secret that signs them."""

    url: str | None
    last_error: str | None = None
    last_error_at: int | None = None  # ms
    given_up: int = 0  # deliveries abandoned after REVOTP_CALLBACK_MAX_ATTEMPTS


_patch_decoder = msgspec.json.Decoder(TenantPatch)


async def get_tenant(request: web.Request) -> web.Response:
    tenant_id = await authenticate_tenant(request, request.app[keys.RESOURCES].tenants)
    return json_response(await _view(request, tenant_id))


async def patch_tenant(request: web.Request) -> web.Response:
    """Change the tenant's own settings: its callback URL, its test numbers (an empty list turns
    test mode off) and the countries its senders may be from (an empty list: all)."""
    tenants = request.app[keys.RESOURCES].tenants
    tenant_id = await authenticate_tenant(request, tenants)
    require_content_type(request, "application/json")
    patch = decode_body(await request.read(), _patch_decoder)
    if isinstance(patch.callback_url, str):
        await checked_callback_url(patch.callback_url, request.app[keys.SETTINGS])
    if not isinstance(patch.test_numbers, msgspec.UnsetType):
        try:
            await tenants.set_test_numbers(tenant_id, patch.test_numbers)
        except TenantError as exc:
            raise ApiError(422, "invalid_test_numbers", str(exc)) from None
    if not isinstance(patch.allowed_sender_countries, msgspec.UnsetType):
        try:
            await tenants.set_allowed_sender_countries(tenant_id, patch.allowed_sender_countries)
        except TenantError as exc:
            raise ApiError(422, "invalid_sender_countries", str(exc)) from None
    view = await _view(request, tenant_id)
    if not isinstance(patch.callback_url, msgspec.UnsetType):
        made = await tenants.set_callback(tenant_id, patch.callback_url)
        view = msgspec.structs.replace(view, callback_url=patch.callback_url)
        if made is not None:
            view = msgspec.structs.replace(view, callback_secret=made)
    return json_response(view)


async def rotate_callback_secret(request: web.Request) -> web.Response:
    """A new callback secret, shown in this answer only; posts are signed with it from now on
    (a post already under way may still carry the old signature)."""
    tenants = request.app[keys.RESOURCES].tenants
    tenant_id = await authenticate_tenant(request, tenants)
    return json_response(NewCallbackSecret(await tenants.rotate_callback_secret(tenant_id)))


async def get_callback(request: web.Request) -> web.Response:
    tenant_id = await authenticate_tenant(request, request.app[keys.RESOURCES].tenants)
    return json_response(await _callback_view(request, tenant_id))


async def checked_callback_url(url: str, settings: Settings) -> str:
    try:
        return await check_target(url, allow_private=settings.callback_allow_private)
    except RefusedTarget as exc:
        raise ApiError(422, "invalid_callback_url", str(exc)) from None


async def _callback_view(request: web.Request, tenant_id: str) -> CallbackView:
    resources = request.app[keys.RESOURCES]
    record = await resources.tenants.get(tenant_id)
    if record is None:
        raise ApiError(404, "tenant_not_found", "the tenant of this key no longer exists")
    status = {
        text(k): text(v) for k, v in (await resources.redis.hgetall(resources.names.callback_status(tenant_id))).items()
    }
    return CallbackView(
        url=record.callback_url,
        last_error=status.get("last_error"),
        last_error_at=int(status["last_error_at"]) if "last_error_at" in status else None,
        given_up=int(status.get("given_up", "0")),
    )


async def _view(request: web.Request, tenant_id: str) -> TenantView:
    record = await request.app[keys.RESOURCES].tenants.get(tenant_id)
    if record is None:
        raise ApiError(404, "tenant_not_found", "the tenant of this key no longer exists")
    numbers = record.virtual_numbers or request.app[keys.SETTINGS].virtual_numbers
    return TenantView(
        id=tenant_id,
        virtual_numbers=numbers,
        callback_url=record.callback_url,
        test_numbers=record.test_numbers,
        allowed_sender_countries=record.allowed_sender_countries,
    )
