"""allowed_sender_countries: SMS from phones of other countries verify nothing and cost nothing."""

from __future__ import annotations

import asyncio

from matcher.sender_policy import REFRESH_S
from tests.integration.conftest import ACME_KEY, GLOBEX_KEY, PHONE, Pipeline, bearer, next_frame
from tests.support.metrics import grown, sample

GERMAN_PHONE = "+4915112345678"


async def allow(pipeline: Pipeline, countries: list[str], api_key: str = ACME_KEY) -> dict[str, object]:
    response = await pipeline.ingest.patch(
        "/v1/tenant", json={"allowed_sender_countries": countries}, headers=bearer(api_key)
    )
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_the_setting_is_read_back_and_checked(pipeline: Pipeline):
    assert (await allow(pipeline, ["fr", "BE", "FR"]))["allowed_sender_countries"] == ["BE", "FR"]
    shown = await (await pipeline.ingest.get("/v1/tenant", headers=bearer(ACME_KEY))).json()
    assert shown["allowed_sender_countries"] == ["BE", "FR"]
    refused = await pipeline.ingest.patch(
        "/v1/tenant", json={"allowed_sender_countries": ["FR", "XX"]}, headers=bearer(ACME_KEY)
    )
    assert refused.status == 422
    assert (await refused.json())["error"]["code"] == "invalid_sender_countries"
    assert (await allow(pipeline, []))["allowed_sender_countries"] == []


async def test_a_challenge_for_a_phone_of_a_refused_country_is_refused_at_creation(pipeline: Pipeline):
    await allow(pipeline, ["DE"])
    response = await pipeline.ingest.post("/v1/challenges", json={"phone": PHONE}, headers=bearer(ACME_KEY))
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "phone_country_not_allowed"
    assert (
        await pipeline.ingest.post("/v1/challenges", json={"phone": GERMAN_PHONE}, headers=bearer(ACME_KEY))
    ).status == 201


async def test_an_sms_from_a_refused_country_verifies_nothing_and_costs_nothing(pipeline: Pipeline):
    """The challenge was made before the tenant narrowed its countries: its SMS no longer counts."""
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()  # a French phone, all countries allowed yet
    await allow(pipeline, ["DE", "BE"])
    await asyncio.sleep(REFRESH_S + 0.1)  # what the matchers read of the tenant is this old at most
    refused_before = sample("revotp_matcher_foreign_senders_total", tenant="acme")
    await pipeline.sms(challenge["code"])
    assert await grown("revotp_matcher_foreign_senders_total", refused_before, tenant="acme") == refused_before + 1
    current = await pipeline.get(challenge["id"])
    assert (current["status"], current["attempts"]) == ("pending", 0)

    await allow(pipeline, [])
    await asyncio.sleep(REFRESH_S + 0.1)
    await pipeline.sms(challenge["code"])
    frame = await next_frame(ws)
    assert (frame["type"], frame["attempts"]) == ("challenge.verified", 1), "nothing was spent before"


async def test_one_tenants_policy_leaves_another_tenants_challenge_alone(pipeline: Pipeline):
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    acme = await pipeline.create()
    globex = await pipeline.create(api_key=GLOBEX_KEY)
    await allow(pipeline, ["DE"])
    await asyncio.sleep(REFRESH_S + 0.1)
    await pipeline.sms(globex["code"])
    frame = await next_frame(globex_ws)
    assert (frame["type"], frame["challenge_id"]) == ("challenge.verified", globex["id"])
    assert (await pipeline.get(acme["id"]))["attempts"] == 0
