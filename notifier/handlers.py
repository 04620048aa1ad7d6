"""The two websocket routes of docs/api.md, Event streams: a tenant's stream and one challenge's stream."""

from __future__ import annotations

from aiohttp import web

from common.auth import authenticate_tenant
from common.challenges import TERMINAL_STATUSES
from common.clock import now_ms
from common.events import Entry
from common.frames import event_frame, ready_frame, status_frame
from common.metrics import labeled
from common.resources import RedisResources
from common.web import ApiError
from notifier import keys
from notifier.cursors import resume_gap
from notifier.hub import latest_cursor, log_bounds, read_range
from notifier.metrics import CONNECTIONS, EVENTS_SENT
from notifier.streaming import stream_live

REPLAY_PAGE = 500
MAX_CLIENT_FRAME = 4096


def _open_socket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=request.app[keys.SETTINGS].ws_ping_s, max_msg_size=MAX_CLIENT_FRAME)
    request.app[keys.SOCKETS].add(ws)
    return ws


async def _replay(resources: RedisResources, tenant_id: str, after: str, ws: web.WebSocketResponse) -> str:
    """Send every event of the tenant's log after ``after`` in order; return the last cursor sent."""
    last = after
    key = resources.names.events(tenant_id)
    while True:
        page = await read_range(resources.redis, key, last, REPLAY_PAGE)
        for cursor, event in page:
            await ws.send_str(event_frame(cursor, event, resources.receipts, tenant_id))
            labeled(EVENTS_SENT, "tenant").inc()
            last = cursor
        if len(page) < REPLAY_PAGE:
            return last


async def tenant_events(request: web.Request) -> web.StreamResponse:
    app = request.app
    tenant_id = await authenticate_tenant(request, app[keys.RESOURCES].tenants)
    after = request.query.get("after")
    redis = app[keys.RESOURCES].redis
    log_key = app[keys.RESOURCES].names.events(tenant_id)
    # Checked before the upgrade, so that a bad cursor is a plain 400.
    gap = resume_gap(after, await log_bounds(redis, log_key)) if after is not None else False
    ws = _open_socket(request)
    await ws.prepare(request)
    with CONNECTIONS.labels(stream="tenant").track_inprogress():
        async with app[keys.HUB].subscribe(tenant_id) as subscription:
            if after is not None:
                last: str | None = await _replay(app[keys.RESOURCES], tenant_id, after, ws)
            else:
                last = await latest_cursor(redis, log_key)
            await ws.send_str(ready_frame(last, gap=gap))
            await stream_live(
                ws,
                subscription,
                last_sent=last,
                stream="tenant",
                receipts=app[keys.RESOURCES].receipts,
                tenant_id=tenant_id,
            )
    return ws


async def challenge_events(request: web.Request) -> web.StreamResponse:
    app = request.app
    challenge_id = request.match_info["challenge_id"]
    tenant_id = app[keys.RESOURCES].keyring.watch_tenant(request.query.get("token", ""), challenge_id)
    if tenant_id is None:
        raise ApiError(401, "invalid_token", "the watch token does not open this challenge")
    store = app[keys.RESOURCES].store
    if await store.get(tenant_id, challenge_id) is None:
        raise ApiError(404, "challenge_not_found", "no such challenge")
    ws = _open_socket(request)
    await ws.prepare(request)
    with CONNECTIONS.labels(stream="challenge").track_inprogress():
        async with app[keys.HUB].subscribe(tenant_id) as subscription:
            # Read after subscribing: any later change is in the subscription.
            challenge = await store.get(tenant_id, challenge_id)
            if challenge is None:
                await ws.close()
                return ws
            await ws.send_str(status_frame(challenge, now_ms()))
            if challenge.status in TERMINAL_STATUSES:
                await ws.close()
                return ws

            def this_challenge(entry: Entry) -> bool:
                return entry[1].challenge_id == challenge_id

            await stream_live(
                ws,
                subscription,
                last_sent=challenge.last_event_id,
                wanted=this_challenge,
                stream="challenge",
                close_after_terminal=True,
                receipts=app[keys.RESOURCES].receipts,
                tenant_id=tenant_id,
            )
    return ws
