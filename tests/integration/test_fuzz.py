"""A fuzz run of every HTTP route of ingest's OpenAPI document (schemathesis), against a real process.

No answer may be a 5xx but a 503 with Retry-After, the process must keep serving, and since no
fuzzed webhook can carry a valid signature, nothing may reach the queue.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.integration.conftest import ACME_KEY, AMQP_URL, deployment_env, queued_messages
from tests.support.processes import ServiceProcess

EXAMPLES_PER_MODE = 40


@pytest.fixture
def ingest_process(namespace: str, tmp_path: Path, cleanup: None) -> Iterator[ServiceProcess]:
    process = ServiceProcess("ingest", deployment_env(namespace), "REVOTP_INGEST_PORT", str(tmp_path / "ingest.log"))
    asyncio.run(process.wait_ready())
    yield process
    assert process.terminate() == 0, process.log()


def fuzz(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    seen: Counter[int],
    failures: list[str],
) -> None:
    """One hypothesis run over one operation: record every status, note every bad answer."""

    @settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case[Any]) -> None:
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
            return  # not even sendable over HTTP
        seen[response.status_code] += 1
        # schemathesis gives headers as lower-cased names mapped to lists of values.
        header = {name.lower(): values[0] for name, values in response.headers.items() if values}
        server_error = response.status_code >= 500 and not (response.status_code == 503 and header.get("retry-after"))
        is_json = header.get("content-type", "").startswith("application/json")
        if server_error or (response.status_code >= 400 and not is_json):
            failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:200]}")

    try:
        call()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # An operation without inputs (GET /healthz) has nothing to make invalid.


@pytest.mark.timeout(600)
def test_fuzzing_every_route_finds_no_server_error(ingest_process: ServiceProcess, namespace: str):
    schema = schemathesis.openapi.from_url(ingest_process.url + "/openapi.json")
    statuses: dict[str, Counter[int]] = {}
    failures: list[str] = []
    session = requests.Session()

    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema fails here, loudly
        seen = statuses.setdefault(operation.label, Counter())
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in ({"Authorization": f"Bearer {ACME_KEY}"}, {}):
                fuzz(operation, mode, ingest_process.url, session, headers, seen, failures)

    # With the server's own account of each 500 (its log holds the traceback).
    errors = [line for line in Path(ingest_process.log_path).read_text().splitlines() if "request_failed" in line]
    assert not failures, "\n".join(failures[:20] + errors[-3:])
    assert all(sum(counts.values()) > 0 for counts in statuses.values()), statuses
    # The fuzz got past the shape checks into domain validation (422 names the field).
    creates = statuses["POST /v1/challenges"]
    assert creates[422] > 0, creates
    assert requests.get(ingest_process.url + "/healthz", timeout=5).status_code == 200
    assert asyncio.run(_queued(namespace)) == 0, "a refused webhook reached the queue"


async def _queued(namespace: str) -> int:
    import aio_pika

    connection = await aio_pika.connect_robust(AMQP_URL)
    try:
        return await queued_messages(connection, namespace)
    finally:
        await connection.close()
