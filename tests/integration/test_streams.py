"""Event sockets: resume after a disconnect, tenant walls, watch tokens."""

from __future__ import annotations

import pytest
from aiohttp import WSServerHandshakeError

from tests.integration.conftest import ACME_KEY, GLOBEX_KEY, OTHER_PHONE, Pipeline, bearer, next_frame
from tests.integration.test_verdicts import wrong_code


async def test_events_missed_while_disconnected_arrive_in_order_after_resume(pipeline: Pipeline):
    ws = await pipeline.ready_socket()
    challenge = await pipeline.create(max_attempts=3)
    await pipeline.sms(wrong_code(challenge["code"]))
    seen = await next_frame(ws)
    assert seen["type"] == "challenge.attempt_failed"
    await ws.close()

    # While nobody listens: a second wrong code, the right one, and another challenge canceled.
    await pipeline.sms(wrong_code(challenge["code"]) + " ")
    await pipeline.sms(challenge["code"])
    await pipeline.wait_status(challenge["id"], "verified")
    other = await pipeline.create(phone=OTHER_PHONE)
    await pipeline.ingest.delete(f"/v1/challenges/{other['id']}", headers=bearer(ACME_KEY))

    resumed = await pipeline.tenant_socket(after=seen["cursor"])
    replayed = [await next_frame(resumed) for _ in range(3)]
    assert [(e["type"], e["challenge_id"]) for e in replayed] == [
        ("challenge.attempt_failed", challenge["id"]),
        ("challenge.verified", challenge["id"]),
        ("challenge.canceled", other["id"]),
    ]
    assert replayed[0]["attempts"] == 2
    cursors = [seen["cursor"]] + [e["cursor"] for e in replayed]
    as_pairs = [tuple(int(part) for part in cursor.split("-")) for cursor in cursors]
    assert as_pairs == sorted(as_pairs)
    assert len(set(as_pairs)) == 4
    ready = await next_frame(resumed)
    assert ready == {"type": "ready", "cursor": replayed[-1]["cursor"], "gap": False}

    # And it goes on live after the replay.
    live = await pipeline.create()
    await pipeline.sms(live["code"])
    assert (await next_frame(resumed))["challenge_id"] == live["id"]


async def test_ready_without_cursor_names_the_latest_event(pipeline: Pipeline):
    first = await pipeline.ready_socket()
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    event = await next_frame(first)
    ws = await pipeline.tenant_socket()
    assert await next_frame(ws) == {"type": "ready", "cursor": event["cursor"], "gap": False}


async def test_a_malformed_cursor_is_refused_before_the_upgrade(pipeline: Pipeline):
    with pytest.raises(WSServerHandshakeError) as refused:
        await pipeline.tenant_socket(after="not-a-cursor")
    assert refused.value.status == 400


async def test_tenant_socket_needs_a_valid_key(pipeline: Pipeline):
    with pytest.raises(WSServerHandshakeError) as refused:
        await pipeline.tenant_socket(api_key="wrong-key")
    assert refused.value.status == 401
    with pytest.raises(WSServerHandshakeError) as missing:
        await pipeline.notifier.ws_connect("/v1/events")
    assert missing.value.status == 401


async def test_another_tenant_cannot_read_cancel_or_hear_a_challenge(pipeline: Pipeline):
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    acme_ws = await pipeline.ready_socket(ACME_KEY)
    challenge = await pipeline.create(ACME_KEY)
    path = f"/v1/challenges/{challenge['id']}"
    for method in ("GET", "DELETE"):
        response = await pipeline.ingest.request(method, path, headers=bearer(GLOBEX_KEY))
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "challenge_not_found"
    await pipeline.sms(challenge["code"])
    assert (await next_frame(acme_ws))["challenge_id"] == challenge["id"]

    # Globex's first event is its own, although Acme's happened before it.
    own = await pipeline.create(GLOBEX_KEY, phone=OTHER_PHONE)
    await pipeline.sms(own["code"], sender=OTHER_PHONE)
    assert (await next_frame(globex_ws))["challenge_id"] == own["id"]
    # Acme's challenge was untouched by Globex's attempts to cancel it.
    assert (await pipeline.get(challenge["id"]))["status"] == "verified"


async def test_the_same_phone_at_two_tenants_is_judged_per_tenant(pipeline: Pipeline):
    acme_ws = await pipeline.ready_socket(ACME_KEY)
    globex_ws = await pipeline.ready_socket(GLOBEX_KEY)
    acme = await pipeline.create(ACME_KEY)
    globex = await pipeline.create(GLOBEX_KEY)
    await pipeline.sms(acme["code"])
    assert (await next_frame(acme_ws))["type"] == "challenge.verified"
    # Acme's code verified at Acme, so it cost Globex nothing: Globex's own code still verifies
    # at its first attempt (or the same SMS verified both, if the codes collide by chance).
    if acme["code"] != globex["code"]:
        await pipeline.sms(globex["code"])
    globex_event = await next_frame(globex_ws)
    assert (globex_event["challenge_id"], globex_event["type"]) == (globex["id"], "challenge.verified")
    assert globex_event["attempts"] == 1


async def test_a_watch_token_opens_its_own_challenge_only(pipeline: Pipeline):
    first = await pipeline.create()
    second = await pipeline.create(phone=OTHER_PHONE)
    with pytest.raises(WSServerHandshakeError) as refused:
        await pipeline.notifier.ws_connect(f"/v1/challenges/{second['id']}/events?token={first['watch_token']}")
    assert refused.value.status == 401
    with pytest.raises(WSServerHandshakeError) as missing:
        await pipeline.notifier.ws_connect(f"/v1/challenges/{first['id']}/events")
    assert missing.value.status == 401
    ws = await pipeline.notifier.ws_connect(f"/v1/challenges/{first['id']}/events?token={first['watch_token']}")
    assert (await next_frame(ws))["challenge_id"] == first["id"]
