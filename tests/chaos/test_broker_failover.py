"""REVOTP_AMQP_URL with several nodes: when a process's node dies, it moves on to another.

The first node is a private broker of the test, the second this machine's; the ingest and
matcher processes connect to the first, which is then stopped. Both must come back on the
second by themselves: webhooks accepted again, and judged there. (The two brokers are not one
cluster, so what was queued on the dead node stays there; a real cluster's quorum queue keeps
it. This test holds the client's part: finding a live node.)
"""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.chaos.deployment import Deployment, next_json, wait_for
from tests.integration.conftest import AMQP_URL, PHONE
from tests.support.brokers import OwnRabbitMQ


async def test_processes_move_on_to_a_live_node_when_theirs_dies(own_rabbitmq: OwnRabbitMQ, tmp_path: Path):
    deployment = Deployment(
        f"revotp-chaos-{uuid.uuid4().hex[:8]}",
        tmp_path,
        REVOTP_AMQP_URL=f"{own_rabbitmq.url},{AMQP_URL}",
        REVOTP_PUBLISH_TIMEOUT_S="2",
    )
    try:
        await deployment.start_ready("ingest", "matcher-1", "notifier")
        ws = await deployment.ready_socket()
        before = await deployment.create(PHONE)
        await deployment.deliver({"id": uuid.uuid4().hex, "from": PHONE, "to": "+15550100000", "text": before["code"]})
        assert (await next_json(ws))["challenge_id"] == before["id"]  # judged through the first node

        await own_rabbitmq.stop()

        async def ready() -> bool:
            return await deployment.readiness_is(200, "ingest", "matcher-1")

        assert await wait_for(ready, within=30), deployment.processes["ingest"].log()[-3000:]
        after = await deployment.create(PHONE)
        tries = await deployment.deliver(
            {"id": uuid.uuid4().hex, "from": PHONE, "to": "+15550100000", "text": after["code"]}, within=30
        )
        assert tries >= 1
        frame = await next_json(ws, within=30)
        assert (frame["type"], frame["challenge_id"]) == ("challenge.verified", after["id"])
        assert all("rabbitmq_node_switched" in deployment.processes[name].log() for name in ("ingest", "matcher-1"))
    finally:
        await deployment.close()
