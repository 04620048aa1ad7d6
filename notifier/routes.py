"""The URL map of the notifier."""

from aiohttp import web

from notifier import keys
from notifier.handlers import challenge_events, tenant_events
from notifier.page import asset, latest_script, sms_link_tapped, verify_page


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/events", tenant_events)
    app.router.add_get("/v1/challenges/{challenge_id}/events", challenge_events)
    app.router.add_get("/v1/challenges/{challenge_id}/page", verify_page)
    app.router.add_post("/v1/challenges/{challenge_id}/page/tapped", sms_link_tapped)
    app.router.add_get("/v1/assets/{version}/{name}", asset)
    app.router.add_get("/v1/revotp.js", latest_script)
    if app[keys.SETTINGS].demo:
        from notifier.demo import setup_demo  # only a demo imports what the demo needs

        setup_demo(app)
