"""The URL map of ingest; handlers live in their own modules."""

from aiohttp import web

from common.version import VERSION
from common.web import json_response
from ingest.challenges import cancel_challenge, create_challenge, get_challenge, simulate_sms
from ingest.devices import enroll_device, get_device, remove_device
from ingest.inbound import receive_sms
from ingest.openapi import build_openapi
from ingest.receipts import jwks, revoke_receipt, revoked_receipts
from ingest.stats import get_stats
from ingest.tenant import get_callback, get_tenant, patch_tenant, rotate_callback_secret


async def openapi(_: web.Request) -> web.Response:
    return json_response(build_openapi(VERSION))


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/challenges", create_challenge)
    app.router.add_get("/v1/challenges/{challenge_id}", get_challenge, allow_head=False)
    app.router.add_delete("/v1/challenges/{challenge_id}", cancel_challenge)
    app.router.add_post("/v1/challenges/{challenge_id}/simulate-sms", simulate_sms)
    app.router.add_post("/v1/challenges/{challenge_id}/revoke-receipt", revoke_receipt)
    app.router.add_get("/v1/receipts/revoked", revoked_receipts, allow_head=False)
    app.router.add_post("/v1/devices", enroll_device)
    app.router.add_get("/v1/devices/{device_id}", get_device, allow_head=False)
    app.router.add_delete("/v1/devices/{device_id}", remove_device)
    app.router.add_get("/.well-known/jwks.json", jwks, allow_head=False)
    app.router.add_get("/v1/tenant", get_tenant, allow_head=False)
    app.router.add_get("/v1/stats", get_stats, allow_head=False)
    app.router.add_patch("/v1/tenant", patch_tenant)
    app.router.add_get("/v1/tenant/callback", get_callback, allow_head=False)
    app.router.add_post("/v1/tenant/callback-secret", rotate_callback_secret)
    app.router.add_route("*", "/v1/inbound/{provider}", receive_sms)
    app.router.add_get("/openapi.json", openapi)
