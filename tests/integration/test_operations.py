"""What operators rely on: health, metrics, tenant creation, logs without codes, socket upkeep."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import structlog
from aiohttp import WSMsgType
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from common.names import Names
from common.settings import Settings, from_env
from common.version import VERSION
from notifier.app import create_app as create_notifier
from tests.integration.conftest import (
    GENERIC_SECRET,
    PHONE,
    AppClient,
    Pipeline,
    bearer,
    deployment_env,
    next_frame,
)
from tests.support.processes import run_revotp


async def scraped(client: AppClient, name: str, labels: dict[str, str]) -> float:
    """One sample of ``/metrics`` as Prometheus would read it (0 when absent)."""
    text = await (await client.get("/metrics")).text()
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            if metric.name == name and metric.labels == labels:
                return float(metric.value)
    return 0.0


async def test_every_process_reports_ready_and_serves_metrics(pipeline: Pipeline):
    for client, checks in ((pipeline.ingest, {"redis", "rabbitmq"}), (pipeline.notifier, {"redis"})):
        health = await client.get("/healthz")
        assert (health.status, await health.json()) == (200, {"status": "ok", "version": VERSION})
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200
        assert body["status"] == "ready"
        assert set(body["checks"]) == checks
    counters = {
        "revotp_ingest_challenges_created_total": {},
        "revotp_ingest_sms_accepted_total": {"provider": "generic"},
        "revotp_matcher_verdicts_total": {"status": "verified"},
    }
    before = {name: await scraped(pipeline.ingest, name, labels) for name, labels in counters.items()}
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    await pipeline.wait_status(challenge["id"], "verified")
    after = {name: await scraped(pipeline.ingest, name, labels) for name, labels in counters.items()}
    assert {name: after[name] - before[name] for name in counters} == dict.fromkeys(counters, 1.0)


async def test_tenant_create_prints_a_key_that_works(ingest: AppClient, namespace: str):
    env = {**os.environ, **deployment_env(namespace)}
    code, stdout, _ = await run_revotp(env, "tenant", "create", "initech")
    assert code == 0
    line = json.loads(stdout.strip().splitlines()[-1])
    assert line["tenant_id"] == "initech"
    response = await ingest.post("/v1/challenges", json={"phone": PHONE}, headers=bearer(line["api_key"]))
    assert response.status == 201
    code, _, stderr = await run_revotp(env, "tenant", "create", "initech")
    assert code == 1
    assert "exists already" in stderr


async def test_logs_never_contain_a_code_or_the_sms_text(pipeline: Pipeline):
    with structlog.testing.capture_logs() as logs:
        challenge = await pipeline.create()
        await pipeline.sms(f"wrong 000000 then {challenge['code']}")
        await pipeline.wait_status(challenge["id"], "verified")
        # The matcher logs after its ack, which may come a moment after the verdict is visible.
        for _ in range(100):
            if any(entry["event"] == "sms_processed" for entry in logs):
                break
            await asyncio.sleep(0.05)
    assert any(entry["event"] == "sms_processed" for entry in logs)
    flat = json.dumps(logs, default=str)
    assert challenge["code"] not in flat
    assert "wrong 000000" not in flat
    assert GENERIC_SECRET not in flat


async def test_the_server_pings_idle_sockets(aiohttp_client: Any, namespace: str, cleanup: None):
    settings = from_env(deployment_env(namespace, REVOTP_WS_PING_S="0.2"))
    notifier = await aiohttp_client(create_notifier(settings))
    ws = await notifier.ws_connect("/v1/events", headers=bearer("key-acme"), autoping=False)
    assert (await next_frame(ws))["type"] == "ready"
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type == WSMsgType.PING
    await ws.close()


async def test_a_client_that_falls_behind_is_closed_with_1013_and_resumes(
    aiohttp_client: Any, namespace: str, redis: Redis, cleanup: None
):
    settings: Settings = from_env(deployment_env(namespace, REVOTP_WS_QUEUE_LIMIT="20"))
    notifier = await aiohttp_client(create_notifier(settings))
    ws = await notifier.ws_connect("/v1/events", headers=bearer("key-acme"))
    assert (await next_frame(ws))["type"] == "ready"
    # A burst far larger than the socket's queue, written to the event log as the matcher would.
    key = Names(namespace).events("acme")
    async with redis.pipeline(transaction=False) as pipe:
        for i in range(2000):
            pipe.xadd(
                key,
                {
                    "type": "challenge.attempt_failed",
                    "challenge_id": f"ch_{i}",
                    "external_id": "",
                    "status": "pending",
                    "attempts": 1,
                    "max_attempts": 3,
                    "phone": PHONE,
                    "virtual_number": "+15550100000",
                    "occurred_at": 1763708400000,
                    "verified_at": "",
                },
            )
        await pipe.execute()
    received: list[dict[str, Any]] = []
    while True:
        message = await asyncio.wait_for(ws.receive(), 10)
        if message.type != WSMsgType.TEXT:
            break
        received.append(json.loads(message.data))
    assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert ws.close_code == 1013
    assert len(received) < 2000

    resumed = await notifier.ws_connect(f"/v1/events?after={received[-1]['cursor']}", headers=bearer("key-acme"))
    rest = []
    while (frame := await next_frame(resumed))["type"] != "ready":
        rest.append(frame)
    ids = [event["challenge_id"] for event in received + rest]
    assert ids == [f"ch_{i}" for i in range(2000)]
    await resumed.close()
