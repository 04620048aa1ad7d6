"""``/v1/devices``: enrol a tenant's app on a user's phone for device-bound codes (docs/api.md)."""

from __future__ import annotations

from typing import Annotated

import msgspec
import structlog
from aiohttp import web

from common.auth import authenticate_tenant
from common.challenges import Status
from common.clock import iso_ms
from common.devices import MAX_LABEL, Device
from common.phones import to_e164
from common.store import CancelOutcome
from common.web import ApiError, decode_body, json_response, require_content_type
from ingest import keys

log = structlog.get_logger(__name__)


class EnrollDevice(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    phone: Annotated[str, msgspec.Meta(description="the phone the app runs on, any format")]
    label: Annotated[str, msgspec.Meta(max_length=MAX_LABEL, description="for the user, e.g. a name")] | None = None
    region: Annotated[str | None, msgspec.Meta(description="ISO 3166 region for national formats")] = None


class DeviceView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    phone: str
    label: str | None
    created_at: str
    # Holds the TOTP secret: only in the enrolment's answer.
    otpauth_uri: str | msgspec.UnsetType = msgspec.UNSET
    canceled_challenges: int | msgspec.UnsetType = msgspec.UNSET  # only in the removal's answer


_enroll_decoder = msgspec.json.Decoder(EnrollDevice)


def _view(device: Device) -> DeviceView:
    return DeviceView(id=device.id, phone=device.phone, label=device.label, created_at=iso_ms(device.created_at))


async def enroll_device(request: web.Request) -> web.Response:
    resources = request.app[keys.RESOURCES]
    tenant_id = await authenticate_tenant(request, resources.tenants)
    require_content_type(request, "application/json")
    payload = decode_body(await request.read(), _enroll_decoder)
    region = payload.region or request.app[keys.SETTINGS].default_region
    phone = to_e164(payload.phone, region, strict=True)
    if phone is None:
        raise ApiError(422, "invalid_phone", "phone is not a valid phone number")
    enrolled = await resources.devices.enroll(tenant_id, phone, payload.label, request.app[keys.CLOCK]())
    log.info("device_enrolled", tenant_id=tenant_id, device_id=enrolled.device.id)
    return json_response(msgspec.structs.replace(_view(enrolled.device), otpauth_uri=enrolled.otpauth_uri), status=201)


async def get_device(request: web.Request) -> web.Response:
    resources = request.app[keys.RESOURCES]
    tenant_id = await authenticate_tenant(request, resources.tenants)
    device = await resources.devices.get(tenant_id, request.match_info["device_id"])
    if device is None:
        raise ApiError(404, "device_not_found", "no such device")
    return json_response(_view(device))


async def remove_device(request: web.Request) -> web.Response:
    """Forget the device and its secret, and cancel the challenges still pending for it."""
    resources = request.app[keys.RESOURCES]
    tenant_id = await authenticate_tenant(request, resources.tenants)
    device_id = request.match_info["device_id"]
    device = await resources.devices.remove(tenant_id, device_id)
    if device is None:
        raise ApiError(404, "device_not_found", "no such device")
    canceled = 0
    now = request.app[keys.CLOCK]()
    for challenge_id in await resources.devices.opened_for(tenant_id, device_id):
        challenge = await resources.store.get(tenant_id, challenge_id)
        if challenge is not None and challenge.status is Status.PENDING:
            outcome, _ = await resources.store.cancel(challenge, now)
            canceled += outcome is CancelOutcome.CANCELED
    log.info("device_removed", tenant_id=tenant_id, device_id=device_id, canceled=canceled)
    return json_response(msgspec.structs.replace(_view(device), canceled_challenges=canceled))
