"""Replacing REVOTP_SECRET_KEY: with the old secret kept in REVOTP_PREVIOUS_SECRET_KEYS, the
challenges, verify pages and idempotent replays made under it keep working; without it they
do not (docs/runbook.md, Secret rotation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from tests.integration.conftest import ACME_KEY, SECRET_KEY, Pipeline, bearer, next_frame

NEW_SECRET = "the-secret-that-replaces-it-0123456789"
Deploy = Callable[..., Awaitable[Pipeline]]


def page_path(challenge: dict[str, str]) -> str:
    parts = urlsplit(challenge["verify_url"])
    return f"{parts.path}?{parts.query}"


async def _created_under_the_old_secret(deploy: Deploy) -> tuple[dict[str, str], bytes]:
    old = await deploy(matchers=0)  # only creates: no matcher of the old secret judges anything
    headers = {**bearer(ACME_KEY), "Idempotency-Key": "order-7"}
    response = await old.ingest.post("/v1/challenges", json={"phone": "+33612345678"}, headers=headers)
    assert response.status == 201
    return dict(await response.json()), await response.read()


async def test_during_the_grace_period_what_the_old_secret_made_still_works(deploy: Deploy):
    challenge, body = await _created_under_the_old_secret(deploy)
    rotated = await deploy(REVOTP_SECRET_KEY=NEW_SECRET, REVOTP_PREVIOUS_SECRET_KEYS=SECRET_KEY)

    replay = await rotated.ingest.post(
        "/v1/challenges", json={"phone": "+33612345678"}, headers={**bearer(ACME_KEY), "Idempotency-Key": "order-7"}
    )
    assert (replay.status, await replay.read()) == (201, body), "the sealed replay opens with the old secret"
    assert (await rotated.notifier.get(page_path(challenge))).status == 200, "the old verify page opens"

    ws = await rotated.ready_socket()
    await rotated.sms(challenge["code"])
    frame = await next_frame(ws)
    assert (frame["type"], frame["challenge_id"]) == ("challenge.verified", challenge["id"])

    fresh = await rotated.create()  # hashed under the new secret
    await rotated.sms(fresh["code"])
    assert (await next_frame(ws))["type"] == "challenge.verified"


async def test_without_the_previous_secret_the_old_challenges_no_longer_verify(deploy: Deploy):
    challenge, _ = await _created_under_the_old_secret(deploy)
    rotated = await deploy(REVOTP_SECRET_KEY=NEW_SECRET)
    replay = await rotated.ingest.post(
        "/v1/challenges", json={"phone": "+33612345678"}, headers={**bearer(ACME_KEY), "Idempotency-Key": "order-7"}
    )
    assert replay.status == 409, "a clear refusal, not a 500 and not a second challenge"
    assert (await replay.json())["error"]["code"] == "idempotency_replay_unavailable"
    assert (await rotated.notifier.get(page_path(challenge))).status in (403, 404)
    ws = await rotated.ready_socket()
    await rotated.sms(challenge["code"])
    frame = await next_frame(ws)
    assert (frame["type"], frame["challenge_id"]) == ("challenge.attempt_failed", challenge["id"])
