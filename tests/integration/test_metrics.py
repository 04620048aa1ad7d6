"""What an operator's Prometheus reads: request counts and latencies by route, dependencies, the
broker's queues, verdict latency, and an exposition that promtool finds clean."""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
from prometheus_client.parser import text_string_to_metric_families

from common.names import SMS_ROUTING_KEY, Names
from common.settings import Settings
from tests.integration.conftest import AppClient, Pipeline, post_generic
from tests.support.promtool import promtool


async def samples(client: AppClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = await (await client.get("/metrics")).text()
    return {
        (sample.name, frozenset(sample.labels.items())): float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


async def test_requests_are_counted_and_timed_by_route_template_and_status(pipeline: Pipeline):
    created = {"route": "/v1/challenges", "method": "POST", "status": "201"}
    read = {"route": "/v1/challenges/{challenge_id}", "method": "GET", "status": "200"}
    refused = {"route": "/v1/inbound/{provider}", "method": "POST", "status": "401"}
    before = await samples(pipeline.ingest)
    challenge = await pipeline.create()
    await pipeline.get(challenge["id"])
    await pipeline.get(challenge["id"])
    assert (await post_generic(pipeline.ingest, {"id": "x"}, secret="not-the-secret")).status == 401
    assert (await pipeline.ingest.get("/no/such/route")).status == 404
    after = await samples(pipeline.ingest)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("revotp_http_requests_total", **created) == 1
    assert grew("revotp_http_requests_total", **read) == 2, "one series per route template, not per id"
    assert grew("revotp_http_requests_total", **refused) == 1
    assert grew("revotp_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert grew("revotp_http_request_duration_seconds_count", route="/v1/challenges/{challenge_id}", method="GET") == 2
    assert not any(name.endswith("_created") for name, _ in after), "no _created series"
    assert value(after, "revotp_build_info", **_build_labels(after)) == 1


def _build_labels(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, str]:
    (labels,) = [dict(labels) for name, labels in scraped if name == "revotp_build_info"]
    assert set(labels) == {"version", "python"}
    return labels


async def test_dependencies_and_the_brokers_queues_are_read_at_scrape(
    pipeline_without_matcher: Pipeline, amqp: Any, settings: Settings
):
    pipeline = pipeline_without_matcher
    channel = await amqp.channel()
    names = Names(settings.namespace)
    exchange = await channel.get_exchange(names.inbound_exchange)
    await exchange.publish(aio_pika.Message(b"poison"), routing_key=SMS_ROUTING_KEY)
    inbound = await channel.declare_queue(names.inbound_queue, passive=True)
    await (await inbound.get(no_ack=False, timeout=5)).reject(requeue=False)  # as the matcher does
    await channel.close()
    for n in range(3):  # no matcher runs: they wait in the queue
        await pipeline.sms(f"code {n}")

    scraped: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for _ in range(50):  # a quorum queue's count lags its messages a little
        scraped = await samples(pipeline.ingest)
        if (value(scraped, "revotp_inbound_queue_messages"), value(scraped, "revotp_dead_letter_messages")) == (3, 1):
            break
        await asyncio.sleep(0.1)
    assert value(scraped, "revotp_inbound_queue_messages") == 3
    assert value(scraped, "revotp_dead_letter_messages") == 1
    assert value(scraped, "revotp_dependency_up", dependency="redis") == 1
    assert value(scraped, "revotp_dependency_up", dependency="rabbitmq") == 1
    notifier = await samples(pipeline.notifier)
    assert ("revotp_notifier_send_queue_events", frozenset()) in notifier
    assert ("revotp_notifier_send_queue_longest_events", frozenset()) in notifier


async def test_a_verdict_is_timed_from_acceptance(pipeline: Pipeline):
    before = await samples(pipeline.ingest)
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    await pipeline.wait_status(challenge["id"], "verified")
    after = await samples(pipeline.ingest)
    name = "revotp_matcher_verdict_latency_seconds_count"
    assert value(after, name) - value(before, name) == 1


async def test_promtool_finds_the_exposition_clean(pipeline: Pipeline):
    challenge = await pipeline.create()
    await pipeline.sms(challenge["code"])
    await pipeline.wait_status(challenge["id"], "verified")
    for client in (pipeline.ingest, pipeline.notifier):
        exposition = await (await client.get("/metrics")).read()
        assert promtool("check", "metrics", stdin=exposition) == (0, "")
