"""An SMS its provider received before the challenge existed cannot answer it (docs/api.md,
Matching rules): it verifies nothing and costs nothing, and is counted as stale."""

from __future__ import annotations

import uuid

from common.clock import iso_ms, now_ms
from tests.integration.conftest import PHONE, VIRTUAL_NUMBER, Pipeline, next_frame, post_generic
from tests.support.metrics import grown, sample


async def sms_received_at(pipeline: Pipeline, text: str, received_at: str) -> None:
    message = {"id": uuid.uuid4().hex, "from": PHONE, "to": VIRTUAL_NUMBER, "text": text, "received_at": received_at}
    assert (await post_generic(pipeline.ingest, message)).status == 202


async def test_an_sms_received_before_the_challenge_existed_verifies_nothing_and_costs_nothing(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    stale_before = sample("revotp_matcher_stale_total", tenant="acme")
    await sms_received_at(pipeline, challenge["code"], iso_ms(now_ms() - 60_000))
    assert await grown("revotp_matcher_stale_total", stale_before, tenant="acme") == stale_before + 1
    current = await pipeline.get(challenge["id"])
    assert (current["status"], current["attempts"]) == ("pending", 0)

    await sms_received_at(pipeline, challenge["code"], iso_ms(now_ms() - 1_000))  # within the 2 s tolerance
    frame = await next_frame(ws)
    assert (frame["type"], frame["attempts"]) == ("challenge.verified", 1)
