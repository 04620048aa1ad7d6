"""One service per entry point: each ``python -m <service>`` loads and exports only its own service.

Each entry module runs in a real subprocess with ``-X importtime``, which writes every module the
process imports, when it imports it, to stderr: until it is ready and while it stops.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from asyncio.subprocess import Process
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest

from revotp.replay.ceiling import free_port
from tests.integration.conftest import deployment_env
from tests.support.processes import ServiceProcess, run_revotp, wait_until_ready

SERVICES = {
    "ingest": "REVOTP_INGEST_PORT",
    "matcher": "REVOTP_MATCHER_PORT",
    "notifier": "REVOTP_NOTIFIER_PORT",
    "callbacks": "REVOTP_CALLBACKS_PORT",
}
PACKAGES = (*SERVICES, "revotp")
_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(?P<module>\S+)$")


def imported_packages(stderr: str) -> set[str]:
    """The top-level revotp packages among the modules an ``-X importtime`` run imported."""
    modules = {match["module"] for line in stderr.splitlines() if (match := _IMPORT_LINE.match(line))}
    return {module.split(".")[0] for module in modules} & set(PACKAGES)


def service_prefixes(exposition: str) -> set[str]:
    """The services whose own metrics (``revotp_<service>_*``) an exposition holds; every process
    also exports the shared ones of common/metrics.py."""
    names = set(re.findall(r"^(revotp_[a-z_]+)", exposition, flags=re.MULTILINE))
    shared = {name for name in names if any(name.startswith(metric) for metric in SHARED_METRICS)}
    assert shared, "the shared metrics are exported too"
    return {name.split("_")[1] for name in names - shared}


# What every process exports besides its services' own (common/metrics.py).
SHARED_METRICS = (
    "revotp_build_",
    "revotp_dependency_up",
    "revotp_inbound_queue_messages",
    "revotp_dead_letter_messages",
    "revotp_http_",
)


async def _start(*args: str, env: dict[str, str], stderr: IO[bytes] | int) -> Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr
    )


async def _stop(process: Process) -> int:
    process.send_signal(signal.SIGTERM)
    return await asyncio.wait_for(process.wait(), 30)


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


@pytest.mark.parametrize("service", list(SERVICES))
async def test_each_entry_module_runs_its_own_service_and_nothing_else(
    service: str, namespace: str, cleanup: None, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, **deployment_env(namespace), SERVICES[service]: str(port), "REVOTP_LOG_JSON": "1"}
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("wb") as stderr:
        process = await _start("-X", "importtime", "-m", service, env=env, stderr=stderr)
        try:
            await wait_until_ready(f"http://127.0.0.1:{port}", process)
            status, metrics = await _get(f"http://127.0.0.1:{port}/metrics")
        finally:
            code = await _stop(process)
    assert code == 0, stderr_path.read_text()[-3000:]
    assert imported_packages(stderr_path.read_text()) == {service}
    assert status == 200
    assert service_prefixes(metrics) == {service}


async def test_an_operator_chore_loads_no_service(namespace: str, cleanup: None) -> None:
    env = {**os.environ, **deployment_env(namespace)}
    code, _, stderr = await run_revotp(env, "tenant", "list", interpreter_options=("-X", "importtime"))
    assert code == 0, stderr
    assert imported_packages(stderr) == {"revotp"}


async def test_all_in_one_process_serves_its_one_registry_once(namespace: str, cleanup: None) -> None:
    ports = {variable: free_port() for variable in SERVICES.values()}
    env = {**os.environ, **deployment_env(namespace), **{k: str(v) for k, v in ports.items()}}
    process = await _start("-m", "revotp.cli", "all", env=env, stderr=asyncio.subprocess.DEVNULL)
    try:
        for port in ports.values():
            await wait_until_ready(f"http://127.0.0.1:{port}", process)
        answers = {variable: await _get(f"http://127.0.0.1:{port}/metrics") for variable, port in ports.items()}
    finally:
        code = await _stop(process)
    assert code == 0
    served = {variable: body for variable, (status, body) in answers.items() if status == 200}
    assert list(served) == ["REVOTP_INGEST_PORT"]
    assert service_prefixes(served["REVOTP_INGEST_PORT"]) == set(SERVICES)
    assert {status for status, _ in answers.values()} == {200, 404}


async def test_the_image_healthcheck_follows_whichever_service_runs(namespace: str, cleanup: None, tmp_path: Any):
    """The Dockerfile's probe: the listening service's /readyz decides; none listening is unhealthy."""
    unused = {variable: str(free_port()) for variable in SERVICES.values()}
    env = {**os.environ, **deployment_env(namespace), **unused}
    assert await run_revotp(env, "healthcheck") == (
        1,
        "",
        "revotp healthcheck: no revotp service listens on this machine\n",
    )
    matcher = ServiceProcess(
        "matcher", {**deployment_env(namespace), **unused}, "REVOTP_MATCHER_PORT", str(tmp_path / "m.log")
    )
    try:
        await matcher.wait_ready()
        assert await run_revotp({**env, "REVOTP_MATCHER_PORT": str(matcher.port)}, "healthcheck") == (0, "", "")
    finally:
        assert matcher.terminate() == 0
