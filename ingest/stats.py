"""``GET /v1/stats``: the tenant's funnel per UTC day, to see where users drop off (common/funnel.py)."""

from __future__ import annotations

import msgspec
from aiohttp import web

from common.auth import authenticate_tenant
from common.funnel import RETENTION_DAYS, Step, read_days
from common.web import ApiError, json_response
from ingest import keys

DEFAULT_DAYS = 7


class FunnelDay(msgspec.Struct, frozen=True, kw_only=True):
    date: str  # UTC, YYYY-MM-DD
    page_viewed: int
    qr_shown: int
    sms_link_tapped: int
    sms_received: int
    verified: int


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    days: list[FunnelDay]  # oldest first, today last
    total: dict[str, int]


async def get_stats(request: web.Request) -> web.Response:
    resources = request.app[keys.RESOURCES]
    tenant_id = await authenticate_tenant(request, resources.tenants)
    raw = request.query.get("days", str(DEFAULT_DAYS))
    if not raw.isdigit():
        raise ApiError(400, "invalid_days", "days must be a whole number")
    days = int(raw)
    if not 1 <= days <= RETENTION_DAYS:
        raise ApiError(422, "invalid_days", f"days must be between 1 and {RETENTION_DAYS}")
    counted = await read_days(resources.redis, resources.names, tenant_id, request.app[keys.CLOCK](), days)
    rows = [FunnelDay(date=date, **counts) for date, counts in counted]
    total = {step.value: sum(counts[step.value] for _, counts in counted) for step in Step}
    return json_response(Stats(tenant=tenant_id, days=rows, total=total))
