"""Running revotp services as real OS processes, for tests that need several or kill them."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import subprocess
import sys
import time
from asyncio.subprocess import Process
from collections.abc import Sequence

import aiohttp

from revotp.replay.ceiling import free_port

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` of the processes a test starts: SIGKILL them if the test's process dies.

    A test worker that crashes (pytest-xdist restarts it) never runs its teardown; without
    this, its services and servers live on and hold ports, queues and CPU for the runs after.
    Linux only (``prctl``); elsewhere a no-op.
    """
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


async def run_revotp(
    env: dict[str, str], *args: str, interpreter_options: tuple[str, ...] = (), timeout_s: float = 30
) -> tuple[int, str, str]:
    """``revotp <args>`` as an operator runs it: (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *interpreter_options,
        "-m",
        "revotp.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
    return int(process.returncode or 0), stdout.decode(), stderr.decode()


class ServiceProcess:
    """``python -m <service>`` with its own environment, its health port, and its log file."""

    def __init__(
        self, service: str, env: dict[str, str], port_variable: str, log_path: str, *, wrapper: Sequence[str] = ()
    ) -> None:
        """``wrapper``: a command the interpreter runs under (a profiler's)."""
        self.service = service
        self.port = free_port()
        self.log_path = log_path
        full_env = {**os.environ, **env, port_variable: str(self.port), "REVOTP_LOG_JSON": "1"}
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*wrapper, sys.executable, "-m", service],
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - runs in the child before exec, no threads there
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_ready(self, within: float = 20.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.service} exited with {self.process.returncode}: {self.log()}")
                try:
                    async with session.get(self.url + "/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.service} not ready in {within} s: {self.log()}")

    async def metric(self, name: str, labels: str) -> float:
        """One sample of a Prometheus metric this process exposes (0 when absent)."""
        async with aiohttp.ClientSession() as session, session.get(self.url + "/metrics") as response:
            text = await response.text()
        for line in text.splitlines():
            if line.startswith(f"{name}{{{labels}}} "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def terminate(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit code (SIGKILL if it overstays ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)

    def log(self) -> str:
        self._log.flush()
        with open(self.log_path, "rb") as handle:
            return handle.read().decode(errors="replace")[-4000:]


async def wait_until_ready(url: str, process: Process, within: float = 20.0) -> None:
    """Until ``url``/readyz answers 200; the process must not exit meanwhile."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            assert process.returncode is None, "the service exited before it was ready"
            try:
                async with session.get(url + "/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)
