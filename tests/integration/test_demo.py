"""``/demo``: off unless asked for; on, a verification in one browser tab, in a real Chromium.

A newcomer's path: open the demo, get a code for a number, "send" the SMS from the simulate
panel, and watch the framed verify page turn verified by itself.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from playwright.async_api import expect

from common.settings import Settings
from notifier.app import create_app as create_notifier
from tests.integration.conftest import PHONE, VIRTUAL_NUMBER, AppClient, Pipeline, next_frame
from tests.support.browser import chromium, page_errors, screenshot


@pytest.fixture
async def demo(aiohttp_client: Any, settings: Settings, ingest: AppClient) -> AppClient:
    """A notifier in demo mode whose demo endpoints reach the test's ingest."""
    assert ingest.port is not None
    demo_settings = msgspec.structs.replace(settings, demo=True, ingest_port=ingest.port)
    client: AppClient = await aiohttp_client(create_notifier(demo_settings))
    return client


async def test_the_demo_is_off_unless_asked_for(notifier: AppClient):
    assert (await notifier.get("/demo")).status == 404
    assert (await notifier.post("/demo/sms", json={"sender": PHONE, "to": VIRTUAL_NUMBER, "text": "1"})).status == 404


async def test_the_demo_creates_for_its_tenant_and_sends_signed_sms(demo: AppClient, ingest: AppClient, matcher: Any):
    pipeline = Pipeline(ingest, demo)
    tenant_ws = await pipeline.ready_socket()
    created = await demo.post("/demo/challenges", json={"phone": PHONE})
    assert created.status == 200
    challenge = await created.json()
    assert set(challenge) == {"id", "phone", "virtual_number", "sms_body", "verify_path"}
    assert "code" not in challenge  # the page shows it; the demo's own answer need not
    sent = await demo.post("/demo/sms", json={"sender": PHONE, "to": VIRTUAL_NUMBER, "text": challenge["sms_body"]})
    assert sent.status == 202
    event = await next_frame(tenant_ws)
    assert (event["type"], event["challenge_id"]) == ("challenge.verified", challenge["id"])


async def test_bad_demo_requests_get_the_error_envelope(demo: AppClient):
    for path, body, status, code in [
        ("/demo/challenges", {"phone": "not a phone"}, 422, "invalid_phone"),
        ("/demo/challenges", {"phone": PHONE, "api_key": "x"}, 400, "invalid_body"),
        ("/demo/sms", {"sender": PHONE}, 400, "invalid_body"),
    ]:
        response = await demo.post(path, json=body)
        assert response.status == status, (path, body)
        assert (await response.json())["error"]["code"] == code
    malformed = await demo.post("/demo/sms", data=b"{", headers={"Content-Type": "application/json"})
    assert malformed.status == 400


async def test_a_newcomer_sees_a_verification_in_the_browser(demo: AppClient, ingest: AppClient, matcher: Any):
    async with chromium() as browser:
        page = await browser.new_page()
        errors = page_errors(page)
        await page.goto(str(demo.make_url("/demo")))
        await page.click("#get-code")
        verify = page.frame_locator("#verify-page")
        await expect(verify.locator("output.code")).to_have_text(re.compile(r"^\d{6}$"))
        code = await verify.locator("output.code").inner_text()
        assert await page.input_value("#text") == code
        await page.click("#send-sms")
        await expect(verify.locator("body")).to_have_attribute("data-state", "verified", timeout=10_000)
        assert "confirmed" in await verify.locator("#status").inner_text()
        await screenshot(page, "demo-verified")
        assert not errors, errors
