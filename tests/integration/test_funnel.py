"""The funnel per tenant: what the verify page saw and what the atomic step applied, once each,
in GET /v1/stats and in /metrics; another tenant sees none of it."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from common.funnel import RETENTION_DAYS
from common.names import Names
from tests.integration.conftest import ACME_KEY, GLOBEX_KEY, Pipeline, bearer, next_frame
from tests.integration.test_verify_page import IPHONE, page_path

DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


async def stats(pipeline: Pipeline, api_key: str = ACME_KEY, days: str = "7") -> Any:
    return await pipeline.ingest.get(f"/v1/stats?days={days}", headers=bearer(api_key))


async def test_each_step_is_counted_once_for_its_tenant(pipeline: Pipeline, redis: Redis, namespace: str):
    tenant_ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    for agent in (DESKTOP, DESKTOP, IPHONE):
        assert (await pipeline.notifier.get(page_path(challenge), headers={"User-Agent": agent})).status == 200
    token = challenge["watch_token"]
    tapped = f"/v1/challenges/{challenge['id']}/page/tapped?token={token}"
    assert (await pipeline.notifier.post(tapped)).status == 204
    assert (await pipeline.notifier.post(tapped.replace(token, "acme.forged"))).status == 401

    wrong = "000000" if challenge["code"] != "000000" else "111111"
    await pipeline.sms(wrong, message_id="sms-1")
    await pipeline.sms(wrong, message_id="sms-1")  # the provider's retry: no second SMS received
    await pipeline.sms(challenge["code"], message_id="sms-2")
    assert (await next_frame(tenant_ws))["type"] == "challenge.attempt_failed"
    assert (await next_frame(tenant_ws))["type"] == "challenge.verified"

    answer = await stats(pipeline)
    assert answer.status == 200
    body = await answer.json()
    assert len(body["days"]) == 7
    expected = {"page_viewed": 3, "qr_shown": 2, "sms_link_tapped": 1, "sms_received": 2, "verified": 1}
    assert body["total"] == expected
    assert {key: body["days"][-1][key] for key in expected} == expected
    assert (await (await stats(pipeline, GLOBEX_KEY)).json())["total"] == dict.fromkeys(expected, 0)
    today = Names(namespace).funnel("acme", body["days"][-1]["date"])
    assert 34 * 86_400 < await redis.ttl(today) <= RETENTION_DAYS * 86_400

    exported = await (await pipeline.notifier.get("/metrics")).text()
    assert 'revotp_notifier_funnel_total{step="page_viewed",tenant="acme"}' in exported


async def test_bad_day_counts_are_refused(pipeline: Pipeline):
    for days, status in (("0", 422), ("36", 422), ("x", 400), ("-1", 400)):
        assert (await stats(pipeline, days=days)).status == status, days
