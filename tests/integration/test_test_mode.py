"""Test mode: a tenant's test numbers get test challenges, which only its simulated SMS verify.

For app-store reviewers and integration tests without a real phone: the simulated SMS goes
through the queue and the matcher like any SMS, its events say ``test: true``, a real SMS never
verifies a test challenge, and the simulation never verifies a real one.
"""

from __future__ import annotations

from typing import Any

from common.messages import TEST_PROVIDER
from ingest.providers import PROVIDER_CLASSES
from tests.integration.conftest import ACME_KEY, GLOBEX_KEY, OTHER_PHONE, PHONE, Pipeline, bearer, next_frame

REVIEWER = "+33611223344"


async def set_test_numbers(pipeline: Pipeline, numbers: list[Any], api_key: str = ACME_KEY) -> Any:
    return await pipeline.ingest.patch("/v1/tenant", json={"test_numbers": numbers}, headers=bearer(api_key))


async def simulate(pipeline: Pipeline, challenge_id: str, text: str, api_key: str = ACME_KEY) -> Any:
    return await pipeline.ingest.post(
        f"/v1/challenges/{challenge_id}/simulate-sms", json={"text": text}, headers=bearer(api_key)
    )


async def test_only_the_simulated_sms_verifies_a_test_challenge_and_says_so(pipeline: Pipeline):
    answer = await set_test_numbers(pipeline, ["+33 6 11 22 33 44", REVIEWER])
    assert answer.status == 200
    assert (await answer.json())["test_numbers"] == [REVIEWER]
    tenant_ws = await pipeline.ready_socket()
    challenge = await pipeline.create(phone=REVIEWER)
    assert challenge["test"] is True

    # The right code, really sent from the test number: it never reaches a test challenge.
    await pipeline.sms(challenge["code"], sender=REVIEWER)
    marker = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.sms(marker["code"], sender=OTHER_PHONE)
    assert (await next_frame(tenant_ws))["challenge_id"] == marker["id"]  # the real SMS was judged before
    assert (await pipeline.get(challenge["id"]))["status"] == "pending"

    wrong = await simulate(pipeline, challenge["id"], "000000" if challenge["code"] != "000000" else "111111")
    assert wrong.status == 202
    failed = await next_frame(tenant_ws)
    assert (failed["type"], failed["attempts"], failed["test"]) == ("challenge.attempt_failed", 1, True)
    assert (await simulate(pipeline, challenge["id"], f"code {challenge['code']}")).status == 202
    verified = await next_frame(tenant_ws)
    assert (verified["type"], verified["challenge_id"], verified["test"]) == (
        "challenge.verified",
        challenge["id"],
        True,
    )
    assert "test" not in marker
    assert "test" not in await pipeline.get(marker["id"])


async def test_the_simulation_never_verifies_a_real_challenge(pipeline: Pipeline):
    await set_test_numbers(pipeline, [REVIEWER])
    real = await pipeline.create(phone=PHONE)
    refused = await simulate(pipeline, real["id"], real["code"])
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "not_a_test_challenge"
    test = await pipeline.create(phone=REVIEWER)
    assert (await simulate(pipeline, test["id"], test["code"], api_key=GLOBEX_KEY)).status == 404
    assert (await pipeline.get(real["id"]))["status"] == "pending"


async def test_test_numbers_are_checked_and_can_be_turned_off(pipeline: Pipeline):
    many = [f"+336112233{n:02d}" for n in range(21)]
    for numbers, status in [(["not a number"], 422), (["+15555550100"], 422), (many, 422), (many[:20], 200)]:
        assert (await set_test_numbers(pipeline, numbers)).status == status, numbers
    bad_shape = await pipeline.ingest.patch("/v1/tenant", json={"test_numbers": "x"}, headers=bearer(ACME_KEY))
    assert bad_shape.status == 400
    off = await set_test_numbers(pipeline, [])
    assert (await off.json())["test_numbers"] == []
    assert "test" not in await pipeline.create(phone=REVIEWER)


def test_no_webhook_can_pose_as_the_test_mode_provider():
    assert TEST_PROVIDER not in {provider.name for provider in PROVIDER_CLASSES}
