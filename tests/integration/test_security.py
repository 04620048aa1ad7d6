"""Nobody let in: bounded guessing, flood limits, codes kept only as keyed hashes, clean socket refusals."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import WSMsgType
from redis.asyncio import Redis

from common.challenge_ids import slot_of
from common.challenges import StoredRecord
from common.events import decode_entries
from common.keyring import Keyring
from common.names import Names
from common.redis import binary, text
from tests.integration.conftest import (
    ACME_KEY,
    OTHER_PHONE,
    PHONE,
    SECRET_KEY,
    Pipeline,
    bearer,
    next_frame,
    post_generic,
)

SECOND_NUMBER = "+15550100001"


async def test_brute_force_cannot_beat_max_attempts(deploy: Any, redis: Redis, namespace: str):
    # Two matchers race on a storm of guesses, each SMS packed with candidates.
    pipeline = await deploy(matchers=2, REVOTP_SENDER_RATE_LIMIT="1000/60")
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=3)
    code = challenge["code"]
    guesses = [f"{n:06d}" for n in range(1, 2000) if f"{n:06d}" != code]
    texts = [" ".join(guesses[i : i + 10]) for i in range(0, 400, 10)]
    texts.insert(20, f"{guesses[0]} {guesses[1]} {guesses[2]} {code}")  # the code, behind three wrong guesses
    await asyncio.gather(*(pipeline.sms(text) for text in texts))
    first = await next_frame(ws)
    assert (first["type"], first["attempts"]) == ("challenge.failed", 3)
    final = await pipeline.wait_status(challenge["id"], "failed")
    assert (final["status"], final["attempts"]) == ("failed", 3)
    events = decode_entries(await redis.xrange(Names(namespace).events("acme")))
    assert [event.type for _, event in events] == ["challenge.failed"]


async def test_a_flood_from_one_sender_is_limited_without_hurting_others(deploy: Any):
    pipeline = await deploy(REVOTP_SENDER_RATE_LIMIT="5/60", REVOTP_PREFETCH="1")
    ws = await pipeline.ready_socket()
    flooded = await pipeline.create(phone=PHONE, max_attempts=10)
    bystander = await pipeline.create(phone=OTHER_PHONE)
    message = {"from": PHONE, "to": "+15550100000", "text": "000000"}
    answers = [await post_generic(pipeline.ingest, {**message, "id": uuid.uuid4().hex}) for _ in range(8)]
    # Accepted and dropped past the allowance: a 2xx, so providers do not retry the flood.
    assert [answer.status for answer in answers] == [202] * 8
    # Another sender on the same number is not affected.
    await pipeline.sms(bystander["code"], sender=OTHER_PHONE)
    frames = [await next_frame(ws) for _ in range(6)]
    assert frames[-1]["challenge_id"] == bystander["id"]
    # Only the five SMS within the allowance reached the flooded challenge.
    assert (await pipeline.get(flooded["id"]))["attempts"] == 5


async def test_a_number_under_flood_is_limited_and_other_numbers_are_not(deploy: Any):
    pipeline = await deploy(REVOTP_VIRTUAL_NUMBERS=f"+15550100000,{SECOND_NUMBER}", REVOTP_NUMBER_RATE_LIMIT="4/60")
    statuses = []
    for n in range(6):
        sms = {"id": uuid.uuid4().hex, "from": f"+336123456{n:02d}", "to": "+15550100000", "text": "1"}
        statuses.append((await post_generic(pipeline.ingest, sms)).status)
    assert statuses == [202] * 4 + [429] * 2
    other = {"id": uuid.uuid4().hex, "from": PHONE, "to": SECOND_NUMBER, "text": "1"}
    assert (await post_generic(pipeline.ingest, other)).status == 202


async def test_a_batch_over_the_limit_keeps_what_fits(deploy: Any):
    pipeline = await deploy(REVOTP_SENDER_RATE_LIMIT="2/60")
    batch = [{"id": uuid.uuid4().hex, "from": PHONE, "to": "+15550100000", "text": "1"} for _ in range(3)]
    response = await post_generic(pipeline.ingest, batch)
    assert response.status == 202
    assert (await response.json())["count"] == 2


async def _stored_values(redis: Redis, namespace: str) -> list[bytes]:
    """Every value held under the namespace, whatever the key's type (this client answers bytes)."""
    values: list[Any] = []
    async for key in redis.scan_iter(match=f"{namespace}:*"):
        kind = text(await redis.type(key))
        values.append(key)
        if kind == "string":
            values.append(await redis.get(key))
        elif kind == "hash":
            values.extend(v for pair in (await redis.hgetall(key)).items() for v in pair)
        elif kind == "set":
            values.extend(await redis.smembers(key))
        elif kind == "zset":
            values.extend(await redis.zrange(key, 0, -1))
        elif kind == "stream":
            values.extend(
                v for _, fields in await redis.xrange(key) or [] for pair in (fields or {}).items() for v in pair
            )
    return [value for value in values if isinstance(value, bytes)]


async def test_codes_are_stored_only_as_keyed_hashes(pipeline: Pipeline, redis: Redis, namespace: str):
    plain = await pipeline.create(code_length=8)
    replayable = await pipeline.ingest.post(
        "/v1/challenges",
        json={"phone": OTHER_PHONE, "code_length": 8},
        headers={**bearer(ACME_KEY), "Idempotency-Key": "k1"},
    )
    codes = [plain["code"], (await replayable.json())["code"]]
    stored = await _stored_values(redis, namespace)
    assert stored
    for code in codes:
        assert not any(code.encode() in value for value in stored)
    packed = await redis.hget(Names(namespace).challenges("acme", slot_of(plain["id"]) or 0), plain["id"])
    stored_hash = bytes(msgspec.msgpack.decode(binary(packed), type=StoredRecord).code_hash)[1:]
    assert stored_hash == Keyring(SECRET_KEY.encode()).code_hash("acme", PHONE, plain["code"])
    assert stored_hash != hashlib.sha256(plain["code"].encode()).digest()[:16]
    metrics = await (await pipeline.ingest.get("/metrics")).text()
    assert not any(code in metrics for code in codes)


def test_code_hashes_are_compared_only_through_the_constant_time_function():
    source = resources.files("common").joinpath("lua/challenges.lua").read_text()
    # The record's layout names the field once; every other mention must be a comparison.
    layout, found = re.subn(r"local RECORD_FIELDS = \{[^}]*\}", "", source)
    assert found == 1, "the record layout moved: update this test"
    uses = [line.strip() for line in layout.splitlines() if "code_hash" in line and not line.strip().startswith("--")]
    assert uses, "the matching step must read code hashes"
    assert all("same_hash(" in line for line in uses), uses
    body = source.split("local function same_hash", 1)[1].split("\nend", 1)[0]
    assert "return false" not in body.split("for i")[1], "no early exit inside the comparison loop"
    # Python-side secrets (signatures, tokens, watch tokens) go through hmac.compare_digest.
    root = Path(__file__).resolve().parents[2]
    for module in [*sorted((root / "ingest" / "providers").glob("*.py")), root / "common" / "keyring.py"]:
        text = module.read_text()
        assert not re.search(r"(signature|token|secret|mac)\w* ==", text), module.name


async def test_garbage_and_oversize_frames_get_a_clean_close(pipeline: Pipeline):
    for payload, code in (("hello?", 1003), (b"\x00\xff" * 10, 1003), ("x" * 10_000, 1009)):
        ws = await pipeline.ready_socket()
        await (ws.send_bytes(payload) if isinstance(payload, bytes) else ws.send_str(payload))
        message = await asyncio.wait_for(ws.receive(), 5)
        assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
        assert ws.close_code == code
    # Still serving.
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    assert (await next_frame(ws))["challenge_id"] == challenge["id"]


async def test_an_idempotent_replay_never_serves_another_tenant(pipeline: Pipeline):
    headers = {"Idempotency-Key": "shared-key"}
    acme = await pipeline.ingest.post("/v1/challenges", json={"phone": PHONE}, headers={**bearer(ACME_KEY), **headers})
    globex = await pipeline.ingest.post(
        "/v1/challenges", json={"phone": PHONE}, headers={**bearer("key-globex"), **headers}
    )
    acme_body, globex_body = await acme.json(), await globex.json()
    assert (acme.status, globex.status) == (201, 201)
    assert "Idempotent-Replayed" not in globex.headers
    assert acme_body["id"] != globex_body["id"]
    # And Globex's replayed key still cannot reach Acme's challenge.
    peek = await pipeline.ingest.get(f"/v1/challenges/{acme_body['id']}", headers=bearer("key-globex"))
    assert peek.status == 404


async def test_a_part_of_a_long_sms_waits_in_redis_sealed(pipeline: Pipeline, redis: Redis, namespace: str):
    from tests.integration.conftest import send
    from tests.integration.provider_requests import Sms
    from tests.integration.test_parts_and_batches import vonage_part

    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(code_length=8)
    code = challenge["code"]
    sms = Sms(PHONE, challenge["virtual_number"], "", "")
    first = vonage_part(sms, "ref-9", 1, 2, f"my code is {code}", "part-1")
    assert (await send(pipeline.ingest, first)).status == 200
    # The part is kept until its sibling comes: a copy of Redis now must not show the code.
    for _ in range(100):
        if [key async for key in redis.scan_iter(match=f"{namespace}:parts:*")]:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the first part was never kept")
    assert not any(code.encode() in value for value in await _stored_values(redis, namespace))
    second = vonage_part(sms, "ref-9", 2, 2, " thanks", "part-2")
    assert (await send(pipeline.ingest, second)).status == 200
    assert (await next_frame(ws))["type"] == "challenge.verified"
