"""The URL map of the notifier."""

from aiohttp import web

from notifier.handlers import challenge_events, tenant_events


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/events", tenant_events)
    app.router.add_get("/v1/challenges/{challenge_id}/events", challenge_events)
