"""The verify page: over HTTP, its QR code through a real decoder, and in a real headless Chromium.

The browser is Debian's ``chromium`` driven by Playwright; the QR code is rendered by librsvg's
``rsvg-convert`` and read by zbar's ``zbarimg`` (``bin/ensure-tools`` installs all three).
Screenshots of each state go to ``var/artifacts/`` (``tests/support/browser.py``).
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import time
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from common.clock import now_ms
from common.settings import Settings
from common.sms_links import sms_link
from ingest.app import create_app as create_ingest
from notifier.keys import SOCKETS
from notifier.page import ASSET_BASE
from tests.chaos.deployment import wait_for
from tests.integration.conftest import ACME_KEY, VIRTUAL_NUMBER, Pipeline, bearer, next_frame
from tests.integration.test_devices import device_challenge, enroll, rfc6238, secret_of
from tests.support.browser import chromium, page_errors, screenshot

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


async def run_tool(name: str, *args: str) -> str:
    """Run an installed tool (bin/ensure-tools) and return what it printed; it must succeed."""
    path = shutil.which(name)
    assert path, f"{name} is not installed: run bin/ensure-tools"
    process = await asyncio.create_subprocess_exec(path, *args, stdout=PIPE, stderr=PIPE)
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, f"{name}: {stderr.decode()}"
    return stdout.decode()


def page_path(challenge: dict[str, Any]) -> str:
    """The verify_url's path and query, to open on the test's own notifier."""
    parts = urlsplit(challenge["verify_url"])
    return f"{parts.path}?{parts.query}"


async def test_the_page_shows_the_code_and_the_link_each_phone_reads(pipeline: Pipeline):
    challenge = await pipeline.create(context="Pay 5 € & more", context_in_sms=True)
    response = await pipeline.notifier.get(page_path(challenge), headers={"User-Agent": IPHONE})
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    page = await response.text()
    assert f">{challenge['code']}</output>" in page
    ios_link = sms_link(VIRTUAL_NUMBER, challenge["sms_body"]).replace("?&body=", "&body=")
    assert f'href="{html.escape(ios_link)}"' in page
    assert '<html lang="en">' in page
    for asset in re.findall(r'(?:src|href)="(/v1/assets/[^"]+)"', page):
        served = await pipeline.notifier.get(asset)
        assert served.status == 200, asset
        assert "immutable" in served.headers["Cache-Control"]
    assert (await pipeline.notifier.get("/v1/assets/0.0.0-old/verify.js")).status == 404
    latest = await pipeline.notifier.get("/v1/revotp.js", allow_redirects=False)
    assert (latest.status, latest.headers["Location"]) == (302, f"{ASSET_BASE}/revotp.js")


async def test_the_page_speaks_the_browsers_language(pipeline: Pipeline):
    challenge = await pipeline.create()
    for accept, language, words in [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Confirmez votre numéro"),
        ("de-CH, en;q=0.8", "de", "Bestätigen Sie"),
        ("it", "it", "Conferma il tuo numero"),
        ("es-ES", "en", "Confirm your phone number"),
    ]:
        page = await (await pipeline.notifier.get(page_path(challenge), headers={"Accept-Language": accept})).text()
        assert f'<html lang="{language}">' in page
        assert words in page


async def test_a_link_that_was_not_made_for_this_challenge_opens_nothing(pipeline: Pipeline):
    first, second = await pipeline.create(), await pipeline.create()
    swapped = page_path(first).replace(first["id"], second["id"])
    damaged = re.sub(r"code=[^&]+", "code=AAAA", page_path(first))
    no_code = re.sub(r"&?code=[^&]+", "", page_path(first))
    for path in (swapped, damaged, no_code, f"/v1/challenges/{first['id']}/page"):
        response = await pipeline.notifier.get(path, headers={"Accept-Language": "fr"})
        assert response.status == 404, path
        text = await response.text()
        assert "plus valable" in text
        assert first["code"] not in text


@pytest.mark.parametrize("body", ["", " Pay 500 € to Shop & Co #7 +tax"])
async def test_the_qr_code_decodes_to_the_link_every_phone_reads(pipeline: Pipeline, body: str, tmp_path: Path):
    challenge = await pipeline.create(context=body.strip() or None, context_in_sms=bool(body))
    page = await (await pipeline.notifier.get(page_path(challenge))).text()
    svg = re.search(r"<svg .*?</svg>", page, re.DOTALL)
    assert svg, page
    (tmp_path / "qr.svg").write_text(
        svg[0].replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" ', 1)
    )
    await run_tool("rsvg-convert", "-b", "white", "-o", str(tmp_path / "qr.png"), str(tmp_path / "qr.svg"))
    decoded = (await run_tool("zbarimg", "--quiet", "--raw", str(tmp_path / "qr.png"))).rstrip("\n")
    assert decoded == sms_link(VIRTUAL_NUMBER, challenge["sms_body"])
    assert decoded == challenge["sms_uri"].replace("?body=", "?&body=")


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def open_page(
    browser: Browser, pipeline: Pipeline, challenge: dict[str, Any], language: str = "en", **device: Any
) -> Page:
    context = await browser.new_context(locale=language, extra_http_headers={"Accept-Language": language}, **device)
    page = await context.new_page()
    errors = page_errors(page)
    await page.goto(str(pipeline.notifier.make_url(page_path(challenge))))
    await expect(page.locator("#countdown")).to_have_text(re.compile(r"\S"))
    assert not errors, errors
    return page


async def state_of(page: Page, state: str) -> str:
    """The status line once the page reached ``state``. Waits read the DOM through Playwright's
    selectors: the page's CSP forbids the evaluated scripts other waits inject."""
    await expect(page.locator("body")).to_have_attribute("data-state", state, timeout=10_000)
    return await page.inner_text("#status")


async def test_the_page_turns_verified_by_itself_when_the_sms_lands(pipeline: Pipeline, browser: Browser):
    challenge = await pipeline.create(max_attempts=3)
    phone: dict[str, Any] = {"user_agent": IPHONE, "viewport": {"width": 360, "height": 740}, "is_mobile": True}
    page = await open_page(browser, pipeline, challenge, **phone)
    assert await page.inner_text("output.code") == challenge["code"]
    # A phone taps the link in its own form; the QR code is for computers.
    assert await page.get_attribute("#send", "href") == f"sms:{VIRTUAL_NUMBER}&body={challenge['code']}"
    assert not await page.is_visible("#qr")
    assert await page.evaluate("document.documentElement.scrollWidth <= 360")
    await page.click("#send")  # the messaging app does not open here; the funnel hears the tap

    async def tapped() -> bool:
        stats = await (await pipeline.ingest.get("/v1/stats?days=1", headers=bearer(ACME_KEY))).json()
        return bool(stats["total"]["sms_link_tapped"] == 1)

    assert await wait_for(tapped, within=10)
    assert "Attempts left: 3" in await page.inner_text("#attempts")
    assert re.fullmatch(r"Expires in [12]:\d\d", await page.inner_text("#countdown"))
    await screenshot(page, "verify-page-pending")

    wrong = "000000" if challenge["code"] != "000000" else "111111"
    await pipeline.sms(wrong)
    await expect(page.locator("#status")).to_contain_text("not right")
    assert "Attempts left: 2" in await page.inner_text("#status")
    await screenshot(page, "verify-page-wrong-code")

    await pipeline.sms(challenge["code"])
    assert "confirmed" in await state_of(page, "verified")
    assert not await page.is_visible("output.code")
    await screenshot(page, "verify-page-verified")


async def test_the_page_says_when_the_code_came_from_another_number(pipeline: Pipeline, browser: Browser):
    """A dual-SIM phone that sent from its other SIM: the page tells its user, and still waits."""
    challenge = await pipeline.create()
    page = await open_page(browser, pipeline, challenge)
    await pipeline.sms(challenge["code"], sender="+4915112345678")
    await expect(page.locator("#status")).to_contain_text("another number (+4915*******78)")
    assert await page.get_attribute("body", "data-state") == "pending"
    await screenshot(page, "verify-page-sender-mismatch")
    await pipeline.sms(challenge["code"])
    assert "confirmed" in await state_of(page, "verified")


async def test_a_device_challenges_page_sends_to_the_app_and_hears_the_verdict(pipeline: Pipeline, browser: Browser):
    device = await enroll(pipeline)
    challenge = await device_challenge(pipeline, device)
    page = await open_page(browser, pipeline, challenge)
    assert "Open the app on your phone" in await page.inner_text(".instructions")
    assert not await page.is_visible("output.code"), "the code is on the app, not on the page"
    assert await page.get_attribute("#send", "href") == f"sms:{VIRTUAL_NUMBER}?&body="  # the form every phone reads
    await screenshot(page, "verify-page-device")
    await pipeline.sms(rfc6238(secret_of(device), time.time()))
    assert "confirmed" in await state_of(page, "verified")


async def test_the_page_shows_expired_and_speaks_french(
    pipeline: Pipeline, browser: Browser, aiohttp_client: Any, settings: Settings
):
    # A tenant API whose clock is 28 s behind creates a 30 s challenge that ends in 2 s.
    behind = Pipeline(await aiohttp_client(create_ingest(settings, clock=lambda: now_ms() - 28_000)), pipeline.notifier)
    challenge = await behind.create(ttl_seconds=30)
    page = await open_page(browser, pipeline, challenge, language="fr")
    assert await page.get_attribute("html", "lang") == "fr"
    assert "Envoyer le SMS" in await page.inner_text("#send")
    assert "expiré" in await state_of(page, "expired")
    await screenshot(page, "verify-page-expired-fr")


async def test_the_page_reconnects_and_still_hears_the_verdict(pipeline: Pipeline, browser: Browser):
    challenge = await pipeline.create()
    page = await open_page(browser, pipeline, challenge)
    reopened = asyncio.Event()
    page.on("websocket", lambda _: reopened.set())
    # Cut every socket the notifier holds, as a restart or a network change would.
    await pipeline.notifier.app[SOCKETS].close_all()
    await asyncio.wait_for(reopened.wait(), 10)
    assert await page.get_attribute("body", "data-state") == "pending"
    tenant_ws = await pipeline.ready_socket()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(tenant_ws))["type"] == "challenge.verified"
    assert "confirmed" in await state_of(page, "verified")


async def test_revotp_js_follows_a_challenge_inside_another_sites_page(pipeline: Pipeline, browser: Browser):
    """A platform's own page, on its own origin, embeds revotp.js from the notifier."""
    challenge = await pipeline.create(max_attempts=3)
    script = str(pipeline.notifier.make_url(f"{ASSET_BASE}/revotp.js"))
    platform_page = f"""<!doctype html><meta charset="utf-8"><title>Shop</title><link rel="icon" href="data:,">
<div id="login" data-state="waiting"></div>
<script src="{script}"></script>
<script>
  window.seen = [];
  var login = document.getElementById("login");
  ["status", "attempt_failed", "verified", "failed", "expired", "canceled"].forEach(function (type) {{
    login.addEventListener("revotp:" + type, function (event) {{
      window.seen.push(type + ":" + event.detail.attempts);
      login.setAttribute("data-state", event.detail.status);
    }});
  }});
  window.watch = RevOtp.watch({{challengeId: {challenge["id"]!r}, watchToken: {challenge["watch_token"]!r},
                                element: login}});
</script>"""

    async def shop(_: web.Request) -> web.Response:
        return web.Response(text=platform_page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/login", shop)
    async with TestServer(app, host="127.0.0.1") as server:
        page = await browser.new_page()
        errors = page_errors(page)
        await page.goto(str(server.make_url("/login")))
        await expect(page.locator("#login")).to_have_attribute("data-state", "pending")
        assert await page.evaluate("window.watch.secondsLeft()") > 100
        await pipeline.sms("000000" if challenge["code"] != "000000" else "111111")
        await pipeline.sms(challenge["code"])
        await expect(page.locator("#login")).to_have_attribute("data-state", "verified")
        assert await page.evaluate("window.seen") == ["status:0", "attempt_failed:1", "verified:2"]
        assert not errors, errors


STYLESHEET = (Path(__file__).resolve().parents[2] / "notifier" / "static" / "verify.css").read_text()


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def test_the_page_is_usable_by_keyboard_and_screen_reader_and_readable(pipeline: Pipeline, browser: Browser):
    challenge = await pipeline.create()
    page = await open_page(browser, pipeline, challenge)
    assert await page.get_attribute("html", "lang") == "en"
    # The code has a name, the state changes are announced, the QR code is described.
    assert await page.locator("output.code").get_attribute("aria-labelledby") == "code-label"
    assert (await page.get_attribute("#status", "role"), await page.get_attribute("#status", "aria-live")) == (
        "status",
        "polite",
    )
    assert "Scan" in (await page.locator("#qr svg title").text_content() or "")
    # The one action is reached with the keyboard and shows where focus is.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "send"
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    # Text against its background, in every state, at least WCAG AA (4.5:1).
    pairs = [
        ("#1b1f24", "#f6f7f9"),
        ("#4a5360", "#f6f7f9"),
        ("#ffffff", "#0b57d0"),
        ("#ffffff", "#1e7d32"),
        ("#ffffff", "#b3261e"),
        ("#1b1f24", "#e8eaee"),
    ]
    for foreground, background in pairs:
        assert foreground in STYLESHEET or foreground == "#ffffff", foreground
        assert background in STYLESHEET, background
        assert contrast(foreground, background) >= 4.5, (foreground, background)
