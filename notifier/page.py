"""The verify page for the end user (docs/api.md, "The verify page"): the code in large type, a
one-tap ``sms:`` link, a QR code of it for computers, the time and attempts left, and the
challenge's state live over its socket. Plain HTML, CSS and JS from ``notifier/static``.

It opens only with the link from the create response (``common/verify_page.py``): the watch
token names the tenant, the sealed secret holds the code and body. Anything else gets the
same "no longer valid" page, in the browser's language, and learns nothing more.
"""

from __future__ import annotations

import html
import string
from importlib import resources

import msgspec
import segno
from aiohttp import web

from common.challenges import Challenge
from common.clock import now_ms
from common.funnel import Step, count
from common.sms_links import Platform, platform_of, sms_link
from common.verify_page import PageSecret, open_page_secret
from common.version import VERSION
from common.web import ApiError
from notifier import keys
from notifier.metrics import FUNNEL
from notifier.texts import TEXTS, language_of

ASSETS = ("revotp.js", "verify.js", "verify.css", "demo.js")
ASSET_BASE = f"/v1/assets/{VERSION}"
STATIC = resources.files("notifier").joinpath("static")
_PAGE = string.Template(STATIC.joinpath("verify.html").read_text())


def page_headers(*, frames: bool = False) -> dict[str, str]:
    """A page of ours: never cached, never referred, and running only our own script and style
    (``frames``: it may frame our own pages, as the demo frames the verify page)."""
    frame_src = "'self'" if frames else "'none'"
    return {
        "Cache-Control": "no-store",
        # The verify page's URL holds the watch token and the sealed code: never send it elsewhere.
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            f"img-src 'self' data:; frame-src {frame_src}; base-uri 'none'; form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
    }


async def verify_page(request: web.Request) -> web.Response:
    language = language_of(request.headers.get("Accept-Language", ""))
    texts = TEXTS[language]
    opened = await _open(request)
    if opened is None:
        message = html.escape(texts["not_found"])
        body = f'<!doctype html><html lang="{language}"><meta charset="utf-8"><title>{message}</title><p>{message}</p>'
        return web.Response(status=404, text=body, content_type="text/html", headers=page_headers())
    challenge, secret = opened
    platform = platform_of(request.headers.get("User-Agent", ""))
    # Phones hide the QR code (verify.css); computers see it.
    steps = [Step.PAGE_VIEWED] if platform is not Platform.ANY else [Step.PAGE_VIEWED, Step.QR_SHOWN]
    await _count(request, challenge.tenant_id, steps)
    # The QR code is read by another device: it carries the form every phone reads.
    qr = segno.make(sms_link(challenge.virtual_number, secret.sms_body), error="m")
    config = {
        "challenge_id": challenge.id,
        "watch_token": request.query["token"],
        "status": challenge.status,
        "attempts": challenge.attempts,
        "max_attempts": challenge.max_attempts,
        "expires_at_ms": challenge.expires_at,
        "now_ms": now_ms(),
        "texts": texts,
    }
    instructions = "device_instructions" if challenge.device_id else "instructions"
    page = _PAGE.substitute(
        lang=language,
        title=html.escape(texts["title"]),
        # A device-bound challenge's code is on the user's app, not on this page.
        instructions=html.escape(texts[instructions].format(number=challenge.virtual_number)),
        code_label=html.escape(texts["code_label"]),
        code=html.escape(secret.code),
        code_hidden="hidden" if challenge.device_id else "",
        send=html.escape(texts["send"]),
        sms_link=html.escape(sms_link(challenge.virtual_number, secret.sms_body, platform)),
        qr_svg=qr.svg_inline(scale=4, border=4, omitsize=True, title=texts["qr"]),
        qr_caption=html.escape(texts["qr"]),
        status_text=html.escape(texts["waiting"]),
        state=challenge.status,
        platform=platform.value,
        asset_base=ASSET_BASE,
        # JSON inside <script>: no "</" can close the element early.
        config=msgspec.json.encode(config).decode().replace("<", "\\u003c"),
    )
    return web.Response(text=page, content_type="text/html", headers=page_headers())


async def sms_link_tapped(request: web.Request) -> web.Response:
    """The page's beacon when the user taps "Send SMS" (the watch token opens it, nothing else)."""
    resources_ = request.app[keys.RESOURCES]
    challenge_id = request.match_info["challenge_id"]
    tenant_id = resources_.keyring.watch_tenant(request.query.get("token", ""), challenge_id)
    if tenant_id is None:
        raise ApiError(401, "invalid_token", "the watch token does not open this challenge")
    await _count(request, tenant_id, [Step.SMS_LINK_TAPPED])
    return web.Response(status=204)


async def _count(request: web.Request, tenant_id: str, steps: list[Step]) -> None:
    resources_ = request.app[keys.RESOURCES]
    await count(resources_.redis, resources_.names, tenant_id, steps, now_ms())
    for step in steps:
        FUNNEL.labels(tenant=tenant_id, step=step).inc()


async def _open(request: web.Request) -> tuple[Challenge, PageSecret] | None:
    resources_ = request.app[keys.RESOURCES]
    challenge_id = request.match_info["challenge_id"]
    tenant_id = resources_.keyring.watch_tenant(request.query.get("token", ""), challenge_id)
    if tenant_id is None:
        return None
    secret = open_page_secret(resources_.keyring, tenant_id, challenge_id, request.query.get("code", ""))
    if secret is None:
        return None
    challenge = await resources_.store.get(tenant_id, challenge_id)
    return (challenge, secret) if challenge is not None else None


async def latest_script(_: web.Request) -> web.StreamResponse:
    """``/v1/revotp.js``: the script of the running version, for pages that do not pin one."""
    raise web.HTTPFound(f"{ASSET_BASE}/revotp.js", headers={"Cache-Control": "no-cache"})


async def asset(request: web.Request) -> web.StreamResponse:
    """The page's script and style sheet, cached for good: their URL names the version."""
    name = request.match_info["name"]
    if request.match_info["version"] != VERSION or name not in ASSETS:
        raise web.HTTPNotFound()
    content_type = "text/javascript" if name.endswith(".js") else "text/css"
    body = STATIC.joinpath(name).read_bytes()
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)
