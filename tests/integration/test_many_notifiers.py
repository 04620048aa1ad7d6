"""Notifiers share nothing: a client may connect to any, and resumes by cursor on another."""

from __future__ import annotations

from typing import Any

from common.settings import Settings
from notifier.app import create_app as create_notifier
from tests.integration.conftest import OTHER_PHONE, PHONE, Pipeline, next_frame


async def test_a_client_resumes_on_another_notifier_with_its_cursor(
    pipeline: Pipeline, aiohttp_client: Any, settings: Settings
):
    other = Pipeline(pipeline.ingest, await aiohttp_client(create_notifier(settings)))
    first_ws = await pipeline.ready_socket()
    first = await pipeline.create(phone=PHONE)
    await pipeline.sms(first["code"], sender=PHONE)
    seen = await next_frame(first_ws)
    assert (seen["type"], seen["challenge_id"]) == ("challenge.verified", first["id"])
    await first_ws.close()  # the first notifier goes away for this client

    missed = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(missed["code"], sender=OTHER_PHONE)
    await pipeline.wait_status(missed["id"], "verified")

    resumed_ws = await other.tenant_socket(after=seen["cursor"])
    replayed = await next_frame(resumed_ws)
    assert (replayed["type"], replayed["challenge_id"]) == ("challenge.verified", missed["id"])
    assert (await next_frame(resumed_ws))["type"] == "ready"
    # And a challenge socket opened on either notifier hears the same challenge.
    third = await pipeline.create(phone=PHONE)
    sockets = [
        await notifier.ws_connect(f"/v1/challenges/{third['id']}/events?token={third['watch_token']}")
        for notifier in (pipeline.notifier, other.notifier)
    ]
    assert [(await next_frame(ws))["type"] for ws in sockets] == ["challenge.status"] * 2
    await pipeline.sms(third["code"], sender=PHONE)
    assert [(await next_frame(ws))["type"] for ws in sockets] == ["challenge.verified"] * 2
