"""A newcomer's first minutes: `revotp demo` prints commands that work as printed in a new
terminal (none of the demo's settings set there), says each startup line once, and a tool
whose request is refused says so in one line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

from revotp.replay.ceiling import free_port
from tests.integration.conftest import deployment_env
from tests.support.processes import die_with_parent, wait_until_ready

ROOT = Path(__file__).parents[2]
PORTS = ("REVOTP_INGEST_PORT", "REVOTP_NOTIFIER_PORT", "REVOTP_MATCHER_PORT", "REVOTP_CALLBACKS_PORT")


def banner_commands(banner: str) -> list[str]:
    """The commands the banner indents, continuation lines joined."""
    commands: list[str] = []
    joining = False
    for line in banner.splitlines():
        if joining:
            commands[-1] += " " + line.strip().removesuffix("\\")
        elif line.startswith("   ") and not line.strip().endswith(":"):
            commands.append(line.strip().removesuffix("\\"))
        joining = line.endswith("\\")
    return commands


def new_terminal() -> dict[str, str]:
    """What a new terminal holds: no REVOTP_* variable, no virtualenv, another directory."""
    return {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}


async def shell(command: str, *, cwd: str = "/") -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        command,
        cwd=cwd,
        env=new_terminal(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    return int(process.returncode or 0), out.decode(), err.decode()


async def test_the_demo_banner_commands_work_as_printed_in_a_new_terminal(
    namespace: str, cleanup: None, tmp_path: Path
):
    ports = {variable: str(free_port()) for variable in PORTS}
    env = {**os.environ, **deployment_env(namespace), **ports, "REVOTP_LOG_JSON": "1"}
    for demo_sets_these in ("REVOTP_BOOTSTRAP_TENANTS", "REVOTP_GENERIC_SECRET"):
        del env[demo_sets_these]
    stderr_path = tmp_path / "demo.log"
    with stderr_path.open("wb") as stderr:
        demo = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "revotp.cli",
            "demo",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
            preexec_fn=die_with_parent,
        )
    try:
        await wait_until_ready(f"http://127.0.0.1:{ports['REVOTP_INGEST_PORT']}", demo)
        await wait_until_ready(f"http://127.0.0.1:{ports['REVOTP_NOTIFIER_PORT']}", demo)
        assert demo.stdout is not None
        banner = (await demo.stdout.read(8192)).decode()
        watch, create, sms, *_ = banner_commands(banner)
        assert "revotp watch" in watch
        assert "revotp sms" in sms

        watcher = await asyncio.create_subprocess_exec(
            "bash", "-c", watch, cwd="/", env=new_terminal(), stdout=asyncio.subprocess.PIPE, preexec_fn=die_with_parent
        )
        try:
            assert watcher.stdout is not None
            assert json.loads(await asyncio.wait_for(watcher.stdout.readline(), 10))["type"] == "ready"
            code, created, _ = await shell(create)
            assert code == 0, created
            challenge = json.loads(created)
            code, out, err = await shell(sms.replace("CODE", challenge["code"]))
            assert (code, err) == (0, ""), out
            event = json.loads(await asyncio.wait_for(watcher.stdout.readline(), 10))
            assert (event["type"], event["challenge_id"]) == ("challenge.verified", challenge["id"])
        finally:
            watcher.kill()
            await watcher.wait()

        unsigned = re.sub(r"^REVOTP_GENERIC_SECRET=\S+ ", "", sms)
        code, out, err = await shell(unsigned.replace("CODE", "123456"))
        assert (code, out) == (1, "")
        assert re.fullmatch(r"revotp sms: refused with 401: .+\n", err), err
    finally:
        demo.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(demo.wait(), 30) == 0

    events = [json.loads(line)["event"] for line in stderr_path.read_text().splitlines() if line.startswith("{")]
    for startup in ("redis_connected", "tenant_bootstrapped"):
        assert events.count(startup) == 1, (startup, events)
